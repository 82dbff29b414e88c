"""snnTorch's first-spike-time losses: ``mse_temporal_loss`` and ``ce_temporal_loss``.

Both read spike times through [`SpikeTime`][snnax_torchlike.functional.SpikeTime]:
the first step with a spike, ``T - 1`` for an output that never spikes, with
snnTorch's sign-estimator gradient (-1 with respect to the spike at that time,
0 elsewhere), so that raising the membrane makes an output fire earlier.

Unlike the rate and count losses, these take no ``lengths`` argument: padded
steps count as steps (an output silent in its real steps gets time ``T - 1``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from ..imperative import recordable
from ..nn.loss import _class_index_loss
from ..nn.module import to_array
from ._common import (
    InputKind,
    Reduction,
    SnnTorchLoss,
    _check_inputs,
    _check_outputs,
    _nan_unless_valid,
    compiled,
)
from .losses import _IGNORE_NONE
from .spike_time import SpikeTime, first_spike_time

__all__ = ["mse_temporal_loss", "ce_temporal_loss"]

_INVERSES = ("negate", "reciprocal")


@dataclass(frozen=True, eq=False)
class mse_temporal_loss(SnnTorchLoss):
    r"""Squared error of spike times against target times, both divided by ``T`` (snnTorch's ``mse_temporal_loss``).

    Elementwise $l_{b,n} = (t_{b,n}/T - \tau_{b,n}/T)^2$ with ``t`` the spike
    times and ``tau`` the target times of [`SpikeTime`][snnax_torchlike.functional.SpikeTime]
    (``[F, B, N]`` with ``multi_spike``), then weighted and reduced as snnTorch's
    other squared-error losses (``losses`` module docstring).

    **Arguments:**

    - ``target_is_time``: targets are spike times (broadcastable to ``[B, N]``)
      rather than class labels ``[B]``.
    - ``on_target``, ``off_target``: target times of the true class and of the
      others. With snnTorch's defaults (0, -1) EVERY output is targeted to step
      0: snnTorch builds the targets as ``max(one_hot * on_target, off_target)``,
      which is 0 for the wrong classes (the documented "-1 = final step" does
      not happen; kept). Pass ``off_target=T - 1`` (or ``-1`` with ``on_target``
      not above it) for the documented behaviour. Negative times count from the
      end. Sequences of one length with ``multi_spike``.
    - ``tolerance``: spike times within ``tolerance`` of their target add no loss.
    - ``multi_spike``: compare the first ``F`` spikes, ``F = len(on_target)``.
    - ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"`` (``[B, N]``, or ``[F, B, N]``).
    - ``weight``: optional ``[N]`` weight per class (labels only), applied as
      ``weight[targets]`` along the output axis like snnTorch (needs ``B == N``
      or ``B == 1``).

    **Call:** ``loss_fn(spk, targets)`` with spikes ``spk`` ``[T, B, N]``.

    **Returns:** a scalar of shape ``()``, or the elementwise loss for ``reduction="none"``.
    """

    target_is_time: bool = False
    on_target: Any = 0
    off_target: Any = -1
    tolerance: float = 0
    multi_spike: bool = False
    reduction: Reduction = "mean"
    weight: ArrayLike | None = None
    input_kind: ClassVar[InputKind] = "spikes"
    __name__: ClassVar[str] = "mse_temporal_loss"

    def __post_init__(self) -> None:
        spike_time = self.spk_time_fn  # checks the spike-time options
        object.__setattr__(self, "on_target", spike_time.on_target)
        object.__setattr__(self, "off_target", spike_time.off_target)
        self._check_options()
        if self.target_is_time and self.weight is not None:
            raise ValueError(
                "mse_temporal_loss: weight= needs class-label targets (target_is_time=False): snnTorch "
                "indexes weight with the targets, which are spike times here."
            )

    @property
    def spk_time_fn(self) -> SpikeTime:
        """The [`SpikeTime`][snnax_torchlike.functional.SpikeTime] of this loss's options (snnTorch's name)."""
        return SpikeTime(self.target_is_time, self.on_target, self.off_target, self.tolerance, self.multi_spike)

    @recordable(torch_facing=True)
    def __call__(self, spk: ArrayLike, targets: ArrayLike) -> Array:
        if self.target_is_time:
            spk, targets = _check_outputs(self.__name__, spk), to_array(targets)
        else:
            spk, targets = _check_inputs(self.__name__, spk, targets)
        return compiled(self, spk, targets)

    def _compute(self, spk: Array, targets: Array) -> Array:
        steps, _, outputs = spk.shape
        times, target_times = self.spk_time_fn._compute(spk, targets)
        loss = (times / steps - target_times / steps) ** 2
        loss = self._reduce(self._weigh_last_axis(loss, targets, outputs))
        return loss if self.target_is_time else _nan_unless_valid(loss, targets, outputs, None, steps)


@dataclass(frozen=True, eq=False)
class ce_temporal_loss(SnnTorchLoss):
    r"""Cross-entropy of inverted first-spike times (snnTorch's ``ce_temporal_loss``).

    The logits are ``-t`` (``inverse="negate"``) or ``1 / (t + 1)``
    (``inverse="reciprocal"``) of the first spike times ``t`` ``[B, N]``
    ([`SpikeTime`][snnax_torchlike.functional.SpikeTime]), so the earliest
    output wins. Unlike snnTorch's other losses, this one is torch's
    ``CrossEntropyLoss(weight, reduction)``: with ``weight`` the mean is
    ``sum(w_i l_i) / sum(w_i)``.

    **Arguments:**

    - ``inverse``: ``"negate"`` (default) or ``"reciprocal"``.
    - ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"`` (``[B]``).
    - ``weight``: optional ``[N]`` weight per class.

    **Call:** ``loss_fn(spk, targets)`` with spikes ``spk`` ``[T, B, N]`` and integer labels ``[B]``.

    **Returns:** a scalar of shape ``()``, or ``[B]`` for ``reduction="none"``.
    """

    inverse: str = "negate"
    reduction: Reduction = "mean"
    weight: ArrayLike | None = None
    input_kind: ClassVar[InputKind] = "spikes"
    __name__: ClassVar[str] = "ce_temporal_loss"

    def __post_init__(self) -> None:
        if self.inverse not in _INVERSES:
            raise ValueError(f'ce_temporal_loss: inverse must be "negate" or "reciprocal", got {self.inverse!r}.')
        self._check_options()

    @recordable(torch_facing=True)
    def __call__(self, spk: ArrayLike, targets: ArrayLike) -> Array:
        spk, targets = _check_inputs(self.__name__, spk, targets)
        return compiled(self, spk, targets)

    def _compute(self, spk: Array, targets: Array) -> Array:
        steps, _, outputs = spk.shape
        times = first_spike_time(spk)
        logits = -times if self.inverse == "negate" else 1 / (times + 1)
        log_p = jax.nn.log_softmax(logits, axis=-1)
        weight = self._class_weight(outputs)
        loss = _class_index_loss(log_p, targets.astype(jnp.int32), weight, _IGNORE_NONE, self.reduction, 0.0)
        return _nan_unless_valid(loss, targets, outputs, None, steps)
