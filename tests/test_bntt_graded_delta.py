"""`BatchNorm1d/2d`, `BatchNormTT1d/2d`, `ModuleList`, `GradedSpikes` and `DeltaLeaky` against torch and snnTorch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import torch
from snntorch._neurons.deltaleaky import DeltaLeaky as TorchDeltaLeaky

import snnax_torchlike as snx
import snnax_torchlike.snntorch as snn
from snnax_torchlike import nn

RNG = np.random.default_rng(0)


def _randomise(torch_module):
    """Non-trivial affine parameters and running statistics, so loading and using them is tested."""
    with torch.no_grad():
        for name, value in torch_module.state_dict().items():
            if value.is_floating_point():
                value.copy_(torch.tensor(RNG.uniform(0.5, 1.5, tuple(value.shape)).astype(np.float32)))
    return torch_module


# -- batch norm ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind, shape, momentum",
    [("BatchNorm1d", (6, 4), 0.1), ("BatchNorm1d", (5, 4, 3), None), ("BatchNorm2d", (3, 4, 2, 2), 0.3)],
)
def test_batch_norm_matches_torch_in_training_and_eval(kind, shape, momentum):
    reference = _randomise(getattr(torch.nn, kind)(4, momentum=momentum))
    facade = getattr(nn, kind)(4, momentum=momentum)
    facade.load_state_dict(reference.state_dict())
    assert list(facade.state_dict()) == list(reference.state_dict())
    for step in range(3):
        x = RNG.normal(size=shape).astype(np.float32) * (step + 1)
        np.testing.assert_allclose(np.asarray(facade(x)), reference(torch.tensor(x)).detach().numpy(), atol=2e-5)
    for name, value in reference.state_dict().items():
        np.testing.assert_allclose(facade.state_dict()[name], value.numpy(), atol=1e-5, err_msg=name)
    assert int(facade.num_batches_tracked) == 3

    facade.eval(), reference.eval()
    x = RNG.normal(size=shape).astype(np.float32)
    np.testing.assert_allclose(np.asarray(facade(x)), reference(torch.tensor(x)).detach().numpy(), atol=2e-5)
    assert int(facade.num_batches_tracked) == 3  # eval mode updates nothing
    facade.load_state_dict(reference.state_dict())  # over running statistics a call computed


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients_match_torch(training):
    shape = (5, 3, 4)
    x = RNG.normal(size=shape).astype(np.float32)
    cotangent = RNG.normal(size=shape).astype(np.float32)
    reference = _randomise(torch.nn.BatchNorm1d(3)).train(training)
    xt = torch.tensor(x, requires_grad=True)
    (reference(xt) * torch.tensor(cotangent)).sum().backward()

    facade = nn.BatchNorm1d(3).train(training)
    facade.load_state_dict(reference.state_dict())
    (facade(x) * cotangent).sum().backward()
    np.testing.assert_allclose(np.asarray(facade.weight.grad), reference.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(facade.bias.grad), reference.bias.grad.numpy(), rtol=1e-4, atol=1e-5)
    grad_x = jax.jit(jax.grad(lambda v: jnp.sum(facade.forward(v) * cotangent)))(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(grad_x), xt.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_batch_norm_refuses_bad_inputs_and_keeps_statistics_in_compiled_functions():
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input .* shape \(2, 4, 2, 2\)"):
        bn(np.zeros((2, 4, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 4 channels on axis 1, got shape \(2, 3\)"):
        bn(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        bn(np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="BatchNorm2d: expected 4D input"):
        nn.BatchNorm2d(4)(np.zeros((2, 4, 3), np.float32))
    assert int(bn.num_batches_tracked) == 0
    assert bn.eval()(np.ones((1, 4), np.float32)).shape == (1, 4)  # eval mode takes single samples

    bn.train()
    step = snx.compile(lambda x: bn(x))
    with pytest.warns(UserWarning, match="running statistics are not updated inside a compiled function"):
        step(RNG.normal(size=(3, 4)).astype(np.float32))
    np.testing.assert_array_equal(np.asarray(bn.running_mean), np.zeros(4, np.float32))
    assert int(bn.num_batches_tracked) == 0


def test_batch_norm_without_affine_or_running_statistics():
    x = RNG.normal(size=(4, 3, 2, 2)).astype(np.float32)
    reference = torch.nn.BatchNorm2d(3, affine=False, track_running_stats=False).eval()
    facade = nn.BatchNorm2d(3, affine=False, track_running_stats=False).eval()
    assert list(facade.state_dict()) == list(reference.state_dict()) == []
    assert facade.weight is None and facade.running_mean is None
    np.testing.assert_allclose(np.asarray(facade(x)), reference(torch.tensor(x)).numpy(), atol=2e-5)


# -- BNTT and ModuleList ------------------------------------------------------------------------------------------
def test_bntt_matches_snntorch_over_time_steps():
    steps, batch, features = 3, 4, 5
    reference = _randomise(snntorch.BatchNormTT1d(features, steps))
    bntt = snn.BatchNormTT1d(features, steps)
    assert isinstance(bntt, nn.ModuleList) and len(bntt) == steps
    assert all(layer.bias is None and layer.affine for layer in bntt)
    assert list(bntt.state_dict()) == list(reference.state_dict())
    bntt.load_state_dict(reference.state_dict())
    x = RNG.normal(size=(steps, batch, features)).astype(np.float32)
    for t in range(steps):
        np.testing.assert_allclose(
            np.asarray(bntt[t](x[t])), reference[t](torch.tensor(x[t])).detach().numpy(), atol=2e-5
        )
    for name, value in reference.state_dict().items():
        np.testing.assert_allclose(bntt.state_dict()[name], value.numpy(), atol=1e-5, err_msg=name)
    bntt.eval(), reference.eval()
    out = bntt[-1](x[0])
    np.testing.assert_allclose(np.asarray(out), reference[-1](torch.tensor(x[0])).detach().numpy(), atol=2e-5)

    conv = snn.BatchNormTT2d(2, 2)
    assert list(conv.state_dict()) == list(snntorch.BatchNormTT2d(2, 2).state_dict())
    assert conv[1](np.ones((2, 2, 3, 3), np.float32)).shape == (2, 2, 3, 3)
    with pytest.raises(ValueError, match="BatchNormTT1d: time_steps must be a positive int, got 0"):
        snn.BatchNormTT1d(4, 0)


def test_module_list_behaves_like_torch():
    layers = nn.ModuleList([nn.LayerNorm(2), nn.LayerNorm(3)])
    layers.append(nn.Leaky(beta=0.5))
    layers += [nn.LayerNorm(4)]
    assert len(layers) == 4 and isinstance(layers[-1], nn.LayerNorm) and isinstance(layers[1:3], nn.ModuleList)
    del layers[0]
    assert [type(m).__name__ for m in layers] == ["LayerNorm", "Leaky", "LayerNorm"]
    assert list(layers.state_dict())[:2] == ["0.weight", "0.bias"]  # renumbered, as torch
    assert layers.state_dict()["0.weight"].shape == (3,)
    layers.insert(0, nn.Dropout(0.1))
    assert type(layers.pop(0)).__name__ == "Dropout" and len(layers) == 3
    with pytest.raises(IndexError, match="ModuleList: index 3 is out of range for 3 modules"):
        layers[3]
    with pytest.raises(TypeError, match=r"ModuleList: item 3 \(Linear\) is not a module from snnax_torchlike.nn"):
        layers.append(torch.nn.Linear(2, 2))


# -- GradedSpikes -------------------------------------------------------------------------------------------------
def test_graded_spikes_match_snntorch_values_and_gradients():
    reference = snntorch.GradedSpikes(size=3, constant_factor=None)
    facade = snn.GradedSpikes(size=3, constant_factor=None)
    initial = np.asarray(facade.weights.data)
    assert initial.shape == (3, 1) and ((initial >= 0.5) & (initial < 1.5)).all()
    facade.load_state_dict(reference.state_dict())
    assert list(facade.state_dict()) == ["weights"]

    x = (RNG.random((2, 3, 4)) > 0.5).astype(np.float32)
    cotangent = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    out = reference(torch.tensor(x))
    (out * torch.tensor(cotangent)).sum().backward()
    result = facade(x)
    np.testing.assert_array_equal(np.asarray(result), out.detach().numpy())
    assert bool(torch.all(torch.eq(input=result, other=out.detach())))  # torch's keyword form on facade tensors
    (result * cotangent).sum().backward()
    np.testing.assert_allclose(np.asarray(facade.weights.grad), reference.weights.grad.numpy(), rtol=1e-5)

    assert (np.asarray(snn.GradedSpikes(3, constant_factor=2.0).weights.data) == 2.0).all()
    with pytest.raises(ValueError, match=r"GradedSpikes: input of shape \(2, 4\) does not broadcast .* \(3, 1\)"):
        facade(np.ones((2, 4), np.float32))


# -- DeltaLeaky ---------------------------------------------------------------------------------------------------
T, B, N = 8, 2, 5


@pytest.fixture(scope="module")
def delta_reference():
    """snnTorch's DeltaLeaky over ``T`` steps: inputs, spikes, membranes, and gradients w.r.t. input and beta."""
    x = RNG.normal(size=(T, B, N)).astype(np.float32)
    x[0, 0, 0] = 0.0  # a change of exactly 0 at the first step: abs has gradient 0 there in torch
    beta = np.linspace(0.3, 1.1, N).astype(np.float32)  # not clamped: 1.1 grows
    neuron = TorchDeltaLeaky(delta_threshold=0.4, beta=torch.tensor(beta), learn_beta=True)
    xt = torch.tensor(x, requires_grad=True)
    state = neuron.reset_mem()
    spikes, mems, prevs, total = [], [], [], 0
    for t in range(T):
        spk, state = neuron(xt[t], state)
        spikes.append(spk.detach().numpy()), mems.append(state[0].detach().numpy())
        prevs.append(state[1].detach().numpy())
        total = total + (spk * (t + 1)).sum() + (state[0] ** 2).mean()
    total.backward()
    return dict(x=x, beta=beta, neuron=neuron, spikes=np.stack(spikes), mems=np.stack(mems), prevs=np.stack(prevs),
                grad_x=xt.grad.numpy(), grad_beta=neuron.beta.grad.numpy())  # fmt: skip


