"""snnTorch neuron options the drop-in namespace gives every neuron, against the real snnTorch.

``surrogate_disable``, ``fire()``, assigning ``reset_mechanism``, loading ``reset_mechanism_val``,
the ``instances`` registry with class-level ``reset_hidden()``/``detach_hidden()``, and buffers
that mix with torch tensors.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import snntorch
import torch

import snnax_torchlike.snntorch as snn
from snnax_torchlike import nn

T, B, F_IN, N = 12, 3, 5, 6
MODES = ["subtract", "zero", "none"]

# (snnTorch class, our class, constructor arguments, the index of the membrane in a call's outputs)
NEURONS = {
    "Leaky": (snntorch.Leaky, snn.Leaky, dict(beta=0.8)),
    "Synaptic": (snntorch.Synaptic, snn.Synaptic, dict(alpha=0.6, beta=0.8)),
    "Alpha": (snntorch.Alpha, snn.Alpha, dict(alpha=0.85, beta=0.6)),
    "Lapicque": (snntorch.Lapicque, snn.Lapicque, dict(beta=0.7, threshold=0.3)),
    "RLeaky": (snntorch.RLeaky, snn.RLeaky, dict(beta=0.8, linear_features=N)),
    "RSynaptic": (snntorch.RSynaptic, snn.RSynaptic, dict(alpha=0.6, beta=0.8, linear_features=N)),
}


def _inputs() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(T, B, N) * 1.2


def _numpy(value) -> np.ndarray:
    return value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def _run(neuron, x) -> tuple[np.ndarray, np.ndarray]:
    """Step ``neuron`` over ``x`` keeping the state in the neuron (snnTorch's ``init_hidden=False`` idiom)."""
    neuron.reset_mem()
    spikes, mems = [], []
    for t in range(x.shape[0]):
        out = neuron(x[t])
        spikes.append(_numpy(out[0]))
        mems.append(_numpy(out[-1]))
    return np.stack(spikes), np.stack(mems)


def _assert_same(ours, theirs):
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1], atol=1e-5, rtol=0)
    assert theirs[0].sum() > 0


@pytest.mark.parametrize("name", NEURONS)
def test_assigned_reset_mechanism_sets_code_state_dict_and_dynamics(name):
    make_theirs, make_ours, kwargs = NEURONS[name]
    x = _inputs()
    for mode in MODES:
        start = MODES[(MODES.index(mode) + 1) % 3]
        ours = make_ours(reset_mechanism=start, **kwargs)
        ours.reset_mechanism = mode
        assert ours.reset_mechanism == mode
        assert int(ours.reset_mechanism_val) == MODES.index(mode)
        assert int(ours.state_dict()["reset_mechanism_val"]) == MODES.index(mode)
        theirs = make_theirs(reset_mechanism=mode, **kwargs)
        if "linear_features" in kwargs:  # the same recurrent weights
            ours.load_state_dict(theirs.state_dict())
        with torch.no_grad():
            _assert_same(_run(ours, x.numpy()), _run(theirs, x))


def test_loaded_reset_mechanism_val_sets_the_dynamics_and_bad_codes_are_refused():
    x = _inputs()
    theirs = snntorch.Leaky(beta=0.8, reset_mechanism="zero")
    ours = snn.Leaky(beta=0.8)
    ours.load_state_dict(theirs.state_dict())
    assert ours.reset_mechanism == "zero"
    with torch.no_grad():
        _assert_same(_run(ours, x.numpy()), _run(theirs, x))
    bad = dict(theirs.state_dict(), reset_mechanism_val=torch.tensor(7), beta=torch.tensor(0.5))
    with pytest.raises(ValueError, match=r"Leaky: reset_mechanism_val must be one of \[0, 1, 2\].*got 7"):
        ours.load_state_dict(bad)
    assert ours.reset_mechanism == "zero" and float(ours.beta) == pytest.approx(0.8)  # nothing was written
    with pytest.raises(ValueError, match="Leaky: reset_mechanism must be one of"):
        ours.reset_mechanism = "reset"


