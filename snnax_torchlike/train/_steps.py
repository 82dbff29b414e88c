"""The pure functions of one training, evaluation and prediction step, jitted once per input shape."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array

from ..functional.time_mask import mask_padding
from ..imperative import pure_scope
from ..nn.module import Module, bind_parameters
from ..nn.time_loop import traced_forward
from ..optim.optimizer import Optimizer
from ..random import key_scope
from ..snn.precision import precision_scope
from ._accumulation import GradientAccumulation
from ._validation import metric_name


def _select(output: Any, kind: str) -> Array:
    """The network output a loss reads: spikes (first of ``(spk, mem)``) or membrane (second)."""
    if isinstance(output, tuple):
        return output[1] if kind == "membrane" else output[0]
    if kind == "membrane":
        raise ValueError("Trainer: a membrane loss needs a network that returns (spk, mem).")
    return output


def _takes_lengths(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` accepts a ``lengths=`` keyword (every ``functional`` loss does)."""
    try:
        parameter = inspect.signature(fn).parameters.get("lengths")
    except (TypeError, ValueError):  # no signature to read (some builtins)
        return False
    return parameter is not None and parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)


def _mask_time(output: Any, lengths: Array) -> Any:
    """Zero every time-first output ``[T, B, ...]`` (an array or a tuple of them) at the padded steps ``t >= lengths[b]``."""

    def mask(leaf: Array) -> Array:
        batch = lengths.shape[0]
        if leaf.ndim < 2 or leaf.shape[1] != batch:
            raise ValueError(
                f"Trainer: with per-sample lengths every network output must be time-first [T, B, ...] with "
                f"B={batch}, got shape {tuple(leaf.shape)}."
            )
        return mask_padding(leaf, lengths)

    return jax.tree_util.tree_map(mask, output)


def _per_sample(
    fn: Callable[..., Array], output: Array, targets: Array, lengths: Array | None = None, role: str = "loss_fn"
) -> Array:
    """``fn`` evaluated on each sample alone (batch of one), so padded samples can be masked out.

    With ``lengths`` (int ``[B]``) and a ``fn`` that takes them, each sample's
    length is passed as ``lengths=[L_b]``. ``role`` (``"loss_fn"``, ``"metric"``)
    names ``fn`` in errors.
    """
    try:
        if lengths is None or not _takes_lengths(fn):
            return jax.vmap(lambda o, t: _one_value(fn, role, o[:, None], t[None]), in_axes=(1, 0))(output, targets)
        per_sample = jax.vmap(
            lambda o, t, n: _one_value(fn, role, o[:, None], t[None], lengths=n[None]), in_axes=(1, 0, 0)
        )
        return per_sample(output, targets, lengths)
    except (ValueError, TypeError) as error:
        shapes = f"outputs [T, B, ...] {tuple(np.shape(_first_leaf(output)))}, targets {tuple(np.shape(targets))}"
        if shapes in str(error):
            raise
        # The function saw one sample (B=1): say what the batch was, keeping its own message.
        note = f"{error} [Trainer: {role} runs on each sample alone (a batch of one); the batch had {shapes}.]"
        try:
            clearer = type(error)(note)
        except Exception:  # an error type with another constructor: its own message stands
            raise error from None
        raise clearer from error


def _first_leaf(tree: Any) -> Any:
    return jax.tree_util.tree_leaves(tree)[0]


def _one_value(fn: Callable[..., Array], role: str, *args: Any, **kwargs: Any) -> Array:
    """``fn(*args, **kwargs)`` of one sample as a scalar: ``()``, or ``[1]`` (snnTorch's ``reduction="none"``)."""
    where = f"Trainer: {role} {metric_name(fn)}"
    try:
        value = fn(*args, **kwargs)
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
            jax.errors.TracerIntegerConversionError) as error:  # fmt: skip
        raise TypeError(
            f"{where} turned a traced array into a Python or NumPy value (float(), int(), bool(), .item(), "
            "np.asarray(), or an `if` on an array). It runs inside jax.jit: compute with jax.numpy only, and "
            "log extra values with a metric."
        ) from error
    if isinstance(value, (tuple, list)):
        raise ValueError(
            f"{where} returned a {type(value).__name__} of {len(value)} values; a loss or metric must return one "
            "value per sample (a scalar): return only the loss, and log other values with a metric."
        )
    value = jnp.asarray(value)
    if value.size != 1:
        raise ValueError(
            f"{where} gave shape {tuple(value.shape)} for one sample; a loss or metric must give one value per "
            "sample (a scalar)."
        )
    return value.reshape(())


