"""The discretised ODE neuron (`snn.ODENeuron`), its conventions, and the NIR-named facade neurons."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import snnax_torchlike.snn as snn
from snnax_torchlike import nn
from snnax_torchlike.snn.discretisation import discretise


def _reference(x, *, a_mem, a_syn, g_in, g_mem, v_leak, threshold, v_reset, reset="value", w_rec=None):
    """float64 numpy reference of the documented update; x: [T, N]."""
    steps, n = x.shape
    v = np.full(n, v_leak, np.float64)
    i = np.zeros(n)
    spk_prev = np.zeros(n)
    outs, vs = [], []
    for t in range(steps):
        drive = x[t] + (spk_prev @ w_rec.T if w_rec is not None else 0.0)
        current = g_in * drive if a_syn is None else i + g_in * drive
        v = a_mem * v + (1 - a_mem) * v_leak + g_mem * current
        if a_syn is not None:
            i = a_syn * current
        if threshold is None:
            outs.append(v.copy())
        else:
            s = (v > threshold).astype(np.float64)
            if reset == "value":
                v = (1 - s) * v + s * v_reset
            elif reset == "subtract":
                v = v - s * threshold
            outs.append(s)
            spk_prev = s
        vs.append(v.copy())
    return np.array(outs), np.array(vs)


def _run(layer, x):
    model = snn.Sequential(layer)
    _, outs, states = model(model.init_state(x.shape[1:]), jnp.asarray(x, jnp.float32), record_states=True)
    return np.asarray(outs[-1]), np.asarray(states[0].v)


RNG = np.random.default_rng(0)
X = RNG.uniform(0, 3, (120, 6)).astype(np.float32)


@pytest.mark.parametrize("reset", ["value", "subtract", "none"])
@pytest.mark.parametrize("synapse", [True, False])
def test_matches_reference_for_each_reset_and_synapse(reset, synapse):
    params = dict(
        a_mem=np.linspace(0.8, 0.95, 6), a_syn=0.7 if synapse else None, g_in=0.9, g_mem=0.3,
        v_leak=0.2, threshold=1.1, v_reset=-0.3,
    )  # fmt: skip
    layer = snn.ODENeuron(
        params["a_mem"], syn_decay=params["a_syn"], input_gain=params["g_in"], current_gain=params["g_mem"],
        v_leak=params["v_leak"], threshold=params["threshold"], v_reset=params["v_reset"], reset=reset,
    )  # fmt: skip
    out, v = _run(layer, X)
    ref_out, ref_v = _reference(X.astype(np.float64), reset=reset, **params)
    near = np.abs(ref_v - params["threshold"]) < 1e-5
    assert np.array_equal(out, ref_out) or np.all((out == ref_out) | near)
    np.testing.assert_allclose(v, ref_v, atol=1e-4)
    assert out.sum() > 10  # the neurons fire


def test_non_spiking_integrator_outputs_membrane():
    layer = snn.ODENeuron(0.9, syn_decay=0.8, current_gain=0.1, v_leak=0.5, threshold=None)
    out, v = _run(layer, X)
    ref_out, _ = _reference(X.astype(np.float64), a_mem=0.9, a_syn=0.8, g_in=1.0, g_mem=0.1, v_leak=0.5,
                            threshold=None, v_reset=0.0)  # fmt: skip
    np.testing.assert_allclose(out, ref_out, atol=1e-4)
    np.testing.assert_array_equal(out, v)


def test_recurrent_weight_feeds_back_last_spikes():
    w = RNG.normal(0, 0.5, (6, 6)).astype(np.float32)
    layer = snn.ODENeuron(0.9, syn_decay=0.8, current_gain=0.1, recurrent_weight=w, stop_reset_grad=True)
    out, v = _run(layer, X)
    ref_out, ref_v = _reference(X.astype(np.float64), a_mem=0.9, a_syn=0.8, g_in=1.0, g_mem=0.1, v_leak=0.0,
                                threshold=1.0, v_reset=0.0, w_rec=w.astype(np.float64))  # fmt: skip
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_allclose(v, ref_v, atol=1e-4)


def test_stop_reset_grad_changes_only_the_gradient():
    def loss(layer):
        model = snn.Sequential(layer)
        _, outs = model(model.init_state((6,)), jnp.asarray(X[:30]))
        return outs[-1].sum()

    def make(stop: bool) -> snn.ODENeuron:
        return snn.ODENeuron(jnp.full(6, 0.9), syn_decay=0.8, current_gain=0.2, stop_reset_grad=stop)

    (g_free, g_stop) = (jax.grad(loss)(make(False)).mem_decay, jax.grad(loss)(make(True)).mem_decay)
    assert loss(make(False)) == loss(make(True))
    assert np.all(np.isfinite(g_free)) and np.all(np.isfinite(g_stop))
    assert not np.allclose(g_free, g_stop)


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"ODENeuron: mem_decay has shape \(5,\).*\(6,\)"):
        snn.ODENeuron(jnp.full(5, 0.9)).init_state((6,))
    with pytest.raises(ValueError, match="ODENeuron: reset must be one of"):
        snn.ODENeuron(0.9, reset="zero")
    with pytest.raises(ValueError, match="needs a threshold"):
        snn.ODENeuron(0.9, threshold=None, recurrent_weight=np.eye(3))
    with pytest.raises(ValueError, match=r"recurrent_weight needs a vector input \(N,\) and weights \(N, N\)"):
        snn.ODENeuron(0.9, recurrent_weight=np.eye(3)).init_state((4,))


@pytest.mark.parametrize("convention", ["euler", "norse", "exact"])
def test_conventions_discretise_the_ode(convention):
    dt, tau_mem, tau_syn, r, w_in = 1e-3, 0.02, 0.005, 2.0, 3.0
    c = discretise(convention, dt, tau_mem=tau_mem, r=r, tau_syn=tau_syn, w_in=w_in)
    if convention == "exact":
        a_mem, a_syn = np.exp(-dt / tau_mem), np.exp(-dt / tau_syn)
        expected = (a_mem, a_syn, w_in * (1 - a_syn), r * (1 - a_mem))
    else:
        a_mem, a_syn = 1 - dt / tau_mem, 1 - dt / tau_syn
        g_in = w_in if convention == "norse" else w_in * dt / tau_syn
        expected = (a_mem, a_syn, g_in, r * dt / tau_mem)
    np.testing.assert_allclose([float(v) for v in c], expected, rtol=1e-6)
    integrate = discretise(convention, dt, tau_mem=None, r=r)
    assert float(integrate.current_gain) == pytest.approx(r if convention == "norse" else r * dt)
    assert float(integrate.mem_decay) == 1.0


def test_exact_convention_solves_the_lif_ode_for_constant_input():
    dt, tau, r, current = 1e-3, 0.01, 1.5, 0.8
    layer = nn.LIF(tau, r=r, v_threshold=100.0, dt=dt, convention="exact")
    _, v = nn.Sequential(layer)(np.full((50, 1, 1), current, np.float32))
    t = dt * np.arange(1, 51)
    np.testing.assert_allclose(np.asarray(v)[:, 0, 0], r * current * (1 - np.exp(-t / tau)), rtol=1e-5)


def test_snntorch_convention_gives_beta_v_plus_input():
    beta, dt = 0.9, 1e-4
    tau = dt / (1 - beta)
    layer = nn.LIF(tau, r=tau / dt, v_threshold=100.0, convention="snntorch")
    x = RNG.uniform(0, 1, (40, 1, 3)).astype(np.float32)
    _, v = nn.Sequential(layer)(x)
    expected = np.zeros(3)
    for t in range(40):
        expected = beta * expected + x[t, 0]
        np.testing.assert_allclose(np.asarray(v)[t, 0], expected, rtol=1e-5)


def test_convention_errors():
    with pytest.raises(ValueError, match="CubaLIF: convention must be one of"):
        nn.CubaLIF(0.005, 0.01, convention="rk4")
    with pytest.raises(ValueError, match="LIF: convention 'exact' needs an explicit dt"):
        nn.LIF(0.01, convention="exact")
    with pytest.raises(ValueError, match="dt must be positive"):
        nn.LI(0.01, dt=0.0)


def test_facade_neurons_step_and_state_dict():
    lif = nn.CubaLIF(np.full(4, 0.005), 0.01, v_reset=-0.1, dt=1e-3, learn=["tau_mem"])
    assert list(lif.state_dict()) == ["tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "v_reset", "w_in"]
    assert [name for name, _ in lif.named_parameters()] == ["tau_mem"]
    x = RNG.uniform(0, 40, (20, 3, 4)).astype(np.float32)
    state, outs = None, []
    for t in range(20):
        out, state = lif(x[t], state)
        outs.append(out)
    spk, mem = nn.Sequential(lif)(x)
    np.testing.assert_array_equal(np.stack(outs), spk)
    np.testing.assert_allclose(state.v, mem[-1], atol=1e-6)
    assert spk.sum() > 0
    with pytest.raises(ValueError, match="learn names"):
        nn.LIF(0.01, dt=1e-3, learn=["beta"])
    with pytest.raises(ValueError, match=r"CubaLIF: the state's membrane has shape \(3, 4\)"):
        lif(x[0, :2], state)


def test_facade_nir_parameters_and_kinds():
    assert nn.LI(0.01, dt=1e-3).nir_parameters()[0] == "LI" and not nn.LI.is_neuron
    assert nn.Integrator(dt=1e-3).nir_parameters() == ("I", {"r": np.array(1.0, np.float32)})
    name, params = nn.CubaLIF(0.005, 0.01, w_in=2.0, dt=1e-3).nir_parameters()
    assert name == "CubaLIF" and float(params["w_in"]) == 2.0 and set(params) == set(nn.CubaLIF.parameter_names)
    # IF has no leak: its membrane starts (and resets) at v_reset, as Norse's IAFCell.
    _, v = nn.Sequential(nn.IF(v_reset=0.5, v_threshold=10.0, dt=1e-3, convention="norse"))(np.zeros((3, 1, 2)))
    np.testing.assert_allclose(v, 0.5)
