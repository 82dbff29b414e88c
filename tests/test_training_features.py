"""Checkpoints and resume, schedulers and gradient accumulation in fit, fast_dev_run, snx.compile."""

import jax.numpy as jnp
import numpy as np
import pytest
import safetensors.torch
import torch

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

T, FEATURES, CLASSES = 8, 12, 3


def _batches(count=6, size=16, seed=0):
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(count):
        y = rng.integers(0, CLASSES, size).astype(np.int32)
        rates = 0.1 + 0.6 * (np.arange(FEATURES)[None, :] % CLASSES == y[:, None])
        x = (rng.random((T, size, FEATURES)) < rates[None]).astype(np.float32)
        batches.append((x, y))
    return batches


def _net(seed=3):
    snx.manual_seed(seed)
    return nn.Sequential(nn.Linear(FEATURES, 16), nn.Leaky(beta=0.9), nn.Linear(16, CLASSES), nn.Leaky(beta=0.8))


def _train(epochs, ckpt_path=None, callbacks=(), seed=3):
    net = _net(seed)
    optimizer = optim.Adam(net.parameters(), lr=1e-2)
    trainer = snx.Trainer(net, optimizer, SF.ce_rate_loss(), metrics=[SF.accuracy_rate], callbacks=callbacks,
                          progress=False)  # fmt: skip
    history = trainer.fit(_batches(), epochs=epochs, val_loader=_batches(2, seed=1), seed=11, ckpt_path=ckpt_path)
    return net, optimizer, history


def test_resume_from_checkpoint_equals_uninterrupted_run(tmp_path):
    full_net, full_optimizer, full_history = _train(4)
    checkpoints = snx.ModelCheckpoint(str(tmp_path), keep_last=2)
    _train(2, callbacks=[checkpoints])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-0000.safetensors", "epoch-0001.safetensors"]
    resumed_net, resumed_optimizer, resumed_history = _train(4, ckpt_path=checkpoints.last_path, seed=99)
    for name, value in full_net.state_dict().items():
        np.testing.assert_allclose(resumed_net.state_dict()[name], value, rtol=1e-6, atol=1e-7)
    assert resumed_history.history.keys() == full_history.history.keys()
    for name, values in full_history.history.items():
        assert resumed_history[name] == pytest.approx(values, rel=1e-5)
    np.testing.assert_allclose(
        np.asarray(resumed_optimizer.state.inner_state[1][0].mu[0]),
        np.asarray(full_optimizer.state.inner_state[1][0].mu[0]),
        rtol=1e-6,
    )



def test_model_checkpoint_after_a_restart_counts_old_files_and_removes_stale_temporaries(tmp_path):
    _train(2, callbacks=[snx.ModelCheckpoint(str(tmp_path), keep_last=3)])
    # temporaries of ModelCheckpoint's own files, whether or not it writes that file again
    stale = [tmp_path / f".{name}.safetensors.tmp-k1ll3d.safetensors" for name in ("epoch-0002", "epoch-0009", "best")]
    unrelated = [tmp_path / "notes.txt", tmp_path / ".other.safetensors.tmp-y.safetensors"]
    for path in stale + unrelated:
        path.write_bytes(b"half a file")
    checkpoints = snx.ModelCheckpoint(str(tmp_path), keep_last=2, monitor="val_loss", mode="max")
    _, _, history = _train(4, ckpt_path=tmp_path / "epoch-0001.safetensors", callbacks=[checkpoints])
    names = sorted(p.name for p in tmp_path.iterdir() if p not in unrelated and p.name != "best.safetensors")
    assert names == ["epoch-0002.safetensors", "epoch-0003.safetensors"]
    assert all(path.exists() for path in unrelated)
    assert checkpoints.last_path == str(tmp_path / "epoch-0003.safetensors")
    assert checkpoints.best == max(history["val_loss"])  # the restored epochs count too


