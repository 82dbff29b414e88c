"""snnTorch's rate, count and membrane losses (``snntorch.functional``) with its input conventions.

Outputs are time-first ``[T, B, C]``: spikes for the rate and count losses, membrane
potentials for the membrane losses. Targets are integer class indices ``[B]``.
Each loss is an immutable (frozen, hashable) object built by a factory-style call,
``loss_fn = ce_rate_loss()``, then called as ``loss_fn(outputs, targets)``; its
class attribute ``input_kind`` (``"spikes"`` or ``"membrane"``) tells a trainer
which network output to pass. The first-spike-time losses are in ``temporal``.

Numerics are snnTorch 1.0.0's (values and gradients tested against it), options
included: ``reduction`` and ``weight`` (see below), population codes
(``population_code=True, num_classes=K``). Differences:

- A reduced loss is a true scalar of shape ``()``, where snnTorch returns shape
  ``[1]`` for ``ce_rate_loss`` and ``mse_membrane_loss``.
- ``reduction="sum"`` with ``weight`` returns the sum; snnTorch returns the
  unreduced values there (it reduces weighted losses only for ``"mean"``).
- ``mse_membrane_loss(time_var_targets=True)`` is refused (see its docstring).

``reduction`` and ``weight`` follow snnTorch, not torch: the loss of each sample
(``"none"``: ``[B]`` for the cross-entropy losses, ``[B, C]`` elementwise for the
squared-error losses) is multiplied by its class weight, then ``"mean"`` takes a
PLAIN mean (``sum(w_i l_i) / B``, not torch's ``sum(w_i l_i) / sum(w_i)``) and
``"sum"`` the sum. The squared-error losses multiply by ``weight[targets]``
broadcast along the class axis, as snnTorch does (so they need ``B == C`` or
``B == 1`` with ``weight``; see ``SnnTorchLoss._weigh_last_axis``).

Called with torch tensors, a loss returns a facade ``Tensor`` (it mixes with
torch tensors in arithmetic); with JAX or numpy arrays, a JAX array.

Variable-length sequences (an addition; snnTorch has no such argument): every
loss here takes an optional keyword ``lengths``, int ``[B]``, the true number of
time steps of each sample of a batch padded in time. Steps ``t >= lengths[b]``
are then ignored: sums and maxima over time run over the real steps, means over
time divide by ``lengths[b]`` instead of ``T``, and ``mse_count_loss`` targets
``int(lengths[b] * rate)`` spikes. The result is the loss of the unpadded
sequences; with every length equal to ``T`` it equals the call without
``lengths`` (up to rounding). A sample of length 0 has no real step: it
contributes 0 to the time means, and its count and maximum are those of all-zero
outputs. Without ``lengths`` every loss is snnTorch's.

Bad inputs raise an error naming the loss, the expected and the actual shape or
value. Targets or lengths out of range can only be detected when they are
concrete; under ``jax.jit``/``vmap`` the result is NaN instead (never a silently
wrong loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from ..imperative import recordable
from ..nn.loss import _class_index_loss
from ._common import (
    InputKind,
    Reduction,
    SnnTorchLoss,
    _check_inputs,
    _check_population,
    _check_real,
    _class_targets,
    _nan_unless_valid,
    _population_counts,
    _time_mean,
    compiled,
)
from .time_mask import check_lengths, mask_padding

__all__ = ["ce_rate_loss", "ce_count_loss", "ce_max_membrane_loss", "mse_count_loss", "mse_membrane_loss"]

_IGNORE_NONE = -100  # torch's default ignore_index; checked targets are never negative


def _nll(logits: Array, targets: Array, weight: Array | None) -> Array:
    """Weighted negative log-likelihood per sample, torch's ``NLLLoss(weight, reduction="none")(log_softmax)``.

    **Arguments:** ``logits`` ``[..., B, C]``; ``targets`` ``[B]``; ``weight`` ``[C]`` or ``None``.

    **Returns:** ``-weight[y_b] log_softmax(logits)[..., b, y_b]``, shape ``[..., B]``.
    """
    lead, classes = logits.shape[:-1], logits.shape[-1]
    log_p = jax.nn.log_softmax(logits, axis=-1).reshape(-1, classes)
    index = jnp.broadcast_to(targets, lead).reshape(-1).astype(jnp.int32)
    return _class_index_loss(log_p, index, weight, _IGNORE_NONE, "none", 0.0).reshape(lead)


def _lengths(name: str, lengths: ArrayLike | None, outputs: Array) -> Array | None:
    """Checked ``lengths`` for outputs ``[T, B, C]``, or ``None``."""
    return None if lengths is None else check_lengths(name, lengths, outputs.shape[0], outputs.shape[1])


@dataclass(frozen=True, eq=False)
class ce_rate_loss(SnnTorchLoss):
    r"""Cross-entropy of the spikes at every step, averaged over time (snnTorch's ``ce_rate_loss``).

    Per sample $l_b = w_{y_b} \frac1T \sum_t -\log \mathrm{softmax}(s_{t,b})_{y_b}$
    ($w = 1$ without ``weight``), then reduced (module docstring).

    **Arguments:**

    - ``population_code``, ``num_classes``: snnTorch's population option, which for
      this loss does NOT pool outputs: the cross-entropy runs over all ``C``
      outputs with targets in ``[0, C)``, and ``weight`` (required, one entry per
      class, ``[num_classes]``) gives ``weight[0]`` to the first
      ``C // num_classes`` outputs and ``weight[1]`` to all the others (the other
      entries are unused). Kept as snnTorch computes it; ``ce_count_loss`` and
      ``mse_count_loss`` pool populations.
    - ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"`` (``[B]``).
    - ``weight``: optional ``[C]`` weight per class.

    **Call:** ``loss_fn(spk, targets, *, lengths=None)`` with ``spk`` ``[T, B, C]``,
    integer ``targets`` ``[B]`` and, for sequences padded in time, optional int
    ``lengths`` ``[B]`` in ``[0, T]`` (not in snnTorch; see the module docstring):
    each sample's mean over time runs over its ``lengths[b]`` real steps.

    **Returns:** a scalar of shape ``()`` (snnTorch returns shape ``[1]``), or
    ``[B]`` for ``reduction="none"``.
    """

    population_code: bool = False
    num_classes: int | bool = False
    reduction: Reduction = "mean"
    weight: ArrayLike | None = None
    input_kind: ClassVar[InputKind] = "spikes"
    __name__: ClassVar[str] = "ce_rate_loss"

    def __post_init__(self) -> None:
        _check_population(self.__name__, self.population_code, self.num_classes)
        self._check_options()
        if self.population_code and self.weight is None:
            raise TypeError(
                "ce_rate_loss: population_code=True needs weight= (one entry per class): snnTorch builds its "
                "per-output weights from weight[0] and weight[1] (and raises TypeError without them)."
            )

    def _output_weight(self, outputs: int) -> Array | None:
        """Per-output weights ``[C]``: the class weights, or snnTorch's population weights."""
        if not self.population_code:
            return self._class_weight(outputs)
        weight = self._class_weight(self.num_classes)
        group = int(outputs / self.num_classes)
        return jnp.where(jnp.arange(outputs) < group, weight[0], weight[min(1, self.num_classes - 1)])

    @recordable(torch_facing=True)
    def __call__(self, spk: ArrayLike, targets: ArrayLike, *, lengths: ArrayLike | None = None) -> Array:
        spk, targets = _check_inputs(self.__name__, spk, targets)
        return compiled(self, spk, targets, _lengths(self.__name__, lengths, spk))

    def _compute(self, spk: Array, targets: Array, lengths: Array | None) -> Array:
        steps, _, outputs = spk.shape
        per_sample = _time_mean(_nll(spk, targets, self._output_weight(outputs)), lengths)
        return _nan_unless_valid(self._reduce(per_sample), targets, outputs, lengths, steps)


