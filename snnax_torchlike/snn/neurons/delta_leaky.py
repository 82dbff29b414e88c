"""snnTorch's `DeltaLeaky`: a leaky membrane that spikes when it changes by more than a threshold."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .._stateful import StatefulLayer
from ..surrogate import SurrogateSpike, atan
from ._base import (
    as_float_array,
    as_hyperparameter,
    check_input,
    check_param_shapes,
    check_shape_argument,
    check_spike_fn,
)


def delta_leaky_update(
    x: Array, mem: Array, *, beta: ArrayLike, delta_threshold: ArrayLike, spike_fn: SurrogateSpike
) -> tuple[Array, Array]:
    r"""One step of snnTorch 1.0's ``DeltaLeaky``; returns ``(spk, mem)``.

    $$m_t = \beta\, m_{t-1} + x_t,\qquad s_t = H(|m_t - m_{t-1}| - \delta)$$

    with $\delta$ the ``delta_threshold``. As in snnTorch, ``beta`` is not clamped,
    there is no reset and no graded spikes factor. Shapes broadcast like snnTorch's
    (``beta`` and ``delta_threshold`` against ``x``); ``mem`` has ``x``'s shape.
    """
    new_mem = beta * mem + x
    change = new_mem - mem
    # |change| written so its derivative at 0 is 0 (sign), as torch's abs; jnp.abs gives 1 there.
    spk = spike_fn(change * jnp.sign(change) - delta_threshold)
    return spk, new_mem


class DeltaLeaky(StatefulLayer):
    r"""snnTorch's ``DeltaLeaky`` as a stateful layer (see [`delta_leaky_update`][]).

    A leaky integrator without reset whose spikes mark large changes of the
    membrane, up or down. State: the membrane. Output: the spikes.
    """

    beta: Array
    delta_threshold: ArrayLike
    spike_fn: SurrogateSpike

    def __init__(self, beta: ArrayLike, *, delta_threshold: ArrayLike = 1.0, spike_fn: SurrogateSpike | None = None):
        """**Arguments:**

        - ``beta``: membrane decay, scalar or per-neuron array (trainable; not clamped).
        - ``delta_threshold``: the change of the membrane that fires (float: fixed; array: trained).
        - ``spike_fn``: surrogate (default ``atan(alpha=2)``, snnTorch's default).
        """
        self.beta = as_float_array(beta, layer="DeltaLeaky", name="beta")
        self.delta_threshold = as_hyperparameter(delta_threshold, layer="DeltaLeaky", name="delta_threshold")
        self.spike_fn = check_spike_fn(atan(2.0) if spike_fn is None else spike_fn, layer="DeltaLeaky")

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> Array:
        """The membrane ``0`` of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer="DeltaLeaky")
        check_param_shapes(self, shape, ("beta", "delta_threshold"))
        return jnp.zeros(shape)

    def __call__(self, state: Array, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[Array, Array]:
        check_input(x, state.shape, layer="DeltaLeaky")
        spk, mem = delta_leaky_update(
            x, state, beta=self.beta, delta_threshold=self.delta_threshold, spike_fn=self.spike_fn
        )
        return mem, spk
