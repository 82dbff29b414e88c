"""Each core neuron against a hand-written numpy (float32) reference loop over several steps.

The references below are written from the update equations in the neurons'
docstrings and the shared fire/reset rule of ``SpikingNeuron``:
``s = H(v' - threshold)`` with ``H(x) = 1`` iff ``x > 0``; then ``"subtract"``:
``v = v' - s * threshold``, ``"zero"``: ``v = v' * (1 - s)``, ``"none"``: ``v = v'``.
They never call the library. Layers are stepped eagerly in a Python loop.
"""

import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import snnax_torchlike.snn as snn
from snnax_torchlike.snn import surrogate

STEPS = 10
F = np.float32
RESETS = ["subtract", "zero", "none"]

# layout id -> (state shape, shape of a "per-neuron" parameter)
LAYOUTS = {
    "vec": ((5,), (5,)),  # one value per neuron
    "conv_full": ((2, 3, 3), (2, 3, 3)),  # one value per neuron of a conv map
    "conv_channel": ((2, 3, 3), (2, 1, 1)),  # one value per channel
}


# ---------------------------------------------------------------- helpers


def _inputs(shape, lo=-0.3, hi=1.2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(lo, hi, (STEPS,) + tuple(shape)).astype(F)


def _param(shape, lo, hi, seed):
    """Distinct values per entry, so a collapse to neuron 0 (or a wrong axis) would show."""
    n = int(np.prod(shape))
    values = np.linspace(lo, hi, n).astype(F)
    return np.random.default_rng(seed).permutation(values).reshape(shape)


def _run(layer, xs):
    state = layer.init_state(xs.shape[1:])
    states, outs = [], []
    for x in xs:
        state, out = layer(state, jnp.asarray(x))
        states.append(jax.tree_util.tree_map(np.asarray, state))
        outs.append(np.asarray(out))
    return states, np.stack(outs)


def _fire(v_pre, thr, reset):
    s = (v_pre - thr > 0).astype(F)
    if reset == "subtract":
        return (v_pre - s * thr).astype(F), s
    if reset == "zero":
        return (v_pre * (F(1) - s)).astype(F), s
    assert reset == "none"
    return v_pre, s


def _close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=1e-6, atol=1e-6)


def _assert_some_but_not_all_spike(outs):
    assert outs.dtype == F
    assert set(np.unique(outs)) <= {0.0, 1.0}
    assert 0 < outs.mean() < 1, outs.mean()


# ---------------------------------------------------------------- numpy references


def ref_simple_lif(xs, beta, thr, reset, scale_input):
    v = np.zeros(xs.shape[1:], F)
    gain = (F(1) - beta) if scale_input else F(1)
    vs, ss = [], []
    for x in xs:
        v, s = _fire(beta * v + gain * x, thr, reset)
        vs.append(v)
        ss.append(s)
    return vs, ss


def ref_lif(xs, beta, alpha, thr, reset, scale_input):
    v = np.zeros(xs.shape[1:], F)
    i = np.zeros(xs.shape[1:], F)
    c_a, c_b = ((F(1) - alpha), (F(1) - beta)) if scale_input else (F(1), F(1))
    vs, is_, ss = [], [], []
    for x in xs:
        i = alpha * i + c_a * x
        v, s = _fire(beta * v + c_b * i, thr, reset)
        vs.append(v)
        is_.append(i)
        ss.append(s)
    return vs, is_, ss


def ref_adaptive_lif(xs, beta, rho, a, b, thr, reset, scale_input):
    v = np.zeros(xs.shape[1:], F)
    w = np.zeros(xs.shape[1:], F)
    c = (F(1) - beta) if scale_input else F(1)
    vs, ws, ss = [], [], []
    for x in xs:
        v_pre = beta * v + c * (x - w)
        v, s = _fire(v_pre, thr, reset)
        w = rho * w + (F(1) - rho) * a * v_pre + b * s
        vs.append(v)
        ws.append(w)
        ss.append(s)
    return vs, ws, ss


def ref_iaf(xs, alpha, leak, thr, reset):
    v = np.zeros(xs.shape[1:], F)
    i = np.zeros(xs.shape[1:], F)
    vs, is_, ss = [], [], []
    for x in xs:
        i = alpha * i + x
        v, s = _fire(v + i - leak, thr, reset)
        vs.append(v)
        is_.append(i)
        ss.append(s)
    return vs, is_, ss


def ref_simple_iaf(xs, leak, thr, reset):
    v = np.zeros(xs.shape[1:], F)
    vs, ss = [], []
    for x in xs:
        v, s = _fire(v + x - leak, thr, reset)
        vs.append(v)
        ss.append(s)
    return vs, ss


def ref_simple_li(xs, beta, scale_input):
    v = np.zeros(xs.shape[1:], F)
    gain = (F(1) - beta) if scale_input else F(1)
    vs = []
    for x in xs:
        v = beta * v + gain * x
        vs.append(v)
    return vs


def ref_sigma_delta(xs, thr, f=lambda z: np.maximum(z, F(0))):
    sigma = np.zeros(xs.shape[1:], F)
    r = np.zeros(xs.shape[1:], F)
    sigmas, rs, ss = [], [], []
    for x in xs:
        new_sigma = sigma + x
        delta = f(new_sigma) - f(sigma) + r
        s = (delta - thr > 0).astype(F)
        r = delta - thr * s
        sigma = new_sigma
        sigmas.append(sigma)
        rs.append(r)
        ss.append(s)
    return sigmas, rs, ss


def ref_srm(xs, a, b, c, eta, thr):
    p = np.zeros(xs.shape[1:], F)
    q = np.zeros(xs.shape[1:], F)
    rho = np.zeros(xs.shape[1:], F)
    ps, qs, rhos, ss = [], [], [], []
    for x in xs:
        p = a * p + x
        q = b * q + x
        u = q - p - rho
        s = (u - thr > 0).astype(F)
        rho = c * rho + eta * s
        ps.append(p)
        qs.append(q)
        rhos.append(rho)
        ss.append(s)
    return ps, qs, rhos, ss


