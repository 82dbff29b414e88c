"""Variable-length sequences: `(x, y, lengths)` batches, padded time steps that do not count, clear errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import interop, nn, optim

FEATURES, CLASSES, PADDED = 6, 3, 12
LENGTHS = (9, 4, 12, 1, 7)  # one sample fills the padded length, one has a single step


def _net():
    snx.manual_seed(3)
    return nn.Sequential(
        nn.Linear(FEATURES, 16), nn.Leaky(beta=0.8), nn.Linear(16, CLASSES), nn.Leaky(beta=0.8, threshold=0.5)
    )


def _sequences(seed=0):
    """Unpadded samples ``x_b`` ``[T_b, FEATURES]`` (rate-coded, dense enough to spike) and labels ``[B]``."""
    rng = np.random.default_rng(seed)
    xs = [(rng.random((steps, FEATURES)) < 0.5).astype(np.float32) * 2.0 for steps in LENGTHS]
    return xs, rng.integers(0, CLASSES, len(LENGTHS)).astype(np.int32)


def _padded(xs, labels, batch_size):
    """Time-first ``(x [PADDED, B, F], y [B], lengths [B])`` batches, zeros after each sample's end."""
    batches = []
    for start in range(0, len(xs), batch_size):
        part = xs[start : start + batch_size]
        x = np.stack([np.pad(sample, ((0, PADDED - len(sample)), (0, 0))) for sample in part], axis=1)
        lengths = np.array([len(sample) for sample in part], np.int64)
        batches.append((x, labels[start : start + batch_size], lengths))
    return batches


def spike_count(spk, targets):
    """A user metric without a ``lengths`` argument: it sees the trainer's zeroed outputs."""
    return jnp.mean(jnp.sum(spk, axis=(0, 2)))


LOSSES = [
    SF.ce_rate_loss(),
    SF.ce_count_loss(),
    SF.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2),
    SF.mse_membrane_loss(on_target=1.0, off_target=-0.5),
    SF.ce_max_membrane_loss(),
]


@pytest.mark.parametrize("loss_fn", LOSSES, ids=lambda loss: type(loss).__name__)
def test_evaluate_on_a_padded_batch_equals_the_unpadded_sequences(loss_fn):
    xs, labels = _sequences()
    net = _net()
    metrics = [SF.accuracy_rate, spike_count]
    # 3 + 2 samples: the second batch is also padded along the batch axis (and masked)
    results = net.evaluate(_padded(xs, labels, batch_size=3), loss_fn=loss_fn, metrics=metrics)
    per_sample = [
        net.evaluate([(x[:, None], labels[b : b + 1])], loss_fn=loss_fn, metrics=metrics) for b, x in enumerate(xs)
    ]
    assert set(results) == {"loss", "accuracy_rate", "spike_count"}
    for name in results:
        assert results[name] == pytest.approx(np.mean([r[name] for r in per_sample]), rel=1e-5, abs=1e-6), name
    assert results["spike_count"] > 1.0  # the network spikes: counts and accuracy are not trivially 0
    # Without lengths the padded steps count (the comparison above can fail): the decaying tail changes the loss.
    unmasked = net.evaluate([(x, y) for x, y, _ in _padded(xs, labels, 3)], loss_fn=loss_fn, metrics=metrics)
    if not isinstance(loss_fn, SF.ce_count_loss):  # zero inputs after the end add (almost) no spikes
        assert unmasked["loss"] != pytest.approx(results["loss"], rel=1e-3)


def test_one_training_step_on_a_padded_batch_equals_the_unpadded_sequences():
    xs, labels = _sequences(seed=1)
    loss_fn = SF.ce_rate_loss()  # a mean over time: padded steps would change it
    padded_net = _net()
    initial = {name: np.asarray(p.data) for name, p in padded_net.named_parameters()}
    trainer = snx.Trainer(padded_net, optim.SGD(padded_net.parameters(), lr=0.5), loss_fn, progress=False)
    padded = trainer.fit(_padded(xs, labels, batch_size=len(xs)), epochs=1)
    # the same step from the unpadded samples: one batch each, gradients averaged over all of them, one update
    net = _net()
    unpadded = net.fit([(x[:, None], labels[b : b + 1]) for b, x in enumerate(xs)], epochs=1,
                       optimizer=optim.SGD(net.parameters(), lr=0.5), loss_fn=loss_fn,
                       accumulate_grad_batches=len(xs), progress=False)  # fmt: skip
    assert padded["loss"][0] == pytest.approx(unpadded["loss"][0], rel=1e-5)
    changed = False
    for (name, p), (_, q) in zip(padded_net.named_parameters(), net.named_parameters()):
        np.testing.assert_allclose(np.asarray(p.data), np.asarray(q.data), rtol=1e-5, atol=1e-6, err_msg=name)
        changed |= not np.allclose(np.asarray(p.data), initial[name])
    assert changed  # the step did update the weights


