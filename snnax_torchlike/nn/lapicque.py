"""snnTorch's `Lapicque` neuron as a facade layer."""

from __future__ import annotations

from typing import Any, Unpack

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .. import snn
from .module import to_array
from .neuron import SnnTorchNeuron, SpikingOptions, initial_state


def _positive(name: str, value: ArrayLike) -> np.ndarray:
    """``value`` as float32, refused unless every entry is a finite number > 0 (the update divides by R and C)."""
    array = np.asarray(value, np.float32)
    if not np.all(np.isfinite(array) & (array > 0)):
        raise ValueError(f"Lapicque: {name} must be finite and > 0, got {array.tolist()}.")
    return array


class Lapicque(SnnTorchNeuron):
    r"""``snntorch.Lapicque``: an RC membrane integrated with forward Euler.

    Give ``beta`` (then ``R = 1`` and ``C = dt / (R ln(1/beta))``), or ``R`` and
    ``C`` (then ``beta = exp(-dt / (R C))``, kept but unused, as in snnTorch), or
    ``beta`` with one of them. The update uses ``R``, ``C`` and ``time_step``, not
    ``beta`` ([`snnax_torchlike.snn.lapicque_update`][]): with ``beta = 0.9`` the
    effective decay is ``1 + ln 0.9 = 0.8946``, exactly as snnTorch computes it.
    ``inhibition`` and ``state_quant`` as in [`Leaky`][]. After ``beta``, ``R``, ``C``,
    ``time_step`` and ``learn_beta``, it takes by keyword the
    [`SpikingOptions`][snnax_torchlike.nn.neuron.SpikingOptions] but the graded
    spikes and ``reset_delay`` (snnTorch's Lapicque has none).
    ``state_dict``: ``threshold``, ``graded_spikes_factor``, ``reset_mechanism_val``,
    ``beta``, ``time_step``, ``R``, ``C``.
    """

    _implemented_options = frozenset({"inhibition", "state_quant"})
    _options_not_taken = frozenset({"graded_spikes_factor", "learn_graded_spikes_factor", "reset_delay"})

    def __init__(
        self,
        beta: ArrayLike | bool = False,
        R: ArrayLike | bool = False,
        C: ArrayLike | bool = False,
        time_step: ArrayLike = 1,
        *,
        learn_beta: bool = False,
        **options: Unpack[SpikingOptions],
    ):
        super().__init__(**options)
        given = {name: value is not False for name, value in (("beta", beta), ("R", R), ("C", C))}
        dt = _positive("time_step", time_step)
        if given["beta"]:
            decay = np.asarray(beta, np.float32)
            if not np.all((decay > 0) & (decay < 1)):
                # C = dt / (R ln(1 / beta)): infinite at beta = 1 (the membrane never moves), zero at beta = 0
                raise ValueError(
                    f"Lapicque: beta must lie in (0, 1) (it sets C = time_step / (R ln(1 / beta))), got "
                    f"{decay.tolist()}; or give R and C instead."
                )
            log_inverse_beta = np.log(1 / decay)
            if given["C"] and not given["R"]:
                C = _positive("C", C)
                R = dt / (C * log_inverse_beta)
            else:
                R = _positive("R", R if given["R"] else 1.0)
                C = dt / (R * log_inverse_beta)
        elif given["R"] and given["C"]:
            R, C = _positive("R", R), _positive("C", C)
            beta = np.exp(-dt / (R * C)).reshape(1)
        else:
            raise ValueError("Lapicque: give beta, or both R and C.")
        self._register("beta", beta, learn_beta)
        self.register_buffer("time_step", jnp.asarray(dt))
        self.register_buffer("R", jnp.asarray(R, jnp.float32))
        self.register_buffer("C", jnp.asarray(C, jnp.float32))

    def init_lapicque(self) -> Array:
        """The initial membrane: a scalar zero that broadcasts on the first step."""
        self.reset_hidden()
        return initial_state()

    reset_mem = init_lapicque

    def _arguments(self) -> dict[str, Any]:
        return {**self._neuron_arguments(), **self._fire_options(), "R": self._value("R"), "C": self._value("C"),
                "time_step": self._value("time_step")}  # fmt: skip

    def core_layer(self) -> snn.Lapicque:
        """The neuron as a pure core layer over the current arrays."""
        return snn.Lapicque(**self._arguments())

    def forward(self, input_: Any, mem: Any = None) -> tuple[Array, Array]:
        """One step: ``spk, mem = lif(input_, mem)``."""
        x = to_array(input_)
        mem = jnp.zeros(()) if mem is None else to_array(mem)
        self._check_state(x, mem, "the membrane")
        return snn.lapicque_update(x, mem, **self._arguments())
