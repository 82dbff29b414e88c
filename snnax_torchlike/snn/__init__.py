"""The functional SNN core: pure Equinox layers, surrogate spikes, graph models, the time loop.

Port SNNAX code by changing its import to ``import snnax_torchlike.snn as snn``.
"""

from . import discretisation, neurons, precision, surrogate
from ._deprecated import deprecated_getattr
from ._stateful import State, StatefulLayer
from .composed import CompoundLayer, Parallel, Residual, Sequential
from .errors import LayerError, LayerTypeError
from .graph import Edge, GraphStructure, gen_feed_forward_struct
from .layers import Flatten, LeadingAxesLayer, SpikingAvgPool2d, SpikingMaxPool2d
from .model import ModelState, StatefulModel
from .neurons import *  # noqa: F403 (the neurons package lists them once, in its __all__)
from .precision import current_precision, precision_scope

__all__ = [
    "LayerError",
    "LayerTypeError",
    "surrogate",
    "discretisation",
    "precision",
    "precision_scope",
    "current_precision",
    "State",
    "StatefulLayer",
    "Flatten",
    "LeadingAxesLayer",
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
    *neurons.__all__,  # every neuron, its state and update function
]

__getattr__ = deprecated_getattr("snn", globals())
