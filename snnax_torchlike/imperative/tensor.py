"""`Tensor`: what facade calls return, a JAX array that behaves like a torch tensor.

A tensor is *concrete* (it holds a ``jax.Array``) or *pending* (it is output ``k``
of a recorded `Node` and holds only its shape and dtype). Facade module calls
and every operation on a pending tensor record nodes instead of running; the
first time a value is needed (``.item()``, ``.numpy()``, ``print``, a JAX
function, ``backward()``) everything pending is compiled into one jitted
program and run (see ``_program``). Operations on concrete tensors without a
graph run at once.

Torch's methods and signatures (``sum(dim=, keepdim=)``, ``max(1)`` giving values
and indices, ``view``, ``size()``, ``item()``, ``detach()``, ...), arithmetic and
comparisons with Python numbers, numpy, JAX and torch arrays in both orders,
and ``torch.stack``/``torch.cat``/... on tensors (through torch's
``__torch_function__`` protocol) all work. For JAX, a tensor is a pytree with
one array child and has ``__jax_array__``, so ``jnp`` functions, ``jax.jit``
and ``jax.grad`` accept it; ``lax`` and optax functions need ``jnp.asarray(t)``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import traceback
import weakref
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _graph
from ._foreign_leaf import foreign_leaf
from ._indexing import build_index, split_index
from ._state import in_pure_scope, is_capturing, is_grad_enabled
from .convert import is_foreign_array, to_array, to_numpy


class _Pending:
    """Weak references to every pending tensor still alive, by identity (tensors compare elementwise)."""

    def __init__(self) -> None:
        self._refs: dict[int, weakref.ref] = {}

    def add(self, tensor: Tensor) -> None:
        key = id(tensor)

        def forget(ref: weakref.ref, key: int = key, refs: dict = self._refs) -> None:
            if refs.get(key) is ref:
                del refs[key]

        self._refs[key] = weakref.ref(tensor, forget)

    def discard(self, tensor: Tensor) -> None:
        self._refs.pop(id(tensor), None)

    @contextlib.contextmanager
    def isolated(self) -> Iterator[None]:
        """Keep the tensors made inside apart: a capture computes its own pending tensors, no others."""
        saved = self._refs
        self._refs = {}
        try:
            yield
        finally:
            self._refs = saved

    def __iter__(self) -> Iterator[Tensor]:
        for ref in list(self._refs.values()):
            tensor = ref()
            if tensor is not None:
                yield tensor


PENDING = _Pending()
"""Every pending tensor still alive: a force computes them all in one program."""

_SCALARS = (bool, int, float, complex, np.bool_, np.integer, np.floating)
# The class body below defines methods named jax, float, int, ...: it reaches these through aliases.
_rsqrt, _sigmoid, _relu, _softmax, _log_softmax, _stop_gradient = (
    jax.lax.rsqrt, jax.nn.sigmoid, jax.nn.relu, jax.nn.softmax, jax.nn.log_softmax, jax.lax.stop_gradient
)
_FNS: dict[Any, Callable[..., Any]] = {}


class Size(int):
    """The element count, as an int, that can also be called like torch's ``size()``/``size(dim)``."""

    def __new__(cls, shape: tuple[int, ...]) -> Size:
        size = super().__new__(cls, math.prod(shape))
        size.shape = shape
        return size

    def __call__(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]


class ReturnTypes(NamedTuple):
    """``values, indices`` of ``max(dim)``/``min(dim)``/``sort``, like torch's named tuple."""

    values: Any
    indices: Any


def _is_tracer(value: Any) -> bool:
    return isinstance(value, jax.core.Tracer)


_CONSTANTS: dict[int, tuple[Any, jax.Array]] = {}


def _constant(value: Any) -> jax.Array:
    """A JAX array of an operand; a foreign array (a torch tensor) converts once per object while it is recorded."""
    if isinstance(value, jax.Array):
        return value
    if is_foreign_array(value):
        cached = _CONSTANTS.get(id(value))
        if cached is not None and cached[0] is value:
            return cached[1]
        array = to_array(value)
        if len(_CONSTANTS) > 4096:
            _CONSTANTS.clear()
        _CONSTANTS[id(value)] = (value, array)  # holding the object keeps its id unique
        return array
    return to_array(value)


@functools.lru_cache(maxsize=256)
def cached_zeros(shape: tuple[int, ...], dtype: Any = jnp.float32) -> jax.Array:
    """A zero array of ``shape``, made once (JAX arrays are immutable, so one can be shared).

    Initial states are zeros at every sequence; creating them is then free. Made
    eagerly even inside a traced function, so the cache never holds a tracer.
    """
    with jax.ensure_compile_time_eval():
        return jnp.zeros(shape, dtype)


def forget_constants() -> None:
    """Drop the conversions of foreign arrays (after a program ran, the recorded graph no longer needs them)."""
    _CONSTANTS.clear()


def _row_of_base(value: Any) -> tuple[Any, int] | None:
    """``(base, i)`` when a foreign array is row ``i`` of a larger one (torch's ``data[step]`` is such a view).

    Duck-typed on torch's view attributes. Recording ``base[i]`` instead of a
    fresh constant lets a loop over ``data[step]`` read one array, sliced in the
    program, rather than convert every step's slice.
    """
    base = getattr(value, "_base", None)
    if base is None or not hasattr(value, "storage_offset"):
        return None
    try:
        if base.dim() != value.dim() + 1 or tuple(base.shape[1:]) != tuple(value.shape):
            return None
        if tuple(base.stride()[1:]) != tuple(value.stride()) or base.stride(0) <= 0:
            return None
        offset = value.storage_offset() - base.storage_offset()
    except (AttributeError, TypeError):
        return None
    row, remainder = divmod(offset, base.stride(0))
    return (base, row) if remainder == 0 and 0 <= row < base.shape[0] else None


def _recordable(value: Any) -> Any:
    if not is_foreign_array(value):
        return value
    view = _row_of_base(value)
    if view is None:
        return value
    base, row = view
    key = ("getitem", ("i",))
    return apply(_cached_fn(key, _getitem, ("i",)), key, (base,), (row,), record=True)


def _raw(value: Any) -> Any:
    """The array behind an operand, for running at once."""
    if isinstance(value, Tensor):
        return value.jax()
    if getattr(value, "_is_parameter", False):
        return value.data
    if isinstance(value, jax.Array) or _is_tracer(value):
        return value
    return _constant(value)


def _wrap(out: Any) -> Any:
    return jax.tree_util.tree_map(lambda leaf: Tensor(leaf), out)


