# %% [markdown]
# # 5. Training with fit, and by hand
#
# snnTorch's tutorial 5 trains a fully connected network with a hand-written loop:
# the time loop, the loss, `loss.backward()`, `optimizer.step()`, an accuracy
# check every few batches. This tutorial trains the same kind of network twice:
#
# 1. with `net.fit`: validation after every epoch, metrics, a learning-rate
#    schedule, and two callbacks (early stopping and checkpoints of the best
#    epoch), then `evaluate` on held-out data;
# 2. with a loop you write yourself, PyTorch's way: `optimizer.zero_grad()`,
#    `loss.backward()`, `optimizer.step()`.
#
# The data is scikit-learn's 8x8 digits (offline), rate-coded into spikes.
#
# Full run: `python tutorials/t5_training_with_fit.py` takes about 25 s on 2 CPU
# cores. `fit` reaches about 97% test accuracy (early stopping ends it after
# about 23 epochs); the hand-written loop, 15 epochs, about 95%.
# Figures go to the folder in `SNNAX_FIGURES` (default: a new temporary folder,
# printed at the end). The test suite, and the documentation site, run it with
# `SNNAX_QUICK=1`: two epochs on 256 training images, so the accuracies printed
# there are far lower, and a note under each says so.
#
# Requirements: `pip install -e ".[demo,plot]"` (scikit-learn for the digits,
# matplotlib for the figures).

# %%
import csv
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
EPOCHS = 2 if QUICK else 30  # an upper bound: early stopping usually ends earlier
QUICK_NOTE = "quick mode (SNNAX_QUICK=1): 256 training images, 2 epochs; the full run (SNNAX_QUICK=0) reaches"


# %% [markdown]
# ## Data: a loader that draws fresh spikes every epoch
#
# Three splits: training, validation (watched during training, to stop early and
# to pick the best epoch) and test (looked at once, at the end).
#
# A loader is any iterable of `(x, y)` batches that can be iterated again every
# epoch: a list, a torch `DataLoader`, or a small class like this one. Drawing
# the rate code anew at every pass acts like data augmentation: the network sees
# a different spike train of each image every epoch. `x` is time-first,
# `[T, B, 64]`; `y` holds class indices.


