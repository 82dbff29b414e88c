"""NIR files, second pass: hand-built graphs with a user's mistakes, damaged files, exact round trips, exports.

Complements ``probe_nir_files.py`` (which covers the first pass: NaN/negative time
constants, a bias or Input of the wrong length, a missing Input/Output, unknown
node types, random and truncated files, ...): other fields, other nodes, other
file damage, the drop-in ``snnax_torchlike.snntorch`` importer and exporter.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import nir
import numpy as np
from _harness import probe

import snnax_torchlike as snx
from snnax_torchlike import interop, nn

C = "NIR files"
_IMPORT = (interop.NIRImportError,)
_DT = 1e-3


# -- helpers -----------------------------------------------------------------------------
def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="probe-nir2-"))


def _spikes(out):
    return np.asarray(out[0] if isinstance(out, tuple) else out)


def _x(steps: int = 5, batch: int = 2, features: int = 2, seed: int = 0, scale: float = 3.0) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(0, scale, (steps, batch, features))).astype(np.float32)


def _lif_node(n: int = 3, **changes) -> nir.LIF:
    fields = dict(tau=np.full(n, 4e-3), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n),
                  v_reset=np.zeros(n))  # fmt: skip
    fields.update(changes)
    return nir.LIF(**fields)


def _cuba_node(n: int = 3, **changes) -> nir.CubaLIF:
    fields = dict(tau_syn=np.full(n, 2e-3), tau_mem=np.full(n, 4e-3), r=np.ones(n), v_leak=np.zeros(n),
                  v_threshold=np.ones(n), v_reset=np.zeros(n), w_in=np.ones(n))  # fmt: skip
    fields.update(changes)
    return nir.CubaLIF(**fields)


def _chain(*middle: tuple[str, object], inputs=(2,), outputs=(3,), extra_edges=(), drop_edges=()) -> nir.NIRGraph:
    """``input -> middle[0] -> ... -> output``, without NIR's type check (the mistakes must reach from_nir)."""
    nodes = {"input": nir.Input(input_type={"input": np.array(inputs)})}
    nodes.update(dict(middle))
    nodes["output"] = nir.Output(output_type={"output": np.array(outputs)})
    names = list(nodes)
    edges = [e for e in zip(names[:-1], names[1:]) if e not in drop_edges] + list(extra_edges)
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _affine(n_out: int = 3, n_in: int = 2, value: float = 1.0) -> nir.Affine:
    return nir.Affine(weight=np.full((n_out, n_in), value, np.float32), bias=np.zeros(n_out, np.float32))


def _import(graph, **kwargs):
    kwargs.setdefault("convention", "euler")
    kwargs.setdefault("dt", _DT)
    return interop.from_nir(graph, **kwargs)


def _euler_lif(current: np.ndarray, tau: float) -> np.ndarray:
    """Forward-Euler LIF driven by ``current`` [T, B, N] (r = v_threshold = 1, v_leak = v_reset = 0): the spikes."""
    v = np.zeros(current.shape[1:])
    out = []
    for x in current.astype(np.float64):
        v = v + _DT / tau * (x - v)
        z = (v > 1.0).astype(np.float64)
        v = np.where(z > 0, 0.0, v)
        out.append(z)
    return np.stack(out)


def _lif_net(seed: int = 0) -> nn.Sequential:
    snx.manual_seed(seed)
    net = nn.Sequential(nn.Linear(2, 3), nn.LIF(tau=4e-3, dt=_DT, convention="exact"))
    net[0].weight.data = abs(net[0].weight.data) * 3
    return net


# -- hand-built graphs with mistakes -------------------------------------------------------
@probe(C, raises=_IMPORT, says=("'lif'", r"\br\b", "inf|finite"))
def lif_with_an_infinite_resistance():
    _import(_chain(("affine", _affine()), ("lif", _lif_node(r=np.array([1.0, np.inf, 1.0])))))


@probe(C, raises=_IMPORT, says=("'lif'", "tau_syn", "missing|None|required"))
def cubalif_with_a_missing_synaptic_time_constant():
    lif = _cuba_node()
    lif.tau_syn = None  # a user building the node by hand and forgetting the field
    _import(_chain(("affine", _affine()), ("lif", lif)))


