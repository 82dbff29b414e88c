"""``snx.compile``: jit a Python function that uses facade modules."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax

from ._closures import modules_used_by
from .imperative import pure_scope
from .imperative.convert import is_foreign_array, to_array
from .nn.time_loop import run_captured
from .random import key_scope, next_key

__all__ = ["compile"]


def compile(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Compile ``fn`` with ``jax.jit``, reading facade modules' *current* parameters at each call.

    Every ``nn.Module`` that ``fn`` receives as an argument, captures in its
    closure or names as a global is passed into the compiled function as its
    arrays (not baked in as constants), so after training the same compiled
    function sees the new weights without recompiling. Other array arguments
    (JAX, numpy, torch tensors) are traced; everything else is static (a new value recompiles). Randomness
    (dropout) comes from a fresh ``snnax_torchlike.random`` key per call. Hidden
    state of neurons (``init_hidden=True``) enters as an argument and the state
    after the call is written back, so a compiled per-step function can be called
    in a loop.

    ``fn`` must not assign parameters (do updates with an optimizer outside).

    ```python
    @snx.compile
    def infer(x):
        spk, _ = net(x)
        return spk.sum(0).argmax(-1)
    ```
    """

    @eqx.filter_jit
    def run(states: list[dict[str, Any]], hidden: list[dict[str, Any]], key: Any, args: tuple, kwargs: dict) -> Any:
        modules = modules_used_by(fn, args, kwargs)
        with contextlib.ExitStack() as stack:
            for module, arrays, states_in in zip(modules, states, hidden, strict=True):
                stack.enter_context(module.bind(arrays))
                module.set_hidden(states_in)  # hidden state enters as arguments, never as constants
            stack.enter_context(key_scope(key))
            stack.enter_context(pure_scope())
            result = run_captured(lambda: fn(*args, **kwargs), modules)
            return result, [dict(module.named_hidden()) for module in modules]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        modules = modules_used_by(fn, args, kwargs)
        # Torch tensors are traced like JAX arrays (as static arguments they would recompile per value).
        args, kwargs = jax.tree_util.tree_map(lambda v: to_array(v) if is_foreign_array(v) else v, (args, kwargs))
        states = [dict(module.named_arrays()) for module in modules]
        hidden = [dict(module.named_hidden()) for module in modules]
        result, hidden = run(states, hidden, next_key(), args, kwargs)
        for module, states_out in zip(modules, hidden):
            module.set_hidden(states_out)
        return result

    return wrapper
