"""`interop.from_nir` / `to_nir` and `nn.Graph` against the real nir, snnTorch and Norse.

Every node type is checked against a hand-written numpy simulation of NIR's ODEs
under each convention; round trips go through files (`nir.write`/`nir.read`).
"""

import warnings

import numpy as np
import pytest
import snntorch
import snntorch.utils
import torch

nir = pytest.importorskip("nir")

import snnax_torchlike as snx  # noqa: E402
from snnax_torchlike import functional as SF  # noqa: E402
from snnax_torchlike import interop, nn, optim  # noqa: E402

N_IN, N = 3, 5
CONVENTION_DT = {"euler": 1e-3, "snntorch": 1e-4, "norse": 1e-3, "exact": 1e-3}


def _neuron_parameters(dt: float, convention: str) -> dict:
    """Heterogeneous per-neuron parameters with non-trivial r, w_in, v_leak, v_reset (taus in steps of dt)."""
    steps = np.linspace(4.0, 12.0, N)
    return dict(
        tau=dt * steps, tau_mem=dt * steps, tau_syn=dt * np.linspace(2.0, 6.0, N),
        r=np.linspace(1.5, 3.0, N), w_in=np.linspace(0.5, 1.5, N), v_leak=np.linspace(-0.1, 0.2, N),
        v_threshold=np.linspace(0.8, 1.2, N), v_reset=np.linspace(-0.3, 0.0, N),
        r_if=np.linspace(0.2, 0.4, N) / (1.0 if convention == "norse" else dt),
    )  # fmt: skip


def _reference(kind: str, p: dict, current: np.ndarray, convention: str, dt: float):
    """NIR's ODEs stepped by hand (float64): returns (out, v) over time for input ``current`` [T, B, N]."""
    exact = convention == "exact"
    norse = convention == "norse"
    tau = p["tau_mem"] if kind in ("CubaLIF", "CubaLI") else p["tau"]
    v = np.broadcast_to(p["v_reset"] if kind == "IF" else (0.0 if kind == "I" else p["v_leak"]), current.shape[1:])
    v, syn = v.astype(np.float64).copy(), np.zeros(current.shape[1:])
    outs, vs = [], []
    for x in current.astype(np.float64):
        if kind in ("IF", "I"):
            r = p["r_if"] if kind == "IF" else p["r_if"]
            v = v + (r * x if norse else r * dt * x)
        else:
            if kind in ("CubaLIF", "CubaLI"):
                if norse:  # the input jumps into the current, which decays after the membrane step
                    syn = syn + p["w_in"] * x
                elif exact:
                    a = np.exp(-dt / p["tau_syn"])
                    syn = p["w_in"] * x + (syn - p["w_in"] * x) * a
                else:
                    syn = syn + dt / p["tau_syn"] * (p["w_in"] * x - syn)
                drive = syn
            else:
                drive = x
            target = p["v_leak"] + p["r"] * drive
            v = target + (v - target) * np.exp(-dt / tau) if exact else v + dt / tau * (target - v)
            if norse and kind in ("CubaLIF", "CubaLI"):
                syn = syn - dt / p["tau_syn"] * syn
        if kind in ("LIF", "CubaLIF", "IF"):
            z = (v > p["v_threshold"]).astype(np.float64)
            v = np.where(z > 0, p["v_reset"], v)
            outs.append(z)
        else:
            outs.append(v.copy())
        vs.append(v.copy())
    return np.stack(outs), np.stack(vs)


