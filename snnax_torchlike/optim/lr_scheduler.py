"""Learning-rate schedulers with ``torch.optim.lr_scheduler``'s names and formulas.

Call ``scheduler.step()`` once per epoch (``StepLR``, ``ExponentialLR``,
``CosineAnnealingLR``) or once per batch (``OneCycleLR``), as in torch; or give
the scheduler to ``fit(..., scheduler=...)``, which steps it at that interval.
The learning rate is an injected optax hyper-parameter, so a change never
recompiles the training step.
"""

from __future__ import annotations

import math
from typing import Any

from ..snn.checks import positive_int
from .optimizer import Optimizer, _checked_number

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "OneCycleLR"]


class LRScheduler:
    """Base class: sets ``optimizer.lr = lr_at(step_count)`` on every ``step()``.

    ``interval`` says when ``fit`` steps it: ``"epoch"`` or ``"step"`` (batch).
    """

    interval = "epoch"

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected an snnax_torchlike.optim optimizer, got {type(optimizer).__name__}."
            )
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0
        self._apply()

    def lr_at(self, step: int) -> float:
        """The learning rate after ``step`` calls of ``step()``; a subclass implements it (torch's closed form)."""
        raise NotImplementedError

    def _apply(self) -> None:
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def step(self) -> None:
        """Advance one epoch (or batch, for per-step schedules)."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The optimizer's current learning rate, as a one-element list (torch's, one per parameter group)."""
        return [self.optimizer.lr]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's position and settings (everything but the optimizer), as torch's ``state_dict``."""
        return {key: value for key, value in vars(self).items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue from a ``state_dict()`` of a scheduler of the same kind; sets the optimizer's rate for it.

        Every key is checked before any is set, so a state of another kind of
        scheduler changes nothing.
        """
        own = self.state_dict()
        missing = sorted(set(own) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(own))
        if missing or unexpected:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state does not fit this scheduler (missing {missing}, "
                f"unexpected {unexpected}); was it saved from another kind of scheduler?"
            )
        vars(self).update(state_dict)
        self._apply()


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (epoch // step_size)``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        self.step_size = positive_int("StepLR", "step_size", step_size)
        self.gamma = _checked_number("StepLR", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        """``base_lr * gamma ** (step // step_size)``."""
        return self.base_lr * self.gamma ** (step // self.step_size)


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        self.gamma = _checked_number("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        """``base_lr * gamma ** step``."""
        return self.base_lr * self.gamma**step


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2`` (torch's closed form)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        self.T_max = positive_int("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = _checked_number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        """``eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2``."""
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * step / self.T_max)) / 2


class OneCycleLR(LRScheduler):
    """The 1cycle policy (torch's two-phase form), stepped once per batch.

    The learning rate rises from ``max_lr / div_factor`` to ``max_lr`` over the
    first ``pct_start`` of ``total_steps`` and anneals to
    ``max_lr / div_factor / final_div_factor``; with ``cycle_momentum`` (default,
    as torch) Adam's ``beta1`` or SGD's ``momentum`` moves the opposite way
    between ``max_momentum`` and ``base_momentum``.
    """

    interval = "step"

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
    ):
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch.")
            total_steps = positive_int("OneCycleLR", "epochs", epochs) * positive_int(
                "OneCycleLR", "steps_per_epoch", steps_per_epoch
            )
        if positive_int("OneCycleLR", "total_steps", total_steps) < 2:
            raise ValueError(f"OneCycleLR: total_steps must be >= 2, got {total_steps}.")
        max_lr = _checked_number("OneCycleLR", "max_lr", max_lr)
        for name, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if _checked_number("OneCycleLR", name, value) == 0:
                raise ValueError(f"OneCycleLR: {name} must be > 0, got 0.")
        if not 0 < _checked_number("OneCycleLR", "pct_start", pct_start) < 1:
            raise ValueError(f"OneCycleLR: pct_start must lie in (0, 1), got {pct_start}.")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}.")
        self.total_steps = int(total_steps)
        self.max_lr = float(max_lr)
        self.initial_lr = self.max_lr / div_factor
        self.min_lr = self.initial_lr / final_div_factor
        self.phase_end = float(pct_start * self.total_steps) - 1
        self.anneal_strategy = anneal_strategy
        self.momentum_name = None
        if cycle_momentum:
            hyper = optimizer.state.hyperparams
            self.momentum_name = "b1" if "b1" in hyper else "momentum" if "momentum" in hyper else None
            if self.momentum_name is None:
                raise ValueError(
                    f"OneCycleLR: {type(optimizer).__name__} has no momentum to cycle; pass cycle_momentum=False."
                )
        self.base_momentum, self.max_momentum = float(base_momentum), float(max_momentum)
        super().__init__(optimizer)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _phase(self, step: int) -> tuple[int, float]:
        # As torch: the schedule covers steps 0 .. total_steps - 1, and stepping after the last
        # of total_steps batches is allowed; that rate is never trained with, and it stays at
        # the schedule's end (torch extrapolates, which a linear anneal can take below 0).
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: stepped {step} times, beyond total_steps={self.total_steps}; build it with "
                "total_steps = epochs * batches per epoch."
            )
        if step <= self.phase_end:
            return 0, step / self.phase_end
        return 1, min((step - self.phase_end) / (self.total_steps - 1 - self.phase_end), 1.0)

    def lr_at(self, step: int) -> float:
        """The rate at batch ``step``: ``initial_lr`` to ``max_lr``, then to ``min_lr``, as ``anneal_strategy`` says."""
        phase, pct = self._phase(step)
        if phase == 0:
            return self._anneal(self.initial_lr, self.max_lr, pct)
        return self._anneal(self.max_lr, self.min_lr, pct)

    def momentum_at(self, step: int) -> float:
        """SGD's ``momentum`` or Adam's ``b1`` at batch ``step``: ``max_momentum`` to ``base_momentum`` and back."""
        phase, pct = self._phase(step)
        if phase == 0:
            return self._anneal(self.max_momentum, self.base_momentum, pct)
        return self._anneal(self.base_momentum, self.max_momentum, pct)

    def _apply(self) -> None:
        super()._apply()
        if self.momentum_name is not None:
            self.optimizer.set_hyperparameter(self.momentum_name, self.momentum_at(self.last_epoch))
