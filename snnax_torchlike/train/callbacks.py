"""Callbacks: hooks into ``fit`` with Lightning's names."""

from __future__ import annotations

import math
import os
import re
from typing import TYPE_CHECKING, Any

from .checkpoint import remove_stale_temporaries, save

if TYPE_CHECKING:
    from .trainer import Trainer


class Callback:
    """Base class; override the hooks you need. ``trainer.should_stop = True`` ends ``fit``.

    The model's parameters are up to date (written back from the compiled step)
    whenever an epoch-level hook runs.
    """

    def on_fit_start(self, trainer: Trainer) -> None: ...

    def on_train_epoch_start(self, trainer: Trainer, epoch: int) -> None: ...

    def on_train_batch_end(self, trainer: Trainer, batch_index: int, loss: Any) -> None:
        """After each step; ``loss`` is a device scalar (``float(loss)`` waits for the step)."""

    def on_train_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None: ...

    def on_fit_end(self, trainer: Trainer) -> None: ...


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, monitor: str = "val_loss", patience: int = 3, mode: str = "min", min_delta: float = 0.0):
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}.")
        self.monitor = monitor
        self.patience = int(patience)
        self.mode = mode
        self.min_delta = float(min_delta)
        self.best = math.inf if mode == "min" else -math.inf
        self.wait = 0
        self.stopped_epoch: int | None = None

    def on_fit_start(self, trainer: Trainer) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.stopped_epoch = None

    def on_train_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise KeyError(f"EarlyStopping: monitor {self.monitor!r} is not logged; available: {sorted(logs)}.")
        value = logs[self.monitor]
        improved = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if improved:
            self.best = value
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.should_stop = True


class ModelCheckpoint(Callback):
    """Write a training checkpoint after every epoch; keep the newest ``keep_last``.

    Files are ``dirpath/epoch-XXXX.safetensors`` (resumable with
    ``fit(..., ckpt_path=...)``). With ``monitor`` (e.g. ``"val_loss"``), the
    weights of the best epoch so far also go to ``dirpath/best.safetensors``
    (a torch-readable state dict; load with ``snx.load``).

    At the start of each ``fit`` the folder is scanned: ``epoch-*.safetensors``
    files already there (from a run before a restart) count towards
    ``keep_last``, oldest epoch first, so they are deleted as new ones are
    written; temporary files of saves interrupted by a crash are removed. On a
    resumed run the best value of ``monitor`` is taken from the restored
    history, so ``best.safetensors`` is only replaced by a better epoch.
    """

    _EPOCH_FILE = re.compile(r"epoch-([0-9]{4,})\.safetensors")

    def __init__(self, dirpath: str, *, keep_last: int = 1, monitor: str | None = None, mode: str = "min"):
        if keep_last < 1:
            raise ValueError(f"ModelCheckpoint: keep_last must be >= 1, got {keep_last}.")
        if mode not in ("min", "max"):
            raise ValueError(f"ModelCheckpoint: mode must be 'min' or 'max', got {mode!r}.")
        self.dirpath = dirpath
        self.keep_last = int(keep_last)
        self.monitor = monitor
        self.mode = mode
        self.best = math.inf if mode == "min" else -math.inf
        self.saved: list[str] = []

    def _writes(self, name: str) -> bool:
        """Whether this callback writes files named ``name``."""
        return name == "best.safetensors" or self._EPOCH_FILE.fullmatch(name) is not None

    def _is_better(self, value: float) -> bool:
        return value < self.best if self.mode == "min" else value > self.best

    def on_fit_start(self, trainer: Trainer) -> None:
        found = []
        for name in os.listdir(self.dirpath) if os.path.isdir(self.dirpath) else ():
            match = self._EPOCH_FILE.fullmatch(name)
            if match is not None:
                found.append((int(match.group(1)), os.path.join(self.dirpath, name)))
        remove_stale_temporaries(self.dirpath, self._writes)
        self.saved = [path for _, path in sorted(found)]
        self.best = math.inf if self.mode == "min" else -math.inf
        if self.monitor is not None:
            for value in trainer.history.history.get(self.monitor, []):
                if self._is_better(value):
                    self.best = value

    def on_train_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        path = os.path.join(self.dirpath, f"epoch-{epoch:04d}.safetensors")
        trainer.save_checkpoint(path)
        if path in self.saved:  # rewritten after a resume: now the newest
            self.saved.remove(path)
        self.saved.append(path)
        while len(self.saved) > self.keep_last:
            old = self.saved.pop(0)
            if os.path.exists(old):
                os.remove(old)
        if self.monitor is not None:
            if self.monitor not in logs:
                raise KeyError(f"ModelCheckpoint: monitor {self.monitor!r} is not logged; available: {sorted(logs)}.")
            value = logs[self.monitor]
            if self._is_better(value):
                self.best = value
                save(trainer.model, os.path.join(self.dirpath, "best.safetensors"))

    @property
    def last_path(self) -> str | None:
        """The newest checkpoint (written by this callback, or found in ``dirpath`` when ``fit`` started), or None."""
        return self.saved[-1] if self.saved else None
