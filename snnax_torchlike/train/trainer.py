"""`Trainer`: fit / evaluate / predict, with every step one pure jitted function."""

from __future__ import annotations

import contextlib
import inspect
import itertools
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.experimental import multihost_utils
from jaxtyping import Array
from tqdm.auto import tqdm

from ..imperative import pure_scope, unwrap
from ..nn.module import Module, bind_parameters
from ..nn.time_loop import keeps_hidden_state, run_over_time
from ..optim.lr_scheduler import LRScheduler
from ..optim.optimizer import Optimizer
from ..random import get_rng_state, key_scope, manual_seed, next_key, set_rng_state
from ._batches import iterate_batches
from ._sharding import data_parallel_mesh, replicated
from .callbacks import Callback
from .checkpoint import load_training_checkpoint, save_training_checkpoint
from .history import History


def _metric_name(metric: Callable[..., Any]) -> str:
    return getattr(metric, "__name__", type(metric).__name__)


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
    """Zero every time-first output ``[T, B, ...]`` at the padded steps ``t >= lengths[b]``.

    **Arguments:** ``output``: an array or a tuple of arrays, each ``[T, B, ...]``;
    ``lengths``: int ``[B]``.

    **Returns:** the same structure, zero wherever ``t >= lengths[b]``.
    """

    def mask(leaf: Array) -> Array:
        batch = lengths.shape[0]
        if leaf.ndim < 2 or leaf.shape[1] != batch:
            raise ValueError(
                f"Trainer: with per-sample lengths every network output must be time-first [T, B, ...] with "
                f"B={batch}, got shape {tuple(leaf.shape)}."
            )
        real = jnp.arange(leaf.shape[0])[:, None] < lengths[None, :]  # [T, B]
        return jnp.where(real.reshape(real.shape + (1,) * (leaf.ndim - 2)), leaf, jnp.zeros((), leaf.dtype))

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
    where = f"Trainer: {role} {_metric_name(fn)}"
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


# The hooks Trainer calls, with the arguments it passes.
_HOOKS = {
    "on_fit_start": ("trainer",),
    "on_train_epoch_start": ("trainer", "epoch"),
    "on_train_batch_end": ("trainer", "batch_index", "loss"),
    "on_train_epoch_end": ("trainer", "epoch", "logs"),
    "on_fit_end": ("trainer",),
}
_HOOK_LIST = ", ".join(f"{hook}({', '.join(arguments)})" for hook, arguments in _HOOKS.items())
# Names the trainer logs itself: a metric of the same name would overwrite them.
_LOGGED_NAMES = ("loss", "lr", "grad_norm")


def _check_function(where: str, fn: Any, example: str) -> None:
    """Refuse, when the Trainer is built, a loss or metric that cannot be called as ``fn(outputs, targets)``.

    ``example`` is a suitable function, named in the error.
    """
    if isinstance(fn, type):
        raise TypeError(
            f"Trainer: {where} is the class {fn.__name__}, not a function; pass an instance: {fn.__name__}()."
        )
    if not callable(fn):
        raise TypeError(
            f"Trainer: {where} is the {type(fn).__name__} {fn!r}, not a function of (outputs, targets); pass a "
            f"function such as {example}."
        )
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to read (some builtins): the first call tells
        return
    try:
        signature.bind(None, None)
    except TypeError:
        raise TypeError(
            f"Trainer: {where} {_metric_name(fn)} must accept two arguments (outputs, targets), but its signature "
            f"is {signature}."
        ) from None


def _checked_metrics(metrics: Any) -> list[Callable[[Array, Array], Array]]:
    """``metrics`` as a list of functions with distinct log names, or a clear error."""
    if isinstance(metrics, (str, bytes, Mapping)) or callable(metrics):
        described = f"the {type(metrics).__name__} {metrics!r}" if not callable(metrics) else _metric_name(metrics)
        raise TypeError(
            f"Trainer: metrics must be a list of functions metric(spikes, targets), e.g. "
            f"[functional.accuracy_rate], each logged under its __name__; got {described}."
        )
    metrics = list(metrics)
    seen: dict[str, int] = {}
    for index, metric in enumerate(metrics):
        _check_function(f"metrics[{index}]", metric, "functional.accuracy_rate")
        name = _metric_name(metric)
        if name in _LOGGED_NAMES:
            raise ValueError(
                f"Trainer: metrics[{index}] is named {name!r}, which the trainer logs itself, so one would overwrite "
                "the other; rename the metric function (or set its __name__)."
            )
        if name in seen:
            raise ValueError(
                f"Trainer: metrics[{seen[name]}] and metrics[{index}] have the same name {name!r}, so one would "
                "overwrite the other in the logs; give them distinct names (def functions, or set __name__)."
            )
        seen[name] = index
    return metrics


