"""Execution paths compute what the plain step-wise scan computes: layer-wise runs and gradient checkpointing."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import snnax_torchlike.snn as snn

KEYS = jax.random.split(jax.random.key(0), 8)


def _mlp():
    return snn.Sequential(
        eqx.nn.Linear(12, 16, key=KEYS[0]), snn.CurrentBasedLIF([0.9, 0.8], threshold=0.5),
        eqx.nn.Linear(16, 5, key=KEYS[1]), snn.Leaky(0.85),
    ), (12,)  # fmt: skip


def _conv():
    return snn.Sequential(
        eqx.nn.Conv2d(2, 4, 3, padding=1, key=KEYS[2]), snn.SimpleLIF(0.9, threshold=0.3),
        snn.SpikingMaxPool2d(2, 2), snn.Flatten(), eqx.nn.Linear(4 * 4 * 4, 3, key=KEYS[3]), snn.ODENeuron(0.9),
    ), (2, 8, 8)  # fmt: skip


def _dropout():
    return snn.Sequential(eqx.nn.Linear(12, 16, key=KEYS[4]), eqx.nn.Dropout(0.3), snn.Leaky(0.9, threshold=0.4)), (12,)


def _skip_graph():
    # 0: Linear(x); 1: neuron; 2: Linear over [x, spikes] concatenated; 3: neuron over the sum of 1 and 2.
    structure = snn.GraphStructure(
        4, [[0], [], [0], []], [[], [0], [1], [1, 2]], merge=["sum", "sum", "concat", "sum"], output_layer_ids=[1, 3]
    )
    layers = [eqx.nn.Linear(12, 12, key=KEYS[5]), snn.Leaky(0.9, threshold=0.3),
              eqx.nn.Linear(24, 12, key=KEYS[0]), snn.SimpleLIF(0.8, threshold=0.5)]  # fmt: skip
    return snn.StatefulModel(structure, layers), (12,)


class _Scale(snn.LeadingAxesLayer):
    """A layer the layer-wise path runs once over the whole sequence; it records the ranks it was called with."""

    weight: jax.Array
    ranks: list = eqx.field(static=True)

    def __call__(self, x):
        self.ranks.append(x.ndim)
        return x @ self.weight


def _leading_axes():
    return snn.Sequential(_Scale(jax.random.normal(KEYS[0], (12, 6)), []), snn.Leaky(0.9, threshold=0.4)), (12,)


MODELS = {"mlp": _mlp, "conv": _conv, "dropout": _dropout, "skip-graph": _skip_graph, "leading-axes": _leading_axes}


def _inputs(shape, steps=30):
    return jax.random.uniform(KEYS[6], (steps, *shape)) * 2.0


@pytest.mark.parametrize("name", list(MODELS))
def test_same_outputs_and_states(name):
    model, shape = MODELS[name]()
    x = _inputs(shape)
    state = model.init_state(shape, KEYS[7])
    key = jax.random.key(3)
    step_wise = model(state, x, key, layerwise=False, record_states=True)
    layer_wise = model(state, x, key, layerwise=True, record_states=True)
    for a, b in zip(jax.tree.leaves(step_wise), jax.tree.leaves(layer_wise), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert sum(float(jnp.sum(o)) for o in step_wise[1]) > 0
    if name == "leading-axes":  # step-wise: one sample and step per call; layer-wise: the whole sequence at once
        assert model.layers[0].ranks == [1, 1, 2]  # init_state's shape probe, the scan's trace, the sequence


def test_a_leading_axes_layer_runs_once_over_a_batched_sequence():
    model, shape = _leading_axes()
    state = model.init_state(shape)
    x = _inputs((4, *shape))  # [T, B, 12]
    final, outs = model.scan_batch(state, x, layerwise=True)
    assert model.layers[0].ranks[-1] == 3  # [T, B, 12] in one call, not vmapped per frame
    ref = jax.vmap(lambda xb: model(state, xb, layerwise=False)[1][-1], in_axes=1, out_axes=1)(x)
    np.testing.assert_allclose(np.asarray(outs[-1]), np.asarray(ref), atol=1e-6)


@pytest.mark.parametrize("name", list(MODELS))
def test_same_gradients(name):
    model, shape = MODELS[name]()
    x = _inputs(shape)
    state = model.init_state(shape)

    def loss(model, layerwise):
        _, outs = model(state, x, jax.random.key(1), layerwise=layerwise)
        return sum(jnp.sum(o * jnp.arange(o.shape[0]).reshape(-1, *([1] * (o.ndim - 1)))) for o in outs)

    grads = [eqx.filter_grad(loss)(model, lw) for lw in (False, True)]
    leaves = [jax.tree.leaves(eqx.filter(g, eqx.is_inexact_array)) for g in grads]
    assert any(float(jnp.abs(g).max()) > 0 for g in leaves[0])
    for a, b in zip(*leaves, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_burn_in_and_batched_vmap_agree():
    model, shape = _mlp()
    xs = jax.random.uniform(KEYS[6], (4, 30, *shape)) * 2.0
    state = model.init_state(shape)
    run = lambda lw: jax.vmap(lambda x: model(state, x, burn_in=7, layerwise=lw)[1][-1])(xs)  # noqa: E731
    np.testing.assert_allclose(run(False), run(True), atol=1e-6)
    assert run(True).shape == (4, 23, 5)


def test_default_is_layerwise_only_without_delays():
    model, _ = _mlp()
    assert model.can_run_layerwise()
    recurrent = snn.StatefulModel(
        snn.GraphStructure(2, [[0], []], [[(1, 1)], [0]]), [eqx.nn.Linear(3, 3, key=KEYS[0]), snn.Leaky(0.9)]
    )
    assert not recurrent.can_run_layerwise()
    state = recurrent.init_state((3,))
    _, outs = recurrent(state, jnp.ones((5, 3)))  # the default falls back to the step-wise scan
    assert outs[-1].shape == (5, 3)
    with pytest.raises(ValueError, match="layerwise=True needs a graph without delayed edges"):
        recurrent(state, jnp.ones((5, 3)), layerwise=True)


@pytest.mark.parametrize("layerwise", [False, True], ids=["step-wise-chunks", "layer-wise-chunks"])
@pytest.mark.parametrize("chunk", [1, 7, 30])
@pytest.mark.parametrize("name", ["dropout", "skip-graph", "conv"])
def test_checkpointing_gives_the_same_outputs_states_and_gradients(name, chunk, layerwise):
    model, shape = MODELS[name]()
    x = _inputs(shape)
    state = model.init_state(shape)
    key = jax.random.key(5)
    plain = model(state, x, key, layerwise=False, record_states=True)  # the reference: one step-wise scan
    checked = model(state, x, key, checkpoint_every=chunk, layerwise=layerwise, record_states=True)
    for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(checked), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)

    def loss(model, chunk, layerwise):
        outputs = model(state, x, key, layerwise=layerwise, checkpoint_every=chunk)[1][-1]
        return jnp.sum(outputs * jnp.arange(30).reshape(30, *[1] * (outputs.ndim - 1)))

    grads = [
        jax.tree.leaves(eqx.filter(eqx.filter_grad(loss)(model, c, lw), eqx.is_inexact_array))
        for c, lw in ((None, False), (chunk, layerwise))
    ]
    for a, b in zip(*grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _dot_output_shapes(jaxpr) -> list[tuple[int, ...]]:
    """Output shapes of every dot_general in a jaxpr, nested ones (scan, checkpoint bodies) included."""
    shapes = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "dot_general":
            shapes.append(tuple(eqn.outvars[0].aval.shape))
        for value in eqn.params.values():
            inner = getattr(value, "jaxpr", value)
            if hasattr(inner, "eqns"):
                shapes += _dot_output_shapes(inner)
    return shapes


def test_checkpointing_runs_layer_by_layer_by_default_on_a_delay_free_graph():
    model, shape = _mlp()
    state = model.init_state(shape)

    def dots(**kwargs):
        jaxpr = jax.make_jaxpr(lambda x: model(state, x, **kwargs))(_inputs(shape)).jaxpr
        return {tuple(sorted(shape)) for shape in _dot_output_shapes(jaxpr)}

    # Layer-wise chunks: each Linear is one matmul over the chunk's 10 frames; step-wise: one per step.
    assert dots(checkpoint_every=10) == {(10, 16), (5, 10)}
    assert dots(checkpoint_every=10, layerwise=False) == {(16,), (5,)}


@pytest.mark.parametrize("layerwise", [False, True], ids=["step-wise-chunks", "layer-wise-chunks"])
def test_checkpointing_memory_grows_sublinearly_in_time(layerwise):
    model, shape = _mlp()
    state = model.init_state(shape)

    def backward_bytes(steps, chunk):
        x = jnp.ones((steps, *shape))  # an argument, as in training: its size is not temporary memory
        grad = jax.grad(lambda m, x: jnp.sum(m(state, x, checkpoint_every=chunk, layerwise=layerwise)[1][-1]))
        return jax.jit(grad).lower(model, x).compile().memory_analysis().temp_size_in_bytes

    plain = [backward_bytes(steps, None) for steps in (256, 4096)]
    checked = [backward_bytes(steps, int(np.sqrt(steps))) for steps in (256, 4096)]
    assert plain[1] / plain[0] > 10  # stores every step: linear in T
    assert checked[1] / checked[0] < 6  # chunk boundaries + one chunk: ~sqrt(T)
    assert checked[1] < plain[1] / 5


def test_checkpointing_argument_errors():
    model, shape = _mlp()
    state = model.init_state(shape)
    for bad, error in ((0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match=f"StatefulModel: checkpoint_every must be an int >= 1, got {bad}"):
            model(state, _inputs(shape), checkpoint_every=bad)
    recurrent = snn.StatefulModel(
        snn.GraphStructure(2, [[0], []], [[(1, 1)], [0]]), [eqx.nn.Linear(3, 3, key=KEYS[0]), snn.Leaky(0.9)]
    )
    with pytest.raises(ValueError, match="layerwise=True needs a graph without delayed edges"):
        recurrent(recurrent.init_state((3,)), jnp.ones((10, 3)), checkpoint_every=5, layerwise=True)


def test_facade_sequential_checkpointing_matches_the_default_path():
    from snnax_torchlike import nn
    from snnax_torchlike.nn.module import bind_parameters

    net = nn.Sequential(nn.Linear(12, 16), nn.Leaky(beta=0.9), nn.Linear(16, 4), nn.Leaky(beta=0.8))
    x = np.asarray(_inputs((5, 12)))  # [T=30, B=5, 12]
    params = list(net.parameters())

    def loss(arrays):
        with bind_parameters(params, arrays):
            spk, mem = net(x)
        return jnp.sum(mem * jnp.arange(30)[:, None, None])

    arrays = tuple(p.data for p in params)
    default_out, default_grad = net(x), jax.grad(loss)(arrays)
    net.checkpoint_every = 8
    checked_out, checked_grad = net(x), jax.grad(loss)(arrays)
    for a, b in zip(jax.tree.leaves((default_out, default_grad)), jax.tree.leaves((checked_out, checked_grad))):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert nn.Sequential(nn.Linear(2, 2), checkpoint_every=4).checkpoint_every == 4


@pytest.mark.parametrize("name", list(MODELS))
def test_scan_batch_equals_vmapped_step_wise_runs(name):
    # scan_batch keeps [T, B, ...] through every layer (no vmap over the graph): same outputs, states and gradients.
    model, shape = MODELS[name]()
    state = model.init_state(shape)
    x = jax.random.uniform(KEYS[6], (20, 3, *shape)) * 2.0  # [T, B, ...]
    keys = jax.random.split(jax.random.key(9), 3)

    def vmapped(model, x):
        return jax.vmap(lambda xs, k: model(state, xs, k, layerwise=False, record_states=True), in_axes=(1, 0),
                        out_axes=(0, 1, 1))(x, keys)  # fmt: skip

    def batched(model, x, chunk, layerwise):
        return model.scan_batch(state, x, keys, checkpoint_every=chunk, record_states=True, layerwise=layerwise)

    def loss(run, *args):
        outs = run(*args)[1]
        return sum(jnp.sum(o * jnp.cos(jnp.arange(o.size).reshape(o.shape))) for o in outs)

    reference = vmapped(model, x)
    reference_grads = eqx.filter_grad(lambda m, x: loss(vmapped, m, x))(model, x)
    for chunk in (None, 6):
        for layerwise in (None, False):
            result = batched(model, x, chunk, layerwise)
            for a, b in zip(jax.tree.leaves(reference), jax.tree.leaves(result), strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)  # layer-wise matmuls sum in another order
            grads = eqx.filter_grad(lambda m, x, c=chunk, lw=layerwise: loss(batched, m, x, c, lw))(model, x)
            for a, b in zip(jax.tree.leaves(reference_grads), jax.tree.leaves(grads), strict=True):
                np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)


def test_scan_batch_argument_errors():
    model, shape = _dropout()
    state = model.init_state(shape)
    x = jnp.ones((20, 3, *shape))
    keys = jax.random.split(jax.random.key(9), 3)
    with pytest.raises(ValueError, match="checkpoint_every must be an int >= 1, got 0"):
        model.scan_batch(state, x, keys, checkpoint_every=0)
