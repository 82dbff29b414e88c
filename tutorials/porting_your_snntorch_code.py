# %% [markdown]
# # Porting your snnTorch code
#
# You have an snnTorch training script. This tutorial runs it twice on the same
# data: once as it is, and once with its import lines changed to this library:
# `snntorch` becomes `snnax_torchlike.snntorch`, a drop-in namespace laid out like
# the `snntorch` package ([snnTorch's API, drop-in](../../snntorch-api/)), and `torch.nn`/`torch.optim`
# become `snnax_torchlike.nn`/`optim`. Nothing else changes: the `Net` with a `forward` that loops over time,
# `init_leaky()`, `torch.stack`, the `DataLoader`, `optimizer.zero_grad()`,
# `loss.backward()`, `optimizer.step()`, `loss.item()` and `torch.no_grad()`
# all work as written, and the port runs faster (over the full run's 5 epochs; a
# quick run's time is mostly the port compiling its step).
#
# The script is written the way snnTorch's tutorial 5 writes one, with rate-coded
# inputs from `spikegen.rate`, `SF.ce_rate_loss` and Adam. The test suite runs
# snnTorch's tutorials 5, 6 and 7 and its README quick-start the same way
# (`tests/snntorch_scripts/`).
#
# To bring a *trained* snnTorch network over, weights and all, see
# ["Bring your snnTorch model"](../bring_your_snntorch_model/) (`interop.from_snntorch`).
#
# Full run: `python tutorials/porting_your_snntorch_code.py` takes about a minute
# on 2 CPU cores. After 5 epochs on scikit-learn's 8x8 digits (offline; 1347 train
# and 450 test images), both reach above 85% test accuracy (they start from
# different random weights). The test suite, and the documentation site, run it
# with `SNNAX_QUICK=1`: one epoch on 256 training images, so the accuracies
# printed there are far lower, and a note under them says so.
#
# Requirements: `pip install -e ".[interop,demo]"` (torch 2.13.0's CPU build and
# snnTorch, scikit-learn for the digits).

# %%
import difflib
import os
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

QUICK = os.environ.get("SNNAX_QUICK") == "1"
EPOCHS = 1 if QUICK else 5
STEPS = 10 if QUICK else 25
# The network is tiny, so one torch thread is fastest. It also keeps torch's thread
# pool from competing with JAX's on a small machine (with 2 threads on a busy
# 2-core machine, an snnTorch epoch here took 78 s instead of 1.2 s).
torch.set_num_threads(1)

# %% [markdown]
# ## The data, shared by both
#
# torch tensors, as an snnTorch script has them: the images `[N, 64]` in `[0, 1]`
# and the labels `[N]`.

# %%
digits = load_digits()
images = (digits.data / 16.0).astype(np.float32)
train_x, test_x, train_y, test_y = train_test_split(
    images, digits.target, test_size=0.25, random_state=0, stratify=digits.target
)
if QUICK:
    train_x, train_y, test_x, test_y = train_x[:256], train_y[:256], test_x[:128], test_y[:128]
train_x, test_x = torch.tensor(train_x), torch.tensor(test_x)
train_y, test_y = torch.tensor(train_y), torch.tensor(test_y)
print(f"train {tuple(train_x.shape)}, test {tuple(test_x.shape)}")

# %% [markdown]
# ## The script
#
# One source text, run twice. `SCRIPT` is the snnTorch script without its
# imports; each version is its imports followed by that text, executed in a
# fresh namespace that holds the data.

# %%
SCRIPT = """
torch.manual_seed(0)
spike_grad = surrogate.fast_sigmoid(slope=25)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.lif1 = snn.Leaky(beta=0.9, spike_grad=spike_grad)
        self.fc2 = nn.Linear(128, 10)
        self.lif2 = snn.Leaky(beta=0.9, spike_grad=spike_grad)

    def forward(self, x):  # x: [num_steps, batch, 64]
        mem1 = self.lif1.init_leaky()
        mem2 = self.lif2.init_leaky()
        spk2_rec, mem2_rec = [], []
        for step in range(x.shape[0]):
            spk1, mem1 = self.lif1(self.fc1(x[step]), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spk2_rec.append(spk2)
            mem2_rec.append(mem2)
        return torch.stack(spk2_rec), torch.stack(mem2_rec)


net = Net()
optimizer = optim.Adam(net.parameters(), lr=5e-3)
loss_fn = SF.ce_rate_loss()
train_loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(train_x, train_y), batch_size=64, shuffle=True, drop_last=True
)

for epoch in range(epochs):
    for data, targets in train_loader:
        data = spikegen.rate(data, num_steps=num_steps)

        spk_rec, mem_rec = net(data)
        loss = loss_fn(spk_rec, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    print(f"epoch {epoch + 1}/{epochs}: last batch loss {loss.item():.3f}")

with torch.no_grad():
    spk_rec, _ = net(spikegen.rate(test_x, num_steps=num_steps))
    test_accuracy = float(SF.accuracy_rate(spk_rec, test_y))
"""

