"""Checkpoints and faults: files that are missing, foreign, corrupted or cut short; writes that fail; runs
interrupted by Ctrl-C or NaN; resuming."""

from __future__ import annotations

import functools
import json
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
from _fixtures import FEATURES, loader, net, parameters, same, spikes, trainer
from _harness import probe

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

C = "checkpoints and faults"


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="probe-"))


@functools.lru_cache(maxsize=None)
def _training_checkpoint() -> bytes:
    """The bytes of a real training checkpoint after one epoch."""
    folder = _folder()
    network = net()
    t = trainer(network)
    t.fit(loader(), epochs=1)
    t.save_checkpoint(folder / "a.safetensors")
    return (folder / "a.safetensors").read_bytes()


def _written(data: bytes) -> Path:
    path = _folder() / "ckpt.safetensors"
    path.write_bytes(data)
    return path


def _header(data: bytes) -> tuple[int, dict]:
    size = struct.unpack("<Q", data[:8])[0]
    return size, json.loads(data[8:8 + size])


def _with_header(data: bytes, header: dict) -> bytes:
    size = _header(data)[0]
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (size - len(text)) if len(text) <= size else b""
    return struct.pack("<Q", len(text)) + text + data[8 + size:]


@probe(C, raises=(FileNotFoundError, snx.CheckpointError), says=("no-such-file|not found|No such file",))
def load_a_missing_file():
    snx.load(_folder() / "no-such-file.safetensors")


@probe(C, raises=snx.CheckpointError, says=("not a readable safetensors file", "empty.safetensors"))
def load_an_empty_file():
    path = _folder() / "empty.safetensors"
    path.write_bytes(b"")
    snx.load(path)


@probe(C, raises=snx.CheckpointError, says=("not a readable safetensors file",))
def load_a_json_file():
    snx.load(_written(b'{"weights": [1, 2, 3]}'))


@probe(C, raises=snx.CheckpointError, says=("not a readable safetensors file",))
def load_a_torch_pickle():
    snx.load(_written(b"PK\x03\x04" + os.urandom(200)))


