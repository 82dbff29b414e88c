"""Ready-made compositions: a chain model, and composite layers that run inside one step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
from jaxtyping import Array, PRNGKeyArray

from ._stateful import State, StatefulLayer
from .errors import layer_name
from .graph import gen_feed_forward_struct
from .layer_call import accepts_key, init_layer, is_equinox_stateful, step_layer
from .model import StatefulModel


class Sequential(StatefulModel):
    """A chain of layers; layer ``i-1`` feeds layer ``i`` in the same step.

    ```python
    model = snn.Sequential(eqx.nn.Linear(64, 128, key=k1), snn.CurrentBasedLIF([0.9, 0.8]),
                           eqx.nn.Linear(128, 10, key=k2), snn.CurrentBasedLIF([0.9, 0.8]))
    state = model.init_state((64,), key)
    state, outs = model(state, x, key)   # x: [T, 64]; outs[-1]: [T, 10]
    ```
    """

    def __init__(self, *layers: Any, output_layer_ids: Sequence[int] | None = None):
        """**Arguments:**

        - ``*layers``: stateful layers (the core's, or Equinox's with an ``eqx.nn.State``)
          and plain Equinox layers, in order.
        - ``output_layer_ids``: which layers' outputs to return (default the last),
          e.g. ``range(len(layers))`` to record every layer.
        """
        if not layers:
            raise ValueError("Sequential: needs at least one layer.")
        structure = gen_feed_forward_struct(len(layers))
        if output_layer_ids is not None:
            structure = type(structure)(
                structure.num_layers,
                structure.input_layer_ids,
                structure.input_connectivity,
                output_layer_ids=output_layer_ids,
            )
        super().__init__(structure, layers)

    def __getitem__(self, index: int) -> Any:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)


def _split(key: PRNGKeyArray | None, n: int) -> list[PRNGKeyArray | None]:
    return [None] * n if key is None else list(jax.random.split(key, n))


class CompoundLayer(StatefulLayer):
    """Several layers run as a chain within one time step, acting as one layer.

    Its state is the tuple of its members' states. Useful as the node of a graph
    (e.g. a Linear and a neuron as one recurrent unit).
    """

    layers: tuple[Any, ...]

    def __init__(self, *layers: Any):
        if not layers:
            raise ValueError(f"{type(self).__name__}: needs at least one layer.")
        self.layers = tuple(layers)

    def init_state(self, shape: Any, key: PRNGKeyArray | None = None) -> tuple[State, ...]:
        """The members' initial states, as a tuple.

        Each member's is for the shape the member before it outputs; ``key`` is split among them.
        """
        states = []
        name = type(self).__name__
        for i, (layer, k) in enumerate(zip(self.layers, _split(key, len(self.layers)))):
            state, out = init_layer(layer, shape, k, name=f"{name} member {layer_name(layer, i)}")
            states.append(state)
            shape = tuple(out.shape)
        return tuple(states)

    def membrane(self, state: tuple[State, ...]) -> Any:
        """The last member's membrane (``LinearLeaky``: a ``Linear``, then the neuron)."""
        last = self.layers[-1]
        return last.membrane(state[-1]) if isinstance(last, StatefulLayer) else state[-1]

    def _chain(self, state: tuple[State, ...], x: Any, key: PRNGKeyArray | None) -> tuple[tuple[State, ...], Array]:
        new_states = []
        for layer, s, k in zip(self.layers, state, _split(key, len(self.layers))):
            s, x = step_layer(layer, s, x, k)
            new_states.append(s)
        return tuple(new_states), x

    def __call__(
        self, state: tuple[State, ...], x: Any, *, key: PRNGKeyArray | None = None
    ) -> tuple[tuple[State, ...], Array]:
        return self._chain(state, x, key)

    def scan_sequence(
        self, state: tuple[State, ...], xs: Array
    ) -> tuple[tuple[State, ...], Array, tuple[State, ...]] | None:
        """The chain over the whole sequence, member after member: plain members map every step at once,
        stateful ones take their own ``scan_sequence`` (a whole-sequence neuron such as ``StateLeaky``).

        None, so the model steps the chain, for subclasses with their own step, plain
        members that take a ``key``, Equinox stateful members (``eqx.nn.BatchNorm``) and
        stateful members without a sequence path.
        """
        if type(self).__call__ is not CompoundLayer.__call__:
            return None
        finals, sequences = [], []
        for layer, s in zip(self.layers, state):
            if isinstance(layer, StatefulLayer):
                whole = layer.scan_sequence(s, xs)
                if whole is None:
                    return None
                final, xs, states = whole
            elif is_equinox_stateful(layer) or accepts_key(layer):
                return None
            else:
                final, xs, states = None, jax.vmap(layer)(xs), None
            finals.append(final)
            sequences.append(states)
        return tuple(finals), xs, tuple(sequences)


