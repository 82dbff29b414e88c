"""Turn any iterable of ``(x, y)`` or ``(x, y, lengths)`` array-likes into fixed-shape, time-first device batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array

from ..functional.time_mask import check_lengths
from ..nn.module import to_numpy
from ._sharding import check_divisible, put_batch_part


class Batch(NamedTuple):
    """One batch, padded to the loader's first batch size.

    - ``x``: time-first ``[T, B, ...]`` float32.
    - ``y``: ``[B, ...]`` targets (padding repeats the last target).
    - ``mask``: ``[B]`` float32, 1 for real samples, 0 for padding.
    - ``size``: how many samples are real.
    - ``lengths``: ``[B]`` int32, each sample's true number of time steps (steps
      ``t >= lengths[b]`` are padding), or None when the loader gave no lengths.
    """

    x: Array
    y: Array
    mask: Array
    size: int
    lengths: Array | None = None


def _split(item: Any, where: str, with_targets: bool) -> tuple[Any, Any, Any]:
    """``(x, y, lengths)`` of a loader item: ``(x, y)``, ``(x, y, lengths)`` or, without targets, ``x`` alone."""
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        return item[0], item[1], item[2] if len(item) == 3 else None
    if not with_targets and not isinstance(item, (tuple, list)):
        return item, None, None
    raise TypeError(
        f"{where}: expected an (x, y) pair or an (x, y, lengths) triple from the loader, "
        f"got {type(item).__name__}" + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else "") + "; "
        "drop extra items (sample indices, metadata), e.g. in the DataLoader's collate_fn."
    )


_NOT_LENGTHS = (
    " A loader's third item is read as each sample's true number of time steps (integers [B] in [1, T]); "
    "anything else there (sample indices, weights, metadata) must be dropped, e.g. in the "
    "DataLoader's collate_fn. (Batch-first inputs [B, T, ...] need time_first=False.)"
)


def _check_numeric(value: Any, where: str, what: str, fix: str) -> None:
    """A ``TypeError`` naming the batch when ``value`` holds no numbers (strings, objects), before JAX sees it."""
    dtype = np.dtype(value.dtype) if not isinstance(value, jax.Array) else value.dtype
    if dtype.kind not in "biufc":
        kind = " (str)" if dtype.kind in "US" else " (Python objects)" if dtype.kind == "O" else ""
        raise TypeError(
            f"{where}: {what} must be numbers, got an array of shape {value.shape} and dtype {dtype}{kind}; {fix}."
        )


def time_first_inputs(x: Any, time_first: bool, where: str) -> Any:
    """A batch of input sequences as the training step takes them: float32, time-first ``[T, B, ...]``.

    **Arguments:** ``x``: a numpy or JAX array, ``[T, B, ...]`` or, with
    ``time_first=False``, ``[B, T, ...]`` (then transposed); ``where`` starts every
    error message (``"Trainer.fit: batch 3"``).

    **Returns:** ``x`` with booleans, integers (spikes, event counts) and float64 as
    float32, numpy staying numpy and JAX staying JAX. Raises ``TypeError`` for
    non-numbers, ``ValueError`` for fewer than three axes or an empty time or batch axis.
    """
    _check_numeric(x, where, "inputs", "load the data (e.g. the files they name) into arrays in the loader")
    if x.dtype == np.float64 or x.dtype == np.bool_ or np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float32)
    layout = "[T, B, ...]" if time_first else "[B, T, ...]"
    if x.ndim < 3:
        raise ValueError(
            f"{where}: inputs must be sequences with a time and a batch axis ({layout}), got shape {x.shape}."
        )
    if 0 in x.shape[:2]:
        raise ValueError(
            f"{where}: inputs {layout} of shape {x.shape} are empty; every batch needs at least "
            "one sample and one time step."
        )
    return x if time_first else x.swapaxes(0, 1)


def _pad(array: Any, axis: int, size: int) -> Any:
    """Repeat the last entry along ``axis`` up to ``size``; numpy stays numpy, JAX stays JAX."""
    missing = size - array.shape[axis]
    if missing == 0:
        return array
    xp = jnp if isinstance(array, jax.Array) else np
    edge = xp.take(array, xp.asarray([-1]), axis=axis)
    return xp.concatenate([array, xp.repeat(edge, missing, axis=axis)], axis=axis)


def _as_batch_array(value: Any) -> Any:
    """A JAX array stays on its device (no host round trip); anything else becomes numpy."""
    return value if isinstance(value, jax.Array) else to_numpy(value)


def _placer(mesh: Mesh | None) -> Callable[[Any, int], Array]:
    """How batch arrays reach the device(s): as they are, or split over the mesh along a batch axis."""
    if mesh is None:
        # device_put is asynchronous: the copy overlaps the previous step's compute.
        return lambda value, axis: value if isinstance(value, jax.Array) else jax.device_put(value)
    return lambda value, axis: put_batch_part(value, mesh, axis)


def _mask(batch_size: int, size: int, cache: dict[tuple[int, int], Array], place: Callable[[Any, int], Array]) -> Array:
    if (batch_size, size) not in cache:
        mask = np.zeros(batch_size, np.float32)
        mask[:size] = 1.0
        cache[(batch_size, size)] = place(mask, 0)
    return cache[(batch_size, size)]


def iterate_batches(
    loader: Iterable[Any],
    *,
    time_first: bool,
    with_targets: bool = True,
    mesh: Mesh | None = None,
    caller: str = "",
) -> Iterator[Batch]:
    """Yield [`Batch`][]es from ``loader``; the first batch fixes the batch size.

    Items are ``(x, y)`` or ``(x, y, lengths)`` with ``lengths`` ``[B]`` the true
    number of time steps of each sample (the form of ``interop.collate_padded``);
    every batch of a loader must carry lengths, or none. Lengths are checked on
    the host (shape ``[B]``, integers in ``[1, T]``) before the batch is yielded;
    a third item that is not lengths (e.g. sample indices) raises, never masks.
    Empty inputs (no samples or no time steps) raise a ``ValueError``.
    A later, smaller batch (the last one of an epoch) is padded and masked, so one
    compiled step serves the whole epoch. Input conversion: numpy, JAX arrays and
    torch tensors (through ``__array__``, no torch import); booleans and integers
    become float32 (0/1 spikes from event loaders).

    With a ``mesh`` (data parallelism), every array is split over its devices along
    the batch axis; with several processes, ``loader`` yields this process's part
    of each global batch (all processes the same number of batches and sizes), and
    ``Batch.size`` counts the global samples.

    ``caller`` (e.g. ``"Trainer.evaluate: "``) starts every error message. A loader
    that says it yields time-first batches (``yields_time_first``, as
    ``interop.torch_loader`` does) is refused with ``time_first=False``.
    """
    if not time_first and getattr(loader, "yields_time_first", False):
        name = next(c.__name__ for c in type(loader).__mro__ if not c.__name__.startswith("_"))
        raise ValueError(f"{caller}{name} already yields time-first [T, B, ...] batches; leave time_first=True.")
    batch_size = None
    has_lengths: bool | None = None
    masks: dict[tuple[int, int], Array] = {}
    place = _placer(mesh)
    processes = 1 if mesh is None else jax.process_count()
    for index, item in enumerate(loader):
        where = f"{caller}batch {index}"
        x, y, lengths = _split(item, where, with_targets)
        if has_lengths is None:
            has_lengths = lengths is not None
        elif has_lengths != (lengths is not None):
            found = "an (x, y) pair without lengths" if has_lengths else "lengths"
            expected = "carried lengths" if has_lengths else "was an (x, y) pair"
            raise ValueError(
                f"{where}: got {found} but the first batch {expected}; a loader yields (x, y, lengths) "
                "for every batch, or (x, y) for every batch."
            )
        if not with_targets:
            y = None
        x = time_first_inputs(_as_batch_array(x), time_first, where)
        size = x.shape[1]
        if y is not None:
            y = _as_batch_array(y)
            _check_numeric(y, where, "targets", "map class names to integer class indices [0, C) in the loader")
            if y.ndim == 0 or y.shape[0] != size:
                raise ValueError(
                    f"{where}: {size} inputs but targets of shape {y.shape}; targets are [B, ...]. "
                    f"If the inputs are batch-first [B, T, ...], pass time_first=False."
                )
        if batch_size is None:
            batch_size = size
            if mesh is not None:
                check_divisible(batch_size * processes, mesh, where=where)
        if size > batch_size:
            raise ValueError(
                f"{where}: has {size} samples but the first batch had {batch_size}; no batch may be larger "
                "than the first (smaller ones are padded and masked). Check time_first= (is axis 0 really time?)."
            )
        if y is not None:
            y = _pad(y, 0, batch_size)
        if lengths is not None:
            checked = check_lengths(where, lengths, x.shape[0], size, shortest=1, hint=_NOT_LENGTHS)
            lengths = place(_pad(checked, 0, batch_size), 0)
        yield Batch(
            place(_pad(x, 1, batch_size), 1),
            None if y is None else place(y, 0),
            _mask(batch_size, size, masks, place),
            size * processes,
            lengths,
        )
