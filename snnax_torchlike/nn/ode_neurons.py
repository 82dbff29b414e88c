"""NIR's neuron nodes as facade layers: ODE parameters plus an explicit time step and discretisation.

``CubaLIF``, ``CubaLI``, ``LIF``, ``LI``, ``IF`` and ``Integrator`` hold the
parameters of NIR's node of the same name (time constants in seconds) and
simulate it with ``dt`` under a ``convention`` (see
[`snnax_torchlike.snn.discretisation`][]). Each runs as one
[`snnax_torchlike.snn.ODENeuron`][] core layer. NIR's ``LIF`` is a first-order
neuron (no synaptic current): it is not Norse's time-looped ``LIF`` module, whose
counterpart here is ``LIFCell`` inside ``nn.Sequential``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict, Unpack

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .. import snn
from ..snn.discretisation import Coefficients, Convention, check_convention, discretise
from ..snn.neurons.ode_neuron import ODENeuronState, ValueReset
from ..snn.surrogate import SurrogateSpike
from .module import Module, Parameter, to_array


def batched_step(name: str, core: Any, input_: Any, state: Any) -> tuple[Array, Any]:
    """One step of a per-sample core neuron on a batch ``[B, ...]``: ``(out, new_state)``.

    ``state`` is None (the core's initial state, for every sample) or the batched
    state of the previous step, whose membrane ``v`` must have the input's shape.
    ``name`` names the facade layer in errors.
    """
    x = to_array(input_)
    if x.ndim < 1:
        raise ValueError(f"{name}: expected a batch [B, ...], got a scalar.")
    if state is None:
        state = jax.vmap(lambda _: core.init_state(x.shape[1:]))(jnp.arange(x.shape[0]))
    elif tuple(state.v.shape) != tuple(x.shape):
        raise ValueError(
            f"{name}: the state's membrane has shape {tuple(state.v.shape)} but the input has shape "
            f"{tuple(x.shape)}; pass the state returned by the previous step."
        )
    new_state, out = jax.vmap(lambda s, xi: core(s, xi))(state, x)
    return out, new_state


def register_named_parameters(module: Module, values: dict[str, ArrayLike], learn: bool | Sequence[str]) -> None:
    """Store each of ``values`` on ``module`` as a float32 buffer, or as a trained ``Parameter`` if ``learn`` names it.

    ``learn``: True (all of them), False, or a sequence of names; a name that is
    not among ``values`` raises a ``ValueError`` naming the module's class.
    """
    learned = set(values) if learn is True else set(learn or ())
    unknown = learned - set(values)
    if unknown:
        raise ValueError(
            f"{type(module).__name__}: learn names {sorted(unknown)}, but its parameters are {list(values)}."
        )
    for key, value in values.items():
        array = to_array(value).astype(jnp.float32)
        if key in learned:
            setattr(module, key, Parameter(array))
        else:
            module.register_buffer(key, array)


class NamedParameterModule(Module):
    """A module whose neuron parameters are named fields (``parameter_names``): buffers, or ``Parameter``s."""

    parameter_names: tuple[str, ...] = ()

    def value(self, name: str) -> Array:
        """The current array of parameter ``name`` (a buffer or a ``Parameter``'s data)."""
        stored = getattr(self, name)
        return stored.data if isinstance(stored, Parameter) else stored

    def _parameter_shapes(self) -> str:
        return ", ".join(f"{n}={tuple(self.value(n).shape)}" for n in self.parameter_names)


class ODEOptions(TypedDict, total=False):
    """The keyword options of the NIR-node neurons, after their NIR parameters; described in ``ODENeuron``."""

    dt: float | None
    convention: Convention
    reset: ValueReset
    spike_grad: SurrogateSpike | None
    stop_reset_grad: bool
    learn: bool | Sequence[str]


class ODENeuron(NamedParameterModule):
    """Base of the NIR-node neurons: parameters as buffers or ``Parameter``s, a time step, a convention.

    Subclasses list their NIR parameter names in ``parameter_names`` and build
    their [`Coefficients`][snnax_torchlike.snn.discretisation.Coefficients] in
    ``coefficients()``. ``forward(x, state=None) -> (out, state)`` runs one step on
    a batch ``x`` of shape ``[B, ...]``, Norse-style; ``nn.Sequential`` runs whole
    sequences.

    **Options** (``ODEOptions``), by keyword after a neuron's NIR parameters:
    ``dt=None``, the time step in seconds; ``convention="euler"``, how the ODE is
    discretised (see [`snnax_torchlike.snn.discretisation`][]); ``reset="value"``
    (to ``v_reset``), ``"subtract"`` or ``"none"``; ``spike_grad=None``, the surrogate
    (None: SuperSpike); ``stop_reset_grad=False``, detach the spike in the reset;
    ``learn=False``, True or the names of the parameters to train.
    """

    is_neuron = True
    parameter_names: tuple[str, ...] = ()

    def __init__(
        self,
        values: dict[str, ArrayLike],
        *,
        dt: float | None = None,
        convention: Convention = "euler",
        reset: ValueReset = "value",
        spike_grad: SurrogateSpike | None = None,
        stop_reset_grad: bool = False,
        learn: bool | Sequence[str] = False,
    ):
        super().__init__()
        name = type(self).__name__
        self.dt = check_convention(convention, dt, where=name)
        self.convention = convention
        if reset not in ("value", "subtract", "none"):
            raise ValueError(f"{name}: reset must be 'value', 'subtract' or 'none', got {reset!r}.")
        self.reset = reset
        self.spike_grad = snn.surrogate.superspike() if spike_grad is None else spike_grad
        if not isinstance(self.spike_grad, SurrogateSpike):
            raise TypeError(f"{name}: spike_grad must come from snnax_torchlike.surrogate, got {type(spike_grad)}.")
        self.stop_reset_grad = bool(stop_reset_grad)
        register_named_parameters(self, values, learn)

    def coefficients(self) -> Coefficients:
        """The per-step coefficients for ``dt`` under ``convention``."""
        raise NotImplementedError

    def nir_parameters(self) -> tuple[str, dict[str, np.ndarray]]:
        """The NIR node this neuron is, and its parameters as numpy arrays (NIR's names).

        The time step and convention are not part of the node; an exporter records them.
        """
        return type(self).__name__, {n: np.array(self.value(n)) for n in self.parameter_names}

    def _threshold(self) -> Array | None:
        return self.value("v_threshold") if "v_threshold" in self.parameter_names else None

    def _v_leak(self) -> Array:
        return self.value("v_leak") if "v_leak" in self.parameter_names else jnp.zeros(())

    def _v_reset(self) -> Array:
        return self.value("v_reset") if "v_reset" in self.parameter_names else jnp.zeros(())

    def core_layer(self) -> snn.ODENeuron:
        """The neuron as a pure core layer over the current arrays."""
        c = self.coefficients()
        return snn.ODENeuron(
            c.mem_decay, syn_decay=c.syn_decay, input_gain=c.input_gain, current_gain=c.current_gain,
            v_leak=self._v_leak(), threshold=self._threshold(), v_reset=self._v_reset(), reset=self.reset,
            stop_reset_grad=self.stop_reset_grad, spike_fn=self.spike_grad,
        )  # fmt: skip

    def forward(self, input_: Any, state: ODENeuronState | None = None) -> tuple[Array, ODENeuronState]:
        """One step on a batch: ``out, state = neuron(x, state)``; ``x`` is ``[B, ...]``.

        ``out`` is the spikes (the membrane for non-spiking neurons); ``state`` a
        [`ODENeuronState`][snnax_torchlike.snn.ODENeuronState] with a leading batch axis.
        """
        return batched_step(type(self).__name__, self.core_layer(), input_, state)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: parameter shapes, ``dt``, ``convention``, ``reset``."""
        shapes = self._parameter_shapes()
        return f"{shapes}, dt={self.dt}, convention={self.convention!r}, reset={self.reset!r}"


class CubaLIF(ODENeuron):
    r"""NIR's ``CubaLIF``: $\tau_\text{syn}\dot I = -I + w_\text{in} S$, $\tau_\text{mem}\dot v = (v_\text{leak} - v) + r I$.

    Fires when $v > v_\text{threshold}$ and resets to ``v_reset``. Parameters are
    scalars or per-neuron arrays; ``learn=True`` (or a list of names) makes them
    trainable ``Parameter``s, else they are buffers in ``state_dict``.
    """

    parameter_names = ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in")

    def __init__(
        self,
        tau_syn: ArrayLike,
        tau_mem: ArrayLike,
        r: ArrayLike = 1.0,
        v_leak: ArrayLike = 0.0,
        v_threshold: ArrayLike = 1.0,
        v_reset: ArrayLike = 0.0,
        w_in: ArrayLike = 1.0,
        **options: Unpack[ODEOptions],
    ):
        values = dict(tau_syn=tau_syn, tau_mem=tau_mem, r=r, v_leak=v_leak, v_threshold=v_threshold)
        super().__init__({**values, "v_reset": v_reset, "w_in": w_in}, **options)

    def coefficients(self) -> Coefficients:
        """The per-step coefficients of ``tau_mem``, ``r``, ``tau_syn`` and ``w_in`` for ``dt`` under ``convention``."""
        v = self.value
        return discretise(
            self.convention, self.dt, tau_mem=v("tau_mem"), r=v("r"), tau_syn=v("tau_syn"), w_in=v("w_in")
        )


class CubaLI(CubaLIF):
    """NIR's ``CubaLI``: [`CubaLIF`][]'s equations without threshold; outputs the membrane."""

    is_neuron = False
    parameter_names = ("tau_syn", "tau_mem", "r", "v_leak", "w_in")

    def __init__(
        self,
        tau_syn: ArrayLike,
        tau_mem: ArrayLike,
        r: ArrayLike = 1.0,
        v_leak: ArrayLike = 0.0,
        w_in: ArrayLike = 1.0,
        **options: Unpack[ODEOptions],
    ):
        values = dict(tau_syn=tau_syn, tau_mem=tau_mem, r=r, v_leak=v_leak, w_in=w_in)
        ODENeuron.__init__(self, values, **options)


class LIF(ODENeuron):
    r"""NIR's ``LIF``: $\tau\dot v = (v_\text{leak} - v) + r I$, firing above ``v_threshold``, reset to ``v_reset``."""

    parameter_names = ("tau", "r", "v_leak", "v_threshold", "v_reset")

    def __init__(
        self,
        tau: ArrayLike,
        r: ArrayLike = 1.0,
        v_leak: ArrayLike = 0.0,
        v_threshold: ArrayLike = 1.0,
        v_reset: ArrayLike = 0.0,
        **options: Unpack[ODEOptions],
    ):
        values = dict(tau=tau, r=r, v_leak=v_leak, v_threshold=v_threshold, v_reset=v_reset)
        super().__init__(values, **options)

    def coefficients(self) -> Coefficients:
        """The per-step coefficients of ``tau`` and ``r`` for ``dt`` under ``convention``."""
        return discretise(self.convention, self.dt, tau_mem=self.value("tau"), r=self.value("r"))


class LI(LIF):
    r"""NIR's ``LI``: $\tau\dot v = (v_\text{leak} - v) + r I$; outputs the membrane."""

    is_neuron = False
    parameter_names = ("tau", "r", "v_leak")

    def __init__(
        self,
        tau: ArrayLike,
        r: ArrayLike = 1.0,
        v_leak: ArrayLike = 0.0,
        **options: Unpack[ODEOptions],
    ):
        ODENeuron.__init__(self, dict(tau=tau, r=r, v_leak=v_leak), **options)


class IF(ODENeuron):
    r"""NIR's ``IF``: $\dot v = r I$, firing above ``v_threshold``, reset to ``v_reset``.

    The membrane starts at ``v_reset`` (as Norse's ``IAFCell``).
    """

    parameter_names = ("r", "v_threshold", "v_reset")

    def __init__(
        self,
        r: ArrayLike = 1.0,
        v_threshold: ArrayLike = 1.0,
        v_reset: ArrayLike = 0.0,
        **options: Unpack[ODEOptions],
    ):
        values = dict(r=r, v_threshold=v_threshold, v_reset=v_reset)
        super().__init__(values, **options)

    def coefficients(self) -> Coefficients:
        """The per-step coefficients of ``r`` for ``dt`` under ``convention`` (no leak)."""
        return discretise(self.convention, self.dt, tau_mem=None, r=self.value("r"))

    def _v_leak(self) -> Array:
        # Without leak (mem_decay 1) v_leak only sets the initial membrane.
        return self._v_reset()


class Integrator(IF):
    r"""NIR's ``I``: $\dot v = r I$; outputs the membrane."""

    is_neuron = False
    parameter_names = ("r",)

    def __init__(self, r: ArrayLike = 1.0, **options: Unpack[ODEOptions]):
        ODENeuron.__init__(self, dict(r=r), **options)

    def nir_parameters(self) -> tuple[str, dict[str, np.ndarray]]:
        """NIR's ``I`` node and its ``r``."""
        return "I", {"r": np.array(self.value("r"))}
