"""NIR graphs in and out: `from_nir` and `to_nir`.

NIR (the Neuromorphic Intermediate Representation) describes a network by
continuous-time ODE nodes and identity edges, and fixes no time step. Importing
therefore takes an explicit discretisation ``convention`` (see
[`snnax_torchlike.snn.discretisation`][]) and ``dt``; exporting records both in
the graph's metadata. Node parameters keep NIR's names and units (seconds).

Edges and time steps. A NIR cycle without a ``Delay`` node is a recurrent
connection; here every cycle needs an edge that reads the previous step, so the
importer delays one edge of each such cycle by one step: the edge *leaving the
nearest neuron* before the cycle closes (see [`from_nir`][]), which is how
snnTorch, Norse and Spyx feed back "the previous step's spikes". ``Delay`` nodes
become edge delays of ``round(delay / dt)`` steps. The exporter writes the reverse
(plain edges where the importer's rule reproduces the delay, ``Delay`` nodes
otherwise), so a network survives ``to_nir`` then ``from_nir`` exactly.

``nir`` is imported only when these functions are called.
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from snnax_torchlike import nn
from snnax_torchlike.snn.discretisation import CONVENTIONS, DEFAULT_DT
from snnax_torchlike.snn.graph import delay_free_cycle
from snnax_torchlike.snn.layer_call import init_layer
from snnax_torchlike.snn.surrogate import SurrogateSpike

__all__ = ["from_nir", "to_nir", "SUPPORTED_NODES", "UnsupportedNodeError"]

SUPPORTED_NODES = (
    "Input",
    "Output",
    "NIRGraph",
    "Affine",
    "Linear",
    "Conv1d",
    "Conv2d",
    "Flatten",
    "SumPool2d",
    "AvgPool2d",
    "LIF",
    "CubaLIF",
    "LI",
    "CubaLI",
    "IF",
    "I",
    "Scale",
    "Threshold",
    "Delay",
)
"""NIR node types `from_nir` reads (``NIRGraph``: nested subgraphs, flattened)."""

_NEURONS = ("LIF", "CubaLIF", "LI", "CubaLI", "IF", "I")
"""NIR nodes with state: a cycle's implicit delay goes on an edge leaving one of these."""


class NIRImportError(ValueError):
    """A NIR file or graph that cannot be imported: unreadable, malformed, or with unsupported content."""


class UnsupportedNodeError(NIRImportError):
    """A NIR node, or a layer or option on export, that cannot be converted faithfully."""


# -- shared structure ------------------------------------------------------------------
class _Flat(NamedTuple):
    """A NIR graph flattened: computational nodes, edges with delays (steps), top-level inputs and outputs.

    ``ports`` maps the top-level ``Input``/``Output`` names to their NIR nodes (their declared shapes).
    """

    nodes: dict[str, Any]
    edges: list[tuple[str, str, int]]
    inputs: list[str]
    outputs: list[str]
    ports: dict[str, Any]


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _text(value.item())
    return str(value)


def _kind(node: Any) -> str:
    return type(node).__name__


_TIME_CONSTANTS = ("tau", "tau_mem", "tau_syn")
"""Neuron fields that divide ``dt`` in every convention: they must be positive."""

_PORT_TYPES = ("input_type", "output_type")

_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "Affine": ("weight",),
    "Linear": ("weight",),
    "Conv1d": ("weight", "stride", "padding", "dilation", "groups"),
    "Conv2d": ("weight", "stride", "padding", "dilation", "groups"),
    "SumPool2d": ("kernel_size", "stride", "padding"),
    "AvgPool2d": ("kernel_size", "stride", "padding"),
    "LIF": ("tau", "r", "v_leak", "v_threshold"),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold"),
    "LI": ("tau", "r", "v_leak"),
    "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak"),
    "IF": ("r", "v_threshold"),
    "I": ("r",),
    "Scale": ("scale",),
    "Threshold": ("threshold",),
    "Delay": ("delay",),
}
"""Per NIR node type, the fields ``from_nir`` cannot do without (NIR's own defaults cover the others:
``v_reset``, ``w_in``, a bias, a convolution's ``input_shape``)."""

_NUMERIC_FIELDS = (*{f for fields in _REQUIRED_FIELDS.values() for f in fields if f != "padding"}, "v_reset",
                   "w_in", "bias", "input_shape", "start_dim", "end_dim")  # fmt: skip
"""Fields that hold numbers (a convolution's or pool's ``padding`` may also be text, e.g. ``"same"``)."""


def _check_fields(name: str, node: Any) -> None:
    """Refuse a supported node that lacks a field ``from_nir`` needs, or holds text where numbers belong.

    A node edited after construction (``node.tau_syn = None``, ``del node.v_threshold``)
    would otherwise turn ``None`` into NaN, or fail deep in numpy without naming the node.
    """
    kind = _kind(node)
    where = f"node {name!r} ({kind})"
    missing = [f for f in _REQUIRED_FIELDS.get(kind, ()) if getattr(node, f, None) is None]
    if missing:
        raise NIRImportError(
            f"from_nir: {where} lacks {', '.join(missing)} (missing or None); NIR's {kind} needs "
            f"{', '.join(_REQUIRED_FIELDS[kind])}. Set the field(s) in the NIR graph before importing it."
        )
    for field in _NUMERIC_FIELDS:
        value = getattr(node, field, None)
        if value is None or isinstance(value, Mapping):
            continue
        array = np.asarray(value)
        if array.dtype.kind not in "fciub":
            raise NIRImportError(
                f"from_nir: {where}: {field} must hold numbers, got {array.dtype} values "
                f"{array.reshape(-1)[:3].tolist()}{'...' if array.size > 3 else ''}; fix the field in the NIR graph."
            )


def _first_bad(array: np.ndarray, bad: np.ndarray) -> str:
    """``got <value> at index <i>`` for the first flagged element (``got <value>`` for a scalar)."""
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    at = f" at index {index} ({int(bad.sum())} of {array.size} values)" if index else ""
    return f"got {array[index].item()!r}{at}"


def _check_values(
    name: str,
    node: Any,
    who: str = "from_nir",
    error: type[ValueError] = NIRImportError,
    fix: str = "fix the value in the NIR graph before importing it",
) -> None:
    """Refuse non-finite parameters (also those float32 cannot hold) and non-positive time constants.

    A NaN or infinite weight, bias, threshold, ... or a time constant <= 0 would
    otherwise import silently and produce NaN or exploding membranes at run time
    (or, on export, be written to a file that cannot be imported again). ``who``,
    ``error`` and ``fix`` say who raises what, and what to do.
    """
    where = f"node {name!r} ({_kind(node)})"
    for field, value in sorted(getattr(node, "__dict__", {}).items()):
        if field in _PORT_TYPES or value is None or isinstance(value, (str, bytes, Mapping)):
            continue
        array = np.asarray(value)
        if array.dtype.kind not in "fciub":
            continue
        with np.errstate(over="ignore"):
            bad = ~(np.isfinite(array) & np.isfinite(array.astype(np.float32)))
        if bad.any():
            raise error(
                f"{who}: {where}: {field} must be finite (and within float32's range), {_first_bad(array, bad)}; "
                f"{fix}."
            )
        if field in _TIME_CONSTANTS and np.any(array <= 0):
            raise error(
                f"{who}: {where}: {field} (a time constant, in seconds) must be positive, "
                f"{_first_bad(array, np.asarray(array <= 0))}; {fix}."
            )


