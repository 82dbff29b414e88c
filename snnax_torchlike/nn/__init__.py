"""The PyTorch/snnTorch-style facade: mutable-looking modules over pure JAX computations."""

from .alpha import Alpha
from .container import Sequential
from .conv import Conv1d, Conv2d
from .dropout import Dropout
from .graph import Graph
from .lapicque import Lapicque
from .leaky import Leaky
from .linear import Flatten, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss
from .module import LoadResult, Module, Parameter
from .nir_layers import Reshape, Scale, SumPool2d, Threshold
from .normalization import LayerNorm
from .norse_cells import IAFCell, LIBoxCell, LICell, LIFAdExCell, LIFBoxCell, LIFCell, LIFRecurrentCell
from .ode_neurons import IF, LI, LIF, CubaLI, CubaLIF, Integrator, ODENeuron
from .pooling import AvgPool2d, MaxPool2d
from .recurrent import RLeaky, RSynaptic
from .synaptic import Synaptic

__all__ = [
    "Module",
    "Parameter",
    "LoadResult",
    "Sequential",
    "Linear",
    "Conv1d",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "Flatten",
    "Dropout",
    "LayerNorm",
    "Leaky",
    "Synaptic",
    "RLeaky",
    "RSynaptic",
    "Lapicque",
    "Alpha",
    "ODENeuron",
    "CubaLIF",
    "CubaLI",
    "LIF",
    "LI",
    "IF",
    "Integrator",
    "Graph",
    "Scale",
    "Threshold",
    "SumPool2d",
    "Reshape",
    "LIFCell",
    "LIFBoxCell",
    "LICell",
    "LIBoxCell",
    "IAFCell",
    "LIFRecurrentCell",
    "LIFAdExCell",
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
]
