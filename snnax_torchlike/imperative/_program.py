"""Turning what was recorded into one jitted program, compiled once per structure, and running it.

A *force* (a value is read) computes every pending tensor still alive in one
program, so the outputs a script keeps (``spk_rec`` for its accuracy, hidden
states) never run the network twice. ``backward()`` does the same under
``jax.value_and_grad`` with respect to the trained parameters the loss depends
on, and accumulates their ``.grad``. Programs are cached by their structure
(operations, connections, shapes and dtypes, never values), and leaves enter as
arguments: parameters and data are never compiled in as constants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from ._graph import Node, array_aval_key
from ._replay import make_runner
from ._reroll import find_regions
from ._state import in_differentiated_scope, in_pure_scope, is_capturing, pure_scope
from .tensor import PENDING, Tensor, forget_constants

_PROGRAMS: dict[Any, tuple[Callable[..., Any], list]] = {}
_MAX_PROGRAMS = 64


class ProgramStats:
    """How many imperative programs were compiled and run (``snnax_torchlike.imperative.stats``)."""

    compiled = 0
    runs = 0
    rolled_loops = 0
    capture_fallbacks = 0


stats = ProgramStats()
"""Counters of the imperative layer: ``stats.compiled`` programs compiled, ``stats.runs`` programs run,
``stats.rolled_loops`` Python loops found and run as loops, ``stats.capture_fallbacks`` traced ``forward``
calls that could not be captured and ran unrolled (see ``nn.time_loop.run_captured``)."""


_OUTPUTS_PER_NODE = 64


def _decode(code: int) -> tuple:
    """The reference ``_Program._encode`` made ``code`` of: ``("n", pos, k)``, ``("p", i)`` or ``("c", i)``."""
    if code >= 0:
        return ("n", *divmod(code, _OUTPUTS_PER_NODE))
    return ("p", (-code - 1) // 2) if code % 2 else ("c", (-code - 2) // 2)


class _Program:
    """The canonical form of the graph behind some tensors: leaves in order and node descriptions."""

    def __init__(self, roots: list[tuple[Node, int]], differentiate: bool):
        """``roots``: the outputs to compute; with ``differentiate``, the first is the loss, and the parameters
        it reaches through nodes that record gradients are the program's differentiated inputs."""
        self.differentiate = differentiate
        self._trained = self._reached_parameters(roots[0][0]) if differentiate else set()
        self.params: list[Any] = []
        self.param_arrays: list[Any] = []
        self.consts: list[Any] = []
        self._param_index: dict[int, int] = {}
        self._const_index: dict[int, int] = {}
        nodes: dict[int, Node] = {}
        stack = [node for node, _ in roots]
        while stack:
            node = stack.pop()
            if id(node) in nodes:
                continue
            nodes[id(node)] = node
            for ref in node.inputs:
                if ref[0] == "n" and not self._known(ref):
                    stack.append(ref[1])
        self.nodes = sorted(nodes.values(), key=lambda node: node.seq)
        self._position = {id(node): i for i, node in enumerate(self.nodes)}
        # The structure as small ints, cheap to build and to hash on every force: per node its signature,
        # whether it records gradients and its inputs (see _encode).
        self.structure = tuple(
            (node.signature, node.requires_grad, *[self._encode(ref) for ref in node.inputs]) for node in self.nodes
        )
        self.outputs = [("n", self._position[id(node)], k) for node, k in roots]

    @property
    def desc(self) -> list[tuple]:
        """The node descriptions ``_reroll`` and ``_replay`` read (built when a program is compiled)."""
        return [
            (node.key, node.ints, tuple(_decode(code) for code in codes[2:]), node.requires_grad, node.aval_keys)
            for node, codes in zip(self.nodes, self.structure)
        ]

    @staticmethod
    def _reached_parameters(loss: Node) -> set[int]:
        """Ids of the parameters gradients flow to from ``loss`` (not through detached or no_grad nodes)."""
        reached: set[int] = set()
        seen: set[int] = set()
        stack = [loss]
        while stack:
            node = stack.pop()
            if id(node) in seen or not node.requires_grad:
                continue
            seen.add(id(node))
            for ref in node.inputs:
                if ref[0] == "p":
                    reached.add(id(ref[1]))
                elif ref[0] == "n":
                    stack.append(ref[1])
        return reached

    def _known(self, ref: tuple) -> bool:
        node, k = ref[1], ref[2]
        if node.values is None or node.values[k] is None:
            return False
        return not (self.differentiate and node.requires_grad)

    def _encode(self, ref: tuple) -> int:
        """An input as one int: ``pos * 64 + k`` for output ``k`` of node ``pos``, ``-2i - 1`` for parameter
        ``i``, ``-2i - 2`` for constant ``i``."""
        kind = ref[0]
        if kind == "n":
            position = self._position.get(id(ref[1]))
            if position is not None:
                if ref[2] >= _OUTPUTS_PER_NODE:
                    raise ValueError(f"imperative: a recorded operation has more than {_OUTPUTS_PER_NODE} outputs.")
                return position * _OUTPUTS_PER_NODE + ref[2]
            return self._const(ref[1].values[ref[2]])
        if kind == "p" and id(ref[1]) in self._trained:
            index = self._param_index.get(id(ref[1]))
            if index is None:
                index = self._param_index[id(ref[1])] = len(self.params)
                self.params.append(ref[1])
                self.param_arrays.append(ref[2])
            return -2 * index - 1
        return self._const(ref[2] if kind == "p" else ref[1])

    def _const(self, array: Any) -> int:
        index = self._const_index.get(id(array))
        if index is None:
            index = self._const_index[id(array)] = len(self.consts)
            self.consts.append(array)
        return -2 * index - 2

    def key(self, extra: Any) -> tuple:
        return (
            self.differentiate,
            self.structure,
            tuple(self.outputs),
            tuple(array_aval_key(a) for a in self.param_arrays),
            tuple(array_aval_key(a) for a in self.consts),
            extra,
        )

    def avals_of(self, ref: tuple) -> tuple:
        if ref[0] == "n":
            return self.nodes[ref[1]].aval_keys[ref[2]]
        if ref[0] == "p":
            return array_aval_key(self.param_arrays[ref[1]])
        return array_aval_key(self.consts[ref[1]])


