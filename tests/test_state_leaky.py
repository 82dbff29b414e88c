"""`StateLeaky` and `LinearLeaky` (time-parallel neurons) against the real snnTorch 1.0, on the same weights."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from snntorch._neurons.linearleaky import LinearLeaky as TorchLinearLeaky
from snntorch._neurons.stateleaky import StateLeaky as TorchStateLeaky

import snnax_torchlike.nn as nn
import snnax_torchlike.snn as snn
import snnax_torchlike.snntorch as snt
from snnax_torchlike.snn.neurons._decay_convolution import causal_decay_convolution

T, B, C, F_IN = 12, 3, 4, 5
BETA = np.array([0.9, 0.8, 0.95, 0.7], dtype=np.float32)
RNG = np.random.default_rng(0)
X = RNG.random((T, B, C), dtype=np.float32)
X_IN = RNG.random((T, B, F_IN), dtype=np.float32)
SPIKE_WEIGHTS = RNG.random((T, B, C), dtype=np.float32)
MEM_WEIGHTS = RNG.random((T, B, C), dtype=np.float32)


def _ours_from(reference, cls, **kwargs):
    """Our layer with the reference's arrays, loaded from its state_dict (keys and order must match)."""
    ours = cls(**kwargs)
    torch_state = reference.state_dict()
    assert list(ours.state_dict()) == list(torch_state)
    ours.load_state_dict(torch_state)
    return ours


def _check(ours, reference, threshold):
    """Spikes identical (away from ties at the threshold), membranes within 1e-5 of snnTorch's."""
    spk, mem = (np.asarray(v) for v in ours)
    ref_spk, ref_mem = (v.detach().numpy() for v in reference)
    np.testing.assert_allclose(mem, ref_mem, rtol=1e-6, atol=1e-5)
    assert np.array_equal(spk, ref_spk) or np.all(np.abs(ref_mem[spk != ref_spk] - threshold) < 1e-5)
    assert 0 < (ref_spk != 0).sum() < ref_spk.size  # the comparison covers spiking and silence


CASES = {
    "vector beta, graded": dict(beta=BETA, threshold=1.2, graded_spikes_factor=1.5),
    "scalar beta, truncated": dict(beta=0.9, kernel_truncation_steps=4),
    "vector beta, truncated past T": dict(beta=BETA, kernel_truncation_steps=T + 5),
}


@pytest.mark.parametrize("case", CASES)
def test_state_leaky_matches_snntorch(case):
    kwargs = CASES[case]
    torch_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    reference = TorchStateLeaky(channels=C, **torch_kwargs)
    ours = _ours_from(reference, snt.StateLeaky, channels=C, **kwargs)
    with torch.no_grad():
        expected = reference(torch.tensor(X))
    _check(ours(torch.tensor(X)), expected, kwargs.get("threshold", 1.0))
    silent = _ours_from(reference, snt.StateLeaky, channels=C, output=False, **{k: v for k, v in kwargs.items()
                                                                                  if k != "graded_spikes_factor"})
    np.testing.assert_allclose(np.asarray(silent(X)), expected[1].numpy(), rtol=1e-6, atol=1e-5)


def test_attributes_and_state_dict_as_snntorch():
    torch.manual_seed(0)
    reference = TorchStateLeaky(beta=torch.tensor(BETA), channels=C, learn_beta=True, learn_threshold=True)
    ours = _ours_from(reference, snt.StateLeaky, beta=BETA, channels=C, learn_beta=True, learn_threshold=True)
    assert list(ours.state_dict()) == ["threshold", "beta", "tau", "graded_spikes_factor", "reset_mechanism_val"]
    assert [name for name, _ in ours.named_parameters()] == [n for n, _ in reference.named_parameters()]
    fresh = snt.StateLeaky(beta=BETA, channels=C, learn_beta=True, learn_threshold=True)  # tau computed here
    for name, value in reference.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[name], value.numpy(), err_msg=name)
    np.testing.assert_allclose(np.asarray(ours.beta), reference.beta.detach().numpy(), rtol=1e-6)
    linear_ref = TorchLinearLeaky(beta=0.9, in_features=F_IN, out_features=C)
    linear = _ours_from(linear_ref, snt.LinearLeaky, beta=0.9, in_features=F_IN, out_features=C)
    assert list(linear.state_dict())[-2:] == ["linear.weight", "linear.bias"]
    assert ours.output and ours.kernel_truncation_steps is None and not ours.init_hidden