def _delay_steps(name: str, node: Any, dt: float | None) -> int:
    """A ``Delay`` node's delay in time steps; refuses non-uniform or off-grid delays."""
    delay = np.asarray(node.delay, dtype=np.float64)
    if delay.size == 0:
        raise UnsupportedNodeError(f"from_nir: Delay node {name!r} has an empty delay array.")
    if not np.all(delay == delay.flat[0]):
        raise UnsupportedNodeError(
            f"from_nir: Delay node {name!r} has per-element delays (from {delay.min():.6g} to {delay.max():.6g} s); "
            "edges here carry one delay each, so the delays must be uniform."
        )
    if dt is None:
        raise UnsupportedNodeError(f"from_nir: Delay node {name!r} needs a time step; pass dt=.")
    steps = float(delay.flat[0]) / dt
    whole = round(steps)
    if steps < 0 or abs(steps - whole) > 1e-4 * max(1.0, abs(steps)):
        raise UnsupportedNodeError(
            f"from_nir: Delay node {name!r} delays by {float(delay.flat[0]):.6g} s = {steps:.6g} steps of dt={dt}; "
            "expected a whole, non-negative number of steps (choose dt to divide the delay)."
        )
    return whole


def _flatten(graph: Any, dt: float | None) -> _Flat:
    """Flatten nested subgraphs into one level and remove pass-through nodes.

    Subgraph nodes are named ``<subgraph>_<node>``; any ``.`` in a name becomes
    ``_`` (``.`` separates ``state_dict`` keys). A subgraph's ``Input``/``Output``
    nodes and every ``Delay`` node are pass-throughs: each is replaced by edges from
    its sources to its targets, the delays (in steps) adding up.
    """
    import nir

    nodes: dict[str, Any] = {}
    passthrough: dict[str, int] = {}
    edges: list[tuple[str, str, int]] = []
    inputs: list[str] = []
    outputs: list[str] = []
    ports: dict[str, Any] = {}
    origin: dict[str, str] = {}

    def add(flat: str, original: str) -> None:
        if flat in origin:
            raise UnsupportedNodeError(
                f"from_nir: nodes {origin[flat]!r} and {original!r} both become {flat!r} once '.' is replaced by "
                "'_' and subgraphs are flattened; rename one of them."
            )
        origin[flat] = original

    def visit(sub: Any, prefix: str, top: bool) -> tuple[list[str], list[str]]:
        ports_in: list[str] = []
        ports_out: list[str] = []
        flat_of: dict[str, str] = {}
        children: dict[str, tuple[list[str], list[str]]] = {}
        for name, node in sub.nodes.items():
            flat = (prefix + name).replace(".", "_")
            flat_of[name] = flat
            if isinstance(node, nir.NIRGraph):
                children[name] = visit(node, flat + "_", False)
                continue
            add(flat, prefix + name)
            _check_fields(prefix + name, node)
            _check_values(prefix + name, node)
            if isinstance(node, nir.Input):
                (inputs if top else ports_in).append(flat)
                if top:
                    ports[flat] = node
                else:
                    passthrough[flat] = 0
            elif isinstance(node, nir.Output):
                (outputs if top else ports_out).append(flat)
                if top:
                    ports[flat] = node
                else:
                    passthrough[flat] = 0
            elif isinstance(node, nir.Delay):
                passthrough[flat] = _delay_steps(prefix + name, node, dt)
            else:
                nodes[flat] = node

        def endpoint(name: str, role: str, edge: tuple[str, str]) -> str:
            if name in children:
                ports = children[name][0 if role == "dst" else 1]
                if len(ports) != 1:
                    kind = "Input" if role == "dst" else "Output"
                    raise UnsupportedNodeError(
                        f"from_nir: edge {edge!r} connects to subgraph {prefix + name!r}, which has {len(ports)} "
                        f"{kind} nodes {ports}; name one as '<subgraph>.<port>'."
                    )
                return ports[0]
            if name in flat_of:
                return flat_of[name]
            head, _, tail = name.partition(".")
            if tail and head in children:
                inner = (flat_of[head] + "_" + tail).replace(".", "_")
                if inner in children[head][0 if role == "dst" else 1]:
                    return inner
            raise UnsupportedNodeError(
                f"from_nir: edge {edge!r} names {prefix + name!r}, which is not a node of the graph "
                f"(nodes: {sorted(sub.nodes)})."
            )

        seen: set[tuple[str, str]] = set()
        for src, dst in sub.edges:
            edge = (_text(src), _text(dst))
            if edge in seen:
                where = f"subgraph {prefix[:-1]!r}" if prefix else "the graph"
                raise NIRImportError(
                    f"from_nir: {where} lists the edge {edge!r} more than once; NIR edges are identities, so a "
                    "repeated edge would add the source's output twice. Remove the duplicate (or, to double the "
                    "signal, scale it with a Scale or Linear node)."
                )
            seen.add(edge)
            edges.append((endpoint(edge[0], "src", edge), endpoint(edge[1], "dst", edge), 0))
        return ports_in, ports_out

    visit(graph, "", True)
    # Remove pass-throughs (sorted: the result must not depend on the file's node order).
    for p in sorted(passthrough):
        if any(s == p and d == p for s, d, _ in edges):
            raise UnsupportedNodeError(f"from_nir: node {origin[p]!r} feeds itself without any neuron or layer.")
        into = [(s, k) for s, d, k in edges if d == p]
        out_of = [(d, k) for s, d, k in edges if s == p]
        rest = [e for e in edges if p not in (e[0], e[1])]
        edges = rest + [(s, d, k1 + k2 + passthrough[p]) for s, k1 in into for d, k2 in out_of]
    return _Flat(nodes, edges, inputs, outputs, ports)


def _delay_cycles(flat: _Flat) -> list[tuple[str, str, int]]:
    """The edges with one edge of every delay-free cycle delayed by one step.

    Depth-first search from the inputs (by name), following edges in file order,
    then from the remaining nodes (by name). On finding a back edge ``u -> v``, walk
    the cycle backwards from it and delay the first edge whose source is a neuron
    (LIF, CubaLIF, LI, CubaLI, IF, I), else the back edge itself; repeat until no
    delay-free cycle is left.
    """
    edges = list(flat.edges)
    names = sorted(flat.inputs) + sorted(n for n in flat.nodes) + sorted(flat.outputs)
    while (cycle := delay_free_cycle(names, edges)) is not None:
        chosen = next((i for i in reversed(cycle) if _kind(flat.nodes.get(edges[i][0])) in _NEURONS), cycle[-1])
        s, d, _ = edges[chosen]
        edges[chosen] = (s, d, 1)
    return edges


# -- import ------------------------------------------------------------------------------
def _ints(value: Any, n: int) -> tuple[int, ...]:
    array = np.asarray(value).reshape(-1)
    if array.size == 1:
        return (int(array[0]),) * n
    return tuple(int(v) for v in array)


def _padding(value: Any, n: int) -> str | tuple[int, ...]:
    if isinstance(value, (str, bytes)) or (isinstance(value, np.ndarray) and value.dtype.kind in "SUO"):
        return _text(value)
    return _ints(value, n)