@probe(C, raises=snx.CheckpointError, says=("not a readable safetensors file|checksum",))
def load_a_truncated_checkpoint():
    data = _training_checkpoint()
    snx.load(_written(data[: len(data) // 2]))


@probe(C, raises=snx.CheckpointError, says=("checksum mismatch",))
def load_a_checkpoint_with_a_flipped_tensor_byte():
    data = bytearray(_training_checkpoint())
    data[-5] ^= 0x40
    snx.load(_written(bytes(data)))


@probe(C, raises=snx.CheckpointError, says=("checksum mismatch",))
def resume_from_a_checkpoint_whose_epoch_was_edited():
    data = _training_checkpoint()
    size, header = _header(data)
    metadata = header["__metadata__"]
    metadata["epoch"] = str(int(metadata["epoch"]) + 5)
    path = _written(_with_header(data, header))
    trainer().fit(loader(), epochs=8, ckpt_path=path)


@probe(C, raises=snx.CheckpointError, says=("another|missing|reshaped", "0.weight|1.weight"))
def resume_into_another_architecture():
    path = _written(_training_checkpoint())
    snx.manual_seed(0)
    other = nn.Sequential(nn.Linear(FEATURES, 5), nn.Leaky(beta=0.9), nn.Linear(5, 2), nn.Leaky(beta=0.9))
    snx.Trainer(other, optim.Adam(other.parameters()), SF.ce_rate_loss(), progress=False).fit(
        loader(), epochs=2, ckpt_path=path)


@probe(C, raises=snx.CheckpointError, says=("optimizer",))
def resume_with_another_optimizer():
    path = _written(_training_checkpoint())
    network = net()
    snx.Trainer(network, optim.SGD(network.parameters(), lr=0.1, momentum=0.9), SF.ce_rate_loss(),
                progress=False).fit(loader(), epochs=2, ckpt_path=path)


@probe(C, raises=(ValueError, KeyError), says=("load_state_dict", "shape|missing"))
def load_weights_of_another_architecture_into_a_network():
    path = _folder() / "w.safetensors"
    snx.save(net(), path)
    snx.manual_seed(0)
    other = nn.Sequential(nn.Linear(FEATURES, 5), nn.Leaky(beta=0.9))
    other.load_state_dict(snx.load(path))


@probe(C)
def save_and_load_round_trip_is_exact():
    network = net(3)
    path = _folder() / "w.safetensors"
    snx.save(network, path)
    copy = net(4)
    copy.load_state_dict(snx.load(path))
    return same(parameters(network), parameters(copy))


@probe(C)
def save_into_a_folder_that_does_not_exist_creates_it():
    path = _folder() / "missing-parent" / "w.safetensors"
    network = net()
    snx.save(network, path)
    copy = net(1)
    copy.load_state_dict(snx.load(path))
    return same(parameters(network), parameters(copy))


@probe(C, on_false="data-loss")
def failing_disk_write_keeps_the_previous_checkpoint():
    network = net()
    path = _folder() / "w.safetensors"
    snx.save(network, path)
    before = path.read_bytes()
    real_fsync = os.fsync

    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    os.fsync = failing_fsync
    try:
        snx.save(net(5), path)
    except OSError:
        pass
    else:
        return False
    finally:
        os.fsync = real_fsync
    leftovers = [p for p in path.parent.iterdir() if p.name != path.name]
    return path.read_bytes() == before and not leftovers


@probe(C, on_false="data-loss")
def failing_checkpoint_write_during_fit_keeps_the_model_and_earlier_files():
    folder = _folder()
    network = net()
    checkpoint = snx.ModelCheckpoint(str(folder), keep_last=3)
    t = snx.Trainer(network, optim.Adam(network.parameters(), lr=1e-2), SF.ce_rate_loss(), progress=False,
                    callbacks=[checkpoint])
    t.fit(loader(), epochs=1)
    first = sorted(p.name for p in folder.iterdir())
    real_replace = os.replace

    def failing_replace(*args, **kwargs):
        raise OSError(5, "Input/output error")

    os.replace = failing_replace
    try:
        t.fit(loader(), epochs=2)
    except OSError:
        pass
    finally:
        os.replace = real_replace
    files = sorted(p.name for p in folder.iterdir())
    return files == first and all(snx.load(folder / name) for name in files)


@probe(C, raises=ValueError, says=("ModelCheckpoint", "keep_last", "0"))
def model_checkpoint_keep_nothing():
    snx.ModelCheckpoint(str(_folder()), keep_last=0)


@probe(C, raises=NotADirectoryError, says=("ModelCheckpoint", "dirpath", "a-file", "not a folder"))
def model_checkpoint_into_a_file():
    path = _folder() / "a-file"
    path.write_text("x")
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), progress=False,
                callbacks=[snx.ModelCheckpoint(str(path))]).fit(loader())


@probe(C, raises=KeyError, says=("ModelCheckpoint", "val_acc", "available"))
def model_checkpoint_monitoring_a_metric_never_logged():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), progress=False,
                callbacks=[snx.ModelCheckpoint(str(_folder()), monitor="val_acc")]).fit(loader())


@probe(C)
def model_checkpoint_keeps_the_newest_files():
    folder = _folder()
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), progress=False,
                callbacks=[snx.ModelCheckpoint(str(folder), keep_last=2)]).fit(loader(), epochs=4)
    return sorted(p.name for p in folder.glob("epoch-*")) == ["epoch-0003.safetensors", "epoch-0004.safetensors"] or \
        len(list(folder.glob("epoch-*"))) == 2


@probe(C)
def resumed_run_equals_an_uninterrupted_one():
    whole = net()
    trainer(whole).fit(loader(), epochs=2, seed=7)
    folder = _folder()
    first = net()
    snx.Trainer(first, optim.Adam(first.parameters(), lr=1e-2), SF.ce_rate_loss(), progress=False,
                callbacks=[snx.ModelCheckpoint(str(folder))]).fit(loader(), epochs=1, seed=7)
    resumed = net()
    trainer(resumed).fit(loader(), epochs=2, seed=7, ckpt_path=next(folder.glob("epoch-*")))
    return same(parameters(whole), parameters(resumed))


