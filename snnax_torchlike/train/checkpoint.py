"""Checkpoints in safetensors: model weights under torch's names, and full training state.

``save(net, path)`` writes ``net.state_dict()``; torch reads it with
``safetensors.torch.load_file(path)`` and ``load_state_dict`` of a mirrored torch
model. A training checkpoint adds the optimizer state, the epoch, the history
and the position of the library's PRNG stream, so ``fit(..., ckpt_path=path)``
continues exactly where the run stopped. Writes are atomic (a temporary file,
then a rename), so a crash never leaves half a file under ``path``; every file
carries a SHA-256 of its tensors, verified on load, so a corrupted file raises
[`CheckpointError`][] instead of loading garbage.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file, save_file

from ..nn.module import Module, to_numpy

__all__ = ["save", "load", "save_training_checkpoint", "load_training_checkpoint", "CheckpointError"]

_FORMAT = "snnax-torchlike"
_MODEL, _OPTIMIZER, _RNG = "model.", "optimizer.", "rng.key"


class CheckpointError(ValueError):
    """A file is not a readable checkpoint of the expected kind."""


def _checksum(tensors: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _atomic_save(tensors: dict[str, np.ndarray], path: str | os.PathLike, metadata: dict[str, str]) -> None:
    path = os.fspath(path)
    tensors = {k: np.asarray(v, order="C") for k, v in tensors.items()}
    metadata = {**metadata, "sha256": _checksum(tensors)}
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".safetensors")
    os.close(handle)
    try:
        save_file(tensors, temporary, metadata=metadata)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    try:
        tensors = load_file(os.fspath(path))
        with safe_open(os.fspath(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{os.fspath(path)}: not a readable safetensors file ({error}).") from error
    # Files written by other tools (torch's safetensors) carry no checksum; ours always do.
    expected = metadata.get("sha256")
    if expected is not None and expected != _checksum(tensors):
        raise CheckpointError(
            f"{os.fspath(path)}: checksum mismatch: the file was modified or corrupted after it was written."
        )
    return tensors, metadata


def save(state: Module | Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a module's ``state_dict`` (or a state dict) to ``path`` in safetensors."""
    state_dict = state.state_dict() if isinstance(state, Module) else {k: to_numpy(v) for k, v in state.items()}
    _atomic_save(dict(state_dict), path, {"format": _FORMAT, "kind": "state_dict"})


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a state dict (numpy arrays, torch names) written by ``save`` or by torch's safetensors."""
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
) -> None:
    """Everything ``fit`` needs to continue: weights, optimizer state, epoch, history, PRNG position."""
    tensors = {_MODEL + name: value for name, value in model.state_dict().items()}
    for index, leaf in enumerate(jax.tree_util.tree_leaves(optimizer_state)):
        tensors[f"{_OPTIMIZER}{index}"] = np.asarray(leaf)
    tensors[_RNG] = np.asarray(rng_state)
    metadata = {
        "format": _FORMAT,
        "kind": "training",
        "epoch": str(int(epoch)),
        "history": json.dumps(history),
    }
    _atomic_save(tensors, path, metadata)


def load_training_checkpoint(path: str | os.PathLike, optimizer_state: Any) -> dict[str, Any]:
    """Read a training checkpoint; ``optimizer_state`` is a template of the expected structure.

    **Returns:** a dict with ``model`` (state dict), ``optimizer_state`` (same
    structure as the template), ``epoch``, ``rng_state`` and ``history``.
    Raises [`CheckpointError`][] for a foreign or mismatched file.
    """
    tensors, metadata = _read(path)
    if metadata.get("format") != _FORMAT or metadata.get("kind") != "training":
        raise CheckpointError(f"{os.fspath(path)}: not an snnax-torchlike training checkpoint (metadata {metadata}).")
    leaves, treedef = jax.tree_util.tree_flatten(optimizer_state)
    saved = sorted((int(k[len(_OPTIMIZER) :]), v) for k, v in tensors.items() if k.startswith(_OPTIMIZER))
    if len(saved) != len(leaves):
        raise CheckpointError(
            f"{os.fspath(path)}: the optimizer state has {len(saved)} arrays, the current optimizer {len(leaves)}; "
            "was it saved with another optimizer?"
        )
    restored = []
    for (index, value), leaf in zip(saved, leaves):
        if tuple(value.shape) != tuple(np.shape(leaf)):
            raise CheckpointError(
                f"{os.fspath(path)}: optimizer array {index} has shape {value.shape}, expected {np.shape(leaf)}."
            )
        restored.append(jax.numpy.asarray(value, dtype=np.asarray(leaf).dtype))
    return {
        "model": {k[len(_MODEL) :]: v for k, v in tensors.items() if k.startswith(_MODEL)},
        "optimizer_state": jax.tree_util.tree_unflatten(treedef, restored),
        "epoch": int(metadata["epoch"]),
        "rng_state": tensors[_RNG],
        "history": json.loads(metadata["history"]),
    }
