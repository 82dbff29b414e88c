"""snnTorch's first-order LIF (`snntorch.Leaky`), reproduced operation for operation."""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .._stateful import StatefulLayer
from ..surrogate import SurrogateSpike, atan
from ._base import (
    ResetMode,
    as_float_array,
    as_hyperparameter,
    check_input,
    check_param_shapes,
    check_reset_mode,
    check_shape_argument,
    check_spike_fn,
)
from ._leaky_sequence import leaky_sequence
from ._snntorch_reset import reset_from_previous_spike
from .snntorch_fire import StateQuant, check_inhibition_shape, check_state_quant, fire_and_reset


def leaky_update(
    x: Array,
    mem: Array,
    *,
    beta: ArrayLike,
    threshold: ArrayLike,
    graded_spikes_factor: ArrayLike,
    spike_fn: SurrogateSpike,
    reset_mechanism: ResetMode,
    reset_delay: bool,
    inhibition: bool = False,
    state_quant: StateQuant | None = None,
) -> tuple[Array, Array]:
    r"""One step of snnTorch 1.0's ``Leaky``; returns ``(spk, mem)``.

    With $b = \mathrm{clip}(\beta, 0, 1)$ and $R = \mathrm{sg}(H(m_{t-1} - \theta))$,
    the reset of the *previous* step's spike:

    - subtract: $m_t = (b\, m_{t-1} + x_t) - R\,\theta$
    - zero: $m_t = b\,((1 - R)\, m_{t-1}) + x_t$ (this step's input is kept)
    - none: $m_t = b\, m_{t-1} + x_t$

    then $m_t \leftarrow q(m_t)$ when ``state_quant`` is a function $q$, and
    $s_t = H(m_t - \theta)\, g$ ($g$: graded spikes factor). ``inhibition=True``
    lets only the largest membrane of each sample spike, unscaled (see
    ``snntorch_fire``); the next step's $R$ still comes from the whole membrane. With
    ``reset_delay=False`` the reset also applies in the step of the spike:
    $d = s_t / g - R$ (not detached), subtract $m_t \mathrel{-}= d\,\theta$, zero
    $m_t \mathrel{-}= d\, m_t$. The returned membrane is the pre-reset value snnTorch
    returns. Shapes broadcast like snnTorch's (parameters against ``x``).
    """
    b = jnp.clip(beta, 0.0, 1.0)  # snnTorch clamps beta in the forward pass
    reset = jax.lax.stop_gradient(spike_fn(mem - threshold))
    if reset_mechanism == "zero":
        mem = b * ((1.0 - reset) * mem) + x  # Leaky's own zero reset keeps this step's input
    else:
        mem = reset_from_previous_spike(b * mem + x, reset, threshold, reset_mechanism)
    return fire_and_reset(mem, reset, threshold=threshold, graded_spikes_factor=graded_spikes_factor,
                          spike_fn=spike_fn, reset_mechanism=reset_mechanism, reset_delay=reset_delay,
                          inhibition=inhibition, state_quant=state_quant)  # fmt: skip