@probe(C)
def resumed_run_with_dropout_and_a_short_last_batch_equals_an_uninterrupted_one():
    def build():
        snx.manual_seed(0)
        return nn.Sequential(nn.Linear(FEATURES, 4), nn.Dropout(0.3), nn.Leaky(beta=0.9), nn.Linear(4, 2),
                             nn.Leaky(beta=0.9))

    data = loader(2) + [(spikes(batch=2, seed=9), np.array([0, 1], np.int32))]
    whole = build()
    trainer(whole).fit(data, epochs=2, seed=3)
    folder = _folder()
    first = build()
    snx.Trainer(first, optim.Adam(first.parameters(), lr=1e-2), SF.ce_rate_loss(), progress=False,
                callbacks=[snx.ModelCheckpoint(str(folder))]).fit(data, epochs=1, seed=3)
    resumed = build()
    trainer(resumed).fit(data, epochs=2, seed=3, ckpt_path=next(folder.glob("epoch-*")))
    return same(parameters(whole), parameters(resumed))


class _InterruptAtStep(snx.Callback):
    def __init__(self, step: int):
        self.step, self.seen = step, 0

    def on_train_batch_end(self, *args, **kwargs):
        self.seen += 1
        if self.seen == self.step:
            raise KeyboardInterrupt


@probe(C)
def ctrl_c_keeps_the_last_completed_step_and_the_history():
    network = net()
    t = snx.Trainer(network, optim.Adam(network.parameters(), lr=1e-2), SF.ce_rate_loss(), progress=False,
                    callbacks=[_InterruptAtStep(3)])
    history = t.fit(loader(), epochs=3)
    reference = net()
    trainer(reference).fit([loader() + loader()[:1]][0], epochs=1)  # the same three steps, uninterrupted
    finite = all(np.all(np.isfinite(v)) for v in parameters(network).values())
    return finite and len(history.epoch) == 1 and same(parameters(network), parameters(reference), atol=1e-6)


@probe(C, raises=snx.NonFiniteError, says=("step", "input batch", "last good step"))
def nan_input_mid_training_stops_with_the_last_good_parameters():
    data = loader(3)
    data[2] = (np.full_like(data[2][0], np.nan), data[2][1])
    trainer().fit(data, epochs=1)


@probe(C, on_false="data-loss")
def nan_mid_training_keeps_the_last_good_parameters():
    data = loader(3)
    data[2] = (np.full_like(data[2][0], np.nan), data[2][1])
    network = net()
    try:
        trainer(network).fit(data, epochs=1)
    except snx.NonFiniteError:
        pass
    reference = net()
    trainer(reference).fit(data[:2], epochs=1)
    return same(parameters(network), parameters(reference), atol=1e-6)


@probe(C, raises=snx.CheckpointError, says=("checksum mismatch",))
def load_a_checkpoint_with_an_edited_tensor_header():
    data = _training_checkpoint()
    size, header = _header(data)
    name = next(k for k in header if k != "__metadata__" and header[k]["dtype"] == "F32" and len(header[k]["shape"]) == 2)
    header[name]["shape"] = list(reversed(header[name]["shape"]))
    snx.load(_written(_with_header(data, header)))


@probe(C)
def load_weights_written_by_torch_safetensors():
    import torch
    from safetensors.torch import save_file

    network = net(2)
    path = _folder() / "torch.safetensors"
    save_file({k: torch.from_numpy(np.array(v)) for k, v in network.state_dict().items()}, str(path))
    copy = net(6)
    copy.load_state_dict(snx.load(path))
    return same(parameters(network), parameters(copy))


@probe(C)
def interrupted_save_temporaries_are_removed_by_the_next_save():
    folder = _folder()
    path = folder / "w.safetensors"
    real_replace = os.replace
    os.replace = lambda *a, **k: (_ for _ in ()).throw(OSError(5, "Input/output error"))
    try:
        snx.save(net(), path)
    except OSError:
        pass
    finally:
        os.replace = real_replace
    snx.save(net(), path)
    return sorted(p.name for p in folder.iterdir()) == ["w.safetensors"]
