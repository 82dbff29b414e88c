"""Stateful neuron layers."""

from ._base import SpikingNeuron
from .adex import LIFAdEx, LIFAdExState
from .alpha import Alpha, AlphaState, alpha_update
from .cuba_lif import CubaLIF, CubaLIFState
from .iaf import IAF, IAFState, SimpleIAF
from .lapicque import Lapicque, lapicque_update
from ._leaky_sequence import leaky_sequence
from .leaky import Leaky, leaky_update
from .li import SimpleLI
from .lif import LIF, AdaptiveLIF, AdaptiveLIFState, LIFSoftReset, LIFState, SimpleLIF
from .recurrent import RLeaky, RLeakyState, RSynaptic, RSynapticState, rleaky_update, rsynaptic_update
from .sigma_delta import SigmaDelta, SigmaDeltaState
from .spike_counter import SpikeCounter
from .srm import SRM, SRMState
from .synaptic import Synaptic, SynapticState, synaptic_update

__all__ = [
    "SpikingNeuron",
    "Leaky",
    "leaky_update",
    "leaky_sequence",
    "Synaptic",
    "SynapticState",
    "synaptic_update",
    "RLeaky",
    "RLeakyState",
    "rleaky_update",
    "RSynaptic",
    "RSynapticState",
    "rsynaptic_update",
    "Lapicque",
    "lapicque_update",
    "Alpha",
    "AlphaState",
    "alpha_update",
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
    "CubaLIF",
    "CubaLIFState",
    "LIFAdEx",
    "LIFAdExState",
]