def _neuron_graph(p: dict, weight: np.ndarray) -> "nir.NIRGraph":
    f = lambda k: np.asarray(p[k], np.float32)  # noqa: E731
    neurons = {
        "cubali": nir.CubaLI(tau_syn=f("tau_syn"), tau_mem=f("tau_mem"), r=f("r"), v_leak=f("v_leak"), w_in=f("w_in")),
        "cubalif": nir.CubaLIF(tau_syn=f("tau_syn"), tau_mem=f("tau_mem"), r=f("r"), v_leak=f("v_leak"),
                               v_threshold=f("v_threshold"), v_reset=f("v_reset"), w_in=f("w_in")),
        "i": nir.I(r=f("r_if")),
        "if": nir.IF(r=f("r_if"), v_threshold=f("v_threshold"), v_reset=f("v_reset")),
        "li": nir.LI(tau=f("tau"), r=f("r"), v_leak=f("v_leak")),
        "lif": nir.LIF(tau=f("tau"), r=f("r"), v_leak=f("v_leak"), v_threshold=f("v_threshold"), v_reset=f("v_reset")),
    }  # fmt: skip
    nodes = {"input": nir.Input(input_type=np.array([N_IN])), "fc": nir.Linear(weight=weight), **neurons}
    edges = [("input", "fc")]
    for name in neurons:
        nodes[f"out_{name}"] = nir.Output(output_type=np.array([N]))
        edges += [("fc", name), (name, f"out_{name}")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


@pytest.mark.parametrize("convention", ["euler", "snntorch", "norse", "exact"])
def test_every_neuron_node_matches_the_numpy_reference(convention, tmp_path):
    dt = CONVENTION_DT[convention]
    p = _neuron_parameters(dt, convention)
    rng = np.random.default_rng(0)
    weight = rng.uniform(0.0, 0.6, (N, N_IN)).astype(np.float32)
    nir.write(tmp_path / "neurons.nir", _neuron_graph(p, weight))
    net = interop.from_nir(
        tmp_path / "neurons.nir", convention=convention, dt=None if convention in ("snntorch", "norse") else dt
    )
    assert net.metadata["convention"] == convention and net.metadata["dt"] == dt
    x = rng.uniform(0.0, 1.0, (80, 2, N_IN)).astype(np.float32)
    outputs = dict(zip(net.output_names, net(x)))
    current = x @ weight.T
    kinds = {"lif": "LIF", "cubalif": "CubaLIF", "if": "IF", "li": "LI", "cubali": "CubaLI", "i": "I"}
    for name, kind in kinds.items():
        ref_out, ref_v = _reference(kind, p, current, convention, dt)
        got = outputs[f"out_{name}"]
        if kind in ("LIF", "CubaLIF", "IF"):
            spk, v = (np.asarray(a) for a in got)
            np.testing.assert_array_equal(spk, ref_out, err_msg=f"{kind} spikes under {convention}")
            assert 10 < ref_out.sum() < 0.6 * ref_out.size, f"{kind}: {ref_out.sum()} spikes"
            np.testing.assert_allclose(v, ref_v, atol=2e-4, rtol=1e-4, err_msg=f"{kind} membrane")
        else:
            np.testing.assert_allclose(
                np.asarray(got), ref_out, atol=2e-4, rtol=1e-4, err_msg=f"{kind} under {convention}"
            )


def test_stateless_nodes_match_torch(tmp_path):
    rng = np.random.default_rng(1)
    conv_w, conv_b = rng.normal(size=(3, 2, 3, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    conv1_w = rng.normal(size=(4, 2, 3)).astype(np.float32)
    lin_w, lin_b = rng.normal(size=(4, 3 * 4 * 4)).astype(np.float32), rng.normal(size=4).astype(np.float32)
    scale, thr = np.linspace(0.5, 2.0, 4).astype(np.float32), np.full(4, 0.1, np.float32)
    nodes = {
        "image": nir.Input(input_type=np.array([2, 8, 8])),
        "conv": nir.Conv2d(input_shape=(8, 8), weight=conv_w, stride=1, padding=1, dilation=1, groups=1, bias=conv_b),
        "sum": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "avg": nir.AvgPool2d(kernel_size=np.array([3, 3]), stride=np.array([1, 1]), padding=np.array([1, 1])),
        "rows": nir.Flatten(input_type={"input": np.array([3, 4, 4])}, start_dim=1, end_dim=2),
        "flat": nir.Flatten(input_type={"input": np.array([3, 16])}, start_dim=0, end_dim=-1),
        "fc": nir.Affine(weight=lin_w, bias=lin_b),
        "scale": nir.Scale(scale=scale),
        "thr": nir.Threshold(threshold=thr),
        "out_thr": nir.Output(output_type=np.array([4])),
        "signal": nir.Input(input_type=np.array([2, 10])),
        "conv1": nir.Conv1d(input_shape=10, weight=conv1_w, stride=2, padding=1, dilation=1, groups=1,
                            bias=np.zeros(4, np.float32)),
        "out_conv1": nir.Output(output_type=np.array([4, 5])),
    }  # fmt: skip
    chain = ["image", "conv", "sum", "avg", "rows", "flat", "fc", "scale", "thr", "out_thr"]
    edges = list(zip(chain[:-1], chain[1:])) + [("signal", "conv1"), ("conv1", "out_conv1")]
    nir.write(tmp_path / "stateless.nir", nir.NIRGraph(nodes=nodes, edges=edges))
    net = interop.from_nir(tmp_path / "stateless.nir", convention="euler", dt=1e-3)
    assert isinstance(net.rows, nn.Reshape) and isinstance(net.flat, nn.Flatten) and isinstance(net.sum, nn.SumPool2d)
    assert net.input_names == ("image", "signal")
    image = rng.normal(size=(4, 2, 2, 8, 8)).astype(np.float32)
    signal = rng.normal(size=(4, 2, 2, 10)).astype(np.float32)
    conv1_out, thr_out = net(image, signal)

    t = torch.nn.functional
    with torch.no_grad():
        y = t.conv2d(torch.tensor(image.reshape(-1, 2, 8, 8)), torch.tensor(conv_w), torch.tensor(conv_b), padding=1)
        y = t.avg_pool2d(y, 2) * 4
        y = t.avg_pool2d(y, 3, stride=1, padding=1, count_include_pad=True)
        y = (t.linear(y.flatten(1), torch.tensor(lin_w), torch.tensor(lin_b)) * torch.tensor(scale)).numpy()
        c1 = t.conv1d(torch.tensor(signal.reshape(-1, 2, 10)), torch.tensor(conv1_w), stride=2, padding=1).numpy()
    pre = y.reshape(4, 2, 4)
    far = np.abs(pre - thr) > 1e-4
    np.testing.assert_array_equal(np.asarray(thr_out)[far], (pre > thr).astype(np.float32)[far])
    np.testing.assert_allclose(np.asarray(conv1_out), c1.reshape(4, 2, 4, 5), atol=1e-4)


def _lif(n: int, **overrides) -> "nir.LIF":
    p = dict(tau=np.full(n, 5e-3), r=np.full(n, 4.0), v_leak=np.zeros(n), v_threshold=np.full(n, 1.0),
             v_reset=np.zeros(n))  # fmt: skip
    p.update(overrides)
    return nir.LIF(**{k: np.asarray(v, np.float32) for k, v in p.items()})


def test_recurrent_cycle_reads_the_previous_steps_spikes(tmp_path):
    rng = np.random.default_rng(2)
    w_in, w_rec = rng.uniform(0, 0.5, (N, N_IN)).astype(np.float32), rng.normal(0, 0.5, (N, N)).astype(np.float32)
    b_rec = rng.uniform(0, 0.2, N).astype(np.float32)
    nodes = {"input": nir.Input(input_type=np.array([N_IN])), "fc": nir.Linear(weight=w_in), "lif": _lif(N),
             "w_rec": nir.Affine(weight=w_rec, bias=b_rec), "output": nir.Output(output_type=np.array([N]))}  # fmt: skip
    # The back edge is listed first: the delay still goes on the edge leaving the neuron.
    edges = [("w_rec", "lif"), ("input", "fc"), ("fc", "lif"), ("lif", "w_rec"), ("lif", "output")]
    nir.write(tmp_path / "rnn.nir", nir.NIRGraph(nodes=nodes, edges=edges))
    net = interop.from_nir(tmp_path / "rnn.nir", convention="euler", dt=1e-3)
    assert ("lif", "w_rec", 1) in net.edges and ("w_rec", "lif", 0) in net.edges
    x = rng.uniform(0, 1, (60, 2, N_IN)).astype(np.float32)
    spk, _ = net(x)
    v, z, ref = np.zeros((2, N)), np.zeros((2, N)), []
    for x_t in x.astype(np.float64):
        drive = x_t @ w_in.T + z @ w_rec.T + b_rec  # the bias enters from the first step
        v = v + 0.2 * (4.0 * drive - v)
        z = (v > 1.0).astype(np.float64)
        v = np.where(z > 0, 0.0, v)
        ref.append(z)
    np.testing.assert_array_equal(np.asarray(spk), np.stack(ref))
    assert 10 < np.sum(ref) < 0.6 * np.size(ref)


def test_feedback_between_two_layers_is_delayed_on_the_feedback_path():
    nodes = {"input": nir.Input(input_type=np.array([2])), "fc1": nir.Linear(weight=np.ones((2, 2), np.float32)),
             "lif1": _lif(2), "fc2": nir.Linear(weight=np.ones((2, 2), np.float32)), "lif2": _lif(2),
             "fb": nir.Linear(weight=np.ones((2, 2), np.float32)), "output": nir.Output(output_type=np.array([2]))}  # fmt: skip
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "fb"), ("fb", "lif1"),
             ("lif2", "output")]  # fmt: skip
    net = interop.from_nir(nir.NIRGraph(nodes=nodes, edges=edges), convention="euler", dt=1e-3)
    assert [e for e in net.edges if e[2]] == [("lif2", "fb", 1)]


def test_delay_nodes_become_edge_delays(tmp_path):
    weight = np.array([[1.0, 2.0], [0.5, -1.0]], np.float32)
    nodes = {"input": nir.Input(input_type=np.array([2])), "fc": nir.Linear(weight=weight),
             "late": nir.Delay(delay=np.full(2, 3e-3, np.float32)), "output": nir.Output(output_type=np.array([2]))}  # fmt: skip
    nir.write(
        tmp_path / "delay.nir", nir.NIRGraph(nodes=nodes, edges=[("input", "fc"), ("fc", "late"), ("late", "output")])
    )
    net = interop.from_nir(tmp_path / "delay.nir", convention="norse")  # dt = 1e-3: three steps
    assert sorted(net.edges) == [("fc", "output", 3), ("input", "fc", 0)]
    x = np.random.default_rng(3).normal(size=(10, 2, 2)).astype(np.float32)
    y = np.asarray(net(x))
    np.testing.assert_allclose(y[3:], (x @ weight.T)[:-3], rtol=1e-6)
    assert np.all(y[:3] == 0)
    with pytest.raises(interop.UnsupportedNodeError, match=r"'late' delays by 0.003 s = 1.5 steps of dt=0.002"):
        interop.from_nir(tmp_path / "delay.nir", convention="euler", dt=2e-3)
    nodes["late"] = nir.Delay(delay=np.array([1e-3, 2e-3], np.float32))
    with pytest.raises(interop.UnsupportedNodeError, match="per-element delays"):
        interop.from_nir(nir.NIRGraph(nodes=nodes, edges=[("input", "fc"), ("fc", "late"), ("late", "output")]),
                         convention="norse")  # fmt: skip


def _run_snntorch(model, x):
    snntorch.utils.reset(model)
    spikes, mems = [], []
    with torch.no_grad():
        for t in range(x.shape[0]):
            out = model(x[t])  # (spk, mem), or (spk, syn, mem) for Synaptic
            spikes.append(out[0].numpy().copy())
            mems.append(out[-1].numpy().copy())
    return np.stack(spikes), np.stack(mems)


def _assert_same_spikes(spikes, ref_spikes, ref_mems, threshold):
    """Spikes equal except where snnTorch's membrane lies within 1e-5 of the threshold (float rounding)."""
    near = np.abs(ref_mems - threshold) < 1e-5
    flips = (np.asarray(spikes) != ref_spikes) & ~near
    assert not flips.any(), f"{int(flips.sum())} spike flips away from threshold (near-threshold: {int(near.sum())})"
    assert 20 < ref_spikes.sum() < 0.6 * ref_spikes.size, f"{ref_spikes.sum()} spikes"


def _snntorch_export(model, n_in, path):
    from snntorch.export_nir import export_to_nir

    graph = export_to_nir(model, torch.rand(1, n_in), ignore_dims=[0])  # needs per-neuron beta and threshold
    nir.write(path, graph)
    return path


@pytest.mark.parametrize("hidden", ["leaky", "rleaky"])
def test_snntorch_export_imports_with_snntorchs_spikes(hidden, tmp_path):
    torch.manual_seed(0)
    h = 12
    beta = torch.linspace(0.6, 0.95, h)
    layer = {
        # Leaky's zero reset equals NIR's reset-to-0 for either reset_delay.
        "leaky": lambda: snntorch.Leaky(beta=beta, threshold=torch.full((h,), 1.0), reset_mechanism="zero",
                                        init_hidden=True),
        # RLeaky equals NIR only with reset_delay=False (see docs/interop-nir.md).
        "rleaky": lambda: snntorch.RLeaky(beta=beta, threshold=torch.full((h,), 1.0), linear_features=h,
                                          reset_mechanism="zero", reset_delay=False, init_hidden=True),
    }[hidden]()  # fmt: skip
    model = torch.nn.Sequential(
        torch.nn.Linear(10, h), layer, torch.nn.Linear(h, 4),
        snntorch.Synaptic(alpha=torch.full((4,), 0.7), beta=torch.full((4,), 0.85), threshold=torch.full((4,), 1.0),
                          reset_mechanism="zero", reset_delay=False, init_hidden=True, output=True),
    )  # fmt: skip
    with torch.no_grad():
        model[0].weight.abs_().mul_(0.6)
        model[2].weight.mul_(0.8)
    net = interop.from_nir(_snntorch_export(model, 10, tmp_path / "snntorch.nir"), convention="snntorch")
    if hidden == "rleaky":
        assert ("1_lif", "1_w_rec", 1) in net.edges
    x = torch.rand(120, 4, 10)
    ref_spikes, ref_mems = _run_snntorch(model, x)
    spikes, _ = net(x.numpy())
    _assert_same_spikes(spikes, ref_spikes, ref_mems, 1.0)
    np.testing.assert_array_equal(net.state_dict()["0.weight"], model.state_dict()["0.weight"].numpy())


def test_export_imports_into_snntorch_with_our_spikes(tmp_path):
    snx.manual_seed(0)
    h = 8
    net = nn.Sequential(
        nn.Linear(6, h), nn.Leaky(beta=np.linspace(0.6, 0.9, h), threshold=0.8, reset_mechanism="zero"),
        nn.Linear(h, 3), nn.Synaptic(alpha=0.7, beta=0.85, reset_mechanism="zero", reset_delay=False),
    )  # fmt: skip
    graph = interop.to_nir(net, tmp_path / "ours.nir")
    assert graph.metadata == {"source": "snnax_torchlike", "dt": 1e-4, "convention": "snntorch"}
    assert graph.nodes["1"].tau.shape == (h,) and graph.nodes["3"].w_in.shape == (3,)
    from snntorch.import_nir import import_from_nir

    model = import_from_nir(nir.read(tmp_path / "ours.nir"))
    x = np.random.default_rng(4).uniform(0, 1.5, (120, 4, 6)).astype(np.float32)
    state, ref = None, []
    with torch.no_grad():
        for x_t in x:
            out, state = model(torch.tensor(x_t), state)
            ref.append(out.numpy())
    spikes, mem = net(x)
    ref = np.stack(ref)
    assert 20 < ref.sum() < 0.6 * ref.size
    mismatches = int((np.asarray(spikes) != ref).sum())
    assert mismatches == 0, f"{mismatches} of {ref.size} spikes differ"


def test_our_graph_round_trips_exactly(tmp_path):
    snx.manual_seed(1)
    nodes = {
        "fc": nn.Linear(4, 6),
        "lif": nn.LIF(tau=np.linspace(3e-3, 8e-3, 6), r=2.5, v_leak=0.1, v_threshold=1.0, v_reset=-0.2,
                      dt=1e-3, convention="exact"),
        "w_rec": nn.Linear(6, 6),
        "syn": nn.Linear(6, 3, bias=False),
        "cuba": nn.CubaLIF(tau_syn=2e-3, tau_mem=6e-3, r=3.0, w_in=np.linspace(0.5, 1.5, 3), v_threshold=0.7,
                           dt=1e-3, convention="exact"),
        "li": nn.LI(tau=4e-3, r=2.0, dt=1e-3, convention="exact"),
    }  # fmt: skip
    edges = [("input", "fc"), ("fc", "lif"), ("lif", "w_rec", 1), ("w_rec", "lif"), ("lif", "syn"),
             ("syn", "cuba"), ("cuba", "output"), ("lif", "li", 2), ("li", "trace")]  # fmt: skip
    net = nn.Graph(nodes, edges, outputs=("output", "trace"))
    net.fc.weight.data, net.syn.weight.data = abs(net.fc.weight.data), abs(net.syn.weight.data) * 3  # spikes reach cuba
    graph = interop.to_nir(net, tmp_path / "graph.nir")
    assert isinstance(graph.nodes["delay_lif_li"], nir.Delay) and ("lif", "w_rec") in graph.edges
    back = interop.from_nir(tmp_path / "graph.nir", convention="exact")  # dt from the file's metadata
    assert sorted(back.edges) == sorted(net.edges)
    assert sorted(back.state_dict()) == sorted(net.state_dict())  # NIR files keep no node order
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[name], value)
    x = np.random.default_rng(5).uniform(0, 1, (40, 3, 4)).astype(np.float32)
    (spk, mem), trace = net(x)
    (spk2, mem2), trace2 = back(x)
    assert np.asarray(spk).sum() > 10
    for a, b in ((spk, spk2), (mem, mem2), (trace, trace2)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_export_writes_delay_nodes_where_the_cycle_rule_would_differ(tmp_path):
    snx.manual_seed(5)
    nodes = {"fc": nn.Linear(3, 4), "lif": nn.LIF(tau=5e-3, r=4.0, dt=1e-3), "w_rec": nn.Linear(4, 4)}
    # The delay sits after the recurrent weights (their bias is held back one step): not NIR's implicit reading.
    edges = [("input", "fc"), ("fc", "lif"), ("lif", "w_rec"), ("w_rec", "lif", 1), ("lif", "output")]
    net = nn.Graph(nodes, edges)
    graph = interop.to_nir(net, tmp_path / "explicit.nir")
    assert (
        isinstance(graph.nodes["delay_w_rec_lif"], nir.Delay) and float(graph.nodes["delay_w_rec_lif"].delay[0]) == 1e-3
    )
    back = interop.from_nir(tmp_path / "explicit.nir", convention="euler")
    assert sorted(back.edges) == sorted(net.edges)
    x = np.random.default_rng(8).uniform(0, 1, (30, 2, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(back(x)[0]), np.asarray(net(x)[0]))


def test_snntorch_style_sequential_round_trips(tmp_path):
    snx.manual_seed(2)
    net = nn.Sequential(nn.Linear(5, 7), nn.Leaky(beta=0.9, reset_mechanism="zero"), nn.Linear(7, 2),
                        nn.Leaky(beta=np.ones(2), threshold=0.5, reset_mechanism="zero"))  # fmt: skip
    graph = interop.to_nir(net, tmp_path / "seq.nir")
    assert isinstance(graph.nodes["1"], nir.LIF) and isinstance(graph.nodes["3"], nir.IF)  # beta = 1: no leak
    back = interop.from_nir(tmp_path / "seq.nir", convention="snntorch")
    x = np.random.default_rng(6).uniform(0, 1, (100, 4, 5)).astype(np.float32)
    spk, mem = net(x)
    spk2, _ = back(x)
    _assert_same_spikes(spk2, np.asarray(spk), np.asarray(mem), np.array([0.5, 0.5]))


def test_rleaky_with_a_same_step_zero_reset_exports_exactly(tmp_path):
    """RLeaky(reset_mechanism="zero", reset_delay=False) is NIR's LIF <-> w_rec cycle: no warning, same spikes."""
    snx.manual_seed(3)
    net = nn.Sequential(nn.Linear(5, 6), nn.RLeaky(beta=np.linspace(0.7, 0.9, 6), linear_features=6, threshold=0.6,
                                                   reset_mechanism="zero", reset_delay=False))  # fmt: skip
    net[0].weight.data = abs(net[0].weight.data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph = interop.to_nir(net, tmp_path / "rleaky.nir")
    assert isinstance(graph.nodes["1.lif"], nir.LIF) and ("1.lif", "1.w_rec") in graph.edges
    back = interop.from_nir(tmp_path / "rleaky.nir", convention="snntorch")
    x = np.random.default_rng(7).uniform(0, 1, (60, 3, 5)).astype(np.float32)
    spk, mem = net(x)
    spk2, _ = back(x)
    _assert_same_spikes(spk2, np.asarray(spk), np.asarray(mem), 0.6)


def test_norse_reads_our_export(tmp_path):
    norse = pytest.importorskip("norse.torch")
    snx.manual_seed(3)
    net = nn.Sequential(
        nn.Linear(4, 6), nn.LIF(tau=np.linspace(5e-3, 2e-2, 6), v_threshold=0.3, convention="norse"),
        nn.Linear(6, 3), nn.LIF(tau=1e-2, v_threshold=np.full(3, 0.2), convention="norse"),
    )  # fmt: skip
    interop.to_nir(net, tmp_path / "norse.nir")
    model = norse.from_nir(str(tmp_path / "norse.nir"))  # Norse 1.1.0 reads LIF as LIFBoxCell (r=1, v_reset=0 only)
    x = np.random.default_rng(7).uniform(0, 6, (100, 2, 4)).astype(np.float32)
    state, ref = None, []
    with torch.no_grad():
        for x_t in x:
            out, state = model(torch.tensor(x_t), state)
            ref.append(out.numpy())
    ref = np.stack(ref)
    spikes, _ = net(x)
    assert 20 < ref.sum() < 0.6 * ref.size
    np.testing.assert_array_equal(np.asarray(spikes), ref)


def test_norse_named_cells_export_through_nir_parameters(tmp_path):
    snx.manual_seed(6)
    net = nn.Sequential(nn.Linear(3, 4), nn.LIFCell(tau_mem_inv=150.0, v_th=0.3), nn.Linear(4, 2), nn.IAFCell(v_th=0.5))
    graph = interop.to_nir(net, tmp_path / "cells.nir")
    assert isinstance(graph.nodes["1"], nir.CubaLIF) and isinstance(graph.nodes["3"], nir.IF)
    assert graph.metadata["convention"] == "norse"
    back = interop.from_nir(tmp_path / "cells.nir", convention="norse")
    x = np.random.default_rng(9).uniform(0, 3, (40, 2, 3)).astype(np.float32)
    spk, _ = net(x)
    spk2, _ = back(x)
    assert np.asarray(spk).sum() > 10
    np.testing.assert_array_equal(np.asarray(spk2), np.asarray(spk))


def test_exporter_refuses_what_nir_cannot_express():
    def export(layer):
        return interop.to_nir(nn.Sequential(nn.Linear(3, 3), layer))

    with pytest.raises(interop.UnsupportedNodeError, match=r"node '1' \(Leaky\) uses reset_mechanism='subtract', but "
                       r"NIR neurons only reset to a value"):  # fmt: skip
        export(nn.Leaky(beta=0.9))
    with pytest.raises(interop.UnsupportedNodeError, match=r"\(LIF\) uses reset='subtract'"):
        export(nn.LIF(tau=1e-3, dt=1e-4, reset="subtract"))
    with pytest.raises(interop.UnsupportedNodeError, match="reset_delay=True"):
        export(nn.Synaptic(alpha=0.5, beta=0.5, reset_mechanism="zero"))
    with pytest.raises(interop.UnsupportedNodeError, match=r"\(RLeaky\) cannot be written to NIR faithfully"):
        export(nn.RLeaky(beta=0.9, linear_features=3, reset_mechanism="zero"))
    quant = SF.quant.state_quant(num_bits=4)
    for option, layer in (("inhibition", nn.Leaky(0.9, reset_mechanism="zero", inhibition=True)),
                          ("state_quant", nn.Synaptic(0.5, 0.9, reset_mechanism="zero", reset_delay=False,
                                                      state_quant=quant))):  # fmt: skip
        with pytest.raises(interop.UnsupportedNodeError, match=rf"node '1' \(\w+\) sets {option}, which NIR cannot"):
            export(layer)
    with pytest.raises(interop.UnsupportedNodeError, match=r"\(MaxPool2d\) has no NIR counterpart"):
        interop.to_nir(nn.Sequential(nn.MaxPool2d(2)), input_shape=(1, 4, 4))
    with pytest.raises(ValueError, match="pass input_shape="):
        interop.to_nir(nn.Sequential(nn.Conv2d(1, 2, 3)))
    with pytest.raises(interop.UnsupportedNodeError, match="discretise differently"):
        interop.to_nir(nn.Sequential(nn.Linear(3, 3), nn.LIF(tau=1e-3, dt=1e-4), nn.LI(tau=1e-3, convention="norse")))


def test_importer_rejects_unknown_nodes_and_conventions():
    from nir.ir.graph import Identity  # a NIR node type that nir.write cannot even store

    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([2])), "id": Identity(np.array([2])),
               "output": nir.Output(np.array([2]))},
        edges=[("input", "id"), ("id", "output")], type_check=False,
    )  # fmt: skip
    with pytest.raises(interop.UnsupportedNodeError, match=r"node 'id' \(Identity\) is not supported\. Supported"):
        interop.from_nir(graph, convention="snntorch")
    with pytest.raises(ValueError, match="convention 'exact' needs dt"):
        interop.from_nir(graph, convention="exact")
    with pytest.raises(ValueError, match="convention must be one of"):
        interop.from_nir(graph, convention="spyx")