def _replay(program: _Program) -> Callable[[list, list], list]:
    """``program`` as a pure function ``(params, consts) -> output values``, each found loop a ``lax.scan``."""
    desc = program.desc
    regions = find_regions(desc, program.avals_of)
    stats.rolled_loops += len(regions)
    runner = make_runner(desc, [node.fn for node in program.nodes], regions, program.outputs)

    def forward(params: list, consts: list) -> list:
        with pure_scope():
            return runner(params, consts)

    return forward


def _compiled(program: _Program, loss_output: int | None, seeded: bool) -> Callable[..., Any]:
    """The jitted function of ``program``'s structure: from the cache, or built and compiled now."""
    key = program.key((loss_output, seeded))
    cached = _PROGRAMS.get(key)
    if cached is not None:
        return cached[0]
    forward = _replay(program)

    if loss_output is None:
        function = jax.jit(forward)
    else:

        def value_and_grad(params: list, consts: list, seed: Any) -> tuple[list, list]:
            def loss_of(params: list) -> tuple[Any, list]:
                values = forward(params, consts)
                loss = values[loss_output]
                return jnp.sum(loss * seed) if seeded else jnp.sum(loss), values

            (_, values), grads = jax.value_and_grad(loss_of, has_aux=True)(params)
            return values, grads

        function = jax.jit(value_and_grad)
    if len(_PROGRAMS) >= _MAX_PROGRAMS:
        _PROGRAMS.pop(next(iter(_PROGRAMS)))
    # The nodes' functions are kept alive with the program: keys hold ids of the modules they call.
    _PROGRAMS[key] = (function, [node.fn for node in program.nodes])
    stats.compiled += 1
    return function


def _pending_roots() -> list[Tensor]:
    return [tensor for tensor in list(PENDING) if tensor._value is None]


