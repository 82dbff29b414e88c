"""Gradient accumulation: ``optax.MultiSteps`` around the optimizer, and the end-of-epoch update it lacks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array

Update = Callable[[tuple[Array, ...], Any, Any], tuple[tuple[Array, ...], Any]]


@dataclasses.dataclass(frozen=True)
class GradientAccumulation:
    """Update once every ``every`` batches with the mean of their gradients (``every=1``: every batch).

    The optimizer's own state stays the inner state of ``optax.MultiSteps``: what
    the optimizer, its scheduler and checkpoints see. Hashable, so a jitted step
    can take it as a static argument.
    """

    every: int = 1

    def transform(self, inner: optax.GradientTransformation) -> optax.GradientTransformation:
        """``inner`` wrapped to accumulate (``inner`` itself for ``every=1``); its clipping sees the mean gradient."""
        return inner if self.every == 1 else optax.MultiSteps(inner, self.every)

    def wrap(self, inner: optax.GradientTransformation, params: tuple[Array, ...], inner_state: Any) -> Any:
        """The accumulating state around the optimizer's current ``inner_state`` (nothing accumulated yet)."""
        if self.every == 1:
            return inner_state
        return optax.MultiSteps(inner, self.every).init(params)._replace(inner_opt_state=inner_state)

    def inner(self, state: Any) -> Any:
        """The optimizer's own state inside ``state``."""
        return state if self.every == 1 else state.inner_opt_state

    def flush(self, update: Update, params: tuple[Array, ...], state: Any) -> tuple[tuple[Array, ...], Any]:
        """Apply the mean of a group of gradients an epoch ended in the middle of, as Lightning does; pure.

        ``update(params, inner_state, grads)`` is the optimizer's pure update;
        ``state`` is the accumulating state (``every > 1``). Nothing carries over into
        the next epoch or a checkpoint. Returns ``(params, state)``.
        """
        new_params, new_inner = update(params, state.inner_opt_state, state.acc_grads)
        pending = state.mini_step > 0
        params, inner = jax.tree_util.tree_map(
            lambda new, old: jnp.where(pending, new, old), (new_params, new_inner), (params, state.inner_opt_state)
        )
        return params, state._replace(
            inner_opt_state=inner,
            mini_step=jnp.zeros_like(state.mini_step),
            gradient_step=state.gradient_step + pending.astype(state.gradient_step.dtype),
            acc_grads=jax.tree_util.tree_map(jnp.zeros_like, state.acc_grads),
        )
