# ruff: noqa
# snnTorch's README quick-start snippet (README.rst, "Quickstart"), grown into a small training run:
# an nn.Sequential of layers and snn.Leaky(init_hidden=True) neurons, utils.reset(net), a time loop
# `spike, state = net(data_in[step])`, then the quick-start notebook's loss/optimizer/accuracy steps
# (docs/quickstart.rst) with SF.ce_rate_loss(). The network here is fully connected on scikit-learn's
# 8x8 digits (no download), rate-coded with spikegen.rate.
# SNN_SCRIPT_QUICK=1 (the default) trains for a few epochs only.
# The twin *_ported.py differs only in its import lines (and in naming the optimizer optim.Adam): it runs on snnax_torchlike.

import os

import numpy as np
import torch
from snnax_torchlike import nn
from snnax_torchlike import optim
import snnax_torchlike.snntorch as snn
from snnax_torchlike.snntorch import surrogate
from snnax_torchlike.snntorch import utils
from snnax_torchlike.snntorch import spikegen
import snnax_torchlike.snntorch.functional as SF
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

quick = os.environ.get("SNN_SCRIPT_QUICK", "1") != "0"
torch.manual_seed(0)
np.random.seed(0)

num_steps = 25 # number of time steps
batch_size = 64
beta = 0.5  # neuron decay rate
spike_grad = surrogate.fast_sigmoid() # surrogate gradient

# scikit-learn digits: 8x8 images with values 0..16, scaled to [0, 1] and flattened to 64 inputs
digits = load_digits()
images = (digits.images / 16.0).astype(np.float32).reshape(-1, 64)
labels = digits.target.astype(np.int64)
x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=384, random_state=0, stratify=labels)
train_loader = DataLoader(TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train)), batch_size=batch_size, shuffle=True, drop_last=True)
test_loader = DataLoader(TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test)), batch_size=batch_size, shuffle=True, drop_last=True)

net = nn.Sequential(
      nn.Linear(64, 256),
      snn.Leaky(beta=beta, init_hidden=True, spike_grad=spike_grad),
      nn.Linear(256, 64),
      snn.Leaky(beta=beta, init_hidden=True, spike_grad=spike_grad),
      nn.Linear(64, 10),
      snn.Leaky(beta=beta, init_hidden=True, spike_grad=spike_grad, output=True)
      )

def forward_pass(net, data_in):
  spike_recording = [] # record spikes over time
  utils.reset(net) # reset/initialize hidden states for all neurons

  for step in range(num_steps): # loop over time
      spike, state = net(data_in[step]) # one time step of forward-pass
      spike_recording.append(spike) # record spikes in list

  return torch.stack(spike_recording)

optimizer = optim.Adam(net.parameters(), lr=2e-3, betas=(0.9, 0.999))
loss_fn = SF.ce_rate_loss()

num_epochs = 5 if quick else 20
loss_hist = [] # record loss over iterations
acc_hist = [] # record accuracy over iterations

# training loop
for epoch in range(num_epochs):
    for i, (data, targets) in enumerate(iter(train_loader)):
        data_in = spikegen.rate(data, num_steps=num_steps) # rate-coded input: [num_steps, batch_size, 64]

        net.train()
        spk_rec = forward_pass(net, data_in) # forward-pass
        loss_val = loss_fn(spk_rec, targets) # loss calculation
        optimizer.zero_grad() # null gradients
        loss_val.backward() # calculate gradients
        optimizer.step() # update weights
        loss_hist.append(loss_val.item()) # store loss

        # print every 10 iterations
        if i % 10 == 0:
          print(f"Epoch {epoch}, Iteration {i} \nTrain Loss: {loss_val.item():.2f}")

          # check accuracy on a single batch
          acc = SF.accuracy_rate(spk_rec, targets)
          acc_hist.append(acc)
          print(f"Accuracy: {acc * 100:.2f}%\n")

# function to measure accuracy on full test set
def test_accuracy(data_loader, net, num_steps):
  with torch.no_grad():
    total = 0
    acc = 0
    net.eval()

    data_loader = iter(data_loader)
    for data, targets in data_loader:
      data_in = spikegen.rate(data, num_steps=num_steps)
      spk_rec = forward_pass(net, data_in)

      acc += SF.accuracy_rate(spk_rec, targets) * spk_rec.size(1)
      total += spk_rec.size(1)

  return acc/total

test_acc = test_accuracy(test_loader, net, num_steps)
print(f"Test set accuracy: {test_acc*100:.3f}%")
print(f"FINAL_TEST_ACCURACY={test_acc}")
