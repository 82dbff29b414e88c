"""Rate (Bernoulli) coding: ``rate`` and ``rate_conv``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from ..imperative import torch_facing
from ..random import next_key
from ._common import (
    as_float32,
    check_first_spike_time,
    check_int,
    check_key,
    check_real,
    optional_num_steps,
    refuse_nan,
)


def resolve_key(name: str, key: PRNGKeyArray | None) -> PRNGKeyArray:
    """``key``, checked, or the next key of the library stream when it is ``None``."""
    if key is None:
        return next_key()
    check_key(name, key)
    return key


def bernoulli(key: PRNGKeyArray, probability: Array) -> Array:
    """float32 0/1 draws, one per element, with probability ``clip(probability, 0, 1)``."""
    return jax.random.bernoulli(key, jnp.clip(probability, 0.0, 1.0)).astype(jnp.float32)


@torch_facing
def rate_conv(data: ArrayLike, *, key: PRNGKeyArray | None = None) -> Array:
    """One Bernoulli draw per element with probability ``clip(data, 0, 1)`` (snnTorch's ``rate_conv``).

    The clip is part of the encoding, as in snnTorch: values above 1 always
    spike, values below 0 never do.

    **Arguments:**

    - ``data``: probabilities of any shape (time-first when they vary in time).
    - ``key``: a PRNG key; ``None`` takes the next key of the library stream
      (``snnax_torchlike.random``, reset by ``manual_seed``).

    **Returns:** float32 spikes (0 or 1) of ``data``'s shape.

    **Raises:** ``TypeError`` for a bad ``key``.
    """
    data = as_float32(data, "rate_conv")
    refuse_nan("rate_conv", "data", data)
    return bernoulli(resolve_key("rate_conv", key), data)


@torch_facing
def rate(
    data: ArrayLike,
    num_steps: int | None = None,
    gain: float = 1.0,
    offset: float = 0.0,
    first_spike_time: int = 0,
    time_var_input: bool = False,
    *,
    key: PRNGKeyArray | None = None,
) -> Array:
    """Rate (Bernoulli) coding: at each step, each element spikes with probability ``p``.

    Static data (the default): ``p = clip(data * gain + offset, 0, 1)`` at each of
    ``num_steps`` steps, drawn independently, as snnTorch's ``rate``. The clip is
    part of the encoding, not an error path: an intensity above 1 means "spike at
    every step" and one below 0 "never spike", exactly as in snnTorch. The first
    ``first_spike_time`` steps are silent.

    Time-varying data (``time_var_input=True``): ``data`` is already time-first
    ``[T, ...]``; each element spikes with probability ``clip(data, 0, 1)`` and
    ``first_spike_time`` silent steps are prepended, giving ``T + first_spike_time``
    steps. snnTorch ignores ``gain`` and ``offset`` here; this function refuses
    them instead (scale the data first).

    **Arguments:**

    - ``data``: intensities of any shape, e.g. ``[B, 784]`` (any array-like), or
      time-first ``[T, ...]`` with ``time_var_input``.
    - ``num_steps``: the number of time steps ``T`` (static, >= 1); required for
      static data, not given for time-varying data (snnTorch's default ``False``
      counts as not given).
    - ``gain``, ``offset``: the affine map applied before clipping (static data).
    - ``first_spike_time``: the number of silent steps at the start (>= 0; at most
      ``num_steps - 1`` for static data).
    - ``time_var_input``: whether ``data`` is time-first and time-varying.
    - ``key``: a PRNG key. With ``None``, the next key of the library stream
      (``snnax_torchlike.random``, reset by ``manual_seed``), so two calls give
      different spikes. Inside ``jax.jit`` pass a key explicitly (see ``next_key``).

    **Returns:** float32 spikes (0 or 1): ``[num_steps, *data.shape]`` for static
    data, ``[first_spike_time + T, ...]`` for time-varying data.

    **Raises:** ``ValueError``/``TypeError`` for a bad ``num_steps``, ``gain``,
    ``offset``, ``first_spike_time`` or ``key``, for ``num_steps`` missing with
    static data or given with time-varying data, and for ``gain``/``offset`` with
    time-varying data.
    """
    steps = optional_num_steps("rate", num_steps)
    gain = check_real("rate", "gain", gain)
    offset = check_real("rate", "offset", offset)
    if time_var_input:
        return _time_varying(data, steps, gain, offset, first_spike_time, key)
    if steps is None:
        raise ValueError(
            "spikegen.rate: num_steps must be given for static data; for time-first data that already "
            "varies in time, pass time_var_input=True."
        )
    first = check_first_spike_time("rate", first_spike_time, steps)
    data = as_float32(data, "rate")
    refuse_nan("rate", "data", data)
    key = resolve_key("rate", key)
    probability = data * gain + offset
    # Drawn over the broadcast probabilities: the same draws as a shape argument, and the same compiled
    # sampler as time-varying data of that shape.
    spikes = bernoulli(key, jnp.broadcast_to(probability, (steps,) + probability.shape))
    if first > 0:
        spikes = spikes.at[:first].set(0.0)
    return spikes


def _time_varying(
    data: ArrayLike, steps: int | None, gain: float, offset: float, first_spike_time: Any, key: Any
) -> Array:
    """``rate`` on time-first data: a draw per element, after ``first_spike_time`` silent steps."""
    if steps is not None:
        raise ValueError(
            f"spikegen.rate: with time_var_input=True the data's time axis sets the steps; "
            f"do not pass num_steps (got {steps})."
        )
    if gain != 1.0 or offset != 0.0:
        raise ValueError(
            f"spikegen.rate: gain and offset apply to static data only (snnTorch ignores them with "
            f"time_var_input=True); got gain={gain}, offset={offset}. Scale the data before encoding."
        )
    first = check_int("rate", "first_spike_time", first_spike_time)
    if first < 0:
        raise ValueError(f"spikegen.rate: first_spike_time must be >= 0, got {first}.")
    data = as_float32(data, "rate")
    refuse_nan("rate", "data", data)
    if data.ndim < 1:
        raise ValueError(f"spikegen.rate: time-varying data must be time-first [T, ...], got shape {data.shape}.")
    spikes = bernoulli(resolve_key("rate", key), data)
    if first > 0:
        spikes = jnp.concatenate([jnp.zeros((first,) + data.shape[1:], jnp.float32), spikes])
    return spikes
