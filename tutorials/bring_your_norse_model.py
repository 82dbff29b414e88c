# %% [markdown]
# # Bring your Norse model
#
# You trained a network in Norse. This tutorial imports it, checks that it
# computes what it computed in Norse, step for step, and fine-tunes it with `fit`.
#
# Full run: `python tutorials/bring_your_norse_model.py`, under a minute on 2 CPU
# cores: the imported network gives Norse's spikes exactly (0 flips of 112,500),
# the Norse-trained network reaches about 50% test accuracy, and fine-tuning here
# brings it to about 81%. The test suite, and the documentation site, run it with
# `SNNAX_QUICK=1`: 10 time steps instead of 25, 256 images of Norse training and
# one epoch of fine-tuning, so the numbers printed there differ, and a note under
# each says so. [Norse models](../../interop-norse/) lists what the import
# supports and Norse's conventions.
#
# Requirements: `pip install -e ".[interop,demo]"` (torch 2.13.0's CPU build, NIR,
# which Norse imports, and scikit-learn for the digits), then
# `pip install --no-deps norse==1.1.0`: Norse declares torchvision, which it never
# imports and which would pull a CUDA build of torch.

# %%
import os

import norse.torch as norse
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import interop, optim, spikegen

QUICK = os.environ.get("SNNAX_QUICK") == "1"
STEPS = 10 if QUICK else 25
torch.set_num_threads(1)  # a busy 2-core machine: torch's thread pool would fight with XLA's

# %% [markdown]
# ## 1. A Norse network, trained a little in Norse
#
# Norse cells are single steps: `out, state = cell(x, state)`, time-first input,
# and the neuron parameters live in `cell.p` (not in `state_dict`).

# %%
digits = load_digits()
images = (digits.data / 16.0).astype(np.float32)
train_x, test_x, train_y, test_y = train_test_split(images, digits.target, test_size=0.25, random_state=0)
snx.manual_seed(0)
train_spikes = np.asarray(spikegen.rate(train_x, num_steps=STEPS))
test_spikes = np.asarray(spikegen.rate(test_x, num_steps=STEPS))

torch.manual_seed(0)
model = norse.SequentialState(
    torch.nn.Linear(64, 128),
    norse.LIFCell(norse.LIFParameters(tau_mem_inv=torch.tensor(50.0), v_th=torch.tensor(0.3))),
    torch.nn.Linear(128, 10),
    norse.LIFCell(norse.LIFParameters(tau_mem_inv=torch.tensor(50.0), v_th=torch.tensor(0.3))),
)


def run_norse(model, spikes):
    state, outputs = None, []
    for t in range(spikes.shape[0]):
        out, state = model(spikes[t], state)
        outputs.append(out)
    return torch.stack(outputs), state


optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
for start in range(0, 256 if QUICK else 1024, 64):
    spk, _ = run_norse(model, torch.tensor(train_spikes[:, start : start + 64]))
    loss = torch.nn.functional.cross_entropy(spk.mean(0), torch.tensor(train_y[start : start + 64]))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

# %% [markdown]
# ## 2. Import it and check the numerics
#
# `interop.from_norse` copies the weights and reads each cell's parameters and
# `dt` from the live module; the cells keep Norse's Euler update (the input jumps
# into the synaptic current first) and its surrogate. The result is an
# `nn.Sequential` that runs the whole sequence in one compiled
# [scan](../../glossary/#scan).

# %%
net = interop.from_norse(model)
print(net)
with torch.no_grad():
    ref_spk, _ = run_norse(model, torch.tensor(test_spikes))
spk, mem = net(test_spikes)
flips = int((np.asarray(spk) != ref_spk.numpy()).sum())
print(f"spike flips against Norse: {flips} of {spk.size}")
assert flips <= spk.size * 1e-4  # float32 rounding may flip a spike lying exactly at threshold

accuracy_before = float(SF.accuracy_rate(spk, test_y.astype(np.int32)))
print(f"accuracy after the Norse training: {accuracy_before:.3f}")
if QUICK:
    print(
        "quick mode (SNNAX_QUICK=1): 10 steps, 256 training images in Norse; the full run (SNNAX_QUICK=0): "
        "25 steps, 1024 images, 0 flips of 112,500 spikes, about 50%"
    )

# %% [markdown]
# ## 3. Fine-tune with `fit`
#
# The imported network is an ordinary facade network: `fit`, `evaluate`,
# checkpoints and `state_dict` (which, unlike Norse's, holds the neuron
# parameters too) all apply.

# %%
train_loader = [(train_spikes[:, i : i + 64], train_y[i : i + 64].astype(np.int32)) for i in range(0, len(train_y), 64)]
test_loader = [(test_spikes[:, i : i + 128], test_y[i : i + 128].astype(np.int32)) for i in range(0, len(test_y), 128)]
net.fit(
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
        "5 epochs, about 81%"
    )
print("state_dict keys:", list(net.state_dict())[:6], "...")
