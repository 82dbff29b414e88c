"""What snnTorch-style facade neurons share: constructor checks, buffers vs parameters."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .. import snn
from ..imperative import Tensor, cached_zeros
from ..snn.concrete import concrete
from ..snn.neurons.snntorch_fire import StateQuant, check_inhibition_shape, check_state_quant, snntorch_fire
from ..snn.surrogate import SurrogateSpike
from ._instances import LiveInstances, instance_or_class_method
from ._recorded_call import recorded_call
from .module import Module, Parameter, to_array, to_numpy

_RESET_CODES = {"subtract": 0, "zero": 1, "none": 2}
_RESET_NAMES = {code: name for name, code in _RESET_CODES.items()}


def _no_gradient(x: Array) -> Array:
    return jnp.zeros_like(x)


_SURROGATE_DISABLED = snn.surrogate.custom(_no_gradient)
"""The spike function of ``surrogate_disable=True``: a Heaviside step with no gradient, as snnTorch's."""


def resolve_spike_grad(layer: str, spike_grad: SurrogateSpike | None, surrogate_disable: bool) -> SurrogateSpike:
    """The spike function of snnTorch's ``spike_grad`` and ``surrogate_disable`` options, or a clear error.

    None gives snnTorch's default ``atan(alpha=2)``; ``surrogate_disable=True`` a step
    without gradient (giving ``spike_grad`` too raises: it would be ignored).
    """
    if surrogate_disable and spike_grad is not None:
        raise ValueError(
            f"{layer}: surrogate_disable=True spikes without a gradient, so spike_grad={spike_grad!r} would be "
            f"ignored; pass one of them."
        )
    if surrogate_disable:
        return _SURROGATE_DISABLED
    resolved = snn.surrogate.atan(2.0) if spike_grad is None else spike_grad
    if not isinstance(resolved, SurrogateSpike):
        factory, module = getattr(spike_grad, "__name__", ""), getattr(spike_grad, "__module__", None) or ""
        if callable(spike_grad) and module.startswith("snnax_torchlike.") and "surrogate" in module:
            # surrogate.fast_sigmoid (the factory) where surrogate.fast_sigmoid() (its spike function) was meant.
            raise TypeError(
                f"{layer}: spike_grad=surrogate.{factory} is the factory of a surrogate, not the surrogate: call "
                f"it, spike_grad=surrogate.{factory}() (or with its arguments, e.g. surrogate.fast_sigmoid(slope=25))."
            )
        raise TypeError(
            f"{layer}: spike_grad must come from snnax_torchlike.surrogate (e.g. surrogate.fast_sigmoid(25)), "
            f"got {type(spike_grad).__name__}."
        )
    return resolved


_DECAYS = ("beta", "alpha")


def register_value(module: Module, name: str, value: ArrayLike, learn: bool) -> None:
    """``value`` (as float32) as a trained ``Parameter`` of ``module`` when ``learn``, else as a buffer, as snnTorch.

    Raises ``ValueError`` for NaN or infinite values. Warns for a decay (``beta``,
    ``alpha``) outside ``[0, 1]``: the forward pass clamps it into that range, as
    snnTorch's does, so the value given is not the one used (and a learned one
    outside gets no gradient).
    """
    dtype = value.dtype if isinstance(value, jax.Array) else to_numpy(value).dtype
    if dtype.kind not in "biuf":
        raise TypeError(
            f"{type(module).__name__}: {name} must be a real number or array, got {type(value).__name__} {value!r}."
        )
    array = to_array(value).astype(jnp.float32)
    values = concrete(array)
    if values is not None:
        _check_value(type(module).__name__, name, values, learn)
    if learn:
        setattr(module, name, Parameter(array))
    else:
        module.register_buffer(name, array)


def _check_value(layer: str, name: str, values: np.ndarray, learn: bool) -> None:
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{layer}: {name} must be finite, got {values.tolist()}.")
    if name in _DECAYS and not np.all((values >= 0) & (values <= 1)):
        warnings.warn(
            f"{layer}: {name}={values.tolist()} lies outside [0, 1]; every step clamps it into [0, 1] (as "
            f"snnTorch does), so the decay used is {np.clip(values, 0, 1).tolist()}"
            + (" and it gets no gradient while outside." if learn else "."),
            UserWarning,
            stacklevel=5,
        )


def array_of(module: Module, name: str) -> Array:
    """The current array of ``module``'s parameter or buffer ``name``."""
    parameter = module._parameters.get(name)
    return parameter.data if parameter is not None else module._buffers[name]


