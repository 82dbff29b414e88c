"""Capturing a call inside a traced function, so that a Python loop over time steps compiles as one loop.

Inside ``fit``'s step (a pure scope) operations run at once on tracers, so a
``forward`` that loops over ``T`` time steps leaves ``T`` copies of the network
in the compiled step, and compile time grows with ``T``. A captured call records
the operations instead, with the tracers as the recording's leaves, and then
replays the recording into the same trace: a run of identical steps becomes one
``lax.scan`` (see ``_reroll``), exactly as when an imperative script forces its
values, and the rest runs as it would have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._program import materialize
from ._state import capturing_scope
from .tensor import PENDING


def captured_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` inside a traced function, its repeated steps replayed as ``lax.scan`` loops.

    Call it in a pure scope (a traced function of the library). Tensors made
    before the call and still pending are left alone; every tensor made inside
    holds its traced value when the call returns.

    **Returns:** what ``fn`` returns.
    """
    with PENDING.isolated(), capturing_scope():
        result = fn(*args, **kwargs)
        materialize()
    return result
