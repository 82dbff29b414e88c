"""The graph model and the time loop: timing, delays, merging, keys, batching, gradients, errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import snnax_torchlike.snn as snn


def _identity_neuron():
    # Integrate-and-fire with threshold 0.5 and zero reset: a unit impulse in gives one spike out
    # at the same step, and nothing is left over.
    return snn.SimpleIAF(threshold=0.5, reset="zero")


def _impulse(steps=6, at=0, size=1):
    return jnp.zeros((steps, size)).at[at].set(1.0)


def test_feed_forward_impulse_reaches_output_at_t0():
    model = snn.Sequential(*[_identity_neuron() for _ in range(4)], output_layer_ids=range(4))
    _, outs = model(model.init_state((1,)), _impulse())
    for layer_out in outs:
        np.testing.assert_array_equal(np.asarray(layer_out[:, 0]), [1, 0, 0, 0, 0, 0])


def test_feed_forward_impulse_with_explicit_delays():
    graph = snn.GraphStructure(4, [[0], [], [], []], [[], [0], [(1, 2)], [2]], output_layer_ids=[0, 1, 2, 3])
    model = snn.StatefulModel(graph, [_identity_neuron() for _ in range(4)])
    _, outs = model(model.init_state((1,)), _impulse())
    first_spike = [int(np.argmax(np.asarray(o[:, 0]))) for o in outs]
    assert first_spike == [0, 0, 2, 2]


def test_declared_feedback_edge_responds_one_step_later():
    # 0: a readout without memory (LI, decay 0) summing the input and the feedback;
    # 1: a spiking layer reading 0 in the same step; 2: a gain of 0.3 (below the
    # threshold) reading 1, fed back into 0 with delay 1.
    graph = snn.GraphStructure(3, [[0], [], []], [[(2, 1)], [0], [1]], output_layer_ids=[0, 1])
    model = snn.StatefulModel(graph, [snn.SimpleLI(0.0), _identity_neuron(), lambda x: 0.3 * x])
    _, (readout, spikes) = model(model.init_state((1,)), _impulse(steps=5))
    np.testing.assert_array_equal(np.asarray(spikes[:, 0]), [1, 0, 0, 0, 0])
    # The spike at t=0 comes back through the delayed edge at t=1 (not t=0, not t=2).
    np.testing.assert_allclose(np.asarray(readout[:, 0]), [1.0, 0.3, 0.0, 0.0, 0.0], rtol=1e-6)


def test_self_recurrence_reads_previous_step():
    # v_t = x_t + 0.5 * out_{t-1} with a linear self-edge through a scale layer.
    graph = snn.GraphStructure(2, [[0], []], [[(1, 1)], [0]], output_layer_ids=[0])
    model = snn.StatefulModel(graph, [lambda x: x, lambda x: 0.5 * x])
    x = jnp.array([[1.0], [0.0], [0.0], [2.0]])
    _, (out,) = model(model.init_state((1,)), x)
    np.testing.assert_allclose(np.asarray(out[:, 0]), [1.0, 0.5, 0.25, 2.125])


def test_self_edge_on_one_layer():
    graph = snn.GraphStructure(1, [[0]], [[(0, 1)]])
    model = snn.StatefulModel(graph, [lambda x: 0.5 * x])
    _, (out,) = model(model.init_state((1,)), jnp.array([[2.0], [0.0], [0.0]]))
    np.testing.assert_allclose(np.asarray(out[:, 0]), [1.0, 0.5, 0.25])


def test_long_delay_buffer():
    graph = snn.GraphStructure(2, [[0], [0]], [[], [(0, 3)]], output_layer_ids=[1], merge=["sum", "tuple"])
    model = snn.StatefulModel(graph, [lambda x: x, lambda xs: xs[1] * 10.0 + xs[0]])
    x = jnp.arange(1.0, 7.0)[:, None]
    _, (out,) = model(model.init_state((1,)), x)
    delayed = np.array([0, 0, 0, 1, 2, 3])
    np.testing.assert_allclose(np.asarray(out[:, 0]), delayed * 10 + np.arange(1, 7))


def test_skip_connection_and_multi_input_sum_and_concat():
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    lin_a = eqx.nn.Linear(3, 4, key=k1)
    lin_b = eqx.nn.Linear(3, 4, key=k2)
    x = jax.random.normal(jax.random.PRNGKey(1), (5, 3))
    summed = snn.StatefulModel(snn.GraphStructure(3, [[0], [0], []], [[], [], [0, 1]]), [lin_a, lin_b, lambda z: z])
    _, (out,) = summed(summed.init_state((3,)), x)
    expected = jax.vmap(lin_a)(x) + jax.vmap(lin_b)(x)
    np.testing.assert_allclose(np.asarray(out), np.asarray(expected), rtol=1e-5, atol=1e-6)

    concat = snn.StatefulModel(
        snn.GraphStructure(3, [[0], [0], []], [[], [], [0, 1]], merge=["sum", "sum", "concat"]),
        [lin_a, lin_b, lambda z: z],
    )
    _, (out,) = concat(concat.init_state((3,)), x)
    assert out.shape == (5, 8)
    np.testing.assert_allclose(np.asarray(out[:, 4:]), np.asarray(jax.vmap(lin_b)(x)), rtol=1e-6, atol=1e-6)

    # skip: layer 2 sums layer 1 (two hops) and layer 0 (one hop)
    skip = snn.StatefulModel(
        snn.GraphStructure(3, [[0], [], []], [[], [0], [0, 1]]),
        [lambda z: z * 2.0, lambda z: z + 1.0, lambda z: z],
    )
    _, (out,) = skip(skip.init_state((3,)), x)
    np.testing.assert_allclose(np.asarray(out), np.asarray(4 * x + 1), rtol=1e-6, atol=1e-6)


def test_two_external_inputs():
    graph = snn.GraphStructure(2, [[0], [1]], [[], [0]])
    model = snn.StatefulModel(graph, [lambda x: 2.0 * x, lambda x: x])
    a = jnp.ones((4, 2))
    b = jnp.full((4, 2), 3.0)
    _, (out,) = model(model.init_state(((2,), (2,))), (a, b))
    np.testing.assert_allclose(np.asarray(out), 5.0)


def test_composite_layers():
    x = jnp.arange(6.0).reshape(3, 2)
    residual = snn.Sequential(snn.Residual(lambda z: 3.0 * z))
    _, (out,) = residual(residual.init_state((2,)), x)
    np.testing.assert_allclose(np.asarray(out), np.asarray(4 * x))

    parallel = snn.Sequential(snn.Parallel(lambda z: z, lambda z: 10.0 * z))
    _, (out,) = parallel(parallel.init_state((2,)), x)
    np.testing.assert_allclose(np.asarray(out), np.asarray(11 * x))

    compound = snn.Sequential(snn.CompoundLayer(lambda z: z + 1.0, snn.SimpleLI(0.5)))
    _, (out,) = compound(compound.init_state((2,)), x)
    expected, v = [], np.zeros(2)
    for t in range(3):
        v = 0.5 * v + (np.asarray(x[t]) + 1.0)
        expected.append(v)
    np.testing.assert_allclose(np.asarray(out), np.array(expected), rtol=1e-6)

    # A recurrent unit: the neuron sums a feed-forward path and its own delayed output.
    recurrent = snn.StatefulModel(
        snn.GraphStructure(3, [[0], [], []], [[], [0, (2, 1)], [1]], output_layer_ids=[1]),
        [lambda z: z, snn.SimpleLI(0.0), lambda z: 0.5 * z],
    )
    _, (out,) = recurrent(recurrent.init_state((2,)), x)
    np.testing.assert_allclose(np.asarray(out[1]), np.asarray(x[1] + 0.5 * x[0]), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(out[2]), np.asarray(x[2] + 0.5 * x[1] + 0.25 * x[0]), rtol=1e-6)

    # A tuple-merged recurrent node cannot have its shape inferred: a clear error says why.
    unresolvable = snn.StatefulModel(
        snn.GraphStructure(1, [[0]], [[(0, 1)]], merge="tuple"),
        [snn.Parallel(lambda z: z, lambda z: 0.5 * z)],
    )
    with pytest.raises(ValueError, match=r"cannot infer the input shapes of \[layer 0 \(Parallel\)\]"):
        unresolvable.init_state((2,))


def test_residual_shape_mismatch_raises():
    model = snn.Sequential(snn.Residual(eqx.nn.Linear(3, 4, key=jax.random.PRNGKey(0))))
    with pytest.raises(ValueError, match=r"Residual.*\(3,\).*\(4,\)"):
        model.init_state((3,))


def test_burn_in_discards_outputs_and_stops_gradient():
    model = snn.Sequential(snn.SimpleLI(0.9))
    x = jnp.ones((10, 2))
    full_state, (full,) = model(model.init_state((2,)), x)
    burnt_state, (burnt,) = model(model.init_state((2,)), x, burn_in=4)
    assert burnt.shape == (6, 2)
    np.testing.assert_allclose(np.asarray(burnt), np.asarray(full[4:]), rtol=1e-6)

    def loss(x_seq, burn_in):
        _, (out,) = model(model.init_state((2,)), x_seq, burn_in=burn_in)
        return out.sum()

    grad = jax.grad(loss)(x, 4)
    np.testing.assert_array_equal(np.asarray(grad[:4]), 0.0)
    assert np.all(np.asarray(grad[4:]) > 0)
    with pytest.raises(ValueError, match="burn_in"):
        model(model.init_state((2,)), x, burn_in=10)


def test_fresh_key_per_step_and_layer():
    dropout_model = snn.Sequential(eqx.nn.Dropout(0.5), eqx.nn.Dropout(0.5), output_layer_ids=[0, 1])
    x = jnp.ones((8, 64))
    _, (first, second) = dropout_model(dropout_model.init_state((64,)), x, jax.random.PRNGKey(0))
    masks = np.asarray(first) != 0
    # Every step draws a new mask; no two steps share one.
    assert len({m.tobytes() for m in masks}) == 8
    # The two layers draw different masks at the same step.
    second_of_first = np.asarray(second) != 0
    assert not np.array_equal(masks, second_of_first | ~masks)
    # Same key, same masks: deterministic.
    _, (again, _) = dropout_model(dropout_model.init_state((64,)), x, jax.random.PRNGKey(0))
    np.testing.assert_array_equal(np.asarray(again), np.asarray(first))


def _mlp(key):
    k1, k2 = jax.random.split(key)
    return snn.Sequential(
        eqx.nn.Linear(6, 16, key=k1),
        snn.CurrentBasedLIF([0.9, 0.8], reset="subtract"),
        eqx.nn.Linear(16, 3, key=k2),
        snn.SimpleLIF(0.95, threshold=0.5),
    )


def test_vmap_equals_python_loop_over_samples():
    model = _mlp(jax.random.PRNGKey(0))
    state = model.init_state((6,))
    xs = jax.random.uniform(jax.random.PRNGKey(1), (4, 12, 6)) * 2.0
    _, (batched,) = jax.vmap(lambda x: model(state, x))(xs)
    for b in range(4):
        _, (single,) = model(state, xs[b])
        np.testing.assert_allclose(np.asarray(batched[b]), np.asarray(single), rtol=1e-6, atol=1e-6)
    assert float(batched.sum()) > 0  # the comparison is not between all-zero outputs


def test_gradients_through_scan_are_finite_and_nonzero():
    model = _mlp(jax.random.PRNGKey(0))
    state = model.init_state((6,))
    xs = jax.random.uniform(jax.random.PRNGKey(1), (4, 20, 6)) * 2.0

    @eqx.filter_grad
    def grads(m):
        _, (out,) = jax.vmap(lambda x: m(state, x))(xs)
        return jnp.mean((out.sum(axis=1) - 3.0) ** 2)

    g = grads(model)
    leaves = jax.tree_util.tree_leaves(eqx.filter(g, eqx.is_inexact_array))
    assert leaves
    for leaf in leaves:
        assert np.all(np.isfinite(np.asarray(leaf)))
    assert float(jnp.abs(g.layers[0].weight).sum()) > 0  # reaches the first layer through 2 neurons
    assert float(jnp.abs(g.layers[1].mem_decay).sum()) > 0  # decays are trained


def test_graph_construction_errors():
    with pytest.raises(ValueError, match=r"cycle 0 -> 1 -> 0 has no delay"):
        snn.GraphStructure(2, [[0], []], [[1], [0]])
    with pytest.raises(ValueError, match="layer 1 has an edge from layer 5"):
        snn.GraphStructure(2, [[0], []], [[], [5]])
    with pytest.raises(ValueError, match="layer 1 has no input"):
        snn.GraphStructure(2, [[0], []], [[], []])
    with pytest.raises(ValueError, match="one entry per layer"):
        snn.GraphStructure(3, [[0], []], [[], [0]])
    with pytest.raises(ValueError, match="negative delay"):
        snn.GraphStructure(2, [[0], []], [[], [(0, -1)]])
    with pytest.raises(ValueError, match="merge"):
        snn.GraphStructure(1, [[0]], [[]], merge="product")
    with pytest.raises(ValueError, match="graph has 2 layers, but 3 were given"):
        snn.StatefulModel(snn.gen_feed_forward_struct(2), [lambda x: x] * 3)


def test_mismatched_connectivity_shapes_raise_at_init():
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    graph = snn.GraphStructure(3, [[0], [0], []], [[], [], [0, 1]])
    model = snn.StatefulModel(graph, [eqx.nn.Linear(3, 4, key=k1), eqx.nn.Linear(3, 5, key=k2), lambda z: z])
    with pytest.raises(
        ValueError, match=r"layer 2 .* sums inputs of different shapes.*layer 0 \(Linear\): \(4,\).*layer 1 \(Linear\): \(5,\)"
    ):
        model.init_state((3,))


def test_wrong_input_shapes_raise_with_names():
    model = _mlp(jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"layer 0 \(Linear\).*\(7,\).*\(6,\)"):
        model.init_state((7,))
    state = model.init_state((6,))
    with pytest.raises(ValueError, match="no time axis"):
        model(state, jnp.ones((6,)))
    with pytest.raises(ValueError, match="extra axis of size 4.*jax.vmap"):
        model(state, jnp.ones((10, 4, 6)))
    with pytest.raises(ValueError, match=r"\[T, \*\(6,\)\].*\(10, 5\)"):
        model(state, jnp.ones((10, 5)))
    with pytest.raises(TypeError, match="floating point"):
        model(state, jnp.ones((10, 6), dtype=jnp.int32))
    with pytest.raises(TypeError, match="init_state"):
        model([None], jnp.ones((10, 6)))
    with pytest.raises(ValueError, match=r"CurrentBasedLIF.*mem_decay has shape \(3,\).*\(16,\)"):
        neuron = snn.CurrentBasedLIF([jnp.full(3, 0.9), 0.8])
        snn.Sequential(eqx.nn.Linear(6, 16, key=jax.random.PRNGKey(0)), neuron).init_state((6,))


def test_pooling_and_flatten():
    x = jnp.zeros((1, 4, 4)).at[0, 0, 1].set(1.0).at[0, 3, 3].set(1.0).at[0, 2, 3].set(1.0)
    np.testing.assert_array_equal(np.asarray(snn.SpikingMaxPool2d(2)(x))[0], [[1, 0], [0, 1]])
    np.testing.assert_array_equal(np.asarray(snn.SpikingAvgPool2d(2)(x))[0], [[0, 0], [0, 0]])
    np.testing.assert_array_equal(np.asarray(snn.SpikingAvgPool2d(2, threshold=0.4)(x))[0], [[0, 0], [0, 1]])
    assert snn.Flatten()(x).shape == (16,)
    with pytest.raises(ValueError, match=r"SpikingMaxPool2d.*\(C, H, W\).*\(2, 1, 4, 4\)"):
        snn.SpikingMaxPool2d(2)(jnp.zeros((2, 1, 4, 4)))
    grad = jax.grad(lambda z: snn.SpikingMaxPool2d(2)(z).sum())(x * 0.6)
    assert float(jnp.abs(grad).sum()) > 0


def test_equinox_layers_compose_with_stateful_layers():
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
    conv1d = eqx.nn.Conv1d(2, 4, 3, key=k1)
    norm = eqx.nn.LayerNorm((4, 6))
    linear = eqx.nn.Linear(24, 5, key=k2)
    model = snn.Sequential(
        conv1d, norm, snn.SimpleLIF(0.9), eqx.nn.Dropout(0.2), snn.Flatten(), linear, snn.CurrentBasedLIF([0.9, 0.8])
    )
    x = jax.random.uniform(k3, (7, 2, 8)) * 3.0
    state = model.init_state((2, 8), k3)
    _, (out,) = model(state, x, jax.random.PRNGKey(1))
    assert out.shape == (7, 5)

    # Against a hand-written loop with dropout off (inference mode) and the same layers.
    inference_model = eqx.nn.inference_mode(model)
    _, (out,) = inference_model(state, x)
    v1 = np.zeros((4, 6), np.float32)
    v2 = i2 = np.zeros(5, np.float32)
    expected = []
    for t in range(7):
        h = np.asarray(norm(conv1d(x[t])))
        v1 = 0.9 * v1 + h
        s1 = (v1 > 1.0).astype(np.float32)
        v1 = v1 * (1 - s1)
        z = np.asarray(linear(jnp.asarray(s1.reshape(-1))))
        i2 = 0.8 * i2 + z
        v2 = 0.9 * v2 + i2
        s2 = (v2 > 1.0).astype(np.float32)
        v2 = v2 * (1 - s2)
        expected.append(s2)
    np.testing.assert_array_equal(np.asarray(out), np.array(expected))


def test_record_states_returns_membrane_traces():
    model = snn.Sequential(snn.SimpleLI(0.5), snn.SimpleIAF(threshold=10.0))
    x = jnp.array([[1.0], [0.0], [2.0]])
    final, (out,), (li_trace, iaf_trace) = model(model.init_state((1,)), x, record_states=True)
    np.testing.assert_allclose(np.asarray(li_trace[:, 0]), [1.0, 0.5, 2.25])
    np.testing.assert_allclose(np.asarray(iaf_trace[:, 0]), [1.0, 1.5, 3.75])
    np.testing.assert_allclose(np.asarray(final.layers[1]), np.asarray(iaf_trace[-1]))
    np.testing.assert_array_equal(np.asarray(out), 0.0)
