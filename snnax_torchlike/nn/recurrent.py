"""snnTorch's recurrent neurons `RLeaky` and `RSynaptic` as facade layers."""

from __future__ import annotations

from typing import Any, Unpack

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import snn
from .conv import Conv2d, _tuple
from .linear import Linear
from .module import Module, Parameter, to_array
from .neuron import SnnTorchNeuron, SpikingOptions, initial_state


class _OneToOne(Module):
    """snnTorch's one-to-one recurrence module: holds ``V`` (shared with the neuron's ``V``)."""

    def __init__(self, v: Parameter | Array):
        super().__init__()
        if isinstance(v, Parameter):
            self.V = v
        else:
            self.register_buffer("V", v)


def _is_given(value: Any) -> bool:
    """snnTorch's test of ``linear_features``/``conv2d_channels``/``kernel_size``: given and not zero."""
    return value is not None and value is not False and value != 0


class RLeaky(SnnTorchNeuron):
    r"""``snntorch.RLeaky``: a leaky neuron that feeds its own previous spikes back.

    All-to-all (default), with ``linear_features=F``: ``recurrent`` is an
    ``nn.Linear(F, F)`` (keys ``recurrent.weight``, ``recurrent.bias``); with
    ``conv2d_channels=C, kernel_size=k`` instead: an ``nn.Conv2d(C, C, k,
    padding=k // 2)`` on inputs ``[B, C, H, W]`` (keys ``recurrent.weight``
    ``[C, C, kh, kw]``, ``recurrent.bias``). One-to-one (``all_to_all=False``):
    spikes scaled by ``V``, stored under ``V`` and ``recurrent.V`` like snnTorch.
    ``learn_recurrent=False`` freezes the recurrent weights (or makes ``V`` a buffer).
    Equations: [`snnax_torchlike.snn.rleaky_update`][], with ``reset_delay``,
    ``inhibition`` (inputs ``[B, N]``, so not with a convolution) and ``state_quant``
    as in [`Leaky`][]. Step by step: ``spk, mem = lif.init_rleaky(); spk, mem = lif(x, spk, mem)``.
    After its own parameters (``beta`` to ``kernel_size`` by position, ``learn_beta``
    and ``learn_recurrent`` by keyword) it takes by keyword the
    [`SpikingOptions`][snnax_torchlike.nn.neuron.SpikingOptions] but the graded
    spikes (snnTorch's RLeaky has none).
    """

    _state_names = ("spk", "mem")
    _state_outputs = (0, 1)
    _implemented_options = frozenset({"inhibition", "state_quant"})
    _options_not_taken = frozenset({"graded_spikes_factor", "learn_graded_spikes_factor"})

    def __init__(
        self,
        beta: ArrayLike,
        V: ArrayLike = 1.0,
        all_to_all: bool = True,
        linear_features: int | None = None,
        conv2d_channels: int | None = None,
        kernel_size: int | tuple[int, int] | None = None,
        *,
        learn_beta: bool = False,
        learn_recurrent: bool = True,
        **options: Unpack[SpikingOptions],
    ):
        inhibition = options.get("inhibition", False)
        self._check_recurrence_options(all_to_all, linear_features, conv2d_channels, kernel_size, inhibition)
        super().__init__(**options)
        self._register("beta", beta, learn_beta)
        if all_to_all and _is_given(linear_features):
            self.recurrent = Linear(linear_features, linear_features)
        elif all_to_all:
            kernel = _tuple(kernel_size, 2, layer=type(self).__name__, name="kernel_size")
            padding = (kernel[0] // 2, kernel[1] // 2)
            self.recurrent = Conv2d(conv2d_channels, conv2d_channels, kernel, padding=padding)
        else:
            v = to_array(V).astype(jnp.float32)
            if learn_recurrent:
                self.V = Parameter(v)
                self.recurrent = _OneToOne(self.V)
            else:
                self.register_buffer("V", v)
                self.recurrent = _OneToOne(v)
        if all_to_all:
            for param in self.recurrent.parameters():
                param.requires_grad = bool(learn_recurrent)
        self.all_to_all = bool(all_to_all)

    @classmethod
    def _check_recurrence_options(
        cls, all_to_all: bool, linear_features: Any, conv2d_channels: Any, kernel_size: Any, inhibition: bool
    ) -> None:
        """snnTorch's rules for choosing the recurrence, as clear errors before anything is built."""
        name = cls.__name__
        linear, channels, kernel = _is_given(linear_features), _is_given(conv2d_channels), _is_given(kernel_size)
        if not all_to_all:
            if linear or channels or kernel:
                raise ValueError(
                    f"{name}: with all_to_all=False the recurrence is V (one-to-one); linear_features, "
                    f"conv2d_channels and kernel_size must not be given."
                )
            return
        if linear and (channels or kernel):
            raise ValueError(
                f"{name}: give linear_features (a Linear recurrence) or conv2d_channels and kernel_size (a Conv2d "
                f"one), not both."
            )
        if not linear and not (channels and kernel):
            raise ValueError(
                f"{name}: all_to_all=True needs linear_features (the layer's size) or both conv2d_channels and "
                f"kernel_size (a convolutional recurrence); got linear_features={linear_features!r}, "
                f"conv2d_channels={conv2d_channels!r}, kernel_size={kernel_size!r}."
            )
        if not linear and inhibition:
            raise ValueError(
                f"{name}: inhibition=True needs inputs [batch, features]; a convolutional recurrence runs on "
                f"[B, C, H, W] (snnTorch's fire_inhibition assumes [batch, features])."
            )

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
        """The core layer's keyword arguments: the recurrence, threshold, spikes, reset and options."""
        if isinstance(self.recurrent, Conv2d):
            recurrence = dict(recurrent=self.recurrent.core_layer())
        elif self.all_to_all:
            bias = self.recurrent.bias
            recurrence = dict(recurrent_weight=self.recurrent.weight.data,
                              recurrent_bias=None if bias is None else bias.data)  # fmt: skip
        else:
            recurrence = dict(V=self._value("V"))
        return {**recurrence, **self._neuron_arguments(), **self._fire_options()}

    def core_layer(self) -> snn.RLeaky:
        """The neuron and its recurrent connection as a pure core layer over the current arrays."""
        return snn.RLeaky(self._value("beta"), **self._core_arguments())

    def _check_input(self, x: Array) -> None:
        """The input fits the recurrence: its channels, its features, or the shape of ``V``."""
        name = type(self).__name__
        if isinstance(self.recurrent, Conv2d) and (x.ndim != 4 or x.shape[1] != self.recurrent.in_channels):
            raise ValueError(
                f"{name}: the convolutional recurrence needs inputs [B, {self.recurrent.in_channels}, "
                f"H, W], got shape {tuple(x.shape)}."
            )
        if isinstance(self.recurrent, Linear) and (x.ndim == 0 or x.shape[-1] != self.recurrent.in_features):
            features = self.recurrent.in_features
            raise ValueError(
                f"{name}: built with linear_features={features}, so its inputs need {features} features on the "
                f"last axis ([B, {features}]), got shape {tuple(x.shape)}; pass linear_features= the layer's size."
            )
        if not self.all_to_all:
            v = tuple(self._value("V").shape)
            if v and (len(v) > x.ndim or any(s not in (1, n) for s, n in zip(v[::-1], x.shape[::-1]))):
                raise ValueError(
                    f"{name}: V has shape {v}, which does not fit an input of shape {tuple(x.shape)}; the one-to-one "
                    f"recurrence needs one V per neuron (the input's last axes), or a scalar."
                )

    def _update_arguments(self) -> dict[str, Any]:
        """The update function's keyword arguments (``recurrent``: the core layer's feedback map)."""
        arguments = {**self._neuron_arguments(), **self._fire_options()}
        return {**arguments, "recurrent": self.core_layer().feedback}

    def forward(self, input_: Any, spk: Any = None, mem: Any = None) -> tuple[Array, Array]:
        """One step: ``spk, mem = lif(input_, spk, mem)``."""
        x = to_array(input_)
        self._check_input(x)
        mem = jnp.zeros(()) if mem is None else to_array(mem)
        self._check_state(x, mem, "the membrane")
        return snn.rleaky_update(x, self._spikes(x, spk), mem, beta=self._value("beta"), **self._update_arguments())


class RSynaptic(RLeaky):
    """``snntorch.RSynaptic``: [`RLeaky`][]'s recurrence into a synaptic current with decay ``alpha``.

    Same arguments as snnTorch's (``learn_alpha`` among them); ``state_quant``
    quantises ``syn`` and ``mem``. ``reset_delay=False`` is refused: snnTorch 1.0's
    RSynaptic applies it to its local arguments, so it raises a TypeError when ``spk``
    is not passed and otherwise has no effect. Step by step:
    ``spk, syn, mem = lif.init_rsynaptic(); spk, syn, mem = lif(x, spk, syn, mem)``.
    """

    _state_names = ("spk", "syn", "mem")
    _state_outputs = (0, 1, 2)
    _implemented_options = frozenset({"inhibition", "state_quant"})

    def __init__(
        self,
        alpha: ArrayLike,
        beta: ArrayLike,
        V: ArrayLike = 1.0,
        all_to_all: bool = True,
        linear_features: int | None = None,
        conv2d_channels: int | None = None,
        kernel_size: int | tuple[int, int] | None = None,
        *,
        learn_alpha: bool = False,
        learn_beta: bool = False,
        learn_recurrent: bool = True,
        **options: Unpack[SpikingOptions],
    ):
        if not options.get("reset_delay", True):
            raise ValueError(
                "RSynaptic: reset_delay=False is not supported: snnTorch 1.0's RSynaptic applies it to its local "
                "arguments (a TypeError when spk is not passed, no effect otherwise). Use RLeaky or Synaptic for a "
                "same-step reset."
            )
        super().__init__(beta, V, all_to_all, linear_features, conv2d_channels, kernel_size, learn_beta=learn_beta,
                         learn_recurrent=learn_recurrent, **options)  # fmt: skip
        self._register("alpha", alpha, learn_alpha)

    def init_rsynaptic(self) -> tuple[Array, Array, Array]:
        """Initial ``(spk, syn, mem)``: scalar zeros that broadcast on the first step."""
        self.reset_hidden()
        return initial_state(), initial_state(), initial_state()

    reset_mem = init_rsynaptic

    def core_layer(self) -> snn.RSynaptic:
        """The neuron and its recurrent connection as a pure core layer over the current arrays."""
        return snn.RSynaptic(self._value("alpha"), self._value("beta"), **self._core_arguments())

    def _update_arguments(self) -> dict[str, Any]:
        arguments = super()._update_arguments()
        del arguments["reset_delay"]
        return arguments

    def forward(self, input_: Any, spk: Any = None, syn: Any = None, mem: Any = None) -> tuple[Array, Array, Array]:
        """One step: ``spk, syn, mem = lif(input_, spk, syn, mem)``."""
        x = to_array(input_)
        self._check_input(x)
        syn = jnp.zeros(()) if syn is None else to_array(syn)
        mem = jnp.zeros(()) if mem is None else to_array(mem)
        self._check_state(x, syn, "the synaptic current")
        self._check_state(x, mem, "the membrane")
        return snn.rsynaptic_update(
            x, self._spikes(x, spk), syn, mem, alpha=self._value("alpha"), beta=self._value("beta"),
            **self._update_arguments(),
        )  # fmt: skip
