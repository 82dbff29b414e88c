"""`Graph`: named facade layers wired by edges with delays, run over time in one `lax.scan`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import equinox as eqx
from jaxtyping import Array

from .. import snn
from ..random import next_key
from ._run import run_named
from .module import FacadeLayer, Module, to_array

EdgeSpec = tuple[str, str] | tuple[str, str, int]


class _Identity(eqx.Module):
    """The graph's virtual input and output nodes inside the core model: ``x -> x``."""

    def __call__(self, x: Array) -> Array:
        return x


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"Graph: {what} names must be non-empty strings, got {name!r}.")
    if "." in name:
        raise ValueError(
            f"Graph: {what} name {name!r} contains '.', which separates names in state_dict keys "
            "(as in torch); use another character, e.g. '_'."
        )
    return name


class Graph(Module):
    """Named layers wired by edges, like a NIR graph, run over a whole time-first sequence.

    ``Graph(nodes, edges, inputs=("input",), outputs=("output",))``:

    - ``nodes``: a mapping ``name -> layer`` of facade layers (anything from
      ``snnax_torchlike.nn`` with ``core_layer()``: Linear, Conv2d, Leaky, LIF, ...).
      Names become the ``state_dict`` prefixes (``"lif1.tau"``, ``"fc.weight"``) and
      attributes (``graph.fc``); they may not contain ``"."``.
    - ``edges``: ``(src, dst)`` or ``(src, dst, delay)``. ``src`` is a node or an
      input, ``dst`` a node or an output. ``delay`` (default 0) is in time steps:
      0 passes ``src``'s output of the same step (feed-forward), ``d >= 1`` its output
      of ``d`` steps ago (zeros before the first step). Several edges into one node
      are summed. Every cycle needs an edge with ``delay >= 1``; a recurrent
      connection reads the previous step, e.g. ``("lif", "w_rec", 1)``.
    - ``inputs``: names of the external inputs, in the order ``forward`` takes them.
    - ``outputs``: what ``forward`` returns, in order: the name of a virtual output
      node (the sum of the edges into it) or the name of a node (its output).
    - ``checkpoint_every``: as in ``nn.Sequential``: gradient checkpointing over
      chunks of that many steps.
    - ``metadata``: a free dict kept on the object (``graph.metadata``), not in
      ``state_dict``; ``interop.from_nir`` records the convention and ``dt`` there.

    ``net(x1, x2, ...)`` takes one ``[T, B, ...]`` array per input and runs every step
    of every node in one jitted ``lax.scan`` (the core ``StatefulModel``; layer by
    layer when no edge is delayed), each sample independently. Per output, like
    ``nn.Sequential``: when it is one spiking neuron's output (a neuron node, or a
    virtual output fed by exactly one same-step edge from a neuron), the pair
    ``(spk, mem)``; otherwise the array ``[T, B, ...]``. One output returns that
    value, several return a tuple of them. Trainable with ``net.fit`` like any module.

    Raises ``ValueError`` naming the nodes for unknown names in edges, nodes without
    input, outputs that nothing feeds, and cycles whose edges all have delay 0.
    """

    records_as_node = True

    def __init__(
        self,
        nodes: Mapping[str, Module],
        edges: Sequence[EdgeSpec],
        inputs: Sequence[str] = ("input",),
        outputs: Sequence[str] = ("output",),
        *,
        checkpoint_every: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ):
        super().__init__()
        if isinstance(inputs, str) or isinstance(outputs, str):
            raise TypeError("Graph: inputs and outputs are sequences of names, e.g. inputs=('input',).")
        if not nodes:
            raise ValueError("Graph: needs at least one node.")
        for name, layer in nodes.items():
            _check_name(name, "node")
            if not isinstance(layer, Module) or not isinstance(layer, FacadeLayer):
                raise TypeError(
                    f"Graph: node {name!r} ({type(layer).__name__}) is not a facade layer from snnax_torchlike.nn."
                )
        self.input_names = tuple(_check_name(n, "input") for n in inputs)
        self.output_names = tuple(_check_name(n, "output") for n in outputs)
        if not self.input_names or not self.output_names:
            raise ValueError("Graph: needs at least one input and one output.")
        names = list(nodes) + list(self.input_names)
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated or len(set(self.output_names)) != len(self.output_names):
            raise ValueError(f"Graph: names must be unique across nodes, inputs and outputs; repeated: {repeated}.")
        virtual_outputs = [n for n in self.output_names if n not in nodes]
        clash = sorted(set(virtual_outputs) & set(self.input_names))
        if clash:
            raise ValueError(f"Graph: {clash} are named both as an input and as an output.")
        self.edges = tuple(self._check_edge(e, nodes, virtual_outputs) for e in edges)
        self.checkpoint_every = checkpoint_every
        self.metadata = dict(metadata or {})
        for name, layer in nodes.items():
            if hasattr(type(self), name) or name in self.__dict__:
                raise ValueError(f"Graph: node name {name!r} is taken by a Graph attribute; rename the node.")
            self.add_module(name, layer)
        self._check_connected(nodes, virtual_outputs)
        _check_cycles(list(nodes), self.edges)

    def _check_edge(self, edge: Any, nodes: Mapping[str, Module], virtual_outputs: list[str]) -> tuple[str, str, int]:
        if not isinstance(edge, (tuple, list)) or len(edge) not in (2, 3):
            raise TypeError(f"Graph: an edge is (src, dst) or (src, dst, delay), got {edge!r}.")
        src, dst = edge[0], edge[1]
        delay = edge[2] if len(edge) == 3 else 0
        sources = list(nodes) + list(self.input_names)
        targets = list(nodes) + virtual_outputs
        if src not in sources:
            where = " (an output: outputs only receive edges)" if src in virtual_outputs else ""
            raise ValueError(f"Graph: edge {tuple(edge)!r} starts at unknown node {src!r}{where}; known: {sources}.")
        if dst not in targets:
            where = " (an input: inputs only send edges)" if dst in self.input_names else ""
            raise ValueError(f"Graph: edge {tuple(edge)!r} ends at unknown node {dst!r}{where}; known: {targets}.")
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
            raise ValueError(f"Graph: edge {tuple(edge)!r} needs an int delay >= 0 (time steps), got {delay!r}.")
        return (src, dst, delay)

    def _check_connected(self, nodes: Mapping[str, Module], virtual_outputs: list[str]) -> None:
        fed = {dst for _, dst, _ in self.edges}
        used = {src for src, _, _ in self.edges}
        orphans = [n for n in list(nodes) + virtual_outputs if n not in fed]
        if orphans:
            raise ValueError(f"Graph: {orphans} receive no edge; every node and output needs an input.")
        unused = [n for n in self.input_names if n not in used]
        if unused:
            raise ValueError(f"Graph: inputs {unused} feed no node; add an edge from each input.")

    # -- structure ------------------------------------------------------------------
    @property
    def nodes(self) -> dict[str, Module]:
        """The node layers by name, in order."""
        return dict(self.named_children())

    def _layout(self) -> tuple[list[str], dict[str, int]]:
        """Core layer names in core order (nodes, inputs, virtual outputs) and their indices."""
        nodes = list(self._modules)
        virtual = [n for n in self.output_names if n not in self._modules]
        order = nodes + list(self.input_names) + virtual
        return order, {name: i for i, name in enumerate(order)}

    def core_model(self) -> snn.StatefulModel:
        """The network as a pure core ``StatefulModel`` over the current arrays.

        Core layers are the nodes (in order), then one identity layer per input and
        per virtual output; the ``GraphStructure`` carries the edges and delays.
        """
        order, index = self._layout()
        incoming: list[list[snn.Edge]] = [[] for _ in order]
        for src, dst, delay in self.edges:
            incoming[index[dst]].append(snn.Edge(index[src], delay))
        external = [[self.input_names.index(n)] if n in self.input_names else [] for n in order]
        structure = snn.GraphStructure(
            len(order), external, incoming, output_layer_ids=[index[n] for n in self.output_names]
        )
        layers = [self._modules[n].core_layer() if n in self._modules else _Identity() for n in order]
        return snn.StatefulModel(structure, layers)

    def _spiking_source(self, output: str) -> str | None:
        """The neuron whose spikes ``output`` is, if it is exactly one neuron's same-step output."""
        if output in self._modules:
            return output if self._modules[output].is_neuron else None
        incoming = [(src, delay) for src, dst, delay in self.edges if dst == output]
        if len(incoming) == 1 and incoming[0][1] == 0:
            src = incoming[0][0]
            if src in self._modules and self._modules[src].is_neuron:
                return src
        return None

    # -- running --------------------------------------------------------------------
    def forward(self, *inputs: Any) -> Any:
        """Run the graph over time-first inputs, one ``[T, B, ...]`` array per input (in ``inputs`` order)."""
        if len(inputs) != len(self.input_names):
            raise ValueError(
                f"Graph: takes {len(self.input_names)} input(s) {list(self.input_names)}, got {len(inputs)}."
            )
        xs = tuple(to_array(x) for x in inputs)
        for name, x in zip(self.input_names, xs):
            if x.ndim < 3:
                raise ValueError(
                    f"Graph: input {name!r} must be time-first [T, B, ...] (e.g. from spikegen.rate), "
                    f"got shape {tuple(x.shape)}."
                )
        order, index = self._layout()
        sources = [self._spiking_source(n) for n in self.output_names]
        records = tuple(sorted({index[s] for s in sources if s is not None}))
        key = next_key() if any(layer.needs_key for layer in self.children()) else None
        labels = [f"node {name!r} ({type(self._modules[name]).__name__ if name in self._modules else 'input'})"
                  for name in order]  # fmt: skip
        outs, mems = run_named(self.core_model(), xs, records, key, self.checkpoint_every, labels)
        results = []
        for out, source in zip(outs, sources):
            results.append(out if source is None else (out, mems[records.index(index[source])]))
        return results[0] if len(results) == 1 else tuple(results)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: its inputs, outputs and edges (``@k``: a delay of ``k`` steps)."""
        edges = ", ".join(f"{s}->{d}" + (f"@{k}" if k else "") for s, d, k in self.edges)
        return f"inputs={list(self.input_names)}, outputs={list(self.output_names)}, edges=[{edges}]"


def _check_cycles(nodes: list[str], edges: tuple[tuple[str, str, int], ...]) -> None:
    """Raise, naming the nodes, for a cycle whose edges all have delay 0."""
    cycle = snn.graph.delay_free_cycle(nodes, edges)
    if cycle is not None:
        names = snn.graph.cycle_nodes(edges, cycle)
        raise ValueError(
            "Graph: the cycle " + " -> ".join(names) + " has no delay; give one of its edges a delay >= 1, "
            f"e.g. ({names[-2]!r}, {names[-1]!r}, 1): a recurrent edge reads the previous step."
        )
