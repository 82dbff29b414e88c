"""Training: `Trainer` (fit / evaluate / predict), callbacks, history, checkpoints."""

from ..nn.module import TrainingBackend, register_training_backend
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .checkpoint import CheckpointError, load, save
from .csv_logger import CSVLogger
from .history import History
from .logger import FolderLogger, Logger
from .tensorboard_logger import TensorBoardLogger
from .trainer import NonFiniteError, Trainer

# Module.fit/evaluate/predict/save reach this layer through the backend it registers.
register_training_backend(TrainingBackend(Trainer=Trainer, save=save))

__all__ = [
    "Trainer",
    "Callback",
    "EarlyStopping",
    "ModelCheckpoint",
    "Logger",
    "FolderLogger",
    "CSVLogger",
    "TensorBoardLogger",
    "History",
    "save",
    "load",
    "CheckpointError",
    "NonFiniteError",
]
