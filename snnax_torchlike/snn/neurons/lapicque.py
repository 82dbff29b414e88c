"""snnTorch's `Lapicque` RC neuron (Euler form), reproduced operation for operation."""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .._stateful import StatefulLayer
from ..surrogate import SurrogateSpike, atan
from ._base import (
    ResetMode,
    as_hyperparameter,
    check_input,
    check_param_shapes,
    check_reset_mode,
    check_shape_argument,
    check_spike_fn,
)
from ._snntorch_reset import reset_from_previous_spike
from .snntorch_fire import StateQuant, check_inhibition_shape, check_state_quant, fire_and_reset


def lapicque_update(
    x, mem, *, R, C, time_step, threshold, graded_spikes_factor, spike_fn, reset_mechanism, inhibition=False,
    state_quant=None,
):  # fmt: skip
    r"""One step of snnTorch 1.0's ``Lapicque``; returns ``(spk, mem)``.

    The forward-Euler RC update, not ``beta``: $m' = ((x_t R)\,\tfrac{1}{RC})\,\Delta t + (1 - \tfrac{\Delta t}{RC})\, m_{t-1}$
    (with ``beta=0.9`` snnTorch's effective decay is $1 + \ln 0.9 = 0.8946$); reset
    by the previous step's spike as in [`rleaky_update`][]; ``state_quant`` quantises
    $m_t$; $s_t = H(m_t - \theta)\,g$ (``inhibition`` as in [`leaky_update`][]).
    """
    reset = jax.lax.stop_gradient(spike_fn(mem - threshold))
    base = ((x * R) * (1 / (R * C))) * time_step + (1 - time_step / (R * C)) * mem
    mem = reset_from_previous_spike(base, reset, threshold, reset_mechanism)
    return fire_and_reset(mem, reset, threshold=threshold, graded_spikes_factor=graded_spikes_factor,
                          spike_fn=spike_fn, reset_mechanism=reset_mechanism, inhibition=inhibition,
                          state_quant=state_quant)  # fmt: skip


class Lapicque(StatefulLayer):
    """snnTorch's ``Lapicque`` as a stateful layer (see [`lapicque_update`][]); state: the membrane."""

    R: ArrayLike
    C: ArrayLike
    time_step: ArrayLike
    threshold: ArrayLike
    graded_spikes_factor: ArrayLike
    spike_fn: SurrogateSpike
    reset_mechanism: ResetMode = eqx.field(static=True)
    inhibition: bool = eqx.field(static=True)
    state_quant: StateQuant | None

    def __init__(
        self,
        *,
        R: ArrayLike,
        C: ArrayLike,
        time_step: ArrayLike = 1.0,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        reset_mechanism: ResetMode = "subtract",
        graded_spikes_factor: ArrayLike = 1.0,
        inhibition: bool = False,
        state_quant: StateQuant | None = None,
    ):
        """``R``, ``C``, ``time_step``: the RC circuit and Euler step (derive them from a
        ``beta`` as snnTorch does with the facade's ``nn.Lapicque``); ``inhibition``,
        ``state_quant``: as [`Leaky`][]'s."""
        check_reset_mode(reset_mechanism, layer="Lapicque", name="reset_mechanism")
        for name, value in (("R", R), ("C", C), ("time_step", time_step), ("threshold", threshold),
                            ("graded_spikes_factor", graded_spikes_factor)):  # fmt: skip
            setattr(self, name, as_hyperparameter(value, layer="Lapicque", name=name))
        self.spike_fn = check_spike_fn(atan(2.0) if spike_fn is None else spike_fn, layer="Lapicque")
        self.reset_mechanism = reset_mechanism
        self.inhibition = bool(inhibition)
        self.state_quant = check_state_quant(state_quant, layer="Lapicque")

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> Array:
        """The membrane ``0`` of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer="Lapicque")
        check_param_shapes(self, shape, ("R", "C", "threshold"))
        if self.inhibition:
            check_inhibition_shape(shape, layer="Lapicque", batched=False)
        return jnp.zeros(shape)

    def __call__(self, state: Array, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[Array, Array]:
        check_input(x, state.shape, layer="Lapicque")
        spk, mem = lapicque_update(
            x, state, R=self.R, C=self.C, time_step=self.time_step, threshold=self.threshold,
            graded_spikes_factor=self.graded_spikes_factor, spike_fn=self.spike_fn,
            reset_mechanism=self.reset_mechanism, inhibition=self.inhibition, state_quant=self.state_quant,
        )  # fmt: skip
        return mem, spk
