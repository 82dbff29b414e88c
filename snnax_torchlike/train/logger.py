"""`Logger`: a callback that records a run's values somewhere (a CSV file, TensorBoard, your own)."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import jax

from .callbacks import Callback

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = ["Logger", "FolderLogger"]

STEP_SUFFIX = "_step"
"""Appended to the names of per-step values (``loss_step``), as Lightning does, so they never mix with the epoch's."""


class Logger(Callback):
    """Base class of loggers: ``fit`` hands it the run's values, it records them.

    A logger is a [`Callback`][]: pass it as ``fit(..., logger=...)``,
    ``Trainer(logger=...)`` or among the callbacks. A subclass implements
    ``log_metrics`` and, where it records them, ``log_hyperparams`` and
    ``finalize``; the hooks of this class call them:

    - when ``fit`` starts: ``log_hyperparams(trainer.hparams)``;
    - every ``log_every_n_steps`` training steps: ``log_metrics(values, step)``
      with the step's ``epoch``, ``loss_step``, one ``<metric>_step`` per
      metric, ``lr_step`` and, with ``log_grad_norm=True``, ``grad_norm_step``;
    - after each epoch: ``log_metrics(values, step)`` with ``epoch`` and the
      epoch's entries of the [`History`][] (``loss``, metrics, ``lr``,
      ``val_...``), at the step that ended the epoch;
    - when ``fit`` ends: ``finalize("success")``, also after an early stop or
      Ctrl-C; ``finalize("failed")`` when it raises.

    ``step`` counts training steps (batches) from the start of the run, resumed
    runs included (``trainer.global_step``). Under data parallelism over several
    processes, only process 0 calls these methods, so nothing is logged twice.
    """

    def log_hyperparams(self, params: dict[str, Any]) -> None:
        """Record the run's settings (``trainer.hparams``: names to numbers, strings, bools or None)."""

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Record ``metrics`` (names to floats) as the values of training step ``step``."""
        raise NotImplementedError(f"{type(self).__name__} must implement log_metrics(metrics, step).")

    def finalize(self, status: str) -> None:
        """Write out and close what the logger holds; ``status`` is ``"success"`` or ``"failed"``."""

    def on_fit_start(self, trainer: Trainer) -> None:
        """Call ``log_hyperparams(trainer.hparams)``."""
        if _logs_here():
            self.log_hyperparams(dict(trainer.hparams))

    def on_train_step_logs(self, trainer: Trainer, step: int, logs: dict[str, float]) -> None:
        """Call ``log_metrics`` with the step's values, named ``<name>_step`` (``epoch`` as it is)."""
        if _logs_here():
            values = {name if name == "epoch" else name + STEP_SUFFIX: value for name, value in logs.items()}
            self.log_metrics(values, step)

    def on_train_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        """Call ``log_metrics`` with ``epoch`` and the epoch's values, at the step that ended the epoch."""
        if _logs_here():
            self.log_metrics({"epoch": float(epoch), **logs}, trainer.global_step - 1)

    def on_fit_end(self, trainer: Trainer) -> None:
        """Call ``finalize("success")``."""
        if _logs_here():
            self.finalize("success")

    def on_exception(self, trainer: Trainer, error: BaseException) -> None:
        """Call ``finalize("failed")``."""
        if _logs_here():
            self.finalize("failed")


def _logs_here() -> bool:
    """Whether this process logs: process 0 only, so a multi-process run logs each value once."""
    return jax.process_index() == 0


_VERSION = re.compile(r"version_([0-9]+)")


