"""Running a facade container's per-sample core model over time-first batches."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
from jaxtyping import Array

from .. import snn


def _membrane(layer: Any, state: Any) -> Any:
    return layer.membrane(state) if isinstance(layer, snn.StatefulLayer) else state


@eqx.filter_jit
def run_time_first(
    core: snn.StatefulModel,
    xs: tuple[Array, ...],
    records: tuple[int, ...],
    key: Array | None,
    checkpoint_every: int | None,
) -> tuple[list[Array], tuple[Array, ...]]:
    """Run ``core`` over time-first batches ``[T, B, ...]`` (one per external input) with ``scan_batch``.

    Every sequence stays time-first: steps and checkpointed chunks read ``x[t]``
    where it lies, layer-wise runs keep ``[T, B, ...]`` through every layer.

    **Arguments:** ``core``: a per-sample model; ``xs``: its inputs; ``records``:
    indices of layers whose membranes to return; ``key``: split per sample (the
    core splits it per step and layer), None for deterministic networks, which
    then skip all key arithmetic; ``checkpoint_every``: gradient checkpointing
    over chunks of time (see ``snn.StatefulModel``), or None.

    **Returns:** the outputs (each ``[T, B, ...]``) and the membranes of the
    layers in ``records`` (each ``[T, B, ...]``).
    """
    in_shapes = tuple(tuple(x.shape[2:]) for x in xs)
    state = core.init_state(in_shapes[0] if len(xs) == 1 else in_shapes)
    keys = None if key is None else jax.random.split(key, xs[0].shape[1])
    result = core.scan_batch(state, xs, keys, checkpoint_every=checkpoint_every, record_states=records)
    return result[1], tuple(_membrane(core.layers[i], result[2][i]) for i in records) if records else ()


def run_named(
    core: snn.StatefulModel,
    xs: tuple[Array, ...],
    records: tuple[int, ...],
    key: Array | None,
    checkpoint_every: int | None,
    labels: list[str],
) -> tuple[list[Array], tuple[Array, ...]]:
    """``run_time_first``, with the core's layer errors naming layer ``i`` as ``labels[i]`` (the facade's names)."""
    try:
        return run_time_first(core, xs, records, key, checkpoint_every)
    except snn.LayerError as error:
        raise error.relabel(labels) from error.__cause__
