"""The drop-in's `export_to_nir` / `import_from_nir` against snnTorch 1.0's own, on the same weights.

Export: the same network through both exporters gives the same nodes, edges and
parameters. Import: the same graph through both importers gives identical spikes,
membranes within 1e-5 and the same gradients. snnTorch's importer is compared on
feed-forward graphs only: it wires a recurrent layer's input into ``w_rec`` instead
of the neuron (and it rewrites the graph it is given, hence the deep copies).
"""

import copy

import nir
import numpy as np
import pytest
import snntorch
import torch
from snntorch.export_nir import export_to_nir as snntorch_export
from snntorch.import_nir import import_from_nir as snntorch_import

import snnax_torchlike.snntorch as snn
from snnax_torchlike import interop, nn, utils
from snnax_torchlike.snntorch.export_nir import export_to_nir
from snnax_torchlike.snntorch.import_nir import import_from_nir

IN, HID, OUT, B, T = 6, 5, 3, 2, 6
SAMPLE = torch.ones(B, IN)


def _middle(kind, lib, reset="subtract"):
    """The hidden layer of kind ``kind`` from ``lib`` (snntorch or the drop-in), per-neuron parameters."""
    beta, v = torch.linspace(0.5, 0.9, HID), torch.linspace(0.2, 0.6, HID)
    common = dict(threshold=0.7 * torch.ones(HID), init_hidden=True, reset_mechanism=reset)
    if kind == "leaky":
        return lib.Leaky(beta=beta, **common)
    if kind == "rleaky_v":
        return lib.RLeaky(beta=beta, V=v, all_to_all=False, **common)
    return lib.RSynaptic(alpha=0.6 * torch.ones(HID), beta=beta, linear_features=HID, **common)


def _last(lib, reset="subtract", reset_delay=True):
    alpha, beta, threshold = torch.linspace(0.3, 0.7, OUT), 0.9 * torch.ones(OUT), 0.8 * torch.ones(OUT)
    return lib.Synaptic(alpha=alpha, beta=beta, threshold=threshold, init_hidden=True, output=True,
                        reset_mechanism=reset, reset_delay=reset_delay)  # fmt: skip


def _pair(kind, reset="subtract", reset_delay=True):
    """The real snnTorch network and the drop-in's, with the same weights."""
    torch.manual_seed(0)
    real = torch.nn.Sequential(torch.nn.Linear(IN, HID), _middle(kind, snntorch, reset),
                               torch.nn.Linear(HID, OUT, bias=False), _last(snntorch, reset, reset_delay))  # fmt: skip
    ours = nn.Sequential(nn.Linear(IN, HID), _middle(kind, snn, reset), nn.Linear(HID, OUT, bias=False),
                         _last(snn, reset, reset_delay))  # fmt: skip
    ours.load_state_dict(real.state_dict())
    return real, ours


def _assert_same_graph(got, expected):
    assert set(got.nodes) == set(expected.nodes)
    assert set(got.edges) == set(expected.edges)
    for name, node in expected.nodes.items():
        mine = got.nodes[name]
        assert type(mine) is type(node), name
        for field, value in vars(node).items():
            if field == "metadata":
                continue
            if field in ("input_type", "output_type"):
                for port, shape in value.items():
                    np.testing.assert_array_equal(np.asarray(getattr(mine, field)[port]), np.asarray(shape))
                continue
            np.testing.assert_allclose(np.asarray(getattr(mine, field), np.float64), np.asarray(value, np.float64),
                                       rtol=1e-6, atol=0, err_msg=f"{name}.{field}")  # fmt: skip


@pytest.mark.parametrize("kind", ["leaky", "rleaky_v", "rsynaptic"])
def test_export_matches_snntorch(kind):
    real, ours = _pair(kind)
    expected = snntorch_export(real, SAMPLE, ignore_dims=[0])
    with pytest.warns(UserWarning, match=r"nodes \['1', '3'\] reset in a way NIR cannot express"):
        got = export_to_nir(ours, SAMPLE, ignore_dims=[0])
    _assert_same_graph(got, expected)
    recurrent = ["1.lif", "1.w_rec"] if kind != "leaky" else ["1"]
    assert set(got.nodes) == {"input", "0", *recurrent, "2", "3", "output"}
    with pytest.warns(UserWarning, match="reset in a way NIR cannot express"):
        _assert_same_graph(export_to_nir(real, SAMPLE, ignore_dims=[0]), expected)  # a real snnTorch network


