"""Small stateless layers that NIR graphs use: `Scale`, `Threshold`, `SumPool2d`, `Reshape`.

Each is a facade layer (``core_layer()`` gives the pure Equinox function that runs
inside ``nn.Sequential``/``nn.Graph``'s time loop) and acts per sample and step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import snn
from ..snn.surrogate import SurrogateSpike
from .module import Module, Parameter, to_array
from .pooling import _Pool2d


def _stored(module: Module, name: str, value: ArrayLike, learn: bool) -> None:
    """Register ``value`` as a trained ``Parameter`` (``learn``) or a buffer."""
    array = to_array(value).astype(jnp.float32)
    if learn:
        setattr(module, name, Parameter(array))
    else:
        module.register_buffer(name, array)


def _value(module: Module, name: str) -> Array:
    stored = getattr(module, name)
    return stored.data if isinstance(stored, Parameter) else stored


class ScaleKernel(eqx.Module):
    """``x * scale`` (broadcasting) as a pure function."""

    scale: Array

    def __call__(self, x: Array) -> Array:
        return x * self.scale


class Scale(Module):
    r"""NIR's ``Scale``: $y = x \odot s$, elementwise.

    **Arguments:**

    - ``scale``: a scalar or an array that broadcasts against one sample's shape
      (e.g. ``[N]`` for ``[B, N]`` inputs).
    - ``learn``: make ``scale`` a trained ``Parameter`` (default: a buffer, saved in
      ``state_dict`` as ``"scale"``).

    ``forward(x)`` takes ``[..., *shape]`` (any leading axes) and returns the same shape.
    """

    def __init__(self, scale: ArrayLike, *, learn: bool = False):
        super().__init__()
        _stored(self, "scale", scale, learn)

    def core_layer(self) -> ScaleKernel:
        """The layer as a pure Equinox module over the current arrays."""
        return ScaleKernel(_value(self, "scale"))

    def forward(self, x: Any) -> Array:
        """``x * scale``, elementwise: ``[..., *shape]`` in, the same shape out."""
        return self.core_layer()(to_array(x))

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: the shape of ``scale``."""
        return f"shape={tuple(_value(self, 'scale').shape)}"


class ThresholdKernel(eqx.Module):
    """``spike_fn(x - threshold)``: 1.0 where ``x > threshold``, else 0.0; surrogate gradient backward."""

    threshold: Array
    spike_fn: SurrogateSpike

    def __call__(self, x: Array) -> Array:
        return self.spike_fn(x - self.threshold)


