"""Spike-coded class targets: rate codes, latency codes and their interpolated ramps."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from ..imperative import torch_facing
from ..nn.module import to_array
from ._common import (
    arange_length,
    check_firing_pattern,
    check_int,
    check_num_steps,
    check_rate,
    check_real,
    optional_num_steps,
    torch_arange,
    values_of,
)
from ._latency import encode
from ._one_hot import inverse, one_hot
from ._rate import bernoulli, resolve_key


# -- one neuron's rate code -----------------------------------------------------------------
def _rate_code(
    name: str, steps: int, first: int, rate: float, pattern: str, key: PRNGKeyArray | None
) -> tuple[Array, Array]:
    """``target_rate_code`` on checked arguments; ``key`` is drawn only by the random patterns."""
    if rate == 0:
        return jax.device_put(np.zeros(steps, np.float32)), jax.device_put(np.zeros(0, np.int32))
    if pattern == "regular":
        times = torch_arange(first, steps, 1 / rate).astype(np.int64)  # truncated, as torch's .long()
        spikes = np.zeros(steps, np.float32)
        spikes[times] = 1.0
        return jax.device_put(spikes), jax.device_put(times.astype(np.int32))
    key = resolve_key(name, key)
    if pattern == "uniform":
        count = arange_length(first, steps, 1 / rate)
        times = (jax.random.uniform(key, (count,)) * (steps - first) + first).astype(jnp.int32)
        return jnp.zeros(steps, jnp.float32).at[times].set(1.0), times
    probability = np.concatenate([np.zeros(first, np.float32), np.full(steps - first, rate, np.float32)])
    spikes = bernoulli(key, jax.device_put(probability))
    drawn = values_of(name, "key", spikes, "firing_pattern='poisson' returns as many spike times as it draws")
    return spikes, jax.device_put(np.nonzero(drawn)[0].astype(np.int32))


@torch_facing(always=True)
def target_rate_code(
    num_steps: int,
    first_spike_time: int = 0,
    rate: float = 1.0,
    firing_pattern: str = "regular",
    *,
    key: PRNGKeyArray | None = None,
) -> tuple[Array, Array]:
    """One output neuron's rate-coded target and its spike times (snnTorch's ``target_rate_code``).

    From ``first_spike_time`` on, the neuron fires at a fraction ``rate`` of the steps:

    - ``'regular'``: at steps ``trunc(first + k / rate)`` (torch's float ``arange``,
      reproduced bit for bit);
    - ``'uniform'``: at as many steps as ``'regular'`` has, drawn uniformly from
      ``[first, num_steps)`` (repeats collapse into one spike; the times keep them);
    - ``'poisson'``: at each step with probability ``rate``.

    **Arguments:**

    - ``num_steps``: the number of steps ``T`` (>= 1).
    - ``first_spike_time``: the first step that may fire, in ``[0, T]``.
    - ``rate``: the firing rate, in ``[0, 1]``.
    - ``firing_pattern``: ``'regular'``, ``'uniform'`` or ``'poisson'`` (any case).
    - ``key``: a PRNG key for the random patterns; ``None`` takes the next key of
      the library stream (``'regular'`` draws none).

    **Returns:** ``(spikes, times)``: float32 ``[T]`` of 0/1 and int32 spike times
    (empty for ``rate=0``). Returned as facade tensors, which mix with torch's.

    **Raises:** ``ValueError``/``TypeError`` for options out of range, or under
    ``jax.jit`` with ``'poisson'`` (the number of times depends on the draw).
    """
    name = "target_rate_code"
    steps = check_num_steps(name, num_steps)
    first = check_int(name, "first_spike_time", first_spike_time)
    if not 0 <= first <= steps:
        raise ValueError(f"spikegen.{name}: first_spike_time must lie in [0, num_steps] = [0, {steps}], got {first}.")
    rate = check_rate(name, "rate", rate)
    return _rate_code(name, steps, first, rate, check_firing_pattern(name, firing_pattern), key)


# -- ramps between spikes -------------------------------------------------------------------
def _ramps(name: str, spike_time: ArrayLike, steps: int, on_target: float, off_target: float, epsilon: float) -> Array:
    """``rate_interpolate`` on checked options."""
    times = values_of(name, "spike_time", to_array(spike_time), "the ramps are built from its values")
    if times.size == 0:
        return jax.device_put(np.full(steps, off_target, np.float32))
    pieces, previous = [], -1
    for step in range(steps):
        if not np.any(times == step):
            continue
        gap = step - previous - 1
        if gap == 0:
            pieces.append(np.float32([on_target]))
        elif on_target == off_target:
            raise ValueError(
                f"spikegen.{name}: on_target and off_target are both {on_target}: there is no ramp between them "
                f"over the {gap} steps before step {step} (torch.arange with step 0 in snnTorch)."
            )
        else:
            pieces.append(torch_arange(off_target, on_target + epsilon, (on_target - off_target) / gap))
        previous = step
    latest = int(times.max())
    pieces.append(np.full(max(steps - 1 - latest, 0), off_target, np.float32))
    return jax.device_put(np.concatenate(pieces))


@torch_facing
def rate_interpolate(
    spike_time: ArrayLike, num_steps: int, on_target: float = 1.0, off_target: float = 0.0, epsilon: float = 1e-7
) -> Array:
    """One neuron's target ramping linearly from ``off_target`` up to each spike (snnTorch's ``rate_interpolate``).

    Walking the steps ``0 .. T - 1``, each step in ``spike_time`` closes a ramp
    ``arange(off, on + epsilon, (on - off) / gap)`` over the ``gap`` steps since
    the previous spike (just ``on_target`` right after one); after the latest
    spike the target is ``off_target``. Steps are matched exactly, so spike times
    should be whole steps below ``T``; as in snnTorch, others make the result
    shorter or longer than ``T``.

    **Arguments:**

    - ``spike_time``: the neuron's spike times in steps (any shape; may be empty).
    - ``num_steps``: the number of steps ``T`` (>= 1).
    - ``on_target``, ``off_target``: the value at spikes and the ramps' start.
    - ``epsilon``: widens the ``arange``'s end so it includes ``on_target``.

    **Returns:** float32 ``[T]`` (see above); all ``off_target`` without spikes.

    **Raises:** ``TypeError`` under ``jax.jit`` (the result is built from the
    values); ``ValueError`` when ``on_target == off_target`` and a ramp is needed.
    """
    name = "rate_interpolate"
    steps = check_num_steps(name, num_steps)
    on_target = check_real(name, "on_target", on_target)
    off_target = check_real(name, "off_target", off_target)
    epsilon = check_real(name, "epsilon", epsilon)
    return _ramps(name, spike_time, steps, on_target, off_target, epsilon)


# -- class targets --------------------------------------------------------------------------
@torch_facing
def targets_rate(
    targets: ArrayLike,
    num_classes: int,
    num_steps: int | None = None,
    first_spike_time: int = 0,
    correct_rate: float = 1.0,
    incorrect_rate: float = 0.0,
    on_target: float = 1.0,
    off_target: float = 0.0,
    firing_pattern: str = "regular",
    interpolate: bool = False,
    epsilon: float = 1e-7,
    *,
    key: PRNGKeyArray | None = None,
) -> Array:
    """Rate-coded class targets (snnTorch's ``targets_rate``).

    - ``correct_rate=1``, ``incorrect_rate=0``, ``first_spike_time=0``: no time
      axis, ``[B, C]``: ``max(one_hot * on_target, off_target)`` when
      ``on_target > off_target``, else ``on_target`` at the class and
      ``off_target`` elsewhere.
    - the same rates with ``first_spike_time > 0``: ``[T, B, C]``, that target
      from ``first_spike_time`` on and ``off_target`` before (``interpolate`` has
      no effect here, as in snnTorch).
    - other rates: ``[T, B, C]``; the correct class fires with
      ``target_rate_code(T, first_spike_time, correct_rate, firing_pattern)``, the
      others with ``incorrect_rate``, each spike giving ``max(spike * on_target,
      off_target)``; with ``interpolate``, ``rate_interpolate`` ramps instead.
      snnTorch 1.0.0 fails here unless ``C == T`` (a misplaced broadcast), and
      then returns ``[T, B, C, B, C]`` without ``interpolate``; this function
      returns the documented ``[T, B, C]`` for any ``C`` (with ``interpolate``
      and ``C == T``, snnTorch's values).

    **Arguments:**

    - ``targets``: class indices ``[B]`` (see ``to_one_hot``).
    - ``num_classes``: the number of classes ``C``.
    - ``num_steps``: the number of steps ``T``; required for a time axis
      (``None`` or snnTorch's ``False``: not given).
    - ``first_spike_time``: steps before the first spike (>= 0).
    - ``correct_rate``, ``incorrect_rate``: firing rates in ``[0, 1]``, correct >= incorrect.
    - ``on_target``, ``off_target``, ``firing_pattern``, ``interpolate``, ``epsilon``: as above.
    - ``key``: a PRNG key for the random patterns (``None``: the library stream).

    **Returns:** float32 ``[B, C]`` or ``[T, B, C]`` as above.

    **Raises:** ``ValueError``/``TypeError`` for bad targets or options, or a
    missing ``num_steps`` where a time axis is needed.
    """
    name = "targets_rate"
    correct = check_rate(name, "correct_rate", correct_rate)
    incorrect = check_rate(name, "incorrect_rate", incorrect_rate)
    steps = optional_num_steps(name, num_steps)
    on_target = check_real(name, "on_target", on_target)
    off_target = check_real(name, "off_target", off_target)
    epsilon = check_real(name, "epsilon", epsilon)
    pattern = check_firing_pattern(name, firing_pattern)
    first = check_int(name, "first_spike_time", first_spike_time)
    if first < 0:
        raise ValueError(f"spikegen.{name}: first_spike_time must be >= 0, got {first}.")
    if incorrect > correct:
        raise ValueError(f"spikegen.{name}: correct_rate ({correct}) must be >= incorrect_rate ({incorrect}).")
    time_varying = first > 0 or correct != 1 or incorrect != 0
    if time_varying and steps is None:
        raise ValueError(
            f"spikegen.{name}: num_steps must be given for time-varying targets (first_spike_time > 0, "
            f"correct_rate != 1 or incorrect_rate != 0); got first_spike_time={first}, "
            f"correct_rate={correct}, incorrect_rate={incorrect}."
        )
    encoded = one_hot(name, targets, num_classes)
    if correct == 1 and incorrect == 0:
        if first == 0:
            if on_target > off_target:
                return jnp.maximum(encoded * on_target, off_target)
            return encoded * on_target + inverse(encoded) * off_target
        held = jnp.broadcast_to(jnp.maximum(encoded * on_target, off_target), (steps,) + encoded.shape)
        return held.at[:first].set(off_target)
    if first > steps:
        raise ValueError(f"spikegen.{name}: first_spike_time must lie in [0, num_steps] = [0, {steps}], got {first}.")
    keys = (None, None) if key is None else tuple(jax.random.split(resolve_key(name, key)))
    correct_spikes, correct_times = _rate_code(name, steps, first, correct, pattern, keys[0])
    incorrect_spikes, incorrect_times = _rate_code(name, steps, first, incorrect, pattern, keys[1])
    if interpolate:
        correct_spikes = _ramps(name, correct_times, steps, on_target, off_target, epsilon)
        incorrect_spikes = _ramps(name, incorrect_times, steps, on_target, off_target, epsilon)
        for ramp in (correct_spikes, incorrect_spikes):
            if ramp.shape != (steps,):
                raise ValueError(
                    f"spikegen.{name}: the interpolated ramp has {ramp.shape[0]} steps instead of num_steps={steps}: "
                    f"epsilon={epsilon} is too large for on_target - off_target = {on_target - off_target}."
                )
    merged = encoded * correct_spikes[:, None, None] + inverse(encoded) * incorrect_spikes[:, None, None]
    return merged if interpolate else jnp.maximum(merged * on_target, off_target)


@torch_facing
def targets_latency(
    targets: ArrayLike,
    num_classes: int,
    num_steps: int | None = None,
    first_spike_time: int = 0,
    on_target: float = 1.0,
    off_target: float = 0.0,
    interpolate: bool = False,
    threshold: float = 0.01,
    tau: float = 1.0,
    clip: bool = False,
    normalize: bool = False,
    linear: bool = False,
    epsilon: float = 1e-7,
    bypass: bool = False,
) -> Array:
    """Latency-coded class targets: ``latency`` of the one-hot targets (snnTorch's ``targets_latency``).

    The correct class (value 1) fires at ``first_spike_time``, the others (value
    0) at the latest time (or never, with ``clip``).

    **Arguments:** ``targets`` (class indices ``[B]``) and ``num_classes`` as
    ``to_one_hot``; the others as ``latency``.

    **Returns:** float32 ``[T, B, C]``.

    **Raises:** as ``to_one_hot`` and ``latency``.
    """
    return encode(
        "targets_latency", one_hot("targets_latency", targets, num_classes), num_steps, threshold, tau,
        first_spike_time, on_target, off_target, clip, normalize, linear, interpolate, bypass, epsilon,
    )  # fmt: skip


_RATE_ONLY = {"correct_rate": 1, "incorrect_rate": 0, "firing_pattern": "regular"}
_LATENCY_ONLY = {"threshold": 0.01, "tau": 1, "clip": False, "normalize": False, "linear": False, "bypass": False}
# snnTorch's targets_convert does not pass these on to the latency code.
_DROPPED_BY_LATENCY = {"on_target": 1, "off_target": 0, "interpolate": False, "epsilon": 1e-7}


def _refuse_unused(code: str, given: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Options that ``code`` would not use must keep their defaults."""
    unused = [f"{option}={given[option]!r}" for option, default in defaults.items() if given[option] != default]
    if unused:
        raise ValueError(f"spikegen.targets_convert: code={code!r} does not use {', '.join(unused)}.")


@torch_facing
def targets_convert(
    targets: ArrayLike,
    num_classes: int,
    code: str = "rate",
    num_steps: int | None = None,
    first_spike_time: int = 0,
    correct_rate: float = 1.0,
    incorrect_rate: float = 0.0,
    on_target: float = 1.0,
    off_target: float = 0.0,
    firing_pattern: str = "regular",
    interpolate: bool = False,
    epsilon: float = 1e-7,
    threshold: float = 0.01,
    tau: float = 1.0,
    clip: bool = False,
    normalize: bool = False,
    linear: bool = False,
    bypass: bool = False,
    *,
    key: PRNGKeyArray | None = None,
) -> Array:
    """Spike-coded class targets: ``targets_rate`` or ``targets_latency`` (snnTorch's ``targets_convert``).

    ``code='rate'`` passes the rate options to ``targets_rate`` (the default gives
    ``[B, C]`` one-hot targets); ``code='latency'`` passes ``num_steps``,
    ``first_spike_time`` and the latency options to ``targets_latency``. An option
    the chosen code does not use must keep its default: snnTorch ignores it, this
    function refuses it. This includes ``on_target``, ``off_target``,
    ``interpolate`` and ``epsilon`` with ``code='latency'``, which snnTorch does
    not pass on (call ``targets_latency`` for them).

    **Arguments:** ``targets``, ``num_classes``; ``code`` (``'rate'`` or
    ``'latency'``); the others as ``targets_rate`` and ``targets_latency``.

    **Returns:** float32 ``[B, C]`` or ``[T, B, C]``.

    **Raises:** ``ValueError`` for another ``code`` or an option the code does
    not use; otherwise as ``targets_rate`` and ``targets_latency``.
    """
    given = {
        "correct_rate": correct_rate, "incorrect_rate": incorrect_rate, "firing_pattern": firing_pattern,
        "threshold": threshold, "tau": tau, "clip": clip, "normalize": normalize, "linear": linear,
        "bypass": bypass, "on_target": on_target, "off_target": off_target, "interpolate": interpolate,
        "epsilon": epsilon,
    }  # fmt: skip
    if code == "rate":
        _refuse_unused(code, given, _LATENCY_ONLY)
        return targets_rate(
            targets, num_classes, num_steps, first_spike_time, correct_rate, incorrect_rate, on_target,
            off_target, firing_pattern, interpolate, epsilon, key=key,
        )  # fmt: skip
    if code == "latency":
        _refuse_unused(code, given, _RATE_ONLY | _DROPPED_BY_LATENCY)
        if key is not None:
            raise ValueError("spikegen.targets_convert: code='latency' is deterministic and takes no key.")
        return targets_latency(
            targets, num_classes, num_steps, first_spike_time, threshold=threshold, tau=tau, clip=clip,
            normalize=normalize, linear=linear, bypass=bypass,
        )  # fmt: skip
    raise ValueError(f"spikegen.targets_convert: code must be 'rate' or 'latency', got {code!r}.")
