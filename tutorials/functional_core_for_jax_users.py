# %% [markdown]
# # The functional core, for JAX users
#
# Under the PyTorch-style facade sits `snnax_torchlike.snn`: plain
# [Equinox](https://docs.kidger.site/equinox/), in the lineage of SNNAX. Layers are
# immutable `eqx.Module`s, states are [PyTrees](../../glossary/#pytree), a whole
# sequence runs in one [`lax.scan`](../../glossary/#scan), and you write the
# training loop with `jax.grad`/`eqx.filter_value_and_grad` and optax, as for any
# Equinox model. (Coming from PyTorch? The [glossary](../../glossary/) explains
# these JAX words.) This tutorial covers:
#
# 1. a model: `snn.Sequential` of `eqx.nn.Linear` and `snn.CurrentBasedLIF` layers, `init_state`,
#    one sample, and a batch with `jax.vmap`;
# 2. a training loop on rate-coded digits with `eqx.filter_value_and_grad` and optax;
# 3. reading every layer's state over time (membranes, currents) with `record_states=True`;
# 4. a neuron of your own: subclass `snn.StatefulLayer`;
# 5. a graph with feedback: `snn.GraphStructure` with a delayed edge, run by
#    `snn.StatefulModel`, trained by the same loop.
#
# Full run: `python tutorials/functional_core_for_jax_users.py` takes about 35 s on
# 2 CPU cores; the feed-forward network reaches about 96% test accuracy on
# scikit-learn's digits (15 epochs), the recurrent graph about 95% (10 epochs).
# Figures go to the folder in `SNNAX_FIGURES` (default: a new temporary folder,
# printed at the end). The test suite, and the documentation site, run it with
# `SNNAX_QUICK=1`: one epoch on 256 training images, so the accuracies printed
# there are far lower, and a note under each says so.
#
# Requirements: `pip install -e ".[demo,plot]"` (scikit-learn for the digits,
# matplotlib for the figures).

# %%
import os
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import matplotlib

if "ipykernel" not in sys.modules:  # as a script: draw off-screen and write files
    matplotlib.use("Agg")
import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import snnax_torchlike.snn as snn
from snnax_torchlike import plot

QUICK = os.environ.get("SNNAX_QUICK") == "1"
FIGURES = Path(os.environ.get("SNNAX_FIGURES") or tempfile.mkdtemp(prefix="snnax_figures_"))
FIGURES.mkdir(parents=True, exist_ok=True)
STEPS, BATCH = 25, 64


# %% [markdown]
# ## 1. A model, its state, one sample, a batch
#
# Two conventions run through the core: shapes are **per sample** (no batch
# axis; batch with [`jax.vmap`](../../glossary/#vmap)), and sequences are **time-first**: one sample's
# input is `[T, *in_shape]`.
#
# `snn.Sequential` chains layers. Stateful layers (the neurons) carry state from
# step to step; any other Equinox layer or callable is applied at every step.
# `snn.CurrentBasedLIF([mem_decay, syn_decay])` is a current-based leaky integrate-and-fire
# neuron; its surrogate gradient is set by `spike_fn`. Its decays are trained
# with the weights; `decay_parameterisation="sigmoid"` trains their logits, so
# they stay in (0, 1) (a decay above 1 would make the membrane grow without bound).


# %%
def lif():
    return snn.CurrentBasedLIF(
        [0.9, 0.5], spike_fn=snn.surrogate.fast_sigmoid(25.0), reset="subtract", decay_parameterisation="sigmoid"
    )


key = jax.random.key(0)
key, k1, k2 = jax.random.split(key, 3)
model = snn.Sequential(eqx.nn.Linear(64, 128, key=k1), lif(), eqx.nn.Linear(128, 10, key=k2), lif())

# %% [markdown]
# `init_state(in_shape)` takes the shape of one sample at one step and infers
# every layer's input shape (without computing anything). The state is a PyTree:
# a `ModelState` holding each layer's state (`None` for the linear layers).

# %%
state = model.init_state((64,))
print(jax.tree.map(jnp.shape, state.layers))

# %% [markdown]
# Calling the model runs the whole sequence and returns the final state and the
# outputs of its output layers (by default the last), each `[T, ...]`:

# %%
x = jax.random.bernoulli(jax.random.key(1), 0.3, (STEPS, 64)).astype(jnp.float32)  # one sample, [T, 64]
final_state, outputs = model(state, x)
print("one sample:", x.shape, "->", outputs[-1].shape)

