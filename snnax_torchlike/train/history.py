"""The record of a training run."""

from __future__ import annotations


class History:
    """Per-epoch logs of ``fit``, like Keras' ``History``.

    ``history.history`` maps each logged name (``"loss"``, metric names, and
    ``"val_..."`` with a validation loader) to a list with one float per epoch;
    ``history["loss"]`` is a shortcut; ``history.epoch`` lists the epoch indices.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        """Each logged name (``"loss"``, metric names, ``lr``, ``"val_..."``) to its values, one float per epoch."""
        self.epoch: list[int] = []
        """The indices of the recorded epochs (from 0; a resumed run continues the count)."""

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        """Record epoch ``epoch``: append each value of ``logs`` (name to number) to its list, as a float."""
        self.epoch.append(epoch)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(float(value))

    def __getitem__(self, name: str) -> list[float]:
        return self.history[name]

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"