@probe(C, raises=_IMPORT, says=("'lif'", "v_threshold", "missing|None|required"))
def lif_whose_threshold_was_deleted():
    lif = _lif_node()
    del lif.v_threshold
    _import(_chain(("affine", _affine()), ("lif", lif)))


@probe(C, raises=_IMPORT, says=("'lif'", "v_leak", r"\(4,\)|4", r"\(3,\)|3"))
def lif_fields_of_different_lengths():
    lif = _lif_node()
    lif.v_leak = np.zeros(4)  # edited after nir checked the node
    _import(_chain(("affine", _affine()), ("lif", lif)))


@probe(C, raises=_IMPORT, says=("'affine'", "weight", "1-D|2-D|\\(3,\\)"))
def affine_with_a_one_dimensional_weight():
    affine = _affine()
    affine.weight = np.ones(3, np.float32)  # edited after nir checked the node
    _import(_chain(("affine", affine)))


@probe(C, raises=_IMPORT, says=("'affine'", "weight", "string|numeric|number|dtype|<U|str"))
def affine_with_text_weights():
    affine = _affine()
    affine.weight = np.array([["w11", "w12"]] * 3)  # a CSV file's header read instead of its numbers
    _import(_chain(("affine", affine)))


@probe(C, raises=_IMPORT, says=("edge|edges", "'nowhere'"))
def edge_from_a_node_that_does_not_exist():
    _import(_chain(("affine", _affine()), ("lif", _lif_node()), extra_edges=[("nowhere", "lif")]))


@probe(C, raises=_IMPORT, says=("'lif'", "sums|different shapes|shape", r"\(3,\)|3", r"\(4,\)|4"))
def two_edges_of_different_shapes_into_one_neuron():
    graph = _chain(("affine", _affine()), ("lif", _lif_node()))
    graph.nodes["wide"] = _affine(4, 2)
    graph.edges.append(("input", "wide"))
    graph.edges.append(("wide", "lif"))
    _import(graph)


@probe(C, raises=_IMPORT, says=("'input'", "feeds? no|no edge|not connected|unconnected|outgoing|unused"))
def input_node_connected_to_nothing_in_a_recurrent_graph():
    # The user forgot the edge input -> lif; every node still has an input (the cycle), so the network would run
    # and its output would not depend on the data at all.
    graph = _chain(("lif", _lif_node(v_leak=np.full(3, 2.0))), inputs=(3,), drop_edges=[("input", "lif")],
                   extra_edges=[("lif", "rec"), ("rec", "lif")])  # fmt: skip
    graph.nodes["rec"] = nir.Linear(weight=np.eye(3, dtype=np.float32))
    _import(graph)


@probe(C, raises=_IMPORT, says=("'output'", "Output|an output", "source|leav|outgoing|starts at|only receive"))
def edge_leaving_the_output_node():
    _import(_chain(("affine", _affine()), ("lif", _lif_node()), extra_edges=[("output", "affine")]))


@probe(C, raises=_IMPORT, says=("'input'", "Input|an input", "into|incoming|target|ends at|only send"))
def edge_into_the_input_node():
    _import(_chain(("affine", _affine()), ("lif", _lif_node()), extra_edges=[("lif", "input")]))


@probe(C, raises=_IMPORT, says=("twice|more than once|duplicat", "'sub'|sub", "'a'|a"))
def duplicated_edge_inside_a_subgraph():
    inner = nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([3])}), "a": _lif_node(),
               "out": nir.Output(output_type={"output": np.array([3])})},
        edges=[("in", "a"), ("in", "a"), ("a", "out")], type_check=False,
    )  # fmt: skip
    _import(_chain(("affine", _affine()), ("sub", inner)))


