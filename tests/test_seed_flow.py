"""SNNAX's documented usage ports by changing the import (and the name of SNNAX's `LIF`, here `CurrentBasedLIF`).

This is the flow of SNNAX's introduction tutorial: Conv2d -> LIF -> Flatten ->
Linear -> LIF built with `snn.Sequential`, `model.init_state(in_shape, key)`, a
per-sample loss on spike counts vectorised with `jax.vmap`, `eqx.filter_jit` +
`eqx.filter_value_and_grad`, and an optax update.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jrand
import optax
from jax.tree_util import tree_map

import snnax_torchlike.snn as snn  # was: import snnax.snn as snn


def _one_hot_cross_entropy(prediction, target_one_hot):
    return -jnp.sum(target_one_hot * jax.nn.log_softmax(prediction)) / len(target_one_hot)


def test_seed_flow_trains():
    key = jrand.PRNGKey(42)
    key1, key2, key3, init_key, data_key, key = jrand.split(key, 6)
    num_classes, timesteps, batch = 4, 12, 16

    model = snn.Sequential(
        eqx.nn.Conv2d(2, 8, 3, 2, key=key1),
        snn.CurrentBasedLIF([0.95, 0.85]),
        eqx.nn.Dropout(p=0.1),
        snn.Flatten(),
        eqx.nn.Linear(8 * 4 * 4, num_classes, key=key3),
        snn.CurrentBasedLIF([0.95, 0.9]),
    )
    init_state = model.init_state((2, 10, 10), init_key)

    # Class-dependent event rates so the task is learnable.
    labels = jnp.arange(batch) % num_classes
    rates = 0.05 + 0.4 * (jnp.arange(2 * 10 * 10).reshape(2, 10, 10) % num_classes == labels[:, None, None, None])
    data = jrand.bernoulli(data_key, rates[:, None], (batch, timesteps, 2, 10, 10)).astype(jnp.float32)
    targets = jax.nn.one_hot(labels, num_classes)

    def calc_loss(model, init_state, data, target, loss_fn, key):
        states, outs = model(init_state, data, key=key)
        final_layer_out = outs[-1]
        pred = tree_map(lambda x: jnp.sum(x, axis=0), final_layer_out)
        return loss_fn(pred, target)

    vmap_calc_loss = jax.vmap(calc_loss, in_axes=(None, None, 0, 0, None, 0))

    def calc_batch_loss(model, init_state, input_batch, target, loss_fn, key):
        keys = jrand.split(key, input_batch.shape[0])
        return vmap_calc_loss(model, init_state, input_batch, target, loss_fn, keys).sum()

    optim = optax.adam(1e-2)
    opt_state = optim.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def update(model, opt_state, init_state, input_batch, target, key):
        loss, grads = eqx.filter_value_and_grad(calc_batch_loss)(
            model, init_state, input_batch, target, _one_hot_cross_entropy, key
        )
        updates, opt_state = optim.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
        model = eqx.apply_updates(model, updates)
        return model, opt_state, loss

    losses = []
    for _ in range(25):
        key, step_key = jrand.split(key)
        model, opt_state, loss = update(model, opt_state, init_state, data, targets, step_key)
        losses.append(float(loss))

    assert all(jnp.isfinite(jnp.array(losses)))
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3, losses
