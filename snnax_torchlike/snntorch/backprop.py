"""``snntorch.backprop``: snnTorch's ready-made training epochs ``TBPTT``, ``BPTT`` and ``RTRL``.

Deprecated in snnTorch, as here: each call warns (``DeprecationWarning``) that a
training loop of your own is faster; snnTorch warns when the module is imported.
Each function trains a network whose neurons keep hidden state
(``init_hidden=True``, the last one with ``output=True``) for one pass over a data
loader, step by step in the imperative style: a forward call per time step,
``loss.backward()`` and ``optimizer.step()`` every ``K`` steps, the hidden state
cut from the graph after each update and reset before each batch. Losses and
updates are snnTorch's (tested against it on the same weights).

It works with a facade network (``snnax_torchlike.nn``), a facade optimizer
(``snnax_torchlike.optim``), a loss of ``snnax_torchlike.functional`` and any
iterable of ``(data, targets)`` batches (a torch ``DataLoader`` included).

Differences, all where snnTorch fails or reaches outside the network:

- ``TBPTT`` and ``RTRL`` with ``time_var=True`` run; in snnTorch 1.0.0 they raise
  ``UnboundLocalError`` (only ``BPTT`` runs on time-varying data there).
- Every neuron of ``net`` is reset and cut from the graph, at any depth and in no
  other network; snnTorch resets every neuron of the same classes in the process
  and, when ``net`` mixes neuron classes, cuts only one class's state (the next
  update then fails).
- A network, loss or regulariser snnTorch cannot run (no neuron returning
  ``(spk, ..., mem)``, a loss it does not know) raises a ``TypeError`` that says
  so, before any step, where snnTorch fails with an ``UnboundLocalError`` or
  ``NameError`` mid-epoch.
- ``device`` is accepted and ignored: JAX places the arrays.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import jax.numpy as jnp

from snnax_torchlike.imperative import Tensor, stack
from snnax_torchlike.imperative.convert import to_array
from snnax_torchlike.nn.module import Module
from snnax_torchlike.nn.time_loop import keeps_hidden_state
from snnax_torchlike.utils import detach_hidden, reset

__all__ = ["TBPTT", "BPTT", "RTRL"]

_INPUT_OF = {
    "mse_membrane_loss": "membrane",
    "ce_max_membrane_loss": "membrane",
    "ce_rate_loss": "spikes",
    "ce_count_loss": "spikes",
    "mse_count_loss": "spikes",
    "ce_latency_loss": "spikes",
    "mse_temporal_loss": "spikes",
    "ce_temporal_loss": "spikes",
    "l1_rate_sparsity": "spikes",
}
"""What snnTorch passes to each of its losses and regularisers, by ``__name__``: spikes or membranes."""


def _input_kind(role: str, fn: Any) -> str:
    """``"spikes"`` or ``"membrane"``: the loss's ``input_kind``, else snnTorch's choice by ``__name__``."""
    kind = getattr(fn, "input_kind", None) or _INPUT_OF.get(getattr(fn, "__name__", None))
    if kind is None:
        raise TypeError(
            f"backprop.TBPTT: {role} must be one of snnTorch's losses or regularisers (from "
            f"snnax_torchlike.snntorch.functional, e.g. mse_count_loss()), which say whether they take spikes or "
            f"membranes; got {fn!r}. Write the training loop yourself to use another one."
        )
    return kind


def _check_arguments(num_steps: int | bool, time_var: bool, time_first: bool, K: int | bool) -> None:
    """snnTorch's argument checks, in its order and with its messages, then those of the types."""
    if num_steps and time_var:
        raise ValueError(
            "backprop.TBPTT: num_steps should not be specified if time_var is True: the size of the time "
            "dimension of each batch is used as num_steps."
        )
    if num_steps is False and time_var is False:
        raise ValueError("backprop.TBPTT: num_steps must be specified if time_var is False (time-static data).")
    if num_steps and K and K > num_steps:
        raise ValueError(
            f"backprop.TBPTT: K must be less than or equal to num_steps, got K={K}, num_steps={num_steps}."
        )
    if time_var is False and time_first is False:
        raise ValueError(
            "backprop.TBPTT: time_first should not be specified if data is not time-varying (time_var=False)."
        )
    for name, value in (("num_steps", num_steps), ("K", K)):
        if value is not False and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1):
            raise ValueError(f"backprop.TBPTT: {name} must be False or an int >= 1, got {value!r}.")


