"""snnTorch's losses (``snntorch.functional``) with its input conventions.

Outputs are time-first ``[T, B, C]`` (spikes, or membrane potentials for the
membrane losses); targets are integer class indices ``[B]``. Every loss returns a
true scalar (shape ``()``), where snnTorch returns shape ``[1]`` for
``ce_rate_loss`` and ``mse_membrane_loss``. Each class has ``input_kind``
(``"spikes"`` or ``"membrane"``), which tells ``fit`` which output to pass.
Population codes and ``weight=`` are not supported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import jax
import jax.numpy as jnp
from jaxtyping import Array

from ._checks import outputs_and_targets

__all__ = ["ce_rate_loss", "ce_count_loss", "ce_max_membrane_loss", "mse_count_loss", "mse_membrane_loss"]


def _cross_entropy(logits: Array, targets: Array) -> Array:
    """Mean over the batch of ``-log softmax(logits)[target]``; ``logits`` ``[B, C]``."""
    log_p = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(log_p, targets[:, None], axis=-1))


def _snntorch_targets(targets: Array, classes: int, on_target: float, off_target: float) -> Array:
    """snnTorch's ``targets_convert``: ``max(one_hot * on_target, off_target)``, ``[B, C]``.

    A quirk kept for parity: ``off_target`` is a floor, so a negative ``off_target``
    leaves the wrong classes at 0, not at ``off_target``.
    """
    return jnp.maximum(jax.nn.one_hot(targets, classes) * on_target, off_target)


@dataclass(frozen=True)
class ce_rate_loss:
    r"""Cross-entropy at every step, averaged over time: $\frac1T\sum_t \mathrm{CE}(s_t, y)$."""

    input_kind: ClassVar[Literal["spikes", "membrane"]] = "spikes"
    __name__: ClassVar[str] = "ce_rate_loss"

    def __call__(self, spk: Any, targets: Any) -> Array:
        spk, targets = outputs_and_targets(spk, targets, name="ce_rate_loss")
        return jnp.mean(jax.vmap(_cross_entropy, in_axes=(0, None))(spk, targets))


@dataclass(frozen=True)
class ce_count_loss:
    r"""Cross-entropy of the spike counts: $\mathrm{CE}(\sum_t s_t, y)$."""

    input_kind: ClassVar[Literal["spikes", "membrane"]] = "spikes"
    __name__: ClassVar[str] = "ce_count_loss"

    def __call__(self, spk: Any, targets: Any) -> Array:
        spk, targets = outputs_and_targets(spk, targets, name="ce_count_loss")
        return _cross_entropy(jnp.sum(spk, axis=0), targets)


@dataclass(frozen=True)
class ce_max_membrane_loss:
    r"""Cross-entropy of each output's maximum membrane over time: $\mathrm{CE}(\max_t m_t, y)$."""

    input_kind: ClassVar[Literal["spikes", "membrane"]] = "membrane"
    __name__: ClassVar[str] = "ce_max_membrane_loss"

    def __call__(self, mem: Any, targets: Any) -> Array:
        mem, targets = outputs_and_targets(mem, targets, name="ce_max_membrane_loss")
        return _cross_entropy(jnp.max(mem, axis=0), targets)


@dataclass(frozen=True)
class mse_count_loss:
    r"""Squared error of spike counts against target counts, over ``T``.

    Targets: ``int(T * correct_rate)`` spikes for the true class and
    ``int(T * incorrect_rate)`` for the others (integer counts, as snnTorch);
    loss ``mean((sum_t s_t - target)^2) / T``.
    """

    correct_rate: float = 1.0
    incorrect_rate: float = 0.0
    input_kind: ClassVar[Literal["spikes", "membrane"]] = "spikes"
    __name__: ClassVar[str] = "mse_count_loss"

    def __call__(self, spk: Any, targets: Any) -> Array:
        spk, targets = outputs_and_targets(spk, targets, name="mse_count_loss")
        steps, _, classes = spk.shape
        on, off = int(steps * self.correct_rate), int(steps * self.incorrect_rate)
        target_counts = _snntorch_targets(targets, classes, float(on), float(off))
        return jnp.mean((jnp.sum(spk, axis=0) - target_counts) ** 2) / steps


@dataclass(frozen=True)
class mse_membrane_loss:
    r"""Squared error of the membrane against per-class targets at every step, averaged over time.

    Targets are snnTorch's ``max(one_hot * on_target, off_target)`` (see its quirk
    for a negative ``off_target``).
    """

    on_target: float = 1.0
    off_target: float = 0.0
    input_kind: ClassVar[Literal["spikes", "membrane"]] = "membrane"
    __name__: ClassVar[str] = "mse_membrane_loss"

    def __call__(self, mem: Any, targets: Any) -> Array:
        mem, targets = outputs_and_targets(mem, targets, name="mse_membrane_loss")
        target = _snntorch_targets(targets, mem.shape[2], self.on_target, self.off_target)
        return jnp.mean((mem - target[None]) ** 2)
