"""Stateless layers: `Linear` and `Flatten`."""

from __future__ import annotations

import math
import numbers
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .. import snn
from ..random import next_key
from ._kernels import Affine
from .module import Module, Parameter, to_array


def check_features(x: Array, expected: int, *, layer: str) -> None:
    """The last axis of ``x`` has ``expected`` entries and ``x`` is floating point, or a clear error."""
    if x.ndim == 0 or x.shape[-1] != expected:
        raise ValueError(
            f"{layer}: expected inputs whose last axis has {expected} features, got shape {tuple(x.shape)}."
        )
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"{layer}: inputs must be floating point, got {x.dtype}; convert with x.float().")


class Linear(Module):
    r"""``y = x W^T + b``, like ``torch.nn.Linear``; ``weight`` is ``[out, in]``.

    Initialised as torch does: ``W, b ~ U(-1/sqrt(in), 1/sqrt(in))``, drawn from
    ``snnax_torchlike.random`` (``manual_seed``) unless ``key`` is given.
    Takes any leading axes (``[B, in]``, ``[T, B, in]``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, key: PRNGKeyArray | None = None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            # A float (channels * size / 2) would be truncated by the weight's shape, or fail inside JAX.
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise TypeError(f"Linear: {name} must be an int, got {type(value).__name__} {value!r}.")
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear: features must be >= 1, got in={in_features}, out={out_features}.")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        wkey, bkey = jax.random.split(next_key() if key is None else key)
        bound = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(jax.random.uniform(wkey, (out_features, in_features), minval=-bound, maxval=bound))
        self.bias = Parameter(jax.random.uniform(bkey, (out_features,), minval=-bound, maxval=bound)) if bias else None

    def core_layer(self) -> Affine:
        """The layer as a pure Equinox module over the current arrays, in the precision in force (`snn.precision_scope`)."""
        return Affine(self.weight.data, None if self.bias is None else self.bias.data, snn.current_precision())

    def forward(self, x: Any) -> Array:
        """``x @ weight.T + bias`` over the last axis: ``[..., in_features]`` in, ``[..., out_features]`` out."""
        x = to_array(x)
        check_features(x, self.in_features, layer="Linear")
        return self.core_layer()(x)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``, as torch's: ``in_features``, ``out_features``, ``bias``."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Flattens every axis after the batch axis, like ``torch.nn.Flatten()``: ``[B, ...] -> [B, -1]``.

    Inside ``Sequential`` it acts per sample and time step.
    """

    def core_layer(self) -> snn.Flatten:
        """The layer as a pure Equinox module."""
        return snn.Flatten()

    def forward(self, x: Any) -> Array:
        """``x`` ``[B, ...]`` flattened to ``[B, features]`` (torch's ``start_dim=1``)."""
        x = to_array(x)
        if x.ndim < 1:
            raise ValueError("Flatten: expected a batch axis, got a scalar.")
        return jnp.reshape(x, (x.shape[0], -1))

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``, as torch's."""
        return "start_dim=1, end_dim=-1"
