"""Latency coding: one spike per element, earlier for larger values (snnTorch's formulas)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ..imperative import recordable, torch_facing
from ..snn.concrete import concrete
from ._common import (
    as_float32,
    check_first_spike_time,
    check_num_steps,
    check_real,
    optional_num_steps,
    refuse_nan,
    values_of,
)


# -- spike times --------------------------------------------------------------------------
def _check_code_options(
    name: str, num_steps: int | None, threshold: float, tau: float, first_spike_time: int, normalize: bool
) -> tuple[int | None, float, float, int]:
    """snnTorch's checks of the spike-time codes (its ``_latency_errors``), with clearer messages."""
    steps = optional_num_steps(name, num_steps)
    threshold = check_real(name, "threshold", threshold)
    tau = check_real(name, "tau", tau)
    first = check_first_spike_time(name, first_spike_time, steps)
    if not 0 < threshold < 1:
        raise ValueError(f"spikegen.{name}: threshold must lie in (0, 1), got {threshold}.")
    if not tau > 0:
        raise ValueError(f"spikegen.{name}: tau must be > 0, got {tau}.")
    if normalize and steps is None:
        raise ValueError(f"spikegen.{name}: normalize=True needs num_steps (the latest spike lands on num_steps - 1).")
    return steps, threshold, tau, first


def _check_shift(name: str, data: Array, first_spike_time: int) -> None:
    """snnTorch refuses a ``first_spike_time`` for data that spans both sides of ``[0, 1]``."""
    values = concrete(data)
    if first_spike_time and values is not None and values.size and values.max() > 1 and values.min() < 0:
        raise ValueError(
            f"spikegen.{name}: first_spike_time applies to data in [0, 1] only, "
            f"got values in [{values.min()!s}, {values.max()!s}]."
        )


def _log_times(
    data: Array, steps: int | None, threshold: float, tau: float, first_spike_time: int, normalize: bool, epsilon: float
) -> Array:
    """``tau * ln(x / (x - threshold))``, ``x = max(data, threshold + eps)``, shifted and normalised."""
    floor = threshold + epsilon
    # Every value below threshold saturates; a value at the floor (or NaN) passes, as with torch.clamp.
    saturated = jnp.where(data < floor, floor, data)
    times = tau * jnp.log(saturated / (saturated - threshold))
    if first_spike_time > 0:
        times = times + first_spike_time
    if normalize:  # the latest element lands on num_steps - 1
        times = (times - first_spike_time) * (steps - first_spike_time - 1) / jnp.max(
            times - first_spike_time
        ) + first_spike_time
    return times


def _linear_times(
    data: Array, steps: int | None, threshold: float, tau: float, first_spike_time: int, normalize: bool
) -> Array:
    """``min(-tau (data - 1), -tau (threshold - 1)) + first_spike_time``; ``tau = T - 1 - first`` with normalize."""
    if normalize:
        tau = steps - 1 - first_spike_time
    times, ceiling = -tau * (data - 1), -tau * (threshold - 1)
    # A time at the ceiling (or NaN) passes, as with torch.clamp_max.
    times = jnp.where(times > ceiling, ceiling, times) + first_spike_time
    if normalize:  # snnTorch's rescaling of negative times (data above 1) onto [0, num_steps - 1]
        low, high = jnp.min(times), jnp.max(times)
        rescale = low < 0
        span = jnp.where(rescale, high - low, 1.0)  # no 1/0 in the branch not taken (its gradient would be NaN)
        times = jnp.where(rescale, (times - low) * (1 / span) * (steps - 1), times)
    return times


def _spike_times(
    name: str,
    data: Array,
    num_steps: int | None,
    threshold: float,
    tau: float,
    first_spike_time: int,
    normalize: bool,
    linear: bool,
    epsilon: float,
) -> tuple[Array, int | None, float]:
    """``(times, num_steps, threshold)`` of the chosen code (log, or ``linear``), options checked."""
    steps, threshold, tau, first = _check_code_options(name, num_steps, threshold, tau, first_spike_time, normalize)
    epsilon = check_real(name, "epsilon", epsilon)
    _check_shift(name, data, first)
    if linear:
        return _linear_times(data, steps, threshold, tau, first, normalize), steps, threshold
    return _log_times(data, steps, threshold, tau, first, normalize, epsilon), steps, threshold


