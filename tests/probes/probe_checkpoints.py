"""Checkpoints and faults, probed again: ``snx.save``/``snx.load``, ``ModelCheckpoint`` and ``fit(ckpt_path=)``
given wrong, foreign, corrupted or re-signed files; writes that fail or are interrupted; resuming, Ctrl-C and NaN.

Failures of the disk are simulated by replacing ``os.fsync``, ``os.replace`` or ``tempfile.mkstemp`` for the
length of one probe; each probe puts them back.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import struct
import tempfile
from pathlib import Path

import jax
import numpy as np
from _fixtures import FEATURES, loader, net, parameters, same, trainer
from _harness import probe

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim
from snnax_torchlike.train import checkpoint as _checkpoint

C = "checkpoints and faults"


def _dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="probe-ckpt-"))


def _quiet(network: nn.Module, *, callbacks=(), opt=None) -> snx.Trainer:
    opt = opt if opt is not None else optim.Adam(network.parameters(), lr=1e-2)
    return snx.Trainer(network, opt, SF.ce_rate_loss(), progress=False, callbacks=list(callbacks))


@functools.lru_cache(maxsize=None)
def _epoch_checkpoint() -> bytes:
    """A training checkpoint written by ``ModelCheckpoint`` after one epoch of ``net()`` (seed 7)."""
    folder = _dir()
    _quiet(net(), callbacks=[snx.ModelCheckpoint(str(folder))]).fit(loader(), epochs=1, seed=7)
    return (folder / "epoch-0000.safetensors").read_bytes()


@functools.lru_cache(maxsize=None)
def _weights_file() -> bytes:
    path = _dir() / "w.safetensors"
    snx.save(net(1), path)
    return path.read_bytes()


@functools.lru_cache(maxsize=None)
def _trained_on(order: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The parameters of ``net()`` after one uninterrupted epoch over ``loader()``'s batches in ``order``."""
    network = net()
    batches = loader()
    trainer(network).fit([batches[i] for i in order], epochs=1)
    return parameters(network)


def _file(data: bytes, name: str = "ckpt.safetensors") -> Path:
    path = _dir() / name
    path.write_bytes(data)
    return path


def _split(data: bytes) -> tuple[dict, bytes]:
    size = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + size]), data[8 + size:]


def _join(header: dict, body: bytes) -> bytes:
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def _resigned(data: bytes, **metadata: str) -> bytes:
    """``data`` with metadata entries replaced and the checksum recomputed, as a tool that re-signs files would."""
    from safetensors.numpy import load

    header, body = _split(data)
    header["__metadata__"].update(metadata)
    tensors = load(data)
    header["__metadata__"]["sha256"] = _checkpoint._checksum(tensors, header["__metadata__"])
    return _join(header, body)


def _resume(path, network=None, **kwargs) -> snx.History:
    network = network if network is not None else net()
    return _quiet(network).fit(loader(), **{"epochs": 3, **kwargs}, ckpt_path=path)


@contextlib.contextmanager
def _replaced(module, name: str, replacement):
    real = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield real
    finally:
        setattr(module, name, real)


def _failing(error: BaseException):
    def fail(*args, **kwargs):
        raise error

    return fail


def _no_temporaries(folder: Path) -> bool:
    return not any(".tmp-" in p.name for p in folder.iterdir())


class _StepCounter(snx.Callback):
    def __init__(self):
        self.steps = 0

    def on_train_batch_end(self, *args, **kwargs):
        self.steps += 1


class _CtrlC(snx.Callback):
    def __init__(self, epoch: int, batch: int):
        self.at = (epoch, batch)

    def on_train_batch_end(self, trainer, index, loss):
        if (trainer.current_epoch, index) == self.at:
            raise KeyboardInterrupt


# Foreign, missing and mistaken files ----------------------------------------------------------------------------


@probe(C, raises=snx.CheckpointError, says=("folder|directory", "probe-ckpt-"))
def snx_load_given_a_folder():
    snx.load(_dir())


