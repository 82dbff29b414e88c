"""NIR files: graphs with mistakes, files that are not NIR, exports of what NIR cannot say, round trips."""

from __future__ import annotations

import tempfile
from pathlib import Path

import nir
import numpy as np
from _harness import probe

import snnax_torchlike as snx
from snnax_torchlike import interop, nn

C = "NIR files"
_IMPORT_ERRORS = (interop.NIRImportError,)


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="probe-nir-"))


def _lif(n: int = 3, **changes) -> nir.CubaLIF:
    fields = dict(tau_syn=np.full(n, 5e-3), tau_mem=np.full(n, 1e-2), r=np.ones(n), v_leak=np.zeros(n),
                  v_threshold=np.ones(n), v_reset=np.zeros(n), w_in=np.ones(n))  # fmt: skip
    fields.update(changes)
    return nir.CubaLIF(**fields)


def _graph(weight=None, bias=None, neuron=None, edges=None, inputs=2, outputs=3, extra=None) -> nir.NIRGraph:
    weight = np.ones((3, 2), np.float32) if weight is None else weight
    nodes = {
        "input": nir.Input(input_type={"input": np.array([inputs])}),
        "affine": nir.Affine(weight=weight, bias=np.zeros(weight.shape[0], np.float32) if bias is None else bias),
        "lif": _lif(weight.shape[0]) if neuron is None else neuron,
        "output": nir.Output(output_type={"output": np.array([outputs])}),
        **(extra or {}),
    }
    edges = [("input", "affine"), ("affine", "lif"), ("lif", "output")] if edges is None else edges
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _import(graph) -> nn.Module:
    return interop.from_nir(graph, convention="exact", dt=1e-3)


@probe(C)
def a_valid_graph_imports_and_runs():
    out = _import(_graph())(np.ones((5, 1, 2), np.float32))
    spikes = out[0] if isinstance(out, tuple) else out
    return np.asarray(spikes).shape == (5, 1, 3)


@probe(C, raises=_IMPORT_ERRORS, says=("lif", "tau_mem", "nan"))
def nan_membrane_time_constant():
    _import(_graph(neuron=_lif(tau_mem=np.array([1e-2, np.nan, 1e-2]))))


@probe(C, raises=_IMPORT_ERRORS, says=("lif", "tau_syn", "positive|> 0|<= 0"))
def negative_synaptic_time_constant():
    _import(_graph(neuron=_lif(tau_syn=np.full(3, -5e-3))))


@probe(C, raises=_IMPORT_ERRORS, says=("lif", "tau_mem", "positive|> 0|<= 0"))
def zero_membrane_time_constant():
    _import(_graph(neuron=_lif(tau_mem=np.zeros(3))))


@probe(C, raises=_IMPORT_ERRORS, says=("affine", "weight", "inf|finite"))
def infinite_weight():
    weight = np.ones((3, 2), np.float32)
    weight[0, 0] = np.inf
    _import(_graph(weight=weight))


@probe(C, raises=_IMPORT_ERRORS, says=("lif", "v_threshold", "nan|finite"))
def nan_threshold():
    _import(_graph(neuron=_lif(v_threshold=np.array([1.0, np.nan, 1.0]))))


@probe(C, raises=_IMPORT_ERRORS, says=("affine", "bias", r"\(4,\)|4", r"3"))
def bias_of_another_length_than_the_weight():
    _import(_graph(bias=np.zeros(4, np.float32)))


@probe(C, raises=_IMPORT_ERRORS, says=("affine", "weight", "3-D|2-D|shape|ndim|matrix"))
def affine_weight_with_three_axes():
    _import(_graph(weight=np.ones((3, 2, 2), np.float32)))


@probe(C, raises=_IMPORT_ERRORS, says=("lif", "3|shape", "4|affine"))
def neuron_of_another_size_than_its_input():
    _import(_graph(neuron=_lif(4), outputs=4))


@probe(C, raises=_IMPORT_ERRORS, says=("edge|edges", "ghost"))
def edge_to_a_node_that_does_not_exist():
    _import(_graph(edges=[("input", "affine"), ("affine", "lif"), ("lif", "ghost"), ("lif", "output")]))


@probe(C, raises=_IMPORT_ERRORS, says=("twice|duplicat", "affine", "lif"))
def edge_listed_twice():
    _import(_graph(edges=[("input", "affine"), ("affine", "lif"), ("affine", "lif"), ("lif", "output")]))


@probe(C, raises=_IMPORT_ERRORS, says=("Input", "5|shape", "2|affine"))
def input_shape_that_disagrees_with_the_first_layer():
    _import(_graph(inputs=5))


@probe(C, raises=_IMPORT_ERRORS, says=("Output", "7|shape", "3|lif"))
def output_shape_that_disagrees_with_the_last_layer():
    _import(_graph(outputs=7))


@probe(C, raises=_IMPORT_ERRORS, says=("needs Input and Output nodes", r"inputs \[\]"))
def graph_without_an_input_node():
    graph = _graph()
    del graph.nodes["input"]
    graph.edges.remove(("input", "affine"))
    _import(graph)


@probe(C, raises=_IMPORT_ERRORS, says=("no Output|output node|Output node",))
def graph_without_an_output_node():
    graph = _graph()
    del graph.nodes["output"]
    graph.edges.remove(("lif", "output"))
    _import(graph)