def _f32(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def _set(param: nn.Parameter, value: Any, *, where: str, name: str) -> None:
    array = _f32(value)
    if tuple(array.shape) != param.shape:
        array = np.broadcast_to(array, param.shape) if array.size == 1 else array
    if tuple(array.shape) != param.shape:
        raise UnsupportedNodeError(f"from_nir: {where}: {name} has shape {array.shape}, expected {param.shape}.")
    param.data = jnp.asarray(array)


def _shape(node: Any, key: str) -> tuple[int, ...] | None:
    types = getattr(node, f"{key}_type", None) or {}
    value = types.get(key)
    return None if value is None else tuple(int(d) for d in np.asarray(value).reshape(-1))


def _layer(name: str, node: Any, convention: str, dt: float, spike_grad: SurrogateSpike | None) -> nn.Module:
    """The facade layer for one NIR node."""
    kind = _kind(node)
    where = f"node {name!r} ({kind})"
    key = jax.random.key(0)  # weights are overwritten: keep the user's global RNG untouched
    if kind in ("Affine", "Linear"):
        weight = _f32(node.weight)
        if weight.ndim != 2:
            raise UnsupportedNodeError(f"from_nir: {where}: weight must be 2-D (out, in), got {weight.shape}.")
        bias = kind == "Affine" and node.bias is not None
        layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias, key=key)
        _set(layer.weight, weight, where=where, name="weight")
        if bias:
            _set(layer.bias, node.bias, where=where, name="bias")
        return layer
    if kind in ("Conv1d", "Conv2d"):
        n = 1 if kind == "Conv1d" else 2
        weight = _f32(node.weight)
        if weight.ndim != n + 2:
            raise UnsupportedNodeError(f"from_nir: {where}: weight must be {n + 2}-D, got {weight.shape}.")
        groups = int(np.asarray(node.groups))
        layer_type = nn.Conv1d if n == 1 else nn.Conv2d
        bias = node.bias is not None
        layer = layer_type(weight.shape[1] * groups, weight.shape[0], weight.shape[2:], _ints(node.stride, n),
                           _padding(node.padding, n), _ints(node.dilation, n), groups, bias, key=key)  # fmt: skip
        _set(layer.weight, weight, where=where, name="weight")
        if bias:
            _set(layer.bias, node.bias, where=where, name="bias")
        return layer
    if kind == "Flatten":
        start, end = int(node.start_dim), int(node.end_dim)
        in_shape = _shape(node, "input")
        if start == 0 and end == -1:
            return nn.Flatten()
        if in_shape is None:
            raise UnsupportedNodeError(
                f"from_nir: {where}: flattening axes {start}..{end} needs the node's input_type."
            )
        rank = len(in_shape)
        # Python's modulo would wrap an axis past the last one round to another axis: refuse it instead.
        first, last = (start + rank if start < 0 else start), (end + rank if end < 0 else end)
        if not 0 <= first <= last < rank:
            raise NIRImportError(
                f"from_nir: {where}: start_dim={start}, end_dim={end} do not name a range of axes of its input_type "
                f"{in_shape} (rank {rank}: axes 0..{rank - 1}, or -{rank}..-1, with start_dim <= end_dim)."
            )
        if first == 0 and last == rank - 1:
            return nn.Flatten()
        out = in_shape[:first] + (int(np.prod(in_shape[first : last + 1])),) + in_shape[last + 1 :]
        return nn.Reshape(in_shape, out)
    if kind in ("SumPool2d", "AvgPool2d"):
        pool = nn.SumPool2d if kind == "SumPool2d" else nn.AvgPool2d
        return pool(_ints(node.kernel_size, 2), _ints(node.stride, 2), _ints(node.padding, 2))
    if kind == "Scale":
        return nn.Scale(_f32(node.scale))
    if kind == "Threshold":
        return nn.Threshold(_f32(node.threshold), spike_grad=spike_grad)
    options = dict(dt=dt, convention=convention, spike_grad=spike_grad)
    zero = np.zeros((), np.float32)
    reset = zero if getattr(node, "v_reset", None) is None else _f32(node.v_reset)
    if kind == "LIF":
        return nn.LIF(_f32(node.tau), _f32(node.r), _f32(node.v_leak), _f32(node.v_threshold), reset, **options)
    if kind == "LI":
        return nn.LI(_f32(node.tau), _f32(node.r), _f32(node.v_leak), **options)
    if kind in ("CubaLIF", "CubaLI"):
        w_in = np.ones((), np.float32) if getattr(node, "w_in", None) is None else _f32(node.w_in)
        common = (_f32(node.tau_syn), _f32(node.tau_mem), _f32(node.r), _f32(node.v_leak))
        if kind == "CubaLIF":
            return nn.CubaLIF(*common, _f32(node.v_threshold), reset, w_in, **options)
        return nn.CubaLI(*common, w_in, **options)
    if kind == "IF":
        return nn.IF(_f32(node.r), _f32(node.v_threshold), reset, **options)
    if kind == "I":
        return nn.Integrator(_f32(node.r), **options)
    raise UnsupportedNodeError(
        f"from_nir: {where} is not supported. Supported NIR nodes: {', '.join(SUPPORTED_NODES)}. Replace the "
        "node, or export the network without it."
    )


def _major(version: str) -> int | None:
    head = version.strip().lstrip("vV").split(".")[0]
    return int(head) if head.isdigit() else None


def _check_file(path: str | os.PathLike) -> None:
    """Refuse, by name, what ``nir.read`` would trip over without naming it.

    A file written by a newer major version of NIR (whose fields may mean other
    things), a node of a type ``from_nir`` does not read, a node that lacks a field
    it needs (see ``_REQUIRED_FIELDS``), or text where numbers belong.
    """
    import h5py
    import nir

    def visit(group: Any, prefix: str) -> None:
        nodes = group.get("nodes")
        if not isinstance(nodes, h5py.Group):
            return
        for name, node in nodes.items():
            kind = node.get("type") if isinstance(node, h5py.Group) else None
            if not isinstance(kind, h5py.Dataset):
                continue  # malformed: nir.read reports it
            kind = _text(kind[()])
            if kind not in SUPPORTED_NODES:
                raise UnsupportedNodeError(
                    f"from_nir: node {prefix + name!r} has type {kind!r}, which is not supported. Supported NIR "
                    f"nodes: {', '.join(SUPPORTED_NODES)}. Replace the node, or export the network without it."
                )
            if kind == "NIRGraph":
                visit(node, prefix + name + ".")
            where = f"from_nir: node {prefix + name!r} ({kind}) in {os.fspath(path)}"
            missing = [f for f in _REQUIRED_FIELDS.get(kind, ()) if f not in node]
            if missing:
                raise NIRImportError(
                    f"{where} lacks {', '.join(missing)}; NIR's {kind} needs {', '.join(_REQUIRED_FIELDS[kind])}. "
                    "The file is incomplete or damaged: export it again."
                )
            for field in _NUMERIC_FIELDS:
                data = node.get(field)
                if isinstance(data, h5py.Dataset) and data.dtype.kind not in "fciub":
                    raise NIRImportError(
                        f"{where}: {field} must hold numbers, but the file stores {data.dtype} data there. The file "
                        "is damaged or was not written by nir: export it again."
                    )

    with h5py.File(path, "r") as f:
        version = f.get("version")
        if isinstance(version, h5py.Dataset):
            written, installed = _text(version[()]), str(nir.version)
            if (_major(written) or 0) > (_major(installed) or 0):
                raise NIRImportError(
                    f"from_nir: {os.fspath(path)} was written by NIR {written}, a newer major version than the "
                    f"installed nir {installed} reads (its nodes may mean other things). Upgrade nir "
                    "(pip install -U nir), or export the file again with nir "
                    f"{_major(installed)}.x."
                )
        root = f.get("node")
        if isinstance(root, h5py.Group):
            visit(root, "")


def _read(graph_or_path: Any) -> Any:
    import nir

    if isinstance(graph_or_path, (str, os.PathLike)):
        _check_file(graph_or_path)
        return nir.read(graph_or_path)
    if not isinstance(graph_or_path, nir.NIRGraph):
        raise TypeError(f"from_nir: expected a nir.NIRGraph or a path, got {type(graph_or_path).__name__}.")
    return graph_or_path


def _recorded(graph: Any, key: str) -> Any:
    metadata = getattr(graph, "metadata", None) or {}
    return metadata.get(key)