def _chain(middle: dict, n_in: int, n_out: int, **graph_options) -> "nir.NIRGraph":
    """``input -> <middle nodes in order> -> output`` with the given port shapes."""
    names = ["input", *middle, "output"]
    nodes = {"input": nir.Input(np.array([n_in])), **middle, "output": nir.Output(np.array([n_out]))}
    return nir.NIRGraph(nodes=nodes, edges=list(zip(names[:-1], names[1:])), **graph_options)


def test_importer_refuses_non_finite_values_and_non_positive_time_constants():
    eye = np.eye(3, dtype=np.float32)
    cubalif = dict(tau_syn=np.full(3, 2e-3), tau_mem=np.full(3, 5e-3), r=np.ones(3), v_leak=np.zeros(3),
                   v_threshold=np.ones(3), v_reset=np.zeros(3), w_in=np.ones(3))  # fmt: skip
    cases = [
        ({"lif": _lif(3, tau=[5e-3, np.nan, 5e-3])},
         r"node 'lif' \(LIF\): tau must be finite .*got nan at index \(1,\)"),
        ({"lif": _lif(3, v_threshold=[1.0, 1.0, np.inf])}, r"node 'lif' \(LIF\): v_threshold must be finite .*inf"),
        ({"lif": _lif(3, tau=[5e-3, -1e-3, 5e-3])},
         r"node 'lif' \(LIF\): tau \(a time constant, in seconds\) must be positive, got -0\.001\d* at index \(1,\)"),
        ({"lif": _lif(3, tau=[0.0, 5e-3, 5e-3])},
         r"node 'lif' \(LIF\): tau \(a time constant.*must be positive, got 0\.0 at index \(0,\)"),
        ({"cuba": nir.CubaLIF(**{**cubalif, "tau_syn": np.array([2e-3, 0.0, 2e-3])})},
         r"node 'cuba' \(CubaLIF\): tau_syn \(a time constant.*must be positive"),
        ({"cuba": nir.CubaLIF(**{**cubalif, "tau_mem": np.array([5e-3, 5e-3, -5e-3])})},
         r"node 'cuba' \(CubaLIF\): tau_mem \(a time constant.*must be positive"),
        ({"li": nir.LI(tau=np.array([1e-3, 1e300, 1e-3]), r=np.ones(3), v_leak=np.zeros(3))},
         r"node 'li' \(LI\): tau must be finite \(and within float32's range\)"),
        ({"fc": nir.Linear(weight=np.where(eye > 0, np.inf, 0.0))}, r"node 'fc' \(Linear\): weight must be finite"),
        ({"fc": nir.Affine(weight=eye, bias=np.array([0.0, np.nan, 0.0]))},
         r"node 'fc' \(Affine\): bias must be finite .*fix the value in the NIR graph"),
        ({"scale": nir.Scale(scale=np.array([1.0, -np.inf, 1.0]))}, r"node 'scale' \(Scale\): scale must be finite"),
    ]
    for middle, message in cases:
        with pytest.raises(interop.NIRImportError, match=message):
            interop.from_nir(_chain(middle, 3, 3), convention="euler", dt=1e-3)
    with pytest.raises(interop.NIRImportError, match=r"node 'd' \(Delay\): delay must be finite"):
        interop.from_nir(_chain({"d": nir.Delay(delay=np.full(3, np.nan))}, 3, 3, type_check=False),
                         convention="euler", dt=1e-3)  # fmt: skip


