# %% [markdown]
# # 6. A convolutional spiking network
#
# snnTorch's tutorial 6 puts convolutions in front of the leaky neurons:
# `Conv2d -> MaxPool2d -> Leaky`, twice, then `Flatten -> Linear -> Leaky`. This
# tutorial builds that network with torch's layer constructors, feeds it images
# rate-coded into spikes, looks at what the convolutional layers fire, and trains
# it with `fit`. The images are scikit-learn's 8x8 digits (offline, 1 channel), so
# the layers are smaller than the 28x28 MNIST version, but the code is the same.
#
# Full run: `python tutorials/t6_convolutional_snn.py` takes about 35 s on 2 CPU
# cores; after 15 epochs the network reaches about 91% test accuracy (1347 train
# / 450 test images). Figures go to the folder in `SNNAX_FIGURES` (default: a new
# temporary folder, printed at the end). The test suite, and the
# documentation site, run it with `SNNAX_QUICK=1`: one epoch on 256 training
# images, so the accuracy printed there is far lower, and a note under it says so.
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
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim, plot, spikegen, surrogate

QUICK = os.environ.get("SNNAX_QUICK") == "1"
FIGURES = Path(os.environ.get("SNNAX_FIGURES") or tempfile.mkdtemp(prefix="snnax_figures_"))
FIGURES.mkdir(parents=True, exist_ok=True)
STEPS = 10 if QUICK else 25


# %% [markdown]
# ## Images, not vectors
#
# A convolution needs the image layout, so each digit stays `[1, 8, 8]`
# (channels, height, width, as in torch). Rate coding adds the time axis in
# front: a batch is `[T, B, 1, 8, 8]`.

# %%
digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)[:, None]  # [1797, 1, 8, 8]
labels = digits.target.astype(np.int32)
train_x, test_x, train_y, test_y = train_test_split(images, labels, test_size=0.25, random_state=0, stratify=labels)
if QUICK:
    train_x, train_y, test_x, test_y = train_x[:256], train_y[:256], test_x[:128], test_y[:128]


