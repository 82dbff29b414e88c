"""snnTorch-style losses, accuracy and regularisers (``import snnax_torchlike.functional as SF``)."""

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
