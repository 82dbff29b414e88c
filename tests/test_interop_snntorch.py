"""`interop.from_snntorch` / `to_snntorch` against the real snnTorch: identical spikes, membranes within 1e-4."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import snntorch.functional.quant
import snntorch.surrogate
import snntorch.utils
import torch

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import interop, nn, optim

T, B, F_IN, H, OUT = 100, 4, 10, 12, 5
pytestmark = pytest.mark.filterwarnings("ignore:Inhibition is an unstable feature:UserWarning")  # snnTorch's own


def _run_snntorch(model, x):
    snntorch.utils.reset(model)
    spikes, mems = [], []
    with torch.no_grad():
        for t in range(x.shape[0]):
            out = model(x[t])
            spikes.append(out[0].numpy().copy())
            mems.append(out[-1].numpy().copy())
    return np.stack(spikes), np.stack(mems)


def _assert_same(net, model, x, threshold):
    ref_spikes, ref_mems = _run_snntorch(model, x)
    spikes, mems = (np.asarray(a) for a in net(x.numpy()))
    near = np.abs(ref_mems - threshold) < 1e-5
    flips = (spikes != ref_spikes) & ~near
    assert not flips.any(), (
        f"{int(flips.sum())} spike flips away from threshold (near-threshold steps: {int(near.sum())})"
    )
    if np.array_equal(spikes, ref_spikes):
        np.testing.assert_allclose(mems, ref_mems, atol=1e-4, rtol=0)
    assert ref_spikes.sum() > 10


def _hidden(neuron_kind, reset):
    per_neuron = torch.linspace(0.6, 0.95, H)
    kinds = {
        "leaky": lambda: snntorch.Leaky(beta=per_neuron, init_hidden=True, reset_mechanism=reset, learn_beta=True,
                                        spike_grad=snntorch.surrogate.fast_sigmoid(slope=25)),
        "synaptic": lambda: snntorch.Synaptic(alpha=0.7, beta=per_neuron, init_hidden=True, reset_mechanism=reset),
        "rleaky": lambda: snntorch.RLeaky(beta=0.9, linear_features=H, init_hidden=True, reset_mechanism=reset),
        "rleaky_v": lambda: snntorch.RLeaky(beta=0.9, V=torch.linspace(0.1, 0.5, H), all_to_all=False,
                                            init_hidden=True, reset_mechanism=reset),
        "rsynaptic": lambda: snntorch.RSynaptic(alpha=0.6, beta=0.9, linear_features=H, init_hidden=True,
                                                reset_mechanism=reset),
        "lapicque": lambda: snntorch.Lapicque(beta=0.5, threshold=0.3, init_hidden=True, reset_mechanism=reset),
        "alpha": lambda: snntorch.Alpha(alpha=0.9, beta=0.8, init_hidden=True, reset_mechanism=reset),
    }  # fmt: skip
    return kinds[neuron_kind]()


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("kind", ["leaky", "synaptic", "rleaky", "rleaky_v", "rsynaptic", "lapicque", "alpha"])
def test_imported_network_matches_snntorch(kind, reset):
    torch.manual_seed(0)
    hidden = _hidden(kind, reset)
    model = torch.nn.Sequential(
        torch.nn.Linear(F_IN, H), hidden,
        torch.nn.Linear(H, OUT), snntorch.Leaky(beta=0.8, threshold=0.5, init_hidden=True, output=True),
    )  # fmt: skip
    with torch.no_grad():  # excitatory weights, so spikes reach the readout
        model[0].weight.abs_()
        model[2].weight.abs_().mul_(2.0)
    x = torch.rand(T, B, F_IN) * 1.5
    net = interop.from_snntorch(model)
    assert list(net.state_dict()) == list(model.state_dict())
    _assert_same(net, model, x, threshold=0.5)
    # The hidden neuron really is what snnTorch computed (not only the readout).
    assert type(net[1]).__name__.lower().startswith(kind.split("_")[0][:4])


def test_convolutional_network_and_learned_parameters():
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.MaxPool2d(2), snntorch.Leaky(beta=0.7, init_hidden=True),
        torch.nn.Conv2d(4, 6, 3), torch.nn.AvgPool2d(2), snntorch.Leaky(beta=0.7, init_hidden=True, learn_threshold=True),
        torch.nn.Flatten(), torch.nn.Dropout(0.2), torch.nn.Linear(6 * 2 * 2, 3),
        snntorch.Leaky(beta=0.9, threshold=0.2, init_hidden=True, output=True, learn_beta=True),
    )  # fmt: skip
    model.eval()
    with torch.no_grad():  # excitatory weights, so spikes reach the readout
        for index in (0, 3, 8):
            model[index].weight.abs_()
    x = (torch.rand(30, 2, 1, 12, 12) < 0.4).float()
    net = interop.from_snntorch(model)
    net.eval()
    _assert_same(net, model, x, threshold=0.2)
    names = dict(net.named_parameters())
    assert "5.threshold" in names and "9.beta" in names and "2.beta" not in names


def test_round_trip_and_export():
    torch.manual_seed(2)
    model = torch.nn.Sequential(
        torch.nn.Linear(F_IN, H), snntorch.Synaptic(alpha=0.8, beta=0.9, init_hidden=True),
        torch.nn.Linear(H, OUT), snntorch.Leaky(beta=0.85, init_hidden=True, output=True),
    )  # fmt: skip
    net = interop.from_snntorch(model)
    exported = interop.to_snntorch(net)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(exported.state_dict()[name].numpy(), value.numpy())
    x = torch.rand(T, B, F_IN) * 1.5
    _assert_same(net, exported, x, threshold=1.0)
    again = interop.from_snntorch(exported)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[name], value)


def test_fine_tune_an_imported_network():
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(F_IN, H), snntorch.Leaky(beta=0.9, init_hidden=True),
                                torch.nn.Linear(H, 3), snntorch.Leaky(beta=0.9, init_hidden=True, output=True))  # fmt: skip
    net = interop.from_snntorch(model)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 64).astype(np.int32)
    rates = 0.1 + 0.6 * (np.arange(F_IN)[None] % 3 == labels[:, None])
    x = (rng.random((20, 64, F_IN)) < rates[None]).astype(np.float32)
    loader = [(x[:, i : i + 16], labels[i : i + 16]) for i in range(0, 64, 16)]
    history = net.fit(loader, epochs=8, optimizer=optim.Adam(net.parameters(), lr=1e-2), loss_fn=SF.ce_rate_loss(),
                      progress=False)  # fmt: skip
    assert history["loss"][-1] < history["loss"][0]


def test_unsupported_modules_raise_clear_errors():
    with pytest.raises(
        interop.UnsupportedModuleError,
        match=r"from_snntorch: 1 \(torch.nn.modules.activation.ReLU\) is not supported\. Supported: torch.nn.Linear",
    ):
        interop.from_snntorch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()))
    with pytest.raises(interop.UnsupportedModuleError, match="surrogate 'SSO.<locals>.inner'"):
        interop.from_snntorch(torch.nn.Sequential(snntorch.Leaky(beta=0.9, spike_grad=snntorch.surrogate.SSO())))
    replaced = interop.from_snntorch(
        torch.nn.Sequential(snntorch.Leaky(beta=0.9, spike_grad=snntorch.surrogate.SSO())),
        spike_grad=snx.surrogate.atan(),
    )
    assert isinstance(replaced[0], nn.Leaky)

    class Custom(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 2)
            self.lif = snntorch.Leaky(beta=0.9)

    with pytest.raises(interop.UnsupportedModuleError, match="not a torch.nn.Sequential.*assume_chain=True"):
        interop.from_snntorch(Custom())
    chained = interop.from_snntorch(Custom(), assume_chain=True)
    assert [type(layer).__name__ for layer in chained] == ["Linear", "Leaky"]


# -- options and neurons added to the bridge: inhibition, conv recurrence, reset_delay, surrogates, new classes --
S, N, C = 25, 3, 6  # steps, batch, features of the option tests


def _options_case(kind):
    """(snnTorch layers after the input, input shape per step, whole_sequence) for one option or neuron."""
    sur = snntorch.surrogate
    step = dict(init_hidden=True, output=True)
    cases = {
        "leaky_inhibition": lambda: [snntorch.Leaky(beta=0.8, inhibition=True, spike_grad=sur.triangular(0.5), **step)],
        "synaptic_inhibition": lambda: [snntorch.Synaptic(alpha=0.7, beta=0.8, inhibition=True, reset_mechanism="zero",
                                                          spike_grad=sur.SFS(slope=20, B=-0.2), **step)],
        "alpha_inhibition": lambda: [snntorch.Alpha(alpha=0.9, beta=0.8, inhibition=True, **step)],
        "rleaky_reset_delay": lambda: [snntorch.RLeaky(beta=0.85, linear_features=C, reset_delay=False,
                                                       reset_mechanism="zero",
                                                       spike_grad=sur.spike_rate_escape(beta=2, slope=10), **step)],
        "rsynaptic_inhibition": lambda: [snntorch.RSynaptic(alpha=0.6, beta=0.85, all_to_all=False,
                                                            V=torch.linspace(0.1, 0.4, C), inhibition=True,
                                                            spike_grad=sur.heaviside(), **step)],
        "rleaky_conv": lambda: [snntorch.RLeaky(beta=0.8, conv2d_channels=2, kernel_size=3, threshold=0.5,
                                                surrogate_disable=True, **step)],
        "slstm": lambda: [snntorch.SLSTM(C, C, threshold=0.1, reset_mechanism="subtract", **step)],
        "sconv2dlstm": lambda: [snntorch.SConv2dLSTM(2, 3, 3, max_pool=2, threshold=0.05, **step)],
        "deltaleaky": lambda: [snntorch.DeltaLeaky(delta_threshold=0.3, beta=0.8, **step)],
        "stateleaky": lambda: [snntorch.StateLeaky(beta=0.9, channels=C, kernel_truncation_steps=8, learn_beta=True)],
        "linearleaky": lambda: [snntorch.LinearLeaky(beta=torch.linspace(0.5, 0.9, 4), in_features=C, out_features=4,
                                                     graded_spikes_factor=1.5)],
        "leakyparallel": lambda: [snntorch.LeakyParallel(C, 5, beta=0.7, learn_beta=True, threshold=0.4)],
    }  # fmt: skip
    conv = kind in ("rleaky_conv", "sconv2dlstm")
    layers = ([] if conv or kind == "linearleaky" else [torch.nn.Linear(4, C)]) + cases[kind]()
    return layers, ((2, 5, 5) if conv else (4,) if kind != "linearleaky" else (C,)), kind in _WHOLE


_WHOLE = ("stateleaky", "linearleaky", "leakyparallel")


def _run_any(model, x, whole_sequence):
    """snnTorch's (spikes, membranes) of ``model`` on ``x`` [T, B, ...]: one call, or step by step."""
    if whole_sequence:
        with torch.no_grad():
            out = model(x)
        return (out[0].numpy(), out[1].numpy()) if isinstance(out, tuple) else (out.numpy(), None)
    if isinstance(model[-1], snntorch.DeltaLeaky):
        model[-1].reset_mem()  # snntorch.utils.reset fails on a DeltaLeaky that never ran
    else:
        snntorch.utils.reset(model)
    spikes, mems = [], []
    with torch.no_grad():
        for t in range(x.shape[0]):
            out = model(x[t])
            spikes.append(out[0].numpy().copy())
            mems.append((out[1][0] if isinstance(model[-1], snntorch.DeltaLeaky) else out[-1]).numpy().copy())
    return np.stack(spikes), np.stack(mems)


