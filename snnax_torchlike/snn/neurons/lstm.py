"""snnTorch's spiking LSTMs (`snntorch.SLSTM`, `snntorch.SConv2dLSTM`), reproduced operation for operation."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

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
    check_param_shapes,
    check_reset_mode,
    check_shape_argument,
    check_spike_fn,
)
from ._snntorch_reset import reset_from_previous_spike

Cell = Callable[[Array, Array, Array], tuple[Array, Array]]
"""An LSTM cell: ``(x, h, c) -> (h, c)``."""


class LSTMState(NamedTuple):
    """State of the spiking LSTMs: cell state ``syn`` ($c$) and hidden state ``mem`` ($h$, before the reset)."""

    syn: Array
    mem: Array


def _gated(i: Array, f: Array, g: Array, o: Array, c: Array) -> tuple[Array, Array]:
    """The LSTM state update from the gates' pre-activations: ``(h, c)``."""
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    return jax.nn.sigmoid(o) * jnp.tanh(c), c


def lstm_cell(
    x: Array, h: Array, c: Array, *, weight_ih: Array, weight_hh: Array, bias_ih: Array | None, bias_hh: Array | None
) -> tuple[Array, Array]:
    r"""One step of ``torch.nn.LSTMCell``; returns ``(h, c)``.

    $$[i, f, g, o] = (x W_{ih}^T + b_{ih}) + (h W_{hh}^T + b_{hh}),$$
    $$c' = \sigma(f)\, c + \sigma(i) \tanh g,\qquad h' = \sigma(o) \tanh c'$$

    (torch's gate order i, f, g, o along the ``4H`` axis).

    **Arguments:** ``x`` ``[..., I]``; ``h``, ``c`` ``[..., H]``; ``weight_ih``
    ``[4H, I]``, ``weight_hh`` ``[4H, H]``, ``bias_ih``/``bias_hh`` ``[4H]`` or None.

    **Returns:** ``(h, c)``, each ``[..., H]``.
    """
    from_input = x @ weight_ih.T
    from_hidden = h @ weight_hh.T
    if bias_ih is not None:
        from_input = from_input + bias_ih
    if bias_hh is not None:
        from_hidden = from_hidden + bias_hh
    i, f, g, o = jnp.split(from_input + from_hidden, 4, axis=-1)
    return _gated(i, f, g, o, c)


def conv_lstm_cell(x: Array, h: Array, c: Array, *, conv: Callable[[Array], Array]) -> tuple[Array, Array]:
    r"""One step of snnTorch's convolutional LSTM cell; returns ``(h, c)``.

    ``conv`` maps the channel concatenation ``[x, h]`` to ``4 C`` channels, split in
    snnTorch's gate order **i, f, o, g** (not LSTMCell's i, f, g, o); then
    $c' = \sigma(f)\, c + \sigma(i) \tanh g$ and $h' = \sigma(o) \tanh c'$.

    **Arguments:** ``x`` ``[..., C_in, H, W]``; ``h``, ``c`` ``[..., C, H, W]``;
    ``conv``: ``[..., C_in + C, H, W] -> [..., 4 C, H, W]`` (padded to keep ``H, W``).

    **Returns:** ``(h, c)``, each ``[..., C, H, W]``.
    """
    i, f, o, g = jnp.split(conv(jnp.concatenate([x, h], axis=-3)), 4, axis=-3)
    return _gated(i, f, g, o, c)


def spiking_lstm_update(
    x: Array,
    syn: Array,
    mem: Array,
    *,
    cell: Cell,
    threshold: ArrayLike,
    graded_spikes_factor: ArrayLike,
    spike_fn: SurrogateSpike,
    reset_mechanism: ResetMode,
    pool: Callable[[Array], Array] | None = None,
) -> tuple[Array, Array, Array]:
    r"""One step of snnTorch 1.0's ``SLSTM``/``SConv2dLSTM``; returns ``(spk, syn, mem)``.

    With $R = \mathrm{sg}(H(m_{t-1} - \theta))$, the previous hidden state's spike:

    $$m', c_t = \mathrm{cell}(x_t, m_{t-1}, c_{t-1}),$$

    then subtract $m_t = m' - R\theta$, zero $m_t = m' - R\, m'$, none $m_t = m'$
    (the cell state is never reset), and $s_t = H(\mathrm{pool}(m_t) - \theta)\, g$.
    The reset hidden state is what the next step's cell reads.

    **Arguments:** ``x``: the input; ``syn``, ``mem``: the cell's ``c`` and ``h``;
    ``cell``: ``(x, h, c) -> (h, c)`` ([`lstm_cell`][] or [`conv_lstm_cell`][]);
    ``pool``: applied to the hidden state before the threshold only (the state
    keeps its resolution), or None.
    """
    reset = jax.lax.stop_gradient(spike_fn(mem - threshold))
    mem, syn = cell(x, mem, syn)
    mem = reset_from_previous_spike(mem, reset, threshold, reset_mechanism)
    spk = spike_fn((mem if pool is None else pool(mem)) - threshold) * graded_spikes_factor
    return spk, syn, mem


