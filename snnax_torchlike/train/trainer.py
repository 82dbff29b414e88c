"""`Trainer`: fit / evaluate / predict, with every step one pure jitted function.

``fit`` is three loops a reader can follow: over epochs (`Trainer.fit`), over one
epoch's batches (`Trainer._train_epoch`), and the end of an epoch: pending
accumulated gradients, the NaN guard, write-back, scheduler, validation, logs
(`Trainer._end_epoch`). The pure steps live in `_steps`, the checks of what the
Trainer is given in `_validation`, resumption in `_resume`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jaxtyping import Array
from tqdm.std import tqdm

from ..nn.module import Module
from ..optim.lr_scheduler import LRScheduler
from ..optim.optimizer import Optimizer
from ..random import get_rng_state, manual_seed, next_key, set_rng_state
from ..snn.checks import positive_int
from ..snn.precision import checked_precision
from ._accumulation import GradientAccumulation
from ._progress import progress_bar
from ._resume import check_scheduler_length, resume_scheduler, warn_if_shuffle_not_resumable
from ._sharding import data_parallel_mesh, replicated
from ._steps import Guard, StepOptions, Steps
from ._validation import check_function, checked_callbacks, checked_loggers, checked_metrics, metric_name
from .batches import iterate_batches
from .callbacks import Callback
from .checkpoint import load_training_checkpoint, save_training_checkpoint
from .history import History
from .logger import Logger


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


def _private_copies(tree: Any) -> Any:
    """Copies of every array in ``tree``, for the training step to donate: arrays the user holds stay valid."""
    return jax.tree_util.tree_map(jnp.copy, tree)


@dataclasses.dataclass(frozen=True)
class _StepLog:
    """A logged step's values, still on the device: read one log interval later, when the step has run."""

    step: int
    epoch: int
    guard: Guard
    loss: Array
    sums: dict[str, Array]
    size: int
    lr: float

    def values(self) -> dict[str, float]:
        """The step's loss and metrics (means over its real samples), ``grad_norm`` when logged, ``lr``, ``epoch``."""
        sums = jax.device_get(self.sums)
        return {**{name: float(total) / self.size for name, total in sums.items()}, "lr": self.lr,
                "epoch": float(self.epoch)}  # fmt: skip


@dataclasses.dataclass
class _FitRun:
    """What one ``fit`` call carries from batch to batch and from epoch to epoch.

    ``params`` and ``opt_state`` are the step's private arrays (it donates them);
    ``opt_state`` is the accumulation's state around the optimizer's.
    """

    params: tuple[Array, ...]
    opt_state: Any
    guard: Guard
    frozen: dict[str, Array]
    options: StepOptions
    scheduler: LRScheduler | None
    first_epoch: int
    epochs: int
    max_batches: int | None
    time_first: bool
    pending_log: _StepLog | None = None


