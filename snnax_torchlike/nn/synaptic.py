"""snnTorch's `Synaptic` neuron as a facade layer."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array

from .. import snn
from .module import to_array
from .neuron import _TwoDecayNeuron, initial_state


class Synaptic(_TwoDecayNeuron):
    r"""Second-order (current-based) LIF neuron with snnTorch 1.0's semantics.

    Same constructor and numerics as ``snntorch.Synaptic`` (equations:
    [`snnax_torchlike.snn.synaptic_update`][]; note snnTorch's zero reset clears
    the whole new membrane, input included). Step by step:

    ```python
    syn, mem = lif.init_synaptic()
    spk, syn, mem = lif(cur, syn, mem)
    ```

    **Arguments:** ``alpha``, the synaptic current's decay; ``beta``, the
    membrane's; ``learn_alpha``, ``learn_beta``; then, by keyword, the
    [`SpikingOptions`][snnax_torchlike.nn.neuron.SpikingOptions] but the graded
    spikes (snnTorch's Synaptic has none). ``inhibition`` and ``state_quant``
    (applied to ``mem`` and ``syn``) as in [`Leaky`][].

    ``state_dict``: ``threshold``, ``graded_spikes_factor``, ``reset_mechanism_val``,
    ``beta``, ``alpha`` (parameters first when ``learn_*`` is set, as torch).
    """

    _implemented_options = frozenset({"inhibition", "state_quant"})
    _options_not_taken = frozenset({"graded_spikes_factor", "learn_graded_spikes_factor"})

    _state_names = ("syn", "mem")
    _state_outputs = (1, 2)

    def init_synaptic(self) -> tuple[Array, Array]:
        """Initial ``(syn, mem)``: scalar zeros that broadcast on the first step."""
        self.reset_hidden()
        return initial_state(), initial_state()

    reset_mem = init_synaptic

    def core_layer(self) -> snn.Synaptic:
        """The neuron as a pure core layer over the current arrays."""
        return snn.Synaptic(self._value("alpha"), self._value("beta"), **self._neuron_arguments(),
                            **self._fire_options())  # fmt: skip

    def forward(self, input_: Any, syn: Any = None, mem: Any = None) -> tuple[Array, Array, Array]:
        """One step: ``spk, syn, mem = lif(input_, syn, mem)``."""
        x = to_array(input_)
        syn = jnp.zeros(()) if syn is None else to_array(syn)
        mem = jnp.zeros(()) if mem is None else to_array(mem)
        self._check_state(x, syn, "the synaptic current")
        self._check_state(x, mem, "the membrane")
        return snn.synaptic_update(
            x, syn, mem, alpha=self._value("alpha"), beta=self._value("beta"), **self._neuron_arguments(),
            **self._fire_options(),
        )
