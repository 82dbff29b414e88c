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
import functools
from collections.abc import Callable, Iterator
from typing import Any, Literal

import jax
import jax.numpy as jnp
from jaxtyping import Array

Precision = Literal["32-true", "bf16-mixed"]
PRECISIONS = ("32-true", "bf16-mixed")
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


Product = Callable[[Array, Array], Array]
"""A bilinear product of an input and a weight (a matmul, a convolution) with float32 accumulation."""


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _bf16_product(product: Product, x: Array, w: Array) -> Array:
    return product(x.astype(jnp.bfloat16), w.astype(jnp.bfloat16))


@_bf16_product.defjvp
def _bf16_product_jvp(product: Product, primals: tuple[Array, Array], tangents: tuple[Array, Array]) -> Any:
    # The derivative of the float32 product: the rounding of the operands is passed
    # straight through, and the backward products multiply float32 operands. XLA:CPU
    # multiplies bfloat16 fast only in the forward layout (its transposed bfloat16
    # products are slower than float32 ones), and a JVP rule, unlike a custom VJP,
    # keeps vmap over per-sample calls one batched product.
    x, w = primals
    dx, dw = tangents
    return _bf16_product(product, x, w), product(dx, w) + product(x, dw)


def mixed_product(product: Product, x: Array, w: Array, precision: str = "32-true") -> Array:
    """``product(x, w)`` under ``precision``; ``product`` is bilinear and accumulates in float32.

    **Arguments:** ``product``: e.g. a matmul or a convolution with
    ``preferred_element_type=jnp.float32``; ``x``, ``w``: its operands;
    ``precision``: a policy name.

    **Returns:** ``product(x, w)`` for ``"32-true"``. With ``"bf16-mixed"``, the
    product of the bfloat16-rounded operands (XLA:CPU's fast path with AVX512-BF16,
    and the tensor cores' on GPUs), whose gradients are those of the float32 product
    at the same point (float32 products of float32 operands: the operands' rounding
    passes straight through).
    """
    if precision == "32-true":
        return product(x, w)
    return _bf16_product(product, x, w)


def _float32_matmul(x: Array, w: Array) -> Array:
    return jnp.matmul(x, w, preferred_element_type=jnp.float32)


def matmul(x: Array, w: Array, precision: str = "32-true") -> Array:
    """``x @ w`` under ``precision`` (see `mixed_product`): float32 results in every policy.

    **Arguments:** ``x``: ``[..., K]``; ``w``: ``[K, N]``; ``precision``: a policy name.

    **Returns:** ``[..., N]`` float32.
    """
    return mixed_product(_float32_matmul, x, w, precision)
