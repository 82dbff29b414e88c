"""Training: `Trainer` (fit / evaluate / predict), callbacks, history, checkpoints."""

from ..nn.module import TrainingBackend, register_training_backend
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .checkpoint import CheckpointError, load, save
from .history import History
from .trainer import NonFiniteError, Trainer

# Module.fit/evaluate/predict/save reach this layer through the backend it registers.
register_training_backend(TrainingBackend(Trainer=Trainer, save=save))

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