class Threshold(Module):
    r"""NIR's ``Threshold``: a stateless spike $z = H(x - \theta)$, 1 where $x > \theta$ (strict), else 0.

    Not ``torch.nn.Threshold`` (which passes ``x`` above the threshold and writes a
    ``value`` below it): this layer emits spikes, with a surrogate gradient.

    **Arguments:**

    - ``threshold``: $\theta$, a scalar or an array broadcasting against one sample.
    - ``spike_grad``: the surrogate of the backward pass (default
      ``snn.surrogate.superspike()``, as NIR's neurons here).
    - ``learn``: make ``threshold`` a trained ``Parameter`` (default: a buffer).

    ``forward(x)``: any shape in, spikes (0.0/1.0) of the same shape out.
    """

    def __init__(self, threshold: ArrayLike, *, spike_grad: SurrogateSpike | None = None, learn: bool = False):
        super().__init__()
        self.spike_grad = snn.surrogate.superspike() if spike_grad is None else spike_grad
        if not isinstance(self.spike_grad, SurrogateSpike):
            raise TypeError(
                f"Threshold: spike_grad must come from snnax_torchlike.surrogate, got {type(spike_grad).__name__}."
            )
        _stored(self, "threshold", threshold, learn)

    def core_layer(self) -> ThresholdKernel:
        """The layer as a pure Equinox module over the current arrays."""
        return ThresholdKernel(_value(self, "threshold"), self.spike_grad)

    def forward(self, x: Any) -> Array:
        """Spikes ``H(x - threshold)`` (0.0/1.0; the gradient is the surrogate's), of ``x``'s shape."""
        x = to_array(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.float32)
        return self.core_layer()(x)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: the shape of ``threshold``."""
        return f"shape={tuple(_value(self, 'threshold').shape)}"


class SumPoolKernel(eqx.Module):
    """Sum over 2-D windows of ``[..., H, W]`` (zero padding), as a pure function."""

    kernel: tuple[int, int] = eqx.field(static=True)
    stride: tuple[int, int] = eqx.field(static=True)
    padding: tuple[int, int] = eqx.field(static=True)

    def __call__(self, x: Array) -> Array:
        lead = x.ndim - 2
        window = (1,) * lead + self.kernel
        strides = (1,) * lead + self.stride
        pads = ((0, 0),) * lead + tuple((p, p) for p in self.padding)
        return jax.lax.reduce_window(x, jnp.zeros((), x.dtype), jax.lax.add, window, strides, pads)


class SumPool2d(_Pool2d):
    """NIR's ``SumPool2d``: the sum over each window (``AvgPool2d`` times the window size).

    **Arguments:** ``kernel_size``, ``stride`` (default: ``kernel_size``) and
    ``padding`` (zeros) as in ``torch.nn.AvgPool2d``. ``forward(x)``: ``[B, C, H, W]``
    or ``[C, H, W]``; returns the pooled sums, channels first.
    """

    kind = "sum"

    def __init__(self, kernel_size: int | Sequence[int], stride: int | Sequence[int] | None = None,
                 padding: int | Sequence[int] = 0):  # fmt: skip
        super().__init__(kernel_size, stride, padding)

    def core_layer(self) -> SumPoolKernel:
        """The layer as a pure Equinox module."""
        return SumPoolKernel(self.kernel_size, self.stride, self.padding)


class ReshapeKernel(eqx.Module):
    """Each sample of shape ``in_shape`` reshaped to ``shape``: ``[..., *in_shape] -> [..., *shape]``."""

    in_shape: tuple[int, ...] = eqx.field(static=True)
    shape: tuple[int, ...] = eqx.field(static=True)

    def __call__(self, x: Array) -> Array:
        n = len(self.in_shape)
        if x.ndim < n or tuple(x.shape[x.ndim - n :]) != self.in_shape:
            raise ValueError(f"Reshape: expected [..., *{self.in_shape}], got shape {tuple(x.shape)}.")
        return x.reshape(*x.shape[: x.ndim - n], *self.shape)


class Reshape(Module):
    """Reshape each sample to ``shape``: ``[B, *in_shape] -> [B, *shape]`` (same number of elements).

    NIR's ``Flatten`` over part of a sample's axes (``start_dim``/``end_dim`` other
    than all of them) imports as this layer; a full flatten imports as ``nn.Flatten``.

    **Arguments:**

    - ``in_shape``: one sample's shape, e.g. ``(C, H, W)``.
    - ``shape``: the new per-sample shape, e.g. ``(C, H * W)``.
    """

    def __init__(self, in_shape: Sequence[int], shape: Sequence[int]):
        super().__init__()
        self.in_shape = tuple(int(d) for d in in_shape)
        self.shape = tuple(int(d) for d in shape)
        if math.prod(self.in_shape) != math.prod(self.shape):
            raise ValueError(
                f"Reshape: in_shape {self.in_shape} ({math.prod(self.in_shape)} elements) and shape {self.shape} "
                f"({math.prod(self.shape)} elements) must hold the same number of elements."
            )

    def core_layer(self) -> ReshapeKernel:
        """The layer as a pure Equinox module."""
        return ReshapeKernel(self.in_shape, self.shape)

    def forward(self, x: Any) -> Array:
        """Each sample reshaped: ``[B, *in_shape]`` in, ``[B, *shape]`` out."""
        return self.core_layer()(to_array(x))

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: ``in_shape`` and ``shape``."""
        return f"in_shape={self.in_shape}, shape={self.shape}"