class Leaky(StatefulLayer):
    r"""snnTorch's ``Leaky`` neuron as a stateful layer (see [`leaky_update`][]).

    State: the membrane (pre-reset, as snnTorch returns it). Output: the spikes.
    Unlike [`SimpleLIF`][] the reset is applied at the step *after* a spike (unless
    ``reset_delay=False``) and ``beta`` is clamped to [0, 1] in the forward pass,
    both exactly as in snnTorch, so imported models compute what they computed.
    """

    beta: Array
    threshold: ArrayLike
    graded_spikes_factor: ArrayLike
    spike_fn: SurrogateSpike
    reset_mechanism: ResetMode = eqx.field(static=True)
    reset_delay: bool = eqx.field(static=True)
    inhibition: bool = eqx.field(static=True)
    state_quant: StateQuant | None

    def __init__(
        self,
        beta: ArrayLike,
        *,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        reset_mechanism: ResetMode = "subtract",
        reset_delay: bool = True,
        graded_spikes_factor: ArrayLike = 1.0,
        inhibition: bool = False,
        state_quant: StateQuant | None = None,
    ):
        """**Arguments:**

        - ``beta``: membrane decay, scalar or per-neuron array (trainable).
        - ``threshold``, ``graded_spikes_factor``: floats are fixed, arrays trained.
        - ``spike_fn``: surrogate (default ``atan(alpha=2)``, snnTorch's default).
        - ``reset_mechanism``: ``"subtract"`` (default), ``"zero"`` or ``"none"``.
        - ``reset_delay``: snnTorch's flag (default True: reset one step later).
        - ``inhibition``: only the largest membrane of the layer spikes (snnTorch's
          ``fire_inhibition``); needs a vector state ``(features,)``.
        - ``state_quant``: None, or a function quantising the states after each update
          (e.g. ``snnax_torchlike.functional.quant.state_quant(num_bits=4)``).
        """
        check_reset_mode(reset_mechanism, layer="Leaky", name="reset_mechanism")
        if spike_fn is None:
            spike_fn = atan(2.0)
        self.beta = as_float_array(beta, layer="Leaky", name="beta")
        self.threshold = as_hyperparameter(threshold, layer="Leaky", name="threshold")
        self.graded_spikes_factor = as_hyperparameter(graded_spikes_factor, layer="Leaky", name="graded_spikes_factor")
        self.spike_fn = check_spike_fn(spike_fn, layer="Leaky")
        self.reset_mechanism = reset_mechanism
        self.reset_delay = bool(reset_delay)
        self.inhibition = bool(inhibition)
        self.state_quant = check_state_quant(state_quant, layer=type(self).__name__)

    def _fire_options(self) -> dict:
        """``inhibition`` and ``state_quant``, as the snnTorch update functions take them."""
        return dict(inhibition=self.inhibition, state_quant=self.state_quant)

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> Array:
        """The membrane ``0`` of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer=type(self).__name__)
        check_param_shapes(self, shape, ("beta", "threshold", "graded_spikes_factor"))
        if self.inhibition:
            check_inhibition_shape(shape, layer=type(self).__name__, batched=False)
        return jnp.zeros(shape)

    def __call__(self, state: Array, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[Array, Array]:
        check_input(x, state.shape, layer="Leaky")
        spk, mem = leaky_update(
            x,
            state,
            beta=self.beta,
            threshold=self.threshold,
            graded_spikes_factor=self.graded_spikes_factor,
            spike_fn=self.spike_fn,
            reset_mechanism=self.reset_mechanism,
            reset_delay=self.reset_delay,
            **self._fire_options(),
        )
        return mem, spk

    def scan_sequence(self, state: Array, xs: Array) -> tuple[Array, Array, Array] | None:
        """The whole sequence with a hand-written backward pass that keeps only the membranes.

        Same values and gradients as stepping. Taken for one-dimensional states (a
        layer of neurons after a Linear); None, so the model steps, for feature maps,
        for ``reset_delay=False``, ``inhibition``, ``state_quant`` and for subclasses
        with their own step.
        """
        if type(self).__call__ is not Leaky.__call__ or not self.reset_delay:
            return None  # a subclass with its own step (Synaptic, RLeaky, ...), or the same-step reset
        if self.inhibition or self.state_quant is not None:
            return None  # the kernel computes plain spikes
        if state.ndim != 1:
            # Feature maps keep stepping: the whole-sequence kernel pays off for vectors of neurons, and on
            # feature maps it measures level with stepping (docs/performance.md).
            return None
        check_input(xs[0], state.shape, layer="Leaky")
        return leaky_sequence(state, xs, beta=self.beta, threshold=self.threshold,
                              graded_spikes_factor=self.graded_spikes_factor, spike_fn=self.spike_fn,
                              reset_mechanism=self.reset_mechanism)  # fmt: skip