SNNTORCH_IMPORTS = """import snntorch as snn
import snntorch.functional as SF
import torch
import torch.nn as nn
from snntorch import spikegen, surrogate
from torch import optim
"""

PORTED_IMPORTS = """import snnax_torchlike.snntorch as snn
import snnax_torchlike.snntorch.functional as SF
import torch
from snnax_torchlike import nn
from snnax_torchlike.snntorch import spikegen, surrogate
from snnax_torchlike import optim
"""

# %% [markdown]
# ## The difference
#
# A unified diff of the two scripts: `-` lines are snnTorch's, `+` lines the port's.
# `torch` stays: `torch.stack`, `torch.no_grad()` and the `DataLoader` work on
# what the library returns. `torch.manual_seed` seeds torch's generator only; the
# library's own weights come from `snx.manual_seed`, so the two versions start
# from different random weights.

# %%
diff = list(
    difflib.unified_diff(
        (SNNTORCH_IMPORTS + SCRIPT).splitlines(), (PORTED_IMPORTS + SCRIPT).splitlines(), "snntorch", "port",
        n=0, lineterm="",
    )
)  # fmt: skip
print("\n".join(diff))
changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
assert all(line[1:].startswith(("import ", "from ")) for line in changed)  # imports only
print(f"\n{len(changed)} changed lines (removed + added), all imports, in a {len(SCRIPT.splitlines())}-line script")

# %% [markdown]
# ## Both, on the same data
#
# For identical numbers from the same weights, import the snnTorch network with
# `interop.from_snntorch` (see ["Bring your snnTorch model"](../bring_your_snntorch_model/)).


# %%
def run(imports: str) -> tuple[float, float, dict]:
    """Run the script with ``imports``; returns its test accuracy, its wall time in seconds and its names."""
    namespace = dict(train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y, epochs=EPOCHS, num_steps=STEPS)
    start = time.perf_counter()
    exec(imports + SCRIPT, namespace)
    return namespace["test_accuracy"], time.perf_counter() - start, namespace


snntorch_accuracy, snntorch_seconds, _ = run(SNNTORCH_IMPORTS)
ported_accuracy, ported_seconds, ported = run(PORTED_IMPORTS)
print(f"snnTorch: test accuracy {snntorch_accuracy:.3f} ({snntorch_seconds:.1f} s)")
print(f"port:     test accuracy {ported_accuracy:.3f} ({ported_seconds:.1f} s, compiling included)")
if QUICK:
    print(
        "quick mode (SNNAX_QUICK=1): 1 epoch on 256 images, so the port's time is mostly compiling; the full run "
        "(SNNAX_QUICK=0) trains 5 epochs on 1347 images, and both reach above 85% test accuracy"
    )
else:
    assert snntorch_accuracy > 0.85 and ported_accuracy > 0.85

# %% [markdown]
# ## How the port runs
#
# Nothing runs where the script calls it. `net(data)` and the loss *record* what
# they would compute; `loss.backward()` compiles the recorded iteration into one
# [jitted](../../glossary/#jit) program (forward over every step, loss, gradients)
# and runs it, and `optimizer.step()` applies the gradients in one jitted update.
# The program is cached by its structure, so the next iteration reuses it:
# [one compilation per input shape](../../glossary/#recompilation)
# (`drop_last=True` keeps every batch at 64). The loop over time steps is found
# in the recording and runs as a loop again, layer by layer, instead of being
# [unrolled](../../glossary/#scan): `fc1(x[step])` for all steps is one matmul,
# each `Leaky` one scan. See ["PyTorch users: start here"](../../pytorch-users/)
# for what a returned tensor can do, and the table of what remains different.

# %% [markdown]
# ## Other snnTorch idioms
#
# | snnTorch | here |
# |---|---|
# | `snn.Leaky(..., init_hidden=True)` in an `nn.Sequential`, `utils.reset(net)`, a loop over `data[step]` | the same; `utils.reset` resets exactly the network it is given |
# | `net.to(device)`, `data.to(device)` | accepted: arrays live on JAX's default device; `fit(..., devices=...)` for several |
# | `optimizer.step(closure)` | the same: forward, gradient and update as one compiled function |
# | `scheduler.step()` | the same (`optim.lr_scheduler`) |
# | `torch.save(net.state_dict(), path)` | `net.save(path)`, safetensors with torch's names |
# | `net.load_state_dict(torch.load(path))` | the same call takes a torch `state_dict` |
# | `mem.detach_()`, `lif.detach_hidden()` (truncated BPTT) | the same |
#
# ## One step further: `fit`
#
# Once the script runs, the epoch loop can go too. `net.fit` compiles one step
# for the whole run, pads the last batch instead of recompiling for it, and adds
# validation, metrics and callbacks ([tutorial 5](../t5_training_with_fit/)). The `DataLoader` goes in as it
# is. Here the rate coding happens in a `collate_fn`, so the batches arrive
# already as spikes `[T, B, 64]`.

