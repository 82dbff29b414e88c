"""Surrogate gradients under snnTorch's names, with snnTorch 1.0.0's numerics, for ``spike_grad=``.

Each factory returns a [`snnax_torchlike.snn.surrogate.SurrogateSpike`][]:
Heaviside (``x > 0``) forward, the stated derivative backward, ``x`` = membrane
minus threshold. The backward passes are snnTorch's as implemented, quirks
included (tested against snnTorch's autograd):

| snnTorch name | backward |
|---|---|
| ``atan(alpha=2.0)`` (default of every neuron) | ``(alpha/2) / (1 + (pi/2 alpha x)^2)`` |
| ``fast_sigmoid(slope=25)`` | ``1 / (slope |x| + 1)^2`` |
| ``sigmoid(slope=25)`` | ``slope s (1 - s)``, ``s = sigmoid(slope x)`` |
| ``straight_through_estimator()`` | ``1`` |
| ``heaviside()`` | ``H(x)``: a gradient only where the neuron spiked |
| ``triangular(threshold=1)`` | ``threshold`` where ``x < 0``, ``-threshold`` where ``x >= 0`` |
| ``spike_rate_escape(beta=1, slope=25)`` | ``slope exp(-beta |x - 1|)`` |
| ``SFS(slope=25, B=1)`` | ``1 / (slope |x| + 1)^2`` where ``x > B``, else 0 |
| ``custom_surrogate(fn)`` | ``fn(input_, grad_input, out)`` |
| ``custom(derivative)`` (not in snnTorch) | ``derivative(x)`` |

snnTorch's ``triangular`` is not a triangle but a constant whose sign flips at the
threshold, and its ``spike_rate_escape`` peaks at ``x = 1`` (one unit above the
threshold), not at the threshold. They are kept so that ported code trains as it
did; the functional core's ``snn.surrogate.triangular`` and
``snn.surrogate.spike_rate_escape`` are the curves the names promise (a unit-area
triangle, an escape rate centred on the threshold).

``sigmoid`` evaluates ``slope s(z) s(-z)``, equal to snnTorch's
``slope e^{-z} / (e^{-z} + 1)^2`` but finite where snnTorch's overflows to NaN
(``slope x < -88`` in float32).

Refused: ``SSO`` (``StochasticSpikeOperator``), whose backward draws fresh noise at
every call from the global generator of torch (a pure JAX surrogate has no key to
draw from, and a fixed key would repeat the same noise at every time step), and
``LSO`` (``LeakySpikeOperator``), which fails in snnTorch 1.0.0 itself.

snnTorch's ``torch.autograd.Function`` classes are here under their names
(``ATan``, ``FastSigmoid``, ...); ``ATan.apply(x, alpha)`` spikes as
``atan(alpha)(x)`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .imperative import Tensor, unwrap
from .imperative.convert import to_array
from .snn.surrogate import SurrogateSpike, atan, custom, fast_sigmoid, heaviside_step, sigmoid
from .snn.surrogate import spike_rate_escape as _centred_spike_rate_escape
from .snn.surrogate import straight_through as straight_through_estimator

__all__ = [
    "SurrogateSpike",
    "atan",
    "fast_sigmoid",
    "sigmoid",
    "straight_through_estimator",
    "heaviside",
    "triangular",
    "spike_rate_escape",
    "SFS",
    "SSO",
    "LSO",
    "custom_surrogate",
    "custom",
    "ATan",
    "FastSigmoid",
    "Sigmoid",
    "StraightThroughEstimator",
    "Heaviside",
    "Triangular",
    "SpikeRateEscape",
    "SparseFastSigmoid",
    "StochasticSpikeOperator",
    "LeakySpikeOperator",
    "CustomSurrogate",
]


class _Heaviside(SurrogateSpike):
    def derivative(self, x: Array) -> Array:
        return heaviside_step(x)


class _SignFlip(SurrogateSpike):
    threshold: float

    def derivative(self, x: Array) -> Array:
        return jnp.where(x >= 0, -self.threshold, self.threshold)


class _Shifted(SurrogateSpike):
    """``base``'s pseudo-derivative evaluated at ``x - shift``."""

    base: SurrogateSpike
    shift: float

    def derivative(self, x: Array) -> Array:
        return self.base.derivative(x - self.shift)


class _AboveBound(SurrogateSpike):
    """``base``'s pseudo-derivative where ``x > bound``, zero elsewhere."""

    base: SurrogateSpike
    bound: float

    def derivative(self, x: Array) -> Array:
        return jnp.where(x > self.bound, self.base.derivative(x), 0.0)


class _CustomSurrogate(SurrogateSpike):
    fn: Callable[[Any, Any, Any], Any]

    def derivative(self, x: Array) -> Array:
        # snnTorch's contract: fn scales grad_input elementwise, so its value at grad_input = 1 is g(x).
        grad = self.fn(Tensor(x), Tensor(jnp.ones_like(x)), Tensor(heaviside_step(x)))
        return jnp.broadcast_to(jnp.asarray(unwrap(grad), dtype=x.dtype), x.shape)


