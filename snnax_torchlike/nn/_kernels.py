"""Pure Equinox counterparts of facade layers: what runs inside the core's time loop."""

from __future__ import annotations

import equinox as eqx
from jaxtyping import Array


class Affine(eqx.Module):
    """``x @ weight.T + bias`` with torch's ``[out, in]`` layout; any leading axes."""

    weight: Array
    bias: Array | None

    def __call__(self, x: Array) -> Array:
        y = x @ self.weight.T
        return y if self.bias is None else y + self.bias