@probe(C, raises=(snx.CheckpointError, IsADirectoryError), says=("folder|directory", "epoch-|last_path"))
def resume_given_the_model_checkpoint_folder_instead_of_a_file():
    folder = _dir()
    (folder / "epoch-0000.safetensors").write_bytes(_epoch_checkpoint())
    _resume(folder)


@probe(C, raises=(FileNotFoundError, snx.CheckpointError), says=("no such file|not found|does not exist",
                                                                  "epoch-0042"))
def resume_from_a_checkpoint_file_that_does_not_exist():
    _resume(_dir() / "epoch-0042.safetensors")


@probe(C, raises=snx.CheckpointError, says=("best.safetensors", "weights", "load_state_dict", "epoch-"))
def resume_from_best_safetensors_of_model_checkpoint():
    _resume(_file(_weights_file(), "best.safetensors"))  # ModelCheckpoint writes best.safetensors with snx.save


@probe(C, raises=snx.CheckpointError, says=("training checkpoint", "load_state_dict"))
def resume_from_weights_saved_by_torch_safetensors():
    import torch
    from safetensors.torch import save_file

    path = _dir() / "torch.safetensors"
    save_file({k: torch.from_numpy(np.array(v)) for k, v in net().state_dict().items()}, str(path))
    _resume(path)


@probe(C, raises=snx.CheckpointError, says=("not a readable safetensors file", "model.pt"))
def snx_load_of_a_real_torch_save_file():
    import torch

    path = _dir() / "model.pt"
    torch.save({k: torch.from_numpy(np.array(v)) for k, v in net().state_dict().items()}, str(path))
    snx.load(path)


@probe(C, raises=snx.CheckpointError, says=("not a readable safetensors file", "weights.json"))
def snx_load_of_a_json_dump_of_a_state_dict():
    text = json.dumps({k: np.asarray(v).tolist() for k, v in net().state_dict().items()})
    snx.load(_file(text.encode(), "weights.json"))


@probe(C, raises=snx.CheckpointError, says=("not a readable safetensors file", "empty.safetensors"))
def resume_from_an_empty_file():
    _resume(_file(b"", "empty.safetensors"))


@probe(C, raises=snx.CheckpointError, says=("not a readable safetensors file|checksum", "cut.safetensors"))
def resume_from_a_checkpoint_missing_its_last_byte():
    _resume(_file(_epoch_checkpoint()[:-1], "cut.safetensors"))


@probe(C, raises=snx.CheckpointError, says=("not a readable safetensors file|checksum|trailing|extra",))
def snx_load_of_a_weights_file_with_bytes_appended():
    snx.load(_file(_weights_file() + b"\0" * 16))


# Byte flips and edited metadata ----------------------------------------------------------------------------------


@probe(C)
def every_byte_flip_of_a_training_checkpoint_is_refused_on_resume():
    data = _epoch_checkpoint()
    network = net()
    template = optim.Adam(network.parameters(), lr=1e-2).state
    folder = _dir()
    arrays = network.named_arrays()
    for index in range(len(data)):
        flipped = bytearray(data)
        flipped[index] ^= 0x10
        path = folder / f"f{index}.safetensors"
        path.write_bytes(bytes(flipped))
        try:
            _checkpoint.load_training_checkpoint(path, template, arrays)
        except snx.CheckpointError:
            continue
        finally:
            path.unlink()
        return False
    return True


@probe(C, raises=snx.CheckpointError, says=("checksum mismatch", "ckpt.safetensors"))
def resume_from_a_checkpoint_whose_loss_history_was_edited():
    header, body = _split(_epoch_checkpoint())
    history = json.loads(header["__metadata__"]["history"])
    history["loss"] = [value / 2 for value in history["loss"]]
    header["__metadata__"]["history"] = json.dumps(history)
    _resume(_file(_join(header, body)))


@probe(C, raises=snx.CheckpointError, says=("checksum",))
def resume_from_a_checkpoint_whose_checksum_entry_was_deleted():
    header, body = _split(_epoch_checkpoint())
    del header["__metadata__"]["sha256"]
    _resume(_file(_join(header, body)))


