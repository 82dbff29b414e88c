"""First-spike times of spiking outputs with snnTorch's sign-estimator gradient (``snntorch.functional.SpikeTime``)."""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ..imperative import recordable
from ..imperative.convert import to_numpy
from ..nn.loss import _broadcastable
from ..nn.module import to_array
from ._common import (
    _check_flag,
    _check_outputs,
    _check_real,
    _check_targets,
    _class_targets,
    _straight_through,
    compiled,
)

__all__ = ["SpikeTime"]


def _time_index(times: Array, steps: int) -> Array:
    """``times`` as torch's ``times.long()`` indexes the time axis: truncated, negative from the end.

    Out-of-range indices (possible only for spikes other than 0/1, where torch
    raises) become -1, which selects no step.
    """
    index = times.astype(jnp.int32)
    index = jnp.where(index < 0, index + steps, index)
    return jnp.where((index >= 0) & (index < steps), index, -1)


def _spike_times_forward(spk: Array, count: int) -> Array:
    """The first ``count`` spike times of each output of ``spk`` ``[T, B, N]``: ``[count, B, N]``.

    As snnTorch computes them: the first step ``t`` with ``s_t != 0`` gives
    ``s_t (t + 1) - 1`` (``t`` for 0/1 spikes), and an output that never spikes
    gives ``T - 1``. Before the next spike is sought, snnTorch zeroes the WHOLE
    time steps (every sample and output) at the times just found (kept: it is
    what ``SpikeTime.MultiSpike`` computes).
    """
    steps = spk.shape[0]
    remaining, times = spk, []
    for _ in range(count):
        fired = remaining != 0
        first = jnp.argmax(fired, axis=0)
        value = jnp.take_along_axis(remaining, first[None], axis=0)[0] * (first + 1).astype(spk.dtype) - 1
        time = jnp.where(jnp.any(fired, axis=0), value, jnp.asarray(steps - 1, spk.dtype))
        times.append(time)
        found = jnp.any(jax.nn.one_hot(_time_index(time, steps), steps, dtype=bool, axis=0), axis=(1, 2))
        remaining = jnp.where(found[:, None, None], 0, remaining)
    return jnp.stack(times)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _spike_times(spk: Array, count: int) -> Array:
    """``_spike_times_forward`` whose gradient is snnTorch's sign estimator.

    The derivative of a spike time with respect to the spike at that time is
    -1, and 0 elsewhere (``SpikeTime.FirstSpike``/``MultiSpike``); where two
    times of one output fall on the same step, the later one's gradient wins,
    as snnTorch assigns them in order.
    """
    return _spike_times_forward(spk, count)


def _spike_times_fwd(spk: Array, count: int) -> tuple[Array, tuple[Array, Array]]:
    times = _spike_times_forward(spk, count)
    return times, (times, spk)


def _spike_times_bwd(count: int, residuals: tuple[Array, Array], grad: Array) -> tuple[Array]:
    times, spk = residuals
    steps = spk.shape[0]
    hits = jax.nn.one_hot(_time_index(times, steps), steps, dtype=jnp.int32, axis=1)  # [F, T, B, N]
    later = jnp.flip(jnp.cumsum(jnp.flip(hits, 0), axis=0), 0) - hits
    kept = (hits == 1) & (later == 0)
    return (-jnp.sum(jnp.where(kept, grad[:, None], 0), axis=0).astype(spk.dtype),)


_spike_times.defvjp(_spike_times_fwd, _spike_times_bwd)


def first_spike_time(spk: Array) -> Array:
    """First spike time ``[B, N]`` of spikes ``[T, B, N]`` (``T - 1`` where none), with snnTorch's gradient."""
    return _spike_times(spk, 1)[0]


