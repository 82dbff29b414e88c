"""snnTorch's `GradedSpikes`: a learnable magnitude per spiking neuron."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..random import next_key
from .module import Module, Parameter, to_array


class GradedSpikes(Module):
    r"""Spikes scaled by a trained weight per neuron, as ``snntorch.GradedSpikes``: $y = x \odot w$.

    **Arguments:**

    - ``size``: the number of neurons of the preceding layer; ``weights`` is
      ``[size, 1]``.
    - ``constant_factor``: every weight starts at this value; None (or False, or
      left out, as snnTorch's docstring says "not provided") draws them from
      $U(0.5, 1.5)$ with ``snnax_torchlike.random`` (``manual_seed``), so the values
      differ from torch's generator. snnTorch also draws when given ``0``; here
      ``0`` gives zero weights.

    ``forward(x)`` is ``x * weights`` with torch's broadcasting, exactly as
    snnTorch's: an input ``[..., size, 1]`` (or ``[size, k]``) scales row ``i`` by
    ``weights[i]``; other shapes broadcast against ``[size, 1]`` as
    ``torch.multiply`` would (``[B, size]`` with ``B == size`` gives ``[size, size]``),
    and shapes that do not broadcast raise ``ValueError``.

    ``state_dict``: ``weights`` (trained).
    """

    records_as_node = True

    def __init__(self, size: int, constant_factor: float | None = None):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"GradedSpikes: size must be a positive int, got {size!r}.")
        self.size = int(size)
        if constant_factor is None or constant_factor is False:
            weights = jax.random.uniform(next_key(), (self.size, 1)) + 0.5
        else:
            weights = jnp.full((self.size, 1), float(constant_factor), jnp.float32)
        self.weights = Parameter(weights)

    def forward(self, x: Any) -> Array:
        """``x * weights`` with torch's broadcasting (see the class)."""
        x = to_array(x)
        weights = self.weights.data
        try:
            jnp.broadcast_shapes(x.shape, weights.shape)
        except ValueError:
            raise ValueError(
                f"GradedSpikes: input of shape {tuple(x.shape)} does not broadcast against the weights "
                f"{tuple(weights.shape)} (size={self.size}); expected e.g. [..., {self.size}, 1]."
            ) from None
        return x * weights

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: ``size``."""
        return f"size={self.size}"
