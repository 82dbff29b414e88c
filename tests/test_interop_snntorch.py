"""`interop.from_snntorch` / `to_snntorch` against the real snnTorch: identical spikes, membranes within 1e-4."""

import numpy as np
import pytest
import snntorch
import snntorch.surrogate
import snntorch.utils
import torch

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import interop, nn, optim

T, B, F_IN, H, OUT = 100, 4, 10, 12, 5


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
    with pytest.raises(interop.UnsupportedModuleError, match="sets inhibition"):
        interop.from_snntorch(torch.nn.Sequential(snntorch.Leaky(beta=0.9, inhibition=True)))
    with pytest.raises(interop.UnsupportedModuleError, match="surrogate 'triangular.<locals>.inner'"):
        interop.from_snntorch(torch.nn.Sequential(snntorch.Leaky(beta=0.9, spike_grad=snntorch.surrogate.triangular())))
    replaced = interop.from_snntorch(
        torch.nn.Sequential(snntorch.Leaky(beta=0.9, spike_grad=snntorch.surrogate.triangular())),
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
