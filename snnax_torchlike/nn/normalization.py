"""Layer and batch normalisation with torch's parameters, buffers and semantics."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..imperative import in_pure_scope
from ._recorded_call import recorded_call
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
        """The layer as a pure Equinox module over the current arrays."""
        return LayerNormKernel(
            None if self.weight is None else self.weight.data,
            None if self.bias is None else self.bias.data,
            self.normalized_shape,
            self.eps,
        )

    def forward(self, x: Any) -> Array:
        """``x`` normalised over its last axes (``normalized_shape``), times ``weight`` plus ``bias`` (if any)."""
        x = to_array(x)
        if tuple(x.shape[x.ndim - len(self.normalized_shape) :]) != self.normalized_shape:
            raise ValueError(
                f"LayerNorm: expected inputs ending in {self.normalized_shape}, got shape {tuple(x.shape)}."
            )
        return self.core_layer()(x)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``, as torch's."""
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}, "
            f"bias={self.bias is not None}"
        )


def _channel_axes(x: Array) -> tuple[int, ...]:
    """Every axis but the channel axis 1 of ``[N, C, ...]``: what batch normalisation reduces over."""
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(values: Array, ndim: int) -> Array:
    """``[C]`` values shaped to broadcast against ``[N, C, ...]`` inputs of rank ``ndim``."""
    return values.reshape(values.shape + (1,) * (ndim - 2))


def _batch_statistics(x: Array) -> tuple[Array, Array, Array]:
    """Per-channel mean, biased variance and unbiased variance of ``x`` ``[N, C, ...]``, each ``[C]``."""
    axes = _channel_axes(x)
    count = x.size // x.shape[1]
    mean = jnp.mean(x, axis=axes)
    squares = jnp.sum((x - _per_channel(mean, x.ndim)) ** 2, axis=axes)
    return mean, squares / count, squares / (count - 1)


def _normalise(x: Array, mean: Array, var: Array, weight: Array | None, bias: Array | None, eps: float) -> Array:
    """``(x - mean) / sqrt(var + eps) * weight + bias`` per channel of ``x`` ``[N, C, ...]``."""
    y = (x - _per_channel(mean, x.ndim)) * _per_channel(jax.lax.rsqrt(var + eps), x.ndim)
    if weight is not None:
        y = y * _per_channel(weight, x.ndim)
    if bias is not None:
        y = y + _per_channel(bias, x.ndim)
    return y


