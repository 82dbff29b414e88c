"""Training: `Trainer` (fit / evaluate / predict), callbacks, history."""

from .callbacks import Callback, EarlyStopping
from .history import History
from .trainer import Trainer

__all__ = ["Trainer", "Callback", "EarlyStopping", "History"]
