"""A whole sequence of snnTorch's ``Leaky`` at once, with a hand-written backward pass.

Autodiff of the step-by-step scan stores several arrays per step for the backward
pass. The reverse pass of this neuron needs only the membrane sequence: with
$R_t$ the previous step's (detached) spike, $c_t = \\partial m_t / \\partial m_{t-1}$
($b$, or $b\\,(1 - R_t)$ for the zero reset) and $a_t$ the cotangent that reaches
$m_t$ directly (through $s_t$ and the recorded membrane),

$$\\lambda_t = a_t + c_{t+1}\\,\\lambda_{t+1},$$

one multiply-add per element in a reverse scan; the input's cotangent is
$\\lambda_t$ and the parameters' are sums over time. Only ``reset_delay=True``
(snnTorch's default) is covered; the same-step reset differentiates through the
spike and stays with autodiff.
"""

from __future__ import annotations

import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..surrogate import SurrogateSpike
from ._time_major_kernel import overwrite_over_time, time_major_kernel


def _heaviside(x: Array) -> Array:
    return (x > 0).astype(x.dtype)


def _forward_kernel(config: tuple[Any, str, Any]) -> Any:
    """``(m0,), (xs,) -> (final,), (spikes, membranes)``: stepping ``leaky_update``, membranes written over ``xs``."""
    # Imported here: leaky.py imports this module.
    from .leaky import leaky_update

    static, reset, treedef = config

    def kernel(parameters: tuple, states: tuple, sequences: tuple) -> tuple[list[Array], list[Array]]:
        (beta, threshold, graded, *spike_leaves), (m0,), (xs,) = parameters, states, sequences
        spike_fn = eqx.combine(jax.tree.unflatten(treedef, spike_leaves), static)

        def step(t: Array, mem: Array, x: Array) -> Array:
            del t
            return leaky_update(x, mem, beta=beta, threshold=threshold, graded_spikes_factor=graded,
                                spike_fn=spike_fn, reset_mechanism=reset, reset_delay=True)[1]  # fmt: skip

        final, mems = overwrite_over_time(step, m0, xs)
        # The same values as the step's own spikes: Heaviside(m_t - threshold) times the graded factor.
        return [final], [_heaviside(mems - threshold) * graded, mems]

    return time_major_kernel(kernel)


def _backward_kernel(config: tuple[Any, str, Any]) -> Any:
    """``(m0, ct_final), (mems, ct_spikes, ct_mems) -> (ct_m0, ct_b, ct_threshold, ct_graded), (ct_xs,)``.

    The parameters' cotangents are per element of the state (summed over time
    only); the caller sums them to each parameter's shape.
    """
    static, reset, treedef = config

    def kernel(parameters: tuple, states: tuple, sequences: tuple) -> tuple[list[Array], list[Array]]:
        (beta, threshold, graded, *spike_leaves), (m0, ct_final), (mems, ct_spikes, ct_mems) = (
            parameters, states, sequences
        )  # fmt: skip
        spike_fn = eqx.combine(jax.tree.unflatten(treedef, spike_leaves), static)
        b = jnp.clip(beta, 0.0, 1.0)
        previous = jnp.concatenate([m0[None], mems[:-1]])  # m_{t-1}
        fired = _heaviside(previous - threshold)  # R_t, the previous step's spike
        through_spike = ct_spikes * graded * spike_fn.derivative(mems - threshold).astype(mems.dtype)

        def step(t: Array, lam_next: Array, direct: Array) -> Array:
            # c_{t+1} = dm_{t+1}/dm_t, with R_{t+1} = H(m_t - threshold); c_T = 1: the final state is m_{T-1}.
            mem = jax.lax.dynamic_index_in_dim(mems, t, keepdims=False)
            following = b * (1.0 - _heaviside(mem - threshold)) if reset == "zero" else b
            return direct + jnp.where(t == mems.shape[0] - 1, 1.0, following) * lam_next

        _, lams = overwrite_over_time(step, ct_final.astype(mems.dtype), through_spike + ct_mems, reverse=True)
        ct_m0 = (b * (1.0 - fired[0]) if reset == "zero" else b) * lams[0]  # c_0 lambda_0
        decay_input = (1.0 - fired) * previous if reset == "zero" else previous  # d m_t / d b
        ct_b = jnp.sum(lams * decay_input, axis=0)
        ct_threshold = -jnp.sum(through_spike, axis=0)
        if reset == "subtract":
            ct_threshold = ct_threshold - jnp.sum(lams * fired, axis=0)
        ct_graded = jnp.sum(ct_spikes * _heaviside(mems - threshold), axis=0)
        return [ct_m0, ct_b, ct_threshold, ct_graded], [lams]

    return time_major_kernel(kernel)


