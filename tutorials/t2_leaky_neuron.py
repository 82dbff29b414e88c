# %% [markdown]
# # 2. The leaky integrate-and-fire neuron
#
# The workhorse of spiking networks: a membrane potential that integrates its
# input, leaks back towards zero, and emits a spike (then resets) when it crosses
# a threshold. This tutorial runs `nn.Leaky` step by step, exactly as in snnTorch
# (`spk, mem = lif(cur, mem)`), checks it against the equation written by hand, and
# looks at what each knob does: the decay `beta`, the `threshold`, and the three
# reset mechanisms.
#
# Full run: `python tutorials/t2_leaky_neuron.py` takes about 10 s on 2 CPU cores and
# writes its figures to the folder in `SNNAX_FIGURES` (default: a new temporary
# folder, printed at the end). No data, no training. The test suite, and the
# documentation site, run it with `SNNAX_QUICK=1` (shorter simulations).
#
# Requirements: `pip install -e ".[plot]"` (matplotlib for the figures).

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

import snnax_torchlike as snx
from snnax_torchlike import nn, plot, spikegen

QUICK = os.environ.get("SNNAX_QUICK") == "1"
FIGURES = Path(os.environ.get("SNNAX_FIGURES") or tempfile.mkdtemp(prefix="snnax_figures_"))
FIGURES.mkdir(parents=True, exist_ok=True)
STEPS = 60 if QUICK else 100  # length of each simulation
SWEEP_STEPS = 100 if QUICK else 400  # length of the firing-rate sweeps


# %% [markdown]
# ## From an RC circuit to one line of code
#
# A neuron's membrane behaves like a capacitor $C$ charged by an input current
# $I$ and discharged through a leak resistance $R$:
# $\tau \frac{dU}{dt} = -U + R I$ with $\tau = RC$. Step it forward in time by
# $\Delta t$ and the leak becomes a multiplication by a decay
# $\beta = e^{-\Delta t/\tau}$ (or $1 - \Delta t/\tau$ with Euler's method).
# Like snnTorch, `nn.Leaky` folds the input's scale into the weights that produce
# the current, which leaves
#
# $$U_t = \beta\, U_{t-1} + I_t - S_{t-1}\,\theta, \qquad S_t = \begin{cases}1 & U_t > \theta\\ 0 & \text{otherwise}\end{cases}$$
#
# The last term is the reset: a neuron that spiked at the previous step loses
# $\theta$ (the threshold) from its membrane.
#
# ## Running a neuron step by step
#
# `nn.Leaky(beta=0.8)` is one layer of such neurons; its shape is the input's.
# As in snnTorch, `init_leaky()` gives a zero membrane that broadcasts to the
# input's shape on the first call, and each call advances one step.

# %%
lif = nn.Leaky(beta=0.8)


def simulate(neuron, current):
    """Run a neuron over a time-first current [T, ...]; return the stacked spikes and membranes."""
    mem = neuron.init_leaky()
    spk_rec, mem_rec = [], []
    for step in range(current.shape[0]):
        spk, mem = neuron(current[step], mem)
        spk_rec.append(spk)
        mem_rec.append(mem)
    return jnp.stack(spk_rec), jnp.stack(mem_rec)


# A step current: nothing for 10 steps, then 0.25 per step, for one neuron.
current = jnp.zeros((STEPS, 1)).at[10:].set(0.25)
spk, mem = simulate(lif, current)
print(f"{int(spk.sum())} spikes, first at step {int(jnp.argmax(spk[:, 0]))}")


def current_membrane_spikes(current, mem, spk, title, threshold=1.0, spiking_input=False):
    """Three stacked panels: input (a current, or spikes), membrane with the threshold, output spikes."""
    fig, axes = plt.subplots(3, 1, figsize=(7, 5.5), sharex=True, gridspec_kw={"height_ratios": [1, 2, 0.7]})
    if spiking_input:
        plot.raster(current, axes[0], s=80, title=title)
        axes[0].set_ylabel("input spikes")
        axes[0].set_yticks([])
    else:
        plot.traces(current, axes[0], ylabel="input current", title=title)
    plot.traces(mem, axes[1], threshold=threshold)
    plot.raster(spk, axes[2], s=80)
    axes[2].set_ylabel("output spikes")
    axes[2].set_yticks([])
    for ax in axes[:2]:
        ax.set_xlabel("")
    return fig


_ = plot.save_figure(
    current_membrane_spikes(current, mem, spk, "nn.Leaky(beta=0.8), step current 0.25"), FIGURES / "t2_step_current.png"
)

# %% [markdown]
# Two details, both snnTorch's: the membrane that `lif` returns is the value
# *before* the reset, so the trace pokes above the threshold at every spike; and
# the reset happens at the *next* step (it uses the previous step's spike).
#
# The same equation written by hand in plain Python gives the same numbers:


# %%
def leaky_by_hand(current, beta, threshold=1.0):
    mem, spk, mem_rec = 0.0, 0.0, []
    for x in current:
        mem = beta * mem + x - spk * threshold  # leak, integrate, reset by the previous spike
        spk = float(mem > threshold)
        mem_rec.append(mem)
    return np.array(mem_rec)


by_hand = leaky_by_hand(np.asarray(current[:, 0]), beta=0.8)
print(f"largest difference to the hand-written neuron: {np.abs(by_hand - np.asarray(mem[:, 0])).max():.1e}")
assert np.allclose(by_hand, mem[:, 0], atol=1e-5)

