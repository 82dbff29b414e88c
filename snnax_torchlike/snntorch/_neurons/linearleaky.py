"""``snntorch._neurons.linearleaky``."""

from snnax_torchlike.nn import LinearLeaky

__all__ = ["LinearLeaky"]