def slstm_state_is_kept(input_size: int, hidden_size: int) -> bool:
    """Whether snnTorch 1.0's ``SLSTM`` carries its state from one step to the next.

    snnTorch compares the state's shape with the *input's* (``[B, input_size]``)
    instead of ``[B, hidden_size]`` and replaces a mismatch with zeros, so when the
    sizes differ every step starts from zero state: the layer is a stateless LSTM.
    """
    return input_size == hidden_size


def slstm_update(
    x: Array,
    syn: Array,
    mem: Array,
    *,
    weight_ih: Array,
    weight_hh: Array,
    bias_ih: Array | None,
    bias_hh: Array | None,
    threshold: ArrayLike,
    graded_spikes_factor: ArrayLike,
    spike_fn: SurrogateSpike,
    reset_mechanism: ResetMode,
) -> tuple[Array, Array, Array]:
    """One step of snnTorch 1.0's ``SLSTM``; returns ``(spk, syn, mem)``.

    [`spiking_lstm_update`][] with [`lstm_cell`][] (weights as there), on any
    leading axes (``x`` ``[..., I]``, states ``[..., H]``). When ``I != H`` the
    state is replaced by zeros first, as snnTorch does (see [`slstm_state_is_kept`][]).
    """
    if not slstm_state_is_kept(weight_ih.shape[1], weight_hh.shape[1]):
        syn, mem = jnp.zeros_like(syn), jnp.zeros_like(mem)
    cell = functools.partial(lstm_cell, weight_ih=weight_ih, weight_hh=weight_hh, bias_ih=bias_ih, bias_hh=bias_hh)
    return spiking_lstm_update(x, syn, mem, cell=cell, threshold=threshold, graded_spikes_factor=graded_spikes_factor,
                               spike_fn=spike_fn, reset_mechanism=reset_mechanism)  # fmt: skip


def sconv2dlstm_update(
    x: Array,
    syn: Array,
    mem: Array,
    *,
    conv: Callable[[Array], Array],
    pool: Callable[[Array], Array] | None,
    threshold: ArrayLike,
    graded_spikes_factor: ArrayLike,
    spike_fn: SurrogateSpike,
    reset_mechanism: ResetMode,
) -> tuple[Array, Array, Array]:
    """One step of snnTorch 1.0's ``SConv2dLSTM``; returns ``(spk, syn, mem)``.

    [`spiking_lstm_update`][] with [`conv_lstm_cell`][] (``conv`` as there) and
    ``pool`` on the spikes' side only, on any leading axes (``x`` ``[..., C_in, H, W]``,
    states ``[..., C, H, W]``).
    """
    cell = functools.partial(conv_lstm_cell, conv=conv)
    return spiking_lstm_update(x, syn, mem, cell=cell, threshold=threshold, graded_spikes_factor=graded_spikes_factor,
                               spike_fn=spike_fn, reset_mechanism=reset_mechanism, pool=pool)  # fmt: skip


