"""snnTorch's recurrent neurons `RLeaky` and `RSynaptic`, reproduced operation for operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from ..surrogate import SurrogateSpike
from ._base import ResetMode, as_float_array, as_hyperparameter, check_input, check_param_shapes, check_shape_argument
from ._snntorch_reset import reset_from_previous_spike
from .leaky import Leaky


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


def rleaky_update(x, spk, mem, *, beta, threshold, graded_spikes_factor, spike_fn, reset_mechanism, weight, bias, v):
    r"""One step of snnTorch 1.0's ``RLeaky``; returns ``(spk, mem)``.

    $$m' = (\mathrm{clip}(\beta,0,1)\, m_{t-1} + x_t) + \mathrm{rec}(s_{t-1}),$$
    subtract $m_t = m' - R\theta$, zero $m_t = m' - R\,m'$ ($R = \mathrm{sg}(H(m_{t-1} - \theta))$),
    $s_t = H(m_t - \theta)\, g$; ``rec`` is [`recurrent_input`][].
    """
    reset = jax.lax.stop_gradient(spike_fn(mem - threshold))
    base = (jnp.clip(beta, 0.0, 1.0) * mem + x) + recurrent_input(spk, weight, bias, v)
    mem = reset_from_previous_spike(base, reset, threshold, reset_mechanism)
    return spike_fn(mem - threshold) * graded_spikes_factor, mem


def rsynaptic_update(
    x, spk, syn, mem, *, alpha, beta, threshold, graded_spikes_factor, spike_fn, reset_mechanism, weight, bias, v
):
    r"""One step of snnTorch 1.0's ``RSynaptic``; returns ``(spk, syn, mem)``.

    $$i_t = (\mathrm{clip}(\alpha,0,1)\, i_{t-1} + x_t) + \mathrm{rec}(s_{t-1}),\qquad m' = \mathrm{clip}(\beta,0,1)\, m_{t-1} + i_t,$$
    then the reset of [`rleaky_update`][] on $m'$ and $s_t = H(m_t - \theta)\, g$.
    """
    reset = jax.lax.stop_gradient(spike_fn(mem - threshold))
    syn = (jnp.clip(alpha, 0.0, 1.0) * syn + x) + recurrent_input(spk, weight, bias, v)
    base = jnp.clip(beta, 0.0, 1.0) * mem + syn
    mem = reset_from_previous_spike(base, reset, threshold, reset_mechanism)
    return spike_fn(mem - threshold) * graded_spikes_factor, syn, mem


class RLeaky(Leaky):
    """snnTorch's ``RLeaky`` as a stateful layer: [`Leaky`][] plus feedback of its own last spikes.

    The recurrence is all-to-all (``recurrent_weight`` ``[F, F]`` and
    ``recurrent_bias`` ``[F]``, torch's Linear layout) or one-to-one (``V``,
    scalar or per neuron). State: [`RLeakyState`][]. Only ``reset_delay=True``
    (snnTorch's default) is supported.
    """

    recurrent_weight: Array | None
    recurrent_bias: Array | None
    V: ArrayLike | None

    def __init__(
        self,
        beta: ArrayLike,
        *,
        recurrent_weight: ArrayLike | None = None,
        recurrent_bias: ArrayLike | None = None,
        V: ArrayLike | None = None,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        reset_mechanism: ResetMode = "subtract",
        graded_spikes_factor: ArrayLike = 1.0,
    ):
        name = type(self).__name__
        super().__init__(beta, threshold=threshold, spike_fn=spike_fn, reset_mechanism=reset_mechanism,
                         graded_spikes_factor=graded_spikes_factor)  # fmt: skip
        if (recurrent_weight is None) == (V is None):
            raise ValueError(
                f"{name}: give either recurrent_weight (all-to-all) or V (one-to-one), not both or neither."
            )
        self.recurrent_weight = (
            None if recurrent_weight is None else as_float_array(recurrent_weight, layer=name, name="recurrent_weight")
        )
        self.recurrent_bias = (
            None if recurrent_bias is None else as_float_array(recurrent_bias, layer=name, name="recurrent_bias")
        )
        self.V = None if V is None else as_hyperparameter(V, layer=name, name="V")

    def _check_recurrence(self, shape: tuple[int, ...]) -> None:
        name = type(self).__name__
        if self.recurrent_weight is not None:
            features = shape[-1] if shape else None
            if len(shape) != 1 or self.recurrent_weight.shape != (features, features):
                raise ValueError(
                    f"{name}: an all-to-all recurrence needs a vector input (F,) and a weight (F, F); "
                    f"got input {shape} and weight {self.recurrent_weight.shape}."
                )
        else:
            check_param_shapes(self, shape, ("V",))

    def _recurrence(self) -> dict:
        return dict(weight=self.recurrent_weight, bias=self.recurrent_bias, v=self.V)

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> RLeakyState:
        shape = check_shape_argument(shape, layer="RLeaky")
        super().init_state(shape)
        self._check_recurrence(shape)
        return RLeakyState(jnp.zeros(shape), jnp.zeros(shape))

    def __call__(self, state: RLeakyState, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[RLeakyState, Array]:
        check_input(x, state.mem.shape, layer="RLeaky")
        spk, mem = rleaky_update(
            x, state.spk, state.mem, beta=self.beta, threshold=self.threshold,
            graded_spikes_factor=self.graded_spikes_factor, spike_fn=self.spike_fn,
            reset_mechanism=self.reset_mechanism, **self._recurrence(),
        )  # fmt: skip
        return RLeakyState(spk, mem), spk


class RSynaptic(RLeaky):
    """snnTorch's ``RSynaptic``: [`RLeaky`][]'s recurrence feeding a synaptic current (decay ``alpha``)."""

    alpha: Array

    def __init__(self, alpha: ArrayLike, beta: ArrayLike, **kwargs):
        super().__init__(beta, **kwargs)
        self.alpha = as_float_array(alpha, layer="RSynaptic", name="alpha")

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> RSynapticState:
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
            reset_mechanism=self.reset_mechanism, **self._recurrence(),
        )  # fmt: skip
        return RSynapticState(spk, syn, mem), spk
