"""The core's renamed public names, kept as aliases that warn: a package's module-level ``__getattr__``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

RENAMED: dict[str, str] = {
    # Current-based, two decays: ``LIF`` is NIR's first-order neuron in the facade (``nn.LIF``).
    "LIF": "CurrentBasedLIF",
    "LIFState": "CurrentBasedLIFState",
    "LIFSoftReset": "CurrentBasedLIFSoftReset",
    # The neuron of every NIR ODE node and Norse cell, not only a CubaLIF (``nn.CubaLIF``'s core layer).
    "CubaLIF": "ODENeuron",
    "CubaLIFState": "ODENeuronState",
}
"""Old name -> new name, for every public name of the core that was renamed."""


def deprecated_getattr(package: str, namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that serves each old name of [`RENAMED`][] as its new one, with a warning.

    **Arguments:** ``package``: the package as users write it (``"snn"``), for the
    message; ``namespace``: the package's ``globals()``, which hold the new names.

    **Returns:** the ``__getattr__``: an old name warns ``DeprecationWarning`` naming
    the new one and returns the same object; any other name raises ``AttributeError``.
    """

    def __getattr__(name: str) -> Any:
        if name in RENAMED:
            new = RENAMED[name]
            warnings.warn(f"{package}.{name} is deprecated; use {package}.{new}.", DeprecationWarning, stacklevel=2)
            return namespace[new]
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")

    return __getattr__
