"""Checkpoints in safetensors: model weights under torch's names, and full training state.

``save(net, path)`` writes ``net.state_dict()``; torch reads it with
``safetensors.torch.load_file(path)`` and ``load_state_dict`` of a mirrored torch
model. A training checkpoint adds the optimizer state, the epoch, the history
and the position of the library's PRNG stream, so ``fit(..., ckpt_path=path)``
continues exactly where the run stopped.

Writes are atomic and durable: a temporary file next to ``path`` is written,
flushed to disk (``fsync``), renamed onto ``path``, and the directory is synced
where the platform allows it, so a crash or power loss leaves either the old
file or the new one, never half a file. Temporary files left by an interrupted
save of the same ``path`` are removed by the next save of it.

Every file this library writes carries a SHA-256 over everything that is read
back: each tensor's name, dtype, shape and bytes, and every metadata entry
(epoch, history, format). Any change to the file after it was written, a
single flipped byte included, raises [`CheckpointError`][] naming the file
instead of loading garbage. Files written by other tools (torch's safetensors)
carry no checksum and load unverified.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import jax
import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file, save_file

from ..nn.module import Module, to_numpy
from ..random import get_rng_state

__all__ = ["save", "load", "save_training_checkpoint", "load_training_checkpoint", "CheckpointError"]

_FORMAT = "snnax-torchlike"
_CHECKSUM = "sha256"
_MODEL, _OPTIMIZER, _RNG = "model.", "optimizer.", "rng.key"
_OPTIMIZER_NAME = re.compile(r"optimizer\.(0|[1-9][0-9]*)")
_TEMPORARY = ".tmp-"
_TEMPORARY_NAME = re.compile(r"\.(.+)\.tmp-[^/]*\.safetensors")


class CheckpointError(ValueError):
    """A file is not a readable checkpoint of the expected kind."""


_SCOPE = "checksum_scope"
_GLOBAL_STEP = "global_step"
_CALLBACKS = "callbacks"
_FINISHED = "epoch_finished"
"""Whether the checkpoint's epoch had ended when it was written (absent in files written before it existed: yes)."""
_SCOPE_ALL = "tensors+metadata"
_LEGACY_KEYS = frozenset(("format", "kind", "epoch", "history", _CHECKSUM))
"""The metadata files written before the checksum covered it held (their checksum covers the tensors only)."""


