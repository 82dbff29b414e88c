"""The values of an array when it has them: checks that need values run eagerly and are skipped under tracing."""

from __future__ import annotations

import jax
import numpy as np
from jaxtyping import ArrayLike


def concrete(x: ArrayLike) -> np.ndarray | None:
    """The values of ``x`` as numpy, or ``None`` when ``x`` is traced (inside ``jit``/``vmap``/``grad``)."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None
