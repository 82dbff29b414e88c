"""snnTorch's `LinearLeaky`: a `Linear` layer at every step, then `StateLeaky`, as one facade layer."""

from __future__ import annotations

from typing import Any, Unpack

from jaxtyping import ArrayLike

from .. import snn
from ..imperative import Tensor
from .linear import Linear
from .module import to_array
from .neuron import SpikingOptions
from .state_leaky import StateLeaky


class LinearLeaky(StateLeaky):
    r"""snnTorch 1.0's ``LinearLeaky``: ``StateLeaky(channels=out_features)`` applied to ``Linear(x)``.

    ``x`` is the whole sequence, ``[T, B, in_features]``; the result is
    [`StateLeaky`][]'s on the projection, ``(spk, mem)`` each ``[T, B, out_features]``
    (``output=False``: ``mem``), with the graded spikes factor applied twice as in
    snnTorch. The projection is an [`Linear`][] (torch's initialisation) under
    ``linear``. ``device`` is accepted (JAX places arrays); ``dtype`` only as float32.
    ``learn_beta``, ``kernel_truncation_steps`` and the options are [`StateLeaky`][]'s.

    ``state_dict``: StateLeaky's entries, then ``linear.weight``, ``linear.bias``.
    Inside ``nn.Sequential`` it runs over the whole sequence per sample, the
    projection over every step at once.
    """

    def __init__(
        self,
        beta: ArrayLike,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        learn_beta: bool = False,
        kernel_truncation_steps: int | None = None,
        **options: Unpack[SpikingOptions],
    ):
        super().__init__(beta, out_features, learn_beta=learn_beta, kernel_truncation_steps=kernel_truncation_steps,
                         **options)  # fmt: skip
        # Module.to accepts devices and refuses dtypes other than float32, as it does for any layer.
        self.linear = Linear(in_features, out_features, bias=bias).to(*(v for v in (device, dtype) if v is not None))

    def core_layer(self) -> snn.CompoundLayer:
        """The projection and the neuron as one pure core layer (per sample: inputs ``[in_features]``)."""
        return snn.CompoundLayer(self.linear.core_layer(), super().core_layer())

    def forward(self, input_: Any) -> Tensor | tuple[Tensor, Tensor]:
        """``spk, mem = lif(x)`` (``output=False``: ``mem = lif(x)``) for ``x`` ``[T, B, in_features]``."""
        x = to_array(input_)
        self._check_sequence(x, self.linear.in_features)
        return super().forward(self.linear.forward(x))