def _one_checkpoint_path(ckpt_path: str | os.PathLike | None, resume: str | os.PathLike | None) -> Any:
    """The checkpoint to resume from, given as ``ckpt_path`` or as its Keras-style alias ``resume``."""
    if resume is None:
        return ckpt_path
    if ckpt_path is not None and os.fspath(ckpt_path) != os.fspath(resume):
        raise ValueError("Trainer.fit: pass the checkpoint as ckpt_path= or resume=, not two different paths.")
    return resume


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
    - ``logger``: a [`Logger`][] (``CSVLogger``, ``TensorBoardLogger``, your
      own) or a list of them, which ``fit`` gives the loss and metrics every
      ``log_every_n_steps`` steps, each epoch's logs and the run's
      ``hparams``; loggers are callbacks, called after ``callbacks``.
    - ``progress``: show a tqdm bar (default True).
    - ``log_every_n_steps``: how often (in training steps) the bar's loss, the
      loggers' per-step values and the NaN guard are read (default 10).
    - ``devices``: data parallelism over several devices: ``"all"``, a count, or a
      list of ``jax.Device`` (default None: one device). Batches are split over a
      ``Mesh`` axis ``"data"``, parameters and optimizer state replicated, and the
      step stays one ``jax.jit`` (XLA adds the gradient all-reduce), so results
      equal the single-device run on the same global batches. The global batch must
      divide by the device count. Under ``jax.distributed.initialize`` (several
      processes), each process's loader yields its part of every global batch and
      only process 0 writes checkpoints.
    - ``precision``: ``"32-true"`` (default) or ``"bf16-mixed"`` (Lightning's names):
      the forward products of ``nn.Linear``/``nn.Conv*`` multiply bfloat16 operands
      with float32 accumulation; their gradients are the float32 product's, and
      parameters, optimizer state, membranes, spikes and losses stay float32
      (``snn.precision``). Applies to ``fit``, ``evaluate`` and ``predict``.

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
        logger: Logger | Sequence[Logger] | None = None,
        progress: bool = True,
        log_every_n_steps: int = 10,
        devices: int | Sequence[Any] | str | None = None,
        precision: str = "32-true",
    ):
        if not isinstance(model, Module):
            raise TypeError(f"Trainer: model must be an nn.Module, got {type(model).__name__}.")
        if optimizer is not None and not isinstance(optimizer, Optimizer):
            raise TypeError(f"Trainer: optimizer must come from snnax_torchlike.optim, got {type(optimizer).__name__}.")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metrics = checked_metrics(metrics)
        self.callbacks = callbacks
        self.loggers = logger
        self.progress = progress
        self.log_every_n_steps = log_every_n_steps
        self.should_stop = False
        """Set it to ``True`` (from a callback) to end ``fit`` after the current epoch, as Lightning's."""
        self.trace_count = 0
        """How many times the training step was traced (compiled); one per input shape."""
        self.eval_trace_count = 0
        """How many times the evaluation step was traced (compiled); one per input shape."""
        self.history = History()
        """The [`History`][] of the current (or last) ``fit``: the logged values of each epoch."""
        self.current_epoch = 0
        """The epoch ``fit`` is running (counted from 0; a resumed run continues the count)."""
        self.global_step = 0
        """Training steps (batches) run since the run started, those before a resumed checkpoint included."""
        self._epoch_first_step = 0
        self.ckpt_path: str | os.PathLike | None = None
        """The checkpoint the current ``fit`` resumed from (None: a new run)."""
        self.hparams: dict[str, Any] = {}
        """The settings of the current ``fit`` (model, optimizer and its hyper-parameters, loss, ...): what loggers record."""
        self.logged_names: list[str] = []
        """The names each epoch of the current ``fit`` logs (``loss``, metrics, ``lr``, ``val_...``)."""
        self.devices = devices
        self.precision = precision
        self._steps: Steps | None = None
        self._compile_steps()

    @property
    def callbacks(self) -> list[Callback]:
        """The [`Callback`][] objects ``fit`` calls; assigning a new list checks it."""
        return self._callbacks

    @callbacks.setter
    def callbacks(self, callbacks: Sequence[Callback]) -> None:
        self._callbacks = checked_callbacks(callbacks)

    @property
    def log_every_n_steps(self) -> int:
        """How often, in training steps, step values are read and logged; assigning checks it."""
        return self._log_every_n_steps

    @log_every_n_steps.setter
    def log_every_n_steps(self, every: int) -> None:
        self._log_every_n_steps = positive_int("Trainer", "log_every_n_steps", every)

    @property
    def loggers(self) -> list[Logger]:
        """The [`Logger`][] objects given as ``logger``; assigning one, a list or None checks them."""
        return self._loggers

    @loggers.setter
    def loggers(self, loggers: Logger | Sequence[Logger] | None) -> None:
        self._loggers = checked_loggers(loggers)

    @property
    def logger(self) -> Logger | None:
        """The first of ``loggers`` (Lightning's ``trainer.logger``), or None."""
        return self._loggers[0] if self._loggers else None

    def _hooked(self) -> list[Callback]:
        """The objects whose hooks ``fit`` calls: the callbacks, then the loggers not among them."""
        return self._callbacks + [logger for logger in self._loggers if logger not in self._callbacks]

    def _count_trace(self, kind: str) -> None:
        if kind == "train":
            self.trace_count += 1
        else:
            self.eval_trace_count += 1

    def _compile_steps(self) -> Steps:
        """The jitted steps, remade when what they read while tracing (loss, metrics, optimizer) changed.

        Those are closed over, not arguments: assigning ``trainer.loss_fn = ...`` after a
        step would otherwise keep running the old one silently. A changed loss or
        metric list is checked first.
        """
        steps = self._steps
        setting = (self.loss_fn, self.optimizer, *self.metrics)
        if (
            steps is not None
            and len(setting) == 2 + len(steps.metrics)
            and all(a is b for a, b in zip(setting, (steps.loss_fn, steps.optimizer, *steps.metrics)))
        ):
            return steps
        if self.loss_fn is not None:
            check_function("loss_fn", self.loss_fn, "functional.ce_rate_loss()")
        self.metrics = checked_metrics(self.metrics)
        self._steps = Steps(self.model, self.optimizer, self.loss_fn, self.metrics, self._count_trace)
        return self._steps

    @property
    def precision(self) -> str:
        """The mixed-precision policy (see the class docstring); assigning checks it."""
        return self._precision

    @precision.setter
    def precision(self, precision: str) -> None:
        self._precision = checked_precision("Trainer", precision)

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

    def _frozen_arrays(self) -> dict[str, Array]:
        """Parameters the optimizer does not train, and buffers: inputs to the step, not constants.

        A trained parameter reached under several names (a layer used twice, tied
        weights) is left out under every one of them: binding any of its names to a
        constant would cut its gradient.
        """
        trained = {id(p) for p in self._steps.trained()}
        trained_names = {
            name
            for name, owner, attr, kind in self.model._state_slots()
            if kind == "parameter" and id(owner._parameters[attr]) in trained
        }
        return {name: array for name, array in self.model.named_arrays().items() if name not in trained_names}

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
        run = self._start_fit(
            train_loader, epochs, val_loader=val_loader, time_first=time_first, scheduler=scheduler,
            accumulate_grad_batches=accumulate_grad_batches, fast_dev_run=fast_dev_run, seed=seed,
            ckpt_path=_one_checkpoint_path(ckpt_path, resume),
            options=(bool(terminate_on_nan), bool(log_grad_norm)),
        )  # fmt: skip
        try:
            for epoch in range(run.first_epoch, run.epochs):
                self.current_epoch = epoch
                means = self._train_epoch(run, train_loader, epoch)
                if means is None:  # interrupted (Ctrl-C)
                    break
                logs = self._end_epoch(run, epoch, means, val_loader)
                for callback in self._hooked():
                    callback.on_train_epoch_end(self, epoch, logs)
                if self.should_stop:
                    break
        except BaseException as error:
            for callback in self._hooked():
                callback.on_exception(self, error)
            raise
        for callback in self._hooked():
            callback.on_fit_end(self)
        return self.history

    def _start_fit(
        self, train_loader: Iterable[Any], epochs: Any, *, val_loader: Iterable[Any] | None, time_first: bool,
        scheduler: LRScheduler | None, accumulate_grad_batches: Any, fast_dev_run: bool | int, seed: int | None,
        ckpt_path: str | os.PathLike | None, options: tuple[bool, bool],
    ) -> _FitRun:  # fmt: skip
        """Check the arguments, resume from ``ckpt_path``, call ``on_fit_start``, and take the step's arrays."""
        self._require(optimizer=True)
        self._compile_steps()
        if not isinstance(epochs, (int, np.integer)) and hasattr(epochs, "__iter__"):
            raise TypeError(
                f"Trainer.fit: epochs must be an int >= 1, got a {type(epochs).__name__}; pass validation data by "
                "keyword: fit(train_loader, epochs, val_loader=...)."
            )
        epochs = positive_int("Trainer.fit", "epochs", epochs)
        accumulation = GradientAccumulation(
            positive_int("Trainer.fit", "accumulate_grad_batches", accumulate_grad_batches)
        )
        self._check_optimizer_fits_model(scheduler)
        max_batches = None if not fast_dev_run else int(fast_dev_run)
        if max_batches is not None:
            epochs = 1
        if seed is not None:
            manual_seed(seed)
        self.history = History()
        self.global_step = self._epoch_first_step = 0
        self.ckpt_path = ckpt_path
        first_epoch = 0 if ckpt_path is None else self._resume(ckpt_path, epochs, train_loader, scheduler)
        check_scheduler_length(scheduler, train_loader, epochs - first_epoch, max_batches)
        if isinstance(val_loader, Iterator) and epochs - first_epoch > 1:
            raise ValueError(
                "Trainer.fit: val_loader is a generator or iterator, which the first validation consumes, so "
                "later epochs would validate on nothing; pass a re-iterable loader (a list, a DataLoader)."
            )
        self.should_stop = False
        self._describe_run(epochs, val_loader, scheduler, accumulation.every, seed, options[1])
        for callback in self._hooked():
            callback.on_fit_start(self)
        optimizer = self.optimizer
        params, inner_state = _private_copies((tuple(p.data for p in optimizer.params), optimizer.state))
        opt_state = accumulation.wrap(optimizer.transform, params, inner_state)
        params, opt_state, frozen, guard = self._replicate(
            (params, opt_state, self._frozen_arrays(), Guard.start(len(params)))
        )
        return _FitRun(
            params=params, opt_state=opt_state, guard=guard, frozen=frozen,
            options=StepOptions(accumulation, *options, self.precision), scheduler=scheduler, first_epoch=first_epoch,
            epochs=epochs, max_batches=max_batches, time_first=time_first,
        )  # fmt: skip

    def _resume(
        self, path: str | os.PathLike, epochs: int, train_loader: Iterable[Any], scheduler: LRScheduler | None
    ) -> int:
        """Restore the checkpoint at ``path``; return the first epoch left to train."""
        first_epoch = self._restore(path) + 1
        if first_epoch >= epochs:
            raise ValueError(
                f"Trainer.fit: the checkpoint finished {first_epoch} epoch(s) and epochs={epochs} counts them "
                f"too (it is the total), so nothing would train; pass epochs > {first_epoch}. The model "
                "holds the checkpoint's weights."
            )
        warn_if_shuffle_not_resumable(train_loader)
        resume_scheduler(scheduler, first_epoch, train_loader)
        return first_epoch

    def _train_epoch(self, run: _FitRun, train_loader: Iterable[Any], epoch: int) -> _Means | None:
        """One pass over ``train_loader``: the epoch's sums, or None when Ctrl-C interrupted it."""
        if epoch > run.first_epoch:  # the model holds the arrays of the epoch before (written back)
            run.params, run.opt_state = _private_copies((run.params, run.opt_state))
        self._epoch_first_step = self.global_step
        for callback in self._hooked():
            callback.on_train_epoch_start(self, epoch)
        if run.scheduler is not None:
            self._sync_hyperparameters(run)
        means = _Means()
        batches = itertools.islice(
            iterate_batches(train_loader, time_first=run.time_first, mesh=self.mesh, caller="Trainer.fit: "),
            run.max_batches,
        )
        try:
            with self._mode(True), self._bar(train_loader, f"Epoch {epoch + 1}/{run.epochs}") as bar:
                self._train_batches(run, batches, means, bar)
        except KeyboardInterrupt:
            self._write_back(run)
            tqdm.write(
                f"Trainer.fit: interrupted in epoch {epoch + 1}; the model holds the last completed step's "
                f"parameters, the history the {len(self.history.epoch)} finished epoch(s)."
            )
            return None
        return means

    def _train_batches(self, run: _FitRun, batches: Iterable[Any], means: _Means, bar: tqdm) -> None:
        """The steps of one epoch; every ``log_every_n_steps`` steps, the step logged before is read.

        By the time it is read, its step has run, so reading its guard and values
        never makes the host wait for the step it has just dispatched.
        """
        steps = self._steps
        for index, batch in enumerate(batches):
            logged = self.global_step % self.log_every_n_steps == 0
            lr = self.optimizer.lr if logged else math.nan  # the rate this step uses, read only when it is logged
            run.params, run.opt_state, run.guard, loss, batch_sums = steps.train(
                run.params, run.opt_state, run.guard, frozen=run.frozen, x=batch.x, y=batch.y, mask=batch.mask,
                lengths=batch.lengths, key=next_key(), options=run.options,
            )  # fmt: skip
            step, self.global_step = self.global_step, self.global_step + 1
            means.add(batch_sums, batch.size)
            if run.scheduler is not None and run.scheduler.interval == "step":
                run.scheduler.step()
                self._sync_hyperparameters(run)
            for callback in self._hooked():
                callback.on_train_batch_end(self, index, loss)
            bar.update(1)
            if logged:
                self._read_step_log(run, bar)
                run.pending_log = _StepLog(step, self.current_epoch, run.guard, loss, batch_sums, batch.size, lr)

    def _read_step_log(self, run: _FitRun, bar: tqdm | None) -> None:
        """Check the guard of the pending logged step, show its loss and hand its values to the hooks."""
        logged, run.pending_log = run.pending_log, None
        if logged is None:
            return
        self._check_guard(run, logged.guard)
        if self.progress and bar is not None:
            bar.set_postfix(loss=f"{float(logged.loss):.4f}")
        listeners = [
            callback for callback in self._hooked()
            if type(callback).on_train_step_logs is not Callback.on_train_step_logs
        ]  # fmt: skip
        if listeners:
            values = logged.values()
            for callback in listeners:
                callback.on_train_step_logs(self, logged.step, dict(values))

    def _end_epoch(self, run: _FitRun, epoch: int, means: _Means, val_loader: Iterable[Any] | None) -> dict[str, float]:
        """Apply pending accumulated gradients, check the guard, write back, step the scheduler, validate, log."""
        if run.options.accumulation.every > 1:
            run.params, run.opt_state = self._steps.flush(
                run.params, run.opt_state, accumulation=run.options.accumulation
            )
        self._check_guard(run, run.guard)
        self._read_step_log(run, None)
        empty = "Trainer.fit: the training loader yielded no batches."
        if epoch > run.first_epoch:
            empty = (
                f"Trainer.fit: the training loader yielded no batches in epoch {epoch + 1} (epoch "
                f"{run.first_epoch + 1} had some): a generator or iterator can be consumed only once. Pass a "
                "re-iterable loader (a list, a DataLoader) to train for several epochs."
            )
        logs = means.means(empty)
        self._write_back(run)
        logs["lr"] = self.optimizer.lr  # the rate this epoch ended with (a learning-rate monitor)
        if run.scheduler is not None and run.scheduler.interval == "epoch":
            run.scheduler.step()
        if val_loader is not None:
            val_batches = val_loader if run.max_batches is None else list(itertools.islice(val_loader, run.max_batches))
            val_logs = self._evaluate(val_batches, run.time_first, "Trainer.fit: val_loader ")
            logs.update({f"val_{name}": value for name, value in val_logs.items()})
        self.history.append(epoch, logs)
        if self.progress:
            tqdm.write(f"Epoch {epoch + 1}/{run.epochs}: " + ", ".join(f"{k}={v:.4f}" for k, v in logs.items()))
        return logs

    def _write_back(self, run: _FitRun) -> None:
        """Point the model's parameters and the optimizer's state at the step's arrays.

        No step may run on these arrays afterwards: the step donates its inputs, so
        ``fit`` continues on ``_private_copies`` of them.
        """
        for param, array in zip(self.optimizer.params, run.params):
            param.data = array
        self.optimizer.state = run.options.accumulation.inner(run.opt_state)

    def _check_guard(self, run: _FitRun, guard: Guard) -> None:
        """Raise [`NonFiniteError`][] (after keeping the last good parameters) if a step failed."""
        failed = int(guard.step_failed)
        if failed < 0:
            return
        self._write_back(run)
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

    def _sync_hyperparameters(self, run: _FitRun) -> None:
        """Copy the optimizer's (scheduled) hyper-parameters into the step's private state."""
        inner = run.options.accumulation.inner(run.opt_state)
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
        finished = len(self.history.epoch) > self.current_epoch
        save_training_checkpoint(
            path,
            model=self.model,
            optimizer_state=self.optimizer.state,
            epoch=self.current_epoch,
            rng_state=get_rng_state(),
            history=self.history.history,
            global_step=self.global_step if finished else self._epoch_first_step,
            callback_states={
                callback.state_key: state for callback in self._hooked() if (state := callback.state_dict())
            },
        )

    def _restore(self, path: str | os.PathLike) -> int:
        """Load a training checkpoint into the model, optimizer, PRNG and history; return its epoch."""
        checkpoint = load_training_checkpoint(path, self.optimizer.state, self.model.named_arrays())
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.state = checkpoint["optimizer_state"]
        set_rng_state(checkpoint["rng_state"])
        for epoch in range(checkpoint["epoch"] + 1):
            self.history.append(epoch, {name: values[epoch] for name, values in checkpoint["history"].items()})
        self.global_step = self._epoch_first_step = checkpoint["global_step"]
        states = checkpoint["callback_states"]
        for callback in self._hooked():
            if callback.state_key in states:
                callback.load_state_dict(states[callback.state_key])
        return checkpoint["epoch"]

    def _describe_run(
        self, epochs: int, val_loader: Iterable[Any] | None, scheduler: LRScheduler | None, accumulate: int,
        seed: int | None, log_grad_norm: bool,
    ) -> None:  # fmt: skip
        """Set ``hparams`` (the run's settings) and ``logged_names`` (what each epoch logs) for the loggers."""
        optimizer = self.optimizer
        self.hparams = {
            "model": type(self.model).__name__,
            "trainable_parameters": sum(int(p.data.size) for p in optimizer.params),
            "optimizer": type(optimizer).__name__,
            **{f"optimizer.{name}": float(value) for name, value in optimizer.state.hyperparams.items()},
            "max_grad_norm": optimizer.max_grad_norm,
            "loss_fn": metric_name(self.loss_fn),
            "metrics": ", ".join(metric_name(metric) for metric in self.metrics),
            "epochs": epochs,
            "scheduler": None if scheduler is None else type(scheduler).__name__,
            "accumulate_grad_batches": accumulate,
            "precision": self.precision,
            "seed": seed,
            "devices": 1 if self.mesh is None else int(self.mesh.size),
            "log_every_n_steps": self.log_every_n_steps,
            "resumed_from": None if self.ckpt_path is None else os.fspath(self.ckpt_path),
        }
        names = ["loss", *(metric_name(metric) for metric in self.metrics)]
        self.logged_names = [
            *names, *(["grad_norm"] if log_grad_norm else []), "lr",
            *([f"val_{name}" for name in names] if val_loader is not None else []),
        ]  # fmt: skip

    def evaluate(self, loader: Iterable[Any], *, time_first: bool = True) -> dict[str, float]:
        """Mean loss and metrics over ``loader`` (every sample weighs the same).

        ``loader`` yields ``(x, y)`` or ``(x, y, lengths)`` batches, as in ``fit``;
        with lengths, padded time steps do not count.
        """
        return self._evaluate(loader, time_first, "Trainer.evaluate: ")

    def _evaluate(self, loader: Iterable[Any], time_first: bool, caller: str) -> dict[str, float]:
        self._require(optimizer=False)
        steps = self._compile_steps()
        trained, frozen = self._replicate((tuple(p.data for p in steps.trained()), self._frozen_arrays()))
        means = _Means()
        checks = []
        with self._mode(False), self._bar(loader, "Evaluate") as bar:
            for batch in iterate_batches(loader, time_first=time_first, mesh=self.mesh, caller=caller):
                sums, batch_checks = steps.evaluate(
                    trained, frozen, batch.x, batch.y, batch.mask, batch.lengths, next_key(), precision=self.precision
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
        steps = self._compile_steps()
        trained, frozen = self._replicate((tuple(p.data for p in steps.trained()), self._frozen_arrays()))
        pieces: list[Any] = []
        checks = []
        with self._mode(False), self._bar(loader, "Predict") as bar:
            for batch in iterate_batches(loader, time_first=time_first, with_targets=False, mesh=self.mesh,
                                         caller="Trainer.predict: "):  # fmt: skip
                output, batch_checks = steps.predict(
                    trained, frozen, batch.x, batch.lengths, next_key(), precision=self.precision
                )
                checks.append(batch_checks)
                if jax.process_count() > 1:
                    output = multihost_utils.process_allgather(output, tiled=True)
                pieces.append(jax.tree_util.tree_map(lambda a, n=batch.size: a[:, :n], output))
                bar.update(1)
        if not pieces:
            raise ValueError("Trainer.predict: the loader yielded no batches.")
        _raise_on_bad_batches("Trainer.predict", checks)
        return jax.tree_util.tree_map(lambda *parts: jnp.concatenate(parts, axis=1), *pieces)

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
        bar, drawable = progress_bar()
        return bar(total=total, desc=desc, disable=not (self.progress and drawable), leave=False, dynamic_ncols=True)

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