@recordable(torch_facing=True)
def latency_code_log(
    data: ArrayLike,
    num_steps: int | None = None,
    threshold: float = 0.01,
    tau: float = 1.0,
    first_spike_time: int = 0,
    normalize: bool = False,
    epsilon: float = 1e-7,
) -> Array:
    """Spike times of the logarithmic latency code (snnTorch's ``latency_code_log``).

    ``t = tau * ln(x / (x - threshold))`` with ``x = max(data, threshold + epsilon)``
    (a charging RC neuron's time to reach ``threshold``), plus ``first_spike_time``.
    With ``normalize``, ``t = (t - f) * (T - f - 1) / max(t - f) + f`` (``f`` the
    first spike time), so the latest element lands on ``T - 1``. Differentiable
    in ``data`` (the gradient is zero where the value saturates).

    **Arguments:**

    - ``data``: values of any shape (``[0, 1]`` is the intended range).
    - ``num_steps``: the number of steps ``T``; needed with ``normalize`` and
      bounds ``first_spike_time`` (``None`` or snnTorch's ``False``: not given).
    - ``threshold``: in ``(0, 1)``.
    - ``tau``: the time constant (> 0).
    - ``first_spike_time``: the earliest time (>= 0, at most ``T - 1``).
    - ``normalize``, ``epsilon``: as above.

    **Returns:** float32 spike times of ``data``'s shape (not rounded).

    **Raises:** ``ValueError``/``TypeError`` for options out of range.
    """
    name = "latency_code_log"
    return _spike_times(
        name, as_float32(data, name), num_steps, threshold, tau, first_spike_time, normalize, False, epsilon
    )[0]


@recordable(torch_facing=True)
def latency_code_linear(
    data: ArrayLike,
    num_steps: int | None = None,
    threshold: float = 0.01,
    tau: float = 1.0,
    first_spike_time: int = 0,
    normalize: bool = False,
) -> Array:
    """Spike times of the linear latency code (snnTorch's ``latency_code_linear``).

    ``t = min(-tau (data - 1), -tau (threshold - 1)) + first_spike_time``: 1 fires
    at ``first_spike_time``, values at or below ``threshold`` at the latest time.
    With ``normalize``, ``tau = T - 1 - first_spike_time``; if some times are then
    negative (data above 1), all are rescaled onto ``[0, T - 1]``, as snnTorch.
    Differentiable in ``data``.

    **Arguments:** as ``latency_code_log`` (no ``epsilon``).

    **Returns:** float32 spike times of ``data``'s shape (not rounded).

    **Raises:** ``ValueError``/``TypeError`` for options out of range.
    """
    name = "latency_code_linear"
    return _spike_times(
        name, as_float32(data, name), num_steps, threshold, tau, first_spike_time, normalize, True, 0.0
    )[0]


@recordable(torch_facing=True)
def latency_code(
    data: ArrayLike,
    num_steps: int | None = None,
    threshold: float = 0.01,
    tau: float = 1.0,
    first_spike_time: int = 0,
    normalize: bool = False,
    linear: bool = False,
    epsilon: float = 1e-7,
) -> tuple[Array, Array]:
    """Spike times of the latency code and the mask of values below threshold (snnTorch's ``latency_code``).

    **Arguments:** as ``latency_code_log``; ``linear`` picks ``latency_code_linear``.

    **Returns:** ``(times, below)``: float32 spike times of ``data``'s shape
    (differentiable in ``data``) and the bool mask ``data < threshold`` (the
    elements ``latency(clip=True)`` silences).

    **Raises:** ``ValueError``/``TypeError`` for options out of range.
    """
    data = as_float32(data, "latency_code")
    times, _, threshold = _spike_times(
        "latency_code", data, num_steps, threshold, tau, first_spike_time, normalize, linear, epsilon
    )
    return times, data < threshold


