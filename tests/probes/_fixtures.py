"""Small networks and batches the probes share (a few units, a few time steps)."""

from __future__ import annotations

import numpy as np

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

STEPS, BATCH, FEATURES, CLASSES = 4, 4, 3, 2


def spikes(steps: int = STEPS, batch: int = BATCH, features: int = FEATURES, seed: int = 0) -> np.ndarray:
    """Random float32 spikes ``[steps, batch, features]``."""
    return (np.random.default_rng(seed).random((steps, batch, features)) < 0.5).astype(np.float32)


def labels(batch: int = BATCH, seed: int = 0) -> np.ndarray:
    """Random int32 class labels ``[batch]`` in ``[0, CLASSES)``."""
    return np.random.default_rng(seed).integers(0, CLASSES, batch).astype(np.int32)


def loader(batches: int = 2, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """A list of time-first ``(x, y)`` batches."""
    return [(spikes(seed=seed + i), labels(seed=seed + i)) for i in range(batches)]


def net(seed: int = 0) -> nn.Sequential:
    """``Linear(FEATURES, CLASSES)`` then ``Leaky``."""
    snx.manual_seed(seed)
    return nn.Sequential(nn.Linear(FEATURES, CLASSES), nn.Leaky(beta=0.9))


def trainer(network: nn.Module | None = None, **kwargs) -> snx.Trainer:
    """A quiet ``Trainer`` with Adam and ``ce_rate_loss``."""
    network = network if network is not None else net()
    return snx.Trainer(network, optim.Adam(network.parameters(), lr=1e-2), SF.ce_rate_loss(), progress=False, **kwargs)


def parameters(network: nn.Module) -> dict[str, np.ndarray]:
    """A copy of every array of the network's ``state_dict``."""
    return {k: np.array(v) for k, v in network.state_dict().items()}


def same(a: dict[str, np.ndarray], b: dict[str, np.ndarray], atol: float = 0.0) -> bool:
    """Whether two ``parameters`` copies hold the same keys and values."""
    return a.keys() == b.keys() and all(np.allclose(a[k], b[k], atol=atol, rtol=0) for k in a)
