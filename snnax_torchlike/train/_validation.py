"""Checks of what ``Trainer`` is given (loss, metrics, callbacks), made when it is built, before any step."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from jaxtyping import Array

from .callbacks import Callback
from .logger import Logger


def metric_name(metric: Callable[..., Any]) -> str:
    """The name a loss or metric is logged under: its ``__name__``, else its class's."""
    return getattr(metric, "__name__", type(metric).__name__)


# The hooks Trainer calls, with the arguments it passes.
HOOKS = {
    "on_fit_start": ("trainer",),
    "on_train_epoch_start": ("trainer", "epoch"),
    "on_train_batch_end": ("trainer", "batch_index", "loss"),
    "on_train_step_logs": ("trainer", "step", "logs"),
    "on_train_epoch_end": ("trainer", "epoch", "logs"),
    "on_fit_end": ("trainer",),
    "on_exception": ("trainer", "error"),
}
_HOOK_LIST = ", ".join(f"{hook}({', '.join(arguments)})" for hook, arguments in HOOKS.items())
# Names the trainer logs itself: a metric of the same name would overwrite them.
LOGGED_NAMES = ("loss", "lr", "grad_norm")


def check_function(where: str, fn: Any, example: str) -> None:
    """Refuse, when the Trainer is built, a loss or metric that cannot be called as ``fn(outputs, targets)``.

    ``example`` is a suitable function, named in the error.
    """
    if isinstance(fn, type):
        raise TypeError(
            f"Trainer: {where} is the class {fn.__name__}, not a function; pass an instance: {fn.__name__}()."
        )
    if not callable(fn):
        raise TypeError(
            f"Trainer: {where} is the {type(fn).__name__} {fn!r}, not a function of (outputs, targets); pass a "
            f"function such as {example}."
        )
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to read (some builtins): the first call tells
        return
    try:
        signature.bind(None, None)
    except TypeError:
        raise TypeError(
            f"Trainer: {where} {metric_name(fn)} must accept two arguments (outputs, targets), but its signature "
            f"is {signature}."
        ) from None


def checked_metrics(metrics: Any) -> list[Callable[[Array, Array], Array]]:
    """``metrics`` as a list of functions with distinct log names, or a clear error."""
    if isinstance(metrics, (str, bytes, Mapping)) or callable(metrics):
        described = f"the {type(metrics).__name__} {metrics!r}" if not callable(metrics) else metric_name(metrics)
        raise TypeError(
            f"Trainer: metrics must be a list of functions metric(spikes, targets), e.g. "
            f"[functional.accuracy_rate], each logged under its __name__; got {described}."
        )
    metrics = list(metrics)
    seen: dict[str, int] = {}
    for index, metric in enumerate(metrics):
        check_function(f"metrics[{index}]", metric, "functional.accuracy_rate")
        name = metric_name(metric)
        if name in LOGGED_NAMES:
            raise ValueError(
                f"Trainer: metrics[{index}] is named {name!r}, which the trainer logs itself, so one would overwrite "
                "the other; rename the metric function (or set its __name__)."
            )
        if name in seen:
            raise ValueError(
                f"Trainer: metrics[{seen[name]}] and metrics[{index}] have the same name {name!r}, so one would "
                "overwrite the other in the logs; give them distinct names (def functions, or set __name__)."
            )
        seen[name] = index
    return metrics


def checked_callbacks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a list of [`Callback`][] objects whose hooks Trainer can call, or a clear error."""
    if isinstance(callbacks, (Callback, type)):
        name = callbacks.__name__ if isinstance(callbacks, type) else type(callbacks).__name__
        raise TypeError(f"Trainer: callbacks must be a list of Callback objects, got one {name}; pass callbacks=[...].")
    callbacks = list(callbacks)
    for index, callback in enumerate(callbacks):
        if isinstance(callback, type) and issubclass(callback, Callback):
            raise TypeError(
                f"Trainer: callbacks[{index}] is the class {callback.__name__}, not an instance; pass "
                f"{callback.__name__}(...)."
            )
        if not isinstance(callback, Callback):
            raise TypeError(
                f"Trainer: callbacks[{index}] is a {type(callback).__name__}, not a Callback; subclass "
                "snnax_torchlike.Callback and override its on_* hooks."
            )
        _check_hooks(f"Trainer: callbacks[{index}] ({type(callback).__name__})", callback)
    return callbacks


def checked_loggers(loggers: Any) -> list[Logger]:
    """``loggers`` (one [`Logger`][], a list of them, or None) as a list, or a clear error."""
    if loggers is None or loggers is False:
        return []
    single = isinstance(loggers, (Logger, type)) or not isinstance(loggers, (list, tuple))
    listed = [loggers] if single else list(loggers)
    for index, logger in enumerate(listed):
        where = "Trainer: logger" if single else f"Trainer: logger[{index}]"
        if isinstance(logger, type) and issubclass(logger, Logger):
            raise TypeError(f"{where} is the class {logger.__name__}, not an instance; pass {logger.__name__}(...).")
        if not isinstance(logger, Logger):
            raise TypeError(
                f"{where} is a {type(logger).__name__}, not a Logger; pass snnax_torchlike.CSVLogger(dir), "
                "TensorBoardLogger(dir), a list of them, or a subclass of snnax_torchlike.Logger."
            )
        _check_hooks(f"{where} ({type(logger).__name__})", logger)
    if len({id(logger) for logger in listed}) != len(listed):
        raise ValueError("Trainer: the same logger object is listed twice; it would log every value twice.")
    return listed


def _check_hooks(where: str, callback: Callback) -> None:
    """Refuse hooks Trainer would never call (Keras' and Lightning's other names) or call with the wrong arguments."""
    own = [vars(cls) for cls in type(callback).__mro__ if cls not in (Callback, object)]
    unknown = sorted({name for names in own for name in names if name.startswith("on_") and name not in HOOKS})
    if unknown:
        raise TypeError(
            f"{where} defines {unknown}, which Trainer never calls; its hooks are {_HOOK_LIST} (Keras' "
            "on_epoch_end(epoch, logs) is on_train_epoch_end(trainer, epoch, logs))."
        )
    for hook, arguments in HOOKS.items():
        if not any(hook in names for names in own):
            continue
        try:
            signature = inspect.signature(getattr(callback, hook))
        except (TypeError, ValueError):
            continue
        try:
            signature.bind(*arguments)
        except TypeError:
            raise TypeError(
                f"{where}.{hook} must take ({', '.join(arguments)}), but its signature is {signature}."
            ) from None
