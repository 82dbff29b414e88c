"""One-hot class targets: ``to_one_hot``, ``to_one_hot_inverse``, ``from_one_hot``."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ..imperative import torch_facing
from ..nn.module import to_array
from ..snn.concrete import concrete
from ._common import check_int, values_of


def one_hot(name: str, targets: ArrayLike, num_classes: int) -> Array:
    """``to_one_hot`` on behalf of the encoder ``name`` (its errors name it)."""
    classes = check_int(name, "num_classes", num_classes)
    if classes < 1:
        raise ValueError(f"spikegen.{name}: num_classes must be >= 1, got {classes}.")
    targets = to_array(targets)
    if targets.ndim != 1:
        raise ValueError(f"spikegen.{name}: expected class indices [B], got shape {tuple(targets.shape)}.")
    values = concrete(targets)
    if values is not None and values.size:
        if np.any(values != np.trunc(values)):
            raise ValueError(f"spikegen.{name}: targets must be whole class indices, got {values.tolist()}.")
        if values.min() < 0 or values.max() > classes - 1:
            raise ValueError(
                f"spikegen.{name}: targets must lie in [0, {classes - 1}] for num_classes={classes}, "
                f"got values in [{values.min()!s}, {values.max()!s}]."
            )
    return _encode(targets, classes)


@functools.partial(jax.jit, static_argnums=1)  # one compiled program per shape, not one per operation
def _encode(targets: Array, classes: int) -> Array:
    indices = targets.astype(jnp.int32)  # truncates toward zero, as torch's .long()
    encoded = (indices[:, None] == jnp.arange(classes, dtype=jnp.int32)).astype(jnp.float32)
    valid = (indices >= 0) & (indices < classes)
    return jnp.where(valid[:, None], encoded, jnp.nan)  # out of range under jit: NaN, never a silent class


def inverse(one_hot_targets: Array) -> Array:
    """1 where the entry is 0, else 0, in the entries' dtype."""
    return jnp.where(one_hot_targets == 0, 1, 0).astype(one_hot_targets.dtype)


@torch_facing
def to_one_hot(targets: ArrayLike, num_classes: int) -> Array:
    """One-hot encoding of class indices (snnTorch's ``to_one_hot``).

    **Arguments:**

    - ``targets``: class indices ``[B]`` in ``[0, num_classes - 1]``, integer or
      whole floats (snnTorch casts with ``.long()``).
    - ``num_classes``: the number of classes ``C`` (>= 1).

    **Returns:** float32 ``[B, C]`` with a 1 at each target's class. Under
    ``jax.jit``, where targets cannot be checked, a float target is truncated
    toward zero (as ``.long()``) and the row of a target out of range is NaN.

    **Raises:** ``ValueError`` for targets that are not ``[B]``, not whole or
    out of range; ``ValueError``/``TypeError`` for a bad ``num_classes``.
    """
    return one_hot("to_one_hot", targets, num_classes)


@torch_facing
def to_one_hot_inverse(one_hot_targets: ArrayLike) -> Array:
    """Swap the zeros and non-zeros of a one-hot tensor: 1 where it is 0, else 0 (snnTorch's ``to_one_hot_inverse``).

    **Arguments:**

    - ``one_hot_targets``: any shape, e.g. ``[B, C]`` from ``to_one_hot``.

    **Returns:** an array of the same shape and dtype (float64 becomes float32).
    """
    return inverse(to_array(one_hot_targets))


@torch_facing
def from_one_hot(one_hot_label: ArrayLike) -> Array:
    """Indices along the first axis of the entries equal to 1 (snnTorch's ``from_one_hot``).

    For a one-hot label ``[C]`` this is its class, as a 1-element array. For a
    batch ``[B, C]`` it is, as in snnTorch, the *row* of every 1 (in row-major
    order), not its class: ``[0, 1, ..., B - 1]`` for a valid one-hot batch. Use
    ``argmax(-1)`` for the classes of a batch.

    **Arguments:**

    - ``one_hot_label``: a one-hot array with at least one axis.

    **Returns:** int32 ``[N]``, ``N`` the number of entries equal to 1.

    **Raises:** ``ValueError`` for a scalar; ``TypeError`` under ``jax.jit``
    (the length of the result depends on the values).
    """
    label = to_array(one_hot_label)
    if label.ndim < 1:
        raise ValueError("spikegen.from_one_hot: expected a one-hot array with at least one axis, got shape ().")
    values = values_of("from_one_hot", "one_hot_label", label, "the number of indices depends on its values")
    return jax.device_put(np.nonzero(values == 1)[0].astype(np.int32))
