"""`interop.from_norse` and the Norse-named cells against the real Norse 1.1.0.

Norse runs its per-step chains as ``for t: out, s = model(x[t], s)``. Its pre-reset
membranes are recorded by wrapping Norse's threshold function, so spike flips are
only allowed (and counted) where Norse's membrane lies within 1e-5 of threshold.
"""

import importlib.metadata

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

norse = pytest.importorskip("norse.torch")
import norse.torch.functional.iaf as norse_iaf  # noqa: E402
import norse.torch.functional.lif as norse_lif  # noqa: E402
import norse.torch.functional.lif_adex as norse_adex  # noqa: E402
import norse.torch.functional.lif_box as norse_lif_box  # noqa: E402
from norse.torch.functional.reset import reset_subtract  # noqa: E402
from norse.torch.functional.threshold import threshold as norse_threshold  # noqa: E402

from snnax_torchlike import interop, nn, snn  # noqa: E402
from snnax_torchlike.nn.norse_cells import NORSE_METHODS, norse_surrogate, super_uses_alpha  # noqa: E402

T, B, F_IN, H, OUT = 100, 3, 8, 10, 4


@pytest.fixture
def thresholds(monkeypatch):
    """Every call of Norse's threshold function records its input (pre-reset membrane minus v_th)."""
    calls = []

    def recording(x, method, alpha):
        calls.append(x.detach().numpy().copy())
        return norse_threshold(x, method, alpha)

    for module in (norse_lif, norse_lif_box, norse_iaf, norse_adex):
        monkeypatch.setattr(module, "threshold", recording)
    return calls


def _run_steps(model, x):
    """Norse's per-step loop: the output and each stateful layer's ``v`` at every step."""
    state, outs, vs = None, [], {}
    with torch.no_grad():
        for t in range(x.shape[0]):
            out, state = model(x[t], state)
            outs.append(out.numpy().copy())
            for k, s in enumerate(state):
                if s is not None:
                    vs.setdefault(k, []).append(s.v.numpy().copy())
    return np.stack(outs), {k: np.stack(v) for k, v in vs.items()}


def _split_thresholds(calls, spiking_layers, steps):
    """The recorded threshold inputs as ``{layer: [T, B, ...]}`` (calls come layer by layer, step by step)."""
    n = len(spiking_layers)
    assert len(calls) == n * steps
    return {k: np.stack(calls[j::n]) for j, k in enumerate(spiking_layers)}


def _layer_traces(net, x, layers):
    """Our outputs and membranes ``v`` of the given layers, ``[T, B, ...]`` each, from one compiled run."""
    core = snn.Sequential(*(layer.core_layer() for layer in net), output_layer_ids=list(layers))
    xs = jnp.asarray(x.numpy())
    state = core.init_state(xs.shape[2:])

    def one_sample(sample):
        _, outs, states = core(state, sample, record_states=tuple(layers))
        return list(outs), [states[k].v for k in layers]

    outs, vs = jax.jit(jax.vmap(one_sample, in_axes=1, out_axes=1))(xs)
    return dict(zip(layers, (np.asarray(o) for o in outs))), dict(zip(layers, (np.asarray(v) for v in vs)))


def _first_flip(spikes, pre, layer):
    """The first step where our spikes differ from Norse's (``pre > 0``), or None; that flip must be near threshold.

    After a flip the trajectories part, so later steps (and layers downstream at that
    step) are not compared.
    """
    ref_spikes = pre > 0
    assert ref_spikes.sum() > 10, f"layer {layer}: too few spikes to test ({int(ref_spikes.sum())})"
    flipped = spikes != ref_spikes
    if not flipped.any():
        return None
    t = int(np.argwhere(flipped)[0, 0])
    far = flipped[t] & (np.abs(pre[t]) >= 1e-5)
    assert not far.any(), f"layer {layer}, step {t}: {int(far.sum())} spike flips away from threshold"
    return t, int(flipped[t].sum())


