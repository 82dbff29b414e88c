"""PyTorch's loss modules (``torch.nn.CrossEntropyLoss``, ``MSELoss``, ...) on JAX.

Each class is a thin ``Module`` wrapper around a pure function of this module
(``cross_entropy``, ``nll_loss``, ``mse_loss``, ``l1_loss``, ``smooth_l1_loss``,
``huber_loss``, ``binary_cross_entropy``, ``binary_cross_entropy_with_logits``)
that computes with ``jax.numpy`` only, so a loss can be called eagerly, under
``jax.jit`` and under ``jax.grad``. Values and gradients follow torch 2.x,
including the weight normalisation of ``reduction="mean"`` with class weights,
``ignore_index``, ``label_smoothing`` and class-probability targets.

Class weights (``weight``, ``pos_weight``) are buffers, so ``state_dict()`` has
torch's keys: ``"weight"`` / ``"pos_weight"`` when given, nothing otherwise.

Differences from torch, all on inputs torch rejects or warns about:

- Inputs and targets of different shapes raise a ``ValueError`` in every
  elementwise loss (torch's ``MSELoss``, ``L1Loss``, ``SmoothL1Loss`` and
  ``HuberLoss`` warn and broadcast).
- A bad ``reduction``, ``label_smoothing``, ``beta`` or ``delta`` raises when the
  loss is built, not when it is first called.
- Class indices out of range (other than ``ignore_index``) raise a ``ValueError``
  when the targets are concrete; under ``jax.jit``/``vmap`` the loss is NaN
  instead (torch raises at run time). Likewise ``BCELoss`` inputs outside
  ``[0, 1]`` give NaN rather than an error.
- Integer or boolean inputs and targets of the elementwise losses become float32,
  and input and target are promoted to a common floating dtype (torch rejects
  some of these dtype combinations). ``BCELoss`` targets outside ``[0, 1]`` are
  not checked (torch raises).
- torch's deprecated ``size_average`` and ``reduce`` arguments are not accepted.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero
from jaxtyping import Array, ArrayLike

from ..imperative import known_values, register_torch_function
from ..snn.concrete import concrete
from .module import Module, to_array

__all__ = [
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]

Reduction = Literal["none", "mean", "sum"]
_REDUCTIONS = ("none", "mean", "sum")
_BCE_EPSILON = 1e-12  # torch's clamp of x (1 - x) in the BCELoss gradient


# -- checks -------------------------------------------------------------------------------
def _check_reduction(name: str, reduction: Any) -> str:
    """``reduction`` if it is one of ``"none"``, ``"mean"``, ``"sum"``, else a ``ValueError``."""
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of 'none', 'mean', 'sum', got {reduction!r}.")
    return reduction


def _check_real(name: str, argument: str, value: Any, error: type[Exception] = ValueError) -> float:
    """A Python float of a real scalar option (not a bool), or ``error`` naming it (these losses: ``ValueError``)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise error(f"{name}: {argument} must be a real number, got {type(value).__name__} {value!r}.")
    return float(value)


