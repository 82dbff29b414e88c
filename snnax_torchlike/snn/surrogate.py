"""Surrogate spike functions.

Every surrogate computes the Heaviside step in the forward pass,

    H(x) = 1 if x > 0 else 0        (strictly greater: x == 0 gives no spike,
                                     as in snnTorch, Norse and NIR)

and replaces its derivative (zero almost everywhere) by a smooth pseudo-derivative
``g(x)`` in the backward pass. They are implemented with ``jax.custom_jvp`` so they
work in forward and reverse mode, under ``jit``, ``vmap`` and ``scan``. ``x`` is the
membrane potential minus the threshold.

Each factory returns an immutable [`SurrogateSpike`][] (an `eqx.Module`); its
hyper-parameters are not trained. To define a new one, either subclass
[`SurrogateSpike`][] and implement `derivative`, or wrap a function with
[`custom`][].
"""

from __future__ import annotations

import abc
import functools
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

__all__ = [
    "SurrogateSpike",
    "superspike",
    "sigmoid",
    "piecewise",
    "atan",
    "fast_sigmoid",
    "triangular",
    "straight_through",
    "spike_rate_escape",
    "custom",
]


def heaviside_step(x: Array) -> Array:
    """``1`` where ``x > 0``, else ``0``, in ``x``'s dtype: the forward pass of every surrogate spike."""
    return (x > 0).astype(x.dtype)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _spike(static: SurrogateSpike, dynamic: SurrogateSpike, x: Array) -> Array:
    del static, dynamic
    return heaviside_step(x)


@_spike.defjvp
def _spike_jvp(static, primals, tangents):
    dynamic, x = primals
    _, x_dot = tangents
    surrogate = eqx.combine(dynamic, static)
    # The hyper-parameters get no derivative: only x carries a tangent.
    return heaviside_step(x), surrogate.derivative(x).astype(x.dtype) * x_dot


class SurrogateSpike(eqx.Module):
    """A spike function: Heaviside forward, ``derivative(x)`` backward.

    Subclass it and implement ``derivative`` to define a new surrogate.
    Calling an instance on ``x`` (any shape, floating dtype) returns an array of
    the same shape and dtype holding 0.0 or 1.0.
    """

    @abc.abstractmethod
    def derivative(self, x: Array) -> Array:
        """The pseudo-derivative ``g(x)`` used in the backward pass.

        **Arguments:** ``x``: membrane minus threshold, any shape.

        **Returns:** an array of the shape of ``x``.
        """

    def __call__(self, x: ArrayLike) -> Array:
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise TypeError(
                f"{type(self).__name__}: expected a floating-point input "
                f"(membrane minus threshold), got dtype {x.dtype}."
            )
        dynamic, static = eqx.partition(self, eqx.is_array)
        return _spike(static, dynamic, x)


class _SuperSpike(SurrogateSpike):
    beta: float

    def derivative(self, x: Array) -> Array:
        return 1.0 / (1.0 + self.beta * jnp.abs(x)) ** 2


class _Sigmoid(SurrogateSpike):
    slope: float

    def derivative(self, x: Array) -> Array:
        z = self.slope * x
        # sigmoid(-z) instead of 1 - sigmoid(z): no cancellation for large z in float32.
        return self.slope * jax.nn.sigmoid(z) * jax.nn.sigmoid(-z)


class _Piecewise(SurrogateSpike):
    width: float

    def derivative(self, x: Array) -> Array:
        return jnp.where(jnp.abs(x) < self.width, 0.5 / self.width, 0.0)


class _Atan(SurrogateSpike):
    alpha: float

    def derivative(self, x: Array) -> Array:
        return (self.alpha / 2.0) / (1.0 + (math.pi / 2.0 * self.alpha * x) ** 2)


class _Triangular(SurrogateSpike):
    width: float

    def derivative(self, x: Array) -> Array:
        return jnp.maximum(0.0, 1.0 - jnp.abs(x) / self.width) / self.width


class _StraightThrough(SurrogateSpike):
    def derivative(self, x: Array) -> Array:
        return jnp.ones_like(x)


class _SpikeRateEscape(SurrogateSpike):
    beta: float
    slope: float

    def derivative(self, x: Array) -> Array:
        return self.slope * jnp.exp(-self.beta * jnp.abs(x))