@probe(C, raises=snx.CheckpointError, says=("history", "entries|epoch"))
def resume_from_a_resigned_checkpoint_whose_history_is_longer_than_its_epoch():
    history = json.loads(_split(_epoch_checkpoint())[0]["__metadata__"]["history"])
    longer = json.dumps({k: v * 3 for k, v in history.items()})
    _resume(_file(_resigned(_epoch_checkpoint(), history=longer)))


@probe(C, raises=snx.CheckpointError, says=("epoch", "-1", "non-negative"))
def resume_from_a_resigned_checkpoint_with_a_negative_epoch():
    _resume(_file(_resigned(_epoch_checkpoint(), epoch="-1")))


# Checkpoints of other networks and optimizers ------------------------------------------------------------------


@probe(C, raises=snx.CheckpointError, says=("optimizer", "trainable|requires_grad|frozen|learn"))
def resume_into_the_same_network_with_a_learnable_beta():
    snx.manual_seed(0)
    other = nn.Sequential(nn.Linear(FEATURES, 2), nn.Leaky(beta=0.9, learn_beta=True))
    _resume(_file(_epoch_checkpoint()), other)


@probe(C, raises=(snx.CheckpointError, ValueError), says=("optimizer", "trainable|requires_grad|frozen"))
def resume_after_freezing_a_layer_and_building_the_optimizer_on_the_rest():
    network = net()
    network[0].bias.requires_grad = False
    trainable = [p for p in network.parameters() if p.requires_grad]
    _quiet(network, opt=optim.Adam(trainable, lr=1e-2)).fit(loader(), epochs=2,
                                                            ckpt_path=_file(_epoch_checkpoint()))


@probe(C, raises=(ValueError, KeyError), says=("load_state_dict", "2.weight|missing"))
def load_state_dict_of_a_training_checkpoint_into_a_deeper_network():
    snx.manual_seed(0)
    deeper = nn.Sequential(nn.Linear(FEATURES, 2), nn.Leaky(beta=0.9), nn.Linear(2, 2), nn.Leaky(beta=0.9))
    deeper.load_state_dict(snx.load(_file(_epoch_checkpoint())))


@probe(C, raises=ValueError, says=("val_loss", "val_loader"))
def resume_without_the_val_loader_the_checkpoint_was_written_with():
    folder = _dir()
    _quiet(net(), callbacks=[snx.ModelCheckpoint(str(folder))]).fit(loader(), epochs=1, val_loader=loader(1, seed=4))
    _quiet(net(), callbacks=[snx.ModelCheckpoint(str(folder))]).fit(loader(), epochs=2,
                                                                    ckpt_path=folder / "epoch-0000.safetensors")


@probe(C, on_false="data-loss")
def failed_resume_leaves_the_trained_model_and_optimizer_as_they_were():
    network = net()
    t = _quiet(network)
    before = parameters(network)
    state_before = [np.array(x) for x in jax.tree_util.tree_leaves(t.optimizer.state)]
    snx.manual_seed(0)
    other = nn.Sequential(nn.Linear(FEATURES, 3), nn.Leaky(beta=0.9))
    foreign = _dir() / "other.safetensors"
    _quiet(other).save_checkpoint(foreign)
    try:
        t.fit(loader(), epochs=2, ckpt_path=foreign)
    except snx.CheckpointError:
        pass
    else:
        return False
    state_after = [np.array(x) for x in jax.tree_util.tree_leaves(t.optimizer.state)]
    return same(before, parameters(network)) and all(np.array_equal(a, b) for a, b in zip(state_before, state_after))


# Writing: wrong targets, wrong objects, failing disks ------------------------------------------------------------


@probe(C, raises=(IsADirectoryError, ValueError), says=("save", "folder|directory", "file name|\\.safetensors"))
def snx_save_to_a_path_that_is_a_folder():
    snx.save(net(), _dir())


@probe(C, raises=(NotADirectoryError, FileExistsError), says=("save", "notes.txt", "not a folder|is a file"))
def snx_save_under_a_parent_that_is_a_file():
    folder = _dir()
    (folder / "notes.txt").write_text("x")
    snx.save(net(), folder / "notes.txt" / "w.safetensors")