# A batch [B, T, 64]: vmap over the samples, sharing the initial state.
xs = jax.random.bernoulli(jax.random.key(2), 0.3, (8, STEPS, 64)).astype(jnp.float32)
_, batch_outputs = jax.vmap(model, in_axes=(None, 0))(state, xs)
print("a batch:", xs.shape, "->", batch_outputs[-1].shape)

# %% [markdown]
# Torch loaders and the facade hand over **time-first** batches, `[T, B, ...]`.
# `model.scan_batch(state, x)` runs one such batch directly: the same results as
# the `vmap` above (up to float rounding), but every layer's sequences stay
# time-first, so nothing is transposed around the neurons' loops; it is the path
# the facade's `fit` runs, and the faster one for training.

# %%
_, time_first_outputs = model.scan_batch(state, jnp.swapaxes(xs, 0, 1))  # [T, B, 64] in, [T, B, 10] out
same = jnp.allclose(jnp.swapaxes(time_first_outputs[-1], 0, 1), batch_outputs[-1], atol=1e-5)
print("time-first batch:", time_first_outputs[-1].shape, "| equals the vmap:", bool(same))

# %% [markdown]
# ## 2. Training on rate-coded digits
#
# The data: scikit-learn's 8x8 digits, scaled to [0, 1]. Inside the
# [jitted](../../glossary/#jit) step each image becomes `STEPS` Bernoulli spike
# frames, with a fresh [key](../../glossary/#prng-key) per step.
# The loss is snnTorch's rate cross-entropy: the cross-entropy of the output
# spikes at every step, averaged over time. Prediction: the output neuron with
# the most spikes. Everything is
# standard Equinox: `eqx.filter_value_and_grad` differentiates with respect to
# the model's arrays (weights and the neurons' decays), optax updates them. The
# spikes' derivative is the surrogate's.

# %%
digits = load_digits()
images = (digits.data / 16.0).astype(np.float32)
train_x, test_x, train_y, test_y = train_test_split(
    images, digits.target, test_size=0.25, random_state=0, stratify=digits.target
)
if QUICK:
    train_x, train_y, test_x, test_y = train_x[:256], train_y[:256], test_x[:128], test_y[:128]


def encode(key, images):
    """Rate coding, per sample time-first: [B, 64] -> [B, T, 64]."""
    return jax.random.bernoulli(key, images[:, None, :], (images.shape[0], STEPS, 64)).astype(jnp.float32)


def output_spikes(model, state, spikes):
    _, outputs = jax.vmap(model, in_axes=(None, 0))(state, spikes)
    return outputs[-1]  # [B, T, 10]


def loss_fn(model, state, spikes, labels):
    logits = output_spikes(model, state, spikes)  # the spikes of each step as logits
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels[:, None]).mean()


def train(model, state, epochs, learning_rate=2e-3, seed=0):
    """Train any model of the core whose last output is [T, 10] spikes; return it and its test accuracy."""
    optimizer = optax.adam(learning_rate)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(model, opt_state, key, images, labels):
        loss, grads = eqx.filter_value_and_grad(loss_fn)(model, state, encode(key, images), labels)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
        return eqx.apply_updates(model, updates), opt_state, loss

    @eqx.filter_jit
    def accuracy(model, key, images, labels):
        counts = output_spikes(model, state, encode(key, images)).sum(axis=1)  # [B, 10]
        return jnp.mean(counts.argmax(axis=-1) == labels)

    key, order_rng = jax.random.key(seed), np.random.default_rng(seed)
    for epoch in range(epochs):
        order, losses = order_rng.permutation(len(train_y)), []
        for start in range(0, len(order) - BATCH + 1, BATCH):  # full batches only: one compilation
            index = order[start : start + BATCH]
            key, step_key = jax.random.split(key)
            model, opt_state, loss = step(model, opt_state, step_key, train_x[index], train_y[index])
            losses.append(float(loss))
        if epoch == epochs - 1 or epoch % 5 == 0:
            print(f"epoch {epoch + 1}: mean loss {np.mean(losses):.3f}")
    return model, float(accuracy(model, key, test_x, test_y))


model, test_accuracy = train(model, state, epochs=1 if QUICK else 15)
print(f"feed-forward test accuracy: {test_accuracy:.3f}")
if QUICK:
    print(
        "quick mode (SNNAX_QUICK=1): 1 epoch on 256 images; the full run (SNNAX_QUICK=0) trains 15 epochs on "
        "1347 images and reaches about 96%"
    )

# %% [markdown]
# ## 3. Looking inside: `record_states=True`
#
# With `record_states=True` the model also returns every layer's state after
# every step, with a leading time axis (under `jit`, recorded states nobody reads
# are not computed). For `snn.CurrentBasedLIF` the state is `CurrentBasedLIFState(v, i)`:
# membrane and current.

