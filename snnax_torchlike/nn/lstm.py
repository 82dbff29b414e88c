"""`LSTMCell` with torch's constructor, parameter names and initialisation."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from .. import snn
from ..random import next_key
from .module import Module, Parameter, to_array


class LSTMCell(Module):
    r"""One step of an LSTM, like ``torch.nn.LSTMCell``: ``h, c = cell(x, (h, c))``.

    Equations: [`snnax_torchlike.snn.lstm_cell`][] (torch's gate order i, f, g, o).
    Parameters ``weight_ih`` ``[4H, I]``, ``weight_hh`` ``[4H, H]``, ``bias_ih`` and
    ``bias_hh`` ``[4H]`` (torch's names), all initialised ``U(-1/sqrt(H), 1/sqrt(H))``
    from ``snnax_torchlike.random`` (``manual_seed``) unless ``key`` is given.

    **Call:** ``input`` ``[B, I]`` or ``[I]``; ``hx`` a pair ``(h, c)`` of that
    batch shape with ``H`` features, or None for zeros. **Returns:** ``(h, c)``.
    """

    records_as_node = True

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, key: PRNGKeyArray | None = None):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"LSTMCell: sizes must be >= 1, got input_size={input_size}, hidden_size={hidden_size}.")
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        bound = 1.0 / math.sqrt(hidden_size)
        shapes = {"weight_ih": (4 * hidden_size, input_size), "weight_hh": (4 * hidden_size, hidden_size)}
        if bias:
            shapes.update(bias_ih=(4 * hidden_size,), bias_hh=(4 * hidden_size,))
        sizes = [math.prod(shape) for shape in shapes.values()]
        # One draw sliced on the host: a draw per array would compile a sampler per shape.
        draw = jax.random.uniform(next_key() if key is None else key, (sum(sizes),), minval=-bound, maxval=bound)
        values = np.split(np.asarray(draw), np.cumsum(sizes)[:-1])
        for (name, shape), value in zip(shapes.items(), values):
            setattr(self, name, Parameter(value.reshape(shape)))
        if not bias:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def weights(self) -> dict[str, Array | None]:
        """The parameters as arrays, keyword arguments of [`snnax_torchlike.snn.lstm_cell`][]."""
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return {name: None if getattr(self, name) is None else getattr(self, name).data for name in names}

    def forward(self, input: Any, hx: tuple[Any, Any] | None = None) -> tuple[Array, Array]:
        """One step: ``(h, c)`` from ``input`` ``[B, I]`` (or ``[I]``) and ``hx = (h, c)`` (None: zeros)."""
        x = to_array(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"LSTMCell: expected input [B, {self.input_size}] or [{self.input_size}], got {x.shape}.")
        shape = x.shape[:-1] + (self.hidden_size,)
        h, c = (jnp.zeros(shape), jnp.zeros(shape)) if hx is None else (to_array(hx[0]), to_array(hx[1]))
        if h.shape != shape or c.shape != shape:
            raise ValueError(f"LSTMCell: expected hx = (h, c) of shape {shape}, got {h.shape} and {c.shape}.")
        return snn.lstm_cell(x, h, c, **self.weights())

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``, as torch's: ``input_size, hidden_size`` and ``bias=False`` if so."""
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