def _spikes_agree(outs, pre, spiking, steps):
    """``(first flip step, flips there)`` over the spiking layers, upstream first; at least half the steps agree.

    A flip is judged only where no earlier step or upstream layer flipped.
    """
    first_flip, flips = steps, 0
    for k in spiking:
        found = _first_flip(outs[k][:first_flip], pre[k][:first_flip], k)
        if found is not None:
            first_flip, flips = found
    assert first_flip >= steps // 2, f"a near-threshold flip at step {first_flip} cuts the comparison short"
    return first_flip, flips


def _compare(net, model, x, calls, *, public=True):
    """Each stateful layer of ``net`` against Norse: spikes (counted flips near threshold) and membranes."""
    stateful = [k for k, flag in enumerate(model.stateful_layers) if flag]
    spiking = [k for k in stateful if getattr(net[k], "is_neuron", False)]
    ref_out, ref_vs = _run_steps(model, x)
    pre = _split_thresholds(calls, spiking, x.shape[0])
    outs, vs = _layer_traces(net, x, stateful)
    first_flip, flips = _spikes_agree(outs, pre, spiking, x.shape[0])
    max_diff = 0.0
    for k in stateful:
        np.testing.assert_allclose(vs[k][:first_flip], ref_vs[k][:first_flip], atol=1e-4, rtol=0, err_msg=f"layer {k}")
        max_diff = max(max_diff, float(np.abs(vs[k][:first_flip] - ref_vs[k][:first_flip]).max()))
    if public:  # net(x) returns the last neuron's (spikes, v), or the last layer's output
        final = net(x.numpy())
        final = np.asarray(final[0] if isinstance(final, tuple) else final)
        np.testing.assert_allclose(final[:first_flip], ref_out[:first_flip], atol=1e-4, rtol=0)
    print(f"flips={flips} (first at step {first_flip}) max|dv|={max_diff:.2e}")
    return flips, max_diff


def _per_neuron(lo, hi, n):
    return torch.linspace(lo, hi, n)


CELLS = {
    "LIFCell": lambda n: norse.LIFCell(),
    "LIFCell-custom": lambda n: norse.LIFCell(
        norse.LIFParameters(tau_syn_inv=_per_neuron(150, 300, n), tau_mem_inv=_per_neuron(60, 140, n),
                            v_leak=torch.tensor(0.1), v_th=_per_neuron(0.5, 0.9, n), v_reset=torch.tensor(-0.2),
                            method="tanh", alpha=torch.tensor(50.0)), dt=5e-4),
    "LIFBoxCell": lambda n: norse.LIFBoxCell(),
    "LIFBoxCell-custom": lambda n: norse.LIFBoxCell(
        norse.LIFBoxParameters(tau_mem_inv=_per_neuron(80, 160, n), v_leak=torch.tensor(0.1),
                               v_th=_per_neuron(0.4, 0.8, n), v_reset=torch.tensor(-0.2), method="circ",
                               alpha=torch.tensor(1.0)), dt=2e-3),
    "LIFBoxCell-subtract": lambda n: norse.LIFBoxCell(
        norse.LIFBoxParameters(v_th=torch.tensor(0.6), reset_method=reset_subtract), dt=1.5e-3),
    "LICell": lambda n: norse.LICell(),
    "LICell-custom": lambda n: norse.LICell(
        norse.LIParameters(tau_syn_inv=_per_neuron(100, 300, n), tau_mem_inv=_per_neuron(50, 150, n),
                           v_leak=torch.tensor(0.3)), dt=5e-4),
    "LIBoxCell": lambda n: norse.LIBoxCell(),
    "LIBoxCell-custom": lambda n: norse.LIBoxCell(
        norse.LIBoxParameters(tau_mem_inv=_per_neuron(50, 150, n), v_leak=torch.tensor(-0.2)), dt=2e-3),
    "IAFCell": lambda n: norse.IAFCell(),
    "IAFCell-custom": lambda n: norse.IAFCell(
        norse.IAFParameters(v_th=_per_neuron(1.0, 2.0, n), v_reset=torch.tensor(-0.3), method="triangle",
                            alpha=torch.tensor(0.5)), dt=5e-4),
    "LIFAdExCell": lambda n: norse.LIFAdExCell(),
    "LIFAdExCell-custom": lambda n: norse.LIFAdExCell(
        norse.LIFAdExParameters(adaptation_current=torch.tensor(2.0), adaptation_spike=torch.tensor(0.1),
                                delta_T=_per_neuron(0.3, 0.6, n), tau_ada_inv=torch.tensor(5.0),
                                tau_syn_inv=torch.tensor(250.0), tau_mem_inv=_per_neuron(80, 120, n),
                                v_leak=torch.tensor(0.1), v_th=torch.tensor(0.8), v_reset=torch.tensor(-0.1),
                                method="heavi_erfc", alpha=2.0), dt=5e-4),
}  # fmt: skip


