"""snnTorch's time-parallel `StateLeaky` neuron as a facade layer."""

from __future__ import annotations

import warnings
from typing import Any, Unpack

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .. import snn
from ..imperative import Tensor
from ..snn.neurons.state_leaky import check_truncation
from ..snn.surrogate import SurrogateSpike
from .module import to_array, to_numpy
from .neuron import SnnTorchNeuron, SpikingOptions


def _inert_spike_options(arguments: dict[str, Any]) -> list[str]:
    """The spike-only options among ``arguments`` set away from their defaults."""
    chosen = [name for name in ("spike_grad",) if arguments[name] is not None]
    chosen += [
        name
        for name in ("surrogate_disable", "learn_threshold", "learn_graded_spikes_factor")
        if arguments[name]
    ]
    if not np.all(to_numpy(arguments["graded_spikes_factor"]) == 1.0):
        chosen.append("graded_spikes_factor")
    return chosen


class StateLeaky(SnnTorchNeuron):
    r"""snnTorch 1.0's ``StateLeaky``: a leaky membrane over a whole sequence at once, without reset.

    Called on the whole sequence ``x`` ``[T, B, channels]`` (time first), it returns
    ``(spk, mem)``, each ``[T, B, channels]`` (``output=False``: ``mem`` only):

    $$m_t = \sum_{k=0}^{\min(t,\,K-1)} e^{-k/\tau}\, x_{t-k},\qquad s_t = H(m_t - \theta)\, g^2$$

    with $\tau = 1/(1 - \beta + 10^{-12})$ per channel ($\beta$ scalar or
    ``[channels]``) and $K$ = ``kernel_truncation_steps`` (None: every step so far).
    As in snnTorch, the decay per step is $e^{-1/\tau}$, not $\beta$; spikes never
    reset the membrane; the graded spikes factor $g$ is applied twice. Equations:
    [`snnax_torchlike.snn.state_leaky_membrane`][], [`snnax_torchlike.snn.state_leaky_spikes`][].

    ``state_dict`` (snnTorch's names and order): ``threshold``,
    ``graded_spikes_factor``, ``reset_mechanism_val``, ``beta`` (the constructor's
    value, unused) and ``tau`` (what runs); parameters come first, so with
    ``learn_beta=True`` it starts with ``beta, tau``, both ``Parameter``s of which only
    ``tau`` is trained. The attribute ``beta`` reads ``(tau - 1) / tau``.

    **Arguments:** ``beta``, ``channels`` (by position or keyword),
    ``learn_beta``, ``kernel_truncation_steps``, then, by keyword, the
    [`SpikingOptions`][snnax_torchlike.nn.neuron.SpikingOptions] snnTorch's
    StateLeaky takes: all but ``init_hidden``, ``inhibition``, ``reset_mechanism``
    and ``reset_delay``; ``output`` defaults to True.

    Options that only shape spikes (``spike_grad``, ``surrogate_disable``,
    ``learn_threshold``, ``graded_spikes_factor``, ``learn_graded_spikes_factor``)
    warn with ``output=False``, which emits none; ``spike_grad`` is then stored
    without being checked. ``fire_inhibition`` and ``mem_reset`` raise
    ``NotImplementedError``, as snnTorch's. It keeps no hidden state (snnTorch's
    side attribute ``spk`` is not set). Refused: ``state_quant``. Unlike snnTorch,
    an input whose last axis is not ``channels`` raises, with a scalar ``beta`` too.

    Inside ``nn.Sequential`` it runs over the whole sequence (per sample); as the last
    layer it gives ``(spk, mem)`` with ``output=True`` and ``mem`` with ``output=False``.
    """

    _state_names = ()
    _state_outputs = ()
    _options_not_taken = frozenset({"init_hidden", "inhibition", "reset_mechanism", "reset_delay"})
    _changed_defaults = {"output": True}

    def __init__(
        self,
        beta: ArrayLike,
        channels: int,
        *,
        learn_beta: bool = False,
        kernel_truncation_steps: int | None = None,
        **options: Unpack[SpikingOptions],
    ):
        name = type(self).__name__
        settings = self._with_defaults(options)
        if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels < 1:
            raise ValueError(f"{name}: channels must be an int >= 1, got {channels!r}.")
        truncation = check_truncation(kernel_truncation_steps, layer=name)
        beta = to_array(beta).astype(jnp.float32)
        if beta.shape not in ((), (1,), (channels,)):
            raise ValueError(
                f"{name}: beta has shape {tuple(beta.shape)}; expected a scalar, (1,) or (channels,) = ({channels},)."
            )
        spike_grad = settings["spike_grad"]
        if not settings["output"]:
            inert = _inert_spike_options(settings)
            if inert:
                warnings.warn(
                    f"{name}: {', '.join(inert)} only affect spikes, which output=False never emits.",
                    UserWarning,
                    stacklevel=2,
                )
            if not isinstance(spike_grad, SurrogateSpike):
                settings["spike_grad"] = None  # never called without spikes, so not checked either
        super().__init__(**settings)
        if settings["spike_grad"] is not spike_grad:
            self.spike_grad = spike_grad
        self.channels = int(channels)
        self.kernel_truncation_steps = truncation
        self._register("beta", beta, learn_beta)
        self._register("tau", snn.state_leaky_tau(beta), learn_beta)

    @property
    def beta(self) -> Tensor:
        """The decay ``tau`` stands for, ``(tau - 1) / tau`` (``state_dict``'s ``beta``: the constructor's value)."""
        tau = to_array(self._value("tau"))
        return Tensor((tau - 1) / tau)

    @property
    def is_neuron(self) -> bool:  # type: ignore[override]
        """As the last layer of ``nn.Sequential``: ``(spk, mem)`` with ``output=True``, else ``mem`` alone."""
        return self.output

    def fire_inhibition(self, batch_size: int, mem: Any) -> None:
        """Not supported: raises ``NotImplementedError`` (the spikes come from a whole-sequence membrane)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not support inhibition: its spikes come from a whole-sequence membrane."
        )

    def mem_reset(self, mem: Any) -> None:
        """Not supported: raises ``NotImplementedError`` (spikes never feed back, so there is no reset)."""
        raise NotImplementedError(
            f"{type(self).__name__} keeps no step-by-step reset (spikes never feed back); mem_reset does not apply."
        )

    def _check_sequence(self, x: Array, features: int) -> None:
        if x.ndim != 3 or x.shape[2] != features:
            raise ValueError(
                f"{type(self).__name__}: expected the whole sequence, time first [T, B, {features}], "
                f"got shape {tuple(x.shape)}."
            )
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise TypeError(f"{type(self).__name__}: expected a floating-point input, got dtype {x.dtype}.")

    def core_layer(self) -> snn.StateLeaky:
        """The neuron as a pure core layer over the current arrays (per sample: inputs ``[channels]``)."""
        return snn.StateLeaky(
            self._value("tau"), threshold=self._value("threshold"), spike_fn=self.spike_grad if self.output else None,
            graded_spikes_factor=self._value("graded_spikes_factor"), output=self.output,
            kernel_truncation_steps=self.kernel_truncation_steps,
        )  # fmt: skip

    def forward(self, input_: Any) -> Tensor | tuple[Tensor, Tensor]:
        """``spk, mem = lif(x)`` (``output=False``: ``mem = lif(x)``) for ``x`` ``[T, B, channels]``."""
        x = to_array(input_)
        self._check_sequence(x, self.channels)
        mem = snn.state_leaky_membrane(x, self._value("tau"), self.kernel_truncation_steps)
        if not self.output:
            return Tensor(mem)
        spk = snn.state_leaky_spikes(
            mem, threshold=self._value("threshold"), graded_spikes_factor=self._value("graded_spikes_factor"),
            spike_fn=self.spike_grad,
        )  # fmt: skip
        return Tensor(spk), Tensor(mem)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: ``channels``, ``output`` and ``kernel_truncation_steps``."""
        return (
            f"channels={self.channels}, output={self.output}, "
            f"kernel_truncation_steps={self.kernel_truncation_steps}"
        )
