"""Convolutions with torch's constructor, layout (channels first) and initialisation."""

from __future__ import annotations

import functools
import itertools
import math
import numbers
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from ..random import next_key
from ..snn.precision import current_precision, matmul, mixed_product
from .module import Module, Parameter, to_array


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _tuple(value: int | Sequence[int], n: int, *, layer: str, name: str, minimum: int = 1) -> tuple[int, ...]:
    """``value`` (an int, or ``n`` ints) as ``n`` ints, each at least ``minimum``, or a clear error.

    torch refuses a kernel, stride or dilation of 0 and negative padding; a float
    (``k / 2``) would be truncated, so it is refused too.
    """
    if _is_int(value):
        values: tuple[Any, ...] = (value,) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
    else:
        values = ()
    if len(values) != n or not all(_is_int(v) for v in values):
        expected = "an int" if n == 1 else f"an int or {n} ints"
        raise ValueError(f"{layer}: {name} must be {expected}, got {value!r}.")
    if any(v < minimum for v in values):
        raise ValueError(f"{layer}: {name} must be >= {minimum}, got {value!r}.")
    return tuple(int(v) for v in values)


def _im2col_conv(
    x: Array, weight: Array, stride: tuple[int, ...], padding: str | tuple[tuple[int, int], ...], precision: str
) -> Array:
    """``conv_general_dilated`` (groups 1, no dilation) as patches times a matrix.

    ``x``: ``[N, C, *spatial]``; ``weight``: ``[O, C, *kernel]``; returns ``[N, O, *out]``.
    The patches are gathered channels-last with strided slices, so the product
    is one plain matmul ``[N * prod(out), prod(kernel) * C] @ [prod(kernel) * C, O]``.
    """
    kernel = weight.shape[2:]
    if padding != "VALID":
        x = jnp.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    channels_last = jnp.moveaxis(x, 1, -1)
    out = tuple((size - k) // s + 1 for size, k, s in zip(x.shape[2:], kernel, stride))
    slices = [
        channels_last[(slice(None),) + tuple(slice(o, o + s * (n - 1) + 1, s) for o, s, n in zip(offset, stride, out))]
        for offset in itertools.product(*(range(k) for k in kernel))
    ]
    patches = jnp.stack(slices, axis=-2).reshape(x.shape[0] * math.prod(out), -1)
    matrix = jnp.moveaxis(weight, (0, 1), (-1, -2)).reshape(-1, weight.shape[0])
    y = matmul(patches, matrix, precision).reshape(x.shape[0], *out, weight.shape[0])
    return jnp.moveaxis(y, -1, 1)


def _band_conv2d(
    x: Array, weight: Array, stride: tuple[int, int], padding: str | tuple[tuple[int, int], ...], precision: str
) -> Array:
    """A 2-D ``conv_general_dilated`` (groups 1, no dilation) as one matmul with a banded weight matrix.

    ``x``: ``[N, C, H, W]``; ``weight``: ``[O, C, kh, kw]``; returns ``[N, O, Ho, Wo]``.
    Each output row is ``kh`` input rows (all channels, the full width: ``kh * C * W``
    values) times a band matrix ``[kh * C * W, O * Wo]`` that holds the kernel at every
    horizontal position. The patches are whole rows, ``kw`` times fewer than im2col's
    for stride 1, at ``W / kw`` times the multiply-adds (the band's zeros): the better
    trade when few input channels make im2col's patches a gather of single values.
    """
    if padding != "VALID":
        x = jnp.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    n, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    (sh, sw) = stride
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    tap = jnp.arange(w)[:, None] - sw * jnp.arange(wo)[None, :]  # [W, Wo]: which kernel column meets input column w
    taps = jnp.where((tap >= 0) & (tap < kw), weight[..., jnp.clip(tap, 0, kw - 1)], 0.0)  # [O, C, kh, W, Wo]
    band = jnp.transpose(taps, (2, 1, 3, 0, 4)).reshape(kh * c * w, o * wo)
    rows = jnp.moveaxis(x, 1, 2)  # [N, H, C, W]
    patches = jnp.stack([rows[:, i : i + sh * (ho - 1) + 1 : sh] for i in range(kh)], axis=2)
    y = matmul(patches.reshape(n * ho, kh * c * w), band, precision).reshape(n, ho, o, wo)
    return jnp.moveaxis(y, 2, 1)


ALGORITHMS = ("auto", "xla", "im2col", "band")


def _algorithm(kernel: "ConvKernel", width: int) -> str:
    """The algorithm ``kernel`` uses on inputs of (padded) ``width``: its own, or the choice of ``"auto"``."""
    if kernel.algorithm != "auto":
        return kernel.algorithm
    # XLA's CPU convolutions (and their gradients) are several times slower than a
    # matmul formulation for the small kernels SNNs use; accelerators have fast convolutions.
    if jax.default_backend() != "cpu" or kernel.groups != 1 or any(d != 1 for d in kernel.dilation):
        return "xla"
    channels, kernel_width = kernel.weight.shape[1], kernel.weight.shape[-1]
    # Measured on W2's CNN (docs/performance.md): with 1-3 input channels the band matmul beats
    # im2col (conv1: forward 120 vs 213 ms); its extra multiply-adds grow as width / kw, so not for wide inputs.
    if kernel.weight.ndim == 4 and channels <= 3 and width <= 8 * kernel_width:
        return "band"
    return "im2col"


class ConvKernel(eqx.Module):
    """A convolution as a pure function; ``weight`` ``[out, in/groups, *kernel]`` (torch's layout).

    Takes one sample ``[C, *spatial]`` or a batch ``[B, C, *spatial]``. ``algorithm``:
    ``"xla"`` (``lax.conv_general_dilated``), ``"im2col"`` (patches times a matrix;
    groups 1, no dilation), ``"band"`` (2-D only: input rows times a banded weight
    matrix; groups 1, no dilation) or ``"auto"``: on CPU, band for 1-3 input channels
    and narrow inputs, else im2col, where they apply; XLA's elsewhere. All compute the
    same convolution (up to float rounding). ``precision`` (``snn.precision``):
    ``"bf16-mixed"`` multiplies bfloat16 operands with float32 accumulation and result. ``name`` (the facade layer's) starts
    error messages: inputs of the wrong rank or channel count, or spatially smaller
    than the dilated kernel after padding, raise a ``ValueError``.
    """

    weight: Array
    bias: Array | None
    stride: tuple[int, ...] = eqx.field(static=True)
    padding: str | tuple[tuple[int, int], ...] = eqx.field(static=True)
    dilation: tuple[int, ...] = eqx.field(static=True)
    groups: int = eqx.field(static=True)
    algorithm: str = eqx.field(static=True, default="auto")
    name: str = eqx.field(static=True, default="ConvKernel")
    precision: str = eqx.field(static=True, default="32-true")

    def _check_input(self, x: Array) -> None:
        """Refuse inputs torch refuses, rather than failing in a reshape or returning an empty output."""
        spatial = self.weight.ndim - 2
        channels = self.weight.shape[1] * self.groups
        if x.ndim not in (spatial + 1, spatial + 2) or x.shape[-spatial - 1] != channels:
            raise ValueError(
                f"{self.name}: expected [B, {channels}, {', '.join(['*'] * spatial)}] (or one sample without B), "
                f"got shape {tuple(x.shape)}."
            )
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise TypeError(f"{self.name}: inputs must be floating point, got {x.dtype}; convert with x.float().")
        kernel = self.weight.shape[2:]
        pads = [0] * spatial if self.padding == "VALID" else [sum(pair) for pair in self.padding]
        sizes = x.shape[-spatial:]
        needed = [d * (k - 1) + 1 for d, k in zip(self.dilation, kernel)]
        if any(size + pad < need for size, pad, need in zip(sizes, pads, needed)):
            raise ValueError(
                f"{self.name}: input of shape {tuple(x.shape)} is smaller than the kernel: spatial size "
                f"{tuple(sizes)} plus padding {self.padding} gives {tuple(n + p for n, p in zip(sizes, pads))}, "
                f"but kernel_size {tuple(kernel)} with dilation {self.dilation} needs at least {tuple(needed)}."
            )

    def __check_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"ConvKernel: algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}.")
        matmul = self.algorithm in ("im2col", "band")
        if matmul and (self.groups != 1 or any(d != 1 for d in self.dilation)):
            raise ValueError(f"ConvKernel: algorithm {self.algorithm!r} needs groups=1 and no dilation.")
        if self.algorithm == "band" and self.weight.ndim != 4:
            raise ValueError(f"ConvKernel: algorithm 'band' is 2-D only; this kernel has shape {self.weight.shape}.")

    def __call__(self, x: Array) -> Array:
        self._check_input(x)
        spatial = self.weight.ndim - 2
        single = x.ndim == spatial + 1
        batch = x[None] if single else x
        padded_width = batch.shape[-1] + (0 if self.padding == "VALID" else sum(self.padding[-1]))
        algorithm = _algorithm(self, padded_width)
        if algorithm == "band":
            y = _band_conv2d(batch, self.weight, self.stride, self.padding, self.precision)
        elif algorithm == "im2col":
            y = _im2col_conv(batch, self.weight, self.stride, self.padding, self.precision)
        else:
            letters = "HWD"[:spatial]
            convolution = functools.partial(
                jax.lax.conv_general_dilated,
                window_strides=self.stride,
                padding=self.padding,
                rhs_dilation=self.dilation,
                dimension_numbers=(f"NC{letters}", f"OI{letters}", f"NC{letters}"),
                feature_group_count=self.groups,
                preferred_element_type=jnp.float32,
            )
            operands = (batch.astype(jnp.float32), self.weight.astype(jnp.float32))
            y = mixed_product(convolution, *operands, self.precision)
        if self.bias is not None:
            y = y + self.bias.reshape((1, -1) + (1,) * spatial)
        return y[0] if single else y


