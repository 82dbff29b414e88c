"""torch DataLoader bridge: fixed-shape, time-first device batches, prefetched in the background.

``fit`` already accepts any DataLoader; the bridge adds what large event-data
pipelines need: variable-length sequences padded to one length (so the compiled
step never recompiles), batch-first to time-first conversion, and prefetching to
the device while the current step runs.

DataLoader workers: the bridge runs in the main process; workers only run the
dataset's (torch/numpy) code. Linux's default ``fork`` start method is fine when
the dataset does not touch JAX; if it does, pass ``multiprocessing_context="spawn"``
to the DataLoader (JAX is multithreaded and must not be forked).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import jax
import numpy as np

from snnax_torchlike.nn.module import to_numpy
from snnax_torchlike.train.batches import time_first_inputs

__all__ = ["pad_time", "collate_padded", "torch_loader"]


def pad_time(sample: Any, length: int, *, axis: int = 0) -> np.ndarray:
    """Zero-pad ``sample`` along its time ``axis`` to ``length`` (zeros: no events).

    A sample longer than ``length`` raises instead of being cut.
    """
    array = to_numpy(sample)
    steps = array.shape[axis]
    if steps > length:
        raise ValueError(
            f"pad_time: a sample has {steps} time steps, more than the padded length {length}; "
            "raise the length (or bin the events into fewer frames) rather than cutting data."
        )
    widths = [(0, 0)] * array.ndim
    widths[axis] = (0, length - steps)
    return np.pad(array, widths)


def collate_padded(pad_to: int | None = None):
    """A DataLoader ``collate_fn`` for samples ``(frames [T_i, ...], label)`` of varying ``T_i``.

    Pads every sample's time axis with zeros to ``pad_to`` (fixed: one compiled
    step for the whole run) or, if None, to the longest sample of the batch, and
    stacks them batch-first. **Returns** ``(frames [B, T, ...], labels [B], lengths [B])``
    as torch tensors; ``lengths`` are the true lengths (a mask is ``t < lengths``).
    """

    def collate(samples: Sequence[tuple[Any, Any]]) -> tuple[Any, Any, Any]:
        import torch

        lengths = [to_numpy(frames).shape[0] for frames, _ in samples]
        length = max(lengths) if pad_to is None else pad_to
        frames = np.stack([pad_time(frames, length) for frames, _ in samples])
        labels = np.asarray([to_numpy(label) for _, label in samples])
        return torch.from_numpy(frames), torch.from_numpy(labels), torch.tensor(lengths)

    return collate


def _check_batch_axis(x: np.ndarray, y: np.ndarray, index: int, time_first: bool) -> None:
    """Targets ``[B, ...]`` must match the inputs' batch axis.

    Targets that match the time axis instead mean ``time_first`` is the wrong
    way round; transposing anyway would hand ``fit`` a batch whose time and
    batch axes are swapped (silently so when ``T == B``).
    """
    if y.ndim == 0 or y.shape[0] == x.shape[1 if time_first else 0]:
        return
    layout = "time-first [T, B, ...]" if time_first else "batch-first [B, T, ...]"
    message = (
        f"torch_loader: batch {index}: x of shape {x.shape}, read as {layout} (time_first={time_first}), holds "
        f"{x.shape[1 if time_first else 0]} samples, but the targets have shape {y.shape}."
    )
    if y.shape[0] == x.shape[0 if time_first else 1]:
        other = "batch-first [B, T, ...]" if time_first else "time-first [T, B, ...]"
        message += f" The batches look {other}: pass torch_loader(..., time_first={not time_first})."
    else:
        message += " Targets are [B, ...]: one per sample."
    raise ValueError(message)


def _convert(item: Any, index: int, time_first: bool, pad_time_to: int | None, keep_lengths: bool) -> tuple[Any, ...]:
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        raise TypeError(f"torch_loader: expected (x, y) or (x, y, lengths) batches, got {type(item).__name__}.")
    if keep_lengths and len(item) != 3:
        # Without lengths the padded steps would count as data: what keep_lengths=True asks to avoid.
        raise ValueError(
            f"torch_loader: keep_lengths=True, but batch {index} is an (x, y) pair without lengths. Yield "
            "(x, y, lengths) batches, e.g. DataLoader(..., collate_fn=interop.collate_padded()), or drop "
            "keep_lengths=True."
        )
    x, y, *rest = (to_numpy(part) for part in item)
    if not keep_lengths:
        rest = []
    if x.ndim < 2:
        raise ValueError(f"torch_loader: inputs need a batch and a time axis, got shape {x.shape}.")
    _check_batch_axis(x, y, index, time_first)
    if pad_time_to is not None:
        x = pad_time(x, pad_time_to, axis=0 if time_first else 1)
    x = time_first_inputs(x, time_first, f"torch_loader: batch {index}")
    return tuple(jax.device_put(part) for part in (x, y, *rest))


class torch_loader:  # noqa: N801 (a function-like name, as `iter` or `zip`)
    """Wrap a torch ``DataLoader`` (or any iterable of ``(x, y, ...)`` batches) for ``fit``.

    **Arguments:**

    - ``loader``: yields ``(x, y)`` or ``(x, y, lengths)`` (e.g. with
      [`collate_padded`][]); torch tensors are read without a copy on CPU.
    - ``keep_lengths``: also yield the true lengths, as ``(x, y, lengths)``;
      ``fit``/``evaluate``/``predict`` then ignore the padded steps (outputs zeroed
      there, losses averaged over each sample's real steps). Off by default: the
      padded tail holds zeros (no events), during which the network only decays.
      With it, a batch without lengths raises.
    - ``time_first``: whether ``x`` is already ``[T, B, ...]``; by default it is
      batch-first ``[B, T, ...]`` (a DataLoader's collate stacks samples first)
      and is transposed. Targets ``[B, ...]`` that match the other axis raise,
      naming the setting to flip.
    - ``pad_time_to``: zero-pad the time axis of every batch to this length, so
      every batch has one shape; a longer batch raises.
    - ``prefetch``: batches converted and put on the device ahead, in a
      background thread (0: none).

    Iterating yields time-first device arrays ``(x [T, B, ...], y)``, so ``fit``
    takes it with its default ``time_first=True``; booleans and integers (event
    counts) become float32. Re-iterable: each ``iter()`` starts a new pass (so
    ``fit`` can use it every epoch) when ``loader`` is re-iterable (a generator is
    used up after one pass). ``len()`` is the loader's when it has one.
    """

    yields_time_first = True
    """Read by ``fit``/``evaluate``/``predict``, which refuse ``time_first=False`` for it."""

    def __new__(cls, loader: Iterable[Any], **kwargs: Any) -> torch_loader:
        # fit's progress bar calls len() on whatever defines __len__, so only a loader with a length gets one.
        if cls is torch_loader and hasattr(loader, "__len__"):
            cls = _SizedTorchLoader
        return super().__new__(cls)

    def __init__(self, loader: Iterable[Any], *, time_first: bool = False, pad_time_to: int | None = None,
                 prefetch: int = 2, keep_lengths: bool = False):  # fmt: skip
        if prefetch < 0:
            raise ValueError(f"torch_loader: prefetch must be >= 0, got {prefetch}.")
        self.loader, self.time_first, self.pad_time_to, self.prefetch = loader, time_first, pad_time_to, prefetch
        self.keep_lengths = keep_lengths

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        batches = (
            _convert(item, index, self.time_first, self.pad_time_to, self.keep_lengths)
            for index, item in enumerate(self.loader)
        )
        if self.prefetch == 0:
            yield from batches
            return
        yield from _prefetched(batches, self.prefetch)


class _SizedTorchLoader(torch_loader):
    """A [`torch_loader`][] over a loader with a length (a ``DataLoader``, a list)."""

    def __len__(self) -> int:
        return len(self.loader)


_DONE = object()


def _prefetched(batches: Iterator[Any], depth: int) -> Iterator[Any]:
    """Run ``batches`` in a background thread, ``depth`` items ahead; errors re-raise here."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        buffer.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as error:  # handed to the consumer, raised in its thread
            buffer.put(error)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
