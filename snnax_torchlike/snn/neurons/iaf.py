"""Integrate-and-fire neurons (no membrane leak, optional constant leak current)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from ..surrogate import SurrogateSpike
from ._base import (
    DecayParameterisation,
    ResetMode,
    SpikingNeuron,
    as_hyperparameter,
    check_input,
    check_shape_argument,
    encode_decay,
    resolve_decays,
)


class SimpleIAF(SpikingNeuron):
    r"""Integrate-and-fire neuron with a constant leak current $\ell$.

    $$v' = v_{t-1} + x_t - \ell,\qquad s_t = H(v' - \theta),\qquad v_t = \mathrm{reset}(v', s_t)$$

    With ``leak=0`` (default) the membrane integrates without loss.
    """

    leak: ArrayLike

    def __init__(
        self,
        *,
        leak: ArrayLike = 0.0,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        reset: ResetMode = "subtract",
        stop_reset_grad: bool = True,
    ):
        """**Arguments:**

        - ``leak``: constant subtracted each step (float: fixed; JAX array: trained).
        - ``threshold``, ``spike_fn``, ``reset`` (default ``"subtract"``),
          ``stop_reset_grad``: as in [`SimpleLIF`][].
        """
        self._init_common(threshold, spike_fn, reset, stop_reset_grad, "direct")
        self.leak = as_hyperparameter(leak, layer="SimpleIAF", name="leak")

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> Array:
        """The membrane ``0`` of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer="SimpleIAF")
        self._check_params(shape, "leak")
        return jnp.zeros(shape)

    def __call__(self, state: Array, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[Array, Array]:
        check_input(x, state.shape, layer="SimpleIAF")
        return self._fire_and_reset(state + x - self.leak)


class IAFState(NamedTuple):
    """State of [`IAF`][]: membrane ``v`` and synaptic current ``i``."""

    v: Array
    i: Array


class IAF(SpikingNeuron):
    r"""Current-based integrate-and-fire neuron: a leaky synapse, a non-leaky membrane.

    $$i_t = \alpha\, i_{t-1} + x_t,\qquad v' = v_{t-1} + i_t - \ell,\qquad s_t = H(v' - \theta),\qquad v_t = \mathrm{reset}(v', s_t)$$
    """

    syn_decay: Array
    leak: ArrayLike

    def __init__(
        self,
        decay_constants: ArrayLike | Sequence[ArrayLike] | None = None,
        *,
        syn_decay: ArrayLike | None = None,
        leak: ArrayLike = 0.0,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        reset: ResetMode = "subtract",
        stop_reset_grad: bool = True,
        decay_parameterisation: DecayParameterisation = "direct",
    ):
        """**Arguments:**

        - ``decay_constants``: the synaptic decay $\\alpha$ (scalar, per-neuron array,
          or ``[alpha]``), or pass ``syn_decay=``. Trainable.
        - ``leak``: constant leak current $\\ell$ (default 0).
        - the rest as in [`SimpleLIF`][]; the reset defaults to ``"subtract"``.
        """
        self._init_common(threshold, spike_fn, reset, stop_reset_grad, decay_parameterisation)
        (alpha,) = resolve_decays("IAF", ["syn_decay"], decay_constants, {"syn_decay": syn_decay})
        self.syn_decay = encode_decay(alpha, decay_parameterisation, layer="IAF", name="syn_decay")
        self.leak = as_hyperparameter(leak, layer="IAF", name="leak")

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> IAFState:
        """``v = i = 0``, each of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer="IAF")
        self._check_params(shape, "syn_decay", "leak")
        return IAFState(jnp.zeros(shape), jnp.zeros(shape))

    def __call__(self, state: IAFState, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[IAFState, Array]:
        check_input(x, state.v.shape, layer="IAF")
        i = self._decay(self.syn_decay) * state.i + x
        v, s = self._fire_and_reset(state.v + i - self.leak)
        return IAFState(v, i), s