def _checked_callbacks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a list of [`Callback`][] objects whose hooks Trainer can call, or a clear error."""
    if isinstance(callbacks, (Callback, type)):
        name = callbacks.__name__ if isinstance(callbacks, type) else type(callbacks).__name__
        raise TypeError(f"Trainer: callbacks must be a list of Callback objects, got one {name}; pass callbacks=[...].")
    callbacks = list(callbacks)
    for index, callback in enumerate(callbacks):
        if isinstance(callback, type) and issubclass(callback, Callback):
            raise TypeError(
                f"Trainer: callbacks[{index}] is the class {callback.__name__}, not an instance; pass "
                f"{callback.__name__}(...)."
            )
        if not isinstance(callback, Callback):
            raise TypeError(
                f"Trainer: callbacks[{index}] is a {type(callback).__name__}, not a Callback; subclass "
                "snnax_torchlike.Callback and override its on_* hooks."
            )
        _check_hooks(f"Trainer: callbacks[{index}] ({type(callback).__name__})", callback)
    return callbacks


def _check_hooks(where: str, callback: Callback) -> None:
    """Refuse hooks Trainer would never call (Keras' and Lightning's other names) or call with the wrong arguments."""
    own = [vars(cls) for cls in type(callback).__mro__ if cls not in (Callback, object)]
    unknown = sorted({name for names in own for name in names if name.startswith("on_") and name not in _HOOKS})
    if unknown:
        raise TypeError(
            f"{where} defines {unknown}, which Trainer never calls; its hooks are {_HOOK_LIST} (Keras' "
            "on_epoch_end(epoch, logs) is on_train_epoch_end(trainer, epoch, logs))."
        )
    for hook, arguments in _HOOKS.items():
        if not any(hook in names for names in own):
            continue
        try:
            signature = inspect.signature(getattr(callback, hook))
        except (TypeError, ValueError):
            continue
        try:
            signature.bind(*arguments)
        except TypeError:
            raise TypeError(
                f"{where}.{hook} must take ({', '.join(arguments)}), but its signature is {signature}."
            ) from None


class _Means:
    """Per-sample sums of the loss and metrics over batches, and their means."""

    def __init__(self) -> None:
        self.sums: dict[str, Array] = {}
        self.count = 0

    def add(self, batch_sums: dict[str, Array], size: int) -> None:
        self.sums = batch_sums if not self.sums else jax.tree_util.tree_map(jnp.add, self.sums, batch_sums)
        self.count += size

    def means(self, empty_message: str) -> dict[str, float]:
        if self.count == 0:
            raise ValueError(empty_message)
        return {name: float(total) / self.count for name, total in self.sums.items()}


class _Guard(NamedTuple):
    """The NaN guard's device-side record: steps run, the first failed step (-1: none) and what was finite then."""

    step: Array
    step_failed: Array
    finite: Array

    @classmethod
    def start(cls, leaves: int) -> _Guard:
        return cls(jnp.zeros((), jnp.int32), jnp.full((), -1, jnp.int32), jnp.ones(leaves + 3, bool))


def _labels_in_range(output: Any, y: Array, mask: Array) -> Array:
    """Whether integer class labels ``[B]`` of the real samples lie in ``[0, classes)`` (True for other targets)."""
    if y is None or y.ndim != 1 or not jnp.issubdtype(y.dtype, jnp.integer):
        return jnp.asarray(True)
    classes = _select(output, "spikes").shape[-1]
    return jnp.all(((y >= 0) & (y < classes)) | (mask == 0))


def _all_finite(x: Array) -> Array:
    """Whether ``x`` holds no NaN or Inf, as a boolean scalar.

    A finite sum proves it (NaN and Inf propagate through sums); only when the
    sum is not finite, which a huge but finite input can also cause, does the
    exact test run. XLA's CPU sum is several times faster than an elementwise
    test, which takes ~5% of a small MLP's training step. The exact test is a
    logical AND, not ``isfinite(max(abs(x)))``: on a batch-sharded ``x`` the
    cross-device max (an all-reduce) drops NaN, so a NaN outside the first shard
    would pass.
    """
    return jax.lax.cond(jnp.isfinite(jnp.sum(x)), lambda: jnp.asarray(True), lambda: jnp.all(jnp.isfinite(x)))


def _private_copies(tree: Any) -> Any:
    """Copies of every array in ``tree``, for the training step to donate: arrays the user holds stay valid."""
    return jax.tree_util.tree_map(jnp.copy, tree)


def _warn_if_shuffle_not_resumable(loader: Iterable[Any]) -> None:
    """Warn that resuming with a shuffling torch ``DataLoader`` does not repeat the uninterrupted run's batches.

    The checkpoint holds this library's PRNG, not torch's: a ``RandomSampler``
    draws each epoch's order from torch's global RNG (no ``generator``) or from its
    own generator, and either restarts where the new process seeds it, not where
    the interrupted run left it. Recognised by duck typing (torch is not imported).
    """
    sampler = getattr(loader, "sampler", None)
    if type(sampler).__name__ != "RandomSampler" or not hasattr(sampler, "generator"):
        return
    source = (
        "torch's global RNG (no generator= was given)"
        if sampler.generator is None
        else "its generator, which the checkpoint does not hold (seeding it once is not enough: it restarts "
        "at its seed, not at the epoch the run stopped in)"
    )
    warnings.warn(
        f"Trainer.fit: resuming with a shuffling DataLoader (RandomSampler) whose order comes from {source}, "
        "so the resumed epochs see other batches than the uninterrupted run and the result differs. For exact "
        "resumption, pass DataLoader(..., generator=torch.Generator()) and seed it at the start of every epoch "
        "from a callback: on_train_epoch_start(trainer, epoch) calls loader.generator.manual_seed(s + epoch). "
        "If you do that already, filter this warning.",
        UserWarning,
        stacklevel=3,
    )


