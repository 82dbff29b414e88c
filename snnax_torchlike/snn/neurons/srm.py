"""The spike response model: a double-exponential synaptic kernel and a refractory kernel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .._stateful import StatefulLayer
from ..surrogate import SurrogateSpike
from ._base import (
    DecayParameterisation,
    as_hyperparameter,
    check_decay_parameterisation,
    check_input,
    check_param_shapes,
    check_shape_argument,
    check_spike_fn,
    concrete,
    decode_decay,
    encode_decay,
    resolve_decays,
)


class SRMState(NamedTuple):
    """State of [`SRM`][]: fast and slow input traces and the refractory trace."""

    fast: Array
    slow: Array
    refractory: Array


class SRM(StatefulLayer):
    r"""Spike response model (Gerstner) in discrete time.

    The membrane is the input filtered by a double-exponential kernel
    $\varepsilon(k) = b^k - a^k$ (rise $a$ < decay $b$) minus a refractory trace that
    each output spike raises by $\eta$ and that decays by $c$:

    $$p_t = a\, p_{t-1} + x_t,\qquad q_t = b\, q_{t-1} + x_t,\qquad u_t = q_t - p_t - \rho_{t-1},$$
    $$s_t = H(u_t - \theta),\qquad \rho_t = c\, \rho_{t-1} + \eta\, s_t$$

    The kernel is 0 at lag 0, so an input first moves the membrane one step later:
    a property of the kernel, not a hidden delay of the graph.
    """

    fast_decay: Array
    slow_decay: Array
    refractory_decay: Array
    refractory_strength: ArrayLike
    threshold: ArrayLike
    spike_fn: SurrogateSpike
    decay_parameterisation: DecayParameterisation = eqx.field(static=True)

    def __init__(
        self,
        decay_constants: Sequence[ArrayLike] | ArrayLike | None = None,
        *,
        fast_decay: ArrayLike | None = None,
        slow_decay: ArrayLike | None = None,
        refractory_decay: ArrayLike | None = None,
        refractory_strength: ArrayLike = 1.0,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        decay_parameterisation: DecayParameterisation = "direct",
    ):
        """**Arguments:**

        - ``decay_constants``: ``[fast_decay, slow_decay, refractory_decay]``
          ($a$, $b$, $c$), or by name; ``refractory_decay`` defaults to
          ``slow_decay`` when given by name. Requires ``fast_decay < slow_decay``.
        - ``refractory_strength``: $\\eta$, the refractory jump per spike (default 1).
        - ``threshold``, ``spike_fn``, ``decay_parameterisation``: as in [`SimpleLIF`][].
        """
        self.decay_parameterisation = check_decay_parameterisation(decay_parameterisation, layer="SRM")
        if decay_constants is None and refractory_decay is None:
            refractory_decay = slow_decay
        a, b, c = resolve_decays(
            "SRM",
            ["fast_decay", "slow_decay", "refractory_decay"],
            decay_constants,
            {"fast_decay": fast_decay, "slow_decay": slow_decay, "refractory_decay": refractory_decay},
        )
        self.fast_decay = encode_decay(a, decay_parameterisation, layer="SRM", name="fast_decay")
        self.slow_decay = encode_decay(b, decay_parameterisation, layer="SRM", name="slow_decay")
        self.refractory_decay = encode_decay(c, decay_parameterisation, layer="SRM", name="refractory_decay")
        fast, slow = concrete(jnp.asarray(a)), concrete(jnp.asarray(b))
        if fast is not None and slow is not None and fast.shape != slow.shape and fast.ndim and slow.ndim:
            raise ValueError(f"SRM: fast_decay has shape {fast.shape} but slow_decay has shape {slow.shape}.")
        if fast is not None and slow is not None and not np.all(fast < slow):  # traced values are not checked
            raise ValueError(
                f"SRM: fast_decay must be smaller than slow_decay (else the kernel b^k - a^k is "
                f"zero or negative), got fast_decay={np.asarray(a)} and slow_decay={np.asarray(b)}."
            )
        self.refractory_strength = as_hyperparameter(refractory_strength, layer="SRM", name="refractory_strength")
        self.threshold = as_hyperparameter(threshold, layer="SRM", name="threshold")
        self.spike_fn = check_spike_fn(spike_fn, layer="SRM")

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> SRMState:
        """``fast = slow = refractory = 0``, each of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer="SRM")
        check_param_shapes(
            self, shape, ("fast_decay", "slow_decay", "refractory_decay", "refractory_strength", "threshold")
        )
        return SRMState(jnp.zeros(shape), jnp.zeros(shape), jnp.zeros(shape))

    def __call__(self, state: SRMState, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[SRMState, Array]:
        check_input(x, state.fast.shape, layer="SRM")
        a, b, c = (
            decode_decay(d, self.decay_parameterisation)
            for d in (self.fast_decay, self.slow_decay, self.refractory_decay)
        )
        fast = a * state.fast + x
        slow = b * state.slow + x
        s = self.spike_fn(slow - fast - state.refractory - self.threshold)
        refractory = c * state.refractory + self.refractory_strength * s
        return SRMState(fast, slow, refractory), s
