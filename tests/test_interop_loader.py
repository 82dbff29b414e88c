"""The torch DataLoader bridge with a real DataLoader over generated, tonic-style event frames."""

import warnings

import jax
import numpy as np
import pytest
import torch

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import interop, nn, optim


class EventFrames(torch.utils.data.Dataset):
    """Tonic-style samples: int16 event counts [T_i, 2, 6, 6] of varying length, and a label."""

    def __init__(self, count=48, seed=0):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 2, count)
        self.frames = []
        for label in self.labels:
            steps = int(rng.integers(8, 15))
            rate = np.full((2, 6, 6), 0.05)
            rate[label] += 0.4  # class 0 fires on polarity 0, class 1 on polarity 1
            self.frames.append(((rng.random((steps, 2, 6, 6)) < rate) * rng.integers(1, 3)).astype(np.int16))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return torch.from_numpy(self.frames[index]), int(self.labels[index])


def test_collate_pads_and_bridge_gives_time_first_device_batches():
    dataset = EventFrames()
    loader = torch.utils.data.DataLoader(dataset, batch_size=8, collate_fn=interop.collate_padded(pad_to=16))
    frames, labels, lengths = next(iter(loader))
    assert frames.shape == (8, 16, 2, 6, 6) and frames.dtype == torch.int16
    for i in range(8):
        np.testing.assert_array_equal(frames[i, : lengths[i]].numpy(), dataset.frames[i])
        assert int(frames[i, lengths[i] :].abs().sum()) == 0
    batches = list(interop.torch_loader(loader))
    assert len(batches) == 6
    x, y = batches[0]
    assert isinstance(x, jax.Array) and x.shape == (16, 8, 2, 6, 6) and x.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(x), np.swapaxes(frames.numpy(), 0, 1).astype(np.float32))
    np.testing.assert_array_equal(np.asarray(y), labels.numpy())
    x, y, kept = next(iter(interop.torch_loader(loader, keep_lengths=True, prefetch=0)))
    np.testing.assert_array_equal(np.asarray(kept), lengths.numpy())


def test_padding_in_the_bridge_and_clear_errors():
    dataset = EventFrames()
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, collate_fn=interop.collate_padded())  # batch max
    shapes = {tuple(x.shape) for x, _ in interop.torch_loader(loader, pad_time_to=20)}
    assert shapes == {(20, 4, 2, 6, 6)}
    with pytest.raises(ValueError, match="more than the padded length 10"):
        list(interop.torch_loader(loader, pad_time_to=10))
    with pytest.raises(TypeError, match=r"expected \(x, y\) or \(x, y, lengths\)"):
        list(interop.torch_loader([torch.zeros(2, 3)]))


def test_fit_on_a_bridged_dataloader_with_workers_compiles_once():
    dataset = EventFrames(count=64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # JAX's os.fork() warning: workers here run torch code only
        loader = torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=True, num_workers=2,
                                             collate_fn=interop.collate_padded(pad_to=16))  # fmt: skip
        snx.manual_seed(0)
        net = nn.Sequential(nn.Flatten(), nn.Linear(72, 16), nn.Leaky(beta=0.8), nn.Linear(16, 2), nn.Leaky(beta=0.8))
        trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=1e-2), SF.ce_rate_loss(),
                              metrics=[SF.accuracy_rate], progress=False)  # fmt: skip
        history = trainer.fit(interop.torch_loader(loader), epochs=4)
    assert trainer.trace_count == 1
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy_rate"][-1] > 0.8


def test_prefetch_keeps_order_and_reraises_errors():
    items = [(np.full((3, 2, 4), float(i), np.float32), np.array([i, i, i])) for i in range(7)]
    out = [int(np.asarray(x)[0, 0, 0]) for x, _ in interop.torch_loader(items, prefetch=3)]
    assert out == list(range(7))

    def broken():
        yield items[0]
        raise RuntimeError("dataset failed")

    with pytest.raises(RuntimeError, match="dataset failed"):
        list(interop.torch_loader(broken(), prefetch=2))
