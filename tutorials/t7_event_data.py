# %% [markdown]
# # 7. Event data through a torch DataLoader
#
# An event camera (a dynamic vision sensor) does not take pictures: each pixel
# reports, on its own, when its brightness goes up (an ON event) or down (an OFF
# event). A recording is a list of events `(x, y, t, p)`. snnTorch's tutorial 7
# reads one such data set, N-MNIST, with the `tonic` library: tonic gives each
# recording as a NumPy structured array, its `ToFrame` transform bins the events
# into frames `[T, P, H, W]` (time, polarity, height, width), and a torch
# `DataLoader` batches them.
#
# This tutorial runs the same pipeline offline. It makes its own N-MNIST-style
# recordings from scikit-learn's 8x8 digits (a simulated sensor watches each
# digit move), in tonic's layout, then:
#
# - bins them into frames in a torch `Dataset`, with recordings of different
#   lengths;
# - batches them with a real `torch.utils.data.DataLoader` and
#   `interop.collate_padded`, which pads every sample to one length;
# - hands the loader to `fit` through `interop.torch_loader`, which makes the
#   batches time-first and prefetches them to the device.
#
# With the real N-MNIST, replace the generated recordings with
# `tonic.datasets.NMNIST(save_to=..., transform=tonic.transforms.ToFrame(...))`
# (a download on your machine). The DataLoader, the bridge and `fit` stay the
# same; only the network's input size changes (N-MNIST's sensor is 34x34).
#
# Full run: `python tutorials/t7_event_data.py` takes about 70 s on 2 CPU cores
# (about 10 s of it makes the recordings); after 10 epochs the network reaches
# about 94% test accuracy (1077 train, 270 validation and 450 test recordings).
# Figures go to the folder in `SNNAX_FIGURES` (default: a new temporary folder,
# printed at the end). The test suite, and the documentation site, run it with
# `SNNAX_QUICK=1`: one epoch on 256 training recordings, so the accuracy printed
# there is far lower, and a note under it says so.
#
# Requirements: `pip install -e ".[torch,demo,plot]"` (torch's CPU build for the
# `DataLoader`, scikit-learn for the digits and SciPy, which comes with it, for the
# simulated sensor, matplotlib for the figures).

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
import torch
from scipy import ndimage
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import interop, nn, optim, plot, surrogate

QUICK = os.environ.get("SNNAX_QUICK") == "1"
FIGURES = Path(os.environ.get("SNNAX_FIGURES") or tempfile.mkdtemp(prefix="snnax_figures_"))
FIGURES.mkdir(parents=True, exist_ok=True)


# %% [markdown]
# ## Recordings in tonic's layout
#
# tonic stores events as NumPy structured arrays with fields `x`, `y`, `t`
# (microseconds) and `p` (polarity), and describes a sensor by
# `sensor_size = (width, height, polarities)`; N-MNIST's is `(34, 34, 2)`.
#
# Our sensor is 16x16. The digit, scaled to 12x12, moves along three straight
# saccades (as the N-MNIST camera did). At every millisecond each pixel compares
# its log-brightness with the level at its last event; a change larger than the
# contrast threshold fires an event (ON if brighter, OFF if darker), as a real DVS
# pixel does. Each recording lasts 50 to 100 ms, so recordings differ in length.
#
# Three sets of recordings: training, validation (scored after every epoch, taken
# from the training digits) and test (scored once, at the end).

# %%
SENSOR_SIZE = (16, 16, 2)  # tonic's convention: (width, height, polarities)
EVENT_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "<i2")])
CONTRAST = 0.25  # log-brightness change that fires an event
SACCADES = np.array([[0.0, 0.0], [1.5, 1.5], [-1.5, 1.5], [0.0, 0.0]])  # (dy, dx) corners of the path, in pixels


