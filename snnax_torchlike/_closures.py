"""Looking inside Python closures, so functions that capture arrays can be compiled without baking them in."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from .imperative import Tensor
from .imperative.convert import is_foreign_array, to_array
from .nn.module import Module


def modules_used_by(fn: Callable[..., Any], args: tuple = (), kwargs: dict | None = None) -> list[Module]:
    """Facade modules passed as arguments, captured in ``fn``'s closure, or named as its globals."""
    found: list[Module] = []
    candidates = list(args) + list((kwargs or {}).values())
    candidates += [cell.cell_contents for cell in (getattr(fn, "__closure__", None) or ())]
    code = getattr(fn, "__code__", None)
    if code is not None:
        candidates += [fn.__globals__[name] for name in code.co_names if name in fn.__globals__]
    for candidate in candidates:
        if isinstance(candidate, Module) and all(candidate is not m for m in found):
            found.append(candidate)
    return found


def _is_array(value: Any) -> bool:
    return isinstance(value, (jax.Array, np.ndarray, Tensor))


def _static_key(value: Any) -> Any:
    """Plain immutable values key by value (a change recompiles, like a static argument); objects by identity."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return ("value", type(value), value)
    return ("object", id(value))


class SplitClosure:
    """A zero-argument function split into traced arrays and a static structure.

    ``dynamic``: the arrays it reads from its closure cells and from the globals it
    names. With ``convert_tensors``, arrays of other libraries (torch tensors) are
    among them, converted to JAX arrays, so a closure over each step's torch batch
    compiles once; without it they stay objects, compiled in as constants.
    ``key``: hashable, equal for calls that can share one compilation.
    ``rebuild(arrays)``: the same function reading ``arrays`` instead (e.g. tracers).
    """

    def __init__(self, fn: Callable[[], Any], convert_tensors: bool = True):
        code = fn.__code__
        self._fn = fn
        self._cells = [cell.cell_contents for cell in fn.__closure__ or ()]
        self._global_names = [name for name in code.co_names if name in fn.__globals__]
        self._global_values = [fn.__globals__[name] for name in self._global_names]
        self._convert_tensors = convert_tensors
        values = self._cells + self._global_values
        self.dynamic = tuple(
            to_array(v) if is_foreign_array(v) or isinstance(v, Tensor) else v for v in values if self._traced(v)
        )
        self.tensor_names = [
            name for name, value in zip(list(code.co_freevars) + self._global_names, values) if is_foreign_array(value)
        ]
        self.key = (
            code,
            fn.__defaults__,
            convert_tensors,
            tuple(self._key_of(v) for v in self._cells),
            tuple((n, self._key_of(v)) for n, v in zip(self._global_names, self._global_values)),
        )

    def _traced(self, value: Any) -> bool:
        return _is_array(value) or (self._convert_tensors and is_foreign_array(value))

    def _key_of(self, value: Any) -> Any:
        return "array" if self._traced(value) else _static_key(value)

    def rebuild(self, arrays: tuple[Any, ...]) -> Callable[[], Any]:
        replacements = iter(arrays)

        def replacement(original: Any) -> Any:
            # A facade tensor stays one (around the traced array), so its torch methods still work.
            array = next(replacements)
            return Tensor(array) if isinstance(original, Tensor) else array

        cells = tuple(types.CellType(replacement(v) if self._traced(v) else v) for v in self._cells)
        namespace = dict(self._fn.__globals__)
        for name, value in zip(self._global_names, self._global_values):
            if self._traced(value):
                namespace[name] = replacement(value)
        code = self._fn.__code__
        return types.FunctionType(code, namespace, code.co_name, self._fn.__defaults__, cells or None)


def split_closure(fn: Callable[[], Any], convert_tensors: bool = True) -> SplitClosure | None:
    """``SplitClosure(fn, convert_tensors)``, or None for callables that are not plain Python functions."""
    if not isinstance(fn, types.FunctionType):
        return None
    try:
        return SplitClosure(fn, convert_tensors)
    except ValueError:  # an empty closure cell: the function is not fully defined yet
        return None