class Guard(NamedTuple):
    """The NaN guard's device-side record: steps run, the first failed step (-1: none) and what was finite then."""

    step: Array
    step_failed: Array
    finite: Array

    @classmethod
    def start(cls, leaves: int) -> Guard:
        return cls(jnp.zeros((), jnp.int32), jnp.full((), -1, jnp.int32), jnp.ones(leaves + 3, bool))


def labels_in_range(output: Any, y: Array, mask: Array) -> Array:
    """Whether integer class labels ``[B]`` of the real samples lie in ``[0, classes)`` (True for other targets)."""
    if y is None or y.ndim != 1 or not jnp.issubdtype(y.dtype, jnp.integer):
        return jnp.asarray(True)
    classes = _select(output, "spikes").shape[-1]
    return jnp.all(((y >= 0) & (y < classes)) | (mask == 0))


def all_finite(x: Array) -> Array:
    """Whether ``x`` holds no NaN or Inf, as a boolean scalar.

    ``x * 0`` is 0 where ``x`` is finite and NaN where it is NaN or infinite, so
    its sum is finite exactly when every element is: one fused multiply-and-sum,
    which allocates nothing the size of ``x`` (``jnp.all(jnp.isfinite(x))`` does on
    XLA:CPU: a boolean copy of the input, 21 MB for W4's batch) and runs at the
    speed of a sum. Sums propagate NaN across devices too, where a cross-device
    max would drop it on a batch-sharded ``x``.
    """
    return jnp.isfinite(jnp.sum(x * 0))


class StepOptions(NamedTuple):
    """What a training step does besides forward, backward and update; static (each setting compiles once).

    - ``accumulation``: how many batches' gradients make one update.
    - ``nan_guard``: skip every update from the first bad step on (see ``Trainer.fit``).
    - ``log_grad_norm``: also sum the global gradient norm, weighted by the batch's samples.
    - ``precision``: the mixed-precision policy the model runs in (``snn.precision``).
    """

    accumulation: GradientAccumulation = GradientAccumulation()
    nan_guard: bool = True
    log_grad_norm: bool = False
    precision: str = "32-true"


