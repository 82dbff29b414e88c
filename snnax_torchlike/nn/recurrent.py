"""snnTorch's recurrent neurons `RLeaky` and `RSynaptic` as facade layers."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import snn
from ..snn.surrogate import SurrogateSpike
from ._neuron import SnnTorchNeuron, initial_state, shared_options
from .linear import Linear
from .module import Module, Parameter, to_array


class _OneToOne(Module):
    """snnTorch's one-to-one recurrence module: holds ``V`` (shared with the neuron's ``V``)."""

    def __init__(self, v: Parameter | Array):
        super().__init__()
        if isinstance(v, Parameter):
            self.V = v
        else:
            self.register_buffer("V", v)


class RLeaky(SnnTorchNeuron):
    r"""``snntorch.RLeaky``: a leaky neuron that feeds its own previous spikes back.

    All-to-all (default): ``recurrent`` is an ``nn.Linear(F, F)`` (keys
    ``recurrent.weight``, ``recurrent.bias``; pass ``linear_features=F``). One-to-one
    (``all_to_all=False``): spikes scaled by ``V``, stored under ``V`` and
    ``recurrent.V`` like snnTorch. Equations: [`snnax_torchlike.snn.rleaky_update`][].
    Step by step: ``spk, mem = lif.init_rleaky(); spk, mem = lif(x, spk, mem)``.

    Not supported: convolutional recurrence (``conv2d_channels``) and
    ``reset_delay=False``; both raise.
    """

    _state_names = ("spk", "mem")
    _state_outputs = (0, 1)

    def __init__(
        self,
        beta: ArrayLike,
        V: ArrayLike = 1.0,
        all_to_all: bool = True,
        linear_features: int | None = None,
        conv2d_channels: int | None = None,
        kernel_size: int | None = None,
        threshold: ArrayLike = 1.0,
        spike_grad: SurrogateSpike | None = None,
        surrogate_disable: bool = False,
        init_hidden: bool = False,
        inhibition: bool = False,
        learn_beta: bool = False,
        learn_threshold: bool = False,
        learn_recurrent: bool = True,
        reset_mechanism: str = "subtract",
        state_quant: Any = False,
        output: bool = False,
        reset_delay: bool = True,
    ):
        super().__init__(**shared_options(locals()))
        name = type(self).__name__
        if conv2d_channels is not None or kernel_size is not None:
            raise ValueError(
                f"{name}: convolutional recurrence (conv2d_channels) is not supported; use linear_features."
            )
        if not reset_delay:
            raise ValueError(f"{name}: reset_delay=False is not supported (snnTorch's RSynaptic ignores it).")
        self._register("beta", beta, learn_beta)
        if all_to_all:
            if linear_features is None:
                raise ValueError(f"{name}: all_to_all=True needs linear_features (the layer's size).")
            self.recurrent = Linear(linear_features, linear_features)
            for param in self.recurrent.parameters():
                param.requires_grad = bool(learn_recurrent)
        else:
            v = to_array(V).astype(jnp.float32)
            if learn_recurrent:
                self.V = Parameter(v)
                self.recurrent = _OneToOne(self.V)
            else:
                self.register_buffer("V", v)
                self.recurrent = _OneToOne(v)
        self.all_to_all = bool(all_to_all)

    def _recurrence(self) -> dict[str, Any]:
        if self.all_to_all:
            bias = self.recurrent.bias
            return dict(weight=self.recurrent.weight.data, bias=None if bias is None else bias.data, v=None)
        return dict(weight=None, bias=None, v=self._value("V"))

    def _spikes(self, x: Array, spk: Any) -> Array:
        spk = jnp.zeros(()) if spk is None else to_array(spk)
        self._check_state(x, spk, "the previous spikes")
        return jnp.broadcast_to(spk, x.shape)  # the scalar from init_rleaky becomes zeros of x's shape

    def init_rleaky(self) -> tuple[Array, Array]:
        """Initial ``(spk, mem)``: scalar zeros that broadcast on the first step."""
        self.reset_hidden()
        return initial_state(), initial_state()

    reset_mem = init_rleaky

    def _core_arguments(self) -> dict[str, Any]:
        recurrence = self._recurrence()
        return dict(
            recurrent_weight=recurrence["weight"], recurrent_bias=recurrence["bias"], V=recurrence["v"],
            threshold=self._value("threshold"), spike_fn=self.spike_grad, reset_mechanism=self.reset_mechanism,
            graded_spikes_factor=self._value("graded_spikes_factor"),
        )  # fmt: skip

    def core_layer(self) -> snn.RLeaky:
        return snn.RLeaky(self._value("beta"), **self._core_arguments())

    def _update_arguments(self) -> dict[str, Any]:
        arguments = self._neuron_arguments()
        del arguments["reset_delay"]
        return {**arguments, **self._recurrence()}

    def forward(self, input_: Any, spk: Any = None, mem: Any = None) -> tuple[Array, Array]:
        """One step: ``spk, mem = lif(input_, spk, mem)``."""
        x = to_array(input_)
        mem = jnp.zeros(()) if mem is None else to_array(mem)
        self._check_state(x, mem, "the membrane")
        return snn.rleaky_update(x, self._spikes(x, spk), mem, beta=self._value("beta"), **self._update_arguments())


class RSynaptic(RLeaky):
    """``snntorch.RSynaptic``: [`RLeaky`][]'s recurrence into a synaptic current with decay ``alpha``.

    Step by step: ``spk, syn, mem = lif.init_rsynaptic(); spk, syn, mem = lif(x, spk, syn, mem)``.
    """

    _state_names = ("spk", "syn", "mem")
    _state_outputs = (0, 1, 2)

    def __init__(self, alpha: ArrayLike, beta: ArrayLike, *args: Any, learn_alpha: bool = False, **kwargs: Any):
        super().__init__(beta, *args, **kwargs)
        self._register("alpha", alpha, learn_alpha)

    def init_rsynaptic(self) -> tuple[Array, Array, Array]:
        """Initial ``(spk, syn, mem)``: scalar zeros that broadcast on the first step."""
        self.reset_hidden()
        return initial_state(), initial_state(), initial_state()

    reset_mem = init_rsynaptic

    def core_layer(self) -> snn.RSynaptic:
        return snn.RSynaptic(self._value("alpha"), self._value("beta"), **self._core_arguments())

    def forward(self, input_: Any, spk: Any = None, syn: Any = None, mem: Any = None) -> tuple[Array, Array, Array]:
        """One step: ``spk, syn, mem = lif(input_, spk, syn, mem)``."""
        x = to_array(input_)
        syn = jnp.zeros(()) if syn is None else to_array(syn)
        mem = jnp.zeros(()) if mem is None else to_array(mem)
        self._check_state(x, syn, "the synaptic current")
        self._check_state(x, mem, "the membrane")
        return snn.rsynaptic_update(
            x, self._spikes(x, spk), syn, mem, alpha=self._value("alpha"), beta=self._value("beta"),
            **self._update_arguments(),
        )  # fmt: skip
