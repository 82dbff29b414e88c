# %% [markdown]
# # 1. Turning data into spikes
#
# A spiking network reads spikes, so static data (an image, a sensor reading) must
# first become a spike train over time. `snnax_torchlike.spikegen` has snnTorch's
# three encoders, with snnTorch's names and formulas:
#
# - `spikegen.rate`: each value is a firing probability per step;
# - `spikegen.latency`: each value fires once, larger values earlier;
# - `spikegen.delta`: a signal that changes over time fires where it changes.
#
# Every result is time-first, `[T, ...]`, as snnTorch's. We draw them with
# `snnax_torchlike.plot` (matplotlib, the `plot` extra).
#
# Full run: `python tutorials/t1_spike_encoding.py` takes about 15 s on 2 CPU cores and
# writes its figures (PNG and GIF) to the folder in `SNNAX_FIGURES` (default: a new
# temporary folder, printed at the end). No training; the data is scikit-learn's
# 8x8 digits, offline. The test suite, and the documentation site, run it with
# `SNNAX_QUICK=1`, which only shortens the first animation.
#
# Requirements: `pip install -e ".[demo,plot]"` (scikit-learn for the digits,
# matplotlib for the figures).

# %%
import os
import sys
import tempfile
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules:  # as a script: draw off-screen and write files
    matplotlib.use("Agg")
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import snnax_torchlike as snx
from snnax_torchlike import plot, spikegen

QUICK = os.environ.get("SNNAX_QUICK") == "1"
FIGURES = Path(os.environ.get("SNNAX_FIGURES") or tempfile.mkdtemp(prefix="snnax_figures_"))
FIGURES.mkdir(parents=True, exist_ok=True)


# %% [markdown]
# ## The data
#
# scikit-learn's digits are 8x8 grey images with values 0..16. Scaled to [0, 1],
# each pixel can be read as an intensity.

# %%
digits = load_digits()
images = (digits.data / 16.0).astype(np.float32)  # [1797, 64]
image, label = images[0], int(digits.target[0])
print(f"{len(images)} images of {images.shape[1]} pixels; the first shows a {label}")

# %% [markdown]
# ## Rate coding
#
# `spikegen.rate(x, num_steps=T)` draws, at every step and for every element, a
# spike with probability `x` (clipped to [0, 1]). A white pixel fires at every
# step, a black one never. The random numbers come from the library's stream,
# seeded with `snx.manual_seed` (like `torch.manual_seed`); pass `key=` to
# control them yourself (JAX's [PRNG keys](../../glossary/#prng-key)).
#
# `plot.save_figure` writes a figure to a file and returns the file's path. In a
# notebook the figure also shows under the cell; `_ = ...` keeps the returned
# path from being printed there too.

# %%
snx.manual_seed(0)
num_steps = 100
spikes = spikegen.rate(image, num_steps=num_steps)  # [T, 64]
print("rate-coded:", spikes.shape, spikes.dtype, f"{int(spikes.sum())} spikes")

fig, ax = plt.subplots(figsize=(7, 3.5))
plot.raster(spikes, ax, s=12, title=f"rate coding of a {label}: one row per pixel")
_ = plot.save_figure(fig, FIGURES / "t1_rate_raster.png")

# %% [markdown]
# The firing rate over time recovers the image: the more steps, the closer the
# average of the spikes gets to the pixel values. `gain` scales the probabilities
# (fewer spikes for the same information, at the cost of more noise).

# %%
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
axes[0].imshow(image.reshape(8, 8), cmap="gray", vmin=0, vmax=1)
axes[0].set_title("image")
for ax, steps in zip(axes[1:3], (10, num_steps)):
    average = spikes[:steps].mean(axis=0)
    error = float(np.abs(average - image).mean())
    ax.imshow(average.reshape(8, 8), cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"mean of {steps} steps\n|error| = {error:.3f}")
sparse = spikegen.rate(image, num_steps=num_steps, gain=0.25)
axes[3].imshow(sparse.mean(axis=0).reshape(8, 8), cmap="gray")
axes[3].set_title(f"gain 0.25: {int(sparse.sum())} spikes\n(instead of {int(spikes.sum())})")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
_ = plot.save_figure(fig, FIGURES / "t1_rate_average.png")

# %% [markdown]
# A batch works the same way: `[B, 64]` becomes `[T, B, 64]`. To watch the spikes
# as a movie, reshape them to images and animate: `plot.animate` takes
# `[T, H, W]` frames and returns a matplotlib `FuncAnimation`; `plot.save_gif`
# writes it as a GIF, which a notebook shows inline when it is a cell's result.

# %%
batch = spikegen.rate(images[:16], num_steps=num_steps)  # [T, 16, 64]
print("a batch:", batch.shape)
frames = batch[: 20 if QUICK else num_steps, 0].reshape(-1, 8, 8)  # sample 0 as [T, 8, 8]
anim = plot.animate(frames, interval=80, title="rate-coded digit")
plot.save_gif(anim, FIGURES / "t1_rate.gif")  # a notebook shows it inline

