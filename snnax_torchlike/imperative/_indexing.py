"""Indices of ``tensor[...]`` as hashable specs, with integer positions kept apart as varying ``ints``."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from .convert import to_numpy

_INT = "i"


def _mask_indices(item: Any) -> tuple[np.ndarray, ...] | None:
    """numpy's ``mask.nonzero()`` of a concrete boolean mask (a list of bools or a bool array of any
    library), else None.

    ``x[mask]`` equals ``x[mask.nonzero()]``; integer indices have a static shape, so the
    index also works inside a compiled program (a pending tensor's), where a mask cannot.
    """
    if isinstance(item, (list, tuple)):
        if not item or not all(isinstance(v, (bool, np.bool_)) for v in item):
            return None
        return np.nonzero(np.asarray(item))
    if str(getattr(item, "dtype", None)) not in ("bool", "torch.bool"):
        return None
    if isinstance(item, jax.core.Tracer):  # a traced mask: left to JAX
        return None
    try:
        mask = to_numpy(item)
    except jax.errors.TracerArrayConversionError:  # a tensor holding a traced mask
        return None
    return np.nonzero(mask) if mask.ndim else None


def split_index(index: Any) -> tuple[tuple, tuple[int, ...], list[Any]]:
    """``(spec, ints, arrays)`` of a torch-style index.

    ``spec`` is hashable: ints become the placeholder ``"i"`` (their values go to
    ``ints``, so ``x[step]`` has one spec for every step), slices become
    ``("slice", start, stop, step)``, array indices become ``"a"`` (their values
    go to ``arrays``; a concrete boolean mask becomes the integer arrays of its
    ``nonzero()``), ``None`` and ``...`` stay.
    """
    items = index if isinstance(index, tuple) else (index,)
    spec, ints, arrays = [], [], []
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            spec.append(("bool", bool(item)))
        elif isinstance(item, (int, np.integer)):
            spec.append(_INT)
            ints.append(int(item))
        elif isinstance(item, slice):
            spec.append(("slice", item.start, item.stop, item.step))
        elif item is None or item is Ellipsis:
            spec.append(item)
        elif (mask := _mask_indices(item)) is not None:
            spec.extend("a" for _ in mask)
            arrays.extend(mask)
        elif isinstance(item, (list, tuple)) and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in item
        ):
            spec.append(("list", tuple(int(v) for v in item)))
        else:
            spec.append("a")
            arrays.append(item)
    return tuple(spec), tuple(ints), arrays


def build_index(spec: tuple, ints: Any, arrays: tuple[Any, ...]) -> tuple:
    """The index that ``split_index`` took apart (``ints`` may be traced integers)."""
    ints_iter, arrays_iter = iter(ints), iter(arrays)
    index = []
    for item in spec:
        if item == _INT:
            index.append(next(ints_iter))
        elif item == "a":
            index.append(next(arrays_iter))
        elif isinstance(item, tuple) and item[0] == "slice":
            index.append(slice(*item[1:]))
        elif isinstance(item, tuple) and item[0] == "list":
            index.append(np.asarray(item[1]))
        elif isinstance(item, tuple) and item[0] == "bool":
            index.append(item[1])
        else:
            index.append(item)
    return tuple(index)


def leading_int_rest(spec: tuple) -> tuple | None:
    """For a spec whose first item is one varying int and the rest static, the spec of the rest; else None."""
    if not spec or spec[0] != _INT or any(item == _INT or item == "a" for item in spec[1:]):
        return None
    return spec[1:]
