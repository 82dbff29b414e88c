"""snnTorch's `LeakyParallel`: torch's ReLU ``nn.RNN`` whose hidden state, the membrane, spikes (no reset)."""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .._stateful import StatefulLayer
from ..surrogate import SurrogateSpike, atan
from ._base import as_float_array, as_hyperparameter, check_param_shapes, check_shape_argument, check_spike_fn
from .snntorch_fire import snntorch_fire


def _train_diagonal_only(weight_hh: Array) -> Array:
    """``weight_hh`` itself, whose gradient keeps only the diagonal (snnTorch's gradient hook)."""
    eye = jnp.eye(weight_hh.shape[0], dtype=weight_hh.dtype)
    return weight_hh * eye + jax.lax.stop_gradient(weight_hh * (1 - eye))


def _rnn_step(h: Array, projected: Array, weight_hh: Array, bias_hh: Array | None) -> Array:
    """``relu(projected + (h W_hh^T + b_hh))``, torch's ReLU RNN cell after its input projection."""
    recurrent = h @ weight_hh.T
    if bias_hh is not None:
        recurrent = recurrent + bias_hh
    return jax.nn.relu(projected + recurrent)


def _project(x: Array, weight_ih: Array, bias_ih: Array | None) -> Array:
    projected = x @ weight_ih.T
    return projected if bias_ih is None else projected + bias_ih


def leaky_parallel_membrane(
    xs: Array,
    *,
    weight_ih: Array,
    weight_hh: Array,
    bias_ih: Array | None,
    bias_hh: Array | None,
    initial: Array | None = None,
    diagonal_gradient: bool = False,
) -> Array:
    r"""The membranes of snnTorch's ``LeakyParallel`` (torch's ``nn.RNN(nonlinearity="relu")``) over a sequence.

    $$h_t = \mathrm{relu}\big((W_{ih} x_t + b_{ih}) + (W_{hh} h_{t-1} + b_{hh})\big),\qquad h_{-1} = 0,$$

    the input projection of every step in one product, then a ``lax.scan`` over time
    (the ReLU keeps this from being an associative scan for general $W_{hh}$). No
    reset: the spikes never act on $h$.

    **Arguments:**

    - ``xs``: inputs ``[T, ..., I]`` (``[T, B, I]`` or ``[T, I]``).
    - ``weight_ih`` ``[H, I]``, ``weight_hh`` ``[H, H]``, ``bias_ih``/``bias_hh`` ``[H]``
      or None: torch's ``weight_ih_l0``, ... .
    - ``initial``: ``h_{-1}``, ``[..., H]``; None for zeros (snnTorch's).
    - ``diagonal_gradient``: differentiate only the diagonal of ``weight_hh``
      (snnTorch's gradient hook when ``learn_beta`` without ``weight_hh_enable``).

    **Returns:** $h$, ``[T, ..., H]``.
    """
    if diagonal_gradient:
        weight_hh = _train_diagonal_only(weight_hh)
    projected = _project(xs, weight_ih, bias_ih)
    if initial is None:
        initial = jnp.zeros(projected.shape[1:], projected.dtype)

    def step(h: Array, u: Array) -> tuple[Array, Array]:
        h = _rnn_step(h, u, weight_hh, bias_hh)
        return h, h

    return jax.lax.scan(step, initial, projected)[1]