def record(image, rng):
    """An N-MNIST-style recording of an 8x8 digit: a structured array of events (x, y, t, p), sorted by t."""
    width, height, _ = SENSOR_SIZE
    scene = np.zeros((height, width))
    scene[2:14, 2:14] = ndimage.zoom(image, 1.5, order=1)
    duration_ms = int(rng.integers(50, 101))
    progress = np.linspace(0, len(SACCADES) - 1, duration_ms)  # position along the path at each millisecond
    segment = np.minimum(progress.astype(int), len(SACCADES) - 2)
    offsets = SACCADES[segment] + (progress - segment)[:, None] * (SACCADES[segment + 1] - SACCADES[segment])
    level = np.log(scene + 0.1)  # each pixel's log-brightness at its last event
    events = []
    for ms, offset in enumerate(offsets):
        brightness = np.log(np.clip(ndimage.shift(scene, offset, order=1), 0, None) + 0.1)
        change = brightness - level
        for polarity, fired in ((1, change > CONTRAST), (0, change < -CONTRAST)):
            ys, xs = np.nonzero(fired)
            chunk = np.empty(len(xs), EVENT_DTYPE)
            chunk["x"], chunk["y"], chunk["p"] = xs, ys, polarity
            chunk["t"] = ms * 1000 + rng.integers(0, 1000, len(xs))  # microseconds, jittered within the millisecond
            events.append(chunk)
            level[fired] = brightness[fired]
    events = np.concatenate(events)
    return events[np.argsort(events["t"], kind="stable")]


digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)
labels = digits.target.astype(np.int64)
rest_images, test_images, rest_y, test_y = train_test_split(
    images, labels, test_size=0.25, random_state=0, stratify=labels
)
train_images, val_images, train_y, val_y = train_test_split(
    rest_images, rest_y, test_size=0.2, random_state=0, stratify=rest_y
)
if QUICK:
    train_images, train_y, val_images, val_y = train_images[:256], train_y[:256], val_images[:128], val_y[:128]
    test_images, test_y = test_images[:128], test_y[:128]
start = time.perf_counter()
rng = np.random.default_rng(0)
train_recordings = [record(image, rng) for image in train_images]
val_recordings = [record(image, rng) for image in val_images]
test_recordings = [record(image, rng) for image in test_images]
print(f"{len(train_recordings)} training, {len(val_recordings)} validation and {len(test_recordings)} test "
      f"recordings in {time.perf_counter() - start:.1f} s")  # fmt: skip
events = train_recordings[0]
print(
    f"the first: a {train_y[0]}, {len(events)} events over {events['t'][-1] / 1000:.0f} ms, fields {events.dtype.names}"
)
print(events[:5])

# %% [markdown]
# Each dot is one event, ON in black and OFF in red, at its pixel (flattened to
# `y * 16 + x`) and time:

# %%
fig, ax = plt.subplots(figsize=(8, 3))
on, off = events[events["p"] == 1], events[events["p"] == 0]
ax.scatter(on["t"] / 1000, on["y"] * 16 + on["x"], s=2, c="black", label="ON")
ax.scatter(off["t"] / 1000, off["y"] * 16 + off["x"], s=2, c="tab:red", label="OFF")
ax.set(xlabel="time (ms)", ylabel="pixel", title=f"events of a {train_y[0]}")
ax.legend(loc="upper right")
_ = plot.save_figure(fig, FIGURES / "t7_events.png")

# %% [markdown]
# ## From events to frames
#
# A network that runs in steps needs frames. `ToFrame` below does what tonic's
# `ToFrame(sensor_size, time_window=...)` does: it counts the events of each
# polarity at each pixel in consecutive 5 ms windows, giving an integer array
# `[T, P, H, W]`. The number of frames `T` follows the length of the recording.


