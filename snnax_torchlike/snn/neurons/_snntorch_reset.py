"""snnTorch's reset rules, shared by its neurons so each reproduces the same operations."""

from __future__ import annotations

from jaxtyping import Array, ArrayLike

from ._base import ResetMode


def reset_from_previous_spike(base: Array, reset: Array, threshold: ArrayLike, mechanism: ResetMode) -> Array:
    """``base - R*thr`` (subtract), ``base - R*base`` (zero: the whole new value), or ``base`` (none).

    ``reset`` is ``R = stop_gradient(H(m_{t-1} - thr))``, the previous step's spike.
    """
    if mechanism == "subtract":
        return base - reset * threshold
    if mechanism == "zero":
        return base - reset * base
    return base


def reset_in_same_step(
    mem: Array, spk: Array, reset: Array, threshold: ArrayLike, graded: ArrayLike, mechanism: ResetMode
) -> Array:
    """snnTorch's ``reset_delay=False``: also reset by this step's spike, ``d = spk/graded - R`` (not detached)."""
    delta = spk / graded - reset
    if mechanism == "subtract":
        return mem - delta * threshold
    if mechanism == "zero":
        return mem - delta * mem
    return mem