# ---------------------------------------------------------------- simulations vs references


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("scale_input", [False, True])
def test_simple_lif(layout, reset, scale_input):
    shape, pshape = LAYOUTS[layout]
    beta = _param(pshape, 0.3, 0.95, seed=1)
    xs = _inputs(shape, hi=3.0 if scale_input else 1.2)
    thr = F(0.8)
    states, outs = _run(snn.SimpleLIF(beta, reset=reset, scale_input=scale_input, threshold=0.8), xs)
    vs, ss = ref_simple_lif(xs, beta, thr, reset, scale_input)
    for t in range(STEPS):
        assert states[t].shape == shape
        _close(states[t], vs[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    _assert_some_but_not_all_spike(outs)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("scale_input", [False, True])
def test_lif(layout, reset, scale_input):
    shape, pshape = LAYOUTS[layout]
    beta = _param(pshape, 0.3, 0.95, seed=1)
    alpha = _param(pshape, 0.1, 0.8, seed=2)
    xs = _inputs(shape, hi=4.0 if scale_input else 1.0)
    states, outs = _run(snn.CurrentBasedLIF([beta, alpha], reset=reset, scale_input=scale_input), xs)
    vs, is_, ss = ref_lif(xs, beta, alpha, F(1), reset, scale_input)
    for t in range(STEPS):
        assert isinstance(states[t], snn.CurrentBasedLIFState)
        _close(states[t].v, vs[t])
        _close(states[t].i, is_[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    _assert_some_but_not_all_spike(outs)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_lif_soft_reset(layout):
    shape, pshape = LAYOUTS[layout]
    beta = _param(pshape, 0.3, 0.95, seed=3)
    alpha = _param(pshape, 0.1, 0.8, seed=4)
    xs = _inputs(shape, hi=1.0)
    layer = snn.CurrentBasedLIFSoftReset(mem_decay=beta, syn_decay=alpha, threshold=0.9)
    assert layer.reset == "subtract"
    states, outs = _run(layer, xs)
    vs, is_, ss = ref_lif(xs, beta, alpha, F(0.9), "subtract", False)
    for t in range(STEPS):
        _close(states[t].v, vs[t])
        _close(states[t].i, is_[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    _assert_some_but_not_all_spike(outs)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("scale_input", [False, True])
def test_adaptive_lif(layout, reset, scale_input):
    shape, pshape = LAYOUTS[layout]
    beta = _param(pshape, 0.3, 0.95, seed=5)
    rho = _param(pshape, 0.4, 0.9, seed=6)
    xs = _inputs(shape, hi=5.0 if scale_input else 2.0)
    layer = snn.AdaptiveLIF([beta, rho], coupling=0.3, jump=0.4, reset=reset, scale_input=scale_input)
    states, outs = _run(layer, xs)
    vs, ws, ss = ref_adaptive_lif(xs, beta, rho, F(0.3), F(0.4), F(1), reset, scale_input)
    for t in range(STEPS):
        assert isinstance(states[t], snn.AdaptiveLIFState)
        _close(states[t].v, vs[t])
        _close(states[t].w, ws[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    _assert_some_but_not_all_spike(outs)


def test_adaptive_lif_trainable_coupling_and_jump_arrays():
    shape = (5,)
    beta, rho = _param(shape, 0.5, 0.9, 7), _param(shape, 0.3, 0.8, 8)
    a, b = _param(shape, 0.0, 0.5, 9), _param(shape, 0.1, 0.9, 10)
    xs = _inputs(shape, hi=2.0)
    layer = snn.AdaptiveLIF(mem_decay=beta, adapt_decay=rho, coupling=jnp.asarray(a), jump=jnp.asarray(b))
    states, outs = _run(layer, xs)
    vs, ws, ss = ref_adaptive_lif(xs, beta, rho, a, b, F(1), "subtract", False)
    for t in range(STEPS):
        _close(states[t].v, vs[t])
        _close(states[t].w, ws[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    _assert_some_but_not_all_spike(outs)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reset", RESETS)
def test_iaf(layout, reset):
    shape, pshape = LAYOUTS[layout]
    alpha = _param(pshape, 0.1, 0.7, seed=11)
    xs = _inputs(shape, hi=0.8)
    states, outs = _run(snn.IAF(alpha, leak=0.1, reset=reset), xs)
    vs, is_, ss = ref_iaf(xs, alpha, F(0.1), F(1), reset)
    for t in range(STEPS):
        assert isinstance(states[t], snn.IAFState)
        _close(states[t].v, vs[t])
        _close(states[t].i, is_[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    _assert_some_but_not_all_spike(outs)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reset", RESETS)
def test_simple_iaf(layout, reset):
    shape, pshape = LAYOUTS[layout]
    leak = _param(pshape, 0.0, 0.2, seed=12)  # a per-neuron leak, as an array (trainable)
    xs = _inputs(shape, hi=0.8)
    states, outs = _run(snn.SimpleIAF(leak=jnp.asarray(leak), reset=reset, threshold=0.9), xs)
    vs, ss = ref_simple_iaf(xs, leak, F(0.9), reset)
    for t in range(STEPS):
        _close(states[t], vs[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    _assert_some_but_not_all_spike(outs)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("scale_input", [False, True])
def test_simple_li(layout, scale_input):
    shape, pshape = LAYOUTS[layout]
    beta = _param(pshape, 0.2, 0.95, seed=13)
    xs = _inputs(shape)
    states, outs = _run(snn.SimpleLI(beta, scale_input=scale_input), xs)
    vs = ref_simple_li(xs, beta, scale_input)
    for t in range(STEPS):
        _close(states[t], vs[t])
        _close(outs[t], vs[t])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sigma_delta(layout):
    shape, pshape = LAYOUTS[layout]
    thr = _param(pshape, 0.3, 0.6, seed=14)
    xs = _inputs(shape, lo=-0.4, hi=0.6)
    states, outs = _run(snn.SigmaDelta(threshold=jnp.asarray(thr)), xs)
    sigmas, rs, ss = ref_sigma_delta(xs, thr)
    for t in range(STEPS):
        assert isinstance(states[t], snn.SigmaDeltaState)
        _close(states[t].sigma, sigmas[t])
        _close(states[t].residue, rs[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    _assert_some_but_not_all_spike(outs)


def test_sigma_delta_custom_activation_and_tracking():
    xs = _inputs((5,), lo=-0.2, hi=0.5, seed=15)
    states, outs = _run(snn.SigmaDelta(threshold=0.25, activation=jnp.tanh), xs)
    sigmas, rs, ss = ref_sigma_delta(xs, F(0.25), f=np.tanh)
    for t in range(STEPS):
        _close(states[t].sigma, sigmas[t])
        _close(states[t].residue, rs[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    # With the default ReLU and a rising signal, threshold * spike count tracks f(sigma) within one quantum.
    xs = _inputs((5,), lo=0.0, hi=0.6, seed=16)
    states, outs = _run(snn.SigmaDelta(threshold=0.5), xs)
    err = 0.5 * outs.sum(0) - np.maximum(states[-1].sigma, 0)
    assert np.all(np.abs(err) <= 0.5 + 1e-6) and outs.sum() > 0


@pytest.mark.parametrize("layout", LAYOUTS)
def test_srm(layout):
    shape, pshape = LAYOUTS[layout]
    a = _param(pshape, 0.1, 0.4, seed=17)
    b = _param(pshape, 0.8, 0.95, seed=18)
    c = _param(pshape, 0.5, 0.9, seed=19)
    xs = _inputs(shape, lo=0.0, hi=1.5)
    states, outs = _run(snn.SRM([a, b, c], refractory_strength=2.0, threshold=0.8), xs)
    ps, qs, rhos, ss = ref_srm(xs, a, b, c, F(2.0), F(0.8))
    for t in range(STEPS):
        assert isinstance(states[t], snn.SRMState)
        _close(states[t].fast, ps[t])
        _close(states[t].slow, qs[t])
        _close(states[t].refractory, rhos[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    _assert_some_but_not_all_spike(outs)
    assert np.all(outs[0] == 0)  # the kernel b^k - a^k is 0 at lag 0


def test_srm_named_decays_default_refractory_to_slow():
    layer = snn.SRM(fast_decay=0.3, slow_decay=0.9, threshold=0.5)
    assert float(layer.refractory_decay) == pytest.approx(0.9)
    xs = _inputs((5,), lo=0.0, hi=1.5, seed=20)
    states, outs = _run(layer, xs)
    ps, qs, rhos, ss = ref_srm(xs, F(0.3), F(0.9), F(0.9), F(1.0), F(0.5))
    for t in range(STEPS):
        _close(states[t].refractory, rhos[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    assert outs.sum() > 0


@pytest.mark.parametrize("shape", [(4,), (2, 3, 3)])
def test_spike_counter(shape):
    xs = (_inputs(shape, lo=0.0, hi=1.0, seed=21) > 0.6).astype(F)
    states, outs = _run(snn.SpikeCounter(), xs)
    count = np.zeros(shape, F)
    for t in range(STEPS):
        count = count + xs[t]
        np.testing.assert_array_equal(outs[t], xs[t])
        np.testing.assert_array_equal(states[t], count)
    assert states[-1].max() > 1


# ---------------------------------------------------------------- per-neuron decays, thresholds


def test_per_neuron_decay_equals_separate_scalar_layers():
    # The same input into every neuron: each neuron must follow its own decay.
    beta = np.array([0.2, 0.5, 0.7, 0.9, 0.99], F)
    x_scalar = _inputs((), hi=1.0, seed=22)
    xs = np.repeat(x_scalar[:, None], 5, axis=1)
    states, outs = _run(snn.SimpleLIF(beta, reset="subtract"), xs)
    for k in range(5):
        s_k, o_k = _run(snn.SimpleLIF(float(beta[k]), reset="subtract"), x_scalar)
        _close(np.stack(states)[:, k], np.stack(s_k))
        np.testing.assert_array_equal(outs[:, k], o_k)
    # Neurons differ from neuron 0: no collapse onto one decay.
    assert not np.allclose(np.stack(states)[:, 0], np.stack(states)[:, -1])


# name -> (constructor taking the threshold, numpy reference of the spikes given the inputs and threshold)
THRESHOLD_LAYERS = {
    "SimpleLIF": (
        lambda thr: snn.SimpleLIF(0.8, threshold=thr, reset="subtract"),
        lambda xs, thr: ref_simple_lif(xs, F(0.8), thr, "subtract", False)[-1],
    ),
    "CurrentBasedLIF": (
        lambda thr: snn.CurrentBasedLIF([0.8, 0.5], threshold=thr, reset="subtract"),
        lambda xs, thr: ref_lif(xs, F(0.8), F(0.5), thr, "subtract", False)[-1],
    ),
    "AdaptiveLIF": (
        lambda thr: snn.AdaptiveLIF([0.8, 0.6], threshold=thr),
        lambda xs, thr: ref_adaptive_lif(xs, F(0.8), F(0.6), F(0), F(0.5), thr, "subtract", False)[-1],
    ),
    "IAF": (lambda thr: snn.IAF(0.5, threshold=thr), lambda xs, thr: ref_iaf(xs, F(0.5), F(0), thr, "subtract")[-1]),
    "SimpleIAF": (
        lambda thr: snn.SimpleIAF(threshold=thr),
        lambda xs, thr: ref_simple_iaf(xs, F(0), thr, "subtract")[-1],
    ),
    "SigmaDelta": (lambda thr: snn.SigmaDelta(threshold=thr), lambda xs, thr: ref_sigma_delta(xs * F(0.5), thr)[-1]),
    "SRM": (
        lambda thr: snn.SRM([0.2, 0.9, 0.5], threshold=thr),
        lambda xs, thr: ref_srm(xs, F(0.2), F(0.9), F(0.5), F(1), thr * F(0.5))[-1],
    ),
}


@pytest.mark.parametrize("name", THRESHOLD_LAYERS)
def test_trainable_array_threshold(name):
    make, ref = THRESHOLD_LAYERS[name]
    thr = _param((5,), 0.5, 1.5, seed=23)
    xs = _inputs((5,), lo=0.0, hi=1.0, seed=24)
    # SigmaDelta and SRM get a scaled input / threshold so that some but not all neurons fire.
    if name == "SigmaDelta":
        xs_run, thr_run = xs * F(0.5), thr
    elif name == "SRM":
        xs_run, thr_run = xs, thr * F(0.5)
    else:
        xs_run, thr_run = xs, thr
    layer = make(jnp.asarray(thr_run))
    assert isinstance(layer.threshold, jax.Array) and layer.threshold.shape == (5,)
    _, outs = _run(layer, xs_run)
    expected = ref(xs, thr)
    for t in range(STEPS):
        np.testing.assert_array_equal(outs[t], expected[t])
    _assert_some_but_not_all_spike(outs)

    def loss(neuron, inputs):
        state = neuron.init_state((5,))
        total = 0.0
        for x in inputs:
            state, s = neuron(state, jnp.asarray(x))
            total = total + jnp.sum(s * jnp.arange(1.0, 6.0))
        return total

    g = eqx.filter_grad(loss)(layer, xs_run[:6])
    assert g.threshold.shape == (5,)
    # Raising a threshold can only lower the surrogate spike output: a negative gradient.
    assert np.all(np.isfinite(np.asarray(g.threshold))) and np.all(np.asarray(g.threshold) < 0)
    # A Python float threshold is a fixed hyper-parameter: no gradient.
    assert eqx.filter_grad(loss)(make(1.0), xs_run[:1]).threshold is None


def test_simple_lif_threshold_array_matches_reference_on_conv_shape():
    thr = _param((2, 1, 1), 0.6, 1.1, seed=25)
    beta = _param((2, 3, 3), 0.4, 0.9, seed=26)
    xs = _inputs((2, 3, 3), seed=27)
    states, outs = _run(snn.SimpleLIF(beta, threshold=jnp.asarray(thr), reset="subtract"), xs)
    vs, ss = ref_simple_lif(xs, beta, thr, "subtract", False)
    for t in range(STEPS):
        _close(states[t], vs[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    _assert_some_but_not_all_spike(outs)


# ---------------------------------------------------------------- sigmoid decay parameterisation


def _logit(d):
    d = np.asarray(d, np.float64)
    return np.log(d / (1 - d))


def test_sigmoid_parameterisation_stores_the_logit_and_simulates_the_decay():
    beta = _param((5,), 0.2, 0.9, seed=28)
    alpha = _param((5,), 0.1, 0.8, seed=29)
    xs = _inputs((5,), seed=30)

    layer = snn.SimpleLIF(beta, decay_parameterisation="sigmoid", reset="subtract")
    np.testing.assert_allclose(np.asarray(layer.decay), _logit(beta), rtol=1e-5, atol=1e-6)
    states, outs = _run(layer, xs)
    vs, ss = ref_simple_lif(xs, beta, F(1), "subtract", False)
    for t in range(STEPS):
        _close(states[t], vs[t])
        np.testing.assert_array_equal(outs[t], ss[t])
    _assert_some_but_not_all_spike(outs)

    layer = snn.CurrentBasedLIF([beta, alpha], decay_parameterisation="sigmoid", scale_input=True)
    np.testing.assert_allclose(np.asarray(layer.mem_decay), _logit(beta), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(layer.syn_decay), _logit(alpha), rtol=1e-5, atol=1e-6)
    xs_big = xs * F(4)
    states, outs = _run(layer, xs_big)
    vs, is_, ss = ref_lif(xs_big, beta, alpha, F(1), "zero", True)
    for t in range(STEPS):
        _close(states[t].v, vs[t])
        _close(states[t].i, is_[t])
        np.testing.assert_array_equal(outs[t], ss[t])

    layer = snn.AdaptiveLIF([beta, alpha], decay_parameterisation="sigmoid", coupling=0.2)
    np.testing.assert_allclose(np.asarray(layer.adapt_decay), _logit(alpha), rtol=1e-5, atol=1e-6)
    states, outs = _run(layer, xs * F(2))
    vs, ws, ss = ref_adaptive_lif(xs * F(2), beta, alpha, F(0.2), F(0.5), F(1), "subtract", False)
    for t in range(STEPS):
        _close(states[t].v, vs[t])
        _close(states[t].w, ws[t])
        np.testing.assert_array_equal(outs[t], ss[t])

    layer = snn.IAF(syn_decay=alpha, decay_parameterisation="sigmoid")
    np.testing.assert_allclose(np.asarray(layer.syn_decay), _logit(alpha), rtol=1e-5, atol=1e-6)
    states, outs = _run(layer, xs)
    vs, is_, ss = ref_iaf(xs, alpha, F(0), F(1), "subtract")
    for t in range(STEPS):
        _close(states[t].v, vs[t])
        np.testing.assert_array_equal(outs[t], ss[t])

    layer = snn.SimpleLI(beta, decay_parameterisation="sigmoid", scale_input=True)
    np.testing.assert_allclose(np.asarray(layer.decay), _logit(beta), rtol=1e-5, atol=1e-6)
    states, outs = _run(layer, xs)
    for t, v in enumerate(ref_simple_li(xs, beta, True)):
        _close(outs[t], v)

    a, b, c = F(0.3), F(0.9), F(0.7)
    layer = snn.SRM([a, b, c], decay_parameterisation="sigmoid", threshold=0.5)
    np.testing.assert_allclose(
        [float(layer.fast_decay), float(layer.slow_decay), float(layer.refractory_decay)],
        _logit([a, b, c]),
        rtol=1e-5,
    )
    xs_pos = np.abs(xs)
    states, outs = _run(layer, xs_pos)
    ps, qs, rhos, ss = ref_srm(xs_pos, a, b, c, F(1), F(0.5))
    for t in range(STEPS):
        _close(states[t].refractory, rhos[t])
        np.testing.assert_array_equal(outs[t], ss[t])


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5])
def test_sigmoid_parameterisation_needs_open_unit_interval(bad):
    with pytest.raises(
        ValueError, match=r"SimpleLIF: with decay_parameterisation='sigmoid', decay must lie in \(0, 1\)"
    ):
        snn.SimpleLIF(bad, decay_parameterisation="sigmoid")
    # The direct parameterisation accepts the closed interval's ends.
    if bad in (0.0, 1.0):
        snn.SimpleLIF(bad)


def test_unknown_decay_parameterisation():
    with pytest.raises(ValueError, match=r"CurrentBasedLIF: decay_parameterisation must be one of"):
        snn.CurrentBasedLIF([0.9, 0.8], decay_parameterisation="exp")


# ---------------------------------------------------------------- gradients


def _two_step_membrane(x0, reset, stop):
    layer = snn.SimpleLIF(0.5, reset=reset, stop_reset_grad=stop)
    state = layer.init_state(())
    state, _ = layer(state, x0)
    state, _ = layer(state, jnp.float32(0.0))
    return state


def _superspike_g(u):
    return 1.0 / (1.0 + 10.0 * abs(u)) ** 2


def test_stop_reset_grad_subtract_two_steps_analytic():
    # beta = 0.5, threshold 1, x = (1.5, 0): v0' = 1.5 spikes, v0 = v0' - s0; v1' = 0.5 v0 = 0.25, no spike.
    # Stopped: dv1/dx0 = 0.5. Flowing: each subtract reset contributes (1 - g(v' - 1)),
    # g = superspike(10): dv1/dx0 = 0.5 (1 - g(0.5)) (1 - g(-0.75)).
    stopped = jax.grad(_two_step_membrane)(jnp.float32(1.5), "subtract", True)
    flowing = jax.grad(_two_step_membrane)(jnp.float32(1.5), "subtract", False)
    assert float(stopped) == pytest.approx(0.5, rel=1e-6)
    assert float(flowing) == pytest.approx(0.5 * (1 - _superspike_g(0.5)) * (1 - _superspike_g(-0.75)), rel=1e-6)
    assert float(stopped) != pytest.approx(float(flowing))


def test_stop_reset_grad_zero_two_steps_analytic():
    # Zero reset v = v' (1 - s): dv/dv' = (1 - s) - v' g(v' - 1) when the gradient flows.
    # Step 0: v0' = 1.5, s0 = 1 -> dv0/dx0 = -1.5 g(0.5) (flowing) or 0 (stopped).
    # Step 1: v1' = 0.5 * 0 = 0, s1 = 0 -> dv1/dv1' = 1 - 0 * g(-1) = 1.
    stopped = jax.grad(_two_step_membrane)(jnp.float32(1.5), "zero", True)
    flowing = jax.grad(_two_step_membrane)(jnp.float32(1.5), "zero", False)
    assert float(stopped) == 0.0
    assert float(flowing) == pytest.approx(0.5 * (-1.5 * _superspike_g(0.5)), rel=1e-6)


def test_stop_reset_grad_irrelevant_without_a_spike_or_without_reset():
    # "none": the reset never touches v, so stop_reset_grad cannot matter, spike or not.
    # "subtract" below threshold: no spike, but the surrogate is non-zero, so the flowing
    # variant still picks up the (1 - g) factors of both steps.
    for reset in ("subtract", "none"):
        below = [float(jax.grad(_two_step_membrane)(jnp.float32(0.2), reset, stop)) for stop in (True, False)]
        if reset == "none":
            assert below == [0.5, 0.5]
        else:
            # Subtract, flowing: 0.5 (1 - g(0.2 - 1)) (1 - g(0.1 - 1)); stopped: 0.5.
            assert below[0] == pytest.approx(0.5)
            assert below[1] == pytest.approx(0.5 * (1 - _superspike_g(-0.8)) * (1 - _superspike_g(-0.9)), rel=1e-6)
    spiking = [float(jax.grad(_two_step_membrane)(jnp.float32(1.5), "none", stop)) for stop in (True, False)]
    assert spiking == [0.5, 0.5]


@pytest.mark.parametrize(
    "make",
    [
        lambda stop, reset: snn.SimpleLIF(0.8, reset=reset, stop_reset_grad=stop),
        lambda stop, reset: snn.CurrentBasedLIF([0.8, 0.5], reset=reset, stop_reset_grad=stop),
        lambda stop, reset: snn.CurrentBasedLIFSoftReset([0.8, 0.5], stop_reset_grad=stop),
        lambda stop, reset: snn.AdaptiveLIF([0.8, 0.6], reset=reset, stop_reset_grad=stop),
        lambda stop, reset: snn.IAF(0.5, reset=reset, stop_reset_grad=stop),
        lambda stop, reset: snn.SimpleIAF(reset=reset, stop_reset_grad=stop),
    ],
    ids=["SimpleLIF", "CurrentBasedLIF", "CurrentBasedLIFSoftReset", "AdaptiveLIF", "IAF", "SimpleIAF"],
)
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_stop_reset_grad_changes_input_gradient_when_spiking(make, reset):
    xs = jnp.asarray(_inputs((5,), lo=0.0, hi=1.0, seed=31)[:6])

    def loss(inputs, stop):
        layer = make(stop, reset)
        state = layer.init_state((5,))
        total = 0.0
        for x in inputs:
            state, s = layer(state, x)
            total = total + jnp.sum(s)
        v = state if isinstance(state, jax.Array) else state.v
        return total + jnp.sum(v**2)

    value_stop, g_stop = jax.value_and_grad(loss)(xs, True)
    value_flow, g_flow = jax.value_and_grad(loss)(xs, False)
    # The forward pass is the same; only the backward differs.
    assert float(value_stop) == float(value_flow)
    g_stop, g_flow = np.asarray(g_stop), np.asarray(g_flow)
    assert np.all(np.isfinite(g_stop)) and np.all(np.isfinite(g_flow))
    assert not np.allclose(g_stop, g_flow, rtol=1e-4, atol=1e-6)


# name -> (constructor, names of its decay fields)
DECAY_LAYERS = {
    "SimpleLIF": (lambda p, **kw: snn.SimpleLIF(p[0], reset="subtract", **kw), ["decay"]),
    "CurrentBasedLIF": (
        lambda p, **kw: snn.CurrentBasedLIF([p[0], p[1]], reset="subtract", **kw),
        ["mem_decay", "syn_decay"],
    ),
    "CurrentBasedLIFSoftReset": (
        lambda p, **kw: snn.CurrentBasedLIFSoftReset([p[0], p[1]], **kw),
        ["mem_decay", "syn_decay"],
    ),
    "AdaptiveLIF": (lambda p, **kw: snn.AdaptiveLIF([p[0], p[1]], coupling=0.2, **kw), ["mem_decay", "adapt_decay"]),
    "IAF": (lambda p, **kw: snn.IAF(p[1], **kw), ["syn_decay"]),
    "SimpleLI": (lambda p, **kw: snn.SimpleLI(p[0], **kw), ["decay"]),
    "SRM": (
        lambda p, **kw: snn.SRM([p[1] * F(0.5), p[0], p[1]], threshold=0.3, **kw),
        ["fast_decay", "slow_decay", "refractory_decay"],
    ),
}


def _state_leaves(state):
    return jax.tree_util.tree_leaves(state)


@pytest.mark.parametrize("name", DECAY_LAYERS)
@pytest.mark.parametrize("parameterisation", ["direct", "sigmoid"])
def test_decay_gradients_are_finite_and_nonzero(name, parameterisation):
    make, fields = DECAY_LAYERS[name]
    shape = (5,)
    params = [jnp.asarray(_param(shape, 0.6, 0.95, seed=32)), jnp.asarray(_param(shape, 0.3, 0.7, seed=33))]
    layer = make(params, decay_parameterisation=parameterisation)
    xs = jnp.asarray(_inputs(shape, lo=0.0, hi=1.5, seed=34)[:6])

    def loss(neuron):
        state = neuron.init_state(shape)
        total = 0.0
        for x in xs:
            state, out = neuron(state, x)
            total = total + jnp.sum(out) + 0.1 * sum(jnp.sum(leaf**2) for leaf in _state_leaves(state))
        return total

    g = eqx.filter_grad(loss)(layer)
    for field in fields:
        grad = np.asarray(getattr(g, field))
        assert grad.shape == shape, field
        assert np.all(np.isfinite(grad)), field
        assert np.all(grad != 0), (field, grad)


def test_simple_li_decay_gradient_equals_analytic():
    # v_t = beta v_{t-1} + x_t  =>  dv_t/dbeta = v_{t-1} + beta dv_{t-1}/dbeta. Loss = sum_t sum(v_t).
    beta = _param((5,), 0.3, 0.9, seed=35)
    xs = _inputs((5,), seed=36)
    v = np.zeros(5)
    dv = np.zeros(5)
    total = np.zeros(5)
    for x in xs.astype(np.float64):
        dv = v + beta * dv
        v = beta * v + x
        total += dv

    def loss(neuron):
        state = neuron.init_state((5,))
        acc = 0.0
        for x in xs:
            state, out = neuron(state, jnp.asarray(x))
            acc = acc + jnp.sum(out)
        return acc

    g_direct = eqx.filter_grad(loss)(snn.SimpleLI(jnp.asarray(beta))).decay
    np.testing.assert_allclose(np.asarray(g_direct), total, rtol=1e-5)
    # With the sigmoid parameterisation the logit is trained: chain rule through sigmoid.
    g_sigmoid = eqx.filter_grad(loss)(snn.SimpleLI(jnp.asarray(beta), decay_parameterisation="sigmoid")).decay
    np.testing.assert_allclose(np.asarray(g_sigmoid), total * beta * (1 - beta), rtol=1e-4)


# ---------------------------------------------------------------- SNNAX positional decays


def test_snnax_positional_list_order():
    layer = snn.CurrentBasedLIF([0.9, 0.8])
    assert float(layer.mem_decay) == pytest.approx(0.9) and float(layer.syn_decay) == pytest.approx(0.8)
    assert layer.mem_decay.dtype == jnp.float32
    xs = _inputs((5,), seed=37)
    pos_states, pos_outs = _run(layer, xs)
    named_states, named_outs = _run(snn.CurrentBasedLIF(mem_decay=0.9, syn_decay=0.8), xs)
    np.testing.assert_array_equal(pos_outs, named_outs)
    _close(pos_states[-1].v, named_states[-1].v)
    vs, is_, ss = ref_lif(xs, F(0.9), F(0.8), F(1), "zero", False)
    _close(pos_states[-1].v, vs[-1])
    _close(pos_states[-1].i, is_[-1])
    # An array with a leading axis over the names means the same.
    arr = snn.CurrentBasedLIF(np.array([0.9, 0.8], F))
    assert float(arr.mem_decay) == pytest.approx(0.9) and float(arr.syn_decay) == pytest.approx(0.8)
    # The other multi-decay neurons follow their documented order.
    alif = snn.AdaptiveLIF([0.9, 0.7])
    assert float(alif.mem_decay) == pytest.approx(0.9) and float(alif.adapt_decay) == pytest.approx(0.7)
    srm = snn.SRM([0.2, 0.9, 0.6])
    assert [float(srm.fast_decay), float(srm.slow_decay), float(srm.refractory_decay)] == pytest.approx([0.2, 0.9, 0.6])
    assert float(snn.SimpleLIF([0.7]).decay) == pytest.approx(0.7)
    assert float(snn.IAF([0.4]).syn_decay) == pytest.approx(0.4)
    assert float(snn.SimpleLI([0.3]).decay) == pytest.approx(0.3)


def test_lif_soft_reset_equals_lif_subtract():
    xs = _inputs((5,), seed=38)
    soft_states, soft_outs = _run(snn.CurrentBasedLIFSoftReset([0.9, 0.8]), xs)
    sub_states, sub_outs = _run(snn.CurrentBasedLIF([0.9, 0.8], reset="subtract"), xs)
    np.testing.assert_array_equal(soft_outs, sub_outs)
    for a, b in zip(soft_states, sub_states):
        _close(a.v, b.v)
        _close(a.i, b.i)


def test_vmap_over_a_batch_equals_per_sample_steps():
    layer = snn.CurrentBasedLIF([_param((5,), 0.4, 0.9, 39), 0.6], reset="subtract")
    xs = _inputs((3, 5), seed=40)[:5]  # (time, batch, neurons)
    state = jax.vmap(lambda _: layer.init_state((5,)))(jnp.arange(3))
    outs = []
    for x in xs:
        state, s = jax.vmap(layer)(state, jnp.asarray(x))
        outs.append(np.asarray(s))
    for b in range(3):
        _, o_b = _run(layer, xs[:, b])
        np.testing.assert_array_equal(np.stack(outs)[:, b], o_b)


# ---------------------------------------------------------------- errors


# name -> (constructor with a given decay for one of its decays, that decay's name)
WRONG_SHAPE = {
    "SimpleLIF": (lambda d: snn.SimpleLIF(d), "decay"),
    "CurrentBasedLIF": (lambda d: snn.CurrentBasedLIF(mem_decay=d, syn_decay=0.5), "mem_decay"),
    "CurrentBasedLIF_syn": (lambda d: snn.CurrentBasedLIF(mem_decay=0.5, syn_decay=d), "syn_decay"),
    "CurrentBasedLIFSoftReset": (lambda d: snn.CurrentBasedLIFSoftReset([0.5, d]), "syn_decay"),
    "AdaptiveLIF": (lambda d: snn.AdaptiveLIF(mem_decay=0.5, adapt_decay=d), "adapt_decay"),
    "IAF": (lambda d: snn.IAF(d), "syn_decay"),
    "SimpleLI": (lambda d: snn.SimpleLI(d), "decay"),
    "SRM": (lambda d: snn.SRM([0.1, d, 0.5]), "slow_decay"),
}


def _layer_name(layer):
    return type(layer).__name__


@pytest.mark.parametrize("name", WRONG_SHAPE)
@pytest.mark.parametrize(
    ("decay_shape", "state_shape"),
    [((4,), (5,)), ((3,), (2, 3, 3)), ((2, 3), (2, 3, 3)), ((3, 1, 1), (2, 3, 3)), ((5, 1), (5,))],
)
def test_wrong_decay_shape_raises_at_init_state(name, decay_shape, state_shape):
    make, field = WRONG_SHAPE[name]
    layer = make(np.full(decay_shape, 0.6, F))  # construction does not know the neurons' shape yet
    layer_name = _layer_name(layer)
    msg = f"{layer_name}: {field} has shape {decay_shape}, but the layer's neurons have shape {state_shape}"
    with pytest.raises(ValueError, match=re.escape(msg)):
        layer.init_state(state_shape)


def test_broadcastable_per_channel_shapes_are_accepted():
    for pshape in [(2, 1, 1), (1, 3, 1), (1, 1, 3), (2, 3, 3), ()]:
        layer = snn.SimpleLIF(np.full(pshape, 0.5, F), threshold=jnp.full(pshape, 0.7))
        assert layer.init_state((2, 3, 3)).shape == (2, 3, 3)


@pytest.mark.parametrize(
    "make",
    [
        lambda t: snn.SimpleLIF(0.5, threshold=t),
        lambda t: snn.SigmaDelta(threshold=t),
        lambda t: snn.SRM([0.1, 0.5, 0.5], threshold=t),
        lambda t: snn.SimpleIAF(leak=t),
    ],
    ids=["SimpleLIF", "SigmaDelta", "SRM", "SimpleIAF_leak"],
)
def test_wrong_threshold_or_leak_shape_raises_at_init_state(make):
    layer = make(jnp.full((4,), 0.5))
    with pytest.raises(ValueError, match=rf"{_layer_name(layer)}: \w+ has shape \(4,\), but .* shape \(5,\)"):
        layer.init_state((5,))


OUT_OF_RANGE = [
    ("SimpleLIF", "decay", lambda d: snn.SimpleLIF(d)),
    ("CurrentBasedLIF", "mem_decay", lambda d: snn.CurrentBasedLIF([d, 0.5])),
    ("CurrentBasedLIF", "syn_decay", lambda d: snn.CurrentBasedLIF(mem_decay=0.5, syn_decay=d)),
    ("CurrentBasedLIFSoftReset", "mem_decay", lambda d: snn.CurrentBasedLIFSoftReset([d, 0.5])),
    ("AdaptiveLIF", "adapt_decay", lambda d: snn.AdaptiveLIF([0.5, d])),
    ("IAF", "syn_decay", lambda d: snn.IAF(syn_decay=d)),
    ("SimpleLI", "decay", lambda d: snn.SimpleLI(d)),
    ("SRM", "refractory_decay", lambda d: snn.SRM([0.1, 0.5, d])),
]


@pytest.mark.parametrize(("layer_name", "field", "make"), OUT_OF_RANGE)
@pytest.mark.parametrize("bad", [-0.1, 1.5, np.array([0.5, 1.01, 0.2], F), float("nan")])
def test_decay_outside_unit_interval_raises_at_construction(layer_name, field, make, bad):
    must = r"must not be NaN" if np.isnan(bad).any() else r"must lie in \[0, 1\]"
    with pytest.raises(ValueError, match=rf"^{layer_name}: {field} {must}"):
        make(bad)


# name -> (layer, per-sample shape)
ALL_LAYERS = {
    "SimpleLIF": lambda: snn.SimpleLIF(0.9),
    "CurrentBasedLIF": lambda: snn.CurrentBasedLIF([0.9, 0.8]),
    "CurrentBasedLIFSoftReset": lambda: snn.CurrentBasedLIFSoftReset([0.9, 0.8]),
    "AdaptiveLIF": lambda: snn.AdaptiveLIF([0.9, 0.8]),
    "IAF": lambda: snn.IAF(0.8),
    "SimpleIAF": lambda: snn.SimpleIAF(),
    "SimpleLI": lambda: snn.SimpleLI(0.9),
    "SigmaDelta": lambda: snn.SigmaDelta(),
    "SRM": lambda: snn.SRM([0.2, 0.9, 0.8]),
    "SpikeCounter": lambda: snn.SpikeCounter(),
}


@pytest.mark.parametrize("name", ALL_LAYERS)
def test_wrong_input_shape_raises_naming_layer_and_shapes(name):
    layer = ALL_LAYERS[name]()
    state = layer.init_state((5,))
    with pytest.raises(ValueError, match=rf"^{name}: expected an input of shape \(5,\).*got \(4,\)\.$"):
        layer(state, jnp.ones(4))
    # An extra leading axis gets the batch/time hint.
    with pytest.raises(
        ValueError, match=rf"^{name}: .*\(5,\).*got \(3, 5\)\..*extra leading axis of size 3.*jax\.vmap"
    ):
        layer(state, jnp.ones((3, 5)))
    conv_state = layer.init_state((2, 3, 3))
    with pytest.raises(ValueError, match=r"extra leading axis of size 4") as info:
        layer(conv_state, jnp.ones((4, 2, 3, 3)))
    assert "(2, 3, 3)" in str(info.value) and "(4, 2, 3, 3)" in str(info.value)
    # A same-rank mismatch has no batch hint.
    with pytest.raises(ValueError, match=r"expected an input of shape \(2, 3, 3\)") as info:
        layer(conv_state, jnp.ones((2, 3, 4)))
    assert "leading axis" not in str(info.value)


@pytest.mark.parametrize("name", ALL_LAYERS)
def test_non_float_input_raises_type_error(name):
    layer = ALL_LAYERS[name]()
    state = layer.init_state((5,))
    for bad in (jnp.ones(5, jnp.int32), jnp.ones(5, bool)):
        with pytest.raises(TypeError, match=rf"^{name}: expected a floating-point input, got dtype"):
            layer(state, bad)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("SimpleLIF", lambda r: snn.SimpleLIF(0.9, reset=r)),
        ("CurrentBasedLIF", lambda r: snn.CurrentBasedLIF([0.9, 0.8], reset=r)),
        ("AdaptiveLIF", lambda r: snn.AdaptiveLIF([0.9, 0.8], reset=r)),
        ("IAF", lambda r: snn.IAF(0.8, reset=r)),
        ("SimpleIAF", lambda r: snn.SimpleIAF(reset=r)),
    ],
)
@pytest.mark.parametrize("bad", ["hard", "soft", "Subtract", None])
def test_unknown_reset_mode_raises(name, make, bad):
    with pytest.raises(ValueError, match=rf"^{name}: reset must be one of \('subtract', 'zero', 'none'\)"):
        make(bad)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("CurrentBasedLIF", lambda: snn.CurrentBasedLIF([0.9, 0.8], mem_decay=0.9)),
        ("CurrentBasedLIF", lambda: snn.CurrentBasedLIF([0.9, 0.8], syn_decay=0.8)),
        ("CurrentBasedLIFSoftReset", lambda: snn.CurrentBasedLIFSoftReset([0.9, 0.8], mem_decay=0.9)),
        ("AdaptiveLIF", lambda: snn.AdaptiveLIF([0.9, 0.8], adapt_decay=0.8)),
        ("IAF", lambda: snn.IAF(0.8, syn_decay=0.8)),
        ("SRM", lambda: snn.SRM([0.2, 0.9, 0.8], fast_decay=0.2)),
    ],
)
def test_both_positional_and_named_decays_raise_type_error(name, make):
    with pytest.raises(TypeError, match=rf"^{name}: pass the decays either as decay_constants or as"):
        make()


def test_missing_or_miscounted_decays():
    with pytest.raises(TypeError, match=r"CurrentBasedLIF: missing decay constant\(s\) \['syn_decay'\]"):
        snn.CurrentBasedLIF(mem_decay=0.9)
    with pytest.raises(
        ValueError, match=r"CurrentBasedLIF: decay_constants must hold 2 entries \(mem_decay, syn_decay\), got 1"
    ):
        snn.CurrentBasedLIF([0.9])
    with pytest.raises(ValueError, match=r"SimpleLIF: decay_constants must hold 1 entry \(decay\), got 2"):
        snn.SimpleLIF([0.9, 0.8])
    with pytest.raises(ValueError, match=r"SRM: decay_constants must hold 3 entries"):
        snn.SRM([0.2, 0.9])


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
def test_lif_soft_reset_rejects_reset(reset):
    with pytest.raises(TypeError, match=r"CurrentBasedLIFSoftReset: the reset is always 'subtract'"):
        snn.CurrentBasedLIFSoftReset([0.9, 0.8], reset=reset)


@pytest.mark.parametrize(
    "make",
    [
        lambda: snn.SRM([0.9, 0.5, 0.5]),
        lambda: snn.SRM([0.5, 0.5, 0.5]),
        lambda: snn.SRM(fast_decay=0.95, slow_decay=0.9),
        lambda: snn.SRM([np.array([0.1, 0.6, 0.2], F), np.array([0.5, 0.5, 0.5], F), 0.5]),
    ],
    ids=["greater", "equal", "named", "one_neuron_of_an_array"],
)
def test_srm_rejects_fast_decay_not_below_slow_decay(make):
    with pytest.raises(ValueError, match=r"^SRM: fast_decay must be smaller than slow_decay"):
        make()


def test_spike_fn_must_be_a_surrogate():
    with pytest.raises(TypeError, match=r"SimpleLIF: spike_fn must be a SurrogateSpike"):
        snn.SimpleLIF(0.9, spike_fn=lambda x: x)
    with pytest.raises(TypeError, match=r"SigmaDelta: spike_fn must be a SurrogateSpike"):
        snn.SigmaDelta(spike_fn=jnp.tanh)


def test_custom_spike_fn_is_used_in_the_backward_pass():
    layer = snn.SimpleLIF(0.5, spike_fn=surrogate.straight_through(), reset="none")
    state = layer.init_state(())
    # One step: s = H(x - 1), ds/dx = 1 with the straight-through estimator.
    g = jax.grad(lambda x: layer(state, x)[1])(jnp.float32(0.3))
    assert float(g) == 1.0
    layer = snn.SimpleLIF(0.5, spike_fn=surrogate.triangular(2.0), reset="none")
    g = jax.grad(lambda x: layer(state, x)[1])(jnp.float32(0.3))
    assert float(g) == pytest.approx(max(0.0, 1 - 0.7 / 2.0) / 2.0)
