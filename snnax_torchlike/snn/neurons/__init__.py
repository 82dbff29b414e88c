"""Stateful neuron layers."""

from .._deprecated import deprecated_getattr
from ._base import SpikingNeuron
from ._leaky_sequence import leaky_sequence
from .adex import LIFAdEx, LIFAdExState
from .alpha import Alpha, AlphaState, alpha_update
from .delta_leaky import DeltaLeaky, delta_leaky_update
from .iaf import IAF, IAFState, SimpleIAF
from .lapicque import Lapicque, lapicque_update
from .leaky import Leaky, leaky_update
from .leaky_parallel import LeakyParallel, leaky_parallel_membrane
from .li import SimpleLI
from .lif import (
    AdaptiveLIF,
    AdaptiveLIFState,
    CurrentBasedLIF,
    CurrentBasedLIFSoftReset,
    CurrentBasedLIFState,
    SimpleLIF,
)
from .lstm import (
    SLSTM,
    LSTMState,
    SConv2dLSTM,
    conv_lstm_cell,
    lstm_cell,
    sconv2dlstm_update,
    slstm_state_is_kept,
    slstm_update,
    spiking_lstm_update,
)
from .ode_neuron import ODENeuron, ODENeuronState
from .recurrent import RLeaky, RLeakyState, RSynaptic, RSynapticState, rleaky_update, rsynaptic_update
from .sigma_delta import SigmaDelta, SigmaDeltaState
from .spike_counter import SpikeCounter
from .srm import SRM, SRMState
from .state_leaky import (
    StateLeaky,
    StateLeakyState,
    state_leaky_kernel,
    state_leaky_membrane,
    state_leaky_spikes,
    state_leaky_tau,
)
from .synaptic import Synaptic, SynapticState, synaptic_update

__all__ = [
    "SpikingNeuron",
    "Leaky",
    "leaky_update",
    "leaky_sequence",
    "LeakyParallel",
    "leaky_parallel_membrane",
    "DeltaLeaky",
    "delta_leaky_update",
    "Synaptic",
    "SynapticState",
    "synaptic_update",
    "RLeaky",
    "RLeakyState",
    "rleaky_update",
    "RSynaptic",
    "RSynapticState",
    "rsynaptic_update",
    "SLSTM",
    "SConv2dLSTM",
    "LSTMState",
    "lstm_cell",
    "conv_lstm_cell",
    "spiking_lstm_update",
    "slstm_update",
    "sconv2dlstm_update",
    "slstm_state_is_kept",
    "Lapicque",
    "lapicque_update",
    "Alpha",
    "AlphaState",
    "alpha_update",
    "SimpleLIF",
    "CurrentBasedLIF",
    "CurrentBasedLIFState",
    "CurrentBasedLIFSoftReset",
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
    "ODENeuron",
    "ODENeuronState",
    "LIFAdEx",
    "LIFAdExState",
    "StateLeaky",
    "StateLeakyState",
    "state_leaky_tau",
    "state_leaky_kernel",
    "state_leaky_membrane",
    "state_leaky_spikes",
]

__getattr__ = deprecated_getattr("snn.neurons", globals())