@probe(C, raises=_IMPORT, says=("'conv'", "input_shape", r"\(8, 8\)|8", r"\(5, 5\)|5"))
def conv_input_shape_that_disagrees_with_the_incoming_data():
    # The node says it reads 8x8 images; the Input (and the data) are 5x5.
    conv = nir.Conv2d(input_shape=np.array([8, 8]), weight=np.ones((2, 1, 3, 3), np.float32), stride=1, padding=0,
                      dilation=1, groups=1, bias=np.zeros(2, np.float32))  # fmt: skip
    _import(_chain(("conv", conv), inputs=(1, 5, 5), outputs=(2, 3, 3)))


@probe(C, raises=_IMPORT, says=("'flat'", "start_dim", "3", "rank|axes|dimension|out of range"))
def flatten_start_dim_past_the_last_axis():
    flat = nir.Flatten(input_type={"input": np.array([2, 3, 3])}, start_dim=3, end_dim=-1)
    _import(_chain(("flat", flat), inputs=(2, 3, 3), outputs=(2, 3, 3)))


@probe(C, raises=_IMPORT, says=("'flat'", "start_dim", "end_dim"))
def flatten_start_dim_after_end_dim():
    flat = nir.Flatten(input_type={"input": np.array([2, 3, 3])}, start_dim=2, end_dim=1)
    _import(_chain(("flat", flat), inputs=(2, 3, 3), outputs=(2, 3, 1, 3)))


@probe(C, raises=_IMPORT, says=("'flat'", "input_type|input", r"\(2, 3, 3\)|2, 3, 3", r"\(2, 4, 4\)|2, 4, 4"))
def flatten_declaring_another_input_shape_than_it_gets():
    flat = nir.Flatten(input_type={"input": np.array([2, 3, 3])}, start_dim=1, end_dim=2)
    _import(_chain(("flat", flat), inputs=(2, 4, 4), outputs=(2, 16)))


@probe(C, raises=_IMPORT, says=("'scale'", "scale", r"\(3, 1\)", r"\(3,\)"))
def scale_of_a_shape_that_broadcasts_into_a_matrix():
    # scale (3, 1) times an input (3,) would silently become a (3, 3) output.
    _import(_chain(("affine", _affine()), ("scale", nir.Scale(scale=np.ones((3, 1), np.float32)))))


@probe(C, raises=_IMPORT, says=("'pool'", "kernel_size|kernel", "0|positive"))
def sum_pool_with_a_zero_kernel():
    pool = nir.SumPool2d(kernel_size=np.array([0, 0]), stride=np.array([1, 1]), padding=np.array([0, 0]))
    _import(_chain(("pool", pool), inputs=(1, 4, 4), outputs=(1, 4, 4)))


@probe(C, raises=interop.UnsupportedNodeError, says=("'delay'", "per-element|uniform"))
def delay_with_different_delays_per_neuron():
    delay = nir.Delay(delay=np.array([1e-3, 2e-3, 1e-3]))
    _import(_chain(("affine", _affine()), ("lif", _lif_node()), ("delay", delay)))


@probe(C, raises=_IMPORT, says=("dt", "metadata|records|file", "-0.001|positive"))
def file_metadata_with_a_negative_time_step():
    graph = _chain(("affine", _affine()), ("lif", _lif_node()))
    graph.metadata = {"dt": -1e-3}
    interop.from_nir(graph, convention="exact")


@probe(C, raises=(ValueError, TypeError), says=("dt", "inf|finite"))
def infinite_time_step():
    _import(_chain(("affine", _affine()), ("lif", _lif_node())), dt=float("inf"))


@probe(C, raises=TypeError, says=("from_nir", "NIRGraph|path", "LIF"))
def a_single_node_instead_of_a_graph():
    interop.from_nir(_lif_node(), convention="euler", dt=_DT)


