"""JAX's persistent compilation cache, on by default: a second run of a script compiles nothing.

Every compiled step (``fit``'s, ``evaluate``'s, a ``snx.compile`` function's, the
replayed imperative steps) is written to a per-user folder the first time XLA
compiles it, keyed by JAX on the program, its shapes, the devices and the JAX
version; the next process that needs the same program loads it instead of
compiling it. The Python tracing still runs; XLA's compilation, most of the
time before the first step, does not.

The folder is ``$SNNAX_COMPILATION_CACHE`` when that names a folder, else
``$XDG_CACHE_HOME/snnax_torchlike/jax`` (``~/.cache/snnax_torchlike/jax``).
``SNNAX_COMPILATION_CACHE=0`` (or ``off``) turns it off, as does
``compilation_cache.disable()``; a folder you gave JAX yourself
(``JAX_COMPILATION_CACHE_DIR`` or ``jax.config.update("jax_compilation_cache_dir",
...)``) is left as it is. Once the folder holds more than ``max_size_bytes``
(default 2 GiB), JAX evicts the least recently used entries.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import jax

__all__ = ["enable", "disable", "folder", "DEFAULT_MAX_SIZE_BYTES"]

DEFAULT_MAX_SIZE_BYTES = 2 * 1024**3
"""The size the cache folder is kept under, by default (least recently used entries go first)."""

_ENVIRONMENT = "SNNAX_COMPILATION_CACHE"
_OFF = ("0", "off", "false", "no")


def _default_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "snnax_torchlike" / "jax"


def enable(path: str | os.PathLike | None = None, *, max_size_bytes: int = DEFAULT_MAX_SIZE_BYTES) -> Path:
    """Cache every compiled program in ``path`` (default: the per-user folder) from now on.

    **Arguments:**

    - ``path``: the cache folder, created if missing.
    - ``max_size_bytes``: the size JAX keeps the folder under, evicting the least
      recently used entries; ``-1`` for no limit.

    **Returns:** the folder.

    **Raises:** ``OSError`` when the folder cannot be created; ``ValueError`` for
    a ``max_size_bytes`` that is neither ``-1`` nor positive.
    """
    if (
        isinstance(max_size_bytes, bool)
        or not isinstance(max_size_bytes, int)
        or not (max_size_bytes == -1 or max_size_bytes > 0)
    ):
        raise ValueError(f"compilation_cache.enable: max_size_bytes must be -1 or > 0, got {max_size_bytes!r}.")
    target = Path(path) if path is not None else _default_folder()
    target.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(target))
    # Every program, however quick to compile: a script's many small steps add up to most of its start.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    jax.config.update("jax_compilation_cache_max_size", max_size_bytes)
    return target


def disable() -> None:
    """Stop reading and writing the persistent cache (programs compiled so far stay in memory)."""
    jax.config.update("jax_compilation_cache_dir", None)


def folder() -> Path | None:
    """The folder programs are cached in now, or None when the persistent cache is off."""
    current = jax.config.jax_compilation_cache_dir
    return None if current is None else Path(current)


def enable_by_default() -> None:
    """What ``import snnax_torchlike`` does: the folder ``SNNAX_COMPILATION_CACHE`` names, the default one, or none.

    A folder already given to JAX is kept; a default folder that cannot be
    created warns and leaves the cache off rather than failing the import.
    """
    if folder() is not None:
        return
    setting = os.environ.get(_ENVIRONMENT, "").strip()
    if setting.lower() in _OFF:
        return
    try:
        enable(setting or None)
    except OSError as error:
        warnings.warn(
            f"snnax_torchlike: the persistent compilation cache is off: cannot create its folder ({error}). Set "
            f"{_ENVIRONMENT} to a writable folder, or to 0 to silence this.",
            RuntimeWarning,
            stacklevel=2,
        )