class _Custom(SurrogateSpike):
    fn: Callable[[Array], Array]

    def derivative(self, x: Array) -> Array:
        return jnp.broadcast_to(jnp.asarray(self.fn(x), dtype=x.dtype), x.shape)


def _positive(name: str, value: float, factory: str) -> float:
    value = float(value)
    if not value > 0:
        raise ValueError(f"surrogate.{factory}: {name} must be > 0, got {value}.")
    return value


def superspike(beta: float = 10.0) -> SurrogateSpike:
    r"""SuperSpike (Zenke & Ganguli, 2018): ``g(x) = 1 / (1 + beta |x|)^2``.

    **Arguments:** ``beta``: sharpness (> 0). Peak ``g(0) = 1``.
    """
    return _SuperSpike(_positive("beta", beta, "superspike"))


def fast_sigmoid(slope: float = 25.0) -> SurrogateSpike:
    r"""Fast sigmoid (snnTorch's default shape): ``g(x) = 1 / (slope |x| + 1)^2``.

    The same curve as [`superspike`][] with ``beta = slope``; kept under snnTorch's
    name and default slope.
    """
    return _SuperSpike(_positive("slope", slope, "fast_sigmoid"))


def sigmoid(slope: float = 25.0) -> SurrogateSpike:
    r"""Logistic: ``g(x) = slope * s (1 - s)`` with ``s = sigmoid(slope x)``.

    The derivative of ``sigmoid(slope x)``; peak ``slope / 4``.
    """
    return _Sigmoid(_positive("slope", slope, "sigmoid"))


def piecewise(width: float = 0.5) -> SurrogateSpike:
    r"""Boxcar: ``g(x) = 1 / (2 width)`` where ``|x| < width``, else 0 (unit area)."""
    return _Piecewise(_positive("width", width, "piecewise"))


def atan(alpha: float = 2.0) -> SurrogateSpike:
    r"""Arc-tangent (snnTorch's default): ``g(x) = (alpha/2) / (1 + (pi/2 alpha x)^2)``.

    The derivative of ``arctan(pi/2 alpha x) / pi + 1/2``; peak ``alpha / 2``.
    """
    return _Atan(_positive("alpha", alpha, "atan"))


def triangular(width: float = 1.0) -> SurrogateSpike:
    r"""Triangle (Esser et al. 2016; Bellec et al. 2018):
    ``g(x) = max(0, 1 - |x| / width) / width`` (unit area, peak ``1 / width``).

    Note: snnTorch's ``triangular`` is a sign-flipped constant, not a triangle; this
    is the triangle the name promises (``snnax_torchlike.surrogate.triangular``
    reproduces snnTorch's).
    """
    return _Triangular(_positive("width", width, "triangular"))


def straight_through() -> SurrogateSpike:
    r"""Straight-through estimator: ``g(x) = 1``."""
    return _StraightThrough()


def spike_rate_escape(beta: float = 1.0, slope: float = 25.0) -> SurrogateSpike:
    r"""Spike-rate escape noise: ``g(x) = slope * exp(-beta |x|)``.

    Centred on the threshold (snnTorch 1.0.0 evaluates ``|x - 1|`` instead;
    ``snnax_torchlike.surrogate.spike_rate_escape`` reproduces that).
    """
    return _SpikeRateEscape(
        _positive("beta", beta, "spike_rate_escape"),
        _positive("slope", slope, "spike_rate_escape"),
    )


def custom(derivative: Callable[[Array], Array]) -> SurrogateSpike:
    r"""A surrogate with a user-given pseudo-derivative.

    **Arguments:** ``derivative``: a function of ``x`` (membrane minus threshold)
    returning ``g(x)``, elementwise, in JAX operations.

    **Returns:** a [`SurrogateSpike`][] with a Heaviside forward and ``derivative``
    backward.

    ```python
    gaussian = surrogate.custom(lambda x: jnp.exp(-(x**2) / 0.5))
    ```
    """
    if not callable(derivative):
        raise TypeError(f"surrogate.custom: expected a callable derivative, got {type(derivative).__name__}.")
    return _Custom(derivative)
