"""``snntorch._layers.bntt``."""

from snnax_torchlike.nn import BatchNormTT1d, BatchNormTT2d

__all__ = ["BatchNormTT1d", "BatchNormTT2d"]
