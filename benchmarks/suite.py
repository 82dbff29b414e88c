"""Benchmark suite: this library (facade + `fit`) against snnTorch, Norse and Spyx, interleaved in one run.

Workloads (float32, same shapes, same data and same initial weights everywhere, Adam,
training step = forward over all T + cross-entropy of the spike counts + BPTT + update):

- W1 ``shd-mlp``: 700 -> Linear 256 -> LIF -> Linear 20 -> LIF, T=100, batch 64 (training step).
- W2 ``mnist-conv``: snnTorch tutorial 6's CNN on rate-coded 1x28x28 frames, T=25, batch 128 (training step).
- W3 ``inference-large``: 1024 -> Linear 1024 -> LIF -> Linear 1024 -> LIF, T=500, batch 32 (forward only).
- W4 ``long-sequence``: W1's network at T=2000, batch 16 (training step time and peak memory; ours also with
  gradient checkpointing, ``nn.Sequential(..., checkpoint_every=k)``, k ~ sqrt(T)).
- W5 ``onm-linear-lif``: the Open Neuromorphic benchmark's configuration, one Linear(n, n) + LIF (beta 0.95),
  T=500, batch 16, training step; n = 16384 with ``--accelerator`` (its published GPU size), 1024 on CPU.

W1-W3 and W5 also run ours in mixed precision (``Trainer(precision="bf16-mixed")``), beside float32.
``--accelerator`` runs JAX on its default accelerator and the torch libraries on CUDA.

Also: first-step (compile) time, a matmul-FLOP lower bound for W1, the facade's overhead over the pure core
(`snnax_torchlike.snn` + a hand-jitted optax step) and a spike-count sanity check against snnTorch.

Every library uses every core by default: XLA's thread pool and torch's own thread count
(``--torch-threads 0``). On a machine that other processes load, torch's OpenMP pool slows down several-fold
whenever another process holds a core; ``--torch-threads 1`` suits that case.

Every library's step runs interleaved with the others' in rounds (round-robin, rotated start) after
warm-up; medians over the rounds. Missing libraries are skipped with a note. Writes
``<out>/results.jsonl``, ``<out>/results.md`` and, if matplotlib imports, ``<out>/results.png``.

    python benchmarks/suite.py                                   # everything, ~4 min on 2 idle cores
    python benchmarks/suite.py --workloads w1,w3 --repeats 5 --libraries ours,snntorch
    python benchmarks/suite.py --quick --out /tmp/bench          # smoke test: one timed round
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import dataclasses
import functools
import gc
import importlib.util
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# First-step (compile) times are measured cold: the library's persistent compilation cache would turn
# them into loads of an earlier run's programs. SNNAX_COMPILATION_CACHE=<folder> measures warm starts.
os.environ.setdefault("SNNAX_COMPILATION_CACHE", "0")

LIBRARIES = ("ours", "snntorch", "norse", "spyx")
LABELS = {"ours": "snnax-torchlike", "snntorch": "snnTorch", "norse": "Norse", "spyx": "Spyx",
          "bound": "matmul bound"}  # fmt: skip
LR = 1e-3
SLOW_STEP_S = 8.0  # contenders whose warm-up step is slower than this are timed in fewer rounds


# ----------------------------------------------------------------------------------------------------------------
# workloads and data
@dataclasses.dataclass(frozen=True)
class Workload:
    key: str
    name: str
    title: str
    steps: int  # T
    batch: int
    training: bool
    repeats: int  # default timed rounds
    batches_per_round: int  # training steps (or forward passes) per timed measurement


WORKLOADS = {
    "w1": Workload("w1", "shd-mlp", "700-256-20 MLP, T=100, B=64, train step", 100, 64, True, 10, 4),
    "w2": Workload("w2", "mnist-conv", "tutorial-6 CNN, T=25, B=128, train step", 25, 128, True, 5, 1),
    "w3": Workload("w3", "inference-large", "1024-1024-1024, T=500, B=32, forward", 500, 32, False, 7, 1),
    "w4": Workload("w4", "long-sequence", "700-256-20 MLP, T=2000, B=16, train step", 2000, 16, True, 5, 1),
    "w5": Workload("w5", "onm-linear-lif", "Linear 1024 + LIF, T=500, B=16, train step", 500, 16, True, 5, 1),
}
W5_NEURONS = {"cpu": 1024, "accelerator": 16384}
DEVICE = "cpu"  # where the torch libraries run: "cuda" with --accelerator


def w5_neurons() -> int:
    """W5's layer width: the published GPU size on an accelerator, scaled down on CPU."""
    return W5_NEURONS["cpu" if DEVICE == "cpu" else "accelerator"]


