"""2-D max and average pooling with torch's semantics (channels first)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from .conv import _tuple
from .module import Module, to_array


def _pair(value: int | Sequence[int], *, layer: str, name: str, minimum: int = 1) -> tuple[int, int]:
    """``value`` as 2 ints, each at least ``minimum`` (a window or stride of 0 is refused, as in torch)."""
    return _tuple(value, 2, layer=layer, name=name, minimum=minimum)  # type: ignore[return-value]


def _as_given(value: int | Sequence[int]) -> int | tuple[int, ...]:
    """A pooling argument as the user wrote it, hashable: an int, or a tuple of ints."""
    return tuple(int(v) for v in value) if isinstance(value, Sequence) else int(value)


def _windows(x: Array, kernel: tuple[int, int]) -> Array:
    """``x`` ``[..., H, W]`` viewed as ``[..., H/kh, kh, W/kw, kw]`` (a reshape, no copy)."""
    (kh, kw), (h, w) = kernel, x.shape[-2:]
    return x.reshape(*x.shape[:-2], h // kh, kh, w // kw, kw)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _tiled_max(x: Array, kernel: tuple[int, int]) -> Array:
    """Max over exactly tiling ``kernel`` windows of the last two axes; the gradient goes to
    each window's first maximal element (row-major), as torch's ``max_pool2d``."""
    return _windows(x, kernel).max(axis=(-3, -1))


def _tiled_max_fwd(x: Array, kernel: tuple[int, int]) -> tuple[Array, Array]:
    kh, kw = kernel
    windows = _windows(x, kernel)
    maximum = windows.max(axis=(-3, -1))
    # The backward pass needs only which element was the first maximum: a small integer per window.
    first = jnp.zeros(maximum.shape, jnp.int8 if kh * kw <= 127 else jnp.int32)
    for position in reversed(range(kh * kw)):  # the lowest position among ties wins
        i, j = divmod(position, kw)
        first = jnp.where(windows[..., i, :, j] == maximum, position, first)
    return maximum, first


def _tiled_max_bwd(kernel: tuple[int, int], first: Array, grad: Array) -> tuple[Array]:
    kh, kw = kernel
    zero = jnp.zeros((), grad.dtype)
    # Assembled as [..., H/kh, kh, W/kw, kw] directly, so the reshape back to [..., H, W] moves no data.
    rows = [jnp.stack([jnp.where(first == i * kw + j, grad, zero) for j in range(kw)], axis=-1) for i in range(kh)]
    windows = jnp.stack(rows, axis=-3)
    return (windows.reshape(*grad.shape[:-2], grad.shape[-2] * kh, grad.shape[-1] * kw),)


_tiled_max.defvjp(_tiled_max_fwd, _tiled_max_bwd)


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
        if self.kind == "avg":
            return _windows(x, self.kernel).mean(axis=(-3, -1))
        return _tiled_max(x, self.kernel)

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
        self.padding = _pair(padding, layer=name, name="padding", minimum=0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half the kernel {self.kernel_size}.")
        self.count_include_pad = bool(count_include_pad)
        # The arguments as given, for torch's repr (which shows `2`, not `(2, 2)`).
        self._given = tuple(_as_given(v) for v in (kernel_size, kernel_size if stride is None else stride, padding))

    def core_layer(self) -> PoolKernel:
        return PoolKernel(self.kind, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def forward(self, x: Any) -> Array:
        x = to_array(x)
        if x.ndim not in (3, 4):
            raise ValueError(f"{type(self).__name__}: expected [B, C, H, W] or [C, H, W], got shape {tuple(x.shape)}.")
        padded = tuple(n + 2 * p for n, p in zip(x.shape[-2:], self.padding))
        if any(n < k for n, k in zip(padded, self.kernel_size)):
            raise ValueError(
                f"{type(self).__name__}: input of shape {tuple(x.shape)} is smaller than the kernel: spatial size "
                f"{tuple(x.shape[-2:])} with padding {self.padding} gives {padded}, less than kernel_size "
                f"{self.kernel_size}."
            )
        return self.core_layer()(x)

    def extra_repr(self) -> str:
        kernel_size, stride, padding = self._given
        return f"kernel_size={kernel_size}, stride={stride}, padding={padding}"


class MaxPool2d(_Pool2d):
    """``torch.nn.MaxPool2d(kernel_size, stride=None, padding=0)``; padding counts as -inf."""

    kind = "max"

    def __init__(self, kernel_size: int | Sequence[int], stride: int | Sequence[int] | None = None,
                 padding: int | Sequence[int] = 0):  # fmt: skip
        super().__init__(kernel_size, stride, padding)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``, as torch's."""
        return super().extra_repr() + ", dilation=1, ceil_mode=False"


class AvgPool2d(_Pool2d):
    """``torch.nn.AvgPool2d(kernel_size, stride=None, padding=0, count_include_pad=True)``."""

    kind = "avg"
