"""Spike-rate regularisers (snnTorch's ``snntorch.functional.reg``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from ..imperative import recordable
from ..nn.module import to_array
from ._common import _check_real

__all__ = ["l1_rate_sparsity"]


@dataclass(frozen=True)
class l1_rate_sparsity:
    r"""L1 penalty on spiking: $\Lambda \sum s$, the total spike count (snnTorch's ``l1_rate_sparsity``).

    Add it to a loss to encourage sparse firing:
    ``loss = loss_fn(spk, y) + reg_fn(spk)``.

    **Arguments:**

    - ``Lambda``: the penalty per spike (snnTorch's name and default).

    **Call:** ``reg_fn(spk)`` with spikes of any shape (e.g. ``[T, B, N]``).

    **Returns:** a scalar of shape ``()``. The sum runs over every element, so the
    penalty grows with ``T`` and the batch size, as in snnTorch.
    """

    Lambda: float = 1e-5
    __name__: ClassVar[str] = "l1_rate_sparsity"

    def __post_init__(self) -> None:
        _check_real("l1_rate_sparsity", "Lambda", self.Lambda)

    @recordable(torch_facing=True)
    def __call__(self, spk: ArrayLike) -> Array:
        return self.Lambda * jnp.sum(to_array(spk))