def make_data(workload: Workload, count: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` batches ``(x [T, B, ...] float32, y [B] int64)``, identical for every library."""
    rng = np.random.default_rng(seed)
    steps, batch = workload.steps, workload.batch
    batches = []
    for _ in range(count):
        if workload.key == "w2":  # MNIST-like intensities (about 20% lit pixels), rate-coded like spikegen.rate
            images = rng.random((batch, 1, 28, 28), dtype=np.float32) * (rng.random((batch, 1, 28, 28)) < 0.2)
            x = (rng.random((steps, batch, 1, 28, 28), dtype=np.float32) < images).astype(np.float32)
            classes = 10
        else:  # sparse Bernoulli spike trains (SHD-like: 5% density)
            features = {"w3": 1024, "w5": w5_neurons()}.get(workload.key, 700)
            x = (rng.random((steps, batch, features), dtype=np.float32) < 0.05).astype(np.float32)
            classes = {"w3": 1024, "w5": w5_neurons()}.get(workload.key, 20)
        batches.append((x, rng.integers(0, classes, batch).astype(np.int64)))
    return batches


def scaled(model: Any, gain: float) -> Any:
    """Multiply the Linear/Conv weights by ``gain``: with torch's default init the networks hardly spike on this
    data; x4 (MLPs) gives ~6% of hidden and output neurons spiking per step, x3 (CNN) 13-30%."""
    import torch

    with torch.no_grad():
        for layer in model:
            if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d)):
                layer.weight.mul_(gain)
    return model


def snntorch_model(workload: Workload) -> Any:
    """The reference network in snnTorch (its weights seed every other library)."""
    import snntorch
    import torch
    from snntorch import surrogate

    torch.manual_seed(0)
    if workload.key == "w2":  # snnTorch tutorial 6
        grad = surrogate.fast_sigmoid(slope=25)
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 12, 5), torch.nn.MaxPool2d(2),
            snntorch.Leaky(beta=0.5, spike_grad=grad, init_hidden=True),
            torch.nn.Conv2d(12, 64, 5), torch.nn.MaxPool2d(2),
            snntorch.Leaky(beta=0.5, spike_grad=grad, init_hidden=True),
            torch.nn.Flatten(), torch.nn.Linear(64 * 4 * 4, 10),
            snntorch.Leaky(beta=0.5, spike_grad=grad, init_hidden=True, output=True),
        )  # fmt: skip
        return scaled(model, 3.0)
    if workload.key == "w5":  # the Open Neuromorphic benchmark's layer
        n = w5_neurons()
        model = torch.nn.Sequential(
            torch.nn.Linear(n, n), snntorch.Leaky(beta=0.95, init_hidden=True, output=True)
        )
        return scaled(model, 4.0)
    sizes = (1024, 1024, 1024) if workload.key == "w3" else (700, 256, 20)
    model = torch.nn.Sequential(
        torch.nn.Linear(sizes[0], sizes[1]), snntorch.Leaky(beta=0.9, init_hidden=True),
        torch.nn.Linear(sizes[1], sizes[2]), snntorch.Leaky(beta=0.9, init_hidden=True, output=True),
    )  # fmt: skip
    return scaled(model, 4.0)


# ----------------------------------------------------------------------------------------------------------------
# measurement helpers
def rss_kib() -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of this process, KiB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS", "VmHWM")):
                name, value = line.split(":")
                values[name] = int(value.split()[0])
    return values


def peak_rss_delta_mb(run: Callable[[], Any]) -> float | None:
    """Peak RSS during ``run()`` minus RSS just before it (MB).

    Before: garbage collection and glibc's ``malloc_trim(0)``, which hands freed heap pages back to the OS (else
    memory kept from earlier steps is reused unseen); then /proc/self/clear_refs resets the peak (VmHWM).
    """
    try:
        gc.collect()
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        before = rss_kib()["VmRSS"]
        run()
        return round((rss_kib()["VmHWM"] - before) / 1024, 1)
    except OSError:
        return None


def timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def machine_info() -> dict[str, Any]:
    import jax

    info: dict[str, Any] = {"python": platform.python_version(), "cores": os.cpu_count(), "jax": jax.__version__}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor()
    info["jax_devices"] = [str(d) for d in jax.devices()]
    info["xla_flags"] = os.environ.get("XLA_FLAGS", "")
    if importlib.util.find_spec("torch"):
        import torch

        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads(),
                    torch_interop_threads=torch.get_num_interop_threads())  # fmt: skip
    for name in ("snntorch", "norse", "spyx", "flax"):
        if importlib.util.find_spec(name):
            info[name] = getattr(importlib.import_module(name), "__version__", "?")
    return info


@dataclasses.dataclass
class Contender:
    """One library (or variant) on one workload: ``run()`` does ``batches_per_round`` steps and blocks."""

    library: str
    variant: str
    run: Callable[[], Any]
    steps_per_run: int
    first_step_s: float | None = None
    memory: Callable[[], dict[str, Any]] | None = None
    times: list[float] = dataclasses.field(default_factory=list)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def label(self) -> str:
        return LABELS[self.library] + (f" ({self.variant})" if self.variant else "")


# ----------------------------------------------------------------------------------------------------------------
# this library
def ours_contenders(workload: Workload, data: list, reference: Any, variants: bool) -> list[Contender]:
    """The facade through ``Trainer.fit`` (training) or ``Trainer.predict`` (W3), as users run it."""
    import jax

    import snnax_torchlike as snx
    from snnax_torchlike import functional as SF
    from snnax_torchlike import interop, optim

    device_data = [(jax.device_put(x), jax.device_put(y.astype(np.int32))) for x, y in data]
    contenders = []

    def facade(
        variant: str, batches: list, checkpoint_every: int | None = None, precision: str = "32-true"
    ) -> Contender:
        net = interop.from_snntorch(reference)  # same initial weights as snnTorch
        net.checkpoint_every = checkpoint_every
        if not workload.training:
            trainer = snx.Trainer(net, None, None, progress=False, precision=precision)
            inputs = [x for x, _ in batches]

            def run() -> None:
                jax.block_until_ready(trainer.predict(inputs))

            first = timed(lambda: jax.block_until_ready(trainer.predict(inputs[:1])))
            return Contender("ours", variant, run, len(inputs), first)
        optimizer = optim.Adam(net.parameters(), lr=LR)
        trainer = snx.Trainer(net, optimizer, SF.ce_count_loss(), progress=False, precision=precision)

        def run() -> None:
            trainer.fit(batches)
            jax.block_until_ready(net[0].weight.data)

        first = timed(lambda: (trainer.fit(batches[:1]), jax.block_until_ready(net[0].weight.data)))
        contender = Contender("ours", variant, run, len(batches), first)
        contender.memory = functools.partial(xla_step_memory, trainer, batches[0])
        return contender

    contenders.append(facade("", device_data))
    if workload.key in ("w1", "w2", "w3", "w5"):
        contenders.append(facade("bf16-mixed", device_data, precision="bf16-mixed"))
    if workload.key == "w4":
        k = round(math.sqrt(workload.steps))
        contenders.append(facade(f"checkpoint_every={k}", device_data, k))
    if variants and workload.key == "w1":
        contenders.append(facade("numpy data", [(x, y.astype(np.int32)) for x, y in data]))
        contenders.append(core_contender(device_data, reference))
    return contenders


class _Captured(Exception):
    pass


def xla_step_memory(trainer: Any, batch: tuple, run: bool = True) -> dict[str, Any]:
    """``memory_analysis()`` of the compiled step that ``trainer.fit([batch])`` runs: temp and argument bytes.

    Records the abstract arguments of the Trainer's jitted step (``trainer._steps.train``, an internal name) during
    one ``fit`` call, then lowers and compiles it ahead of time. ``run=False`` stops ``fit`` before the step runs.
    """
    import jax

    steps = trainer._compile_steps()
    original = getattr(steps, "train", None)
    if original is None or not hasattr(original, "lower"):
        return {"xla_memory_error": "Trainer._steps.train is not a jitted function any more"}
    captured: dict[str, Any] = {}

    def abstract(leaf: Any) -> Any:
        return (
            jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=leaf.sharding)
            if isinstance(leaf, jax.Array)
            else leaf
        )

    def spy(*args: Any, **kwargs: Any) -> Any:
        captured.setdefault("args", jax.tree_util.tree_map(abstract, (args, kwargs)))
        if not run:
            raise _Captured
        return original(*args, **kwargs)

    steps.train = spy
    try:
        trainer.fit([batch])
    except _Captured:
        pass
    finally:
        steps.train = original
    try:
        args, kwargs = captured["args"]
        analysis = original.lower(*args, **kwargs).compile().memory_analysis()
        temp, arguments = analysis.temp_size_in_bytes, analysis.argument_size_in_bytes
        return {"xla_temp_mb": round(temp / 2**20, 1), "xla_argument_mb": round(arguments / 2**20, 1),
                "xla_temp_plus_argument_mb": round((temp + arguments) / 2**20, 1)}  # fmt: skip
    except Exception as error:  # internals may change: report rather than fail the run
        return {"xla_memory_error": f"{type(error).__name__}: {error}"}


def core_contender(device_data: list, reference: Any) -> Contender:
    """The same network in the pure core (`net.core_model()`), trained by one hand-written jitted optax step.

    Trains what the facade trains (the Linear/Conv weights and biases); the neurons' beta and threshold stay
    constants, as in the facade (snnTorch's buffers).
    """
    import equinox as eqx
    import jax
    import optax

    from snnax_torchlike import functional as SF
    from snnax_torchlike import interop

    model = interop.from_snntorch(reference).core_model()
    state = model.init_state(device_data[0][0].shape[2:])

    def trained(tree: Any) -> list:
        return [
            getattr(layer, name) for layer in tree.layers if hasattr(layer, "weight") for name in ("weight", "bias")
        ]

    spec = jax.tree_util.tree_map(lambda _: False, model)
    spec = eqx.tree_at(trained, spec, replace=[True] * len(trained(model)))
    params, static = eqx.partition(model, spec)
    optimizer = optax.adam(LR)
    loss_fn = SF.ce_count_loss()
    holder = {"params": params, "opt": optimizer.init(params)}

    def loss(p: Any, x: Any, y: Any) -> Any:
        _, outs = eqx.combine(p, static).scan_batch(state, x)  # the core's time-first batch: [T, B, ...]
        return loss_fn(outs[-1], y)

    @eqx.filter_jit(donate="all-except-first")  # donates parameters and optimizer state, not the batch
    def step(batch: tuple, p: Any, opt_state: Any) -> tuple:
        value, grads = jax.value_and_grad(loss)(p, *batch)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, value

    def run(batches: list = device_data) -> None:
        for batch in batches:
            holder["params"], holder["opt"], _ = step(batch, holder["params"], holder["opt"])
        jax.block_until_ready(holder["params"])

    first = timed(lambda: run(device_data[:1]))
    return Contender("ours", "pure core, hand-jitted", run, len(device_data), first)


# ----------------------------------------------------------------------------------------------------------------
# snnTorch
def snntorch_contender(workload: Workload, data: list, model: Any) -> Contender:
    """snnTorch as its tutorials run it: `utils.reset`, a Python loop over time, `torch.stack`, eager autograd."""
    import snntorch.functional as snn_functional
    import snntorch.utils
    import torch

    model.to(DEVICE)
    batches = [(torch.from_numpy(x).to(DEVICE), torch.from_numpy(y).to(DEVICE)) for x, y in data]
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = snn_functional.ce_count_loss()

    def forward(x: Any) -> Any:
        snntorch.utils.reset(model)
        return torch.stack([model(x[t])[0] for t in range(x.shape[0])])

    run = _torch_run(workload, batches, forward, loss_fn, optimizer)
    first = timed(lambda: run(batches[:1]))
    return Contender("snntorch", "", run, len(batches), first)


def _torch_run(
    workload: Workload, batches: list, forward: Callable, loss_of: Callable, optimizer: Any
) -> Callable[..., None]:
    """The torch contenders' loop over batches: eager forward, ``loss_of(outputs, y)``, backward and
    ``optimizer.step()``; forward only under ``torch.no_grad()`` for inference workloads."""
    import torch

    def run(items: list = batches) -> None:
        for x, y in items:
            if not workload.training:
                with torch.no_grad():
                    forward(x)
                continue
            loss = loss_of(forward(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if DEVICE != "cpu":  # CUDA runs asynchronously: wait for the last step, as block_until_ready does
            torch.cuda.synchronize()

    return run


# ----------------------------------------------------------------------------------------------------------------
# Norse
def norse_contender(workload: Workload, data: list, reference: Any) -> Contender:
    """Norse 1.1.0 as its users write a first-order LIF net: `SequentialState` of torch layers and `LIFBoxCell`s,
    stepped in a Python loop over time. LIFBox: v <- v + dt*tau_mem_inv*(x - v), spike on the updated v, reset to 0;
    tau_mem_inv = (1 - beta)/dt gives snnTorch's decay beta and v_th = (1 - beta)*threshold the same firing
    threshold for the same weights (Norse scales the input by dt*tau_mem_inv)."""
    import norse.torch as norse
    import torch

    beta = {"w2": 0.5, "w5": 0.95}.get(workload.key, 0.9)
    dt = 1e-3
    params = norse.LIFBoxParameters(tau_mem_inv=torch.tensor((1 - beta) / dt), v_th=torch.tensor(1 - beta))
    layers = [copy.deepcopy(m) if not type(m).__module__.startswith("snntorch") else norse.LIFBoxCell(params, dt=dt)
              for m in reference]  # fmt: skip
    model = norse.SequentialState(*layers).to(DEVICE)  # same weights as snnTorch (copies of its torch layers)
    batches = [(torch.from_numpy(x).to(DEVICE), torch.from_numpy(y).to(DEVICE)) for x, y in data]
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)

    def forward(x: Any) -> Any:
        state, outputs = None, []
        for t in range(x.shape[0]):
            out, state = model(x[t], state)
            outputs.append(out)
        return torch.stack(outputs)

    run = _torch_run(
        workload, batches, forward, lambda out, y: torch.nn.functional.cross_entropy(out.sum(0), y), optimizer
    )
    first = timed(lambda: run(batches[:1]))
    return Contender("norse", "LIFBoxCell", run, len(batches), first)


# ----------------------------------------------------------------------------------------------------------------
# Spyx
def spyx_contender(workload: Workload, data: list, reference: Any) -> Contender:
    """Spyx 1.0 (Flax NNX) as its README writes it: `spyx.nn.Sequential` of `nnx` layers and `spyx.nn.LIF`, run
    over time by `spyx.nn.run` (one `lax.scan`, every layer inside it per step), trained with
    `spyx.optimize.make_train_step` (`nnx.jit` + `nnx.value_and_grad` + `nnx.Optimizer`)."""
    import jax
    import jax.numpy as jnp
    import optax
    import spyx
    from flax import nnx

    rngs = nnx.Rngs(0)
    torch_layers = list(reference)

    def linear(index: int) -> Any:
        weight, bias = (p.detach().numpy() for p in (torch_layers[index].weight, torch_layers[index].bias))
        layer = nnx.Linear(weight.shape[1], weight.shape[0], rngs=rngs)
        if workload.key == "w2":  # torch flattens NCHW, Spyx NHWC: permute the rows so the maps are the same
            weight = weight.reshape(10, 64, 4, 4).transpose(0, 2, 3, 1).reshape(10, -1)
        layer.kernel[...], layer.bias[...] = jnp.asarray(weight.T), jnp.asarray(bias)
        return layer

    def conv(index: int) -> Any:
        weight, bias = (p.detach().numpy() for p in (torch_layers[index].weight, torch_layers[index].bias))
        layer = nnx.Conv(weight.shape[1], weight.shape[0], (5, 5), padding="VALID", rngs=rngs)
        layer.kernel[...], layer.bias[...] = jnp.asarray(weight.transpose(2, 3, 1, 0)), jnp.asarray(bias)
        return layer

    if workload.key == "w2":
        grad = spyx.axn.superspike(25)  # 1/(1 + 25|x|)^2, snnTorch's fast_sigmoid(slope=25)
        pool = functools.partial(nnx.max_pool, window_shape=(2, 2), strides=(2, 2))
        model = spyx.nn.Sequential(
            conv(0), pool, spyx.nn.LIF((12, 12, 12), beta=0.5, activation=grad, rngs=rngs),
            conv(3), pool, spyx.nn.LIF((4, 4, 64), beta=0.5, activation=grad, rngs=rngs),
            spyx.nn.Flatten(), linear(7), spyx.nn.LIF((10,), beta=0.5, activation=grad, rngs=rngs),
        )  # fmt: skip
        arrays = [x.transpose(0, 1, 3, 4, 2) for x, _ in data]  # NHWC, prepared once
    else:
        grad = spyx.axn.arctan()
        beta = 0.95 if workload.key == "w5" else 0.9
        layers = []
        for index, layer in enumerate(torch_layers):  # every Linear, each followed by its LIF
            if hasattr(layer, "out_features"):
                lif = spyx.nn.LIF((layer.out_features,), beta=beta, activation=grad, rngs=rngs)
                layers += [linear(index), lif]
        model = spyx.nn.Sequential(*layers)
        arrays = [x for x, _ in data]
    batches = [(jax.device_put(x), jax.device_put(y.astype(np.int32))) for x, (_, y) in zip(arrays, data)]

    if workload.training:
        optimizer = nnx.Optimizer(model, optax.adam(LR), wrt=nnx.Param)

        def loss_fn(m: Any, x: Any, y: Any) -> Any:
            spikes, _ = spyx.nn.run(m, x)
            return optax.softmax_cross_entropy_with_integer_labels(spikes.sum(0), y).mean()

        step = spyx.optimize.make_train_step(loss_fn)

        def run(items: list = batches) -> None:
            for x, y in items:
                loss = step(model, optimizer, x, y)
            jax.block_until_ready((loss, nnx.state(model, nnx.Param)))
    else:
        forward = nnx.jit(lambda m, x: spyx.nn.run(m, x)[0])

        def run(items: list = batches) -> None:
            for x, _ in items:
                jax.block_until_ready(forward(model, x))

    first = timed(lambda: run(batches[:1]))
    return Contender("spyx", "", run, len(batches), first)


# ----------------------------------------------------------------------------------------------------------------
# extras: sanity, FLOP bound, checkpointing memory scaling
def sanity_w1(data: list, reference: Any) -> dict[str, Any]:
    """Spike counts of ours and snnTorch on W1's first batch, same weights, before any training."""
    import snntorch.utils
    import torch

    from snnax_torchlike import interop

    x = data[0][0]
    spikes, _ = interop.from_snntorch(reference)(x)
    ours = np.asarray(spikes).sum(0)
    with torch.no_grad():
        snntorch.utils.reset(reference)
        theirs = torch.stack([reference(torch.from_numpy(x[t]))[0] for t in range(x.shape[0])]).sum(0).numpy()
    diff = np.abs(ours - theirs)
    return {"kind": "sanity", "workload": "w1", "ours_total_spikes": int(ours.sum()),
            "snntorch_total_spikes": int(theirs.sum()), "max_abs_count_diff": float(diff.max()),
            "fraction_counts_equal": float(np.mean(diff == 0)), "identical": bool(diff.max() == 0)}  # fmt: skip


def median_time(run: Callable[[], Any], repeats: int) -> float:
    run()
    return statistics.median(timed(run) for _ in range(repeats))


def w1_matmuls(workload: Workload) -> dict[str, tuple[int, int, int]]:
    """(M, K, N) of every matmul in W1's training step: forward x@W1, h@W2; backward dW1 = x^T g1, dW2 = h^T g2,
    dh = g2 W2^T (no gradient w.r.t. the input data)."""
    rows = workload.steps * workload.batch
    return {"fwd x@W1": (rows, 700, 256), "fwd h@W2": (rows, 256, 20), "bwd x^T@g1": (700, rows, 256),
            "bwd h^T@g2": (256, rows, 20), "bwd g2@W2^T": (rows, 20, 256)}  # fmt: skip


def bound_contender(workload: Workload) -> Contender:
    """W1's five matmuls alone, as plain jitted JAX matmuls one after the other: the FLOP lower bound, timed in
    the same rounds as the libraries (so load changes hit it alike)."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    matmul = jax.jit(jnp.matmul)
    pairs = [(jnp.asarray(rng.random((m, k), dtype=np.float32)), jnp.asarray(rng.random((k, n), dtype=np.float32)))
             for m, k, n in w1_matmuls(workload).values()]  # fmt: skip

    def run() -> None:
        for _ in range(workload.batches_per_round):
            for a, b in pairs:
                matmul(a, b).block_until_ready()

    first = timed(run) / workload.batches_per_round
    return Contender("bound", "JAX, the step's 5 matmuls alone", run, workload.batches_per_round, first)


def flop_bound_w1(workload: Workload) -> dict[str, Any]:
    """Matmul FLOPs of W1's forward and backward (`w1_matmuls`), each timed alone before the rounds as a plain
    matmul in JAX and torch: GFLOP/s per shape, and a bound = the sum of the faster library's median times."""
    import jax
    import jax.numpy as jnp

    shapes = w1_matmuls(workload)
    rng = np.random.default_rng(0)
    matmul = jax.jit(jnp.matmul)
    parts, total_flops, bound_s = {}, 0, 0.0
    torch = importlib.import_module("torch") if importlib.util.find_spec("torch") else None
    for name, (m, k, n) in shapes.items():
        a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
        ja, jb = jnp.asarray(a), jnp.asarray(b)
        jax_s = median_time(lambda ja=ja, jb=jb: matmul(ja, jb).block_until_ready(), 15)
        times = {"jax_ms": jax_s * 1e3}
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            times["torch_ms"] = median_time(lambda ta=ta, tb=tb: ta @ tb, 15) * 1e3
        flops = 2 * m * k * n
        best = min(times.values()) / 1e3
        parts[name] = {"shape": [m, k, n], "gflop": round(flops / 1e9, 4), "gflops_per_s": round(flops / best / 1e9, 1),
                       **{key: round(value, 3) for key, value in times.items()}}  # fmt: skip
        total_flops += flops
        bound_s += best
    return {"kind": "flop_bound", "workload": "w1", "gflop_per_step": round(total_flops / 1e9, 3),
            "bound_ms": round(bound_s * 1e3, 2), "effective_gflops_per_s": round(total_flops / bound_s / 1e9, 1),
            "matmuls": parts}  # fmt: skip


def checkpoint_scaling(reference: Any, batch: int) -> dict[str, Any]:
    """XLA temp bytes of ours' compiled W4 training step at several T, plain and checkpointed (compile only)."""
    import jax

    import snnax_torchlike as snx
    from snnax_torchlike import functional as SF
    from snnax_torchlike import interop, optim

    rows = []
    for steps in (500, 1000, 2000):
        batch_data = (
            jax.device_put(np.zeros((steps, batch, 700), np.float32)),
            jax.device_put(np.zeros(batch, np.int32)),
        )
        for k in (None, round(math.sqrt(steps))):
            net = interop.from_snntorch(reference)
            net.checkpoint_every = k
            trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=LR), SF.ce_count_loss(), progress=False)
            rows.append({"T": steps, "checkpoint_every": k, **xla_step_memory(trainer, batch_data, run=False)})
    return {"kind": "checkpoint_scaling", "workload": "w4", "batch": batch, "rows": rows}


# ----------------------------------------------------------------------------------------------------------------
# driver
def available(library: str) -> bool:
    module = {"ours": "snnax_torchlike", "snntorch": "snntorch", "norse": "norse", "spyx": "spyx"}[library]
    needs_torch = library in ("snntorch", "norse", "ours")  # ours needs torch only for the shared snnTorch weights
    return importlib.util.find_spec(module) is not None and (not needs_torch or importlib.util.find_spec("torch"))


def builders(workload: Workload, data: list, libraries: list[str]) -> list[tuple[str, Callable[[Any], list]]]:
    """Contender factories; every library starts from the reference's initial weights, so snnTorch (which trains
    the reference itself) comes last."""
    table = {
        "ours": lambda ref: ours_contenders(workload, data, ref, variants=True),
        "norse": lambda ref: [norse_contender(workload, data, ref)],
        "spyx": lambda ref: [spyx_contender(workload, data, ref)],
        "snntorch": lambda ref: [snntorch_contender(workload, data, ref)],
    }
    return [(library, table[library]) for library in ("ours", "norse", "spyx", "snntorch") if library in libraries]


def memory_probe(library: str) -> None:
    """Peak RSS growth over one W4 training step of ``library``, in a fresh process (see `rss_probes`).

    Measured on the second step (the first compiles, for the JAX libraries, and allocates one-time buffers), after
    garbage collection and ``malloc_trim``.
    """
    workload = WORKLOADS["w4"]
    data = make_data(workload, 1)
    for _, build in builders(workload, data, [library]):
        for contender in build(snntorch_model(workload)):  # built = first step done
            print(json.dumps({"label": contender.label, "peak_rss_delta_mb": peak_rss_delta_mb(contender.run)}))


def rss_probes(libraries: list[str], torch_threads: int, log: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """Run `memory_probe` for each library in its own process, with glibc's mmap threshold fixed at 64 KiB so freed
    buffers go back to the OS and RSS follows live memory (no heap retention from earlier steps)."""
    import subprocess

    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    results: dict[str, dict[str, Any]] = {}
    for library in libraries:
        command = [sys.executable, str(Path(__file__).resolve()), "--memory-probe", library,
                   "--torch-threads", str(torch_threads)]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                results[record.pop("label")] = record
        if done.returncode:
            log(f"  memory probe {library} failed: {done.stderr.strip().splitlines()[-1:]}")
    log(f"  peak RSS probes: {results}")
    return results


def run_workload(workload: Workload, libraries: list[str], repeats: int, log: Callable[[str], None]) -> tuple:
    """Build every contender, warm up, time them in interleaved rounds; returns (contenders, extra records)."""
    import snntorch.utils

    data = make_data(workload, workload.batches_per_round)
    reference = snntorch_model(workload)
    extras: list[dict[str, Any]] = []
    if workload.key == "w1" and "ours" in libraries:
        extras.append(sanity_w1(data, reference))
        log(f"sanity W1 (same weights, before training): spike counts ours={extras[-1]['ours_total_spikes']} "
            f"snnTorch={extras[-1]['snntorch_total_spikes']}, max |count diff| {extras[-1]['max_abs_count_diff']}, "
            f"identical={extras[-1]['identical']}")  # fmt: skip
    contenders: list[Contender] = []
    for library, build in builders(workload, data, libraries):
        snntorch.utils.reset(reference)
        try:
            built = build(reference)
        except Exception as error:  # a library that installs but cannot run this workload: note it, go on
            log(f"  {LABELS[library]}: skipped ({type(error).__name__}: {error})")
            extras.append({"kind": "skipped", "workload": workload.key, "library": library,
                           "reason": f"{type(error).__name__}: {error}"})  # fmt: skip
            continue
        for contender in built:
            log(f"  {contender.label}: first step {contender.first_step_s:.2f} s")
        contenders.extend(built)
    if not contenders:
        return contenders, extras
    if workload.key == "w1" and "ours" in libraries:
        contenders.append(bound_contender(workload))
    warm = {}
    for contender in contenders:  # warm-up: one full measurement each
        warm[contender.label] = timed(contender.run) / contender.steps_per_run
    slow_rounds = max(1, min(repeats, 2))
    for round_index in range(repeats):
        shift = round_index % len(contenders)
        timed_now = []
        for contender in contenders[shift:] + contenders[:shift]:  # rotated so no library is always first
            if warm[contender.label] > SLOW_STEP_S and round_index >= slow_rounds:
                continue
            contender.times.append(timed(contender.run) / contender.steps_per_run)
            timed_now.append(f"{contender.label} {contender.times[-1] * 1e3:.0f}")
        log(f"  round {round_index + 1}/{repeats} (ms/step): " + ", ".join(timed_now))
    for contender in contenders:
        if contender.memory is not None and workload.key == "w4":
            contender.extra.update(contender.memory())
            log(f"  {contender.label}: XLA memory {contender.extra}")
    if workload.key == "w4" and "ours" in libraries:
        extras.append(checkpoint_scaling(reference, workload.batch))
        log(f"  checkpoint scaling: {extras[-1]['rows']}")
    return contenders, extras


def records_for(workload: Workload, contenders: list[Contender], machine: dict[str, Any]) -> list[dict[str, Any]]:
    ours = next((c for c in contenders if c.library == "ours" and not c.variant), None)
    ours_ms = statistics.median(ours.times) * 1e3 if ours and ours.times else None
    order = {library: i for i, library in enumerate(("ours", "snntorch", "norse", "spyx", "bound"))}
    records = []
    for c in sorted(contenders, key=lambda c: (order[c.library], c.variant != "", c.variant)):
        if not c.times:
            continue
        ms = statistics.median(c.times) * 1e3
        records.append({
            "kind": "timing", "workload": workload.key, "name": workload.name, "title": workload.title,
            "library": c.library, "variant": c.variant, "label": c.label,
            "T": workload.steps, "batch": workload.batch, "training": workload.training,
            "ms_per_step_median": round(ms, 2), "ms_per_step_min": round(min(c.times) * 1e3, 2),
            "ms_per_step_max": round(max(c.times) * 1e3, 2), "ms_per_step_all": [round(t * 1e3, 2) for t in c.times],
            "rounds": len(c.times), "steps_per_round": c.steps_per_run,
            "their_time_over_ours": round(ms / ours_ms, 3) if ours_ms else None,
            "first_step_s": round(c.first_step_s, 2) if c.first_step_s is not None else None,
            **c.extra, "machine": machine,
        })  # fmt: skip
    return records


def markdown(records: list[dict[str, Any]], machine: dict[str, Any], notes: list[str]) -> str:
    timing = [r for r in records if r["kind"] == "timing"]
    lines = [
        f"Machine: {machine.get('cpu')}, {machine.get('cores')} cores; jax {machine.get('jax')}, "
        f"torch {machine.get('torch')} (torch threads: {machine.get('torch_threads')}), snnTorch {machine.get('snntorch')}, "
        f"Norse {machine.get('norse')}, Spyx {machine.get('spyx')}. Load average at start/end: "
        f"{machine.get('loadavg_start')} / {machine.get('loadavg_end')}.",
        "",
        "| workload | library | ms/step (median) | min-max | rounds x steps | their time / ours | first step s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in timing:
        ratio = r["their_time_over_ours"]
        lines.append(f"| {r['workload'].upper()} {r['name']} | {r['label']} | {r['ms_per_step_median']:.1f} | "
                     f"{r['ms_per_step_min']:.0f}-{r['ms_per_step_max']:.0f} | {r['rounds']}x{r['steps_per_round']} | "
                     f"{'-' if ratio is None else f'{ratio:.2f}x'} | {r['first_step_s']} |")  # fmt: skip
    memory = [r for r in timing if r["workload"] == "w4" and ("peak_rss_delta_mb" in r or "xla_temp_mb" in r)]
    if memory:
        lines += ["", "W4 memory of one training step (peak RSS over the step minus RSS before it; XLA: the compiled "
                  "step's `memory_analysis()`, temp + argument bytes):", "",
                  "| library | ms/step | peak RSS delta MB | XLA temp MB | XLA temp + argument MB |", "|---|---|---|---|---|"]  # fmt: skip
        for r in memory:
            lines.append(f"| {r['label']} | {r['ms_per_step_median']:.0f} | {r.get('peak_rss_delta_mb', '-')} | "
                         f"{r.get('xla_temp_mb', '-')} | {r.get('xla_temp_plus_argument_mb', '-')} |")  # fmt: skip
    for r in records:
        if r["kind"] == "checkpoint_scaling":
            lines += ["", f"W4 network, ours, XLA temp MB of the compiled training step vs T (batch {r['batch']}):",
                      "", "| T | plain | checkpointed (k) |", "|---|---|---|"]  # fmt: skip
            by_t: dict[int, dict] = {}
            for row in r["rows"]:
                by_t.setdefault(row["T"], {})["plain" if row["checkpoint_every"] is None else "ckpt"] = row
            for steps, pair in by_t.items():
                ck = pair.get("ckpt", {})
                lines.append(f"| {steps} | {pair.get('plain', {}).get('xla_temp_mb', '-')} | "
                             f"{ck.get('xla_temp_mb', '-')} (k={ck.get('checkpoint_every')}) |")  # fmt: skip
        if r["kind"] == "flop_bound":
            lines += ["", f"W1 matmul-FLOP lower bound: {r['gflop_per_step']} GFLOP per step (forward + backward "
                      f"matmuls) -> {r['bound_ms']} ms at the measured plain-matmul rates "
                      f"({r['effective_gflops_per_s']} GFLOP/s effective).", "",
                      "| matmul | M x K x N | GFLOP | JAX ms | torch ms |", "|---|---|---|---|---|"]  # fmt: skip
            for name, part in r["matmuls"].items():
                lines.append(f"| {name} | {' x '.join(map(str, part['shape']))} | {part['gflop']} | "
                             f"{part['jax_ms']} | {part.get('torch_ms', '-')} |")  # fmt: skip
        if r["kind"] == "sanity":
            lines += ["", f"Sanity (W1, same weights, before training): total spike counts ours "
                      f"{r['ours_total_spikes']}, snnTorch {r['snntorch_total_spikes']}; max per-(sample, class) "
                      f"count difference {r['max_abs_count_diff']}; identical: {r['identical']}."]  # fmt: skip
        if r["kind"] == "summary":
            lines += ["", "Summary ratios:", ""] + [f"- {key}: {value}" for key, value in r["values"].items()]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The ratios the targets in docs/performance.md refer to."""

    def ms(workload: str, library: str, variant: str = "") -> float | None:
        return next((r["ms_per_step_median"] for r in records if r["kind"] == "timing" and r["workload"] == workload
                     and r["library"] == library and r["variant"] == variant), None)  # fmt: skip

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    values: dict[str, Any] = {}
    ours = {w: ms(w, "ours") for w in WORKLOADS}
    for w in WORKLOADS:
        for lib in ("snntorch", "spyx", "norse"):
            if (value := ratio(ms(w, lib, "LIFBoxCell" if lib == "norse" else ""), ours[w])) is not None:
                values[f"{w} speed-up vs {LABELS[lib]}"] = value
    bound = next((r for r in records if r["kind"] == "flop_bound"), None)
    if bound and ours["w1"]:
        values["w1 ours / FLOP bound (measured before the rounds, faster of JAX/torch)"] = ratio(
            ours["w1"], bound["bound_ms"]
        )
    if (interleaved := ms("w1", "bound", "JAX, the step's 5 matmuls alone")) and ours["w1"]:
        values["w1 ours / FLOP bound (JAX matmuls, timed in the rounds)"] = ratio(ours["w1"], interleaved)
    for w in WORKLOADS:
        if (value := ratio(ours[w], ms(w, "ours", "bf16-mixed"))) is not None:
            values[f"{w} bf16-mixed speed-up over ours in float32"] = value
    core = ms("w1", "ours", "pure core, hand-jitted")
    if core:
        values["w1 facade / core"] = ratio(ours["w1"], core)
    numpy_ms = ms("w1", "ours", "numpy data")
    if numpy_ms:
        values["w1 numpy data / device data"] = ratio(numpy_ms, ours["w1"])
    first = next((r["first_step_s"] for r in records if r["kind"] == "timing" and r["workload"] == "w1"
                  and r["library"] == "ours" and not r["variant"]), None)  # fmt: skip
    if first is not None:
        values["w1 ours first step (compile) s"] = first
    ckpt = next((r for r in records if r["kind"] == "timing" and r["workload"] == "w4" and r["library"] == "ours"
                 and r["variant"].startswith("checkpoint")), None)  # fmt: skip
    plain = next((r for r in records if r["kind"] == "timing" and r["workload"] == "w4" and r["library"] == "ours"
                  and not r["variant"]), None)  # fmt: skip
    if ckpt and plain:
        values["w4 checkpointed / plain time"] = ratio(ckpt["ms_per_step_median"], plain["ms_per_step_median"])
        if "xla_temp_mb" in ckpt and "xla_temp_mb" in plain:
            values["w4 checkpointed / plain XLA temp memory"] = ratio(ckpt["xla_temp_mb"], plain["xla_temp_mb"])
    scaling = next((r for r in records if r["kind"] == "checkpoint_scaling"), None)
    if scaling:  # temp ~ T^p between the smallest and largest T: p = 1 linear, p < 1 sublinear
        for name, plain_rows in (("plain", True), ("checkpointed", False)):
            rows = [
                row
                for row in scaling["rows"]
                if (row["checkpoint_every"] is None) == plain_rows and "xla_temp_mb" in row
            ]
            if len(rows) >= 2 and rows[0]["xla_temp_mb"] > 0:
                growth = math.log(rows[-1]["xla_temp_mb"] / rows[0]["xla_temp_mb"]) / math.log(
                    rows[-1]["T"] / rows[0]["T"]
                )
                values[f"w4 {name} XLA temp ~ T^p, p"] = round(growth, 2)
    return {"kind": "summary", "values": values}


def plot(records: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    timing = [r for r in records if r["kind"] == "timing"]
    workloads = list(dict.fromkeys(r["workload"] for r in timing))
    labels = list(dict.fromkeys(r["label"] for r in timing))
    colors = {label: plt.get_cmap("tab10")(i % 10) for i, label in enumerate(labels)}
    fig, ax = plt.subplots(figsize=(11, 5))
    seen: set[str] = set()
    for j, w in enumerate(workloads):
        group = [r for r in timing if r["workload"] == w]
        width = 0.8 / len(group)
        for i, r in enumerate(group):
            x = j + (i - (len(group) - 1) / 2) * width
            ax.bar(x, r["ms_per_step_median"], width, color=colors[r["label"]],
                   label=None if r["label"] in seen else r["label"])  # fmt: skip
            seen.add(r["label"])
    names = {r["workload"]: f"{r['workload'].upper()} {r['name']}" for r in timing}
    ax.set_xticks(range(len(workloads)), [names[w] for w in workloads])
    ax.set_yscale("log")
    ax.set_ylabel("ms per step (median, log scale)")
    ax.set_title("Training step (W1, W2, W4) / forward (W3) time, lower is better")
    # Below the axes, in three columns and at the size of the axis labels: inside the axes at
    # fontsize 8 it covered bars and was unreadable once the page scaled the figure down.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, fontsize=11, frameon=False)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="w1,w2,w3,w4,w5")
    parser.add_argument("--accelerator", action="store_true",
                        help="JAX on its default accelerator (GPU), the torch libraries on CUDA, W5 at n=16384")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default: per workload)")
    parser.add_argument("--quick", action="store_true", help="one timed round per workload (smoke test)")
    parser.add_argument("--libraries", default=",".join(LIBRARIES))
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs" / "benchmarks"))
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch.set_num_threads for snnTorch/Norse (default 0: torch's own, every core, as XLA "
                             "uses; 1 on a machine others are loading)")  # fmt: skip
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_threads > 0 and importlib.util.find_spec("torch"):
        import torch

        torch.set_num_threads(args.torch_threads)
    if args.memory_probe:
        memory_probe(args.memory_probe)
        return
    if args.accelerator:
        import jax

        if jax.default_backend() == "cpu":
            sys.exit("--accelerator: JAX sees no accelerator (jax.default_backend() is 'cpu'); install jax[cuda].")
        global DEVICE
        DEVICE = "cuda"
        n = w5_neurons()
        WORKLOADS["w5"] = dataclasses.replace(WORKLOADS["w5"], title=f"Linear {n} + LIF, T=500, B=16, train step")
    workloads = [WORKLOADS[w.strip().lower()] for w in args.workloads.split(",") if w.strip()]
    requested = [lib.strip().lower() for lib in args.libraries.split(",") if lib.strip()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f}s] {message}", flush=True)

    notes = []
    libraries = []
    for lib in requested:
        if lib not in LIBRARIES:
            parser.error(f"unknown library {lib!r}; choose from {', '.join(LIBRARIES)}")
        if available(lib):
            libraries.append(lib)
        else:
            notes.append(f"{LABELS[lib]} is not installed: skipped.")
            log(notes[-1])
    if not importlib.util.find_spec("snntorch") or not importlib.util.find_spec("torch"):
        sys.exit("suite.py needs torch and snntorch: the reference weights of every workload come from snnTorch.")
    machine = machine_info()
    machine["loadavg_start"] = [round(v, 2) for v in os.getloadavg()]
    log(f"machine: {machine}")
    records: list[dict[str, Any]] = []
    for workload in workloads:
        repeats = 1 if args.quick else (args.repeats or workload.repeats)
        log(f"{workload.key.upper()} {workload.name}: {workload.title}; {repeats} rounds")
        if workload.key == "w1" and "ours" in libraries:
            records.append(flop_bound_w1(workload))
            log(f"  FLOP bound: {records[-1]['gflop_per_step']} GFLOP -> {records[-1]['bound_ms']} ms")
        contenders, extras = run_workload(workload, libraries, repeats, log)
        records.extend(extras)
        notes += [f"{workload.key.upper()}: {LABELS[r['library']]} failed and was skipped ({r['reason']})."
                  for r in extras if r["kind"] == "skipped"]  # fmt: skip
        slow = [c.label for c in contenders if 0 < len(c.times) < repeats]
        if slow:
            notes.append(f"{workload.key.upper()}: {', '.join(slow)} took over {SLOW_STEP_S:.0f} s per step in "
                         f"warm-up, so only the first rounds timed it.")  # fmt: skip
        new_records = records_for(workload, contenders, machine)
        if workload.key == "w4":
            probes = rss_probes(libraries, args.torch_threads, log)
            for record in new_records:
                record.update(probes.get(record["label"], {}))
        records.extend(new_records)
        del contenders
        gc.collect()
    machine["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    machine["wall_s"] = round(time.perf_counter() - started, 1)
    records.append({**summary(records), "notes": notes})
    with open(out / "results.jsonl", "w") as jsonl:
        for record in records:
            jsonl.write(json.dumps(record) + "\n")
    table = markdown(records, machine, notes)
    (out / "results.md").write_text(table)
    plotted = plot(records, out / "results.png")
    print(table)
    log(f"wrote {out / 'results.jsonl'}, {out / 'results.md'}" + (f", {out / 'results.png'}" if plotted else
                                                                  " (no matplotlib: no plot)"))  # fmt: skip


if __name__ == "__main__":
    main()
