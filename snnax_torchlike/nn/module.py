"""`Module` and `Parameter`: PyTorch-style mutable objects over immutable JAX arrays.

A `Module` holds `Parameter`s, buffers and child modules, and exposes torch's
names (`parameters()`, `state_dict()`, `train()`, ...). Its arrays never change
in place: a training step computes new arrays in a pure, jitted function and the
module is pointed at them afterwards. Inside such a function, `Module.bind`
temporarily points every parameter at the traced arrays, so `forward` itself is
written once and runs both eagerly and under `jax.jit`.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ..imperative import Size, Tensor, in_pure_scope, is_grad_enabled
from ..imperative.convert import to_array, to_numpy

__all__ = ["Module", "Parameter", "LoadResult", "bind_parameters", "to_array", "to_numpy"]


class Parameter:
    """A trainable array, like ``torch.nn.Parameter``.

    ``data`` holds the current JAX array; assigning a module attribute a
    ``Parameter`` registers it. ``requires_grad=False`` freezes it (it is then
    left out of training but kept in ``state_dict``). ``grad`` is filled by
    ``loss.backward()`` (accumulating, as in torch) and cleared by
    ``optimizer.zero_grad()``.
    """

    __slots__ = ("_data", "requires_grad", "_grad")
    _is_parameter = True

    def __init__(self, data: ArrayLike, requires_grad: bool = True):
        self._data = to_array(data)
        self.requires_grad = bool(requires_grad)
        self._grad: Tensor | None = None

    @property
    def grad(self) -> Tensor | None:
        """The gradient ``loss.backward()`` accumulated (None until then and after ``zero_grad()``)."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            value = value if isinstance(value, Tensor) else Tensor(value)
            if tuple(value.shape) != tuple(self._data.shape):
                raise ValueError(
                    f"Parameter.grad: assigned grad has shape {tuple(value.shape)}, but the parameter has shape "
                    f"{tuple(self._data.shape)}; a gradient must have the parameter's shape."
                )
        self._grad = value

    @property
    def data(self) -> Array:
        """The current array. Assigning keeps the shape: a new shape needs a new ``Parameter``."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        value = to_array(value)
        if isinstance(value, jax.core.Tracer) and not isinstance(self._data, jax.core.Tracer):
            # The parameter is not bound to this trace: the value would outlive the compiled function that
            # computed it, and the parameter would hold an unusable tracer afterwards.
            raise RuntimeError(
                "Parameter.data: a value computed inside a compiled function (snx.compile, jax.jit) is being "
                "assigned to a parameter: an optimizer.step() or a parameter update there cannot take effect. "
                "Call optimizer.step() outside the compiled function, or compile the whole training step with "
                "optimizer.step(closure)."
            )
        if tuple(value.shape) != tuple(self._data.shape):
            raise ValueError(
                f"Parameter.data: got a value of shape {tuple(value.shape)} for a parameter of shape "
                f"{tuple(self._data.shape)}; a layer's parameter keeps its shape (assign a new nn.Parameter "
                "to the module attribute to change it)."
            )
        self._data = value

    def _in_place(self, name: str, other: Any, combine: Callable[[Array, Array], Array]) -> Parameter:
        """``self.data = combine(self.data, other)``, refused where torch refuses it (a leaf that records)."""
        if in_pure_scope():
            raise RuntimeError(
                f"Parameter.{name} inside a compiled function (snx.compile, optimizer.step(closure), fit): the "
                "parameter is bound to traced values there, and the change would be lost when it returns. Update "
                "parameters outside it (optimizer.step(), or the in-place update under no_grad() after the call)."
            )
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in an in-place operation ({name}): wrap the "
                "update in torch.no_grad() / snx.no_grad(), or assign to .data."
            )
        value = combine(self._data, to_array(other))
        if value.shape != self._data.shape:
            raise ValueError(
                f"Parameter.{name}: the result has shape {tuple(value.shape)}, not the parameter's "
                f"{tuple(self._data.shape)} (the other operand may only broadcast to it)."
            )
        self._data = value.astype(self._data.dtype)
        return self

    def add_(self, other: Any, *, alpha: float = 1.0) -> Parameter:
        """``self += alpha * other`` in place, under ``no_grad()`` (as torch). Returns the parameter."""
        return self._in_place("add_", other, lambda a, b: a + alpha * b)

    def sub_(self, other: Any, *, alpha: float = 1.0) -> Parameter:
        """``self -= alpha * other`` in place, under ``no_grad()`` (as torch). Returns the parameter."""
        return self._in_place("sub_", other, lambda a, b: a - alpha * b)

    def mul_(self, other: Any) -> Parameter:
        """``self *= other`` in place, under ``no_grad()`` (as torch). Returns the parameter."""
        return self._in_place("mul_", other, jnp.multiply)

    def div_(self, other: Any) -> Parameter:
        """``self /= other`` in place, under ``no_grad()`` (as torch). Returns the parameter."""
        return self._in_place("div_", other, jnp.divide)

    def fill_(self, value: Any) -> Parameter:
        """Set every value to ``value`` in place, under ``no_grad()`` (as torch). Returns the parameter."""
        return self._in_place("fill_", value, lambda a, b: jnp.full_like(a, b))

    def __setitem__(self, index: Any, value: Any) -> None:
        """``p[index] = value`` under ``no_grad()``, as torch (indices are checked as a tensor's)."""

        def assign(current: Array, new: Array) -> Array:
            tensor = Tensor(current)
            tensor[index] = new
            return tensor.jax()

        self._in_place("__setitem__", value, assign)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def __getattr__(self, name: str) -> Any:
        # Reached only for names the class lacks: say what a parameter offers instead of a bare AttributeError.
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"'Parameter' object has no attribute {name!r}: nn.Parameter computes like a tensor (p * 2, p @ x, "
            "jnp functions) and offers torch's in-place add_/sub_/mul_/div_/fill_/zero_/copy_ and p[i] = v under "
            "no_grad(); for anything else, compute the new values and assign them: p.copy_(new) or p.data = new."
        )

    def _accumulate_grad(self, grad: Array) -> None:
        """Add ``grad`` to ``.grad`` (which starts at None), as torch's autograd does."""
        self.grad = Tensor(grad if self.grad is None else self.grad.jax() + grad)

    def __jax_array__(self) -> Array:
        return self.data

    def requires_grad_(self, requires_grad: bool = True) -> Parameter:
        """Train (``True``) or freeze (``False``) this parameter, as torch's. Returns the parameter."""
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The current value as a [`Tensor`][snnax_torchlike.Tensor] that no gradient flows back through."""
        return Tensor(self.data)

    def copy_(self, src: Any) -> Parameter:
        """Take ``src``'s values (any array-like, a torch tensor too), as ``torch.Tensor.copy_`` under ``no_grad``.

        ``src`` broadcasts to this parameter's shape (torch's rule; another shape raises)
        and is cast to its dtype. Returns the parameter.
        """
        value = to_array(src)
        try:
            value = jnp.broadcast_to(value, self.data.shape)
        except ValueError:
            raise ValueError(
                f"Parameter.copy_: the source of shape {tuple(value.shape)} does not broadcast to the "
                f"parameter's shape {self.shape}."
            ) from None
        self.data = value.astype(self.data.dtype)
        return self

    def zero_(self) -> Parameter:
        """Set every value to zero, as ``torch.Tensor.zero_``. Returns the parameter."""
        self.data = jnp.zeros_like(self.data)
        return self

    @property
    def size(self) -> Size:
        """As a tensor's: ``size()``/``size(d)`` as torch, the element count when read as a number."""
        return Size(self.shape)

    def numel(self) -> int:
        """The number of elements."""
        return int(self.size)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape, a tuple of ints."""
        return tuple(self.data.shape)

    @property
    def dtype(self) -> Any:
        """The dtype of the array (float32 for the layers' parameters)."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self.data.ndim

    def numpy(self) -> np.ndarray:
        """A numpy copy of the current value."""
        return np.array(self.data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.data, dtype=dtype)

    def __repr__(self) -> str:
        grad = "" if self.requires_grad else ", requires_grad=False"
        return f"Parameter(shape={self.shape}, dtype={self.dtype}{grad})"


# A parameter computes like a tensor (``lif.beta * x``, ``x @ fc.weight``, torch tensors on either side),
# and what it computes reaches its ``.grad`` on ``backward()``. ``==``/``!=`` stay identity, as in torch's
# containers of parameters (``param in optimizer_params``).
for _operator in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul"):
    for _side in ("", "r"):
        setattr(Parameter, f"__{_side}{_operator}__", getattr(Tensor, f"__{_side}{_operator}__"))
for _operator in ("lt", "le", "gt", "ge", "neg", "pos", "abs"):
    setattr(Parameter, f"__{_operator}__", getattr(Tensor, f"__{_operator}__"))
Parameter.__torch_function__ = Tensor.__dict__["__torch_function__"]
Parameter.__array_priority__ = Tensor.__array_priority__


@runtime_checkable
class FacadeLayer(Protocol):
    """What ``nn.Sequential`` and ``nn.Graph`` need of a layer they hold (every facade layer has it).

    - ``core_layer()``: the layer as a pure core layer (an Equinox module of
      ``snnax_torchlike.snn``) over its current arrays; containers build one core
      model from these and run it over time.
    - ``is_neuron``: the layer spikes; a container whose last layer (or a graph
      whose output) is a neuron returns its membrane too.
    - ``needs_key``: a call draws random numbers; the container passes a key.

    ``Module`` declares ``is_neuron`` and ``needs_key`` (both ``False``), so a module
    is a facade layer exactly when it defines ``core_layer``.
    """

    is_neuron: bool
    needs_key: bool

    def core_layer(self) -> Any:
        """The layer as a pure core layer (an Equinox module of ``snnax_torchlike.snn``) over its current arrays."""


def _equal(a: Any, b: Any) -> bool:
    """Whether two losses or metrics compute the same: the same object, or equal objects of one type."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:  # an == that returns arrays or refuses: only identity counts
        return False


_CACHES = frozenset({"_trainers", "_record_plan", "_key_cache"})
"""Attributes that hold compiled functions: dropped from copies and pickles."""


class TrainingBackend(NamedTuple):
    """What ``Module.fit``/``evaluate``/``predict``/``save`` call: the training layer's ``Trainer`` and ``save``."""

    Trainer: type
    save: Callable[[Any, str], None]


_TRAINING_BACKEND: list[TrainingBackend] = []


def register_training_backend(backend: TrainingBackend) -> None:
    """Make ``Module.fit`` and its kind use ``backend``.

    ``snnax_torchlike.train`` registers itself when it is imported (importing
    ``snnax_torchlike`` imports it), so this layer never imports the one above it.
    """
    _TRAINING_BACKEND[:] = [backend]


def _training_backend() -> TrainingBackend:
    if not _TRAINING_BACKEND:
        raise RuntimeError("Module.fit/evaluate/predict/save need snnax_torchlike.train: import snnax_torchlike first.")
    return _TRAINING_BACKEND[0]


@contextlib.contextmanager
def bind_parameters(params: Sequence[Parameter], arrays: Sequence[Array]) -> Iterator[None]:
    """Temporarily set ``params[i].data = arrays[i]``; the old values come back on exit."""
    saved = [p.data for p in params]
    try:
        for param, array in zip(params, arrays, strict=True):
            # Any array, a tracer of the caller's trace too, for the duration of the binding; not checked
            # against the parameter's shape: a recorded function shared by layers of the same settings
            # binds each layer's arrays into the parameters of the layer it was recorded from.
            param._data = to_array(array)
        yield
    finally:
        for param, old in zip(params, saved):
            param._data = old


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped, as torch's ``_IncompatibleKeys``."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of facade layers and user networks, like ``torch.nn.Module``.

    Subclass it, create layers in ``__init__`` (after ``super().__init__()``) and
    write ``forward``. Calling the module calls ``forward``.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_hidden", {})
        object.__setattr__(self, "_version", 0)
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_trainers", [])

    # -- registration -------------------------------------------------------------
    def _registries(self) -> tuple[dict, dict, dict]:
        try:
            return self.__dict__["_parameters"], self.__dict__["_buffers"], self.__dict__["_modules"]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning parameters or layers."
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            isinstance(value, (Parameter, Module))
            or name in self.__dict__.get("_parameters", ())
            or name in (self.__dict__.get("_buffers", ()))
        ):
            params, buffers, modules = self._registries()
            if isinstance(value, Parameter):
                buffers.pop(name, None), modules.pop(name, None)
                params[name] = value
            elif isinstance(value, Module):
                params.pop(name, None), buffers.pop(name, None)
                modules[name] = value
            elif name in params:
                if value is not None:
                    raise TypeError(
                        f"{type(self).__name__}.{name} is a Parameter: assign a Parameter, or set "
                        f"{name}.data to change its value (got {type(value).__name__})."
                    )
                params[name] = None
            else:
                buffers[name] = None if value is None else to_array(value)
            self.__dict__["_version"] += 1
            return
        hidden = self.__dict__.get("_hidden")
        if hidden is not None and name in hidden:
            hidden[name] = value
            return
        object.__setattr__(self, name, value)
        # Recorded calls are compiled per module version: a changed setting must not reuse them.
        self.__dict__["_version"] = self.__dict__.get("_version", 0) + 1

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: parameters, buffers and children live in dicts.
        for registry in ("_parameters", "_buffers", "_modules", "_hidden"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                value = entries[name]
                # A concrete buffer is read as a tensor, so it mixes with torch tensors as torch's buffers
                # do; inside a traced function it stays the tracer the layer's code computes with.
                if registry == "_buffers" and value is not None and not isinstance(value, jax.core.Tracer):
                    return Tensor(value)
                return value
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                self.__dict__["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: ArrayLike | None, persistent: bool = True) -> None:
        """A non-trained array that belongs to the state (``persistent``: saved in ``state_dict``)."""
        _, buffers, _ = self._registries()
        buffers[name] = None if value is None else to_array(value)
        if not persistent:
            self.__dict__["_non_persistent"].add(name)
        self.__dict__["_version"] += 1

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a [`Parameter`][snnax_torchlike.nn.Parameter], or None: an empty slot) as ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"{type(self).__name__}.register_parameter: expected a Parameter, got {type(param).__name__}."
            )
        self._registries()[0][name] = param
        self.__dict__["_version"] += 1

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` (or None) as the child ``name``, as ``setattr(self, name, module)`` does."""
        self._registries()[2][name] = module
        self.__dict__["_version"] += 1

    # -- traversal ----------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` of the direct children, in the order they were assigned."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct children, in the order they were assigned."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` of this module (named ``prefix``) and every module below it, depth first.

        Names are torch's: ``""`` for this module, ``"0"``, ``"0.fc"``, ...
        """
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        """This module and every module below it, depth first (as ``named_modules``)."""
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(name, Parameter)`` pairs with torch's dotted names, each parameter once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_prefix}.{name}" if module_prefix else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every [`Parameter`][snnax_torchlike.nn.Parameter] (of the children too unless ``recurse=False``), each once.

        This is what an optimizer takes: ``optim.Adam(net.parameters(), lr=1e-3)``.
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Array]]:
        """``(dotted name, array)`` of the buffers (of the children too unless ``recurse=False``), set ones only."""
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_prefix}.{name}" if module_prefix else name), buffer

    def buffers(self, recurse: bool = True) -> Iterator[Array]:
        """The buffers' arrays (of the children too unless ``recurse=False``), as ``named_buffers``."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # -- modes --------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every child; returns ``self``."""
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"{type(self).__name__}.train: training mode is expected to be boolean, got {mode!r}.")
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode, ``train(False)``: no dropout, batch norm uses its running statistics. Returns ``self``."""
        return self.train(False)

    # -- state dict ---------------------------------------------------------------
    def _state_slots(self) -> Iterator[tuple[str, Module, str, str]]:
        """``(full name, owner, attribute, kind)`` in torch's ``state_dict`` order."""
        for prefix, module in self.named_modules():
            dotted = f"{prefix}." if prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    yield dotted + name, module, name, "parameter"
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    yield dotted + name, module, name, "buffer"

    def named_arrays(self, *, buffers: bool = True) -> OrderedDict[str, Array]:
        """The current arrays of parameters (and persistent buffers), in ``state_dict`` order.

        These are the live JAX arrays, not copies: the inputs of a pure function
        made with [`bind`][].
        """
        result: OrderedDict[str, Array] = OrderedDict()
        for name, owner, attr, kind in self._state_slots():
            if kind == "parameter":
                result[name] = owner._parameters[attr].data
            elif buffers:
                result[name] = owner._buffers[attr]
        return result

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Parameters and persistent buffers as numpy copies, with torch's names and layouts."""
        return OrderedDict((name, np.array(value)) for name, value in self.named_arrays().items())

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Load values by name; numpy arrays, JAX arrays and torch tensors are accepted.

        Shapes must match exactly and values are cast to each slot's dtype. With
        ``strict`` (default), missing or unexpected keys raise; every problem
        (missing, unexpected, misshapen, None or non-numeric values, a code a layer
        does not know) is listed in one ``ValueError`` before anything is written, so a
        failed load leaves the module unchanged.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict: expected a mapping of names to arrays, got "
                f"{type(state_dict).__name__} {state_dict!r:.80}; for a file, load it first: "
                "net.load_state_dict(snx.load(path))."
            )
        slots = {name: (owner, attr, kind) for name, owner, attr, kind in self._state_slots()}
        missing = [name for name in slots if name not in state_dict]
        unexpected = [name for name in state_dict if name not in slots]
        values: dict[str, Array] = {}
        misshapen, unusable = [], []
        current_arrays = self.named_arrays()
        for name in slots:
            if name not in state_dict:
                continue
            if state_dict[name] is None:
                unusable.append(f"{name}: got None")
                continue
            value = to_numpy(state_dict[name])
            current = current_arrays[name]
            if tuple(value.shape) != tuple(current.shape):
                misshapen.append(f"{name}: expected shape {tuple(current.shape)}, got {tuple(value.shape)}")
                continue
            if value.dtype.kind not in "biuf":
                unusable.append(f"{name}: expected numbers, got dtype {value.dtype}")
                continue
            owner, attr, _ = slots[name]
            problem = owner._check_loaded_value(attr, value)
            if problem is not None:
                unusable.append(f"{name}: {problem}")
                continue
            # Converted (and copied: never aliasing the source) before anything is written.
            values[name] = jnp.array(value, dtype=current.dtype, copy=True)
        problems = []
        if misshapen:
            problems.append("size mismatch for " + "; ".join(misshapen))
        if unusable:
            problems.append("unusable values for " + "; ".join(unusable))
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + ". ".join(problems) + ".")
        for name, value in values.items():
            owner, attr, kind = slots[name]
            if kind == "parameter":
                owner._parameters[attr].data = value
            else:
                owner._buffers[attr] = value
        for module in self.modules():
            module._after_load_state_dict()
        return LoadResult(missing, unexpected)

    def _check_loaded_value(self, name: str, value: np.ndarray) -> str | None:
        """What is wrong with ``value`` for this module's array ``name`` (checked before a load writes), or None."""
        return None

    def _after_load_state_dict(self) -> None:
        """Bring settings that mirror a loaded buffer (a neuron's reset mechanism) up to date."""

    def save(self, path: str) -> None:
        """Write ``state_dict()`` to ``path`` as safetensors (torch-readable, torch names)."""
        _training_backend().save(self, path)

    # -- functional execution -------------------------------------------------------
    @contextlib.contextmanager
    def bind(self, arrays: Mapping[str, Array]) -> Iterator[Module]:
        """Temporarily point named parameters/buffers at ``arrays`` (e.g. tracers inside ``jit``).

        The module's own values are restored on exit, even on error. This is how a
        pure function of the arrays is made from ``forward``.
        """
        slots = {name: (owner, attr, kind) for name, owner, attr, kind in self._state_slots()}
        unknown = [name for name in arrays if name not in slots]
        if unknown:
            raise KeyError(f"{type(self).__name__}.bind: no parameter or buffer named {unknown}.")
        params, param_arrays, saved_buffers = [], [], []
        for name, array in arrays.items():
            owner, attr, kind = slots[name]
            if kind == "parameter":
                params.append(owner._parameters[attr])
                param_arrays.append(array)
            else:
                saved_buffers.append((owner, attr, owner._buffers[attr], array))
        # Hidden state set while bound (it holds tracers there) must not outlive the binding.
        saved_hidden = [(module, dict(module.__dict__.get("_hidden", {}))) for module in self.modules()]
        try:
            for owner, attr, _, array in saved_buffers:
                owner._buffers[attr] = array
            with bind_parameters(params, param_arrays):
                yield self
        finally:
            for owner, attr, old, _ in saved_buffers:
                owner._buffers[attr] = old
            for module, hidden in saved_hidden:
                module.__dict__["_hidden"] = hidden

    # -- hidden state (snnTorch's init_hidden) ------------------------------------------
    def register_hidden(self, name: str, value: Any = None) -> None:
        """Declare ``name`` as hidden state: set by calls, read as an attribute, never in ``state_dict``."""
        self.__dict__["_hidden"][name] = value

    def named_hidden(self) -> OrderedDict[str, Array]:
        """Every hidden state that holds a value, as JAX arrays by dotted name (``"1.mem"``)."""
        result: OrderedDict[str, Array] = OrderedDict()
        for prefix, module in self.named_modules():
            for name, value in module.__dict__.get("_hidden", {}).items():
                if value is not None:
                    result[f"{prefix}.{name}" if prefix else name] = to_array(value)
        return result

    def set_hidden(self, values: Mapping[str, Any]) -> None:
        """Set hidden states by dotted name (values as ``named_hidden`` gives them); others stay."""
        modules = dict(self.named_modules())
        for dotted, value in values.items():
            prefix, _, name = dotted.rpartition(".")
            modules[prefix].__dict__["_hidden"][name] = None if value is None else Tensor(value)

    # -- calling ----------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of a call: ``module(x)`` calls ``forward(x)``. Override it in a subclass.

        Layers of this library take and return what torch's and snnTorch's do (see each
        class); a network defined by subclassing runs its ``forward`` as ordinary Python.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement forward().")

    is_neuron: ClassVar[bool] = False
    """Whether the layer spikes (see `FacadeLayer`): a container returns a last neuron's membrane too."""

    needs_key: ClassVar[bool] = False
    """Whether a call draws random numbers (``Dropout``): a container passes a PRNG key."""

    records_as_node: bool = False
    """Whether a call is recorded as one node: facade layers, whose ``forward`` is a pure function of their
    arrays and inputs (every class with a ``core_layer``), set it; user networks run ``forward`` as Python."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "records_as_node" not in cls.__dict__ and callable(getattr(cls, "core_layer", None)):
            cls.records_as_node = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.records_as_node:
            from ._recorded_call import recorded_call

            return recorded_call(self, self.forward, args, kwargs)
        return self.forward(*args, **kwargs)

    # -- devices and dtypes (torch's words; JAX places arrays itself) -------------------------
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Accepted for ``net.to(device)``: JAX places arrays itself. A dtype other than float32 is refused."""
        for value in list(args) + list(kwargs.values()):
            name = str(value)
            if "float" in name or "int" in name or "bfloat" in name or "half" in name or "double" in name:
                if name not in ("torch.float32", "float32", "torch.float"):
                    raise TypeError(
                        f"{type(self).__name__}.to: only float32 parameters are supported, got {name}; "
                        "device arguments (cpu, cuda) are accepted and do nothing."
                    )
        return self

    def cpu(self) -> Module:
        """Accepted for torch code; does nothing (JAX places arrays itself). Returns ``self``."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Accepted for torch code; does nothing (JAX places arrays itself). Returns ``self``."""
        return self

    def float(self) -> Module:
        """Accepted for torch code; does nothing (parameters are float32). Returns ``self``."""
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear ``.grad`` of every parameter, as ``torch.nn.Module.zero_grad``: to None, or to zeros."""
        for param in self.parameters():
            param.grad = None if set_to_none or param.grad is None else jnp.zeros_like(param.data)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Train (``True``) or freeze (``False``) every parameter of the module, as torch's. Returns ``self``."""
        for param in self.parameters():
            param.requires_grad = bool(requires_grad)
        return self

    # -- training (Keras/Lightning words; implemented by snnax_torchlike.train) ------
    def _trainer(
        self, optimizer: Any, loss_fn: Any, metrics: Any, callbacks: Any, progress: bool, devices: Any,
        precision: str, logger: Any = None, log_every_n_steps: int = 10,
    ) -> Any:  # fmt: skip
        """A ``Trainer`` for these arguments, reused across calls so its compiled steps are too.

        A trainer serves a call with the same optimizer (the same object) and equal
        loss and metrics (``SF.ce_rate_loss()`` equals another ``SF.ce_rate_loss()``;
        functions equal only themselves). The four most recently used are kept;
        copies and pickles of the module leave them out.
        """
        metric_list = list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
        trainers: list[Any] = self.__dict__["_trainers"]
        for trainer in trainers:
            if (
                trainer.optimizer is optimizer
                and _equal(trainer.loss_fn, loss_fn)
                and len(trainer.metrics) == len(metric_list)
                and all(_equal(a, b) for a, b in zip(trainer.metrics, metric_list))
            ):
                trainers.remove(trainer)
                break
        else:
            trainer = _training_backend().Trainer(self, optimizer, loss_fn, metrics=metrics)
            del trainers[:-3]
        trainers.append(trainer)
        # The Trainer checks what it is given; each precision has its own compiled steps.
        trainer.callbacks, trainer.loggers, trainer.progress, trainer.precision = callbacks, logger, progress, precision
        trainer.log_every_n_steps = log_every_n_steps
        if devices is not trainer.devices:
            trainer.devices = devices
        return trainer

    def __getstate__(self) -> dict[str, Any]:
        """The module's attributes for ``copy``/``pickle``, without its caches of compiled functions.

        A copy or an unpickled module builds its own trainers and recorded-call plans when it needs them.
        """
        state = {name: value for name, value in self.__dict__.items() if name not in _CACHES}
        return {**state, "_trainers": []}

    def fit(
        self,
        train_loader: Any,
        epochs: int = 1,
        *,
        optimizer: Any,
        loss_fn: Any,
        metrics: Any = (),
        callbacks: Any = (),
        logger: Any = None,
        log_every_n_steps: int = 10,
        progress: bool = True,
        devices: Any = None,
        precision: str = "32-true",
        **fit_options: Any,
    ) -> Any:
        """Train on ``train_loader``; see [`Trainer.fit`][]. Returns the ``History``.

        ``metrics``, ``callbacks``, ``logger`` (a ``CSVLogger``, a
        ``TensorBoardLogger`` or a list of loggers), ``log_every_n_steps``, ``progress``, ``precision`` (``"bf16-mixed"``:
        mixed precision) and ``devices`` (data parallelism:
        ``"all"``, a count or a device list) are the [`Trainer`][]'s; every other
        keyword (``val_loader``, ``scheduler``, ``ckpt_path``, ...) goes to
        [`Trainer.fit`][]. Calls with the same optimizer, loss and metrics reuse one
        ``Trainer``, so nothing recompiles between them (the same holds for
        ``evaluate``/``predict``).
        """
        trainer = self._trainer(
            optimizer, loss_fn, metrics, callbacks, progress, devices, precision, logger, log_every_n_steps
        )
        return trainer.fit(train_loader, epochs=epochs, **fit_options)

    def evaluate(
        self, loader: Any, *, loss_fn: Any, metrics: Any = (), progress: bool = False, devices: Any = None,
        time_first: bool = True, precision: str = "32-true",
    ) -> dict[str, float]:  # fmt: skip
        """Mean loss and metrics over ``loader``; see [`Trainer.evaluate`][]."""
        trainer = self._trainer(None, loss_fn, metrics, (), progress, devices, precision)
        return trainer.evaluate(loader, time_first=time_first)

    def predict(
        self, loader: Any, *, progress: bool = False, devices: Any = None, time_first: bool = True,
        precision: str = "32-true",
    ) -> Any:  # fmt: skip
        """The network's outputs over ``loader``, concatenated along the batch axis; see [`Trainer.predict`][]."""
        return self._trainer(None, None, (), (), progress, devices, precision).predict(loader, time_first=time_first)

    # -- display ----------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text between the parentheses of ``repr(module)`` (its settings); override it, as in torch."""
        return ""

    def __repr__(self) -> str:
        children = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        return head + "\n" + "\n".join(children) + "\n)"

    def summary(self, input: Any, *, training_memory: bool = True) -> Any:
        """A table of the layers, their output shapes, parameters and state, and the training memory.

        ``net.summary((25, 128, 784))`` (a time-first shape, or an example batch) returns a
        [`ModelSummary`][snnax_torchlike.nn.ModelSummary] that prints as the table; see
        [`summary`][snnax_torchlike.nn.summary] for the arguments.
        """
        from .model_summary import summary

        return summary(self, input, training_memory=training_memory)
