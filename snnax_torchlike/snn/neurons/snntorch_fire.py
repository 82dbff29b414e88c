"""snnTorch's spike generation: state quantisation and the winner-take-all of ``inhibition``, shared by its neurons."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from ..surrogate import SurrogateSpike
from ._base import ResetMode
from ._snntorch_reset import reset_in_same_step

StateQuant = Callable[[Array], Array]
"""A quantiser of neuron states (``snnax_torchlike.functional.quant.state_quant(...)`` or any traceable function)."""


def check_state_quant(state_quant: object, *, layer: str) -> StateQuant | None:
    """``state_quant`` if it is None or callable, else a ``TypeError`` naming ``layer``."""
    if state_quant is not None and not callable(state_quant):
        raise TypeError(
            f"{layer}: state_quant must be None or a function of the state (e.g. "
            f"snnax_torchlike.functional.quant.state_quant(num_bits=8)), got {state_quant!r}."
        )
    return state_quant


def quantise(state_quant: StateQuant | None, *states: Array) -> tuple[Array, ...]:
    """Each state through ``state_quant`` (snnTorch's ``state_quant`` option), or unchanged when it is None."""
    if state_quant is None:
        return states
    return tuple(state_quant(state) for state in states)


def snntorch_fire(
    mem: Array,
    *,
    threshold: ArrayLike,
    graded_spikes_factor: ArrayLike,
    spike_fn: SurrogateSpike,
    inhibition: bool = False,
    state_quant: StateQuant | None = None,
) -> Array:
    r"""snnTorch's spikes of the new (already quantised) membrane ``mem``.

    - Default (snnTorch's ``fire``): $s = H(q(m) - \theta)\, g$, with $q$ the
      ``state_quant`` function applied once more, as snnTorch's ``fire`` does (its
      quantiser maps levels to themselves, so this changes nothing for it).
    - ``inhibition=True`` (``fire_inhibition``): only the neuron with the largest
      $m_j - \theta_j$ along the **last axis** may spike (ties: the first),
      $s = H(m - \theta)\,\mathrm{onehot}(\arg\max_j (m_j - \theta_j))$, neither scaled
      by $g$ nor quantised again. snnTorch takes the argmax over dim 1 of ``[B, N]``
      inputs; the last axis is that axis for ``[B, N]`` and for one sample ``[N]``.

    **Returns:** the spikes, of ``mem``'s shape.
    """
    if inhibition:
        shifted = mem - threshold
        spikes = spike_fn(shifted)
        winner = jax.nn.one_hot(jnp.argmax(shifted, axis=-1), shifted.shape[-1], dtype=spikes.dtype)
        return spikes * winner
    if state_quant is not None:
        mem = state_quant(mem)
    return spike_fn(mem - threshold) * graded_spikes_factor


def fire_and_reset(
    mem: Array,
    reset: Array,
    *,
    threshold: ArrayLike,
    graded_spikes_factor: ArrayLike,
    spike_fn: SurrogateSpike,
    reset_mechanism: ResetMode,
    reset_delay: bool = True,
    inhibition: bool = False,
    state_quant: StateQuant | None = None,
) -> tuple[Array, Array]:
    """What every snnTorch neuron does after its state update, on the new membrane ``mem``.

    ``state_quant`` quantises ``mem``; [`snntorch_fire`][] gives the spikes; with
    ``reset_delay=False`` the membrane is also reset in this step (``reset``: the
    previous step's ``R``, see ``reset_in_same_step``).

    **Returns:** ``(spk, mem)``.
    """
    (mem,) = quantise(state_quant, mem)
    spk = snntorch_fire(mem, threshold=threshold, graded_spikes_factor=graded_spikes_factor, spike_fn=spike_fn,
                        inhibition=inhibition, state_quant=state_quant)  # fmt: skip
    if not reset_delay:
        mem = reset_in_same_step(mem, spk, reset, threshold, graded_spikes_factor, reset_mechanism)
    return spk, mem


def check_inhibition_shape(shape: Sequence[int], *, layer: str, batched: bool) -> None:
    """``inhibition`` picks one winner among the features: inputs ``[B, N]`` (``batched``) or one sample's ``[N]``."""
    rank = 2 if batched else 1
    if len(shape) != rank:
        expected = "[batch, features]" if batched else "(features,) per sample"
        raise ValueError(
            f"{layer}: inhibition=True needs inputs {expected}, as snnTorch's fire_inhibition (the argmax over the "
            f"features of each sample), got shape {tuple(shape)}."
        )