# %%
sample = 0
spikes = encode(jax.random.key(3), test_x[sample : sample + 1])[0]  # [T, 64]
_, outputs, layer_states = model(state, spikes, record_states=True)
output_state = layer_states[3]  # the last neuron's CurrentBasedLIFState, each field [T, 10]
print("recorded membrane:", output_state.v.shape, "current:", output_state.i.shape)

fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
plot.raster(outputs[-1], axes[0], s=40, title=f"output spikes for a {test_y[sample]}")
plot.traces(output_state.i, axes[1], ylabel="synaptic current", title="output currents")
plot.spike_counts(outputs[-1], axes[2], highlight=int(test_y[sample]), title="spike counts (orange: the label)")
_ = plot.save_figure(fig, FIGURES / "core_trained_outputs.png")

# %% [markdown]
# ## 4. A neuron of your own
#
# A stateful layer is an `eqx.Module` with two methods: `init_state(shape, key=None)`
# returns the state before the first step, for one sample's input shape, and
# `__call__(state, x, *, key=None)` advances one step and returns
# `(new_state, output)`. Array fields are trainable; hyper-parameters you don't
# want to train go in `eqx.field(static=True)` ([static](../../glossary/#static):
# part of the compiled program, so a new value compiles anew).
#
# Here is a leaky neuron whose threshold rises by `jump` at each spike and relaxes
# back with `adapt_decay`: under constant input it fires fast at first, then
# slower (spike-frequency adaptation). The spike goes through a surrogate
# function, so gradients flow through it.


# %%
class AdaptiveThresholdState(NamedTuple):
    v: jax.Array  # membrane
    a: jax.Array  # threshold increase


class AdaptiveThresholdLIF(snn.StatefulLayer):
    """Leaky integrate-and-fire with a threshold ``1 + a`` that jumps at every spike and relaxes back."""

    beta: jax.Array  # trainable
    adapt_decay: float = eqx.field(static=True)
    jump: float = eqx.field(static=True)
    spike_fn: snn.surrogate.SurrogateSpike

    def __init__(self, beta, *, adapt_decay=0.95, jump=0.5, spike_fn=None):
        self.beta = jnp.asarray(beta, jnp.float32)
        self.adapt_decay = adapt_decay
        self.jump = jump
        self.spike_fn = snn.surrogate.fast_sigmoid(25.0) if spike_fn is None else spike_fn

    def init_state(self, shape, key=None):
        return AdaptiveThresholdState(v=jnp.zeros(shape), a=jnp.zeros(shape))

    def __call__(self, state, x, *, key=None):
        v = self.beta * state.v + x
        threshold = 1.0 + state.a
        spk = self.spike_fn(v - threshold)
        v = v - jax.lax.stop_gradient(spk) * threshold  # subtract reset
        a = self.adapt_decay * state.a + self.jump * spk
        return AdaptiveThresholdState(v, a), spk


# %% [markdown]
# It composes like any built-in neuron. Three neurons (constant inputs 0.3, 0.5,
# 0.8) next to plain ones without adaptation (`jump=0`):

