"""Equinox's stateful layers (``eqx.nn.State``, called ``layer(x, state) -> (y, state)``) in core models."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import snnax_torchlike.snn as snn

B, T, N_IN, N = 8, 6, 5, 4
MOMENTUM, EPS, DECAY, THRESHOLD = 0.5, 1e-5, 0.9, 0.5
KEYS = jax.random.split(jax.random.key(0), 4)
X = jax.random.normal(KEYS[0], (B, T, N_IN))


def _model() -> snn.Sequential:
    """Linear -> BatchNorm over the named batch axis -> leaky neuron, with a non-trivial affine part."""
    norm = eqx.nn.BatchNorm(N, axis_name="batch", momentum=MOMENTUM, eps=EPS, mode="batch")
    norm = eqx.tree_at(lambda m: (m.weight, m.bias), norm, (jnp.linspace(0.5, 2.0, N), jnp.linspace(-0.3, 0.3, N)))
    return snn.Sequential(eqx.nn.Linear(N_IN, N, key=KEYS[1]), norm, snn.SimpleLIF(DECAY, threshold=THRESHOLD))


def _run(model: snn.Sequential, layerwise: bool, xs: jax.Array = X):
    """The model over a batch, the batch axis named ``"batch"``: (final state, spikes, membranes)."""
    state = model.init_state((N_IN,))

    def one(x: jax.Array):
        final, outs, states = model(state, x, layerwise=layerwise, record_states=True)
        return final, outs[-1], states[-1]

    return jax.vmap(one, axis_name="batch")(xs)


def _neuron(drive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SimpleLIF with the zero reset, by hand, over ``drive`` ``[B, T, N]``: spikes and membranes."""
    v = np.zeros((drive.shape[0], N))
    spikes, membranes = [], []
    for t in range(drive.shape[1]):
        v = DECAY * v + drive[:, t]
        s = (v > THRESHOLD).astype(np.float64)
        v = v * (1.0 - s)
        spikes.append(s)
        membranes.append(v)
    return np.stack(spikes, 1), np.stack(membranes, 1)


def _reference(model: snn.Sequential, xs: np.ndarray) -> dict[str, np.ndarray]:
    """Training mode by hand: each step normalised with that step's batch statistics; the running ones after T."""
    linear, norm = model[0], model[1]
    h = np.asarray(xs, np.float64) @ np.asarray(linear.weight, np.float64).T + np.asarray(linear.bias)
    mean, var = h.mean(axis=0), h.var(axis=0)  # [T, N]: over the batch, per step
    normed = (h - mean) / np.sqrt(var + EPS) * np.asarray(norm.weight) + np.asarray(norm.bias)
    spikes, membranes = _neuron(normed)
    running_mean, running_var = np.zeros(N), np.ones(N)
    for t in range(xs.shape[1]):
        running_mean = MOMENTUM * running_mean + (1 - MOMENTUM) * mean[t]
        running_var = MOMENTUM * running_var + (1 - MOMENTUM) * var[t]
    return dict(spikes=spikes, membranes=membranes, running_mean=running_mean, running_var=running_var, h=h)


