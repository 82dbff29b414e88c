"""Classification accuracy of spiking outputs (snnTorch's ``accuracy_rate``)."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from ..imperative import recordable
from .losses import _check_inputs, _nan_unless_in_range

__all__ = ["accuracy_rate"]


@recordable
def accuracy_rate(spk: ArrayLike, targets: ArrayLike) -> Array:
    """Fraction of samples whose most-spiking output over time is the target class.

    ``mean_b [argmax_c sum_t spk[t, b, c] == targets[b]]``; ties go to the lowest
    class index, as in snnTorch.

    Unlike snnTorch, which returns a numpy float (and so cannot be used in compiled
    code), this returns a float32 JAX scalar of shape ``()``, usable inside
    ``jax.jit``; call ``float(...)`` for a Python number. Population codes are not
    supported.

    **Arguments:**

    - ``spk``: output spikes, time-first ``[T, B, C]``.
    - ``targets``: integer class indices ``[B]`` in ``[0, C)``.

    **Returns:** the accuracy in ``[0, 1]``, a JAX scalar. Out-of-range targets raise
    ``ValueError`` when concrete and give NaN when traced.
    """
    spk, targets = _check_inputs("accuracy_rate", spk, targets)
    predicted = jnp.argmax(jnp.sum(spk, axis=0), axis=-1)
    accuracy = jnp.mean((predicted == targets).astype(jnp.float32))
    return _nan_unless_in_range(accuracy, targets, spk.shape[2])
