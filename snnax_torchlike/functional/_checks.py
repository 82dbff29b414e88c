"""Input checks shared by losses and metrics."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..nn.module import to_array


def outputs_and_targets(outputs: Any, targets: Any, *, name: str) -> tuple[Array, Array]:
    """Check ``outputs`` ``[T, B, C]`` and integer ``targets`` ``[B]`` in ``[0, C)``."""
    outputs, targets = to_array(outputs), to_array(targets)
    if outputs.ndim != 3:
        raise ValueError(f"{name}: expected time-first outputs [T, B, C], got shape {tuple(outputs.shape)}.")
    if targets.ndim != 1 or targets.shape[0] != outputs.shape[1]:
        raise ValueError(
            f"{name}: expected class-index targets [B] with B={outputs.shape[1]}, got shape {tuple(targets.shape)}."
        )
    if not jnp.issubdtype(targets.dtype, jnp.integer):
        raise TypeError(f"{name}: targets must be integer class indices, got dtype {targets.dtype}.")
    try:
        concrete = np.asarray(targets)
    except Exception:  # traced inside jit: the range was checked where the data entered
        concrete = None
    if concrete is not None and concrete.size and (concrete.min() < 0 or concrete.max() >= outputs.shape[2]):
        raise ValueError(
            f"{name}: targets must lie in [0, {outputs.shape[2]}) for {outputs.shape[2]} outputs, "
            f"got values in [{concrete.min()}, {concrete.max()}]."
        )
    return outputs, targets
