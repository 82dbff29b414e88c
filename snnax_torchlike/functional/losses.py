"""snnTorch's classification losses (``snntorch.functional``) with its input conventions.

Outputs are time-first ``[T, B, C]``: spikes for the rate and count losses, membrane
potentials for the membrane losses. Targets are integer class indices ``[B]``.
Each loss is an immutable (frozen, hashable) object built by a factory-style call,
``loss_fn = ce_rate_loss()``, then called as ``loss_fn(outputs, targets)``; its
class attribute ``input_kind`` (``"spikes"`` or ``"membrane"``) tells a trainer
which network output to pass.

Numerics are snnTorch 1.0.0's (values and gradients tested against it), with one
deliberate difference: every loss returns a true scalar of shape ``()``, where
snnTorch returns shape ``[1]`` for ``ce_rate_loss`` and ``mse_membrane_loss``.

Not supported: population codes (``population_code``, ``num_classes``), class
weights (``weight=``), ``reduction`` other than snnTorch's default mean, and
``mse_membrane_loss(time_var_targets=True)``. The temporal losses
(``ce_temporal_loss``, ``mse_temporal_loss``) are not provided.

Variable-length sequences (an addition; snnTorch has no such argument): every
loss takes an optional keyword ``lengths``, int ``[B]``, the true number of time
steps of each sample of a batch padded in time. Steps ``t >= lengths[b]`` are then
ignored: sums and maxima over time run over the real steps, means over time
divide by ``lengths[b]`` instead of ``T`` (per sample, then averaged over the
batch), and ``mse_count_loss`` targets ``int(lengths[b] * rate)`` spikes. The
result is the loss of the unpadded sequences; with every length equal to ``T``
it equals the call without ``lengths`` (up to rounding). A sample of length 0 has
no real step: it contributes 0 to the time means, and its count and maximum are
those of all-zero outputs. Without ``lengths`` every loss is snnTorch's.

Bad inputs raise an error naming the loss, the expected and the actual shape or
value. Targets or lengths out of range can only be detected when they are
concrete; under ``jax.jit``/``vmap`` the result is NaN instead (never a silently
wrong loss).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ..imperative import recordable
from ..nn.module import to_array

__all__ = ["ce_rate_loss", "ce_count_loss", "ce_max_membrane_loss", "mse_count_loss", "mse_membrane_loss"]

InputKind = Literal["spikes", "membrane"]


# -- input checks (shared with accuracy.py) ---------------------------------------------
def _concrete(x: Array) -> np.ndarray | None:
    """The values of ``x``, or ``None`` when ``x`` is traced (inside ``jit``/``vmap``/``grad``)."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _check_outputs(name: str, outputs: ArrayLike) -> Array:
    """``outputs`` as a floating ``[T, B, C]`` array (non-float spikes become float32)."""
    outputs = to_array(outputs)
    if outputs.ndim != 3:
        raise ValueError(
            f"{name}: expected time-first outputs [T, B, C], got shape {tuple(outputs.shape)} "
            f"(rank {outputs.ndim}, expected rank 3)."
        )
    if not jnp.issubdtype(outputs.dtype, jnp.floating):
        outputs = outputs.astype(jnp.float32)
    return outputs


def _check_targets(name: str, targets: ArrayLike, batch: int, classes: int) -> Array:
    """Integer class indices ``[B]`` in ``[0, classes)`` (the range is checked when concrete)."""
    targets = to_array(targets)
    if targets.ndim != 1 or targets.shape[0] != batch:
        hint = " (one-hot targets? pass their argmax over classes)" if targets.ndim == 2 else ""
        raise ValueError(
            f"{name}: expected class-index targets [B] with B={batch}, got shape {tuple(targets.shape)}{hint}."
        )
    if not jnp.issubdtype(targets.dtype, jnp.integer):
        raise TypeError(f"{name}: targets must be integer class indices, got dtype {targets.dtype}.")
    values = _concrete(targets)
    if values is not None and values.size and (values.min() < 0 or values.max() >= classes):
        raise ValueError(
            f"{name}: targets must lie in [0, {classes}) for {classes} outputs (classes), "
            f"got values in [{values.min()!s}, {values.max()!s}]."
        )
    return targets


