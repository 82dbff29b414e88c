"""The functional SNN core: pure Equinox layers, surrogate spikes, graph models, the time loop.

Port SNNAX code by changing its import to ``import snnax_torchlike.snn as snn``.
"""

from . import surrogate
from ._stateful import State, StatefulLayer
from .composed import CompoundLayer, Parallel, Residual, Sequential
from .graph import Edge, GraphStructure, gen_feed_forward_struct
from .layers import Flatten, SpikingAvgPool2d, SpikingMaxPool2d
from .model import ModelState, StatefulModel
from .neurons import (
    IAF,
    LIF,
    SRM,
    AdaptiveLIF,
    AdaptiveLIFState,
    IAFState,
    Leaky,
    LIFSoftReset,
    LIFState,
    SigmaDelta,
    SigmaDeltaState,
    SimpleIAF,
    SimpleLI,
    SimpleLIF,
    SpikeCounter,
    SpikingNeuron,
    SRMState,
    Synaptic,
    SynapticState,
    leaky_update,
    synaptic_update,
)

__all__ = [
    "surrogate",
    "State",
    "StatefulLayer",
    "SpikingNeuron",
    "Leaky",
    "leaky_update",
    "Synaptic",
    "SynapticState",
    "synaptic_update",
    "SimpleLIF",
    "LIF",
    "LIFState",
    "LIFSoftReset",
    "AdaptiveLIF",
    "AdaptiveLIFState",
    "IAF",
    "IAFState",
    "SimpleIAF",
    "SimpleLI",
    "SigmaDelta",
    "SigmaDeltaState",
    "SRM",
    "SRMState",
    "SpikeCounter",
    "Flatten",
    "SpikingMaxPool2d",
    "SpikingAvgPool2d",
    "Edge",
    "GraphStructure",
    "gen_feed_forward_struct",
    "StatefulModel",
    "ModelState",
    "Sequential",
    "CompoundLayer",
    "Parallel",
    "Residual",
]
