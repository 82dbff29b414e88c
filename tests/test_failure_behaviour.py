"""Faults in training: NaN guard, Ctrl-C, corrupted checkpoints, and a SIGKILL followed by a resume."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

ROOT = Path(__file__).resolve().parents[1]


def _net():
    snx.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 12), nn.Leaky(beta=0.9), nn.Linear(12, 3), nn.Leaky(beta=0.9))


def _batches(n, bad=None):
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        x = (rng.random((10, 8, 5)) < 0.5).astype(np.float32)
        if i == bad:
            x[3, 2, 1] = np.nan
        out.append((x, rng.integers(0, 3, 8).astype(np.int32)))
    return out


def _fit(net, batches, **kwargs):
    return net.fit(batches, optimizer=optim.Adam(net.parameters(), lr=1e-2), loss_fn=SF.ce_rate_loss(), progress=False,
                   **kwargs)  # fmt: skip


def _weights(net):
    return {k: np.asarray(v) for k, v in net.state_dict().items()}


def test_nan_guard_stops_with_the_last_good_parameters():
    reference = _net()
    _fit(reference, _batches(3))
    net = _net()
    with pytest.raises(snx.NonFiniteError, match=r"step 3 .*the input batch \(NaN or Inf\) first.*last good step"):
        _fit(net, _batches(6, bad=3))
    for key, value in _weights(reference).items():
        np.testing.assert_array_equal(_weights(net)[key], value)
        assert np.all(np.isfinite(_weights(net)[key]))


def test_nan_guard_stops_the_epoch_within_two_log_intervals():
    class CountSteps(snx.Callback):
        def __init__(self):
            self.steps = 0

        def on_train_batch_end(self, trainer, batch_index, loss):
            self.steps += 1

    counter = CountSteps()
    net = _net()
    with pytest.raises(snx.NonFiniteError, match=r"step 3 .*the input batch"):
        snx.Trainer(net, optim.Adam(net.parameters(), lr=1e-2), SF.ce_rate_loss(), callbacks=[counter],
                    progress=False, log_every_n_steps=2).fit(_batches(20, bad=3))  # fmt: skip
    # Step 3 fails; the log point at step 4 records its guard, and the one at step 6 reads it and stops.
    assert counter.steps == 7


@pytest.mark.parametrize(
    ("values", "finite"),
    [([1.0, 2.0], True), ([3e38, 3e38], True), ([1.0, np.inf], False), ([np.inf, -np.inf], False),
     ([np.nan, 1.0], False), ([-3e38, np.nan], False)],
)  # fmt: skip
def test_input_check_is_exact_when_the_sum_overflows(values, finite):
    from snnax_torchlike.train.trainer import _all_finite

    x = np.zeros((4, 3, 5), np.float32)
    x[1, 2, 3], x[2, 0, 1] = values  # a sum of 6e38 overflows to Inf although every element is finite
    assert bool(_all_finite(x)) is finite


def test_nan_guard_names_a_parameter_gradient_and_can_be_disabled():
    net = _net()
    net[0].weight.data = net[0].weight.data.at[0, 0].set(np.inf)
    with pytest.raises(snx.NonFiniteError, match=r"step 0 .*(the loss|the gradient of 0\.weight) first"):
        _fit(net, _batches(2))
    unguarded = _net()
    _fit(unguarded, _batches(5, bad=1), terminate_on_nan=False)  # the user asked for no guard: NaNs spread
    assert not np.all(np.isfinite(_weights(unguarded)["0.weight"]))


def test_out_of_range_labels_stop_training_before_they_do_harm():
    reference = _net()
    _fit(reference, _batches(2))
    net = _net()
    batches = _batches(4)
    batches[2] = (batches[2][0], np.full(8, 3, np.int32))  # 3 outputs: labels must lie in 0..2
    with pytest.raises(snx.NonFiniteError, match=r"step 2 .*the targets \(class labels outside"):
        _fit(net, batches)
    for key, value in _weights(reference).items():
        np.testing.assert_array_equal(_weights(net)[key], value)


def test_gradient_norm_logging():
    history = _fit(_net(), _batches(3), epochs=2, log_grad_norm=True)
    assert len(history["grad_norm"]) == 2 and all(np.isfinite(history["grad_norm"])) and history["grad_norm"][0] > 0


class _InterruptAt(snx.Callback):
    def __init__(self, batch):
        self.batch = batch

    def on_train_batch_end(self, trainer, index, loss):
        if trainer.current_epoch == 1 and index == self.batch:
            raise KeyboardInterrupt


def test_keyboard_interrupt_keeps_the_last_completed_step():
    reference = _net()
    adam = optim.Adam(reference.parameters(), lr=1e-2)
    for batches in (_batches(4), _batches(4)[:3]):  # epoch 2 was cut after its third step (index 2)
        reference.fit(batches, optimizer=adam, loss_fn=SF.ce_rate_loss(), progress=False)
    net = _net()
    history = _fit(net, _batches(4), epochs=3, callbacks=[_InterruptAt(2)])
    assert history.epoch == [0]
    for key, value in _weights(reference).items():
        np.testing.assert_allclose(_weights(net)[key], value, atol=1e-6)


def test_corrupted_truncated_and_foreign_checkpoints_raise(tmp_path):
    net = _net()
    path = tmp_path / "w.safetensors"
    snx.save(net, path)
    assert snx.load(path).keys() == net.state_dict().keys()
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # flip bits inside the last tensor's data
    (tmp_path / "flipped.safetensors").write_bytes(bytes(data))
    with pytest.raises(snx.CheckpointError, match="checksum mismatch"):
        snx.load(tmp_path / "flipped.safetensors")
    (tmp_path / "short.safetensors").write_bytes(path.read_bytes()[:-40])
    with pytest.raises(snx.CheckpointError, match="not a readable safetensors file"):
        snx.load(tmp_path / "short.safetensors")
    (tmp_path / "foreign.safetensors").write_bytes(os.urandom(300))
    with pytest.raises(snx.CheckpointError):
        snx.load(tmp_path / "foreign.safetensors")


_KILLED_RUN = """
import os, signal, sys
import numpy as np
import snnax_torchlike as snx
from snnax_torchlike import nn, optim, functional as SF
sys.path.insert(0, {tests!r})
from test_failure_behaviour import _batches, _net

