"""Elementwise neuron kernels over whole sequences, batched as one more state axis under ``vmap``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array

Kernel = Callable[[tuple[Array, ...], tuple[Array, ...], tuple[Array, ...]], tuple[list[Array], list[Array]]]


def time_major_kernel(kernel: Kernel) -> Kernel:
    """``kernel`` with a batching rule that keeps every sequence time-major.

    ``kernel(parameters, states, sequences) -> (states, sequences)`` takes tuples of
    arrays (parameters that broadcast against the state, states ``[*shape]``,
    sequences ``[T, *shape]``) and returns lists of states ``[*shape]`` and of
    sequences ``[T, *shape]``. It must be elementwise over the state, so that a
    batch is just one more state axis: under ``vmap`` the rule calls ``kernel``
    itself with states ``[B, *shape]`` and sequences ``[T, B, *shape]``.

    Why: a kernel that writes its outputs over an input sequence in a
    ``fori_loop`` needs no zero-filled output buffer, but ``vmap``'s own rule turns
    that in-place update into a scatter, which XLA lays out batch-first, transposing
    every sequence twice. Here the batch stays inside, and the rule's move of the
    batch axis to the front (``custom_vmap`` wants it there) cancels against the
    caller's move back to time-major: nothing is transposed.
    """

    @jax.custom_batching.custom_vmap
    def batched(parameters: tuple[Array, ...], states: tuple[Array, ...], sequences: tuple[Array, ...]) -> Any:
        return kernel(parameters, states, sequences)

    @batched.def_vmap
    def _rule(size: int, in_batched: Any, parameters: tuple, states: tuple, sequences: tuple) -> tuple[Any, Any]:
        parameter_batched, state_batched, sequence_batched = in_batched
        # Batched arguments arrive batch-first; the state's shape follows from the first sequence.
        shape = (size, *sequences[0].shape[1 + sequence_batched[0] :])

        def parameter(p: Array, is_batched: bool) -> Array:
            # A batched parameter [B, *p_shape] lines up with the state [B, *shape] once padded with ones.
            return p.reshape((size,) + (1,) * (len(shape) - p.ndim) + p.shape[1:]) if is_batched else p

        def sequence(xs: Array, is_batched: bool) -> Array:
            return jnp.moveaxis(xs, 0, 1) if is_batched else jnp.broadcast_to(xs[:, None], (xs.shape[0], *shape))

        new_states, new_sequences = batched(
            tuple(parameter(p, b) for p, b in zip(parameters, parameter_batched, strict=True)),
            tuple(m if b else jnp.broadcast_to(m, shape) for m, b in zip(states, state_batched, strict=True)),
            tuple(sequence(xs, b) for xs, b in zip(sequences, sequence_batched, strict=True)),
        )
        outputs = (list(new_states), [jnp.moveaxis(xs, 1, 0) for xs in new_sequences])
        return outputs, jax.tree.map(lambda _: True, outputs)

    return batched


def overwrite_over_time(
    step: Callable[[Array, Array, Array], Array], first: Array, xs: Array, *, reverse: bool = False
) -> tuple[Array, Array]:
    """``carry_t = step(t, carry_{t-1}, xs[t])`` for every ``t``, each result written over ``xs[t]``.

    **Arguments:** ``step``; ``first``: the carry before the first step taken;
    ``xs``: ``[T, *shape]``; ``reverse``: run ``t = T-1, ..., 0``.

    **Returns:** ``(last carry, carries [T, *shape])``, the carries in ``xs``'s buffer
    (XLA updates it in place when ``xs`` is not needed afterwards).
    """
    steps = xs.shape[0]

    def body(i: Array, carry: tuple[Array, Array]) -> tuple[Array, Array]:
        previous, buffer = carry
        t = steps - 1 - i if reverse else i
        new = step(t, previous, jax.lax.dynamic_index_in_dim(buffer, t, keepdims=False))
        return new, jax.lax.dynamic_update_index_in_dim(buffer, new, t, 0)

    return jax.lax.fori_loop(0, steps, body, (first, xs))
