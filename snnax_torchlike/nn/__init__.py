"""The PyTorch/snnTorch-style facade: mutable-looking modules over pure JAX computations."""

from .container import Sequential
from .leaky import Leaky
from .linear import Flatten, Linear
from .module import LoadResult, Module, Parameter

__all__ = ["Module", "Parameter", "LoadResult", "Sequential", "Linear", "Flatten", "Leaky"]
