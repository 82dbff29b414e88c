# %% [markdown]
# # 3. A feed-forward spiking network
#
# Tutorial 2 ran one layer of leaky neurons. Here we stack them: linear layers
# turn spikes into currents, leaky layers turn currents into spikes. We build a
# 64-100-10 network for scikit-learn's 8x8 digits, run it step by step exactly
# as in snnTorch, run it again as one `nn.Sequential` over the whole sequence
# (same numbers, one [compiled](../../glossary/#jit) call), look inside it, and
# finally train it with `fit`.
#
# Full run: `python tutorials/t3_feedforward_snn.py` takes about 20 s on 2 CPU cores;
# after 10 epochs the network reaches about 95% test accuracy (1347 train / 450
# test images). Figures go to the folder in `SNNAX_FIGURES` (default: a new
# temporary folder, printed at the end). The test suite, and the documentation
# site, run it with `SNNAX_QUICK=1`: one epoch on 256 training images, so the
# accuracy printed there is far lower, and a note under it says so.
#
# Requirements: `pip install -e ".[demo,plot]"` (scikit-learn for the digits,
# matplotlib for the figures).

# %%
import os
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules:  # as a script: draw off-screen and write files
    matplotlib.use("Agg")
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim, plot, spikegen

QUICK = os.environ.get("SNNAX_QUICK") == "1"
FIGURES = Path(os.environ.get("SNNAX_FIGURES") or tempfile.mkdtemp(prefix="snnax_figures_"))
FIGURES.mkdir(parents=True, exist_ok=True)
STEPS = 25


# %% [markdown]
# ## Data: rate-coded digits
#
# Each 8x8 image becomes 25 steps of rate-coded spikes (tutorial 1), time-first:
# a batch is `[T, B, 64]`.

# %%
digits = load_digits()
images = (digits.data / 16.0).astype(np.float32)
train_x, test_x, train_y, test_y = train_test_split(
    images, digits.target.astype(np.int32), test_size=0.25, random_state=0, stratify=digits.target
)
if QUICK:
    train_x, train_y, test_x, test_y = train_x[:256], train_y[:256], test_x[:128], test_y[:128]
snx.manual_seed(0)
train_spikes = spikegen.rate(train_x, num_steps=STEPS)  # [T, N_train, 64]
test_spikes = spikegen.rate(test_x, num_steps=STEPS)
x = test_spikes[:, :32]  # a batch to look at: [25, 32, 64]
print("a batch:", x.shape)

# %% [markdown]
# ## The layers
#
# Exactly snnTorch's: `nn.Linear` has torch's constructor, initialisation and
# `state_dict` names, `nn.Leaky` snnTorch's. `snx.manual_seed` plays the role of
# `torch.manual_seed` for the initial weights.

# %%
snx.manual_seed(0)
fc1 = nn.Linear(64, 100)
lif1 = nn.Leaky(beta=0.9)
fc2 = nn.Linear(100, 10)
lif2 = nn.Leaky(beta=0.9)

# %% [markdown]
# ## Step by step
#
# The snnTorch way: initialise each membrane, then loop over time, feeding each
# layer's output into the next, and stack what you want to keep.


# %%
def run_step_by_step(x):
    mem1, mem2 = lif1.init_leaky(), lif2.init_leaky()
    spk1_rec, spk2_rec, mem2_rec = [], [], []
    for step in range(x.shape[0]):
        cur1 = fc1(x[step])  # [B, 100]
        spk1, mem1 = lif1(cur1, mem1)
        cur2 = fc2(spk1)  # [B, 10]
        spk2, mem2 = lif2(cur2, mem2)
        spk1_rec.append(spk1)
        spk2_rec.append(spk2)
        mem2_rec.append(mem2)
    return jnp.stack(spk1_rec), jnp.stack(spk2_rec), jnp.stack(mem2_rec)


start = time.perf_counter()
hidden_loop, spk_loop, mem_loop = run_step_by_step(x)
loop_seconds = time.perf_counter() - start
print("hidden spikes:", hidden_loop.shape, " output spikes and membrane:", spk_loop.shape, mem_loop.shape)

# %% [markdown]
# ## The whole sequence at once
#
# `nn.Sequential` holds the same four layers (the same objects, so the same
# weights) and takes the whole `[T, B, 64]` sequence. It returns the last
# layer's spikes and membrane at every step, `[T, B, 10]` each, computed by one
# [jit-compiled](../../glossary/#jit) function: each linear layer is one matmul
# over all steps and each neuron one [`lax.scan`](../../glossary/#scan), so no
# Python loop runs per step. The first call compiles; later calls with the same
# shapes reuse the compiled code (a new shape
# [compiles again](../../glossary/#recompilation)). The timing ends with
# `block_until_ready()`: a JAX call returns before its result is computed
# ([asynchronous dispatch](../../glossary/#async)).

# %%
net = nn.Sequential(fc1, lif1, fc2, lif2)
print(net)
spk, mem = net(x)  # compiles
start = time.perf_counter()
spk, mem = net(x)
spk.block_until_ready()
sequence_seconds = time.perf_counter() - start
print(f"same spikes: {bool((spk == spk_loop).all())}, largest membrane difference: {jnp.abs(mem - mem_loop).max():.1e}")
print(f"step-by-step loop {loop_seconds * 1e3:.0f} ms, nn.Sequential {sequence_seconds * 1e3:.1f} ms (compiled)")
assert (spk == spk_loop).all() and jnp.allclose(mem, mem_loop, atol=1e-5)