def from_nir(
    graph_or_path: Any,
    *,
    convention: str,
    dt: float | None = None,
    spike_grad: SurrogateSpike | None = None,
) -> nn.Graph:
    """Build an ``nn.Graph`` that simulates a NIR graph with an explicit discretisation.

    **Arguments:**

    - ``graph_or_path``: a ``nir.NIRGraph`` or the path of a ``.nir`` file (read
      with ``nir.read``).
    - ``convention``: ``"snntorch"`` (forward Euler, the reading under which
      snnTorch's exported ``Leaky``/``Synaptic`` run unchanged), ``"norse"`` (Norse's
      Euler: inputs jump into the synaptic current), ``"euler"`` or ``"exact"``
      (exponential Euler); see [`snnax_torchlike.snn.discretisation`][]. Required:
      NIR does not say how to discretise.
    - ``dt``: the time step in seconds. Default: the ``dt`` the file's metadata
      records (``to_nir`` writes it), else the convention's (``1e-4`` for
      ``"snntorch"``, ``1e-3`` for ``"norse"``); ``"euler"``/``"exact"`` need one.
      A finite number > 0; one that differs from the recorded ``dt`` is used, with a
      ``UserWarning`` (as for a ``convention`` other than the recorded one).
    - ``spike_grad``: the surrogate of every spiking node (default: the neurons'
      ``superspike()``); NIR stores none.

    Neuron parameters ``tau``/``tau_mem``/``tau_syn``, ``r``, ``w_in``, ``v_leak``,
    ``v_threshold`` and ``v_reset`` are all honoured (``nn.LIF``, ``nn.CubaLIF``,
    ``nn.LI``, ``nn.CubaLI``, ``nn.IF``, ``nn.Integrator``, reset to ``v_reset``).

    **Structure.** Nested subgraphs are flattened (nodes ``<sub>_<node>``; ``.`` in
    names becomes ``_``). Each ``Delay`` node becomes the delay of the edges through
    it, ``round(delay / dt)`` steps (per-element delays must be equal and a whole
    number of steps, else ``UnsupportedNodeError``). Each cycle without delay gets
    one step on one edge: a depth-first search from the inputs (by name; edges in
    file order) finds the edge that closes the cycle, and the delay goes on the
    nearest edge before it that *leaves a neuron* (the back edge itself if the cycle
    has no neuron). For snnTorch's ``RLeaky`` (``lif -> w_rec -> lif``) that is
    ``lif -> w_rec``: the recurrent weights read the previous step's spikes and their
    bias enters from the first step, as in snnTorch.

    **Returns:** an ``nn.Graph`` (also for chains): NIR node names are its child
    names, so an snnTorch export's ``"0"``, ``"1"``, ... give ``state_dict`` keys
    ``"0.weight"``, ...; ``net(x)`` takes ``[T, B, ...]`` per NIR ``Input`` (in name
    order) and returns ``(spk, mem)`` when an output is one neuron's spikes.
    ``net.metadata`` records ``convention``, ``dt`` and the file's metadata.

    Raises ``UnsupportedNodeError`` naming any node of another type (also in a file,
    before ``nir.read`` trips over it) and ``NIRImportError`` (its base, a
    ``ValueError``) for any file or graph that cannot be read or built (malformed,
    truncated, wrong types or shapes, written by a newer major version of NIR), and
    ``ValueError`` for an unknown convention or a missing, non-finite or non-positive
    ``dt`` (``NIRImportError`` when it is the file's). Checked also when the graph was
    built with ``type_check=False``, ``NIRImportError`` naming the node and field: a
    field the node needs that is missing or ``None``, text where numbers belong, a NaN
    or infinite parameter (weights, biases, thresholds, delays, ...; also values
    float32 cannot hold), a time constant (``tau``, ``tau_mem``, ``tau_syn``) that is
    not positive, an edge listed twice (it would add its input twice), edges of
    different shapes into one node, a ``Flatten`` whose ``start_dim``/``end_dim`` name
    no range of its axes, and shapes that disagree: an ``Input``/``Output`` node's
    with the layer it feeds or reads, a ``Conv1d``/``Conv2d``'s ``input_shape`` or a
    ``Flatten``'s ``input_type`` with what it receives, and an element-wise node's
    parameters with its input (no broadcast).
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"from_nir: convention must be one of {CONVENTIONS}, got {convention!r}.")
    if dt is not None:
        dt = _positive_dt(dt, "from_nir: dt")
    source = os.fspath(graph_or_path) if isinstance(graph_or_path, (str, os.PathLike)) else "the graph"
    try:
        return _from_nir(_read(graph_or_path), convention, dt, spike_grad)
    except NIRImportError:
        raise
    except (
        OSError,
        LookupError,
        AttributeError,
        TypeError,
        ValueError,
        RuntimeError,
        AssertionError,
        ArithmeticError,
    ) as error:
        if isinstance(error, TypeError) and str(error).startswith("from_nir: expected"):
            raise
        # A malformed or hostile file: whatever nir, h5py or numpy tripped over, the caller gets one error type.
        raise NIRImportError(f"from_nir: cannot import {source}: {_reason(error)}") from error


def _reason(error: BaseException) -> str:
    """``error``'s type and message; for a bare ``assert`` (no message), where it failed."""
    if str(error):
        return f"{type(error).__name__}: {error}"
    frames = traceback.extract_tb(error.__traceback__)
    last = frames[-1] if frames else None
    where = f" in {os.path.basename(last.filename)}, line {last.lineno}: {last.line}" if last else ""
    return (
        f"{type(error).__name__} without a message{where}. The file is malformed or uses a node type or field "
        "this version of nir does not know; check it with nir.read."
    )


def _positive_dt(value: Any, what: str) -> float:
    """``value`` as a time step in seconds: a finite number > 0, else an error that starts with ``what``."""
    try:
        dt = float(np.asarray(value))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} must be one number of seconds (e.g. 1e-3), got {value!r}.") from error
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"{what} must be a finite, positive number of seconds (e.g. 1e-3), got {dt}.")
    return dt


def _from_nir(graph: Any, convention: str, dt: float | None, spike_grad: SurrogateSpike | None) -> nn.Graph:
    recorded_dt = _recorded(graph, "dt")
    recorded_convention = _recorded(graph, "convention")
    if recorded_dt is not None:
        try:
            recorded = _positive_dt(recorded_dt, "from_nir: the graph's metadata records a dt that")
        except (TypeError, ValueError) as error:
            if dt is None:  # a damaged file: the time step the network was exported with is unknown
                raise NIRImportError(f"{error} Pass dt= (seconds) to import the graph anyway.") from error
        else:
            if dt is None:
                dt = recorded
            elif not np.isclose(dt, recorded, rtol=1e-6, atol=0):
                warnings.warn(
                    f"from_nir: the file records dt={recorded}, but dt={dt} was given; the imported network steps "
                    "the ODEs with another time step than the exporter's, so its spikes differ.",
                    stacklevel=3,
                )
    if dt is None:
        if convention not in DEFAULT_DT:
            raise NIRImportError(
                f"from_nir: convention {convention!r} needs dt (in seconds), and the file records none; pass dt=."
            )
        dt = DEFAULT_DT[convention]
    if recorded_convention is not None and _text(recorded_convention) != convention:
        warnings.warn(
            f"from_nir: the file records convention {_text(recorded_convention)!r}, but convention={convention!r} "
            "was given; the imported network discretises the ODEs differently from the exporter.",
            stacklevel=3,
        )
    flat = _flatten(graph, dt)
    if not flat.inputs or not flat.outputs:
        raise UnsupportedNodeError(
            f"from_nir: the graph needs Input and Output nodes; it has inputs {flat.inputs} and outputs {flat.outputs}."
        )
    edges = _delay_cycles(flat)
    layers = {}
    for name, node in flat.nodes.items():
        try:
            layers[name] = _layer(name, node, convention, dt, spike_grad)
        except NIRImportError:
            raise
        except (ValueError, TypeError) as error:  # a layer refusing the node's values: say which node
            raise NIRImportError(f"from_nir: node {name!r} ({_kind(node)}): {error}") from error
    _check_port_shapes(flat, edges, layers)
    metadata = {"convention": convention, "dt": dt, "nir": dict(getattr(graph, "metadata", None) or {})}
    return nn.Graph(layers, edges, inputs=sorted(flat.inputs), outputs=sorted(flat.outputs), metadata=metadata)


_ELEMENTWISE = (*_NEURONS, "Scale", "Threshold")
"""NIR nodes whose output has their input's shape: any other output shape is a broadcast."""