def test_importer_refuses_duplicated_edges():
    nodes = {"input": nir.Input(np.array([3])), "fc": nir.Linear(weight=np.eye(3, dtype=np.float32)),
             "output": nir.Output(np.array([3]))}  # fmt: skip
    graph = nir.NIRGraph(nodes=nodes, edges=[("input", "fc"), ("fc", "output"), ("input", "fc")], type_check=False)
    with pytest.raises(interop.NIRImportError, match=r"the graph lists the edge \('input', 'fc'\) more than once"):
        interop.from_nir(graph, convention="euler", dt=1e-3)
    inner = nir.NIRGraph(nodes=dict(nodes), edges=[("input", "fc"), ("fc", "output"), ("fc", "output")],
                         type_check=False)  # fmt: skip
    outer = nir.NIRGraph(
        nodes={"input": nir.Input(np.array([3])), "sub": inner, "output": nir.Output(np.array([3]))},
        edges=[("input", "sub"), ("sub", "output")], type_check=False,
    )  # fmt: skip
    with pytest.raises(interop.NIRImportError, match=r"subgraph 'sub' lists the edge \('fc', 'output'\) more than"):
        interop.from_nir(outer, convention="euler", dt=1e-3)


def test_importer_checks_input_and_output_shapes_without_nir_type_check():
    weight = np.ones((2, 3), np.float32)
    with pytest.raises(interop.NIRImportError,
                       match=r"Input node 'input' declares input_type \(4,\), which node 'fc' \(Linear\) cannot take: "
                             r".*Set the Input node's input_type to \(3,\), the per-sample shape node 'fc' "
                             r"takes\."):  # fmt: skip
        interop.from_nir(_chain({"fc": nir.Linear(weight=weight)}, 4, 2, type_check=False), convention="euler",
                         dt=1e-3)  # fmt: skip
    with pytest.raises(interop.NIRImportError,
                       match=r"Input node 'input' declares input_type \(1,\), which node 'lif' \(LIF\) cannot take: "
                             r".*Set the Input node's input_type to the per-sample shape node 'lif' "
                             r"takes\."):  # fmt: skip
        interop.from_nir(_chain({"lif": _lif(3)}, 1, 3, type_check=False), convention="euler", dt=1e-3)
    with pytest.raises(interop.NIRImportError,
                       match=r"Input node 'input' declares input_type \(1,\), but node 'scale' \(Scale\) acts "
                             r"element-wise on shape \(3,\).*Set the Input node's input_type to \(3,\)\."):  # fmt: skip
        interop.from_nir(_chain({"scale": nir.Scale(scale=np.ones(3, np.float32))}, 1, 3, type_check=False),
                         convention="euler", dt=1e-3)  # fmt: skip
    with pytest.raises(interop.NIRImportError,
                       match=r"Output node 'output' declares output_type \(7,\), but node 'lif' feeding it outputs "
                             r"shape \(2,\)\. Set the Output node's output_type to \(2,\)"):  # fmt: skip
        interop.from_nir(_chain({"fc": nir.Linear(weight=weight), "lif": _lif(2)}, 3, 7, type_check=False),
                         convention="euler", dt=1e-3)  # fmt: skip
    net = interop.from_nir(_chain({"fc": nir.Linear(weight=weight), "lif": _lif(2)}, 3, 2, type_check=False),
                           convention="euler", dt=1e-3)  # fmt: skip
    spikes, _ = net(np.ones((4, 1, 3), np.float32))
    assert np.asarray(spikes).shape == (4, 1, 2)