SCALES = {"IAFCell": 0.5, "LIFBoxCell": 3.0, "LICell": 0.2, "LIBoxCell": 0.5}


def _excitatory(model, scale=1.0):
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d)):
                layer.weight.abs_().mul_(scale)


@pytest.mark.parametrize("name", list(CELLS))
def test_imported_cell_chain_matches_norse(name, thresholds):
    torch.manual_seed(0)
    model = norse.SequentialState(torch.nn.Linear(F_IN, H), CELLS[name](H), torch.nn.Linear(H, OUT), CELLS[name](OUT))
    _excitatory(model, SCALES.get(name.split("-")[0], 1.0))
    x = torch.rand(T, B, F_IN) * 2.0
    net = interop.from_norse(model)
    assert type(net[1]).__name__ == name.split("-")[0]
    assert float(net[1].dt) == pytest.approx(model[1].dt)
    _compare(net, model, x, thresholds, public=name in ("LIFCell", "LICell", "LIFAdExCell"))  # net(x) once per core


@pytest.mark.parametrize("autapses", [False, True])
def test_recurrent_cell_matches_norse(autapses, thresholds):
    torch.manual_seed(1)
    p = norse.LIFParameters(tau_mem_inv=_per_neuron(70, 130, H), v_th=torch.tensor(0.7), v_leak=torch.tensor(0.05))
    model = norse.SequentialState(
        norse.LIFRecurrentCell(F_IN, H, p, autapses=autapses, dt=8e-4), torch.nn.Linear(H, OUT), norse.LIFCell()
    )
    with torch.no_grad():
        model[0].input_weights.abs_()
        model[1].weight.abs_()
    x = torch.rand(T, B, F_IN) * 2.0
    net = interop.from_norse(model)
    assert isinstance(net[0], nn.LIFRecurrentCell) and net[0].autapses == autapses
    np.testing.assert_array_equal(net[0].recurrent_weights.numpy(), model[0].recurrent_weights.detach().numpy())
    _compare(net, model, x, thresholds)


