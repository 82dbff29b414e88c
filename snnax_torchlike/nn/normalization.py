"""Layer normalisation with torch's parameters (``weight``, ``bias``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array

from .module import Module, Parameter, to_array


class LayerNormKernel(eqx.Module):
    """Normalise over the trailing ``len(shape)`` axes, then scale and shift."""

    weight: Array | None
    bias: Array | None
    shape: tuple[int, ...] = eqx.field(static=True)
    eps: float = eqx.field(static=True)

    def __call__(self, x: Array) -> Array:
        axes = tuple(range(x.ndim - len(self.shape), x.ndim))
        mean = jnp.mean(x, axis=axes, keepdims=True)
        variance = jnp.mean((x - mean) ** 2, axis=axes, keepdims=True)
        y = (x - mean) / jnp.sqrt(variance + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y


class LayerNorm(Module):
    """``torch.nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)``."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
    ):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)
        self.normalized_shape, self.eps = shape, float(eps)
        self.weight = Parameter(jnp.ones(shape)) if elementwise_affine else None
        self.bias = Parameter(jnp.zeros(shape)) if elementwise_affine and bias else None

    def core_layer(self) -> LayerNormKernel:
        return LayerNormKernel(
            None if self.weight is None else self.weight.data,
            None if self.bias is None else self.bias.data,
            self.normalized_shape,
            self.eps,
        )

    def forward(self, x: Any) -> Array:
        x = to_array(x)
        if tuple(x.shape[x.ndim - len(self.normalized_shape) :]) != self.normalized_shape:
            raise ValueError(
                f"LayerNorm: expected inputs ending in {self.normalized_shape}, got shape {tuple(x.shape)}."
            )
        return self.core_layer()(x)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"