def test_unknown_node_type_in_a_file_is_named(tmp_path, monkeypatch):
    import h5py

    path = tmp_path / "bogus.nir"
    nir.write(path, _chain({"fc": nir.Linear(weight=np.eye(3, dtype=np.float32))}, 3, 3))
    with h5py.File(path, "r+") as f:
        del f["node/nodes/fc/type"]
        f["node/nodes/fc/type"] = np.bytes_("Bogus")
    with pytest.raises(interop.UnsupportedNodeError, match=r"node 'fc' has type 'Bogus', which is not supported\. "):
        interop.from_nir(path, convention="euler", dt=1e-3)

    def bare_assert(path):
        raise AssertionError  # as nir's own bare asserts do

    nir.write(path, _chain({"fc": nir.Linear(weight=np.eye(3, dtype=np.float32))}, 3, 3))
    monkeypatch.setattr(nir, "read", bare_assert)
    with pytest.raises(interop.NIRImportError,
                       match=r"AssertionError without a message in test_interop_nir\.py, line \d+: "
                             r"raise AssertionError"):  # fmt: skip
        interop.from_nir(path, convention="euler", dt=1e-3)


def test_nested_subgraph_is_flattened():
    inner = nir.NIRGraph(
        nodes={"in": nir.Input(np.array([2])), "lif": _lif(2), "w": nir.Linear(weight=np.eye(2, dtype=np.float32)),
               "out": nir.Output(np.array([2]))},
        edges=[("in", "lif"), ("lif", "w"), ("w", "lif"), ("lif", "out")],
    )  # fmt: skip
    outer = nir.NIRGraph(
        nodes={"input": nir.Input(np.array([2])), "rnn": inner, "output": nir.Output(np.array([2]))},
        edges=[("input", "rnn"), ("rnn", "output")],
    )
    net = interop.from_nir(outer, convention="euler", dt=1e-3)
    assert set(net.nodes) == {"rnn_lif", "rnn_w"}
    assert sorted(net.edges) == [("input", "rnn_lif", 0), ("rnn_lif", "output", 0), ("rnn_lif", "rnn_w", 1),
                                 ("rnn_w", "rnn_lif", 0)]  # fmt: skip


