"""snnTorch's recurrent neurons `RLeaky` and `RSynaptic`, reproduced operation for operation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from ..surrogate import SurrogateSpike
from ._base import ResetMode, as_float_array, as_hyperparameter, check_input, check_param_shapes, check_shape_argument
from ._snntorch_reset import reset_from_previous_spike
from .leaky import Leaky
from .snntorch_fire import StateQuant, fire_and_reset, quantise


def recurrent_input(spk: Array, weight: Array | None, bias: Array | None, v: ArrayLike | None) -> Array:
    """snnTorch's ``recurrent(spk)``: ``spk @ weight.T + bias`` (all-to-all) or ``spk * V`` (one-to-one)."""
    if weight is not None:
        out = spk @ weight.T
        return out if bias is None else out + bias
    return spk * v


class RLeakyState(NamedTuple):
    """State of [`RLeaky`][]: the previous spikes and the membrane (pre-reset)."""

    spk: Array
    mem: Array


class RSynapticState(NamedTuple):
    """State of [`RSynaptic`][]: previous spikes, synaptic current, membrane."""

    spk: Array
    syn: Array
    mem: Array


def rleaky_update(
    x: Array,
    spk: Array,
    mem: Array,
    *,
    beta: ArrayLike,
    threshold: ArrayLike,
    graded_spikes_factor: ArrayLike,
    spike_fn: SurrogateSpike,
    reset_mechanism: ResetMode,
    recurrent: Callable[[Array], Array],
    reset_delay: bool = True,
    inhibition: bool = False,
    state_quant: StateQuant | None = None,
) -> tuple[Array, Array]:
    r"""One step of snnTorch 1.0's ``RLeaky``; returns ``(spk, mem)``.

    $$m' = (\mathrm{clip}(\beta,0,1)\, m_{t-1} + x_t) + \mathrm{rec}(s_{t-1}),$$
    subtract $m_t = m' - R\theta$, zero $m_t = m' - R\,m'$ ($R = \mathrm{sg}(H(m_{t-1} - \theta))$),
    then ``state_quant``, $s_t = H(m_t - \theta)\, g$, ``inhibition`` and ``reset_delay=False``
    as in [`leaky_update`][]. ``recurrent`` is $\mathrm{rec}$: a function of the previous
    spikes to the membrane's shape ([`recurrent_input`][]'s linear or one-to-one map, or
    a convolution).
    """
    reset = jax.lax.stop_gradient(spike_fn(mem - threshold))
    base = (jnp.clip(beta, 0.0, 1.0) * mem + x) + recurrent(spk)
    mem = reset_from_previous_spike(base, reset, threshold, reset_mechanism)
    return fire_and_reset(mem, reset, threshold=threshold, graded_spikes_factor=graded_spikes_factor,
                          spike_fn=spike_fn, reset_mechanism=reset_mechanism, reset_delay=reset_delay,
                          inhibition=inhibition, state_quant=state_quant)  # fmt: skip


def rsynaptic_update(
    x: Array,
    spk: Array,
    syn: Array,
    mem: Array,
    *,
    alpha: ArrayLike,
    beta: ArrayLike,
    threshold: ArrayLike,
    graded_spikes_factor: ArrayLike,
    spike_fn: SurrogateSpike,
    reset_mechanism: ResetMode,
    recurrent: Callable[[Array], Array],
    inhibition: bool = False,
    state_quant: StateQuant | None = None,
) -> tuple[Array, Array, Array]:
    r"""One step of snnTorch 1.0's ``RSynaptic``; returns ``(spk, syn, mem)``.

    $$i_t = (\mathrm{clip}(\alpha,0,1)\, i_{t-1} + x_t) + \mathrm{rec}(s_{t-1}),\qquad m' = \mathrm{clip}(\beta,0,1)\, m_{t-1} + i_t,$$
    then the reset of [`rleaky_update`][] on $m'$, ``state_quant`` on $i_t$ and $m_t$,
    and $s_t = H(m_t - \theta)\, g$ (``inhibition`` as in [`leaky_update`][]). No
    ``reset_delay=False``: snnTorch's has no effect (see ``nn.RSynaptic``).
    """
    reset = jax.lax.stop_gradient(spike_fn(mem - threshold))
    syn = (jnp.clip(alpha, 0.0, 1.0) * syn + x) + recurrent(spk)
    base = jnp.clip(beta, 0.0, 1.0) * mem + syn
    mem = reset_from_previous_spike(base, reset, threshold, reset_mechanism)
    (syn,) = quantise(state_quant, syn)
    spk, mem = fire_and_reset(mem, reset, threshold=threshold, graded_spikes_factor=graded_spikes_factor,
                              spike_fn=spike_fn, reset_mechanism=reset_mechanism, inhibition=inhibition,
                              state_quant=state_quant)  # fmt: skip
    return spk, syn, mem


