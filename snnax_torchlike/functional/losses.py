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

Bad inputs raise an error naming the loss, the expected and the actual shape or
value. Targets out of range can only be detected when they are concrete; under
``jax.jit``/``vmap`` the result is NaN instead (never a silently wrong loss).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

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

    **Call:** ``loss_fn(spk, targets)`` with ``spk`` ``[T, B, C]`` and integer
    ``targets`` ``[B]``.

    **Returns:** a scalar of shape ``()`` (snnTorch returns shape ``[1]``).
    """

    input_kind: ClassVar[InputKind] = "spikes"
    __name__: ClassVar[str] = "ce_rate_loss"

    def __call__(self, spk: ArrayLike, targets: ArrayLike) -> Array:
        spk, targets = _check_inputs("ce_rate_loss", spk, targets)
        return _nan_unless_in_range(jnp.mean(_nll(spk, targets)), targets, spk.shape[2])


@dataclass(frozen=True)
class ce_count_loss:
    r"""Cross-entropy of the spike counts (snnTorch's ``ce_count_loss``).

    $\frac1B \sum_b -\log \mathrm{softmax}(\sum_t s_{t,b})_{y_b}$

    **Call:** ``loss_fn(spk, targets)`` with ``spk`` ``[T, B, C]`` and integer
    ``targets`` ``[B]``.

    **Returns:** a scalar of shape ``()``.
    """

    input_kind: ClassVar[InputKind] = "spikes"
    __name__: ClassVar[str] = "ce_count_loss"

    def __call__(self, spk: ArrayLike, targets: ArrayLike) -> Array:
        spk, targets = _check_inputs("ce_count_loss", spk, targets)
        return _nan_unless_in_range(jnp.mean(_nll(jnp.sum(spk, axis=0), targets)), targets, spk.shape[2])


@dataclass(frozen=True)
class ce_max_membrane_loss:
    r"""Cross-entropy of each output's maximum membrane over time (snnTorch's ``ce_max_membrane_loss``).

    $\frac1B \sum_b -\log \mathrm{softmax}(\max_t m_{t,b})_{y_b}$; the gradient flows
    to the step of the maximum.

    **Call:** ``loss_fn(mem, targets)`` with ``mem`` ``[T, B, C]`` and integer
    ``targets`` ``[B]``.

    **Returns:** a scalar of shape ``()``.
    """

    input_kind: ClassVar[InputKind] = "membrane"
    __name__: ClassVar[str] = "ce_max_membrane_loss"

    def __call__(self, mem: ArrayLike, targets: ArrayLike) -> Array:
        mem, targets = _check_inputs("ce_max_membrane_loss", mem, targets)
        return _nan_unless_in_range(jnp.mean(_nll(jnp.max(mem, axis=0), targets)), targets, mem.shape[2])


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

    **Call:** ``loss_fn(spk, targets)`` with ``spk`` ``[T, B, C]`` and integer
    ``targets`` ``[B]``.

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

    def __call__(self, spk: ArrayLike, targets: ArrayLike) -> Array:
        spk, targets = _check_inputs("mse_count_loss", spk, targets)
        steps, _, classes = spk.shape
        on_count, off_count = int(steps * self.correct_rate), int(steps * self.incorrect_rate)
        target_counts = _snntorch_targets(targets, classes, on_count, off_count)
        loss = jnp.mean((jnp.sum(spk, axis=0) - target_counts) ** 2) / steps
        return _nan_unless_in_range(loss, targets, classes)


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

    **Call:** ``loss_fn(mem, targets)`` with ``mem`` ``[T, B, C]`` and integer
    ``targets`` ``[B]``.

    **Returns:** a scalar of shape ``()`` (snnTorch returns shape ``[1]``).
    """

    on_target: float = 1.0
    off_target: float = 0.0
    input_kind: ClassVar[InputKind] = "membrane"
    __name__: ClassVar[str] = "mse_membrane_loss"

    def __post_init__(self) -> None:
        for argument in ("on_target", "off_target"):
            _check_real("mse_membrane_loss", argument, getattr(self, argument))

    def __call__(self, mem: ArrayLike, targets: ArrayLike) -> Array:
        mem, targets = _check_inputs("mse_membrane_loss", mem, targets)
        classes = mem.shape[2]
        target = _snntorch_targets(targets, classes, self.on_target, self.off_target)
        return _nan_unless_in_range(jnp.mean((mem - target[None]) ** 2), targets, classes)
