"""``snntorch._neurons.slstm``."""

from snnax_torchlike.nn import SLSTM

__all__ = ["SLSTM"]