def _check_inputs(name: str, outputs: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
    """Check time-first ``outputs`` ``[T, B, C]`` and class-index ``targets`` ``[B]``.

    **Arguments:**

    - ``name``: the public function's name, for error messages.
    - ``outputs``, ``targets``: as passed by the user.

    **Returns:** ``(outputs, targets)`` as JAX arrays.
    """
    outputs = _check_outputs(name, outputs)
    _, batch, classes = outputs.shape
    return outputs, _check_targets(name, targets, batch, classes)


def _check_lengths(name: str, lengths: ArrayLike, steps: int, batch: int) -> Array:
    """True lengths as int32 ``[B]`` in ``[0, T]`` (the range is checked when concrete).

    **Arguments:** ``name``: the loss's name, for error messages; ``lengths``: as
    passed by the user; ``steps``, ``batch``: ``T`` and ``B`` of the outputs ``[T, B, C]``.
    """
    lengths = to_array(lengths)
    if tuple(lengths.shape) != (batch,):
        raise ValueError(
            f"{name}: expected lengths [B] with B={batch} (one true length per sample of the outputs "
            f"[T, B, C] = [{steps}, {batch}, C]), got shape {tuple(lengths.shape)}."
        )
    if not jnp.issubdtype(lengths.dtype, jnp.integer):
        raise TypeError(f"{name}: lengths must be integers (numbers of time steps), got dtype {lengths.dtype}.")
    values = _concrete(lengths)
    if values is not None and values.size and (values.min() < 0 or values.max() > steps):
        raise ValueError(
            f"{name}: lengths must lie in [0, T] = [0, {steps}] for outputs of {steps} time steps, "
            f"got values in [{values.min()!s}, {values.max()!s}]."
        )
    return lengths.astype(jnp.int32)


def _real_steps(lengths: Array, steps: int) -> Array:
    """``[T, B]`` booleans: True at each sample's real steps ``t < lengths[b]``."""
    return jnp.arange(steps)[:, None] < lengths[None, :]


def _mean_over_real_steps(values: Array, lengths: Array) -> Array:
    """``values`` ``[T, B]`` averaged over each sample's real steps (0 for length 0), then over the batch."""
    real = _real_steps(lengths, values.shape[0])
    per_sample = jnp.sum(jnp.where(real, values, 0.0), axis=0) / jnp.maximum(lengths, 1)
    return jnp.mean(per_sample)


def _nan_unless_lengths_in_range(value: Array, lengths: Array | None, steps: int) -> Array:
    """``value``, or NaN when a (traced) length lies outside ``[0, steps]``; ``value`` as is without lengths."""
    if lengths is None:
        return value
    return jnp.where(jnp.all((lengths >= 0) & (lengths <= steps)), value, jnp.nan)


def _nan_unless_in_range(value: Array, targets: Array, classes: int) -> Array:
    """``value``, or NaN when a (traced) target lies outside ``[0, classes)``."""
    in_range = jnp.all((targets >= 0) & (targets < classes))
    return jnp.where(in_range, value, jnp.nan)


def _check_real(name: str, argument: str, value: Any) -> float:
    """A Python float of a real scalar option, or a ``TypeError`` naming it."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {argument} must be a real number, got {type(value).__name__} {value!r}.")
    return float(value)


# -- numerics ---------------------------------------------------------------------------
def _nll(logits: Array, targets: Array) -> Array:
    """Per-sample negative log-likelihood, torch's ``NLLLoss(LogSoftmax(logits))`` without the mean.

    **Arguments:** ``logits`` ``[..., B, C]``; ``targets`` ``[B]``.

    **Returns:** ``-log_softmax(logits)[..., b, targets[b]]``, shape ``[..., B]``.
    """
    log_p = jax.nn.log_softmax(logits, axis=-1)
    index = jnp.broadcast_to(targets[:, None], log_p.shape[:-1] + (1,))
    return -jnp.take_along_axis(log_p, index, axis=-1, mode="clip")[..., 0]


def _snntorch_targets(targets: Array, classes: int, on_target: float, off_target: float) -> Array:
    """snnTorch's ``targets_convert`` default (rate code, rates 1/0): per-class targets ``[B, C]``.

    snnTorch branches on the values: with ``on_target > off_target`` it returns
    ``max(one_hot * on_target, off_target)``, so a *negative* ``off_target`` leaves
    the wrong classes at 0, not at ``off_target`` (a quirk kept for parity);
    otherwise the exact ``on_target`` / ``off_target`` one-hot.
    """
    one_hot = jax.nn.one_hot(targets, classes, dtype=jnp.float32)
    if on_target > off_target:
        return jnp.maximum(one_hot * on_target, off_target)
    return one_hot * on_target + (1 - one_hot) * off_target


# -- losses -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ce_rate_loss:
    r"""Cross-entropy of the spikes at every step, averaged over time (snnTorch's ``ce_rate_loss``).

    $\frac1T \sum_t \frac1B \sum_b -\log \mathrm{softmax}(s_{t,b})_{y_b}$

    **Call:** ``loss_fn(spk, targets, *, lengths=None)`` with ``spk`` ``[T, B, C]``,
    integer ``targets`` ``[B]`` and, for sequences padded in time, optional int
    ``lengths`` ``[B]`` in ``[0, T]`` (not in snnTorch; see the module docstring):
    each sample's mean over time runs over its ``lengths[b]`` real steps.

    **Returns:** a scalar of shape ``()`` (snnTorch returns shape ``[1]``).
    """

    input_kind: ClassVar[InputKind] = "spikes"
    __name__: ClassVar[str] = "ce_rate_loss"

    @recordable
    def __call__(self, spk: ArrayLike, targets: ArrayLike, *, lengths: ArrayLike | None = None) -> Array:
        spk, targets = _check_inputs("ce_rate_loss", spk, targets)
        steps, batch, classes = spk.shape
        if lengths is None:
            loss = jnp.mean(_nll(spk, targets))
        else:
            lengths = _check_lengths("ce_rate_loss", lengths, steps, batch)
            loss = _mean_over_real_steps(_nll(spk, targets), lengths)
        return _nan_unless_in_range(_nan_unless_lengths_in_range(loss, lengths, steps), targets, classes)


@dataclass(frozen=True)
class ce_count_loss:
    r"""Cross-entropy of the spike counts (snnTorch's ``ce_count_loss``).

    $\frac1B \sum_b -\log \mathrm{softmax}(\sum_t s_{t,b})_{y_b}$

    **Call:** ``loss_fn(spk, targets, *, lengths=None)`` with ``spk`` ``[T, B, C]``,
    integer ``targets`` ``[B]`` and, for sequences padded in time, optional int
    ``lengths`` ``[B]`` in ``[0, T]`` (not in snnTorch; see the module docstring):
    each sample's spikes are counted over its ``lengths[b]`` real steps.

    **Returns:** a scalar of shape ``()``.
    """

    input_kind: ClassVar[InputKind] = "spikes"
    __name__: ClassVar[str] = "ce_count_loss"

    @recordable
    def __call__(self, spk: ArrayLike, targets: ArrayLike, *, lengths: ArrayLike | None = None) -> Array:
        spk, targets = _check_inputs("ce_count_loss", spk, targets)
        steps, batch, classes = spk.shape
        if lengths is not None:
            lengths = _check_lengths("ce_count_loss", lengths, steps, batch)
            spk = jnp.where(_real_steps(lengths, steps)[..., None], spk, 0.0)
        loss = jnp.mean(_nll(jnp.sum(spk, axis=0), targets))
        return _nan_unless_in_range(_nan_unless_lengths_in_range(loss, lengths, steps), targets, classes)


@dataclass(frozen=True)
class ce_max_membrane_loss:
    r"""Cross-entropy of each output's maximum membrane over time (snnTorch's ``ce_max_membrane_loss``).

    $\frac1B \sum_b -\log \mathrm{softmax}(\max_t m_{t,b})_{y_b}$; the gradient flows
    to the step of the maximum.

    **Call:** ``loss_fn(mem, targets, *, lengths=None)`` with ``mem`` ``[T, B, C]``,
    integer ``targets`` ``[B]`` and, for sequences padded in time, optional int
    ``lengths`` ``[B]`` in ``[0, T]`` (not in snnTorch; see the module docstring):
    each sample's maximum runs over its ``lengths[b]`` real steps (0 for length 0).

    **Returns:** a scalar of shape ``()``.
    """

    input_kind: ClassVar[InputKind] = "membrane"
    __name__: ClassVar[str] = "ce_max_membrane_loss"

    @recordable
    def __call__(self, mem: ArrayLike, targets: ArrayLike, *, lengths: ArrayLike | None = None) -> Array:
        mem, targets = _check_inputs("ce_max_membrane_loss", mem, targets)
        steps, batch, classes = mem.shape
        if lengths is None:
            peak = jnp.max(mem, axis=0)
        else:
            lengths = _check_lengths("ce_max_membrane_loss", lengths, steps, batch)
            lowest = jnp.finfo(mem.dtype).min  # finite, so a sample of length 0 keeps finite gradients
            peak = jnp.max(jnp.where(_real_steps(lengths, steps)[..., None], mem, lowest), axis=0)
            peak = jnp.where((lengths > 0)[:, None], peak, 0.0)
        loss = jnp.mean(_nll(peak, targets))
        return _nan_unless_in_range(_nan_unless_lengths_in_range(loss, lengths, steps), targets, classes)


@dataclass(frozen=True)
class mse_count_loss:
    r"""Squared error of the spike counts against target counts, divided by ``T`` (snnTorch's ``mse_count_loss``).

    The target count is ``int(T * correct_rate)`` for the true class and
    ``int(T * incorrect_rate)`` for the others (truncated towards zero, as
    snnTorch: ``T = 25, correct_rate = 0.3`` targets 7 spikes). The loss is
    $\frac1T \cdot \frac{1}{BC} \sum_{b,c} (\sum_t s_{t,b,c} - n_{b,c})^2$.

    **Arguments:**

    - ``correct_rate``: target firing rate of the true class, in ``[0, 1]``.
    - ``incorrect_rate``: target firing rate of the other classes, in ``[0, 1]``.

    **Call:** ``loss_fn(spk, targets, *, lengths=None)`` with ``spk`` ``[T, B, C]``,
    integer ``targets`` ``[B]`` and, for sequences padded in time, optional int
    ``lengths`` ``[B]`` in ``[0, T]`` (not in snnTorch; see the module docstring):
    sample ``b`` counts its spikes over its ``L = lengths[b]`` real steps against
    ``int(L * rate)`` targets, divided by ``L``; then the batch mean.

    **Returns:** a scalar of shape ``()``.
    """

    correct_rate: float = 1.0
    incorrect_rate: float = 0.0
    input_kind: ClassVar[InputKind] = "spikes"
    __name__: ClassVar[str] = "mse_count_loss"

    def __post_init__(self) -> None:
        for argument in ("correct_rate", "incorrect_rate"):
            value = _check_real("mse_count_loss", argument, getattr(self, argument))
            if not 0 <= value <= 1:
                raise ValueError(f"mse_count_loss: {argument} must lie in [0, 1], got {value}.")

    @recordable
    def __call__(self, spk: ArrayLike, targets: ArrayLike, *, lengths: ArrayLike | None = None) -> Array:
        spk, targets = _check_inputs("mse_count_loss", spk, targets)
        steps, batch, classes = spk.shape
        if lengths is None:
            on_count, off_count = int(steps * self.correct_rate), int(steps * self.incorrect_rate)
            target_counts = _snntorch_targets(targets, classes, on_count, off_count)
            loss = jnp.mean((jnp.sum(spk, axis=0) - target_counts) ** 2) / steps
        else:
            lengths = _check_lengths("mse_count_loss", lengths, steps, batch)
            # int(L * rate) for every possible L, in Python floats as snnTorch computes it, looked up per sample.
            on_counts = jnp.asarray([int(n * self.correct_rate) for n in range(steps + 1)], jnp.float32)
            off_counts = jnp.asarray([int(n * self.incorrect_rate) for n in range(steps + 1)], jnp.float32)
            on_count, off_count = on_counts[lengths][:, None], off_counts[lengths][:, None]
            # Counts are >= 0, where both of snnTorch's target branches give the exact one-hot.
            one_hot = jax.nn.one_hot(targets, classes, dtype=jnp.float32)
            target_counts = one_hot * on_count + (1 - one_hot) * off_count
            counts = jnp.sum(jnp.where(_real_steps(lengths, steps)[..., None], spk, 0.0), axis=0)
            loss = jnp.mean(jnp.mean((counts - target_counts) ** 2, axis=-1) / jnp.maximum(lengths, 1))
        return _nan_unless_in_range(_nan_unless_lengths_in_range(loss, lengths, steps), targets, classes)


@dataclass(frozen=True)
class mse_membrane_loss:
    r"""Squared error of the membrane against per-class targets at every step, averaged over time.

    snnTorch's ``mse_membrane_loss``:
    $\frac1T \sum_t \frac{1}{BC} \sum_{b,c} (m_{t,b,c} - u_{b,c})^2$ with ``u`` the
    true class's ``on_target`` and the others' ``off_target``, built as snnTorch
    does: when ``on_target > off_target`` the targets are
    ``max(one_hot * on_target, off_target)``, so a negative ``off_target`` leaves
    the wrong classes at 0 (snnTorch's quirk, kept).

    **Arguments:**

    - ``on_target``: target membrane of the true class.
    - ``off_target``: target membrane of the other classes.

    **Call:** ``loss_fn(mem, targets, *, lengths=None)`` with ``mem`` ``[T, B, C]``,
    integer ``targets`` ``[B]`` and, for sequences padded in time, optional int
    ``lengths`` ``[B]`` in ``[0, T]`` (not in snnTorch; see the module docstring):
    each sample's mean over time runs over its ``lengths[b]`` real steps.

    **Returns:** a scalar of shape ``()`` (snnTorch returns shape ``[1]``).
    """

    on_target: float = 1.0
    off_target: float = 0.0
    input_kind: ClassVar[InputKind] = "membrane"
    __name__: ClassVar[str] = "mse_membrane_loss"

    def __post_init__(self) -> None:
        for argument in ("on_target", "off_target"):
            _check_real("mse_membrane_loss", argument, getattr(self, argument))

    @recordable
    def __call__(self, mem: ArrayLike, targets: ArrayLike, *, lengths: ArrayLike | None = None) -> Array:
        mem, targets = _check_inputs("mse_membrane_loss", mem, targets)
        steps, batch, classes = mem.shape
        target = _snntorch_targets(targets, classes, self.on_target, self.off_target)
        if lengths is None:
            loss = jnp.mean((mem - target[None]) ** 2)
        else:
            lengths = _check_lengths("mse_membrane_loss", lengths, steps, batch)
            loss = _mean_over_real_steps(jnp.mean((mem - target[None]) ** 2, axis=-1), lengths)
        return _nan_unless_in_range(_nan_unless_lengths_in_range(loss, lengths, steps), targets, classes)