def _store(tensors: list[Tensor], values: list[Any]) -> None:
    for tensor, value in zip(tensors, values):
        node, index = tensor._node, tensor._index
        tensor._value = value
        PENDING.discard(tensor)
        if node is None:
            continue
        if node.values is None:
            node.values = [None] * len(node.avals)
        node.values[index] = value
        if not node.requires_grad:
            tensor._node = None  # nothing to differentiate: keep the value only


def _unique_roots(tensors: list[Tensor]) -> tuple[list[tuple[Node, int]], list[int]]:
    """Distinct ``(node, k)`` of ``tensors`` and, per tensor, its root's index."""
    roots: list[tuple[Node, int]] = []
    index_of: dict[tuple[int, int], int] = {}
    which = []
    for tensor in tensors:
        ref = (id(tensor._node), tensor._index)
        if ref not in index_of:
            index_of[ref] = len(roots)
            roots.append((tensor._node, tensor._index))
        which.append(index_of[ref])
    return roots, which


def materialize() -> None:
    """Compute every pending tensor in one program."""
    tensors = _pending_roots()
    if not tensors:
        return
    roots, which = _unique_roots(tensors)
    program = _Program(roots, differentiate=False)
    if is_capturing():
        # Its leaves are the enclosing function's tracers: replayed inline, into that function's trace.
        values = _replay(program)(program.param_arrays, program.consts)
    else:
        values = _compiled(program, None, False)(program.param_arrays, program.consts)
        stats.runs += 1
    _store(tensors, [values[i] for i in which])
    forget_constants()


def _free(nodes: list[Node]) -> None:
    """Drop the recorded graph after ``backward()``, as torch frees it (``retain_graph=False``)."""
    for node in nodes:
        node.inputs = ()
        node.requires_grad = False
        node.fn = _freed


def _freed(*args: Any) -> Any:
    raise RuntimeError("Trying to backward through the graph a second time.")


def backward(loss: Tensor, gradient: Any, retain_graph: bool) -> None:
    """``loss.backward(gradient)``: accumulate ``d(loss)/d(param)`` into every trained parameter's ``.grad``.

    Inside ``optimizer.step(closure)`` (a pure scope) it does nothing: the step
    differentiates the loss the closure returns itself, so torch's closure idiom
    (``zero_grad(); loss = ...; loss.backward(); return loss``) runs unchanged.
    """
    if in_differentiated_scope():
        return
    if in_pure_scope():
        raise RuntimeError(
            "backward() inside a compiled function (snx.compile) is not supported: the function runs traced. "
            "Compute the gradient with optimizer.step(closure), or call backward() outside the compiled function."
        )
    node = loss._node
    if node is None or not node.requires_grad:
        if node is not None and node.fn is _freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time: the graph is freed after backward(); "
                "pass retain_graph=True to the first call if you need to call backward() twice."
            )
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn: the loss does not depend on "
            "any trained nn.Parameter (was it computed under no_grad(), or from detached values?)."
        )
    seeded = gradient is not None
    if not seeded and loss.numel() != 1:
        raise RuntimeError(
            f"grad can be implicitly created only for scalar outputs; the loss has shape {loss.shape}: reduce it "
            "(loss.sum(), loss.mean()) or pass backward(gradient=...) of the same shape."
        )
    seed = jnp.asarray(Tensor(gradient).jax() if seeded else 1.0, dtype=loss.dtype)
    if seeded and seed.shape != loss.shape:
        raise RuntimeError(f"backward: gradient has shape {seed.shape} but the tensor has shape {loss.shape}.")
    tensors = [loss] + [t for t in _pending_roots() if t is not loss]
    roots, which = _unique_roots(tensors)
    program = _Program(roots, differentiate=True)
    function = _compiled(program, which[0], seeded)
    values, grads = function(program.param_arrays, program.consts, seed)
    stats.runs += 1
    _store(tensors, [values[i] for i in which])
    for param, grad in zip(program.params, grads):
        param._accumulate_grad(grad)
    if not retain_graph:
        _free(program.nodes)
    forget_constants()