@probe(C, raises=interop.UnsupportedNodeError, says=("mystery", "Fancy|type"))
def unknown_node_type():
    class Fancy(nir.NIRNode):
        def __init__(self):
            self.input_type = {"input": np.array([3])}
            self.output_type = {"output": np.array([3])}

    _import(_graph(extra={"mystery": Fancy()},
                   edges=[("input", "affine"), ("affine", "lif"), ("lif", "mystery"), ("mystery", "output")]))


@probe(C, raises=ValueError, says=("convention", "snntorch|norse|euler|exact"))
def unknown_convention():
    interop.from_nir(_graph(), convention="forward", dt=1e-3)


@probe(C, raises=(ValueError, TypeError), says=("dt", "nan|positive|> 0"))
def nan_time_step():
    interop.from_nir(_graph(), convention="exact", dt=float("nan"))


@probe(C, raises=(ValueError, TypeError), says=("dt", "-0.001|positive|> 0"))
def negative_time_step():
    interop.from_nir(_graph(), convention="exact", dt=-1e-3)


@probe(C, raises=_IMPORT_ERRORS, says=("random.nir|not a|read",))
def random_bytes_as_a_file():
    path = _folder() / "random.nir"
    path.write_bytes(np.random.default_rng(0).bytes(2048))
    _import(path)


@probe(C, raises=_IMPORT_ERRORS, says=("cut.nir|truncated|read",))
def truncated_file():
    path = _folder() / "cut.nir"
    nir.write(str(path), _graph())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _import(path)


@probe(C, raises=_IMPORT_ERRORS, says=("other.h5|node|NIR",))
def hdf5_file_that_is_not_nir():
    import h5py

    path = _folder() / "other.h5"
    with h5py.File(path, "w") as handle:
        handle["data"] = np.arange(10)
    _import(path)


@probe(C, raises=(FileNotFoundError, interop.NIRImportError), says=("missing.nir",))
def file_that_does_not_exist():
    _import(_folder() / "missing.nir")


@probe(C, raises=_IMPORT_ERRORS, says=("Delay node 'delay'", "1.5 steps", "choose dt"))
def delay_that_is_not_a_whole_number_of_steps():
    rec = nir.Linear(weight=np.eye(3, dtype=np.float32))
    delay = nir.Delay(delay=np.full(3, 1.5e-3))
    _import(_graph(extra={"rec": rec, "delay": delay},
                   edges=[("input", "affine"), ("affine", "lif"), ("lif", "delay"), ("delay", "rec"), ("rec", "lif"),
                          ("lif", "output")]))  # fmt: skip


@probe(C)
def export_then_import_gives_identical_spikes():
    snx.manual_seed(2)
    net = nn.Sequential(nn.Linear(2, 3), nn.CubaLIF(tau_syn=2e-3, tau_mem=6e-3, dt=1e-3, convention="exact"))
    net[0].weight.data = abs(net[0].weight.data) * 4
    path = _folder() / "net.nir"
    interop.to_nir(net, path)
    back = interop.from_nir(path, convention="exact")
    x = np.random.default_rng(0).uniform(0, 1, (20, 2, 2)).astype(np.float32)
    a, b = net(x), back(x)
    a, b = (a[0] if isinstance(a, tuple) else a), (b[0] if isinstance(b, tuple) else b)
    return np.asarray(a).sum() > 0 and np.array_equal(np.asarray(a), np.asarray(b))


@probe(C, raises=interop.UnsupportedNodeError, says=("MaxPool2d", "no NIR counterpart"))
def export_a_layer_nir_cannot_express():
    interop.to_nir(nn.Sequential(nn.MaxPool2d(2)), input_shape=(1, 4, 4))


@probe(C, raises=interop.UnsupportedNodeError, says=("Leaky", "reset_mechanism='subtract'"))
def export_a_subtract_reset_neuron():
    interop.to_nir(nn.Sequential(nn.Linear(3, 3), nn.Leaky(beta=0.9)))


@probe(C, raises=ValueError, says=("input_shape",))
def export_a_conv_net_without_an_input_shape():
    interop.to_nir(nn.Sequential(nn.Conv2d(1, 2, 3)))


@probe(C, raises=(ValueError, TypeError), says=("export_to_nir|sample_data|shape", "5|3"))
def snntorch_export_with_a_sample_of_the_wrong_width():
    import snnax_torchlike.snntorch as snn

    net = nn.Sequential(nn.Linear(3, 2), snn.Leaky(beta=0.9, reset_mechanism="zero", init_hidden=True))
    snn.export_to_nir(net, np.zeros((1, 5), np.float32))


@probe(C, raises=TypeError, says=("to_nir", "nn.Graph or nn.Sequential", "got function"))
def export_something_that_is_not_a_network():
    interop.to_nir(lambda x: x, input_shape=(3,))


@probe(C, raises=_IMPORT_ERRORS, says=("Conv2d|conv", "input_shape|shape|channel"))
def conv_node_with_a_wrong_input_shape():
    conv = nir.Conv2d(input_shape=np.array([5, 5]), weight=np.ones((2, 3, 3, 3), np.float32), stride=1, padding=0,
                      dilation=1, groups=1, bias=np.zeros(2, np.float32))
    nodes = {"input": nir.Input(input_type={"input": np.array([1, 5, 5])}), "conv": conv,
             "output": nir.Output(output_type={"output": np.array([2, 3, 3])})}
    _import(nir.NIRGraph(nodes=nodes, edges=[("input", "conv"), ("conv", "output")], type_check=False))
