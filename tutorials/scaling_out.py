# %% [markdown]
# # Scaling out: one fit, several devices
#
# `fit(..., devices=...)` trains data-parallel. Each batch is split along its
# batch axis over the devices, the parameters and optimizer state are copied to
# every device, and the training step stays one `jax.jit`-[compiled](../../glossary/#jit)
# function. [XLA](../../glossary/#xla) adds the gradient all-reduce. The loss is a mean over the *global* batch, so
# the result is the one a single device would compute on the same batches, within
# float rounding.
#
# `devices` is `None` (one device, the default), `"all"`, a count (the first
# `n` of `jax.devices()`) or a list of `jax.Device`. `evaluate` and `predict`
# take it too. The [Scaling out](../../scaling/) page of the documentation covers
# several hosts (`jax.distributed`).
#
# A process can only use the devices JAX found when it started. On a machine
# with one CPU and no accelerator, that is one device. JAX can split the CPU
# into several *virtual* devices when it starts, with
# `XLA_FLAGS=--xla_force_host_platform_device_count=4`. They share the same
# cores, so this checks correctness, not speed. This tutorial starts a training
# script twice in fresh processes, once on 4 virtual devices with `devices=4`
# and once on one device, and compares the two runs.
#
# Full run: `python tutorials/scaling_out.py` takes about 30 s on 2 CPU cores.
# After one step the two runs' weights agree to about 1e-8. Each run then trains
# for 5 epochs on scikit-learn's 8x8 digits and reaches about 95% test accuracy.
# The test suite, and the documentation site, run it with `SNNAX_QUICK=1`: one
# epoch on 256 training images, so the accuracies printed there are far lower,
# and a note under them says so.
#
# Requirements: `pip install -e ".[demo]"` (scikit-learn for the digits).

# %%
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import jax
import numpy as np

QUICK = os.environ.get("SNNAX_QUICK") == "1"
print("this process sees:", jax.devices())

# %% [markdown]
# ## The training script
#
# An ordinary `fit` script. The only addition is the `devices=` argument, read
# here from the command line. With 4 devices each global batch of 64 goes out as
# 4 parts of 16. The global batch must divide by the number of devices. If it
# does not, `fit` stops before the first step and suggests batch sizes that
# work. The script shows that message too. The last, smaller batch of an epoch
# is padded and masked as usual, so it never breaks the split.
#
# The script trains twice. First it takes a single SGD step on one batch. That
# step must give the same weights on 4 devices as on one, because the sharded step
# computes the same global-batch mean. Then it trains for real, with Adam, over
# several epochs. It saves the weights after the single step, the loss per epoch
# and the test accuracy of the real run, so that this notebook can compare them.

# %%
SCRIPT = r"""
import sys
import time

import jax
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim, spikegen, surrogate

devices = None if sys.argv[1] == "none" else int(sys.argv[1])
out, quick = sys.argv[2], sys.argv[3] == "1"
print(f"JAX sees {jax.device_count()} device(s); training with devices={devices}")

digits = load_digits()
images, labels = (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int32)
train_x, test_x, train_y, test_y = train_test_split(images, labels, test_size=0.25, random_state=0, stratify=labels)
if quick:
    train_x, train_y, test_x, test_y = train_x[:256], train_y[:256], test_x[:128], test_y[:128]

# Fixed spike trains and batch order, so that both runs see exactly the same batches.
snx.manual_seed(0)
steps = 10 if quick else 25
train_spikes, test_spikes = spikegen.rate(train_x, num_steps=steps), spikegen.rate(test_x, num_steps=steps)
train_loader = [(train_spikes[:, i : i + 64], train_y[i : i + 64]) for i in range(0, len(train_y), 64)]
test_loader = [(test_spikes[:, i : i + 128], test_y[i : i + 128]) for i in range(0, len(test_y), 128)]



def make_net():
    snx.manual_seed(0)
    return nn.Sequential(
        nn.Linear(64, 128),
        nn.Leaky(beta=0.9, spike_grad=surrogate.fast_sigmoid(slope=25)),
        nn.Linear(128, 10),
        nn.Leaky(beta=0.9, spike_grad=surrogate.fast_sigmoid(slope=25)),
    )


loss_fn = SF.ce_rate_loss()

# 1. One SGD step on the first batch: the update is -lr * gradient, so any error in the gradient would show.
net = make_net()
net.fit(train_loader[:1], epochs=1, optimizer=optim.SGD(net.parameters(), lr=0.5), loss_fn=loss_fn,
        progress=False, devices=devices)
one_step = {name: np.asarray(value) for name, value in net.state_dict().items()}

# 2. A real training run.
net = make_net()
optimizer = optim.Adam(net.parameters(), lr=5e-3)
start = time.perf_counter()
history = net.fit(train_loader, epochs=1 if quick else 5, optimizer=optimizer, loss_fn=loss_fn,
                  metrics=[SF.accuracy_rate], progress=False, devices=devices)
seconds = time.perf_counter() - start
accuracy = net.evaluate(test_loader, loss_fn=loss_fn, metrics=[SF.accuracy_rate], devices=devices)["accuracy_rate"]
print(f"trained in {seconds:.1f} s; test accuracy {accuracy:.3f}")

if devices:
    trainer = snx.Trainer(net, optimizer, loss_fn, progress=False, devices=devices)
    print("the mesh:", trainer.mesh)
    try:  # 30 samples do not split over 4 devices
        trainer.fit([(train_spikes[:, :30], train_y[:30])], epochs=1)
    except ValueError as error:
        print("a batch of 30:", error)

np.savez(out, loss=np.array(history["loss"]), accuracy=accuracy, seconds=seconds, **one_step)
"""