def _check_int(name: str, argument: str, value: Any) -> int:
    """A Python int of an integer option, or a ``ValueError`` naming it."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: {argument} must be an integer, got {type(value).__name__} {value!r}.")
    return int(value)


def _check_label_smoothing(name: str, label_smoothing: Any) -> float:
    """``label_smoothing`` as a float in ``[0, 1]``, or a ``ValueError``."""
    value = _check_real(name, "label_smoothing", label_smoothing)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: label_smoothing must lie in [0, 1], got {value}.")
    return value


def _check_nonnegative(name: str, argument: str, value: Any, *, strict: bool) -> float:
    """``value`` as a float ``>= 0`` (``> 0`` if ``strict``), or a ``ValueError``."""
    value = _check_real(name, argument, value)
    if value < 0 or (strict and value == 0):
        bound = "> 0" if strict else ">= 0"
        raise ValueError(f"{name}: {argument} must be {bound}, got {value}.")
    return value


def _floating(name: str, argument: str, x: Any) -> Array:
    """``x`` as a JAX array of floating dtype, or a ``ValueError`` for non-numeric data."""
    x = to_array(x)
    if jnp.issubdtype(x.dtype, jnp.floating):
        return x
    if jnp.issubdtype(x.dtype, jnp.integer) or jnp.issubdtype(x.dtype, jnp.bool_):
        return x.astype(jnp.float32)
    raise ValueError(f"{name}: {argument} must be real numbers, got dtype {x.dtype}.")


def _pair(name: str, input: Any, target: Any) -> tuple[Array, Array]:
    """``input`` and ``target`` of one shape (never broadcast), promoted to a common floating dtype."""
    input, target = _floating(name, "input", input), _floating(name, "target", target)
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: expected target of the input's shape {tuple(input.shape)}, got {tuple(target.shape)} "
            f"(inputs and targets are never broadcast)."
        )
    dtype = jnp.promote_types(input.dtype, target.dtype)
    return input.astype(dtype), target.astype(dtype)


def _broadcastable(name: str, argument: str, value: Any, shape: tuple[int, ...]) -> Array:
    """``value`` as a floating array that broadcasts to ``shape`` without changing it."""
    value = _floating(name, argument, value)
    try:
        result = np.broadcast_shapes(tuple(value.shape), shape)
    except ValueError:
        result = None
    if result != shape:
        raise ValueError(
            f"{name}: {argument} of shape {tuple(value.shape)} does not broadcast to the input's shape {shape}."
        )
    return value


def _class_weight(name: str, weight: Any, classes: int) -> Array:
    """A ``[C]`` class-weight vector, or a ``ValueError`` with its shape."""
    weight = _floating(name, "weight", weight)
    if weight.shape != (classes,):
        raise ValueError(
            f"{name}: weight must have one entry per class, shape ({classes},), got {tuple(weight.shape)}."
        )
    return weight


def _class_index_target(
    name: str, input: Array, target: Array, ignore_index: int, *, unbatched: bool, probabilities: bool
) -> Array:
    """Check integer class-index targets against ``input`` ``[N, C, d1...]``; returns them as int32.

    **Arguments:**

    - ``name``: the loss, for error messages.
    - ``input``: scores with classes on axis 1, batched by ``_batched``.
    - ``target``: as converted by ``to_array``, batched alike.
    - ``ignore_index``: the index exempt from the class-range check.
    - ``unbatched``: the user passed ``[C]`` (messages then show the unbatched shapes).
    - ``probabilities``: the loss also takes class probabilities (named in messages).
    """
    expected = (input.shape[0], *input.shape[2:])
    drop = 1 if unbatched else 0
    shapes = f"input shape {tuple(input.shape[drop:])}, target shape {tuple(target.shape[drop:])}"
    if target.shape != expected:
        if not unbatched and target.ndim >= 1 and input.shape[0] != target.shape[0]:
            problem = f"input batch size {input.shape[0]} to match target batch size {target.shape[0]}"
        else:
            problem = f"target of shape {expected[drop:]} (class indices)"
            if probabilities:
                problem += f" or {tuple(input.shape[drop:])} (class probabilities)"
        raise ValueError(f"{name}: expected {problem}; got {shapes}.")
    if not jnp.issubdtype(target.dtype, jnp.integer):
        raise ValueError(f"{name}: class-index targets must be integers, got dtype {target.dtype} ({shapes}).")
    _check_class_range(name, concrete(target), input.shape[1], ignore_index)
    return target.astype(jnp.int32)


def _check_class_range(name: str, values: np.ndarray | None, classes: int, ignore_index: int) -> None:
    """Class indices ``values`` (None when not known yet) lie in ``[0, classes)`` or equal ``ignore_index``."""
    if values is None or not values.size or not np.issubdtype(values.dtype, np.integer):
        return
    bad = (values != ignore_index) & ((values < 0) | (values >= classes))
    if bad.any():
        raise ValueError(
            f"{name}: class indices must lie in [0, {classes}) (or equal ignore_index={ignore_index}), "
            f"got {values[bad].ravel()[:5].tolist()}."
        )


# -- shared numerics ----------------------------------------------------------------------
def _reduce(loss: Array, reduction: str) -> Array:
    """torch's reduction of elementwise losses: as is, their sum, or their mean."""
    if reduction == "sum":
        return jnp.sum(loss)
    if reduction == "mean":
        return jnp.mean(loss)
    return loss


