"""Bridges to the torch world, installed as ``snnax_torchlike.interop``.

This package may use torch, snntorch, norse and nir (optional extras); it imports
them only when a bridge is called, so ``import snnax_torchlike.interop`` works
without them. Nothing else in ``snnax_torchlike`` imports this package.

- ``torch_loader(loader, ...)``, ``collate_padded(pad_to)``: a torch DataLoader as
  fixed-shape, time-first, prefetched device batches.
- ``from_snntorch(module)`` / ``to_snntorch(net)``: snnTorch networks in and out,
  with snnTorch's numerics.

Planned (the interop issue): Norse import, NIR import and export.
"""

from .loader import collate_padded, pad_time, torch_loader
from .snntorch import SUPPORTED_MODULES, UnsupportedModuleError, from_snntorch, to_snntorch

__all__ = [
    "torch_loader",
    "collate_padded",
    "pad_time",
    "from_snntorch",
    "to_snntorch",
    "SUPPORTED_MODULES",
    "UnsupportedModuleError",
]