@pytest.mark.parametrize("name", ["Leaky", "Synaptic", "RLeaky"])
def test_surrogate_disable_matches_snntorch_values_and_gradients(name):
    make_theirs, make_ours, kwargs = NEURONS[name]
    torch.manual_seed(1)
    fc_theirs = torch.nn.Linear(F_IN, N)
    theirs = make_theirs(surrogate_disable=True, **kwargs)
    fc_ours = nn.Linear(F_IN, N)
    fc_ours.load_state_dict(fc_theirs.state_dict())
    ours = make_ours(surrogate_disable=True, **kwargs)
    if "linear_features" in kwargs:
        ours.load_state_dict(theirs.state_dict())
    x = torch.rand(T, B, F_IN) * 1.5

    def loss_of(fc, neuron, data):
        neuron.reset_mem()
        total = 0.0
        for t in range(T):
            out = neuron(fc(data[t]))
            total = total + (out[0] * 2.0).sum() + (out[-1] ** 2).mean()
        return total

    loss_theirs = loss_of(fc_theirs, theirs, x)
    loss_theirs.backward()
    loss_ours = loss_of(fc_ours, ours, x.numpy())
    loss_ours.backward()
    np.testing.assert_allclose(float(loss_ours), float(loss_theirs), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(fc_ours.weight.grad), fc_theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="surrogate_disable=True spikes without a gradient"):
        make_ours(surrogate_disable=True, spike_grad=snn.surrogate.fast_sigmoid(), **kwargs)


def test_fire_matches_snntorch_values_and_gradients():
    theirs = snntorch.Leaky(beta=0.9, threshold=0.5, graded_spikes_factor=2.0, learn_threshold=True,
                            spike_grad=snntorch.surrogate.fast_sigmoid(slope=10))  # fmt: skip
    ours = snn.Leaky(beta=0.9, threshold=0.5, graded_spikes_factor=2.0, learn_threshold=True,
                     spike_grad=snn.surrogate.fast_sigmoid(slope=10))  # fmt: skip
    mem = torch.linspace(-0.5, 1.5, 9, requires_grad=True)
    theirs.fire(mem).pow(2).sum().backward()

    import jax

    def our_loss(m, threshold):
        with ours.bind({"threshold": threshold}):
            return (ours.fire(m).jax() ** 2).sum()

    our_mem_grad, our_threshold_grad = jax.grad(our_loss, argnums=(0, 1))(mem.detach().numpy(), np.float32(0.5))
    np.testing.assert_array_equal(np.asarray(ours.fire(mem.detach().numpy())), theirs.fire(mem).detach().numpy())
    np.testing.assert_allclose(np.asarray(our_mem_grad), mem.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(float(our_threshold_grad), float(theirs.threshold.grad), rtol=1e-6)


def test_instances_are_the_live_neurons_and_class_calls_act_on_each():
    default = snn.SpikingNeuron.instances
    leaky, synaptic = snn.Leaky(beta=0.5), snn.Synaptic(alpha=0.5, beta=0.5)
    dropped = weakref.ref(snn.Alpha(alpha=0.5, beta=0.4))
    gc.collect()
    assert dropped() is None, "the default registry must not keep neurons alive"
    assert list(default)[-2:] == [leaky, synaptic]
    try:
        snn.SpikingNeuron.instances = []  # snnTorch's idiom: a plain list, which gets every new neuron
        kept = snn.Synaptic(alpha=0.5, beta=0.5), snn.Alpha(alpha=0.5, beta=0.4)
        del kept
        gc.collect()
        assert len(snn.SpikingNeuron.instances) == 2 and len(snn.LIF.instances) == 2
        snn.SpikingNeuron.instances = [leaky, synaptic]
        x = np.ones((2, 3), np.float32)
        leaky(x), synaptic(x)
        snn.Leaky.detach_hidden()
        assert leaky.mem is not None
        snn.Leaky.reset_hidden()  # resets every registered Leaky, no Synaptic
        assert leaky.mem is None and synaptic.mem is not None
        leaky(x)
        snn.SpikingNeuron.reset_hidden()
        assert leaky.mem is None and synaptic.mem is None
    finally:
        snn.SpikingNeuron.instances = default


def test_buffers_mix_with_torch_tensors_as_snntorch_buffers_do():
    x = torch.tensor([0.25, 1.0])
    for theirs, ours in [(snntorch.Lapicque(beta=0.5), snn.Lapicque(beta=0.5)),
                         (snntorch.Leaky(beta=0.7), snn.Leaky(beta=0.7))]:  # fmt: skip
        for name in ("threshold", "graded_spikes_factor"):
            np.testing.assert_allclose(np.asarray(x * getattr(ours, name)), (x * getattr(theirs, name)).numpy())
            np.testing.assert_allclose(np.asarray(getattr(ours, name) * x), (getattr(theirs, name) * x).numpy())
    lapicque_ours, lapicque_theirs = snn.Lapicque(beta=0.5), snntorch.Lapicque(beta=0.5)
    ours_gain = x * lapicque_ours.R * (1 / lapicque_ours.R * lapicque_ours.C * lapicque_ours.time_step)
    theirs_gain = x * lapicque_theirs.R * (1 / lapicque_theirs.R * lapicque_theirs.C * lapicque_theirs.time_step)
    np.testing.assert_allclose(np.asarray(ours_gain), theirs_gain.numpy(), rtol=1e-6)