@dataclass(frozen=True, eq=False)
class ce_count_loss(SnnTorchLoss):
    r"""Cross-entropy of the spike counts (snnTorch's ``ce_count_loss``).

    Per sample $l_b = -w_{y_b} \log \mathrm{softmax}(\sum_t s_{t,b})_{y_b}$, then reduced.

    **Arguments:**

    - ``population_code``, ``num_classes``: with ``population_code=True`` the ``C``
      outputs form ``num_classes`` groups of ``C // num_classes`` consecutive
      outputs (``num_classes`` must divide ``C``); a class's count is its group's.
      Targets then lie in ``[0, num_classes)``.
    - ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"`` (``[B]``).
    - ``weight``: optional weight per class, ``[C]`` (``[num_classes]`` with a population code).

    **Call:** ``loss_fn(spk, targets, *, lengths=None)`` with ``spk`` ``[T, B, C]``,
    integer ``targets`` ``[B]`` and, for sequences padded in time, optional int
    ``lengths`` ``[B]`` in ``[0, T]`` (not in snnTorch; see the module docstring):
    each sample's spikes are counted over its ``lengths[b]`` real steps.

    **Returns:** a scalar of shape ``()``, or ``[B]`` for ``reduction="none"``.
    """

    population_code: bool = False
    num_classes: int | bool = False
    reduction: Reduction = "mean"
    weight: ArrayLike | None = None
    input_kind: ClassVar[InputKind] = "spikes"
    __name__: ClassVar[str] = "ce_count_loss"

    def __post_init__(self) -> None:
        _check_population(self.__name__, self.population_code, self.num_classes)
        self._check_options()

    @recordable(torch_facing=True)
    def __call__(self, spk: ArrayLike, targets: ArrayLike, *, lengths: ArrayLike | None = None) -> Array:
        spk, targets = _check_inputs(self.__name__, spk, targets, self.num_classes if self.population_code else None)
        return compiled(self, spk, targets, _lengths(self.__name__, lengths, spk))

    def _compute(self, spk: Array, targets: Array, lengths: Array | None) -> Array:
        steps = spk.shape[0]
        spk = mask_padding(spk, lengths)
        if self.population_code:
            counts = _population_counts(self.__name__, spk, self.num_classes)
        else:
            counts = jnp.sum(spk, axis=0)
        classes = counts.shape[-1]
        loss = self._reduce(_nll(counts, targets, self._class_weight(classes)))
        return _nan_unless_valid(loss, targets, classes, lengths, steps)