def _check_port_shapes(flat: _Flat, edges: list[tuple[str, str, int]], layers: dict[str, nn.Module]) -> None:
    """Refuse ``Input``/``Output`` shapes that disagree with the layers next to them.

    NIR checks these only when a graph is built or read with ``type_check=True``;
    without it a wrong ``Input`` shape would be broadcast into element-wise nodes or
    fail only when the network runs, and a wrong ``Output`` shape would go unnoticed.
    """
    declared = {name: _shape(node, "input" if name in flat.inputs else "output") for name, node in flat.ports.items()}
    in_shapes = {name: declared[name] for name in flat.inputs if declared[name] is not None}
    for src, dst, _ in edges:
        if src in in_shapes and dst in layers:
            try:
                _, out = init_layer(layers[dst].core_layer(), in_shapes[src], None, name=f"node {dst!r}")
            except (ValueError, TypeError) as error:
                node = flat.nodes[dst]
                takes = f"({np.shape(node.weight)[1]},), " if _kind(node) in ("Affine", "Linear") else ""
                raise NIRImportError(
                    f"from_nir: Input node {src!r} declares input_type {in_shapes[src]}, which node {dst!r} "
                    f"({_kind(node)}) cannot take: {error} Set the Input node's input_type to {takes}the "
                    f"per-sample shape node {dst!r} takes."
                ) from error
            if _kind(flat.nodes[dst]) in _ELEMENTWISE and tuple(out.shape) != in_shapes[src]:
                raise NIRImportError(
                    f"from_nir: Input node {src!r} declares input_type {in_shapes[src]}, but node {dst!r} "
                    f"({_kind(flat.nodes[dst])}) acts element-wise on shape {tuple(out.shape)} (its parameters' "
                    f"shape); the input would be broadcast. Set the Input node's input_type to {tuple(out.shape)}."
                )
    received, shapes = _infer_shapes(layers, edges, in_shapes, who="from_nir", complete=False)
    _check_node_shapes(flat, received, shapes)
    for src, dst, _ in edges:
        if dst in flat.outputs and declared[dst] is not None and src in shapes and shapes[src] != declared[dst]:
            raise NIRImportError(
                f"from_nir: Output node {dst!r} declares output_type {declared[dst]}, but node {src!r} feeding it "
                f"outputs shape {shapes[src]}. Set the Output node's output_type to {shapes[src]}."
            )


def _check_node_shapes(
    flat: _Flat, received: dict[str, tuple[int, ...]], shapes: dict[str, tuple[int, ...]]
) -> None:
    """Refuse nodes whose own shapes disagree with what they receive (``received``) or give (``shapes``).

    An element-wise node (neuron, ``Scale``, ``Threshold``) whose parameters
    broadcast its input to another shape, and a ``Conv1d``/``Conv2d`` or ``Flatten``
    whose declared input shape is not the one it gets: each would import and run,
    computing something other than what the graph says.
    """
    for name, got in received.items():
        node = flat.nodes[name]
        kind, where = _kind(node), f"node {name!r} ({_kind(node)})"
        if kind in _ELEMENTWISE and shapes[name] != got:
            params = {
                f: np.shape(v) for f, v in sorted(vars(node).items())
                if f in _NUMERIC_FIELDS and v is not None and np.ndim(v) > 0
            }  # fmt: skip
            raise NIRImportError(
                f"from_nir: {where} acts element-wise, but its parameters {params} turn its input of shape {got} "
                f"into shape {shapes[name]}; give it parameters of shape {got} (or scalars)."
            )
        declared = None
        if kind in ("Conv1d", "Conv2d") and getattr(node, "input_shape", None) is not None:
            declared, actual, field = _ints(node.input_shape, len(got) - 1), got[1:], "input_shape"
        elif kind == "Flatten" and _shape(node, "input") is not None:
            declared, actual, field = _shape(node, "input"), got, "input_type"
        if declared is not None and tuple(declared) != tuple(actual):
            raise NIRImportError(
                f"from_nir: {where} declares {field} {tuple(declared)}, but the edges into it bring shape "
                f"{tuple(actual)} (per sample{', without channels' if field == 'input_shape' else ''}). Fix the "
                f"node's {field}, or the shapes of the nodes before it."
            )


# -- export ------------------------------------------------------------------------------
_EULER_LIKE = {"euler": "euler", "snntorch": "euler"}
_SNNTORCH_STYLE = (nn.Leaky, nn.Synaptic, nn.RLeaky)
"""The snnTorch-style neurons ``to_nir`` writes (``RSynaptic`` is an ``RLeaky``)."""


def _structure(net: nn.Module) -> tuple[dict[str, nn.Module], list[tuple[str, str, int]], list[str], list[str]]:
    """Nodes, edges, inputs and outputs of an ``nn.Graph`` or ``nn.Sequential``."""
    if isinstance(net, nn.Graph):
        return net.nodes, list(net.edges), list(net.input_names), list(net.output_names)
    if isinstance(net, nn.Sequential):
        nodes = {str(i): layer for i, layer in enumerate(net)}
        names = ["input", *nodes, "output"]
        return nodes, [(a, b, 0) for a, b in zip(names[:-1], names[1:])], ["input"], ["output"]
    raise TypeError(f"to_nir: expected an nn.Graph or nn.Sequential, got {type(net).__name__}.")


def _guess_input_shape(layer: nn.Module) -> tuple[int, ...] | None:
    if isinstance(layer, nn.Linear):
        return (layer.in_features,)
    arrays = [np.asarray(v) for v in layer.state_dict().values() if np.asarray(v).ndim > 0]
    if isinstance(layer, (nn.ODENeuron, nn.Scale, nn.Threshold)) or layer.is_neuron:
        shapes = [a.shape for a in arrays]
        return tuple(np.broadcast_shapes(*shapes)) if shapes else None
    return None


def _input_shapes(
    nodes: dict[str, nn.Module], edges: list[tuple[str, str, int]], inputs: list[str], given: Any
) -> dict[str, tuple[int, ...]]:
    if given is not None:
        if isinstance(given, Mapping):
            shapes = {k: tuple(int(d) for d in v) for k, v in given.items()}
        elif len(inputs) == 1 and all(isinstance(d, (int, np.integer)) for d in given):
            shapes = {inputs[0]: tuple(int(d) for d in given)}
        else:
            shapes = {k: tuple(int(d) for d in v) for k, v in zip(inputs, given, strict=True)}
        missing = [k for k in inputs if k not in shapes]
        if missing:
            raise ValueError(f"to_nir: input_shape gives no shape for inputs {missing}.")
        return shapes
    shapes = {}
    for name in inputs:
        targets = [d for s, d, _ in edges if s == name and d in nodes]
        guess = next((g for g in (_guess_input_shape(nodes[d]) for d in targets) if g is not None), None)
        if guess is None:
            raise ValueError(
                f"to_nir: cannot tell the per-sample shape of input {name!r} (it feeds {targets}); "
                "pass input_shape=(C, H, W) or the like, without batch and time axes."
            )
        shapes[name] = guess
    return shapes


def _infer_shapes(
    nodes: dict[str, nn.Module],
    edges: list[tuple[str, str, int]],
    in_shapes: dict[str, tuple[int, ...]],
    *,
    who: str = "to_nir",
    complete: bool = True,
) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """Per node, the per-sample input and output shapes (a sweep, as the core's ``init_state``).

    ``who`` prefixes the errors; ``complete=False`` leaves out nodes no input reaches
    instead of refusing them. The output shapes include ``in_shapes``.
    """
    outputs: dict[str, tuple[int, ...]] = dict(in_shapes)
    inputs: dict[str, tuple[int, ...]] = {}
    pending = list(nodes)
    while pending:
        progressed = False
        for name in list(pending):
            known = [outputs[s] for s, d, _ in edges if d == name and s in outputs]
            if not known:
                continue
            if len(set(known)) != 1:
                raise ValueError(f"{who}: node {name!r} sums inputs of different shapes {sorted(set(known))}.")
            _, out = init_layer(nodes[name].core_layer(), known[0], None, name=f"{who}: node {name!r}")
            inputs[name], outputs[name] = known[0], tuple(out.shape)
            pending.remove(name)
            progressed = True
        if not progressed and not complete:
            break
        if not progressed:
            raise ValueError(f"{who}: cannot infer the shapes of nodes {pending}.")
    # A node is swept once one of its sources is known; a source swept later must agree with it too.
    for src, dst, _ in edges:
        if src in outputs and dst in inputs and outputs[src] != inputs[dst]:
            raise ValueError(
                f"{who}: node {dst!r} sums inputs of different shapes: {outputs[src]} from {src!r}, {inputs[dst]} "
                f"from {sorted(s for s, d, _ in edges if d == dst and outputs.get(s) == inputs[dst])}."
            )
    return inputs, outputs