@pytest.fixture(scope="module")
def feed_forward_graph():
    """snnTorch's export of a Leaky -> Synaptic network with NIR's reset (zero, no delay); ours of its twin is equal."""
    real, ours = _pair("leaky", reset="zero", reset_delay=False)
    graph = snntorch_export(real, SAMPLE, ignore_dims=[0])
    _assert_same_graph(export_to_nir(ours, SAMPLE, ignore_dims=[0]), graph)  # no warning: nothing is lost
    return graph


def _run(net, xs, mem_of):
    """``net`` stepped over ``xs``: spikes, membranes of nodes "1" and "3", and the sum of all (for a gradient)."""
    spikes, mems, total = [], [], 0
    for x in xs:
        out, state = net(x)
        layers = mem_of(net, state)
        total = total + out.sum() + sum(m.sum() for m in layers)
        spikes.append(np.asarray(out.detach() if isinstance(out, torch.Tensor) else out))
        mems.append([np.asarray(m.detach() if isinstance(m, torch.Tensor) else m) for m in layers])
    return np.stack(spikes), mems, total


def test_import_matches_snntorch(feed_forward_graph):
    graph = feed_forward_graph
    real, ours = snntorch_import(copy.deepcopy(graph)), import_from_nir(graph)
    xs = 4 * torch.rand(T, B, IN, generator=torch.Generator().manual_seed(1))
    index = [list(ours.nodes).index(n) for n in ("1", "3")]
    ref_spikes, ref_mems, ref_total = _run(real, xs, lambda m, _: [getattr(m, n).mem for n in ("1", "3")])
    spikes, mems, total = _run(ours, xs, lambda _, state: [state.layers[i].v for i in index])
    assert ref_spikes.sum() >= 3
    np.testing.assert_array_equal(spikes, ref_spikes)
    for got, expected in zip(mems, ref_mems):
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
    ref_total.backward()
    total.backward()
    for name in ("0", "2"):
        expected = getattr(real, name).weight.grad.numpy()
        got = np.asarray(ours.nodes[name].weight.grad)
        np.testing.assert_allclose(got, expected, atol=1e-5 * np.abs(expected).max(), rtol=0)


def test_import_rescaled_lif_has_snntorchs_spikes():
    # r * dt / tau = 0.04: snnTorch divides the threshold by it, the NIR reading here scales the membrane.
    nodes = {
        "input": nir.Input(input_type={"input": np.array([1])}),
        "0": nir.Affine(weight=np.array([[1.0]], np.float32), bias=np.array([0.0], np.float32)),
        "1": nir.LIF(tau=np.array([0.0025]), r=np.array([1.0]), v_leak=np.array([0.0]), v_threshold=np.array([0.1]),
                     v_reset=np.array([0.0])),
        "output": nir.Output(output_type={"output": np.array([1])}),
    }  # fmt: skip
    graph = nir.NIRGraph(nodes, [("input", "0"), ("0", "1"), ("1", "output")])
    real, ours = snntorch_import(copy.deepcopy(graph)), import_from_nir(graph)
    xs = torch.linspace(0.5, 4.0, 12).reshape(12, 1, 1)
    index = list(ours.nodes).index("1")
    for x in xs:
        spk, state = ours(x)
        ref, _ = real(x)
        np.testing.assert_array_equal(np.asarray(spk), ref.detach().numpy())
        np.testing.assert_allclose(np.asarray(state.layers[index].v), 0.04 * getattr(real, "1").mem.detach().numpy(),
                                   atol=1e-5, rtol=0)  # fmt: skip


