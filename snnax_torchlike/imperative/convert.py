"""Converting array-likes of any library (numpy, JAX, torch by duck typing) into JAX and numpy arrays."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array


def is_foreign_array(value: Any) -> bool:
    """An array of another library (a torch tensor, ...): it has ``__array__`` but is not numpy, JAX or ours."""
    return (
        hasattr(type(value), "__array__")
        and not isinstance(value, (jax.Array, np.ndarray, type))
        and not hasattr(type(value), "__jax_array__")
    )


def to_numpy(value: Any) -> np.ndarray:
    """A numpy view/copy of an array-like: numpy, JAX, a facade tensor or parameter, or a torch tensor."""
    if hasattr(type(value), "__jax_array__"):
        value = value.__jax_array__()
    elif hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu()
    return np.asarray(value)


def to_array(value: Any) -> Array:
    """A JAX array of an array-like; float64 becomes float32 (JAX's default precision).

    Facade tensors and parameters give their array (a pending tensor is computed first).
    """
    if isinstance(value, jax.Array):
        return value
    if hasattr(type(value), "__jax_array__"):
        return value.__jax_array__()
    array = to_numpy(value)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    # A copy: on CPU, JAX may alias a numpy buffer, and one shared with a torch tensor would change
    # under an in-place torch update (an optimizer step, a reused loader buffer).
    return jnp.array(array, copy=True)
