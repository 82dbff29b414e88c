"""snnax-torchlike: spiking neural networks on JAX, for PyTorch, snnTorch and Norse users.

- ``snnax_torchlike.snn``: the functional core (pure Equinox, SNNAX lineage).
- ``nn``, ``optim``, ``functional``, ``spikegen``, ``surrogate``, ``Trainer``: the
  PyTorch/snnTorch-style facade over it.

Nothing here imports torch; ``snnax_torchlike.interop`` bridges to it.
"""

from . import compilation_cache, functional, imperative, nn, optim, plot, random, snn, spikegen, surrogate, train, utils
from .compile import compile
from .imperative import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .random import manual_seed
from .train import *  # noqa: F403  (Trainer, callbacks, save/load: their list is train.__all__)

__version__ = "0.1.0"

compilation_cache.enable_by_default()

__all__ = [
    "snn",
    "imperative",
    "utils",
    "Tensor",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "nn",
    "optim",
    "functional",
    "spikegen",
    "surrogate",
    "random",
    "plot",
    "compilation_cache",
    "manual_seed",
    "compile",
    *train.__all__,
    "__version__",
]
