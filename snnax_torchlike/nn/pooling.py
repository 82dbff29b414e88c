"""2-D max and average pooling with torch's semantics (channels first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from .module import Module, to_array


def _pair(value: int | Sequence[int], *, layer: str, name: str) -> tuple[int, int]:
    values = (value, value) if isinstance(value, int) else tuple(int(v) for v in value)
    if len(values) != 2:
        raise ValueError(f"{layer}: {name} must be an int or 2 ints, got {value!r}.")
    return values


class PoolKernel(eqx.Module):
    """Max or average pooling of ``[C, H, W]`` or ``[B, C, H, W]`` as a pure function."""

    kind: str = eqx.field(static=True)
    kernel: tuple[int, int] = eqx.field(static=True)
    stride: tuple[int, int] = eqx.field(static=True)
    padding: tuple[int, int] = eqx.field(static=True)
    count_include_pad: bool = eqx.field(static=True)

    def _tiles(self, x: Array) -> bool:
        """Whether the windows tile ``x`` exactly (no overlap, no padding, nothing left over)."""
        return (
            self.kernel == self.stride
            and self.padding == (0, 0)
            and x.shape[-2] % self.kernel[0] == 0
            and x.shape[-1] % self.kernel[1] == 0
        )

    def _tiled(self, x: Array) -> Array:
        """Pooling of exactly tiling windows by a reshape: cheaper than ``reduce_window``,
        whose max gradient (select-and-scatter) is slow on CPU. Same values; a max's
        gradient goes to the first maximal element of each window, as in torch."""
        (kh, kw), (h, w) = self.kernel, x.shape[-2:]
        windows = x.reshape(*x.shape[:-2], h // kh, kh, w // kw, kw)
        windows = jnp.moveaxis(windows, -3, -2).reshape(*x.shape[:-2], h // kh, w // kw, kh * kw)
        if self.kind == "avg":
            return windows.mean(axis=-1)
        first_max = jnp.arange(kh * kw) == jnp.argmax(windows, axis=-1)[..., None]
        return jnp.sum(jnp.where(first_max, windows, 0.0), axis=-1)

    def __call__(self, x: Array) -> Array:
        if self._tiles(x):
            return self._tiled(x)
        lead = x.ndim - 2
        window = (1,) * lead + self.kernel
        strides = (1,) * lead + self.stride
        pads = ((0, 0),) * lead + tuple((p, p) for p in self.padding)
        if self.kind == "max":
            return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, window, strides, pads)
        total = jax.lax.reduce_window(x, 0.0, jax.lax.add, window, strides, pads)
        if self.count_include_pad:
            return total / (self.kernel[0] * self.kernel[1])
        counts = jax.lax.reduce_window(jnp.ones(x.shape[-2:], x.dtype), 0.0, jax.lax.add, self.kernel, self.stride,
                                       tuple((p, p) for p in self.padding))  # fmt: skip
        return total / counts


class _Pool2d(Module):
    kind = ""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        count_include_pad: bool = True,
    ):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _pair(kernel_size, layer=name, name="kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, layer=name, name="stride")
        self.padding = _pair(padding, layer=name, name="padding")
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half the kernel {self.kernel_size}.")
        self.count_include_pad = bool(count_include_pad)

    def core_layer(self) -> PoolKernel:
        return PoolKernel(self.kind, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def forward(self, x: Any) -> Array:
        x = to_array(x)
        if x.ndim not in (3, 4):
            raise ValueError(f"{type(self).__name__}: expected [B, C, H, W] or [C, H, W], got shape {tuple(x.shape)}.")
        return self.core_layer()(x)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """``torch.nn.MaxPool2d(kernel_size, stride=None, padding=0)``; padding counts as -inf."""

    kind = "max"

    def __init__(self, kernel_size: int | Sequence[int], stride: int | Sequence[int] | None = None,
                 padding: int | Sequence[int] = 0):  # fmt: skip
        super().__init__(kernel_size, stride, padding)


class AvgPool2d(_Pool2d):
    """``torch.nn.AvgPool2d(kernel_size, stride=None, padding=0, count_include_pad=True)``."""

    kind = "avg"