class _SpikingLSTM(StatefulLayer):
    """Threshold, spike function and reset of the spiking LSTMs."""

    threshold: ArrayLike
    graded_spikes_factor: ArrayLike
    spike_fn: SurrogateSpike
    reset_mechanism: ResetMode = eqx.field(static=True)

    def _init_neuron(
        self, threshold: ArrayLike, spike_fn: SurrogateSpike | None, reset_mechanism: ResetMode,
        graded_spikes_factor: ArrayLike,
    ) -> None:  # fmt: skip
        name = type(self).__name__
        check_reset_mode(reset_mechanism, layer=name, name="reset_mechanism")
        self.threshold = as_hyperparameter(threshold, layer=name, name="threshold")
        self.graded_spikes_factor = as_hyperparameter(graded_spikes_factor, layer=name, name="graded_spikes_factor")
        self.spike_fn = check_spike_fn(atan(2.0) if spike_fn is None else spike_fn, layer=name)
        self.reset_mechanism = reset_mechanism

    def _neuron_arguments(self) -> dict:
        return dict(threshold=self.threshold, graded_spikes_factor=self.graded_spikes_factor,
                    spike_fn=self.spike_fn, reset_mechanism=self.reset_mechanism)  # fmt: skip

    def _refuse_input(self, x: Array, expected: str) -> None:
        got = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ValueError(
            f"{type(self).__name__}: expected one sample's input of shape {expected} (the shape given to "
            f"init_state; batch with jax.vmap), got {got}."
        )