# %% [markdown]
# ## Latency coding
#
# `spikegen.latency` makes each element fire exactly once; the brighter, the
# earlier. Its default time is logarithmic: $t = \tau \ln\frac{x}{x - \theta}$,
# so everything well above the threshold $\theta$ fires within about one $\tau$
# (note the zoomed time axis below), and values at or below it would fire very
# late: `clip=True` silences those (their times still count for the range check
# below, which bounds `tau`). With `linear=True` the time falls linearly
# with the value, and `normalize=True` stretches the latest spike to the last step.
#
# A spike time beyond `num_steps - 1` is an error, as in snnTorch (the message
# says to decrease `tau` or pass `normalize=True`).

# %%
log_code = spikegen.latency(image, num_steps=num_steps, tau=7, threshold=0.05, clip=True)
linear_code = spikegen.latency(
    image, num_steps=num_steps, tau=5, threshold=0.01, clip=True, linear=True, normalize=True
)
try:
    spikegen.latency(image, num_steps=20, tau=5, threshold=0.01)
except ValueError as error:
    print("too few steps:", error)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), sharey=True)
plot.raster(log_code, axes[0], s=25, title="logarithmic (tau=7, threshold=0.05), first 15 steps")
axes[0].set_xlim(-0.5, 15)
plot.raster(linear_code, axes[1], s=25, title="linear, normalized")
_ = plot.save_figure(fig, FIGURES / "t1_latency_raster.png")

# %% [markdown]
# Each pixel's spike time against its value shows the two curves. Black pixels
# (value 0) are clipped and never fire.

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
for code, name in ((log_code, "logarithmic"), (linear_code, "linear, normalized")):
    code = np.asarray(code)
    fired = code.sum(axis=0) > 0
    ax.scatter(image[fired], code.argmax(axis=0)[fired], label=name, s=18)
ax.set_xlabel("pixel value")
ax.set_ylabel("spike time (step)")
ax.legend()
_ = plot.save_figure(fig, FIGURES / "t1_latency_times.png")

# %% [markdown]
# ## Delta modulation
#
# Data that already changes over time (audio, sensor streams, video) can be
# coded by its changes: `spikegen.delta(x, threshold=...)` fires where
# `x[t] - x[t-1] >= threshold`, and with `off_spike=True` emits `-1` where it
# dropped by as much. This is how event cameras see the world.
#
# First, four sine waves of different frequency. The slowest never changes by
# 0.1 within one step, so it never fires: delta coding sees the change per step,
# not the change accumulated since the last spike.

# %%
steps = np.arange(num_steps)
signal = np.sin(2 * np.pi * steps[:, None] * np.array([1, 2, 3, 5]) / num_steps).astype(np.float32)  # [T, 4]
events = spikegen.delta(signal, threshold=0.1, off_spike=True, padding=True)
print("delta events per channel (on, off):", list(zip((events > 0).sum(0).tolist(), (events < 0).sum(0).tolist())))

fig, axes = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
plot.traces(signal, axes[0], labels=["1 cycle", "2 cycles", "3 cycles", "5 cycles"], ylabel="signal", title="input")
plot.raster(events, axes[1], s=30, title="delta spikes: on (black), off (red)")
_ = plot.save_figure(fig, FIGURES / "t1_delta_sine.png")

# %% [markdown]
# Then a small "video": the digit slides across a wider canvas. Only its moving
# edges fire. Splitting on and off events into two channels gives the
# `[T, 2, H, W]` layout of event-camera data (and of tonic's neuromorphic
# datasets); `plot.animate` sums the channels.

# %%
canvas_width, moves = 20, 12
video = np.zeros((moves, 8, canvas_width), np.float32)
for t in range(moves):
    video[t, :, t : t + 8] = image.reshape(8, 8)
changes = spikegen.delta(video, threshold=0.25, off_spike=True, padding=True)  # [T, 8, 20] in {-1, 0, 1}
polarity = jnp.stack([changes > 0, changes < 0], axis=1).astype(np.float32)  # [T, 2, 8, 20]
print("event frames:", polarity.shape, f"{int(polarity.sum())} events")

fig, axes = plt.subplots(2, 3, figsize=(10, 3.5))
for column, t in enumerate((2, 6, 10)):
    axes[0, column].imshow(video[t], cmap="gray", vmin=0, vmax=1)
    axes[0, column].set_title(f"frame {t}")
    axes[1, column].imshow(changes[t], cmap="bwr", vmin=-1, vmax=1)
    axes[1, column].set_title(f"events at {t} (red on, blue off)")
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
_ = plot.save_figure(fig, FIGURES / "t1_delta_video.png")

# %%
anim = plot.animate(polarity, interval=150, title="on + off events")
plot.save_gif(anim, FIGURES / "t1_events.gif")

# %% [markdown]
# ## What next
#
# Tutorial 2 feeds such spike trains (and plain currents) into a leaky
# integrate-and-fire neuron, `nn.Leaky`.

# %%
print("figures in FIGURES (SNNAX_FIGURES, else a temporary folder):", sorted(path.name for path in FIGURES.iterdir()))
