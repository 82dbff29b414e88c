"""``snx.compile``: jit a Python function that uses facade modules."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

import equinox as eqx

from ._closures import modules_used_by
from .random import key_scope, next_key

__all__ = ["compile"]


def compile(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Compile ``fn`` with ``jax.jit``, reading facade modules' *current* parameters at each call.

    Every ``nn.Module`` that ``fn`` receives as an argument, captures in its
    closure or names as a global is passed into the compiled function as its
    arrays (not baked in as constants), so after training the same compiled
    function sees the new weights without recompiling. Other array arguments are
    traced; everything else is static (a new value recompiles). Randomness
    (dropout) comes from a fresh ``snnax_torchlike.random`` key per call.

    ``fn`` must not assign parameters (do updates with an optimizer outside).

    ```python
    @snx.compile
    def infer(x):
        spk, _ = net(x)
        return spk.sum(0).argmax(-1)
    ```
    """

    @eqx.filter_jit
    def run(states: list[dict[str, Any]], key: Any, args: tuple, kwargs: dict) -> Any:
        modules = modules_used_by(fn, args, kwargs)
        with contextlib.ExitStack() as stack:
            for module, arrays in zip(modules, states, strict=True):
                stack.enter_context(module.bind(arrays))
            stack.enter_context(key_scope(key))
            return fn(*args, **kwargs)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        states = [dict(module.named_arrays()) for module in modules_used_by(fn, args, kwargs)]
        return run(states, next_key(), args, kwargs)

    return wrapper