class SLSTM(_SpikingLSTM):
    r"""snnTorch's ``SLSTM`` as a stateful layer: a ``torch.nn.LSTMCell`` whose hidden state spikes.

    See [`slstm_update`][]. Input: one sample ``[input_size]``; state
    [`LSTMState`][] ``[hidden_size]`` each; output: the spikes ``[hidden_size]``.

    **snnTorch 1.0's state bug, reproduced:** when ``input_size != hidden_size``
    the state is zeroed before every step (see [`slstm_state_is_kept`][]), so
    imported models compute what they computed in snnTorch.
    """

    weight_ih: Array
    weight_hh: Array
    bias_ih: Array | None
    bias_hh: Array | None

    def __init__(
        self,
        weight_ih: ArrayLike,
        weight_hh: ArrayLike,
        bias_ih: ArrayLike | None = None,
        bias_hh: ArrayLike | None = None,
        *,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        reset_mechanism: ResetMode = "none",
        graded_spikes_factor: ArrayLike = 1.0,
    ):
        """**Arguments:**

        - ``weight_ih`` ``[4H, I]``, ``weight_hh`` ``[4H, H]``, ``bias_ih``/``bias_hh``
          ``[4H]`` or None: torch's ``LSTMCell`` parameters (gate order i, f, g, o).
        - ``threshold``, ``graded_spikes_factor``: floats are fixed, arrays trained.
        - ``spike_fn``: surrogate (default ``atan(alpha=2)``, snnTorch's default).
        - ``reset_mechanism``: ``"none"`` (snnTorch's default here), ``"subtract"`` or ``"zero"``.
        """
        name = type(self).__name__
        self._init_neuron(threshold, spike_fn, reset_mechanism, graded_spikes_factor)
        self.weight_ih = as_float_array(weight_ih, layer=name, name="weight_ih")
        self.weight_hh = as_float_array(weight_hh, layer=name, name="weight_hh")
        self.bias_ih = None if bias_ih is None else as_float_array(bias_ih, layer=name, name="bias_ih")
        self.bias_hh = None if bias_hh is None else as_float_array(bias_hh, layer=name, name="bias_hh")
        gates = self.weight_hh.shape[0] if self.weight_hh.ndim == 2 else None
        shapes_fit = (
            gates is not None
            and self.weight_hh.shape == (gates, gates // 4) and gates % 4 == 0
            and self.weight_ih.ndim == 2 and self.weight_ih.shape[0] == gates
            and all(b is None or b.shape == (gates,) for b in (self.bias_ih, self.bias_hh))
        )  # fmt: skip
        if not shapes_fit:
            raise ValueError(
                f"{name}: expected weight_ih [4H, I], weight_hh [4H, H] and biases [4H]; got weight_ih "
                f"{self.weight_ih.shape}, weight_hh {self.weight_hh.shape}, bias_ih "
                f"{None if self.bias_ih is None else self.bias_ih.shape}, bias_hh "
                f"{None if self.bias_hh is None else self.bias_hh.shape}."
            )

    @property
    def input_size(self) -> int:
        """The number of input features ``I`` (from ``weight_ih`` ``[4H, I]``)."""
        return self.weight_ih.shape[1]

    @property
    def hidden_size(self) -> int:
        """The number of hidden units ``H`` (from ``weight_hh`` ``[4H, H]``)."""
        return self.weight_hh.shape[1]

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> LSTMState:
        """``syn = mem = 0`` ``[hidden_size]`` for inputs of ``shape`` ``(input_size,)`` (one sample, one step)."""
        shape = check_shape_argument(shape, layer=type(self).__name__)
        if shape != (self.input_size,):
            raise ValueError(f"{type(self).__name__}: expected an input shape ({self.input_size},), got {shape}.")
        state_shape = (self.hidden_size,)
        check_param_shapes(self, state_shape, ("threshold", "graded_spikes_factor"))
        return LSTMState(jnp.zeros(state_shape), jnp.zeros(state_shape))

    def __call__(self, state: LSTMState, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[LSTMState, Array]:
        if getattr(x, "shape", None) != (self.input_size,):
            self._refuse_input(x, f"({self.input_size},)")
        spk, syn, mem = slstm_update(
            x, state.syn, state.mem, weight_ih=self.weight_ih, weight_hh=self.weight_hh, bias_ih=self.bias_ih,
            bias_hh=self.bias_hh, **self._neuron_arguments(),
        )  # fmt: skip
        return LSTMState(syn, mem), spk


class SConv2dLSTM(_SpikingLSTM):
    r"""snnTorch's ``SConv2dLSTM`` as a stateful layer: a convolutional LSTM whose hidden state spikes.

    See [`sconv2dlstm_update`][]. Input: one sample ``[C_in, H, W]``; state
    [`LSTMState`][] ``[C, H, W]`` each; output: the spikes, ``pool``-ed when a pool
    is given (``[C, H / p, W / p]``).
    """

    conv: Callable[[Array], Array]
    pool: Callable[[Array], Array] | None
    out_channels: int = eqx.field(static=True)

    def __init__(
        self,
        conv: Callable[[Array], Array],
        out_channels: int,
        pool: Callable[[Array], Array] | None = None,
        *,
        threshold: ArrayLike = 1.0,
        spike_fn: SurrogateSpike | None = None,
        reset_mechanism: ResetMode = "none",
        graded_spikes_factor: ArrayLike = 1.0,
    ):
        """**Arguments:**

        - ``conv``: a padded convolution ``[C_in + C, H, W] -> [4 C, H, W]`` that keeps
          ``H, W`` (e.g. the facade ``Conv2d``'s ``core_layer()``), gates in order i, f, o, g.
        - ``out_channels``: ``C``, the channels of the state.
        - ``pool``: pooling of the hidden state before the threshold, or None.
        - ``threshold``, ``graded_spikes_factor``, ``spike_fn``, ``reset_mechanism``: as [`SLSTM`][].
        """
        self._init_neuron(threshold, spike_fn, reset_mechanism, graded_spikes_factor)
        self.conv = conv
        self.pool = pool
        self.out_channels = int(out_channels)

    def init_state(self, shape: Sequence[int], key: PRNGKeyArray | None = None) -> LSTMState:
        """``syn = mem = 0`` ``[out_channels, H, W]``, for inputs of ``shape`` ``(C_in, H, W)`` (one sample)."""
        shape = check_shape_argument(shape, layer=type(self).__name__)
        if len(shape) != 3:
            raise ValueError(f"{type(self).__name__}: expected an input shape (C_in, H, W), got {shape}.")
        state_shape = (self.out_channels, *shape[1:])
        stacked = jax.ShapeDtypeStruct((shape[0] + self.out_channels, *shape[1:]), jnp.float32)
        gates = jax.eval_shape(self.conv, stacked)
        if gates.shape != (4 * self.out_channels, *shape[1:]):
            raise ValueError(
                f"{type(self).__name__}: the convolution must map the {shape[0]} + {self.out_channels} channels of "
                f"[x, h] to {(4 * self.out_channels, *shape[1:])} (4 gates, same height and width), got {gates.shape}."
            )
        check_param_shapes(self, state_shape, ("threshold", "graded_spikes_factor"))
        return LSTMState(jnp.zeros(state_shape), jnp.zeros(state_shape))

    def __call__(self, state: LSTMState, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[LSTMState, Array]:
        if getattr(x, "ndim", None) != 3 or x.shape[1:] != state.mem.shape[1:]:
            self._refuse_input(x, f"(C_in, {', '.join(map(str, state.mem.shape[1:]))})")
        spk, syn, mem = sconv2dlstm_update(
            x, state.syn, state.mem, conv=self.conv, pool=self.pool, **self._neuron_arguments()
        )
        return LSTMState(syn, mem), spk
