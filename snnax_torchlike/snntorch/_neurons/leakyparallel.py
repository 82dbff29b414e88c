"""``snntorch._neurons.leakyparallel``."""

from snnax_torchlike.nn import LeakyParallel

__all__ = ["LeakyParallel"]
