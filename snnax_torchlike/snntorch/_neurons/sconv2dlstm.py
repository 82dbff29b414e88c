"""``snntorch._neurons.sconv2dlstm``."""

from snnax_torchlike.nn import SConv2dLSTM

__all__ = ["SConv2dLSTM"]