def test_lengths_are_data_one_compiled_step_and_predict_zeroes_padding():
    xs, labels = _sequences()
    batches = _padded(xs, labels, batch_size=3)
    net = _net()
    trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=1e-3), SF.ce_rate_loss(), progress=False)
    reshuffled = [(x, y, lengths[::-1].copy()) for x, y, lengths in batches]  # other lengths, same shapes
    trainer.fit(batches + reshuffled, epochs=2)
    assert trainer.trace_count == 1
    spk, mem = trainer.predict(batches)
    assert spk.shape == mem.shape == (PADDED, len(xs), CLASSES)
    for b, x in enumerate(xs):
        spk_b, mem_b = net(x[:, None])
        np.testing.assert_allclose(np.asarray(mem[: len(x), b]), np.asarray(mem_b[:, 0]), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(spk[: len(x), b]), np.asarray(spk_b[:, 0]))
        assert not np.any(np.asarray(spk[len(x) :, b])) and not np.any(np.asarray(mem[len(x) :, b]))
    spk_pairs, mem_pairs = trainer.predict([(x, y) for x, y, _ in batches])  # without lengths: nothing zeroed
    assert np.any(np.asarray(mem_pairs[LENGTHS[0] :, 0]))


class EventFrames(torch.utils.data.Dataset):
    """Tonic-style samples: int16 event counts ``[T_i, 2, 4, 4]`` of length 3..16, and a label."""

    def __init__(self, count=64, seed=0):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 2, count)
        self.frames = []
        for label in self.labels:
            rate = np.full((2, 4, 4), 0.05)
            rate[label] += 0.5  # class 0 fires on polarity 0, class 1 on polarity 1
            steps = int(rng.integers(3, 17))
            self.frames.append(((rng.random((steps, 2, 4, 4)) < rate) * rng.integers(1, 3)).astype(np.int16))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return torch.from_numpy(self.frames[index]), int(self.labels[index])


def _event_net():
    snx.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(32, 16), nn.Leaky(beta=0.8), nn.Linear(16, 2), nn.Leaky(beta=0.8))


def test_fit_on_a_dataloader_with_collate_padded_learns_with_lengths():
    dataset = EventFrames()
    loader = torch.utils.data.DataLoader(dataset, batch_size=12, shuffle=True, collate_fn=interop.collate_padded(16))
    frames, _, lengths = next(iter(loader))  # collate_padded: batch-first frames and the true lengths
    assert frames.shape[:2] == (12, 16) and lengths.shape == (12,) and int(lengths.min()) < 16
    net = _event_net()
    trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=1e-2), SF.ce_rate_loss(), metrics=[SF.accuracy_rate],
                          progress=False)  # fmt: skip
    history = trainer.fit(loader, epochs=4, time_first=False)  # (x [B, T, ...], y, lengths) straight from torch
    assert trainer.trace_count == 1  # 5 full batches and a short last one, all lengths: one compiled step
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy_rate"][-1] > 0.8
    # the bridge with keep_lengths=True yields time-first (x, y, lengths): the same results as the raw loader
    ordered = torch.utils.data.DataLoader(dataset, batch_size=12, collate_fn=interop.collate_padded(16))
    direct = trainer.evaluate(ordered, time_first=False)
    bridged = trainer.evaluate(interop.torch_loader(ordered, keep_lengths=True))
    assert bridged == pytest.approx(direct, rel=1e-6)
    without = trainer.evaluate(interop.torch_loader(ordered))  # lengths dropped: padded steps count
    assert without["loss"] != pytest.approx(direct["loss"], rel=1e-3)


