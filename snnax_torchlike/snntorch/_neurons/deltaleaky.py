"""``snntorch._neurons.deltaleaky``."""

from snnax_torchlike.nn import DeltaLeaky

__all__ = ["DeltaLeaky"]