class LeakyParallel(StatefulLayer):
    """snnTorch's ``LeakyParallel`` as a stateful layer (see [`leaky_parallel_membrane`][]).

    State: the membrane $h$ ``(H,)`` for inputs ``(I,)``. Output: the spikes
    $H(h - \\theta)\\, g$. Over a whole sequence (``scan_sequence``) the input
    projection runs for every step at once, as torch's RNN does.
    """

    weight_ih: Array
    weight_hh: Array
    bias_ih: Array | None
    bias_hh: Array | None
    threshold: ArrayLike
    graded_spikes_factor: ArrayLike
    spike_fn: SurrogateSpike
    diagonal_gradient: bool = eqx.field(static=True)

    def __init__(
        self,
        weight_ih: ArrayLike,
        weight_hh: ArrayLike,
        bias_ih: ArrayLike | None = None,
        bias_hh: ArrayLike | None = None,
        *,
        threshold: ArrayLike = 1.0,
        graded_spikes_factor: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        diagonal_gradient: bool = False,
    ):
        """**Arguments:** the RNN's arrays (torch's layout: ``weight_ih`` ``[H, I]``,
        ``weight_hh`` ``[H, H]``, biases ``[H]`` or None), ``threshold``,
        ``graded_spikes_factor``, ``spike_fn`` (default ``atan(alpha=2)``, snnTorch's),
        ``diagonal_gradient``: see [`leaky_parallel_membrane`][]."""
        name = type(self).__name__
        self.weight_ih = as_float_array(weight_ih, layer=name, name="weight_ih")
        self.weight_hh = as_float_array(weight_hh, layer=name, name="weight_hh")
        hidden, _ = self.weight_ih.shape if self.weight_ih.ndim == 2 else (None, None)
        if hidden is None or self.weight_hh.shape != (hidden, hidden):
            raise ValueError(
                f"{name}: expected weight_ih [H, I] and weight_hh [H, H], got {self.weight_ih.shape} and "
                f"{self.weight_hh.shape}."
            )
        biases = {"bias_ih": bias_ih, "bias_hh": bias_hh}
        for key, value in biases.items():
            array = None if value is None else as_float_array(value, layer=name, name=key)
            if array is not None and array.shape != (hidden,):
                raise ValueError(f"{name}: {key} must have shape ({hidden},), got {array.shape}.")
            setattr(self, key, array)
        self.threshold = as_hyperparameter(threshold, layer=name, name="threshold")
        self.graded_spikes_factor = as_hyperparameter(graded_spikes_factor, layer=name, name="graded_spikes_factor")
        self.spike_fn = check_spike_fn(atan(2.0) if spike_fn is None else spike_fn, layer=name)
        self.diagonal_gradient = bool(diagonal_gradient)

    def _spikes(self, mem: Array) -> Array:
        return snntorch_fire(mem, threshold=self.threshold, graded_spikes_factor=self.graded_spikes_factor,
                             spike_fn=self.spike_fn)  # fmt: skip

    def _check(self, shape: tuple[int, ...]) -> None:
        inputs = self.weight_ih.shape[1]
        if shape != (inputs,):
            raise ValueError(f"{type(self).__name__}: expected one sample's input of shape ({inputs},), got {shape}.")

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> Array:
        """The hidden state ``0`` ``[hidden_size]`` for inputs of ``shape`` ``(input_size,)`` (one sample, one step)."""
        shape = check_shape_argument(shape, layer=type(self).__name__)
        self._check(shape)
        hidden = (self.weight_hh.shape[0],)
        check_param_shapes(self, hidden, ("threshold", "graded_spikes_factor"))
        return jnp.zeros(hidden)

    def __call__(self, state: Array, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[Array, Array]:
        self._check(tuple(x.shape))
        weight_hh = _train_diagonal_only(self.weight_hh) if self.diagonal_gradient else self.weight_hh
        mem = _rnn_step(state, _project(x, self.weight_ih, self.bias_ih), weight_hh, self.bias_hh)
        return mem, self._spikes(mem)

    def scan_sequence(self, state: Array, xs: Array) -> tuple[Array, Array, Array]:
        """The whole sequence: one input projection, then the recurrence (equal to stepping ``__call__``)."""
        self._check(tuple(xs.shape[1:]))
        mems = leaky_parallel_membrane(xs, weight_ih=self.weight_ih, weight_hh=self.weight_hh, bias_ih=self.bias_ih,
                                       bias_hh=self.bias_hh, initial=state,
                                       diagonal_gradient=self.diagonal_gradient)  # fmt: skip
        return mems[-1], self._spikes(mems), mems
