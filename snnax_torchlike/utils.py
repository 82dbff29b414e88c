"""snnTorch's ``utils``: resetting the hidden state of a network, and slicing data sets.

``data_subset`` and ``valid_split`` work on data sets that hold their samples in
``.data`` and ``.targets`` (torchvision's MNIST, FashionMNIST, ...): torch tensors,
numpy or JAX arrays, or Python lists. They index what the data set holds, so it
keeps its type and its own ``__getitem__`` (transforms included).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .nn.module import Module
from .nn.time_loop import detach_hidden_state, reset_hidden_state

__all__ = ["reset", "detach_hidden", "data_subset", "valid_split"]


def reset(net: Module) -> Module:
    """Zero the hidden state of every neuron inside ``net``, at any depth, and of no other network.

    snnTorch's ``utils.reset`` resets every neuron of the same classes in the whole
    process (and misses nested containers); this resets exactly ``net``'s.
    Returns ``net``.
    """
    if not isinstance(net, Module):
        raise TypeError(f"utils.reset: expected an nn.Module, got {type(net).__name__}.")
    reset_hidden_state(net)
    return net


def detach_hidden(net: Module) -> Module:
    """Cut the hidden state of every neuron inside ``net`` from the graph (truncated BPTT). Returns ``net``."""
    detach_hidden_state(net)
    return net


def _samples(function: str, argument: str, dataset: Any) -> tuple[Any, Any]:
    """``(dataset.data, dataset.targets)``, checked to exist and to hold as many samples."""
    missing = [name for name in ("data", "targets") if not hasattr(dataset, name)]
    if missing:
        raise TypeError(
            f"utils.{function}: {argument} must hold its samples in .data and .targets (as torchvision's "
            f"MNIST does); {type(dataset).__name__} has no {' or '.join('.' + name for name in missing)}."
        )
    data, targets = dataset.data, dataset.targets
    if len(data) != len(targets):
        raise ValueError(f"utils.{function}: {argument}.data holds {len(data)} samples but .targets {len(targets)}.")
    return data, targets


def _take(values: Any, index: np.ndarray) -> Any:
    """``values[index]`` for an array of any library; a list or tuple keeps its type."""
    if isinstance(values, list | tuple):
        return type(values)(values[i] for i in index.tolist())
    return values[index]


def _keep(dataset: Any, data: Any, targets: Any, index: np.ndarray) -> None:
    dataset.data = _take(data, index)
    dataset.targets = _take(targets, index)


def data_subset(dataset: Any, subset: int, idx: int = 0) -> Any:
    """Keep the ``idx``-th of ``subset`` equal slices of a data set (snnTorch's ``utils.data_subset``).

    With ``N`` samples, slice ``idx`` holds samples ``[idx * (N // subset), (idx + 1) * (N // subset))``
    in their order; the ``N % subset`` samples after the last slice belong to none.
    ``subset=1`` keeps everything.

    **Arguments:**

    - ``dataset``: a data set with ``.data`` and ``.targets`` (e.g. torchvision's
      MNIST); it is changed in place.
    - ``subset``: the number of slices (an int >= 1), e.g. 10 keeps a tenth.
    - ``idx``: which slice to keep, in ``[0, subset)``.

    **Returns:** ``dataset``, holding ``N // subset`` samples.

    **Raises:** ``TypeError`` for a data set without ``.data``/``.targets``;
    ``ValueError`` for ``subset < 1`` or ``idx`` out of range (where snnTorch
    silently leaves the data set unchanged or empty).
    """
    if isinstance(subset, bool) or not isinstance(subset, int | np.integer) or subset < 1:
        raise ValueError(f"utils.data_subset: subset must be an int >= 1, got {subset!r}.")
    if isinstance(idx, bool) or not isinstance(idx, int | np.integer) or not 0 <= idx < subset:
        raise ValueError(f"utils.data_subset: idx must be an int in [0, {subset}) for subset={subset}, got {idx!r}.")
    data, targets = _samples("data_subset", "dataset", dataset)
    if subset > 1:
        step = len(data) // subset
        _keep(dataset, data, targets, np.arange(step * idx, step * (idx + 1)))
    return dataset


def valid_split(ds_train: Any, ds_val: Any, split: float, seed: int = 0) -> tuple[Any, Any]:
    """Split a training set into training and validation samples (snnTorch's ``utils.valid_split``).

    ``int(N * split)`` samples go to the validation set, in their original order;
    the other ``N - int(N * split)`` stay in the training set, in the random order of
    ``numpy.random.default_rng(seed).choice(N, N - int(N * split), replace=False)``,
    so a seed gives the very split snnTorch gives.

    **Arguments:**

    - ``ds_train``: the training set, with ``.data`` and ``.targets``; changed in place.
    - ``ds_val``: a second copy of the same training set (snnTorch's usage: the same
      data set constructed twice); its ``.data``/``.targets`` are replaced by the
      validation samples of ``ds_train``.
    - ``split``: the fraction of samples for validation, in ``[0, 1]``.
    - ``seed``: the seed of the random split.

    **Returns:** ``(ds_train, ds_val)``.

    **Raises:** ``TypeError`` for a data set without ``.data``/``.targets``;
    ``ValueError`` for ``split`` outside ``[0, 1]``.
    """
    if isinstance(split, bool) or not isinstance(split, int | float | np.floating) or not 0 <= split <= 1:
        raise ValueError(f"utils.valid_split: split must be a fraction in [0, 1], got {split!r}.")
    data, targets = _samples("valid_split", "ds_train", ds_train)
    if ds_val is None:
        raise TypeError("utils.valid_split: ds_val must be a data set (a second copy of ds_train), got None.")
    n = len(data)
    n_train = n - int(n * split)
    train_idx = np.random.default_rng(seed=seed).choice(n, size=n_train, replace=False)
    in_train = np.zeros(n, dtype=bool)
    in_train[train_idx] = True
    _keep(ds_val, data, targets, np.flatnonzero(~in_train))
    _keep(ds_train, data, targets, train_idx)
    return ds_train, ds_val
