"""Train a spiking network on scikit-learn's handwritten digits, the PyTorch way.

The 8x8 digit images ship with scikit-learn (no download). Each pixel becomes a
Bernoulli spike train (rate coding, fresh spikes every epoch); a two-layer
network of snnTorch-style leaky neurons learns from the output spike rates with
snnTorch's rate cross-entropy, through ``net.fit``. Every training step is one
jitted JAX function.

    python examples/demo.py            # full run: >= 90% test accuracy
    python examples/demo.py --quick    # a few seconds, for the tests
    python examples/demo.py --precision bf16-mixed   # bfloat16 matmuls, float32 everything else
    python examples/demo.py --tensorboard runs       # also log to TensorBoard (the tensorboard extra)
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim, spikegen, surrogate


class RateCodedDigits:
    """An iterable of ``(spikes [T, B, 64], labels [B])`` batches, like a DataLoader."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, *, steps: int, batch_size: int, shuffle: bool):
        self.images, self.labels = images, labels
        self.steps, self.batch_size, self.shuffle = steps, batch_size, shuffle
        self.rng = np.random.default_rng(0)

    def __len__(self) -> int:
        return -(-len(self.labels) // self.batch_size)

    def __iter__(self):
        order = self.rng.permutation(len(self.labels)) if self.shuffle else np.arange(len(self.labels))
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            yield spikegen.rate(self.images[index], num_steps=self.steps), self.labels[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="passes over the data (default 15, quick 1)")
    parser.add_argument("--quick", action="store_true", help="a tiny run that only checks everything works")
    parser.add_argument("--precision", default="32-true", help="'32-true' (default) or 'bf16-mixed'")
    parser.add_argument("--tensorboard", metavar="DIR", help="log the run to TensorBoard event files in DIR")
    args = parser.parse_args()
    epochs = args.epochs or (1 if args.quick else 15)
    steps = 10 if args.quick else 25
    start = time.perf_counter()

    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int32)
    train_x, test_x, train_y, test_y = train_test_split(images, labels, test_size=0.25, random_state=0, stratify=labels)
    if args.quick:
        train_x, train_y, test_x, test_y = train_x[:256], train_y[:256], test_x[:128], test_y[:128]
    train_loader = RateCodedDigits(train_x, train_y, steps=steps, batch_size=64, shuffle=True)
    test_loader = RateCodedDigits(test_x, test_y, steps=steps, batch_size=128, shuffle=False)

    snx.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(64, 128),
        nn.Leaky(beta=0.9, spike_grad=surrogate.fast_sigmoid(slope=25)),
        nn.Linear(128, 10),
        nn.Leaky(beta=0.9, spike_grad=surrogate.fast_sigmoid(slope=25)),
    )
    optimizer = optim.Adam(net.parameters(), lr=5e-3)
    loss_fn = SF.ce_rate_loss()
    logger = None if args.tensorboard is None else snx.TensorBoardLogger(args.tensorboard)
    net.fit(train_loader, epochs=epochs, optimizer=optimizer, loss_fn=loss_fn, val_loader=test_loader,
            metrics=[SF.accuracy_rate], precision=args.precision, logger=logger, log_every_n_steps=4)  # fmt: skip
    results = net.evaluate(test_loader, loss_fn=loss_fn, metrics=[SF.accuracy_rate], precision=args.precision)

    accuracy = results["accuracy_rate"]
    elapsed = time.perf_counter() - start
    print(
        f"test accuracy: {accuracy:.3f} ({len(train_y)} train / {len(test_y)} test, "
        f"{steps} steps, {epochs} epochs, {args.precision}, {elapsed:.1f} s)"
    )
    if not args.quick and accuracy < 0.9:
        print("accuracy below the promised 90%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
