# %% [markdown]
# # 4. More neuron models: synapses, ODEs with a time step, recurrence
#
# `nn.Leaky` (tutorial 2) jumps the moment a spike arrives. Real synapses
# spread a spike's effect over time, physical models come with time constants in
# seconds, and neurons can feed their own spikes back. This tutorial tours the
# neurons that do each:
#
# - `nn.Synaptic` and `nn.Alpha` (snnTorch's): a synaptic current between the
#   input and the membrane;
# - `nn.Lapicque` (snnTorch's): the RC circuit with physical `R`, `C` and time step;
# - `nn.LIF`, `nn.LI` and `nn.CubaLIF` (NIR's neurons): ODE parameters in seconds,
#   an explicit `dt`, and an explicit discretisation `convention`;
# - `nn.RLeaky` and `nn.RSynaptic` (snnTorch's): recurrence, one-to-one or all-to-all.
#
# Full run: `python tutorials/t4_neuron_models.py` takes about 20 s on 2 CPU cores and
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
STEPS = 60 if QUICK else 100


# %% [markdown]
# ## One loop for every snnTorch neuron
#
# snnTorch's neurons differ in how many state variables they carry, but they
# share one calling convention, which this library keeps:
#
# ```python
# mem = lif.init_leaky();               spk, mem = lif(x, mem)                    # Leaky
# syn, mem = lif.init_synaptic();       spk, syn, mem = lif(x, syn, mem)          # Synaptic
# exc, inh, mem = lif.init_alpha();     spk, exc, inh, mem = lif(x, exc, inh, mem)  # Alpha
# ```
#
# so one loop runs any of them: the spikes come first, then the new state, in
# the order the neuron takes it back.


# %%
def simulate(neuron, current, state):
    """Run an snnTorch-style neuron over [T, ...]; return the spikes and each state variable, stacked."""
    records = []
    for step in range(current.shape[0]):
        spk, *state = neuron(current[step], *state)
        records.append((spk, *state))
    return [jnp.stack(column) for column in zip(*records)]


# %% [markdown]
# ## Synaptic currents: `nn.Synaptic` and `nn.Alpha`
#
# `nn.Synaptic(alpha, beta)` puts a leaky current between input and membrane:
# $I_t = \alpha I_{t-1} + x_t$, then $U_t = \beta U_{t-1} + I_t$ (and the reset).
# A spike now charges the membrane over several steps. `nn.Alpha` uses an
# excitatory and an inhibitory current, $I^+$ and $I^-$, whose difference gives
# the smooth rise and fall of the classic "alpha" postsynaptic potential.
#
# The response of each neuron to one input spike at step 5 (with a threshold too
# high to fire, and scaled to the same peak):

# %%
kick = jnp.zeros((40, 1)).at[5].set(1.0)
never = 1e3  # a threshold that is never reached
_, leaky_mem = simulate(nn.Leaky(beta=0.9, threshold=never), kick, [jnp.zeros(())])
_, syn_current, syn_mem = simulate(nn.Synaptic(alpha=0.8, beta=0.9, threshold=never), kick, [0.0, 0.0])
alpha_neuron = nn.Alpha(alpha=0.9, beta=0.8, threshold=never)
_, excitatory, inhibitory, alpha_mem = simulate(alpha_neuron, kick, alpha_neuron.init_alpha())

responses = jnp.concatenate([leaky_mem, syn_mem, alpha_mem], axis=1)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
plot.traces(
    responses / responses.max(axis=0),
    axes[0],
    labels=["Leaky(beta=0.9)", "Synaptic(alpha=0.8, beta=0.9)", "Alpha(alpha=0.9, beta=0.8)"],
    ylabel="membrane / its peak",
    title="response to one input spike",
)
plot.traces(
    jnp.concatenate([syn_current, excitatory, inhibitory], axis=1),
    axes[1],
    labels=["Synaptic: I", "Alpha: excitatory I+", "Alpha: inhibitory I-"],
    ylabel="synaptic current",
    title="the currents behind them",
)
_ = plot.save_figure(fig, FIGURES / "t4_psp_shapes.png")

