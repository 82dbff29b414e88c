"""What snnTorch's losses and accuracy share: compiled calls, input checks, options, weights, population codes."""

from __future__ import annotations

import dataclasses
import functools
import numbers
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ..nn.loss import _check_class_weight_rank, _check_reduction, _class_weight, _floating, _reduce
from ..nn.loss import _check_real as _real_option
from ..nn.module import to_array
from ..snn.concrete import concrete
from .time_mask import mask_padding

InputKind = Literal["spikes", "membrane"]
Reduction = Literal["none", "mean", "sum"]


# -- compiled calls -----------------------------------------------------------------------
@functools.partial(jax.jit, static_argnums=0)
def _compiled(fn: Any, *arrays: Any) -> Any:
    return fn._compute(*arrays)


def compiled(fn: Any, *arrays: Any) -> Any:
    """``fn._compute(*arrays)``, compiled once per configuration of ``fn`` (hashable) and input shapes.

    An eager call then runs as one program (one dispatch, one compilation)
    rather than operation by operation; inside ``jit``/``grad`` it is inlined.
    A configuration holding traced arrays (a weight computed inside ``jit``)
    cannot key a compilation cache: it runs uncompiled.
    """
    if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(vars(fn))):
        return fn._compute(*arrays)
    return _compiled(fn, *arrays)


# -- input checks -------------------------------------------------------------------------
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


def _check_targets(
    name: str, targets: ArrayLike, batch: int, classes: int, outputs_shape: tuple[int, ...] | None = None
) -> Array:
    """Integer class indices ``[B]`` in ``[0, classes)`` (the range is checked when concrete).

    ``outputs_shape``, the ``[T, B, C]`` outputs' shape when known, names them in the error and tells
    batch-first outputs (targets as many as ``T``) from other mistakes.
    """
    targets = to_array(targets)
    if targets.ndim != 1 or targets.shape[0] != batch:
        hint = " (one-hot targets? pass their argmax over classes)." if targets.ndim == 2 else "."
        if outputs_shape is not None and targets.ndim == 1 and targets.shape[0] == outputs_shape[0]:
            hint = (
                ". The outputs look batch-first [B, T, C]: pass them time-first [T, B, C] "
                "(e.g. spk.transpose(0, 1)), as the network returns them."
            )
        seen = "" if outputs_shape is None else f" for outputs [T, B, C] = {outputs_shape}"
        raise ValueError(
            f"{name}: expected class-index targets [B] with B={batch}{seen}, got shape {tuple(targets.shape)}{hint}"
        )
    if not jnp.issubdtype(targets.dtype, jnp.integer):
        raise TypeError(f"{name}: targets must be integer class indices, got dtype {targets.dtype}.")
    values = concrete(targets)
    if values is not None and values.size and (values.min() < 0 or values.max() >= classes):
        raise ValueError(
            f"{name}: targets must lie in [0, {classes}) for {classes} outputs (classes), "
            f"got values in [{values.min()!s}, {values.max()!s}]."
        )
    return targets


def _check_inputs(name: str, outputs: ArrayLike, targets: ArrayLike, classes: int | None = None) -> tuple[Array, Array]:
    """Check time-first ``outputs`` ``[T, B, C]`` and class-index ``targets`` ``[B]``.

    **Arguments:**

    - ``name``: the public function's name, for error messages.
    - ``outputs``, ``targets``: as passed by the user.
    - ``classes``: the number of classes (default: ``C``, one output per class).

    **Returns:** ``(outputs, targets)`` as JAX arrays.
    """
    outputs = _check_outputs(name, outputs)
    _, batch, outputs_count = outputs.shape
    classes = outputs_count if classes is None else classes
    return outputs, _check_targets(name, targets, batch, classes, tuple(outputs.shape))


def _check_real(name: str, argument: str, value: Any) -> float:
    """A Python float of a finite real scalar option, or a ``TypeError`` (not real) or ``ValueError`` (not finite).

    A NaN target or rate would make every loss NaN, which ``fit`` would blame on the step, not the option.
    """
    number = _real_option(name, argument, value, TypeError)
    if not np.isfinite(number):
        raise ValueError(f"{name}: {argument} must be a finite number, got {number}.")
    return number