# %%
steps = 60 if QUICK else 100
drive = jnp.broadcast_to(jnp.array([0.3, 0.5, 0.8]), (steps, 3))  # [T, 3]
fig, axes = plt.subplots(2, 2, figsize=(11, 5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
for column, jump in enumerate((0.0, 0.5)):
    neuron = snn.Sequential(AdaptiveThresholdLIF(0.9, jump=jump))
    _, outputs, (neuron_state,) = neuron(neuron.init_state((3,)), drive, record_states=True)
    name = "without adaptation" if jump == 0 else f"adaptive threshold, jump={jump}"
    plot.raster(outputs[-1], axes[0, column], s=40, title=f"{name}: {int(outputs[-1].sum())} spikes")
    plot.traces(1.0 + neuron_state.a, axes[1, column], labels=["0.3", "0.5", "0.8"], ylabel="threshold")
    axes[0, column].set_xlabel("")
_ = plot.save_figure(fig, FIGURES / "core_custom_neuron.png")

# %% [markdown]
# Its decay is a trainable leaf like any other: the gradient of the spike count
# with respect to `beta` flows through the surrogate.


# %%
def total_spikes(neuron):
    _, outputs = neuron(neuron.init_state((3,)), drive)
    return outputs[-1].sum()


grads = eqx.filter_grad(total_spikes)(snn.Sequential(AdaptiveThresholdLIF(0.9)))
print(f"d(spike count)/d(beta) = {float(grads.layers[0].beta):.2f}")

# %% [markdown]
# ## 5. A graph with feedback
#
# `snn.Sequential` is a special case of `snn.StatefulModel`, which runs layers
# wired by a `snn.GraphStructure`. Per layer you list which external inputs it
# reads and its incoming edges: a source index (delay 0: the source's output of
# the *same* step) or a `(source, delay)` pair (its output `delay` steps ago).
# Inputs into one layer are summed by default.
#
# A recurrent hidden layer: the hidden neurons (layer 1) read the input
# projection (layer 0) in the same step, and their own spikes through a
# recurrent linear map (layer 2) one step later.
#
# ```
# input -> [0 Linear] -> [1 LIF] -> [3 Linear] -> [4 LIF] -> output
#                          ^   |
#                (delay 1) |   v
#                        [2 Linear]
# ```

# %%
key, k0, k2, k3 = jax.random.split(key, 4)
graph = snn.GraphStructure(
    num_layers=5,
    input_layer_ids=[[0], [], [], [], []],  # external input 0 feeds layer 0
    input_connectivity=[[], [0, (2, 1)], [1], [1], [3]],  # layer 1 sums layer 0 (now) and layer 2 (a step ago)
    output_layer_ids=[1, 4],  # return the hidden spikes too
)
recurrent_map = eqx.nn.Linear(64, 64, key=k2)
recurrent_model = snn.StatefulModel(
    graph,
    [
        eqx.nn.Linear(64, 64, key=k0),
        lif(),
        eqx.tree_at(lambda layer: layer.weight, recurrent_map, 0.5 * recurrent_map.weight),
        eqx.nn.Linear(64, 10, key=k3),
        lif(),
    ],
)
recurrent_state = recurrent_model.init_state((64,))

# %% [markdown]
# Every cycle needs a delay: a cycle whose edges all have delay 0 has no order
# to run in, and is refused when the graph is built:

# %%
try:
    snn.GraphStructure(5, [[0], [], [], [], []], [[], [0, 2], [1], [1], [3]])
except ValueError as error:
    print(error)

# %% [markdown]
# The delay is exact. Feed one input frame at step 0 and nothing after: the
# hidden spikes at step 0 are what the feed-forward path alone gives, and the
# feedback first changes the hidden layer at step 1. (Without any edge with a
# delay, the model runs layer by layer over all steps instead of step by step;
# with one, it runs one `lax.scan` over steps, each step in topological order.)

# %%
impulse = jnp.zeros((10, 64)).at[0].set(1.0)
_, (hidden, _), states = recurrent_model(recurrent_state, impulse, record_states=True)
no_feedback = eqx.tree_at(lambda m: m.layers[2].weight, recurrent_model, jnp.zeros((64, 64)))
_, (hidden_alone, _), states_alone = no_feedback(recurrent_state, impulse, record_states=True)
difference = jnp.abs(states[1].v - states_alone[1].v).max(axis=1)  # hidden membranes, per step
print("largest effect of the feedback on the hidden membranes, per step:", np.round(np.asarray(difference), 3))
assert difference[0] == 0 and difference[1] > 0

# %% [markdown]
# The training loop from section 2 takes any model whose last output is the
# output spikes, so it trains the recurrent graph as it is:

# %%
recurrent_model, recurrent_accuracy = train(recurrent_model, recurrent_state, epochs=1 if QUICK else 10)
print(f"recurrent graph test accuracy: {recurrent_accuracy:.3f}")
if QUICK:
    print(
        "quick mode (SNNAX_QUICK=1): 1 epoch on 256 images; the full run (SNNAX_QUICK=0) trains 10 epochs on "
        "1347 images and reaches about 95%"
    )

spikes = encode(jax.random.key(4), test_x[sample : sample + 1])[0]
_, (hidden, output) = recurrent_model(recurrent_state, spikes)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), gridspec_kw={"width_ratios": [2, 1]})
plot.raster(hidden, axes[0], s=12, title=f"recurrent hidden layer, a {test_y[sample]}")
plot.spike_counts(output, axes[1], highlight=int(test_y[sample]), title="output spike counts")
_ = plot.save_figure(fig, FIGURES / "core_recurrent_graph.png")

# %% [markdown]
# More in the documentation's [functional core](../../core/) page: every neuron's equations,
# `Parallel`/`Residual`/`CompoundLayer` compositions, `burn_in`, and gradient
# checkpointing over time (`checkpoint_every`).

# %%
print("figures in FIGURES (SNNAX_FIGURES, else a temporary folder):", sorted(path.name for path in FIGURES.iterdir()))