# -- spike trains -------------------------------------------------------------------------
@functools.partial(jax.jit, static_argnums=1)  # one compiled program per shape, not one per operation
def _one_spike_per_element(times: Array, steps: int) -> Array:
    """``[T, *times.shape]``: a 1 at step ``round(min(time, T - 1))``, none where ``round(time) > T - 1``."""
    index = jnp.round(jnp.minimum(times, steps - 1)).astype(jnp.int32)
    in_range = jnp.round(times) <= steps - 1
    grid = jnp.arange(steps, dtype=jnp.int32).reshape((steps,) + (1,) * times.ndim)
    return ((grid == index[None]) & in_range[None]).astype(jnp.float32)


def _check_ramp(name: str, on_target: float, off_target: float) -> None:
    """Interpolated targets rise towards the spike: ``on_target >= off_target``."""
    if on_target < off_target:
        raise ValueError(
            f"spikegen.{name}: interpolated targets need on_target >= off_target, got on_target={on_target}, "
            f"off_target={off_target}."
        )


def _interpolate(times: Array, steps: int, on_target: float, off_target: float) -> Array:
    """``latency_interpolate`` on checked arguments."""
    times = jnp.round(times)
    first_step = times == 0
    # A time of 0 or beyond the last step becomes 0.5: step / 0.5 exceeds 1 from step 1 on and is clipped below.
    divisor = jnp.where(first_step | (times > steps), 0.5, times)
    grid = jnp.arange(steps, dtype=jnp.float32).reshape((steps,) + (1,) * times.ndim)
    ramp = jnp.where((grid == 0) & first_step[None], 1.0, grid / divisor[None])
    targets = ramp * (on_target - off_target) + off_target
    return jnp.where(targets > on_target, off_target, targets)


@torch_facing
def latency_interpolate(
    spike_time: ArrayLike, num_steps: int, on_target: float = 1.0, off_target: float = 0.0
) -> Array:
    """Targets that ramp linearly up to each neuron's spike (snnTorch's ``latency_interpolate``).

    With ``s = round(spike_time)`` per neuron, the target at step ``t`` is
    ``off + (on - off) * t / s`` up to and including ``t = s`` (reaching
    ``on_target`` there) and ``off_target`` after it; a neuron with ``s = 0`` is
    ``on_target`` at step 0 only. As snnTorch: a neuron whose ``s`` exceeds
    ``num_steps`` stays at ``off_target``, one with ``s == num_steps`` ramps
    without reaching ``on_target``, and a negative ``s`` gives a falling ramp
    (values below ``off_target``).

    **Arguments:**

    - ``spike_time``: spike times in steps, any shape (one neuron per element).
    - ``num_steps``: the number of steps ``T`` (>= 1).
    - ``on_target``, ``off_target``: the values at the spike and away from it
      (``on_target >= off_target``).

    **Returns:** float32 ``[num_steps, *spike_time.shape]``.

    **Raises:** ``ValueError`` when ``on_target < off_target``; ``ValueError``/
    ``TypeError`` for a bad ``num_steps``.
    """
    steps = check_num_steps("latency_interpolate", num_steps)
    on_target = check_real("latency_interpolate", "on_target", on_target)
    off_target = check_real("latency_interpolate", "off_target", off_target)
    _check_ramp("latency_interpolate", on_target, off_target)
    return _interpolate(as_float32(spike_time, "latency_interpolate", "spike_time"), steps, on_target, off_target)


