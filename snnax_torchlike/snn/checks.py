"""Argument checks every layer of the package shares, so one wording and one rule serve them all."""

from __future__ import annotations

import numbers
from typing import Any


def positive_int(where: str, name: str, value: Any, *, meaning: str = "") -> int:
    """``value`` as a Python int if it is an integer ``>= 1``, else a clear error; never rounded or clamped.

    **Arguments:**

    - ``where``: who asks, starting the message (``"Trainer.fit"``, ``"StepLR"``).
    - ``name``: the argument's name.
    - ``value``: what the user gave.
    - ``meaning``: optionally, what the number counts (``"the number of newest
      checkpoints kept"``), added to the message.

    **Returns:** ``int(value)``. Raises ``TypeError`` for a non-integer (a bool,
    ``2.5``, ``"3"``), ``ValueError`` for an integer below 1.
    """
    what = f" ({meaning})" if meaning else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an int >= 1{what}, got {value!r} ({type(value).__name__}).")
    if value < 1:
        raise ValueError(f"{where}: {name} must be an int >= 1{what}, got {value}.")
    return int(value)
