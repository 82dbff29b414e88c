"""The sigma-delta neuron: transmit changes of an accumulated signal as spikes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .._stateful import StatefulLayer
from ..surrogate import SurrogateSpike
from ._base import as_hyperparameter, check_input, check_param_shape, check_shape_argument, check_spike_fn


class SigmaDeltaState(NamedTuple):
    """State of [`SigmaDelta`][]: the accumulated input and the residue not yet sent."""

    sigma: Array
    residue: Array


class SigmaDelta(StatefulLayer):
    r"""Sigma-delta neuron (Nair & Indiveri 2019; Lava's SDN).

    A sigma decoder accumulates the input and applies an activation $f$; a delta
    encoder sends the change of the activation, plus the residue it could not send
    before, once it exceeds the threshold; each spike sends $\theta$ of the signal:

    $$\sigma_t = \sigma_{t-1} + x_t,\qquad \delta_t = f(\sigma_t) - f(\sigma_{t-1}) + r_{t-1},$$
    $$s_t = H(\delta_t - \theta),\qquad r_t = \delta_t - \theta\, s_t$$

    So $\theta \sum_{k \le t} s_k$ tracks $f(\sigma_t)$ to within $\theta$ while the
    activation rises (binary spikes cannot send decreases; they stay in the residue).
    """

    threshold: ArrayLike
    spike_fn: SurrogateSpike
    activation: Callable[[Array], Array] = eqx.field(static=True)

    def __init__(
        self,
        *,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        activation: Callable[[Array], Array] = jax.nn.relu,
    ):
        """**Arguments:**

        - ``threshold``: the quantum $\\theta$ a spike sends (float: fixed; array: trained).
        - ``spike_fn``: the surrogate spike function (default ``superspike()``).
        - ``activation``: $f$, elementwise (default ReLU, as Lava's SDN).
        """
        self.activation = activation
        self.threshold = as_hyperparameter(threshold, layer="SigmaDelta", name="threshold")
        self.spike_fn = check_spike_fn(spike_fn, layer="SigmaDelta")

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> SigmaDeltaState:
        """``sigma = residue = 0``, each of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer="SigmaDelta")
        check_param_shape(self.threshold, shape, layer="SigmaDelta", name="threshold")
        return SigmaDeltaState(jnp.zeros(shape), jnp.zeros(shape))

    def __call__(
        self, state: SigmaDeltaState, x: Array, *, key: PRNGKeyArray | None = None
    ) -> tuple[SigmaDeltaState, Array]:
        check_input(x, state.sigma.shape, layer="SigmaDelta")
        sigma = state.sigma + x
        delta = self.activation(sigma) - self.activation(state.sigma) + state.residue
        s = self.spike_fn(delta - self.threshold)
        return SigmaDeltaState(sigma, delta - self.threshold * s), s
