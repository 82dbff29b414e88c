"""The library's global PRNG stream, like ``torch.manual_seed`` (used where no key is passed)."""

from __future__ import annotations

import threading

import jax
from jaxtyping import PRNGKeyArray

__all__ = ["manual_seed", "next_key"]

_lock = threading.Lock()
_key: PRNGKeyArray | None = None
_seed = 0


def manual_seed(seed: int) -> None:
    """Reset the global key stream to ``seed`` (reproducible initialisation and encoding)."""
    global _key, _seed
    with _lock:
        _seed = int(seed)
        _key = jax.random.key(_seed)


def next_key() -> PRNGKeyArray:
    """A fresh key from the global stream; advances the stream."""
    global _key
    with _lock:
        if _key is None:
            _key = jax.random.key(_seed)
        _key, subkey = jax.random.split(_key)
        return subkey
