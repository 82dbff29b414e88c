"""Spike encoders with snnTorch's names and formulas; outputs are time-first ``[T, ...]``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .nn.module import to_array
from .random import next_key

__all__ = ["rate", "latency", "delta"]


def rate(
    data: Any, num_steps: int, *, gain: float = 1.0, offset: float = 0.0, key: PRNGKeyArray | None = None
) -> Array:
    """Rate (Bernoulli) coding: each step spikes with probability ``clip(data * gain + offset, 0, 1)``.

    **Arguments:** ``data``: intensities of any shape, e.g. ``[B, 64]``;
    ``num_steps``: ``T``; ``gain``, ``offset``: as snnTorch; ``key``: PRNG key
    (default: the next key of ``snnax_torchlike.random``).

    **Returns:** float32 spikes ``[T, *data.shape]``, independent over steps.

    The clip to [0, 1] is the encoding's definition (as in snnTorch): an intensity
    of 1.5 means "spike at every step", not an error.
    """
    data = to_array(data)
    if int(num_steps) < 1:
        raise ValueError(f"spikegen.rate: num_steps must be >= 1, got {num_steps}.")
    probability = jnp.clip(data * gain + offset, 0.0, 1.0)
    key = next_key() if key is None else key
    return jax.random.bernoulli(key, probability, (int(num_steps),) + probability.shape).astype(jnp.float32)


def latency(
    data: Any,
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

    Spike time: logarithmic ``tau * ln(x / (x - threshold))`` with
    ``x = max(data, threshold + epsilon)``, or with ``linear``
    ``min(-tau (data - 1), -tau (threshold - 1))``; plus ``first_spike_time``;
    ``normalize`` stretches the times over ``num_steps``. The spike lands at
    ``round(time)`` (clamped to ``T - 1``); with ``clip``, elements below
    ``threshold`` do not spike. ``data`` must lie in [0, 1].

    **Returns:** ``[T, *data.shape]``: ``max(spike * on_target, off_target)``.
    """
    data = to_array(data).astype(jnp.float32)
    low, high = float(jnp.min(data)), float(jnp.max(data))
    if low < 0 or high > 1:
        raise ValueError(f"spikegen.latency: data must lie in [0, 1], got values in [{low}, {high}].")
    if not 0 <= threshold <= 1:
        raise ValueError(f"spikegen.latency: threshold must lie in [0, 1], got {threshold}.")
    if normalize and num_steps - first_spike_time - 1 <= 0:
        raise ValueError("spikegen.latency: normalize needs num_steps > first_spike_time + 1.")
    if linear:
        if normalize:
            tau = num_steps - 1 - first_spike_time
        times = jnp.minimum(-tau * (data - 1), -tau * (threshold - 1)) + first_spike_time
        if normalize and float(jnp.min(times)) < 0:
            times = (times - jnp.min(times)) * (1 / (jnp.max(times) - jnp.min(times))) * (num_steps - 1)
    else:
        saturated = jnp.maximum(data, threshold + epsilon)
        times = tau * jnp.log(saturated / (saturated - threshold))
        if first_spike_time > 0:
            times = times + first_spike_time
        if normalize:
            times = (times - first_spike_time) * (num_steps - first_spike_time - 1) / jnp.max(
                times - first_spike_time
            ) + first_spike_time
    last = int(jnp.round(jnp.max(times)))
    if last > num_steps - 1:
        raise ValueError(
            f"spikegen.latency: the latest spike time {last} is beyond num_steps - 1 = {num_steps - 1}; "
            "decrease tau or pass normalize=True."
        )
    steps = jnp.round(jnp.minimum(times, num_steps - 1)).astype(jnp.int32)
    spikes = (jnp.arange(num_steps).reshape((-1,) + (1,) * data.ndim) == steps[None]).astype(jnp.float32)
    if clip:
        spikes = spikes * (data >= threshold)
    return jnp.maximum(spikes * on_target, off_target)


def delta(data: Any, *, threshold: float = 0.1, padding: bool = False, off_spike: bool = False) -> Array:
    """Delta modulation of time-first ``data`` ``[T, ...]``: a spike where the value rose by ``threshold``.

    ``+1`` where ``x[t] - x[t-1] >= threshold`` (``x[-1]`` is 0, or ``x[0]`` with
    ``padding``); with ``off_spike`` also ``-1`` where it fell by ``threshold``.
    **Returns:** an array of ``data``'s shape.
    """
    data = to_array(data)
    if data.ndim < 1:
        raise ValueError("spikegen.delta: data must be time-first [T, ...], got a scalar.")
    first = data[:1] if padding else jnp.zeros_like(data[:1])
    previous = jnp.concatenate([first, data[:-1]], axis=0)
    change = data - previous
    spikes = (change >= threshold).astype(data.dtype)
    if off_spike:
        spikes = spikes - (change <= -threshold).astype(data.dtype)
    return spikes
