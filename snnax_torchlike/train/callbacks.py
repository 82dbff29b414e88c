"""Callbacks: hooks into ``fit`` with Lightning's names."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from .checkpoint import save

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
    """

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

    def on_train_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        path = os.path.join(self.dirpath, f"epoch-{epoch:04d}.safetensors")
        trainer.save_checkpoint(path)
        self.saved.append(path)
        while len(self.saved) > self.keep_last:
            old = self.saved.pop(0)
            if os.path.exists(old):
                os.remove(old)
        if self.monitor is not None:
            if self.monitor not in logs:
                raise KeyError(f"ModelCheckpoint: monitor {self.monitor!r} is not logged; available: {sorted(logs)}.")
            value = logs[self.monitor]
            if (value < self.best) if self.mode == "min" else (value > self.best):
                self.best = value
                save(trainer.model, os.path.join(self.dirpath, "best.safetensors"))

    @property
    def last_path(self) -> str | None:
        """The newest checkpoint written, or None."""
        return self.saved[-1] if self.saved else None
