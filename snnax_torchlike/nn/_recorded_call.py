"""A facade layer's call as one recorded operation: ``forward`` as a pure function of arrays.

The layer's parameters and buffers, and the array arguments, are the inputs
(parameters by reference, so ``backward()`` differentiates them; nothing is
compiled in as a constant). Everything else about the call (the layer's
settings, non-array arguments) is part of the operation's key, so a changed
setting compiles anew instead of reusing a stale program.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from ..imperative import Tensor, apply, unwrap
from ..random import key_scope, next_key
from .module import Module

_SCALARS = (bool, int, float, complex, str, bytes, np.bool_, np.integer, np.floating)
_FNS: dict[Any, tuple[Callable[..., Any], tuple]] = {}
"""Every recorded kind of call, never dropped: a short node key must never be given to another call."""


def _is_array(value: Any) -> bool:
    return isinstance(value, (Tensor, jax.Array, np.ndarray)) or (
        hasattr(type(value), "__array__") and not isinstance(value, _SCALARS)
    )


_NOT_CONFIGURATION = frozenset(
    ("_parameters", "_buffers", "_modules", "_hidden", "_non_persistent", "_version", "_record_plan", "_trainers",
     "_key_cache", "metadata")
)
"""Attributes that do not change what a call computes (``metadata``: ``nn.Graph``'s free dict)."""


def _settings(module: Module) -> tuple | None:
    """The module's plain attributes, hashable, or None if one is not (an array kept as a plain attribute)."""
    settings = tuple(sorted((k, v) for k, v in module.__dict__.items() if k not in _NOT_CONFIGURATION))
    try:
        hash(settings)
    except TypeError:
        return None
    return settings


def _arrays_present(module: Module) -> tuple:
    """Which parameters and buffers the module holds (a loss with a class weight differs from one without)."""
    return (
        tuple(name for name, value in module._parameters.items() if value is not None),
        tuple(name for name, value in module._buffers.items() if value is not None),
    )


def _module_key(module: Module) -> tuple:
    """What a recorded call of ``module`` is compiled for.

    By value where it can be: the types, settings and training flags of the module
    and its children, so every instance of a layer with the same settings (a loss
    made anew each step, the layers of another network in the same process) shares
    one compiled program; their arrays are the program's inputs. By identity and
    version otherwise.
    """
    if not module._modules:  # a leaf layer, the common case: no traversal, cached per version
        stamp = (module.__dict__["_version"], module.training)
        cached = module.__dict__.get("_key_cache")
        if cached is not None and cached[0] == stamp:
            return cached[1]
        settings = _settings(module)
        key = (type(module), settings, _arrays_present(module)) if settings is not None else (id(module),) + stamp
        module.__dict__["_key_cache"] = (stamp, key)
        return key
    children = tuple((name, _module_key(child)) for name, child in module._modules.items() if child is not None)
    settings = _settings(module)
    if settings is not None:
        return (type(module), settings, _arrays_present(module), children)
    return (id(module), module.__dict__["_version"], module.training, children)


def _needs_key(module: Module) -> bool:
    return any(m.needs_key for m in module.modules())


def _frozen(module: Module) -> Module:
    """A copy of ``module`` and its children whose settings no later change of the originals reaches.

    A recorded function serves every module whose settings equal these, so it must
    keep computing with them after the module it was made from changes (``.eval()``,
    an assigned option). The copies share the originals' parameter and buffer
    registries: a call binds the arrays it is given anyway.
    """
    frozen = copy.copy(module)  # without the caches (Module.__getstate__)
    frozen.__dict__["_modules"] = type(module._modules)((name, _frozen(child)) for name, child in module._modules.items())
    return frozen


def _make_fn(module: Module, method: Callable[..., Any], names: tuple[str, ...], treedef: Any, layout: tuple,
             random: bool) -> Callable[..., Any]:  # fmt: skip
    count = len(names)
    if getattr(method, "__self__", None) is module:
        module = _frozen(module)
        method = method.__func__.__get__(module)

    def fn(ints: tuple, *arrays: Any) -> Any:
        module_arrays = dict(zip(names, arrays[:count]))
        rest = iter(arrays[count:])
        leaves = [next(rest) if slot is None else slot[1] for slot in layout]
        args, kwargs = jax.tree_util.tree_unflatten(treedef, leaves)
        with module.bind(module_arrays), key_scope(next(rest)) if random else contextlib.nullcontext():
            return unwrap(method(*args, **kwargs))

    sequence_method = getattr(module, "forward_sequence", None)
    if sequence_method is not None and method == getattr(module, "forward", None) and not random:

        def sequence(arrays: list, kinds: list[str], carry_slot: int, carry_output: int) -> Any:
            """The call over a whole sequence (see ``_replay``): ``arrays[carry_slot]`` is the initial state,
            ``kinds[i] == "series"`` marks inputs with a leading step axis. None where it does not apply."""
            if any(kind != "invariant" for kind in kinds[:count]):
                return None
            with module.bind(dict(zip(names, arrays[:count]))):
                return sequence_method(arrays[count:], kinds[count:], carry_slot - count, carry_output)

        fn.sequence = sequence
    return fn


class _Plan:
    """What recording a call of one module needs, computed once per module version."""

    __slots__ = ("module_key", "names", "slots", "random", "calls")

    def __init__(self, module: Module, module_key: tuple):
        self.module_key = module_key
        self.calls: dict[tuple, tuple[Callable[..., Any], tuple]] = {}
        """``(method, argument structure) -> (function, node key)`` of the calls recorded so far."""
        state_slots = list(module._state_slots())
        self.names = tuple(slot[0] for slot in state_slots)
        self.slots = tuple(
            (owner._parameters if kind == "parameter" else owner._buffers, attr) for _, owner, attr, kind in state_slots
        )
        self.random = _needs_key(module)


def _plan(module: Module) -> _Plan:
    module_key = _module_key(module)
    plan = module.__dict__.get("_record_plan")
    if plan is None or (plan.module_key is not module_key and plan.module_key != module_key):
        plan = _Plan(module, module_key)
        module.__dict__["_record_plan"] = plan
    return plan


def recorded_call(module: Module, method: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """``method(*args, **kwargs)`` of ``module`` (usually its ``forward``), recorded or run now (see ``apply``).

    **Returns:** what ``method`` returns, with every array a ``Tensor``.
    """
    plan = _plan(module)
    if not kwargs and all(isinstance(arg, Tensor) or _is_array(arg) for arg in args):
        treedef, static, layout, arrays = _POSITIONAL.get(len(args)), None, None, list(args)
        if treedef is None:
            treedef = _POSITIONAL[len(args)] = jax.tree_util.tree_structure((tuple(range(len(args))), {}))
    else:
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs), is_leaf=lambda x: isinstance(x, Tensor))
        layout = []
        for leaf in leaves:
            if isinstance(leaf, _SCALARS) or leaf is None:
                layout.append(("s", leaf))
            elif _is_array(leaf):
                layout.append(None)
            else:
                layout.append(("o", leaf))  # any other object: by identity, kept alive by the function
        static = tuple(slot if slot is None or slot[0] == "s" else ("o", id(slot[1])) for slot in layout)
        arrays = [leaf for leaf, slot in zip(leaves, layout) if slot is None]
    operands = [registry[attr] for registry, attr in plan.slots] + arrays
    if plan.random:
        operands.append(next_key())
    call = (id(getattr(method, "__func__", method)), treedef, static)
    found = plan.calls.get(call)
    if found is None:
        key = ("module", plan.module_key) + call + (plan.random,)
        found = _FNS.get(key)
        if found is None:
            full_layout = tuple(layout) if layout is not None else (None,) * len(args)
            fn = _make_fn(module, method, plan.names, treedef, full_layout, plan.random)
            # Nodes carry a short key: hashing the full one (settings and all) for every recorded
            # operation and every program lookup would cost more than the recording itself.
            found = _FNS[key] = (fn, ("module", len(_FNS)))
        plan.calls[call] = found
    fn, node_key = found
    return apply(fn, node_key, tuple(operands), record=True)


_POSITIONAL: dict[int, Any] = {}
