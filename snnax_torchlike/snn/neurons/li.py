"""The leaky integrator: a non-spiking readout."""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .._stateful import StatefulLayer
from ._base import (
    DecayParameterisation,
    check_decay_parameterisation,
    check_input,
    check_param_shape,
    check_shape_argument,
    decode_decay,
    encode_decay,
    resolve_decays,
)


class SimpleLI(StatefulLayer):
    r"""Leaky integrator: a membrane that never spikes, used as a readout.

    $$v_t = \beta\, v_{t-1} + c\, x_t,\qquad \text{output} = v_t$$

    with $c = 1$, or $1 - \beta$ when ``scale_input``.
    """

    decay: Array
    scale_input: bool = eqx.field(static=True)
    decay_parameterisation: DecayParameterisation = eqx.field(static=True)

    def __init__(
        self,
        decay_constants: ArrayLike | Sequence[ArrayLike],
        *,
        scale_input: bool = False,
        decay_parameterisation: DecayParameterisation = "direct",
    ):
        """**Arguments:**

        - ``decay_constants``: the decay $\\beta$ (scalar, per-neuron array, or
          ``[beta]``). Trainable.
        - ``scale_input``, ``decay_parameterisation``: as in [`SimpleLIF`][].
        """
        self.decay_parameterisation = check_decay_parameterisation(decay_parameterisation, layer="SimpleLI")
        (decay,) = resolve_decays("SimpleLI", ["decay"], decay_constants, {})
        self.decay = encode_decay(decay, decay_parameterisation, layer="SimpleLI", name="decay")
        self.scale_input = scale_input

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> Array:
        """The membrane ``0`` of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer="SimpleLI")
        check_param_shape(self.decay, shape, layer="SimpleLI", name="decay")
        return jnp.zeros(shape)

    def __call__(self, state: Array, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[Array, Array]:
        check_input(x, state.shape, layer="SimpleLI")
        beta = decode_decay(self.decay, self.decay_parameterisation)
        gain = 1.0 - beta if self.scale_input else 1.0
        v = beta * state + gain * x
        return v, v