def _positive_int(caller: str, name: str, value: Any) -> int:
    """``value`` if it is an int ``>= 1``, else a clear error (never rounded or clamped)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{caller}: {name} must be an int >= 1, got {value!r} ({type(value).__name__}).")
    if value < 1:
        raise ValueError(f"{caller}: {name} must be an int >= 1, got {value}.")
    return int(value)


class NonFiniteError(FloatingPointError):
    """A NaN or Inf (or an out-of-range class label) met by ``fit``, whose model then holds the parameters of
    the last good step, or in the data given to ``evaluate``/``predict``."""


def _raise_on_bad_batches(caller: str, checks: list[Array]) -> None:
    """Raise [`NonFiniteError`][] naming the first batch whose input had NaN/Inf or whose labels were out of range.

    ``checks``: per batch, ``[input finite, labels in range]``, read once at the end so
    the loop never waits for the device. The threshold turns NaN into "no spike", so
    without this a NaN input would give normal-looking outputs.
    """
    if not checks:
        return
    flags = np.asarray(jnp.stack(checks))
    for index, (finite, labels_ok) in enumerate(flags):
        if not finite:
            raise NonFiniteError(f"{caller}: batch {index} (counting from 0) has NaN or Inf in its input.")
        if not labels_ok:
            raise NonFiniteError(
                f"{caller}: batch {index} (counting from 0) has class labels outside [0, number of outputs)."
            )


def _resume_scheduler(scheduler: LRScheduler | None, start_epoch: int, train_loader: Iterable[Any]) -> None:
    """Move a scheduler built fresh for a resumed run to where the interrupted run left its schedule.

    The checkpoint holds the optimizer's learning rate but not the scheduler; a
    fresh one would restart its schedule at the resumed epoch. A scheduler that
    was already moved (``load_state_dict``, ``last_epoch``) is left as it is.
    """
    if scheduler is None or scheduler.last_epoch != 0 or start_epoch == 0:
        return
    if scheduler.interval == "epoch":
        scheduler.last_epoch = start_epoch
    elif hasattr(train_loader, "__len__"):
        scheduler.last_epoch = start_epoch * len(train_loader)
    else:
        raise ValueError(
            f"Trainer.fit: resuming at epoch {start_epoch + 1} with a fresh per-batch {type(scheduler).__name__}, "
            "but the loader has no len() to tell how many batches the finished epochs had; restore the scheduler "
            "first (scheduler.load_state_dict(...), or set scheduler.last_epoch to the batches already trained)."
        )
    scheduler._apply()


def _check_scheduler_length(
    scheduler: LRScheduler | None, train_loader: Iterable[Any], epochs: int, max_batches: int | None
) -> None:
    """Refuse, before any step, a per-batch schedule of ``total_steps`` that this fit would run past."""
    total = getattr(scheduler, "total_steps", None)
    if scheduler is None or scheduler.interval != "step" or total is None or not hasattr(train_loader, "__len__"):
        return
    per_epoch = len(train_loader) if max_batches is None else min(len(train_loader), max_batches)
    needed = scheduler.last_epoch + epochs * per_epoch
    if needed > total:
        raise ValueError(
            f"Trainer.fit: {type(scheduler).__name__} has total_steps={total}, but this fit steps it once per "
            f"batch, {epochs} epoch(s) x {per_epoch} batches = {epochs * per_epoch} times"
            + (f" after its {scheduler.last_epoch} earlier steps" if scheduler.last_epoch else "")
            + f"; build it with total_steps={needed} (epochs * len(loader))."
        )


class Trainer:
    """Trains a facade network, Keras/Lightning style, on pure jitted steps.

    Per batch, one compiled function runs forward over all time steps, the loss,
    backpropagation through time and the optimizer update. Parameters and
    optimizer state live in that function's arrays during an epoch (donated to it,
    never exposed) and are written back into the network at the end of each epoch,
    before callbacks and validation run (the Keras rule: sync when someone looks).

    **Arguments:**

    - ``model``: an ``nn.Module`` whose ``forward`` maps a time-first batch
      ``[T, B, ...]`` to time-first outputs (``(spk, mem)`` or one array).
    - ``optimizer``: an ``optim`` optimizer over ``model.parameters()`` (``None``
      for evaluation or prediction only).
    - ``loss_fn``: ``loss_fn(outputs, targets) -> scalar``, a mean over the batch
      (every ``functional`` loss is). It receives the spikes, or the membrane when
      it declares ``input_kind = "membrane"``.
    - ``metrics``: functions ``metric(spk, targets) -> scalar`` (batch means), e.g.
      ``functional.accuracy_rate``; logged under their ``__name__``.
    - ``callbacks``: [`Callback`][] objects.
    - ``progress``: show a tqdm bar (default True).
    - ``devices``: data parallelism over several devices: ``"all"``, a count, or a
      list of ``jax.Device`` (default None: one device). Batches are split over a
      ``Mesh`` axis ``"data"``, parameters and optimizer state replicated, and the
      step stays one ``jax.jit`` (XLA adds the gradient all-reduce), so results
      equal the single-device run on the same global batches. The global batch must
      divide by the device count. Under ``jax.distributed.initialize`` (several
      processes), each process's loader yields its part of every global batch and
      only process 0 writes checkpoints.

    Losses and metrics are evaluated per sample and averaged over the real samples,
    so the last, smaller batch of an epoch is padded to the first batch's size
    and masked: every epoch compiles one training step, once.

    **Variable-length sequences.** A loader may yield ``(x, y, lengths)``, with
    ``lengths`` int ``[B]`` the true number of time steps of each sample of a
    batch padded in time (``interop.collate_padded`` produces this form). Steps
    ``t >= lengths[b]`` then do not count: every network output is set to zero
    there before the loss and metrics (and in ``predict``), and the loss and
    metrics that accept a ``lengths=`` keyword (every ``functional`` loss) receive
    each sample's length, so their time means and maxima run over its real steps
    only: on a causal network, a padded batch gives the losses and metrics of the
    unpadded sequences. A function without ``lengths`` sees the zeroed outputs
    over all ``T`` steps: spike counts (e.g. ``accuracy_rate``) are exact, a mean
    over time counts the padded steps in its denominator, and a membrane loss
    sees zeros there. Lengths are data, not shapes: one compiled step serves all
    of them.
    """

    def __init__(
        self,
        model: Module,
        optimizer: Optimizer | None,
        loss_fn: Callable[[Array, Array], Array] | None,
        *,
        metrics: Sequence[Callable[[Array, Array], Array]] = (),
        callbacks: Sequence[Callback] = (),
        progress: bool = True,
        log_every_n_steps: int = 10,
        devices: int | Sequence[Any] | str | None = None,
    ):
        if not isinstance(model, Module):
            raise TypeError(f"Trainer: model must be an nn.Module, got {type(model).__name__}.")
        if optimizer is not None and not isinstance(optimizer, Optimizer):
            raise TypeError(f"Trainer: optimizer must come from snnax_torchlike.optim, got {type(optimizer).__name__}.")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metrics = _checked_metrics(metrics)
        self.callbacks = callbacks
        self.progress = progress
        self.log_every_n_steps = _positive_int("Trainer", "log_every_n_steps", log_every_n_steps)
        self.should_stop = False
        self.trace_count = 0
        """How many times the training step was traced (compiled); one per input shape."""
        self.eval_trace_count = 0
        self.history = History()
        self.current_epoch = 0
        self.devices = devices
        self._compiled_for: tuple | None = None
        self._compile_steps()

    @property
    def callbacks(self) -> list[Callback]:
        """The [`Callback`][] objects ``fit`` calls; assigning a new list checks it."""
        return self._callbacks

    @callbacks.setter
    def callbacks(self, callbacks: Sequence[Callback]) -> None:
        self._callbacks = _checked_callbacks(callbacks)

    def _compile_steps(self) -> None:
        """(Re)make the jitted steps when what they read while tracing (loss, metrics, optimizer) changed.

        Those are closed over, not arguments: assigning ``trainer.loss_fn = ...`` after a
        step would otherwise keep running the old one silently. A changed loss or
        metric list is checked first.
        """
        previous = self._compiled_for
        if previous is None or previous[0] is not self.loss_fn or previous[2:] != tuple(self.metrics):
            if self.loss_fn is not None:
                _check_function("loss_fn", self.loss_fn, "functional.ce_rate_loss()")
            self.metrics = _checked_metrics(self.metrics)
        setting = (self.loss_fn, self.optimizer, *self.metrics)
        if previous is not None and len(previous) == len(setting) and all(a is b for a, b in zip(previous, setting)):
            return
        self._compiled_for = setting
        # Parameters and optimizer state are donated; the guard is not, since fit reads an earlier step's guard.
        self._train_step = jax.jit(self._pure_train_step, donate_argnums=(0, 1), static_argnums=(9, 10))
        self._flush_step = jax.jit(self._pure_flush_step, donate_argnums=(0, 1))
        self._eval_step = jax.jit(self._pure_eval_step)
        self._predict_step = jax.jit(self._pure_predict_step)

    @property
    def devices(self) -> int | Sequence[Any] | str | None:
        """The devices of data-parallel runs (see the class docstring); setting it rebuilds the mesh."""
        return self._devices

    @devices.setter
    def devices(self, devices: int | Sequence[Any] | str | None) -> None:
        self.mesh = data_parallel_mesh(devices)
        self._devices = devices

    def _replicate(self, tree: Any) -> Any:
        """Copies of ``tree`` on every device of the mesh (as is without one)."""
        return tree if self.mesh is None else jax.device_put(tree, replicated(self.mesh))

    # -- pure functions (traced once per input shape) --------------------------------
    def _trained(self) -> list:
        return [] if self.optimizer is None else self.optimizer.params

    def _frozen_arrays(self) -> dict[str, Array]:
        """Parameters the optimizer does not train, and buffers: inputs to the step, not constants.

        A trained parameter reached under several names (a layer used twice, tied
        weights) is left out under every one of them: binding any of its names to a
        constant would cut its gradient.
        """
        trained = {id(p) for p in self._trained()}
        trained_names = {
            name
            for name, owner, attr, kind in self.model._state_slots()
            if kind == "parameter" and id(owner._parameters[attr]) in trained
        }
        return {name: array for name, array in self.model.named_arrays().items() if name not in trained_names}

    def _forward(self, trained: tuple[Array, ...], frozen: dict[str, Array], x: Array, key: Array) -> Any:
        with bind_parameters(self._trained(), trained), self.model.bind(frozen), key_scope(key), pure_scope(differentiated=True):
            if keeps_hidden_state(self.model):
                return run_over_time(self.model, x)
            return unwrap(self.model(x))

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
            sums[_metric_name(metric)] = jnp.sum(_per_sample(metric, spikes, y, lengths, "metric") * mask)
        return sums["loss"] / jnp.maximum(jnp.sum(mask), 1.0), sums

    def _pure_train_step(self, trained, opt_state, guard, frozen, x, y, mask, lengths, key, accumulate, options):
        self.trace_count += 1  # runs only while tracing: counts compilations

        def objective(params):
            output = self._forward(params, frozen, x, key)
            loss, sums = self._loss_and_metric_sums(output, y, mask, lengths)
            return loss, (sums, _labels_in_range(output, y, mask))

        (loss, (sums, labels_ok)), grads = jax.value_and_grad(objective, has_aux=True)(trained)
        nan_guard, log_grad_norm = options
        if log_grad_norm:  # logged as the batch-size-weighted mean over the epoch's batches
            sums = {**sums, "grad_norm": optax.tree.norm(grads) * jnp.sum(mask)}
        transform = None if accumulate == 1 else optax.MultiSteps(self.optimizer.transform, accumulate)
        new_trained, new_opt_state = self.optimizer.update(trained, opt_state, grads, transform)
        # The guard, on the device (no per-step sync): from the first step with a bad
        # input, an out-of-range label, or a non-finite loss or gradient on, updates are
        # skipped, so the last good parameters survive; the step index and the culprits
        # are kept for the message.
        checks = [_all_finite(x), labels_ok, jnp.isfinite(loss)]
        finite = jnp.stack(checks + [jnp.all(jnp.isfinite(g)) for g in grads])
        first_failure = jnp.logical_and(guard.step_failed < 0, ~jnp.all(finite)) & nan_guard
        keep = jnp.logical_and(guard.step_failed < 0, jnp.all(finite)) if nan_guard else jnp.asarray(True)
        trained, opt_state = jax.tree_util.tree_map(
            lambda new, old: jnp.where(keep, new, old), (new_trained, new_opt_state), (trained, opt_state)
        )
        guard = _Guard(
            step=guard.step + 1,
            step_failed=jnp.where(first_failure, guard.step, guard.step_failed),
            finite=jnp.where(first_failure, finite, guard.finite),
        )
        return trained, opt_state, guard, loss, sums

    def _pure_flush_step(self, trained: tuple[Array, ...], opt_state: optax.MultiStepsState) -> tuple[Any, Any]:
        """Apply a group of accumulated gradients the epoch ended in the middle of (their mean), as Lightning
        steps at the end of an epoch; nothing then carries over into the next epoch or a checkpoint."""
        new_trained, new_inner = self.optimizer.update(trained, opt_state.inner_opt_state, opt_state.acc_grads)
        pending = opt_state.mini_step > 0
        trained, inner = jax.tree_util.tree_map(
            lambda new, old: jnp.where(pending, new, old), (new_trained, new_inner), (trained, opt_state.inner_opt_state)
        )
        return trained, opt_state._replace(
            inner_opt_state=inner,
            mini_step=jnp.zeros_like(opt_state.mini_step),
            gradient_step=opt_state.gradient_step + pending.astype(opt_state.gradient_step.dtype),
            acc_grads=jax.tree_util.tree_map(jnp.zeros_like, opt_state.acc_grads),
        )

    def _pure_eval_step(self, trained, frozen, x, y, mask, lengths, key):
        self.eval_trace_count += 1
        output = self._forward(trained, frozen, x, key)
        _, sums = self._loss_and_metric_sums(output, y, mask, lengths)
        return sums, jnp.stack([_all_finite(x), _labels_in_range(output, y, mask)])

    def _pure_predict_step(self, trained, frozen, x, lengths, key):
        output = self._forward(trained, frozen, x, key)
        checks = jnp.stack([_all_finite(x), jnp.asarray(True)])
        return (output if lengths is None else _mask_time(output, lengths)), checks

    # -- loops ----------------------------------------------------------------------
    @contextlib.contextmanager
    def _mode(self, training: bool) -> Iterator[None]:
        """Train or eval mode (dropout on/off) for the block; the previous mode comes back after."""
        previous = self.model.training
        self.model.train(training)
        try:
            yield
        finally:
            self.model.train(previous)

    def _bar(self, loader: Iterable[Any], desc: str) -> tqdm:
        total = len(loader) if hasattr(loader, "__len__") else None
        return tqdm(total=total, desc=desc, disable=not self.progress, leave=False, dynamic_ncols=True)

    def _check_optimizer_fits_model(self, scheduler: LRScheduler | None) -> None:
        """Refuse, before any step, an optimizer or scheduler that would silently train nothing or the wrong thing."""
        names = {id(p): name for name, p in self.model.named_parameters()}
        foreign = [index for index, p in enumerate(self.optimizer.params) if id(p) not in names]
        if foreign:
            trained = {id(p) for p in self.optimizer.params}
            untrained = [name for name, p in self.model.named_parameters() if p.requires_grad and id(p) not in trained]
            raise ValueError(
                f"Trainer.fit: {len(foreign)} of the optimizer's {len(self.optimizer.params)} parameters are not in "
                "the model (was the optimizer built for another network, or were the model's parameters replaced "
                f"after it was built?), and it would not train the model's {untrained}; build it from "
                "model.parameters()."
            )
        frozen = [names[id(p)] for p in self.optimizer.params if not p.requires_grad]
        if frozen:
            raise ValueError(
                f"Trainer.fit: {frozen} have requires_grad=False but the optimizer was built while they were "
                "trained; build the optimizer after freezing them."
            )
        unfrozen = [names[id(p)] for p in self.optimizer.unfrozen_since_built() if id(p) in names]
        if unfrozen:
            raise ValueError(
                f"Trainer.fit: {unfrozen} had requires_grad=False when the optimizer was built, so it leaves them "
                "out, and have been unfrozen since: they would not be trained (torch's optimizer would train "
                "them). Build the optimizer after unfreezing them."
            )
        if scheduler is not None and scheduler.optimizer is not self.optimizer:
            raise ValueError("Trainer.fit: the scheduler was built for another optimizer than the trainer's.")

    def _require(self, *, optimizer: bool) -> None:
        if self.loss_fn is None:
            raise ValueError("Trainer: a loss_fn is needed to train or evaluate.")
        if optimizer and self.optimizer is None:
            raise ValueError("Trainer: an optimizer is needed to fit.")

    def fit(
        self,
        train_loader: Iterable[Any],
        epochs: int = 1,
        *,
        val_loader: Iterable[Any] | None = None,
        time_first: bool = True,
        scheduler: LRScheduler | None = None,
        accumulate_grad_batches: int = 1,
        fast_dev_run: bool | int = False,
        seed: int | None = None,
        ckpt_path: str | os.PathLike | None = None,
        resume: str | os.PathLike | None = None,
        terminate_on_nan: bool = True,
        log_grad_norm: bool = False,
    ) -> History:
        """Train for ``epochs`` passes over ``train_loader``.

        **Arguments:**

        - ``train_loader``: any iterable of ``(x, y)`` batches (numpy, JAX, torch
          tensors, e.g. a torch ``DataLoader``), re-iterated every epoch; or of
          ``(x, y, lengths)`` batches of sequences padded in time, ``lengths`` int
          ``[B]`` in ``[1, T]`` (see the class docstring: padded steps do not count).
          Lengths are checked on the host before each step: a shape other than
          ``[B]``, a non-integer dtype or a value outside ``[1, T]`` raises.
        - ``epochs``: the total number of passes (a resumed run counts the
          finished ones).
        - ``val_loader``: evaluated after every epoch; logged as ``val_...``.
        - ``time_first``: ``x`` is ``[T, B, ...]`` (default, as snnTorch) or, with
          ``False``, ``[B, T, ...]``.
        - ``scheduler``: an ``optim.lr_scheduler`` scheduler, stepped per epoch or
          per batch (its ``interval``).
        - ``accumulate_grad_batches``: update once every ``k`` batches with the mean
          of their gradients (``optax.MultiSteps``).
        - ``fast_dev_run``: run only ``n`` batches (``True``: 1) of training and
          validation for one epoch, to check that everything runs.
        - ``seed``: reset ``snnax_torchlike.random`` first (dropout, encoders), for
          reproducible runs.
        - ``ckpt_path`` (or its Keras-style alias ``resume``): resume from a checkpoint written by
          [`save_checkpoint`][] (or ``ModelCheckpoint``): weights, optimizer state,
          epoch, history and PRNG position, so the run ends as an uninterrupted one.
        - ``terminate_on_nan``: stop at the first step whose input holds NaN/Inf,
          whose integer class labels fall outside ``[0, outputs)``, or whose loss or
          gradients are not finite, raising [`NonFiniteError`][] that names the step
          and the first culprit; the model keeps the last good step's parameters.
          Checked on the device with no per-step synchronisation. Default True.
        - ``log_grad_norm``: also log ``grad_norm``, the global gradient norm
          (mean over the epoch's batches, weighted by their size).

        ``Ctrl-C`` (``KeyboardInterrupt``) ends ``fit`` cleanly: the model holds the
        parameters of the last completed step and the returned history the
        finished epochs.

        **Returns:** a [`History`][] of per-epoch means of the loss and metrics,
        ``val_``-prefixed validation results, and ``lr``, the learning rate at the
        end of each epoch.
        """
        self._require(optimizer=True)
        self._compile_steps()
        if not isinstance(epochs, (int, np.integer)) and hasattr(epochs, "__iter__"):
            raise TypeError(
                f"Trainer.fit: epochs must be an int >= 1, got a {type(epochs).__name__}; pass validation data by "
                "keyword: fit(train_loader, epochs, val_loader=...)."
            )
        epochs = _positive_int("Trainer.fit", "epochs", epochs)
        accumulate_grad_batches = _positive_int("Trainer.fit", "accumulate_grad_batches", accumulate_grad_batches)
        self._check_optimizer_fits_model(scheduler)
        max_batches = None if not fast_dev_run else int(fast_dev_run)
        if max_batches is not None:
            epochs = 1
        if seed is not None:
            manual_seed(seed)
        self.history = History()
        start_epoch = 0
        if resume is not None:
            if ckpt_path is not None and os.fspath(ckpt_path) != os.fspath(resume):
                raise ValueError("Trainer.fit: pass the checkpoint as ckpt_path= or resume=, not two different paths.")
            ckpt_path = resume
        if ckpt_path is not None:
            start_epoch = self._restore(ckpt_path) + 1
            if start_epoch >= epochs:
                raise ValueError(
                    f"Trainer.fit: the checkpoint finished {start_epoch} epoch(s) and epochs={epochs} counts them "
                    f"too (it is the total), so nothing would train; pass epochs > {start_epoch}. The model "
                    "holds the checkpoint's weights."
                )
            _warn_if_shuffle_not_resumable(train_loader)
            _resume_scheduler(scheduler, start_epoch, train_loader)
        _check_scheduler_length(scheduler, train_loader, epochs - start_epoch, max_batches)
        if isinstance(val_loader, Iterator) and epochs - start_epoch > 1:
            raise ValueError(
                "Trainer.fit: val_loader is a generator or iterator, which the first validation consumes, so "
                "later epochs would validate on nothing; pass a re-iterable loader (a list, a DataLoader)."
            )
        self.should_stop = False
        for callback in self.callbacks:
            callback.on_fit_start(self)
        optimizer = self.optimizer
        accumulate = int(accumulate_grad_batches)
        trained, opt_state = _private_copies((tuple(p.data for p in optimizer.params), optimizer.state))
        if accumulate > 1:
            opt_state = (
                optax.MultiSteps(optimizer.transform, accumulate).init(trained)._replace(inner_opt_state=opt_state)
            )
        frozen = self._frozen_arrays()
        guard = _Guard.start(len(trained))
        trained, opt_state, frozen, guard = self._replicate((trained, opt_state, frozen, guard))
        options = (bool(terminate_on_nan), bool(log_grad_norm))
        for epoch in range(start_epoch, epochs):
            self.current_epoch = epoch
            if epoch > start_epoch:  # the model holds the arrays of the epoch before (written back)
                trained, opt_state = _private_copies((trained, opt_state))
            for callback in self.callbacks:
                callback.on_train_epoch_start(self, epoch)
            if scheduler is not None:
                self._sync_hyperparameters(opt_state, accumulate)
            means = _Means()
            batches = itertools.islice(
                iterate_batches(train_loader, time_first=time_first, mesh=self.mesh, caller="Trainer.fit: "), max_batches
            )
            try:
                # The guard and the bar's loss are read one log interval late: by then their step has run,
                # so reading them never makes the host wait for the step it has just dispatched.
                logged: tuple[_Guard, Array] | None = None
                with self._mode(True), self._bar(train_loader, f"Epoch {epoch + 1}/{epochs}") as bar:
                    for index, batch in enumerate(batches):
                        trained, opt_state, guard, loss, batch_sums = self._train_step(
                            trained, opt_state, guard, frozen, batch.x, batch.y, batch.mask, batch.lengths,
                            next_key(), accumulate, options,
                        )  # fmt: skip
                        means.add(batch_sums, batch.size)
                        if scheduler is not None and scheduler.interval == "step":
                            scheduler.step()
                            self._sync_hyperparameters(opt_state, accumulate)
                        for callback in self.callbacks:
                            callback.on_train_batch_end(self, index, loss)
                        bar.update(1)
                        if index % self.log_every_n_steps == 0:
                            if logged is not None:
                                self._check_guard(logged[0], trained, opt_state, accumulate)
                                if self.progress:
                                    bar.set_postfix(loss=f"{float(logged[1]):.4f}")
                            logged = (guard, loss)
            except KeyboardInterrupt:
                self._write_back(trained, opt_state, accumulate)
                tqdm.write(
                    f"Trainer.fit: interrupted in epoch {epoch + 1}; the model holds the last completed step's "
                    f"parameters, the history the {len(self.history.epoch)} finished epoch(s)."
                )
                break
            if accumulate > 1:
                trained, opt_state = self._flush_step(trained, opt_state)
            self._check_guard(guard, trained, opt_state, accumulate)
            empty = "Trainer.fit: the training loader yielded no batches."
            if epoch > start_epoch:
                empty = (
                    f"Trainer.fit: the training loader yielded no batches in epoch {epoch + 1} (epoch "
                    f"{start_epoch + 1} had some): a generator or iterator can be consumed only once. Pass a "
                    "re-iterable loader (a list, a DataLoader) to train for several epochs."
                )
            logs = means.means(empty)
            self._write_back(trained, opt_state, accumulate)
            logs["lr"] = optimizer.lr  # the rate this epoch ended with (a learning-rate monitor)
            if scheduler is not None and scheduler.interval == "epoch":
                scheduler.step()
            if val_loader is not None:
                val_batches = val_loader if max_batches is None else list(itertools.islice(val_loader, max_batches))
                val_logs = self._evaluate(val_batches, time_first, "Trainer.fit: val_loader ")
                logs.update({f"val_{name}": value for name, value in val_logs.items()})
            self.history.append(epoch, logs)
            if self.progress:
                tqdm.write(f"Epoch {epoch + 1}/{epochs}: " + ", ".join(f"{k}={v:.4f}" for k, v in logs.items()))
            for callback in self.callbacks:
                callback.on_train_epoch_end(self, epoch, logs)
            if self.should_stop:
                break
        for callback in self.callbacks:
            callback.on_fit_end(self)
        return self.history

    def _write_back(self, trained: tuple[Array, ...], opt_state: Any, accumulate: int) -> None:
        """Point the model's parameters and the optimizer's state at the step's arrays.

        No step may run on these arrays afterwards: the step donates its inputs, so
        ``fit`` continues on ``_private_copies`` of them.
        """
        for param, array in zip(self.optimizer.params, trained):
            param.data = array
        self.optimizer.state = opt_state.inner_opt_state if accumulate > 1 else opt_state

    def _check_guard(self, guard: _Guard, trained: tuple[Array, ...], opt_state: Any, accumulate: int) -> None:
        """Raise [`NonFiniteError`][] (after keeping the last good parameters) if a step failed."""
        failed = int(guard.step_failed)
        if failed < 0:
            return
        self._write_back(trained, opt_state, accumulate)
        names = {id(p): name for name, p in self.model.named_parameters()}
        labels = ["the input batch (NaN or Inf)", "the targets (class labels outside [0, number of outputs))",
                  "the loss"] + [f"the gradient of {names.get(id(p), '?')}" for p in self.optimizer.params]  # fmt: skip
        culprits = [label for label, ok in zip(labels, np.asarray(guard.finite)) if not ok]
        raise NonFiniteError(
            f"Trainer.fit: step {failed} (counting from 0 in this fit call) met a bad value: "
            f"{culprits[0]} first"
            + (f" (also {', '.join(culprits[1:3])})" if len(culprits) > 1 else "")
            + ". Training stopped; the model keeps the parameters of the last good step. Lower the learning "
            "rate, check the inputs for NaN/Inf, or clip gradients."
        )

    def _sync_hyperparameters(self, opt_state: Any, accumulate: int) -> None:
        """Copy the optimizer's (scheduled) hyper-parameters into the step's private state."""
        inner = opt_state.inner_opt_state if accumulate > 1 else opt_state
        # Copies: the step donates its state, and the optimizer's own arrays must survive it.
        inner.hyperparams.update({k: jnp.copy(v) for k, v in self.optimizer.state.hyperparams.items()})

    def save_checkpoint(self, path: str | os.PathLike) -> None:
        """Write weights, optimizer state, epoch, history and PRNG position (atomically).

        Call it between epochs (e.g. from a callback's ``on_train_epoch_end``);
        ``fit(..., ckpt_path=path)`` resumes from it. With several processes only
        process 0 writes (every process holds the same replicated state).
        """
        if jax.process_index() != 0:
            return
        save_training_checkpoint(
            path,
            model=self.model,
            optimizer_state=self.optimizer.state,
            epoch=self.current_epoch,
            rng_state=get_rng_state(),
            history=self.history.history,
        )

    def _restore(self, path: str | os.PathLike) -> int:
        """Load a training checkpoint into the model, optimizer, PRNG and history; return its epoch."""
        checkpoint = load_training_checkpoint(path, self.optimizer.state, self.model.named_arrays())
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.state = checkpoint["optimizer_state"]
        set_rng_state(checkpoint["rng_state"])
        for epoch in range(checkpoint["epoch"] + 1):
            self.history.append(epoch, {name: values[epoch] for name, values in checkpoint["history"].items()})
        return checkpoint["epoch"]

    def evaluate(self, loader: Iterable[Any], *, time_first: bool = True) -> dict[str, float]:
        """Mean loss and metrics over ``loader`` (every sample weighs the same).

        ``loader`` yields ``(x, y)`` or ``(x, y, lengths)`` batches, as in ``fit``;
        with lengths, padded time steps do not count.
        """
        return self._evaluate(loader, time_first, "Trainer.evaluate: ")

    def _evaluate(self, loader: Iterable[Any], time_first: bool, caller: str) -> dict[str, float]:
        self._require(optimizer=False)
        self._compile_steps()
        trained, frozen = self._replicate((tuple(p.data for p in self._trained()), self._frozen_arrays()))
        means = _Means()
        checks = []
        with self._mode(False), self._bar(loader, "Evaluate") as bar:
            for batch in iterate_batches(loader, time_first=time_first, mesh=self.mesh, caller=caller):
                sums, batch_checks = self._eval_step(
                    trained, frozen, batch.x, batch.y, batch.mask, batch.lengths, next_key()
                )
                means.add(sums, batch.size)
                checks.append(batch_checks)
                bar.update(1)
        _raise_on_bad_batches("Trainer.evaluate", checks)
        return means.means("Trainer.evaluate: the loader yielded no batches.")

    validate = evaluate

    def predict(self, loader: Iterable[Any], *, time_first: bool = True) -> Any:
        """The network's outputs over ``loader``, concatenated along the batch axis (axis 1).

        Batches may be ``(x, y)`` pairs (targets ignored), ``(x, y, lengths)``
        triples, or inputs alone. With lengths, the outputs are zero at each
        sample's padded steps ``t >= lengths[b]``. With several processes every
        process receives the outputs of the global batches.
        """
        self._compile_steps()
        trained, frozen = self._replicate((tuple(p.data for p in self._trained()), self._frozen_arrays()))
        pieces: list[Any] = []
        checks = []
        with self._mode(False), self._bar(loader, "Predict") as bar:
            for batch in iterate_batches(loader, time_first=time_first, with_targets=False, mesh=self.mesh,
                                         caller="Trainer.predict: "):  # fmt: skip
                output, batch_checks = self._predict_step(trained, frozen, batch.x, batch.lengths, next_key())
                checks.append(batch_checks)
                if jax.process_count() > 1:
                    output = multihost_utils.process_allgather(output, tiled=True)
                pieces.append(jax.tree_util.tree_map(lambda a, n=batch.size: a[:, :n], output))
                bar.update(1)
        if not pieces:
            raise ValueError("Trainer.predict: the loader yielded no batches.")
        _raise_on_bad_batches("Trainer.predict", checks)
        return jax.tree_util.tree_map(lambda *parts: jnp.concatenate(parts, axis=1), *pieces)