def test_weights_file_is_torch_readable_and_loads_back(tmp_path):
    net = _net()
    path = tmp_path / "weights.safetensors"
    net.save(str(path))
    torch_sd = safetensors.torch.load_file(str(path))
    assert set(torch_sd) == set(net.state_dict())
    assert torch_sd["0.weight"].shape == torch.Size([16, FEATURES])
    other = _net(seed=5)
    other.load_state_dict(snx.load(str(path)))
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[name], value)
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(snx.CheckpointError, match="not a readable safetensors file"):
        snx.load(str(tmp_path / "junk.safetensors"))
    trainer = snx.Trainer(net, optim.Adam(net.parameters()), SF.ce_rate_loss(), progress=False)
    with pytest.raises(snx.CheckpointError, match="not an snnax-torchlike training checkpoint"):
        trainer.fit(_batches(1), epochs=2, ckpt_path=str(path))


def test_scheduler_and_accumulation_inside_fit():
    net = _net()
    optimizer = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = snx.Trainer(net, optimizer, SF.ce_rate_loss(), progress=False).fit(
        _batches(2), epochs=3, scheduler=scheduler
    )
    assert optimizer.lr == pytest.approx(0.1 * 0.5**3)
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])

    one_cycle_net = _net()
    one_cycle_optimizer = optim.Adam(one_cycle_net.parameters(), lr=1e-3)
    one_cycle = optim.lr_scheduler.OneCycleLR(one_cycle_optimizer, max_lr=0.05, total_steps=7)
    snx.Trainer(one_cycle_net, one_cycle_optimizer, SF.ce_rate_loss(), progress=False).fit(
        _batches(3), epochs=2, scheduler=one_cycle
    )
    assert one_cycle.last_epoch == 6

    # Accumulating 2 batches of 16 equals one update on the mean gradient: compare with
    # plain SGD on the concatenated batch of 32 (the per-batch losses are means).
    batches = _batches(2)
    accumulated, single = _net(), _net()
    snx.Trainer(accumulated, optim.SGD(accumulated.parameters(), lr=0.5), SF.ce_rate_loss(), progress=False).fit(
        batches, epochs=1, accumulate_grad_batches=2
    )
    merged = [(np.concatenate([b[0] for b in batches], axis=1), np.concatenate([b[1] for b in batches]))]
    snx.Trainer(single, optim.SGD(single.parameters(), lr=0.5), SF.ce_rate_loss(), progress=False).fit(merged)
    for name, value in single.state_dict().items():
        np.testing.assert_allclose(accumulated.state_dict()[name], value, rtol=1e-4, atol=1e-6)
    assert not np.allclose(single.state_dict()["0.weight"], _net().state_dict()["0.weight"])


def test_fast_dev_run_runs_one_batch():
    seen = []

    class Counter(snx.Callback):
        def on_train_batch_end(self, trainer, batch_index, loss):
            seen.append(batch_index)

    net = _net()
    history = snx.Trainer(
        net, optim.Adam(net.parameters()), SF.ce_rate_loss(), callbacks=[Counter()], progress=False
    ).fit(_batches(), epochs=10, val_loader=_batches(3), fast_dev_run=True)
    assert seen == [0] and len(history["loss"]) == 1 and "val_loss" in history.history


def _spiking_net():
    net = _net()
    for layer in (net[0], net[2]):
        layer.weight.data = jnp.abs(layer.weight.data) * 3.0  # excitatory: the output spikes
    return net


def test_compile_reads_current_parameters():
    net = _spiking_net()
    x = jnp.asarray(_batches(1)[0][0])

    @snx.compile
    def spike_counts(inputs):
        spk, _ = net(inputs)
        return spk.sum(0)

    eager_spk, _ = net(x)
    assert float(eager_spk.sum()) > 0
    np.testing.assert_array_equal(np.asarray(spike_counts(x)), np.asarray(eager_spk.sum(0)))
    net[2].weight.data = net[2].weight.data * 0.0 - 5.0  # silence the output layer
    assert float(spike_counts(x).sum()) == 0.0  # not a stale constant

    as_argument = snx.compile(lambda module, inputs: module(inputs)[0].sum())
    other = _spiking_net()
    assert float(as_argument(other, x)) == float(other(x)[0].sum()) > 0.0