def _state_quant_option(layer: str, state_quant: Any) -> StateQuant | None:
    """snnTorch's ``state_quant`` argument (False, or a function of the state) as None or a JAX-traceable function."""
    if state_quant is False or state_quant is None:
        return None
    module = getattr(state_quant, "__module__", None) or ""
    if module.split(".")[0] in ("snntorch", "torch"):
        raise TypeError(
            f"{layer}: state_quant={state_quant!r} is a torch function and cannot run on JAX arrays; use "
            f"snnax_torchlike.functional.quant.state_quant(...), which takes the same arguments."
        )
    return check_state_quant(state_quant, layer=layer)


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

    **Options.** ``inhibition=True`` (inputs ``[B, N]``: only each sample's largest
    membrane may spike) and ``state_quant`` (a JAX-traceable function of a state,
    e.g. ``snnax_torchlike.functional.quant.state_quant(num_bits=8)``; a torch
    function raises) work in the neurons that declare them in
    ``_implemented_options``; the others refuse them with a ``ValueError``.
    """

    is_neuron = True
    _implemented_options: ClassVar[frozenset[str]] = frozenset()
    """The options among ``inhibition`` and ``state_quant`` that the class's ``forward`` implements.

    Read from the class that defines the ``forward`` that runs, so a subclass with a
    step of its own (``DeltaLeaky`` of ``Leaky``) refuses them until it declares them.
    """
    instances: ClassVar[Any] = LiveInstances()
    """Where every new neuron is appended: by default the neurons alive now (weak references), so
    nothing is kept alive by it; snnTorch's own list keeps every neuron ever built (its issue #328).
    Assigning a list (``SpikingNeuron.instances = []``, as snnTorch's code does) makes new neurons
    go into that list, with snnTorch's strong references."""
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
        forward_owner = next(cls for cls in type(self).__mro__ if "forward" in cls.__dict__)
        implemented = forward_owner.__dict__.get("_implemented_options", frozenset())
        requested = {"inhibition": inhibition, "state_quant": state_quant is not False and state_quant is not None}
        chosen = [option for option, value in requested.items() if value and option not in implemented]
        if chosen:
            raise ValueError(f"{name}: {', '.join(chosen)} is not supported.")
        self.inhibition = bool(inhibition)
        self.state_quant = _state_quant_option(name, state_quant)
        self.spike_grad = resolve_spike_grad(name, spike_grad, surrogate_disable)
        self.surrogate_disable = bool(surrogate_disable)
        self.reset_delay = bool(reset_delay)
        self.output = bool(output)
        self.init_hidden = bool(init_hidden)
        for state in self._state_names:
            self.register_hidden(state)
        self._register("threshold", threshold, learn_threshold)
        self._register("graded_spikes_factor", graded_spikes_factor, learn_graded_spikes_factor)
        self.register_buffer("reset_mechanism_val", jnp.asarray(0, dtype=jnp.int32))
        self.reset_mechanism = reset_mechanism
        # A list the user assigned (snnTorch's `SpikingNeuron.instances = []`) gets the neuron itself.
        SnnTorchNeuron.instances.append(self)

    # -- reset mechanism --------------------------------------------------------------------------
    @property
    def reset_mechanism(self) -> str:
        """``"subtract"``, ``"zero"`` or ``"none"``; the buffer ``reset_mechanism_val`` holds its code (0, 1, 2).

        Assigning it (or loading a ``state_dict`` with another ``reset_mechanism_val``)
        changes the code and the dynamics together. snnTorch 1.0 changes the code only
        and keeps the construction-time dynamics.
        """
        return self.__dict__["_reset_mechanism"]

    @reset_mechanism.setter
    def reset_mechanism(self, value: str) -> None:
        if value not in _RESET_CODES:
            raise ValueError(
                f"{type(self).__name__}: reset_mechanism must be one of {list(_RESET_CODES)}, got {value!r}."
            )
        self._reset_mechanism = value
        self.reset_mechanism_val = jnp.asarray(_RESET_CODES[value], dtype=jnp.int32)

    def _check_loaded_value(self, name: str, value: Any) -> str | None:
        if name == "reset_mechanism_val" and int(value) not in _RESET_NAMES:
            return (
                f"{type(self).__name__}: reset_mechanism_val must be one of {sorted(_RESET_NAMES)} "
                f"(subtract, zero, none), got {int(value)}"
            )
        return None

    def _after_load_state_dict(self) -> None:
        self._reset_mechanism = _RESET_NAMES[int(self.reset_mechanism_val)]

    def fire(self, mem: Any) -> Array:
        """The spikes of membrane ``mem``, as snnTorch's ``fire``.

        ``spike_grad(q(mem) - threshold) * graded_spikes_factor``, with ``q`` the
        ``state_quant`` function (none by default); ``inhibition`` does not enter
        (snnTorch's ``fire_inhibition`` is separate).

        **Arguments:** ``mem``: a membrane potential of any shape that broadcasts with the threshold.

        **Returns:** the spikes, a ``Tensor`` of ``mem``'s shape.
        """
        return Tensor(snntorch_fire(to_array(mem), threshold=self._value("threshold"),
                                    graded_spikes_factor=self._value("graded_spikes_factor"),
                                    spike_fn=self.spike_grad, state_quant=self.state_quant))  # fmt: skip

    def fire_inhibition(self, batch_size: int, mem: Any) -> Array:
        """The spikes of ``mem`` ``[batch_size, N]`` when only each sample's largest ``mem - threshold`` may spike.

        snnTorch's ``fire_inhibition`` (what ``inhibition=True`` uses): not scaled by
        the graded spikes factor, no ``state_quant``.

        **Returns:** the spikes, a ``Tensor`` ``[batch_size, N]``.
        """
        mem = to_array(mem)
        check_inhibition_shape(mem.shape, layer=type(self).__name__, batched=True)
        if mem.shape[0] != batch_size:
            raise ValueError(
                f"{type(self).__name__}: fire_inhibition got batch_size={batch_size} for a membrane of shape "
                f"{tuple(mem.shape)}."
            )
        return Tensor(snntorch_fire(mem, threshold=self._value("threshold"),
                                    graded_spikes_factor=self._value("graded_spikes_factor"),
                                    spike_fn=self.spike_grad, inhibition=True))  # fmt: skip

    def mem_reset(self, mem: Any) -> Array:
        """snnTorch's ``mem_reset``: the reset signal ``H(mem - threshold)`` of a membrane, without gradient.

        **Returns:** a ``Tensor`` of ``mem``'s shape (0 or 1, not scaled by the graded spikes factor).
        """
        return Tensor(jax.lax.stop_gradient(self.spike_grad(to_array(mem) - self._value("threshold"))))

    # -- hidden state -----------------------------------------------------------------------------
    @instance_or_class_method
    def reset_hidden(self) -> None:
        """Zero the stored state (it takes the next input's shape), like snnTorch's ``reset_hidden``."""
        for state in self._state_names:
            self._hidden[state] = None

    @instance_or_class_method
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
        if self.inhibition:
            check_inhibition_shape(shape, layer=name, batched=True)
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
        register_value(self, name, value, learn)

    def _value(self, name: str) -> Array:
        """The current array of parameter or buffer ``name``."""
        return array_of(self, name)

    def _neuron_arguments(self) -> dict[str, Any]:
        """Keyword arguments shared by the core update functions."""
        return dict(
            threshold=self._value("threshold"),
            graded_spikes_factor=self._value("graded_spikes_factor"),
            spike_fn=self.spike_grad,
            reset_mechanism=self.reset_mechanism,
            reset_delay=self.reset_delay,
        )

    def _fire_options(self) -> dict[str, Any]:
        """``inhibition`` and ``state_quant`` (None when off), as the core update functions take them."""
        return dict(inhibition=self.inhibition, state_quant=self.state_quant)

    def _check_state(self, x: Array, state: Array, name: str) -> None:
        if state.shape not in ((), x.shape):
            raise ValueError(
                f"{type(self).__name__}: {name} has shape {tuple(state.shape)} but the input has shape "
                f"{tuple(x.shape)}; pass the state returned by the previous step (or the init method's)."
            )
        for value_name in ("beta", "alpha", "threshold", "graded_spikes_factor"):
            if value_name not in self._parameters and value_name not in self._buffers:
                continue
            shape = tuple(self._value(value_name).shape)
            if shape and (len(shape) > x.ndim or any(s not in (1, n) for s, n in zip(shape[::-1], x.shape[::-1]))):
                raise ValueError(
                    f"{type(self).__name__}: {value_name} has shape {shape}, which does not fit an input of shape "
                    f"{tuple(x.shape)}; a per-neuron {value_name} needs one value per neuron (the input's last "
                    f"axes), or a scalar."
                )

    def extra_repr(self) -> str:
        return f"reset_mechanism={self.reset_mechanism!r}, reset_delay={self.reset_delay}"