def test_graph_errors_name_the_nodes():
    with pytest.raises(ValueError, match=r"the cycle a -> b -> a has no delay"):
        nn.Graph(
            {"a": nn.Linear(2, 2), "b": nn.Linear(2, 2)}, [("input", "a"), ("a", "b"), ("b", "a"), ("b", "output")]
        )
    with pytest.raises(ValueError, match=r"starts at unknown node 'x'"):
        nn.Graph({"a": nn.Linear(2, 2)}, [("input", "a"), ("x", "a"), ("a", "output")])
    with pytest.raises(ValueError, match=r"contains '\.'"):
        nn.Graph({"a.b": nn.Linear(2, 2)}, [("input", "a.b"), ("a.b", "output")])
    net = nn.Graph({"a": nn.Linear(2, 3), "b": nn.Linear(4, 2)}, [("input", "a"), ("a", "b"), ("b", "output")])
    with pytest.raises(ValueError, match=r"node 'b' \(Linear\): cannot take an input of shape \(3,\)") as caught:
        net(np.zeros((2, 1, 2), np.float32))
    # A structured error: the core's position and layer, relabelled with the facade's names, not rewritten text.
    assert isinstance(caught.value, snx.snn.LayerError) and caught.value.index == 1
    assert type(caught.value.layers[0]).__name__ == "Affine" and "{0}" in caught.value.template