def _spike_targets(value: Any, name: str, argument: str, multi_spike: bool) -> float | tuple[float, ...]:
    """A target time option: a real number, or a sequence of them with ``multi_spike``."""
    if not multi_spike:
        return _check_real(name, argument, value)
    if isinstance(value, numbers.Real):
        raise TypeError(f"{name}: with multi_spike=True, {argument} must be a sequence of spike times, got {value!r}.")
    values = to_numpy(value) if hasattr(value, "__array__") else np.asarray(value)
    if values.ndim != 1 or values.size == 0 or not np.issubdtype(values.dtype, np.number):
        raise TypeError(
            f"{name}: with multi_spike=True, {argument} must be a non-empty 1-D sequence of spike times, "
            f"got {value!r}."
        )
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class SpikeTime:
    """Spike times of outputs and target times of labels, as snnTorch's ``SpikeTime`` (used by the temporal losses).

    **Arguments:**

    - ``target_is_time``: the targets are spike times (``True``) or class labels.
    - ``on_target``, ``off_target``: with labels, the target time of the true
      class and of the others (``multi_spike``: sequences of one length ``F``,
      one time per spike). Built like snnTorch's ``targets_convert``: when
      ``on_target > off_target`` the wrong classes get ``max(0, off_target)``
      (so the defaults 0 / -1 target EVERY output at step 0, snnTorch's
      documented-default quirk; pass ``off_target=T - 1`` for "never"). Negative
      times then count from the end: ``-1`` is step ``T - 1``.
    - ``tolerance``: a spike time within ``tolerance`` (strictly) of its target
      is replaced by the target (no loss; the gradient still flows through).
    - ``multi_spike``: measure the first ``F`` spikes of each output, not only the first.

    **Call:** ``spike_time(spk, targets)`` with spikes ``spk`` ``[T, B, N]`` and
    either integer labels ``[B]`` or, with ``target_is_time``, target times that
    broadcast to ``[B, N]`` (``[F, B, N]`` with ``multi_spike``, ``F`` the first axis).

    **Returns:** ``(spike_times, target_times)``, float ``[B, N]`` (``[F, B, N]``
    with ``multi_spike``). A spike time is the first step with a nonzero spike
    ``s_t``, computed as ``s_t (t + 1) - 1`` (``t`` for 0/1 spikes), or ``T - 1``
    for an output that never spikes; with ``multi_spike``, snnTorch clears every
    output at the times found before seeking the next spike (kept). Its gradient
    is snnTorch's sign estimator: -1 with respect to the spike at that time.
    """

    target_is_time: bool = False
    on_target: Any = 0
    off_target: Any = -1
    tolerance: float = 0
    multi_spike: bool = False

    def __post_init__(self) -> None:
        name = "SpikeTime"
        _check_flag(name, "target_is_time", self.target_is_time)
        _check_flag(name, "multi_spike", self.multi_spike)
        if _check_real(name, "tolerance", self.tolerance) < 0:
            raise ValueError(f"{name}: tolerance must be >= 0 (in time steps), got {self.tolerance}.")
        on = _spike_targets(self.on_target, name, "on_target", self.multi_spike)
        off = _spike_targets(self.off_target, name, "off_target", self.multi_spike)
        if self.multi_spike and len(on) != len(off):
            raise ValueError(
                f"{name}: on_target (length {len(on)}) and off_target (length {len(off)}) must have one "
                f"length, one target time per spike."
            )
        object.__setattr__(self, "on_target", on)
        object.__setattr__(self, "off_target", off)

    def _label_times(self, labels: Array, outputs: int) -> Array:
        """Target times ``[B, N]`` (``[F, B, N]``) of class labels, before negative times wrap."""
        if not self.multi_spike:
            return _class_targets(labels, outputs, self.on_target, self.off_target)
        pairs = zip(self.on_target, self.off_target)
        return jnp.stack([_class_targets(labels, outputs, on, off) for on, off in pairs])

    def _compute(self, spk: Array, targets: Array) -> tuple[Array, Array]:
        """``__call__`` on checked spikes ``[T, B, N]`` and targets (labels ``[B]`` or times)."""
        steps, batch, outputs = spk.shape
        if self.target_is_time:
            count = targets.shape[0] if self.multi_spike and targets.ndim else 1
            shape = (count, batch, outputs) if self.multi_spike else (batch, outputs)
            target_times = _broadcastable("SpikeTime", "target times", targets, shape).astype(spk.dtype)
            target_times = jnp.broadcast_to(target_times, shape)
        else:
            target_times = self._label_times(targets, outputs)
            count = len(self.on_target) if self.multi_spike else 1
        target_times = jnp.where(target_times < 0, steps + target_times, target_times)
        times = _spike_times(spk, count)
        times = times if self.multi_spike else times[0]
        if self.tolerance:
            close = jnp.abs(times - target_times) < self.tolerance
            times = _straight_through(times, jnp.where(close, target_times, times))
        return times, target_times

    @recordable(torch_facing=True)
    def __call__(self, spk: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
        spk = _check_outputs("SpikeTime", spk)
        _, batch, outputs = spk.shape
        if self.target_is_time:
            targets = to_array(targets)
        else:
            targets = _check_targets("SpikeTime", targets, batch, outputs, tuple(spk.shape))
        return compiled(self, spk, targets)