@pytest.mark.parametrize("kind", ["leaky_inhibition", "synaptic_inhibition", "alpha_inhibition", "rleaky_reset_delay",
                                  "rsynaptic_inhibition", "rleaky_conv", "slstm", "sconv2dlstm", "deltaleaky",
                                  *_WHOLE])  # fmt: skip
def test_new_options_and_neurons_match_snntorch_and_round_trip(kind):
    torch.manual_seed(5)
    layers, shape, whole = _options_case(kind)
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():  # excitatory input weights, so the neurons spike
        for layer in model:
            if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d)):
                layer.weight.abs_()
    x = torch.rand(S, N, *shape)
    net = interop.from_snntorch(model)
    assert type(net[-1]).__name__ == type(model[-1]).__name__
    assert list(net.state_dict()) == list(model.state_dict())
    ref_spikes, ref_mems = _run_any(model, x, whole)
    out = net(x.numpy())
    spikes, mems = (out if isinstance(out, tuple) else (out, None))
    np.testing.assert_array_equal(np.asarray(spikes), ref_spikes)
    assert 0 < np.count_nonzero(ref_spikes) < ref_spikes.size
    if ref_mems is not None:
        np.testing.assert_allclose(np.asarray(mems), ref_mems, atol=1e-4, rtol=0)
    exported = interop.to_snntorch(net)
    assert [type(m) for m in exported] == [type(m) for m in model]
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(exported.state_dict()[name].numpy(), value.numpy(), err_msg=name)
    again_spikes, again_mems = _run_any(exported, x, whole)
    np.testing.assert_array_equal(again_spikes, ref_spikes)
    if ref_mems is not None:
        np.testing.assert_array_equal(again_mems, ref_mems)
    neuron, back = model[-1], exported[-1]
    for option in ("inhibition", "reset_delay", "all_to_all", "conv2d_channels", "kernel_size", "surrogate_disable",
                   "kernel_truncation_steps", "delta_threshold", "max_pool"):  # fmt: skip
        got, expected = getattr(back, option, None), getattr(neuron, option, None)
        if option == "kernel_size" and expected is not None:  # 3 or (3, 3): snnTorch takes both forms
            got, expected = np.broadcast_to(got, 2).tolist(), np.broadcast_to(expected, 2).tolist()
        assert got == expected, option
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in neuron.named_parameters()]


