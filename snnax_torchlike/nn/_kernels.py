"""Pure Equinox counterparts of facade layers: what runs inside the core's time loop."""

from __future__ import annotations

import equinox as eqx
from jaxtyping import Array

from ..snn.layers import LeadingAxesLayer
from ..snn.precision import matmul


class Affine(LeadingAxesLayer):
    """``x @ weight.T + bias`` with torch's ``[out, in]`` layout; any leading axes.

    ``precision``: the policy of the product (``snn.precision``): ``"bf16-mixed"``
    multiplies bfloat16 operands with float32 accumulation and result.
    """

    weight: Array
    bias: Array | None
    precision: str = eqx.field(static=True, default="32-true")

    def __call__(self, x: Array) -> Array:
        y = matmul(x, self.weight.T, self.precision)
        return y if self.bias is None else y + self.bias
