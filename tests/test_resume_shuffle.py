"""Resuming ``fit`` with a shuffling torch DataLoader: the warning, and that its advice gives the uninterrupted run."""

import warnings

import numpy as np
import pytest
import torch

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

_DATA = torch.utils.data.TensorDataset(
    torch.from_numpy((np.random.default_rng(0).random((16, 4, 5)) < 0.4).astype(np.float32)),  # [B, T, F]
    torch.from_numpy(np.random.default_rng(1).integers(0, 3, 16)),
)


def _trainer(callbacks=()):
    snx.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.Leaky(beta=0.9), nn.Linear(8, 3), nn.Leaky(beta=0.8))
    return snx.Trainer(net, optim.Adam(net.parameters(), lr=1e-2), SF.ce_rate_loss(), progress=False,
                       callbacks=list(callbacks))  # fmt: skip


class _ReseedEveryEpoch(snx.Callback):
    def __init__(self, loader):
        self.loader = loader

    def on_train_epoch_start(self, trainer, epoch):
        self.loader.generator.manual_seed(7 + epoch)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("resume") / "epoch0.safetensors"
    trainer = _trainer()
    trainer.fit(torch.utils.data.DataLoader(_DATA, batch_size=8), epochs=1, time_first=False, seed=1)
    trainer.save_checkpoint(path)
    return path


def _resume_warnings(loader, path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _trainer().fit(loader, epochs=2, time_first=False, seed=1, ckpt_path=path)
    return [str(w.message) for w in caught if "shuffling DataLoader" in str(w.message)]


@pytest.mark.parametrize("generator", [None, torch.Generator().manual_seed(3)], ids=["global_rng", "seeded_once"])
def test_resume_with_a_shuffling_loader_warns(checkpoint, generator):
    loader = torch.utils.data.DataLoader(_DATA, batch_size=8, shuffle=True, generator=generator)
    (message,) = _resume_warnings(loader, checkpoint)
    assert ("global RNG" in message) == (generator is None)
    assert "loader.generator.manual_seed(s + epoch)" in message


def test_resume_without_shuffling_does_not_warn(checkpoint):
    assert _resume_warnings(torch.utils.data.DataLoader(_DATA, batch_size=8), checkpoint) == []
    assert _resume_warnings([(x.numpy(), y.numpy()) for x, y in torch.utils.data.DataLoader(_DATA, batch_size=8)],
                            checkpoint) == []  # fmt: skip


def test_reseeding_every_epoch_resumes_exactly(tmp_path):
    def run(epochs, ckpt_path=None):
        loader = torch.utils.data.DataLoader(_DATA, batch_size=4, shuffle=True, generator=torch.Generator())
        trainer = _trainer([_ReseedEveryEpoch(loader)])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*shuffling DataLoader")
            trainer.fit(loader, epochs=epochs, time_first=False, seed=1, ckpt_path=ckpt_path)
        return trainer

    run(2).save_checkpoint(tmp_path / "epoch1.safetensors")
    torch.manual_seed(123)  # as a fresh process would: torch's global RNG elsewhere
    resumed = run(3, tmp_path / "epoch1.safetensors").model.state_dict()
    uninterrupted = run(3).model.state_dict()
    for name, value in uninterrupted.items():
        np.testing.assert_allclose(np.asarray(resumed[name]), np.asarray(value), atol=1e-6, err_msg=name)
