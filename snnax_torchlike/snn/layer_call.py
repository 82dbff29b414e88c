"""Run any layer for one step: a core `StatefulLayer`, an Equinox stateful layer, or a plain callable.

Plain layers (``eqx.nn.Linear``, ``Conv2d``, ``Dropout``, ``LayerNorm``, any
callable of ``x``) have no state; their state is ``None``. Equinox's stateful
layers (an ``eqx.nn.StatefulLayer`` whose ``is_stateful()`` is True:
``eqx.nn.BatchNorm``, ``eqx.nn.SpectralNorm``, an ``eqx.nn.Sequential`` holding
one) keep their state in an ``eqx.nn.State`` and are called in Equinox's order,
``layer(x, state, *, key) -> (y, state)``; a model carries that ``State`` from
step to step like any other layer's state.
"""

from __future__ import annotations

import inspect
from typing import Any, NoReturn

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from ._stateful import State, StatefulLayer
from .errors import LayerError, LayerTypeError


def accepts_key(layer: Any) -> bool:
    """Whether a plain layer's call takes a ``key`` argument (Equinox layers do)."""
    try:
        parameters = inspect.signature(layer).parameters
    except (TypeError, ValueError):
        return False
    return "key" in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def is_equinox_stateful(layer: Any) -> bool:
    """Whether ``layer`` keeps an ``eqx.nn.State``: an ``eqx.nn.StatefulLayer`` whose ``is_stateful()`` is True."""
    return isinstance(layer, eqx.nn.StatefulLayer) and layer.is_stateful()


def carries_state(layer: Any) -> bool:
    """Whether ``layer`` has state from one step to the next: a core `StatefulLayer` or an Equinox stateful layer."""
    return isinstance(layer, StatefulLayer) or is_equinox_stateful(layer)


def step_layer(layer: Any, state: State, x: Any, key: PRNGKeyArray | None) -> tuple[State, Array]:
    """One step of ``layer``: ``(new_state, output)``, whichever convention the layer follows."""
    if isinstance(layer, StatefulLayer):
        return layer(state, x, key=key)
    if is_equinox_stateful(layer):
        # Equinox marks the State object it is given as used up; a new container over
        # the same arrays keeps the caller's state valid, as the core's layers do.
        fresh = jax.tree.map(lambda leaf: leaf, state)
        y, new_state = layer(x, fresh, key=key) if accepts_key(layer) else layer(x, fresh)
        return new_state, y
    if accepts_key(layer):
        return None, layer(x, key=key)
    return None, layer(x)


def _expected_input(layer: Any) -> str | None:
    """A human description of the per-sample input a known Equinox layer expects."""
    if isinstance(layer, eqx.nn.Linear):
        return "()" if layer.in_features == "scalar" else f"({layer.in_features},)"
    if isinstance(layer, (eqx.nn.Conv, eqx.nn.ConvTranspose)):
        spatial = ", ".join(["*"] * layer.num_spatial_dims)
        return f"({layer.in_channels}, {spatial}) (channels first, no batch axis)"
    if isinstance(layer, eqx.nn.LayerNorm):
        return f"{layer.shape}"
    if isinstance(layer, eqx.nn.BatchNorm):
        return f"({layer.input_size}, ...) (channels first, no batch axis)"
    return None


def init_layer(
    layer: Any, in_shape: Any, key: PRNGKeyArray | None, *, name: str, index: int | None = None
) -> tuple[State, jax.ShapeDtypeStruct]:
    """The initial state of ``layer`` for inputs of ``in_shape`` and its output's shape.

    ``in_shape`` is a tuple of ints, or a tuple of such for a layer that takes a
    tuple of inputs. Shapes are inferred with ``jax.eval_shape``: no real compute.
    Errors are re-raised naming the layer (``name``) and the shapes involved; with
    ``index`` (its position in a model) as a `LayerError` whose ``{0}`` is the layer.
    """
    # Only shapes are traced, so a stand-in key serves layers that demand one (Dropout).
    probe_key = jax.random.key(0) if key is None else key
    state = _equinox_state(layer, name, index) if is_equinox_stateful(layer) else None
    # Shapes are probed in inference mode, where they are the same: Equinox's batch
    # statistics layers (also inside a core layer) then read their running statistics
    # instead of averaging over a named vmap axis, which is unbound here.
    probe = eqx.nn.inference_mode(layer)
    try:
        if isinstance(layer, StatefulLayer):
            state = layer.init_state(in_shape, key)
        dummy = _dummy_input(in_shape)
        _, out = jax.eval_shape(lambda s, x: step_layer(probe, s, x, probe_key), state, dummy)
    except (ValueError, TypeError) as error:
        expected = _expected_input(layer)
        hint = f" It expects per-sample inputs of shape {expected}." if expected else ""
        # Our own layers raise precise types; JAX reports shape clashes as TypeError.
        error_type = type(error) if isinstance(layer, StatefulLayer) else ValueError
        message = f"cannot take an input of shape {in_shape}.{hint} ({error})"
        _raise_for_layer(error_type, message, layer, name, index, error)
    if not isinstance(out, jax.ShapeDtypeStruct):
        raise TypeError(f"{name}: a layer must output one array per step, got {type(out).__name__}.")
    return state, out


def _equinox_state(layer: Any, name: str, index: int | None) -> eqx.nn.State:
    """The initial ``eqx.nn.State`` of an Equinox stateful layer, from the initial values the layer holds."""
    try:
        return eqx.nn.State(layer)
    except ValueError as error:
        message = (
            "its initial eqx.nn.State was deleted (by eqx.nn.make_with_state or eqx.nn.delete_init_state); "
            "pass the layer as constructed, e.g. eqx.nn.BatchNorm(...): the model's init_state makes its State."
        )
        _raise_for_layer(ValueError, message, layer, name, index, error)


def _raise_for_layer(
    error_type: type[Exception], message: str, layer: Any, name: str, index: int | None, cause: Exception
) -> NoReturn:
    """Raise ``message`` about ``layer``: a `LayerError` (`LayerTypeError`) at ``index``, else prefixed by ``name``."""
    if index is not None:
        structured = LayerTypeError if issubclass(error_type, TypeError) else LayerError
        raise structured("{0}: " + _escaped(message), [index], [layer]) from cause
    raise error_type(f"{name}: {message}") from cause


def _escaped(text: str) -> str:
    """``text`` as a literal inside a ``str.format`` template."""
    return text.replace("{", "{{").replace("}", "}}")


def _dummy_input(in_shape: Any) -> Any:
    if all(isinstance(s, int) for s in in_shape):
        return jax.ShapeDtypeStruct(tuple(in_shape), jnp.float32)
    return tuple(_dummy_input(s) for s in in_shape)