def test_stepped_graph_keeps_and_restarts_its_state(feed_forward_graph):
    net = import_from_nir(feed_forward_graph)
    xs = 4 * torch.rand(T, B, IN, generator=torch.Generator().manual_seed(1))
    first = [net(x) for x in xs]
    assert sum(np.asarray(out).sum() for out, _ in first) > 0
    utils.reset(net)
    again = [net(x)[0] for x in xs]
    for (out, _), out2 in zip(first, again):
        np.testing.assert_array_equal(np.asarray(out2), np.asarray(out))
    out, _ = net(xs[2], state=first[1][1])  # an explicit state restarts from it
    np.testing.assert_array_equal(np.asarray(out), np.asarray(first[2][0]))
    kept = net.named_hidden()  # the state's arrays, as hidden entries
    assert kept and any(getattr(net, name).requires_grad for name in kept)
    utils.detach_hidden(net)
    assert not any(getattr(net, name).requires_grad for name in kept)
    for name, value in net.named_hidden().items():
        np.testing.assert_array_equal(np.asarray(value), np.asarray(kept[name]))
    whole = interop.from_nir(feed_forward_graph, convention="snntorch")(xs)  # the same graph, time-first
    np.testing.assert_array_equal(np.asarray(whole[0]), np.stack([np.asarray(o) for o, _ in first]))
    wider = 3 * torch.ones(B + 1, IN)
    out, wide_state = net(wider)  # a new batch size starts from zeros
    np.testing.assert_array_equal(np.asarray(out), np.asarray(import_from_nir(feed_forward_graph)(wider)[0]))
    with pytest.raises(ValueError, match=r"input 'input' must be one step of a batch, \[B, \.\.\.\], got shape \(6,\)"):
        net(torch.ones(IN))
    with pytest.raises(ValueError, match="takes 1 input"):
        net(torch.ones(B, IN), torch.ones(B, IN))
    with pytest.raises(ValueError, match=r"state must be what an earlier call .* got one for batch size \[3\]"):
        net(torch.ones(B, IN), state=wide_state)


def test_torch_layers_take_the_drop_in_neurons_outputs():
    torch.manual_seed(0)
    fc1, fc2 = torch.nn.Linear(IN, HID), torch.nn.Linear(HID, OUT)
    real = [snntorch.Leaky(beta=0.8, threshold=0.5, init_hidden=True), _last(snntorch)]
    ours = [snn.Leaky(beta=0.8, threshold=0.5, init_hidden=True), _last(snn)]
    for x in 2 * torch.rand(4, B, IN, generator=torch.Generator().manual_seed(3)):
        ref_spk, _, ref_mem = real[1](fc2(real[0](fc1(x))))
        spk, _, mem = ours[1](fc2(ours[0](fc1(x))))  # torch.nn.Linear on facade tensors
        np.testing.assert_array_equal(np.asarray(spk), ref_spk.detach().numpy())
        np.testing.assert_allclose(np.asarray(mem), ref_mem.detach().numpy(), atol=1e-5, rtol=0)
        assert torch.allclose(spk, ref_spk.detach())


def test_export_arguments_and_refusals():
    lif = snn.Leaky(beta=0.9 * torch.ones(IN), threshold=torch.ones(IN), reset_mechanism="zero")
    graph = export_to_nir(lif, SAMPLE, model_name="lif", ignore_dims=[0])
    assert set(graph.nodes) == {"input", "lif", "output"} and isinstance(graph.nodes["lif"], nir.LIF)
    with pytest.raises(ValueError, match="model_fwd_args=.* pass no forward arguments"):
        export_to_nir(lif, SAMPLE, model_fwd_args=[1])
    with pytest.raises(ValueError, match=r"ignore_dims=\[2\] names an axis that sample_data of shape \(2, 6\) lacks"):
        export_to_nir(lif, SAMPLE, ignore_dims=[2])
    for neuron in (snn.Lapicque(beta=0.9), snn.DeltaLeaky(beta=0.9)):  # snnTorch writes a DeltaLeaky as a LIF
        with pytest.raises(interop.UnsupportedNodeError, match=rf"node '1' \({type(neuron).__name__}\) has no NIR"):
            export_to_nir(nn.Sequential(nn.Linear(IN, IN), neuron), SAMPLE, ignore_dims=[0])
    with pytest.warns(UserWarning, match="Inhibition is an unstable feature"):  # snnTorch's own warning
        inhibited = torch.nn.Sequential(torch.nn.Linear(IN, IN),
                                        snntorch.RLeaky(beta=0.9, linear_features=IN, inhibition=True))  # fmt: skip
    # snnTorch's exporter writes it as if it had no inhibition
    with pytest.raises(interop.UnsupportedNodeError, match=r"node '1' \(RLeaky\) sets inhibition, which NIR cannot"):
        export_to_nir(inhibited, SAMPLE, ignore_dims=[0])
    quantised = snn.Leaky(beta=0.9, state_quant=snn.functional.quant.state_quant(num_bits=4))
    with pytest.raises(interop.UnsupportedNodeError, match=r"node 'lif' \(Leaky\) sets state_quant, which NIR"):
        export_to_nir(quantised, SAMPLE, model_name="lif", ignore_dims=[0])
    rleaky = nn.Sequential(nn.Linear(IN, HID), _middle("rleaky_v", snn, reset="zero"))
    with pytest.raises(interop.UnsupportedNodeError, match="or pass snntorch_resets=True"):
        interop.to_nir(rleaky)