def _config(static: Any, reset: str, spike_dynamic: Any) -> tuple[tuple[Any, str, Any], list[Array]]:
    leaves, treedef = jax.tree.flatten(spike_dynamic)
    return (static, reset, treedef), leaves


def _forward(
    config: tuple[Any, str], spike_dynamic: Any, beta: Array, threshold: Array, graded: Array, m0: Array, xs: Array
) -> tuple[tuple[Array, Array, Array], tuple[Any, ...]]:
    kernel_config, leaves = _config(*config, spike_dynamic)
    (final,), (spikes, mems) = _forward_kernel(kernel_config)((beta, threshold, graded, *leaves), (m0,), (xs,))
    return (final, spikes, mems), (spike_dynamic, beta, threshold, graded, m0, mems)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _leaky_sequence(
    config: tuple[Any, str], spike_dynamic: Any, beta: Array, threshold: Array, graded: Array, m0: Array, xs: Array
) -> tuple[Array, Array, Array]:
    return _forward(config, spike_dynamic, beta, threshold, graded, m0, xs)[0]


def _backward(config: tuple[Any, str], residuals: tuple[Any, ...], cotangents: tuple[Array, Array, Array]):
    spike_dynamic, beta, threshold, graded, m0, mems = residuals
    ct_final, ct_spikes, ct_mems = cotangents
    kernel_config, leaves = _config(*config, spike_dynamic)
    (ct_m0, ct_b, ct_threshold, ct_graded), (ct_xs,) = _backward_kernel(kernel_config)(
        (beta, threshold, graded, *leaves), (m0, ct_final), (mems, ct_spikes, ct_mems)
    )

    def parameters(beta: Array, threshold: Array, graded: Array) -> tuple[Array, Array, Array]:
        clipped = jnp.clip(beta, 0.0, 1.0)
        return tuple(jnp.broadcast_to(p, m0.shape) for p in (clipped, threshold, graded))

    _, pull_back = jax.vjp(parameters, beta, threshold, graded)
    ct_beta, ct_threshold, ct_graded = pull_back((ct_b, ct_threshold, ct_graded))
    ct_spike = jax.tree.map(jnp.zeros_like, spike_dynamic)  # surrogate hyper-parameters are not trained
    return ct_spike, ct_beta, ct_threshold, ct_graded, ct_m0, ct_xs


_leaky_sequence.defvjp(_forward, _backward)


def leaky_sequence(
    m0: Array,
    xs: Array,
    *,
    beta: Any,
    threshold: Any,
    graded_spikes_factor: Any,
    spike_fn: SurrogateSpike,
    reset_mechanism: str,
) -> tuple[Array, Array, Array] | None:
    """snnTorch's ``Leaky`` (``reset_delay=True``) over a whole sequence.

    **Arguments:** ``m0``: the membrane before the first step, ``[*shape]``; ``xs``:
    the inputs, ``[T, *shape]``; the neuron's parameters as in
    [`leaky_update`][snnax_torchlike.snn.neurons.leaky.leaky_update].

    **Returns:** ``(final membrane, spikes [T, *shape], membranes [T, *shape])``,
    equal to stepping ``leaky_update`` (values and gradients, the gradients of every
    array argument included); or None when the parameters do not broadcast to the
    state's shape, which only the step-by-step path handles.
    """
    dtype = xs.dtype
    beta, threshold, graded = (jnp.asarray(p, dtype) for p in (beta, threshold, graded_spikes_factor))
    shape = xs.shape[1:]
    if m0.shape != shape or jnp.broadcast_shapes(beta.shape, threshold.shape, graded.shape, shape) != shape:
        return None
    spike_dynamic, spike_static = eqx.partition(spike_fn, eqx.is_array)
    return _leaky_sequence((spike_static, reset_mechanism), spike_dynamic, beta, threshold, graded, m0, xs)
