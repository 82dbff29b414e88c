"""Mixed precision: which dtype matrix products compute in, with float32 accumulation and results.

A policy in Lightning's words: ``"32-true"`` (everything float32) or ``"bf16-mixed"``
(matrix products and convolutions take bfloat16 operands and accumulate in float32;
weights, optimizer state, membranes, spikes and losses stay float32). Spikes (0/1)
are exact in bfloat16, so a spiking layer's input loses nothing; the weights are
rounded to 8 significant bits inside the product only.

Layers read the policy when they are built or traced (`current_precision`), so a
jitted function that should run in another precision must be traced again: make
the precision a static argument, as ``Trainer`` does.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any, Literal

import jax
import jax.numpy as jnp
from jaxtyping import Array

Precision = Literal["32-true", "bf16-mixed"]
PRECISIONS: dict[str, Any] = {"32-true": jnp.float32, "bf16-mixed": jnp.bfloat16}
_ALIASES = {"32": "32-true", 32: "32-true", "bf16": "bf16-mixed"}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("precision", default="32-true")


def checked_precision(where: str, precision: Any) -> str:
    """``precision`` as one of `PRECISIONS`' names (``32`` and ``"32"`` mean ``"32-true"``), or a clear error."""
    name = _ALIASES.get(precision, precision) if isinstance(precision, (str, int)) else precision
    if name not in PRECISIONS:
        raise ValueError(
            f"{where}: precision must be one of {sorted(PRECISIONS)} (Lightning's names), got {precision!r}. "
            "'bf16-mixed' computes matrix products in bfloat16 with float32 accumulation; float16 and "
            "'bf16-true' are not supported."
        )
    return name


def current_precision() -> str:
    """The policy in force: ``"32-true"`` unless a `precision_scope` says otherwise."""
    return _current.get()


@contextlib.contextmanager
def precision_scope(precision: str) -> Iterator[None]:
    """Use ``precision`` for the layers built or traced inside the block."""
    token = _current.set(checked_precision("precision_scope", precision))
    try:
        yield
    finally:
        _current.reset(token)


def compute_dtype(precision: str) -> Any:
    """The dtype of matrix-product operands under ``precision``."""
    return PRECISIONS[precision]


@jax.custom_jvp
def _bf16_product(x: Array, w: Array) -> Array:
    return jnp.matmul(x.astype(jnp.bfloat16), w.astype(jnp.bfloat16), preferred_element_type=jnp.float32)


@_bf16_product.defjvp
def _bf16_product_jvp(primals: tuple[Array, Array], tangents: tuple[Array, Array]) -> tuple[Array, Array]:
    # The derivative of the float32 product: the rounding of the operands is passed
    # straight through, and the backward products multiply float32 operands. XLA:CPU
    # multiplies bfloat16 fast only in the forward layout (its transposed bfloat16
    # products are slower than float32 ones), and a JVP rule, unlike a custom VJP,
    # keeps vmap over per-sample calls one batched product.
    x, w = primals
    dx, dw = tangents
    return _bf16_product(x, w), jnp.matmul(dx, w) + jnp.matmul(x, dw)


def matmul(x: Array, w: Array, precision: str = "32-true") -> Array:
    """``x @ w`` under ``precision``: float32 results in every policy.

    **Arguments:** ``x``: ``[..., K]``; ``w``: ``[K, N]``; ``precision``: a policy name.

    **Returns:** ``[..., N]`` float32 (the dtype of ``x @ w`` for ``"32-true"``).
    With ``"bf16-mixed"`` the forward product multiplies bfloat16 operands with
    float32 accumulation (XLA:CPU's fast path with AVX512-BF16, and the tensor
    cores' on GPUs); the gradients are those of the float32 product at the same
    point (float32 products of float32 operands: the operands' rounding passes
    straight through).
    """
    if precision == "32-true":
        return jnp.matmul(x, w)
    return _bf16_product(x, w)
