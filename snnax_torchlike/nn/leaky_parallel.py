"""snnTorch's `LeakyParallel`: a leaky layer run over the whole sequence by torch's ReLU `nn.RNN`, as a facade layer."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .. import snn
from ..random import next_key
from ..snn.checks import positive_int
from ..snn.neurons.snntorch_fire import snntorch_fire
from ..snn.surrogate import SurrogateSpike
from .module import Module, Parameter, to_array
from .neuron import array_of, register_value, resolve_spike_grad


class _ReluRNN(Module):
    """torch's single-layer ``nn.RNN(nonlinearity="relu", batch_first=False)``: its parameters and its call.

    Parameters ``weight_ih_l0`` ``[H, I]``, ``weight_hh_l0`` ``[H, H]``, ``bias_ih_l0``,
    ``bias_hh_l0`` ``[H]`` (torch's names), initialised ``U(-1/sqrt(H), 1/sqrt(H))``.
    ``diagonal_gradient``: only the diagonal of ``weight_hh_l0`` gets a gradient
    (snnTorch's hook). **Call:** ``input`` ``[T, B, I]`` or ``[T, I]``, ``hx``
    ``[1, B, H]`` (``[1, H]``) or None for zeros. **Returns:** ``(output, h_n)``:
    every step's ``h`` and the last one, ``[1, ...]``, as torch's.
    """

    records_as_node = True

    def __init__(self, input_size: int, hidden_size: int, bias: bool):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.diagonal_gradient = False
        shapes = {"weight_ih_l0": (hidden_size, input_size), "weight_hh_l0": (hidden_size, hidden_size)}
        if bias:
            shapes.update(bias_ih_l0=(hidden_size,), bias_hh_l0=(hidden_size,))
        sizes = [math.prod(shape) for shape in shapes.values()]
        bound = 1.0 / math.sqrt(hidden_size)
        # One draw sliced on the host: a draw per array would compile a sampler per shape.
        draw = np.asarray(jax.random.uniform(next_key(), (sum(sizes),), minval=-bound, maxval=bound))
        for (name, shape), value in zip(shapes.items(), np.split(draw, np.cumsum(sizes)[:-1])):
            setattr(self, name, Parameter(value.reshape(shape)))
        if not bias:
            self.register_parameter("bias_ih_l0", None)
            self.register_parameter("bias_hh_l0", None)

    def weights(self) -> dict[str, Array | None]:
        """The arrays as keyword arguments of [`snnax_torchlike.snn.leaky_parallel_membrane`][]."""
        names = {"weight_ih": "weight_ih_l0", "weight_hh": "weight_hh_l0", "bias_ih": "bias_ih_l0",
                 "bias_hh": "bias_hh_l0"}  # fmt: skip
        return {key: None if getattr(self, name) is None else getattr(self, name).data for key, name in names.items()}

    def forward(self, input: Any, hx: Any = None) -> tuple[Array, Array]:
        x = to_array(input)
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"LeakyParallel: expected an input [T, B, {self.input_size}] or [T, {self.input_size}] (time first), "
                f"got shape {tuple(x.shape)}."
            )
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise TypeError(f"LeakyParallel: expected a floating-point input, got dtype {x.dtype}.")
        initial = None
        if hx is not None:
            initial = to_array(hx)
            expected = (1, *x.shape[1:-1], self.hidden_size)
            if initial.shape != expected:
                raise ValueError(f"LeakyParallel: hx must have shape {expected}, got {tuple(initial.shape)}.")
            initial = initial[0]
        output = snn.leaky_parallel_membrane(x, **self.weights(), initial=initial,
                                             diagonal_gradient=self.diagonal_gradient)  # fmt: skip
        return output, output[-1:]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, nonlinearity='relu', bias={self.bias_ih_l0 is not None}"


class LeakyParallel(Module):
    r"""snnTorch 1.0's ``LeakyParallel``: a layer of leaky neurons run over the whole sequence by a ReLU RNN.

    ``spk = lif(x)`` for ``x`` ``[T, B, input_size]`` or ``[T, input_size]`` (time
    first) returns the spikes only, ``[T, B, hidden_size]`` (``[T, hidden_size]``):

    $$h_t = \mathrm{relu}\big((W_{ih} x_t + b_{ih}) + (W_{hh} h_{t-1} + b_{hh})\big),\ h_{-1} = 0,
    \qquad s_t = H(h_t - \theta)\, g$$

    (torch's ``nn.RNN(nonlinearity="relu")``, held as ``rnn``; equations:
    [`snnax_torchlike.snn.leaky_parallel_membrane`][]). As in snnTorch, spikes never
    reset $h$, there is no state between calls, and ``beta`` only initialises
    ``rnn.weight_hh_l0``: clamped to [0, 1] and written into every entry, then
    (``weight_hh_enable=False``, the default) kept on the diagonal only, so
    $W_{hh} = \beta I$. ``beta=None`` keeps torch's random initialisation (diagonal
    only, unless ``weight_hh_enable``). ``learn_beta`` trains ``rnn.weight_hh_l0``
    (its diagonal only, unless ``weight_hh_enable``); without it the matrix is frozen.
    ``beta`` itself stays a buffer the forward pass never reads.

    **A vector beta does not set the weights**, as in snnTorch 1.0 (an upstream bug,
    fixed after 1.0 by snnTorch's PR #441): ``rnn.weight_hh_l0`` keeps its random
    initialisation. This is reproduced, so checkpoints of 1.0 load and run alike,
    with a warning; set ``rnn.weight_hh_l0`` yourself (e.g. to ``diag(beta)``) for
    per-neuron decays.

    ``dropout`` has no effect (torch's ``nn.RNN`` drops out between stacked layers and
    there is one; torch warns, and so does this). ``device`` is accepted (JAX places
    arrays); ``dtype`` only as float32. ``spike_grad`` defaults to snnTorch's
    ``atan(alpha=2)``; ``surrogate_disable=True`` spikes without gradient (giving both
    raises). A 0-dim array ``beta`` works as a scalar (snnTorch raises a TypeError).

    ``state_dict`` (snnTorch's names and order): ``beta`` (``[1]``; absent when None),
    ``threshold``, ``graded_spikes_factor`` (parameters first when learnt), then
    ``rnn.weight_ih_l0``, ``rnn.weight_hh_l0``, ``rnn.bias_ih_l0``, ``rnn.bias_hh_l0``.
    Inside ``nn.Sequential`` it runs per sample over the whole sequence and gives spikes.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        beta: ArrayLike | None = None,
        bias: bool = True,
        threshold: ArrayLike = 1.0,
        dropout: float = 0.0,
        spike_grad: SurrogateSpike | None = None,
        surrogate_disable: bool = False,
        learn_beta: bool = False,
        learn_threshold: bool = False,
        graded_spikes_factor: ArrayLike = 1.0,
        learn_graded_spikes_factor: bool = False,
        weight_hh_enable: bool = False,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        name = type(self).__name__
        input_size = positive_int(name, "input_size", input_size)
        hidden_size = positive_int(name, "hidden_size", hidden_size)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}.")
        if dropout > 0:
            warnings.warn(
                f"{name}: dropout={dropout} has no effect: torch's nn.RNN applies dropout between stacked layers "
                f"and LeakyParallel's has one (snnTorch passes it on unchanged).",
                UserWarning,
                stacklevel=2,
            )
        self.spike_grad = resolve_spike_grad(name, spike_grad, surrogate_disable)
        self.surrogate_disable = bool(surrogate_disable)
        self.input_size, self.hidden_size = input_size, hidden_size
        self.rnn = _ReluRNN(input_size, hidden_size, bool(bias))
        self._init_beta(beta)
        if not weight_hh_enable:
            self.weight_hh_enable()
        self.rnn.weight_hh_l0.requires_grad = bool(learn_beta)
        self.rnn.diagonal_gradient = bool(learn_beta) and not weight_hh_enable
        register_value(self, "threshold", threshold, learn_threshold)
        register_value(self, "graded_spikes_factor", graded_spikes_factor, learn_graded_spikes_factor)
        # Module.to accepts devices and refuses dtypes other than float32, as it does for any layer.
        self.to(*(value for value in (device, dtype) if value is not None))

    def _init_beta(self, beta: ArrayLike | None) -> None:
        """Register the buffer ``beta`` and fill ``rnn.weight_hh_l0`` with it, as snnTorch 1.0 does."""
        if beta is None:
            self.register_buffer("beta", None)
        else:
            array = to_array(beta).astype(jnp.float32)
            if isinstance(beta, (numbers.Real, np.generic)):  # snnTorch: torch.as_tensor([beta])
                array = array.reshape(1)
            array = jnp.clip(array, 0.0, 1.0)
            self.register_buffer("beta", array)
            if array.size == 1:
                self.rnn.weight_hh_l0.data = jnp.full_like(self.rnn.weight_hh_l0.data, array.reshape(()))
            else:
                warnings.warn(
                    f"{type(self).__name__}: a beta of shape {tuple(array.shape)} does not initialise "
                    f"rnn.weight_hh_l0, which keeps its random values, as in snnTorch 1.0 (a bug fixed after 1.0 "
                    f"by snnTorch's PR #441). Set rnn.weight_hh_l0 yourself (e.g. to diag(beta)) for per-neuron "
                    f"decays.",
                    UserWarning,
                    stacklevel=3,
                )

    def weight_hh_enable(self) -> None:
        """Keep only the diagonal of ``rnn.weight_hh_l0``, as snnTorch's method of this name.

        The constructor calls it unless ``weight_hh_enable=True`` (snnTorch's naming:
        the method masks, the argument keeps the dense matrix).
        """
        weight_hh = self.rnn.weight_hh_l0.data
        self.rnn.weight_hh_l0.data = weight_hh * jnp.eye(self.hidden_size, dtype=weight_hh.dtype)

    def core_layer(self) -> snn.LeakyParallel:
        """The layer as a pure core layer over the current arrays (per sample: inputs ``(input_size,)``)."""
        return snn.LeakyParallel(**self.rnn.weights(), threshold=array_of(self, "threshold"),
                                 graded_spikes_factor=array_of(self, "graded_spikes_factor"), spike_fn=self.spike_grad,
                                 diagonal_gradient=self.rnn.diagonal_gradient)  # fmt: skip

    def forward(self, input_: Any) -> Array:
        """``spk = lif(input_)``: the spikes of every step, ``[T, B, hidden_size]`` (or ``[T, hidden_size]``)."""
        mem = self.rnn.forward(input_)[0]
        graded = array_of(self, "graded_spikes_factor")
        return snntorch_fire(mem, threshold=array_of(self, "threshold"), graded_spikes_factor=graded,
                             spike_fn=self.spike_grad)  # fmt: skip

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: ``input_size, hidden_size``."""
        return f"{self.input_size}, {self.hidden_size}"