def _outputs(net: Module, x: Any) -> tuple[Tensor, Tensor]:
    """``(spk, mem)`` of one step: the first and last of what the last neuron returns."""
    out = net(x)
    if not isinstance(out, tuple | list) or len(out) < 2:
        raise TypeError(
            "backprop.TBPTT: net must return (spk, ..., mem) at each step, as a last neuron with init_hidden=True "
            f"and output=True does; it returned {type(out).__name__}."
        )
    return out[0], out[-1]


def _chunk_loss(
    criterion: Callable[..., Any],
    regularization: Callable[..., Any] | bool,
    records: dict[str, list[Tensor]],
    targets: Any,
    kinds: tuple[str, str | None],
) -> Tensor:
    """The loss of one truncation window (plus the regulariser), from its recorded spikes and membranes."""
    loss_kind, reg_kind = kinds
    loss = criterion(stack(records[loss_kind]), targets)
    if reg_kind is not None:
        loss = loss + regularization(stack(records[reg_kind]))
    return loss


def _warn_deprecated() -> None:
    """snnTorch's deprecation notice, attributed to the line that called the public function."""
    warnings.warn(
        "snnax_torchlike.snntorch.backprop will be deprecated in a future release, as in snnTorch. Writing out "
        "your own training loop will lead to substantially faster performance.",
        DeprecationWarning,
        stacklevel=3,
    )


def _update(optimizer: Any, loss: Tensor, net: Module) -> None:
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    detach_hidden(net)


def TBPTT(
    net: Module,
    dataloader: Iterable[tuple[Any, Any]],
    optimizer: Any,
    criterion: Callable[..., Any],
    num_steps: int | bool = False,
    time_var: bool = True,
    time_first: bool = True,
    regularization: Callable[..., Any] | bool = False,
    device: Any = "cpu",
    K: int | bool = 1,
) -> Tensor:
    """One epoch of truncated backpropagation through time: an update every ``K`` steps (snnTorch's ``TBPTT``).

    For each batch: reset the network's hidden state; call ``net`` once per time
    step; every ``K`` steps, stack the window's spikes (or membranes, as the loss
    takes) to ``[K, B, ...]``, compute ``criterion(window, targets)`` (plus
    ``regularization(window spikes)``), update, and cut the hidden state from the
    graph. When ``K`` does not divide the number of steps, the last
    ``num_steps % K`` steps make one more, shorter window.

    **Arguments:**

    - ``net``: a facade network whose neurons have ``init_hidden=True`` and whose
      last neuron has ``output=True`` (a call returns ``(spk, ..., mem)``).
    - ``dataloader``: an iterable of ``(data, targets)`` batches (torch, numpy or JAX arrays).
    - ``optimizer``: a facade optimizer over ``net.parameters()``.
    - ``criterion``: a loss of ``snnax_torchlike.snntorch.functional``; its
      ``input_kind`` picks spikes or membranes. A loss with ``time_var_targets``
      set gets the window's slice of ``targets`` along their first axis.
    - ``num_steps``: the steps per batch for time-static data (``time_var=False``),
      where the same ``data`` ``[B, ...]`` is fed at every step; ``False`` for
      time-varying data.
    - ``time_var``: ``data`` is a sequence, ``[T, B, ...]`` (or ``[B, T, ...]``).
    - ``time_first``: ``data`` is ``[T, B, ...]``; ``False`` for ``[B, T, ...]``.
    - ``regularization``: ``False``, or ``functional.l1_rate_sparsity(...)``, added to each window's loss.
    - ``device``: ignored (JAX places arrays).
    - ``K``: steps per update; ``False`` for the whole sequence.

    **Returns:** the epoch's mean loss, as snnTorch computes it: per batch, the
    sum of each full window's loss times ``K / num_steps`` and the last, shorter
    window's loss divided by its length; then the mean over batches. A facade
    tensor of the loss's shape (a scalar), cut from the graph.

    **Raises:** ``ValueError`` for snnTorch's invalid argument combinations;
    ``TypeError`` for a network without hidden state, an unknown loss or
    regulariser, or a network that does not return ``(spk, ..., mem)``.
    """
    del device
    _warn_deprecated()
    return _train_epoch(net, dataloader, optimizer, criterion, num_steps, time_var, time_first, regularization, K)