def _refs(operands: tuple[Any, ...], record: bool, traced: bool) -> tuple[list[_graph.Ref], bool, bool] | None:
    """``(refs, has_graph, input_requires_grad)`` of operands to record, or None if one holds a tracer.

    ``traced``: a capture (see ``_capture``) is running; tracers are then leaves like arrays, which the
    enclosing function may differentiate, and every operation is recorded.

    One pass over the operands: this runs for every recorded operation.
    """
    refs: list[_graph.Ref] = []
    has_graph = record or traced
    requires_grad = False
    grad_enabled = None
    for x in operands:
        if type(x) is Tensor:
            value, node = x._value, x._node
            if value is None or (node is not None and node.requires_grad):
                refs.append(("n", node, x._index))
                has_graph = True
                requires_grad = requires_grad or node.requires_grad
            elif isinstance(value, jax.core.Tracer):
                if not traced:
                    return None
                refs.append(("c", value))
                requires_grad = True  # the enclosing function may differentiate it
            else:
                refs.append(("c", value))
        elif getattr(type(x), "_is_parameter", False):
            data = x.data
            if isinstance(data, jax.core.Tracer):
                if not traced:
                    return None
                refs.append(("c", data))
                requires_grad = True
                continue
            if grad_enabled is None:
                grad_enabled = is_grad_enabled()
            if grad_enabled and x.requires_grad:
                refs.append(("p", x, data))
                requires_grad = has_graph = True  # what backward() may differentiate is recorded
            else:
                refs.append(("c", data))
        elif isinstance(x, jax.core.Tracer):
            if not traced:
                return None
            refs.append(("c", x))
            requires_grad = True
        elif isinstance(x, jax.Array):
            refs.append(("c", x))
        elif (leaf := foreign_leaf(x)) is not None and (grad_enabled := is_grad_enabled()):
            refs.append(("p", leaf, leaf.data))
            requires_grad = has_graph = True
        else:
            row = _recordable(x) if record else x
            if isinstance(row, Tensor):
                refs.append(("n", row._node, row._index))
            else:
                refs.append(("c", _constant(x)))
    return refs, has_graph, requires_grad


def apply(
    fn: Callable[..., Any],
    key: Any,
    operands: tuple[Any, ...],
    ints: tuple[int, ...] = (),
    *,
    record: bool = False,
) -> Any:
    """Run ``fn(ints, *arrays)`` on ``operands`` now, or record it.

    It is recorded when ``record`` is set (a module call) or an operand has a
    graph (a pending tensor, or one ``backward()`` may differentiate through),
    unless it runs inside one of the library's traced functions or on tracers.
    ``key`` must determine ``fn``'s computation (see ``_graph.Node``).

    **Returns:** ``fn``'s output pytree with every array a ``Tensor``.
    """
    capturing = is_capturing()
    if capturing or not in_pure_scope():
        found = _refs(operands, record, capturing)
        if found is None:  # tracers of the caller's own jax.jit/grad/vmap: JAX code, which gets arrays
            return fn(ints, *(_raw(x) for x in operands))
        if found[1]:
            refs, _, input_requires_grad = found
            grad_enabled = input_requires_grad and is_grad_enabled()
            node = _graph.make_node(fn, key, tuple(refs), ints, grad_enabled)
            outs = [Tensor._pending(node, k) for k in range(len(node.avals))]
            return outs[0] if node.treedef is _SINGLE else jax.tree_util.tree_unflatten(node.treedef, outs)
    return _wrap(fn(ints, *(_raw(x) for x in operands)))


_SINGLE = jax.tree_util.tree_structure(0)


def _op_fn(key: tuple, impl: Callable[..., Any], slots: tuple, static: tuple) -> Callable[..., Any]:
    fn = _FNS.get(key)
    if fn is None:
        kwargs = dict(static)

        def fn(ints: tuple, *arrays: Any) -> Any:
            values = iter(arrays)
            args = [next(values) if slot is None else slot[1] for slot in slots]
            return impl(*args, **kwargs)

        _FNS[key] = fn
    return fn


def op(name: str, impl: Callable[..., Any], *operands: Any, **static: Any) -> Any:
    """``impl(*operands, **static)`` as a tensor operation: Python numbers and ``static`` are part of its key.

    Every other operand is an array input (tensors, parameters, JAX, numpy or torch arrays).
    """
    slots = tuple(("s", x) if isinstance(x, _SCALARS) else None for x in operands)
    items = tuple(sorted(static.items()))
    scalars = tuple(None if s is None else (type(s[1]).__name__, s[1]) for s in slots)
    key = (name, scalars, items)
    fn = _op_fn(key, impl, slots, items)
    arrays = tuple(x for x, slot in zip(operands, slots) if slot is None)
    try:
        return apply(fn, key, arrays)
    except (TypeError, ValueError) as error:
        if type(error) not in (TypeError, ValueError) or not _raised_by_jax(error):
            raise
        # JAX's message names neither the tensor method nor the operands the user wrote.
        shapes = " and ".join(str(tuple(np.shape(x))) for x in operands if not isinstance(x, _SCALARS))
        raise type(error)(f"Tensor.{name}: {str(error).splitlines()[0]} (operand shapes {shapes}).") from error