class RateCoded:
    """Batches ``(spikes [T, B, 1, 8, 8], labels [B])``, re-encoded at every pass."""

    def __init__(self, images, labels, *, batch_size, shuffle):
        self.images, self.labels, self.batch_size, self.shuffle = images, labels, batch_size, shuffle
        self.rng = np.random.default_rng(0)

    def __len__(self):
        return -(-len(self.labels) // self.batch_size)

    def __iter__(self):
        order = self.rng.permutation(len(self.labels)) if self.shuffle else np.arange(len(self.labels))
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            yield spikegen.rate(self.images[index], num_steps=STEPS), self.labels[index]


snx.manual_seed(0)
train_loader = RateCoded(train_x, train_y, batch_size=64, shuffle=True)
test_loader = RateCoded(test_x, test_y, batch_size=128, shuffle=False)
x, y = next(iter(test_loader))
print("one batch:", x.shape)

fig, axes = plt.subplots(1, 6, figsize=(10, 2))
axes[0].imshow(test_x[0, 0], cmap="gray_r")
axes[0].set_title(f"a {test_y[0]}")
for ax, t in zip(axes[1:], range(5)):
    ax.imshow(np.asarray(x[t, 0, 0]), cmap="gray_r")
    ax.set_title(f"spikes, step {t}")
for ax in axes:
    ax.axis("off")
_ = plot.save_figure(fig, FIGURES / "t6_input.png")

# %% [markdown]
# ## The network
#
# torch's `Conv2d(in_channels, out_channels, kernel_size, padding=...)` and
# `MaxPool2d(kernel_size)`, snnTorch's `Leaky`. With `padding=1` a 3x3 convolution
# keeps the 8x8 size; each pooling halves it:
#
# | layer | output per sample |
# |---|---|
# | `Conv2d(1, 12, 3, padding=1)` | 12 x 8 x 8 |
# | `MaxPool2d(2)` | 12 x 4 x 4 |
# | `Leaky` | 12 x 4 x 4 spikes |
# | `Conv2d(12, 32, 3, padding=1)` | 32 x 4 x 4 |
# | `MaxPool2d(2)` | 32 x 2 x 2 |
# | `Leaky` | 32 x 2 x 2 spikes |
# | `Flatten()` | 128 |
# | `Linear(128, 10)`, `Leaky` | 10 spikes |
#
# Pooling before the neurons (snnTorch's order) pools membrane *inputs*, not
# spikes, so the max is over currents.

# %%
spike_grad = surrogate.fast_sigmoid(slope=25)
beta = 0.9
snx.manual_seed(0)
net = nn.Sequential(
    nn.Conv2d(1, 12, 3, padding=1),
    nn.MaxPool2d(2),
    nn.Leaky(beta=beta, spike_grad=spike_grad),
    nn.Conv2d(12, 32, 3, padding=1),
    nn.MaxPool2d(2),
    nn.Leaky(beta=beta, spike_grad=spike_grad),
    nn.Flatten(),
    nn.Linear(32 * 2 * 2, 10),
    nn.Leaky(beta=beta, spike_grad=spike_grad),
)
print(net)
print("parameters:", sum(p.data.size for p in net.parameters()))
print("weights in the state_dict (torch's names):", [k for k in net.state_dict() if k.endswith("weight")])

# %% [markdown]
# `net(x)` runs every layer over the whole sequence and returns the last layer's
# spikes and membrane, `[T, B, 10]` each. `Flatten` keeps the time and batch axes,
# as the per-step `Flatten` in snnTorch keeps the batch axis.

# %%
spk, mem = net(x)
print("output spikes and membrane:", spk.shape, mem.shape)


# %% [markdown]
# ## What the convolutional layers fire
#
# The first three layers on their own (the same objects, so the same weights)
# give the first feature maps as spikes, `[T, B, 12, 4, 4]`. Summed over time,
# each of the 12 channels is a small picture of where its filter found its
# pattern.


# %%
def feature_maps(title):
    first_block = nn.Sequential(net[0], net[1], net[2])
    hidden, _ = first_block(x)  # [T, B, 12, 4, 4]
    counts = np.asarray(hidden[:, 0].sum(0))  # sample 0: spike counts per channel
    fig, axes = plt.subplots(2, 6, figsize=(10, 3.6))
    for channel, ax in enumerate(axes.flat):
        ax.imshow(counts[channel], cmap="viridis", vmin=0, vmax=STEPS)
        ax.set_title(f"channel {channel}", fontsize=8)
        ax.axis("off")
    fig.suptitle(f"{title}: spike counts of the first feature maps (a {test_y[0]})")
    return fig, hidden


fig, hidden = feature_maps("untrained")
plot.save_figure(fig, FIGURES / "t6_untrained_feature_maps.png")
print(f"first block: {hidden.shape}, mean firing rate {float(hidden.mean()):.3f} spikes per neuron and step")

# %% [markdown]
# ## Training
#
# As in snnTorch's tutorial: rate cross-entropy on the output spikes
# (`SF.ce_rate_loss`), accuracy from spike counts (`SF.accuracy_rate`), Adam.
# `fit` [compiles](../../glossary/#jit) one step for the whole run, convolutions
# and all: forward over every time step, backpropagation through time and the
# update. `val_loader` scores the test images after every epoch, to draw the
# curves below; nothing is chosen by them (no early stopping, no best checkpoint),
# so they stay a fair test. When you pick an epoch or a setting by its score, take
# a validation split from the training data instead, as [tutorial 5](../t5_training_with_fit/) does.

# %%
loss_fn = SF.ce_rate_loss()
start = time.perf_counter()
history = net.fit(
    train_loader,
    epochs=1 if QUICK else 15,
    optimizer=optim.Adam(net.parameters(), lr=5e-3),
    loss_fn=loss_fn,
    metrics=[SF.accuracy_rate],
    val_loader=test_loader,
    progress=not QUICK,
)
seconds = time.perf_counter() - start
accuracy = net.evaluate(test_loader, loss_fn=loss_fn, metrics=[SF.accuracy_rate])["accuracy_rate"]
print(f"{len(history.epoch)} epochs in {seconds:.1f} s; test accuracy {accuracy:.3f}")
if QUICK:
    print(
        "quick mode (SNNAX_QUICK=1): 1 epoch on 256 images; the full run (SNNAX_QUICK=0) trains 15 epochs on "
        "1347 images and reaches about 91% test accuracy"
    )

axes = plot.history(history, titles={"accuracy_rate": "accuracy"}, labels=("training", "test"))
_ = plot.save_figure(axes[0].figure, FIGURES / "t6_history.png")

# %% [markdown]
# ## After training
#
# The trained filters respond to parts of the digit, and the output layer's spike
# counts single out the class (clearly after the full run; after a quick run's
# single epoch, not yet for every digit).

# %%
fig, _ = feature_maps("trained")
plot.save_figure(fig, FIGURES / "t6_trained_feature_maps.png")
spk, _ = net(x)
fig, axes = plt.subplots(1, 4, figsize=(13, 2.8), sharey=True)
for ax, index in zip(axes, range(4)):
    label, predicted = int(test_y[index]), int(spk[:, index].sum(0).argmax())
    plot.spike_counts(spk, ax, sample=index, highlight=label, title=f"a {label}: predicted {predicted}")
plot.save_figure(fig, FIGURES / "t6_trained_counts.png")
if not QUICK:
    assert accuracy > 0.9
print("figures in FIGURES (SNNAX_FIGURES, else a temporary folder):", sorted(path.name for path in FIGURES.iterdir()))