# -- graphs that must import with the right numbers --------------------------------------
@probe(C)
def self_loop_on_a_neuron_reads_the_previous_step():
    # lif -> rec -> lif: the recurrent weight must see the previous step's spikes, not this step's.
    graph = _chain(("affine", _affine(3, 2, 1.0)), ("lif", _lif_node(tau=np.full(3, 2e-3))),
                   extra_edges=[("lif", "rec"), ("rec", "lif")])  # fmt: skip
    graph.nodes["rec"] = nir.Linear(weight=np.full((3, 3), 0.5, np.float32))
    x = _x()
    out = _spikes(_import(graph)(x))
    v = np.zeros((2, 3))
    z = np.zeros((2, 3))
    expected = []
    for t in range(x.shape[0]):
        drive = x[t].astype(np.float64) @ np.ones((2, 3)) + z @ np.full((3, 3), 0.5)
        v = v + _DT / 2e-3 * (drive - v)
        z = (v > 1.0).astype(np.float64)
        v = np.where(z > 0, 0.0, v)
        expected.append(z)
    expected = np.stack(expected)
    return expected.sum() > 0 and np.array_equal(out, expected)


@probe(C)
def graph_with_edges_listed_in_reverse_order_gives_the_same_spikes():
    nodes = lambda: _chain(("affine", _affine(3, 2, 0.8)), ("lif", _lif_node()))  # noqa: E731
    forward, backward = nodes(), nodes()
    backward.edges = list(reversed(backward.edges))
    x = _x()
    a, b = _spikes(_import(forward)(x)), _spikes(_import(backward)(x))
    expected = _euler_lif(x @ np.full((2, 3), 0.8), 4e-3)
    return expected.sum() > 0 and np.array_equal(a, expected) and np.array_equal(b, expected)


@probe(C)
def importing_does_not_modify_the_graph():
    # A recurrent node whose name holds a '.', which the importers rename in their own copy only.
    graph = _chain(("affine", _affine()), ("lif", _lif_node()), extra_edges=[("lif", "rec.w"), ("rec.w", "lif")])
    graph.nodes["rec.w"] = nir.Linear(weight=np.eye(3, dtype=np.float32))
    before = {k: {f: np.array(v, copy=True) for f, v in vars(n).items() if isinstance(v, np.ndarray)}
              for k, n in graph.nodes.items()}  # fmt: skip
    edges = list(graph.edges)
    import snnax_torchlike.snntorch as snn

    _import(graph)
    snn.import_from_nir(graph)
    after = {k: {f: np.asarray(v) for f, v in vars(n).items() if isinstance(v, np.ndarray)}
             for k, n in graph.nodes.items()}  # fmt: skip
    return graph.edges == edges and before.keys() == after.keys() and all(
        before[k].keys() == after[k].keys() and all(np.array_equal(before[k][f], after[k][f]) for f in before[k])
        for k in before
    )


# -- files ---------------------------------------------------------------------------------
def _written() -> Path:
    """A valid file: ``input -> affine -> lif -> output``."""
    path = _tmp() / "net.nir"
    nir.write(str(path), _chain(("affine", _affine()), ("lif", _lif_node())))
    return path


@probe(C, raises=_IMPORT, says=("empty.nir", "empty|0 bytes|not a|cannot"))
def empty_file():
    path = _tmp() / "empty.nir"
    path.write_bytes(b"")
    _import(path)


@probe(C, raises=_IMPORT, says=("'lif'", "tau", "missing|no field|lacks|required"))
def file_whose_neuron_lost_a_field():
    import h5py

    path = _written()
    with h5py.File(path, "r+") as handle:
        del handle["node/nodes/lif/tau"]
    _import(path)


@probe(C, raises=_IMPORT, says=("'affine'", "weight", "string|text|numeric|number|dtype"))
def file_whose_weight_became_text():
    import h5py

    path = _written()
    with h5py.File(path, "r+") as handle:
        del handle["node/nodes/affine/weight"]
        handle["node/nodes/affine/weight"] = b"garbage"
    _import(path)


@probe(C, raises=_IMPORT, says=("version", "99", "newer|future|support|upgrade"))
def file_written_by_a_future_nir_version():
    # Same content, but the file says it was written by NIR 99: its fields may mean other things.
    import h5py

    path = _written()
    with h5py.File(path, "r+") as handle:
        del handle["version"]
        handle.create_dataset("version", data="99.0.0", dtype=h5py.string_dtype())
    _import(path)


