"""Spike-rate regularisers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
from jaxtyping import Array

from ..nn.module import to_array

__all__ = ["l1_rate_sparsity"]


@dataclass(frozen=True)
class l1_rate_sparsity:
    r"""L1 penalty on spiking: ``Lambda * sum(spk)`` (snnTorch's ``l1_rate_sparsity``)."""

    Lambda: float = 1e-5

    def __call__(self, spk: Any) -> Array:
        return self.Lambda * jnp.sum(to_array(spk))
