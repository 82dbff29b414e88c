"""``snntorch._layers``: the module paths of snnTorch's non-neuron layers."""

from snnax_torchlike.nn import BatchNormTT1d, BatchNormTT2d, GradedSpikes

__all__ = ["BatchNormTT1d", "BatchNormTT2d", "GradedSpikes"]