# %% [markdown]
# ## Leak: the decay `beta`
#
# Without input, the membrane decays geometrically, $U_t = \beta^t U_0$. Here
# three neurons start at 0.9 (just below the threshold). `beta` is a number or
# an array with one value per neuron.

# %%
betas = jnp.array([0.5, 0.8, 0.95])
leaky3 = nn.Leaky(beta=betas)
_, mem = simulate(leaky3, jnp.zeros((30, 3)).at[0].set(0.9))  # a single kick at step 0
fig, ax = plt.subplots(figsize=(6, 3))
plot.traces(mem, ax, labels=[f"beta = {b:.2f}" for b in betas.tolist()], title="the leak, without input")
_ = plot.save_figure(fig, FIGURES / "t2_leak.png")

# %% [markdown]
# ## Spikes as input
#
# Inside a network the input current is a weighted sum of spikes. One input
# neuron firing at random (rate coding from tutorial 1) through a weight of 0.4:
# every input spike lifts the membrane by 0.4, and it leaks away between them.
# It takes a burst of input spikes close together to reach the threshold.

# %%
snx.manual_seed(0)
input_spikes = spikegen.rate(jnp.full((1,), 0.3), num_steps=STEPS)  # [T, 1]
spk, mem = simulate(nn.Leaky(beta=0.85), 0.4 * input_spikes)
title = "input spikes (weight 0.4) into nn.Leaky(beta=0.85)"
fig = current_membrane_spikes(input_spikes, mem, spk, title, spiking_input=True)
_ = plot.save_figure(fig, FIGURES / "t2_spike_input.png")

# %% [markdown]
# ## Reset mechanisms
#
# What happens after a spike is set by `reset_mechanism`:
#
# - `"subtract"` (default): the threshold is subtracted, so whatever charge was
#   above it is kept; the firing rate tracks the input closely.
# - `"zero"`: the membrane restarts from zero (snnTorch's form:
#   $U_t = \beta (1 - S_{t-1}) U_{t-1} + I_t$); the surplus is lost.
# - `"none"`: no reset at all. Once above the threshold it fires at every step.
#   Useful for output layers read out through the membrane (no spikes needed).

# %%
mechanisms = ["subtract", "zero", "none"]
current = jnp.zeros((STEPS, 1)).at[5:].set(0.3)
fig, axes = plt.subplots(2, 3, figsize=(11, 4.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
for column, mechanism in enumerate(mechanisms):
    spk, mem = simulate(nn.Leaky(beta=0.8, reset_mechanism=mechanism), current)
    plot.traces(mem, axes[0, column], threshold=1.0, title=f'reset_mechanism="{mechanism}": {int(spk.sum())} spikes')
    plot.raster(spk, axes[1, column], s=60)
    axes[0, column].set_xlabel("")
    axes[1, column].set_yticks([])
    axes[1, column].set_ylabel("spikes")
_ = plot.save_figure(fig, FIGURES / "t2_reset_mechanisms.png")

# %% [markdown]
# ## Firing rate against input: `beta` and `threshold`
#
# How often a neuron fires for a constant input current is its f-I curve. To
# sweep 50 currents at once we give the layer 50 neurons (one current each), and
# to run the whole sequence in one [compiled](../../glossary/#jit) call we wrap it in `nn.Sequential`,
# which takes time-first `[T, B, N]` input and returns the spikes and membranes
# of all steps (tutorial 3 says more). It computes exactly what the step-by-step
# loop does:

# %%
currents = jnp.linspace(0.0, 0.6, 50)
constant = jnp.broadcast_to(currents, (SWEEP_STEPS, 1, 50))  # [T, B=1, N=50]
spk_seq, mem_seq = nn.Sequential(nn.Leaky(beta=0.8))(constant)
spk_loop, mem_loop = simulate(nn.Leaky(beta=0.8), constant)
assert (spk_seq == spk_loop).all() and jnp.allclose(mem_seq, mem_loop, atol=1e-5)


def firing_rate(**options):
    spk, _ = nn.Sequential(nn.Leaky(**options))(constant)
    return spk[:, 0].mean(axis=0)  # spikes per step, per current


fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for beta in (0.5, 0.8, 0.95):
    axes[0].plot(currents, firing_rate(beta=beta), label=f"beta = {beta}")
for threshold in (0.5, 1.0, 2.0):
    axes[1].plot(currents, firing_rate(beta=0.8, threshold=threshold), label=f"threshold = {threshold}")
axes[0].set_title("a slower leak fires at weaker input")
axes[1].set_title("a higher threshold needs stronger input (beta 0.8)")
for ax in axes:
    ax.set_xlabel("input current per step")
    ax.legend()
axes[0].set_ylabel("spikes per step")
_ = plot.save_figure(fig, FIGURES / "t2_f_i_curves.png")

# %% [markdown]
# With `beta < 1` a neuron fires only once its input exceeds
# $(1 - \beta)\,\theta$: below that, the leak removes what the input adds at
# a membrane still under the threshold. Above it the rate grows with the
# current, up to one spike per step (reached at the right end by the neuron
# with threshold 0.5).
#
# Both `beta` and `threshold` can be learned (`learn_beta=True`,
# `learn_threshold=True`), as in snnTorch. Tutorial 3 connects layers of these
# neurons into a network.

# %%
print("figures in FIGURES (SNNAX_FIGURES, else a temporary folder):", sorted(path.name for path in FIGURES.iterdir()))
