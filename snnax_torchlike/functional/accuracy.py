"""Classification accuracy of spiking outputs (snnTorch's ``accuracy_rate`` and ``accuracy_temporal``).

Unlike snnTorch, which returns a numpy float (and so cannot be used in compiled
code), these return a float32 JAX scalar of shape ``()``, usable inside
``jax.jit`` (a facade ``Tensor`` when called with torch tensors); call
``float(...)`` for a Python number. Out-of-range targets raise ``ValueError``
when concrete and give NaN when traced.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from ..imperative import recordable
from ._common import _check_inputs, _check_population, _nan_unless_valid, _population_counts
from .spike_time import _spike_times_forward

__all__ = ["accuracy_rate", "accuracy_temporal"]


def _accuracy(predicted: Array, targets: Array, classes: int, steps: int) -> Array:
    """The fraction of ``predicted == targets`` (NaN for traced targets out of ``[0, classes)``)."""
    accuracy = jnp.mean((predicted == targets).astype(jnp.float32))
    return _nan_unless_valid(accuracy, targets, classes, None, steps)


@recordable(torch_facing=True)
def accuracy_rate(spk: ArrayLike, targets: ArrayLike, population_code: bool = False, num_classes: Any = False) -> Array:
    """Fraction of samples whose most-spiking output (or population) over time is the target class.

    ``mean_b [argmax_c sum_t spk[t, b, c] == targets[b]]``; ties go to the lowest
    class index, as in snnTorch.

    **Arguments:**

    - ``spk``: output spikes, time-first ``[T, B, C]``.
    - ``targets``: integer class indices ``[B]`` in ``[0, C)`` (``[0, num_classes)``
      with a population code).
    - ``population_code``, ``num_classes``: count each class's spikes over its
      group of ``C // num_classes`` consecutive outputs (``num_classes`` must divide ``C``).

    **Returns:** the accuracy in ``[0, 1]``, a scalar.
    """
    name = "accuracy_rate"
    _check_population(name, population_code, num_classes)
    spk, targets = _check_inputs(name, spk, targets, num_classes if population_code else None)
    return _accuracy_rate(spk, targets, num_classes if population_code else None)


@functools.partial(jax.jit, static_argnums=2)
def _accuracy_rate(spk: Array, targets: Array, num_classes: int | None) -> Array:
    """``accuracy_rate`` of checked inputs, compiled (``num_classes``: the population code's, or ``None``)."""
    counts = jnp.sum(spk, axis=0) if num_classes is None else _population_counts("accuracy_rate", spk, num_classes)
    return _accuracy(jnp.argmax(counts, axis=-1), targets, counts.shape[-1], spk.shape[0])


@recordable(torch_facing=True)
def accuracy_temporal(spk: ArrayLike, targets: ArrayLike) -> Array:
    """Fraction of samples whose earliest-spiking output is the target class (snnTorch's ``accuracy_temporal``).

    ``mean_b [argmin_c t_first[b, c] == targets[b]]`` with the first spike times of
    [`SpikeTime`][snnax_torchlike.functional.SpikeTime] (``T - 1`` for an output
    that never spikes, the same as a spike at the last step); ties go to the
    lowest class index, as in snnTorch.

    **Arguments:** ``spk``: output spikes ``[T, B, C]``; ``targets``: integer class indices ``[B]``.

    **Returns:** the accuracy in ``[0, 1]``, a scalar.
    """
    spk, targets = _check_inputs("accuracy_temporal", spk, targets)
    return _accuracy_temporal(spk, targets)


@jax.jit
def _accuracy_temporal(spk: Array, targets: Array) -> Array:
    """``accuracy_temporal`` of checked inputs, compiled."""
    times = _spike_times_forward(spk, 1)[0]
    return _accuracy(jnp.argmin(times, axis=-1), targets, spk.shape[2], spk.shape[0])
