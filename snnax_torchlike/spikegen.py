"""Spike encoders with snnTorch's names and formulas (``snntorch.spikegen``).

- ``rate``: Bernoulli spikes whose probability is the (clipped) intensity;
- ``latency``: one spike per element, earlier for larger values;
- ``delta``: spikes where a time-first signal changes by a threshold.

Every output is float32 and time-first ``[T, ...]``. ``latency`` and ``delta``
reproduce snnTorch 1.0.0 exactly (tested against it); ``rate`` draws its own
random numbers, so only its distribution matches snnTorch's (torch's RNG stream
cannot be reproduced in JAX).

Not provided: ``rate``'s ``first_spike_time``/``time_var_input``, ``latency``'s
``interpolate``/``bypass``, and the target encoders (``targets_convert`` and
friends).

The encoders are traceable: ``num_steps`` and the options are static, the data
may be traced. Checks that need the data's values (``latency``'s range and
last-spike checks) run when the data is concrete and are skipped under ``jax.jit``.
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .nn.module import to_array
from .random import next_key

__all__ = ["rate", "latency", "delta"]


# -- checks -----------------------------------------------------------------------------
def _check_int(name: str, argument: str, value: Any) -> int:
    """A Python int of an integer option, or a ``TypeError`` naming it."""
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"spikegen.{name}: {argument} must be an integer, got the bool {value!r}.")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"spikegen.{name}: {argument} must be an integer, got {type(value).__name__} {value!r}."
        ) from None


def _check_num_steps(name: str, num_steps: int) -> int:
    """``num_steps`` as a Python int >= 1, or a clear error naming the encoder."""
    steps = _check_int(name, "num_steps", num_steps)
    if steps < 1:
        raise ValueError(f"spikegen.{name}: num_steps must be >= 1, got {steps}.")
    return steps


def _check_real(name: str, argument: str, value: Any) -> float:
    """A Python float of a real scalar option, or a ``TypeError`` naming it."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"spikegen.{name}: {argument} must be a real number, got {type(value).__name__} {value!r}.")
    return float(value)


def _check_key(name: str, key: Any) -> None:
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


def _concrete(x: Array) -> np.ndarray | None:
    """The values of ``x``, or ``None`` when ``x`` is traced (inside ``jit``/``vmap``/``grad``)."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _as_float32(data: Any) -> Array:
    """``data`` as a float32 JAX array (numpy, JAX, lists, torch tensors, Parameters)."""
    return to_array(data).astype(jnp.float32)


# -- rate -------------------------------------------------------------------------------
def rate(
    data: ArrayLike,
    num_steps: int,
    *,
    gain: float = 1.0,
    offset: float = 0.0,
    key: PRNGKeyArray | None = None,
) -> Array:
    """Rate (Bernoulli) coding: at each step, each element spikes with probability ``p``.

    ``p = clip(data * gain + offset, 0, 1)``, as snnTorch's ``rate``. The clip is
    part of the encoding, not an error path: an intensity above 1 means "spike at
    every step" and one below 0 "never spike", exactly as in snnTorch. Steps and
    elements are independent.

    **Arguments:**

    - ``data``: intensities of any shape, e.g. ``[B, 784]`` (any array-like).
    - ``num_steps``: the number of time steps ``T`` (static, >= 1).
    - ``gain``, ``offset``: the affine map applied before clipping.
    - ``key``: a PRNG key. With ``None``, the next key of the library stream
      (``snnax_torchlike.random``, reset by ``manual_seed``), so two calls give
      different spikes. Inside ``jax.jit`` pass a key explicitly (see ``next_key``).

    **Returns:** float32 spikes (0 or 1) of shape ``[num_steps, *data.shape]``.

    **Raises:** ``ValueError``/``TypeError`` for a bad ``num_steps``, ``gain``,
    ``offset`` or ``key``.
    """
    steps = _check_num_steps("rate", num_steps)
    gain = _check_real("rate", "gain", gain)
    offset = _check_real("rate", "offset", offset)
    if key is None:
        key = next_key()
    else:
        _check_key("rate", key)
    probability = jnp.clip(_as_float32(data) * gain + offset, 0.0, 1.0)
    return jax.random.bernoulli(key, probability, (steps,) + probability.shape).astype(jnp.float32)


# -- latency ----------------------------------------------------------------------------
def _check_latency_options(steps: int, threshold: float, tau: float, first_spike_time: int) -> None:
    """snnTorch's option checks (``latency`` and ``_latency_errors``), with clearer messages."""
    if not 0 < threshold < 1:
        raise ValueError(f"spikegen.latency: threshold must lie in (0, 1), got {threshold}.")
    if not tau > 0:
        raise ValueError(f"spikegen.latency: tau must be > 0, got {tau}.")
    if not 0 <= first_spike_time <= steps - 1:
        raise ValueError(
            f"spikegen.latency: first_spike_time must lie in [0, num_steps - 1] = [0, {steps - 1}], "
            f"got {first_spike_time}."
        )