# %%
class RateCoded:
    """Batches ``(spikes [T, B, 64], labels [B])``, re-encoded at every pass."""

    def __init__(self, images, labels, *, batch_size, shuffle, seed=0):
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle = batch_size, shuffle
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return -(-len(self.labels) // self.batch_size)

    def __iter__(self):
        order = self.rng.permutation(len(self.labels)) if self.shuffle else np.arange(len(self.labels))
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            yield spikegen.rate(self.images[index], num_steps=STEPS), self.labels[index]


digits = load_digits()
images = (digits.data / 16.0).astype(np.float32)
labels = digits.target.astype(np.int32)
rest_x, test_x, rest_y, test_y = train_test_split(images, labels, test_size=0.25, random_state=0, stratify=labels)
train_x, val_x, train_y, val_y = train_test_split(rest_x, rest_y, test_size=0.2, random_state=0, stratify=rest_y)
if QUICK:
    train_x, train_y, val_x, val_y, test_x, test_y = train_x[:256], train_y[:256], val_x[:128], val_y[:128], \
        test_x[:128], test_y[:128]  # fmt: skip
print(f"train {len(train_y)}, validation {len(val_y)}, test {len(test_y)} images")

snx.manual_seed(0)
train_loader = RateCoded(train_x, train_y, batch_size=64, shuffle=True)
val_loader = RateCoded(val_x, val_y, batch_size=128, shuffle=False)
test_loader = RateCoded(test_x, test_y, batch_size=128, shuffle=False)
x, y = next(iter(train_loader))
print("one batch:", x.shape, y.shape)

# %% [markdown]
# ## The network
#
# 64 inputs, 128 hidden leaky neurons, 10 output leaky neurons; the output neuron
# that fires most is the prediction. A function builds it, so that the second half
# of the tutorial can start again from the same initial weights.


# %%
def make_net():
    snx.manual_seed(0)
    return nn.Sequential(
        nn.Linear(64, 128),
        nn.Leaky(beta=0.9, spike_grad=surrogate.fast_sigmoid(slope=25)),
        nn.Linear(128, 10),
        nn.Leaky(beta=0.9, spike_grad=surrogate.fast_sigmoid(slope=25)),
    )


net = make_net()
print(net)

# %% [markdown]
# `net.summary(shape)` is torchinfo's `summary` for this network: each layer's
# time-first output shape, its parameters and neuron state, and the memory a
# training step on a batch of that shape takes (XLA's own figure):

# %%
print(net.summary((STEPS, 128, 64)))

# %% [markdown]
# ## 1. `fit`
#
# - `loss_fn`: snnTorch's rate cross-entropy on the output spikes
#   (`SF.ce_rate_loss()`); `metrics`: functions `metric(spk, y)`, logged under
#   their names (`accuracy_rate`, and `val_accuracy_rate` on the validation data).
# - `scheduler`: the learning rate follows torch's `CosineAnnealingLR`, stepped
#   once per epoch by `fit`.
# - `callbacks`: `EarlyStopping` ends training when the validation loss has not
#   improved for 4 epochs; `ModelCheckpoint` writes a resumable checkpoint every
#   epoch and, with `monitor=`, the weights of the best epoch so far to
#   `best.safetensors`.
# - `logger`: `CSVLogger` writes the loss and metrics every `log_every_n_steps`
#   steps and every epoch to `metrics.csv` (`TensorBoardLogger` writes the same
#   for TensorBoard).
# - A callback of our own: subclass `snx.Callback` and override the hooks you
#   need. This one keeps the best validation accuracy and the epoch it came in.
#
# **Counting epochs.** The progress bar counts epochs from 1 ("Epoch 19/30"), and
# so do this tutorial's printed lines and plots. The `epoch` that callback hooks
# receive, `history.epoch` and `ModelCheckpoint`'s file names count from 0, like
# Python indices: `epoch-0018.safetensors` is written at the end of "Epoch 19/30".
# The code below adds 1 where it prints an epoch.


# %%
class BestEpoch(snx.Callback):
    """Remember the epoch with the best validation accuracy."""

    def __init__(self):
        self.best, self.epoch = -1.0, None

    def on_train_epoch_end(self, trainer, epoch, logs):
        if logs["val_accuracy_rate"] > self.best:
            self.best, self.epoch = logs["val_accuracy_rate"], epoch


checkpoints = Path(tempfile.mkdtemp(prefix="t5_checkpoints_"))
csv_logger = snx.CSVLogger(tempfile.mkdtemp(prefix="t5_logs_"))
optimizer = optim.Adam(net.parameters(), lr=5e-3)
scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)
early_stopping = snx.EarlyStopping(monitor="val_loss", patience=4)
best_epoch = BestEpoch()
loss_fn = SF.ce_rate_loss()

start = time.perf_counter()
history = net.fit(
    train_loader,
    epochs=EPOCHS,
    optimizer=optimizer,
    loss_fn=loss_fn,
    metrics=[SF.accuracy_rate],
    val_loader=val_loader,
    scheduler=scheduler,
    callbacks=[early_stopping, snx.ModelCheckpoint(str(checkpoints), monitor="val_loss"), best_epoch],
    logger=csv_logger,
    progress=not QUICK,
)
fit_seconds = time.perf_counter() - start
print(history)
stopped = early_stopping.stopped_epoch  # counted from 0, as history.epoch
print(f"{len(history.epoch)} epochs in {fit_seconds:.1f} s; best validation accuracy {best_epoch.best:.3f} "
      f"in epoch {best_epoch.epoch + 1}; "
      + ("no early stop" if stopped is None else f"early stopping ended training after epoch {stopped + 1}"))  # fmt: skip
if QUICK:
    print(f"{QUICK_NOTE} about 97% validation accuracy and stops early after about 23 epochs")

