"""A pass-through layer that counts what flows through it."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .._stateful import StatefulLayer
from ._base import check_input, check_shape_argument


class SpikeCounter(StatefulLayer):
    r"""Passes its input through unchanged and accumulates it in its state.

    $$c_t = c_{t-1} + x_t,\qquad \text{output} = x_t$$

    Place it after a hidden spiking layer to read that layer's spike counts from
    the final state (e.g. for rate regularisation) without changing the network.
    """

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> Array:
        """The count ``0`` of ``shape`` (one sample, one step)."""
        return jnp.zeros(check_shape_argument(shape, layer="SpikeCounter"))

    def __call__(self, state: Array, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[Array, Array]:
        check_input(x, state.shape, layer="SpikeCounter")
        return state + x, x
