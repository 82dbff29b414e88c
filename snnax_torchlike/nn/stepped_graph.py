"""`SteppedGraph`: a `Graph` called one time step at a time, its state kept between calls."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from .. import snn
from ..imperative import Tensor
from ._recorded_call import recorded_call
from .graph import EdgeSpec, Graph
from .module import Module, to_array

_LAYOUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Per ``SteppedGraph``, the pytree structure of its kept state. Kept outside the module's attributes, which key
its compiled calls: the structure does not change what a step computes."""


class SteppedGraph(Graph):
    """A [`Graph`][snnax_torchlike.nn.Graph] run one time step per call, as snnTorch runs networks.

    Same constructor as ``Graph`` (``SteppedGraph.from_graph(graph)`` converts one;
    both share the nodes, so ``state_dict`` keys are the same). ``out, state =
    net(x)`` takes one step, one ``[B, ...]`` array per input (in ``inputs`` order),
    and returns:

    - ``out``: the outputs at this step (``Graph``'s outputs; a neuron's output is its
      spikes only), one array or a tuple of them for several outputs;
    - ``state``: the whole network's state after the step (a ``snn.ModelState``
      with a batch axis in front of every array, delayed edges' history included).

    The state is also kept in the module, so the next call continues from it, as
    snnTorch's ``init_hidden=True`` neurons do: ``net(x, state=s)`` starts from ``s``
    instead (a state from an earlier call). It starts from zeros (the core's
    ``init_state``) on the first call, after ``reset_hidden()`` or
    ``snnax_torchlike.utils.reset(net)``, and when the batch size or an input's
    shape changes. Each call is one recorded operation, so ``backward()``
    differentiates through the steps.

    Random layers (``Dropout``) are refused: a step draws no key.
    """

    def __init__(
        self,
        nodes: Mapping[str, Module],
        edges: Sequence[EdgeSpec],
        inputs: Sequence[str] = ("input",),
        outputs: Sequence[str] = ("output",),
        *,
        metadata: Mapping[str, Any] | None = None,
    ):
        super().__init__(nodes, edges, inputs, outputs, metadata=metadata)
        random = [name for name, layer in self.nodes.items() if layer.needs_key]
        if random:
            raise ValueError(f"SteppedGraph: nodes {random} draw random numbers, which a single step cannot key.")

    @classmethod
    def from_graph(cls, graph: Graph) -> SteppedGraph:
        """The ``SteppedGraph`` of ``graph``'s nodes (the same layer objects), edges, inputs, outputs and metadata."""
        if not isinstance(graph, Graph):
            raise TypeError(f"SteppedGraph.from_graph: expected an nn.Graph, got {type(graph).__name__}.")
        return cls(graph.nodes, graph.edges, graph.input_names, graph.output_names, metadata=graph.metadata)

    # The kept state is a pytree; its arrays are hidden entries `state_0`, `state_1`, ... so that
    # `named_hidden`/`set_hidden` (and with them compile, optimizer closures and fit) carry it as arrays.
    def _kept_state(self) -> snn.ModelState | None:
        treedef = _LAYOUTS.get(self)
        if treedef is None:
            return None
        leaves = [self._hidden.get(f"state_{i}") for i in range(treedef.num_leaves)]
        return None if any(leaf is None for leaf in leaves) else jax.tree_util.tree_unflatten(treedef, leaves)

    def _keep(self, state: snn.ModelState) -> None:
        leaves, treedef = jax.tree_util.tree_flatten(state, is_leaf=lambda x: isinstance(x, Tensor))
        known = _LAYOUTS.get(self)
        if known is None or known != treedef:
            _LAYOUTS[self] = treedef
            self.reset_hidden()
        for i, leaf in enumerate(leaves):
            self.register_hidden(f"state_{i}", leaf)

    def reset_hidden(self) -> None:
        """Forget the kept state: the next call starts from zeros."""
        for name in self._hidden:
            self._hidden[name] = None

    def detach_hidden(self) -> None:
        """Cut the kept state from the graph, so ``backward()`` stops there (truncated BPTT)."""
        for name, value in self._hidden.items():
            if isinstance(value, Tensor):
                self._hidden[name] = value.detach()

    def _fresh_state(self, shapes: list[tuple[int, ...]]) -> snn.ModelState:
        batch = shapes[0][0]
        per_sample = [s[1:] for s in shapes]
        state = self.core_model().init_state(per_sample[0] if len(shapes) == 1 else tuple(per_sample))
        return jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (batch, *a.shape)), state)

    @staticmethod
    def _fits(state: snn.ModelState, shapes: list[tuple[int, ...]]) -> bool:
        batch = {s[0] for s in shapes} | _batch_sizes(state)
        return len(batch) == 1 and list(state.in_shapes) == [s[1:] for s in shapes]

    def _step(self, inputs: tuple[Any, ...], state: snn.ModelState) -> tuple[Any, snn.ModelState]:
        """One step of every sample: the pure function each call records."""
        step = jax.vmap(self.core_model().step, in_axes=(0, 0, None))
        state, outs = step(state, tuple(to_array(x) for x in inputs), None)
        return (outs[0] if len(outs) == 1 else tuple(outs)), state

    def __call__(self, *inputs: Any, state: snn.ModelState | None = None) -> tuple[Any, snn.ModelState]:
        if len(inputs) != len(self.input_names):
            raise ValueError(
                f"SteppedGraph: takes {len(self.input_names)} input(s) {list(self.input_names)}, got {len(inputs)}."
            )
        shapes = [tuple(getattr(x, "shape", None) or to_array(x).shape) for x in inputs]
        for name, shape in zip(self.input_names, shapes):
            if len(shape) < 2:
                raise ValueError(
                    f"SteppedGraph: input {name!r} must be one step of a batch, [B, ...], got shape {shape}."
                )
        if len({s[0] for s in shapes}) != 1:
            raise ValueError(f"SteppedGraph: the inputs disagree on the batch size: shapes {shapes}.")
        if state is None:
            kept = self._kept_state()
            state = kept if kept is not None and self._fits(kept, shapes) else self._fresh_state(shapes)
        elif not isinstance(state, snn.ModelState) or not self._fits(state, shapes):
            raise ValueError(
                "SteppedGraph: state must be what an earlier call returned for inputs of these shapes "
                f"({shapes}); got {_describe(state)}."
            )
        out, state = recorded_call(self, self._step, (tuple(inputs), state), {})
        self._keep(state)
        return out, state

    forward = __call__


def _batch_sizes(state: snn.ModelState) -> set[int]:
    """The leading axis of every array of a batched state (read from shapes: pending tensors are not waited for)."""
    leaves = jax.tree_util.tree_leaves(state.layers, is_leaf=lambda x: isinstance(x, Tensor))
    return {x.shape[0] for x in leaves}


def _describe(state: Any) -> str:
    """What a state passed to a ``SteppedGraph`` was made for, for the error message."""
    if not isinstance(state, snn.ModelState):
        return f"a {type(state).__name__}"
    return f"one for batch size {sorted(_batch_sizes(state))} and per-sample input shapes {list(state.in_shapes)}"