# %% [markdown]
# The logger's file has one row per logged step and one per epoch:

# %%
with open(csv_logger.metrics_file) as handle:
    rows = list(csv.DictReader(handle))
print(f"{len(rows)} rows; columns {list(rows[0])}")
print("last epoch row:", {name: value for name, value in rows[-1].items() if value})

# %% [markdown]
# `history` holds one value per epoch for every logged name, and `lr`, the
# learning rate each epoch ended with. `plot.history` draws one panel per
# quantity, training and validation together; it leaves `lr` out unless `keys`
# names it:

# %%
axes = plot.history(history, keys=["loss", "accuracy_rate", "lr"],
                    titles={"accuracy_rate": "accuracy", "lr": "learning rate (cosine)"})  # fmt: skip
_ = plot.save_figure(axes[0].figure, FIGURES / "t5_fit_history.png")

# %% [markdown]
# Training may have gone on past the best epoch (early stopping waits 4 epochs
# before it gives up). `best.safetensors` holds the weights with the lowest
# validation loss, as a state dict with torch's names (`safetensors.torch.load_file`
# reads it into a torch model too). The numbered file is the resumable checkpoint
# of the last epoch: `keep_last=1` (the default) deletes the older ones. In one
# full run, for example, the validation loss was lowest in epoch 19 and early
# stopping ended training after epoch 23, so the folder held `best.safetensors`
# (epoch 19's weights) and `epoch-0022.safetensors` (the end of epoch 23, its
# number counted from 0). Load the best weights back and test once:

# %%
net.load_state_dict(snx.load(checkpoints / "best.safetensors"))
results = net.evaluate(test_loader, loss_fn=loss_fn, metrics=[SF.accuracy_rate])
fit_accuracy = results["accuracy_rate"]
print(f"fit: test loss {results['loss']:.3f}, test accuracy {fit_accuracy:.3f}")
if QUICK:
    print(f"{QUICK_NOTE} about 97% test accuracy")

best_index = int(np.argmin(history["val_loss"]))  # what best.safetensors holds; an index into history.epoch
last_index = history.epoch[-1]
print("checkpoints:", sorted(p.name for p in checkpoints.iterdir()))
print(f"best.safetensors: epoch {best_index + 1} (validation loss {history['val_loss'][best_index]:.3f}); "
      f"epoch-{last_index:04d}.safetensors: the end of epoch {last_index + 1}, the last")  # fmt: skip
assert (checkpoints / f"epoch-{last_index:04d}.safetensors").exists()

# %% [markdown]
# **Mixed precision.** Lightning's `precision="bf16-mixed"` (PyTorch's
# `torch.autocast(dtype=torch.bfloat16)`) is a keyword of `fit`, `evaluate` and
# `predict` here: the products of `nn.Linear` and `nn.Conv*` multiply bfloat16
# operands with float32 accumulation, and weights, optimizer state, membranes,
# spikes and losses stay float32. The same weights give practically the same
# test accuracy (the test inputs are fresh spike draws, so the two figures also
# differ by that noise); training in it works the same way,
# `net.fit(..., precision="bf16-mixed")`.

# %%
mixed = net.evaluate(test_loader, loss_fn=loss_fn, metrics=[SF.accuracy_rate], precision="bf16-mixed")
print(f"bf16-mixed: test loss {mixed['loss']:.3f}, test accuracy {mixed['accuracy_rate']:.3f}")
assert abs(mixed["loss"] - results["loss"]) < 0.1 * results["loss"] + 0.05

