"""A network of layers run over time in one `lax.scan`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from ._stateful import State, StatefulLayer
from .checks import positive_int
from .errors import LayerError, layer_name
from .graph import GraphStructure
from .layer_call import carries_state, init_layer, step_layer
from .layers import LeadingAxesLayer

Shape = tuple[int, ...]


class ModelState(eqx.Module):
    """The state of a [`StatefulModel`][] between steps.

    - ``layers``: per layer, its own state (``None`` for stateless layers).
    - ``history``: per layer read through a delayed edge, its last outputs,
      shape ``[max_delay, *out_shape]`` with the most recent first; else ``None``.
    - ``in_shapes``: the per-sample, per-step shapes of the external inputs the
      state was made for (static).
    """

    layers: tuple[State, ...]
    history: tuple[Array | None, ...]
    in_shapes: tuple[Shape, ...] = eqx.field(static=True)


def _normalise_in_shapes(in_shape: Any, num_inputs: int) -> tuple[Shape, ...]:
    if all(isinstance(s, int) for s in in_shape):
        shapes = (tuple(in_shape),)
    else:
        shapes = tuple(tuple(int(d) for d in s) for s in in_shape)
    if len(shapes) != num_inputs:
        raise ValueError(
            f"StatefulModel.init_state: the graph takes {num_inputs} external input(s), "
            f"got {len(shapes)} shape(s): {in_shape}."
        )
    return shapes


def _merge(inputs: list[Any], mode: str, *, where: str) -> Any:
    if mode == "tuple":
        return tuple(inputs)
    if len(inputs) == 1:
        return inputs[0]
    shapes = [tuple(x.shape) for x in inputs]
    if mode == "concat":
        if len({s[1:] for s in shapes}) != 1:
            raise ValueError(f"{where}: 'concat' merges along axis 0; the other axes differ: {shapes}.")
        return jnp.concatenate(inputs, axis=0)
    if len(set(shapes)) != 1:
        raise ValueError(
            f"{where}: 'sum' merge needs inputs of one shape, got {shapes}. "
            "Use merge='concat' or insert a layer that maps them to one shape."
        )
    return sum(inputs[1:], inputs[0])


class _Run(NamedTuple):
    """How an execution path runs a sequence.

    - ``start``: the index of its first step (keys are folded with it; may be traced).
    - ``record_states``: the layers whose state after every step is returned too.
    - ``checkpoint_every``: gradient checkpointing in chunks of this many steps, or None.
    - ``batched``: the inputs are ``[T, B, ...]``, and the state and key have a batch axis.
    """

    start: Any
    record_states: frozenset[int]
    checkpoint_every: int | None = None
    batched: bool = False


def _as_inputs(x: Array | Sequence[Array]) -> tuple[Array, ...]:
    """The external inputs as a tuple of arrays (one array: a graph with one input)."""
    return tuple(jnp.asarray(a) for a in (x if isinstance(x, (tuple, list)) else (x,)))


def _results(final: ModelState, recorded: Any, recorded_layers: frozenset[int]) -> tuple[Any, ...]:
    """``(final_state, outputs)``, or ``(final_state, outputs, layer_states)`` when states were recorded."""
    return (final, *recorded) if recorded_layers else (final, recorded)


def _checkpointed_chunks(
    steps_from: Callable[[Any, Any, int], tuple[Any, Any]], state: Any, steps: int, every: int
) -> tuple[Any, Any]:
    """Gradient checkpointing over time: ``steps`` steps in chunks of ``every`` under ``jax.checkpoint``.

    ``steps_from(state, first, length)`` runs the steps ``[first, first + length)``
    (``first`` may be traced) and returns ``(state, outputs)``, outputs time-first.
    The backward pass keeps only the state at chunk boundaries and recomputes each
    chunk, so memory grows as ``T/k + k`` steps. A remainder runs unchecked after
    the chunks. Returns the final state and the outputs of all steps.
    """
    chunks = steps // every
    state, ys = jax.lax.scan(
        jax.checkpoint(lambda carry, c: steps_from(carry, c * every, every)), state, jnp.arange(chunks)
    )
    ys = jax.tree.map(lambda a: a.reshape(chunks * every, *a.shape[2:]), ys)
    if chunks * every < steps:
        state, tail = steps_from(state, chunks * every, steps - chunks * every)
        ys = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), ys, tail)
    return state, ys


class StatefulModel(eqx.Module):
    r"""Layers wired by a [`GraphStructure`][], run over time in one ``lax.scan``.

    Each step evaluates layers in topological order: an edge with delay 0 carries
    the source's output of the *same* step (an impulse crosses a feed-forward
    stack in one step), an edge with delay ``d`` its output of ``d`` steps ago.
    Any layer works: a [`StatefulLayer`][], an Equinox stateful layer
    (``eqx.nn.BatchNorm``: its ``eqx.nn.State`` is carried like any state) or a
    plain Equinox layer / callable.

    Shapes are per sample; batch with ``jax.vmap`` (``in_axes=(None, 0, 0)`` for
    ``(state, x, key)`` shares the initial state across the batch).
    """

    graph_structure: GraphStructure
    layers: tuple[Any, ...]

    def __init__(self, graph_structure: GraphStructure, layers: Sequence[Any]):
        """**Arguments:**

        - ``graph_structure``: the connectivity; one entry per layer.
        - ``layers``: the layers, in the graph's indexing.
        """
        layers = tuple(layers)
        if len(layers) != graph_structure.num_layers:
            raise ValueError(
                f"StatefulModel: the graph has {graph_structure.num_layers} layers, but {len(layers)} were given."
            )
        for i, layer in enumerate(layers):
            if not callable(layer):
                raise TypeError(f"StatefulModel: layer {i} is not callable: {layer!r}.")
        self.graph_structure = graph_structure
        self.layers = layers

    def init_state(self, in_shape: Any, key: PRNGKeyArray | None = None) -> ModelState:
        """The state before the first step.

        **Arguments:**

        - ``in_shape``: the per-sample shape of one step of the input, e.g.
          ``(2, 32, 32)`` (no time, no batch axis); a tuple of shapes for a graph
          with several external inputs.
        - ``key``: PRNG key for layers with random initial states. Optional.

        **Returns:** a [`ModelState`][].

        Raises ``ValueError``/``TypeError`` naming the layer and the shapes when a
        layer cannot take what the graph feeds it.
        """
        graph = self.graph_structure
        in_shapes = _normalise_in_shapes(in_shape, graph.num_inputs)
        keys = [None] * graph.num_layers if key is None else list(jax.random.split(key, graph.num_layers))
        out_structs: list[jax.ShapeDtypeStruct | None] = [None] * graph.num_layers
        states: list[State] = [None] * graph.num_layers
        pending = list(graph.order)
        # Delayed edges can point forward in the order, so sweep until every layer's
        # input shape is known (a 'sum' needs only one known input to fix its shape).
        while pending:
            progressed = False
            for i in list(pending):
                shape = self._infer_input_shape(i, in_shapes, out_structs)
                if shape is None:
                    continue
                name = layer_name(self.layers[i], i)
                states[i], out_structs[i] = init_layer(self.layers[i], shape, keys[i], name=name, index=i)
                pending.remove(i)
                progressed = True
            if not progressed:
                placeholders = ", ".join(f"{{{k}}}" for k in range(len(pending)))
                raise LayerError(
                    f"StatefulModel.init_state: cannot infer the input shapes of [{placeholders}]: "
                    "each is fed only through delayed edges whose sources' shapes depend on it, "
                    "or merges them with 'concat'/'tuple', which needs every shape. Give one of "
                    "them an external input or a same-step edge, or merge recurrent input with "
                    "'sum' (e.g. a feed-forward Linear and a recurrent Linear both into the neuron).",
                    pending,
                    [self.layers[i] for i in pending],
                )
        for i in range(graph.num_layers):
            self._infer_input_shape(i, in_shapes, out_structs, check=True)
        history = tuple(
            jnp.zeros((graph.max_delay(i),) + out_structs[i].shape, out_structs[i].dtype)
            if graph.max_delay(i) > 0
            else None
            for i in range(graph.num_layers)
        )
        return ModelState(tuple(states), history, in_shapes)

    def _infer_input_shape(
        self,
        i: int,
        in_shapes: tuple[Shape, ...],
        out_structs: list[jax.ShapeDtypeStruct | None],
        check: bool = False,
    ) -> Any:
        """The shape layer ``i`` receives, or None while its sources are unknown."""
        graph = self.graph_structure
        where = "StatefulModel: {0}"
        shapes: list[Shape | None] = []
        for k in graph.input_layer_ids[i]:
            if k >= len(in_shapes):
                raise LayerError(
                    f"{where} reads external input {k}, but only {len(in_shapes)} were given.", [i], [self.layers[i]]
                )
            shapes.append(in_shapes[k])
        for edge in graph.input_connectivity[i]:
            out = out_structs[edge.source]
            shapes.append(None if out is None else tuple(out.shape))
        mode = graph.merge[i]
        known = [s for s in shapes if s is not None]
        if mode == "sum" and known and (check or None in shapes):
            if len(set(known)) != 1:
                edges = graph.input_connectivity[i]
                sources = [f"input {k}" for k in graph.input_layer_ids[i]] + [
                    f"{{{n + 1}}}" + (f" (delay {e.delay})" if e.delay else "") for n, e in enumerate(edges)
                ]
                detail = ", ".join(f"{src}: {s}" for src, s in zip(sources, shapes))
                raise LayerError(
                    f"{where} sums inputs of different shapes ({detail}). Fix the connectivity, or use merge='concat'.",
                    [i] + [e.source for e in edges],
                    [self.layers[i]] + [self.layers[e.source] for e in edges],
                )
            return known[0]
        if None in shapes:
            return None
        if mode == "sum":
            return shapes[0]
        if mode == "concat":
            if len({s[1:] for s in shapes}) != 1:
                raise LayerError(
                    f"{where}: 'concat' merges along axis 0; the other axes differ: {shapes}.", [i], [self.layers[i]]
                )
            return (sum(s[0] for s in shapes),) + shapes[0][1:]
        return tuple(shapes)

    def _check_inputs(self, state: ModelState, xs: tuple[Array, ...]) -> int:
        """Validate time-first inputs against the state; return the number of steps."""
        if not isinstance(state, ModelState):
            raise TypeError(
                f"StatefulModel: expected the state from model.init_state(...), got {type(state).__name__}."
            )
        if len(xs) != len(state.in_shapes):
            raise ValueError(f"StatefulModel: the graph takes {len(state.in_shapes)} input(s), got {len(xs)}.")
        steps = None
        for k, (x, shape) in enumerate(zip(xs, state.in_shapes)):
            label = "input" if len(xs) == 1 else f"input {k}"
            if tuple(x.shape[1:]) != shape:
                if tuple(x.shape) == shape:
                    hint = " It has no time axis: inputs are time-first [T, *shape]."
                elif tuple(x.shape[2:]) == shape:
                    hint = (
                        f" It has an extra axis of size {x.shape[1]}: a model call takes one sample; "
                        "batch with jax.vmap over axis 0 of [B, T, ...] (or axis 1 of [T, B, ...])."
                    )
                else:
                    hint = ""
                raise ValueError(
                    f"StatefulModel: {label} must be time-first [T, *{shape}] (the shape given to "
                    f"init_state), got {tuple(x.shape)}.{hint}"
                )
            if not jnp.issubdtype(x.dtype, jnp.floating):
                raise TypeError(
                    f"StatefulModel: {label} must be floating point, got {x.dtype}; "
                    "convert spikes with x.astype(jnp.float32)."
                )
            if steps is not None and x.shape[0] != steps:
                raise ValueError(f"StatefulModel: inputs disagree on the number of steps: {steps} vs {x.shape[0]}.")
            steps = x.shape[0]
        return steps

    def step(
        self, state: ModelState, x: tuple[Array, ...], key: PRNGKeyArray | None = None
    ) -> tuple[ModelState, list[Array]]:
        """One time step of the whole graph.

        **Arguments:** ``state``; ``x``: a tuple with one array per external input,
        each of its ``in_shape``; ``key``: this step's PRNG key (split per layer).

        **Returns:** ``(new_state, outputs)``, ``outputs`` listing the outputs of
        ``output_layer_ids`` at this step.
        """
        graph = self.graph_structure
        keys = [None] * graph.num_layers if key is None else list(jax.random.split(key, graph.num_layers))
        outs: list[Array | None] = [None] * graph.num_layers
        new_states = list(state.layers)
        for i in graph.order:
            inputs = [x[k] for k in graph.input_layer_ids[i]]
            for edge in graph.input_connectivity[i]:
                inputs.append(outs[edge.source] if edge.delay == 0 else state.history[edge.source][edge.delay - 1])
            merged = _merge(inputs, graph.merge[i], where=f"StatefulModel: {layer_name(self.layers[i], i)}")
            new_states[i], outs[i] = step_layer(self.layers[i], state.layers[i], merged, keys[i])
        history = tuple(
            None if buffer is None else jnp.concatenate([outs[i][None].astype(buffer.dtype), buffer[:-1]], axis=0)
            for i, buffer in enumerate(state.history)
        )
        new_state = ModelState(tuple(new_states), history, state.in_shapes)
        return new_state, [outs[i] for i in graph.output_layer_ids]

    def _scan(
        self, state: ModelState, xs: tuple[Array, ...], key: PRNGKeyArray | None, run: _Run
    ) -> tuple[ModelState, Any]:
        """The step-wise scan over ``xs`` (time-first), as ``run`` says."""
        start, record_states, batched = run.start, run.record_states, run.batched
        steps = xs[0].shape[0]
        times = jnp.arange(start, start + steps)
        fold = jax.vmap(jax.random.fold_in, in_axes=(0, None)) if batched else jax.random.fold_in
        step = jax.vmap(self.step, in_axes=(0, 0, None if key is None else 0)) if batched else self.step

        def body(carry: ModelState, inputs: tuple[tuple[Array, ...], Array]):
            x_t, t = inputs
            # A fresh key per step (and per layer inside `step`): dropout masks differ over time.
            key_t = None if key is None else fold(key, t)
            new_state, outs = step(carry, x_t, key_t)
            if not record_states:
                return new_state, outs
            return new_state, (outs, tuple(s if i in record_states else None for i, s in enumerate(new_state.layers)))

        if run.checkpoint_every is None or run.checkpoint_every >= steps:
            return jax.lax.scan(body, state, (xs, times))

        # Steps read the input by index: slicing or reshaping it into chunks would
        # copy the whole input, a cost linear in T.
        def indexed(carry: ModelState, t: Array) -> tuple[ModelState, Any]:
            x_t = tuple(jax.lax.dynamic_index_in_dim(a, t, keepdims=False) for a in xs)
            return body(carry, (x_t, start + t))

        def steps_from(carry: ModelState, first: Any, length: int) -> tuple[ModelState, Any]:
            return jax.lax.scan(indexed, carry, first + jnp.arange(length))

        return _checkpointed_chunks(steps_from, state, steps, run.checkpoint_every)

    def _layerwise(
        self, state: ModelState, xs: tuple[Array, ...], key: PRNGKeyArray | None, run: _Run
    ) -> tuple[ModelState, Any]:
        """[`_scan`][]'s results for a graph without delayed edges, one layer at a time.

        Each layer consumes its whole input sequence before the next starts: a
        stateless layer maps all ``T`` steps in one batched call (one matmul or
        convolution over every frame), a stateful one runs its own ``lax.scan``.
        Keys are the step-wise path's (``fold_in(key, t)`` split per layer), so the
        outputs are the same. Batched, every sequence stays time-first ``[T, B, ...]``
        (a ``vmap`` over the whole graph would lay the layers' sequences out
        batch-first and transpose them around each scan). ``run.checkpoint_every``
        is not read here (see [`_layerwise_checkpointed`][]).
        """
        start, record_states, batched = run.start, run.record_states, run.batched
        graph = self.graph_structure
        n = graph.num_layers
        times = start + jnp.arange(xs[0].shape[0])  # `start` may be traced (a checkpointed chunk's)

        def per_sample(fn: Callable[..., Any], in_axes: Any) -> Callable[..., Any]:
            return jax.vmap(fn, in_axes) if batched else fn

        def per_frame(fn: Callable[..., Any], in_axes: Any) -> Callable[..., Any]:
            return jax.vmap(per_sample(fn, in_axes), in_axes)  # over T, then B

        def time_first(tree: Any) -> Any:
            return jax.tree.map(lambda a: jnp.moveaxis(a, 0, 1), tree) if batched else tree

        if key is None:
            layer_keys: list[Array | None] = [None] * n
        else:
            step_keys = per_sample(
                lambda k: jax.vmap(lambda t: jax.random.split(jax.random.fold_in(k, t), n))(times), 0
            )
            keys = time_first(step_keys(key))  # [T, (B,) n] (typed keys; raw uint32 keys add a last axis)
            layer_keys = [keys[:, :, i] if batched else keys[:, i] for i in range(n)]
        sequences: list[Any] = [None] * n
        new_states = list(state.layers)
        recorded: list[Any] = [None] * n
        for i in graph.order:
            layer, layer_key = self.layers[i], layer_keys[i]
            inputs = [xs[k] for k in graph.input_layer_ids[i]] + [
                sequences[e.source] for e in graph.input_connectivity[i]
            ]
            where = f"StatefulModel: {layer_name(layer, i)}"
            merged = per_frame(lambda *a, mode=graph.merge[i], where=where: _merge(list(a), mode, where=where), 0)(
                *inputs
            )
            whole = (
                per_sample(layer.scan_sequence, (0, 1))(state.layers[i], merged)
                if isinstance(layer, StatefulLayer)
                else None
            )
            if whole is not None:  # the layer's own sequence path (e.g. a hand-written backward pass)
                new_states[i], (sequences[i], states) = whole[0], time_first(whole[1:])
                recorded[i] = states if i in record_states else None
            elif carries_state(layer):
                step = per_sample(functools.partial(step_layer, layer), (0, 0, None if layer_key is None else 0))

                def body(carry: State, inputs: tuple[Any, Any], step: Any = step, i: int = i) -> tuple[State, Any]:
                    new, out = step(carry, *inputs)
                    return new, (out, new if i in record_states else None)

                new_states[i], (sequences[i], recorded[i]) = jax.lax.scan(body, state.layers[i], (merged, layer_key))
            elif isinstance(layer, LeadingAxesLayer):
                sequences[i] = layer(merged)
            else:
                in_axes = (0, None if layer_key is None else 0)
                sequences[i] = per_frame(lambda x_t, k_t, layer=layer: step_layer(layer, None, x_t, k_t)[1], in_axes)(
                    merged, layer_key
                )
        outs = [sequences[i] for i in graph.output_layer_ids]
        final = ModelState(tuple(new_states), state.history, state.in_shapes)
        return final, ((outs, tuple(recorded)) if record_states else outs)

    def _layerwise_checkpointed(
        self, state: ModelState, xs: tuple[Array, ...], key: PRNGKeyArray | None, run: _Run
    ) -> tuple[ModelState, Any]:
        """[`_layerwise`][]'s results, run in chunks of ``checkpoint_every`` steps under ``jax.checkpoint``.

        Each chunk runs layer by layer (every Linear or Conv over all the chunk's
        frames at once), so checkpointing keeps the speed of layer-wise execution;
        the backward pass keeps only the states at chunk boundaries and recomputes
        each chunk. Chunks slice the input inside the checkpointed function, so no
        copy of the whole input is saved. ``checkpoint_every=None`` (or at least ``T``):
        one plain layer-wise run.
        """
        steps, every = xs[0].shape[0], run.checkpoint_every
        if every is None or every >= steps:
            return self._layerwise(state, xs, key, run)

        def steps_from(carry: ModelState, first: Any, length: int) -> tuple[ModelState, Any]:
            chunk = tuple(jax.lax.dynamic_slice_in_dim(a, first, length) for a in xs)
            return self._layerwise(carry, chunk, key, run._replace(start=run.start + first))

        return _checkpointed_chunks(steps_from, state, steps, every)

    def scan_batch(
        self,
        state: ModelState,
        x: Array | Sequence[Array],
        keys: PRNGKeyArray | None = None,
        *,
        checkpoint_every: int | None = None,
        record_states: bool | Sequence[int] = False,
        layerwise: bool | None = None,
    ) -> tuple[ModelState, list[Array]] | tuple[ModelState, list[Array], tuple[State, ...]]:
        """The model over a time-first batch, without transposing it to batch-first.

        Equals ``jax.vmap(model, in_axes=(None, 1, 0), out_axes=1)``, but reads the
        input where it lies (steps or chunks of ``[T, B, ...]``) instead of
        transposing it to batch-first, which saves a copy of the whole input: what
        makes ``checkpoint_every`` memory sublinear in ``T``.

        **Arguments:** ``state``: one sample's initial state (shared by the batch);
        ``x``: ``[T, B, *in_shape]`` (a tuple for several inputs); ``keys``: ``[B]``
        keys or None; ``checkpoint_every``, ``record_states``, ``layerwise``: as in
        ``__call__``.

        **Returns:** as ``__call__``, with a batch axis after time (final states:
        batch first).
        """
        xs = _as_inputs(x)
        self._check_inputs(state, tuple(a[:, 0] for a in xs))
        path, run = self._path(layerwise, checkpoint_every, record_states)
        states = jax.tree.map(lambda a: jnp.broadcast_to(a, (xs[0].shape[1], *a.shape)), state)
        return _results(*path(states, xs, keys, run._replace(batched=True)), run.record_states)

    def can_run_layerwise(self) -> bool:
        """Whether every edge has delay 0, so layers can run one after another over all steps."""
        return all(e.delay == 0 for incoming in self.graph_structure.input_connectivity for e in incoming)

    def _path(
        self, layerwise: bool | None, checkpoint_every: int | None, record_states: bool | Sequence[int]
    ) -> tuple[Callable[..., tuple[ModelState, Any]], _Run]:
        """The execution path for these options, and its [`_Run`][] settings (from step 0, per sample).

        ``layerwise=None`` runs layer by layer where [`can_run_layerwise`][]; ``True``
        on a graph with delays raises.
        """
        if checkpoint_every is not None:
            positive_int("StatefulModel", "checkpoint_every", checkpoint_every)
        if layerwise and not self.can_run_layerwise():
            raise ValueError(
                "StatefulModel: layerwise=True needs a graph without delayed edges; this one has feedback or "
                "delays, which only the step-wise scan can run (pass layerwise=None or False)."
            )
        by_layer = self.can_run_layerwise() if layerwise is None else bool(layerwise)
        path = self._layerwise_checkpointed if by_layer else self._scan
        recorded = frozenset(range(len(self.layers)) if record_states is True else (record_states or ()))
        return path, _Run(start=0, record_states=recorded, checkpoint_every=checkpoint_every)

    def __call__(
        self,
        state: ModelState,
        x: Array | Sequence[Array],
        key: PRNGKeyArray | None = None,
        *,
        burn_in: int = 0,
        record_states: bool | Sequence[int] = False,
        layerwise: bool | None = None,
        checkpoint_every: int | None = None,
    ) -> tuple[ModelState, list[Array]] | tuple[ModelState, list[Array], tuple[State, ...]]:
        """Run the model over a sequence.

        **Arguments:**

        - ``state``: from [`init_state`][] or a previous call.
        - ``x``: one sample's input, time-first ``[T, *in_shape]``; a tuple of such
          for several external inputs.
        - ``key``: PRNG key; folded with the step index and split per layer, so every
          step and layer draws fresh randomness. Required by stochastic layers
          (e.g. ``eqx.nn.Dropout`` in training mode).
        - ``burn_in``: the first ``burn_in`` steps run without gradient (the state
          is ``stop_gradient``-ed after them) and their outputs are not returned.

        - ``record_states``: also return every layer's state after every step;
          a collection of layer indices records only those (the others are None),
          which keeps memory low when only one layer's trace is wanted.
        - ``layerwise``: run layer by layer over all steps (each stateless layer as one
          batched op over every frame, each stateful layer in its own scan) instead
          of one scan over steps. Same outputs, states and gradients; much faster
          when stateless layers (Linear, Conv) dominate. ``None`` (default): layer-wise
          whenever the graph has no delayed edge ([`can_run_layerwise`][]).
        - ``checkpoint_every``: gradient checkpointing over time: the model runs in
          chunks of this many steps under ``jax.checkpoint`` (each chunk layer by
          layer, or step by step with ``layerwise=False`` or delays), so backward
          keeps only the state at chunk boundaries and recomputes the rest (memory
          ~ T/k + k steps instead of T, for about one extra forward pass). Same results.

        **Returns:** ``(final_state, outputs)``: ``outputs`` is a list with one
        array per output layer, each time-first ``[T - burn_in, *out_shape]``;
        ``outputs[-1]`` is the last output layer's. With ``record_states``,
        ``(final_state, outputs, layer_states)``: ``layer_states[i]`` is layer
        ``i``'s state with a leading time axis (e.g. membrane traces). Under
        ``jit``, traces nobody reads are never computed.
        """
        xs = _as_inputs(x)
        steps = self._check_inputs(state, xs)
        if not 0 <= burn_in < steps:
            raise ValueError(f"StatefulModel: burn_in must lie in [0, T) with T={steps}, got {burn_in}.")
        path, run = self._path(layerwise, checkpoint_every, record_states)
        if burn_in:
            state, _ = path(state, tuple(a[:burn_in] for a in xs), key, run._replace(record_states=frozenset()))
            state = jax.lax.stop_gradient(state)
            xs = tuple(a[burn_in:] for a in xs)
        return _results(*path(state, xs, key, run._replace(start=burn_in)), run.record_states)
