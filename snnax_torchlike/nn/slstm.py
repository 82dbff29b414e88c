"""snnTorch's spiking LSTMs `SLSTM` and `SConv2dLSTM` as facade layers."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Unpack

import jax.numpy as jnp
from jaxtyping import Array

from .. import snn
from .conv import Conv2d, _tuple
from .lstm import LSTMCell
from .module import to_array
from .neuron import SnnTorchNeuron, SpikingOptions, initial_state
from .pooling import AvgPool2d, MaxPool2d


class _SpikingLSTM(SnnTorchNeuron):
    """What ``SLSTM`` and ``SConv2dLSTM`` share: the states ``syn`` (the cell's ``c``) and ``mem`` (its ``h``),
    which have the layer's size rather than the input's. Subclasses give ``_state_shape`` and ``_step``."""

    _state_names = ("syn", "mem")
    _state_outputs = (1, 2)
    _options_not_taken = frozenset({"graded_spikes_factor", "learn_graded_spikes_factor", "reset_delay"})
    _changed_defaults = {"reset_mechanism": "none"}

    def _state_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of ``syn`` and ``mem`` for inputs of ``input_shape``, or a clear error for a wrong input."""
        raise NotImplementedError

    def _step(self, x: Array, syn: Array, mem: Array) -> tuple[Array, Array, Array]:
        """One step of the core update on full-shaped states: ``(spk, syn, mem)``."""
        raise NotImplementedError

    def reset_mem(self) -> tuple[Array, Array]:
        """Initial ``(syn, mem)``: scalar zeros that broadcast to the state's shape on the first step."""
        self.reset_hidden()
        return initial_state(), initial_state()

    def _initial_state(self, state: Any, shape: tuple[int, ...], stored: bool) -> Any:
        return super()._initial_state(state, self._state_shape(shape), stored)

    def _spike_arguments(self) -> dict[str, Any]:
        arguments = self._neuron_arguments()  # no reset_delay: snnTorch's LSTMs reset from the previous spike
        return {**arguments, "threshold": to_array(arguments["threshold"]),
                "graded_spikes_factor": to_array(arguments["graded_spikes_factor"])}  # fmt: skip

    def _full_state(self, state: Any, shape: tuple[int, ...], name: str) -> Array:
        if state is None:
            return jnp.zeros(shape)
        state = to_array(state)
        if state.shape == ():
            return jnp.broadcast_to(state.astype(jnp.float32), shape)
        if state.shape != shape:
            raise ValueError(
                f"{type(self).__name__}: {name} has shape {tuple(state.shape)}, expected {shape}; pass the state "
                f"returned by the previous step (or reset_mem()'s)."
            )
        return state

    def forward(self, input_: Any, syn: Any = None, mem: Any = None) -> tuple[Array, Array, Array]:
        """One step: ``spk, syn, mem = lstm(input_, syn, mem)``."""
        x = to_array(input_)
        shape = self._state_shape(tuple(x.shape))
        syn = self._full_state(syn, shape, "the synaptic current (cell state) syn")
        mem = self._full_state(mem, shape, "the membrane (hidden state) mem")
        return self._step(x, syn, mem)


class SLSTM(_SpikingLSTM):
    r"""``snntorch.SLSTM``: a ``torch.nn.LSTMCell`` whose hidden state spikes.

    ``mem`` is the LSTM's hidden state $h$ and ``syn`` its cell state $c$; each step
    runs the cell from the (reset) previous ``mem`` and fires ``H(mem - threshold)``
    (equations: [`snnax_torchlike.snn.slstm_update`][]). Since $|h| < 1$, a spike needs
    ``threshold < 1``. ``reset_mechanism`` defaults to ``"none"``; ``"subtract"`` and
    ``"zero"`` reset ``mem`` only, from the previous step's spike. Step by step:

    ```python
    syn, mem = lstm.reset_mem()          # or init_slstm()
    spk, syn, mem = lstm(x[t], syn, mem) # x[t]: [B, input_size]; states [B, hidden_size]
    ```

    ``state_dict``: ``threshold``, ``graded_spikes_factor``, ``reset_mechanism_val``,
    ``lstm_cell.weight_ih`` ``[4H, I]``, ``lstm_cell.weight_hh`` ``[4H, H]``,
    ``lstm_cell.bias_ih``, ``lstm_cell.bias_hh`` ``[4H]`` (snnTorch's names).

    **snnTorch 1.0's state bug, reproduced.** snnTorch compares the state's shape with
    the *input's* and replaces a mismatch with zeros, so when ``input_size !=
    hidden_size`` every step starts from zero state: the layer is a stateless LSTM
    (verified against snnTorch). This layer does the same, so imported models compute
    what they computed, and warns at construction. For a recurrent layer, put a
    ``Linear(input_size, hidden_size)`` before an ``SLSTM(hidden_size, hidden_size)``.

    **Differs:** a passed state of the wrong shape raises (snnTorch silently zeroes it);
    input must be ``[B, input_size]``. Not supported: ``inhibition``, ``state_quant``.

    **Arguments:** ``input_size``, ``hidden_size``, ``bias``, then, by keyword, the
    [`SpikingOptions`][snnax_torchlike.nn.neuron.SpikingOptions] but the graded spikes
    and ``reset_delay`` (snnTorch's SLSTM has none).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, **options: Unpack[SpikingOptions]):
        super().__init__(**options)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        self.lstm_cell = LSTMCell(input_size, hidden_size, bias=bias)
        if not snn.slstm_state_is_kept(self.input_size, self.hidden_size):
            warnings.warn(
                f"SLSTM(input_size={input_size}, hidden_size={hidden_size}): snnTorch 1.0 compares the state with "
                f"the input's shape, so with input_size != hidden_size the state is zeroed before every step (a "
                f"stateless LSTM). Reproduced for parity; for a recurrent layer use Linear({input_size}, "
                f"{hidden_size}) followed by SLSTM({hidden_size}, {hidden_size}).",
                UserWarning,
                stacklevel=2,
            )

    def init_slstm(self) -> tuple[Array, Array]:
        """``reset_mem()``'s deprecated name in snnTorch: initial ``(syn, mem)``."""
        return self.reset_mem()

    def core_layer(self) -> snn.SLSTM:
        """The neuron as a pure core layer over the current arrays."""
        return snn.SLSTM(**self.lstm_cell.weights(), **self._spike_arguments())

    def _state_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 2 or input_shape[1] != self.input_size:
            raise ValueError(f"SLSTM: expected input [B, {self.input_size}], got shape {input_shape}.")
        return (input_shape[0], self.hidden_size)

    def _step(self, x: Array, syn: Array, mem: Array) -> tuple[Array, Array, Array]:
        return snn.slstm_update(x, syn, mem, **self.lstm_cell.weights(), **self._spike_arguments())

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: ``input_size, hidden_size``, ``bias`` and ``reset_mechanism``."""
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}, reset_mechanism={self.reset_mechanism!r}"


class SConv2dLSTM(_SpikingLSTM):
    r"""``snntorch.SConv2dLSTM``: a convolutional LSTM whose hidden state spikes.

    One ``Conv2d(in_channels + out_channels, 4 * out_channels, kernel_size,
    padding=kernel_size // 2)`` over ``[x, mem]`` gives the gates in snnTorch's order
    i, f, o, g (equations: [`snnax_torchlike.snn.sconv2dlstm_update`][]).
    ``max_pool`` or ``avg_pool`` (a window, stride = window) pools ``mem`` before the
    threshold; the states keep the input's height and width. Step by step:

    ```python
    syn, mem = lstm.reset_mem()          # or init_sconv2dlstm()
    spk, syn, mem = lstm(x[t], syn, mem) # x[t]: [B, C_in, H, W]; states [B, C_out, H, W]
    ```

    ``state_dict``: ``threshold``, ``graded_spikes_factor``, ``reset_mechanism_val``,
    ``conv.weight`` ``[4 C_out, C_in + C_out, kh, kw]``, ``conv.bias`` (snnTorch's names).

    **Differs:** an even ``kernel_size`` is refused (snnTorch pads ``k // 2``, which
    grows the gates by a pixel and fails at the first step); a passed state of the wrong
    shape raises (snnTorch silently zeroes it). Not supported: ``inhibition``,
    ``state_quant``.

    **Arguments:** ``in_channels`` to ``avg_pool`` as above, then, by keyword, the
    [`SpikingOptions`][snnax_torchlike.nn.neuron.SpikingOptions] but the graded spikes
    and ``reset_delay`` (snnTorch's SConv2dLSTM has none).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        bias: bool = True,
        max_pool: int | Sequence[int] = 0,
        avg_pool: int | Sequence[int] = 0,
        **options: Unpack[SpikingOptions],
    ):
        super().__init__(**options)
        if max_pool and avg_pool:
            raise ValueError(
                f"SConv2dLSTM: give max_pool or avg_pool, not both (got max_pool={max_pool}, avg_pool={avg_pool})."
            )
        kernel = _tuple(kernel_size, 2, layer="SConv2dLSTM", name="kernel_size")
        if any(k % 2 == 0 for k in kernel):
            raise ValueError(
                f"SConv2dLSTM: kernel_size must be odd, got {kernel_size!r}: with snnTorch's padding k // 2 an even "
                f"kernel changes the height and width of the state."
            )
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = kernel_size
        self.max_pool = max_pool
        self.avg_pool = avg_pool
        self.bias = bool(bias)
        self.padding = (kernel[0] // 2, kernel[1] // 2)
        for name, window in (("max_pool", max_pool), ("avg_pool", avg_pool)):
            if window:
                _tuple(window, 2, layer="SConv2dLSTM", name=name)
        self.conv = Conv2d(in_channels + out_channels, 4 * out_channels, kernel, padding=self.padding, bias=bias)

    def init_sconv2dlstm(self) -> tuple[Array, Array]:
        """``reset_mem()``'s deprecated name in snnTorch: initial ``(syn, mem)``."""
        return self.reset_mem()

    def _pool(self) -> Callable[[Array], Array] | None:
        if self.max_pool:
            return MaxPool2d(self.max_pool).core_layer()
        if self.avg_pool:
            return AvgPool2d(self.avg_pool).core_layer()
        return None

    def core_layer(self) -> snn.SConv2dLSTM:
        """The neuron as a pure core layer over the current arrays."""
        return snn.SConv2dLSTM(self.conv.core_layer(), self.out_channels, self._pool(), **self._spike_arguments())

    def _state_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 4 or input_shape[1] != self.in_channels:
            raise ValueError(f"SConv2dLSTM: expected input [B, {self.in_channels}, H, W], got shape {input_shape}.")
        return (input_shape[0], self.out_channels, *input_shape[2:])

    def _step(self, x: Array, syn: Array, mem: Array) -> tuple[Array, Array, Array]:
        return snn.sconv2dlstm_update(x, syn, mem, conv=self.conv.core_layer(), pool=self._pool(),
                                      **self._spike_arguments())  # fmt: skip

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: the sizes, ``bias``, the pooling and ``reset_mechanism``."""
        pool = f", max_pool={self.max_pool}" if self.max_pool else ""
        pool += f", avg_pool={self.avg_pool}" if self.avg_pool else ""
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, bias={self.bias}{pool}, "
            f"reset_mechanism={self.reset_mechanism!r}"
        )
