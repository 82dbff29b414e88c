"""The interface every layer with memory across time steps implements."""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
from jaxtyping import Array, PRNGKeyArray

State = Any
"""A PyTree of arrays: the memory a layer carries from one time step to the next."""


class StatefulLayer(eqx.Module):
    """Base class of layers that carry state from one time step to the next.

    A stateful layer is a pure function of ``(state, x)``: it never mutates itself.
    Shapes are per sample; batch with ``jax.vmap``. Time steps are driven by a
    model (``StatefulModel``/``Sequential``) inside one ``jax.lax.scan``.

    The call takes ``(state, x)`` and returns ``(state, y)``, the order of a
    ``jax.lax.scan`` body ``f(carry, x) -> (carry, y)``, so a layer steps inside the
    model's scan (or is one itself) with no adapter. Equinox's own stateful layers
    (``eqx.nn.BatchNorm``, with an ``eqx.nn.State``) keep Equinox's order
    ``layer(x, state) -> (y, state)``; models take them too and call each kind in
    its own order (``snn.layer_call.step_layer``).
    """

    @abc.abstractmethod
    def init_state(self, shape: tuple[int, ...], key: PRNGKeyArray | None = None) -> State:
        """The state before the first time step.

        **Arguments:**

        - ``shape``: the shape of one sample's input at one time step (no batch,
          no time axis).
        - ``key``: a PRNG key, for layers with random initial states. Optional.

        **Returns:** a PyTree of arrays.
        """

    @abc.abstractmethod
    def __call__(self, state: State, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[State, Array]:
        """Advance one time step.

        **Arguments:**

        - ``state``: the state returned by ``init_state`` or by the previous step.
        - ``x``: one sample's input at this step, of the shape given to
          ``init_state``.
        - ``key``: a PRNG key for this step and layer. Optional.

        **Returns:** ``(new_state, output)``.
        """

    def scan_sequence(self, state: State, xs: Array) -> tuple[State, Array, State] | None:
        """Optionally, the whole sequence at once: a faster path that models take when they run layer by layer.

        **Arguments:** ``state``: the state before the first step; ``xs``: the inputs
        of every step, ``[T, *shape]``.

        **Returns:** ``(final_state, outputs, states)`` with a leading time axis on
        ``outputs`` and on every leaf of ``states`` (the state after each step),
        equal in values and gradients to stepping ``__call__``; or None (the
        default) to have the model step ``__call__`` in a ``lax.scan``.
        """
        return None

    def membrane(self, state: State) -> Any:
        """The membrane potential inside ``state`` (a container returns it beside a last neuron's spikes).

        The core's neurons keep it as their whole state, or as the ``mem`` (snnTorch's
        name) or ``v`` (NIR's and Norse's) field of a state tuple; a layer whose
        state holds it elsewhere overrides this. Works on a state with leading
        time and batch axes too.
        """
        return getattr(state, "mem", getattr(state, "v", state))