# %% [markdown]
# Driven by a random spike train (weight 0.07 per input spike), the synaptic
# neuron integrates the input smoothly instead of jumping at each spike, and
# fires where input spikes crowd together:

# %%
snx.manual_seed(0)
input_spikes = spikegen.rate(jnp.full((1,), 0.4), num_steps=STEPS)  # [T, 1]
spk, syn, mem = simulate(nn.Synaptic(alpha=0.8, beta=0.9), 0.07 * input_spikes, nn.Synaptic(0.8, 0.9).init_synaptic())
fig, axes = plt.subplots(4, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [0.7, 1.5, 2, 0.7]})
plot.raster(input_spikes, axes[0], s=60, title="nn.Synaptic(alpha=0.8, beta=0.9) driven by input spikes")
plot.traces(syn, axes[1], ylabel="current I")
plot.traces(mem, axes[2], threshold=1.0)
plot.raster(spk, axes[3], s=60)
for ax, name in ((axes[0], "input"), (axes[3], "output")):
    ax.set_yticks([])
    ax.set_ylabel(name)
for ax in axes[:-1]:
    ax.set_xlabel("")
plot.save_figure(fig, FIGURES / "t4_synaptic_driven.png")
print(f"Synaptic: {int(input_spikes.sum())} input spikes, {int(spk.sum())} output spikes")

# %% [markdown]
# ## Physical units: `nn.Lapicque`
#
# snnTorch's Lapicque neuron is the RC circuit from tutorial 2 integrated with
# forward Euler: $U_t = U_{t-1} + \frac{\Delta t}{RC}(R I_t - U_{t-1})$. Give it a
# resistance, a capacitance and a time step, as in snnTorch (or a `beta`, from
# which it derives them). The membrane settles at $R I$, so a current fires the
# neuron only if $R I$ exceeds the threshold.

# %%
lapicque = nn.Lapicque(R=5.1, C=5e-3, time_step=1e-3, threshold=0.5)
print(f"tau = RC = {5.1 * 5e-3 * 1e3:.1f} ms, beta = exp(-dt/RC) = {float(lapicque.beta[0]):.4f}")
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
for ax, amplitude in zip(axes, (0.08, 0.15)):
    current = jnp.zeros((STEPS * 2, 1)).at[10:].set(amplitude)
    spk, mem = simulate(lapicque, current, [lapicque.init_lapicque()])
    plot.traces(mem, ax, threshold=0.5, title=f"I = {amplitude}: R I = {5.1 * amplitude:.2f}, {int(spk.sum())} spikes")
_ = plot.save_figure(fig, FIGURES / "t4_lapicque.png")

# %% [markdown]
# ## ODE neurons with an explicit time step: `nn.LIF`, `nn.LI`, `nn.CubaLIF`
#
# [NIR](../../interop-nir/) (the neuromorphic exchange format) describes neurons by their differential
# equations, with time constants in seconds, and leaves the time step open. The
# facade's `nn.LIF`, `nn.LI` (no threshold: a leaky readout), `nn.CubaLIF` (with a
# synaptic current), `nn.IF` and `nn.Integrator` take NIR's parameters plus a
# `dt` and a `convention` that turns the ODE into per-step coefficients:
#
# - `"euler"`: forward Euler, decay $1 - \Delta t/\tau$;
# - `"exact"`: the exact solution for an input held over the step, decay $e^{-\Delta t/\tau}$;
# - `"snntorch"`, `"norse"`: the coefficients of those libraries' exports.
#
# `neuron.coefficients()` shows what a step computes. Unlike snnTorch's neurons,
# these are called Norse-style, `out, state = neuron(x, state)`, on a batch
# `[B, ...]`; the state is an `ODENeuronState` with the membrane `v` and current `i`.
#
# The membrane of `nn.LI(tau=20 ms)` driven by a constant input, for three time
# steps: the exact convention lands on the ODE's solution $1 - e^{-t/\tau}$
# whatever `dt`, Euler drifts from it as `dt` grows towards `tau`.

