"""snnTorch-style losses, accuracy and regularisers (``from snnax_torchlike import functional as SF``).

Outputs are time-first ``[T, B, C]`` and targets integer class indices ``[B]``, as
in ``snntorch.functional``. Each loss is an immutable object (``SF.ce_rate_loss()``)
called as ``loss_fn(outputs, targets)``, returning a scalar of shape ``()``, with a
class attribute ``input_kind`` (``"spikes"`` or ``"membrane"``) for trainers.
Population codes and ``weight=`` are not supported (see ``losses``).
"""

from .accuracy import accuracy_rate
from .losses import ce_count_loss, ce_max_membrane_loss, ce_rate_loss, mse_count_loss, mse_membrane_loss
from .regularisation import l1_rate_sparsity

__all__ = [
    "ce_rate_loss",
    "ce_count_loss",
    "ce_max_membrane_loss",
    "mse_count_loss",
    "mse_membrane_loss",
    "accuracy_rate",
    "l1_rate_sparsity",
]