# %%
class ToFrame:
    """Bin events into frames ``[T, P, H, W]`` of ``time_window`` microseconds (tonic's ``ToFrame``)."""

    def __init__(self, sensor_size, time_window):
        self.sensor_size, self.time_window = sensor_size, time_window

    def __call__(self, events):
        width, height, polarities = self.sensor_size
        steps = int(events["t"][-1] // self.time_window) + 1
        frames = np.zeros((steps, polarities, height, width), np.int16)
        np.add.at(frames, (events["t"] // self.time_window, events["p"], events["y"], events["x"]), 1)
        return frames


class EventDigits(torch.utils.data.Dataset):
    """A torch Dataset of ``(frames [T_i, 2, 16, 16], label)``, like a tonic data set with a transform."""

    def __init__(self, recordings, labels, transform):
        self.recordings, self.labels, self.transform = recordings, labels, transform

    def __len__(self):
        return len(self.recordings)

    def __getitem__(self, index):
        return self.transform(self.recordings[index]), self.labels[index]


to_frame = ToFrame(SENSOR_SIZE, time_window=5000)
train_set = EventDigits(train_recordings, train_y, to_frame)
val_set = EventDigits(val_recordings, val_y, to_frame)
test_set = EventDigits(test_recordings, test_y, to_frame)
frames, label = train_set[0]
lengths = [len(frames) for frames, _ in train_set]
print(f"one sample: {frames.shape} {frames.dtype}; T ranges from {min(lengths)} to {max(lengths)} frames")

fig, ax = plt.subplots(figsize=(3, 3.4))
anim = plot.animate(frames, interval=100, ax=ax, title=f"a {label}: events per 5 ms")  # sums ON and OFF
plot.save_gif(anim, FIGURES / "t7_frames.gif")  # a notebook shows it inline

# %%
fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
for step, (top, bottom) in enumerate(zip(axes[0], axes[1])):
    top.imshow(frames[step, 1], cmap="Greys", vmin=0)
    bottom.imshow(frames[step, 0], cmap="Reds", vmin=0)
    top.set_title(f"{step * 5}-{step * 5 + 5} ms", fontsize=8)
    top.axis("off")
    bottom.axis("off")
axes[0, 0].text(-2, 8, "ON", ha="right", va="center")
axes[1, 0].text(-2, 8, "OFF", ha="right", va="center")
_ = plot.save_figure(fig, FIGURES / "t7_frames.png")

# %% [markdown]
# ## Batches: a torch DataLoader
#
# torch's default collate cannot stack samples of different lengths.
# `interop.collate_padded(pad_to)` zero-pads each sample's time axis (zeros mean
# "no events") and returns `(frames [B, T, ...], labels, lengths)`. Without
# `pad_to` it pads to the longest sample of each batch, so every batch can have
# another `T`:

# %%
loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True, collate_fn=interop.collate_padded())
for frames, labels, lengths in list(loader)[:3]:
    print(f"frames {tuple(frames.shape)} {frames.dtype}, labels {tuple(labels.shape)}, longest {int(lengths.max())}")

# %% [markdown]
# For `jax.jit` a new shape means [a new compilation](../../glossary/#recompilation).
# With a fixed `pad_to` (the longest recording can last 100 ms: 20 frames) every
# batch has one shape, and the whole run compiles one training step.
#
# `interop.torch_loader` is the bridge from the DataLoader to `fit`. It turns
# each batch-first torch batch into time-first float32
# [device arrays](../../glossary/#async) `[T, B, 2, 16, 16]` (`fit`'s layout, and
# snnTorch's), and it prepares the next batches in a background thread while the
# current step runs. With
# `keep_lengths=True` it passes each sample's true length along. `fit` then
# zeroes the outputs at the padded steps, and the losses count only the real
# steps. For `mse_count_loss` that means a recording of 12 frames is asked for
# `int(12 * 0.8)` spikes of the correct class, not `int(20 * 0.8)`.
#
# DataLoader options work as usual: `shuffle`, `batch_size`, `sampler`, and
# `num_workers` (workers only run the dataset's numpy code;
# [Data from torch](../../interop-data/) says what to mind when a dataset uses JAX).

# %%
PAD_TO = 20
train_loader = interop.torch_loader(
    torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True, collate_fn=interop.collate_padded(PAD_TO)),
    keep_lengths=True,
)
val_loader = interop.torch_loader(
    torch.utils.data.DataLoader(val_set, batch_size=128, collate_fn=interop.collate_padded(PAD_TO)),
    keep_lengths=True,
)
test_loader = interop.torch_loader(
    torch.utils.data.DataLoader(test_set, batch_size=128, collate_fn=interop.collate_padded(PAD_TO)),
    keep_lengths=True,
)
x, y, lengths = next(iter(train_loader))
print(f"what fit sees: x {x.shape} {x.dtype}, y {y.shape} {y.dtype}, lengths {lengths.shape} {lengths.dtype}")

# %% [markdown]
# ## The network
#
# A small convolutional network, as in snnTorch's tutorial 7 (two polarity
# channels in). snnTorch's tutorial trains it on spike counts with
# `mse_count_loss`: the correct class should fire at 80% of the steps, the others
# at 20%. `surrogate.atan()` is the surrogate gradient there. The decay is
# slower here (`beta=0.9` rather than 0.5), so the neurons remember a few frames.

# %%
spike_grad = surrogate.atan()
snx.manual_seed(0)
net = nn.Sequential(
    nn.Conv2d(2, 12, 3, padding=1),
    nn.MaxPool2d(2),
    nn.Leaky(beta=0.9, spike_grad=spike_grad),
    nn.Conv2d(12, 32, 3, padding=1),
    nn.MaxPool2d(2),
    nn.Leaky(beta=0.9, spike_grad=spike_grad),
    nn.Flatten(),
    nn.Linear(32 * 4 * 4, 10),
    nn.Leaky(beta=0.9, spike_grad=spike_grad),
)
spk, mem = net(x)
print("output:", spk.shape)

# %% [markdown]
# ## Training with `fit`
#
# The bridged loaders go straight into `fit`. Every batch has the shape
# `[20, 64, 2, 16, 16]`, and `fit` pads and masks the last, smaller one. The
# lengths are data, not shapes, so `trainer.trace_count` (the number of times
# the training step was [traced](../../glossary/#trace) and compiled) stays at 1.
# The validation recordings are scored after every epoch; the test recordings
# once, after training.

# %%
loss_fn = SF.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2)
trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=5e-3), loss_fn, metrics=[SF.accuracy_rate],
                      progress=not QUICK)  # fmt: skip