@dataclass(frozen=True, eq=False)
class ce_max_membrane_loss(SnnTorchLoss):
    r"""Cross-entropy of each output's maximum membrane over time (snnTorch's ``ce_max_membrane_loss``).

    Per sample $l_b = -w_{y_b} \log \mathrm{softmax}(\max_t m_{t,b})_{y_b}$, then
    reduced; the gradient flows to the step of the maximum (the first one, for ties, as torch).

    **Arguments:** ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"``
    (``[B]``); ``weight``: optional ``[C]`` weight per class.

    **Call:** ``loss_fn(mem, targets, *, lengths=None)`` with ``mem`` ``[T, B, C]``,
    integer ``targets`` ``[B]`` and, for sequences padded in time, optional int
    ``lengths`` ``[B]`` in ``[0, T]`` (not in snnTorch; see the module docstring):
    each sample's maximum runs over its ``lengths[b]`` real steps (0 for length 0).

    **Returns:** a scalar of shape ``()``, or ``[B]`` for ``reduction="none"``.
    """

    reduction: Reduction = "mean"
    weight: ArrayLike | None = None
    input_kind: ClassVar[InputKind] = "membrane"
    __name__: ClassVar[str] = "ce_max_membrane_loss"

    def __post_init__(self) -> None:
        self._check_options()

    @recordable(torch_facing=True)
    def __call__(self, mem: ArrayLike, targets: ArrayLike, *, lengths: ArrayLike | None = None) -> Array:
        mem, targets = _check_inputs(self.__name__, mem, targets)
        return compiled(self, mem, targets, _lengths(self.__name__, lengths, mem))

    def _compute(self, mem: Array, targets: Array, lengths: Array | None) -> Array:
        steps, _, classes = mem.shape
        # finite, so a sample of length 0 keeps finite gradients
        real = mask_padding(mem, lengths, jnp.finfo(mem.dtype).min)
        # torch.max's gradient goes to the first step of the maximum only (jnp.max would share it among ties)
        peak = jnp.take_along_axis(real, jnp.argmax(real, axis=0)[None], axis=0)[0]
        if lengths is not None:
            peak = jnp.where((lengths > 0)[:, None], peak, 0.0)
        loss = self._reduce(_nll(peak, targets, self._class_weight(classes)))
        return _nan_unless_valid(loss, targets, classes, lengths, steps)


