"""A probe: one mistake a user or an operator can make, and the outcome it must get.

Each probe is a function registered with :func:`probe`. It either

- makes the mistake and lets the library raise (``raises=`` names the error
  types that count as an answer, ``says=`` the words its message must hold:
  what broke and what to do), or
- does something that must work, or must leave things as they were after an
  error, and returns whether it did (``raises=None``).

:func:`outcome` classifies a run as one of :data:`OUTCOMES`; ``clear`` and
``correct`` are the two good ones.
"""

from __future__ import annotations

import re
import signal
import traceback
from dataclasses import dataclass
from typing import Callable

OUTCOMES = ("clear", "correct", "unclear", "silent-wrong", "data-loss", "crash", "hang")
GOOD_OUTCOMES = ("clear", "correct")
CATEGORIES = (
    "bad input",
    "API misuse",
    "checkpoints and faults",
    "NIR files",
    "data parallelism",
    "imperative API",
)

# Modules whose frames, when they raise, mean the error came from inside JAX or
# another dependency rather than from a check of this library.
_FOREIGN_ORIGINS = ("jax/", "jaxlib/", "equinox/", "optax/", "numpy/", "safetensors/", "h5py/", "nir/")


@dataclass(frozen=True)
class Probe:
    """One registered probe.

    **Arguments:**

    - `category`: one of :data:`CATEGORIES`.
    - `name`: the function's name, which says what the probe does.
    - `run`: the probe; raises, or returns a truthy value when all was right.
    - `raises`: the error types that count as the library's answer, or `None`
      for a probe that must return a truthy value.
    - `says`: case-insensitive regular expressions the error message must all
      match.
    - `on_false`: the outcome when a `raises=None` probe returns a falsy value
      (`"silent-wrong"`, or `"data-loss"` for a probe that checks nothing was
      changed or lost).
    """

    category: str
    name: str
    run: Callable[[], object]
    raises: tuple[type[BaseException], ...] | None
    says: tuple[str, ...]
    on_false: str


PROBES: list[Probe] = []


def probe(
    category: str,
    *,
    raises: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    says: tuple[str, ...] | str = (),
    on_false: str = "silent-wrong",
) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Register the decorated function as a probe of `category` (see :class:`Probe`)."""
    if category not in CATEGORIES:
        raise ValueError(f"probe: unknown category {category!r}; expected one of {CATEGORIES}")
    if on_false not in ("silent-wrong", "data-loss"):
        raise ValueError(f"probe: on_false must be 'silent-wrong' or 'data-loss', got {on_false!r}")
    if isinstance(raises, type):
        raises = (raises,)
    if isinstance(says, str):
        says = (says,)

    def register(function: Callable[[], object]) -> Callable[[], object]:
        name = function.__name__
        if any(existing.name == name for existing in PROBES):
            raise ValueError(f"probe: the name {name!r} is registered twice")
        PROBES.append(Probe(category, name, function, raises, tuple(says), on_false))
        return function

    return register


class _Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise _Hang()


def _raised_inside_dependency(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return False
    origin = frames[-1].filename.replace("\\", "/")
    return any(part in origin for part in _FOREIGN_ORIGINS) and "snnax_torchlike" not in origin


def outcome(p: Probe, timeout_s: int = 120) -> tuple[str, str]:
    """Run `p` and classify it.

    **Returns:** `(outcome, detail)`: one of :data:`OUTCOMES`, and the error's
    first line or the reason for the classification.
    """
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s)
    try:
        result = p.run()
    except _Hang:
        return "hang", f"no answer within {timeout_s} s"
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        first_line = message.splitlines()[0][:300]
        if p.raises is None:
            return "unclear", f"expected to run, raised {first_line}"
        if not isinstance(error, p.raises):
            expected = "/".join(t.__name__ for t in p.raises)
            return "unclear", f"expected {expected}, got {first_line}"
        if _raised_inside_dependency(error):
            return "unclear", f"raised inside a dependency: {first_line}"
        missing = [pattern for pattern in p.says if not re.search(pattern, str(error), re.IGNORECASE | re.DOTALL)]
        if missing:
            return "unclear", f"message lacks {missing}: {first_line}"
        return "clear", first_line
    except BaseException as error:  # SystemExit, KeyboardInterrupt and their kind end a user's program
        return "crash", f"{type(error).__name__}: {error}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if p.raises is not None:
        expected = "/".join(t.__name__ for t in p.raises)
        return "silent-wrong", f"ran without the expected {expected} (returned {result!r:.100})"
    if not result:
        return p.on_false, f"returned {result!r:.100}"
    return "correct", "ran as it should"