class KillMidEpoch(snx.Callback):
    def on_train_batch_end(self, trainer, index, loss):
        if trainer.current_epoch == 2 and index == 1:
            os.kill(os.getpid(), signal.SIGKILL)

net = _net()
net.fit(_batches(4), epochs=4, optimizer=optim.Adam(net.parameters(), lr=1e-2), loss_fn=SF.ce_rate_loss(),
        progress=False, seed=7, callbacks=[snx.ModelCheckpoint({ckpt!r}, keep_last=2), KillMidEpoch()])
"""


def test_sigkill_mid_epoch_then_resume_ends_at_the_uninterrupted_result(tmp_path):
    ckpt = tmp_path / "ckpts"
    script = textwrap.dedent(_KILLED_RUN.format(tests=str(ROOT / "tests"), ckpt=str(ckpt)))
    result = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == -9, result.stderr[-2000:]
    assert sorted(p.name for p in ckpt.iterdir()) == ["epoch-0000.safetensors", "epoch-0001.safetensors"]

    uninterrupted = _net()
    _fit(uninterrupted, _batches(4), epochs=4, seed=7)
    resumed = _net()
    history = _fit(resumed, _batches(4), epochs=4, seed=7, resume=ckpt / "epoch-0001.safetensors")
    assert history.epoch == [0, 1, 2, 3]
    for key, value in _weights(uninterrupted).items():
        np.testing.assert_allclose(_weights(resumed)[key], value, atol=1e-6)
