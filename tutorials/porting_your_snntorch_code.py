# %% [markdown]
# # Porting your snnTorch code
#
# You have an snnTorch training script. This tutorial puts one next to its port,
# runs both on the same data and prints the difference between the two sources.
# Most of the difference is imports. The one real change is the training step.
# JAX has no `loss.backward()`, so the forward pass and the loss go into a
# closure, and `optimizer.step(closure)` does the rest.
#
# The script is written the way snnTorch's tutorials 5 and 6 write one. It has a
# `Net` with a `forward` that loops over time, rate-coded inputs from
# `spikegen.rate`, a torch `DataLoader`, `SF.ce_rate_loss` and Adam. Each version
# is wrapped in a function so that both can run in one process. The body of
# each function is the script, imports included.
#
# To bring a *trained* snnTorch network over, weights and all, see
# "Bring your snnTorch model" (`interop.from_snntorch`).
#
# Full run: `python tutorials/porting_your_snntorch_code.py` takes about 35 s on
# 2 CPU cores. After 5 epochs on scikit-learn's 8x8 digits (offline; 1347 train
# and 450 test images), the snnTorch script reaches about 92% test accuracy and
# the port about 95% (they start from different random weights); `fit` at the
# end, about 95%. The test suite runs it with `SNNAX_QUICK=1` (one epoch on a
# subset). Needs torch 2.13.0 (CPU) and snnTorch (the `test` or `interop`
# extra).

# %%
import difflib
import inspect
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
# ## The snnTorch script


# %%
def snntorch_script(train_x, train_y, test_x, test_y, epochs, num_steps):
    import snntorch as snn
    import snntorch.functional as SF
    import torch
    import torch.nn as nn
    from snntorch import spikegen, surrogate

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
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-3)
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

        print(f"epoch {epoch}: last batch loss {loss.item():.3f}")

    with torch.no_grad():
        spk_rec, _ = net(spikegen.rate(test_x, num_steps=num_steps))
        return float(SF.accuracy_rate(spk_rec, test_y))


# %% [markdown]
# ## The port
#
# Imports: `torch.nn` and `snntorch` become `snnax_torchlike.nn` (it has torch's
# layers and snnTorch's neurons; importing it a second time as `snn` keeps
# `snn.Leaky` working). `snntorch.functional`, `spikegen` and `surrogate` have
# counterparts of the same names. `torch` stays for the `DataLoader`.
#
# The step: the forward pass and the loss move into `closure`, and
# `optimizer.step(closure)` computes the loss, the gradients and the update, and
# returns the loss. The closure is compiled once and reused at every step. The
# arrays it reads (`data`, `targets`, the network's weights) are inputs of the
# compiled function, so each step sees new values; torch tensors such as
# `targets` are converted to JAX arrays on the way in. (A closure that calls a
# torch-only method on a captured tensor, such as `targets.long()`, still runs,
# but with a warning: the tensor is then compiled in as a constant and every
# batch recompiles.) A new input shape compiles once more; `drop_last=True` (as
# in snnTorch's tutorials) keeps every batch at 64.
#
# Elsewhere: `torch.stack` becomes `jnp.stack`, `snx.manual_seed` replaces
# `torch.manual_seed`, and `torch.no_grad()` goes, because nothing records
# gradients outside `step`.


# %%
def ported_script(train_x, train_y, test_x, test_y, epochs, num_steps):
    import jax.numpy as jnp
    import torch

    import snnax_torchlike as snx
    from snnax_torchlike import functional as SF
    from snnax_torchlike import nn, optim, spikegen, surrogate
    from snnax_torchlike import nn as snn

    snx.manual_seed(0)
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
            return jnp.stack(spk2_rec), jnp.stack(mem2_rec)

    net = Net()
    optimizer = optim.Adam(net.parameters(), lr=5e-3)
    loss_fn = SF.ce_rate_loss()
    train_loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(train_x, train_y), batch_size=64, shuffle=True, drop_last=True
    )

    for epoch in range(epochs):
        for data, targets in train_loader:
            data = spikegen.rate(data, num_steps=num_steps)

            def closure():
                spk_rec, mem_rec = net(data)
                return loss_fn(spk_rec, targets)

            optimizer.zero_grad()
            loss = optimizer.step(closure)

        print(f"epoch {epoch}: last batch loss {loss.item():.3f}")

    spk_rec, _ = net(spikegen.rate(test_x, num_steps=num_steps))
    return float(SF.accuracy_rate(spk_rec, test_y))


# %% [markdown]
# ## The difference
#
# A unified diff of the two function bodies: `-` lines are snnTorch's, `+` lines
# the port's.

# %%
diff = list(
    difflib.unified_diff(
        inspect.getsource(snntorch_script).splitlines(),
        inspect.getsource(ported_script).splitlines(),
        "snntorch_script",
        "ported_script",
        n=0,
        lineterm="",
    )
)
print("\n".join(diff))
changed = sum(line[:1] in "+-" and not line.startswith(("+++", "---")) for line in diff)
total = len(inspect.getsource(ported_script).splitlines())
print(f"\n{changed} changed lines (removed + added) in a {total}-line script")

# %% [markdown]
# ## Both, on the same data
#
# The two runs start from different random weights (torch's and JAX's random
# number generators differ), so their numbers differ a little. For identical
# numbers from the same weights, import the snnTorch network with
# `interop.from_snntorch` (see "Bring your snnTorch model").

# %%
start = time.perf_counter()
snntorch_accuracy = snntorch_script(train_x, train_y, test_x, test_y, EPOCHS, STEPS)
snntorch_seconds = time.perf_counter() - start
start = time.perf_counter()
ported_accuracy = ported_script(train_x, train_y, test_x, test_y, EPOCHS, STEPS)
ported_seconds = time.perf_counter() - start
print(f"snnTorch: test accuracy {snntorch_accuracy:.3f} ({snntorch_seconds:.1f} s)")
print(f"port:     test accuracy {ported_accuracy:.3f} ({ported_seconds:.1f} s, compiling included)")
if not QUICK:
    assert snntorch_accuracy > 0.85 and ported_accuracy > 0.85

# %% [markdown]
# ## Other snnTorch idioms
#
# | snnTorch | here |
# |---|---|
# | `snn.Leaky(..., init_hidden=True)` in an `nn.Sequential`, `utils.reset(net)`, a loop over `data[step]` | `nn.Sequential(...)` without `init_hidden`; `spk, mem = net(data)` runs the whole `[T, B, ...]` sequence in one compiled scan |
# | `net.to(device)`, `data.to(device)` | nothing: arrays live on JAX's default device; `fit(..., devices=...)` for several |
# | `loss.backward(); optimizer.step()` | `optimizer.step(closure)` |
# | `scheduler.step()` | the same (`optim.lr_scheduler`) |
# | `torch.save(net.state_dict(), path)` | `net.save(path)`, safetensors with torch's names |
# | `net.load_state_dict(torch.load(path))` | the same call takes a torch `state_dict` |
# | `mem.detach_()` (truncated BPTT) | not needed for training through the whole sequence |
#
# ## One step further: `fit`
#
# Once the script runs, the epoch loop can go too. `net.fit` compiles one step
# for the whole run, pads the last batch instead of recompiling for it, and adds
# validation, metrics and callbacks (tutorial 5). The `DataLoader` goes in as it
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