def test_linear_leaky_matches_snntorch():
    torch.manual_seed(0)  # the linear layer's initial weights, copied into ours: some draws never spike
    reference = TorchLinearLeaky(beta=torch.tensor(BETA), in_features=F_IN, out_features=C, threshold=0.8,
                                 graded_spikes_factor=2.0, kernel_truncation_steps=3)  # fmt: skip
    ours = _ours_from(reference, snt.LinearLeaky, beta=BETA, in_features=F_IN, out_features=C, threshold=0.8,
                      graded_spikes_factor=2.0, kernel_truncation_steps=3)  # fmt: skip
    with torch.no_grad():
        expected = reference(torch.tensor(X_IN))
    _check(ours(X_IN), expected, 0.8)


def _torch_loss(spk, mem):
    return (spk * torch.tensor(SPIKE_WEIGHTS)).sum() + (mem**2 * torch.tensor(MEM_WEIGHTS)).mean()


def test_gradients_match_snntorch():
    """Parameters through the facade's backward(); the input and tau through jax.grad of the core layer."""
    options = dict(channels=C, learn_beta=True, learn_threshold=True, learn_graded_spikes_factor=True,
                   kernel_truncation_steps=5, graded_spikes_factor=1.3)  # fmt: skip
    reference = TorchStateLeaky(beta=torch.tensor(BETA), **options)
    xt = torch.tensor(X, requires_grad=True)
    _torch_loss(*reference(xt)).backward()

    ours = _ours_from(reference, snt.StateLeaky, beta=BETA, **options)
    spk, mem = ours(X)
    ((spk * SPIKE_WEIGHTS).sum() + (mem**2 * MEM_WEIGHTS).mean()).backward()
    for name in ("tau", "threshold", "graded_spikes_factor"):
        expected = getattr(reference, name).grad.numpy()
        np.testing.assert_allclose(np.asarray(getattr(ours, name).grad), expected, rtol=1e-4, atol=1e-6)

    def core_loss(xs, tau):
        layer = snn.StateLeaky(tau, threshold=ours.threshold.data, graded_spikes_factor=ours.graded_spikes_factor.data,
                               kernel_truncation_steps=5)  # fmt: skip
        state = layer.init_state((C,))
        _, spikes, states = jax.vmap(layer.scan_sequence, in_axes=(None, 1), out_axes=1)(state, xs)
        return (spikes * SPIKE_WEIGHTS).sum() + (states.mem**2 * MEM_WEIGHTS).mean()

    grad_x, grad_tau = jax.jit(jax.grad(core_loss, argnums=(0, 1)))(jnp.asarray(X), ours.tau.data)
    np.testing.assert_allclose(np.asarray(grad_x), xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(grad_tau), reference.tau.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_linear_leaky_gradients_match_snntorch():
    torch.manual_seed(0)
    reference = TorchLinearLeaky(beta=0.85, in_features=F_IN, out_features=C, learn_beta=True)
    _torch_loss(*reference(torch.tensor(X_IN))).backward()
    ours = _ours_from(reference, snt.LinearLeaky, beta=0.85, in_features=F_IN, out_features=C, learn_beta=True)
    spk, mem = ours(X_IN)
    ((spk * SPIKE_WEIGHTS).sum() + (mem**2 * MEM_WEIGHTS).mean()).backward()
    for name, param in ours.named_parameters():
        if name == "beta":  # snnTorch's unused copy of beta gets no gradient
            assert dict(reference.named_parameters())["beta"].grad is None
            continue
        expected = dict(reference.named_parameters())[name].grad.numpy()
        np.testing.assert_allclose(np.asarray(param.grad), expected, rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("truncation", [None, 4])
def test_core_steps_and_chunks_continue_the_sequence(truncation):
    """Step by step, and in two chunks carrying the state, the core layer gives the whole sequence's membrane."""
    layer = snn.StateLeaky(snn.state_leaky_tau(BETA), kernel_truncation_steps=truncation)

    def step(carry, x):
        new, _ = layer(carry, x)
        return new, new.mem

    @jax.jit
    def run(xs):
        state = layer.init_state((C,))
        first, _, _ = layer.scan_sequence(state, xs[:5])
        _, _, second = layer.scan_sequence(first, xs[5:])
        return snn.state_leaky_membrane(xs, layer.tau, truncation), second.mem, jax.lax.scan(step, state, xs)[1]

    whole, chunked, stepped = run(jnp.asarray(X[:, 0]))  # one sample: [T, C]
    np.testing.assert_allclose(np.asarray(chunked), np.asarray(whole[5:]), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(stepped), np.asarray(whole), rtol=1e-5, atol=1e-5)


def test_inside_sequential_matches_snntorch():
    torch.manual_seed(0)
    linear_ref = torch.nn.Linear(F_IN, C)
    neuron_ref = TorchStateLeaky(beta=torch.tensor(BETA), channels=C, kernel_truncation_steps=6)
    with torch.no_grad():
        expected = neuron_ref(linear_ref(torch.tensor(X_IN)))
    net = nn.Sequential(nn.Linear(F_IN, C), snt.StateLeaky(beta=BETA, channels=C, kernel_truncation_steps=6))
    net.load_state_dict({**{f"0.{k}": v for k, v in linear_ref.state_dict().items()},
                         **{f"1.{k}": v for k, v in neuron_ref.state_dict().items()}})  # fmt: skip
    _check(net(X_IN), expected, 1.0)
    net.checkpoint_every = 5  # chunks of 5 steps, each continuing from the last one's state
    _check(net(X_IN), expected, 1.0)
    fused = nn.Sequential(snt.LinearLeaky(beta=BETA, in_features=F_IN, out_features=C, kernel_truncation_steps=6))
    fused.load_state_dict({"0." + k[2:]: v for k, v in net.state_dict().items() if k.startswith("1.")} | {
        "0.linear.weight": linear_ref.weight, "0.linear.bias": linear_ref.bias})  # fmt: skip
    _check(fused(X_IN), expected, 1.0)
    core = fused[0].core_layer()  # the Linear and the neuron over the whole sequence, not stepped
    assert core.scan_sequence(core.init_state((F_IN,)), jnp.asarray(X_IN[:, 0])) is not None
    silent = nn.Sequential(snt.StateLeaky(beta=BETA, channels=C, output=False, kernel_truncation_steps=6))
    np.testing.assert_allclose(np.asarray(silent(np.asarray(linear_ref(torch.tensor(X_IN)).detach()))),
                               expected[1].numpy(), rtol=1e-6, atol=1e-5)  # fmt: skip


def test_bad_arguments_raise_naming_the_layer():
    with pytest.raises(ValueError, match=r"StateLeaky: beta has shape \(3,\)"):
        snt.StateLeaky(beta=np.ones(3, np.float32) * 0.9, channels=C)
    with pytest.raises(ValueError, match=r"StateLeaky: kernel_truncation_steps must be an int >= 1 \(or None: no truncation\), got 0"):
        snt.StateLeaky(beta=0.9, channels=C, kernel_truncation_steps=0)
    with pytest.raises(ValueError, match=r"StateLeaky: expected the whole sequence, time first \[T, B, 4\]"):
        snt.StateLeaky(beta=0.9, channels=C)(X[0])
    with pytest.raises(ValueError, match=r"LinearLeaky: expected the whole sequence, time first \[T, B, 5\]"):
        snt.LinearLeaky(beta=0.9, in_features=F_IN, out_features=C)(X)
    with pytest.raises(ValueError, match="state_quant is not supported"):
        snt.StateLeaky(beta=0.9, channels=C, state_quant=lambda m: m)
    with pytest.raises(ValueError, match="do not broadcast"):
        causal_decay_convolution(jnp.zeros((T, C)), jnp.ones((3, C + 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for the defaults
        snt.StateLeaky(beta=0.9, channels=C, output=False)
    with pytest.warns(UserWarning, match="graded_spikes_factor only affect spikes"):
        snt.StateLeaky(beta=0.9, channels=C, output=False, graded_spikes_factor=torch.tensor(2.0))
