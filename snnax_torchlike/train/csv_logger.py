"""`CSVLogger`: a run's values in a CSV file, readable by any spreadsheet or ``pandas.read_csv``."""

from __future__ import annotations

import csv
import json
import os
from typing import Any

from ..snn.checks import positive_int
from .checkpoint import write_atomically
from .logger import FolderLogger

__all__ = ["CSVLogger"]

_FIXED_COLUMNS = ("epoch", "step")


class CSVLogger(FolderLogger):
    """Log to ``save_dir/name/version_N/metrics.csv``, with the run's settings in ``hparams.json``.

    Lightning's layout and columns: one row per ``log_metrics`` call, with
    ``epoch`` and ``step`` first, then one column per logged name in the order
    they first appeared (a row leaves the names it lacks empty). Per-step rows
    hold ``loss_step``, the metrics' ``<name>_step`` and ``lr_step``; per-epoch
    rows hold the epoch's [`History`][] entries. Floats are written exactly
    (``repr``), so reading the file gives back the logged values.

    Rows are written at each epoch's end, every ``flush_logs_every_n_steps``
    rows and when ``fit`` ends (also when it fails). See [`FolderLogger`][] for
    the folders, versions and resumed runs; no dependency beyond Python.

    ```python
    net.fit(loader, epochs=10, optimizer=opt, loss_fn=loss, logger=snx.CSVLogger("logs"))
    pandas.read_csv("logs/version_0/metrics.csv")
    ```
    """

    def __init__(
        self,
        save_dir: str | os.PathLike,
        *,
        name: str = "",
        version: int | str | None = None,
        flush_logs_every_n_steps: int = 100,
    ):
        super().__init__(save_dir, name=name, version=version)
        self.flush_logs_every_n_steps = positive_int("CSVLogger", "flush_logs_every_n_steps", flush_logs_every_n_steps)
        self._rows: list[dict[str, str]] = []
        self._columns: list[str] = list(_FIXED_COLUMNS)
        self._written_rows = 0
        self._written_columns: list[str] | None = None
        self._epoch = 0

    @property
    def metrics_file(self) -> str | None:
        """The path of ``metrics.csv`` (None until ``fit`` starts)."""
        return None if self.log_dir is None else os.path.join(self.log_dir, "metrics.csv")

    def _has_logs(self, folder: str) -> bool:
        return os.path.exists(os.path.join(folder, "metrics.csv"))

    def _open(self, first_step: int | None) -> None:
        self._rows, self._columns = [], list(_FIXED_COLUMNS)
        self._written_rows, self._written_columns, self._epoch = 0, None, 0
        if first_step is None or not os.path.exists(self.metrics_file):
            return
        with open(self.metrics_file, newline="") as handle:
            reader = csv.DictReader(handle)
            columns = list(reader.fieldnames or ())
            self._rows = [row for row in reader if int(row["step"]) < first_step]
        self._columns += [column for column in columns if column not in _FIXED_COLUMNS]
        self._rewrite()  # the rows past the checkpoint are gone before the resumed run logs its own

    def log_hyperparams(self, params: dict[str, Any]) -> None:
        """Write ``params`` to ``hparams.json`` in the run's folder."""
        text = json.dumps(params, indent=2, default=str)

        def write(temporary: str) -> None:
            with open(temporary, "w") as handle:
                handle.write(text + "\n")

        write_atomically(os.path.join(self.log_dir, "hparams.json"), write, "CSVLogger: cannot write hparams.json")

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Add a row of ``metrics`` at ``step``; rows are written every ``flush_logs_every_n_steps``."""
        if "epoch" in metrics:
            self._epoch = int(metrics["epoch"])
        row = {"epoch": str(self._epoch), "step": str(int(step))}
        for name, value in metrics.items():
            if name == "epoch":
                continue
            if name not in self._columns:
                self._columns.append(name)
            row[name] = repr(float(value))
        self._rows.append(row)
        if len(self._rows) - self._written_rows >= self.flush_logs_every_n_steps:
            self._flush()

    def on_train_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Log the epoch's values (as [`Logger`][]) and write the rows so far to ``metrics.csv``."""
        super().on_train_epoch_end(trainer, epoch, logs)
        if self.log_dir is not None:
            self._flush()

    def finalize(self, status: str) -> None:
        """Write the rows not yet written to ``metrics.csv``."""
        if self.log_dir is not None:
            self._flush()

    def _flush(self) -> None:
        """Append the new rows; rewrite the whole file when a new column appeared since it was written."""
        if self._written_columns != self._columns:
            self._rewrite()
            return
        with open(self.metrics_file, "a", newline="") as handle:
            writer = csv.DictWriter(handle, self._columns)
            writer.writerows(self._rows[self._written_rows :])
        self._written_rows = len(self._rows)

    def _rewrite(self) -> None:
        rows, columns = list(self._rows), list(self._columns)

        def write(temporary: str) -> None:
            with open(temporary, "w", newline="") as handle:
                writer = csv.DictWriter(handle, columns)
                writer.writeheader()
                writer.writerows(rows)

        write_atomically(self.metrics_file, write, "CSVLogger: cannot write metrics.csv")
        self._written_rows, self._written_columns = len(rows), columns