@probe(C, raises=TypeError, says=("save", "'model'", "array|tensor", "save_checkpoint|flat"))
def snx_save_of_a_torch_style_nested_checkpoint_dict():
    network = net()
    snx.save({"epoch": 3, "model": network.state_dict()}, _dir() / "w.safetensors")


@probe(C, raises=TypeError, says=("save", "Module|state dict|state_dict", "Trainer"))
def snx_save_of_a_trainer_instead_of_its_model():
    snx.save(trainer(), _dir() / "w.safetensors")


@probe(C)
def model_checkpoint_creates_a_missing_nested_dirpath():
    folder = _dir() / "runs" / "a" / "b"
    network = net()
    _quiet(network, callbacks=[snx.ModelCheckpoint(folder)]).fit(loader(), fast_dev_run=True)
    loaded = snx.load(folder / "epoch-0000.safetensors")
    return same(parameters(network), loaded)


@probe(C, on_false="data-loss")
def disk_full_while_writing_keeps_the_previous_weights_file():
    path = _dir() / "w.safetensors"
    snx.save(net(1), path)
    before = path.read_bytes()

    def half_written(tensors, filename, metadata=None):
        Path(filename).write_bytes(before[: len(before) // 3])
        raise OSError(28, "No space left on device")

    with _replaced(_checkpoint, "save_file", half_written):
        try:
            snx.save(net(2), path)
        except OSError:
            pass
        else:
            return False
    return path.read_bytes() == before and _no_temporaries(path.parent)


@probe(C, on_false="data-loss")
def disk_full_in_a_later_epoch_keeps_earlier_checkpoints_and_the_trained_model():
    folder = _dir()
    network = net()
    fsyncs = {"n": 0}
    real_fsync = os.fsync

    def fsync_fails_after_the_first_file(fd):
        fsyncs["n"] += 1
        if fsyncs["n"] > 2:  # the first checkpoint's file and folder went through
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    with _replaced(os, "fsync", fsync_fails_after_the_first_file):
        try:
            _quiet(network, callbacks=[snx.ModelCheckpoint(str(folder), keep_last=1)]).fit(loader(), epochs=3)
        except OSError:
            pass
        else:
            return False
    names = sorted(p.name for p in folder.iterdir())
    return (names == ["epoch-0000.safetensors"] and bool(snx.load(folder / names[0]))
            and same(parameters(network), _trained_on((0, 1, 0, 1)), atol=1e-6))  # fmt: skip


@probe(C, on_false="data-loss")
def failed_write_of_best_safetensors_keeps_the_previous_best():
    folder = _dir()
    network = net()
    checkpoint = snx.ModelCheckpoint(str(folder), monitor="loss")
    t = _quiet(network, callbacks=[checkpoint])
    t.fit(loader(), epochs=1)
    before = (folder / "best.safetensors").read_bytes()
    real_replace = os.replace

    def replace_fails_for_best(source, target, *args, **kwargs):
        if os.path.basename(target) == "best.safetensors":
            raise OSError(5, "Input/output error")
        return real_replace(source, target, *args, **kwargs)

    with _replaced(os, "replace", replace_fails_for_best):
        try:
            t.fit(loader(), epochs=2, ckpt_path=folder / "epoch-0000.safetensors")
        except OSError:
            pass
    return (folder / "best.safetensors").read_bytes() == before and _no_temporaries(folder)


@probe(C, on_false="data-loss")
def ctrl_c_during_a_save_keeps_the_old_file_and_leaves_no_temporary():
    path = _dir() / "w.safetensors"
    snx.save(net(1), path)
    before = path.read_bytes()
    with _replaced(os, "fsync", _failing(KeyboardInterrupt())):
        try:
            snx.save(net(2), path)
        except KeyboardInterrupt:
            pass
        else:
            return False
    return path.read_bytes() == before and _no_temporaries(path.parent)


@probe(C, raises=OSError, says=("ModelCheckpoint", "read-only|not writable|cannot write", "probe-ckpt-"))
def model_checkpoint_into_a_read_only_folder_fails_before_any_training():
    folder = _dir()
    counter = _StepCounter()
    with _replaced(tempfile, "mkstemp", _failing(OSError(30, "Read-only file system"))):
        try:
            _quiet(net(), callbacks=[counter, snx.ModelCheckpoint(str(folder))]).fit(loader(), epochs=1)
        except OSError:
            if counter.steps:  # the error came only after an epoch of training
                raise RuntimeError(f"the error came after {counter.steps} training steps, not before them")
            raise


@probe(C, raises=(NotADirectoryError, FileExistsError), says=("ModelCheckpoint", "notes.txt", "not a folder|is a file"))
def model_checkpoint_dirpath_under_a_file_fails_before_any_training():
    folder = _dir()
    (folder / "notes.txt").write_text("x")
    counter = _StepCounter()
    try:
        _quiet(net(), callbacks=[counter, snx.ModelCheckpoint(str(folder / "notes.txt" / "ckpt"))]).fit(loader())
    except OSError:
        if counter.steps:
            raise RuntimeError(f"the error came after {counter.steps} training steps, not before them")
        raise


# ModelCheckpoint arguments ---------------------------------------------------------------------------------------


@probe(C, raises=ValueError, says=("ModelCheckpoint", "keep_last", "-1", ">= 1|at least 1"))
def model_checkpoint_keep_last_minus_one_like_lightning_save_top_k():
    snx.ModelCheckpoint(str(_dir()), keep_last=-1)


@probe(C, raises=(TypeError, ValueError), says=("ModelCheckpoint", "keep_last", "1.5", "int"))
def model_checkpoint_keep_last_a_fraction():
    snx.ModelCheckpoint(str(_dir()), keep_last=1.5)


@probe(C, raises=ValueError, says=("ModelCheckpoint", "mode", "auto", "min", "max"))
def model_checkpoint_mode_auto_like_keras():
    snx.ModelCheckpoint(str(_dir()), monitor="val_loss", mode="auto")


@probe(C, raises=TypeError, says=("ModelCheckpoint", "dirpath", "None"))
def model_checkpoint_without_a_dirpath():
    snx.ModelCheckpoint(None)


@probe(C, raises=KeyError, says=("ModelCheckpoint", "val_loss", "val_loader"))
def model_checkpoint_monitoring_val_loss_without_a_validation_loader():
    _quiet(net(), callbacks=[snx.ModelCheckpoint(str(_dir()), monitor="val_loss")]).fit(loader(), epochs=1)


@probe(C, on_false="data-loss")
def fresh_run_into_a_used_checkpoint_folder_keeps_the_earlier_runs_files():
    folder = _dir()
    _quiet(net(), callbacks=[snx.ModelCheckpoint(str(folder), keep_last=2)]).fit(loader(), epochs=3)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    try:  # the same script run again, forgetting ckpt_path=
        _quiet(net(5), callbacks=[snx.ModelCheckpoint(str(folder), keep_last=2)]).fit(loader(), epochs=1)
    except (FileExistsError, ValueError):
        pass
    return {p.name: p.read_bytes() for p in folder.iterdir()} == before


# Resuming, Ctrl-C, NaN -------------------------------------------------------------------------------------------


def _resumed_equals_uninterrupted(epochs: int = 2, scheduled: bool = False, **fit_kwargs) -> bool:
    """An uninterrupted run against a fresh process resumed from the run's own first-epoch checkpoint.

    The epoch-0000 file a longer run writes is the file a run killed after that epoch leaves.
    """
    def run(network, callbacks=(), **kwargs):
        opt = optim.Adam(network.parameters(), lr=1e-2)
        scheduler = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5) if scheduled else None
        return _quiet(network, callbacks=callbacks, opt=opt).fit(loader(3), epochs=epochs, seed=5,
                                                                 scheduler=scheduler, **fit_kwargs, **kwargs)

    folder = _dir()
    whole = net()
    h_whole = run(whole, callbacks=[snx.ModelCheckpoint(str(folder), keep_last=epochs)])
    resumed = net(8)
    h_resumed = run(resumed, resume=folder / "epoch-0000.safetensors")
    return same(parameters(whole), parameters(resumed)) and h_whole.history == h_resumed.history


@probe(C)
def resume_one_epoch_equals_two_epochs_params_and_history_exactly():
    return _resumed_equals_uninterrupted(val_loader=loader(1, seed=9))


@probe(C)
def resume_with_a_step_lr_scheduler_equals_an_uninterrupted_run():
    return _resumed_equals_uninterrupted(epochs=3, scheduled=True)


@probe(C)
def resume_with_gradient_accumulation_across_epochs_equals_an_uninterrupted_run():
    return _resumed_equals_uninterrupted(accumulate_grad_batches=2)


@probe(C, raises=ValueError, says=("epochs", "checkpoint|finished|already", "more than|greater|> ?1"))
def resume_asking_for_fewer_epochs_than_the_checkpoint_finished():
    _quiet(net()).fit(loader(), epochs=1, ckpt_path=_file(_epoch_checkpoint()))  # meaning "one more epoch"


@functools.lru_cache(maxsize=None)
def _interrupted_in_the_second_epoch() -> tuple[list[int], int, dict[str, np.ndarray], bytes]:
    """Ctrl-C after the first step of epoch 1: the history's epochs, its loss count, the parameters, and the
    checkpoint ``save_checkpoint`` wrote right after."""
    network = net()
    t = _quiet(network, callbacks=[_CtrlC(1, 0)])
    history = t.fit(loader(), epochs=3)
    path = _dir() / "interrupted.safetensors"
    t.save_checkpoint(path)
    return list(history.epoch), len(history["loss"]), parameters(network), path.read_bytes()


@probe(C)
def ctrl_c_in_the_second_epoch_keeps_the_first_epochs_history_and_the_last_step():
    epochs, losses, params, _ = _interrupted_in_the_second_epoch()
    # the two batches of epoch 0, one of epoch 1
    return epochs == [0] and losses == 1 and same(params, _trained_on((0, 1, 0)), atol=1e-6)


@probe(C)
def checkpoint_saved_after_ctrl_c_resumes_by_starting_the_interrupted_epoch_over():
    resumed = net(9)
    history = _quiet(resumed).fit(loader(), epochs=3, ckpt_path=_file(_interrupted_in_the_second_epoch()[3]))
    # epoch 0, one step of epoch 1, epoch 1 again from there, epoch 2
    return history.epoch == [0, 1, 2] and same(parameters(resumed), _trained_on((0, 1, 0, 0, 1, 0, 1)), atol=1e-6)


@probe(C)
def checkpoint_saved_before_any_fit_resumes_from_epoch_zero():
    path = _dir() / "start.safetensors"
    start = net()
    _quiet(start).save_checkpoint(path)
    resumed = net(9)
    history = _quiet(resumed).fit(loader(), epochs=2, seed=1, ckpt_path=path)
    return history.epoch == [0, 1] and same(parameters(resumed), _trained_on((0, 1, 0, 1)), atol=1e-6)


@probe(C, on_false="data-loss")
def nan_in_the_second_epoch_keeps_the_last_good_step_and_the_epoch_checkpoint():
    data = loader(2)
    bad = [data[0], (np.full_like(data[1][0], np.nan), data[1][1])]

    class SwitchToBad(snx.Callback):
        def on_train_epoch_start(self, trainer, epoch):
            if epoch == 1:
                data[:] = bad

    folder = _dir()
    network = net()
    try:
        _quiet(network, callbacks=[SwitchToBad(), snx.ModelCheckpoint(str(folder))]).fit(data, epochs=2)
    except snx.NonFiniteError:
        pass
    else:
        return False
    saved = snx.load(folder / "epoch-0000.safetensors")
    # epoch 0, then the good first batch of epoch 1
    return same(parameters(network), _trained_on((0, 1, 0)), atol=1e-6) and all(
        np.all(np.isfinite(v)) for v in saved.values())