def encode(
    name: str,
    data: ArrayLike,
    num_steps: int | None,
    threshold: float,
    tau: float,
    first_spike_time: int,
    on_target: float,
    off_target: float,
    clip: bool,
    normalize: bool,
    linear: bool,
    interpolate: bool,
    bypass: bool,
    epsilon: float,
) -> Array:
    """``latency`` on behalf of the encoder ``name`` (its errors name it)."""
    data = as_float32(data, name)
    refuse_nan(name, "data", data)
    on_target = check_real(name, "on_target", on_target)
    off_target = check_real(name, "off_target", off_target)
    values = concrete(data)
    if values is not None and values.size and (values.min() < 0 or values.max() > 1):
        raise ValueError(
            f"spikegen.{name}: data must lie in [0, 1], got values in [{values.min()!s}, {values.max()!s}]."
        )
    times, steps, threshold = _spike_times(
        name, data, num_steps, threshold, tau, first_spike_time, normalize, linear, epsilon
    )
    if steps is None and not bypass:
        raise ValueError(
            f"spikegen.{name}: num_steps must be given; or pass bypass=True to take it from the latest spike time."
        )
    if clip and interpolate:
        raise ValueError(f"spikegen.{name}: clip does not apply with interpolate=True (snnTorch ignores it); drop one.")
    if steps is None:
        latest = values_of(name, "data", times, "with bypass=True and no num_steps, the steps come from the data")
        steps = int(np.round(latest.max())) + 1
    elif not bypass:
        concrete_times = concrete(times)
        if concrete_times is not None and concrete_times.size:
            latest = np.round(concrete_times.max())
            if not latest <= steps - 1:
                latest = int(latest) if np.isfinite(latest) else latest
                raise ValueError(
                    f"spikegen.{name}: the latest spike time {latest} is beyond num_steps - 1 = {steps - 1}; "
                    "decrease tau, increase num_steps, pass normalize=True, or pass bypass=True to drop such spikes."
                )
    if interpolate:
        _check_ramp(name, on_target, off_target)
        return _interpolate(times, steps, on_target, off_target)
    spikes = _one_spike_per_element(times, steps)
    if clip:
        spikes = spikes * jnp.logical_not(data < threshold)
    return jnp.maximum(spikes * on_target, off_target)


@torch_facing
def latency(
    data: ArrayLike,
    num_steps: int | None = None,
    threshold: float = 0.01,
    tau: float = 1.0,
    first_spike_time: int = 0,
    on_target: float = 1.0,
    off_target: float = 0.0,
    clip: bool = False,
    normalize: bool = False,
    linear: bool = False,
    interpolate: bool = False,
    bypass: bool = False,
    epsilon: float = 1e-7,
) -> Array:
    r"""Latency coding: one spike per element, earlier for larger values (snnTorch's ``latency``).

    The spike time ``t`` of each element is ``latency_code_log``'s (default) or
    ``latency_code_linear``'s (``linear``). The spike lands at step ``round(t)``
    (half to even, as torch), clamped to ``T - 1``. A spike time beyond ``T - 1``
    raises, as in snnTorch, unless ``bypass``: then such an element does not
    spike (snnTorch's own mask, also what happens under ``jit``, where no error
    can be raised). With ``clip``, elements below ``threshold`` do not spike. The
    output is ``max(spike * on_target, off_target)``, as snnTorch's: ``off_target``
    is a floor, so a negative one leaves the non-spike entries at 0.

    With ``interpolate``, the output is instead ``latency_interpolate``'s ramps
    towards the spike times (``clip`` does not apply; snnTorch ignores it there,
    this function refuses the combination).

    **Arguments:**

    - ``data``: values in ``[0, 1]``, any shape.
    - ``num_steps``: the number of time steps ``T`` (static, >= 1). Required
      unless ``bypass``; with ``bypass`` and no ``num_steps`` (``None`` or
      snnTorch's ``False``), ``T`` is the latest rounded spike time + 1, read from
      the data (so not under ``jit``).
    - ``threshold``: in ``(0, 1)``; values below it saturate to the latest time.
    - ``tau``: the time constant (> 0; replaced by ``T - 1 - first_spike_time``
      for ``linear`` with ``normalize``).
    - ``first_spike_time``: the earliest step, in ``[0, T - 1]``.
    - ``on_target``, ``off_target``: the spike and floor values.
    - ``clip``, ``normalize``, ``linear``, ``epsilon``: as above (snnTorch's).
    - ``interpolate``: ramps instead of spikes (see above).
    - ``bypass``: allow spike times beyond ``T - 1`` (and ``num_steps`` from the data).

    **Returns:** float32 ``[num_steps, *data.shape]``.

    **Raises:** ``ValueError`` for data outside ``[0, 1]``, options out of range,
    a missing ``num_steps`` without ``bypass``, ``clip`` with ``interpolate``, or
    a spike time beyond ``num_steps - 1`` without ``bypass`` (decrease ``tau`` or
    pass ``normalize=True``); ``TypeError`` for ``bypass`` without ``num_steps``
    on traced data.
    """
    return encode(
        "latency", data, num_steps, threshold, tau, first_spike_time, on_target, off_target,
        clip, normalize, linear, interpolate, bypass, epsilon,
    )  # fmt: skip
