"""A torch tensor that requires grad, as an input whose gradient ``backward()`` hands back to torch.

A torch layer in front of a facade layer (``torch.nn.Linear`` then ``snn.Leaky``) is
trained by torch: ``loss.backward()`` on the facade's loss must fill the torch
layer's ``.grad`` as torch's autograd would. The tensor enters the recorded graph
like a trained parameter; its gradient is then passed to the tensor's own
``backward``, which carries it through torch's graph. Nothing here imports torch:
the tensor's methods do the work.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jaxtyping import Array

from .convert import to_array


class ForeignLeaf:
    """Stands for one foreign tensor in recorded graphs, as a parameter would (``_is_parameter``)."""

    __slots__ = ("source", "data", "requires_grad")
    _is_parameter = True

    def __init__(self, source: Any):
        self.source = source
        self.data: Array = to_array(source)
        self.requires_grad = True

    def _accumulate_grad(self, grad: Array) -> None:
        # retain_graph: several leaves may share part of torch's graph (slices of one projection).
        self.source.backward(self.source.new_tensor(np.asarray(grad)), retain_graph=True)


def requires_foreign_grad(value: Any) -> bool:
    """Whether ``value`` is a foreign tensor that requires grad (it then enters graphs as a ``ForeignLeaf``)."""
    return bool(getattr(value, "requires_grad", False)) and hasattr(value, "new_tensor")


def foreign_leaf(value: Any) -> ForeignLeaf | None:
    """A leaf for ``value`` when it is a foreign tensor that requires grad, else None.

    Each use gets its own leaf; torch sums what their ``backward`` calls bring, as it
    sums over the uses of a tensor in its own graph.
    """
    return ForeignLeaf(value) if requires_foreign_grad(value) else None
