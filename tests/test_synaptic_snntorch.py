"""`Synaptic` (core and facade) against the real snnTorch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import torch

import snnax_torchlike.snn as snn
from snnax_torchlike import nn

T, B, N = 110, 3, 12


def _reference(neuron, x):
    syn, mem = neuron.reset_mem()
    spikes, mems = [], []
    with torch.no_grad():
        for t in range(x.shape[0]):
            spk, syn, mem = neuron(x[t], syn, mem)
            spikes.append(spk.numpy().copy())
            mems.append(mem.numpy().copy())
    return np.stack(spikes), np.stack(mems)


def _check(spikes, mems, ref_spikes, ref_mems, threshold):
    near = np.abs(ref_mems - threshold) < 1e-5
    assert not ((spikes != ref_spikes) & ~near).any()
    if np.array_equal(spikes, ref_spikes):
        np.testing.assert_allclose(mems, ref_mems, atol=1e-4, rtol=0)
    assert ref_spikes.sum() > 10


@pytest.mark.parametrize("reset_mechanism", ["subtract", "zero", "none"])
def test_core_and_facade_synaptic_match_snntorch(reset_mechanism):
    rng = np.random.default_rng(0)
    x = (rng.random((T, B, N)) * 0.5).astype(np.float32)
    alpha = np.linspace(0.3, 0.9, N).astype(np.float32)
    beta = np.linspace(0.6, 0.95, N).astype(np.float32)
    threshold = np.linspace(0.8, 1.6, N).astype(np.float32)
    reference = snntorch.Synaptic(alpha=torch.tensor(alpha), beta=torch.tensor(beta), threshold=torch.tensor(threshold),
                                  reset_mechanism=reset_mechanism)  # fmt: skip
    ref_spikes, ref_mems = _reference(reference, torch.tensor(x))

    core = snn.Sequential(snn.Synaptic(alpha, beta, threshold=jnp.asarray(threshold), reset_mechanism=reset_mechanism))
    state = core.init_state((N,))
    _, (spikes,), (states,) = jax.jit(jax.vmap(lambda s: core(state, s, record_states=True), in_axes=1, out_axes=1))(x)
    _check(np.asarray(spikes), np.asarray(states.mem), ref_spikes, ref_mems, threshold)

    placeholder = np.full(N, 0.5, np.float32)
    facade = nn.Synaptic(alpha=placeholder, beta=placeholder, threshold=placeholder, reset_mechanism=reset_mechanism)
    facade.load_state_dict(reference.state_dict())
    assert list(facade.state_dict()) == list(reference.state_dict())
    syn, mem = facade.init_synaptic()
    for t in range(5):
        spk, syn, mem = facade(x[t], syn, mem)
        np.testing.assert_allclose(np.asarray(mem), ref_mems[t], atol=1e-6)
    spk_seq, mem_seq = nn.Sequential(facade)(x)
    _check(np.asarray(spk_seq), np.asarray(mem_seq), ref_spikes, ref_mems, threshold)


def test_synaptic_learnable_gradients_match_snntorch():
    x = (np.random.default_rng(1).random((30, 2, N)) * 0.6).astype(np.float32)
    alpha = np.linspace(0.5, 0.9, N).astype(np.float32)
    beta = np.linspace(0.8, 0.95, N).astype(np.float32)
    reference = snntorch.Synaptic(alpha=torch.tensor(alpha), beta=torch.tensor(beta), learn_alpha=True, learn_beta=True)
    syn, mem = reference.reset_mem()
    total = 0
    for t in range(30):
        spk, syn, mem = reference(torch.tensor(x[t]), syn, mem)
        total = total + spk.sum() + (mem**2).mean()
    total.backward()

    facade = nn.Synaptic(alpha=alpha, beta=beta, learn_alpha=True, learn_beta=True)
    assert [name for name, _ in facade.named_parameters()] == ["beta", "alpha"]

    def loss(alpha_beta):
        with facade.bind({"alpha": alpha_beta[0], "beta": alpha_beta[1]}):
            spk, mem = nn.Sequential(facade)(x)
        return spk.sum() + jnp.mean(mem**2, axis=(1, 2)).sum()

    grad_alpha, grad_beta = jax.grad(loss)((jnp.asarray(alpha), jnp.asarray(beta)))
    np.testing.assert_allclose(np.asarray(grad_alpha), reference.alpha.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(np.asarray(grad_beta), reference.beta.grad.numpy(), rtol=1e-3, atol=1e-4)
