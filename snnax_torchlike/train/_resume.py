"""Resuming ``fit`` from a checkpoint: what a checkpoint does not hold (a scheduler, a loader's shuffling)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from ..optim.lr_scheduler import LRScheduler


def warn_if_shuffle_not_resumable(loader: Iterable[Any]) -> None:
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


def resume_scheduler(scheduler: LRScheduler | None, start_epoch: int, train_loader: Iterable[Any]) -> None:
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


def check_scheduler_length(
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