def test_convolutional_chain_matches_norse(thresholds):
    torch.manual_seed(2)
    model = norse.SequentialState(
        torch.nn.Conv2d(1, 3, 3, padding=1), norse.LIFCell(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(3, 4, 3), torch.nn.AvgPool2d(2), norse.LIFBoxCell(norse.LIFBoxParameters(v_th=torch.tensor(0.3))),
        torch.nn.Flatten(), torch.nn.Dropout(0.3), torch.nn.Linear(4 * 2 * 2, OUT), norse.LICell(),
    )  # fmt: skip
    model.eval()
    _excitatory(model, 2.0)
    x = (torch.rand(T, 2, 1, 12, 12) < 0.5).float()
    net = interop.from_norse(model)
    assert not net.training
    assert [type(layer).__name__ for layer in net] == ["Conv2d", "LIFCell", "MaxPool2d", "Conv2d", "AvgPool2d",
                                                       "LIFBoxCell", "Flatten", "Dropout", "Linear", "LICell"]  # fmt: skip
    _compare(net, model, x, thresholds, public=False)


def test_time_looped_modules_and_lift_match_norse(thresholds):
    torch.manual_seed(3)
    model = norse.SequentialState(
        norse.Lift(torch.nn.Linear(F_IN, H)), norse.LIF(norse.LIFParameters(v_th=torch.tensor(0.6))),
        torch.nn.Linear(H, H), norse.LIFRecurrent(H, H, dt=2e-3),
        norse.Lift(torch.nn.Linear(H, OUT)), norse.LIFAdEx(norse.LIFAdExParameters(v_th=torch.tensor(0.5))),
        torch.nn.Linear(OUT, OUT), norse.IAF(), torch.nn.Linear(OUT, 2), norse.LI(),
    )  # fmt: skip
    _excitatory([model[0].lifted_module, model[2], model[4].lifted_module, model[6], model[8]], 1.5)
    with torch.no_grad():
        model[3].input_weights.abs_()
    x = torch.rand(T, B, F_IN) * 2.0
    with torch.no_grad():
        ref, _ = model(x)
    net = interop.from_norse(model)
    assert [type(layer).__name__ for layer in net] == ["Linear", "LIFCell", "Linear", "LIFRecurrentCell", "Linear",
                                                       "LIFAdExCell", "Linear", "IAFCell", "Linear", "LICell"]  # fmt: skip
    assert len(thresholds) == 4 * T  # each time-looped neuron runs all its steps before the next layer
    outs, _ = _layer_traces(net, x, [1, 3, 5, 7])
    pre = {k: np.stack(thresholds[j * T : (j + 1) * T]) for j, k in enumerate((1, 3, 5, 7))}
    first_flip, _ = _spikes_agree(outs, pre, [1, 3, 5, 7], T)
    np.testing.assert_allclose(np.asarray(net(x.numpy()))[:first_flip], ref.numpy()[:first_flip], atol=1e-4, rtol=0)


class TrainableLIF(torch.nn.Module):
    """Norse's documented pattern for trainable neuron parameters (``docs/pages/parameters.ipynb``)."""

    def __init__(self, n):
        super().__init__()
        self.tau_mem_inv = torch.nn.Parameter(torch.full((n,), 100.0))
        self.v_th = torch.nn.Parameter(torch.full((n,), 0.8))
        self.cell = norse.LIFCell(norse.LIFParameters(tau_mem_inv=self.tau_mem_inv, v_th=self.v_th))

    def forward(self, x, state=None):
        return self.cell(x, state)


def _gradients_match(model, net, x, names):
    target = torch.linspace(-0.5, 1.0, OUT)
    state, loss = None, 0.0
    for t in range(x.shape[0]):
        out, state = model(x[t], state)
        loss = loss + ((out - target) ** 2).sum()
    loss.backward()
    params = dict(model.named_parameters())

    def ours(arrays):
        with net.bind(arrays):
            out = net(x.numpy())
        return jnp.sum((out - jnp.asarray(target.numpy())) ** 2)

    arrays = dict(net.named_arrays(buffers=False))
    value, grads = jax.value_and_grad(ours)(arrays)
    assert float(value) == pytest.approx(loss.item(), rel=1e-4)
    assert set(names) <= set(grads)
    worst = 0.0
    for name in names:
        expected, got = params[name].grad.numpy(), np.asarray(grads[name])
        scale = float(np.abs(expected).max())
        assert scale > 0, name
        np.testing.assert_allclose(got, expected, atol=2e-4 * scale + 1e-6, rtol=1e-3, err_msg=name)
        worst = max(worst, float(np.abs(got - expected).max()) / scale)
    print(f"max relative gradient difference {worst:.2e}")
    return grads


def test_gradients_match_torch_autograd_with_trainable_parameters():
    torch.manual_seed(4)
    model = norse.SequentialState(torch.nn.Linear(F_IN, H), TrainableLIF(H), torch.nn.Linear(H, OUT), norse.LICell())
    _excitatory(model)
    net = interop.from_norse(model)
    assert set(dict(net.named_parameters())) == {"0.weight", "0.bias", "1.tau_mem_inv", "1.v_th", "2.weight", "2.bias"}
    assert set(dict(model.named_parameters())) == set(dict(net.named_parameters()))
    x = torch.rand(60, B, F_IN) * 2.0
    _gradients_match(model, net, x, ["0.weight", "0.bias", "1.tau_mem_inv", "1.v_th", "2.weight", "2.bias"])


def test_recurrent_gradients_match_and_spare_autapses():
    torch.manual_seed(5)
    model = norse.SequentialState(norse.LIFRecurrentCell(F_IN, H, norse.LIFParameters(v_th=torch.tensor(0.5))),
                                  torch.nn.Linear(H, OUT), norse.LICell())  # fmt: skip
    with torch.no_grad():
        model[0].input_weights.abs_()
    net = interop.from_norse(model)
    x = torch.rand(60, B, F_IN) * 2.0
    grads = _gradients_match(model, net, x, ["0.input_weights", "0.recurrent_weights", "1.weight", "1.bias"])
    assert float(jnp.abs(jnp.diag(grads["0.recurrent_weights"])).max()) == 0.0


@pytest.mark.parametrize("method", NORSE_METHODS)
@pytest.mark.parametrize("alpha", [0.5, 100.0])
def test_surrogates_match_norse_threshold_gradients(method, alpha):
    x = torch.cat([torch.linspace(-2.0, 2.0, 81), torch.tensor([0.0, 1e-3, -1e-3])]).requires_grad_(True)
    out = norse_threshold(x, method, torch.as_tensor(alpha))
    if out.requires_grad:
        out.sum().backward()
    expected = np.zeros(x.shape, np.float32) if x.grad is None else x.grad.numpy()  # "heaviside": no gradient
    spike = norse_surrogate(method, alpha)  # the installed Norse (1.1.0): "super" ignores alpha
    got = np.asarray(jax.grad(lambda v: spike(v).sum())(jnp.asarray(x.detach().numpy())))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(spike(jnp.asarray(x.detach().numpy()))), (x > 0).float().numpy())


