"""The discretised ODE neuron behind NIR's LIF, CubaLIF, LI, CubaLI, IF and I nodes and Norse's cells."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .._stateful import StatefulLayer
from ..surrogate import SurrogateSpike
from ._base import as_float_array, check_input, check_param_shapes, check_shape_argument, check_spike_fn

ValueReset = Literal["value", "subtract", "none"]
_VALUE_RESETS = ("value", "subtract", "none")


class ODENeuronState(NamedTuple):
    """State of [`ODENeuron`][].

    - ``v``: the membrane after this step's reset.
    - ``i``: the synaptic current after this step's decay (None without a synapse).
    - ``spk``: this step's spikes (None unless the neuron is recurrent).
    """

    v: Array
    i: Array | None
    spk: Array | None


def _optional(value: ArrayLike | None, *, layer: str, name: str) -> Array | None:
    return None if value is None else as_float_array(value, layer=layer, name=name)


class ODENeuron(StatefulLayer):
    r"""The discretised ODE neuron: a leaky integrator with optional synaptic current, threshold and recurrence.

    One step, with the coefficients of [`discretise`][snnax_torchlike.snn.discretisation.discretise]:

    $$i_t = i^{+}_{t-1} + g_\text{in}\,(x_t + W_\text{rec} s_{t-1}),\qquad
    v' = a_\text{mem}\, v_{t-1} + (1 - a_\text{mem})\, v_\text{leak} + g_\text{mem}\, i_t,\qquad
    i^{+}_t = a_\text{syn}\, i_t$$

    Without a synapse (``syn_decay=None``) $i_t = g_\text{in} x_t$ and nothing is
    carried. With a ``threshold`` the neuron fires $s_t = H(v' - \theta)$ and resets
    ``"value"`` ($v_t = (1 - s_t) v' + s_t v_\text{reset}$, NIR's and Norse's reset),
    ``"subtract"`` ($v_t = v' - s_t \theta$) or ``"none"``; it outputs $s_t$.
    Without a threshold (NIR ``LI``/``CubaLI``/``I``, Norse ``LICell``) it outputs
    $v'$. The membrane starts at ``v_leak``, the current at 0.

    This one layer is NIR's LIF, CubaLIF, LI, CubaLI, IF and I under any
    discretisation, and Norse's ``LIFCell``, ``LIFBoxCell``, ``LICell``,
    ``LIBoxCell``, ``IAFCell`` and ``LIFRecurrentCell``: the core layer of every
    ``nn.ODENeuron``, whose subclasses take NIR's parameters in seconds.
    """

    mem_decay: Array
    syn_decay: Array | None
    input_gain: Array
    current_gain: Array
    v_leak: Array
    threshold: Array | None
    v_reset: Array
    recurrent_weight: Array | None
    spike_fn: SurrogateSpike
    reset: ValueReset = eqx.field(static=True)
    stop_reset_grad: bool = eqx.field(static=True)

    def __init__(
        self,
        mem_decay: ArrayLike,
        *,
        syn_decay: ArrayLike | None = None,
        input_gain: ArrayLike = 1.0,
        current_gain: ArrayLike = 1.0,
        v_leak: ArrayLike = 0.0,
        threshold: ArrayLike | None = 1.0,
        v_reset: ArrayLike = 0.0,
        reset: ValueReset = "value",
        stop_reset_grad: bool = False,
        recurrent_weight: ArrayLike | None = None,
        spike_fn: SurrogateSpike | None = None,
    ):
        """**Arguments:**

        - ``mem_decay``: $a_\\text{mem}$, the membrane's per-step decay (1: no leak).
        - ``syn_decay``: $a_\\text{syn}$, the current's per-step decay; None for no synapse.
        - ``input_gain``, ``current_gain``: $g_\\text{in}$ and $g_\\text{mem}$.
        - ``v_leak``: the resting potential; ``v_reset``: the potential after a spike.
        - ``threshold``: $\\theta$; None for a non-spiking integrator.
        - ``reset``: ``"value"`` (default), ``"subtract"`` or ``"none"``.
        - ``stop_reset_grad``: no gradient through the spike in the reset (Norse's
          recurrent cells); default False (Norse's feed-forward cells).
        - ``recurrent_weight``: ``[N, N]`` weights of the neuron's own last spikes into
          its input (torch layout: ``x + s @ W.T``); needs a threshold and a vector input.
        - ``spike_fn``: the surrogate (default ``superspike()``).

        Every parameter is a scalar or an array of the neurons' shape (axes of size 1
        broadcast); all are trainable JAX arrays.
        """
        name = type(self).__name__
        if reset not in _VALUE_RESETS:
            raise ValueError(f"{name}: reset must be one of {_VALUE_RESETS}, got {reset!r}.")
        if recurrent_weight is not None and threshold is None:
            raise ValueError(f"{name}: a recurrent_weight feeds back spikes, so it needs a threshold.")
        self.mem_decay = as_float_array(mem_decay, layer=name, name="mem_decay")
        self.syn_decay = _optional(syn_decay, layer=name, name="syn_decay")
        self.input_gain = as_float_array(input_gain, layer=name, name="input_gain")
        self.current_gain = as_float_array(current_gain, layer=name, name="current_gain")
        self.v_leak = as_float_array(v_leak, layer=name, name="v_leak")
        self.threshold = _optional(threshold, layer=name, name="threshold")
        self.v_reset = as_float_array(v_reset, layer=name, name="v_reset")
        self.recurrent_weight = _optional(recurrent_weight, layer=name, name="recurrent_weight")
        self.spike_fn = check_spike_fn(spike_fn, layer=name)
        self.reset = reset
        self.stop_reset_grad = bool(stop_reset_grad)

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> ODENeuronState:
        """``v = v_leak``, ``i = 0`` and no spikes, each of ``shape`` (one sample, one step)."""
        name = type(self).__name__
        shape = check_shape_argument(shape, layer=name)
        names = ["mem_decay", "input_gain", "current_gain", "v_leak", "v_reset"]
        names += [n for n in ("syn_decay", "threshold") if getattr(self, n) is not None]
        check_param_shapes(self, shape, names)
        if self.recurrent_weight is not None and (len(shape) != 1 or self.recurrent_weight.shape != shape * 2):
            raise ValueError(
                f"{name}: a recurrent_weight needs a vector input (N,) and weights (N, N); "
                f"got input {shape} and weights {tuple(self.recurrent_weight.shape)}."
            )
        zeros = jnp.zeros(shape)
        return ODENeuronState(
            v=zeros + self.v_leak,
            i=None if self.syn_decay is None else zeros,
            spk=None if self.recurrent_weight is None else zeros,
        )

    def _reset(self, v: Array, spk: Array) -> Array:
        r = jax.lax.stop_gradient(spk) if self.stop_reset_grad else spk
        if self.reset == "value":
            return (1.0 - r) * v + r * self.v_reset
        if self.reset == "subtract":
            return v - r * self.threshold
        return v

    def __call__(
        self, state: ODENeuronState, x: Array, *, key: PRNGKeyArray | None = None
    ) -> tuple[ODENeuronState, Array]:
        check_input(x, state.v.shape, layer=type(self).__name__)
        if self.recurrent_weight is not None:
            x = x + state.spk @ self.recurrent_weight.T
        drive = self.input_gain * x
        current = drive if self.syn_decay is None else state.i + drive
        v = self.mem_decay * state.v + (1.0 - self.mem_decay) * self.v_leak + self.current_gain * current
        i = None if self.syn_decay is None else self.syn_decay * current
        if self.threshold is None:
            return ODENeuronState(v, i, None), v
        spk = self.spike_fn(v - self.threshold)
        return ODENeuronState(self._reset(v, spk), i, None if self.recurrent_weight is None else spk), spk
