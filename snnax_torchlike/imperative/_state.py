"""Process-wide switches of the imperative layer: gradient recording and pure (traced) scopes."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


class _Switches:
    grad_enabled: bool = True
    pure_depth: int = 0
    differentiated_depth: int = 0


_SWITCHES = _Switches()


def is_grad_enabled() -> bool:
    """Whether operations are recorded for ``backward()``, like ``torch.is_grad_enabled()``.

    False inside ``snnax_torchlike.no_grad()``, and also inside ``torch.no_grad()``
    when the script has imported torch itself (torch is never imported here).
    """
    if not _SWITCHES.grad_enabled:
        return False
    torch = sys.modules.get("torch")
    is_enabled = getattr(torch, "is_grad_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


def in_pure_scope() -> bool:
    """Whether code runs inside one of the library's traced functions (``fit``'s step, a closure step, replay).

    There, tensors hold tracers and every operation runs at once; nothing is recorded.
    """
    return _SWITCHES.pure_depth > 0


def in_differentiated_scope() -> bool:
    """Whether the innermost traced function differentiates what it runs itself (a closure step, ``fit``'s step).

    There, ``loss.backward()`` has nothing left to do.
    """
    return _SWITCHES.differentiated_depth > 0


@contextlib.contextmanager
def pure_scope(*, differentiated: bool = False) -> Iterator[None]:
    """Run operations immediately (on tracers), as the library's jitted functions need.

    ``differentiated``: the caller takes the gradient of the result itself (see
    ``in_differentiated_scope``).
    """
    _SWITCHES.pure_depth += 1
    _SWITCHES.differentiated_depth += int(differentiated)
    try:
        yield
    finally:
        _SWITCHES.pure_depth -= 1
        _SWITCHES.differentiated_depth -= int(differentiated)


class set_grad_enabled:
    """Turn gradient recording on or off, as a context manager or a function decorator (``torch.set_grad_enabled``)."""

    def __init__(self, mode: bool):
        self._mode = bool(mode)
        self._saved: list[bool] = []

    def __enter__(self) -> None:
        self._saved.append(_SWITCHES.grad_enabled)
        _SWITCHES.grad_enabled = self._mode

    def __exit__(self, *exc: Any) -> None:
        _SWITCHES.grad_enabled = self._saved.pop()

    def __call__(self, fn: _F) -> _F:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):  # a fresh context per call: calls may nest or recurse
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(set_grad_enabled):
    """Stop recording for ``backward()``, like ``torch.no_grad()``: ``with snx.no_grad(): ...`` or ``@snx.no_grad()``."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record for ``backward()`` again inside a ``no_grad`` block, like ``torch.enable_grad()``."""

    def __init__(self) -> None:
        super().__init__(True)