def _exp_surrogate(x, grad, out):  # snnTorch's custom_surrogate contract, in torch functions
    return grad * (torch.exp(-x.abs()) + out)


SURROGATES = {
    "atan": lambda s: s.atan(alpha=3.0),
    "fast_sigmoid": lambda s: s.fast_sigmoid(slope=10),
    "sigmoid": lambda s: s.sigmoid(slope=5),
    "straight_through_estimator": lambda s: s.straight_through_estimator(),
    "heaviside": lambda s: s.heaviside(),
    "triangular": lambda s: s.triangular(threshold=0.7),
    "spike_rate_escape": lambda s: s.spike_rate_escape(beta=2, slope=7),
    "SFS": lambda s: s.SFS(slope=12, B=-0.3),
    "custom_surrogate": lambda s: s.custom_surrogate(_exp_surrogate),
}


def _torch_derivative(spike_fn, x):
    x = torch.tensor(x, requires_grad=True)
    spike_fn(x).sum().backward()
    return x.grad.numpy()


@pytest.mark.parametrize("name", sorted(SURROGATES))
def test_surrogates_map_exactly_both_ways(name):
    """The imported neuron's surrogate has snnTorch's pseudo-derivative, and exports back to the same factory."""
    source = snntorch.Leaky(beta=0.9, spike_grad=SURROGATES[name](snntorch.surrogate))
    net = interop.from_snntorch(torch.nn.Sequential(source))
    assert net[0].spike_grad == SURROGATES[name](snx.surrogate)
    x = np.linspace(-1.5, 1.5, 31, dtype=np.float32)
    expected = _torch_derivative(source.spike_grad, x)
    ours = jax.grad(lambda v: net[0].spike_grad(v).sum())(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(ours), expected, rtol=1e-5, atol=1e-6)
    exported = interop.to_snntorch(net)[0].spike_grad
    assert exported.__qualname__.split(".")[0] == name
    np.testing.assert_array_equal(_torch_derivative(exported, x), expected)