@probe(C)
def file_written_without_a_version_still_imports_identically():
    import h5py

    path = _written()
    expected = _spikes(_import(_chain(("affine", _affine()), ("lif", _lif_node())))(_x()))
    with h5py.File(path, "r+") as handle:
        del handle["version"]
    return expected.sum() > 0 and np.array_equal(_spikes(_import(path)(_x())), expected)


# -- round trips that must be exact --------------------------------------------------------
@probe(C)
def conv_flatten_linear_round_trip_through_a_file_is_exact():
    snx.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8, 3),
                        nn.CubaLIF(tau_syn=2e-3, tau_mem=5e-3, dt=_DT, convention="exact"))  # fmt: skip
    net[0].weight.data = abs(net[0].weight.data)
    net[3].weight.data = abs(net[3].weight.data) * 4
    path = _tmp() / "conv.nir"
    interop.to_nir(net, path, input_shape=(1, 4, 4))
    back = interop.from_nir(path, convention="exact")
    x = np.random.default_rng(1).uniform(0, 2, (5, 2, 1, 4, 4)).astype(np.float32)
    a, b = _spikes(net(x)), _spikes(back(x))
    return 0 < a.sum() < a.size and np.array_equal(a, b)


@probe(C)
def round_trip_keeps_every_weight_bit_for_bit():
    snx.manual_seed(4)
    net = nn.Sequential(nn.Linear(2, 3), nn.LIF(tau=np.linspace(2e-3, 6e-3, 3), v_threshold=np.array([0.5, 1.0, 1.5]),
                                                  dt=_DT, convention="euler"))  # fmt: skip
    back = interop.from_nir(interop.to_nir(net), convention="euler")
    a, b = net.state_dict(), back.state_dict()
    # NIR stores one value per neuron: a scalar comes back broadcast, with the same bits.
    same = [np.array_equal(np.broadcast_to(np.asarray(a[k]), np.shape(b[k])), np.asarray(b[k])) for k in a]
    return a.keys() == b.keys() and all(same)


@probe(C)
def snntorch_style_leaky_round_trips_through_the_drop_in_namespace():
    import snnax_torchlike.snntorch as snn

    snx.manual_seed(5)
    net = nn.Sequential(nn.Linear(2, 3), snn.Leaky(beta=0.8, reset_mechanism="zero", reset_delay=False))
    net[0].weight.data = abs(net[0].weight.data) * 2
    graph = snn.export_to_nir(net, np.zeros((1, 2), np.float32), ignore_dims=[0])
    path = _tmp() / "leaky.nir"
    nir.write(str(path), graph)
    stepped = snn.import_from_nir(nir.read(str(path)))
    x = _x(seed=2)
    expected = _spikes(net(x))
    got = np.stack([_spikes(stepped(x[t])) for t in range(x.shape[0])])
    return expected.sum() > 0 and np.array_equal(got, expected)


@probe(C)
def recurrent_graph_round_trips_exactly():
    snx.manual_seed(6)
    lif = nn.LIF(tau=3e-3, dt=_DT, convention="exact")
    edges = [("input", "fc"), ("fc", "lif"), ("lif", "rec", 1), ("rec", "lif"), ("lif", "output")]
    graph = nn.Graph({"fc": nn.Linear(2, 3), "lif": lif, "rec": nn.Linear(3, 3, bias=False)}, edges)
    graph.fc.weight.data = abs(graph.fc.weight.data) * 3
    graph.rec.weight.data = -abs(graph.rec.weight.data)
    back = interop.from_nir(interop.to_nir(graph), convention="exact")
    x = _x(seed=3)
    a, b = _spikes(graph(x)), _spikes(back(x))
    return a.sum() > 0 and np.array_equal(a, b)


@probe(C)
def round_trip_of_stateless_nodes_is_exact():
    net = nn.Sequential(nn.Scale(np.array([1.0, -2.0, 0.5], np.float32)), nn.Threshold(np.array([0.2, -1.0, 0.6])))
    back = interop.from_nir(interop.to_nir(net, dt=_DT), convention="euler")
    x = np.random.default_rng(7).normal(size=(4, 2, 3)).astype(np.float32)
    a, b = _spikes(net(x)), _spikes(back(x))
    return 0 < a.sum() < a.size and np.array_equal(a, b)