def _divide_or_nan(total: Array, count: Array) -> Array:
    """``total / count``, NaN when ``count == 0`` (as torch), with a zero gradient there rather than NaN."""
    empty = count == 0
    return jnp.where(empty, jnp.nan, total / jnp.where(empty, 1, count))


def _abs(x: Array) -> Array:
    """``|x|`` whose derivative at 0 is 0 (``sign``), as torch's, where ``jnp.abs`` gives 1."""
    return x * jnp.sign(x)


def _batched(input: Array, target: Array, name: str) -> tuple[Array, Array, bool]:
    """An unbatched ``input`` ``[C]`` (and target) gets a batch axis; returns whether it was added."""
    if input.ndim == 0:
        raise ValueError(f"{name}: expected input of shape [C], [N, C] or [N, C, d1, ...], got a scalar.")
    if input.ndim == 1:
        return input[None], target[None], True
    return input, target, False


def _class_index_loss(
    log_probs: Array,
    target: Array,
    weight: Array | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> Array:
    """NLL of class indices with torch's weighting, ``ignore_index`` and label smoothing.

    **Arguments:**

    - ``log_probs``: ``[N, C, d1...]`` log-probabilities.
    - ``target``: int ``[N, d1...]`` class indices (checked).
    - ``weight``: ``[C]`` class weights or ``None``.
    - ``ignore_index``, ``reduction``, ``label_smoothing``: torch's options.

    **Returns:** ``[N, d1...]`` for ``"none"``, else a scalar. ``"mean"`` divides
    by the summed weight of the non-ignored targets (NaN when there is none).
    """
    classes = log_probs.shape[1]
    ignored = target == ignore_index
    in_range = (target >= 0) & (target < classes)
    index = jnp.where(in_range, target, 0)
    picked = jnp.take_along_axis(log_probs, index[:, None], axis=1)[:, 0]
    target_weight = jnp.ones(target.shape, log_probs.dtype) if weight is None else weight[index]
    target_weight = jnp.where(ignored, 0, target_weight)
    # An out-of-range index (only possible when traced) makes its loss NaN, never silently 0.
    loss = jnp.where(ignored, 0, jnp.where(in_range, -target_weight * picked, jnp.nan))
    if label_smoothing > 0:
        shape = (1, classes) + (1,) * (log_probs.ndim - 2)
        weighted = log_probs if weight is None else log_probs * weight.reshape(shape)
        smooth = jnp.where(ignored, 0, -jnp.sum(weighted, axis=1))
        loss = (1 - label_smoothing) * loss + (label_smoothing / classes) * smooth
    if reduction == "mean":
        return _divide_or_nan(jnp.sum(loss), jnp.sum(target_weight))
    return _reduce(loss, reduction)


# -- functions ----------------------------------------------------------------------------
def nll_loss(
    input: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
) -> Array:
    """Negative log-likelihood of class indices, as ``torch.nn.functional.nll_loss``.

    **Arguments:**

    - ``input``: log-probabilities ``[C]``, ``[N, C]`` or ``[N, C, d1, ...]``.
    - ``target``: integer class indices ``[]``, ``[N]`` or ``[N, d1, ...]``.
    - ``weight``: optional ``[C]`` weight per class.
    - ``ignore_index``: targets equal to it contribute nothing (not to the mean's divisor either).
    - ``reduction``: ``"none"``, ``"mean"`` (divided by the summed weight of the counted targets) or ``"sum"``.

    **Returns:** the loss, of the target's shape for ``"none"``, else a scalar.
    """
    name = "NLLLoss"
    reduction = _check_reduction(name, reduction)
    ignore_index = _check_int(name, "ignore_index", ignore_index)
    input, target = _floating(name, "input", input), to_array(target)
    input, target, unbatched = _batched(input, target, name)
    target = _class_index_target(name, input, target, ignore_index, unbatched=unbatched, probabilities=False)
    weight = None if weight is None else _class_weight(name, weight, input.shape[1])
    loss = _class_index_loss(input, target, weight, ignore_index, reduction, 0.0)
    return loss[0] if unbatched and reduction == "none" else loss


def cross_entropy(
    input: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> Array:
    """Cross-entropy of logits, as ``torch.nn.functional.cross_entropy``.

    **Arguments:**

    - ``input``: unnormalised logits ``[C]``, ``[N, C]`` or ``[N, C, d1, ...]`` (classes on axis 1).
    - ``target``: either integer class indices ``[]``, ``[N]`` or ``[N, d1, ...]``, or
      class probabilities of the input's shape (floating point).
    - ``weight``: optional ``[C]`` weight per class.
    - ``ignore_index``: class-index targets equal to it contribute nothing. With probabilities
      it is unused and must be negative (as in torch).
    - ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``. With class indices the mean divides
      by the summed weight of the non-ignored targets; with probabilities, by ``N * d1 * ...``.
    - ``label_smoothing``: in ``[0, 1]``; mixes the target with the uniform distribution.

    **Returns:** the loss, ``[N, d1, ...]`` for ``"none"``, else a scalar.
    """
    name = "CrossEntropyLoss"
    reduction = _check_reduction(name, reduction)
    ignore_index = _check_int(name, "ignore_index", ignore_index)
    label_smoothing = _check_label_smoothing(name, label_smoothing)
    input, target = _floating(name, "input", input), to_array(target)
    probabilities = input.shape == target.shape and input.ndim > 0
    input, target, unbatched = _batched(input, target, name)
    classes = input.shape[1]
    weight = None if weight is None else _class_weight(name, weight, classes)
    log_probs = jax.nn.log_softmax(input, axis=1)
    if probabilities:
        if not jnp.issubdtype(target.dtype, jnp.floating):
            raise ValueError(
                f"{name}: a target of the input's shape {tuple(input.shape[unbatched:])} holds class "
                f"probabilities and must be floating point, got dtype {target.dtype} (class indices "
                f"have shape {(input.shape[0], *input.shape[2:])[unbatched:]})."
            )
        if ignore_index >= 0:  # torch rejects these too; a negative index can never match a class
            raise ValueError(
                f"{name}: ignore_index={ignore_index} applies to class-index targets only, but the target "
                f"has the input's shape {tuple(input.shape[unbatched:])} (class probabilities); leave "
                f"ignore_index at its default -100."
            )
        target = target.astype(log_probs.dtype)
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        if weight is not None:
            log_probs = log_probs * weight.reshape((1, classes) + (1,) * (input.ndim - 2))
        loss = -jnp.sum(log_probs * target, axis=1)
        if reduction == "mean":  # over samples and positions, whatever the weights
            loss = _divide_or_nan(jnp.sum(loss), jnp.asarray(input.size // classes if classes else 0))
        else:
            loss = _reduce(loss, reduction)
    else:
        target = _class_index_target(name, input, target, ignore_index, unbatched=unbatched, probabilities=True)
        loss = _class_index_loss(log_probs, target, weight, ignore_index, reduction, label_smoothing)
    return loss[0] if unbatched and reduction == "none" else loss


def mse_loss(input: ArrayLike, target: ArrayLike, *, reduction: Reduction = "mean") -> Array:
    """Squared error ``(input - target)^2``, as ``torch.nn.functional.mse_loss``.

    **Arguments:** ``input``, ``target``: arrays of one shape (never broadcast);
    ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``.

    **Returns:** the loss, of the input's shape for ``"none"``, else a scalar.
    """
    name = "MSELoss"
    reduction = _check_reduction(name, reduction)
    input, target = _pair(name, input, target)
    return _reduce(jnp.square(input - target), reduction)


def l1_loss(input: ArrayLike, target: ArrayLike, *, reduction: Reduction = "mean") -> Array:
    """Absolute error ``|input - target|``, as ``torch.nn.functional.l1_loss`` (gradient 0 where equal).

    **Arguments:** ``input``, ``target``: arrays of one shape (never broadcast);
    ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``.

    **Returns:** the loss, of the input's shape for ``"none"``, else a scalar.
    """
    name = "L1Loss"
    reduction = _check_reduction(name, reduction)
    input, target = _pair(name, input, target)
    return _reduce(_abs(input - target), reduction)


def smooth_l1_loss(
    input: ArrayLike, target: ArrayLike, *, reduction: Reduction = "mean", beta: float = 1.0
) -> Array:
    """Smooth L1 loss, as ``torch.nn.functional.smooth_l1_loss``.

    ``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``, with
    ``d = input - target``; ``beta = 0`` is the L1 loss.

    **Arguments:** ``input``, ``target``: arrays of one shape (never broadcast);
    ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``; ``beta``: ``>= 0``.

    **Returns:** the loss, of the input's shape for ``"none"``, else a scalar.
    """
    name = "SmoothL1Loss"
    reduction = _check_reduction(name, reduction)
    beta = _check_nonnegative(name, "beta", beta, strict=False)
    input, target = _pair(name, input, target)
    diff = input - target
    size = _abs(diff)
    if beta == 0:
        return _reduce(size, reduction)
    return _reduce(jnp.where(size < beta, 0.5 * jnp.square(diff) / beta, size - 0.5 * beta), reduction)


def huber_loss(input: ArrayLike, target: ArrayLike, *, reduction: Reduction = "mean", delta: float = 1.0) -> Array:
    """Huber loss, as ``torch.nn.functional.huber_loss``.

    ``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``, with ``d = input - target``.

    **Arguments:** ``input``, ``target``: arrays of one shape (never broadcast);
    ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``; ``delta``: ``> 0``.

    **Returns:** the loss, of the input's shape for ``"none"``, else a scalar.
    """
    name = "HuberLoss"
    reduction = _check_reduction(name, reduction)
    delta = _check_nonnegative(name, "delta", delta, strict=True)
    input, target = _pair(name, input, target)
    diff = input - target
    size = _abs(diff)
    return _reduce(jnp.where(size < delta, 0.5 * jnp.square(diff), delta * (size - 0.5 * delta)), reduction)


@jax.custom_jvp
def _binary_cross_entropy(input: Array, target: Array) -> Array:
    """Elementwise ``-(y log x + (1 - y) log(1 - x))`` with torch's clamp of the logs at -100."""
    log_x = jnp.maximum(jnp.log(input), -100.0)
    log_1mx = jnp.maximum(jnp.log1p(-input), -100.0)
    return -(target * log_x + (1 - target) * log_1mx)


def _binary_cross_entropy_jvp(primals: tuple[Array, Array], tangents: tuple[Any, Any]) -> tuple[Array, Array]:
    """torch's gradients: ``(x - y) / max(x (1 - x), 1e-12)`` for the input, ``log(1 - x) - log x`` for the target.

    Zero tangents arrive symbolic and are skipped, so the target's infinite
    derivative at ``x`` in ``{0, 1}`` never turns the input's gradient into NaN.
    """
    input, target = primals
    input_dot, target_dot = tangents
    loss = _binary_cross_entropy(input, target)
    loss_dot = jnp.zeros_like(loss)
    if not isinstance(input_dot, SymbolicZero):
        loss_dot = loss_dot + (input - target) / jnp.maximum(input * (1 - input), _BCE_EPSILON) * input_dot
    if not isinstance(target_dot, SymbolicZero):
        loss_dot = loss_dot + (jnp.log1p(-input) - jnp.log(input)) * target_dot
    return loss, loss_dot


_binary_cross_entropy.defjvp(_binary_cross_entropy_jvp, symbolic_zeros=True)


def binary_cross_entropy(
    input: ArrayLike, target: ArrayLike, *, weight: ArrayLike | None = None, reduction: Reduction = "mean"
) -> Array:
    """Binary cross-entropy of probabilities, as ``torch.nn.functional.binary_cross_entropy``.

    ``-w (y log x + (1 - y) log(1 - x))`` with the logs clamped at ``-100`` and
    torch's gradient (its denominator ``x (1 - x)`` clamped at ``1e-12``).

    **Arguments:**

    - ``input``: probabilities in ``[0, 1]`` (NaN results outside), any shape.
    - ``target``: of the input's shape (never broadcast).
    - ``weight``: optional, broadcastable to the input's shape.
    - ``reduction``: ``"none"``, ``"mean"`` (over all elements) or ``"sum"``.

    **Returns:** the loss, of the input's shape for ``"none"``, else a scalar.
    """
    name = "BCELoss"
    reduction = _check_reduction(name, reduction)
    input, target = _pair(name, input, target)
    weight = None if weight is None else _broadcastable(name, "weight", weight, tuple(input.shape))
    loss = _binary_cross_entropy(input, target)
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(
    input: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    pos_weight: ArrayLike | None = None,
) -> Array:
    """Sigmoid and binary cross-entropy in one stable step, as torch's ``binary_cross_entropy_with_logits``.

    ``w ((1 - y) x - (1 + (p - 1) y) log sigmoid(x))`` with ``p = pos_weight``.

    **Arguments:**

    - ``input``: logits, any shape.
    - ``target``: of the input's shape (never broadcast).
    - ``weight``: optional, broadcastable to the input's shape.
    - ``reduction``: ``"none"``, ``"mean"`` (over all elements) or ``"sum"``.
    - ``pos_weight``: optional weight of the positive class, broadcastable to the input's
      shape (``[C]`` for one weight per class on the last axis).

    **Returns:** the loss, of the input's shape for ``"none"``, else a scalar.
    """
    name = "BCEWithLogitsLoss"
    reduction = _check_reduction(name, reduction)
    input, target = _pair(name, input, target)
    shape = tuple(input.shape)
    weight = None if weight is None else _broadcastable(name, "weight", weight, shape)
    pos_weight = None if pos_weight is None else _broadcastable(name, "pos_weight", pos_weight, shape)
    log_sigmoid = jax.nn.log_sigmoid(input)
    if pos_weight is not None:
        log_sigmoid = log_sigmoid * (1 + (pos_weight - 1) * target)
    loss = (1 - target) * input - log_sigmoid
    return _reduce(loss if weight is None else loss * weight, reduction)


# -- modules ------------------------------------------------------------------------------
class _Loss(Module):
    """Base of the loss modules: stores ``reduction`` (checked) like torch's ``_Loss``."""

    records_as_node: ClassVar[bool] = True

    def __init__(self, reduction: Reduction = "mean") -> None:
        super().__init__()
        self.reduction = _check_reduction(type(self).__name__, reduction)

    def _register_weight(self, name: str, value: ArrayLike | None) -> None:
        """Store a weight as a buffer (``None`` keeps it out of ``state_dict``, as torch)."""
        self.register_buffer(name, None if value is None else _floating(type(self).__name__, name, value))


def _check_class_weight_rank(name: str, weight: ArrayLike | None) -> ArrayLike | None:
    """A class-weight vector must be 1-D; checked when the loss is built."""
    if weight is None:
        return None
    shape = tuple(to_array(weight).shape)
    if len(shape) != 1:
        raise ValueError(f"{name}: weight must be a 1-D vector with one entry per class, got shape {shape}.")
    return weight


class _ClassIndexLoss(_Loss):
    """A loss of class-index targets: their range is checked at the call, while the values are known.

    The module's ``forward`` may be recorded and run later under ``jit``, where a
    target out of range could only give NaN; torch raises at the call, and so does this.
    """

    ignore_index: int

    def __call__(self, input: Any, target: Any) -> Any:
        scores = input.shape if hasattr(input, "shape") else np.shape(input)
        if len(scores) >= 1:
            _check_class_range(type(self).__name__, known_values(target), scores[1 if len(scores) > 1 else 0],
                               self.ignore_index)  # fmt: skip
        return super().__call__(input, target)


class CrossEntropyLoss(_ClassIndexLoss):
    """Cross-entropy of logits against class indices or class probabilities, like ``torch.nn.CrossEntropyLoss``.

    **Arguments:**

    - ``weight``: optional ``[C]`` weight per class (a buffer, in ``state_dict`` as ``"weight"``).
    - ``ignore_index``: class-index targets equal to it contribute nothing.
    - ``reduction``: ``"none"``, ``"mean"`` (class indices: divided by the summed weight of
      the non-ignored targets; probabilities: by ``N * d1 * ...``) or ``"sum"``.
    - ``label_smoothing``: in ``[0, 1]``.

    **Call:** ``loss(input, target)`` with logits ``input`` ``[C]``, ``[N, C]`` or
    ``[N, C, d1, ...]`` and either integer ``target`` ``[]``, ``[N]``, ``[N, d1, ...]``
    or floating class probabilities of the input's shape. See ``cross_entropy`` in ``snnax_torchlike.nn.loss``.
    """

    def __init__(
        self,
        weight: ArrayLike | None = None,
        ignore_index: int = -100,
        reduction: Reduction = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        name = type(self).__name__
        self.ignore_index = _check_int(name, "ignore_index", ignore_index)
        self.label_smoothing = _check_label_smoothing(name, label_smoothing)
        self._register_weight("weight", _check_class_weight_rank(name, weight))

    def forward(self, input: Any, target: Any) -> Array:
        """The loss of logits ``input`` ``[B, C, ...]`` against ``target`` (class indices or probabilities)."""
        return cross_entropy(
            to_array(input),
            to_array(target),
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_ClassIndexLoss):
    """Negative log-likelihood of class indices, like ``torch.nn.NLLLoss`` (pair it with ``log_softmax``).

    **Arguments:**

    - ``weight``: optional ``[C]`` weight per class (a buffer, in ``state_dict`` as ``"weight"``).
    - ``ignore_index``: targets equal to it contribute nothing.
    - ``reduction``: ``"none"``, ``"mean"`` (divided by the summed weight of the non-ignored targets) or ``"sum"``.

    **Call:** ``loss(input, target)`` with log-probabilities ``input`` ``[C]``,
    ``[N, C]`` or ``[N, C, d1, ...]`` and integer ``target`` ``[]``, ``[N]`` or
    ``[N, d1, ...]``. See ``nll_loss`` in ``snnax_torchlike.nn.loss``.
    """

    def __init__(self, weight: ArrayLike | None = None, ignore_index: int = -100, reduction: Reduction = "mean"):
        super().__init__(reduction)
        name = type(self).__name__
        self.ignore_index = _check_int(name, "ignore_index", ignore_index)
        self._register_weight("weight", _check_class_weight_rank(name, weight))

    def forward(self, input: Any, target: Any) -> Array:
        """The loss of log-probabilities ``input`` ``[B, C, ...]`` against class indices ``target`` ``[B, ...]``."""
        return nll_loss(
            to_array(input), to_array(target), weight=self.weight, ignore_index=self.ignore_index,
            reduction=self.reduction,
        )  # fmt: skip


class MSELoss(_Loss):
    """Mean squared error, like ``torch.nn.MSELoss``; input and target must have one shape.

    **Arguments:** ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``.

    **Call:** ``loss(input, target)``, both of one shape (a ``ValueError`` otherwise:
    torch would warn and broadcast). See ``mse_loss`` in ``snnax_torchlike.nn.loss``.
    """

    def forward(self, input: Any, target: Any) -> Array:
        """The loss of ``input`` against ``target`` of the same shape, reduced by ``reduction``."""
        return mse_loss(to_array(input), to_array(target), reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error, like ``torch.nn.L1Loss``; input and target must have one shape.

    **Arguments:** ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``.

    **Call:** ``loss(input, target)``, both of one shape. See ``l1_loss`` in ``snnax_torchlike.nn.loss``.
    """

    def forward(self, input: Any, target: Any) -> Array:
        """The loss of ``input`` against ``target`` of the same shape, reduced by ``reduction``."""
        return l1_loss(to_array(input), to_array(target), reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss, like ``torch.nn.SmoothL1Loss``: quadratic below ``beta``, linear above.

    **Arguments:** ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``; ``beta``: ``>= 0``.

    **Call:** ``loss(input, target)``, both of one shape. See ``smooth_l1_loss`` in ``snnax_torchlike.nn.loss``.
    """

    def __init__(self, reduction: Reduction = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = _check_nonnegative(type(self).__name__, "beta", beta, strict=False)

    def forward(self, input: Any, target: Any) -> Array:
        """The loss of ``input`` against ``target`` of the same shape, reduced by ``reduction``."""
        return smooth_l1_loss(to_array(input), to_array(target), reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss, like ``torch.nn.HuberLoss``: quadratic below ``delta``, linear (slope ``delta``) above.

    **Arguments:** ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``; ``delta``: ``> 0``.

    **Call:** ``loss(input, target)``, both of one shape. See ``huber_loss`` in ``snnax_torchlike.nn.loss``.
    """

    def __init__(self, reduction: Reduction = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = _check_nonnegative(type(self).__name__, "delta", delta, strict=True)

    def forward(self, input: Any, target: Any) -> Array:
        """The loss of ``input`` against ``target`` of the same shape, reduced by ``reduction``."""
        return huber_loss(to_array(input), to_array(target), reduction=self.reduction, delta=self.delta)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities, like ``torch.nn.BCELoss``.

    **Arguments:**

    - ``weight``: optional, broadcastable to the input's shape (a buffer, in ``state_dict`` as ``"weight"``).
    - ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``.

    **Call:** ``loss(input, target)`` with probabilities ``input`` in ``[0, 1]`` and
    ``target`` of its shape. See ``binary_cross_entropy`` in ``snnax_torchlike.nn.loss``.
    """

    def __init__(self, weight: ArrayLike | None = None, reduction: Reduction = "mean") -> None:
        super().__init__(reduction)
        self._register_weight("weight", weight)

    def forward(self, input: Any, target: Any) -> Array:
        """The loss of probabilities ``input`` against ``target`` of the same shape, reduced by ``reduction``."""
        return binary_cross_entropy(to_array(input), to_array(target), weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one stable step, like ``torch.nn.BCEWithLogitsLoss``.

    **Arguments:**

    - ``weight``: optional, broadcastable to the input's shape (buffer ``"weight"``).
    - ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``.
    - ``pos_weight``: optional weight of positive targets, broadcastable to the input's
      shape, e.g. ``[C]`` per class on the last axis (buffer ``"pos_weight"``).

    **Call:** ``loss(input, target)`` with logits ``input`` and ``target`` of its
    shape. See ``binary_cross_entropy_with_logits`` in ``snnax_torchlike.nn.loss``.
    """

    def __init__(
        self, weight: ArrayLike | None = None, reduction: Reduction = "mean", pos_weight: ArrayLike | None = None
    ) -> None:
        super().__init__(reduction)
        self._register_weight("weight", weight)
        self._register_weight("pos_weight", pos_weight)

    def forward(self, input: Any, target: Any) -> Array:
        """The loss of logits ``input`` against ``target`` of the same shape, reduced by ``reduction``."""
        return binary_cross_entropy_with_logits(
            to_array(input), to_array(target), weight=self.weight, reduction=self.reduction,
            pos_weight=self.pos_weight,
        )  # fmt: skip


_FUNCTIONAL_CLASSES = {
    "cross_entropy": CrossEntropyLoss,
    "nll_loss": NLLLoss,
    "mse_loss": MSELoss,
    "l1_loss": L1Loss,
    "smooth_l1_loss": SmoothL1Loss,
    "huber_loss": HuberLoss,
    "binary_cross_entropy": BCELoss,
    "binary_cross_entropy_with_logits": BCEWithLogitsLoss,
}
_FUNCTIONAL_MODULES: dict[Any, _Loss] = {}


def _torch_functional(name: str) -> Any:
    """``torch.nn.functional.<name>(t, target, **options)`` on facade tensors, as this module's loss class.

    One loss object per set of hashable options, so a call inside a training loop records
    the same operation every time (a new object per call would compile anew).
    """
    cls = _FUNCTIONAL_CLASSES[name]

    def functional(input: Any, target: Any, **options: Any) -> Any:
        try:
            key = (cls, tuple(sorted(options.items())))
            hash(key)
        except TypeError:  # array options (a class weight): a new loss object
            return cls(**options)(input, target)
        loss = _FUNCTIONAL_MODULES.get(key)
        if loss is None:
            loss = _FUNCTIONAL_MODULES[key] = cls(**options)
        return loss(input, target)

    return functional


for _name in _FUNCTIONAL_CLASSES:
    register_torch_function(_name, _torch_functional(_name))
