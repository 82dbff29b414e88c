"""Leaky integrate-and-fire neurons: first order, current based, adaptive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from ..surrogate import SurrogateSpike
from ._base import (
    DecayParameterisation,
    ResetMode,
    SpikingNeuron,
    as_hyperparameter,
    check_input,
    check_shape_argument,
    encode_decay,
    resolve_decays,
)


class SimpleLIF(SpikingNeuron):
    r"""First-order leaky integrate-and-fire neuron.

    Per step, with decay $\beta$ and input gain $c$ ($1$, or $1-\beta$ when
    ``scale_input``):

    $$v' = \beta\, v_{t-1} + c\, x_t,\qquad s_t = H(v' - \theta),\qquad v_t = \mathrm{reset}(v', s_t)$$

    State: the membrane ``v`` (post-reset). Output: the spikes ``s_t``.
    """

    decay: Array
    scale_input: bool = eqx.field(static=True)

    def __init__(
        self,
        decay_constants: ArrayLike | Sequence[ArrayLike],
        *,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        reset: ResetMode = "zero",
        stop_reset_grad: bool = True,
        scale_input: bool = False,
        decay_parameterisation: DecayParameterisation = "direct",
    ):
        """**Arguments:**

        - ``decay_constants``: the membrane decay $\\beta$: a scalar, a per-neuron
          array, or SNNAX's one-element list ``[beta]``. Trainable.
        - ``threshold``: firing threshold $\\theta$; a JAX array makes it trainable.
        - ``spike_fn``: the surrogate spike function (default ``superspike()``).
        - ``reset``: ``"zero"`` (default, as SNNAX), ``"subtract"`` or ``"none"``.
        - ``stop_reset_grad``: stop the gradient through the reset (default True).
        - ``scale_input``: multiply the input by $1 - \\beta$ (SNNAX's convention).
        - ``decay_parameterisation``: ``"direct"`` (the decay itself is trained,
          never clamped) or ``"sigmoid"`` (its logit is trained, keeping it in (0, 1)).
        """
        self._init_common(threshold, spike_fn, reset, stop_reset_grad, decay_parameterisation)
        (decay,) = resolve_decays("SimpleLIF", ["decay"], decay_constants, {})
        self.decay = encode_decay(decay, decay_parameterisation, layer="SimpleLIF", name="decay")
        self.scale_input = scale_input

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> Array:
        """The membrane ``0`` of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer="SimpleLIF")
        self._check_params(shape, "decay")
        return jnp.zeros(shape)

    def __call__(self, state: Array, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[Array, Array]:
        check_input(x, state.shape, layer="SimpleLIF")
        beta = self._decay(self.decay)
        gain = 1.0 - beta if self.scale_input else 1.0
        v, s = self._fire_and_reset(beta * state + gain * x)
        return v, s


class CurrentBasedLIFState(NamedTuple):
    """State of [`CurrentBasedLIF`][]: membrane ``v`` and synaptic current ``i``."""

    v: Array
    i: Array


class CurrentBasedLIF(SpikingNeuron):
    r"""Current-based (second-order) leaky integrate-and-fire neuron: a membrane and a synaptic current, two decays.

    Per step, with membrane decay $\beta$, synaptic decay $\alpha$ and input gains
    $c_\alpha, c_\beta$ ($1$, or $1-\alpha$ and $1-\beta$ when ``scale_input``):

    $$i_t = \alpha\, i_{t-1} + c_\alpha x_t,\qquad v' = \beta\, v_{t-1} + c_\beta\, i_t,$$
    $$s_t = H(v' - \theta),\qquad v_t = \mathrm{reset}(v', s_t)$$

    The membrane sees this step's current (no hidden one-step synaptic delay,
    unlike SNNAX). The synaptic current is not reset. SNNAX calls this neuron
    ``LIF``; here ``LIF`` is NIR's first-order neuron (``nn.LIF``).
    """

    mem_decay: Array
    syn_decay: Array
    scale_input: bool = eqx.field(static=True)

    def __init__(
        self,
        decay_constants: Sequence[ArrayLike] | ArrayLike | None = None,
        *,
        mem_decay: ArrayLike | None = None,
        syn_decay: ArrayLike | None = None,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        reset: ResetMode = "zero",
        stop_reset_grad: bool = True,
        scale_input: bool = False,
        decay_parameterisation: DecayParameterisation = "direct",
    ):
        """**Arguments:**

        - ``decay_constants``: ``[mem_decay, syn_decay]`` as in SNNAX (membrane
          first); each a scalar or per-neuron array. Or pass ``mem_decay=`` and
          ``syn_decay=`` by name. Trainable.
        - ``threshold``, ``spike_fn``, ``reset`` (default ``"zero"``),
          ``stop_reset_grad``, ``scale_input``, ``decay_parameterisation``: as in
          [`SimpleLIF`][].
        """
        name = type(self).__name__
        self._init_common(threshold, spike_fn, reset, stop_reset_grad, decay_parameterisation)
        beta, alpha = resolve_decays(
            name, ["mem_decay", "syn_decay"], decay_constants, {"mem_decay": mem_decay, "syn_decay": syn_decay}
        )
        self.mem_decay = encode_decay(beta, decay_parameterisation, layer=name, name="mem_decay")
        self.syn_decay = encode_decay(alpha, decay_parameterisation, layer=name, name="syn_decay")
        self.scale_input = scale_input

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> CurrentBasedLIFState:
        """``v = i = 0``, each of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer=type(self).__name__)
        self._check_params(shape, "mem_decay", "syn_decay")
        return CurrentBasedLIFState(jnp.zeros(shape), jnp.zeros(shape))

    def __call__(
        self, state: CurrentBasedLIFState, x: Array, *, key: PRNGKeyArray | None = None
    ) -> tuple[CurrentBasedLIFState, Array]:
        check_input(x, state.v.shape, layer=type(self).__name__)
        beta = self._decay(self.mem_decay)
        alpha = self._decay(self.syn_decay)
        syn_gain, mem_gain = (1.0 - alpha, 1.0 - beta) if self.scale_input else (1.0, 1.0)
        i = alpha * state.i + syn_gain * x
        v, s = self._fire_and_reset(beta * state.v + mem_gain * i)
        return CurrentBasedLIFState(v, i), s


class CurrentBasedLIFSoftReset(CurrentBasedLIF):
    r"""[`CurrentBasedLIF`][] with the reset fixed to subtraction ("soft reset").

    $$v_t = v' - \theta\, s_t$$

    Takes every argument of [`CurrentBasedLIF`][] except ``reset``.
    """

    def __init__(self, decay_constants: Sequence[ArrayLike] | ArrayLike | None = None, **kwargs):
        if "reset" in kwargs:
            raise TypeError(
                "CurrentBasedLIFSoftReset: the reset is always 'subtract'; use CurrentBasedLIF(reset=...) for another."
            )
        super().__init__(decay_constants, reset="subtract", **kwargs)


class AdaptiveLIFState(NamedTuple):
    """State of [`AdaptiveLIF`][]: membrane ``v`` and adaptation current ``w``."""

    v: Array
    w: Array


class AdaptiveLIF(SpikingNeuron):
    r"""Leaky integrate-and-fire neuron with an adaptation current.

    With membrane decay $\beta$, adaptation decay $\rho$, subthreshold coupling
    $a$ and spike-triggered jump $b$ (input gain $c$ as in [`SimpleLIF`][]):

    $$v' = \beta\, v_{t-1} + c\,(x_t - w_{t-1}),\qquad s_t = H(v' - \theta),\qquad v_t = \mathrm{reset}(v', s_t),$$
    $$w_t = \rho\, w_{t-1} + (1-\rho)\, a\, v' + b\, s_t$$

    With $a = 0$, $b > 0$ this is spike-frequency adaptation: each spike raises
    $w$, which is subtracted from later input.
    """

    mem_decay: Array
    adapt_decay: Array
    coupling: ArrayLike
    jump: ArrayLike
    scale_input: bool = eqx.field(static=True)

    def __init__(
        self,
        decay_constants: Sequence[ArrayLike] | ArrayLike | None = None,
        *,
        mem_decay: ArrayLike | None = None,
        adapt_decay: ArrayLike | None = None,
        coupling: ArrayLike = 0.0,
        jump: ArrayLike = 0.5,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        reset: ResetMode = "subtract",
        stop_reset_grad: bool = True,
        scale_input: bool = False,
        decay_parameterisation: DecayParameterisation = "direct",
    ):
        """**Arguments:**

        - ``decay_constants``: ``[mem_decay, adapt_decay]``, or pass them by name.
        - ``coupling``: subthreshold coupling $a$ of ``w`` to the membrane (default 0).
        - ``jump``: increase $b$ of ``w`` per spike (default 0.5).
          ``coupling``/``jump`` given as JAX arrays are trained; floats are fixed.
        - the rest as in [`SimpleLIF`][]; the reset defaults to ``"subtract"``.
        """
        self._init_common(threshold, spike_fn, reset, stop_reset_grad, decay_parameterisation)
        beta, rho = resolve_decays(
            "AdaptiveLIF",
            ["mem_decay", "adapt_decay"],
            decay_constants,
            {"mem_decay": mem_decay, "adapt_decay": adapt_decay},
        )
        self.mem_decay = encode_decay(beta, decay_parameterisation, layer="AdaptiveLIF", name="mem_decay")
        self.adapt_decay = encode_decay(rho, decay_parameterisation, layer="AdaptiveLIF", name="adapt_decay")
        self.coupling = as_hyperparameter(coupling, layer="AdaptiveLIF", name="coupling")
        self.jump = as_hyperparameter(jump, layer="AdaptiveLIF", name="jump")
        self.scale_input = scale_input

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> AdaptiveLIFState:
        """``v = w = 0``, each of ``shape`` (one sample, one step).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer="AdaptiveLIF")
        self._check_params(shape, "mem_decay", "adapt_decay", "coupling", "jump")
        return AdaptiveLIFState(jnp.zeros(shape), jnp.zeros(shape))

    def __call__(
        self, state: AdaptiveLIFState, x: Array, *, key: PRNGKeyArray | None = None
    ) -> tuple[AdaptiveLIFState, Array]:
        check_input(x, state.v.shape, layer="AdaptiveLIF")
        beta = self._decay(self.mem_decay)
        rho = self._decay(self.adapt_decay)
        gain = 1.0 - beta if self.scale_input else 1.0
        v_pre = beta * state.v + gain * (x - state.w)
        v, s = self._fire_and_reset(v_pre)
        w = rho * state.w + (1.0 - rho) * self.coupling * v_pre + self.jump * s
        return AdaptiveLIFState(v, w), s