def _log_times(
    data: Array, steps: int, threshold: float, tau: float, first_spike_time: int, normalize: bool, epsilon: float
) -> Array:
    """snnTorch's ``latency_code_log``: ``tau * ln(x / (x - threshold))``, ``x = max(data, threshold + eps)``."""
    saturated = jnp.maximum(data, threshold + epsilon)  # every value below threshold saturates
    times = tau * jnp.log(saturated / (saturated - threshold))
    if first_spike_time > 0:
        times = times + first_spike_time
    if normalize:  # the latest element lands on num_steps - 1
        times = (times - first_spike_time) * (steps - first_spike_time - 1) / jnp.max(
            times - first_spike_time
        ) + first_spike_time
    return times


def _linear_times(
    data: Array, steps: int, threshold: float, tau: float, first_spike_time: int, normalize: bool
) -> Array:
    """snnTorch's ``latency_code_linear``: ``min(-tau (data - 1), -tau (threshold - 1)) + first_spike_time``."""
    if normalize:
        tau = steps - 1 - first_spike_time
    times = jnp.minimum(-tau * (data - 1), -tau * (threshold - 1)) + first_spike_time
    if normalize:  # snnTorch's rescaling for negative times (only reachable with data > 1, i.e. under jit)
        low, high = jnp.min(times), jnp.max(times)
        times = jnp.where(low < 0, (times - low) * (1 / (high - low)) * (steps - 1), times)
    return times


def _one_spike_per_element(times: Array, steps: int) -> Array:
    """``[T, *times.shape]``: a 1 at step ``round(min(time, T - 1))``, none where ``round(time) > T - 1``."""
    index = jnp.round(jnp.minimum(times, steps - 1)).astype(jnp.int32)
    in_range = jnp.round(times) <= steps - 1
    grid = jnp.arange(steps, dtype=jnp.int32).reshape((steps,) + (1,) * times.ndim)
    return ((grid == index[None]) & in_range[None]).astype(jnp.float32)


