"""torch.optim-style optimizers on optax."""

from .optimizer import SGD, Adam, AdamW, Optimizer, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop"]
