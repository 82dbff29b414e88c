"""What snnTorch-style facade neurons share: constructor checks, buffers vs parameters."""

from __future__ import annotations

from typing import Any, ClassVar

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import snn
from ..imperative import Tensor, cached_zeros
from ..snn.surrogate import SurrogateSpike
from ._recorded_call import recorded_call
from .module import Module, Parameter, to_array

_RESET_CODES = {"subtract": 0, "zero": 1, "none": 2}


def initial_state() -> Array:
    """What ``init_leaky()`` and the other init methods return: a scalar zero that broadcasts.

    Always the same array object, so a call recognises it and starts from cached
    zeros of the input's shape without running an operation.
    """
    return cached_zeros(())


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

    **Hidden state, as in snnTorch.** The neuron keeps its state variables
    (``_state_names``: ``mem``, ``syn``, ...) as attributes (``lif.mem``), never
    in ``state_dict``. With ``init_hidden=True`` it is called with the input only
    and returns the spikes (``output=True``: the same tuple as the explicit call);
    without it, states not passed are taken from the attributes, and the states a
    call returns are stored there too. A stored state whose shape differs from the
    input's (a new batch size) starts again from zeros, as snnTorch does.
    ``reset_hidden()`` zeroes it, ``detach_hidden()`` cuts it from the graph
    (truncated BPTT); ``snnax_torchlike.utils.reset(net)`` resets every neuron of
    one network.
    """

    is_neuron = True
    _state_names: ClassVar[tuple[str, ...]] = ("mem",)
    _state_outputs: ClassVar[tuple[int, ...]] = (1,)
    """Where each state's new value is in what ``forward`` returns."""

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
            "inhibition": inhibition,
            "state_quant": state_quant,
            "surrogate_disable": surrogate_disable,
        }
        chosen = [option for option, value in unsupported.items() if value]
        if chosen:
            raise ValueError(f"{name}: {', '.join(chosen)} is not supported.")
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
        self.init_hidden = bool(init_hidden)
        for state in self._state_names:
            self.register_hidden(state)
        self._register("threshold", threshold, learn_threshold)
        self._register("graded_spikes_factor", graded_spikes_factor, learn_graded_spikes_factor)
        self.register_buffer("reset_mechanism_val", jnp.asarray(_RESET_CODES[reset_mechanism], dtype=jnp.int32))

    # -- hidden state -----------------------------------------------------------------------------
    def reset_hidden(self) -> None:
        """Zero the stored state (it takes the next input's shape), like snnTorch's ``reset_hidden``."""
        for state in self._state_names:
            self._hidden[state] = None

    def detach_hidden(self) -> None:
        """Cut the stored state from the graph, so ``backward()`` stops there (truncated BPTT)."""
        for state in self._state_names:
            value = self._hidden[state]
            if isinstance(value, Tensor):
                self._hidden[state] = value.detach()

    def _initial_state(self, state: Any, shape: tuple[int, ...], stored: bool) -> Any:
        """A stored (``stored``) or given state ready for a step on inputs of ``shape``."""
        if state is None or state is cached_zeros(()):
            return Tensor(cached_zeros(shape))
        state_shape = tuple(getattr(state, "shape", ()))
        if state_shape == shape:
            return state
        if stored:  # a new batch size: snnTorch starts again from zeros
            return Tensor(cached_zeros(shape))
        if state_shape == () and not (isinstance(state, Tensor) and state._value is None):
            # init_leaky()'s scalar zero, made full-sized, so every step of a loop looks alike
            return Tensor(jnp.broadcast_to(to_array(state).astype(jnp.float32), shape))
        return state

    def __call__(self, input_: Any, *states: Any, **named_states: Any) -> Any:
        name = type(self).__name__
        if named_states:
            unknown = sorted(set(named_states) - set(self._state_names))
            if unknown:
                raise TypeError(f"{name}: unexpected state arguments {unknown}; it has {list(self._state_names)}.")
            states = states + tuple(named_states.get(state) for state in self._state_names[len(states) :])
        if len(states) > len(self._state_names):
            raise TypeError(f"{name}: takes the input and at most {len(self._state_names)} states, got {len(states)}.")
        if self.init_hidden and any(state is not None for state in states):
            raise TypeError(
                f"{name}: with init_hidden=True the neuron keeps its state ({', '.join(self._state_names)}); "
                f"call it with the input only (spk = lif(x)), or build it with init_hidden=False to pass states."
            )
        states = states + (None,) * (len(self._state_names) - len(states))
        shape = tuple(getattr(input_, "shape", None) or to_array(input_).shape)
        states = tuple(
            self._initial_state(self._hidden[state], shape, True) if given is None
            else self._initial_state(given, shape, False)
            for state, given in zip(self._state_names, states)
        )  # fmt: skip
        outputs = recorded_call(self, self.forward, (input_, *states), {})
        for state, index in zip(self._state_names, self._state_outputs):
            self._hidden[state] = outputs[index]
        if self.init_hidden and not self.output:
            return outputs[0]
        return outputs

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