def test_bad_lengths_raise_before_any_step():
    xs, labels = _sequences()
    (x, y, lengths), (x2, y2, lengths2) = _padded(xs, labels, batch_size=3)
    net = _net()
    trainer = snx.Trainer(net, optim.Adam(net.parameters()), SF.ce_rate_loss(), progress=False)
    with pytest.raises(ValueError, match=r"batch 0: lengths must have shape \[B\] = \(3,\).*got shape \(4,\)"):
        trainer.fit([(x, y, np.array([9, 4, 12, 1]))])
    with pytest.raises(ValueError, match=r"lengths must have shape \[B\] = \(3,\).*got shape \(3, 1\)"):
        trainer.fit([(x, y, lengths[:, None])])
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, T\] = \[1, 12\].*sample 2 has length 13"):
        trainer.fit([(x, y, np.array([9, 4, 13]))])
    with pytest.raises(TypeError, match=r"lengths must be integers.*got dtype float32"):
        trainer.fit([(x, y, lengths.astype(np.float32))])
    with pytest.raises(TypeError, match=r"expected an \(x, y\) pair or an \(x, y, lengths\) triple.*of length 4"):
        trainer.fit([(x, y, lengths, lengths)])
    batch_first = np.swapaxes(x, 0, 1)  # [B, T, ...] read as [T, B, ...]: lengths [3] do not match B = 12
    with pytest.raises(ValueError, match=r"= \(12,\).*got shape \(3,\).*time_first=False"):
        trainer.fit([(batch_first, np.zeros(12, np.int32), lengths)])
    assert trainer.trace_count == 0  # checked on the host: no step was compiled or run
    # a bad later batch raises before its own step (the good first batch has run one)
    with pytest.raises(ValueError, match=r"batch 1: lengths must lie in \[1, T\] = \[1, 12\].*sample 0 has length -1"):
        trainer.fit([(x, y, lengths), (x2, y2, np.array([-1, 7]))])
    with pytest.raises(ValueError, match=r"batch 1: got an \(x, y\) pair without lengths but the first batch carried"):
        trainer.fit([(x, y, lengths), (x2, y2)])
    with pytest.raises(ValueError, match=r"batch 1: got lengths but the first batch was an \(x, y\) pair"):
        trainer.fit([(x, y), (x2, y2, lengths2)])
    with pytest.raises(ValueError, match=r"sample 1 has length 20"):
        trainer.evaluate([(x, y, np.array([1, 20, 3]))])
    with pytest.raises(ValueError, match=r"lengths must have shape \[B\] = \(3,\)"):
        trainer.predict([(x, y, np.array([1, 2]))])


@pytest.mark.parametrize("loss_fn", LOSSES, ids=lambda loss: type(loss).__name__)
def test_loss_functions_check_their_lengths(loss_fn):
    name = type(loss_fn).__name__
    out = jnp.ones((5, 3, CLASSES))
    y = jnp.array([0, 1, 2])
    with pytest.raises(ValueError, match=rf"{name}: lengths must have shape \[B\] = \(3,\).*got shape \(2,\)"):
        loss_fn(out, y, lengths=np.array([1, 2]))
    with pytest.raises(ValueError, match=rf"{name}: lengths must lie in \[0, T\] = \[0, 5\].*sample 0 has length -1"):
        loss_fn(out, y, lengths=np.array([-1, 6, 2]))
    with pytest.raises(TypeError, match=rf"{name}: lengths must be integers.*float32"):
        loss_fn(out, y, lengths=np.array([1.0, 2.0, 3.0], np.float32))
    traced = jax.jit(lambda lengths: loss_fn(out, y, lengths=lengths))
    assert np.isnan(float(traced(np.array([1, 6, 2], np.int32))))  # traced: NaN, never a silently wrong loss
    assert np.isfinite(float(traced(np.array([0, 5, 2], np.int32))))
    # full lengths are the snnTorch loss; the positional snnTorch call is unchanged
    full = float(loss_fn(out * 0.3, y, lengths=np.full(3, 5)))
    assert full == pytest.approx(float(loss_fn(out * 0.3, y)), rel=1e-6)
