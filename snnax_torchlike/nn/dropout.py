"""Dropout with torch's semantics: inverted scaling in training mode, identity in eval mode."""

from __future__ import annotations

import numbers
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..random import next_key
from .module import Module, to_array


class Dropout(Module):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` while training.

    Keys come from ``snnax_torchlike.random`` (inside ``fit``: a fresh key per
    step). Inside ``nn.Sequential`` the mask differs per sample, time step and
    layer. ``net.eval()`` turns it off.
    """

    needs_key = True

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not isinstance(p, numbers.Real) or isinstance(p, bool):
            raise TypeError(f"Dropout: p must be a number in [0, 1), got {type(p).__name__} {p!r}.")
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must lie in [0, 1), got {p}.")
        self.p = float(p)

    def core_layer(self) -> eqx.nn.Dropout:
        """The layer as a pure Equinox module (``eqx.nn.Dropout``, off in evaluation mode)."""
        return eqx.nn.Dropout(self.p, inference=not self.training)

    def forward(self, x: Any) -> Array:
        """Each element zeroed with probability ``p``, the rest scaled by ``1 / (1 - p)``; ``x`` as is in eval mode."""
        x = to_array(x)
        if not self.training or self.p == 0:
            return x
        keep = jax.random.bernoulli(next_key(), 1.0 - self.p, x.shape)
        return jnp.where(keep, x / (1.0 - self.p), 0.0)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``, as torch's: ``p``."""
        return f"p={self.p}, inplace=False"