@probe(C)
def importing_with_another_convention_than_recorded_warns():
    graph = interop.to_nir(_lif_net())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        interop.from_nir(graph, convention="euler")
    return any("convention" in str(w.message) and "exact" in str(w.message) for w in caught)


@probe(C)
def importing_with_another_dt_than_recorded_warns():
    graph = interop.to_nir(_lif_net())  # records dt = 1e-3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        interop.from_nir(graph, convention="exact", dt=1e-4)
    return any("dt" in str(w.message) and "0.001" in str(w.message) for w in caught)


# -- exports -------------------------------------------------------------------------------
@probe(C, raises=interop.UnsupportedNodeError, says=("'1'", "Leaky", "graded"))
def export_a_neuron_with_graded_spikes():
    interop.to_nir(nn.Sequential(nn.Linear(2, 3), nn.Leaky(beta=0.9, reset_mechanism="zero", reset_delay=False,
                                                         graded_spikes_factor=2.0)))  # fmt: skip


@probe(C, raises=(ValueError, TypeError), says=("input_shape", "'0'|Linear", r"\b2\b", r"\b5\b"))
def export_with_an_input_shape_the_first_layer_cannot_take():
    interop.to_nir(_lif_net(), input_shape=(5,))


@probe(C, raises=ValueError, says=("dt", "0.0001|1e-04", "0.001"))
def export_with_a_dt_that_differs_from_the_neurons():
    interop.to_nir(_lif_net(), dt=1e-4)


@probe(C, raises=(ValueError, TypeError),
       says=("export_to_nir", "sample_data", r"\(3, 6, 6\)", r"\b1\b", "ignore_dims"))
def snntorch_export_of_a_conv_net_with_rgb_sample_data():
    import snnax_torchlike.snntorch as snn

    net = nn.Sequential(nn.Conv2d(1, 2, 3), snn.Leaky(beta=0.9, reset_mechanism="zero", reset_delay=False))
    snn.export_to_nir(net, np.zeros((1, 3, 6, 6), np.float32), ignore_dims=[0])


@probe(C, raises=ValueError, says=("ignore_dims", r"\b4\b", r"\(1, 2\)"))
def snntorch_export_ignoring_an_axis_the_sample_lacks():
    import snnax_torchlike.snntorch as snn

    snn.export_to_nir(_lif_net(), np.zeros((1, 2), np.float32), ignore_dims=[4])


@probe(C, raises=(ValueError, interop.UnsupportedNodeError), says=("'0'|Linear", "weight", "nan|finite"))
def export_a_network_whose_weights_are_nan():
    net = _lif_net()
    weight = np.array(net[0].weight.data)
    weight[0, 0] = np.nan
    net[0].weight.data = weight
    interop.to_nir(net, _tmp() / "nan.nir")


@probe(C)
def export_into_a_folder_that_does_not_exist_yet():
    # As snx.save: the missing folder is created, and the file reads back the same network.
    path = _tmp() / "no-such-folder" / "net.nir"
    net = _lif_net()
    interop.to_nir(net, path)
    x = _x(seed=4)
    a, b = _spikes(net(x)), _spikes(interop.from_nir(path, convention="exact")(x))
    return a.sum() > 0 and np.array_equal(a, b)


@probe(C, on_false="data-loss")
def interrupted_export_keeps_the_previous_file():
    # Disk full halfway through nir.write: the file written before must still import.
    path = _tmp() / "net.nir"
    interop.to_nir(_lif_net(0), path)
    good = path.read_bytes()
    real_write = nir.write

    def failing_write(filename, graph, *args, **kwargs):
        real_write(filename, graph, *args, **kwargs)
        with open(filename, "r+b") as handle:
            handle.truncate(100)
        raise OSError(28, "No space left on device")

    nir.write = failing_write
    try:
        interop.to_nir(_lif_net(1), path)
    except OSError:
        pass
    finally:
        nir.write = real_write
    return path.read_bytes() == good and [p.name for p in path.parent.iterdir()] == ["net.nir"]
