"""The library's PRNG stream, like ``torch.manual_seed``: keys for code that is given none.

Eagerly, ``next_key()`` draws from a global stream that ``manual_seed`` resets.
Inside a compiled step, where a global stream would freeze into a constant, the
trainer opens ``key_scope(step_key)`` with a fresh key passed *into* the step, and
``next_key()`` splits that key instead: dropout masks differ at every step
without recompiling.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

__all__ = ["manual_seed", "next_key", "key_scope", "get_rng_state", "set_rng_state"]

_lock = threading.Lock()
_key: PRNGKeyArray | None = None
_seed = 0
_scopes = threading.local()


def manual_seed(seed: int) -> None:
    """Reset the global key stream to ``seed`` (reproducible initialisation, encoding, dropout)."""
    global _key, _seed
    with _lock:
        _seed = int(seed)
        _key = jax.random.key(_seed)


def _scope_stack() -> list[PRNGKeyArray]:
    if not hasattr(_scopes, "stack"):
        _scopes.stack = []
    return _scopes.stack


def next_key() -> PRNGKeyArray:
    """A fresh key: split from the innermost ``key_scope`` if one is open, else the global stream."""
    global _key
    stack = _scope_stack()
    if stack:
        stack[-1], subkey = jax.random.split(stack[-1])
        return subkey
    with _lock:
        if _key is None:
            _key = jax.random.key(_seed)
        _key, subkey = jax.random.split(_key)
        return subkey


@contextlib.contextmanager
def key_scope(key: PRNGKeyArray) -> Iterator[None]:
    """Within the block, ``next_key()`` derives every key from ``key`` (e.g. a traced step key)."""
    stack = _scope_stack()
    stack.append(key)
    try:
        yield
    finally:
        stack.pop()


def get_rng_state() -> np.ndarray:
    """The global stream's position as raw key data (for checkpoints)."""
    with _lock:
        key = jax.random.key(_seed) if _key is None else _key
        return np.asarray(jax.random.key_data(key))


def set_rng_state(state: np.ndarray) -> None:
    """Continue the global stream from a position returned by ``get_rng_state``."""
    global _key
    with _lock:
        _key = jax.random.wrap_key_data(jnp.asarray(state, dtype=jnp.uint32))