def test_delta_leaky_matches_snntorch_step_by_step(delta_reference):
    ref = delta_reference
    neuron = snn.DeltaLeaky(delta_threshold=0.4, beta=np.zeros(N, np.float32), learn_beta=True)
    assert isinstance(neuron, snn.Leaky)
    assert list(neuron.state_dict()) == list(ref["neuron"].state_dict())
    neuron.load_state_dict(ref["neuron"].state_dict())
    state = neuron.reset_mem()
    assert state == (None, None)
    total, outputs = 0, []
    for t in range(T):  # recorded, then run as one program by backward()
        spk, state = neuron(ref["x"][t], state)
        outputs.append((spk, *state))
        total = total + (spk * (t + 1)).sum() + (state[0] ** 2).mean()
    total.backward()
    spikes, mems, prevs = (np.stack([np.asarray(step[k]) for step in outputs]) for k in range(3))
    np.testing.assert_array_equal(spikes, ref["spikes"])
    np.testing.assert_allclose(mems, ref["mems"], atol=1e-5)
    np.testing.assert_allclose(prevs, ref["prevs"], atol=1e-5)
    assert ref["spikes"].sum() > 5
    np.testing.assert_allclose(np.asarray(neuron.beta.grad), ref["grad_beta"], rtol=1e-4, atol=1e-5)


