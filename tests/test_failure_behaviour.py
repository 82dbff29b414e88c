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
from snnax_torchlike.random import get_rng_state
from snnax_torchlike.train import checkpoint
from snnax_torchlike.train.checkpoint import load_training_checkpoint, save_training_checkpoint

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
    from snnax_torchlike.train._steps import all_finite as _all_finite

    x = np.zeros((4, 3, 5), np.float32)
    x[1, 2, 3], x[2, 0, 1] = values  # a sum of 6e38 overflows to Inf although every element is finite
    assert bool(_all_finite(x)) is finite


def test_input_check_allocates_nothing_the_size_of_the_input():
    import jax

    from snnax_torchlike.train._steps import all_finite as _all_finite

    big = jax.ShapeDtypeStruct((2000, 16, 700), np.float32)  # W4's batch: 90 MB
    assert jax.jit(_all_finite).lower(big).compile().memory_analysis().temp_size_in_bytes < 2**20


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


def _training_checkpoint(path, epoch=1, history=None):
    net = _net()
    optimizer = optim.Adam(net.parameters(), lr=1e-2)
    save_training_checkpoint(path, model=net, optimizer_state=optimizer.state, epoch=epoch,
                             rng_state=get_rng_state(), history=history or {"loss": [0.75, 0.5]})  # fmt: skip
    return net, optimizer


def _replaced(data, old, new):
    assert data.count(old) == 1 and len(old) == len(new)
    return data.replace(old, new)


def test_every_edit_of_a_training_checkpoint_raises_naming_file_and_cause(tmp_path):
    path = tmp_path / "train.safetensors"
    net, optimizer = _training_checkpoint(path)
    assert load_training_checkpoint(path, optimizer.state)["history"] == {"loss": [0.75, 0.5]}
    data = path.read_bytes()
    header_end = 8 + int.from_bytes(data[:8], "little")
    edits = {
        "epoch": _replaced(data, b'"epoch":"1"', b'"epoch":"0"'),
        "history": _replaced(data, b"[0.75, 0.5]", b"[0.75, 0.4]"),
        "checksum key": _replaced(data, b'"sha256"', b'"sha257"'),
        "format": _replaced(data, b'"snnax-torchlike"', b'"snnax-torchlikf"'),
        "tensor data": data[:-3] + bytes([data[-3] ^ 0x01]) + data[-2:],
        "first tensor byte": data[:header_end] + bytes([data[header_end] ^ 0x80]) + data[header_end + 1 :],
    }
    # and a single flipped bit every 5 bytes, through the header and the tensors
    edits.update({f"bit at {i}": data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :] for i in range(0, len(data), 5)})
    edited = tmp_path / "edited.safetensors"
    reason = "edited.safetensors: (checksum mismatch|not a readable|an snnax)"
    for content in edits.values():
        edited.write_bytes(content)
        with pytest.raises(snx.CheckpointError, match=reason):
            load_training_checkpoint(edited, optimizer.state)
        with pytest.raises(snx.CheckpointError):
            snx.load(edited)
    edited.write_bytes(edits["epoch"])
    with pytest.raises(snx.CheckpointError, match="checksum mismatch: the file \\(tensors or metadata\\)"):
        _fit(net, _batches(1), epochs=3, resume=edited)


def test_training_checkpoint_with_a_valid_checksum_but_inconsistent_content_raises(tmp_path):
    path = tmp_path / "odd.safetensors"
    with pytest.raises(ValueError, match="history has 1 entries per name; epoch 3 needs 4"):
        _training_checkpoint(path, epoch=3, history={"loss": [0.5]})  # the writer refuses it
    # as another writer could: the epoch changed and the checksum recomputed
    _, optimizer = _training_checkpoint(path)
    tensors, metadata = checkpoint._read(path)
    checkpoint._atomic_save(tensors, path, {**metadata, "epoch": "3"})
    reason = "odd.safetensors: history\\['loss'\\] has 2 entries, .* epoch 3 needs 4"
    with pytest.raises(snx.CheckpointError, match=reason):
        load_training_checkpoint(path, optimizer.state)
    _training_checkpoint(path, epoch=0, history={"loss": ["x"]})
    with pytest.raises(snx.CheckpointError, match="must be a list of numbers"):
        load_training_checkpoint(path, optimizer.state)
    other = optim.SGD(_net().parameters(), lr=0.1, momentum=0.9)
    _training_checkpoint(path)
    with pytest.raises(snx.CheckpointError, match="was it saved with another optimizer"):
        load_training_checkpoint(path, other.state)


def _dropout_net():
    snx.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 12), nn.Dropout(0.3), nn.Leaky(beta=0.9), nn.Linear(12, 3), nn.Leaky(beta=0.9))


def _batches_with_a_short_last_one():
    rng = np.random.default_rng(3)
    return _batches(3) + [((rng.random((10, 3, 5)) < 0.5).astype(np.float32), rng.integers(0, 3, 3).astype(np.int32))]