def latency(
    data: ArrayLike,
    num_steps: int,
    *,
    threshold: float = 0.01,
    tau: float = 1.0,
    first_spike_time: int = 0,
    on_target: float = 1.0,
    off_target: float = 0.0,
    clip: bool = False,
    normalize: bool = False,
    linear: bool = False,
    epsilon: float = 1e-7,
) -> Array:
    r"""Latency coding: one spike per element, earlier for larger values (snnTorch's formulas).

    The spike time ``t`` of each element (float32, in snnTorch's operation order):

    - logarithmic (default): ``t = tau * ln(x / (x - threshold))`` with
      ``x = max(data, threshold + epsilon)``, plus ``first_spike_time``; with
      ``normalize``, ``t = (t - f) * (T - f - 1) / max(t - f) + f`` (``f`` the first
      spike time), so the latest element fires at ``T - 1``;
    - ``linear``: ``t = min(-tau (data - 1), -tau (threshold - 1)) + first_spike_time``;
      with ``normalize``, ``tau = T - 1 - first_spike_time``.

    The spike lands at step ``round(t)`` (half to even, as torch), clamped to
    ``T - 1``. Eagerly, a spike time beyond ``T - 1`` raises, as in snnTorch; under
    ``jit``, where no error can be raised, such an element does not spike (snnTorch's
    own mask for out-of-range times). With ``clip``, elements below ``threshold`` do
    not spike. The output is ``max(spike * on_target, off_target)``, as snnTorch's:
    ``off_target`` is a floor, so a negative one leaves the non-spike entries at 0.

    **Arguments:**

    - ``data``: values in ``[0, 1]``, any shape.
    - ``num_steps``: the number of time steps ``T`` (static, >= 1).
    - ``threshold``: in ``(0, 1)``; values below it saturate to the latest time.
    - ``tau``: the time constant (> 0; replaced by ``T - 1 - first_spike_time``
      for ``linear`` with ``normalize``).
    - ``first_spike_time``: the earliest step, in ``[0, T - 1]``.
    - ``on_target``, ``off_target``: the spike and floor values.
    - ``clip``, ``normalize``, ``linear``, ``epsilon``: as above (snnTorch's).

    **Returns:** float32 ``[num_steps, *data.shape]``.

    **Raises:** ``ValueError`` for data outside ``[0, 1]``, options out of range,
    or a spike time beyond ``num_steps - 1`` (decrease ``tau`` or pass
    ``normalize=True``).
    """
    steps = _check_num_steps("latency", num_steps)
    threshold = _check_real("latency", "threshold", threshold)
    tau = _check_real("latency", "tau", tau)
    epsilon = _check_real("latency", "epsilon", epsilon)
    first_spike_time = _check_int("latency", "first_spike_time", first_spike_time)
    on_target = _check_real("latency", "on_target", on_target)
    off_target = _check_real("latency", "off_target", off_target)
    _check_latency_options(steps, threshold, tau, first_spike_time)
    data = _as_float32(data)
    values = _concrete(data)
    if values is not None and values.size and (values.min() < 0 or values.max() > 1):
        raise ValueError(
            f"spikegen.latency: data must lie in [0, 1], got values in [{values.min()!s}, {values.max()!s}]."
        )
    if linear:
        times = _linear_times(data, steps, threshold, tau, first_spike_time, normalize)
    else:
        times = _log_times(data, steps, threshold, tau, first_spike_time, normalize, epsilon)
    concrete_times = _concrete(times)
    if concrete_times is not None and concrete_times.size:
        latest = np.round(concrete_times.max())
        if not latest <= steps - 1:
            latest = int(latest) if np.isfinite(latest) else latest
            raise ValueError(
                f"spikegen.latency: the latest spike time {latest} is beyond num_steps - 1 = {steps - 1}; "
                "decrease tau, increase num_steps, or pass normalize=True."
            )
    spikes = _one_spike_per_element(times, steps)
    if clip:
        spikes = spikes * jnp.logical_not(data < threshold)
    return jnp.maximum(spikes * on_target, off_target)


# -- delta ------------------------------------------------------------------------------
def delta(data: ArrayLike, *, threshold: float = 0.1, padding: bool = False, off_spike: bool = False) -> Array:
    """Delta modulation of a time-first signal: a spike where it changed by ``threshold``.

    ``+1`` where ``x[t] - x[t-1] >= threshold``; with ``off_spike``, also ``-1``
    where ``x[t] - x[t-1] <= -threshold``. Before the first step, ``x[-1]`` is 0, or
    ``x[0]`` with ``padding`` (so the first step never spikes). As snnTorch's
    ``delta``; the difference is taken in ``data``'s precision.

    **Arguments:**

    - ``data``: time-first ``[T, ...]`` with ``T >= 1``.
    - ``threshold``: the change that triggers a spike (scalar or broadcastable).
    - ``padding``, ``off_spike``: as above.

    **Returns:** float32 spikes of ``data``'s shape (values in {0, 1}, or
    {-1, 0, 1} with ``off_spike``).

    **Raises:** ``ValueError`` for a scalar or an empty time axis.
    """
    data = to_array(data)
    if data.ndim < 1 or data.shape[0] < 1:
        raise ValueError(f"spikegen.delta: expected time-first data [T, ...] with T >= 1, got shape {data.shape}.")
    first = data[:1] if padding else jnp.zeros_like(data[:1])
    change = data - jnp.concatenate([first, data[:-1]], axis=0)
    spikes = (change >= threshold).astype(jnp.float32)
    if off_spike:
        spikes = spikes - (change <= -threshold).astype(jnp.float32)
    return spikes