class RLeaky(Leaky):
    """snnTorch's ``RLeaky`` as a stateful layer: [`Leaky`][] plus feedback of its own last spikes.

    The recurrence is one of: all-to-all (``recurrent_weight`` ``[F, F]`` and
    ``recurrent_bias`` ``[F]``, torch's Linear layout), one-to-one (``V``, scalar or
    per neuron), or any map ``recurrent`` of the spikes to the state's shape, e.g.
    snnTorch's convolutional recurrence, a facade ``Conv2d(C, C, k, padding=k // 2)``'s
    ``core_layer()`` on states ``(C, H, W)``. State: [`RLeakyState`][].
    """

    recurrent_weight: Array | None
    recurrent_bias: Array | None
    V: ArrayLike | None
    recurrent: Callable[[Array], Array] | None

    def __init__(
        self,
        beta: ArrayLike,
        *,
        recurrent_weight: ArrayLike | None = None,
        recurrent_bias: ArrayLike | None = None,
        V: ArrayLike | None = None,
        recurrent: Callable[[Array], Array] | None = None,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        reset_mechanism: ResetMode = "subtract",
        graded_spikes_factor: ArrayLike = 1.0,
        reset_delay: bool = True,
        inhibition: bool = False,
        state_quant: StateQuant | None = None,
    ):
        name = type(self).__name__
        super().__init__(beta, threshold=threshold, spike_fn=spike_fn, reset_mechanism=reset_mechanism,
                         graded_spikes_factor=graded_spikes_factor, reset_delay=reset_delay, inhibition=inhibition,
                         state_quant=state_quant)  # fmt: skip
        given = [n for n, value in (("recurrent_weight", recurrent_weight), ("V", V), ("recurrent", recurrent))
                 if value is not None]  # fmt: skip
        if len(given) != 1:
            raise ValueError(
                f"{name}: give exactly one of recurrent_weight (all-to-all), V (one-to-one) or recurrent (a map of "
                f"the spikes, e.g. a convolution); got {given or 'none'}."
            )
        if recurrent_bias is not None and recurrent_weight is None:
            raise ValueError(f"{name}: recurrent_bias goes with recurrent_weight (the all-to-all recurrence).")
        if recurrent is not None and not callable(recurrent):
            raise TypeError(f"{name}: recurrent must be a function of the spikes, got {type(recurrent).__name__}.")
        self.recurrent_weight = (
            None if recurrent_weight is None else as_float_array(recurrent_weight, layer=name, name="recurrent_weight")
        )
        self.recurrent_bias = (
            None if recurrent_bias is None else as_float_array(recurrent_bias, layer=name, name="recurrent_bias")
        )
        self.V = None if V is None else as_hyperparameter(V, layer=name, name="V")
        self.recurrent = recurrent

    def _check_recurrence(self, shape: tuple[int, ...]) -> None:
        name = type(self).__name__
        if self.recurrent is not None:
            out = jax.eval_shape(self.recurrent, jax.ShapeDtypeStruct(shape, jnp.float32))
            if out.shape != shape:
                raise ValueError(
                    f"{name}: the recurrence must map the spikes {shape} to the state's shape {shape}, got "
                    f"{out.shape} (a convolution needs padding kernel_size // 2 and as many channels out as in)."
                )
        elif self.recurrent_weight is not None:
            features = shape[-1] if shape else None
            if len(shape) != 1 or self.recurrent_weight.shape != (features, features):
                raise ValueError(
                    f"{name}: an all-to-all recurrence needs a vector input (F,) and a weight (F, F); "
                    f"got input {shape} and weight {self.recurrent_weight.shape}."
                )
        else:
            check_param_shapes(self, shape, ("V",))

    def feedback(self, spk: Array) -> Array:
        """``rec(s)``, the recurrent input of the previous spikes."""
        if self.recurrent is not None:
            return self.recurrent(spk)
        return recurrent_input(spk, self.recurrent_weight, self.recurrent_bias, self.V)

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> RLeakyState:
        """``spk = mem = 0``, each of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer=type(self).__name__)
        super().init_state(shape)
        self._check_recurrence(shape)
        return RLeakyState(jnp.zeros(shape), jnp.zeros(shape))

    def __call__(self, state: RLeakyState, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[RLeakyState, Array]:
        check_input(x, state.mem.shape, layer="RLeaky")
        spk, mem = rleaky_update(
            x, state.spk, state.mem, beta=self.beta, threshold=self.threshold,
            graded_spikes_factor=self.graded_spikes_factor, spike_fn=self.spike_fn,
            reset_mechanism=self.reset_mechanism, recurrent=self.feedback, reset_delay=self.reset_delay,
            **self._fire_options(),
        )  # fmt: skip
        return RLeakyState(spk, mem), spk


class RSynaptic(RLeaky):
    """snnTorch's ``RSynaptic``: [`RLeaky`][]'s recurrence feeding a synaptic current (decay ``alpha``).

    Takes RLeaky's arguments except ``reset_delay=False`` (see [`rsynaptic_update`][]).
    """

    alpha: Array

    def __init__(self, alpha: ArrayLike, beta: ArrayLike, **kwargs):
        if not kwargs.get("reset_delay", True):
            raise ValueError("RSynaptic: reset_delay=False is not supported (snnTorch's RSynaptic ignores it).")
        super().__init__(beta, **kwargs)
        self.alpha = as_float_array(alpha, layer="RSynaptic", name="alpha")

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> RSynapticState:
        """``spk = syn = mem = 0``, each of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        spk, mem = super().init_state(shape)
        check_param_shapes(self, tuple(shape), ("alpha",))
        return RSynapticState(spk, jnp.zeros_like(mem), mem)

    def __call__(
        self, state: RSynapticState, x: Array, *, key: PRNGKeyArray | None = None
    ) -> tuple[RSynapticState, Array]:
        check_input(x, state.mem.shape, layer="RSynaptic")
        spk, syn, mem = rsynaptic_update(
            x, state.spk, state.syn, state.mem, alpha=self.alpha, beta=self.beta, threshold=self.threshold,
            graded_spikes_factor=self.graded_spikes_factor, spike_fn=self.spike_fn,
            reset_mechanism=self.reset_mechanism, recurrent=self.feedback, **self._fire_options(),
        )  # fmt: skip
        return RSynapticState(spk, syn, mem), spk
