"""snnTorch-style losses, accuracy and regularisers (``from snnax_torchlike import functional as SF``).

Outputs are time-first ``[T, B, C]`` and targets integer class indices ``[B]``, as
in ``snntorch.functional``. Each loss is an immutable object (``SF.ce_rate_loss()``)
called as ``loss_fn(outputs, targets)``, with snnTorch's options (``reduction``,
``weight``, population codes) and numerics, returning a scalar of shape ``()``
(or the unreduced losses for ``reduction="none"``), with a class attribute
``input_kind`` (``"spikes"`` or ``"membrane"``) for trainers. State quantisation
is the submodule ``quant`` (``from snnax_torchlike.functional import quant``).
"""

from . import quant  # noqa: F401  (the submodule: `from snnax_torchlike.functional import quant`)
from .accuracy import accuracy_rate, accuracy_temporal
from .losses import ce_count_loss, ce_max_membrane_loss, ce_rate_loss, mse_count_loss, mse_membrane_loss
from .regularisation import l1_rate_sparsity
from .spike_time import SpikeTime
from .temporal import ce_temporal_loss, mse_temporal_loss

__all__ = [
    "ce_rate_loss",
    "ce_count_loss",
    "ce_max_membrane_loss",
    "mse_count_loss",
    "mse_membrane_loss",
    "mse_temporal_loss",
    "ce_temporal_loss",
    "SpikeTime",
    "accuracy_rate",
    "accuracy_temporal",
    "l1_rate_sparsity",
]
