"""Plain functions (snnTorch's losses, accuracy, encoders) on tensors: recorded calls and facade results."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import jax
import numpy as np

from ._state import in_pure_scope, is_capturing
from .convert import is_foreign_array
from .tensor import Tensor, apply

_F = TypeVar("_F", bound=Callable[..., Any])
_FNS: dict[Any, Callable[..., Any]] = {}


def _pending_or_differentiable(value: Any) -> bool:
    return isinstance(value, Tensor) and (
        value._value is None or (value._node is not None and value._node.requires_grad)
    )


def _is_array(value: Any) -> bool:
    return isinstance(value, (Tensor, jax.Array, np.ndarray)) or is_foreign_array(value)


def _static(value: Any) -> Any:
    """A hashable stand-in for a non-array argument: itself when hashable, else its identity."""
    try:
        hash(value)
        return ("value", value)
    except TypeError:
        return ("object", id(value))


def _facade_or_torch(value: Any) -> bool:
    return isinstance(value, Tensor) or getattr(type(value), "_is_parameter", False) or is_foreign_array(value)


def _as_tensor(leaf: Any) -> Any:
    if isinstance(leaf, jax.Array) and not isinstance(leaf, jax.core.Tracer):
        return Tensor(leaf)
    return leaf


def _torch_facing(fn: _F, always: bool) -> _F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        if in_pure_scope():
            return result
        if not always:
            leaves = jax.tree_util.tree_leaves((args, kwargs), is_leaf=lambda x: isinstance(x, Tensor))
            if not any(_facade_or_torch(leaf) for leaf in leaves):
                return result
        return jax.tree_util.tree_map(_as_tensor, result, is_leaf=lambda x: isinstance(x, Tensor))

    return wrapper  # type: ignore[return-value]


def torch_facing(fn: _F | None = None, *, always: bool = False) -> Any:
    """Make ``fn`` return facade ``Tensor`` s when an argument is a torch or facade tensor (or a parameter).

    snnTorch code combines a function's result with its torch tensors
    (``torch.eq(spikegen.delta(x), expected)``, ``loss * weight[targets]``); a
    facade ``Tensor`` takes part in torch's functions and operators
    (``__torch_function__``), a bare JAX array does not. Called on JAX or numpy
    arrays, under ``jit``/``grad``/``vmap`` or inside the library's traced
    functions, ``fn`` returns what it returns.

    **Arguments:**

    - ``fn``: the function (or method) to wrap; omitted, ``torch_facing(always=...)``
      is a decorator.
    - ``always``: return tensors whatever the arguments (outside the library's
      traced functions), for a function that takes no array to tell by
      (``spikegen.target_rate_code``).

    **Returns:** the wrapped function: its result with each concrete JAX array
    made a ``Tensor`` (tensors, tracers and other values as they are).
    """
    if fn is None:
        return functools.partial(torch_facing, always=always)
    return _torch_facing(fn, always)


def recordable(fn: _F | None = None, *, torch_facing: bool = False) -> Any:
    """Let ``fn`` (a pure function of arrays) take pending tensors: its call is then recorded.

    With concrete inputs (or inside the library's traced functions) ``fn`` runs as
    it is and returns what it returns. When an argument is a pending tensor, or one
    ``backward()`` can differentiate through, the call becomes one recorded
    operation whose key is ``fn`` and its non-array arguments (hashable ones by
    value, such as a frozen loss object, so a loss made anew every step records
    the same operation), and it returns tensors.

    **Arguments:**

    - ``fn``: the function (or method) to wrap; omitted, ``recordable(torch_facing=...)``
      is a decorator.
    - ``torch_facing``: also return tensors when an argument is a torch or facade
      tensor, as the decorator `torch_facing` does.

    **Returns:** the wrapped function.
    """
    if fn is None:
        return functools.partial(recordable, torch_facing=torch_facing)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if in_pure_scope() and not is_capturing():
            return fn(*args, **kwargs)
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs), is_leaf=lambda x: isinstance(x, Tensor))
        if not any(_pending_or_differentiable(leaf) for leaf in leaves):
            return fn(*args, **kwargs)
        is_array = tuple(_is_array(leaf) for leaf in leaves)
        static = tuple(None if array else _static(leaf) for leaf, array in zip(leaves, is_array))
        key = ("function", fn, treedef, static)
        recorded = _FNS.get(key)
        if recorded is None:
            if len(_FNS) > 10_000:
                _FNS.clear()
            fixed = [None if array else leaf for leaf, array in zip(leaves, is_array)]

            def recorded(ints: tuple, *arrays: Any) -> Any:
                values = iter(arrays)
                rebuilt = [next(values) if array else leaf for leaf, array in zip(fixed, is_array)]
                call_args, call_kwargs = jax.tree_util.tree_unflatten(treedef, rebuilt)
                return fn(*call_args, **call_kwargs)

            _FNS[key] = recorded
        return apply(recorded, key, tuple(leaf for leaf, array in zip(leaves, is_array) if array))

    return _torch_facing(wrapper, always=False) if torch_facing else wrapper
