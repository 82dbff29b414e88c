"""``snntorch._neurons.stateleaky``."""

from snnax_torchlike.nn import StateLeaky

__all__ = ["StateLeaky"]
