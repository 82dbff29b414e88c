"""Finding the time loop in a recorded program: runs of identical steps that can become one ``lax.scan``.

A recorded program is a list of node descriptions in recording order, each
``(key, ints, inputs, requires_grad, avals)`` with inputs ``("n", position, k)``,
``("p", index)`` or ``("c", index)``. A Python loop over time steps leaves the
same block of ``period`` nodes ``repeats`` times in a row. Inside a block, every
input is one of

- ``("in", q, k)``: output ``k`` of the node at position ``q`` of the same block;
- ``("carry", q, k)``: the same, of the previous block (a hidden state: the
  first block reads its initial value from before the loop instead);
- ``("out", ref)``: something from before the loop or a leaf, the same in every block;
- ``("xs", slot)``: a different constant in every block, of one shape (``data[step]``
  sliced by torch before the call).

and its varying ints (``x[step]``) grow by the same stride from block to block.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

_CANDIDATE_PERIODS = 4


@dataclass
class Region:
    """``repeats`` blocks of ``period`` nodes from position ``start``, run as one scan.

    ``body[q]``: the inputs of block node ``q`` in block-relative form (see the
    module docstring); ``ints_start[q]``, ``ints_stride[q]``: its ints in block
    ``r`` are ``start + r * stride``; ``inits[(q, k)]``: where the first block reads
    carry ``(q, k)``; ``series[(q, m)]``: for an ``("xs", ...)`` input ``m`` of node
    ``q``, the constant index it reads in each block.
    """

    start: int
    period: int
    repeats: int
    body: list[list[tuple]]
    ints_start: list[tuple[int, ...]]
    ints_stride: list[tuple[int, ...]]
    inits: dict[tuple[int, int], tuple] = field(default_factory=dict)
    series: dict[tuple[int, int], list[int]] = field(default_factory=dict)

    @property
    def stop(self) -> int:
        return self.start + self.period * self.repeats


def _signature(element: tuple) -> tuple:
    key, ints, inputs, requires_grad, avals = element
    # Only parameters are told apart: a carry reads a node in later blocks and its initial value
    # (often a constant) in the first, and data sliced outside the loop is a new constant each step.
    kinds = tuple(ref[:2] if ref[0] == "p" else None for ref in inputs)
    return (key, len(ints), requires_grad, avals, kinds)


def _relative(desc: list[tuple], position: int, block_start: int, period: int, start: int) -> list[tuple] | None:
    """Block-relative form of the inputs of ``desc[position]``; None if one reaches further back in the loop."""
    result = []
    for ref in desc[position][2]:
        if ref[0] != "n":
            result.append(("out", ref))
            continue
        j = ref[1]
        if block_start <= j:
            result.append(("in", j - block_start, ref[2]))
        elif block_start - period >= start and j >= block_start - period:
            result.append(("carry", j - (block_start - period), ref[2]))
        elif j < start:
            result.append(("out", ref))
        else:
            return None
    return result


def _match(
    desc: list[tuple],
    avals_of: Any,
    start: int,
    period: int,
    template: list[list[tuple]],
    block: int,
    inits: dict,
    series: dict,
) -> bool:
    """Whether block ``block`` has the template's structure; records carry inits (block 0) and varying constants."""
    block_start = start + block * period
    for q in range(period):
        position = block_start + q
        if _signature(desc[position]) != _signature(desc[start + period + q]):
            return False
        relative = _relative(desc, position, block_start, period, start)
        if relative is None:
            return False
        for m, (mine, expected) in enumerate(zip(relative, template[q])):
            if mine == expected and (q, m) not in series:
                continue
            if expected[0] == "carry" and block == 0 and mine[0] == "out":
                carried = (expected[1], expected[2])
                if inits.setdefault(carried, mine[1]) != mine[1]:
                    return False
                if avals_of(mine[1]) != desc[start + expected[1]][4][expected[2]]:
                    return False
                continue
            if mine[0] == "out" and expected[0] == "out" and mine[1][0] == "c" and expected[1][0] == "c":
                if avals_of(mine[1]) != avals_of(expected[1]):
                    return False
                series.setdefault((q, m), {})[block] = mine[1][1]
                continue
            return False
    return True


def _ints_progress(desc: list[tuple], start: int, period: int, repeats: int) -> bool:
    for q in range(period):
        first = desc[start + q][1]
        if not first:
            continue
        stride = tuple(b - a for a, b in zip(first, desc[start + period + q][1]))
        for r in range(2, repeats):
            expected = tuple(a + r * s for a, s in zip(first, stride))
            if desc[start + r * period + q][1] != expected:
                return False
    return True


def _try(desc: list[tuple], avals_of: Any, start: int, period: int) -> Region | None:
    n = len(desc)
    if start + 2 * period > n:
        return None
    template = []
    for q in range(period):
        relative = _relative(desc, start + period + q, start + period, period, start)
        if relative is None:
            return None
        template.append(relative)
    inits: dict = {}
    series: dict = {}
    if not _match(desc, avals_of, start, period, template, 0, inits, series):
        return None
    repeats = 1
    while start + (repeats + 1) * period <= n:
        trial_series = {slot: dict(blocks) for slot, blocks in series.items()}
        if not _match(desc, avals_of, start, period, template, repeats, inits, trial_series):
            break
        series = trial_series
        repeats += 1
    while repeats >= 2 and not _ints_progress(desc, start, period, repeats):
        repeats -= 1
    if repeats < 2:
        return None
    # A constant that differs in some block varies in all of them: list one index per block.
    full_series = {}
    for (q, m), blocks in series.items():
        indices = []
        for r in range(repeats):
            ref = desc[start + r * period + q][2][m]
            indices.append(ref[1])
        full_series[(q, m)] = indices
    for q, m in full_series:
        template[q][m] = ("xs", (q, m))
    starts = [desc[start + q][1] for q in range(period)]
    strides = [tuple(b - a for a, b in zip(desc[start + q][1], desc[start + period + q][1])) for q in range(period)]
    return Region(start, period, repeats, template, starts, strides, inits, full_series)


def find_regions(desc: list[tuple], avals_of: Any) -> list[Region]:
    """Non-overlapping loops in ``desc``, left to right, each covering as many nodes as it can.

    ``avals_of(ref)`` gives the ``(shape, dtype, weak)`` key of a canonical reference.
    """
    positions: dict[tuple, list[int]] = {}
    signatures = [_signature(element) for element in desc]
    for i, signature in enumerate(signatures):
        positions.setdefault(signature, []).append(i)
    regions = []
    i = 0
    while i < len(desc):
        same = positions[signatures[i]]
        after = bisect.bisect_right(same, i)
        best = None
        for j in same[after : after + _CANDIDATE_PERIODS]:
            region = _try(desc, avals_of, i, j - i)
            if region is not None and (best is None or region.period * region.repeats > best.period * best.repeats):
                best = region
        if best is None:
            i += 1
        else:
            regions.append(best)
            i = best.stop
    return regions