_KILLED_RUN = """
import os, signal, sys
import numpy as np
import snnax_torchlike as snx
from snnax_torchlike import nn, optim, functional as SF
sys.path.insert(0, {tests!r})
from test_failure_behaviour import _batches_with_a_short_last_one, _dropout_net

class KillAt(snx.Callback):
    def on_train_batch_end(self, trainer, index, loss):
        if (trainer.current_epoch, index) == ({epoch}, {index}):
            os.kill(os.getpid(), signal.SIGKILL)

net = _dropout_net()
net.fit(_batches_with_a_short_last_one(), epochs=4, optimizer=optim.Adam(net.parameters(), lr=1e-2),
        loss_fn=SF.ce_rate_loss(), progress=False, seed=7,
        callbacks=[snx.ModelCheckpoint({ckpt!r}, keep_last=3), KillAt()])
"""


@pytest.mark.parametrize("seed", [0, 1])
def test_sigkill_at_a_random_step_then_resume_ends_at_the_uninterrupted_result(tmp_path, seed):
    # A kill at a random step of epochs 1-3 (Dropout draws keys, the last batch is short and padded):
    # every checkpoint on disk loads, and resuming from the newest ends where an uninterrupted run ends.
    epoch, index = (int(v) for v in np.random.default_rng(seed).integers((1, 0), (4, 4)))
    ckpt = tmp_path / "ckpts"
    script = textwrap.dedent(_KILLED_RUN.format(tests=str(ROOT / "tests"), ckpt=str(ckpt), epoch=epoch, index=index))
    result = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == -9, result.stderr[-2000:]
    files = sorted(ckpt.iterdir())
    assert [p.name for p in files] == [f"epoch-{e:04d}.safetensors" for e in range(max(0, epoch - 3), epoch)]
    for path in files:  # every file a kill left behind is whole
        assert set(snx.load(path)) >= set(_dropout_net().state_dict())

    uninterrupted = _dropout_net()
    _fit(uninterrupted, _batches_with_a_short_last_one(), epochs=4, seed=7)
    resumed = _dropout_net()
    history = _fit(resumed, _batches_with_a_short_last_one(), epochs=4, seed=7, resume=files[-1])
    assert history.epoch == [0, 1, 2, 3]
    for key, value in _weights(uninterrupted).items():
        np.testing.assert_allclose(_weights(resumed)[key], value, atol=1e-6)


def test_files_written_before_the_checksum_covered_the_metadata_still_load(tmp_path):
    """Weights saved by the previous format (a tensors-only SHA-256) load; a changed tensor still raises."""
    import hashlib

    from safetensors.numpy import save_file

    net = nn.Linear(3, 2)
    tensors = {name: np.ascontiguousarray(value) for name, value in net.state_dict().items()}
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(f"{name}|{tensors[name].dtype.str}|{tensors[name].shape}|".encode())
        digest.update(tensors[name].tobytes())
    metadata = {"format": "snnax-torchlike", "kind": "state_dict", "sha256": digest.hexdigest()}
    save_file(tensors, str(tmp_path / "old.safetensors"), metadata=metadata)
    loaded = snx.load(tmp_path / "old.safetensors")
    for name, value in tensors.items():
        np.testing.assert_array_equal(np.asarray(loaded[name]), value)
    save_file({**tensors, "bias": tensors["bias"] + 1}, str(tmp_path / "changed.safetensors"), metadata=metadata)
    with pytest.raises(snx.CheckpointError, match="checksum mismatch"):
        snx.load(tmp_path / "changed.safetensors")
    # A marker no writer produces (as a corrupted new file would show) is refused, not read as the old format.
    save_file(tensors, str(tmp_path / "odd.safetensors"), metadata={**metadata, "checksum_scopf": "x"})
    with pytest.raises(snx.CheckpointError, match="checksum mismatch"):
        snx.load(tmp_path / "odd.safetensors")


def test_resuming_into_another_architecture_names_the_architecture(tmp_path):
    rng = np.random.default_rng(0)
    batch = (rng.random((4, 6, 3), dtype=np.float32), rng.integers(0, 2, 6))
    saved = nn.Sequential(nn.Linear(3, 2), nn.Leaky(beta=0.9))
    trainer = snx.Trainer(saved, optim.Adam(saved.parameters(), lr=1e-2), SF.ce_rate_loss(), progress=False)
    trainer.fit([batch])
    trainer.save_checkpoint(tmp_path / "run.safetensors")
    other = nn.Sequential(nn.Linear(3, 4), nn.Leaky(beta=0.9), nn.Linear(4, 2), nn.Leaky(beta=0.9))
    resumed = snx.Trainer(other, optim.Adam(other.parameters(), lr=1e-2), SF.ce_rate_loss(), progress=False)
    with pytest.raises(snx.CheckpointError, match=r"saved for another network architecture \(this network's "
                                                  r"\['2.bias', '2.weight'.*other shapes: 0.bias: \(2,\) saved, "
                                                  r"\(4,\) here"):  # fmt: skip
        resumed.fit([batch], epochs=2, ckpt_path=tmp_path / "run.safetensors")


def test_checkpoints_get_the_usual_file_mode(tmp_path):
    """Not mkstemp's private 0600: a file as any other the process writes (0666 minus the umask)."""
    mask = os.umask(0o022)
    os.umask(mask)
    snx.save(nn.Linear(2, 2), tmp_path / "w.safetensors")
    assert (tmp_path / "w.safetensors").stat().st_mode & 0o777 == 0o666 & ~mask
