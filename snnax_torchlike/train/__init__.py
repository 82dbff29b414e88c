"""Training: `Trainer` (fit / evaluate / predict), callbacks, history, checkpoints."""

from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .checkpoint import CheckpointError, load, save
from .history import History
from .trainer import NonFiniteError, Trainer

__all__ = [
    "Trainer",
    "Callback",
    "EarlyStopping",
    "ModelCheckpoint",
    "History",
    "save",
    "load",
    "CheckpointError",
    "NonFiniteError",
]
