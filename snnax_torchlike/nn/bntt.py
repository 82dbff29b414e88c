"""snnTorch's Batch Normalisation Through Time: one batch norm per time step, without a shift."""

from __future__ import annotations

import numpy as np

from .container import ModuleList
from .normalization import BatchNorm1d, BatchNorm2d, _BatchNorm


def _through_time(
    kind: type[_BatchNorm], input_features: int, time_steps: int, eps: float, momentum: float | None, affine: bool
) -> ModuleList:
    """``time_steps`` batch norms of ``kind`` with their ``bias`` removed, in a ``ModuleList``."""
    name = kind.__name__.replace("BatchNorm", "BatchNormTT")
    if isinstance(time_steps, bool) or not isinstance(time_steps, (int, np.integer)) or time_steps < 1:
        raise ValueError(f"{name}: time_steps must be a positive int, got {time_steps!r}.")
    layers = ModuleList(kind(input_features, eps=eps, momentum=momentum, affine=affine) for _ in range(time_steps))
    for layer in layers:
        layer.bias = None  # BNTT learns a scale per step and channel, no shift
    return layers


def BatchNormTT1d(
    input_features: int, time_steps: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True
) -> ModuleList:
    r"""snnTorch's ``BatchNormTT1d``: a ``ModuleList`` of ``time_steps`` [`BatchNorm1d`][] layers, ``bias=None``.

    Batch Normalisation Through Time (Kim & Panda, arXiv:2010.01729) normalises the
    input current of step $t$ with its own statistics and scale $\gamma^t$:
    $U^t = \lambda U^{t-1} + \gamma^t (I^t - \mu^t) / \sqrt{(\sigma^t)^2 + \epsilon}$.
    Index the list by the step: ``cur = bntt[t](fc(x[t]))``.

    **Arguments:** ``input_features``: channels ``C`` of the ``[N, C]`` or ``[N, C, L]``
    inputs; ``time_steps``: the number of steps (list length); ``eps``, ``momentum``,
    ``affine``: as ``BatchNorm1d``'s.

    **Returns:** the ``ModuleList``; ``state_dict`` keys ``"{t}.weight"``,
    ``"{t}.running_mean"``, ``"{t}.running_var"``, ``"{t}.num_batches_tracked"``.
    """
    return _through_time(BatchNorm1d, input_features, time_steps, eps, momentum, affine)


def BatchNormTT2d(
    input_features: int, time_steps: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True
) -> ModuleList:
    """snnTorch's ``BatchNormTT2d``: as [`BatchNormTT1d`][], of [`BatchNorm2d`][] layers for ``[N, C, H, W]`` inputs."""
    return _through_time(BatchNorm2d, input_features, time_steps, eps, momentum, affine)
