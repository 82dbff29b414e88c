"""What snnTorch-style facade neurons share: constructor checks, buffers vs parameters."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import snn
from ..snn.surrogate import SurrogateSpike
from .module import Module, Parameter, to_array

_RESET_CODES = {"subtract": 0, "zero": 1, "none": 2}


_SHARED_OPTIONS = {
    "threshold": 1.0,
    "spike_grad": None,
    "surrogate_disable": False,
    "init_hidden": False,
    "inhibition": False,
    "learn_threshold": False,
    "reset_mechanism": "subtract",
    "state_quant": False,
    "output": False,
    "graded_spikes_factor": 1.0,
    "learn_graded_spikes_factor": False,
    "reset_delay": True,
}


def shared_options(arguments: dict[str, Any]) -> dict[str, Any]:
    """The constructor arguments every snnTorch neuron shares, picked from a subclass's ``locals()``.

    Neurons whose snnTorch constructor lacks one (``Synaptic`` has no graded spikes)
    get snnTorch's fixed value for it.
    """
    return {name: arguments.get(name, default) for name, default in _SHARED_OPTIONS.items()}


class SnnTorchNeuron(Module):
    """Base of facade neurons with snnTorch 1.0's constructor and ``state_dict`` entries.

    Registers, in snnTorch's order, ``threshold``, ``graded_spikes_factor`` and the
    int buffer ``reset_mechanism_val`` (0 subtract, 1 zero, 2 none); subclasses add
    their decays with ``_register``. A value is a trained ``Parameter`` when its
    ``learn_*`` flag is set and a buffer otherwise, as in snnTorch.
    """

    is_neuron = True

    def __init__(
        self,
        *,
        threshold: ArrayLike,
        spike_grad: SurrogateSpike | None,
        surrogate_disable: bool,
        init_hidden: bool,
        inhibition: bool,
        learn_threshold: bool,
        reset_mechanism: str,
        state_quant: Any,
        output: bool,
        graded_spikes_factor: ArrayLike,
        learn_graded_spikes_factor: bool,
        reset_delay: bool,
    ):
        super().__init__()
        name = type(self).__name__
        unsupported = {
            "init_hidden": init_hidden,
            "inhibition": inhibition,
            "state_quant": state_quant,
            "surrogate_disable": surrogate_disable,
        }
        chosen = [option for option, value in unsupported.items() if value]
        if chosen:
            raise ValueError(
                f"{name}: {', '.join(chosen)} is not supported. Pass the state explicitly "
                "(e.g. mem = lif.init_leaky(); spk, mem = lif(x, mem)) or use nn.Sequential, which carries it."
            )
        if reset_mechanism not in _RESET_CODES:
            raise ValueError(f"{name}: reset_mechanism must be one of {list(_RESET_CODES)}, got {reset_mechanism!r}.")
        self.spike_grad = snn.surrogate.atan(2.0) if spike_grad is None else spike_grad
        if not isinstance(self.spike_grad, SurrogateSpike):
            raise TypeError(
                f"{name}: spike_grad must come from snnax_torchlike.surrogate (e.g. surrogate.fast_sigmoid(25)), "
                f"got {type(spike_grad).__name__}."
            )
        self.reset_mechanism = reset_mechanism
        self.reset_delay = bool(reset_delay)
        self.output = bool(output)
        self._register("threshold", threshold, learn_threshold)
        self._register("graded_spikes_factor", graded_spikes_factor, learn_graded_spikes_factor)
        self.register_buffer("reset_mechanism_val", jnp.asarray(_RESET_CODES[reset_mechanism], dtype=jnp.int32))

    def _register(self, name: str, value: ArrayLike, learn: bool) -> None:
        array = to_array(value).astype(jnp.float32)
        if learn:
            setattr(self, name, Parameter(array))
        else:
            self.register_buffer(name, array)

    def _value(self, name: str) -> Array:
        value = getattr(self, name)
        return value.data if isinstance(value, Parameter) else value

    def _neuron_arguments(self) -> dict[str, Any]:
        """Keyword arguments shared by the core update functions."""
        return dict(
            threshold=self._value("threshold"),
            graded_spikes_factor=self._value("graded_spikes_factor"),
            spike_fn=self.spike_grad,
            reset_mechanism=self.reset_mechanism,
            reset_delay=self.reset_delay,
        )

    def _check_state(self, x: Array, state: Array, name: str) -> None:
        if state.shape not in ((), x.shape):
            raise ValueError(
                f"{type(self).__name__}: {name} has shape {tuple(state.shape)} but the input has shape "
                f"{tuple(x.shape)}; pass the state returned by the previous step (or the init method's)."
            )

    def extra_repr(self) -> str:
        return f"reset_mechanism={self.reset_mechanism!r}, reset_delay={self.reset_delay}"