def test_super_surrogate_follows_the_norse_version():
    assert not super_uses_alpha("1.1.0") and not super_uses_alpha("1.0.0")
    assert super_uses_alpha("1.1.1.dev31+g065a3b45") and super_uses_alpha("1.2.0")
    assert not super_uses_alpha()  # the installed Norse is 1.1.0
    with pytest.raises(ValueError, match="expected a version"):
        super_uses_alpha("latest")
    x = jnp.linspace(-1.0, 1.0, 11)
    head = norse_surrogate("super", 100.0, norse_version="1.1.1.dev31+g065a3b45")
    np.testing.assert_allclose(jax.grad(lambda v: head(v).sum())(x), 1 / (100 * jnp.abs(x) + 1) ** 2, rtol=1e-6)
    model = norse.SequentialState(torch.nn.Linear(2, 3), norse.LIFCell())
    assert interop.from_norse(model)[1].spike_grad.beta == 1.0
    assert interop.from_norse(model, norse_version="1.2.0")[1].spike_grad.beta == 100.0
    assert nn.LIFCell(norse_version="1.2.0", alpha=10.0).spike_grad.beta == 10.0


def test_facade_surrogate_does_not_depend_on_the_installed_norse(monkeypatch):
    # The cells reproduce Norse 1.1.0 by default, whatever the package metadata says is installed.
    def another_version(name):
        return "1.2.0" if name == "norse" else metadata_version(name)

    metadata_version = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", another_version)
    assert importlib.metadata.version("norse") == "1.2.0"
    assert not super_uses_alpha()
    assert norse_surrogate("super", 100.0).beta == 1.0
    for cell in (nn.LIFCell(), nn.LIFBoxCell(), nn.IAFCell(), nn.LIFRecurrentCell(2, 3), nn.LIFAdExCell()):
        assert cell.spike_grad.beta == 1.0, type(cell).__name__
    assert nn.LIFCell(norse_version="1.2.0").spike_grad.beta == 100.0  # a later Norse only when asked for