def _raised_by_jax(error: BaseException) -> bool:
    """Whether ``error`` was raised inside JAX (a shape or dtype rule), not by a check of this library."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and "/jax/" in frames[-1].filename.replace("\\", "/")


def _dims(dim: Any) -> Any:
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        return tuple(int(d) for d in dim)
    return int(dim)


def _shape_args(args: tuple) -> tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


def _check_view_shape(shape: tuple[int, ...], size: int) -> None:
    """A torch ``RuntimeError`` when ``shape`` (one ``-1`` allowed) cannot hold ``size`` elements."""
    inferred = shape.count(-1)
    if inferred > 1:
        raise RuntimeError(f"view/reshape: only one dimension can be inferred (-1), got shape {list(shape)}.")
    known = math.prod(d for d in shape if d != -1)
    if any(d < -1 for d in shape) or (size != known if not inferred else known == 0 or size % known):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")


class _IndexItem(NamedTuple):
    """One item of a torch-style index: ``axes`` of the indexed tensor it stands for, the ``mask_shape`` of a
    boolean mask, and the ``ints`` of an integer index or concrete integer array (None when not known now)."""

    axes: int
    mask_shape: tuple[int, ...] | None = None
    ints: np.ndarray | None = None


def _index_item(item: Any) -> _IndexItem:
    if item is None or isinstance(item, (bool, np.bool_)):
        return _IndexItem(0)
    if isinstance(item, (int, np.integer)):
        return _IndexItem(1, ints=np.asarray(item))
    if isinstance(item, list):
        item = np.asarray(item)
    if not (isinstance(item, (Tensor, jax.Array, np.ndarray)) or is_foreign_array(item)):
        return _IndexItem(1)  # a slice
    if str(item.dtype) in ("bool", "torch.bool"):  # the shape suffices, so a pending mask is checked too
        shape = tuple(item.shape)
        return _IndexItem(max(len(shape), 1), mask_shape=shape or None)
    values = known_values(item)
    return _IndexItem(1, ints=values if values is not None and np.issubdtype(values.dtype, np.integer) else None)


def _check_indices(index: Any, shape: tuple[int, ...]) -> None:
    """An ``IndexError`` as torch's for an index outside its axis (JAX would clamp it, or drop the write,
    silently), and for a boolean mask whose shape is not the shape of the axes it indexes."""
    items = index if isinstance(index, tuple) else (index,)
    parsed = [None if item is Ellipsis else _index_item(item) for item in items]
    if None in parsed:  # ``...`` stands for the axes no other item indexes
        at = parsed.index(None)
        rest = len(shape) - sum(item.axes for item in parsed if item is not None)
        parsed[at : at + 1] = [_IndexItem(1)] * max(rest, 0)
    axis = 0
    for item in parsed:
        if axis >= len(shape):
            break
        if item.mask_shape is not None and list(item.mask_shape) != list(shape[axis : axis + item.axes]):
            raise IndexError(
                f"The shape of the mask {list(item.mask_shape)} at index {axis} does not match the shape of the "
                f"indexed tensor {list(shape)} at index {axis}."
            )
        if item.ints is not None and item.ints.size:
            size = shape[axis]
            bad = item.ints[(item.ints < -size) | (item.ints >= size)]
            if bad.size:
                raise IndexError(f"index {int(bad.flat[0])} is out of bounds for dimension {axis} with size {size}")
        axis += item.axes


def _check_dims(method: str, dims: Any, ndim: int, extra: int = 0) -> None:
    """torch's ``IndexError`` for a dimension outside ``[-n, n - 1]`` (``n = ndim + extra``, at least 1).

    ``extra`` is 1 where the dimension may name a new axis (``unsqueeze``, ``stack``).
    """
    if dims is None:
        return
    n = max(ndim + extra, 1)
    for dim in dims if isinstance(dims, (tuple, list)) else (dims,):
        if not -n <= int(dim) < n:
            raise IndexError(
                f"Tensor.{method}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got "
                f"{int(dim)}) for a tensor with {ndim} dimension(s)."
            )


def _dtype_of(dtype: Any) -> Any:
    """The dtype JAX uses for a numpy/JAX dtype or scalar type, a name, or a torch dtype (by its name,
    without importing torch): 64-bit types become 32-bit ones unless ``jax_enable_x64`` is set."""
    if dtype is None:
        return None
    if isinstance(dtype, str) or type(dtype).__module__ == "torch":
        name = str(dtype).removeprefix("torch.")
        dtype = {"long": "int64", "int": "int32", "float": "float32", "double": "float64", "half": "float16"}.get(
            name, name
        )
    return jax.dtypes.canonicalize_dtype(jnp.dtype(dtype))


def _reduce(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, **numpy_kwargs: Any):
        dim = numpy_kwargs.pop("axis", dim)  # np.mean(t) calls t.mean(axis=None, dtype=None, out=None)
        if numpy_kwargs.pop("out", None) is not None or numpy_kwargs:
            raise TypeError(f"Tensor.{name}: unsupported arguments {sorted(numpy_kwargs)}.")
        _check_dims(name, _dims(dim), self.ndim)
        return op(name, fn, self, axis=_dims(dim), keepdims=bool(keepdim), dtype=_dtype_of(dtype))

    method.__name__ = name
    method.__doc__ = f"torch's ``{name}(dim=None, keepdim=False, dtype=None)``."
    return method


def _sum(x, axis, keepdims, dtype):
    return jnp.sum(x, axis=axis, keepdims=keepdims, dtype=dtype)


def _mean(x, axis, keepdims, dtype):
    return jnp.mean(x, axis=axis, keepdims=keepdims, dtype=dtype)


def _prod(x, axis, keepdims, dtype):
    return jnp.prod(x, axis=axis, keepdims=keepdims, dtype=dtype)


def _any(x, axis, keepdims, dtype):
    return jnp.any(x, axis=axis, keepdims=keepdims)


def _all(x, axis, keepdims, dtype):
    return jnp.all(x, axis=axis, keepdims=keepdims)


def _amax(x, axis, keepdims, dtype):
    return jnp.max(x, axis=axis, keepdims=keepdims)


def _amin(x, axis, keepdims, dtype):
    return jnp.min(x, axis=axis, keepdims=keepdims)


def _add_scaled(a, b, alpha):
    return a + alpha * b


def _extremum(name: str, value_fn: Callable, index_fn: Callable, pairwise: Callable) -> Callable[..., Any]:
    def method(self: Tensor, dim: Any = None, keepdim: bool = False, **numpy_kwargs: Any):
        numpy_style = "axis" in numpy_kwargs  # x.max(axis=0), as JAX and numpy write it: the values only
        dim = numpy_kwargs.pop("axis", dim)
        keepdim = numpy_kwargs.pop("keepdims", keepdim)
        if isinstance(dim, (Tensor, jax.Array, np.ndarray)) or is_foreign_array(dim):
            return op(f"{name}imum", pairwise, self, dim)  # torch.max(a, b): elementwise
        if dim is None:
            return op(name, value_fn, self, axis=None, keepdims=bool(keepdim) if numpy_style else False)
        axis = tuple(int(d) for d in dim) if isinstance(dim, (tuple, list)) else int(dim)
        _check_dims(name, axis, self.ndim)
        if numpy_style:
            return op(name, value_fn, self, axis=axis, keepdims=bool(keepdim))
        values = op(name, value_fn, self, axis=int(dim), keepdims=bool(keepdim))
        indices = op(f"arg{name}", index_fn, self, axis=int(dim), keepdims=bool(keepdim))
        return ReturnTypes(values, indices)

    method.__name__ = name
    method.__doc__ = f"torch's ``{name}()``: the {name} value; ``{name}(dim)``: ``(values, indices)``."
    return method


def _arg(fn: Callable) -> Callable:
    def arg(x, axis, keepdims):
        if axis is None:  # the index into the flattened tensor, like torch
            index = fn(x.reshape(-1))
            return index.reshape((1,) * x.ndim) if keepdims else index
        return fn(x, axis=axis, keepdims=keepdims)

    return arg


def _binary(name: str, fn: Callable[[Any, Any], Any], reflected: bool = False) -> Callable[..., Any]:
    if reflected:

        def method(self: Tensor, other: Any) -> Any:
            return op(name, lambda a, b: fn(b, a), self, other)

    else:

        def method(self: Tensor, other: Any) -> Any:
            return op(name, fn, self, other)

    method.__name__ = name
    return method


def _unary(name: str, fn: Callable[[Any], Any]) -> Callable[..., Any]:
    def method(self: Tensor) -> Any:
        return op(name, fn, self)

    method.__name__ = name
    return method


def _inplace(name: str) -> Callable[..., Any]:
    out_of_place = name.rstrip("_")

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return self._assign(getattr(self, out_of_place)(*args, **kwargs))

    method.__name__ = name
    method.__doc__ = f"In place: ``self = self.{out_of_place}(...)`` (the tensor object now holds the result)."
    return method


def _true_divide(a, b):
    return jnp.true_divide(a, b)


def _getitem(spec: tuple):
    def fn(ints: tuple, x: Any, *arrays: Any) -> Any:
        return x[build_index(spec, ints, arrays)]

    return fn


def _setitem(spec: tuple):
    def fn(ints: tuple, x: Any, value: Any, *arrays: Any) -> Any:
        return x.at[build_index(spec, ints, arrays)].set(jnp.asarray(value, x.dtype))

    return fn


def _cached_fn(key: tuple, factory: Callable[..., Callable], *args: Any) -> Callable[..., Any]:
    fn = _FNS.get(key)
    if fn is None:
        fn = _FNS[key] = factory(*args)
    return fn


class Tensor:
    """A JAX array with torch's tensor methods; see the module docstring.

    ``Tensor(array)`` wraps an array-like (JAX, numpy, a torch tensor, a list).

    Besides the methods below, a tensor has torch's:

    - reductions ``sum``, ``mean``, ``prod``, ``any``, ``all``, ``amax``, ``amin``
      (``dim=None, keepdim=False, dtype=None``); ``max`` and ``min``: the value, or
      with ``dim`` the pair ``(values, indices)``, or with a tensor the elementwise
      extremum;
    - elementwise ``mul``, ``div``, ``pow``, ``matmul``/``mm``, ``remainder``,
      ``floor_divide``, ``maximum``, ``minimum``, ``lt``/``le``/``gt``/``ge``,
      ``logical_and``/``logical_or``/``logical_not``, ``abs``, ``neg``, ``exp``,
      ``log``, ``log1p``, ``sqrt``, ``rsqrt``, ``square``, ``sin``, ``cos``, ``tanh``,
      ``sigmoid``, ``relu``, ``floor``, ``ceil``, ``round``, ``sign``, ``reciprocal``,
      ``isnan``, ``isinf``, ``isfinite``, and the operators (``+``, ``@``, ``<``,
      ``~``, ...);
    - other names, the same method: ``reshape`` (``view``), ``reshape_as``
      (``view_as``), ``swapaxes`` (``transpose``), ``ndimension`` (``dim``),
      ``nelement`` (``numel``), ``clip`` (``clamp``), ``subtract`` (``sub``),
      ``multiply`` (``mul``), ``divide`` and ``true_divide`` (``div``);
    - in-place ``add_``, ``sub_``, ``mul_``, ``div_``, ``pow_``, ``clamp_``, ``clip_``,
      ``abs_``, ``neg_``, ``exp_``, ``sigmoid_``, ``relu_``, ``masked_fill_``,
      ``unsqueeze_``, ``squeeze_`` and ``+=``, ``-=``, ``*=``, ``/=``: the tensor
      object then holds the result, so every reference to it sees it.
    """

    __slots__ = ("_value", "_node", "_index", "__weakref__")
    __array_priority__ = 1000  # numpy defers `ndarray op tensor` to the tensor's reflected method

    def __init__(self, data: Any):
        if isinstance(data, Tensor):
            data = data.jax()
        self._value = data if isinstance(data, jax.Array) or _is_tracer(data) else to_array(data)
        self._node: _graph.Node | None = None
        self._index = 0

    @classmethod
    def _pending(cls, node: _graph.Node, index: int) -> Tensor:
        tensor = cls.__new__(cls)
        tensor._value, tensor._node, tensor._index = None, node, index
        PENDING.add(tensor)
        return tensor

    def _assign(self, other: Any) -> Tensor:
        """Make this object hold ``other``'s value and graph (for in-place methods)."""
        other = other if isinstance(other, Tensor) else Tensor(other)
        self._value, self._node, self._index = other._value, other._node, other._index
        if self._value is None:
            PENDING.add(self)
        return self

    # -- values -------------------------------------------------------------------------------
    def jax(self) -> jax.Array:
        """The JAX array (computes everything pending first, if this tensor is pending)."""
        if self._value is None:
            from ._program import materialize

            materialize()
        return self._value

    def __jax_array__(self) -> jax.Array:
        return self.jax()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """numpy's protocol: a read-only view of the value, or with ``copy=True`` (``np.array(t)``) a writable copy."""
        array = np.asarray(self.jax(), dtype=dtype)
        return array.copy() if copy else array

    def _host_value(self, what: str) -> jax.Array:
        """The value, refused with a clear error when it is traced (it has no number until the program runs)."""
        value = self.jax()
        if _is_tracer(value):
            raise TypeError(
                f"{what} on a tensor inside a compiled function (snx.compile, optimizer.step(closure), fit): its "
                "value is traced and has no number until the function has run. Return the tensor from the "
                "function and read it outside, and write choices on values as tensor operations "
                "(torch.where(cond, a, b), t.where(cond, other), t.clamp(...)) instead of a Python if."
            )
        return value

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """A numpy array of the value (a copy: JAX arrays are immutable).

        ``force`` is torch's keyword (detach and copy first); both always happen here, so it changes nothing.
        """
        return np.array(self._host_value("Tensor.numpy()"))

    def item(self) -> Any:
        """The single value as a Python number."""
        if self.numel() != 1:
            raise ValueError(f"Tensor.item: a tensor with {self.numel()} elements cannot be converted to a scalar.")
        return np.asarray(self._host_value("Tensor.item()")).reshape(()).item()

    def tolist(self) -> Any:
        """The value as (nested) Python lists of numbers; a 0-d tensor gives a number."""
        return np.asarray(self._host_value("Tensor.tolist()")).tolist()

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self.numel()} elements is ambiguous: reduce it first, "
                "with .any() (some element is true) or .all() (every element is)."
            )
        return bool(np.asarray(self._host_value("bool() (a Python if or while)")))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if not jnp.issubdtype(self.dtype, jnp.integer):
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __format__(self, spec: str) -> str:
        if self.numel() == 1 and spec:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extra = "" if self.dtype == jnp.float32 or self.dtype == jnp.int32 else f", dtype={self.dtype}"
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"tensor({body}{extra}{grad})"

    __str__ = __repr__

    def __hash__(self) -> int:
        return id(self)

    # -- torch's metadata ----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape, a tuple of ints (known without computing a pending tensor)."""
        if self._value is not None:
            return tuple(self._value.shape)
        return tuple(self._node.avals[self._index].shape)

    @property
    def dtype(self) -> Any:
        """The dtype, a numpy/JAX dtype such as ``float32`` (known without computing a pending tensor)."""
        if self._value is not None:
            return self._value.dtype
        return self._node.avals[self._index].dtype

    @property
    def size(self) -> Size:
        """torch's ``size()`` (the shape) and ``size(d)`` (one axis's length); read as a number, JAX's
        ``size`` (the element count), so code written for either works."""
        return Size(self.shape)

    def astype(self, dtype: Any) -> Tensor:
        """JAX's and numpy's ``astype``: the same as torch's ``type(dtype)``."""
        return self.type(dtype)

    @property
    def at(self) -> Any:
        """JAX's functional updates (``t.at[i].set(v)``), on the computed array."""
        return self.jax().at

    def block_until_ready(self) -> Tensor:
        """Wait until the value is computed (JAX's ``block_until_ready``)."""
        self.jax().block_until_ready()
        return self

    def dim(self) -> int:
        """The number of axes (``ndimension()`` too)."""
        return len(self.shape)

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return len(self.shape)

    ndimension = dim

    def numel(self) -> int:
        """The number of elements (``nelement()`` too)."""
        return math.prod(self.shape)

    nelement = numel

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for index in range(len(self)):
            yield self[index]

    def __contains__(self, element: Any) -> bool:
        """``element in t``: whether any entry equals ``element``, like torch."""
        return bool((self == element).any())

    @property
    def device(self) -> str:
        """The device the value is on, as a string (``"cpu"`` while the tensor is pending or traced)."""
        return "cpu" if self._value is None or _is_tracer(self._value) else str(next(iter(self._value.devices())))

    is_cuda = False

    @property
    def requires_grad(self) -> bool:
        """Whether ``backward()`` can differentiate through this tensor (it depends on a trained parameter)."""
        return self._node is not None and self._node.requires_grad

    @property
    def grad_fn(self) -> Any:
        """The recorded operation this tensor comes from when ``backward()`` can go through it, else None."""
        return self._node if self.requires_grad else None

    @property
    def is_leaf(self) -> bool:
        """Whether no gradient flows back through this tensor (it does not depend on a trained parameter)."""
        return not self.requires_grad

    @property
    def data(self) -> Tensor:
        """The value without its graph, like torch's ``.data``."""
        return self.detach()

    # -- autograd -------------------------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool | None = None) -> None:
        """Fill ``.grad`` of every trained ``Parameter`` this tensor depends on, accumulating as torch does.

        Runs the recorded computation and its gradient as one jitted program
        (compiled once per recorded structure); see ``snnax_torchlike.imperative``.
        """
        from ._program import backward

        backward(self, gradient, bool(retain_graph))

    def detach(self) -> Tensor:
        """The same values, cut from the graph: no gradient flows back through the result."""
        if self._value is not None:
            # A traced value (inside fit's step or a closure step) is cut for the enclosing jax.grad.
            return Tensor(_stop_gradient(self._value) if _is_tracer(self._value) else self._value)
        detached = op("detach", _stop_gradient, self)
        detached._node.requires_grad = False  # a fresh node: nothing flows back through it
        return detached

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place (snnTorch's ``mem.detach_()`` for truncated BPTT)."""
        return self._assign(self.detach())

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """``requires_grad_(False)`` detaches the tensor in place; ``True`` raises unless it already requires grad.

        Gradients flow only to [`nn.Parameter`][snnax_torchlike.nn.Parameter] objects: make a
        trained value a parameter instead.
        """
        if requires_grad and not self.requires_grad:
            raise RuntimeError(
                "Tensor.requires_grad_: gradients flow to nn.Parameter objects only; wrap the value in "
                "snnax_torchlike.nn.Parameter and pass it to the optimizer."
            )
        return self if requires_grad else self.detach_()

    def clone(self, *, memory_format: Any = None) -> Tensor:
        """A copy that stays in the graph (gradients flow back through it), as torch's."""
        return op("clone", lambda x: x, self)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        """Accepted for torch code: returns the tensor itself (JAX arrays have no memory layout to fix)."""
        return self

    # -- devices and dtypes (JAX places arrays; device moves are accepted and do nothing) ------------
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``: only the dtype changes anything."""
        dtype = kwargs.get("dtype")
        for arg in args:
            if isinstance(arg, Tensor) or is_foreign_array(arg):
                dtype = arg.dtype
            elif _looks_like_dtype(arg):
                dtype = arg
        return self if dtype is None else self.type(dtype)

    def cpu(self) -> Tensor:
        """Accepted for torch code: returns the tensor itself (JAX places arrays itself)."""
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        """Accepted for torch code: returns the tensor itself (JAX places arrays itself)."""
        return self

    def type(self, dtype: Any = None) -> Any:
        """``type()``: the type's name, a string; ``type(dtype)``: the values cast to ``dtype`` (torch or numpy)."""
        if dtype is None:
            return f"snnax_torchlike.Tensor[{self.dtype}]"
        target = _dtype_of(dtype)
        if target == self.dtype:
            return self
        return op("astype", lambda x, dtype: x.astype(dtype), self, dtype=target)

    def type_as(self, other: Any) -> Tensor:
        """The values cast to ``other``'s dtype."""
        return self.type(other.dtype)

    def float(self) -> Tensor:
        """The values as float32."""
        return self.type(jnp.float32)

    def double(self) -> Tensor:
        """float64 if JAX runs with ``jax_enable_x64``, else float32."""
        return self.type(jnp.float64)

    def half(self) -> Tensor:
        """The values as float16."""
        return self.type(jnp.float16)

    def bfloat16(self) -> Tensor:
        """The values as bfloat16."""
        return self.type(jnp.bfloat16)

    def long(self) -> Tensor:
        """Integers (int32 unless JAX runs with ``jax_enable_x64``; torch's long is int64)."""
        return self.type(jnp.int64)

    def int(self) -> Tensor:
        """The values as int32."""
        return self.type(jnp.int32)

    def bool(self) -> Tensor:
        """The values as booleans."""
        return self.type(jnp.bool_)

    # -- shapes -------------------------------------------------------------------------------
    def view(self, *shape: Any) -> Tensor:
        """The values in a new shape: ``view(2, -1)`` or ``view((2, -1))`` (one ``-1`` is inferred), as torch's.

        ``reshape`` is the same method (a JAX array has no strides, so both always work);
        ``view(dtype)`` casts, as ``type(dtype)``.
        """
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, np.integer)):
            return self.type(shape[0])  # view(dtype)
        shape = _shape_args(shape)
        _check_view_shape(shape, self.numel())
        return op("reshape", jnp.reshape, self, shape=shape)

    reshape = view

    def view_as(self, other: Any) -> Tensor:
        """The values in ``other``'s shape (``reshape_as`` too)."""
        return self.view(tuple(other.shape))

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Axes ``start_dim`` to ``end_dim`` (inclusive) merged into one; a 0-d tensor becomes shape ``(1,)``."""
        shape = self.shape
        if not shape:
            return self.reshape(1)
        _check_dims("flatten", (start_dim, end_dim), len(shape))
        start, end = start_dim % len(shape), end_dim % len(shape)
        merged = math.prod(shape[start : end + 1])
        return self.reshape(shape[:start] + (merged,) + shape[end + 1 :])

    def permute(self, *dims: Any) -> Tensor:
        """The axes in the order ``dims`` (``permute(1, 0, 2)`` or ``permute((1, 0, 2))``), as torch's."""
        axes = _shape_args(dims)
        if len(axes) != self.ndim:
            raise RuntimeError(
                f"Tensor.permute: number of dimensions in the tensor input does not match the length of the desired "
                f"ordering of dimensions i.e. input.dim() = {self.ndim} is not equal to len(dims) = {len(axes)}."
            )
        _check_dims("permute", axes, self.ndim)
        if len({d % self.ndim for d in axes}) != len(axes):
            raise RuntimeError(f"Tensor.permute: repeated dim in the ordering {list(axes)}.")
        return op("permute", jnp.transpose, self, axes=axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Axes ``dim0`` and ``dim1`` swapped (``swapaxes`` too)."""
        _check_dims("transpose", (dim0, dim1), self.ndim)
        return op("swapaxes", jnp.swapaxes, self, axis1=int(dim0), axis2=int(dim1))

    swapaxes = transpose

    def t(self) -> Tensor:
        """The transpose of a matrix; a tensor of fewer than 2 axes as it is."""
        return self if self.ndim < 2 else self.transpose(0, 1)

    @property
    def T(self) -> Tensor:
        """The axes in reverse order."""
        return op("permute", jnp.transpose, self, axes=tuple(reversed(range(self.ndim))))

    def unsqueeze(self, dim: int) -> Tensor:
        """A new axis of length 1 at position ``dim``."""
        _check_dims("unsqueeze", dim, self.ndim, extra=1)
        return op("expand_dims", jnp.expand_dims, self, axis=int(dim))

    def squeeze(self, dim: Any = None) -> Tensor:
        """Axes of length 1 removed: every one (``dim=None``), or those of ``dim`` (an int or a tuple) that are."""
        shape = self.shape
        dims = range(len(shape)) if dim is None else ([dim] if isinstance(dim, int) else dim)
        _check_dims("squeeze", tuple(dims), len(shape))
        axes = tuple(d % len(shape) for d in dims if shape and shape[d] == 1)
        return self if not axes else op("squeeze", jnp.squeeze, self, axis=axes)

    def repeat(self, *sizes: Any) -> Tensor:
        """The tensor tiled ``sizes`` times along each axis, as torch's ``repeat`` (numpy's ``tile``)."""
        return op("tile", jnp.tile, self, reps=_shape_args(sizes))

    def expand(self, *sizes: Any) -> Tensor:
        """The tensor broadcast to ``sizes`` (``-1`` keeps an axis), new axes in front, as torch's."""
        sizes = _shape_args(sizes)
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        target = tuple(s if n == -1 else n for s, n in zip(shape, sizes))
        return op("broadcast_to", jnp.broadcast_to, self, shape=target)

    def expand_as(self, other: Any) -> Tensor:
        """The tensor broadcast to ``other``'s shape."""
        return self.expand(*other.shape)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces of ``ceil(length / chunks)`` along ``dim`` (the last one shorter; at most ``chunks``), as torch's."""
        _check_dims("chunk", dim, self.ndim)
        size = -(-self.shape[dim] // chunks)
        return self.split(size, dim)

    def split(self, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces along ``dim`` of ``split_size`` each (the last one shorter), or of the lengths in a list."""
        _check_dims("split", dim, self.ndim)
        length = self.shape[dim]
        if isinstance(split_size, (list, tuple)):
            sizes = [int(size) for size in split_size]
        else:
            sizes = [split_size] * (length // split_size) + ([length % split_size] if length % split_size else [])
        bounds = np.cumsum([0] + sizes)
        index = [slice(None)] * self.ndim
        pieces = []
        for start, stop in zip(bounds[:-1], bounds[1:]):
            index[dim] = slice(int(start), int(stop))
            pieces.append(self[tuple(index)])
        return tuple(pieces)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, as a tuple of tensors with that axis removed."""
        _check_dims("unbind", dim, self.ndim)
        return tuple(self.select(dim, i) for i in range(self.shape[dim]))

    def select(self, dim: int, index: int) -> Tensor:
        """The slice at ``index`` along ``dim`` (that axis removed): ``t.select(1, 0)`` is ``t[:, 0]``."""
        _check_dims("select", dim, self.ndim)
        return self[(slice(None),) * (dim % self.ndim) + (index,)]

    # -- indexing -----------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Tensor:
        _check_indices(index, self.shape)
        spec, ints, arrays = split_index(index)
        key = ("getitem", spec)
        return apply(_cached_fn(key, _getitem, spec), key, (self, *arrays), ints)

    def __setitem__(self, index: Any, value: Any) -> None:
        _check_indices(index, self.shape)
        spec, ints, arrays = split_index(index)
        if isinstance(value, _SCALARS):
            value = jnp.asarray(value, self.dtype)
        key = ("setitem", spec)
        self._assign(apply(_cached_fn(key, _setitem, spec), key, (self, value, *arrays), ints))

    # -- reductions ------------------------------------------------------------------------------
    sum = _reduce("sum", _sum)
    mean = _reduce("mean", _mean)
    prod = _reduce("prod", _prod)
    any = _reduce("any", _any)
    all = _reduce("all", _all)
    amax = _reduce("amax", _amax)
    amin = _reduce("amin", _amin)
    max = _extremum("max", jnp.max, _arg(jnp.argmax), jnp.maximum)
    min = _extremum("min", jnp.min, _arg(jnp.argmin), jnp.minimum)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the largest value along ``dim`` (of the flattened tensor if None)."""
        _check_dims("argmax", _dims(dim), self.ndim)
        return op("argmax", _arg(jnp.argmax), self, axis=_dims(dim), keepdims=bool(keepdim))

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the smallest value along ``dim`` (of the flattened tensor if None)."""
        _check_dims("argmin", _dims(dim), self.ndim)
        return op("argmin", _arg(jnp.argmin), self, axis=_dims(dim), keepdims=bool(keepdim))

    def std(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *, correction: Any = None) -> Tensor:
        """The standard deviation over ``dim`` (every axis if None); ``unbiased``/``correction`` as torch's."""
        ddof = (1 if unbiased else 0) if correction is None else int(correction)
        _check_dims("std", _dims(dim), self.ndim)
        return op("std", jnp.std, self, axis=_dims(dim), ddof=ddof, keepdims=bool(keepdim))

    def var(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *, correction: Any = None) -> Tensor:
        """The variance over ``dim`` (every axis if None); ``unbiased``/``correction`` as torch's."""
        ddof = (1 if unbiased else 0) if correction is None else int(correction)
        _check_dims("var", _dims(dim), self.ndim)
        return op("var", jnp.var, self, axis=_dims(dim), ddof=ddof, keepdims=bool(keepdim))

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        """torch's ``norm``: the vector ``p``-norm over ``dim`` (an int or a tuple; every axis if None),
        ``"fro"`` being ``p=2``; ``p="nuc"``: the nuclear norm of the matrices over ``dim`` (the last two axes)."""
        x = self if dtype is None else self.type(dtype)
        if p == "nuc":
            axes = (-2, -1) if dim is None else _dims(dim)
            return op("nuclear_norm", jnp.linalg.norm, x, ord="nuc", axis=axes, keepdims=bool(keepdim))
        ord = 2.0 if p == "fro" else float(p)
        return op("vector_norm", jnp.linalg.vector_norm, x, ord=ord, axis=_dims(dim), keepdims=bool(keepdim))

    def cumsum(self, dim: int) -> Tensor:
        """The cumulative sum along ``dim``."""
        _check_dims("cumsum", dim, self.ndim)
        return op("cumsum", jnp.cumsum, self, axis=int(dim))

    def count_nonzero(self, dim: Any = None) -> Tensor:
        """The number of non-zero values over ``dim`` (every axis if None)."""
        return op("count_nonzero", jnp.count_nonzero, self, axis=_dims(dim))

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ReturnTypes:
        """``(values, indices)`` of the ``k`` largest values along ``dim`` (the smallest with ``largest=False``)."""
        moved = self.transpose(dim, -1) if dim not in (-1, self.ndim - 1) else self
        values, indices = op("topk", _topk, moved, k=int(k), largest=bool(largest))
        if moved is not self:
            values, indices = values.transpose(dim, -1), indices.transpose(dim, -1)
        return ReturnTypes(values, indices)

    def sort(self, dim: int = -1, descending: bool = False) -> ReturnTypes:
        """The values sorted along ``dim`` (stable) and the indices that sort them, as ``(values, indices)``."""
        indices = op("argsort", _argsort, self, axis=int(dim), descending=bool(descending))
        values = op("take_along_axis", jnp.take_along_axis, self, indices, axis=int(dim))
        return ReturnTypes(values, indices)

    def eq(self, other: Any) -> Tensor:
        """Elementwise ``self == other``, a boolean tensor."""
        return self == other

    def ne(self, other: Any) -> Tensor:
        """Elementwise ``self != other``, a boolean tensor."""
        return self != other

    def equal(self, other: Any) -> bool:
        """Whether ``other`` has the same shape and the same values (a Python bool), as torch's."""
        other = Tensor(other)
        return self.shape == other.shape and bool((self == other).all())

    # -- elementwise ----------------------------------------------------------------------------
    __add__ = _binary("add", jnp.add)
    __radd__ = _binary("radd", jnp.add, reflected=True)
    __sub__ = _binary("sub", jnp.subtract)
    __rsub__ = _binary("rsub", jnp.subtract, reflected=True)
    __mul__ = _binary("mul", jnp.multiply)
    __rmul__ = _binary("rmul", jnp.multiply, reflected=True)
    __truediv__ = _binary("div", _true_divide)
    __rtruediv__ = _binary("rdiv", _true_divide, reflected=True)
    __floordiv__ = _binary("floordiv", jnp.floor_divide)
    __rfloordiv__ = _binary("rfloordiv", jnp.floor_divide, reflected=True)
    __mod__ = _binary("mod", jnp.remainder)
    __rmod__ = _binary("rmod", jnp.remainder, reflected=True)
    __pow__ = _binary("pow", jnp.power)
    __rpow__ = _binary("rpow", jnp.power, reflected=True)
    __matmul__ = _binary("matmul", jnp.matmul)
    __rmatmul__ = _binary("rmatmul", jnp.matmul, reflected=True)
    __and__ = _binary("and", jnp.bitwise_and)
    __rand__ = _binary("rand", jnp.bitwise_and, reflected=True)
    __or__ = _binary("or", jnp.bitwise_or)
    __ror__ = _binary("ror", jnp.bitwise_or, reflected=True)
    __xor__ = _binary("xor", jnp.bitwise_xor)
    __rxor__ = _binary("rxor", jnp.bitwise_xor, reflected=True)
    __eq__ = _binary("eq", jnp.equal)  # type: ignore[assignment]
    __ne__ = _binary("ne", jnp.not_equal)  # type: ignore[assignment]
    __lt__ = _binary("lt", jnp.less)
    __le__ = _binary("le", jnp.less_equal)
    __gt__ = _binary("gt", jnp.greater)
    __ge__ = _binary("ge", jnp.greater_equal)
    __neg__ = _unary("neg", jnp.negative)
    __pos__ = _unary("pos", lambda x: x)
    __abs__ = _unary("abs", jnp.abs)
    __invert__ = _unary("invert", jnp.invert)

    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """torch's ``add(other, alpha=1)``: ``self + alpha * other``."""
        return self + other if alpha == 1 else op("add_scaled", _add_scaled, self, other, alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """torch's ``sub(other, alpha=1)``: ``self - alpha * other``."""
        return self - other if alpha == 1 else op("add_scaled", _add_scaled, self, other, -alpha)

    subtract = sub
    mul = _binary("mul", jnp.multiply)
    multiply = mul
    div = _binary("div", _true_divide)
    divide = div
    true_divide = div
    floor_divide = _binary("floordiv", jnp.floor_divide)
    remainder = _binary("mod", jnp.remainder)
    pow = _binary("pow", jnp.power)
    matmul = _binary("matmul", jnp.matmul)
    mm = matmul
    lt = _binary("lt", jnp.less)
    le = _binary("le", jnp.less_equal)
    gt = _binary("gt", jnp.greater)
    ge = _binary("ge", jnp.greater_equal)
    maximum = _binary("maximum", jnp.maximum)
    minimum = _binary("minimum", jnp.minimum)
    logical_and = _binary("logical_and", jnp.logical_and)
    logical_or = _binary("logical_or", jnp.logical_or)
    logical_not = _unary("logical_not", jnp.logical_not)
    abs = _unary("abs", jnp.abs)
    neg = _unary("neg", jnp.negative)
    exp = _unary("exp", jnp.exp)
    log = _unary("log", jnp.log)
    log1p = _unary("log1p", jnp.log1p)
    sqrt = _unary("sqrt", jnp.sqrt)
    rsqrt = _unary("rsqrt", _rsqrt)
    square = _unary("square", jnp.square)
    sin = _unary("sin", jnp.sin)
    cos = _unary("cos", jnp.cos)
    tanh = _unary("tanh", jnp.tanh)
    sigmoid = _unary("sigmoid", _sigmoid)
    relu = _unary("relu", _relu)
    floor = _unary("floor", jnp.floor)
    ceil = _unary("ceil", jnp.ceil)
    round = _unary("round", jnp.round)
    sign = _unary("sign", jnp.sign)
    reciprocal = _unary("reciprocal", jnp.reciprocal)
    isnan = _unary("isnan", jnp.isnan)
    isinf = _unary("isinf", jnp.isinf)
    isfinite = _unary("isfinite", jnp.isfinite)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        """torch's ``clamp(min=None, max=None)``: either bound may be omitted (not both), or be an array."""
        if min is None and max is None:
            raise ValueError("Tensor.clamp: at least one of 'min' and 'max' must be given.")
        if max is None:
            return op("clamp_min", jnp.maximum, self, min)
        if min is None:
            return op("clamp_max", jnp.minimum, self, max)
        return op("clip", lambda x, lo, hi: jnp.clip(x, lo, hi), self, min, max)

    clip = clamp

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        """The softmax along ``dim`` (computed in ``dtype`` if given)."""
        _check_dims("softmax", dim, self.ndim)
        x = self if dtype is None else self.type(dtype)
        return op("softmax", jax.nn.softmax, x, axis=int(dim))

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        """The log of the softmax along ``dim`` (computed in ``dtype`` if given)."""
        _check_dims("log_softmax", dim, self.ndim)
        x = self if dtype is None else self.type(dtype)
        return op("log_softmax", jax.nn.log_softmax, x, axis=int(dim))

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where ``mask`` (a boolean array broadcast to the shape) is true, the tensor's values elsewhere."""
        return op("masked_fill", lambda x, m, v: jnp.where(m, jnp.asarray(v, x.dtype), x), self, mask, value)

    def where(self, condition: Any, other: Any) -> Tensor:
        """``self`` where ``condition`` is true, ``other`` elsewhere (torch's ``where(condition, self, other)``)."""
        return op("where", jnp.where, condition, self, other)

    def zero_(self) -> Tensor:
        """Set every value to zero, in place (the tensor object now holds the result). Returns the tensor."""
        return self._assign(op("zeros_like", jnp.zeros_like, self))

    def fill_(self, value: Any) -> Tensor:
        """Set every value to ``value``, in place (the tensor object now holds the result). Returns the tensor."""
        return self._assign(op("full_like", lambda x, v: jnp.full_like(x, v), self, value))

    def copy_(self, source: Any) -> Tensor:
        """Take ``source``'s values (broadcast to the shape, cast to the dtype), in place. Returns the tensor."""
        return self._assign(op("copy", lambda x, s: jnp.broadcast_to(jnp.asarray(s, x.dtype), x.shape), self, source))

    add_ = _inplace("add_")
    sub_ = _inplace("sub_")
    mul_ = _inplace("mul_")
    div_ = _inplace("div_")
    pow_ = _inplace("pow_")
    clamp_ = _inplace("clamp_")
    clip_ = _inplace("clip_")
    abs_ = _inplace("abs_")
    neg_ = _inplace("neg_")
    exp_ = _inplace("exp_")
    sigmoid_ = _inplace("sigmoid_")
    relu_ = _inplace("relu_")
    masked_fill_ = _inplace("masked_fill_")
    unsqueeze_ = _inplace("unsqueeze_")
    squeeze_ = _inplace("squeeze_")

    # ``t += x`` is in place, as in torch: every reference to this object sees the result.
    __iadd__ = _inplace("add_")
    __isub__ = _inplace("sub_")
    __imul__ = _inplace("mul_")
    __itruediv__ = _inplace("div_")

    # -- torch interop ----------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # Reached only for names the class lacks: say what to use instead of a bare AttributeError.
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"'Tensor' object has no attribute {name!r}: snnax_torchlike.Tensor has torch's common tensor methods "
            "(see docs/pytorch-users.md); for others, apply jax.numpy to it (jnp.asarray(t)), or hand it to torch "
            "as torch.from_numpy(t.numpy()) (outside what backward() differentiates)."
        )

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        from ._torch_function import dispatch

        return dispatch(func, args, kwargs or {})


def _looks_like_dtype(value: Any) -> bool:
    """Whether an argument of ``to()`` is a dtype rather than a device (``"cpu"``, ``"cuda:0"``, a torch.device)."""
    if isinstance(value, (np.dtype, type)):
        return value is not Tensor
    if isinstance(value, str):
        try:
            _dtype_of(value)
        except TypeError:
            return False
        return True
    return type(value).__name__ == "dtype"  # torch.dtype


def _topk(x, k, largest):
    values, indices = jax.lax.top_k(x if largest else -x, k)
    return (values if largest else -values), indices


def _argsort(x, axis, descending):
    return jnp.argsort(-x if descending else x, axis=axis, stable=True)


def _flatten(tensor: Tensor) -> tuple[tuple[jax.Array], None]:
    return (tensor.jax(),), None


def _unflatten(aux: None, children: tuple[Any]) -> Any:
    (child,) = children
    # Always a Tensor, also around the placeholders (None, sentinels) that pytree utilities
    # such as equinox's partition/combine put in: the tree structure must round-trip.
    tensor = Tensor.__new__(Tensor)
    tensor._value, tensor._node, tensor._index = child, None, 0
    return tensor


jax.tree_util.register_pytree_node(Tensor, _flatten, _unflatten)


def known_values(value: Any) -> np.ndarray | None:
    """``value``'s values as numpy when they exist now, without running anything.

    **Returns:** None for a `Tensor` still pending (recorded, not yet computed),
    for a traced array (inside ``jit``/``grad``) and for what is not array-like;
    else the values (numpy, JAX, `Tensor`, foreign arrays such as torch tensors).
    """
    if isinstance(value, Tensor):
        value = value._value
        if value is None:
            return None
    if isinstance(value, jax.core.Tracer) or not (hasattr(value, "shape") or isinstance(value, (list, tuple, int))):
        return None
    try:
        return to_numpy(value)
    except (TypeError, ValueError, jax.errors.JAXTypeError):
        return None


def unwrap(tree: Any) -> Any:
    """``tree`` with every `Tensor` replaced by its JAX array (other leaves unchanged)."""
    return jax.tree_util.tree_map(
        lambda leaf: leaf.jax() if isinstance(leaf, Tensor) else leaf, tree, is_leaf=lambda x: isinstance(x, Tensor)
    )


@functools.lru_cache(maxsize=None)
def _stack_fn(count: int, axis: int, concatenate: bool) -> Callable[..., Any]:
    combine = jnp.concatenate if concatenate else jnp.stack

    def fn(ints: tuple, *arrays: Any) -> Any:
        return combine(arrays, axis=axis)

    return fn


def _check_joined_shapes(function: str, tensors: tuple, dim: int, new_axis: bool) -> None:
    """torch's ``RuntimeError`` for tensors ``stack``/``cat`` cannot join (JAX's error names neither the call nor
    which tensor differs)."""
    shapes = [tuple(np.shape(t)) for t in tensors]
    first = shapes[0]
    _check_dims(function, dim, len(first), extra=int(new_axis))
    axis = dim % (len(first) + int(new_axis))
    for number, shape in enumerate(shapes[1:], start=1):
        if new_axis and shape != first:
            raise RuntimeError(
                f"{function} expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                f"{list(shape)} at entry {number}."
            )
        if not new_axis and (len(shape) != len(first) or any(a != b for i, (a, b) in enumerate(zip(first, shape))
                                                              if i != axis)):
            raise RuntimeError(
                f"{function}: sizes of tensors must match except in dimension {axis}; got {list(first)} for tensor "
                f"number 0 and {list(shape)} for tensor number {number} in the list."
            )


def stack(tensors: Any, dim: int = 0) -> Tensor:
    """``torch.stack``: join tensors along a new axis ``dim``."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("stack: expects a non-empty sequence of tensors.")
    _check_joined_shapes("stack", tensors, int(dim), new_axis=True)
    key = ("stack", len(tensors), int(dim))
    return apply(_stack_fn(len(tensors), int(dim), False), key, tensors)


def cat(tensors: Any, dim: int = 0) -> Tensor:
    """``torch.cat``: join tensors along the existing axis ``dim``."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("cat: expects a non-empty sequence of tensors.")
    _check_joined_shapes("cat", tensors, int(dim), new_axis=False)
    key = ("cat", len(tensors), int(dim))
    return apply(_stack_fn(len(tensors), int(dim), True), key, tensors)