def test_delta_leaky_core_gradients_and_sequential_match_snntorch(delta_reference):
    ref = delta_reference
    spike_fn = snx.surrogate.atan(2.0)

    def loss(xs, beta):
        mem, total = jnp.zeros((B, N)), 0.0
        for t in range(T):
            spk, mem = snx.snn.delta_leaky_update(xs[t], mem, beta=beta, delta_threshold=0.4, spike_fn=spike_fn)
            total = total + jnp.sum(spk * (t + 1)) + jnp.mean(mem**2)
        return total

    grad_x, grad_beta = jax.jit(jax.grad(loss, argnums=(0, 1)))(jnp.asarray(ref["x"]), jnp.asarray(ref["beta"]))
    np.testing.assert_allclose(np.asarray(grad_x), ref["grad_x"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(grad_beta), ref["grad_beta"], rtol=1e-4, atol=1e-5)

    neuron = nn.DeltaLeaky(0.4, ref["beta"])  # delta_threshold first, then Leaky's arguments
    spikes, mems = nn.Sequential(neuron)(ref["x"])
    np.testing.assert_array_equal(np.asarray(spikes), ref["spikes"])
    np.testing.assert_allclose(np.asarray(mems), ref["mems"], atol=1e-5)


def test_delta_leaky_hidden_state_and_errors(delta_reference):
    ref = delta_reference
    neuron = snn.DeltaLeaky(beta=ref["beta"], delta_threshold=0.4, init_hidden=True)
    for t in range(3):
        spk, (mem, prev) = neuron(ref["x"][t])  # a tuple even with init_hidden, as snnTorch's
        np.testing.assert_array_equal(np.asarray(spk), ref["spikes"][t])
    np.testing.assert_allclose(np.asarray(neuron.mem), ref["mems"][2], atol=1e-5)
    np.testing.assert_allclose(np.asarray(neuron.mem_prev), ref["mems"][1], atol=1e-5)
    neuron.reset_mem()
    spk, _ = neuron(ref["x"][0])
    np.testing.assert_array_equal(np.asarray(spk), ref["spikes"][0])

    with pytest.raises(TypeError, match="with init_hidden=True the neuron keeps its state"):
        neuron(ref["x"][0], (None, None))
    explicit = snn.DeltaLeaky(beta=0.5)
    with pytest.raises(TypeError, match="`mem` must be provided when init_hidden=False"):
        explicit(ref["x"][0])
    with pytest.raises(TypeError, match=r"the state must be the pair \(mem, mem_prev\), got tuple of length 1"):
        explicit(ref["x"][0], (None,))
    with pytest.raises(TypeError, match="delta_threshold must be a real number"):
        snn.DeltaLeaky("0.5", beta=0.5)
    with pytest.raises(TypeError, match="beta"):
        snn.DeltaLeaky(0.9)  # as snnTorch: beta is Leaky's, and missing
