"""Each core neuron against a hand-written numpy (float32) reference over several steps."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import snnax_torchlike.snn as snn

STEPS = 10
F = np.float32


def _inputs(shape, scale=1.2, seed=0):
    return (np.random.default_rng(seed).random((STEPS,) + shape) * scale).astype(F)


def _run(layer, xs):
    state = layer.init_state(xs.shape[1:])
    states, outs = [], []
    for x in xs:
        state, out = layer(state, jnp.asarray(x))
        states.append(jax.tree_util.tree_map(np.asarray, state))
        outs.append(np.asarray(out))
    return states, np.stack(outs)


def _fire(v, thr, reset):
    s = (v > thr).astype(F)
    if reset == "subtract":
        return v - s * thr, s
    if reset == "zero":
        return v * (1 - s), s
    return v, s


def _assert_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)


BETA = np.linspace(0.3, 0.95, 5).astype(F)  # one decay per neuron: a collapse to neuron 0 would show


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("scale_input", [False, True])
def test_simple_lif(reset, scale_input):
    xs = _inputs((5,), scale=2.0 if scale_input else 1.2)
    states, outs = _run(snn.SimpleLIF(BETA, reset=reset, scale_input=scale_input, threshold=0.8), xs)
    v = np.zeros(5, F)
    gain = (1 - BETA) if scale_input else F(1)
    for t in range(STEPS):
        v, s = _fire(BETA * v + gain * xs[t], F(0.8), reset)
        _assert_close(states[t], v)
        np.testing.assert_array_equal(outs[t], s)
    assert outs.sum() > 0


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
def test_lif_current_based(reset):
    xs = _inputs((5,))
    alpha = np.linspace(0.2, 0.8, 5).astype(F)
    states, outs = _run(snn.LIF([BETA, alpha], reset=reset), xs)
    v, i = np.zeros(5, F), np.zeros(5, F)
    for t in range(STEPS):
        i = alpha * i + xs[t]
        v, s = _fire(BETA * v + i, F(1), reset)
        _assert_close(states[t].v, v)
        _assert_close(states[t].i, i)
        np.testing.assert_array_equal(outs[t], s)
    assert outs.sum() > 0


def test_lif_soft_reset_and_positional_order():
    layer = snn.LIF([0.9, 0.8])
    assert float(layer.mem_decay) == pytest.approx(0.9) and float(layer.syn_decay) == pytest.approx(0.8)
    xs = _inputs((5,))
    soft_states, soft_outs = _run(snn.LIFSoftReset(mem_decay=0.9, syn_decay=0.8), xs)
    sub_states, sub_outs = _run(snn.LIF([0.9, 0.8], reset="subtract"), xs)
    np.testing.assert_array_equal(soft_outs, sub_outs)
    _assert_close(soft_states[-1].v, sub_states[-1].v)
    with pytest.raises(TypeError, match="always 'subtract'"):
        snn.LIFSoftReset([0.9, 0.8], reset="zero")


def test_adaptive_lif():
    xs = _inputs((5,), scale=2.0)
    rho = np.linspace(0.5, 0.9, 5).astype(F)
    states, outs = _run(snn.AdaptiveLIF([BETA, rho], coupling=0.3, jump=0.4), xs)
    v, w = np.zeros(5, F), np.zeros(5, F)
    for t in range(STEPS):
        v_pre = BETA * v + (xs[t] - w)
        v, s = _fire(v_pre, F(1), "subtract")
        w = rho * w + (1 - rho) * F(0.3) * v_pre + F(0.4) * s
        _assert_close(states[t].v, v)
        _assert_close(states[t].w, w)
        np.testing.assert_array_equal(outs[t], s)
    assert outs.sum() > 0


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_iaf_neurons(reset):
    xs = _inputs((5,), scale=0.8)
    states, outs = _run(snn.SimpleIAF(leak=0.05, reset=reset), xs)
    v = np.zeros(5, F)
    for t in range(STEPS):
        v, s = _fire(v + xs[t] - F(0.05), F(1), reset)
        _assert_close(states[t], v)
        np.testing.assert_array_equal(outs[t], s)
    alpha = np.linspace(0.1, 0.7, 5).astype(F)
    states, outs = _run(snn.IAF(alpha, leak=0.1, reset=reset), xs)
    v, i = np.zeros(5, F), np.zeros(5, F)
    for t in range(STEPS):
        i = alpha * i + xs[t]
        v, s = _fire(v + i - F(0.1), F(1), reset)
        _assert_close(states[t].v, v)
        _assert_close(states[t].i, i)
        np.testing.assert_array_equal(outs[t], s)
    assert outs.sum() > 0


def test_simple_li_with_per_channel_decay_on_a_conv_shape():
    xs = _inputs((2, 3, 3))
    decay = np.array([0.5, 0.9], F).reshape(2, 1, 1)
    states, outs = _run(snn.SimpleLI(decay), xs)
    v = np.zeros((2, 3, 3), F)
    for t in range(STEPS):
        v = decay * v + xs[t]
        _assert_close(outs[t], v)
    _assert_close(states[-1], v)


def test_sigma_delta():
    xs = _inputs((5,), scale=0.6) - F(0.1)
    states, outs = _run(snn.SigmaDelta(threshold=0.5), xs)
    sigma, residue = np.zeros(5, F), np.zeros(5, F)
    for t in range(STEPS):
        new_sigma = sigma + xs[t]
        delta = np.maximum(new_sigma, 0) - np.maximum(sigma, 0) + residue
        s = (delta > 0.5).astype(F)
        residue = delta - F(0.5) * s
        sigma = new_sigma
        _assert_close(states[t].sigma, sigma)
        _assert_close(states[t].residue, residue)
        np.testing.assert_array_equal(outs[t], s)
    # The spikes track the rectified accumulated input to within one quantum.
    assert np.all(np.abs(0.5 * outs.sum(0) - np.maximum(sigma, 0)) <= 0.5 + 1e-6)


def test_srm():
    xs = _inputs((5,), scale=1.5)
    states, outs = _run(snn.SRM([0.3, 0.9, 0.7], refractory_strength=2.0, threshold=0.8), xs)
    p, q, r = np.zeros(5, F), np.zeros(5, F), np.zeros(5, F)
    for t in range(STEPS):
        p = F(0.3) * p + xs[t]
        q = F(0.9) * q + xs[t]
        s = (q - p - r > 0.8).astype(F)
        r = F(0.7) * r + F(2.0) * s
        _assert_close(states[t].refractory, r)
        np.testing.assert_array_equal(outs[t], s)
    assert outs.sum() > 0
    assert np.all(outs[0] == 0)  # the kernel is zero at lag 0


def test_spike_counter():
    xs = (_inputs((4,)) > 0.6).astype(F)
    states, outs = _run(snn.SpikeCounter(), xs)
    np.testing.assert_array_equal(outs, xs)
    np.testing.assert_array_equal(states[-1], xs.sum(0))


def test_sigmoid_parameterisation_stores_the_logit():
    decay = np.array([0.2, 0.5, 0.9], F)
    layer = snn.SimpleLIF(decay, decay_parameterisation="sigmoid")
    _assert_close(np.asarray(layer.decay), np.log(decay / (1 - decay)))
    xs = _inputs((3,))
    _, sigmoid_outs = _run(layer, xs)
    _, direct_outs = _run(snn.SimpleLIF(decay), xs)
    np.testing.assert_array_equal(sigmoid_outs, direct_outs)
    with pytest.raises(ValueError, match=r"'sigmoid', decay must lie in \(0, 1\)"):
        snn.SimpleLIF(1.0, decay_parameterisation="sigmoid")


def test_trainable_threshold_and_decay_gradients():
    xs = jnp.asarray(_inputs((5,)))
    layer = snn.LIF([jnp.asarray(BETA), 0.8], threshold=jnp.full(5, 0.9), reset="subtract")

    @eqx.filter_grad
    def grads(neuron):
        state = neuron.init_state((5,))
        total = 0.0
        for x in xs:
            state, s = neuron(state, x)
            total = total + jnp.sum(s) + 0.1 * jnp.sum(state.v**2)
        return total

    g = grads(layer)
    for leaf in (g.mem_decay, g.syn_decay, g.threshold):
        assert np.all(np.isfinite(np.asarray(leaf))) and float(jnp.abs(leaf).sum()) > 0


def test_stop_reset_grad_changes_the_gradient_as_derived():
    # Two steps of a SimpleLIF (beta=0.5, subtract, threshold 1) with x = (1.5, 0):
    # v0' = 1.5 spikes, v0 = 1.5 - s0; v1 = 0.5 v0. Loss = v1.
    # With the reset's gradient stopped: dv1/dx0 = 0.5. Otherwise both resets pass gradient:
    # dv1/dx0 = 0.5 (1 - g(0.5)) (1 - g(-0.75)) with superspike g(u) = 1 / (1 + 10 |u|)^2.
    def membrane_after_two_steps(x0, stop):
        layer = snn.SimpleLIF(0.5, reset="subtract", stop_reset_grad=stop)
        state = layer.init_state(())
        state, _ = layer(state, x0)
        state, _ = layer(state, jnp.float32(0.0))
        return state

    stopped = jax.grad(membrane_after_two_steps)(jnp.float32(1.5), True)
    flowing = jax.grad(membrane_after_two_steps)(jnp.float32(1.5), False)
    assert float(stopped) == pytest.approx(0.5)
    assert float(flowing) == pytest.approx(0.5 * (1 - 1 / 36) * (1 - 1 / 8.5**2))


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(
        ValueError, match=r"SimpleLIF: decay has shape \(4,\), but the layer's neurons have shape \(5,\)"
    ):
        snn.SimpleLIF(np.full(4, 0.9, F)).init_state((5,))
    with pytest.raises(ValueError, match=r"SimpleLI: decay has shape \(3,\).*\(2, 3, 3\)"):
        snn.SimpleLI(np.full(3, 0.9, F)).init_state((2, 3, 3))
    with pytest.raises(ValueError, match=r"LIF: syn_decay must lie in \[0, 1\]"):
        snn.LIF([0.9, 1.5])
    layer = snn.LIF([0.9, 0.8])
    state = layer.init_state((5,))
    with pytest.raises(ValueError, match=r"LIF: expected an input of shape \(5,\).*got \(4,\)"):
        layer(state, jnp.ones(4))
    with pytest.raises(ValueError, match=r"got \(3, 5\).*extra leading axis of size 3.*jax.vmap"):
        layer(state, jnp.ones((3, 5)))
    with pytest.raises(TypeError, match="LIF: expected a floating-point input"):
        layer(state, jnp.ones(5, jnp.int32))
    with pytest.raises(ValueError, match="reset must be one of"):
        snn.SimpleLIF(0.9, reset="hard")
    with pytest.raises(TypeError, match="either as decay_constants or as"):
        snn.LIF([0.9, 0.8], mem_decay=0.9)
    with pytest.raises(ValueError, match="decay_constants must hold 2 entries"):
        snn.LIF([0.9])
    with pytest.raises(ValueError, match="SRM: fast_decay must be smaller than slow_decay"):
        snn.SRM([0.9, 0.5, 0.5])
    with pytest.raises(TypeError, match="spike_fn must be a SurrogateSpike"):
        snn.SimpleLIF(0.9, spike_fn=lambda x: x)
