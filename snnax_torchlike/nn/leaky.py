"""snnTorch's `Leaky` neuron as a facade layer."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import snn
from ..snn.surrogate import SurrogateSpike
from .module import Module, Parameter, to_array

_RESET_CODES = {"subtract": 0, "zero": 1, "none": 2}


class Leaky(Module):
    r"""First-order leaky integrate-and-fire neuron with snnTorch 1.0's semantics.

    Same constructor and numerics as ``snntorch.Leaky`` (see
    [`snnax_torchlike.snn.leaky_update`][] for the equations): the reset uses the
    previous step's spike, ``beta`` is clamped to [0, 1] in the forward pass, and
    the membrane returned is the pre-reset value.

    Use step by step, as in snnTorch::

        mem = lif.init_leaky()            # a scalar zero; broadcasts on the first step
        for t in range(T):
            spk, mem = lif(cur[t], mem)

    or inside ``nn.Sequential``, which runs the whole sequence in one ``lax.scan``.
    No hidden state persists between calls: pass ``mem`` explicitly (``init_hidden``
    is not supported).

    ``state_dict`` holds snnTorch's entries: ``threshold``, ``graded_spikes_factor``,
    ``reset_mechanism_val`` (0 subtract, 1 zero, 2 none) and ``beta``; each of
    ``beta``/``threshold``/``graded_spikes_factor`` is a trained ``Parameter`` when its
    ``learn_*`` flag is set and a buffer otherwise.
    """

    is_neuron = True

    def __init__(
        self,
        beta: ArrayLike,
        threshold: ArrayLike = 1.0,
        spike_grad: SurrogateSpike | None = None,
        surrogate_disable: bool = False,
        init_hidden: bool = False,
        inhibition: bool = False,
        learn_beta: bool = False,
        learn_threshold: bool = False,
        reset_mechanism: str = "subtract",
        state_quant: Any = False,
        output: bool = False,
        graded_spikes_factor: ArrayLike = 1.0,
        learn_graded_spikes_factor: bool = False,
        reset_delay: bool = True,
    ):
        super().__init__()
        unsupported = {
            "init_hidden": init_hidden,
            "inhibition": inhibition,
            "state_quant": state_quant,
            "surrogate_disable": surrogate_disable,
        }
        chosen = [name for name, value in unsupported.items() if value]
        if chosen:
            raise ValueError(
                f"Leaky: {', '.join(chosen)} is not supported. Pass the membrane explicitly "
                "(mem = lif.init_leaky(); spk, mem = lif(x, mem)) or use nn.Sequential, which carries it."
            )
        if reset_mechanism not in _RESET_CODES:
            raise ValueError(
                f"Leaky: reset_mechanism must be one of {list(_RESET_CODES)}, got {reset_mechanism!r}."
            )
        self.spike_grad = snn.surrogate.atan(2.0) if spike_grad is None else spike_grad
        if not isinstance(self.spike_grad, SurrogateSpike):
            raise TypeError(
                f"Leaky: spike_grad must come from snnax_torchlike.surrogate (e.g. surrogate.fast_sigmoid(25)), "
                f"got {type(spike_grad).__name__}."
            )
        self.reset_mechanism = reset_mechanism
        self.reset_delay = bool(reset_delay)
        self.output = bool(output)
        # Registration order follows snnTorch, so state_dict keys come out in its order.
        self._register("threshold", threshold, learn_threshold)
        self._register("graded_spikes_factor", graded_spikes_factor, learn_graded_spikes_factor)
        self.register_buffer("reset_mechanism_val", jnp.asarray(_RESET_CODES[reset_mechanism], dtype=jnp.int32))
        self._register("beta", beta, learn_beta)

    def _register(self, name: str, value: ArrayLike, learn: bool) -> None:
        array = to_array(value).astype(jnp.float32)
        if learn:
            setattr(self, name, Parameter(array))
        else:
            self.register_buffer(name, array)

    def _value(self, name: str) -> Array:
        value = getattr(self, name)
        return value.data if isinstance(value, Parameter) else value

    def init_leaky(self) -> Array:
        """The initial membrane: a scalar zero that broadcasts to the input's shape."""
        return jnp.zeros(())

    reset_mem = init_leaky

    def core_layer(self) -> snn.Leaky:
        """The neuron as a pure core layer over the current arrays."""
        return snn.Leaky(
            self._value("beta"),
            threshold=self._value("threshold"),
            spike_fn=self.spike_grad,
            reset_mechanism=self.reset_mechanism,
            reset_delay=self.reset_delay,
            graded_spikes_factor=self._value("graded_spikes_factor"),
        )

    def forward(self, input_: Any, mem: Any = None) -> tuple[Array, Array]:
        """One step: ``spk, mem = lif(input_, mem)``; shapes as snnTorch (``[B, N]``, ...)."""
        x = to_array(input_)
        mem = self.init_leaky() if mem is None else to_array(mem)
        if mem.shape not in ((), x.shape):
            raise ValueError(
                f"Leaky: the membrane has shape {tuple(mem.shape)} but the input has shape {tuple(x.shape)}; "
                "pass the mem returned by the previous step (or init_leaky())."
            )
        return snn.leaky_update(
            x,
            mem,
            beta=self._value("beta"),
            threshold=self._value("threshold"),
            graded_spikes_factor=self._value("graded_spikes_factor"),
            spike_fn=self.spike_grad,
            reset_mechanism=self.reset_mechanism,
            reset_delay=self.reset_delay,
        )

    def extra_repr(self) -> str:
        return f"reset_mechanism={self.reset_mechanism!r}, reset_delay={self.reset_delay}"