@pytest.mark.parametrize("layerwise", [False, True], ids=["stepwise", "layerwise"])
def test_batch_norm_normalises_each_step_with_batch_statistics(layerwise):
    model = _model()
    final, spikes, membranes = _run(model, layerwise)
    ref = _reference(model, np.asarray(X))
    assert ref["spikes"].sum() > 0  # the comparison covers spikes and resets
    np.testing.assert_allclose(membranes, ref["membranes"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(spikes, ref["spikes"])
    norm_state = final.layers[1]
    assert isinstance(norm_state, eqx.nn.State)
    mean, var = norm_state.get(model[1].batch_state_index)  # one copy per sample, all equal
    np.testing.assert_allclose(mean, np.broadcast_to(ref["running_mean"], (B, N)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var, np.broadcast_to(ref["running_var"], (B, N)), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(norm_state.get(model[1].batch_counter), np.full(B, T))
    assert not np.allclose(ref["running_mean"], 0.0) and not np.allclose(ref["running_var"], 1.0)


def test_layerwise_and_stepwise_agree():
    model = _model()
    (final_s, spikes_s, mem_s), (final_l, spikes_l, mem_l) = _run(model, False), _run(model, True)
    np.testing.assert_array_equal(spikes_s, spikes_l)
    np.testing.assert_allclose(mem_s, mem_l, rtol=1e-6, atol=1e-6)
    for a, b in zip(jax.tree.leaves(final_s), jax.tree.leaves(final_l)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("layerwise", [False, True], ids=["stepwise", "layerwise"])
def test_inference_mode_uses_the_running_statistics(layerwise):
    model = _model()
    final, _, _ = _run(model, layerwise)
    statistics = jax.tree.map(lambda a: a[0], final.layers[1])  # the samples' copies are equal
    trained = eqx.tree_at(lambda s: s.layers[1], model.init_state((N_IN,)), statistics)
    ref = _reference(model, np.asarray(X))
    frozen = eqx.nn.inference_mode(model)
    # No named axis: in inference mode the layer reads its state, it does not average over the batch.
    new, outs, states = jax.vmap(lambda x: frozen(trained, x, layerwise=layerwise, record_states=True))(X)
    scale = 1 - MOMENTUM**T  # Equinox's zero-debiasing of the running statistics after T updates
    norm = model[1]
    normed = (ref["h"] - ref["running_mean"] / scale) / np.sqrt(ref["running_var"] / scale + EPS)
    spikes, membranes = _neuron(normed * np.asarray(norm.weight) + np.asarray(norm.bias))
    np.testing.assert_allclose(states[-1], membranes, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(outs[-1], spikes)
    np.testing.assert_array_equal(new.layers[1].get(norm.batch_counter), np.full(B, T))  # not updated


@pytest.mark.parametrize("layerwise", [False, True], ids=["stepwise", "layerwise"])
def test_gradients_flow_through_batch_norm(layerwise):
    model = _model()
    state = model.init_state((N_IN,))

    def loss(model: snn.Sequential) -> jax.Array:
        def one(x):
            _, outs, states = model(state, x, layerwise=layerwise, record_states=True)
            return jnp.sum(outs[-1]) + jnp.sum(states[-1] ** 2)

        return jnp.mean(jax.vmap(one, axis_name="batch")(X))

    grads = eqx.filter_grad(loss)(model)
    for name, g in [("linear.weight", grads[0].weight), ("norm.weight", grads[1].weight), ("norm.bias", grads[1].bias)]:
        assert np.all(np.isfinite(g)), name
        assert np.any(np.asarray(g) != 0), name


def test_spectral_norm_state_is_carried_across_steps():
    """``eqx.nn.SpectralNorm``'s power-iteration vectors advance once per step, as Equinox steps them by hand."""
    spectral = eqx.nn.SpectralNorm(eqx.nn.Linear(N_IN, N, key=KEYS[2]), "weight", key=KEYS[3])
    model = snn.Sequential(spectral, snn.SimpleLIF(DECAY, threshold=THRESHOLD))
    # Start the vectors away from their converged values, so every step changes them.
    u, v = (jax.random.normal(k, (n,)) for k, n in zip(jax.random.split(KEYS[0]), (N, N_IN)))
    start = eqx.nn.State(spectral).set(spectral.uv_index, (u / jnp.linalg.norm(u), v / jnp.linalg.norm(v)))
    state = eqx.tree_at(lambda s: s.layers[0], model.init_state((N_IN,)), start)
    final, _, states = model(state, X[0], record_states=True)
    by_hand, drive, vectors = jax.tree.map(lambda a: a, start), [], []
    for t in range(T):
        y, by_hand = spectral(X[0, t], by_hand)
        drive.append(y)
        vectors.append(by_hand.get(spectral.uv_index)[0])
    _, membranes = _neuron(np.asarray(jnp.stack(drive), np.float64)[None])
    np.testing.assert_allclose(states[-1], membranes[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(states[0].get(spectral.uv_index)[0], jnp.stack(vectors), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(final.layers[0].get(spectral.uv_index)[0], vectors[-1], rtol=1e-5, atol=1e-6)
    assert not np.allclose(vectors[0], vectors[1])


def test_a_stateless_equinox_sequential_is_a_plain_layer():
    """``eqx.nn.Sequential`` is an ``eqx.nn.StatefulLayer``; with no stateful member it is called as ``layer(x)``."""
    chain = eqx.nn.Sequential([eqx.nn.Linear(N_IN, N, key=KEYS[1]), eqx.nn.Lambda(jnp.tanh)])
    assert not chain.is_stateful()
    model = snn.Sequential(chain, snn.SimpleLIF(DECAY, threshold=THRESHOLD))
    state = model.init_state((N_IN,))
    assert state.layers[0] is None
    _, _, states = model(state, X[0], record_states=True)
    drive = np.asarray(jax.vmap(chain)(X[0]), np.float64)
    np.testing.assert_allclose(states[-1], _neuron(drive[None])[1][0], rtol=1e-5, atol=1e-5)


def test_batch_norm_inside_a_compound_layer_is_stepped():
    model = _model()
    compound = snn.Sequential(model[0], snn.CompoundLayer(model[1], model[2]))
    state = compound.init_state((N_IN,))
    drive = jnp.zeros((T, N))
    assert compound[1].scan_sequence(state.layers[1], drive) is None  # Equinox's layers have no sequence path
    final, spikes = jax.vmap(lambda x: compound(state, x), axis_name="batch")(X)
    ref = _reference(model, np.asarray(X))
    np.testing.assert_array_equal(spikes[-1], ref["spikes"])
    mean, _ = final.layers[1][0].get(model[1].batch_state_index)
    np.testing.assert_allclose(mean[0], ref["running_mean"], rtol=1e-5, atol=1e-6)


def test_a_layer_without_its_initial_state_is_refused_by_name():
    norm, _ = eqx.nn.make_with_state(eqx.nn.BatchNorm)(N, axis_name="batch", mode="batch")
    model = snn.Sequential(eqx.nn.Linear(N_IN, N, key=KEYS[1]), norm)
    with pytest.raises(snn.LayerError, match=r"layer 1 \(BatchNorm\): its initial eqx.nn.State was deleted") as info:
        model.init_state((N_IN,))
    assert info.value.index == 1 and info.value.layers == (norm,)


def test_a_wrong_input_size_names_the_batch_norm_and_its_size():
    model = snn.Sequential(eqx.nn.BatchNorm(N + 1, axis_name="batch", mode="batch"))
    with pytest.raises(snn.LayerError, match=r"layer 0 \(BatchNorm\): cannot take an input of shape \(4,\)\. "
                       r"It expects per-sample inputs of shape \(5, \.\.\.\)"):  # fmt: skip
        model.init_state((N,))