class Steps:
    """The jitted steps of one (model, optimizer, loss, metrics) setting.

    Each step is a pure function of arrays: trained parameters, the rest of the
    model's arrays (``frozen``: buffers and untrained parameters), a batch and a
    PRNG key. ``model``, ``optimizer``, ``loss_fn`` and ``metrics`` are read while
    tracing only. ``on_trace(kind)`` is called each time a step is traced, with
    ``"train"`` or ``"eval"`` (how ``Trainer`` counts compilations).
    """

    def __init__(
        self,
        model: Module,
        optimizer: Optimizer | None,
        loss_fn: Callable[[Array, Array], Array] | None,
        metrics: Sequence[Callable[[Array, Array], Array]],
        on_trace: Callable[[str], None],
    ):
        self.model, self.optimizer, self.loss_fn, self.metrics = model, optimizer, loss_fn, tuple(metrics)
        self._on_trace = on_trace
        # Parameters and optimizer state are donated; the guard is not, since fit reads an earlier step's guard.
        self.train = jax.jit(self._train, donate_argnames=("params", "opt_state"), static_argnames=("options",))
        self.flush = jax.jit(self._flush, donate_argnames=("params", "opt_state"), static_argnames=("accumulation",))
        self.evaluate = jax.jit(self._evaluate, static_argnames=("precision",))
        self.predict = jax.jit(self._predict, static_argnames=("precision",))

    def trained(self) -> list:
        """The parameters the optimizer trains, in its order (none without an optimizer)."""
        return [] if self.optimizer is None else self.optimizer.params

    def _forward(
        self, params: tuple[Array, ...], frozen: dict[str, Array], x: Array, key: Array, precision: str
    ) -> Any:
        """The model's time-first outputs for ``x`` ``[T, B, ...]`` with the given arrays bound in."""
        with bind_parameters(self.trained(), params), self.model.bind(frozen), key_scope(key), \
                pure_scope(differentiated=True), precision_scope(precision):  # fmt: skip
            return traced_forward(self.model, x)

    def _loss_and_metric_sums(
        self, output: Any, y: Array, mask: Array, lengths: Array | None
    ) -> tuple[Array, dict[str, Array]]:
        """The batch's mean loss and the per-sample sums of loss and metrics over the real samples.

        **Arguments:** ``output``: time-first network outputs ``[T, B, ...]``;
        ``y``: targets ``[B, ...]``; ``mask``: ``[B]``, 1 for real samples;
        ``lengths``: int ``[B]`` true lengths (outputs at ``t >= lengths[b]`` are
        zeroed first), or None.
        """
        if lengths is not None:
            output = _mask_time(output, lengths)
        kind = getattr(self.loss_fn, "input_kind", "spikes")
        losses = _per_sample(self.loss_fn, _select(output, kind), y, lengths, "loss_fn")
        spikes = _select(output, "spikes")
        sums = {"loss": jnp.sum(losses * mask)}
        for metric in self.metrics:
            sums[metric_name(metric)] = jnp.sum(_per_sample(metric, spikes, y, lengths, "metric") * mask)
        return sums["loss"] / jnp.maximum(jnp.sum(mask), 1.0), sums

    def _train(
        self,
        params: tuple[Array, ...],
        opt_state: Any,
        guard: Guard,
        *,
        frozen: dict[str, Array],
        x: Array,
        y: Array,
        mask: Array,
        lengths: Array | None,
        key: Array,
        options: StepOptions,
    ) -> tuple[tuple[Array, ...], Any, Guard, Array, dict[str, Array]]:
        """Forward over all steps, loss, backpropagation through time and the update.

        **Returns:** ``(params, opt_state, guard, loss, sums)``: ``sums`` holds the
        per-sample sums of the loss and metrics over the real samples.
        """
        self._on_trace("train")

        def objective(trained: tuple[Array, ...]) -> tuple[Array, tuple[dict[str, Array], Array]]:
            output = self._forward(trained, frozen, x, key, options.precision)
            loss, sums = self._loss_and_metric_sums(output, y, mask, lengths)
            return loss, (sums, labels_in_range(output, y, mask))

        (loss, (sums, labels_ok)), grads = jax.value_and_grad(objective, has_aux=True)(params)
        if options.log_grad_norm:  # logged as the batch-size-weighted mean over the epoch's batches
            sums = {**sums, "grad_norm": optax.tree.norm(grads) * jnp.sum(mask)}
        transform = options.accumulation.transform(self.optimizer.transform)
        new_params, new_opt_state = self.optimizer.update(params, opt_state, grads, transform)
        # The guard, on the device (no per-step sync): from the first step with a bad
        # input, an out-of-range label, or a non-finite loss or gradient on, updates are
        # skipped, so the last good parameters survive; the step index and the culprits
        # are kept for the message.
        finite = jnp.stack([all_finite(x), labels_ok, jnp.isfinite(loss)] + [jnp.all(jnp.isfinite(g)) for g in grads])
        healthy = guard.step_failed < 0
        first_failure = healthy & ~jnp.all(finite) & options.nan_guard
        keep = (healthy & jnp.all(finite)) if options.nan_guard else jnp.asarray(True)
        params, opt_state = jax.tree_util.tree_map(
            lambda new, old: jnp.where(keep, new, old), (new_params, new_opt_state), (params, opt_state)
        )
        guard = Guard(
            step=guard.step + 1,
            step_failed=jnp.where(first_failure, guard.step, guard.step_failed),
            finite=jnp.where(first_failure, finite, guard.finite),
        )
        return params, opt_state, guard, loss, sums

    def _flush(
        self, params: tuple[Array, ...], opt_state: Any, *, accumulation: GradientAccumulation
    ) -> tuple[tuple[Array, ...], Any]:
        """The update of a group of accumulated gradients an epoch ended in (see [`GradientAccumulation.flush`][])."""
        return accumulation.flush(self.optimizer.update, params, opt_state)

    def _evaluate(
        self, params: tuple[Array, ...], frozen: dict[str, Array], x: Array, y: Array, mask: Array,
        lengths: Array | None, key: Array, *, precision: str,
    ) -> tuple[dict[str, Array], Array]:  # fmt: skip
        """The per-sample sums of loss and metrics, and ``[input finite, labels in range]``."""
        self._on_trace("eval")
        output = self._forward(params, frozen, x, key, precision)
        _, sums = self._loss_and_metric_sums(output, y, mask, lengths)
        return sums, jnp.stack([all_finite(x), labels_in_range(output, y, mask)])

    def _predict(
        self, params: tuple[Array, ...], frozen: dict[str, Array], x: Array, lengths: Array | None, key: Array,
        *, precision: str,
    ) -> tuple[Any, Array]:  # fmt: skip
        """The outputs (zero at padded steps) and ``[input finite, True]``."""
        output = self._forward(params, frozen, x, key, precision)
        masked = output if lengths is None else _mask_time(output, lengths)
        return masked, jnp.stack([all_finite(x), jnp.asarray(True)])
