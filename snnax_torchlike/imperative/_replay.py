"""Replaying a recorded program as a pure function of its leaves, with each found loop as one ``lax.scan``.

Inside a loop region the steps run layer by layer (see `_Loop`): what depends on
no state is computed for all steps at once, and each recurrent part (a neuron
and its state) is one ``lax.scan``. A ``stack`` of one output over every step of
a loop reads that output's sequence directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from ._indexing import build_index, leading_int_rest
from ._reroll import Region

Runner = Callable[[Sequence[Any], Sequence[Any]], list[Any]]


def _leaves(out: Any, requires_grad: bool) -> list[Any]:
    leaves = jax.tree_util.tree_leaves(out)
    if requires_grad:
        return leaves
    # Recorded under no_grad or detached: nothing flows back through it.
    return [jax.lax.stop_gradient(leaf) for leaf in leaves]


def _components(period: int, body: list[list[tuple]]) -> list[list[int]]:
    """Strongly connected components of a block's nodes (edges: same-step and carry inputs), in dependency order.

    Tarjan's algorithm emits a component after every component it reads from.
    """
    edges = [sorted({rel[1] for rel in body[q] if rel[0] in ("in", "carry")}) for q in range(period)]
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    order: list[list[int]] = []

    def visit(q: int) -> None:  # recursion depth is bounded by the block's length
        index[q] = low[q] = len(index)
        stack.append(q)
        on_stack.add(q)
        for source in edges[q]:
            if source not in index:
                visit(source)
                low[q] = min(low[q], low[source])
            elif source in on_stack:
                low[q] = min(low[q], index[source])
        if low[q] == index[q]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == q:
                    break
            order.append(sorted(component))

    for q in range(period):
        if q not in index:
            visit(q)
    return order


class _Loop:
    """The plan and, once run, the values of one region, layer by layer.

    The block's nodes are split into strongly connected components. A component
    without a cycle through a carry is computed for all steps at once
    (``jax.vmap`` over the steps, or once if it does not depend on the step);
    a recurrent one (a neuron and its state) is one ``lax.scan`` of its own, reading
    the other components' results as sequences. So ``fc1(x[t])`` and ``fc2(spk1[t])``
    are each one matmul over all steps, and only the neurons' updates run step by step.
    """

    def __init__(self, region: Region, desc: list[tuple], fns: list[Callable], consumers: set[tuple[int, int]]):
        self.region = region
        self.desc = desc
        self.fns = fns
        self.components = _components(region.period, region.body)
        component_of = {q: i for i, component in enumerate(self.components) for q in component}
        self.recurrent = [
            any(rel[0] == "carry" and component_of[rel[1]] == i for q in component for rel in region.body[q])
            or len(component) > 1
            for i, component in enumerate(self.components)
        ]
        # Outputs a recurrent component must hand out: read by another component or after the loop.
        self.needed: set[tuple[int, int]] = set()
        for q in range(region.period):
            for rel in region.body[q]:
                if rel[0] in ("in", "carry") and component_of[rel[1]] != component_of[q]:
                    self.needed.add((rel[1], rel[2]))
        for position, k in consumers:
            self.needed.add(((position - region.start) % region.period, k))
        self.values: dict[tuple[int, int], tuple[str, Any]] = {}
        self._unstacked: dict[tuple[int, int], list[Any]] = {}

    def _ints(self, q: int, step: Any) -> tuple:
        start, stride = self.region.ints_start[q], self.region.ints_stride[q]
        if step is None or not any(stride):
            return start
        return tuple(a + step * s for a, s in zip(start, stride))

    def _series_input(self, q: int, m: int, rel: tuple, get: Callable, consts: Sequence[Any]) -> tuple[str, Any]:
        """Input ``m`` of node ``q`` from outside its component: ``("series", [R, ...])`` or ``("invariant", x)``."""
        region = self.region
        if rel[0] == "xs":
            return "series", jnp.stack([consts[index] for index in region.series[rel[1]]])
        if rel[0] == "out":
            return "invariant", get(rel[1])
        kind, value = self.values[(rel[1], rel[2])]
        if rel[0] == "in":
            return kind, value
        # A carry from another component: step r reads step r - 1, the first step the initial value.
        initial = get(region.inits[(rel[1], rel[2])])
        if kind == "invariant":
            value = jnp.broadcast_to(value, (region.repeats,) + value.shape)
        return "series", jnp.concatenate([initial[None].astype(value.dtype), value[:-1]])

    def _strided_slice(self, q: int, args: list, axes: list) -> Any | None:
        """``x[a + r*b]`` for every step ``r`` as one strided slice of ``x`` (no gather), where it applies."""
        region = self.region
        key = self.desc[region.start + q][0]
        start, stride = region.ints_start[q], region.ints_stride[q]
        if not (isinstance(key, tuple) and key and key[0] == "getitem") or len(start) != 1 or len(args) != 1:
            return None
        rest = leading_int_rest(key[1])
        if rest is None or axes[0] is not None:
            return None
        first, step = start[0], stride[0]
        last = first + (region.repeats - 1) * step
        if step <= 0 or first < 0 or last >= args[0].shape[0]:
            return None
        series = jax.lax.slice_in_dim(args[0], first, last + 1, step, axis=0)
        return series[(slice(None),) + build_index(rest, (), ())]

    def _map(self, q: int, get: Callable, consts: Sequence[Any]) -> None:
        region = self.region
        requires_grad = self.desc[region.start + q][3]
        inputs = [self._series_input(q, m, rel, get, consts) for m, rel in enumerate(region.body[q])]
        args = [value for _, value in inputs]
        axes = [0 if kind == "series" else None for kind, _ in inputs]
        varying = any(region.ints_stride[q])
        out = self._strided_slice(q, args, axes) if varying else None
        if out is not None:
            kind = "series"
        elif not varying and all(axis is None for axis in axes):
            out = self.fns[region.start + q](region.ints_start[q], *args)
            kind = "invariant"
        else:
            fn = self.fns[region.start + q]

            def one_step(step: Any, *xs: Any) -> Any:
                return fn(self._ints(q, step if varying else None), *xs)

            out = jax.vmap(one_step, in_axes=(0, *axes))(jnp.arange(region.repeats), *args)
            kind = "series"
        for k, leaf in enumerate(_leaves(out, requires_grad)):
            self.values[(q, k)] = (kind, leaf)

    def _sequence_rule(self, q: int, carries: list, outside: dict, get: Callable) -> bool:
        """Run a lone recurrent node with its own whole-sequence function, if it has one (``fn.sequence``).

        A neuron's sequence function (``Leaky``'s hand-written backward pass keeps
        only the membranes) is faster than scanning its step. Returns whether it ran.
        """
        region = self.region
        fn = self.fns[region.start + q]
        sequence = getattr(fn, "sequence", None)
        if sequence is None or len(carries) != 1 or carries[0][0] != q:
            return False
        slots = [m for m, rel in enumerate(region.body[q]) if rel[0] == "carry"]
        if len(slots) != 1:
            return False
        args, kinds = [], []
        for m in range(len(region.body[q])):
            if m == slots[0]:
                args.append(get(region.inits[carries[0]]))
                kinds.append("carry")
            else:
                kind, value = outside[(q, m)]
                args.append(value)
                kinds.append(kind)
        out = sequence(args, kinds, slots[0], carries[0][1])
        if out is None:
            return False
        for k, leaf in enumerate(_leaves(out, self.desc[region.start + q][3])):
            self.values[(q, k)] = ("series", leaf)
        return True

    def _scan(self, component: list[int], get: Callable, consts: Sequence[Any]) -> None:
        region = self.region
        members = set(component)
        carries = sorted(
            {(rel[1], rel[2]) for q in component for rel in region.body[q] if rel[0] == "carry" and rel[1] in members}
        )
        outside: dict[tuple[int, int], tuple[str, Any]] = {}
        for q in component:
            for m, rel in enumerate(region.body[q]):
                if not (rel[0] in ("in", "carry") and rel[1] in members):
                    outside[(q, m)] = self._series_input(q, m, rel, get, consts)
        if len(component) == 1 and self._sequence_rule(component[0], carries, outside, get):
            return
        series = {slot: value for slot, (kind, value) in outside.items() if kind == "series"}
        invariant = {slot: value for slot, (kind, value) in outside.items() if kind == "invariant"}
        needs_step = any(any(region.ints_stride[q]) for q in component)
        handed_out = sorted(
            {(q, k) for q in component for k in range(len(self.desc[region.start + q][4])) if (q, k) in self.needed}
        )

        def body(carry: dict, xs: tuple) -> tuple[dict, dict]:
            series_now, step = xs
            env: dict = {}
            for q in component:
                args = []
                for m, rel in enumerate(region.body[q]):
                    if (q, m) in series_now:
                        args.append(series_now[(q, m)])
                    elif (q, m) in invariant:
                        args.append(invariant[(q, m)])
                    elif rel[0] == "in":
                        args.append(env[(rel[1], rel[2])])
                    else:
                        args.append(carry[(rel[1], rel[2])])
                out = self.fns[region.start + q](self._ints(q, step), *args)
                for k, leaf in enumerate(_leaves(out, self.desc[region.start + q][3])):
                    env[(q, k)] = leaf
            return {c: env[c] for c in carries}, {h: env[h] for h in handed_out}

        init = {c: get(region.inits[c]) for c in carries}
        steps = jnp.arange(region.repeats) if needs_step else None
        _, ys = jax.lax.scan(body, init, (series, steps), length=region.repeats)
        for h in handed_out:
            self.values[h] = ("series", ys[h])

    def run(self, get: Callable[[tuple], Any], consts: Sequence[Any]) -> None:
        self._unstacked.clear()  # a runner may run again (another trace): nothing of the last run is kept
        for component, recurrent in zip(self.components, self.recurrent):
            if recurrent:
                self._scan(component, get, consts)
            else:
                self._map(component[0], get, consts)

    def lookup(self, position: int, k: int) -> Any:
        block, q = divmod(position - self.region.start, self.region.period)
        kind, value = self.values[(q, k)]
        if kind != "series":
            return value
        # Read as a whole: a script that keeps every step's output (``jnp.stack(spk_rec)``) reads each
        # block, and one unstack traces in a fraction of the time of as many slices.
        steps = self._unstacked.get((q, k))
        if steps is None:
            steps = self._unstacked[(q, k)] = jnp.unstack(value)
        return steps[block]

    def series(self, q: int, k: int) -> Any:
        """Output ``k`` of node ``q`` over every block, stacked on axis 0."""
        kind, value = self.values[(q, k)]
        return value if kind == "series" else jnp.broadcast_to(value, (self.region.repeats,) + value.shape)


def _whole_series(inputs: tuple, loop_of: dict[int, _Loop]) -> tuple[_Loop, int, int] | None:
    """If ``inputs`` are one node output of every block of one loop, in order: that loop and output."""
    first = inputs[0]
    if first[0] != "n" or first[1] not in loop_of:
        return None
    loop = loop_of[first[1]]
    region = loop.region
    if len(inputs) != region.repeats:
        return None
    q = first[1] - region.start
    if q >= region.period:
        return None
    expected = tuple(("n", region.start + r * region.period + q, first[2]) for r in range(region.repeats))
    return (loop, q, first[2]) if inputs == expected else None


def make_runner(desc: list[tuple], fns: list[Callable], regions: list[Region], outputs: Sequence[tuple]) -> Runner:
    """A pure function ``(params, consts) -> [value of each output ref]`` replaying ``desc``."""
    loops: list[_Loop] = []
    loop_of: dict[int, _Loop] = {}
    consumers: dict[int, set] = {id(region): set() for region in regions}
    region_at = {}
    for region in regions:
        for position in range(region.start, region.stop):
            region_at[position] = region

    def note(ref: tuple, reader: int | None) -> None:
        if ref[0] != "n" or ref[1] not in region_at:
            return
        region = region_at[ref[1]]
        if reader is not None and region.start <= reader < region.stop:
            return
        consumers[id(region)].add((ref[1], ref[2]))

    stacked: dict[int, tuple] = {}
    for position, element in enumerate(desc):
        for ref in element[2]:
            note(ref, position)
    for ref in outputs:
        note(ref, None)
    for region in regions:
        loop = _Loop(region, desc, fns, consumers[id(region)])
        loops.append(loop)
        for position in range(region.start, region.stop):
            loop_of[position] = loop
    for position, element in enumerate(desc):
        key = element[0]
        if position not in loop_of and isinstance(key, tuple) and key and key[0] == "stack":
            found = _whole_series(element[2], loop_of)
            if found is not None:
                stacked[position] = (found, key[2])
    starts = {loop.region.start: loop for loop in loops}

    def run(params: Sequence[Any], consts: Sequence[Any]) -> list[Any]:
        values: dict[tuple[int, int], Any] = {}

        def get(ref: tuple) -> Any:
            if ref[0] == "p":
                return params[ref[1]]
            if ref[0] == "c":
                return consts[ref[1]]
            found = values.get((ref[1], ref[2]))
            if found is None:
                return loop_of[ref[1]].lookup(ref[1], ref[2])
            return found

        position = 0
        while position < len(desc):
            loop = starts.get(position)
            if loop is not None:
                loop.run(get, consts)
                position = loop.region.stop
                continue
            key, ints, inputs, requires_grad, _ = desc[position]
            if position in stacked:
                (loop_, q, k), axis = stacked[position]
                (values[(position, 0)],) = _leaves(jnp.moveaxis(loop_.series(q, k), 0, axis), requires_grad)
            else:
                out = fns[position](ints, *(get(ref) for ref in inputs))
                for k, leaf in enumerate(_leaves(out, requires_grad)):
                    values[(position, k)] = leaf
            position += 1
        return [get(ref) for ref in outputs]

    return run