class _BatchNorm(Module):
    """What ``BatchNorm1d`` and ``BatchNorm2d`` share; subclasses name the input ranks they take."""

    _ranks: ClassVar[tuple[int, ...]]
    _ranks_text: ClassVar[str]

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ):
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}.")
        if eps <= 0:
            raise ValueError(f"{name}: eps must be positive, got {eps!r}.")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        channels = (self.num_features,)
        if affine:
            self.weight = Parameter(jnp.ones(channels))
            self.bias = Parameter(jnp.zeros(channels))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        tracked = track_running_stats
        self.register_buffer("running_mean", jnp.zeros(channels) if tracked else None)
        self.register_buffer("running_var", jnp.ones(channels) if tracked else None)
        self.register_buffer("num_batches_tracked", jnp.zeros((), jnp.int32) if tracked else None)

    def _check_input(self, shape: tuple[int, ...]) -> None:
        name = type(self).__name__
        if len(shape) not in self._ranks:
            raise ValueError(f"{name}: expected {self._ranks_text} input [N, C, ...], got shape {shape}.")
        if shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} channels on axis 1, got shape {shape}.")
        if self._uses_batch_statistics() and math.prod(shape) // shape[1] < 2:
            raise ValueError(
                f"{name}: expected more than 1 value per channel when training, got input of shape {shape}."
            )

    def _uses_batch_statistics(self) -> bool:
        return self.training or not self.track_running_stats

    def _affine(self) -> tuple[Array | None, Array | None]:
        return (None if self.weight is None else self.weight.data), (None if self.bias is None else self.bias.data)

    # The recorded functions below never read the mode: a recorded function may be shared with another
    # instance of the same settings, so the mode is chosen by which function is called.
    def _by_batch_statistics(self, input: Any) -> Array:
        x = to_array(input)
        mean, var, _ = _batch_statistics(x)
        return _normalise(x, mean, var, *self._affine(), self.eps)

    def _by_running_statistics(self, input: Any) -> Array:
        x = to_array(input)
        return _normalise(x, self._buffers["running_mean"], self._buffers["running_var"], *self._affine(), self.eps)

    def _with_updated_statistics(self, input: Any) -> tuple[Array, Array, Array]:
        """The batch-normalised input and the running statistics updated with this batch's."""
        x = to_array(input)
        mean, var, unbiased = _batch_statistics(x)
        if self.momentum is None:  # torch's cumulative average over the batches seen
            factor = 1.0 / (self._buffers["num_batches_tracked"] + 1).astype(jnp.float32)
        else:
            factor = self.momentum
        running_mean = (1.0 - factor) * self._buffers["running_mean"] + factor * mean
        running_var = (1.0 - factor) * self._buffers["running_var"] + factor * unbiased
        y = _normalise(x, mean, var, *self._affine(), self.eps)
        return y, jax.lax.stop_gradient(running_mean), jax.lax.stop_gradient(running_var)

    def forward(self, input: Any) -> Array:
        """Normalised ``input`` ``[N, C, ...]``: by the batch's statistics in training mode (or without
        running statistics), by ``running_mean``/``running_var`` in eval mode. Updates nothing; a call does."""
        x = to_array(input)
        self._check_input(tuple(x.shape))
        return self._by_batch_statistics(x) if self._uses_batch_statistics() else self._by_running_statistics(x)

    def __call__(self, input: Any) -> Any:
        shape = getattr(input, "shape", None)
        self._check_input(tuple(np.shape(input) if shape is None else shape))
        if not self._uses_batch_statistics():
            return recorded_call(self, self._by_running_statistics, (input,), {})
        if not self.track_running_stats:
            return recorded_call(self, self._by_batch_statistics, (input,), {})
        y, running_mean, running_var = recorded_call(self, self._with_updated_statistics, (input,), {})
        if in_pure_scope() or isinstance(running_mean, jax.core.Tracer):
            warnings.warn(
                f"{type(self).__name__}: running statistics are not updated inside a compiled function (fit, "
                "snx.compile, optimizer.step(closure), jax.jit): these return parameters and hidden state only. "
                "Training normalises by batch statistics as usual, but eval() uses running_mean/running_var as "
                "they were; update them in an eager loop (loss.backward(); optimizer.step()), or pass "
                "track_running_stats=False.",
                stacklevel=2,
            )
            return y
        # Kept pending (computed with the step's other values); detached, so no graph spans steps.
        self._buffers["running_mean"] = running_mean.detach()
        self._buffers["running_var"] = running_var.detach()
        self._buffers["num_batches_tracked"] = self._buffers["num_batches_tracked"] + 1
        return y

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """``torch.nn.BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)``.

    Normalises each channel of ``[N, C]`` or ``[N, C, L]`` inputs, over every axis
    but ``C``, then scales by ``weight`` and shifts by ``bias`` (``affine``).
    In training mode (``module.train()``, the default) it uses the batch's mean and
    biased variance, and each call updates the buffers ``running_mean`` and
    ``running_var`` (with the unbiased variance) by ``momentum``, or as a
    cumulative average when ``momentum=None``, and counts ``num_batches_tracked``;
    in eval mode (``module.eval()``) it uses the running statistics. Values and
    gradients are torch's.

    The running statistics are updated by eager calls (hand-written loops with
    ``loss.backward()``); compiled functions (``fit``, ``snx.compile``,
    ``optimizer.step(closure)``) normalise by batch statistics but keep the running
    statistics unchanged, with a warning. There is no per-sample ``core_layer``
    (batch statistics need the batch), so it does not go into ``nn.Sequential``.

    ``state_dict``: ``weight``, ``bias``, ``running_mean``, ``running_var``,
    ``num_batches_tracked`` (int32 here, int64 in torch; loading either works).
    """

    _ranks = (2, 3)
    _ranks_text = "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """``torch.nn.BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)``.

    As [`BatchNorm1d`][] for ``[N, C, H, W]`` inputs: per channel, over ``N``, ``H`` and ``W``.
    """

    _ranks = (4,)
    _ranks_text = "4D"
