"""Bridges to the torch world, installed as ``snnax_torchlike.interop``.

This package may use torch, snntorch, norse and nir (optional extras); it imports
them only when a bridge is called, so ``import snnax_torchlike.interop`` works
without them. Nothing else in ``snnax_torchlike`` imports this package.

- ``torch_loader(loader, ...)``, ``collate_padded(pad_to)``: a torch DataLoader as
  fixed-shape, time-first, prefetched device batches.
- ``from_snntorch(module)`` / ``to_snntorch(net)``: snnTorch networks in and out,
  with snnTorch's numerics.
- ``from_nir(graph_or_path, convention=...)`` / ``to_nir(net, path)``: NIR graphs in
  and out, with an explicit discretisation (see ``docs/interop-nir.md``).
- ``from_norse(module)``: Norse networks in, with Norse's numerics and the neuron
  parameters read from the live modules (see ``docs/interop-norse.md``).
"""

from .loader import collate_padded, pad_time, torch_loader
from .nir import SUPPORTED_NODES, NIRImportError, UnsupportedNodeError, from_nir, to_nir
from .norse import SUPPORTED_NORSE_MODULES, from_norse
from .snntorch import SUPPORTED_MODULES, UnsupportedModuleError, from_snntorch, to_snntorch

__all__ = [
    "torch_loader",
    "collate_padded",
    "pad_time",
    "from_snntorch",
    "to_snntorch",
    "SUPPORTED_MODULES",
    "UnsupportedModuleError",
    "from_nir",
    "to_nir",
    "SUPPORTED_NODES",
    "UnsupportedNodeError",
    "NIRImportError",
    "from_norse",
    "SUPPORTED_NORSE_MODULES",
]
