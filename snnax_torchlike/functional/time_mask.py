"""Per-sample true lengths of sequences padded in time: their check, and the mask of the padded steps.

One rule for the losses (``lengths=`` keyword) and for ``fit``'s ``(x, y, lengths)``
batches: a batch of outputs ``[T, B, ...]`` has, per sample ``b``, ``lengths[b]``
real steps ``t < lengths[b]``; the steps after them are padding.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ..imperative.convert import to_numpy


def check_lengths(
    where: str, lengths: ArrayLike, steps: int, batch: int, *, shortest: int = 0, hint: str = ""
) -> Array | np.ndarray:
    """True lengths as int32 ``[B]``, checked against a batch of ``steps`` steps and ``batch`` samples.

    **Arguments:**

    - ``where``: starts every error message (``"ce_rate_loss"``, ``"Trainer.fit: batch 3"``).
    - ``lengths``: integers ``[B]`` (numpy, JAX, torch, a list).
    - ``steps``, ``batch``: ``T`` and ``B`` of the padded batch ``[T, B, ...]``.
    - ``shortest``: the least length allowed: 0 where a sample of no real step
      has a defined value (the losses), 1 where it carries no data (a loader).
    - ``hint``: appended to every message (what the value must be, where it came from).

    **Returns:** the lengths as int32: a numpy array when they were concrete (the
    range is then checked too), a JAX array when traced under ``jit``. Raises
    ``ValueError`` for a shape other than ``[B]`` or a value outside
    ``[shortest, T]``, ``TypeError`` for a non-integer dtype.
    """
    traced = isinstance(lengths, jax.core.Tracer)
    values = lengths if traced else to_numpy(lengths)
    if tuple(values.shape) != (batch,):
        raise ValueError(
            f"{where}: lengths must have shape [B] = ({batch},), one true length per sample of the batch "
            f"[T, B, ...] = [{steps}, {batch}, ...]; got shape {tuple(values.shape)}.{hint}"
        )
    if values.dtype == np.bool_ or not jnp.issubdtype(values.dtype, jnp.integer):
        raise TypeError(f"{where}: lengths must be integers (numbers of time steps), got dtype {values.dtype}.{hint}")
    if traced:
        return values.astype(jnp.int32)
    bad = np.flatnonzero((values < shortest) | (values > steps))
    if bad.size:
        raise ValueError(
            f"{where}: lengths must lie in [{shortest}, T] = [{shortest}, {steps}] (the batch's {steps} time "
            f"steps); sample {bad[0]} has length {values[bad[0]]}.{hint}"
        )
    return values.astype(np.int32)


def real_steps(lengths: Array, steps: int) -> Array:
    """``[T, B]`` booleans: True at each sample's real steps ``t < lengths[b]``."""
    return jnp.arange(steps)[:, None] < lengths[None, :]


def mask_padding(outputs: Array, lengths: Array | None, fill: float = 0.0) -> Array:
    """``outputs`` ``[T, B, ...]`` with ``fill`` at each sample's padded steps ``t >= lengths[b]`` (as is without lengths)."""
    if lengths is None:
        return outputs
    real = real_steps(lengths, outputs.shape[0])
    return jnp.where(real.reshape(real.shape + (1,) * (outputs.ndim - 2)), outputs, jnp.asarray(fill, outputs.dtype))
