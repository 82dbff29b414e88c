"""The recorded graph: nodes of pure functions over arrays, and references to their inputs.

A `Node` is one call of a pure function ``fn(ints, *arrays) -> pytree of arrays``
whose behaviour is fixed by its hashable ``key`` (two nodes with equal keys run
the same computation). Its inputs are references:

- ``("n", node, k)``: output ``k`` of another node;
- ``("p", parameter, array)``: a trainable parameter (the array it held when recorded);
- ``("c", array)``: a constant array (data, a detached value, a frozen buffer).

``ints`` are Python ints that may differ from one time step to the next (the
``step`` of ``x[step]``); keeping them out of ``key`` lets a loop of identical
steps be recognised and run as one ``lax.scan``. They are positions, checked
before recording, so they never change the shapes and dtypes of the outputs.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

Ref = tuple
_SEQUENCE = itertools.count()
_AVAL_CACHE: dict[Any, tuple] = {}
_SHAPE_CACHE: dict[Any, tuple] = {}
_SIGNATURES = itertools.count()


class Node:
    """One recorded call; see the module docstring. ``values[k]`` holds output ``k`` once computed."""

    __slots__ = ("fn", "key", "ints", "inputs", "avals", "aval_keys", "treedef", "values", "requires_grad", "seq",
                 "signature", "__weakref__")  # fmt: skip

    def __init__(
        self,
        fn: Callable[..., Any],
        key: Any,
        ints: tuple[int, ...],
        inputs: tuple[Ref, ...],
        avals: tuple[jax.ShapeDtypeStruct, ...],
        aval_keys: tuple[tuple, ...],
        treedef: Any,
        requires_grad: bool,
        signature: int,
    ):
        self.fn = fn
        self.key = key
        self.ints = ints
        self.inputs = inputs
        self.avals = avals
        self.aval_keys = aval_keys
        self.treedef = treedef
        self.values: list[Any] | None = None
        self.requires_grad = requires_grad
        self.seq = next(_SEQUENCE)
        self.signature = signature
        """A small int standing for ``(key, ints, input shapes and dtypes)``: equal signatures, equal nodes."""


def ref_aval(ref: Ref) -> jax.ShapeDtypeStruct:
    """Shape and dtype of what ``ref`` points to."""
    if ref[0] == "n":
        return ref[1].avals[ref[2]]
    array = ref[2] if ref[0] == "p" else ref[1]
    return jax.ShapeDtypeStruct(array.shape, array.dtype)


def aval_key(aval: Any) -> tuple:
    """A hashable ``(shape, dtype, weak_type)`` of an array or a shape-dtype struct."""
    return (tuple(aval.shape), aval.dtype, getattr(aval, "weak_type", False))


_ARRAY_KEYS: dict[int, tuple[Any, tuple]] = {}


def array_aval_key(array: Any) -> tuple:
    """``aval_key`` of a concrete array, remembered by identity (parameters and data recur in every step).

    The array is held weakly (a cache must not keep a batch of data alive); a dead entry's id may be
    reused, which the identity check catches.
    """
    cached = _ARRAY_KEYS.get(id(array))
    if cached is not None and cached[0]() is array:
        return cached[1]
    key = aval_key(array)
    if len(_ARRAY_KEYS) > 4096:
        _ARRAY_KEYS.clear()
    try:
        _ARRAY_KEYS[id(array)] = (weakref.ref(array), key)
    except TypeError:  # not weakly referenceable (a numpy array): not cached
        pass
    return key


def _ref_aval_key(ref: Ref) -> tuple:
    if ref[0] == "n":
        return ref[1].aval_keys[ref[2]]
    return array_aval_key(ref[2] if ref[0] == "p" else ref[1])


def output_avals(
    fn: Callable[..., Any], key: Any, ints: tuple[int, ...], inputs: tuple[Ref, ...]
) -> tuple[tuple[jax.ShapeDtypeStruct, ...], tuple[tuple, ...], Any, bool, int]:
    """The shapes and dtypes ``fn`` returns for these inputs (also as keys), its output tree, whether
    some output is a floating-point array, and the call's signature number.

    Cached per signature: ``jax.eval_shape`` runs once for each.
    """
    in_keys = tuple([_ref_aval_key(ref) for ref in inputs])
    cache_key = (key, ints, in_keys)
    cached = _AVAL_CACHE.get(cache_key)
    if cached is None:
        # ``ints`` never change the outputs' shapes (see the module docstring): one eval_shape serves
        # every step of a loop over ``x[step]``.
        shapes = _SHAPE_CACHE.get((key, in_keys))
        if shapes is None:
            in_avals = tuple(ref_aval(ref) for ref in inputs)
            from ._state import pure_scope

            with pure_scope():
                out = jax.eval_shape(lambda *arrays: fn(ints, *arrays), *in_avals)
            leaves, treedef = jax.tree_util.tree_flatten(out)
            avals = tuple(jax.ShapeDtypeStruct(leaf.shape, leaf.dtype) for leaf in leaves)
            inexact = any(np.issubdtype(aval.dtype, np.inexact) for aval in avals)
            shapes = (avals, tuple(aval_key(aval) for aval in avals), treedef, inexact)
            _SHAPE_CACHE[(key, in_keys)] = shapes
        cached = (*shapes, next(_SIGNATURES))
        if len(_AVAL_CACHE) > 100_000:  # bounded: signatures of long-gone shapes (numbers are never reused)
            _AVAL_CACHE.clear()
            _SHAPE_CACHE.clear()
        _AVAL_CACHE[cache_key] = cached
    return cached


def make_node(
    fn: Callable[..., Any], key: Any, inputs: tuple[Ref, ...], ints: tuple[int, ...], differentiable: bool
) -> Node:
    """A new node; its outputs' shapes come from ``jax.eval_shape`` (once per signature).

    ``differentiable``: gradients are recorded and some input requires them.
    """
    avals, aval_keys, treedef, inexact, signature = output_avals(fn, key, ints, inputs)
    requires_grad = differentiable and inexact  # indices and masks carry no gradient
    return Node(fn, key, ints, inputs, avals, aval_keys, treedef, requires_grad, signature)