class Residual(CompoundLayer):
    r"""A chain with an identity skip connection: $y = f(x) + x$.

    The chain must keep the input's shape; otherwise ``init_state`` raises.
    """

    def init_state(self, shape: Any, key: PRNGKeyArray | None = None) -> tuple[State, ...]:
        """The chain's initial states, as [`CompoundLayer`][]'s.

        Raises ``ValueError`` if the chain's output shape is not ``shape`` (the skip connection adds them).
        """
        states = super().init_state(shape, key)
        _, out = jax.eval_shape(lambda s, x: self._chain(s, x, key), states, jax.ShapeDtypeStruct(shape, "float32"))
        if tuple(out.shape) != tuple(shape):
            raise ValueError(
                f"Residual: the skip connection adds the input {tuple(shape)} to the chain's output "
                f"{tuple(out.shape)}; they must have one shape."
            )
        return states

    def __call__(
        self, state: tuple[State, ...], x: Array, *, key: PRNGKeyArray | None = None
    ) -> tuple[tuple[State, ...], Array]:
        state, y = self._chain(state, x, key)
        return state, y + x


class Parallel(StatefulLayer):
    r"""Branches whose outputs are summed: $y = \sum_k f_k(x_k)$.

    The input is either one array, fed to every branch, or a tuple with one entry
    per branch (a graph node with ``merge="tuple"``). All branch outputs must have
    one shape.
    """

    layers: tuple[Any, ...]

    def __init__(self, *layers: Any):
        if not layers:
            raise ValueError("Parallel: needs at least one branch.")
        self.layers = tuple(layers)

    def _branch_inputs(self, x: Any) -> tuple[Any, ...]:
        if isinstance(x, tuple):
            if len(x) != len(self.layers):
                raise ValueError(f"Parallel: got {len(x)} inputs for {len(self.layers)} branches.")
            return x
        return (x,) * len(self.layers)

    def _branch_shapes(self, shape: Any) -> tuple[Any, ...]:
        if all(isinstance(s, int) for s in shape):
            return (tuple(shape),) * len(self.layers)
        if len(shape) != len(self.layers):
            raise ValueError(f"Parallel: got {len(shape)} input shapes for {len(self.layers)} branches.")
        return tuple(shape)

    def init_state(self, shape: Any, key: PRNGKeyArray | None = None) -> tuple[State, ...]:
        """The branches' initial states, as a tuple.

        ``shape`` is one input shape for every branch, or a tuple of one shape per branch.
        Raises ``ValueError`` if the branches' outputs differ in shape (they are summed).
        """
        states, outs = [], []
        for i, (layer, s, k) in enumerate(zip(self.layers, self._branch_shapes(shape), _split(key, len(self.layers)))):
            state, out = init_layer(layer, s, k, name=f"Parallel branch {layer_name(layer, i)}")
            states.append(state)
            outs.append(tuple(out.shape))
        if len(set(outs)) != 1:
            raise ValueError(f"Parallel: branch outputs must share one shape to be summed, got {outs}.")
        return tuple(states)

    def __call__(
        self, state: tuple[State, ...], x: Any, *, key: PRNGKeyArray | None = None
    ) -> tuple[tuple[State, ...], Array]:
        new_states, total = [], None
        for layer, s, xi, k in zip(self.layers, state, self._branch_inputs(x), _split(key, len(self.layers))):
            s, y = step_layer(layer, s, xi, k)
            new_states.append(s)
            total = y if total is None else total + y
        return tuple(new_states), total
