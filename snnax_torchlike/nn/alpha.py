"""snnTorch's `Alpha` neuron as a facade layer."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .. import snn
from .module import to_array
from .neuron import _TwoDecayNeuron, initial_state


class Alpha(_TwoDecayNeuron):
    r"""``snntorch.Alpha``: excitatory and inhibitory synaptic traces whose sum drives the membrane.

    Needs ``alpha > beta`` and ``beta != 1`` (checked). The reset defaults to
    ``"zero"`` and the subtract reset is snnTorch's own odd form, reproduced
    ([`snnax_torchlike.snn.alpha_update`][]). Step by step:
    ``syn_exc, syn_inh, mem = lif.init_alpha(); spk, syn_exc, syn_inh, mem = lif(x, syn_exc, syn_inh, mem)``.
    ``learn_alpha=True`` works here (it raises a TypeError in snnTorch 1.0).
    ``inhibition`` and ``state_quant`` (on ``syn_exc``, ``syn_inh`` and ``mem``) as in [`Leaky`][].

    **Arguments:** ``alpha``, ``beta``, ``learn_alpha``, ``learn_beta``, then, by keyword,
    the [`SpikingOptions`][snnax_torchlike.nn.neuron.SpikingOptions] but the graded
    spikes and ``reset_delay`` (snnTorch's Alpha has none).
    """

    _implemented_options = frozenset({"inhibition", "state_quant"})
    _options_not_taken = frozenset({"graded_spikes_factor", "learn_graded_spikes_factor", "reset_delay"})
    _changed_defaults = {"reset_mechanism": "zero"}

    _state_names = ("syn_exc", "syn_inh", "mem")
    _state_outputs = (1, 2, 3)

    def _checked_decays(self, alpha: ArrayLike, beta: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
        alpha = np.clip(np.asarray(alpha, np.float32), 0, 1)
        beta = np.asarray(beta, np.float32)
        if np.any(alpha <= beta) or np.any(beta == 1):
            raise ValueError(f"Alpha: needs alpha > beta and beta != 1, got alpha={alpha} and beta={beta}.")
        return alpha, beta

    def init_alpha(self) -> tuple[Array, Array, Array]:
        """Initial ``(syn_exc, syn_inh, mem)``: scalar zeros that broadcast on the first step."""
        self.reset_hidden()
        return initial_state(), initial_state(), initial_state()

    reset_mem = init_alpha

    def _arguments(self) -> dict[str, Any]:
        return {**self._neuron_arguments(), **self._fire_options(), "alpha": self._value("alpha"),
                "beta": self._value("beta")}  # fmt: skip

    def core_layer(self) -> snn.Alpha:
        """The neuron as a pure core layer over the current arrays."""
        arguments = self._arguments()
        return snn.Alpha(arguments.pop("alpha"), arguments.pop("beta"), **arguments)

    def forward(self, input_: Any, syn_exc: Any = None, syn_inh: Any = None, mem: Any = None) -> tuple[Array, ...]:
        """One step: ``spk, syn_exc, syn_inh, mem = lif(input_, syn_exc, syn_inh, mem)``."""
        x = to_array(input_)
        states = [jnp.zeros(()) if s is None else to_array(s) for s in (syn_exc, syn_inh, mem)]
        for state, name in zip(states, ("syn_exc", "syn_inh", "mem")):
            self._check_state(x, state, name)
        return snn.alpha_update(x, *states, **self._arguments())
