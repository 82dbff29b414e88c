"""Bridges to the torch world, installed as ``snnax_torchlike.interop``.

This package may use torch, snntorch, norse and nir (optional extras); it imports
them only when a bridge is called, so ``import snnax_torchlike.interop`` works
without them. Nothing else in ``snnax_torchlike`` imports this package.

- ``from_snntorch(module)`` / ``to_snntorch(net)``: snnTorch networks in and out,
  with snnTorch's numerics.

Planned (the interop issue): a torch DataLoader bridge with prefetching and
padding, Norse import, NIR import and export.
"""

from .snntorch import SUPPORTED_MODULES, UnsupportedModuleError, from_snntorch, to_snntorch

__all__ = ["from_snntorch", "to_snntorch", "SUPPORTED_MODULES", "UnsupportedModuleError"]