def test_imported_options_give_snntorchs_gradients():
    """Inhibition with snnTorch's SFS surrogate: the loss gradients of every parameter as torch autograd's."""
    torch.manual_seed(6)
    lif = snntorch.Leaky(beta=0.8, inhibition=True, spike_grad=snntorch.surrogate.SFS(slope=5, B=-0.5),
                         learn_beta=True, init_hidden=True, output=True)  # fmt: skip
    model = torch.nn.Sequential(torch.nn.Linear(4, C), lif)
    with torch.no_grad():
        model[0].weight.abs_()
    x = torch.rand(S, N, 4)
    snntorch.utils.reset(model)
    total = 0
    for t in range(S):
        spk, mem = model(x[t])
        total = total + spk.sum() + (mem**2).sum()
    total.backward()
    net = interop.from_snntorch(model)

    def loss(params):
        with net.bind(params):
            spk, mem = net(jnp.asarray(x.numpy()))
        return jnp.sum(spk) + jnp.sum(mem**2)

    params = {name: p.data for name, p in net.named_parameters()}
    value, grads = jax.value_and_grad(loss)(params)
    np.testing.assert_allclose(float(value), total.item(), rtol=1e-5)
    assert set(grads) == {name for name, _ in model.named_parameters()}
    for name, p in model.named_parameters():
        np.testing.assert_allclose(np.asarray(grads[name]), p.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)


