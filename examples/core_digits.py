"""The digits demo written against the functional core only (Equinox + optax), SNNAX style.

A per-sample model (``snn.Sequential``) is batched with ``jax.vmap``, trained
with ``eqx.filter_value_and_grad`` and optax; no facade objects are involved.

    python examples/core_digits.py            # >= 90% test accuracy
    python examples/core_digits.py --quick
"""

from __future__ import annotations

import argparse
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

import snnax_torchlike.snn as snn


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    epochs, steps, batch_size = (1, 10, 64) if args.quick else (15, 25, 64)
    start = time.perf_counter()

    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)
    train_x, test_x, train_y, test_y = train_test_split(
        images, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    if args.quick:
        train_x, train_y, test_x, test_y = train_x[:256], train_y[:256], test_x[:128], test_y[:128]

    key = jax.random.key(0)
    key, k1, k2 = jax.random.split(key, 3)
    model = snn.Sequential(
        eqx.nn.Linear(64, 128, key=k1),
        snn.Leaky(0.9, spike_fn=snn.surrogate.fast_sigmoid(25.0)),
        eqx.nn.Linear(128, 10, key=k2),
        snn.Leaky(0.9, spike_fn=snn.surrogate.fast_sigmoid(25.0)),
    )
    state = model.init_state((64,))
    optimizer = optax.adam(5e-3)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))

    def encode(key, images):  # rate coding, time-first per sample: [B, T, 64]
        return jax.random.bernoulli(key, images[:, None, :], (images.shape[0], steps, 64)).astype(jnp.float32)

    def output_spikes(model, spikes):
        _, outs = jax.vmap(lambda x: model(state, x))(spikes)
        return outs[-1]  # [B, T, 10]

    def loss_fn(model, spikes, labels):
        # snnTorch's rate cross-entropy: the loss at every step, averaged over time.
        spikes_out = output_spikes(model, spikes)
        return optax.softmax_cross_entropy_with_integer_labels(spikes_out, labels[:, None]).mean()

    @eqx.filter_jit
    def train_step(model, opt_state, key, images, labels):
        loss, grads = eqx.filter_value_and_grad(loss_fn)(model, encode(key, images), labels)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
        return eqx.apply_updates(model, updates), opt_state, loss

    @eqx.filter_jit
    def predict(model, key, images):
        return jnp.argmax(output_spikes(model, encode(key, images)).sum(axis=1), axis=-1)

    rng = np.random.default_rng(0)
    batches = len(train_y) // batch_size
    with tqdm(total=epochs * batches, desc="training") as bar:
        for _ in range(epochs):
            order = rng.permutation(len(train_y))
            for b in range(batches):
                index = order[b * batch_size : (b + 1) * batch_size]
                key, step_key = jax.random.split(key)
                model, opt_state, loss = train_step(model, opt_state, step_key, train_x[index], train_y[index])
                bar.update(1)
                if b % 10 == 0:
                    bar.set_postfix(loss=f"{float(loss):.3f}")
    accuracy = float(jnp.mean(predict(model, key, test_x) == test_y))
    print(
        f"test accuracy: {accuracy:.3f} ({len(train_y)} train / {len(test_y)} test, {time.perf_counter() - start:.1f} s)"
    )
    return 0 if args.quick or accuracy >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
