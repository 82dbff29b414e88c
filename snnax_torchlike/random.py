"""The library's PRNG stream, like ``torch.manual_seed``: keys for code that is given none.

JAX has no hidden random state: every random function takes a key. This module
keeps one library-global key so that code written PyTorch-style (``Linear(...)``,
``spikegen.rate(x, 25)``, dropout) still works without threading keys by hand:

- ``manual_seed(seed)`` resets the global key (default seed: 0);
- ``next_key()`` returns a fresh subkey and advances the global key;
- ``key_scope(key)``: within the block, ``next_key()`` splits ``key`` instead of the
  global stream. The trainer opens one with a fresh key passed *into* each compiled
  step, so dropout masks and encoders differ at every step without recompiling.

Every function taking ``key=None`` falls back to ``next_key()``; passing a key
explicitly is always reproducible and never touches the global stream.
"""

from __future__ import annotations

import contextlib
import operator
import threading
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

__all__ = ["manual_seed", "next_key", "key_scope", "get_rng_state", "set_rng_state"]

_DEFAULT_SEED = 0
_SEED_LOW, _SEED_HIGH = -(2**63), 2**64  # torch.manual_seed's accepted range [low, high)

_lock = threading.Lock()
_key: PRNGKeyArray | None = None  # created lazily, so importing the library does not start JAX
_seed = _DEFAULT_SEED
_scopes = threading.local()


def _key_from_seed(seed: int) -> PRNGKeyArray:
    """A key for a 64-bit seed in which seeds that differ only in their high bits stay different.

    ``jax.random.key`` keeps only the low 32 bits of a seed unless x64 is enabled, so
    ``key(2**32) == key(0)``. Here the low 32 bits make the key (equal to
    ``jax.random.key(seed)`` for ``0 <= seed < 2**32``) and the high bits, when
    non-zero, are folded in.
    """
    value = seed % 2**64  # two's complement for negative seeds, as torch
    key = jax.random.key(np.uint32(value & 0xFFFFFFFF))
    high = value >> 32
    return key if high == 0 else jax.random.fold_in(key, np.uint32(high))


def manual_seed(seed: int) -> None:
    """Reset the global key stream, like ``torch.manual_seed``.

    **Arguments:**

    - ``seed``: an integer in ``[-2**63, 2**64)`` (torch's range). Seeds in
      ``[0, 2**32)`` give the stream of ``jax.random.key(seed)``.

    **Returns:** ``None``. The next ``next_key()`` calls are reproducible.

    **Raises:** ``TypeError`` for a non-integer seed (``bool`` included),
    ``ValueError`` for one outside the range.
    """
    global _key, _seed
    if isinstance(seed, bool | np.bool_):
        raise TypeError(f"manual_seed: expected an integer seed, got the bool {seed!r}.")
    try:
        value = operator.index(seed)
    except TypeError:
        raise TypeError(f"manual_seed: expected an integer seed, got {type(seed).__name__} {seed!r}.") from None
    if not _SEED_LOW <= value < _SEED_HIGH:
        raise ValueError(f"manual_seed: seed must lie in [-2**63, 2**64), got {value}.")
    key = _key_from_seed(value)
    with _lock:
        _seed, _key = value, key


def _scope_stack() -> list[PRNGKeyArray]:
    """This thread's stack of open ``key_scope`` keys (innermost last)."""
    if not hasattr(_scopes, "stack"):
        _scopes.stack = []
    return _scopes.stack


def next_key() -> PRNGKeyArray:
    """A fresh PRNG key.

    Splits the innermost open ``key_scope`` key if there is one (per thread), else
    the global stream, which it advances under a lock (safe to call from several
    threads; each caller gets a distinct key).

    **Returns:** a new-style typed key (shape ``()``).

    Inside ``jax.jit`` with no ``key_scope`` open, the key is drawn once, while
    tracing, and becomes a constant of the compiled function: every call then sees
    the same key. Pass keys explicitly (or open a ``key_scope`` with a traced key)
    inside compiled code.
    """
    global _key
    stack = _scope_stack()
    if stack:
        stack[-1], subkey = jax.random.split(stack[-1])
        return subkey
    with _lock:
        if _key is None:
            _key = _key_from_seed(_seed)
        _key, subkey = jax.random.split(_key)
        return subkey


@contextlib.contextmanager
def key_scope(key: PRNGKeyArray) -> Iterator[None]:
    """Within the block, ``next_key()`` derives every key from ``key`` (e.g. a traced step key).

    **Arguments:**

    - ``key``: a PRNG key; it may be a tracer inside ``jax.jit``.

    Scopes nest and are per thread; the global stream is not advanced inside one.
    """
    stack = _scope_stack()
    stack.append(key)
    try:
        yield
    finally:
        stack.pop()


def get_rng_state() -> np.ndarray:
    """The global stream's position as raw key data (for checkpoints).

    **Returns:** a ``uint32`` numpy array (``[2]`` for JAX's default threefry keys).
    """
    with _lock:
        key = _key_from_seed(_seed) if _key is None else _key
        return np.asarray(jax.random.key_data(key))


def set_rng_state(state: np.ndarray) -> None:
    """Continue the global stream from a position returned by ``get_rng_state``.

    **Arguments:**

    - ``state``: raw key data as returned by ``get_rng_state``.
    """
    global _key
    key = jax.random.wrap_key_data(jnp.asarray(state, dtype=jnp.uint32))
    with _lock:
        _key = key
