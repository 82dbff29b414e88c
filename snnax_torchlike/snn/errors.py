"""Errors that name the layers of a model by their position, so a wrapper can name them its own way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def layer_name(layer: Any, index: int | None = None) -> str:
    """``"layer 3 (Leaky)"``, or ``"(Leaky)"`` without an index: how the core names a layer in messages."""
    where = "" if index is None else f"layer {index} "
    return f"{where}({type(layer).__name__})"


class LayerError(ValueError):
    """A layer of a model cannot take what it is given.

    The message is a template whose ``{0}``, ``{1}``, ... stand for the layers
    involved; the core fills them with ``layer_name`` (``"layer 0 (Affine)"``), and
    a wrapper that knows the layers by other names (the facade's ``Sequential``
    and ``Graph``) calls `relabel` instead of rewriting the text.

    **Attributes:**

    - ``indices``: the positions of the layers involved in the model, in the
      order of the template's placeholders.
    - ``layers``: those layers.
    - ``template``: the message with one placeholder per layer.
    """

    def __init__(self, template: str, indices: Sequence[int], layers: Sequence[Any]):
        self.template = template
        self.indices = tuple(indices)
        self.layers = tuple(layers)
        super().__init__(template.format(*(layer_name(layer, i) for i, layer in zip(self.indices, self.layers))))

    @property
    def index(self) -> int:
        """The position of the first layer involved."""
        return self.indices[0]

    def relabel(self, labels: Sequence[str]) -> LayerError:
        """The same error (same type, cause and attributes), naming layer ``i`` as ``labels[i]``."""
        relabelled = type(self).__new__(type(self))
        relabelled.__dict__.update(self.__dict__)
        relabelled.args = (self.template.format(*(labels[i] for i in self.indices)),)
        return relabelled


class LayerTypeError(LayerError, TypeError):
    """A `LayerError` for an input of the wrong kind (also a ``TypeError``)."""
