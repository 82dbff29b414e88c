"""snnTorch's second-order LIF (`snntorch.Synaptic`), reproduced operation for operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from ..surrogate import SurrogateSpike
from ._base import ResetMode, as_float_array, check_input, check_param_shapes
from ._snntorch_reset import reset_from_previous_spike
from .leaky import Leaky
from .snntorch_fire import StateQuant, fire_and_reset, quantise


class SynapticState(NamedTuple):
    """State of [`Synaptic`][]: synaptic current ``syn`` and membrane ``mem`` (pre-reset)."""

    syn: Array
    mem: Array


def synaptic_update(
    x: Array,
    syn: Array,
    mem: Array,
    *,
    alpha: ArrayLike,
    beta: ArrayLike,
    threshold: ArrayLike,
    graded_spikes_factor: ArrayLike,
    spike_fn: SurrogateSpike,
    reset_mechanism: ResetMode,
    reset_delay: bool,
    inhibition: bool = False,
    state_quant: StateQuant | None = None,
) -> tuple[Array, Array, Array]:
    r"""One step of snnTorch 1.0's ``Synaptic``; returns ``(spk, syn, mem)``.

    With $a = \mathrm{clip}(\alpha, 0, 1)$, $b = \mathrm{clip}(\beta, 0, 1)$ and
    $R = \mathrm{sg}(H(m_{t-1} - \theta))$:

    $$i_t = a\, i_{t-1} + x_t,\qquad m_t = b\, m_{t-1} + i_t,$$

    then subtract $m_t \mathrel{-}= R\theta$, or zero $m_t \mathrel{-}= R\, m_t$ (snnTorch
    zeroes the *whole new* membrane, input included, unlike ``Leaky``; the current
    is not reset); ``state_quant`` quantises $m_t$ and $i_t$; $s_t = H(m_t - \theta)\, g$.
    ``reset_delay=False`` and ``inhibition`` as in [`leaky_update`][].
    """
    a = jnp.clip(alpha, 0.0, 1.0)
    b = jnp.clip(beta, 0.0, 1.0)
    reset = jax.lax.stop_gradient(spike_fn(mem - threshold))
    syn = a * syn + x
    mem = reset_from_previous_spike(b * mem + syn, reset, threshold, reset_mechanism)
    (syn,) = quantise(state_quant, syn)
    spk, mem = fire_and_reset(mem, reset, threshold=threshold, graded_spikes_factor=graded_spikes_factor,
                              spike_fn=spike_fn, reset_mechanism=reset_mechanism, reset_delay=reset_delay,
                              inhibition=inhibition, state_quant=state_quant)  # fmt: skip
    return spk, syn, mem


class Synaptic(Leaky):
    r"""snnTorch's ``Synaptic`` neuron as a stateful layer (see [`synaptic_update`][]).

    State: [`SynapticState`][] ``(syn, mem)``. Output: the spikes. Takes every
    argument of [`Leaky`][] plus ``alpha``, the synaptic decay (scalar or
    per-neuron, trainable).
    """

    alpha: Array

    def __init__(self, alpha: ArrayLike, beta: ArrayLike, **kwargs):
        super().__init__(beta, **kwargs)
        self.alpha = as_float_array(alpha, layer="Synaptic", name="alpha")

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> SynapticState:
        """``syn = mem = 0``, each of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        mem = super().init_state(shape)
        check_param_shapes(self, mem.shape, ("alpha",))
        return SynapticState(jnp.zeros_like(mem), mem)

    def __call__(
        self, state: SynapticState, x: Array, *, key: PRNGKeyArray | None = None
    ) -> tuple[SynapticState, Array]:
        check_input(x, state.mem.shape, layer="Synaptic")
        spk, syn, mem = synaptic_update(
            x,
            state.syn,
            state.mem,
            alpha=self.alpha,
            beta=self.beta,
            threshold=self.threshold,
            graded_spikes_factor=self.graded_spikes_factor,
            spike_fn=self.spike_fn,
            reset_mechanism=self.reset_mechanism,
            reset_delay=self.reset_delay,
            **self._fire_options(),
        )
        return SynapticState(syn, mem), spk
