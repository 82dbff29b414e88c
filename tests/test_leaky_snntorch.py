"""The core `snn.Leaky` reproduces snnTorch's `Leaky`, run side by side with the real snnTorch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import torch

import snnax_torchlike.snn as snn

T, B, N = 120, 4, 16


def _run_snntorch(neuron, x):
    mem = neuron.reset_mem()
    spikes, mems = [], []
    with torch.no_grad():
        for t in range(x.shape[0]):
            spk, mem = neuron(x[t], mem)
            spikes.append(spk.numpy().copy())
            mems.append(mem.numpy().copy())
    return np.stack(spikes), np.stack(mems)


def _run_core(layer, x):
    model = snn.Sequential(layer)
    state = model.init_state((N,))
    run = jax.jit(jax.vmap(lambda xs: model(state, xs, record_states=True), in_axes=1, out_axes=1))
    _, (spikes,), (mems,) = run(jnp.asarray(x))
    return np.asarray(spikes), np.asarray(mems)


def _compare(spikes, mems, ref_spikes, ref_mems, threshold):
    # A flip is allowed only where snnTorch's membrane lies within 1e-5 of threshold, in few traces.
    near = np.abs(ref_mems - threshold) < 1e-5
    differ = spikes != ref_spikes
    assert not (differ & ~near).any(), f"{int((differ & ~near).sum())} spike flips away from threshold"
    flipped_traces = differ.any(axis=0)
    assert flipped_traces.mean() <= 0.02, f"{int(flipped_traces.sum())} of {flipped_traces.size} traces flip"
    # Membranes agree in every trace up to its first flip (after it the two runs may diverge).
    first_flip = np.where(flipped_traces, differ.argmax(axis=0), spikes.shape[0])
    before_flip = np.arange(spikes.shape[0])[:, None, None] < first_flip[None]
    np.testing.assert_allclose(np.where(before_flip, mems, 0), np.where(before_flip, ref_mems, 0), atol=1e-4, rtol=0)
    assert before_flip.mean() > 0.9 and ref_spikes.sum() > 10  # the comparison covers spiking, not a silent trace


@pytest.mark.parametrize("reset_mechanism", ["subtract", "zero", "none"])
@pytest.mark.parametrize("reset_delay", [True, False])
def test_leaky_matches_snntorch(reset_mechanism, reset_delay):
    rng = np.random.default_rng(0)
    x = (rng.random((T, B, N), dtype=np.float32) * 0.7).astype(np.float32)
    beta = np.linspace(0.5, 0.99, N, dtype=np.float32)
    threshold = 0.8
    reference = snntorch.Leaky(
        beta=torch.tensor(beta),
        threshold=threshold,
        reset_mechanism=reset_mechanism,
        reset_delay=reset_delay,
        graded_spikes_factor=1.5,
    )
    ref_spikes, ref_mems = _run_snntorch(reference, torch.tensor(x))
    layer = snn.Leaky(
        beta,
        threshold=threshold,
        reset_mechanism=reset_mechanism,
        reset_delay=reset_delay,
        graded_spikes_factor=1.5,
    )
    spikes, mems = _run_core(layer, x)
    _compare(spikes, mems, ref_spikes, ref_mems, threshold)


def test_leaky_gradient_matches_snntorch():
    rng = np.random.default_rng(1)
    x = (rng.random((30, 2, N), dtype=np.float32) * 0.7).astype(np.float32)
    beta = np.linspace(0.6, 0.95, N, dtype=np.float32)
    reference = snntorch.Leaky(beta=torch.tensor(beta), learn_beta=True)  # default atan(alpha=2) surrogate
    xt = torch.tensor(x, requires_grad=True)
    mem = reference.reset_mem()
    total = 0
    for t in range(x.shape[0]):
        spk, mem = reference(xt[t], mem)
        total = total + spk.sum() + (mem**2).mean()
    total.backward()

    def loss(beta_param, xs):
        layer = snn.Leaky(beta_param)
        model = snn.Sequential(layer)
        state = model.init_state((N,))
        _, (spikes,), (mems,) = jax.vmap(lambda s: model(state, s, record_states=True), in_axes=1, out_axes=1)(xs)
        return spikes.sum() + jnp.mean(mems**2, axis=(1, 2)).sum()

    grad_beta, grad_x = jax.grad(loss, argnums=(0, 1))(jnp.asarray(beta), jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(grad_beta), reference.beta.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(np.asarray(grad_x), xt.grad.numpy(), rtol=1e-3, atol=1e-4)