# %% [markdown]
# The loop is also what you write inside your own `nn.Module` (snnTorch's `Net`
# with a `forward` that loops over time); see
# ["PyTorch users: start here"](../../pytorch-users/#your-own-module). It runs
# eagerly as above, and compiled inside `fit`, where the Python loop is
# recorded and compiled as one loop, not [unrolled](../../glossary/#scan).
#
# ## Inside the untrained network
#
# One sample's journey: input spikes, the hidden layer's spikes, the output
# layer's spikes and membranes. `plot.raster` takes `[T, N]` or a batch
# `[T, B, N]` with `sample=`; `plot.traces` takes `[T]` or `[T, N]`.

# %%
sample = 0


def journey(spk, mem, title):
    fig, axes = plt.subplots(4, 1, figsize=(7, 9), sharex=True, gridspec_kw={"height_ratios": [2, 2, 1, 1.5]})
    plot.raster(x, axes[0], sample=sample, s=10, title=f"{title}: a {test_y[sample]} in, 64 input neurons")
    hidden, _ = nn.Sequential(fc1, lif1)(x)  # the first two layers on their own
    plot.raster(hidden, axes[1], sample=sample, s=10, title="hidden layer, 100 neurons")
    plot.raster(spk, axes[2], sample=sample, s=30, title="output layer, 10 neurons")
    plot.traces(mem[:, sample], axes[3], threshold=1.0, title="output membranes")
    axes[3].get_legend().remove()
    for ax in axes[:-1]:
        ax.set_xlabel("")
    return fig


_ = plot.save_figure(journey(spk, mem, "untrained"), FIGURES / "t3_untrained_journey.png")

# %% [markdown]
# Read as a classifier, the output neuron that fires most is the prediction.
# `plot.spike_counts` draws the counts over the sequence; `highlight` marks the
# true class. Untrained, the counts say nothing about the digit.

# %%
fig, ax = plt.subplots(figsize=(5, 3))
plot.spike_counts(spk, ax, sample=sample, highlight=int(test_y[sample]), title=f"untrained: a {test_y[sample]}")
_ = plot.save_figure(fig, FIGURES / "t3_untrained_counts.png")

# %% [markdown]
# ## Training it
#
# Tutorial-style training in one call: `fit` compiles one step (the forward pass
# over all time steps, snnTorch's rate cross-entropy loss on the output spikes,
# backpropagation through time through the surrogate gradient, the Adam update)
# and runs it over the batches. A loader is any iterable of `(x, y)` batches.
#
# The full run trains 10 epochs on 1347 images and reaches about 95% test
# accuracy. A quick run (`SNNAX_QUICK=1`, as on the documentation site) trains one
# epoch on 256 images and says so under its numbers.


# %%
def batches(spikes, labels, size):
    return [(spikes[:, i : i + size], labels[i : i + size]) for i in range(0, len(labels), size)]


train_loader = batches(train_spikes, train_y, 64)
test_loader = batches(test_spikes, test_y, 128)
loss_fn = SF.ce_rate_loss()
history = net.fit(
    train_loader,
    epochs=1 if QUICK else 10,
    optimizer=optim.Adam(net.parameters(), lr=2e-3),
    loss_fn=loss_fn,
    metrics=[SF.accuracy_rate],
    progress=not QUICK,
)
accuracy = net.evaluate(test_loader, loss_fn=loss_fn, metrics=[SF.accuracy_rate])["accuracy_rate"]
print(f"training loss per epoch: {[round(v, 3) for v in history['loss']]}")
print(f"test accuracy: {accuracy:.3f}")
if QUICK:
    print(
        "quick mode (SNNAX_QUICK=1): 1 epoch on 256 images; the full run (SNNAX_QUICK=0) trains 10 epochs on "
        "1347 images and reaches about 95% test accuracy"
    )

# %% [markdown]
# Training updated `fc1`, `fc2` in place (the step-by-step loop above sees the
# new weights too). After the full run the network answers with the right output
# neuron; after a quick run's single epoch it is often still wrong:

# %%
spk, mem = net(x)
plot.save_figure(journey(spk, mem, "trained"), FIGURES / "t3_trained_journey.png")
fig, axes = plt.subplots(1, 4, figsize=(13, 2.8), sharey=True)
for ax, index in zip(axes, range(4)):
    label, predicted = int(test_y[index]), int(spk[:, index].sum(0).argmax())
    plot.spike_counts(spk, ax, sample=index, highlight=label, title=f"a {label}: predicted {predicted}")
_ = plot.save_figure(fig, FIGURES / "t3_trained_counts.png")

# %% [markdown]
# Tutorial 4 looks at other neuron models: synaptic currents, recurrence, and
# neurons defined by an ODE and a time step.

# %%
print("figures in FIGURES (SNNAX_FIGURES, else a temporary folder):", sorted(path.name for path in FIGURES.iterdir()))