# %%
import snnax_torchlike as snx  # noqa: E402
from snnax_torchlike import functional as SF  # noqa: E402
from snnax_torchlike import nn, optim, spikegen, surrogate  # noqa: E402


def rate_coded(samples):
    data, targets = torch.utils.data.default_collate(samples)
    return np.asarray(spikegen.rate(data, num_steps=STEPS)), targets


snx.manual_seed(0)
net = nn.Sequential(
    nn.Linear(64, 128),
    nn.Leaky(beta=0.9, spike_grad=surrogate.fast_sigmoid(slope=25)),
    nn.Linear(128, 10),
    nn.Leaky(beta=0.9, spike_grad=surrogate.fast_sigmoid(slope=25)),
)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(train_x, train_y), batch_size=64, shuffle=True, collate_fn=rate_coded
)
start = time.perf_counter()
net.fit(loader, epochs=EPOCHS, optimizer=optim.Adam(net.parameters(), lr=5e-3), loss_fn=SF.ce_rate_loss(),
        metrics=[SF.accuracy_rate], progress=not QUICK)  # fmt: skip
spk, _ = net(spikegen.rate(test_x, num_steps=STEPS))
fit_accuracy = float(SF.accuracy_rate(spk, test_y))
print(f"fit: test accuracy {fit_accuracy:.3f} ({time.perf_counter() - start:.1f} s)")
if QUICK:
    print(
        "quick mode (SNNAX_QUICK=1): 1 epoch on 256 images; the full run (SNNAX_QUICK=0) trains 5 epochs on 1347 images"
    )

# %% [markdown]
# The script's own `Net`, with its Python loop over time steps, goes into `fit`
# unchanged. Inside `fit`'s compiled step its `forward` is recorded while it is
# [traced](../../glossary/#trace), and the repeated time step is compiled as one
# loop rather than [unrolled](../../glossary/#scan), so the compile time does not
# grow with the number of steps; outputs and gradients are those of the unrolled
# loop. `snx.imperative.stats.rolled_loops` counts the loops found.

# %%
snx.manual_seed(0)
looped_net = ported["Net"]()
rolled_before = snx.imperative.stats.rolled_loops
start = time.perf_counter()
looped_net.fit(loader, epochs=EPOCHS, optimizer=optim.Adam(looped_net.parameters(), lr=5e-3),
               loss_fn=SF.ce_rate_loss(), metrics=[SF.accuracy_rate], progress=not QUICK)  # fmt: skip
spk, _ = looped_net(spikegen.rate(test_x, num_steps=STEPS))
looped_accuracy = float(SF.accuracy_rate(spk, test_y))
rolled = snx.imperative.stats.rolled_loops - rolled_before
print(f"fit on the script's Net: test accuracy {looped_accuracy:.3f} ({time.perf_counter() - start:.1f} s)")
print(f"time loops compiled as loops: {rolled}, forward calls that fell back to unrolling: "
      f"{snx.imperative.stats.capture_fallbacks}")  # fmt: skip
assert rolled >= 1 and snx.imperative.stats.capture_fallbacks == 0

# %% [markdown]
# ## Mixing in torch layers, and the rest of snnTorch's API
#
# A script that keeps some `torch.nn` layers in front of the drop-in's neurons still
# trains them: `loss.backward()` hands the gradient to the torch tensors it came
# from, so `torch.optim` updates the torch layer as usual. (What cannot work is a
# drop-in neuron *inside* a `torch.nn.Sequential`, or `torch.optim` on the drop-in's
# own parameters: torch accepts only its own classes there; see
# [snnTorch's API, drop-in](../../snntorch-api/) for the full list.) The rest of snnTorch's API comes through the same
# namespace: here `snn.LinearLeaky` (time-parallel), a weighted `SF.ce_count_loss`
# and `spikegen.latency`.

# %%
import snnax_torchlike.snntorch as dropin  # noqa: E402

torch.manual_seed(0)
torch_fc = torch.nn.Linear(64, 32)  # a torch layer, trained by torch
readout = dropin.LinearLeaky(beta=0.9, in_features=32, out_features=10)
torch_optimizer = torch.optim.SGD(torch_fc.parameters(), lr=0.1)
our_optimizer = optim.SGD(readout.parameters(), lr=0.1)
latency_input = dropin.spikegen.latency(train_x[:32], num_steps=STEPS, normalize=True, linear=True)
loss_fn = dropin.functional.ce_count_loss(weight=np.linspace(0.5, 1.5, 10, dtype=np.float32))
before = torch_fc.weight.detach().clone()
spk, mem = readout(torch_fc(latency_input))  # [T, B, 10] from a torch layer's [T, B, 32]
loss = loss_fn(spk + mem.sigmoid(), train_y[:32])
loss.backward()
torch_optimizer.step()
our_optimizer.step()
print(f"loss {float(loss):.3f}; torch layer moved by {float((torch_fc.weight.detach() - before).abs().max()):.2e}")
assert torch_fc.weight.grad is not None and not torch.equal(torch_fc.weight.detach(), before)
