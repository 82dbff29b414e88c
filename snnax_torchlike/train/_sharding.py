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


def data_parallel_mesh(devices: int | Sequence[Any] | str | None) -> Mesh | None:
    """A one-axis mesh named ``"data"`` over ``devices``; None means no sharding.

    **Arguments:** ``devices``: ``None`` (one device, no mesh), ``"all"`` (every
    device of every process), an int ``n`` (the first ``n`` of ``jax.devices()``) or
    a list of ``jax.Device``.
    """
    if devices is None:
        return None
    available = jax.devices()
    if isinstance(devices, str):
        if devices != "all":
            raise ValueError(f"Trainer: devices must be None, 'all', an int or a list of devices, got {devices!r}.")
        chosen = available
    elif isinstance(devices, int) and not isinstance(devices, bool):
        if not 1 <= devices <= len(available):
            raise ValueError(
                f"Trainer: devices={devices}, but {len(available)} device(s) are available ({available[0].platform}). "
                "On CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N (set before importing jax) makes N."
            )
        chosen = available[:devices]
    else:
        if isinstance(devices, bool) or not hasattr(devices, "__iter__"):
            raise TypeError(
                f"Trainer: devices must be None, 'all', an int or a list of jax.Device, got {devices!r}."
            )
        chosen = list(devices)
        if not chosen or not all(isinstance(d, jax.Device) for d in chosen):
            raise TypeError(f"Trainer: devices must be a non-empty list of jax.Device, got {devices!r}.")
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
        raise ValueError(
            f"{where}: the batch of {batch_size} samples does not split over {devices} devices. "
            f"Use a batch size divisible by {devices} (e.g. {lower or devices} or {lower + devices})."
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