def test_facade_cells_step_like_norse():
    # One step at a time, as Norse users write it (every ODENeuron cell shares this forward; the chains
    # above test each cell's numerics).
    torch.manual_seed(6)
    x = torch.rand(8, B, H) * 3.0
    pairs = [
        (nn.LIFCell(tau_mem_inv=np.linspace(60, 140, H), v_leak=0.1, v_reset=-0.2, dt=5e-4),
         norse.LIFCell(norse.LIFParameters(tau_mem_inv=_per_neuron(60, 140, H), v_leak=torch.tensor(0.1),
                                           v_reset=torch.tensor(-0.2)), dt=5e-4)),
        (nn.LICell(tau_syn_inv=100.0), norse.LICell(norse.LIParameters(tau_syn_inv=torch.tensor(100.0)))),
        (nn.LIFAdExCell(v_th=0.7), norse.LIFAdExCell(norse.LIFAdExParameters(v_th=torch.tensor(0.7)))),
    ]  # fmt: skip
    for ours, theirs in pairs:
        s_ours = s_theirs = None
        with torch.no_grad():
            for t in range(x.shape[0]):
                out, s_ours = ours(x[t].numpy(), s_ours)
                ref, s_theirs = theirs(x[t], s_theirs)
                np.testing.assert_allclose(np.asarray(out), ref.numpy(), atol=1e-5, err_msg=repr(ours))
                np.testing.assert_allclose(np.asarray(s_ours.v), s_theirs.v.numpy(), atol=1e-5, err_msg=repr(ours))
    # The recurrent cell, with Norse's weights loaded under Norse's state_dict names.
    theirs = norse.LIFRecurrentCell(H, 6, norse.LIFParameters(v_th=torch.tensor(0.4)))
    ours = nn.LIFRecurrentCell(H, 6, v_th=0.4)
    assert list(ours.state_dict())[:2] == ["input_weights", "recurrent_weights"]
    ours.load_state_dict(theirs.state_dict(), strict=False)
    s_ours = s_theirs = None
    with torch.no_grad():
        for t in range(x.shape[0]):
            out, s_ours = ours(x[t].numpy(), s_ours)
            ref, s_theirs = theirs(x[t], s_theirs)
            np.testing.assert_array_equal(np.asarray(out), ref.numpy())
            np.testing.assert_allclose(np.asarray(s_ours.v), s_theirs.v.numpy(), atol=1e-5)
    assert float(jnp.abs(jnp.diag(nn.LIFRecurrentCell(3, 4).recurrent_weights.data)).max()) == 0.0


def test_facade_cells_parameters_and_nir():
    cell = nn.LIFCell(norse.LIFParameters(tau_mem_inv=torch.full((4,), 50.0), v_th=torch.tensor(0.5)), learn=["v_th"])
    assert list(cell.state_dict()) == ["v_th", "tau_syn_inv", "tau_mem_inv", "v_leak", "v_reset"]
    assert [name for name, _ in cell.named_parameters()] == ["v_th"] and isinstance(cell, nn.ODENeuron)
    kind, params = cell.nir_parameters()
    assert kind == "CubaLIF" and float(params["r"]) == float(params["w_in"]) == 1.0
    np.testing.assert_allclose(params["tau_mem"], np.full(4, 0.02))
    np.testing.assert_allclose(params["tau_syn"], 0.005)
    assert (cell.convention, cell.dt) == ("norse", 1e-3)
    assert nn.LIFBoxCell().nir_parameters()[0] == "LIF" and nn.LICell().nir_parameters()[0] == "CubaLI"
    assert nn.LIBoxCell().nir_parameters()[0] == "LI" and nn.IAFCell().nir_parameters()[0] == "IF"
    nir = pytest.importorskip("nir")
    for layer in (cell, nn.LIFBoxCell(), nn.LICell(), nn.LIBoxCell(tau_mem_inv=np.full(4, 50.0)), nn.IAFCell()):
        kind, params = layer.nir_parameters()
        shaped = {k: np.broadcast_to(v, (4,)) for k, v in params.items()}
        getattr(nir, kind)(**shaped)  # NIR's own names (the exporter broadcasts them to the layer's shape)
    assert not nn.LICell.is_neuron and nn.LIFAdExCell.is_neuron and not isinstance(nn.LIFAdExCell(), nn.ODENeuron)
    with pytest.raises(ValueError, match="LIFRecurrentCell: a recurrent cell is a NIR subgraph"):
        nn.LIFRecurrentCell(2, 3).nir_parameters()
    with pytest.raises(TypeError, match="LIFCell: v_th is given both in p and as a keyword"):
        nn.LIFCell(norse.LIFParameters(v_th=torch.tensor(0.5)), v_th=0.3)
    with pytest.raises(TypeError, match=r"LIFCell: the parameters p have fields \['adaptation_current'"):
        nn.LIFCell(norse.LIFAdExParameters())
    with pytest.raises(ValueError, match="LIFCell: norse_surrogate: method must be one of.*adjoint"):
        nn.LIFCell(method="adjoint")
    with pytest.raises(ValueError, match="LIFBoxCell: reset_method must be 'value' or 'subtract'"):
        nn.LIFBoxCell(reset_method="zero")
    with pytest.raises(ValueError, match=r"LIFRecurrentCell: expected an input \[B, 3\]"):
        nn.LIFRecurrentCell(3, 4)(np.zeros((2, 5), np.float32))