def _check_flag(name: str, argument: str, value: Any) -> bool:
    """A Python bool of a flag option, or a ``TypeError`` naming it."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name}: {argument} must be True or False, got {type(value).__name__} {value!r}.")
    return bool(value)


# -- masks and NaN guards -----------------------------------------------------------------
def _time_mean(values: Array, lengths: Array | None) -> Array:
    """``values`` ``[T, B, ...]`` averaged over time, per sample over its real steps (0 for length 0)."""
    if lengths is None:
        return jnp.mean(values, axis=0)
    total = jnp.sum(mask_padding(values, lengths), axis=0)
    return total / jnp.maximum(lengths, 1).reshape((-1,) + (1,) * (values.ndim - 2))


def _nan_unless_valid(value: Array, targets: Array, classes: int, lengths: Array | None, steps: int) -> Array:
    """``value``, or NaN when a (traced) target lies outside ``[0, classes)`` or a length outside ``[0, steps]``."""
    valid = jnp.all((targets >= 0) & (targets < classes))
    if lengths is not None:
        valid = valid & jnp.all((lengths >= 0) & (lengths <= steps))
    return jnp.where(valid, value, jnp.nan)


# -- options shared by the losses ---------------------------------------------------------
def _hashable(value: Any) -> Any:
    """A hashable, value-comparable stand-in for an option (an array by its contents when concrete)."""
    if isinstance(value, jax.Array):
        values = concrete(value)
        if values is None:
            return ("traced", id(value))
        return ("array", values.shape, str(values.dtype), values.tobytes())
    return value


class SnnTorchLoss:
    """Base of snnTorch's loss objects: checked ``reduction`` and ``weight``, equality and hash by value.

    Subclasses are frozen dataclasses (``eq=False``, so these ``__eq__`` and
    ``__hash__`` serve) with fields ``reduction`` and ``weight`` and a class
    attribute ``__name__``; ``__post_init__`` calls ``_check_options``. A loss
    made anew every training step thus compares equal to the last one (the
    recorded operation is reused), weights included.
    """

    __name__: str
    reduction: Reduction
    weight: Array | None

    def _check_options(self) -> None:
        """Check ``reduction``; store ``weight`` (``None`` or a 1-D vector) as a floating JAX array."""
        name = self.__name__
        _check_reduction(name, self.reduction)
        if self.weight is not None:
            weight = _floating(name, "weight", _check_class_weight_rank(name, self.weight))
            object.__setattr__(self, "weight", weight)

    def _key(self) -> tuple[Any, ...]:
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        return tuple(_hashable(getattr(self, field.name)) for field in fields)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._key()))

    def _class_weight(self, classes: int) -> Array | None:
        """``weight`` checked against ``classes`` (one entry per class), or ``None``."""
        return None if self.weight is None else _class_weight(self.__name__, self.weight, classes)

    def _reduce(self, loss: Array) -> Array:
        """``loss`` reduced as ``reduction`` says: as is (``"none"``), summed or averaged (plainly)."""
        return _reduce(loss, self.reduction)

    def _weigh_last_axis(self, loss: Array, targets: Array, classes: int) -> Array:
        """``loss * weight[targets]`` with snnTorch's broadcasting: ``[B]`` factors along the LAST axis.

        snnTorch's MSE losses multiply their ``[..., B, C]`` elementwise loss by
        ``weight[targets]`` of shape ``[B]``, which torch broadcasts against the
        class axis: entry ``[..., b, c]`` is scaled by ``weight[targets[c]]``.
        This works in torch only when ``B == C`` (or ``B == 1``), and is kept so
        that results equal snnTorch's; other batch sizes raise, as in snnTorch.
        """
        weight = self._class_weight(classes)
        if weight is None:
            return loss
        batch, last = loss.shape[-2], loss.shape[-1]
        if batch != 1 and batch != last:
            raise ValueError(
                f"{self.__name__}: with weight=, snnTorch multiplies the [B, C] = [{batch}, {last}] loss by "
                f"weight[targets] of shape [B] = [{batch}] broadcast along its last axis, which needs B == C "
                f"or B == 1; got B={batch}, C={last}."
            )
        return loss * weight[targets]


# -- population codes ---------------------------------------------------------------------
def _check_population(name: str, population_code: Any, num_classes: Any) -> None:
    """``population_code`` a bool; with it, ``num_classes`` a positive int (checked when the object is built)."""
    if not _check_flag(name, "population_code", population_code):
        return
    if isinstance(num_classes, bool | np.bool_) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(
            f"{name}: population_code=True needs num_classes, a positive int (the number of classes the "
            f"outputs are grouped into), got {num_classes!r}."
        )


def _population_counts(name: str, spk: Array, num_classes: int) -> Array:
    """Spikes of each class's group of ``C / num_classes`` consecutive outputs, summed over time: ``[B, K]``.

    **Arguments:** ``name``: for errors; ``spk`` ``[T, B, C]``; ``num_classes`` ``K``,
    which must divide ``C``.
    """
    steps, batch, outputs = spk.shape
    if outputs % num_classes:
        raise ValueError(
            f"{name}: with population_code=True the number of outputs must be a multiple of num_classes, "
            f"got {outputs} outputs for num_classes={num_classes}."
        )
    return spk.reshape(steps, batch, num_classes, outputs // num_classes).sum(-1).sum(0)


def _class_targets(targets: Array, classes: int, on_target: Any, off_target: Any) -> Array:
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


# -- straight-through values --------------------------------------------------------------
@jax.custom_jvp
def _straight_through(x: Array, value: Array) -> Array:
    """``value`` (of ``x``'s shape), differentiated as the identity of ``x`` (and not at all in ``value``)."""
    return value


@_straight_through.defjvp
def _straight_through_jvp(primals: tuple[Array, Array], tangents: tuple[Array, Array]) -> tuple[Array, Array]:
    _, value = primals
    x_dot, _ = tangents
    return value, x_dot
