"""Norse's adaptive exponential integrate-and-fire neuron (``LIFAdExCell``) as a core layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .._stateful import StatefulLayer
from ..surrogate import SurrogateSpike
from ._base import as_float_array, check_input, check_param_shapes, check_shape_argument, check_spike_fn


class LIFAdExState(NamedTuple):
    """State of [`LIFAdEx`][]: membrane ``v`` (after the reset), synaptic current ``i``, adaptation current ``a``."""

    v: Array
    i: Array
    a: Array


_PARAMETERS = (
    "tau_syn_inv",
    "tau_mem_inv",
    "tau_ada_inv",
    "adaptation_current",
    "adaptation_spike",
    "delta_T",
    "v_leak",
    "threshold",
    "v_reset",
)


class LIFAdEx(StatefulLayer):
    r"""Adaptive exponential LIF neuron, one forward-Euler step exactly as Norse 1.1.0's ``LIFAdExCell``.

    With $x_t$ the input, the state $(v, i, a)$ of the previous step and rates
    $k_\bullet = dt\,\tau^{-1}_\bullet$:

    $$\begin{aligned}
    i' &= i + x_t && \text{(the input jumps into the current first)}\\
    v' &= v + k_\text{mem}\big((v_\text{leak} - v) + \Delta_T e^{(v - \theta)/\Delta_T} + i' - a\big)\\
    i_t &= i' - k_\text{syn}\, i'\\
    a' &= a + k_\text{ada}\big(c_\text{ada}\,(v - v_\text{leak}) - a\big)\\
    s_t &= H(v' - \theta),\qquad v_t = (1 - s_t)\, v' + s_t\, v_\text{reset},\qquad a_t = a' + s_t\, b_\text{ada}
    \end{aligned}$$

    The exponential term and the adaptation use the *previous* membrane $v$;
    $c_\text{ada}$ is ``adaptation_current`` and $b_\text{ada}$ ``adaptation_spike``.
    The operations run in Norse's order (``dt * tau_inv`` is formed each step), so
    float32 results agree with Norse to rounding. The spike is not detached in the
    reset (as Norse's feed-forward cell) unless ``stop_reset_grad``. The state
    starts at $v = v_\text{leak}$, $i = a = 0$. Outputs the spikes $s_t$.
    """

    tau_syn_inv: Array
    tau_mem_inv: Array
    tau_ada_inv: Array
    adaptation_current: Array
    adaptation_spike: Array
    delta_T: Array
    v_leak: Array
    threshold: Array
    v_reset: Array
    spike_fn: SurrogateSpike
    dt: float = eqx.field(static=True)
    stop_reset_grad: bool = eqx.field(static=True)

    def __init__(
        self,
        *,
        tau_syn_inv: ArrayLike = 200.0,
        tau_mem_inv: ArrayLike = 100.0,
        tau_ada_inv: ArrayLike = 2.0,
        adaptation_current: ArrayLike = 4.0,
        adaptation_spike: ArrayLike = 0.02,
        delta_T: ArrayLike = 0.5,
        v_leak: ArrayLike = 0.0,
        threshold: ArrayLike = 1.0,
        v_reset: ArrayLike = 0.0,
        dt: float = 1e-3,
        spike_fn: SurrogateSpike | None = None,
        stop_reset_grad: bool = False,
    ):
        """**Arguments** (defaults are Norse's ``LIFAdExParameters``):

        - ``tau_syn_inv``, ``tau_mem_inv``, ``tau_ada_inv``: inverse time constants
          (1/s with ``dt`` in seconds) of the current, the membrane and the adaptation.
        - ``adaptation_current``: coupling of the membrane into the adaptation ($c_\\text{ada}$).
        - ``adaptation_spike``: adaptation jump per spike ($b_\\text{ada}$).
        - ``delta_T``: sharpness of the exponential upswing.
        - ``v_leak``, ``threshold``, ``v_reset``: resting, firing and reset potentials.
        - ``dt``: the time step (a Python float).
        - ``spike_fn``: the surrogate (default ``superspike()``).
        - ``stop_reset_grad``: no gradient through the spike in the reset.

        Every parameter is a scalar or an array of the neurons' shape (axes of size 1
        broadcast); all are trainable JAX arrays.
        """
        name = type(self).__name__
        values = dict(tau_syn_inv=tau_syn_inv, tau_mem_inv=tau_mem_inv, tau_ada_inv=tau_ada_inv,
                      adaptation_current=adaptation_current, adaptation_spike=adaptation_spike, delta_T=delta_T,
                      v_leak=v_leak, threshold=threshold, v_reset=v_reset)  # fmt: skip
        for key, value in values.items():
            setattr(self, key, as_float_array(value, layer=name, name=key))
        dt = float(dt)
        if not dt > 0:
            raise ValueError(f"{name}: dt must be positive, got {dt}.")
        self.dt = dt
        self.spike_fn = check_spike_fn(spike_fn, layer=name)
        self.stop_reset_grad = bool(stop_reset_grad)

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> LIFAdExState:
        """``v = v_leak``, ``i = a = 0``, each of ``shape`` (one sample, one step)."""
        shape = check_shape_argument(shape, layer=type(self).__name__)
        check_param_shapes(self, shape, _PARAMETERS)
        zeros = jnp.zeros(shape)
        return LIFAdExState(v=zeros + self.v_leak, i=zeros, a=zeros)

    def __call__(self, state: LIFAdExState, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[LIFAdExState, Array]:
        check_input(x, state.v.shape, layer=type(self).__name__)
        v, i, a = state
        i_jump = i + x
        dv_exp = self.delta_T * jnp.exp((v - self.threshold) / self.delta_T)
        v_decayed = v + self.dt * self.tau_mem_inv * ((self.v_leak - v) + dv_exp + i_jump - a)
        i_decayed = i_jump + -self.dt * self.tau_syn_inv * i_jump
        a_decayed = a + self.dt * self.tau_ada_inv * (self.adaptation_current * (v - self.v_leak) - a)
        spk = self.spike_fn(v_decayed - self.threshold)
        r = jax.lax.stop_gradient(spk) if self.stop_reset_grad else spk
        v_new = (1 - r) * v_decayed + r * self.v_reset
        return LIFAdExState(v_new, i_decayed, a_decayed + spk * self.adaptation_spike), spk