def _train_epoch(
    net: Module,
    dataloader: Iterable[tuple[Any, Any]],
    optimizer: Any,
    criterion: Callable[..., Any],
    num_steps: int | bool,
    time_var: bool,
    time_first: bool,
    regularization: Callable[..., Any] | bool,
    K: int | bool,
) -> Tensor:
    """[`TBPTT`][]'s epoch, without the deprecation notice."""
    _check_arguments(num_steps, time_var, time_first, K)
    if not isinstance(net, Module) or not keeps_hidden_state(net):
        raise TypeError(
            "backprop.TBPTT: net must be an snnax_torchlike network whose neurons keep hidden state "
            f"(init_hidden=True, the last one with output=True); got {type(net).__name__} without such neurons."
        )
    kinds = (
        _input_kind("criterion", criterion),
        _input_kind("regularization", regularization) if regularization else None,
    )
    time_var_targets = bool(getattr(criterion, "time_var_targets", False))
    total: Tensor | float = 0.0
    batches = 0
    for data, targets in dataloader:
        batches += 1
        net.train()
        data, targets = to_array(data), to_array(targets)
        if time_var and not time_first:
            data = jnp.swapaxes(data, 0, 1)
        steps = data.shape[0] if time_var else int(num_steps)
        window = steps if K is False else K
        reset(net)
        records: dict[str, list[Tensor]] = {"spikes": [], "membrane": []}
        for step in range(steps):
            spk, mem = _outputs(net, data[step] if time_var else data)
            records["spikes"].append(spk)
            records["membrane"].append(mem)
            if len(records["spikes"]) < window and step < steps - 1:
                continue
            start = step + 1 - len(records["spikes"])
            full = len(records["spikes"]) == window
            window_targets = targets[start : step + 1] if time_var_targets else targets
            loss = _chunk_loss(criterion, regularization, records, window_targets, kinds)
            _update(optimizer, loss, net)
            # snnTorch weighs a full window by K / steps but the shorter last one by 1 / its length.
            total = total + loss.detach() / (steps / window if full else step + 1 - start)
            records = {"spikes": [], "membrane": []}
    if batches == 0:
        raise ValueError("backprop.TBPTT: dataloader gave no batch.")
    return total / batches


def BPTT(
    net: Module,
    dataloader: Iterable[tuple[Any, Any]],
    optimizer: Any,
    criterion: Callable[..., Any],
    num_steps: int | bool = False,
    time_var: bool = True,
    time_first: bool = True,
    regularization: Callable[..., Any] | bool = False,
    device: Any = "cpu",
) -> Tensor:
    """One epoch of backpropagation through time: one update per batch, after all its steps (snnTorch's ``BPTT``).

    [`TBPTT`][] with ``K`` the whole sequence (``num_steps``, or each batch's length
    for time-varying data); the arguments and return value are [`TBPTT`][]'s.
    """
    del device
    _warn_deprecated()
    return _train_epoch(
        net, dataloader, optimizer, criterion, num_steps, time_var, time_first, regularization, num_steps
    )


def RTRL(
    net: Module,
    dataloader: Iterable[tuple[Any, Any]],
    optimizer: Any,
    criterion: Callable[..., Any],
    num_steps: int | bool = False,
    time_var: bool = True,
    time_first: bool = True,
    regularization: Callable[..., Any] | bool = False,
    device: Any = "cpu",
) -> Tensor:
    """One epoch with an update after every time step (snnTorch's ``RTRL``).

    [`TBPTT`][] with ``K = 1``: each step's loss sees that step alone and the
    hidden state is cut from the graph after it (snnTorch's name; it is not
    real-time recurrent learning's forward-mode gradient). The arguments and return
    value are [`TBPTT`][]'s.
    """
    del device
    _warn_deprecated()
    return _train_epoch(net, dataloader, optimizer, criterion, num_steps, time_var, time_first, regularization, 1)
