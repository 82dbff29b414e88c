"""Running a network that keeps hidden state (snnTorch's ``init_hidden``) over a time-first sequence."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..imperative import unwrap
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
