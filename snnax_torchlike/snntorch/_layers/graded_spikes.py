"""``snntorch._layers.graded_spikes``."""

from snnax_torchlike.nn import GradedSpikes

__all__ = ["GradedSpikes"]
