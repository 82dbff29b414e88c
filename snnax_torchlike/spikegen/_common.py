"""What the encoders share: option checks, array conversion and torch's ``arange``."""

from __future__ import annotations

import math
import operator
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..nn.loss import _check_real as _real_option
from ..nn.module import to_array, to_numpy
from ..snn.concrete import concrete


# -- option checks ------------------------------------------------------------------------
def check_int(name: str, argument: str, value: Any) -> int:
    """A Python int of an integer option, or a ``TypeError`` naming it."""
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"spikegen.{name}: {argument} must be an integer, got the bool {value!r}.")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"spikegen.{name}: {argument} must be an integer, got {type(value).__name__} {value!r}."
        ) from None


def check_num_steps(name: str, num_steps: Any) -> int:
    """``num_steps`` as a Python int >= 1, or a clear error naming the encoder."""
    steps = check_int(name, "num_steps", num_steps)
    if steps < 1:
        raise ValueError(f"spikegen.{name}: num_steps must be >= 1, got {steps}.")
    return steps


def optional_num_steps(name: str, num_steps: Any) -> int | None:
    """``None`` when ``num_steps`` is not given (``None``, or snnTorch's default ``False``), else as ``check_num_steps``."""
    if num_steps is None or (num_steps is False):
        return None
    return check_num_steps(name, num_steps)


def check_first_spike_time(name: str, first_spike_time: Any, steps: int | None) -> int:
    """``first_spike_time`` as an int in ``[0, num_steps - 1]`` (``>= 0`` when ``num_steps`` is not given)."""
    first = check_int(name, "first_spike_time", first_spike_time)
    if steps is None and first < 0:
        raise ValueError(f"spikegen.{name}: first_spike_time must be >= 0, got {first}.")
    if steps is not None and not 0 <= first <= steps - 1:
        raise ValueError(
            f"spikegen.{name}: first_spike_time must lie in [0, num_steps - 1] = [0, {steps - 1}], got {first}."
        )
    return first


def check_real(name: str, argument: str, value: Any) -> float:
    """A Python float of a finite real scalar option, or a ``TypeError`` (not real) or ``ValueError`` (not finite)."""
    number = _real_option(f"spikegen.{name}", argument, value, TypeError)
    if not math.isfinite(number):
        raise ValueError(f"spikegen.{name}: {argument} must be a finite number, got {number}.")
    return number


def check_rate(name: str, argument: str, value: Any) -> float:
    """A firing rate in ``[0, 1]``."""
    rate = check_real(name, argument, value)
    if not 0 <= rate <= 1:
        raise ValueError(f"spikegen.{name}: {argument} must lie in [0, 1], got {rate}.")
    return rate


def check_firing_pattern(name: str, firing_pattern: Any) -> str:
    """snnTorch's ``firing_pattern`` (any case), lower-cased."""
    pattern = firing_pattern.lower() if isinstance(firing_pattern, str) else None
    if pattern not in ("regular", "uniform", "poisson"):
        raise ValueError(
            f"spikegen.{name}: firing_pattern must be 'regular', 'uniform' or 'poisson', got {firing_pattern!r}."
        )
    return pattern


def check_key(name: str, key: Any) -> None:
    """Accept a typed key (``jax.random.key``) or a raw ``uint32[2]`` key (``jax.random.PRNGKey``)."""
    dtype, shape = getattr(key, "dtype", None), getattr(key, "shape", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key) and shape == ():
        return
    if dtype == jnp.uint32 and shape == (2,):
        return
    raise TypeError(
        f"spikegen.{name}: key must be a single PRNG key (jax.random.key(...)), "
        f"got {type(key).__name__} with dtype {dtype} and shape {shape}."
    )


# -- arrays -------------------------------------------------------------------------------
def values_of(name: str, argument: str, x: Array, why: str) -> np.ndarray:
    """The values of ``x``, or a ``TypeError`` saying why ``name`` cannot run on traced data."""
    values = concrete(x)
    if values is None:
        raise TypeError(f"spikegen.{name}: {argument} must be concrete, not traced under jax.jit/vmap/grad: {why}.")
    return values


def as_float32(data: Any, name: str, argument: str = "data") -> Array:
    """``data`` as a float32 JAX array (numpy, JAX, lists, torch tensors, Parameters).

    Host data that holds no numbers (a file name, strings, objects) raises a ``TypeError`` naming
    the encoder ``name`` and its ``argument``, before JAX sees it.
    """
    if isinstance(data, jax.Array) or hasattr(type(data), "__jax_array__"):
        return to_array(data).astype(jnp.float32)
    values = to_numpy(data)
    if values.dtype.kind not in "biuf":
        raise TypeError(
            f"spikegen.{name}: {argument} must be numbers (an array of intensities), got {type(data).__name__} "
            f"{data!r:.60} of dtype {values.dtype}; load or convert it to a numeric array first."
        )
    return to_array(values).astype(jnp.float32)


def refuse_nan(name: str, argument: str, x: Array) -> None:
    """A ``ValueError`` when concrete ``x`` holds NaN, which an encoder would turn into silence (no spike).

    Only a boolean leaves the device; traced data (under ``jax.jit``) is not checked.
    """
    if isinstance(x, jax.core.Tracer) or not jnp.issubdtype(x.dtype, jnp.floating):
        return
    if bool(jnp.isnan(x).any()):
        raise ValueError(
            f"spikegen.{name}: {argument} holds NaN at {int(jnp.isnan(x).sum())} of {x.size} entries; NaN would "
            f"never spike. Clean the data (e.g. np.nan_to_num) before encoding."
        )


def _fma(a: float, b: float, c: float) -> float:
    """``a * b + c`` rounded once, as a fused multiply-add."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def arange_length(start: float, end: float, step: float) -> int:
    """The number of values of ``torch.arange(start, end, step)``: ``ceil((end - start) / step)``, in double."""
    return max(math.ceil((end - start) / step), 0)


def torch_arange(start: float, end: float, step: float) -> np.ndarray:
    """``torch.arange(start, end, step)`` in float32, bit for bit as torch's CPU kernel computes it.

    snnTorch builds spike times and interpolation ramps with float ``arange`` and
    truncates the spike times to steps, so a last-bit difference could move a
    spike. torch sizes the range as ``ceil((end - start) / step)`` and computes
    blocks of 16 values as two 8-lane vectors, each from a float32 base
    ``start + step * i`` plus ``k * step`` (fused multiply-adds in double), and
    the remainder one value at a time.
    """
    count = arange_length(start, end, step)
    values = np.empty(count, dtype=np.float64)
    blocked = count - count % 16
    for base_index in range(0, blocked, 8):
        base = float(np.float32(_fma(step, base_index, start)))
        values[base_index : base_index + 8] = [_fma(lane, step, base) for lane in range(8)]
    values[blocked:] = [_fma(step, index, start) for index in range(blocked, count)]
    return values.astype(np.float32)

