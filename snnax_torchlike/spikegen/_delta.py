"""Delta modulation: spikes where a time-first signal changes by a threshold."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from ..imperative import torch_facing
from ..nn.module import to_array
from ._common import refuse_nan


@torch_facing
def delta(data: ArrayLike, threshold: float = 0.1, padding: bool = False, off_spike: bool = False) -> Array:
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

    **Raises:** ``ValueError`` for a scalar or an empty time axis, or NaN in the data
    (when it is concrete: not checked under ``jax.jit``).
    """
    data = to_array(data)
    if data.ndim < 1 or data.shape[0] < 1:
        raise ValueError(f"spikegen.delta: expected time-first data [T, ...] with T >= 1, got shape {data.shape}.")
    refuse_nan("delta", "data", data)
    first = data[:1] if padding else jnp.zeros_like(data[:1])
    change = data - jnp.concatenate([first, data[:-1]], axis=0)
    spikes = (change >= threshold).astype(jnp.float32)
    if off_spike:
        spikes = spikes - (change <= -threshold).astype(jnp.float32)
    return spikes