# %% [markdown]
# The numbered checkpoint holds the weights, optimizer state, epoch, history and
# random-number position: `net.fit(..., ckpt_path=path)` continues a run from it,
# exactly as if it had never stopped.
#
# ## 2. The same, with a loop of your own
#
# The step is PyTorch's: `optimizer.zero_grad(); loss.backward(); optimizer.step()`.
# Nothing runs where the loop calls it: `net2(x)` and `loss_fn` *record* what they
# compute, and `loss.backward()` compiles the recorded step (forward over all time
# steps, loss, gradients) into one [jitted](../../glossary/#jit) program, runs it and fills each
# parameter's `.grad`; `optimizer.step()` applies them in one jitted update. The
# program is cached by its structure, so every later batch reuses it: the inputs
# (`x`, `y`, the weights) are its arguments, never
# [constants compiled into it](../../glossary/#constant). A new input shape
# [compiles once more](../../glossary/#recompilation): that happens here for the
# last, smaller batch of the epoch (`fit` pads and masks it instead, so it
# compiles one step).
#
# PyTorch's closure idiom works too, `loss = optimizer.step(closure)` with a
# closure that runs the network and returns the loss: forward, gradient and
# update then run as one compiled function.
#
# Evaluation uses `snx.compile`, which jit-compiles a function that uses
# modules and reads their current weights at every call.

# %%
net2 = make_net()  # the same initial weights as `net` had
optimizer2 = optim.Adam(net2.parameters(), lr=5e-3)
hand_epochs = 2 if QUICK else 15
scheduler2 = optim.lr_scheduler.CosineAnnealingLR(optimizer2, T_max=hand_epochs)


@snx.compile
def predicted_classes(x):
    spk, _ = net2(x)
    return spk.sum(0).argmax(-1)  # the output neuron that fired most


def accuracy(loader):
    correct = sum(int((predicted_classes(x) == y).sum()) for x, y in loader)
    return correct / len(loader.labels)


hand_history = {"loss": [], "val_accuracy": []}
start = time.perf_counter()
for epoch in range(hand_epochs):
    net2.train()
    losses = []
    for x, y in train_loader:
        spk, _ = net2(x)
        loss = loss_fn(spk, y)
        optimizer2.zero_grad()
        loss.backward()
        optimizer2.step()
        losses.append(loss.item())
    scheduler2.step()
    net2.eval()
    hand_history["loss"].append(float(np.mean(losses)))
    hand_history["val_accuracy"].append(accuracy(val_loader))
    print(f"epoch {epoch + 1}/{hand_epochs}: loss {hand_history['loss'][-1]:.3f}, validation accuracy "
          f"{hand_history['val_accuracy'][-1]:.3f}, lr {optimizer2.lr:.2e}")  # fmt: skip
hand_seconds = time.perf_counter() - start
hand_accuracy = accuracy(test_loader)
print(f"hand-written loop: {hand_epochs} epochs in {hand_seconds:.1f} s, test accuracy {hand_accuracy:.3f}")
if QUICK:
    print(f"{QUICK_NOTE} about 95% test accuracy here, in 15 epochs")

# %% [markdown]
# Both ways train the same network with the same optimizer and schedule. `fit`
# adds what you would otherwise write yourself: padding and masking of the last
# batch, validation, the metrics, callbacks, checkpoints, a progress bar, the
# NaN guard (see [Failure behaviour](../../failure-behaviour/#numerical-faults-the-guard-in-fit)),
# and data parallelism (`devices=`, the ["Scaling out" tutorial](../scaling_out/)).

# %%
fig, ax = plt.subplots(figsize=(5, 3))
for curve, label in ((history["val_accuracy_rate"], "fit"), (hand_history["val_accuracy"], "hand-written loop")):
    ax.plot(range(1, len(curve) + 1), curve, marker=".", label=label)  # epochs from 1, as the progress bar
ax.set(title="validation accuracy", xlabel="epoch")
ax.xaxis.get_major_locator().set_params(integer=True)
ax.legend()
plot.save_figure(fig, FIGURES / "t5_fit_vs_loop.png")
print(f"test accuracy: fit {fit_accuracy:.3f}, hand-written loop {hand_accuracy:.3f}")
if QUICK:
    print(f"{QUICK_NOTE} about 97% (fit) and 95% (hand-written loop)")
else:
    assert fit_accuracy > 0.9 and hand_accuracy > 0.9
print("figures in FIGURES (SNNAX_FIGURES, else a temporary folder):", sorted(path.name for path in FIGURES.iterdir()))