def test_what_cannot_be_converted_is_refused_naming_the_layer():
    err = interop.UnsupportedModuleError
    quant = snntorch.functional.quant.state_quant(num_bits=4)
    with pytest.raises(err, match=r"from_snntorch: 0 \(snntorch.*Leaky\) sets state_quant=.*torch function.*"
                                  r"snnax_torchlike.functional.quant.state_quant"):  # fmt: skip
        interop.from_snntorch(torch.nn.Sequential(snntorch.Leaky(beta=0.9, state_quant=quant)))
    same_step = snntorch.RSynaptic(0.5, 0.9, linear_features=3, reset_delay=False)
    with pytest.raises(err, match=r"from_snntorch: 1 .*RSynaptic.* cannot be converted: RSynaptic: reset_delay=False"):
        interop.from_snntorch(torch.nn.Sequential(torch.nn.Linear(2, 3), same_step))
    inhibited = snntorch.SLSTM(3, 3, inhibition=True)
    with pytest.raises(err, match=r"from_snntorch: 0 .*SLSTM.* cannot be converted: SLSTM: inhibition is not"):
        interop.from_snntorch(torch.nn.Sequential(inhibited))
    switched = snntorch.Leaky(beta=0.9)
    switched.reset_mechanism = "zero"  # snnTorch keeps running the subtract update chosen at construction
    with pytest.raises(err, match=r"runs the reset 'subtract' .* reset_mechanism_val says 'zero'"):
        interop.from_snntorch(torch.nn.Sequential(switched))
    with pytest.raises(err, match=r"layers \['1'\] run one time step .* layers \['2'\] the whole"):
        interop.from_snntorch(torch.nn.Sequential(torch.nn.Linear(2, 3), snntorch.Leaky(beta=0.9, init_hidden=True),
                                                  snntorch.LeakyParallel(3, 2)))  # fmt: skip
    with pytest.raises(err, match=r"0 .*StateLeaky.* beta of shape \(\), so its number of channels is not stored"):
        interop.from_snntorch(torch.nn.Sequential(snntorch.StateLeaky(beta=0.9, channels=3)))

    quantised = nn.Sequential(nn.Linear(2, 3), nn.Leaky(0.9, state_quant=SF.quant.state_quant(num_bits=4)))
    with pytest.raises(err, match=r"to_snntorch: layer 1 \(Leaky\) sets state_quant=.* a JAX function"):
        interop.to_snntorch(quantised)
    with pytest.raises(err, match=r"layer 0 \(DeltaLeaky\) returns a tuple .* only be the last layer"):
        interop.to_snntorch(nn.Sequential(nn.DeltaLeaky(beta=0.9), nn.Linear(3, 2)))
    with pytest.raises(err, match=r"to_snntorch: layers \['1'\] run one time step"):
        interop.to_snntorch(nn.Sequential(nn.Linear(2, 3), nn.Leaky(0.9), nn.LeakyParallel(3, 2)))
    core_triangle = nn.Sequential(nn.Leaky(0.9, spike_grad=snx.snn.surrogate.triangular()))
    with pytest.raises(err, match=r"layer 0 uses the surrogate .*the core's triangular is not snnTorch's curve"):
        interop.to_snntorch(core_triangle)
    with pytest.raises(err, match=r"layer 0 \(LIF\) has no snnTorch counterpart"):
        interop.to_snntorch(nn.Sequential(nn.LIF(tau=0.01, r=1.0, v_leak=0.0, v_threshold=1.0, v_reset=0.0, dt=1e-3)))