class FolderLogger(Logger):
    """A logger writing into ``save_dir/name/version_N``, Lightning's layout; the base of the built-in loggers.

    Each new run (a ``fit`` that does not resume) writes into the next free
    ``version_N`` folder, so runs never overwrite each other and TensorBoard
    shows one curve per run. A run resumed from a training checkpoint
    (``fit(..., ckpt_path=...)``) continues the logs of the run that wrote the
    checkpoint, in its version folder: values of the steps that run logged after
    the checkpoint are dropped (they are logged again), so no step appears twice.

    **Arguments:**

    - ``save_dir``: the folder of the logs (created when ``fit`` starts).
    - ``name``: a subfolder for this experiment (default ``""``: none).
    - ``version``: the version to write, an int (``version_N``) or a folder
      name; default None: the next free one, or the resumed run's. A new run
      into a given version that holds logs raises `FileExistsError`.

    Subclasses implement ``_has_logs(folder)`` and ``_open(first_step)``, which
    starts writing with the values of steps ``>= first_step`` dropped (None: a
    new run, nothing to drop).
    """

    def __init__(self, save_dir: str | os.PathLike, *, name: str = "", version: int | str | None = None):
        who = type(self).__name__
        if not isinstance(save_dir, (str, os.PathLike)):
            raise TypeError(f"{who}: save_dir must be a folder path (str or os.PathLike), got {save_dir!r}.")
        if os.path.exists(save_dir) and not os.path.isdir(save_dir):
            raise NotADirectoryError(f"{who}: save_dir {os.fspath(save_dir)!r} is a file, not a folder.")
        if not isinstance(name, str):
            raise TypeError(f"{who}: name must be a str (a subfolder), got {name!r}.")
        if version is not None and (isinstance(version, bool) or not isinstance(version, (int, str))):
            raise TypeError(f"{who}: version must be an int, a folder name or None, got {version!r}.")
        if isinstance(version, int) and version < 0:
            raise ValueError(f"{who}: version must be >= 0, got {version}.")
        self.save_dir = os.fspath(save_dir)
        self.name = name
        self._given_version = version
        self._resumed_version: str | None = None
        self.version: str | None = None
        """The version folder this run writes into (``version_N``); None until ``fit`` starts."""

    @property
    def root_dir(self) -> str:
        """``save_dir/name``: the folder holding one ``version_N`` folder per run."""
        return os.path.join(self.save_dir, self.name)

    @property
    def log_dir(self) -> str | None:
        """The folder this run's logs go to (``save_dir/name/version_N``); None until ``fit`` starts."""
        return None if self.version is None else os.path.join(self.root_dir, self.version)

    @property
    def state_key(self) -> str:
        """The class's name and ``root_dir``: a checkpoint keeps one state per logger folder."""
        return f"{type(self).__qualname__}:{os.path.normpath(self.root_dir)}"

    def state_dict(self) -> dict[str, Any]:
        """``{"version": version}`` once ``fit`` has started: a resumed run logs into the same folder."""
        return {} if self.version is None else {"version": self.version}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take the version a checkpoint's run logged into, for the resumed ``fit`` to continue in it."""
        version = state.get("version")
        if not isinstance(version, str):
            raise ValueError(f"{type(self).__name__}: a checkpoint's logger state must name a version, got {state!r}.")
        self._resumed_version = version

    def _next_version(self) -> str:
        taken = [
            int(match.group(1))
            for entry in (os.listdir(self.root_dir) if os.path.isdir(self.root_dir) else ())
            if (match := _VERSION.fullmatch(entry)) is not None
        ]
        return f"version_{max(taken, default=-1) + 1}"

    def on_fit_start(self, trainer: Trainer) -> None:
        """Choose the version folder (the given one, the resumed run's or the next free one), open it, log the settings.

        A new run into a version that holds logs raises ``FileExistsError``.
        """
        resumed_version, self._resumed_version = self._resumed_version, None
        if not _logs_here():
            return
        given = self._given_version
        if given is not None:
            self.version = given if isinstance(given, str) else f"version_{given}"
        elif trainer.ckpt_path is not None and resumed_version is not None:
            self.version = resumed_version
        else:
            self.version = self._next_version()
        resumed = trainer.ckpt_path is not None
        if not resumed and self._has_logs(self.log_dir):
            raise FileExistsError(
                f"{type(self).__name__}: {self.log_dir!r} already holds the logs of another run, which this new "
                "run would mix with its own. Resume that run with fit(..., ckpt_path=...), or leave version= "
                "unset to write into the next free version folder."
            )
        os.makedirs(self.log_dir, exist_ok=True)
        self._open(trainer.global_step if resumed else None)
        super().on_fit_start(trainer)

    def _has_logs(self, folder: str) -> bool:
        raise NotImplementedError

    def _open(self, first_step: int | None) -> None:
        raise NotImplementedError