def _refuse(name: str, layer: nn.Module, why: str) -> UnsupportedNodeError:
    return UnsupportedNodeError(f"to_nir: node {name!r} ({type(layer).__name__}) {why}")


def _per_neuron(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    return np.array(np.broadcast_to(np.asarray(value, dtype=np.float32), shape))


_RECURRENT_RESET = (
    "cannot be written to NIR faithfully: NIR's LIF resets to v_reset the step it fires and integrates the next "
    "input, while a subtract or no reset, and snnTorch's zero reset with reset_delay=True (which also clears the "
    "next step's input and recurrence), differ. nn.RLeaky(reset_mechanism='zero', reset_delay=False) with "
    "positive thresholds exports exactly as a LIF <-> w_rec cycle, and so does an nn.Graph of "
    "nn.Leaky(reset_mechanism='zero') and nn.Linear with a cycle, e.g. edges ('lif', 'w_rec', 1), ('w_rec', 'lif')"
)


def _inexact_reset(layer: nn.Module) -> str | None:
    """Why NIR's reset to ``v_reset = 0`` would change this snnTorch-style neuron, or None where it is exact."""
    if isinstance(layer, nn.RLeaky):  # RSynaptic included, which has reset_delay=True only
        # With reset_delay=False the membrane is zeroed the step it fires, so (for a positive threshold) the
        # delayed reset never triggers again: NIR's reset to v_reset = 0.
        positive = bool(np.all(np.asarray(layer._value("threshold")) > 0))
        exact = not isinstance(layer, nn.RSynaptic) and layer.reset_mechanism == "zero" and not layer.reset_delay
        return None if exact and positive else _RECURRENT_RESET
    if layer.reset_mechanism != "zero":
        return (
            f"uses reset_mechanism={layer.reset_mechanism!r}, but NIR neurons only reset to a value (v_reset); "
            "writing a zero reset instead would change the network. Use reset_mechanism='zero' to export"
        )
    if isinstance(layer, nn.Synaptic) and layer.reset_delay:
        return (
            "uses reset_delay=True: snnTorch's Synaptic then zeroes the whole membrane of the step after a spike, "
            "input included, which NIR's CubaLIF (reset to v_reset, then integrate) cannot express. With "
            "reset_delay=False it is exactly NIR's CubaLIF"
        )
    return None


def _snntorch_neuron(
    name: str, layer: nn.Module, shape: tuple[int, ...], dt: float, nir: Any, snntorch_resets: bool
) -> Any:
    """snnTorch's export convention: tau = dt/(1-beta), r = tau/dt, w_in = tau_syn/dt, reset to 0.

    ``RLeaky``/``RSynaptic`` give their neuron only (``_recurrent_nodes`` adds the
    recurrence). A reset NIR cannot express is refused unless ``snntorch_resets``.
    """
    if not isinstance(layer, _SNNTORCH_STYLE) or isinstance(layer, nn.DeltaLeaky):  # a Leaky that fires on changes
        raise _refuse(
            name, layer,
            "has no NIR counterpart. Supported neurons: nn.Leaky, nn.Synaptic, nn.RLeaky, nn.RSynaptic "
            "(with snntorch_resets=True unless exact) and nn.ODENeuron's.",
        )  # fmt: skip
    options = [option for option in ("inhibition", "state_quant") if getattr(layer, option, None) not in (None, False)]
    if options:
        raise _refuse(
            name, layer,
            f"sets {' and '.join(options)}, which NIR cannot express (its neurons spike independently, from "
            "unquantised states); writing a plain neuron would change the network.",
        )  # fmt: skip
    reason = _inexact_reset(layer)
    if reason is not None and not snntorch_resets:
        raise _refuse(
            name, layer, f"{reason}; or pass snntorch_resets=True to write a reset to 0, as snnTorch's exporter does."
        )
    if not np.allclose(np.asarray(layer._value("graded_spikes_factor")), 1.0):
        raise _refuse(name, layer, "uses graded spikes (graded_spikes_factor != 1); NIR spikes have height 1.")
    threshold = _per_neuron(layer._value("threshold"), shape)
    beta = np.clip(np.asarray(layer._value("beta"), np.float64), 0.0, 1.0)
    zeros = _per_neuron(0.0, shape)
    if isinstance(layer, (nn.Synaptic, nn.RSynaptic)):
        alpha = np.clip(np.asarray(layer._value("alpha"), np.float64), 0.0, 1.0)
        if np.any(alpha >= 1) or np.any(beta >= 1):
            raise _refuse(name, layer, "has alpha or beta = 1 (no decay), which has no finite NIR time constant.")
        return nir.CubaLIF(
            tau_syn=_per_neuron(dt / (1 - alpha), shape), tau_mem=_per_neuron(dt / (1 - beta), shape),
            r=_per_neuron(1 / (1 - beta), shape), v_leak=zeros, v_threshold=threshold, v_reset=zeros,
            w_in=_per_neuron(1 / (1 - alpha), shape),
        )  # fmt: skip
    if np.all(beta >= 1):  # no leak: NIR's IF with unit gain (r * dt = 1)
        return nir.IF(r=_per_neuron(1 / dt, shape), v_threshold=threshold, v_reset=zeros)
    if np.any(beta >= 1):
        raise _refuse(name, layer, "mixes beta = 1 (no leak, NIR IF) and beta < 1 (NIR LIF) in one layer.")
    return nir.LIF(
        tau=_per_neuron(dt / (1 - beta), shape), r=_per_neuron(1 / (1 - beta), shape), v_leak=zeros,
        v_threshold=threshold, v_reset=zeros,
    )  # fmt: skip


def _recurrent_nodes(
    name: str, layer: nn.Module, shape: tuple[int, ...], dt: float, nir: Any, snntorch_resets: bool
) -> tuple[dict[str, Any], list[tuple[str, str, int]]]:
    """An ``RLeaky``/``RSynaptic`` as snnTorch's exporter writes it: nodes ``<name>.lif`` and ``<name>.w_rec``.

    ``w_rec`` is the recurrent ``Affine`` (``Linear`` without bias), or ``Linear(diag(V))``
    one-to-one; the edge ``lif -> w_rec`` reads the previous step's spikes. A reset NIR
    cannot express is refused unless ``snntorch_resets``.

    **Returns:** the two NIR nodes and the edges between them (with delays in steps).
    """
    if len(shape) != 1:
        raise _refuse(
            name, layer, f"needs inputs of shape (features,), got {shape} (a convolutional recurrence has no NIR node)."
        )
    lif, w_rec = f"{name}.lif", f"{name}.w_rec"
    if layer.all_to_all:
        recurrent = _node(w_rec, layer.recurrent, shape, dt, nir, True)
    else:
        recurrent = nir.Linear(weight=np.diag(_per_neuron(layer._value("V"), shape)))
    nodes = {lif: _snntorch_neuron(name, layer, shape, dt, nir, snntorch_resets), w_rec: recurrent}
    return nodes, [(lif, w_rec, 1), (w_rec, lif, 0)]


def _node(
    name: str, layer: nn.Module, in_shape: tuple[int, ...], dt: float | None, nir: Any, snntorch_resets: bool
) -> Any:
    """The NIR node of one facade layer (``in_shape``: its per-sample input shape; ``snntorch_resets``: as to_nir)."""
    if isinstance(layer, nn.Linear):
        weight = np.asarray(layer.weight.data, np.float32)
        if layer.bias is None:
            return nir.Linear(weight=weight)
        return nir.Affine(weight=weight, bias=np.asarray(layer.bias.data, np.float32))
    if isinstance(layer, (nn.Conv1d, nn.Conv2d)):
        weight = np.asarray(layer.weight.data, np.float32)
        bias = np.zeros(weight.shape[0], np.float32) if layer.bias is None else np.asarray(layer.bias.data, np.float32)
        one = isinstance(layer, nn.Conv1d)
        padding = layer.padding if isinstance(layer.padding, str) else (layer.padding[0] if one else layer.padding)
        spatial = in_shape[1] if one else tuple(in_shape[1:])
        conv = nir.Conv1d if one else nir.Conv2d
        return conv(input_shape=spatial, weight=weight, stride=layer.stride[0] if one else layer.stride,
                    padding=padding, dilation=layer.dilation[0] if one else layer.dilation, groups=layer.groups,
                    bias=bias)  # fmt: skip
    if isinstance(layer, nn.Flatten):
        return nir.Flatten(input_type={"input": np.array(in_shape)}, start_dim=0, end_dim=-1)
    if isinstance(layer, nn.Reshape):
        for first in range(len(in_shape)):
            for last in range(first, len(in_shape)):
                flat = in_shape[:first] + (int(np.prod(in_shape[first : last + 1])),) + in_shape[last + 1 :]
                if flat == layer.shape:
                    return nir.Flatten(input_type={"input": np.array(in_shape)}, start_dim=first, end_dim=last)
        raise _refuse(name, layer, f"reshapes {in_shape} to {layer.shape}, which is no flattening of adjacent axes.")
    if isinstance(layer, (nn.AvgPool2d, nn.SumPool2d)):
        if isinstance(layer, nn.AvgPool2d) and not layer.count_include_pad and any(layer.padding):
            raise _refuse(name, layer, "averages without counting padding (count_include_pad=False); NIR counts it.")
        pool = nir.SumPool2d if isinstance(layer, nn.SumPool2d) else nir.AvgPool2d
        return pool(kernel_size=np.array(layer.kernel_size), stride=np.array(layer.stride),
                    padding=np.array(layer.padding))  # fmt: skip
    if isinstance(layer, nn.Scale):
        return nir.Scale(scale=_per_neuron(layer.core_layer().scale, in_shape))
    if isinstance(layer, nn.Threshold):
        return nir.Threshold(threshold=_per_neuron(layer.core_layer().threshold, in_shape))
    if isinstance(layer, nn.ODENeuron):
        if layer.reset != "value":
            raise _refuse(
                name, layer,
                f"uses reset={layer.reset!r}, but NIR neurons only reset to a value (v_reset); writing a reset to "
                "v_reset instead would change the network. Use reset='value' to export.",
            )  # fmt: skip
        try:
            kind, params = layer.nir_parameters()
        except ValueError as error:  # e.g. a recurrent cell: not one NIR node
            raise _refuse(name, layer, f"has no single NIR node: {error}") from error
        node_type = getattr(nir, kind, None)
        if node_type is None:
            raise _refuse(name, layer, f"names the NIR node type {kind!r} in nir_parameters(), which nir lacks.")
        try:
            return node_type(**{k: _per_neuron(v, in_shape) for k, v in params.items()})
        except TypeError as error:
            raise _refuse(
                name, layer, f"gives nir_parameters() {sorted(params)}, which nir.{kind} does not take ({error})."
            ) from error
    if layer.is_neuron:
        return _snntorch_neuron(name, layer, in_shape, dt, nir, snntorch_resets)
    raise _refuse(
        name, layer,
        "has no NIR counterpart. Exportable: Linear, Conv1d, Conv2d, Flatten, Reshape (a flatten), AvgPool2d, "
        "SumPool2d, Scale, Threshold, LIF, CubaLIF, LI, CubaLI, IF, Integrator (and other nn.ODENeuron's), "
        "Leaky and Synaptic with reset_mechanism='zero'.",
    )  # fmt: skip


def _time_step(nodes: dict[str, nn.Module], dt: float | None) -> tuple[float | None, str | None]:
    """The one (dt, convention) every neuron agrees on; snnTorch-style neurons count as Euler."""
    ode = {n: (layer.convention, float(layer.dt)) for n, layer in nodes.items() if isinstance(layer, nn.ODENeuron)}
    snntorch_style = [n for n, layer in nodes.items() if layer.is_neuron and n not in ode]
    classes = {(_EULER_LIKE.get(c, c), t) for c, t in ode.values()}
    if len(classes) > 1 or (snntorch_style and classes and next(iter(classes))[0] != "euler"):
        detail = ", ".join(f"{n}: {c} dt={t}" for n, (c, t) in ode.items())
        extra = f"; snnTorch-style (Euler) neurons {snntorch_style}" if snntorch_style else ""
        raise UnsupportedNodeError(
            f"to_nir: the neurons discretise differently ({detail}{extra}); one NIR file is read with one "
            "convention and dt, so give all neurons the same."
        )
    if classes:
        ode_dt = next(iter(classes))[1]
        if dt is not None and not np.isclose(float(dt), ode_dt, rtol=1e-6, atol=0):
            raise ValueError(f"to_nir: dt={dt} differs from the neurons' dt={ode_dt}.")
        conventions = {c for c, _ in ode.values()}
        convention = conventions.pop() if len(conventions) == 1 else "euler"
        if snntorch_style and convention != "snntorch":
            convention = "euler"
        return ode_dt, convention
    if snntorch_style:
        return (DEFAULT_DT["snntorch"] if dt is None else float(dt)), "snntorch"
    return (None if dt is None else float(dt)), None


def _build(
    nodes: dict[str, Any],
    edges: list[tuple[str, str, int]],
    explicit: set[int],
    out_shapes: dict[str, tuple[int, ...]],
    dt: float | None,
    nir: Any,
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """NIR nodes and edges: edges listed in ``explicit`` (indices) go through ``Delay`` nodes."""
    nodes = dict(nodes)
    written: list[tuple[str, str]] = []
    for i, (src, dst, delay) in enumerate(edges):
        if i not in explicit or delay == 0:
            written.append((src, dst))
            continue
        if dt is None:
            raise ValueError(f"to_nir: edge ({src!r}, {dst!r}) has a delay of {delay} steps; pass dt= to write it.")
        name, k = f"delay_{src}_{dst}", 0
        while name in nodes:
            k += 1
            name = f"delay_{src}_{dst}_{k}"
        nodes[name] = nir.Delay(delay=np.full(out_shapes[src], delay * dt))
        written += [(src, name), (name, dst)]
    return nodes, written


def to_nir(
    net: nn.Module,
    path: str | os.PathLike | None = None,
    *,
    dt: float | None = None,
    input_shape: Any = None,
    type_check: bool = True,
    snntorch_resets: bool = False,
) -> Any:
    """Describe an ``nn.Sequential`` or ``nn.Graph`` as a ``nir.NIRGraph`` (and write it to ``path``).

    **Arguments:**

    - ``net``: the network. Nodes keep their names (a ``Sequential``'s are ``"0"``,
      ``"1"``, ...), inputs and outputs become NIR ``Input``/``Output`` nodes.
    - ``path``: if given, the graph is also written there with ``nir.write``: to a
      temporary file beside it, then renamed, so a failed write leaves an existing
      file as it was; missing folders are created.
    - ``dt``: the time step (seconds) of snnTorch-style neurons (``nn.Leaky``,
      ``nn.Synaptic``), default snnTorch's ``1e-4``; NIR-style neurons
      (``nn.LIF``, ...) carry their own, which ``dt`` must then equal.
    - ``input_shape``: the per-sample shape of the input (a tuple; a dict or list of
      them for several inputs), no batch or time axis. Inferred when the first layer
      tells it (``Linear``, a neuron with per-neuron parameters); convolutions need it.
    - ``type_check``: run NIR's type inference and checks (default True).
    - ``snntorch_resets``: write snnTorch-style neurons as snnTorch's
      ``export_to_nir`` does, also where NIR cannot express them: every reset as a
      reset to 0 (a subtract or no reset, and snnTorch's zero reset that also drops
      the next step's input, are not encoded), and ``RLeaky``/``RSynaptic`` as the
      nodes ``<name>.lif`` (``LIF``/``CubaLIF``) and ``<name>.w_rec`` (the recurrent
      ``Affine``, or ``Linear(diag(V))`` one-to-one) with edges ``lif -> w_rec ->
      lif``; edges into and out of the layer go to ``<name>.lif``. A ``UserWarning``
      names the neurons whose dynamics the file then changes. Default False: those
      neurons are refused.

    Layers: ``Linear`` -> ``Affine`` (``Linear`` without bias); ``Conv1d``/``Conv2d``
    (with ``input_shape``); ``Flatten`` -> ``Flatten(start_dim=0)`` over the unbatched
    shape; ``AvgPool2d``, ``SumPool2d``, ``Scale``, ``Threshold``; ``nn.ODENeuron``'s
    (``LIF``, ``CubaLIF``, ``LI``, ``CubaLI``, ``IF``, ``Integrator``, Norse-named
    cells) with their own parameters via ``nir_parameters()``; snnTorch-style
    ``Leaky`` -> ``LIF`` and ``Synaptic`` -> ``CubaLIF`` by snnTorch's convention
    (``tau = dt/(1-beta)``, ``r = tau/dt``, ``w_in = tau_syn/dt``, ``v_reset = 0``);
    ``RLeaky(reset_mechanism="zero", reset_delay=False)`` with positive thresholds
    exactly as ``<name>.lif`` and ``<name>.w_rec`` (see ``snntorch_resets``).
    Every neuron parameter is broadcast to one value per neuron (NIR's type
    checking needs it). Delayed edges: a delay-1 edge on a cycle is written as a
    plain edge when ``from_nir``'s cycle rule puts the delay back on it, otherwise
    (and for every other delay) through a ``Delay`` node of ``delay * dt`` seconds.
    The metadata records ``dt``, ``convention`` and ``source="snnax_torchlike"``.

    Raises ``UnsupportedNodeError`` naming the layer for what NIR cannot express:
    subtract or no reset (NIR resets to a value; nothing is silently replaced by a
    zero reset), snnTorch's ``Synaptic`` and ``RLeaky`` with ``reset_delay=True`` and
    ``RSynaptic`` (their zero reset also drops the next step's input), unless
    ``snntorch_resets``; graded spikes, ``inhibition`` and ``state_quant`` (also with
    ``snntorch_resets``), ``DeltaLeaky``, ``MaxPool2d``, ``Dropout``, ``LayerNorm``
    and other layers without a NIR node. Raises ``ValueError`` naming the node and
    field for a NaN or infinite parameter (``from_nir`` would refuse the file), and
    for an ``input_shape`` the network cannot take.

    **Returns:** the ``nir.NIRGraph``.
    """
    import nir

    nodes, edges, inputs, outputs = _structure(net)
    in_shapes = _input_shapes(nodes, edges, inputs, input_shape)
    try:
        node_in, node_out = _infer_shapes(nodes, edges, in_shapes)
    except ValueError as error:
        if input_shape is None:
            raise
        raise ValueError(
            f"{error} Check input_shape={input_shape!r}: it is the per-sample shape the network takes, without "
            "batch and time axes."
        ) from error
    step, convention = _time_step(nodes, dt)
    nir_nodes: dict[str, Any] = {name: nir.Input(input_type={"input": np.array(in_shapes[name])}) for name in inputs}
    recurrent: dict[str, list[tuple[str, str, int]]] = {}
    changed: list[str] = []
    for name, layer in nodes.items():
        if snntorch_resets and isinstance(layer, _SNNTORCH_STYLE) and _inexact_reset(layer) is not None:
            changed.append(name)
        if isinstance(layer, nn.RLeaky):  # RSynaptic included
            sub_nodes, recurrent[name] = _recurrent_nodes(name, layer, node_in[name], step, nir, snntorch_resets)
            nir_nodes.update(sub_nodes)
        else:
            nir_nodes[name] = _node(name, layer, node_in[name], step, nir, snntorch_resets)
    if changed:
        warnings.warn(
            f"to_nir: nodes {changed} reset in a way NIR cannot express (by subtraction, not at all, or by "
            "snnTorch's zero reset that also drops the next step's input); they are written with a reset to 0, "
            "as snnTorch's exporter does, so the file's network differs from them.",
            stacklevel=2,
        )
    all_edges = list(edges)
    out_shapes = {**in_shapes, **node_out}
    for name in outputs:
        if name in nodes:  # a node read directly: add an Output node after it
            out_name, k = f"{name}_output", 0
            while out_name in nir_nodes or out_name in outputs:
                k += 1
                out_name = f"{name}_output_{k}"
            all_edges.append((name, out_name, 0))
            name, shape = out_name, node_out[name]
        else:
            shape = next(out_shapes[s] for s, d, _ in edges if d == name)
        nir_nodes[name] = nir.Output(output_type={"output": np.array(shape)})
    for name, inner in recurrent.items():  # the layer's edges now start and end at its neuron
        lif = inner[0][0]
        all_edges = [(lif if s == name else s, lif if d == name else d, k) for s, d, k in all_edges] + inner
        out_shapes.update({s: node_out[name] for s, _, _ in inner})
    # Plan A: delay-1 edges on cycles as plain edges (NIR's implicit recurrence), if the importer agrees.
    on_cycle = {i for i, (s, d, k) in enumerate(all_edges) if k == 1 and _reaches(all_edges, d, s)}
    explicit = {i for i, (_, _, k) in enumerate(all_edges) if k > 0} - on_cycle
    written_nodes, written_edges = _build(nir_nodes, all_edges, explicit, out_shapes, step, nir)
    if on_cycle and not _same_delays(written_nodes, written_edges, all_edges, step):
        explicit = {i for i, (_, _, k) in enumerate(all_edges) if k > 0}
        written_nodes, written_edges = _build(nir_nodes, all_edges, explicit, out_shapes, step, nir)
    for name, node in written_nodes.items():
        _check_values(name, node, "to_nir", ValueError, "fix the layer's parameters before exporting (NIR readers, "
                      "from_nir included, refuse such files)")  # fmt: skip
    metadata: dict[str, Any] = {"source": "snnax_torchlike"}
    if step is not None:
        metadata["dt"] = step
    if convention is not None:
        metadata["convention"] = convention
    graph = nir.NIRGraph(nodes=written_nodes, edges=written_edges, metadata=metadata, type_check=type_check)
    if path is not None:
        _write(path, graph)
    return graph


def _write(path: str | os.PathLike, graph: Any) -> None:
    """``nir.write`` to a temporary file beside ``path``, then renamed onto it.

    An export that fails halfway (a full disk, an interrupt) leaves the file that
    was at ``path`` as it was. Missing folders are created, as ``snx.save`` does.
    """
    import nir

    from snnax_torchlike.train.checkpoint import write_atomically

    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"to_nir: cannot write to {path!r}: it is a folder; pass a file name in it, e.g. "
            f"{os.path.join(path, 'network.nir')!r}."
        )
    write_atomically(path, lambda temporary: nir.write(temporary, graph), f"to_nir: cannot write {path!r}")


def _reaches(edges: Sequence[tuple[str, str, int]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        for s, d, _ in edges:
            if s == node and d not in seen:
                seen.add(d)
                todo.append(d)
    return False


def _same_delays(nodes: dict[str, Any], edges: list[tuple[str, str]], expected: list, dt: float | None) -> bool:
    """Whether ``from_nir`` would read these nodes and edges back with the ``expected`` edge delays."""
    import nir

    graph = nir.NIRGraph(nodes=dict(nodes), edges=list(edges), type_check=False)
    flat = _flatten(graph, dt)
    renamed = [(s.replace(".", "_"), d.replace(".", "_"), k) for s, d, k in expected]  # as _flatten names them
    return sorted(_delay_cycles(flat)) == sorted(renamed)
