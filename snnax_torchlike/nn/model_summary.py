"""`summary`: a table of a network's layers, output shapes, parameters and memory, like torchinfo's and Keras's.

The shapes come from a real trace of ``forward`` under ``jax.eval_shape``, so
nothing is computed: each module call is intercepted while the trace runs, and
layers that a container runs inside its own ``lax.scan`` (the children of
``nn.Sequential`` and ``nn.Graph``) are read from the container's core model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import snn
from ..imperative import Tensor, pure_scope, unwrap
from ..random import key_scope
from .module import Module, bind_parameters, to_numpy
from .stepped_graph import SteppedGraph
from .time_loop import keeps_hidden_state, reset_hidden_state, traced_forward

__all__ = ["summary", "ModelSummary", "LayerSummary", "TrainingMemory"]

Shape = tuple[int, ...]

_MB = 1e6
"""Bytes per megabyte in the table (decimal, as torchinfo)."""


@dataclasses.dataclass(frozen=True)
class LayerSummary:
    """One row of a [`ModelSummary`][snnax_torchlike.nn.ModelSummary]: one module of the network.

    - ``name``: its dotted name, as ``named_modules`` gives it (``"fc1"``, ``"block.0"``);
      ``""`` for the network itself.
    - ``type_name``: its class name.
    - ``depth``: 0 for the network, 1 for its children, and so on.
    - ``output_shapes``: the shape of every array it returns, over the whole
      sequence and time-first (``[T, B, ...]``) for a layer called once per time
      step; empty when the forward pass does not call it on its own (a part of
      another layer's computation).
    - ``params``: elements of the parameters it holds itself (not its children's);
      a parameter shared with an earlier row is counted there only.
    - ``trainable_params``: those of ``params`` that require grad.
    - ``state_size``: per sample, how many state values (membrane, synaptic
      current, a delayed edge's history, ...) it carries from one time step to the
      next; 0 for a stateless layer.
    - ``shared_with``: the name of an earlier row that is this same module object, or None.
    """

    name: str
    type_name: str
    depth: int
    output_shapes: tuple[Shape, ...]
    params: int
    trainable_params: int
    state_size: int
    shared_with: str | None = None


@dataclasses.dataclass(frozen=True)
class TrainingMemory:
    """What XLA allocates for one forward and backward pass on one batch, from ``memory_analysis()``.

    ``argument_bytes`` (parameters, buffers, the input batch), ``temp_bytes`` (the
    activations kept for the backward pass and XLA's scratch space) and
    ``output_bytes`` (the gradients), each None where the backend gives no analysis.
    ``alias_bytes``: outputs that reuse an argument's buffer (subtracted from the total).
    """

    argument_bytes: int | None
    temp_bytes: int | None
    output_bytes: int | None
    alias_bytes: int | None = 0

    @property
    def total_bytes(self) -> int | None:
        """Arguments + temporaries + outputs - aliased outputs, or None when unavailable."""
        if None in (self.argument_bytes, self.temp_bytes, self.output_bytes):
            return None
        return self.argument_bytes + self.temp_bytes + self.output_bytes - (self.alias_bytes or 0)


@dataclasses.dataclass(frozen=True, repr=False)
class ModelSummary:
    """What [`summary`][snnax_torchlike.nn.summary] found; ``print`` it (or show it in a notebook) for the table.

    - ``model``: the network's class name; ``input_shape``, ``input_dtype``: the batch it was traced with.
    - ``layers``: one [`LayerSummary`][snnax_torchlike.nn.LayerSummary] per module, the network first,
      children in ``named_modules`` order.
    - ``output_shapes``: the shapes of what ``forward`` returns.
    - ``total_params``, ``trainable_params``, ``frozen_params``: parameter elements,
      each shared parameter once (``sum(p.numel() for p in net.parameters())``);
      frozen ones have ``requires_grad=False``.
    - ``param_bytes``: the memory of the parameters.
    - ``state_size``: the state values all layers carry between time steps, per sample.
    - ``training_memory``: a [`TrainingMemory`][snnax_torchlike.nn.TrainingMemory], or None when
      ``training_memory=False``.
    """

    model: str
    input_shape: Shape
    input_dtype: str
    layers: tuple[LayerSummary, ...]
    output_shapes: tuple[Shape, ...]
    total_params: int
    trainable_params: int
    frozen_params: int
    param_bytes: int
    state_size: int
    training_memory: TrainingMemory | None

    def __str__(self) -> str:
        return _table(self)

    __repr__ = __str__


def summary(module: Module, input: Any, *, training_memory: bool = True) -> ModelSummary:
    """A table of ``module``'s layers for one input batch, like torchinfo's ``summary`` and Keras's ``model.summary()``.

    ```python
    net.summary((25, 128, 784))      # a notebook shows the table; print(...) prints it
    ```

    **Arguments:**

    - ``module``: the network.
    - ``input``: a shape, time-first as ``forward`` takes it (``(T, B, ...)``; float32),
      or an example batch (numpy, JAX, a torch tensor), of which only the shape and
      dtype are used.
    - ``training_memory``: also compile (ahead of time, without running it) one
      forward and backward pass on a batch of that shape and report XLA's memory
      for it. It includes the parameters, buffers and input batch, the activations
      kept for backpropagation through time, XLA's temporaries and the gradients
      of the trainable parameters (of the sum of the outputs). It does not include
      the optimizer's state (Adam adds twice the trainable parameters' memory),
      the loss and metrics, the next batch being loaded, or the allocator's
      overhead; it is for the default device's backend. ``False`` skips the compile.

    **Returns:** a [`ModelSummary`][snnax_torchlike.nn.ModelSummary]: per module,
    its output shape (time-first over the sequence where a layer runs per step),
    parameters, whether they are trained, and the state it carries between time
    steps per sample; then the totals.

    Raises ``TypeError`` for a ``module`` that is not an ``nn.Module`` and ``ValueError``
    for a shape that is not a tuple of positive ints, or on which ``forward`` fails
    (naming the shape and the layer's own error).
    """
    if not isinstance(module, Module):
        raise TypeError(f"summary: expected an nn.Module, got {type(module).__name__}.")
    spec = _input_spec(input)
    trace = _trace_shapes(module, spec)
    rows = _rows(module, trace, spec.shape)
    params = list(module.parameters())
    trainable = sum(p.data.size for p in params if p.requires_grad)
    total = sum(p.data.size for p in params)
    return ModelSummary(
        model=type(module).__name__,
        input_shape=tuple(spec.shape),
        input_dtype=str(spec.dtype),
        layers=tuple(rows),
        output_shapes=rows[0].output_shapes,
        total_params=total,
        trainable_params=trainable,
        frozen_params=total - trainable,
        param_bytes=sum(p.data.size * p.data.dtype.itemsize for p in params),
        state_size=sum(row.state_size for row in rows),
        training_memory=_training_memory(module, spec) if training_memory else None,
    )


# -- the input ---------------------------------------------------------------------------------
def _input_spec(value: Any) -> jax.ShapeDtypeStruct:
    """The shape and dtype of ``value``: a shape (a tuple, or a list of ints; float32) or an example array."""
    is_shape_list = isinstance(value, list) and value and all(isinstance(d, int) for d in value)
    if isinstance(value, tuple) or is_shape_list:  # torch.Size is a tuple too
        bad = [d for d in value if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1]
        if not value or bad:
            raise ValueError(
                f"summary: a shape must be a tuple of positive ints, time-first as forward takes it (T, B, ...), "
                f"got {value!r}" + (f" (not positive ints: {bad})." if bad else ".")
            )
        return jax.ShapeDtypeStruct(tuple(int(d) for d in value), jnp.float32)
    given = type(value).__name__
    array = value.jax() if isinstance(value, Tensor) else value
    if not isinstance(array, (jax.Array, np.ndarray)):
        array = to_numpy(array)
    if array.ndim == 0 or array.dtype.kind not in "biuf":
        raise ValueError(
            f"summary: expected a shape tuple (T, B, ...) or an example batch of numbers, got {given} {value!r:.60}."
        )
    return jax.ShapeDtypeStruct(tuple(array.shape), jax.dtypes.canonicalize_dtype(array.dtype))


# -- tracing the forward pass --------------------------------------------------------------------
@dataclasses.dataclass
class _Calls:
    """What the trace saw of one module: per call, the shapes of its array arguments and outputs."""

    inputs: list[tuple[jax.ShapeDtypeStruct, ...]] = dataclasses.field(default_factory=list)
    outputs: list[tuple[Shape, ...]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Trace:
    """What tracing the network's forward pass recorded."""

    calls: dict[int, _Calls]
    """By module id."""
    stepped: bool
    """Whether the network was traced for one time step (hidden-state neurons: ``fit`` steps it too)."""


def _structs(tree: Any) -> tuple[jax.ShapeDtypeStruct, ...]:
    """The shape and dtype of every array in ``tree`` (tensors and tracers included; other leaves skipped)."""
    leaves = jax.tree_util.tree_leaves(unwrap(tree), is_leaf=lambda x: isinstance(x, Tensor))
    return tuple(jax.ShapeDtypeStruct(tuple(x.shape), x.dtype) for x in leaves if hasattr(x, "shape"))


_INTERCEPTING = threading.RLock()
"""Held while classes' ``__call__`` are wrapped: two summaries must not wrap and restore them interleaved."""


@contextlib.contextmanager
def _intercepting(modules: list[Module], on_call: Callable[[Module, tuple, Any], None]) -> Iterator[None]:
    """Within the block, every call of one of ``modules`` reports ``on_call(module, args, output)``.

    Python looks ``__call__`` up on the class, so the classes' own are wrapped for
    the duration (neurons override ``Module.__call__``). Calls of other instances
    pass through; a ``__call__`` that calls its parent's reports once.
    """
    tracked = {id(m) for m in modules}
    active: set[int] = set()
    classes = list(dict.fromkeys(type(m) for m in modules))
    # Resolved before any class is wrapped, so a subclass does not wrap its parent's wrapper.
    originals = {cls: (cls.__dict__.get("__call__"), cls.__call__) for cls in classes}

    def wrap(call: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(call)
        def wrapper(self: Module, *args: Any, **kwargs: Any) -> Any:
            if id(self) not in tracked or id(self) in active:
                return call(self, *args, **kwargs)
            active.add(id(self))
            try:
                output = call(self, *args, **kwargs)
            finally:
                active.discard(id(self))
            on_call(self, args, output)
            return output

        return wrapper

    with _INTERCEPTING:
        try:
            for cls, (_, resolved) in originals.items():
                cls.__call__ = wrap(resolved)
            yield
        finally:
            for cls, (own, _) in originals.items():
                if own is None:
                    del cls.__call__
                else:
                    cls.__call__ = own


def _trace_shapes(module: Module, spec: jax.ShapeDtypeStruct) -> _Trace:
    """Trace ``module``'s forward on ``spec`` as ``fit`` runs it, recording every module call's shapes."""
    calls: dict[int, _Calls] = {}
    stepped = keeps_hidden_state(module)

    def on_call(called: Module, args: tuple, output: Any) -> None:
        record = calls.setdefault(id(called), _Calls())
        record.inputs.append(_structs(args))
        record.outputs.append(tuple(tuple(s.shape) for s in _structs(output)))

    def forward(arrays: dict[str, Any], x: Any) -> None:
        with module.bind(arrays), key_scope(jax.random.key(0)), pure_scope():
            if stepped:  # as `run_over_time`: from a reset state, one step traced (the scan's body)
                reset_hidden_state(module)
                module(x[0])
            else:
                module(x)

    modules = list({id(m): m for m in module.modules()}.values())
    try:
        with _intercepting(modules, on_call):
            jax.eval_shape(forward, dict(module.named_arrays()), spec)
    except (ValueError, TypeError, IndexError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(
            f"summary: {type(module).__name__} cannot run on an input of shape {tuple(spec.shape)} "
            f"({spec.dtype}): {error}"
        ) from error
    return _Trace(calls, stepped)


# -- the rows ----------------------------------------------------------------------------------------
_Row = tuple[str, Module, int, Module | None, str | None]
"""A row of the walk: ``(name, module, depth, parent, shared_with)``."""


def _walk(
    module: Module, name: str = "", depth: int = 0, parent: Module | None = None, seen: dict[int, str] | None = None
) -> Iterator[_Row]:
    """``(name, module, depth, parent, shared_with)`` for every module; a module met again is not entered again."""
    seen = {} if seen is None else seen
    shared = seen.get(id(module))
    yield name, module, depth, parent, shared
    if shared is not None:
        return
    seen[id(module)] = name
    for child_name, child in module.named_children():
        yield from _walk(child, f"{name}.{child_name}" if name else child_name, depth + 1, module, seen)


def _runs_core_model(module: Module) -> bool:
    """Whether a call runs the module's children inside its own core model (not each through ``__call__``)."""
    return callable(getattr(module, "core_model", None)) and bool(module.records_as_node)


def _state_size(core: Any, state: Any, history: Any = None) -> int:
    """The values of ``state`` (when ``core`` is a stateful core layer) and of a delayed edge's ``history``."""
    total = sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(history))
    if isinstance(core, snn.StatefulLayer):
        total += sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(state))
    return total


def _core_children(container: Module, inputs: tuple[jax.ShapeDtypeStruct, ...]) -> dict[str, tuple[Shape, int]]:
    """Per child of a container that runs a core model: its per-sample output shape of one step and its state size.

    ``inputs``: the arrays the container was called with, time-first (one step of a batch for a ``SteppedGraph``).
    """
    skip = 1 if isinstance(container, SteppedGraph) else 2
    per_sample = tuple(jax.ShapeDtypeStruct(x.shape[skip:], x.dtype) for x in inputs)
    core = container.core_model()
    structure = core.graph_structure
    every_layer = snn.StatefulModel(
        snn.GraphStructure(structure.num_layers, structure.input_layer_ids, structure.input_connectivity,
                           output_layer_ids=range(structure.num_layers), merge=structure.merge),
        core.layers,
    )  # fmt: skip
    random = any(m.needs_key for m in container.modules())

    def step(xs: tuple[Any, ...]) -> tuple[Any, list[Any]]:
        state = every_layer.init_state(tuple(x.shape for x in xs) if len(xs) > 1 else xs[0].shape)
        return state, every_layer.step(state, xs, jax.random.key(0) if random else None)[1]

    state, outs = jax.eval_shape(step, per_sample)
    children = {}
    for i, (name, _) in enumerate(container.named_children()):  # the first core layers are the children, in order
        children[name] = (tuple(outs[i].shape), _state_size(core.layers[i], state.layers[i], state.history[i]))
    return children


def _steps(calls: int, candidates: list[int]) -> int:
    """How many time steps ``calls`` calls of a layer stand for: a candidate it equals, else one it is a multiple of."""
    for candidate in candidates:
        if calls == candidate:
            return candidate
    for candidate in candidates:
        if candidate > 1 and calls % candidate == 0:
            return candidate
    return calls


def _rows(module: Module, trace: _Trace, input_shape: Shape) -> list[LayerSummary]:
    """One row per module: output shapes over the sequence, own parameters (each once) and state per sample."""
    root = trace.calls.get(id(module))
    # A loop over time steps calls a layer T times: T is the input's first axis, or the outputs' when the loop
    # repeats a static input (as snnTorch's tutorials do).
    root_out = root.outputs[0] if root else ()
    candidates = list(dict.fromkeys([input_shape[0]] + [s[0] for s in root_out[:1] if s]))

    def over_sequence(calls: _Calls) -> tuple[tuple[Shape, ...], bool]:
        """A layer's outputs over the whole sequence, and whether it was called per time step."""
        if trace.stepped:
            return tuple((input_shape[0],) + s for s in calls.outputs[0]), True
        if len(calls.outputs) == 1:
            return calls.outputs[0], False
        steps = _steps(len(calls.outputs), candidates)
        return tuple((steps,) + s for s in calls.outputs[0]), True

    core_children: dict[int, dict[str, tuple[Shape, int]]] = {}
    counted: set[int] = set()
    rows = []
    for name, layer, depth, parent, shared in _walk(module):
        own = [] if shared is not None else [
            p for p in layer._parameters.values() if p is not None and id(p) not in counted
        ]  # fmt: skip
        counted.update(id(p) for p in own)
        shapes, state = (), 0
        calls = trace.calls.get(id(layer))
        if parent is not None and _runs_core_model(parent) and id(parent) in trace.calls:
            parent_calls = trace.calls[id(parent)]
            if id(parent) not in core_children:
                core_children[id(parent)] = _core_children(parent, parent_calls.inputs[0])
            per_step, state = core_children[id(parent)][name.rpartition(".")[2]]
            parent_shapes = over_sequence(parent_calls)[0]
            shapes = (parent_shapes[0][:2] + per_step,) if parent_shapes else ()
        elif calls is not None:
            shapes, per_step = over_sequence(calls)
            first = calls.inputs[0]
            if first and not _runs_core_model(layer):
                whole_sequence = not per_step and tuple(first[0].shape[:2]) == input_shape[:2]
                state = _called_state(layer, tuple(first[0].shape[2 if whole_sequence else 1 :]))
        params = sum(p.data.size for p in own)
        trainable = sum(p.data.size for p in own if p.requires_grad)
        rows.append(LayerSummary(name, type(layer).__name__, depth, shapes, params, trainable, state, shared))
    return rows


def _called_state(layer: Module, per_sample: Shape) -> int:
    """The state values a layer called on its own carries per sample: its core layer's initial state."""
    core_layer = getattr(layer, "core_layer", None)
    if not callable(core_layer):
        return 0
    core = core_layer()
    if not isinstance(core, snn.StatefulLayer):
        return 0
    return _state_size(core, jax.eval_shape(lambda: core.init_state(tuple(per_sample))))


# -- training memory -------------------------------------------------------------------------------
def _training_memory(module: Module, spec: jax.ShapeDtypeStruct) -> TrainingMemory:
    """XLA's memory analysis of the gradient of the outputs' sum w.r.t. the trainable parameters, compiled only."""
    trained = [p for p in module.parameters() if p.requires_grad]
    trained_ids = {id(p) for p in trained}
    frozen: dict[str, Any] = {}
    bound: set[int] = set()
    for name, owner, attr, kind in module._state_slots():
        if kind == "buffer":
            frozen[name] = owner._buffers[attr]
            continue
        param = owner._parameters[attr]
        if id(param) not in trained_ids and id(param) not in bound:  # a tied parameter is one argument
            bound.add(id(param))
            frozen[name] = param.data

    def objective(trained_arrays: tuple[Any, ...], frozen_arrays: dict[str, Any], x: Any, key: Any) -> Any:
        with bind_parameters(trained, trained_arrays), module.bind(frozen_arrays), key_scope(key), \
                pure_scope(differentiated=True):  # fmt: skip
            output = traced_forward(module, x)
        leaves = jax.tree_util.tree_leaves(output)
        floats = [y for y in leaves if hasattr(y, "dtype") and jnp.issubdtype(y.dtype, jnp.inexact)]
        return sum((jnp.sum(y.astype(jnp.float32)) for y in floats), jnp.float32(0))

    def struct(array: Any) -> jax.ShapeDtypeStruct:
        return jax.ShapeDtypeStruct(array.shape, array.dtype)

    arguments = (tuple(struct(p.data) for p in trained), {name: struct(a) for name, a in frozen.items()})
    key = jax.eval_shape(lambda: jax.random.key(0))
    # Lowered from shapes only: compiling allocates nothing for the batch and runs nothing.
    compiled = jax.jit(jax.grad(objective)).lower(*arguments, spec, key).compile()
    try:
        analysis = compiled.memory_analysis()
    except NotImplementedError:
        analysis = None
    if analysis is None:
        return TrainingMemory(None, None, None, None)
    return TrainingMemory(
        int(analysis.argument_size_in_bytes),
        int(analysis.temp_size_in_bytes),
        int(analysis.output_size_in_bytes),
        int(getattr(analysis, "alias_size_in_bytes", 0)),
    )


# -- the table ---------------------------------------------------------------------------------------
def _shape_text(shapes: tuple[Shape, ...]) -> str:
    if not shapes:
        return "--"
    texts = [str(list(s)) for s in shapes]
    if len(set(texts)) == 1:
        return texts[0] if len(texts) == 1 else f"{len(texts)} x {texts[0]}"
    return ", ".join(texts) if len(texts) <= 3 else ", ".join(texts[:2]) + f", ... ({len(texts)} arrays)"


def _trainable_text(row: LayerSummary) -> str:
    if row.params == 0:
        return "--"
    if row.trainable_params == row.params:
        return "yes"
    return "no" if row.trainable_params == 0 else "partly"


def _mb(size: int | None) -> str:
    if size is None:
        return "n/a"
    megabytes = size / _MB
    # Small networks keep three significant digits instead of showing 0.00.
    return f"{megabytes:,.2f}" if megabytes >= 0.1 or megabytes == 0 else f"{megabytes:.3g}"


def _table(result: ModelSummary) -> str:
    header = ("Layer (type)", "Output shape", "Param #", "Trainable", "State #")
    body = []
    for i, row in enumerate(result.layers):
        has_children = i + 1 < len(result.layers) and result.layers[i + 1].depth > row.depth
        if row.shared_with is not None:
            params = f"shared: {row.shared_with}"
        else:
            params = "--" if has_children and not row.params else f"{row.params:,}"
        label = f"{row.name} ({row.type_name})" if row.name else row.type_name
        state = f"{row.state_size:,}" if row.state_size else "--"
        body.append(("  " * row.depth + label, _shape_text(row.output_shapes), params, _trainable_text(row), state))
    widths = [max(len(cells[i]) for cells in [header, *body]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        # Names and shapes read from the left, numbers from the right.
        aligned = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "   ".join(aligned).rstrip()

    width = sum(widths) + 3 * (len(widths) - 1)
    rule, double = "-" * width, "=" * width
    lines = [double, line(header), double, *(line(cells) for cells in body), double]
    lines += [
        f"Input: {list(result.input_shape)} {result.input_dtype}",
        f"Total params: {result.total_params:,}",
        f"Trainable params: {result.trainable_params:,}",
        f"Frozen params: {result.frozen_params:,}",
        f"Params size (MB): {_mb(result.param_bytes)}",
        f"Neuron state per sample: {result.state_size:,} values",
        rule,
    ]
    memory = result.training_memory
    if memory is None:
        lines.append("Training memory: not computed (training_memory=False)")
    else:
        # Facade parameters are float32 (Module.to refuses other dtypes): Adam keeps two such moments per value.
        adam = 2 * 4 * result.trainable_params
        lines += [
            f"Training memory (MB), forward + backward: {_mb(memory.total_bytes)}",
            f"  = arguments {_mb(memory.argument_bytes)} + temporaries {_mb(memory.temp_bytes)} "
            f"+ gradients {_mb(memory.output_bytes)}",
            f"  optimizer state not included (Adam adds {_mb(adam)})",
        ]
    lines.append(double)
    return "\n".join(lines)
