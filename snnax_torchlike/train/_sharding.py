"""Data parallelism on JAX's own sharding: a mesh with a ``data`` axis, sharded batches, replicated parameters.

The training step itself is unchanged: a plain ``jax.jit`` over arrays whose
shardings say "batch split over ``data``, parameters replicated"; XLA inserts
the gradient all-reduce. Because the loss is one mean over the *global* batch,
the gradient is exactly the single-device gradient (no ``pmean`` of per-device
gradients, whose scaling is easy to get wrong).

With several processes (``jax.distributed.initialize``), each process passes
only its own part of every global batch; the parts are joined into one global
array with ``jax.make_array_from_process_local_data``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"
_DEVICES_ARE = "devices must be None, 'all', an int or a list of jax.Device"


def _available(available: Sequence[Any]) -> str:
    """``"4 cpu device(s)"``: what this process sees, for error messages."""
    platforms = sorted({d.platform for d in available})
    return f"{len(available)} {'/'.join(platforms)} device(s)"


def _count(devices: int, available: Sequence[Any]) -> list[Any]:
    """The first ``devices`` of ``available``; a count outside ``[1, len(available)]`` raises, never clamps."""
    if 1 <= devices <= len(available):
        return list(available[:devices])
    if devices < 1:
        hint = " For every device pass devices='all'." if devices < 0 else ""
        raise ValueError(
            f"Trainer: devices={devices}, but a count must be from 1 to {len(available)} "
            f"(this process sees {_available(available)}).{hint}"
        )
    raise ValueError(
        f"Trainer: devices={devices}, but {len(available)} device(s) are available ({available[0].platform}); "
        f"a count must be from 1 to {len(available)}. "
        "On CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N (set before importing jax) makes N."
    )


def _not_a_device_list(devices: Any, available: Sequence[Any]) -> TypeError:
    """The error for a ``devices`` that is neither None, a string, a count nor an iterable of devices."""
    if isinstance(devices, jax.Device):
        hint = f"; for this one device pass it in a list: devices=[{devices!r}]"
    elif isinstance(devices, Mesh):
        hint = "; pass its devices, devices=list(mesh.devices.flat) (the data axis is made here)"
    else:
        hint = f"; this process sees {_available(available)}"
    return TypeError(f"Trainer: {_DEVICES_ARE}, got {devices!r}{hint}.")


def data_parallel_mesh(devices: int | Sequence[Any] | str | None) -> Mesh | None:
    """A one-axis mesh named ``"data"`` over ``devices``; None means no sharding.

    **Arguments:** ``devices``: ``None`` (one device, no mesh), ``"all"`` (every
    device of every process), an int ``n`` (the first ``n`` of ``jax.devices()``;
    numpy integers count too) or a list of ``jax.Device`` (any iterable of them,
    e.g. a numpy array).

    Anything else raises a ``TypeError`` or ``ValueError`` that names the value,
    what this process sees and what to pass instead.
    """
    if devices is None:
        return None
    available = jax.devices()
    if isinstance(devices, str):
        if devices != "all":
            hint = (
                f" A count is an int: devices={int(devices)}."
                if devices.strip().isdigit()
                else f" This process sees {_available(available)}; 'all' uses every one of them, a platform "
                "name does not select devices (jax.devices('gpu') lists the GPUs of a CUDA-enabled jax)."
            )
            raise ValueError(f"Trainer: {_DEVICES_ARE}, got {devices!r}.{hint}")
        chosen = available
    elif isinstance(devices, (int, np.integer)) and not isinstance(devices, (bool, np.bool_)):
        chosen = _count(int(devices), available)
    else:
        if isinstance(devices, (bool, np.bool_)) or not hasattr(devices, "__iter__"):
            raise _not_a_device_list(devices, available)
        chosen = list(devices)
        if not chosen:
            raise TypeError(f"Trainer: devices must be a non-empty list of jax.Device, got {devices!r}.")
        wrong = [d for d in chosen if not isinstance(d, jax.Device)]
        if wrong:
            raise TypeError(
                f"Trainer: devices must be a non-empty list of jax.Device, got {devices!r}; {wrong[0]!r} "
                f"({type(wrong[0]).__name__}) is not a jax.Device. Pick them from jax.devices() (e.g. "
                f"devices=jax.devices()[:2]), or pass a count (devices=2); this process sees {_available(available)}."
            )
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"Trainer: devices lists a device more than once: {chosen}; list each once.")
    return Mesh(np.array(chosen), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    """Every device holds the whole array (parameters, optimizer state)."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh, axis: int) -> NamedSharding:
    """Split axis ``axis`` (the batch axis) over the mesh's ``data`` axis."""
    return NamedSharding(mesh, PartitionSpec(*([None] * axis), DATA_AXIS))


def check_divisible(batch_size: int, mesh: Mesh, *, where: str) -> None:
    """The global batch must split evenly over the devices."""
    devices = mesh.devices.size
    if batch_size % devices:
        lower = batch_size - batch_size % devices
        # Two distinct sizes around batch_size; below the device count, the two smallest that work.
        smaller, larger = (lower, lower + devices) if lower else (devices, 2 * devices)
        raise ValueError(
            f"{where}: the batch of {batch_size} samples does not split over {devices} devices. "
            f"Use a batch size divisible by {devices} (e.g. {smaller} or {larger})."
        )


def put_batch_part(value: Any, mesh: Mesh, axis: int) -> jax.Array:
    """Place one array of a batch, split along ``axis``.

    In one process ``value`` is the whole global batch; with several processes it
    is this process's part, and the global array joins all parts.
    """
    sharding = batch_sharding(mesh, axis)
    if jax.process_count() == 1:
        return jax.device_put(value, sharding)
    local = np.asarray(value)
    global_shape = local.shape[:axis] + (local.shape[axis] * jax.process_count(),) + local.shape[axis + 1 :]
    return jax.make_array_from_process_local_data(sharding, local, global_shape)
