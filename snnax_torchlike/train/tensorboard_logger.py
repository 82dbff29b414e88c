"""`TensorBoardLogger`: a run's values as TensorBoard event files, written by ``tensorboardX``."""

from __future__ import annotations

import itertools
import os
from typing import Any

from .logger import FolderLogger

__all__ = ["TensorBoardLogger"]

_WRITERS = itertools.count()
"""Numbers the writers of this process: two writers opened in the same second get distinct file names."""


def _summary_writer() -> Any:
    """``tensorboardX.SummaryWriter``, or an ``ImportError`` that says how to install it."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError as error:
        raise ImportError(
            "TensorBoardLogger needs tensorboardX, an optional dependency: install the tensorboard extra "
            '(pip install "snnax-torchlike[tensorboard]") or tensorboardX itself (pip install tensorboardX). '
            "CSVLogger needs nothing."
        ) from error
    return SummaryWriter


class TensorBoardLogger(FolderLogger):
    """Log to TensorBoard event files in ``save_dir/name/version_N`` (view with ``tensorboard --logdir save_dir``).

    Every logged value is a scalar under its name (``loss_step``, ``loss``,
    ``val_loss``, ``lr``, ``epoch``, ...) at its training step; the run's
    settings go to TensorBoard's HPARAMS tab, with the epoch's logged names as
    its metrics. A resumed run opens a new event file in the same folder that
    purges the steps logged after the checkpoint (``purge_step``), so
    TensorBoard shows each step once. See [`FolderLogger`][] for the folders and
    versions. Needs ``tensorboardX`` (the ``tensorboard`` extra); the event
    files are TensorBoard's format, readable without it.

    ```python
    net.fit(loader, epochs=10, optimizer=opt, loss_fn=loss, logger=snx.TensorBoardLogger("runs"))
    # tensorboard --logdir runs
    ```
    """

    def __init__(self, save_dir: str | os.PathLike, *, name: str = "", version: int | str | None = None):
        self._writer_class = _summary_writer()  # fails now, not when fit starts, when tensorboardX is missing
        super().__init__(save_dir, name=name, version=version)
        self._writer: Any = None
        self._metric_names: list[str] = []

    def _has_logs(self, folder: str) -> bool:
        return os.path.isdir(folder) and any(entry.startswith("events.out.tfevents") for entry in os.listdir(folder))

    def _open(self, first_step: int | None) -> None:
        self.finalize("success")
        suffix = f".{os.getpid()}.{next(_WRITERS)}"
        self._writer = self._writer_class(self.log_dir, purge_step=first_step, filename_suffix=suffix)

    def on_fit_start(self, trainer: Any) -> None:
        """Open the event file (as [`FolderLogger`][]), noting the epoch's logged names for the HPARAMS tab."""
        self._metric_names = list(trainer.logged_names)
        super().on_fit_start(trainer)

    def log_hyperparams(self, params: dict[str, Any]) -> None:
        """Write ``params`` to TensorBoard's HPARAMS tab (values other than numbers, strings and bools as strings)."""
        from tensorboardX.summary import hparams

        values = {
            name: value if isinstance(value, (bool, int, float, str)) else str(value) for name, value in params.items()
        }
        writer = self._writer._get_file_writer()
        for summary in hparams(values, dict.fromkeys(self._metric_names, 0.0)):
            writer.add_summary(summary)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Write each value of ``metrics`` as a scalar at ``step``."""
        for name, value in metrics.items():
            self._writer.add_scalar(name, float(value), step)

    def on_train_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Log the epoch's values (as [`Logger`][]) and flush the event file."""
        super().on_train_epoch_end(trainer, epoch, logs)
        if self._writer is not None:
            self._writer.flush()

    def finalize(self, status: str) -> None:
        """Close the event file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
