"""Quantisation of neuron states to a fixed set of levels (snnTorch's ``snntorch.functional.quant``).

``from snnax_torchlike.functional import quant; q = quant.state_quant(num_bits=4)``
gives a function mapping each state to its nearest level, with a
straight-through gradient, for quantisation-aware training.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ..imperative import recordable
from ..nn.module import to_array
from ._common import _check_flag, _check_real, _straight_through, compiled

__all__ = ["state_quant"]

# snnTorch's default base of the exponential spacing, by number of bits (8 and more: 0.95).
_MULTIPLIERS = {1: 0.05, 2: 0.1, 3: 0.3, 4: 0.5, 5: 0.7, 6: 0.9, 7: 0.925}


def _linspace(start: float, end: float, count: int) -> np.ndarray:
    """``count`` evenly spaced float32 levels from ``start`` to ``end``, each correctly rounded.

    torch's float32 ``linspace`` rounds some levels differently (by one unit in
    the last place, in a pattern that depends on the CPU's vector width), so
    levels, and the quantised values, can differ from snnTorch's by that much.
    """
    return np.linspace(start, end, count, dtype=np.float64).astype(np.float32)


def _geometric_levels(count: int, low: float, high: float, centre: float, multiplier: float) -> list[float]:
    """snnTorch's non-uniform levels: ``count`` levels in ``[low, high]``, dense near ``centre``.

    The levels below ``centre`` (a share of ``count`` proportional to
    ``centre - low``) start at ``low`` with gaps shrinking as ``multiplier**j``
    towards ``centre``; those above end at ``high`` with gaps growing from
    ``centre``. Python floats, in snnTorch's order of operations.
    """
    below = math.floor(count * ((centre - low) / (high - low)))
    above = count - below
    levels: list[float] = []
    if below:
        room = sum(multiplier**j for j in reversed(range(below))) / (centre - low)
        value = low
        for j in range(below):
            levels.append(value)
            value += multiplier**j / room
    if above:
        room = sum(multiplier**j for j in reversed(range(above))) / (high - centre)
        value = centre
        for j in reversed(range(above)):
            value += multiplier**j / room
            levels.append(value)
    return levels


@dataclass(frozen=True)
class _Quantise:
    """Each element replaced by its nearest level (ties: the lower-indexed level), gradient passed straight through."""

    levels: tuple[float, ...]

    @recordable(torch_facing=True)
    def __call__(self, x: ArrayLike) -> Array:
        return compiled(self, to_array(x))

    def _compute(self, x: Array) -> Array:
        levels = jnp.asarray(self.levels, jnp.float32)
        nearest = jnp.argmin(jnp.abs(levels - x[..., None]), axis=-1)
        return _straight_through(x, levels[nearest].astype(x.dtype))


def state_quant(
    num_bits: int = 8,
    uniform: bool = True,
    thr_centered: bool = True,
    threshold: float = 1,
    lower_limit: float = 0,
    upper_limit: float = 0.2,
    multiplier: float | None = None,
) -> _Quantise:
    """A quantiser of neuron states to ``2**num_bits`` levels, as snnTorch's ``quant.state_quant``.

    The levels span ``[-threshold (1 + lower_limit), threshold (1 + upper_limit)]``.

    **Arguments:**

    - ``num_bits``: ``2**num_bits`` levels (a positive int).
    - ``uniform``: evenly spaced levels (as ``torch.linspace``, to float32
      rounding: see ``_linspace``); otherwise
      exponentially spaced ones (snnTorch's construction), densest at the
      threshold (``thr_centered=True``) or at 0.
    - ``thr_centered``: see ``uniform`` (unused when uniform).
    - ``threshold``, ``lower_limit``, ``upper_limit``: the range, as above.
    - ``multiplier``: base of the exponential spacing; ``None`` picks snnTorch's
      default for ``num_bits`` (0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.925 for 1..7 bits, 0.95 above).

    **Returns:** a function ``q(x)`` that maps each element of ``x`` to its nearest
    level (ties to the lower level index, as snnTorch's ``torch.min``), whose
    gradient is the identity (straight-through). Non-uniform levels are built in
    Python floats and rounded to float32, as snnTorch does.
    """
    name = "state_quant"
    if isinstance(num_bits, bool) or not isinstance(num_bits, numbers.Integral) or num_bits < 1:
        raise ValueError(f"{name}: num_bits must be a positive int, got {num_bits!r}.")
    uniform, thr_centered = _check_flag(name, "uniform", uniform), _check_flag(name, "thr_centered", thr_centered)
    threshold = _check_real(name, "threshold", threshold)
    lower_limit = _check_real(name, "lower_limit", lower_limit)
    upper_limit = _check_real(name, "upper_limit", upper_limit)
    low, high = -(threshold + threshold * lower_limit), threshold + threshold * upper_limit
    if not low < high:
        raise ValueError(f"{name}: the levels' range [{low}, {high}] is empty (check threshold and the limits).")
    count = 2**num_bits
    if uniform:
        levels = _linspace(low, high, count)
    else:
        base = _MULTIPLIERS.get(num_bits, 0.95) if multiplier is None else _check_real(name, "multiplier", multiplier)
        centre = threshold if thr_centered else 0.0
        levels = np.asarray(_geometric_levels(count, low, high, centre, base), np.float32)
    return _Quantise(tuple(float(level) for level in levels))
