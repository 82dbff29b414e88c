"""torch functions applied to facade tensors (torch's ``__torch_function__`` protocol), without importing torch.

torch calls ``Tensor.__torch_function__`` for ``torch.stack([...])``, ``torch_tensor + t``,
``torch_tensor == t``, ``loss_val += t`` (as ``add_``), ``F.cross_entropy(t, y)`` and so
on whenever an argument is a facade tensor. The function is matched by name to the
facade's own operation, torch tensors among the arguments become constants, and the
result is a facade tensor (recorded like any other operation, so gradients flow).
A function with no match raises, naming it: silently converting to torch would cut
the gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from ._foreign_leaf import requires_foreign_grad
from ._state import is_grad_enabled
from .convert import is_foreign_array
from .tensor import Tensor, cat, op, stack

_REFLECTED = {"__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__rdiv__", "__rpow__", "__rmatmul__",
              "__rfloordiv__", "__rmod__", "__rand__", "__ror__", "__rxor__"}  # fmt: skip
_ALIASES = {
    "__iadd__": "__add__", "__isub__": "__sub__", "__imul__": "__mul__", "__itruediv__": "__truediv__",
    "__idiv__": "__truediv__", "__div__": "__truediv__", "__rdiv__": "__rtruediv__", "greater": "gt",
    "less": "lt", "greater_equal": "ge", "less_equal": "le", "not_equal": "ne", "absolute": "abs",
    "concat": "cat", "concatenate": "cat", "clip": "clamp",
}  # fmt: skip


def _identity(x: Any) -> Any:
    return x


def _convert(value: Any) -> Any:
    if is_foreign_array(value):
        if requires_foreign_grad(value) and is_grad_enabled():
            return op("from_foreign", _identity, value)  # recorded, so backward() reaches torch's graph
        return Tensor(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_convert(v) for v in value)
    return value


def _like(fill: Callable[..., Any]) -> Callable[..., Any]:
    def fn(input: Any, *args: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        tensor = Tensor(input) if not isinstance(input, Tensor) else input
        result = op(fill.__name__, lambda x: fill(x), tensor)
        return result if dtype is None else result.type(dtype)

    return fn


def _where(condition: Any, input: Any = None, other: Any = None) -> Any:
    return op("where", jnp.where, condition, input, other)


def _activation(method: str) -> Callable[..., Any]:
    def fn(input: Any, *args: Any, inplace: bool = False, **kwargs: Any) -> Any:
        tensor = input if isinstance(input, Tensor) else Tensor(input)
        result = getattr(tensor, method)(*args, **kwargs)
        return tensor._assign(result) if inplace and tensor is input else result

    return fn


def _linear(input: Any, weight: Any, bias: Any = None) -> Any:
    """``torch.nn.functional.linear``, which ``torch.nn.Linear`` runs: ``input @ weight.T + bias``."""
    if bias is None:
        return op("linear", lambda x, w: x @ w.T, input, weight)
    return op("affine", lambda x, w, b: x @ w.T + b, input, weight, bias)


def _allclose(input: Any, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """``torch.allclose``: a Python bool, as there (it waits for both values)."""
    values = [x.jax() if isinstance(x, Tensor) else jnp.asarray(x) for x in (input, other)]
    return bool(jnp.allclose(*values, rtol=rtol, atol=atol, equal_nan=equal_nan))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "stack": stack,
    "cat": cat,
    "where": _where,
    "zeros_like": _like(jnp.zeros_like),
    "ones_like": _like(jnp.ones_like),
    "empty_like": _like(jnp.zeros_like),
    "relu": _activation("relu"),
    "sigmoid": _activation("sigmoid"),
    "tanh": _activation("tanh"),
    "softmax": _activation("softmax"),
    "log_softmax": _activation("log_softmax"),
    "linear": _linear,
    "allclose": _allclose,
}


def register_torch_function(name: str, fn: Callable[..., Any]) -> None:
    """Let ``torch.<...>.name(t, ...)`` on facade tensors run ``fn`` (e.g. the facade's losses register
    ``torch.nn.functional.cross_entropy``)."""
    _FUNCTIONS[name] = fn


def dispatch(func: Any, args: tuple, kwargs: dict) -> Any:
    """Apply the torch function ``func`` to ``args`` in which some value is a facade tensor."""
    name = getattr(func, "__name__", str(func))
    if name in ("__get__", "__set__"):  # property access on a torch tensor (t.shape etc.) never reaches here
        raise TypeError(f"torch.{name} is not supported on snnax_torchlike tensors.")
    inplace = name.endswith("_") and not name.endswith("__")
    base = _ALIASES.get(name, name[:-1] if inplace else name)
    if kwargs.get("out") is not None:
        raise TypeError(f"torch function {name!r} on snnax_torchlike tensors: 'out=' is not supported.")
    # torch passes every keyword through, its defaults included (dim=None, _stacklevel=3, size_average=None):
    # a None or private value means "the default", which the facade's function has too.
    args = _convert(args)
    kwargs = {k: _convert(v) for k, v in kwargs.items() if v is not None and not k.startswith("_")}
    if base in _FUNCTIONS:
        return _FUNCTIONS[base](*args, **kwargs)
    if base in _REFLECTED:
        # torch_tensor.__radd__(t) only happens when t's own method declined; compute it as t's reflected op.
        return getattr(args[0], base)(*args[1:], **kwargs)
    method = getattr(Tensor, base, None)
    if not args and "input" in kwargs:  # torch.eq(input=a, other=b): the method's tensor passed by name
        args = (kwargs.pop("input"),)
    if method is not None and args:
        first = args[0] if isinstance(args[0], Tensor) else Tensor(args[0])
        return method(first, *args[1:], **kwargs)
    raise TypeError(
        f"torch function {name!r} is not supported on snnax_torchlike tensors: use the tensor's own methods "
        "or jax.numpy on it (jnp.asarray(t)), or convert a result for torch with torch.from_numpy(t.numpy())."
    )
