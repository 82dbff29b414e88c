"""A causal convolution over time, one filter per neuron: ``out[t] = sum_k w[k] x[t - k]``.

snnTorch's ``StateLeaky`` runs it as a depthwise ``conv1d``. XLA's grouped
convolution with one group per neuron is slow on CPU (a forward pass of 100 steps
over 4096 neurons took 0.2-0.7 s, its gradient 12-16 s), so the sum runs lag by
lag instead: one multiply-add over the whole sequence per filter tap, in a
``fori_loop``. Its hand-written backward pass is two more such loops (autodiff of
the loop would save a padded copy of the input per tap).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _lag_sum(padded: Array, weights: Array, length: int) -> Array:
    """``out[t] = sum_k weights[k] * padded[t + K - 1 - k]`` for ``t < length``; ``padded`` has ``length + K - 1``."""
    taps = weights.shape[0]

    def add_tap(k: Array, total: Array) -> Array:
        return total + weights[k] * jax.lax.dynamic_slice_in_dim(padded, taps - 1 - k, length, 0)

    dtype = jnp.result_type(padded, weights)
    return jax.lax.fori_loop(0, taps, add_tap, jnp.zeros((length, *padded.shape[1:]), dtype))


def _lag_sum_forward(padded: Array, weights: Array, length: int) -> tuple[Array, tuple[Array, Array]]:
    return _lag_sum(padded, weights, length), (padded, weights)


def _lag_sum_backward(length: int, residuals: tuple[Array, Array], cotangent: Array) -> tuple[Array, Array]:
    padded, weights = residuals
    taps = weights.shape[0]
    # The input's cotangent is the same sum run backwards in time over the output's cotangent.
    edges = [(taps - 1, taps - 1)] + [(0, 0)] * (cotangent.ndim - 1)
    reversed_cotangent = jnp.pad(jnp.flip(cotangent, 0), edges)
    padded_cotangent = jnp.flip(_lag_sum(reversed_cotangent, weights, length + taps - 1), 0)

    def tap_cotangent(k: Array, total: Array) -> Array:
        window = jax.lax.dynamic_slice_in_dim(padded, taps - 1 - k, length, 0)
        return total.at[k].set(jnp.sum(cotangent * window, axis=0))

    weights_cotangent = jax.lax.fori_loop(0, taps, tap_cotangent, jnp.zeros_like(weights))
    return padded_cotangent.astype(padded.dtype), weights_cotangent


_lag_sum.defvjp(_lag_sum_forward, _lag_sum_backward)


@jax.jit  # called eagerly too (a facade layer's forward), where op-by-op dispatch of the loops is slow
def causal_decay_convolution(xs: Array, weights: Array, history: Array | None = None) -> Array:
    """``out[t] = sum_{k=0}^{K-1} weights[k] * xs[t - k]``: a causal filter per neuron, applied over time.

    **Arguments:**

    - ``xs``: the inputs, time first ``[T, *shape]``.
    - ``weights``: the filter taps ``[K, ...]``; each tap broadcasts against ``shape``
      (one filter for all neurons, or one per neuron).
    - ``history``: the ``K - 1`` inputs before ``xs[0]``, oldest first
      (``[K - 1, *shape]``); None: zeros, snnTorch's left padding.

    **Returns:** ``[T, *shape]``.
    """
    taps, shape = weights.shape[0], tuple(xs.shape[1:])
    if taps < 1:
        raise ValueError(f"causal_decay_convolution: needs at least one filter tap, got weights {weights.shape}.")
    try:
        fits = jnp.broadcast_shapes(weights.shape[1:], shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"causal_decay_convolution: filter taps of shape {tuple(weights.shape[1:])} do not broadcast "
            f"against the neurons' shape {shape}."
        )
    if history is None:
        padded = jnp.pad(xs, [(taps - 1, 0)] + [(0, 0)] * len(shape))
    elif tuple(history.shape) != (taps - 1, *shape):
        raise ValueError(
            f"causal_decay_convolution: history must hold the {taps - 1} inputs before the first step, shape "
            f"{(taps - 1, *shape)}, got {tuple(history.shape)}."
        )
    else:
        padded = jnp.concatenate([history.astype(xs.dtype), xs])
    # Full-shaped taps: the backward pass returns their cotangent per neuron, autodiff sums it to the given shape.
    aligned = weights.reshape((taps,) + (1,) * (len(shape) + 1 - weights.ndim) + tuple(weights.shape[1:]))
    return _lag_sum(padded, jnp.broadcast_to(aligned, (taps, *shape)), xs.shape[0])