def _legacy_checksum(tensors: Mapping[str, np.ndarray]) -> str:
    """The tensors-only SHA-256 of files written before the checksum covered the metadata, so they still load."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _checksum(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, and every metadata entry but the checksum."""
    digest = hashlib.sha256()
    # JSON encodes names and values unambiguously, whatever characters they hold.
    entries = sorted((k, v) for k, v in metadata.items() if k != _CHECKSUM)
    digest.update(json.dumps(entries).encode())
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        digest.update(json.dumps([name, array.dtype.str, list(array.shape)]).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _temporary_target(name: str) -> str | None:
    """The file name a save was writing if ``name`` is one of its temporary files, else None."""
    match = _TEMPORARY_NAME.fullmatch(name)
    return None if match is None else match.group(1)


def remove_stale_temporaries(directory: str | os.PathLike, targets: Callable[[str], bool]) -> None:
    """Delete the temporary files that interrupted saves left in ``directory``.

    Only those of saves to a file named ``t`` with ``targets(t)`` true go, so other
    writers' files in the same directory stay.
    """
    directory = os.fspath(directory)
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        target = _temporary_target(name)
        if target is not None and targets(target):
            try:
                os.remove(os.path.join(directory, name))
            except FileNotFoundError:
                pass  # removed meanwhile by another cleanup


def _fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable; a no-op where directories cannot be opened (Windows)."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems refuse fsync on directories; the rename itself is still atomic
    finally:
        os.close(handle)


def _umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def make_folder(directory: str | os.PathLike, who: str) -> None:
    """Create ``directory`` (and its parents) unless it exists; name the file in the way if a parent is one."""
    directory = os.path.abspath(os.fspath(directory))
    try:
        os.makedirs(directory, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        # makedirs names only the path it failed on; the user needs the file that stands where a folder must be.
        blocking = directory
        while not os.path.exists(blocking) and os.path.dirname(blocking) != blocking:
            blocking = os.path.dirname(blocking)
        if os.path.isdir(blocking):
            raise
        raise NotADirectoryError(
            errno.ENOTDIR, f"{who}: cannot create the folder {directory!r}: {blocking!r} is a file, not a folder"
        ) from error


def _atomic_save(tensors: dict[str, np.ndarray], path: str | os.PathLike, metadata: dict[str, str]) -> None:
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"Cannot save to {path!r}: it is a folder; pass a file name in it, e.g. "
            f"{os.path.join(path, 'model.safetensors')!r}."
        )
    tensors = {k: np.asarray(v, order="C") for k, v in tensors.items()}
    metadata = {**metadata, _SCOPE: _SCOPE_ALL}
    metadata[_CHECKSUM] = _checksum(tensors, metadata)
    write_atomically(path, lambda temporary: save_file(tensors, temporary, metadata=metadata), f"Cannot save {path!r}")


def write_atomically(path: str, write: Callable[[str], None], who: str) -> None:
    """Write a file with ``write(temporary)`` and rename it onto ``path`` (an absolute file path).

    The temporary lies beside ``path`` (hidden, named after it, removed by the next
    write there if a crash left it), gets the usual file mode and is synced before
    the rename, and the folder after: a write that fails halfway (a full disk, an
    interrupt) leaves the file that was at ``path`` as it was. Missing folders are
    created; ``who`` starts the error for a folder that cannot be.
    """
    directory = os.path.dirname(path)
    make_folder(directory, who)
    remove_stale_temporaries(directory, os.path.basename(path).__eq__)
    prefix = f".{os.path.basename(path)}{_TEMPORARY}"  # hidden, and names its target (see _TEMPORARY_NAME)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".safetensors")
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 would make every file private
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_directory(directory)


def _read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    name = os.fspath(path)
    if os.path.isdir(name):
        raise CheckpointError(
            f"{name}: a folder, not a checkpoint file; pass a file in it (in a ModelCheckpoint folder, the newest "
            "epoch-XXXX.safetensors, which ModelCheckpoint.last_path names)."
        )
    try:
        tensors = load_file(name)
        with safe_open(name, framework="numpy") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError, TypeError, OverflowError, MemoryError) as error:
        raise CheckpointError(f"{name}: not a readable safetensors file ({type(error).__name__}: {error}).") from error
    expected = metadata.get(_CHECKSUM)
    if expected is None:
        if metadata.get("format") == _FORMAT:
            raise CheckpointError(
                f"{name}: an {_FORMAT} file without its {_CHECKSUM} checksum: the metadata was modified or corrupted."
            )
        return tensors, metadata  # written by another tool (torch's safetensors): nothing to verify
    if _SCOPE not in metadata and set(metadata) <= _LEGACY_KEYS:
        # Written before the checksum covered the metadata: only its tensors can be verified.
        computed = _legacy_checksum(tensors)
    elif metadata.get(_SCOPE) == _SCOPE_ALL:
        computed = _checksum(tensors, metadata)
    else:
        computed = None  # a marker or key no writer of this format produces: the metadata was changed
    if expected != computed:
        raise CheckpointError(
            f"{name}: checksum mismatch: the file (tensors or metadata) was modified or corrupted after it was written."
        )
    return tensors, metadata


def _flat_state_dict(state: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """``state``'s values as numpy arrays; a nested dict or a non-numeric value is named, not written as garbage."""
    arrays = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"save: state dict keys must be strings (torch's names), got {key!r}.")
        if isinstance(value, Mapping):
            raise TypeError(
                f"save: the value of {key!r} is a mapping ({type(value).__name__}), not an array or tensor; save "
                "writes one flat state dict (save(net, path) or save(net.state_dict(), path)). For weights with the "
                "optimizer state, epoch and history (torch's {'model': ..., 'optimizer': ..., 'epoch': ...}), use "
                "Trainer.save_checkpoint(path) or ModelCheckpoint."
            )
        array = to_numpy(value)
        if array.dtype.kind not in "biufc":
            raise TypeError(
                f"save: the value of {key!r} ({type(value).__name__}) is not a numeric array or tensor "
                f"(dtype {array.dtype}); a state dict holds arrays only."
            )
        arrays[key] = array
    return arrays


