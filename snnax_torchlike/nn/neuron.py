"""What snnTorch-style facade neurons share: one constructor, buffers vs parameters, the hidden state."""

from __future__ import annotations

import difflib
import functools
import inspect
import warnings
from typing import Any, ClassVar, TypedDict, Unpack

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


class SpikingOptions(TypedDict, total=False):
    """The keyword options snnTorch's neurons share, taken after each neuron's own parameters.

    Each is described, with snnTorch's default, in
    [`SnnTorchNeuron`][snnax_torchlike.nn.neuron.SnnTorchNeuron]; a neuron's
    ``option_defaults()`` gives the ones it takes and their defaults.
    """

    threshold: ArrayLike
    spike_grad: SurrogateSpike | None
    surrogate_disable: bool
    init_hidden: bool
    inhibition: bool
    learn_threshold: bool
    reset_mechanism: str
    state_quant: Any
    output: bool
    graded_spikes_factor: ArrayLike
    learn_graded_spikes_factor: bool
    reset_delay: bool


_OPTION_DEFAULTS: dict[str, Any] = {
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
"""snnTorch's default of each of ``SpikingOptions``, in snnTorch's order."""


@functools.cache
def _constructor(cls: type[SnnTorchNeuron]) -> tuple[tuple[str, ...], bool, tuple[str, ...]]:
    """``cls``'s positional parameters, whether it takes ``*args``, and the parameters its constructors name.

    The names come from every ``__init__`` between ``cls`` and ``SnnTorchNeuron``, so a
    subclass that passes ``**kwargs`` on to its parent's constructor still knows them.
    """
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    positional = tuple(p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    takes_args = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    own: dict[str, None] = {}
    for owner in cls.__mro__[: cls.__mro__.index(SnnTorchNeuron)]:
        if "__init__" in owner.__dict__:
            for p in inspect.signature(owner.__dict__["__init__"]).parameters.values():
                if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                    own.setdefault(p.name)
    return positional, takes_args, tuple(own)


def _check_constructor_call(cls: type[SnnTorchNeuron], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """A clear ``TypeError`` for a call of ``cls`` with an option by position or an unknown keyword."""
    positional, takes_args, own = _constructor(cls)
    name = cls.__name__
    if len(args) > len(positional) and not takes_args:
        first = next(iter(cls.option_defaults()))
        leading = ", ".join(positional)
        takes = f"takes {len(positional)} positional argument{'s' * (len(positional) != 1)} ({leading})"
        raise TypeError(
            f"{name}: {takes if positional else 'takes no positional arguments'}, got {len(args)}; pass {first} "
            f"and the options after it by keyword, e.g. {name}({leading + ', ' if positional else ''}{first}=...)."
        )
    options = cls.option_defaults()
    unknown = [key for key in kwargs if key not in own and key not in options]
    if unknown:
        raise _unknown_options(cls, unknown)


def _unknown_options(cls: type[SnnTorchNeuron], unknown: list[str]) -> TypeError:
    """The error for keywords ``unknown`` that ``cls`` does not take: each with difflib's closest known name."""
    own, options = _constructor(cls)[2], tuple(cls.option_defaults())
    problems = []
    for key in unknown:
        if key in _OPTION_DEFAULTS:  # another neuron's option
            problems.append(f"{key!r} (snnTorch's {cls.__name__} has no such option)")
            continue
        match = difflib.get_close_matches(key, own + options, n=1)
        problems.append(f"{key!r}" + (f" (did you mean {match[0]!r}?)" if match else ""))
    return TypeError(
        f"{cls.__name__}: unknown option{'s' * (len(unknown) > 1)} {', '.join(problems)}; it takes "
        f"{', '.join(own) + ' and ' if own else ''}the options {', '.join(options)}."
    )


class SnnTorchNeuron(Module):
    """Base of facade neurons with snnTorch 1.0's constructor and ``state_dict`` entries.

    Registers, in snnTorch's order, ``threshold``, ``graded_spikes_factor`` and the
    int buffer ``reset_mechanism_val`` (0 subtract, 1 zero, 2 none); subclasses add
    their decays with ``_register``. A value is a trained ``Parameter`` when its
    ``learn_*`` flag is set and a buffer otherwise, as in snnTorch.

    **Options.** Every neuron takes its own parameters (``Leaky``: ``beta``,
    ``learn_beta``), then these [`SpikingOptions`][snnax_torchlike.nn.neuron.SpikingOptions],
    by keyword, with snnTorch's defaults:

    - ``threshold=1.0``: the membrane value above which the neuron spikes (a scalar,
      or one value per neuron).
    - ``spike_grad=None``: the spike function with its surrogate gradient, from
      ``snnax_torchlike.surrogate`` (e.g. ``surrogate.fast_sigmoid(slope=25)``);
      None is snnTorch's ``atan(alpha=2)``.
    - ``surrogate_disable=False``: spike with no gradient (giving ``spike_grad`` too raises).
    - ``init_hidden=False``: keep the states in the neuron (see below).
    - ``inhibition=False``: inputs ``[B, N]``; only each sample's largest membrane
      may spike.
    - ``learn_threshold=False``: train ``threshold``.
    - ``reset_mechanism="subtract"`` (``Alpha``: ``"zero"``; ``SLSTM``,
      ``SConv2dLSTM``: ``"none"``): after a spike, subtract the threshold, set the
      membrane to zero, or do nothing.
    - ``state_quant=False``: a JAX-traceable function applied to the states, e.g.
      ``snnax_torchlike.functional.quant.state_quant(num_bits=8)``; a torch
      function raises.
    - ``output=False``: with ``init_hidden=True``, also return the states
      (``StateLeaky``, ``LinearLeaky``: ``True``, return the spikes with the membrane).
    - ``graded_spikes_factor=1.0``: the size of a spike.
    - ``learn_graded_spikes_factor=False``: train ``graded_spikes_factor``.
    - ``reset_delay=True``: reset from the previous step's spike; False resets
      in the step that spikes.

    A neuron takes those of these options that its snnTorch constructor takes
    (``option_defaults()`` lists them): ``Synaptic``, for one, has no graded spikes.
    As in snnTorch, another keyword raises a ``TypeError``; this one names the
    neuron, its options and the closest match of a misspelt one. The neuron's own
    leading parameters may be passed by position, in snnTorch's order; an option
    passed by position raises a ``TypeError`` saying to pass it by keyword.
    ``inhibition`` and ``state_quant`` work in the neurons that declare them in
    ``_implemented_options``; the others refuse them with a ``ValueError``.

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
    _implemented_options: ClassVar[frozenset[str]] = frozenset()
    """The options among ``inhibition`` and ``state_quant`` that the class's ``forward`` implements.

    Read from the class that defines the ``forward`` that runs, so a subclass with a
    step of its own (``DeltaLeaky`` of ``Leaky``) refuses them until it declares them.
    """
    _options_not_taken: ClassVar[frozenset[str]] = frozenset()
    """The ``SpikingOptions`` that snnTorch's constructor of this neuron lacks: refused, the default used."""
    _changed_defaults: ClassVar[dict[str, Any]] = {}
    """This neuron's defaults where snnTorch's differ from the shared ones (``Alpha``: ``reset_mechanism="zero"``)."""
    instances: ClassVar[Any] = LiveInstances()
    """Where every new neuron is appended: by default the neurons alive now (weak references), so
    nothing is kept alive by it; snnTorch's own list keeps every neuron ever built (its issue #328).
    Assigning a list (``SpikingNeuron.instances = []``, as snnTorch's code does) makes new neurons
    go into that list, with snnTorch's strong references."""
    _state_names: ClassVar[tuple[str, ...]] = ("mem",)
    _state_outputs: ClassVar[tuple[int, ...]] = (1,)
    """Where each state's new value is in what ``forward`` returns."""

    def __new__(cls, *args: Any, **kwargs: Any) -> SnnTorchNeuron:
        # Before Python binds the call to __init__, so a wrong call gets an error that names the neuron.
        _check_constructor_call(cls, args, kwargs)
        return super().__new__(cls)

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        """The ``SpikingOptions`` this neuron takes, each with its default (snnTorch's), in snnTorch's order."""
        return {
            name: cls._changed_defaults.get(name, default)
            for name, default in _OPTION_DEFAULTS.items()
            if name not in cls._options_not_taken
        }

    @classmethod
    def _with_defaults(cls, options: SpikingOptions) -> dict[str, Any]:
        """``options`` completed with the neuron's defaults; one it does not take raises a ``TypeError``."""
        defaults = cls.option_defaults()
        unknown = [name for name in options if name not in defaults]
        if unknown:
            raise _unknown_options(cls, unknown)
        return {**defaults, **options}

    def __init__(self, **options: Unpack[SpikingOptions]):
        super().__init__()
        name = type(self).__name__
        settings = {**_OPTION_DEFAULTS, **self._with_defaults(options)}  # with the options it does not take
        forward_owner = next(cls for cls in type(self).__mro__ if "forward" in cls.__dict__)
        implemented = forward_owner.__dict__.get("_implemented_options", frozenset())
        quantised = settings["state_quant"] is not False and settings["state_quant"] is not None
        requested = {"inhibition": settings["inhibition"], "state_quant": quantised}
        chosen = [option for option, value in requested.items() if value and option not in implemented]
        if chosen:
            raise ValueError(f"{name}: {', '.join(chosen)} is not supported.")
        self.inhibition = bool(settings["inhibition"])
        self.state_quant = _state_quant_option(name, settings["state_quant"])
        self.spike_grad = resolve_spike_grad(name, settings["spike_grad"], settings["surrogate_disable"])
        self.surrogate_disable = bool(settings["surrogate_disable"])
        self.reset_delay = bool(settings["reset_delay"])
        self.output = bool(settings["output"])
        self.init_hidden = bool(settings["init_hidden"])
        for state in self._state_names:
            self.register_hidden(state)
        self._register("threshold", settings["threshold"], settings["learn_threshold"])
        self._register("graded_spikes_factor", settings["graded_spikes_factor"], settings["learn_graded_spikes_factor"])
        self.register_buffer("reset_mechanism_val", jnp.asarray(0, dtype=jnp.int32))
        self.reset_mechanism = settings["reset_mechanism"]
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
        """Keyword arguments shared by the core update functions (``reset_delay`` where the neuron takes it)."""
        arguments = dict(
            threshold=self._value("threshold"),
            graded_spikes_factor=self._value("graded_spikes_factor"),
            spike_fn=self.spike_grad,
            reset_mechanism=self.reset_mechanism,
        )
        if "reset_delay" not in self._options_not_taken:
            arguments["reset_delay"] = self.reset_delay
        return arguments

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
        """The settings shown in ``repr(layer)``: ``reset_mechanism`` and ``reset_delay``."""
        return f"reset_mechanism={self.reset_mechanism!r}, reset_delay={self.reset_delay}"


class _TwoDecayNeuron(SnnTorchNeuron):
    """Base of snnTorch's neurons with a synaptic decay ``alpha`` and a membrane decay ``beta``.

    **Arguments:** ``alpha``, ``beta`` (scalars or one per neuron); ``learn_alpha``,
    ``learn_beta``: train them; then the options. They are registered after the
    shared entries, ``beta`` first (snnTorch's order).
    """

    def __init__(
        self,
        alpha: ArrayLike,
        beta: ArrayLike,
        *,
        learn_alpha: bool = False,
        learn_beta: bool = False,
        **options: Unpack[SpikingOptions],
    ):
        super().__init__(**options)
        alpha, beta = self._checked_decays(alpha, beta)
        self._register("beta", beta, learn_beta)
        self._register("alpha", alpha, learn_alpha)

    def _checked_decays(self, alpha: ArrayLike, beta: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
        """``(alpha, beta)`` as registered: a subclass checks or converts them here."""
        return alpha, beta