def test_bare_modules_and_plain_sequential_import():
    net = interop.from_norse(norse.LIFCell(norse.LIFParameters(v_th=torch.tensor(0.2))))
    assert len(net) == 1 and float(net[0].v_th) == pytest.approx(0.2)
    torch.manual_seed(7)
    plain = torch.nn.Sequential(torch.nn.Linear(3, 2), norse.LIBoxCell())
    net = interop.from_norse(plain)
    np.testing.assert_array_equal(net.state_dict()["0.weight"], plain.state_dict()["0.weight"].numpy())


def test_unsupported_modules_raise_clear_errors():
    with pytest.raises(
        interop.UnsupportedModuleError,
        match=r"from_norse: 1 \(torch.nn.modules.activation.ReLU\) is not supported\. Supported: torch.nn.Linear",
    ):
        interop.from_norse(norse.SequentialState(torch.nn.Linear(2, 2), torch.nn.ReLU()))
    with pytest.raises(interop.UnsupportedModuleError, match=r"from_norse: 0 \(norse.*LSNNCell\) is not supported"):
        interop.from_norse(norse.SequentialState(norse.LSNNCell()))
    with pytest.raises(interop.UnsupportedModuleError, match="method='adjoint'"):
        interop.from_norse(norse.SequentialState(norse.LIFCell(norse.LIFParameters(method="adjoint"))))
    with pytest.raises(interop.UnsupportedModuleError, match=r"mixes per-step cells \(layers \['0'\]\)"):
        interop.from_norse(norse.SequentialState(norse.LIFCell(), norse.LIF()))
    with pytest.raises(interop.UnsupportedModuleError, match="return_hidden=True"):
        interop.from_norse(norse.SequentialState(torch.nn.Linear(2, 2), norse.LIFCell(), return_hidden=True))
    with pytest.raises(interop.UnsupportedModuleError, match="wrap it in norse.torch.Lift"):
        interop.from_norse(norse.SequentialState(torch.nn.Conv2d(1, 2, 3), norse.LIF()))
    with pytest.raises(interop.UnsupportedModuleError, match="is a nested container"):
        interop.from_norse(norse.SequentialState(norse.SequentialState(torch.nn.Linear(2, 2)), norse.LIFCell()))
    with pytest.raises(interop.UnsupportedModuleError, match="only reset_value and reset_subtract"):
        interop.from_norse(norse.LIFBoxCell(norse.LIFBoxParameters(reset_method=lambda z, v, r, th: v)))
    with pytest.raises(TypeError, match="from_norse: expected a torch.nn.Module"):
        interop.from_norse([torch.nn.Linear(2, 2)])

    class Scaled(TrainableLIF):
        def __init__(self, n):
            super().__init__(n)
            self.scale = torch.nn.Parameter(torch.ones(n))

    with pytest.raises(interop.UnsupportedModuleError, match=r"wraps LIFCell but also holds \['scale'\]"):
        interop.from_norse(norse.SequentialState(torch.nn.Linear(2, 3), Scaled(3)))
