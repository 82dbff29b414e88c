"""snnTorch's time-parallel `StateLeaky`: the membrane as a causal convolution of the inputs with an exponential."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .._stateful import StatefulLayer
from ..checks import positive_int
from ..surrogate import SurrogateSpike, atan
from ._base import (
    as_float_array,
    as_hyperparameter,
    check_input,
    check_param_shapes,
    check_shape_argument,
    check_spike_fn,
)
from ._decay_convolution import causal_decay_convolution


def check_truncation(kernel_truncation_steps: int | None, *, layer: str) -> int | None:
    """``kernel_truncation_steps`` as an int >= 1 or None, or a ValueError naming ``layer``."""
    if kernel_truncation_steps is None:
        return None
    return positive_int(layer, "kernel_truncation_steps", kernel_truncation_steps, meaning="or None: no truncation")


def state_leaky_tau(beta: ArrayLike) -> Array:
    r"""snnTorch's time constant of a ``StateLeaky`` with decay ``beta``: $\tau = 1 / (1 - \beta + 10^{-12})$.

    Computed in ``beta``'s precision (float32: the ``1e-12`` is below its resolution
    near 1, as in snnTorch). **Returns:** ``tau``, ``beta``'s shape.
    """
    beta = as_float_array(beta, layer="state_leaky_tau", name="beta")
    return 1 / (1 - beta + 1e-12)


def state_leaky_kernel(tau: ArrayLike, steps: int, *, first: int = 0) -> Array:
    r"""The filter taps $e^{-k/\tau}$ for $k$ = ``first``, ..., ``first + steps - 1``.

    snnTorch's literal form: the decay per step is $e^{-1/\tau}$ (0.9048 for
    $\beta = 0.9$), not $\beta$. **Returns:** ``[steps, *tau.shape]``.
    """
    tau = jnp.asarray(tau)
    lags = jnp.arange(first, first + steps).reshape((steps,) + (1,) * tau.ndim)
    return jnp.exp(-lags / tau)


def state_leaky_membrane(xs: Array, tau: ArrayLike, kernel_truncation_steps: int | None = None) -> Array:
    r"""The membrane of snnTorch 1.0's ``StateLeaky`` over a whole sequence, from rest.

    $$m_t = \sum_{k=0}^{\min(t,\,K-1)} e^{-k/\tau}\, x_{t-k}$$

    with $K$ = ``kernel_truncation_steps`` (None: the whole sequence). No reset:
    spikes never feed back.

    **Arguments:** ``xs``: inputs, time first ``[T, *shape]``; ``tau``: the time
    constant, a scalar or an array broadcasting against ``shape`` (one per channel:
    ``[C]`` for ``shape = (B, C)``); ``kernel_truncation_steps``: None or an int >= 1.

    **Returns:** the membranes, ``[T, *shape]``.
    """
    steps = xs.shape[0]
    taps = steps if kernel_truncation_steps is None else min(kernel_truncation_steps, steps)
    return causal_decay_convolution(xs, state_leaky_kernel(tau, taps))


def state_leaky_spikes(
    mem: Array, *, threshold: ArrayLike, graded_spikes_factor: ArrayLike, spike_fn: SurrogateSpike
) -> Array:
    r"""``StateLeaky``'s spikes: $H(m - \theta)\, g^2$.

    snnTorch 1.0 scales them by the graded spikes factor $g$ twice, in ``fire`` and
    again in ``forward`` (``StateLeaky`` and ``LinearLeaky`` alike).
    """
    return spike_fn(mem - threshold) * graded_spikes_factor * graded_spikes_factor


class StateLeakyState(NamedTuple):
    """State of [`StateLeaky`][] after a step: its membrane and the inputs its truncated filter still sees."""

    mem: Array
    """The membrane at the last step, ``[*shape]``."""
    recent: Array
    """The last ``K - 1`` inputs, oldest first, ``[K - 1, *shape]`` (``[0, *shape]`` without truncation)."""


class StateLeaky(StatefulLayer):
    r"""snnTorch's ``StateLeaky`` as a stateful layer (see [`state_leaky_membrane`][]).

    State: [`StateLeakyState`][]. Output: the spikes $H(m - \theta)\, g^2$ (see
    [`state_leaky_spikes`][]), or the membrane with ``output=False``.

    Over a whole sequence (``scan_sequence``, which models take when they run layer
    by layer) the membrane is snnTorch's convolution. The step-by-step form (graphs
    with delays, ``layerwise=False``) equals it up to float rounding: with a
    truncated filter it keeps the last $K-1$ inputs, without one it runs the
    recurrence $m_t = e^{-1/\tau} m_{t-1} + x_t$.
    """

    tau: Array
    threshold: ArrayLike
    graded_spikes_factor: ArrayLike
    spike_fn: SurrogateSpike
    output: bool = eqx.field(static=True)
    kernel_truncation_steps: int | None = eqx.field(static=True)

    def __init__(
        self,
        tau: ArrayLike,
        *,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        graded_spikes_factor: ArrayLike = 1.0,
        output: bool = True,
        kernel_truncation_steps: int | None = None,
    ):
        """**Arguments:**

        - ``tau``: the time constant, scalar or per neuron (trainable); from a decay
          use [`state_leaky_tau`][] (``tau = state_leaky_tau(beta)``).
        - ``threshold``, ``graded_spikes_factor``: floats are fixed, arrays trained.
        - ``spike_fn``: surrogate (default ``atan(alpha=2)``, snnTorch's default).
        - ``output``: output the spikes (True) or the membrane (False).
        - ``kernel_truncation_steps``: None (the filter spans every step so far) or
          ``K >= 1``: only the ``K`` most recent inputs count.
        """
        name = type(self).__name__
        self.kernel_truncation_steps = check_truncation(kernel_truncation_steps, layer=name)
        self.tau = as_float_array(tau, layer=name, name="tau")
        self.threshold = as_hyperparameter(threshold, layer=name, name="threshold")
        self.graded_spikes_factor = as_hyperparameter(graded_spikes_factor, layer=name, name="graded_spikes_factor")
        self.spike_fn = check_spike_fn(atan(2.0) if spike_fn is None else spike_fn, layer=name)
        self.output = bool(output)

    def _history_length(self) -> int:
        return 0 if self.kernel_truncation_steps is None else self.kernel_truncation_steps - 1

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> StateLeakyState:
        """``mem = 0`` of ``shape`` and no past inputs (zeros ``[K - 1, *shape]``).

        Raises ``ValueError`` unless each parameter is a scalar or has ``shape``'s rank, each axis 1 or full.
        """
        shape = check_shape_argument(shape, layer=type(self).__name__)
        check_param_shapes(self, shape, ("tau", "threshold", "graded_spikes_factor"))
        return StateLeakyState(jnp.zeros(shape), jnp.zeros((self._history_length(), *shape)))

    def _output(self, mem: Array) -> Array:
        if not self.output:
            return mem
        return state_leaky_spikes(mem, threshold=self.threshold, graded_spikes_factor=self.graded_spikes_factor,
                                  spike_fn=self.spike_fn)  # fmt: skip

    def __call__(
        self, state: StateLeakyState, x: Array, *, key: PRNGKeyArray | None = None
    ) -> tuple[StateLeakyState, Array]:
        check_input(x, state.mem.shape, layer=type(self).__name__)
        if self.kernel_truncation_steps is None:
            mem = state_leaky_kernel(self.tau, 1, first=1)[0] * state.mem + x
            return StateLeakyState(mem, state.recent), self._output(mem)
        taps = state_leaky_kernel(self.tau, self.kernel_truncation_steps)
        mem = causal_decay_convolution(x[None], taps, history=state.recent)[0]
        recent = jnp.concatenate([state.recent, x[None]])[1:]
        return StateLeakyState(mem, recent), self._output(mem)

    def scan_sequence(self, state: StateLeakyState, xs: Array) -> tuple[StateLeakyState, Array, StateLeakyState]:
        """The whole sequence as snnTorch's convolution, continued from ``state`` (from rest: snnTorch's own)."""
        check_input(xs[0], state.mem.shape, layer=type(self).__name__)
        steps = xs.shape[0]
        if self.kernel_truncation_steps is None:
            # What came before decays on: sum_j e^{-(t+1+j)/tau} x_{-1-j} = e^{-(t+1)/tau} m_{-1}.
            tau = jnp.broadcast_to(self.tau, state.mem.shape)
            carried = state_leaky_kernel(tau, steps, first=1) * state.mem
            mems = state_leaky_membrane(xs, self.tau) + carried
            recents = jnp.broadcast_to(state.recent, (steps, *state.recent.shape))
        else:
            taps = state_leaky_kernel(self.tau, self.kernel_truncation_steps)
            mems = causal_decay_convolution(xs, taps, history=state.recent)
            inputs = jnp.concatenate([state.recent, xs])
            length = self._history_length()
            recents = jax.vmap(lambda t: jax.lax.dynamic_slice_in_dim(inputs, t + 1, length, 0))(jnp.arange(steps))
        states = StateLeakyState(mems, recents)
        return StateLeakyState(mems[-1], recents[-1]), self._output(mems), states
