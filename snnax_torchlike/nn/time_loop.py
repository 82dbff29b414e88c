"""Running a network over a time-first sequence inside a traced function (``fit``'s steps).

A network that keeps hidden state (snnTorch's ``init_hidden``) is called once
per step in a ``lax.scan``; one whose ``forward`` loops over the steps itself
is captured, so its loop compiles as a loop too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..imperative import Tensor, captured_call, loops_captured, stats, unwrap
from .module import Module


def reset_hidden_state(model: Module) -> None:
    """Zero the hidden state of every neuron inside ``model``, at any depth (``utils.reset``)."""
    for module in model.modules():
        if hasattr(module, "reset_hidden"):
            module.reset_hidden()


def detach_hidden_state(model: Module) -> None:
    """Cut the hidden state of every neuron inside ``model`` from the graph (``utils.detach_hidden``)."""
    for module in model.modules():
        if hasattr(module, "detach_hidden"):
            module.detach_hidden()


def keeps_hidden_state(model: Module) -> bool:
    """Whether some neuron of ``model`` keeps its state between calls (``init_hidden=True``)."""
    return any(getattr(module, "init_hidden", False) for module in model.modules())


def run_over_time(model: Module, x: Array) -> Any:
    """``model`` called once per time step of ``x`` ``[T, B, ...]``, from a reset state, outputs stacked.

    Pure JAX (call it inside a traced function, in a pure scope): the hidden
    states are the carry of one ``lax.scan``, starting from zeros shaped as the
    first step makes them, which is what ``utils.reset(net)`` followed by a
    Python loop over ``x[t]`` computes.

    **Returns:** what one call returns, each array with the time axis in front ``[T, ...]``.
    """
    reset_hidden_state(model)

    def step(x_t: Array) -> tuple[Any, dict]:
        out = unwrap(model(x_t))
        return out, dict(model.named_hidden())

    _, hidden_shapes = jax.eval_shape(step, x[0])
    initial = {name: jnp.zeros(aval.shape, aval.dtype) for name, aval in hidden_shapes.items()}

    def body(hidden: dict, x_t: Array) -> tuple[dict, Any]:
        model.set_hidden(hidden)
        out, new_hidden = step(x_t)
        return new_hidden, out

    _, outputs = jax.lax.scan(body, initial, x)
    return outputs


def run_captured(fn: Callable[[], Any], modules: Sequence[Module], plain: Callable[[], Any] | None = None) -> Any:
    """``fn()`` inside a traced function (in a pure scope), its Python loops compiled as loops.

    The call is captured (`imperative.captured_call`): its operations are recorded,
    and a run of identical time steps is compiled as one ``lax.scan``, so compile
    time does not grow with the number of steps. Outputs and gradients are those
    of the unrolled loop. With `imperative.capture_loops` off, ``plain()`` (by
    default ``fn()``) runs as plain traced code, which unrolls its loops; so it
    does where capturing fails (an operation that cannot be recorded), after the
    hidden state of ``modules`` is put back (counted in
    ``imperative.stats.capture_fallbacks``).

    **Returns:** what ``fn`` returns.
    """
    if not loops_captured():
        return (fn if plain is None else plain)()
    hidden = [(module, dict(module.__dict__["_hidden"])) for root in modules for module in root.modules()]
    try:
        return captured_call(fn)
    except Exception:  # noqa: BLE001 - the plain run below raises the user's own error, if there is one
        for module, states in hidden:
            module.__dict__["_hidden"] = states
        stats.capture_fallbacks += 1
        return (fn if plain is None else plain)()


def traced_forward(model: Module, x: Any) -> Any:
    """``model``'s time-first outputs for ``x`` ``[T, B, ...]``, inside a traced function (in a pure scope).

    - A network that keeps hidden state runs as `run_over_time`.
    - A layer of this library (or a container of them) is called as it is: its
      time loop is a ``lax.scan`` already.
    - A network whose ``forward`` is Python code (snnTorch's ``for step in
      range(num_steps)`` loop) runs with `run_captured`, so its loop compiles as one loop.

    **Returns:** what ``model(x)`` returns, with JAX arrays for tensors.
    """
    if keeps_hidden_state(model):
        return run_over_time(model, x)
    if model.records_as_node:
        return unwrap(model(x))
    # Captured, the input is a tensor, so that ``x[step]`` is recorded and read as one slice of ``x``.
    return unwrap(run_captured(lambda: model(Tensor(x) if isinstance(x, jax.Array) else x), [model], lambda: model(x)))
