"""snnTorch's `Leaky` neuron as a facade layer."""

from __future__ import annotations

from typing import Any, Unpack

from jaxtyping import Array, ArrayLike

from .. import snn
from .module import to_array
from .neuron import SnnTorchNeuron, SpikingOptions, initial_state


class Leaky(SnnTorchNeuron):
    r"""First-order leaky integrate-and-fire neuron with snnTorch 1.0's semantics.

    Same constructor and numerics as ``snntorch.Leaky`` (equations:
    [`snnax_torchlike.snn.leaky_update`][]): the reset uses the previous step's
    spike, ``beta`` is clamped to [0, 1] in the forward pass, and the membrane
    returned is the pre-reset value.

    Use step by step, as in snnTorch:

    ```python
    mem = lif.init_leaky()            # a scalar zero; broadcasts on the first step
    for t in range(T):
        spk, mem = lif(cur[t], mem)
    ```

    with the state kept in the neuron (``Leaky(..., init_hidden=True)``, then
    ``spk = lif(cur[t])``; see ``SnnTorchNeuron``), or inside ``nn.Sequential``,
    which runs the whole sequence in one ``lax.scan``.

    ``inhibition=True`` (inputs ``[B, N]``: only each sample's largest membrane
    spikes) and ``state_quant`` (a JAX function of the membrane, e.g.
    ``snnax_torchlike.functional.quant.state_quant(num_bits=4)``) work as in snnTorch.

    **Arguments:** ``beta``, the membrane's decay per step (a scalar or one per
    neuron); ``learn_beta``, train it; then, by keyword, the options ``threshold``,
    ``spike_grad``, ``reset_mechanism``, ... of
    [`SpikingOptions`][snnax_torchlike.nn.neuron.SpikingOptions], as in snnTorch.

    ``state_dict``: ``threshold``, ``graded_spikes_factor``, ``reset_mechanism_val``,
    ``beta`` (snnTorch's names and order).
    """

    _implemented_options = frozenset({"inhibition", "state_quant"})

    def __init__(self, beta: ArrayLike, *, learn_beta: bool = False, **options: Unpack[SpikingOptions]):
        super().__init__(**options)
        self._register("beta", beta, learn_beta)

    def init_leaky(self) -> Array:
        """The initial membrane: a scalar zero that broadcasts to the input's shape."""
        self.reset_hidden()
        return initial_state()

    reset_mem = init_leaky

    def core_layer(self) -> snn.Leaky:
        """The neuron as a pure core layer over the current arrays."""
        return snn.Leaky(self._value("beta"), **self._neuron_arguments(), **self._fire_options())

    def forward_sequence(
        self, arrays: list[Array], kinds: list[str], carry_slot: int, carry_output: int
    ) -> tuple[Array, Array] | None:
        """``forward(input_, mem)`` over every step at once: the inputs ``[T, ...]``, the membrane carried.

        Used when a recorded Python loop over time steps is replayed: the core's
        whole-sequence kernel, whose backward pass keeps only the membranes.
        **Returns:** ``(spk, mem)``, each ``[T, ...]``, as stepping gives them; None
        where the kernel does not apply (``reset_delay=False``, ``inhibition``,
        ``state_quant``: the loop then scans ``forward``).
        """
        if kinds != ["series", "carry"] or carry_slot != 1 or carry_output != 1:
            return None
        xs, mem0 = arrays
        if mem0.shape != xs.shape[1:] or not self.reset_delay or self.inhibition or self.state_quant is not None:
            return None
        result = snn.leaky_sequence(mem0, xs, beta=self._value("beta"), threshold=self._value("threshold"),
                                    graded_spikes_factor=self._value("graded_spikes_factor"),
                                    spike_fn=self.spike_grad, reset_mechanism=self.reset_mechanism)  # fmt: skip
        return None if result is None else (result[1], result[2])

    def forward(self, input_: Any, mem: Any = None) -> tuple[Array, Array]:
        """One step: ``spk, mem = lif(input_, mem)``; shapes as snnTorch (``[B, N]``, ...)."""
        x = to_array(input_)
        mem = self.init_leaky() if mem is None else to_array(mem)
        self._check_state(x, mem, "the membrane")
        return snn.leaky_update(x, mem, beta=self._value("beta"), **self._neuron_arguments(), **self._fire_options())