def save(state: Module | Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a module's ``state_dict`` (or a flat state dict of arrays) to ``path`` in safetensors.

    Raises `TypeError` for anything else (a trainer, a list of parameters, a
    torch-style nested ``{"model": ..., "epoch": ...}`` dict), before writing.
    """
    if isinstance(state, Module):
        state_dict = state.state_dict()
    elif isinstance(state, Mapping):
        state_dict = _flat_state_dict(state)
    else:
        hint = (
            " (for a Trainer: save(trainer.model, path) for the weights, trainer.save_checkpoint(path) to resume)"
            if isinstance(getattr(state, "model", None), Module)
            else ""
        )
        raise TypeError(
            f"save: expected a Module or a state dict (a mapping of names to arrays), got {type(state).__name__}{hint}."
        )
    _atomic_save(dict(state_dict), path, {"format": _FORMAT, "kind": "state_dict"})


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a state dict (numpy arrays, torch names) written by ``save`` or by torch's safetensors.

    Raises [`CheckpointError`][] for an unreadable file or one of ours that was
    modified after it was written.
    """
    tensors, metadata = _read(path)
    if metadata.get("kind") == "training":
        return {k[len(_MODEL) :]: v for k, v in tensors.items() if k.startswith(_MODEL)}
    return tensors


def save_training_checkpoint(
    path: str | os.PathLike,
    *,
    model: Module,
    optimizer_state: Any,
    epoch: int,
    rng_state: np.ndarray,
    history: dict[str, list[float]],
    global_step: int = 0,
    callback_states: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Everything ``fit`` needs to continue: weights, optimizer state, epoch, history, PRNG position.

    ``epoch`` is the epoch the run is in; ``history`` holds one value per
    finished epoch. With ``epoch + 1`` values, epoch ``epoch`` is finished and a
    resumed run starts with the next one; with ``epoch`` values (a save after
    Ctrl-C or a [`NonFiniteError`][], from a batch callback, or before any
    training) the epoch is marked unfinished and a resumed run starts it over.
    ``global_step`` counts the training steps a resumed run starts after (those
    of the finished epochs); ``callback_states`` maps each callback's
    ``state_key`` to its ``state_dict()`` (JSON values).
    """
    lengths = {len(values) for values in history.values()}
    if len(lengths) > 1:
        counts = {name: len(values) for name, values in history.items()}
        raise ValueError(
            f"save_training_checkpoint: the history's names were logged in different numbers of epochs {counts}, "
            "so the file could not be resumed. A run resumed with other logging than the run it continues does "
            "that (a val_loader or metrics added or left out): resume with the same val_loader and metrics."
        )
    finished = bool(history) and lengths == {epoch + 1}
    if not finished and (lengths != {epoch} if history else epoch != 0):
        raise ValueError(
            f"save_training_checkpoint: the history has {lengths.pop() if lengths else 0} entries per name; "
            f"epoch {epoch} needs {epoch + 1} (finished) or {epoch} (in progress)."
        )
    tensors = {_MODEL + name: value for name, value in model.state_dict().items()}
    for index, leaf in enumerate(jax.tree_util.tree_leaves(optimizer_state)):
        tensors[f"{_OPTIMIZER}{index}"] = np.asarray(leaf)
    tensors[_RNG] = np.asarray(rng_state)
    metadata = {
        "format": _FORMAT,
        "kind": "training",
        "epoch": str(int(epoch)),
        _FINISHED: "true" if finished else "false",
        "history": json.dumps(history),
        _GLOBAL_STEP: str(int(global_step)),
        _CALLBACKS: json.dumps(dict(callback_states or {})),
    }
    _atomic_save(tensors, path, metadata)


def _parse_epoch(name: str, metadata: Mapping[str, str]) -> int:
    text = metadata.get("epoch")
    if text is None or not text.isdigit() or not text.isascii():
        raise CheckpointError(f"{name}: metadata 'epoch' must be a non-negative integer, got {text!r}.")
    return int(text)


def _parse_finished(name: str, metadata: Mapping[str, str]) -> bool:
    """Whether the checkpoint's epoch had ended when it was written."""
    finished = metadata.get(_FINISHED, "true")
    if finished not in ("true", "false"):
        raise CheckpointError(f"{name}: metadata {_FINISHED!r} must be 'true' or 'false', got {finished!r}.")
    return finished == "true"


def _parse_history(name: str, metadata: Mapping[str, str], epoch: int) -> dict[str, list[float]]:
    """The history as saved: one number per finished epoch ``0..epoch`` for every logged name."""
    try:
        history = json.loads(metadata["history"])
    except (KeyError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{name}: metadata 'history' is missing or not JSON ({error}).") from error
    if not isinstance(history, dict):
        raise CheckpointError(f"{name}: metadata 'history' must map names to lists, got {type(history).__name__}.")
    for key, values in history.items():
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            raise CheckpointError(f"{name}: history[{key!r}] must be a list of numbers, got {values!r}.")
        if len(values) != epoch + 1:
            raise CheckpointError(
                f"{name}: history[{key!r}] has {len(values)} entries, the checkpoint's epoch {epoch} needs "
                f"{epoch + 1} (one per finished epoch)."
            )
    return {key: [float(v) for v in values] for key, values in history.items()}


def _parse_global_step(name: str, metadata: Mapping[str, str]) -> int:
    """The training steps of the finished epochs (0 in files written before it was recorded)."""
    text = metadata.get(_GLOBAL_STEP, "0")
    if not text.isdigit() or not text.isascii():
        raise CheckpointError(f"{name}: metadata {_GLOBAL_STEP!r} must be a non-negative integer, got {text!r}.")
    return int(text)


def _parse_callback_states(name: str, metadata: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Each callback's saved state by ``state_key`` (none in files written before they were recorded)."""
    try:
        states = json.loads(metadata.get(_CALLBACKS, "{}"))
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{name}: metadata {_CALLBACKS!r} is not JSON ({error}).") from error
    if not isinstance(states, dict) or not all(isinstance(state, dict) for state in states.values()):
        raise CheckpointError(f"{name}: metadata {_CALLBACKS!r} must map state keys to dicts, got {states!r}.")
    return states


def _parse_rng(name: str, tensors: Mapping[str, np.ndarray]) -> np.ndarray:
    if _RNG not in tensors:
        raise CheckpointError(f"{name}: the PRNG state tensor {_RNG!r} is missing.")
    state, expected = tensors[_RNG], get_rng_state()
    if state.dtype != expected.dtype or state.shape != expected.shape:
        raise CheckpointError(
            f"{name}: PRNG state {_RNG!r} is {state.dtype}{list(state.shape)}, this JAX's keys are "
            f"{expected.dtype}{list(expected.shape)}."
        )
    return state


def _parse_optimizer(name: str, tensors: Mapping[str, np.ndarray], optimizer_state: Any) -> Any:
    leaves, treedef = jax.tree_util.tree_flatten(optimizer_state)
    saved: dict[int, np.ndarray] = {}
    for key, value in tensors.items():
        if key.startswith(_OPTIMIZER):
            match = _OPTIMIZER_NAME.fullmatch(key)
            if match is None:
                raise CheckpointError(f"{name}: unexpected optimizer tensor {key!r} (expected 'optimizer.<index>').")
            saved[int(match.group(1))] = value
        elif not key.startswith(_MODEL) and key != _RNG:
            raise CheckpointError(f"{name}: unexpected tensor {key!r} in a training checkpoint.")
    if sorted(saved) != list(range(len(saved))):
        raise CheckpointError(f"{name}: optimizer arrays are not numbered 0..{len(saved) - 1}: {sorted(saved)}.")
    if len(saved) != len(leaves):
        raise CheckpointError(
            f"{name}: the optimizer state has {len(saved)} arrays, the current optimizer {len(leaves)}; "
            "was it saved with another optimizer, or with other parameters trainable (requires_grad, "
            "learn_beta, learn_threshold)? Resume with the optimizer type and trainable parameters it was "
            "saved with."
        )
    restored = []
    for index, leaf in enumerate(leaves):
        value = saved[index]
        if tuple(value.shape) != tuple(np.shape(leaf)):
            raise CheckpointError(
                f"{name}: optimizer array {index} has shape {value.shape}, expected {np.shape(leaf)}."
            )
        restored.append(jax.numpy.asarray(value, dtype=np.asarray(leaf).dtype))
    return jax.tree_util.tree_unflatten(treedef, restored)


def _check_architecture(name: str, saved: Mapping[str, np.ndarray], model_arrays: Mapping[str, Any]) -> None:
    """The checkpoint's network against the model's arrays (names and shapes), before its optimizer state."""
    missing = sorted(set(model_arrays) - set(saved))
    unexpected = sorted(set(saved) - set(model_arrays))
    misshapen = [
        f"{key}: {tuple(saved[key].shape)} saved, {tuple(np.shape(model_arrays[key]))} here"
        for key in sorted(set(saved) & set(model_arrays))
        if tuple(saved[key].shape) != tuple(np.shape(model_arrays[key]))
    ]
    details = []
    if missing:
        details.append(f"this network's {missing[:5]} are not in it")
    if unexpected:
        details.append(f"it has {unexpected[:5]}, which this network lacks")
    if misshapen:
        details.append("other shapes: " + "; ".join(misshapen[:5]))
    if details:
        raise CheckpointError(
            f"{name}: saved for another network architecture ({', '.join(details)}); resume with the network it "
            "was saved from."
        )


def load_training_checkpoint(
    path: str | os.PathLike, optimizer_state: Any, model_arrays: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Read a training checkpoint; ``optimizer_state`` is a template of the expected structure.

    With ``model_arrays`` (the model's ``named_arrays()``), a checkpoint of another
    network is named as such before its optimizer state is compared.

    **Returns:** a dict with ``model`` (state dict), ``optimizer_state`` (same
    structure as the template), ``epoch`` (the last finished epoch; ``-1`` when
    none was), ``rng_state``, ``history`` (one float per epoch ``0..epoch``
    for every logged name), ``global_step`` (the steps of those epochs) and
    ``callback_states`` (each callback's ``state_dict`` by ``state_key``). A file written mid-epoch warns that its epoch starts
    over.
    Raises [`CheckpointError`][], naming the file and the problem, for a foreign,
    corrupted, modified or mismatched file.
    """
    name = os.fspath(path)
    tensors, metadata = _read(path)
    if metadata.get("format") != _FORMAT or metadata.get("kind") != "training":
        source = (
            "it holds only a network's weights (written by snx.save or as ModelCheckpoint's best.safetensors)"
            if metadata.get("format") == _FORMAT and metadata.get("kind") == "state_dict"
            else f"it holds only tensors, without epoch, history or optimizer state (metadata {metadata})"
        )
        raise CheckpointError(
            f"{name}: not an snnax-torchlike training checkpoint: {source}. Load weights with "
            "net.load_state_dict(snx.load(path)); to resume, pass a file written by Trainer.save_checkpoint or "
            "ModelCheckpoint (epoch-XXXX.safetensors)."
        )
    epoch = _parse_epoch(name, metadata)
    if model_arrays is not None:
        _check_architecture(name, {k[len(_MODEL) :]: v for k, v in tensors.items() if k.startswith(_MODEL)},
                            model_arrays)  # fmt: skip
    last_finished = epoch if _parse_finished(name, metadata) else epoch - 1
    checkpoint = {
        "model": {k[len(_MODEL) :]: v for k, v in tensors.items() if k.startswith(_MODEL)},
        "optimizer_state": _parse_optimizer(name, tensors, optimizer_state),
        "epoch": last_finished,
        "rng_state": _parse_rng(name, tensors),
        "history": _parse_history(name, metadata, last_finished),
        "global_step": _parse_global_step(name, metadata),
        "callback_states": _parse_callback_states(name, metadata),
    }
    if last_finished < epoch:  # warned once the whole file has loaded
        warnings.warn(
            f"{name}: written before epoch {epoch} finished (after Ctrl-C or a NonFiniteError, from a batch "
            f"callback, or before training): epoch {epoch} starts over from the parameters it had reached, so the "
            "run will not equal an uninterrupted one. For that, resume from a checkpoint written at an epoch's end "
            "(ModelCheckpoint's).",
            UserWarning,
            stacklevel=2,
        )
    return checkpoint
