"""The PyTorch/snnTorch-style facade: mutable-looking modules over pure JAX computations."""

from .alpha import Alpha
from .bntt import BatchNormTT1d, BatchNormTT2d
from .container import ModuleList, Sequential
from .conv import Conv1d, Conv2d
from .delta_leaky import DeltaLeaky
from .dropout import Dropout
from .graded_spikes import GradedSpikes
from .graph import Graph
from .lapicque import Lapicque
from .leaky import Leaky
from .leaky_parallel import LeakyParallel
from .linear import Flatten, Linear
from .linear_leaky import LinearLeaky
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss
from .lstm import LSTMCell
from .model_summary import LayerSummary, ModelSummary, TrainingMemory, summary
from .module import FacadeLayer, LoadResult, Module, Parameter
from .nir_layers import Reshape, Scale, SumPool2d, Threshold
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .norse_cells import IAFCell, LIBoxCell, LICell, LIFAdExCell, LIFBoxCell, LIFCell, LIFRecurrentCell
from .ode_neurons import IF, LI, LIF, CubaLI, CubaLIF, Integrator, ODENeuron
from .pooling import AvgPool2d, MaxPool2d
from .recurrent import RLeaky, RSynaptic
from .slstm import SLSTM, SConv2dLSTM
from .state_leaky import StateLeaky
from .stepped_graph import SteppedGraph
from .synaptic import Synaptic

__all__ = [
    "Module",
    "FacadeLayer",
    "Parameter",
    "LoadResult",
    "Sequential",
    "ModuleList",
    "Linear",
    "Conv1d",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "Flatten",
    "Dropout",
    "LayerNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNormTT1d",
    "BatchNormTT2d",
    "GradedSpikes",
    "Leaky",
    "LeakyParallel",
    "DeltaLeaky",
    "StateLeaky",
    "LinearLeaky",
    "Synaptic",
    "RLeaky",
    "RSynaptic",
    "SLSTM",
    "SConv2dLSTM",
    "LSTMCell",
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
    "SteppedGraph",
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
    "summary",
    "ModelSummary",
    "LayerSummary",
    "TrainingMemory",
]
