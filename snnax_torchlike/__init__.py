"""snnax-torchlike: spiking neural networks on JAX, for PyTorch, snnTorch and Norse users.

``snnax_torchlike.snn`` is the functional core (pure Equinox). It never imports torch.
"""

from . import snn

__version__ = "0.1.0"

__all__ = ["snn", "__version__"]
