# %% [markdown]
# # Bring your snnTorch model
#
# You trained a network in snnTorch. This tutorial imports it, checks that it
# computes exactly what it computed in snnTorch, and fine-tunes it with `fit`.
#
# Full run: `python tutorials/bring_your_snntorch_model.py` takes about 12 s on 2
# CPU cores: the snnTorch-trained network reaches about 55% test accuracy, and
# fine-tuning here brings it to about 93%. The test suite, and the documentation
# site, run it with `SNNAX_QUICK=1`: 10 time steps instead of 25, 256 images of
# snnTorch training and one epoch of fine-tuning, so the accuracies printed there
# are lower, and a note under each says so. [snnTorch models](../../interop-snntorch/)
# lists what the import supports.
#
# Requirements: `pip install -e ".[interop,demo]"` (torch 2.13.0's CPU build and
# snnTorch, scikit-learn for the digits).

# %%
import os

import numpy as np
import snntorch
import snntorch.functional as snn_functional
import snntorch.utils
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import interop, optim, spikegen

QUICK = os.environ.get("SNNAX_QUICK") == "1"
STEPS = 10 if QUICK else 25

# %% [markdown]
# ## 1. An snnTorch network, trained a little in snnTorch
#
# The digits ship with scikit-learn. We rate-code each 8x8 image into spikes
# (time-first, `[T, B, 64]`, as snnTorch does).

# %%
digits = load_digits()
images = (digits.data / 16.0).astype(np.float32)
train_x, test_x, train_y, test_y = train_test_split(images, digits.target, test_size=0.25, random_state=0)
snx.manual_seed(0)
train_spikes = np.asarray(spikegen.rate(train_x, num_steps=STEPS))
test_spikes = np.asarray(spikegen.rate(test_x, num_steps=STEPS))

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Linear(64, 128),
    snntorch.Leaky(beta=0.9, init_hidden=True, spike_grad=snntorch.surrogate.fast_sigmoid(slope=25)),
    torch.nn.Linear(128, 10),
    snntorch.Leaky(beta=0.9, init_hidden=True, output=True, spike_grad=snntorch.surrogate.fast_sigmoid(slope=25)),
)


def run_snntorch(model, spikes):
    snntorch.utils.reset(model)
    records = [model(spikes[t]) for t in range(spikes.shape[0])]
    return torch.stack([r[0] for r in records]), torch.stack([r[1] for r in records])


optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
loss_fn = snn_functional.ce_rate_loss()
for start in range(0, 256 if QUICK else 1024, 64):
    spk, _ = run_snntorch(model, torch.tensor(train_spikes[:, start : start + 64]))
    loss = loss_fn(spk, torch.tensor(train_y[start : start + 64]))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

# %% [markdown]
# ## 2. Import it and check the numerics
#
# `interop.from_snntorch` copies weights, decays, thresholds, reset mechanisms and
# the surrogate. The imported `nn.Sequential` runs the whole sequence at once.

# %%
net = interop.from_snntorch(model)
print(net)
with torch.no_grad():
    ref_spk, ref_mem = run_snntorch(model, torch.tensor(test_spikes))
spk, mem = net(test_spikes)
flips = int((np.asarray(spk) != ref_spk.numpy()).sum())
print(f"spike flips: {flips}, max membrane difference: {np.abs(np.asarray(mem) - ref_mem.numpy()).max():.2e}")
assert flips == 0 and np.abs(np.asarray(mem) - ref_mem.numpy()).max() < 1e-4

accuracy_before = float(SF.accuracy_rate(spk, test_y.astype(np.int32)))
print(f"accuracy after the snnTorch training: {accuracy_before:.3f}")
if QUICK:
    print(
        "quick mode (SNNAX_QUICK=1): 10 steps, 256 training images in snnTorch; the full run (SNNAX_QUICK=0): "
        "25 steps, 1024 images, about 55%"
    )

# %% [markdown]
# ## 3. Fine-tune with `fit`
#
# Any iterable of `(x, y)` batches works: here, plain lists of numpy arrays. The
# test images are scored once, after fine-tuning.

# %%
train_loader = [(train_spikes[:, i : i + 64], train_y[i : i + 64].astype(np.int32)) for i in range(0, len(train_y), 64)]
test_loader = [(test_spikes[:, i : i + 128], test_y[i : i + 128].astype(np.int32)) for i in range(0, len(test_y), 128)]
history = net.fit(
    train_loader,
    epochs=1 if QUICK else 5,
    optimizer=optim.Adam(net.parameters(), lr=2e-3),
    loss_fn=SF.ce_rate_loss(),
    metrics=[SF.accuracy_rate],
    progress=not QUICK,
)
accuracy_after = net.evaluate(test_loader, loss_fn=SF.ce_rate_loss(), metrics=[SF.accuracy_rate])["accuracy_rate"]
print(f"accuracy after fine-tuning here: {accuracy_after:.3f}")
if QUICK:
    print(
        "quick mode (SNNAX_QUICK=1): 10 steps, 1 epoch of fine-tuning; the full run (SNNAX_QUICK=0): 25 steps, "
        "5 epochs, about 93%"
    )

# %% [markdown]
# ## 4. Take it back to snnTorch
#
# `interop.to_snntorch` exports the fine-tuned network; it computes the same spikes.

# %%
exported = interop.to_snntorch(net)
with torch.no_grad():
    back_spk, _ = run_snntorch(exported, torch.tensor(test_spikes))
assert (back_spk.numpy() != np.asarray(net(test_spikes)[0])).sum() == 0
print("exported model reproduces the fine-tuned spikes")