def _target_counts(steps: int, rate: float, scale: float | None) -> Array:
    """snnTorch's target spike count for every number of steps ``n`` in ``[0, steps]``: float32 ``[steps + 1]``.

    ``int(n * rate)``, or ``int(n * rate * scale)`` with a population of ``scale``
    outputs per class, in Python floats and truncated towards zero, as snnTorch.
    """
    counts = [int(n * rate) if scale is None else int(n * rate * scale) for n in range(steps + 1)]
    return jnp.asarray(counts, jnp.float32)


@dataclass(frozen=True, eq=False)
class mse_count_loss(SnnTorchLoss):
    r"""Squared error of the spike counts against target counts, divided by ``T`` (snnTorch's ``mse_count_loss``).

    The target count is ``int(T * correct_rate)`` for the true class and
    ``int(T * incorrect_rate)`` for the others (truncated towards zero, as
    snnTorch: ``T = 25, correct_rate = 0.3`` targets 7 spikes); with a population
    code of ``G = C / num_classes`` outputs per class, ``int(T * rate * G)``.
    Elementwise $l_{b,c} = (\sum_t s_{t,b,c} - n_{b,c})^2 / T$, then weighted and
    reduced (module docstring).

    **Arguments:**

    - ``correct_rate``: target firing rate of the true class, in ``[0, 1]``.
    - ``incorrect_rate``: target firing rate of the other classes, in ``[0, 1]``.
    - ``population_code``, ``num_classes``: count each class over its group of
      ``C // num_classes`` consecutive outputs (``num_classes`` must divide ``C``);
      targets then lie in ``[0, num_classes)``.
    - ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"`` (``[B, C]``,
      or ``[B, num_classes]``).
    - ``weight``: optional weight per class (``[C]``, or ``[num_classes]``),
      applied as ``weight[targets]`` along the class axis like snnTorch (needs
      ``B == C`` or ``B == 1``).

    **Call:** ``loss_fn(spk, targets, *, lengths=None)`` with ``spk`` ``[T, B, C]``,
    integer ``targets`` ``[B]`` and, for sequences padded in time, optional int
    ``lengths`` ``[B]`` in ``[0, T]`` (not in snnTorch; see the module docstring):
    sample ``b`` counts its spikes over its ``L = lengths[b]`` real steps against
    ``int(L * rate)`` targets, divided by ``L``.

    **Returns:** a scalar of shape ``()``, or the elementwise loss for ``reduction="none"``.
    """

    correct_rate: float = 1.0
    incorrect_rate: float = 0.0
    population_code: bool = False
    num_classes: int | bool = False
    reduction: Reduction = "mean"
    weight: ArrayLike | None = None
    input_kind: ClassVar[InputKind] = "spikes"
    __name__: ClassVar[str] = "mse_count_loss"

    def __post_init__(self) -> None:
        for argument in ("correct_rate", "incorrect_rate"):
            value = _check_real(self.__name__, argument, getattr(self, argument))
            if not 0 <= value <= 1:
                raise ValueError(f"mse_count_loss: {argument} must lie in [0, 1], got {value}.")
        _check_population(self.__name__, self.population_code, self.num_classes)
        self._check_options()

    @recordable(torch_facing=True)
    def __call__(self, spk: ArrayLike, targets: ArrayLike, *, lengths: ArrayLike | None = None) -> Array:
        spk, targets = _check_inputs(self.__name__, spk, targets, self.num_classes if self.population_code else None)
        return compiled(self, spk, targets, _lengths(self.__name__, lengths, spk))

    def _compute(self, spk: Array, targets: Array, lengths: Array | None) -> Array:
        steps, batch, outputs = spk.shape
        spk = mask_padding(spk, lengths)
        if self.population_code:
            counts, scale = _population_counts(self.__name__, spk, self.num_classes), outputs / self.num_classes
        else:
            counts, scale = jnp.sum(spk, axis=0), None
        classes = counts.shape[-1]
        real = jnp.full((batch,), steps, jnp.int32) if lengths is None else lengths
        on_count = _target_counts(steps, self.correct_rate, scale)[real][:, None]
        off_count = _target_counts(steps, self.incorrect_rate, scale)[real][:, None]
        # Counts are >= 0, where both of snnTorch's target branches give the exact one-hot.
        one_hot = jax.nn.one_hot(targets, classes, dtype=jnp.float32)
        target_counts = one_hot * on_count + (1 - one_hot) * off_count
        loss = (counts - target_counts) ** 2 / jnp.maximum(real, 1)[:, None]
        loss = self._reduce(self._weigh_last_axis(loss, targets, classes))
        return _nan_unless_valid(loss, targets, classes, lengths, steps)