# %%
tau, duration = 20e-3, 0.1
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), sharey=True)
fine = np.linspace(0, duration, 200)
for ax, convention in zip(axes, ("euler", "exact")):
    ax.plot(fine * 1e3, 1 - np.exp(-fine / tau), color="gray", linestyle="--", label="ODE solution")
    for dt in (1e-3, 5e-3, 10e-3):
        readout = nn.LI(tau=tau, dt=dt, convention=convention)
        state, trace = None, []
        for _ in range(int(round(duration / dt))):
            out, state = readout(jnp.ones((1, 1)), state)  # a batch of one neuron
            trace.append(float(out[0, 0]))
        times = dt * np.arange(1, len(trace) + 1)
        decay = float(readout.coefficients().mem_decay)
        ax.plot(times * 1e3, trace, marker="o", markersize=3, label=f"dt = {dt * 1e3:.0f} ms (decay {decay:.3f})")
    ax.set_title(f'nn.LI(tau=20e-3, dt=..., convention="{convention}")')
    ax.set_xlabel("time (ms)")
    ax.legend(fontsize="small")
axes[0].set_ylabel("membrane")
_ = plot.save_figure(fig, FIGURES / "t4_conventions.png")

# %% [markdown]
# A current-based LIF with physical time constants, driven by input spikes: the
# synaptic current `state.i` jumps at each spike and decays with `tau_syn`, the
# membrane `state.v` follows with `tau_mem` and resets to `v_reset` after each
# spike. Any of these layers also goes into `nn.Sequential`, which runs a whole
# `[T, B, ...]` sequence and returns the spikes and the membrane.

# %%
cuba = nn.CubaLIF(tau_syn=5e-3, tau_mem=10e-3, v_threshold=1.0, dt=1e-3, convention="exact")
print(cuba)
print(cuba.coefficients())
drive = 4.0 * input_spikes[:, None]  # [T, B=1, 1]
state, spikes, currents, membranes = None, [], [], []
for step in range(drive.shape[0]):
    out, state = cuba(drive[step], state)
    spikes.append(out[0])
    currents.append(state.i[0])
    membranes.append(state.v[0])
spk_seq, mem_seq = nn.Sequential(cuba)(drive)  # the same neuron over the whole sequence
assert (spk_seq[:, 0] == jnp.stack(spikes)).all()

fig, axes = plt.subplots(3, 1, figsize=(7, 5.5), sharex=True, gridspec_kw={"height_ratios": [1.5, 2, 0.7]})
plot.traces(
    jnp.stack(currents), axes[0], ylabel="current i", title="nn.CubaLIF(tau_syn=5 ms, tau_mem=10 ms), dt = 1 ms"
)
plot.traces(jnp.stack(membranes), axes[1], threshold=1.0, ylabel="membrane v (after reset)")
plot.raster(jnp.stack(spikes), axes[2], s=60)
axes[2].set_yticks([])
for ax in axes[:-1]:
    ax.set_xlabel("")
_ = plot.save_figure(fig, FIGURES / "t4_cuba_lif.png")

# %% [markdown]
# ## Recurrence: `nn.RLeaky` and `nn.RSynaptic`
#
# A recurrent neuron also receives its own spikes of the previous step:
# `spk, mem = rlif(x, spk, mem)` (and `spk, syn, mem = rsyn(x, spk, syn, mem)`).
# Its step function therefore takes the previous spikes as well, and a loop for
# recurrent neurons carries them along:


# %%
def simulate_recurrent(neuron, current, state):
    """As `simulate`, for neurons that take back their previous spikes: `spk, mem = rlif(x, spk, mem)`."""
    spk, *state = state
    records = []
    for step in range(current.shape[0]):
        spk, *state = neuron(current[step], spk, *state)
        records.append((spk, *state))
    return [jnp.stack(column) for column in zip(*records)]