class _ConvNd(Module):
    """Shared constructor and checks of ``Conv1d``/``Conv2d``."""

    spatial_dims = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | str = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        *,
        key: PRNGKeyArray | None = None,
    ):
        super().__init__()
        name, n = type(self).__name__, self.spatial_dims
        for argument, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            _tuple(value, 1, layer=name, name=argument)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must divide by groups ({groups})."
            )
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _tuple(kernel_size, n, layer=name, name="kernel_size")
        self.stride = _tuple(stride, n, layer=name, name="stride")
        self.dilation = _tuple(dilation, n, layer=name, name="dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, ints, 'same' or 'valid', got {padding!r}.")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' needs stride 1 (as in torch).")
            self.padding: Any = padding
        else:
            self.padding = _tuple(padding, n, layer=name, name="padding", minimum=0)
        fan_in = in_channels // groups * math.prod(self.kernel_size)
        bound = 1.0 / math.sqrt(fan_in)
        wkey, bkey = jax.random.split(next_key() if key is None else key)
        shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(jax.random.uniform(wkey, shape, minval=-bound, maxval=bound))
        self.bias = Parameter(jax.random.uniform(bkey, (out_channels,), minval=-bound, maxval=bound)) if bias else None

    def _lax_padding(self) -> str | tuple[tuple[int, int], ...]:
        if self.padding == "valid":
            return "VALID"
        if self.padding == "same":
            # torch's 'same': total padding d*(k-1), the extra element on the right.
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return tuple((t // 2, t - t // 2) for t in totals)
        return tuple((p, p) for p in self.padding)

    def core_layer(self) -> ConvKernel:
        """The convolution as a pure Equinox module over the current arrays."""
        return ConvKernel(
            self.weight.data,
            None if self.bias is None else self.bias.data,
            self.stride,
            self._lax_padding(),
            self.dilation,
            self.groups,
            name=type(self).__name__,
            precision=current_precision(),
        )

    def forward(self, x: Any) -> Array:
        return self.core_layer()(to_array(x))

    def extra_repr(self) -> str:
        # torch's: the defaults (no padding, dilation 1, one group, a bias) are left out.
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if isinstance(self.padding, str) or any(self.padding):
            text += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + (", bias=False" if self.bias is None else "")


class Conv1d(_ConvNd):
    """``torch.nn.Conv1d``: input ``[B, C_in, L]``, weight ``[C_out, C_in/groups, k]``."""

    spatial_dims = 1


class Conv2d(_ConvNd):
    """``torch.nn.Conv2d``: input ``[B, C_in, H, W]``, weight ``[C_out, C_in/groups, kh, kw]``."""

    spatial_dims = 2
