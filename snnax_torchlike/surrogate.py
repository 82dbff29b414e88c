"""Surrogate gradients under snnTorch's names, for ``spike_grad=`` of facade neurons.

Each returns a [`snnax_torchlike.snn.surrogate.SurrogateSpike`][]: Heaviside
(``x > 0``) forward, the stated derivative backward, ``x`` = membrane - threshold.

| snnTorch name | backward |
|---|---|
| ``atan(alpha=2.0)`` (default of every neuron) | ``(alpha/2) / (1 + (pi/2 alpha x)^2)`` |
| ``fast_sigmoid(slope=25)`` | ``1 / (slope |x| + 1)^2`` |
| ``sigmoid(slope=25)`` | ``slope s (1 - s)``, ``s = sigmoid(slope x)`` |
| ``straight_through_estimator()`` | ``1`` |
| ``spike_rate_escape(beta=1, slope=25)`` | ``slope exp(-beta |x|)`` |
| ``custom(derivative)`` | ``derivative(x)`` |

Not provided: snnTorch's ``triangular`` (a sign-flipped constant in 1.0.0, use
``snn.surrogate.triangular`` for a real triangle), ``SSO``/``LSO``/``SFS``, and
``custom_surrogate``'s ``(input, grad_output, out)`` signature (use ``custom``).
"""

from .snn.surrogate import SurrogateSpike, atan, custom, fast_sigmoid, sigmoid, spike_rate_escape
from .snn.surrogate import straight_through as straight_through_estimator

__all__ = [
    "SurrogateSpike",
    "atan",
    "fast_sigmoid",
    "sigmoid",
    "straight_through_estimator",
    "spike_rate_escape",
    "custom",
]
