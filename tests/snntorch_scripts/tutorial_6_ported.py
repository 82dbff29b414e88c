# ruff: noqa
# snnTorch tutorial 6, "Surrogate Gradient Descent in a Convolutional SNN" (docs/tutorials/tutorial_6.rst),
# written out as a script. MNIST is replaced by scikit-learn's 8x8 digits (no download), upsampled by 3
# and zero-padded to 28x28 so that the tutorial's layer sizes (64*4*4) stay; plotting and the
# hand-written surrogate are left out. Everything else is the tutorial's.
# SNN_SCRIPT_QUICK=1 (the default) trains for a few iterations with fewer time steps.
# The twin *_ported.py differs only in its import lines (and in naming the optimizer optim.Adam): it runs on snnax_torchlike.

# imports
import os

import snnax_torchlike.snntorch as snn
from snnax_torchlike.snntorch import surrogate
from snnax_torchlike.snntorch import functional as SF
from snnax_torchlike.snntorch import utils

import torch
from snnax_torchlike import nn
from snnax_torchlike import optim
from torch.utils.data import DataLoader, TensorDataset

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

quick = os.environ.get("SNN_SCRIPT_QUICK", "1") != "0"
torch.manual_seed(0)
np.random.seed(0)

# dataloader arguments
batch_size = 128
dtype = torch.float
device = torch.device("cuda") if torch.cuda.is_available() else torch.device("mps") if torch.backends.mps.is_available() else torch.device("cpu")

# MNIST -> scikit-learn digits: 8x8 images with values 0..16, scaled to [0, 1],
# upsampled by 3 to 24x24 and zero-padded by 2 on each side to 28x28
digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)
images = np.pad(np.kron(images, np.ones((3, 3), dtype=np.float32)), ((0, 0), (2, 2), (2, 2)))[:, None]  # [N, 1, 28, 28]
labels = digits.target.astype(np.int64)
x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=384, random_state=0, stratify=labels)
digits_train = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
digits_test = TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test))

# Create DataLoaders
train_loader = DataLoader(digits_train, batch_size=batch_size, shuffle=True, drop_last=True)
test_loader = DataLoader(digits_test, batch_size=batch_size, shuffle=True, drop_last=True)

# neuron and simulation parameters
spike_grad = surrogate.fast_sigmoid(slope=25)
beta = 0.5
num_steps = 10 if quick else 50

#  Initialize Network
net = nn.Sequential(nn.Conv2d(1, 12, 5),
                    nn.MaxPool2d(2),
                    snn.Leaky(beta=beta, spike_grad=spike_grad, init_hidden=True),
                    nn.Conv2d(12, 64, 5),
                    nn.MaxPool2d(2),
                    snn.Leaky(beta=beta, spike_grad=spike_grad, init_hidden=True),
                    nn.Flatten(),
                    nn.Linear(64*4*4, 10),
                    snn.Leaky(beta=beta, spike_grad=spike_grad, init_hidden=True, output=True)
                    ).to(device)

data, targets = next(iter(train_loader))
data = data.to(device)
targets = targets.to(device)

for step in range(num_steps):
    spk_out, mem_out = net(data)

def forward_pass(net, num_steps, data):
  mem_rec = []
  spk_rec = []
  utils.reset(net)  # resets hidden states for all LIF neurons in net

  for step in range(num_steps):
      spk_out, mem_out = net(data)
      spk_rec.append(spk_out)
      mem_rec.append(mem_out)

  return torch.stack(spk_rec), torch.stack(mem_rec)

spk_rec, mem_rec = forward_pass(net, num_steps, data)

# already imported snntorch.functional as SF
loss_fn = SF.ce_rate_loss()

loss_val = loss_fn(spk_rec, targets)

print(f"The loss from an untrained network is {loss_val.item():.3f}")

acc = SF.accuracy_rate(spk_rec, targets)

print(f"The accuracy of a single batch using an untrained network is {acc*100:.3f}%")

def batch_accuracy(train_loader, net, num_steps):
  with torch.no_grad():
    total = 0
    acc = 0
    net.eval()

    train_loader = iter(train_loader)
    for data, targets in train_loader:
      data = data.to(device)
      targets = targets.to(device)
      spk_rec, _ = forward_pass(net, num_steps, data)

      acc += SF.accuracy_rate(spk_rec, targets) * spk_rec.size(1)
      total += spk_rec.size(1)

  return acc/total

optimizer = optim.Adam(net.parameters(), lr=1e-2, betas=(0.9, 0.999))
num_epochs = 2 if quick else 10
loss_hist = []
test_acc_hist = []
counter = 0

# Outer training loop
for epoch in range(num_epochs):

    # Training loop
    for data, targets in iter(train_loader):
        data = data.to(device)
        targets = targets.to(device)

        # forward pass
        net.train()
        spk_rec, _ = forward_pass(net, num_steps, data)

        # initialize the loss & sum over time
        loss_val = loss_fn(spk_rec, targets)

        # Gradient calculation + weight update
        optimizer.zero_grad()
        loss_val.backward()
        optimizer.step()

        # Store loss history for future plotting
        loss_hist.append(loss_val.item())

        # Test set
        if counter % 50 == 0:
          with torch.no_grad():
              net.eval()

              # Test set forward pass
              test_acc = batch_accuracy(test_loader, net, num_steps)
              print(f"Iteration {counter}, Test Acc: {test_acc * 100:.2f}%\n")
              test_acc_hist.append(test_acc.item())

        counter += 1

test_acc = batch_accuracy(test_loader, net, num_steps)
print(f"The total accuracy on the test set is: {test_acc * 100:.2f}%")
print(f"FINAL_TEST_ACCURACY={test_acc}")