# %% [markdown]
# ## Two runs
#
# `XLA_FLAGS` must be set before JAX starts, so each run is a fresh Python
# process. On a machine with several GPUs, drop the flag and pass `devices=` (or
# `devices="all"`) to `fit` in the same process.


# %%
def run(device_count, devices):
    """Run SCRIPT in a fresh process with `device_count` virtual CPU devices; return its saved results."""
    workdir = Path(tempfile.mkdtemp(prefix="scaling_out_"))
    script, out = workdir / "train.py", workdir / "results.npz"
    script.write_text(SCRIPT)
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={device_count}", JAX_PLATFORMS="cpu")
    result = subprocess.run(
        [sys.executable, str(script), str(devices), str(out), "1" if QUICK else "0"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    print(result.stdout)
    if result.returncode != 0:
        raise RuntimeError(f"the training script failed:\n{result.stderr[-3000:]}")
    return dict(np.load(out))


sharded = run(4, devices=4)
single = run(1, devices="none")

# %% [markdown]
# ## The comparison
#
# Same data, same batches, same initial weights. After the single step the
# weights agree to float rounding. The sum over the batch is split across the
# devices, so only the order of the additions changes, and with it the last
# digits.
#
# Over a long run the two drift apart, and that is expected. A spike is a
# threshold, so a rounding difference in the last digit of a membrane potential
# can flip one spike, and training amplifies the change. The same happens when
# you change the batch size or run on another machine. The two runs learn
# equally well, with losses per epoch and accuracies close to each other, but
# not identical.

# %%
names = [name for name in single if name not in ("loss", "accuracy", "seconds")]
largest = max(float(np.abs(sharded[name] - single[name]).max()) for name in names)
print(f"loss per epoch, 4 devices: {np.round(sharded['loss'], 5)}")
print(f"loss per epoch, 1 device:  {np.round(single['loss'], 5)}")
print(f"test accuracy: 4 devices {float(sharded['accuracy']):.3f}, 1 device {float(single['accuracy']):.3f}")
print(f"largest weight difference after one step, over {len(names)} tensors: {largest:.1e}")
print(f"training time: 4 devices {float(sharded['seconds']):.1f} s, 1 device {float(single['seconds']):.1f} s "
      "(virtual devices share the same cores)")  # fmt: skip
if QUICK:
    print(
        "quick mode (SNNAX_QUICK=1): 1 epoch on 256 images; the full run (SNNAX_QUICK=0) trains 5 epochs on "
        "1347 images and reaches about 95% test accuracy on both"
    )
assert largest < 1e-4
if not QUICK:
    assert float(sharded["accuracy"]) > 0.9 and float(single["accuracy"]) > 0.9

# %% [markdown]
# ## On real hardware
#
# - **Several GPUs or TPU cores in one machine**: `net.fit(loader, ..., devices="all")`.
#   Choose a global batch that divides by the device count. Each device holds one
#   part of every batch and a full copy of the parameters.
# - **Several machines**: call `jax.distributed.initialize(...)` at the top of the
#   same script on every machine, pass `devices="all"`, and give every process
#   its part of each global batch, for example through a `DistributedSampler`
#   with `num_replicas=jax.process_count()` and `rank=jax.process_index()`. Only
#   process 0 writes checkpoints.
# - **Throughput**: `python benchmarks/data_parallel.py` measures samples per
#   second against the number of devices.
