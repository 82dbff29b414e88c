"""snnTorch's `Alpha` neuron (excitatory and inhibitory synaptic traces), operation for operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from ._base import as_float_array, check_input, check_param_shapes, check_shape_argument
from .leaky import Leaky
from .snntorch_fire import fire_and_reset, quantise


class AlphaState(NamedTuple):
    """State of [`Alpha`][]: excitatory and inhibitory traces and the membrane."""

    syn_exc: Array
    syn_inh: Array
    mem: Array


def alpha_update(
    x, syn_exc, syn_inh, mem, *, alpha, beta, threshold, graded_spikes_factor, spike_fn, reset_mechanism,
    inhibition=False, state_quant=None,
):  # fmt: skip
    r"""One step of snnTorch 1.0's ``Alpha``; returns ``(spk, syn_exc, syn_inh, mem)``.

    With $a, b$ clipped to [0, 1], $\tau = \ln a / (\ln b - \ln a) + 1$ and
    $R = \mathrm{sg}(H(m_{t-1} - \theta))$:
    $e_t = a e_{t-1} + x_t$, $i_t = b i_{t-1} - x_t$, $m_t = \tau (e_t + i_t)$ (no
    self-decay of the membrane). Zero reset: $e, i, m$ each lose $R$ times
    themselves. Subtract reset, as snnTorch implements it: $e \mathrel{-}= \theta R$,
    $i \mathrel{-}= (b i_{t-1} - x_t) R$, $m \mathrel{-}= (-i_{t-1}) R$.
    Then ``state_quant`` quantises $e, i, m$, and $s_t = H(m_t - \theta)\,g$
    (``inhibition`` as in [`leaky_update`][]).
    """
    a = jnp.clip(alpha, 0.0, 1.0)
    b = jnp.clip(beta, 0.0, 1.0)
    tau = jnp.log(a) / (jnp.log(b) - jnp.log(a)) + 1
    reset = jax.lax.stop_gradient(spike_fn(mem - threshold))
    new_exc = a * syn_exc + x
    new_inh = b * syn_inh - x
    new_mem = tau * (new_exc + new_inh)
    if reset_mechanism == "zero":
        new_exc = new_exc - new_exc * reset
        new_inh = new_inh - new_inh * reset
        new_mem = new_mem - new_mem * reset
    elif reset_mechanism == "subtract":
        new_exc = new_exc - threshold * reset
        new_inh = new_inh - (b * syn_inh - x) * reset
        new_mem = new_mem - (-syn_inh) * reset
    new_exc, new_inh = quantise(state_quant, new_exc, new_inh)
    spk, new_mem = fire_and_reset(new_mem, reset, threshold=threshold, graded_spikes_factor=graded_spikes_factor,
                                  spike_fn=spike_fn, reset_mechanism=reset_mechanism, inhibition=inhibition,
                                  state_quant=state_quant)  # fmt: skip
    return spk, new_exc, new_inh, new_mem


class Alpha(Leaky):
    """snnTorch's ``Alpha`` as a stateful layer (see [`alpha_update`][]); needs ``alpha > beta``.

    The reset defaults to ``"zero"``, as in snnTorch.
    """

    alpha: Array

    def __init__(self, alpha: ArrayLike, beta: ArrayLike, *, reset_mechanism: str = "zero", **kwargs):
        super().__init__(beta, reset_mechanism=reset_mechanism, **kwargs)
        self.alpha = as_float_array(alpha, layer="Alpha", name="alpha")

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> AlphaState:
        """``syn_exc = syn_inh = mem = 0``, each of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer="Alpha")
        super().init_state(shape)
        check_param_shapes(self, shape, ("alpha",))
        return AlphaState(jnp.zeros(shape), jnp.zeros(shape), jnp.zeros(shape))

    def __call__(self, state: AlphaState, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[AlphaState, Array]:
        check_input(x, state.mem.shape, layer="Alpha")
        spk, exc, inh, mem = alpha_update(
            x, state.syn_exc, state.syn_inh, state.mem, alpha=self.alpha, beta=self.beta, threshold=self.threshold,
            graded_spikes_factor=self.graded_spikes_factor, spike_fn=self.spike_fn,
            reset_mechanism=self.reset_mechanism, **self._fire_options(),
        )  # fmt: skip
        return AlphaState(exc, inh, mem), spk
