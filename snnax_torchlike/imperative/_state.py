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
    capturing: bool = False
    capture_loops: bool = True


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


def is_capturing() -> bool:
    """Whether a traced function is being captured: operations are recorded although their inputs are traced.

    See ``capturing_scope``; a nested ``pure_scope`` (a recorded program being replayed) runs at once again.
    """
    return _SWITCHES.capturing


def loops_captured() -> bool:
    """Whether traced functions capture their Python loops (see `capture_loops`)."""
    return _SWITCHES.capture_loops


class capture_loops:
    """Turn loop capture in the library's traced functions on or off, as a context manager or a function.

    ``fit``/``evaluate``/``predict``, ``optimizer.step(closure)`` and
    ``snx.compile`` record a network's Python ``forward`` while tracing it, so a
    loop over time steps compiles as one ``lax.scan`` instead of ``T`` copies of
    the network (compile time flat in ``T``; same outputs and gradients). This is
    on by default. ``capture_loops(False)`` traces ``forward`` as plain code, which
    unrolls its loops. The switch is read when a function is traced: a step
    already compiled keeps how it was compiled.

    ```python
    with snx.imperative.capture_loops(False):
        net.fit(loader, epochs=1)   # traced with its loop unrolled
    snx.imperative.capture_loops(False)  # as a call: from now on
    ```
    """

    def __init__(self, enabled: bool):
        self._saved = _SWITCHES.capture_loops
        _SWITCHES.capture_loops = bool(enabled)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _SWITCHES.capture_loops = self._saved


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
    capturing = _SWITCHES.capturing
    _SWITCHES.pure_depth += 1
    _SWITCHES.differentiated_depth += int(differentiated)
    _SWITCHES.capturing = False
    try:
        yield
    finally:
        _SWITCHES.pure_depth -= 1
        _SWITCHES.differentiated_depth -= int(differentiated)
        _SWITCHES.capturing = capturing


@contextlib.contextmanager
def capturing_scope() -> Iterator[None]:
    """Record operations inside a pure scope, with traced values as the recording's leaves (see ``_capture``)."""
    if _SWITCHES.pure_depth == 0:
        raise RuntimeError("capturing_scope: only inside a pure scope (a traced function of the library).")
    capturing = _SWITCHES.capturing
    _SWITCHES.capturing = True
    try:
        yield
    finally:
        _SWITCHES.capturing = capturing


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