@dataclass(frozen=True, eq=False)
class mse_membrane_loss(SnnTorchLoss):
    r"""Squared error of the membrane against per-class targets, averaged over time (snnTorch's ``mse_membrane_loss``).

    Elementwise $l_{b,c} = \frac1T \sum_t (m_{t,b,c} - u_{b,c})^2$ with ``u`` the
    true class's ``on_target`` and the others' ``off_target``, then weighted and
    reduced (module docstring). The targets are built as snnTorch does: when
    ``on_target > off_target`` they are ``max(one_hot * on_target, off_target)``,
    so a negative ``off_target`` leaves the wrong classes at 0 (snnTorch's quirk,
    kept).

    **Arguments:**

    - ``time_var_targets``: must be ``False``. ``True`` is refused
      (``NotImplementedError``): snnTorch 1.0.0 then takes row ``t`` of its
      ``[B, C]`` targets (sample ``t``'s one-hot) as the target of every sample at
      step ``t`` (and fails when ``T > B``), which is no time-varying target.
    - ``on_target``: target membrane of the true class.
    - ``off_target``: target membrane of the other classes.
    - ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"`` (``[B, C]``).
    - ``weight``: optional ``[C]`` weight per class, applied as ``weight[targets]``
      along the class axis like snnTorch (needs ``B == C`` or ``B == 1``).

    **Call:** ``loss_fn(mem, targets, *, lengths=None)`` with ``mem`` ``[T, B, C]``,
    integer ``targets`` ``[B]`` and, for sequences padded in time, optional int
    ``lengths`` ``[B]`` in ``[0, T]`` (not in snnTorch; see the module docstring):
    each sample's mean over time runs over its ``lengths[b]`` real steps.

    **Returns:** a scalar of shape ``()`` (snnTorch returns shape ``[1]``), or
    ``[B, C]`` for ``reduction="none"``.
    """

    time_var_targets: bool = False
    on_target: float = 1.0
    off_target: float = 0.0
    reduction: Reduction = "mean"
    weight: ArrayLike | None = None
    input_kind: ClassVar[InputKind] = "membrane"
    __name__: ClassVar[str] = "mse_membrane_loss"

    def __post_init__(self) -> None:
        if self.time_var_targets is not False:
            raise NotImplementedError(
                "mse_membrane_loss: time_var_targets=True is not supported: snnTorch 1.0.0 then applies row t "
                "of its [B, C] targets (sample t's one-hot) to every sample at step t, which is not a "
                "time-varying target; compute such a loss with nn.MSELoss on each step instead."
            )
        for argument in ("on_target", "off_target"):
            _check_real(self.__name__, argument, getattr(self, argument))
        self._check_options()

    @recordable(torch_facing=True)
    def __call__(self, mem: ArrayLike, targets: ArrayLike, *, lengths: ArrayLike | None = None) -> Array:
        mem, targets = _check_inputs(self.__name__, mem, targets)
        return compiled(self, mem, targets, _lengths(self.__name__, lengths, mem))

    def _compute(self, mem: Array, targets: Array, lengths: Array | None) -> Array:
        steps, _, classes = mem.shape
        target = _class_targets(targets, classes, self.on_target, self.off_target)
        loss = _time_mean((mem - target[None]) ** 2, lengths)
        loss = self._reduce(self._weigh_last_axis(loss, targets, classes))
        return _nan_unless_valid(loss, targets, classes, lengths, steps)
