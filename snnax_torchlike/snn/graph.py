"""The connectivity of a stateful model: which layer feeds which, with what delay."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal, NamedTuple

import equinox as eqx

MergeMode = Literal["sum", "concat", "tuple"]
_MERGE_MODES = ("sum", "concat", "tuple")


class Edge(NamedTuple):
    """An incoming connection of a layer.

    - ``source``: index of the layer whose output is read.
    - ``delay``: in time steps. ``0`` reads the source's output of the same step
      (feed-forward); ``d >= 1`` reads its output of ``d`` steps ago (feedback,
      recurrence, axonal delays). Every cycle must contain an edge with ``delay >= 1``.
    """

    source: int
    delay: int = 0


EdgeLike = int | tuple[int, int] | Edge


def _as_edge(edge: EdgeLike, layer: int) -> Edge:
    if isinstance(edge, bool):
        raise TypeError(f"GraphStructure: edge into layer {layer} must be an int or (source, delay), got {edge!r}.")
    if isinstance(edge, int):
        return Edge(edge, 0)
    try:
        source, delay = edge
    except (TypeError, ValueError):
        raise TypeError(
            f"GraphStructure: edge into layer {layer} must be a source index or a (source, delay) pair, got {edge!r}."
        ) from None
    if not isinstance(source, int) or not isinstance(delay, int) or isinstance(delay, bool):
        raise TypeError(f"GraphStructure: edge into layer {layer} must hold ints, got {edge!r}.")
    return Edge(source, delay)


class GraphStructure(eqx.Module):
    """Connectivity of a [`StatefulModel`][]: per layer, its external inputs and incoming edges.

    **Arguments:**

    - ``num_layers``: number of layers.
    - ``input_layer_ids``: per layer, the indices of the model's external inputs it
      receives (same step). ``[[0], [], []]`` feeds input 0 to layer 0.
    - ``input_connectivity``: per layer, its incoming edges: a source index (delay
      0, same step) or a ``(source, delay)`` pair / [`Edge`][]. A self-recurrent
      layer 2 lists ``(2, 1)``.
    - ``output_layer_ids``: the layers whose outputs the model returns, in order
      (default: the last layer).
    - ``merge``: per layer, how several inputs combine: ``"sum"`` (default; shapes
      must agree), ``"concat"`` (along axis 0, the feature/channel axis of a
      per-sample input), or ``"tuple"`` (the layer receives a tuple, in the order
      external inputs first, then edges as listed). One string applies to all.

    Raises ``ValueError`` at construction for indices out of range, negative delays,
    layers without input, or a cycle whose edges all have delay 0.
    """

    num_layers: int = eqx.field(static=True)
    input_layer_ids: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    input_connectivity: tuple[tuple[Edge, ...], ...] = eqx.field(static=True)
    output_layer_ids: tuple[int, ...] = eqx.field(static=True)
    merge: tuple[MergeMode, ...] = eqx.field(static=True)
    order: tuple[int, ...] = eqx.field(static=True)
    """Layers in the order one step evaluates them (topological over delay-0 edges)."""

    def __init__(
        self,
        num_layers: int,
        input_layer_ids: Sequence[Sequence[int]],
        input_connectivity: Sequence[Sequence[EdgeLike]],
        output_layer_ids: Sequence[int] | None = None,
        merge: MergeMode | Sequence[MergeMode] = "sum",
    ):
        n = int(num_layers)
        if n < 1:
            raise ValueError(f"GraphStructure: num_layers must be >= 1, got {num_layers}.")
        if len(input_layer_ids) != n or len(input_connectivity) != n:
            raise ValueError(
                f"GraphStructure: input_layer_ids and input_connectivity need one entry per layer "
                f"({n}), got {len(input_layer_ids)} and {len(input_connectivity)}."
            )
        external = tuple(tuple(int(k) for k in ids) for ids in input_layer_ids)
        edges = tuple(tuple(_as_edge(e, i) for e in incoming) for i, incoming in enumerate(input_connectivity))
        for i, incoming in enumerate(edges):
            for edge in incoming:
                if not 0 <= edge.source < n:
                    raise ValueError(
                        f"GraphStructure: layer {i} has an edge from layer {edge.source}, "
                        f"but the graph has layers 0..{n - 1}."
                    )
                if edge.delay < 0:
                    raise ValueError(f"GraphStructure: edge {edge.source}->{i} has negative delay {edge.delay}.")
            if any(k < 0 for k in external[i]):
                raise ValueError(f"GraphStructure: layer {i} lists a negative external input id {external[i]}.")
            if not incoming and not external[i]:
                raise ValueError(f"GraphStructure: layer {i} has no input (no external input and no edge).")
        outputs = (n - 1,) if output_layer_ids is None else tuple(int(k) for k in output_layer_ids)
        if not outputs or any(not 0 <= k < n for k in outputs):
            raise ValueError(f"GraphStructure: output_layer_ids must name layers in 0..{n - 1}, got {outputs}.")
        merges = (merge,) * n if isinstance(merge, str) else tuple(merge)
        if len(merges) != n or any(m not in _MERGE_MODES for m in merges):
            raise ValueError(
                f"GraphStructure: merge must be one of {_MERGE_MODES} or one per layer ({n}), got {merge!r}."
            )
        self.num_layers = n
        self.input_layer_ids = external
        self.input_connectivity = edges
        self.output_layer_ids = outputs
        self.merge = merges
        self.order = _topological_order(edges)

    @property
    def num_inputs(self) -> int:
        """How many external inputs the model takes."""
        return 1 + max((k for ids in self.input_layer_ids for k in ids), default=0)

    def max_delay(self, layer: int) -> int:
        """The longest delay with which any edge reads ``layer`` (0: never delayed)."""
        return max((e.delay for incoming in self.input_connectivity for e in incoming if e.source == layer), default=0)


def delay_free_cycle(nodes: Sequence[Hashable], edges: Sequence[tuple[Hashable, Hashable, int]]) -> list[int] | None:
    """The first cycle whose edges all have delay 0, as indices into ``edges``, or None.

    A depth-first search from ``nodes`` in their order, following each node's
    delay-0 edges in their order, so the cycle found (and the edge that closes
    it, the last index) is fixed by the order the caller gives.

    **Arguments:** ``nodes``: every node; ``edges``: ``(source, target, delay)``
    between them.

    **Returns:** the edge indices along the cycle, from the node it is entered at
    round to the edge back into it; None when every cycle has a delay.
    """
    out: dict[Hashable, list[int]] = {node: [] for node in nodes}
    for index, (source, target, delay) in enumerate(edges):
        if delay == 0 and source in out and target in out:
            out[source].append(index)
    state = dict.fromkeys(nodes, 0)  # 0: unvisited, 1: on the current path, 2: done
    path: list[Hashable] = []
    entered_by: list[int | None] = []

    def visit(node: Hashable, via: int | None) -> list[int] | None:
        state[node] = 1
        path.append(node)
        entered_by.append(via)
        for index in out[node]:
            target = edges[index][1]
            if state[target] == 1:
                start = path.index(target)
                return [e for e in entered_by[start + 1 :] if e is not None] + [index]
            if state[target] == 0 and (found := visit(target, index)) is not None:
                return found
        path.pop()
        entered_by.pop()
        state[node] = 2
        return None

    for root in nodes:
        if state[root] == 0 and (found := visit(root, None)) is not None:
            return found
    return None


def cycle_nodes(edges: Sequence[tuple[Hashable, Hashable, int]], cycle: list[int]) -> list[Hashable]:
    """The nodes of a cycle from `delay_free_cycle`, the first repeated at the end (``a -> b -> a``)."""
    return [edges[index][0] for index in cycle] + [edges[cycle[-1]][1]]


def _topological_order(edges: tuple[tuple[Edge, ...], ...]) -> tuple[int, ...]:
    """Order layers so every delay-0 source comes before its target; refuse delay-0 cycles."""
    n = len(edges)
    flat = [(e.source, target, e.delay) for target, incoming in enumerate(edges) for e in incoming]
    cycle = delay_free_cycle(range(n), flat)
    if cycle is not None:
        raise ValueError(
            "GraphStructure: the cycle " + " -> ".join(str(k) for k in cycle_nodes(flat, cycle))
            + " has no delay; give one of its edges delay >= 1, e.g. (source, 1)."
        )  # fmt: skip
    same_step = [sorted({e.source for e in incoming if e.delay == 0}) for incoming in edges]
    order: list[int] = []
    done = [False] * n

    def visit(i: int) -> None:
        if not done[i]:
            done[i] = True
            for j in same_step[i]:
                visit(j)
            order.append(i)

    for i in range(n):
        visit(i)
    return tuple(order)


def gen_feed_forward_struct(num_layers: int) -> GraphStructure:
    """A chain: external input 0 into layer 0, layer ``i-1`` into layer ``i`` in the same step."""
    return GraphStructure(
        num_layers,
        [[0]] + [[] for _ in range(num_layers - 1)],
        [[]] + [[i - 1] for i in range(1, num_layers)],
    )
