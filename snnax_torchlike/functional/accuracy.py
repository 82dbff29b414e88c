"""Classification accuracy of spiking outputs."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array

from ._checks import outputs_and_targets

__all__ = ["accuracy_rate"]


def accuracy_rate(spk: Any, targets: Any) -> Array:
    """Fraction of samples whose most-spiking output (over time) is the target.

    ``spk``: ``[T, B, C]``; ``targets``: ``[B]`` class indices. Ties go to the
    lowest index (as snnTorch). Returns a JAX scalar, usable inside ``jit``
    (snnTorch returns a numpy float).
    """
    spk, targets = outputs_and_targets(spk, targets, name="accuracy_rate")
    return jnp.mean((jnp.argmax(jnp.sum(spk, axis=0), axis=-1) == targets).astype(jnp.float32))
