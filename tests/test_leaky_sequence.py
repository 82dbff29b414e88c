"""`Leaky.scan_sequence` (a hand-written backward pass) equals stepping `Leaky` in values and every gradient."""

import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import snnax_torchlike.snn as snn
from snnax_torchlike.snn import surrogate

T, N = 40, 6
RNG = np.random.default_rng(0)
XS = jnp.asarray(RNG.normal(0.4, 0.8, size=(T, N)).astype(np.float32))
M0 = jnp.asarray(RNG.normal(0.5, 0.5, size=(N,)).astype(np.float32))
WEIGHTS = [jnp.asarray(RNG.normal(size=(T, N)).astype(np.float32)) for _ in range(2)]
FINAL_WEIGHT = jnp.asarray(RNG.normal(size=(N,)).astype(np.float32))


def _stepped(layer, m0, xs):
    def body(mem, x):
        mem, spk = layer(mem, x)
        return mem, (spk, mem)

    final, (spikes, mems) = jax.lax.scan(body, m0, xs)
    return final, spikes, mems


def _loss(run, layer, m0, xs):
    # Cotangents reach the spikes, every recorded membrane and the final membrane.
    final, spikes, mems = run(layer, m0, xs)
    return jnp.sum(spikes * WEIGHTS[0]) + jnp.sum(jnp.sin(mems) * WEIGHTS[1]) + jnp.sum(final * FINAL_WEIGHT)


def _whole(layer, m0, xs):
    return layer.scan_sequence(m0, xs)


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize(
    "params",
    [
        dict(beta=0.9),
        dict(beta=jnp.linspace(0.5, 1.2, N), threshold=jnp.full((N,), 0.8), graded_spikes_factor=jnp.full((N,), 1.5)),
        dict(beta=jnp.asarray(1.0), threshold=jnp.asarray(0.6), spike_fn=surrogate.fast_sigmoid(25.0)),
    ],
    ids=["scalars", "per-neuron-trained", "beta-at-clip-edge"],
)
def test_whole_sequence_equals_stepping_in_values_and_gradients(reset, params):
    layer = snn.Leaky(reset_mechanism=reset, **params)
    for a, b in zip(_stepped(layer, M0, XS), _whole(layer, M0, XS), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # bit-identical forward
    assert float(jnp.sum(_whole(layer, M0, XS)[1])) > 0  # it spikes, so the reset paths are exercised

    def grads(run):
        return eqx.filter_grad(lambda parts: _loss(run, *parts))((layer, M0, XS))

    stepped, whole = grads(_stepped), grads(_whole)
    leaves = jax.tree.leaves(eqx.filter(stepped, eqx.is_inexact_array))
    assert len(leaves) >= 3  # the inputs, the initial state and the neuron's arrays
    for a, b in zip(leaves, jax.tree.leaves(eqx.filter(whole, eqx.is_inexact_array)), strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=2e-5, atol=2e-6)


def test_whole_sequence_under_vmap_and_jit():
    layer = snn.Leaky(jnp.linspace(0.6, 0.95, N), threshold=0.7)
    xs = jnp.asarray(RNG.normal(0.4, 0.8, size=(5, T, N)).astype(np.float32))
    m0 = jnp.zeros((5, N))

    def loss(run, xs):
        return jnp.sum(jax.vmap(lambda m, x: run(layer, m, x)[1])(m0, xs) * jnp.arange(N))

    for a, b in zip(
        jax.jit(jax.value_and_grad(lambda x: loss(_stepped, x)))(xs),
        jax.jit(jax.value_and_grad(lambda x: loss(_whole, x)))(xs),
        strict=True,
    ):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=2e-5, atol=2e-6)


def test_models_take_the_whole_sequence_path_only_where_it_applies():
    assert snn.Leaky(0.9).scan_sequence(M0, XS) is not None
    assert snn.Leaky(0.9, reset_delay=False).scan_sequence(M0, XS) is None  # the same-step reset: stepped
    assert snn.Synaptic(0.8, 0.9).scan_sequence(snn.Synaptic(0.8, 0.9).init_state((N,)), XS) is None
    assert snn.SimpleLIF(0.9).scan_sequence(M0, XS) is None  # the default: step __call__
    maps = jnp.ones((T, 2, 3, 3))
    assert snn.Leaky(0.9).scan_sequence(jnp.zeros((2, 3, 3)), maps) is None  # feature maps: stepped (faster there)
    with pytest.raises(ValueError, match="Leaky"):
        snn.Leaky(0.9).scan_sequence(M0, XS[:, :4])


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_batching_rule_covers_batched_parameters_shared_inputs_and_nested_vmap(reset):
    # The in-place loops carry their own vmap rule (the batch becomes a state axis); check it against stepping
    # for per-sample parameters, inputs shared by the batch, and two nested vmaps.
    xs = jnp.asarray(RNG.normal(0.4, 0.8, size=(2, 3, T, N)).astype(np.float32))
    m0 = jnp.asarray(RNG.normal(0.3, 0.4, size=(2, 3, N)).astype(np.float32))
    betas = jnp.asarray(RNG.uniform(0.5, 0.99, size=(2, 3, N)).astype(np.float32))

    def run_with(run, beta, m, x):
        return run(snn.Leaky(beta, threshold=0.7, reset_mechanism=reset), m, x)

    def loss(run, betas, m0, xs):
        nested = jax.vmap(jax.vmap(lambda b, m, x: run_with(run, b, m, x)))(betas, m0, xs)
        shared = jax.vmap(lambda m: run_with(run, betas[0, 0], m, xs[0, 0]), in_axes=0)(m0[0])  # xs not batched
        return sum(jnp.sum(jnp.sin(a)) for a in jax.tree.leaves((nested, shared)))

    for a, b in zip(
        jax.value_and_grad(lambda *a: loss(_stepped, *a), argnums=(0, 1, 2))(betas, m0, xs),
        jax.value_and_grad(lambda *a: loss(_whole, *a), argnums=(0, 1, 2))(betas, m0, xs),
        strict=True,
    ):
        for leaf_a, leaf_b in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
            np.testing.assert_allclose(np.asarray(leaf_b), np.asarray(leaf_a), rtol=2e-5, atol=2e-5)


def test_a_batched_training_step_keeps_sequences_time_first():
    # Layer-wise over [T, B, ...] with the in-place loops: no batch-first copy of any sequence, no scatter and no
    # zero-filled sequence buffer in the compiled training step.
    steps, batch = 11, 4
    model = snn.Sequential(eqx.nn.Linear(7, 5, key=jax.random.key(0)), snn.Leaky(0.9),
                           eqx.nn.Linear(5, 3, key=jax.random.key(1)), snn.Leaky(0.8))  # fmt: skip
    state = model.init_state((7,))
    x = jnp.ones((steps, batch, 7))

    def loss(model):
        return jnp.sum(model.scan_batch(state, x)[1][-1])

    hlo = jax.jit(jax.grad(loss)).lower(model).compile().as_text()
    assert f"[{batch},{steps}," not in hlo  # no [B, T, ...] array
    assert "scatter" not in hlo
    assert not re.search(rf"wrapped_broadcast\S* = f32\[{steps},{batch},\d+\]", hlo)  # no zero-filled buffer