def test_graph_trains_with_fit():
    snx.manual_seed(4)
    net = nn.Graph(
        {"fc": nn.Linear(8, 16), "lif": nn.Leaky(beta=0.9, reset_mechanism="zero"), "w_rec": nn.Linear(16, 16),
         "out_fc": nn.Linear(16, 3), "out": nn.Leaky(beta=0.9)},
        [("input", "fc"), ("fc", "lif"), ("lif", "w_rec", 1), ("w_rec", "lif"), ("lif", "out_fc"),
         ("out_fc", "out"), ("out", "output")],
    )  # fmt: skip
    assert {"fc.weight", "w_rec.bias", "out_fc.weight"} <= set(dict(net.named_parameters()))
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 48).astype(np.int32)
    rates = 0.1 + 0.6 * (np.arange(8)[None] % 3 == labels[:, None])
    x = (rng.random((15, 48, 8)) < rates[None]).astype(np.float32)
    loader = [(x[:, i : i + 16], labels[i : i + 16]) for i in range(0, 48, 16)]
    history = net.fit(loader, epochs=4, optimizer=optim.Adam(net.parameters(), lr=1e-2), loss_fn=SF.ce_rate_loss(),
                      progress=False)  # fmt: skip
    assert history["loss"][-1] < history["loss"][0]
