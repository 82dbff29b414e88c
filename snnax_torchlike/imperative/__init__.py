"""The imperative layer: torch-like tensors, recording, and replay as jitted programs.

It sits between the functional core and the facade (``nn``, ``optim``, ``train``
use it; the core does not know it exists). What it provides:

- `Tensor`, what facade calls return: torch's methods, arithmetic with torch
  tensors in both orders, ``torch.stack``/``torch.cat`` on it, and JAX's pytree
  and ``__jax_array__`` protocols.
- Lazy execution: facade module calls and operations on their results are
  recorded; reading a value, or ``loss.backward()``, compiles what was recorded
  into one jitted program (cached by structure; a Python loop over time steps
  becomes one ``lax.scan``) and runs it.
- Loop capture: inside the library's traced functions (``fit``'s step, a
  closure step, ``snx.compile``) a network's Python ``forward`` is recorded too,
  so its loop over time steps compiles as one ``lax.scan`` (`capture_loops`).
- Gradient mode: `no_grad`, `enable_grad`, `set_grad_enabled`, `is_grad_enabled`
  (``torch.no_grad()`` is honoured too where the script imports torch).
"""

from ._capture import captured_call
from ._function import recordable, torch_facing
from ._program import stats
from ._state import (
    capture_loops,
    enable_grad,
    in_pure_scope,
    is_grad_enabled,
    loops_captured,
    no_grad,
    pure_scope,
    set_grad_enabled,
)
from ._torch_function import register_torch_function
from .tensor import ReturnTypes, Size, Tensor, apply, cached_zeros, cat, known_values, op, stack, unwrap

__all__ = [
    "Tensor",
    "ReturnTypes",
    "Size",
    "apply",
    "op",
    "stack",
    "cat",
    "unwrap",
    "known_values",
    "cached_zeros",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "in_pure_scope",
    "pure_scope",
    "register_torch_function",
    "recordable",
    "torch_facing",
    "stats",
    "capture_loops",
    "captured_call",
    "loops_captured",
]
