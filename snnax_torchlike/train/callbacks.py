"""Callbacks: hooks into ``fit`` with Lightning's names."""

from __future__ import annotations

import math
import os
import re
import tempfile
from typing import TYPE_CHECKING, Any

from ..snn.checks import positive_int
from .checkpoint import make_folder, remove_stale_temporaries, save

if TYPE_CHECKING:
    from .trainer import Trainer


class Callback:
    """Base class; override the hooks you need. ``trainer.should_stop = True`` ends ``fit``.

    The model's parameters are up to date (written back from the compiled step)
    whenever an epoch-level hook runs. ``fit`` calls, in this order:
    ``on_fit_start``; per epoch ``on_train_epoch_start``, per batch
    ``on_train_batch_end`` (and ``on_train_step_logs`` every ``log_every_n_steps``
    steps), then ``on_train_epoch_end``; finally ``on_fit_end``, or
    ``on_exception`` when ``fit`` raises.

    A callback with state to keep across a restart returns it from
    ``state_dict`` (JSON values); training checkpoints store it under
    ``state_key`` and a resumed ``fit`` hands it to ``load_state_dict`` before
    ``on_fit_start``.
    """

    def on_fit_start(self, trainer: Trainer) -> None:
        """Before the first step of ``fit`` (after a checkpoint given as ``ckpt_path`` was restored)."""

    def on_train_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        """Before the first step of epoch ``epoch`` (counted from 0)."""

    def on_train_batch_end(self, trainer: Trainer, batch_index: int, loss: Any) -> None:
        """After each step; ``loss`` is a device scalar (``float(loss)`` waits for the step)."""

    def on_train_step_logs(self, trainer: Trainer, step: int, logs: dict[str, float]) -> None:
        """The values of training step ``step`` (``trainer.global_step`` counting), every ``log_every_n_steps``.

        ``logs`` holds the batch's ``loss`` and metrics (means over its real
        samples), ``lr`` (the rate the step used), ``epoch`` (the step's, from
        0) and, with ``fit(..., log_grad_norm=True)``, ``grad_norm``. It is called one log
        interval late (at the latest when the epoch ends), once the step has
        finished, so reading the values never makes the host wait for the device.
        """

    def on_train_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        """After epoch ``epoch``: ``logs`` holds its means, ``lr`` and the ``val_`` results (as ``History``)."""

    def on_fit_end(self, trainer: Trainer) -> None:
        """After the last epoch, after an early stop, and after Ctrl-C."""

    def on_exception(self, trainer: Trainer, error: BaseException) -> None:
        """When ``fit`` raises ``error`` (e.g. a [`NonFiniteError`][]), before it propagates; ``on_fit_end`` is not called."""

    @property
    def state_key(self) -> str:
        """The name this callback's ``state_dict`` is stored under in a training checkpoint (its class's name)."""
        return type(self).__qualname__

    def state_dict(self) -> dict[str, Any]:
        """What a training checkpoint keeps of this callback (JSON values); nothing by default."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned, when ``fit`` resumes from a checkpoint."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, monitor: str = "val_loss", patience: int = 3, mode: str = "min", min_delta: float = 0.0):
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}.")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}.")
        if not isinstance(monitor, str):
            raise TypeError(f"EarlyStopping: monitor must be the name of a logged value (a str), got {monitor!r}.")
        # A negative min_delta would count a worse value as an improvement: training would never stop.
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) or not 0 <= min_delta < math.inf:
            raise ValueError(f"EarlyStopping: min_delta must be a finite number >= 0, got {min_delta!r}.")
        self.monitor = monitor
        self.patience = patience
        self.mode = mode
        self.min_delta = float(min_delta)
        self.best = math.inf if mode == "min" else -math.inf
        self.wait = 0
        self.stopped_epoch: int | None = None

    def on_fit_start(self, trainer: Trainer) -> None:
        """Start counting afresh: no best value yet, no epochs waited."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.stopped_epoch = None

    def on_train_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        """Compare ``logs[monitor]`` with the best so far; after ``patience`` epochs without improvement, stop ``fit``.

        Raises ``KeyError`` if ``monitor`` is not logged (the message lists what is).
        """
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

    Before the first step, ``fit`` creates the folder and checks that it can
    write there, and a new run (not resumed from a checkpoint) into a folder
    holding another run's checkpoints raises `FileExistsError` instead of
    overwriting and deleting them.
    """

    _EPOCH_FILE = re.compile(r"epoch-([0-9]{4,})\.safetensors")

    def __init__(
        self, dirpath: str | os.PathLike, *, keep_last: int = 1, monitor: str | None = None, mode: str = "min"
    ):
        if not isinstance(dirpath, (str, os.PathLike)):
            raise TypeError(
                f"ModelCheckpoint: dirpath must be a folder path (str or os.PathLike), got {dirpath!r} "
                f"({type(dirpath).__name__})."
            )
        keep_last = positive_int(
            "ModelCheckpoint", "keep_last", keep_last, meaning="the number of newest checkpoints kept"
        )
        if monitor is not None and not isinstance(monitor, str):
            raise TypeError(f"ModelCheckpoint: monitor must be a logged name (str) or None, got {monitor!r}.")
        if mode not in ("min", "max"):
            raise ValueError(f"ModelCheckpoint: mode must be 'min' or 'max', got {mode!r}.")
        if os.path.exists(dirpath) and not os.path.isdir(dirpath):
            raise NotADirectoryError(
                f"ModelCheckpoint: dirpath {str(dirpath)!r} is a file, not a folder; checkpoints are written "
                "into a folder (created if missing)."
            )
        self.dirpath = dirpath
        self.keep_last = int(keep_last)
        self.monitor = monitor
        self.mode = mode
        self.best = math.inf if mode == "min" else -math.inf
        self.saved: list[str] = []
        self._written: set[str] = set()  # files this callback wrote: a later fit of the same run may replace them

    def _writes(self, name: str) -> bool:
        """Whether this callback writes files named ``name`` (its write check's included)."""
        return name in ("best.safetensors", "write-check") or self._EPOCH_FILE.fullmatch(name) is not None

    def _is_better(self, value: float) -> bool:
        return value < self.best if self.mode == "min" else value > self.best

    def _check_writable(self) -> None:
        """Create the folder and write a file there now, so a bad ``dirpath`` fails before the first step."""
        make_folder(self.dirpath, "ModelCheckpoint")
        try:
            handle, probe = tempfile.mkstemp(dir=self.dirpath, prefix=".write-check.tmp-", suffix=".safetensors")
        except OSError as error:
            raise type(error)(
                error.errno,
                f"ModelCheckpoint: cannot write into dirpath {os.fspath(self.dirpath)!r} ({error.strerror}); "
                "pass a writable folder",
            ) from error
        os.close(handle)
        os.remove(probe)

    def _refuse_another_runs_files(self, trainer: Trainer, found: list[str]) -> None:
        """A new run would overwrite and delete another run's checkpoints: stop before it does."""
        if trainer.history.epoch:
            return  # resumed: the files are this run's own, from before the restart
        best = os.path.join(self.dirpath, "best.safetensors")
        theirs = [path for path in found + ([best] if os.path.exists(best) else []) if path not in self._written]
        if theirs:
            names = sorted(os.path.basename(path) for path in theirs)
            newest = found[-1] if found else best
            raise FileExistsError(
                f"ModelCheckpoint: dirpath {os.fspath(self.dirpath)!r} already holds checkpoints of another run "
                f"({', '.join(names[:4])}{', ...' if len(names) > 4 else ''}), which this new run would overwrite "
                f"and delete. To continue that run, pass fit(..., ckpt_path={newest!r}); to start over, pass "
                "another dirpath or delete those files first."
            )

    def on_fit_start(self, trainer: Trainer) -> None:
        """Prepare the folder: check that it is writable, count the checkpoints already there, remove temporary files.

        A new run into a folder that holds another run's checkpoints raises
        ``FileExistsError``; a resumed run takes the best ``monitor`` value from the history.
        """
        self._check_writable()
        found = []
        for name in os.listdir(self.dirpath):
            match = self._EPOCH_FILE.fullmatch(name)
            if match is not None:
                found.append((int(match.group(1)), os.path.join(self.dirpath, name)))
        self._refuse_another_runs_files(trainer, [path for _, path in sorted(found)])
        remove_stale_temporaries(self.dirpath, self._writes)
        self.saved = [path for _, path in sorted(found)]
        self.best = math.inf if self.mode == "min" else -math.inf
        if self.monitor is not None:
            for value in trainer.history.history.get(self.monitor, []):
                if self._is_better(value):
                    self.best = value

    def on_train_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        """Write ``epoch-XXXX.safetensors``, delete the oldest beyond ``keep_last``, and update ``best.safetensors``.

        Raises ``KeyError`` if ``monitor`` is given but not logged.
        """
        path = os.path.join(self.dirpath, f"epoch-{epoch:04d}.safetensors")
        trainer.save_checkpoint(path)
        self._written.add(path)
        if path in self.saved:  # rewritten after a resume: now the newest
            self.saved.remove(path)
        self.saved.append(path)
        while len(self.saved) > self.keep_last:
            old = self.saved.pop(0)
            if os.path.exists(old):
                os.remove(old)
        if self.monitor is not None:
            if self.monitor not in logs:
                hint = (
                    " (val_ names are logged only with fit(..., val_loader=...))"
                    if self.monitor.startswith("val_") and not any(name.startswith("val_") for name in logs)
                    else ""
                )
                raise KeyError(
                    f"ModelCheckpoint: monitor {self.monitor!r} is not logged{hint}; available: {sorted(logs)}."
                )
            value = logs[self.monitor]
            if self._is_better(value):
                self.best = value
                best = os.path.join(self.dirpath, "best.safetensors")
                save(trainer.model, best)
                self._written.add(best)

    @property
    def last_path(self) -> str | None:
        """The newest checkpoint (written by this callback, or found in ``dirpath`` when ``fit`` started), or None."""
        return self.saved[-1] if self.saved else None
