# ruff: noqa
# snnTorch tutorial 7, "Neuromorphic Datasets with Tonic + snnTorch" (docs/tutorials/tutorial_7.rst),
# written out as a script. tonic's N-MNIST cannot be downloaded here, so a small synthetic event data set
# stands in for it: scikit-learn's 8x8 digits, upsampled and moved along three saccades on a 34x34
# sensor, turned into ON/OFF events (2 channels), batched time-first [T, B, 2, 34, 34] as
# tonic.collation.PadTensors(batch_first=False) does. Plotting is left out; a test-set accuracy is added;
# batches are 64 (not 128) so that a short run gets enough optimizer steps.
# SNN_SCRIPT_QUICK=1 (the default) trains for a few iterations only.
# The twin *_ported.py differs only in its import lines (and in naming the optimizer optim.Adam): it runs on snnax_torchlike.

import os

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

quick = os.environ.get("SNN_SCRIPT_QUICK", "1") != "0"
torch.manual_seed(0)
np.random.seed(0)

sensor_size = (34, 34, 2)
num_frames = 10 if quick else 30


def make_event_digits(images, num_frames, seed=0):
    """Synthetic N-MNIST-like event frames [N, num_frames, 2, 34, 34] (uint8) from 8x8 images in [0, 1].

    Each digit is upsampled by 3 to 24x24, zero-padded to 34x34 and moved one pixel per frame along a
    triangle of three saccades (as N-MNIST's camera does). A pixel that brightens emits an ON event
    (channel 0) and one that darkens an OFF event (channel 1), with probability equal to the change,
    plus sparse background noise.
    """
    rng = np.random.default_rng(seed)
    canvas = np.pad(np.kron(images, np.ones((3, 3))), ((0, 0), (5, 5), (5, 5)))  # [N, 34, 34]
    saccades = [(1, 0), (0, 1), (-1, -1)]
    moves = [saccades[3 * t // num_frames] for t in range(num_frames)]
    dy, dx = -2, -2
    previous = np.roll(canvas, (dy, dx), axis=(1, 2))
    frames = np.zeros((len(images), num_frames, 2, 34, 34), dtype=np.uint8)
    for t, (my, mx) in enumerate(moves):
        dy, dx = dy + my, dx + mx
        current = np.roll(canvas, (dy, dx), axis=(1, 2))
        change = current - previous
        frames[:, t, 0] = rng.random(change.shape) < np.clip(change, 0, 1) + 0.002
        frames[:, t, 1] = rng.random(change.shape) < np.clip(-change, 0, 1) + 0.002
        previous = current
    return frames


def pad_tensors_time_first(batch):
    """Stands in for tonic.collation.PadTensors(batch_first=False): [T, B, 2, 34, 34] events, [B] targets."""
    events = torch.stack([sample for sample, _ in batch], dim=1).float()
    targets = torch.stack([target for _, target in batch])
    return events, targets


digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)
labels = digits.target.astype(np.int64)
x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=384, random_state=0, stratify=labels)
trainset = TensorDataset(torch.from_numpy(make_event_digits(x_train, num_frames, seed=0)), torch.from_numpy(y_train))
testset = TensorDataset(torch.from_numpy(make_event_digits(x_test, num_frames, seed=1)), torch.from_numpy(y_test))

batch_size = 64
trainloader = DataLoader(trainset, batch_size=batch_size, collate_fn=pad_tensors_time_first, shuffle=True, drop_last=True)
testloader = DataLoader(testset, batch_size=batch_size, collate_fn=pad_tensors_time_first)

event_tensor, target = next(iter(trainloader))
print(event_tensor.shape)

import snnax_torchlike.snntorch as snn
from snnax_torchlike.snntorch import surrogate
from snnax_torchlike.snntorch import functional as SF
from snnax_torchlike.snntorch import utils
from snnax_torchlike import nn
from snnax_torchlike import optim

device = torch.device("cuda") if torch.cuda.is_available() else torch.device("mps") if torch.backends.mps.is_available() else torch.device("cpu")

# neuron and simulation parameters
spike_grad = surrogate.atan()
beta = 0.5

#  Initialize Network
net = nn.Sequential(nn.Conv2d(2, 12, 5),
                    nn.MaxPool2d(2),
                    snn.Leaky(beta=beta, spike_grad=spike_grad, init_hidden=True),
                    nn.Conv2d(12, 32, 5),
                    nn.MaxPool2d(2),
                    snn.Leaky(beta=beta, spike_grad=spike_grad, init_hidden=True),
                    nn.Flatten(),
                    nn.Linear(32*5*5, 10),
                    snn.Leaky(beta=beta, spike_grad=spike_grad, init_hidden=True, output=True)
                    ).to(device)

# this time, we won't return membrane as we don't need it

def forward_pass(net, data):
  spk_rec = []
  utils.reset(net)  # resets hidden states for all LIF neurons in net

  for step in range(data.size(0)):  # data.size(0) = number of time steps
      spk_out, mem_out = net(data[step])
      spk_rec.append(spk_out)

  return torch.stack(spk_rec)

optimizer = optim.Adam(net.parameters(), lr=2e-2, betas=(0.9, 0.999))
loss_fn = SF.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2)

num_epochs = 3 if quick else 10
num_iters = 50

loss_hist = []
acc_hist = []

# training loop
for epoch in range(num_epochs):
    for i, (data, targets) in enumerate(iter(trainloader)):
        data = data.to(device)
        targets = targets.to(device)

        net.train()
        spk_rec = forward_pass(net, data)
        loss_val = loss_fn(spk_rec, targets)

        # Gradient calculation + weight update
        optimizer.zero_grad()
        loss_val.backward()
        optimizer.step()

        # Store loss history for future plotting
        loss_hist.append(loss_val.item())

        print(f"Epoch {epoch}, Iteration {i} \nTrain Loss: {loss_val.item():.2f}")

        acc = SF.accuracy_rate(spk_rec, targets)
        acc_hist.append(acc)
        print(f"Accuracy: {acc * 100:.2f}%\n")

        # training loop breaks after 50 iterations
        if i == num_iters:
          break

# test-set accuracy, as tutorial 6's batch_accuracy
def test_accuracy(data_loader, net):
  with torch.no_grad():
    total = 0
    acc = 0
    net.eval()

    data_loader = iter(data_loader)
    for data, targets in data_loader:
      data = data.to(device)
      targets = targets.to(device)
      spk_rec = forward_pass(net, data)

      acc += SF.accuracy_rate(spk_rec, targets) * spk_rec.size(1)
      total += spk_rec.size(1)

  return acc/total

test_acc = test_accuracy(testloader, net)
print(f"The total accuracy on the test set is: {test_acc * 100:.2f}%")
print(f"FINAL_TEST_ACCURACY={test_acc}")