# %% [markdown]
# With `all_to_all=False` each neuron feeds back only to itself, scaled by `V`:
# a negative `V` inhibits it after each spike (it fires less), a positive one
# excites it, and with `V` above the threshold a short input pulse (shaded)
# leaves it firing at every step for good: a one-neuron memory.

# %%
pulse = jnp.zeros((STEPS, 1)).at[5:20].set(0.3)
fig, axes = plt.subplots(3, 1, figsize=(7, 5), sharex=True)
for ax, v in zip(axes, (-0.5, 0.0, 1.2)):
    neuron = nn.RLeaky(beta=0.9, all_to_all=False, V=v)
    spk, mem = simulate_recurrent(neuron, pulse, neuron.init_rleaky())
    title = f"RLeaky(beta=0.9, all_to_all=False, V={v}): {int(spk.sum())} spikes"
    plot.traces(mem, ax, threshold=1.0, ylabel="membrane", title=title)
    ax.axvspan(5, 19, color="tab:green", alpha=0.1)
    ax.get_legend().remove()
for ax in axes[:-1]:
    ax.set_xlabel("")
_ = plot.save_figure(fig, FIGURES / "t4_one_to_one.png")

# %% [markdown]
# All-to-all recurrence (the default; pass `linear_features=N`) feeds the layer's
# spikes back through an `nn.Linear(N, N)`, `rlif.recurrent`, which trains with
# the rest of the network. Here 50 neurons receive 20 steps of random input,
# then nothing. Scaling the random recurrent weights shows three regimes:
# activity dies out at once, lingers, or sustains itself.

# %%
snx.manual_seed(0)
steps = 2 * STEPS
drive = spikegen.rate(jnp.full((1, 20), 0.5), num_steps=steps) * (jnp.arange(steps) < 20)[:, None, None]  # [T, 1, 20]
feedforward = nn.Linear(20, 50, bias=False)
feedforward.weight.data = 3 * feedforward.weight.data
fig, axes = plt.subplots(1, 3, figsize=(13, 3.5), sharey=True)
for ax, gain in zip(axes, (0.0, 2.0, 6.0)):
    snx.manual_seed(1)  # the same random recurrent weights, scaled
    recurrent = nn.RLeaky(beta=0.9, linear_features=50)
    recurrent.recurrent.weight.data = gain * recurrent.recurrent.weight.data
    recurrent.recurrent.bias.data = jnp.zeros(50)
    spk, mem = nn.Sequential(feedforward, recurrent)(drive)
    after = int(spk[20:].sum())
    plot.raster(spk, ax, sample=0, s=8, title=f"recurrent weights x {gain:g}: {after} spikes after the input")
    ax.axvspan(0, 19, color="tab:green", alpha=0.1)
_ = plot.save_figure(fig, FIGURES / "t4_all_to_all.png")

# %% [markdown]
# Step by step and as a sequence compute the same thing, as for every neuron:

# %%
spk_loop, mem_loop = simulate_recurrent(recurrent, feedforward(drive), recurrent.init_rleaky())
assert (spk_loop == spk).all() and jnp.allclose(mem_loop, mem, atol=1e-4)
synaptic_recurrent = nn.RSynaptic(alpha=0.5, beta=0.9, linear_features=50)
spk_syn, mem_syn = nn.Sequential(feedforward, synaptic_recurrent)(drive)
print(f"RSynaptic in nn.Sequential: spikes {spk_syn.shape}, {int(spk_syn.sum())} in all")

# %% [markdown]
# The functional core behind all of these (`snnax_torchlike.snn`), and how to
# write your own neuron there, is the subject of
# ["The functional core, for JAX users"](../functional_core_for_jax_users/); the
# [functional core page](../../core/) lists every neuron's equations.

# %%
print("figures in FIGURES (SNNAX_FIGURES, else a temporary folder):", sorted(path.name for path in FIGURES.iterdir()))