def _real(factory: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not hasattr(value, "__float__"):
        raise TypeError(f"surrogate.{factory}: {name} must be a real number, got {type(value).__name__} {value!r}.")
    return float(value)


def heaviside() -> SurrogateSpike:
    r"""snnTorch's ``heaviside``: the backward is the forward, ``g(x) = H(x)``.

    The gradient passes only where the neuron spiked (``x > 0``).
    """
    return _Heaviside()


def triangular(threshold: float = 1.0) -> SurrogateSpike:
    r"""snnTorch's ``triangular``, as implemented there: ``g(x) = threshold`` where
    ``x < 0`` and ``-threshold`` where ``x >= 0``.

    Despite the name this is no triangle: a constant whose sign flips at the
    threshold, so above it the gradient pushes the membrane the opposite way.
    For the triangle (Esser et al. 2016) use the core's
    ``snnax_torchlike.snn.surrogate.triangular(width)``.

    **Arguments:** ``threshold``: the magnitude of the pseudo-derivative (any real).
    """
    return _SignFlip(_real("triangular", "threshold", threshold))


def spike_rate_escape(beta: float = 1.0, slope: float = 25.0) -> SurrogateSpike:
    r"""snnTorch's ``spike_rate_escape``: ``g(x) = slope * exp(-beta |x - 1|)``.

    As in snnTorch the peak is at ``x = 1``, one unit above the threshold; the
    core's ``snnax_torchlike.snn.surrogate.spike_rate_escape`` is the same curve
    centred on the threshold (``|x|``).

    **Arguments:** ``beta`` (> 0): the decay of the escape rate; ``slope`` (> 0): its peak.
    """
    return _Shifted(_centred_spike_rate_escape(beta, slope), 1.0)


def SFS(slope: float = 25.0, B: float = 1.0) -> SurrogateSpike:
    r"""snnTorch's sparse fast sigmoid (Perez-Nieves & Goodman 2021):
    ``g(x) = 1 / (slope |x| + 1)^2`` where ``x > B``, else 0.

    **Arguments:** ``slope`` (> 0): as [`fast_sigmoid`][]; ``B``: the bound below
    which no gradient passes (snnTorch's name).
    """
    return _AboveBound(fast_sigmoid(slope), _real("SFS", "B", B))


def custom_surrogate(custom_surrogate_function: Callable[[Any, Any, Any], Any]) -> SurrogateSpike:
    r"""snnTorch's ``custom_surrogate``: a backward written as ``fn(input_, grad_input, out)``.

    **Arguments:** ``custom_surrogate_function``: a function of ``input_`` (membrane
    minus threshold), ``grad_input`` (the gradient arriving at the spikes) and
    ``out`` (the spikes), returning the gradient of ``input_``, as in snnTorch:

    ```python
    def custom_fast_sigmoid(input_, grad_input, spikes):
        slope = 25  # hyper-parameters live inside the function, as in snnTorch
        return grad_input / (slope * torch.abs(input_) + 1.0) ** 2

    spike_grad = surrogate.custom_surrogate(custom_fast_sigmoid)
    ```

    The three arguments are [`snnax_torchlike.Tensor`][]s, so torch functions
    (``torch.abs``, ``torch.exp``), tensor methods and ``jax.numpy`` all work on
    them. The function must scale ``grad_input`` elementwise, as every snnTorch
    surrogate does (``grad_input * g(input_, out)``): it is evaluated once with
    ``grad_input = 1`` to obtain ``g``, which also makes it differentiable in
    forward mode. The result may be a tensor or a number (broadcast to the input).

    **Returns:** a [`SurrogateSpike`][]. For a function of ``x`` alone, [`custom`][] is shorter.
    """
    if not callable(custom_surrogate_function):
        raise TypeError(
            "surrogate.custom_surrogate: expected a function (input_, grad_input, out) -> grad, "
            f"got {type(custom_surrogate_function).__name__}."
        )
    return _CustomSurrogate(custom_surrogate_function)


def SSO(mean: float = 0.0, variance: float = 0.2) -> NoReturn:
    """snnTorch's stochastic spike operator: refused.

    Its backward adds ``(U[0, 1) - 0.5 + mean) * variance`` noise below the
    threshold, drawn from torch's global generator at every backward call. A
    surrogate here is a pure JAX function without a key: a key fixed at
    construction would give the same noise at every time step and batch, which is
    not snnTorch's estimator, and torch's stream cannot be reproduced anyway.

    **Raises:** ``NotImplementedError``, always.
    """
    raise NotImplementedError(
        f"surrogate.SSO(mean={mean!r}, variance={variance!r}): the stochastic spike operator draws fresh torch "
        "random noise at every backward pass, which a pure JAX surrogate (no random key) cannot reproduce; "
        "write a deterministic backward with surrogate.custom_surrogate(fn), or use e.g. "
        "surrogate.straight_through_estimator()."
    )


def LSO(slope: float = 0.1) -> NoReturn:
    """snnTorch's leaky spike operator: refused, because it does not work in snnTorch 1.0.0.

    snnTorch's ``LSO`` calls the stochastic operator with the wrong arguments (a
    ``TypeError`` at the first spike), and its ``LeakySpikeOperator`` returns one
    gradient for two inputs (an error at the first backward), so no snnTorch
    numerics exist to reproduce.

    **Raises:** ``TypeError``, always (snnTorch's failure, raised at once, with the reason).
    """
    raise TypeError(
        f"surrogate.LSO(slope={slope!r}): snnTorch 1.0.0's leaky spike operator is broken (LSO passes its slope "
        "to the stochastic operator, and LeakySpikeOperator's backward returns one gradient for two inputs), so "
        "it has no behaviour to reproduce; for its intended gradient (1 above the threshold, slope below) use "
        f"surrogate.custom_surrogate(lambda input_, grad, out: grad * (out + (1 - out) * {slope!r}))."
    )


class _AutogradFunction:
    """snnTorch's ``torch.autograd.Function`` class of a surrogate: ``Name.apply(input_, *hyper_parameters)``."""

    def __init__(self, name: str, factory: Callable[..., SurrogateSpike]):
        self.__name__ = self.__qualname__ = name
        self._factory = factory

    def apply(self, input_: ArrayLike, *hyper_parameters: Any) -> Array:
        """The spikes ``input_ > 0`` with this surrogate's backward: ``factory(*hyper_parameters)(input_)``."""
        return self._factory(*hyper_parameters)(to_array(input_))

    def __repr__(self) -> str:
        return f"surrogate.{self.__name__}"


ATan = _AutogradFunction("ATan", atan)
"""snnTorch's autograd class of [`atan`][snnax_torchlike.surrogate.atan]: ``ATan.apply(x, *hyper_parameters)``."""
FastSigmoid = _AutogradFunction("FastSigmoid", fast_sigmoid)
"""snnTorch's autograd class of [`fast_sigmoid`][snnax_torchlike.surrogate.fast_sigmoid]: ``FastSigmoid.apply(x, *hyper_parameters)``."""
Sigmoid = _AutogradFunction("Sigmoid", sigmoid)
"""snnTorch's autograd class of [`sigmoid`][snnax_torchlike.surrogate.sigmoid]: ``Sigmoid.apply(x, *hyper_parameters)``."""
StraightThroughEstimator = _AutogradFunction("StraightThroughEstimator", straight_through_estimator)
"""snnTorch's autograd class of [`straight_through_estimator`][snnax_torchlike.surrogate.straight_through_estimator]: ``StraightThroughEstimator.apply(x, *hyper_parameters)``."""
Heaviside = _AutogradFunction("Heaviside", heaviside)
"""snnTorch's autograd class of [`heaviside`][snnax_torchlike.surrogate.heaviside]: ``Heaviside.apply(x, *hyper_parameters)``."""
Triangular = _AutogradFunction("Triangular", triangular)
"""snnTorch's autograd class of [`triangular`][snnax_torchlike.surrogate.triangular]: ``Triangular.apply(x, *hyper_parameters)``."""
SpikeRateEscape = _AutogradFunction("SpikeRateEscape", spike_rate_escape)
"""snnTorch's autograd class of [`spike_rate_escape`][snnax_torchlike.surrogate.spike_rate_escape]: ``SpikeRateEscape.apply(x, *hyper_parameters)``."""
SparseFastSigmoid = _AutogradFunction("SparseFastSigmoid", SFS)
"""snnTorch's autograd class of [`SFS`][snnax_torchlike.surrogate.SFS]: ``SparseFastSigmoid.apply(x, *hyper_parameters)``."""
StochasticSpikeOperator = _AutogradFunction("StochasticSpikeOperator", SSO)
"""snnTorch's autograd class of [`SSO`][snnax_torchlike.surrogate.SSO]: ``StochasticSpikeOperator.apply(x, *hyper_parameters)``."""
LeakySpikeOperator = _AutogradFunction("LeakySpikeOperator", LSO)
"""snnTorch's autograd class of [`LSO`][snnax_torchlike.surrogate.LSO]: ``LeakySpikeOperator.apply(x, *hyper_parameters)``."""
CustomSurrogate = _AutogradFunction("CustomSurrogate", custom_surrogate)
"""snnTorch's autograd class of [`custom_surrogate`][snnax_torchlike.surrogate.custom_surrogate]: ``CustomSurrogate.apply(x, *hyper_parameters)``."""