start = time.perf_counter()
history = trainer.fit(train_loader, epochs=1 if QUICK else 10, val_loader=val_loader)
seconds = time.perf_counter() - start
accuracy = trainer.evaluate(test_loader)["accuracy_rate"]
print(f"{len(history.epoch)} epochs in {seconds:.1f} s, compiled training steps: {trainer.trace_count}")
print(f"test accuracy: {accuracy:.3f}")
if QUICK:
    print(
        "quick mode (SNNAX_QUICK=1): 1 epoch on 256 recordings; the full run (SNNAX_QUICK=0) trains 10 epochs on "
        "1077 recordings and reaches about 94% test accuracy"
    )
assert trainer.trace_count == 1

axes = plot.history(history, titles={"loss": "mse_count_loss", "accuracy_rate": "accuracy"})
_ = plot.save_figure(axes[0].figure, FIGURES / "t7_history.png")

# %% [markdown]
# The output layer's spikes for one test recording, and its spike counts. The
# spike plots take the network's outputs `(spk, mem)` as they are and draw `spk`:

# %%
x, y, lengths = next(iter(test_loader))
outputs = net(x)
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
plot.raster(outputs, axes[0], sample=0, s=40, title=f"output spikes for a {int(y[0])}")
plot.spike_counts(outputs, axes[1], sample=0, highlight=int(y[0]), title="spike counts")
plot.save_figure(fig, FIGURES / "t7_output.png")
if not QUICK:
    assert accuracy > 0.8
print("figures in FIGURES (SNNAX_FIGURES, else a temporary folder):", sorted(path.name for path in FIGURES.iterdir()))
