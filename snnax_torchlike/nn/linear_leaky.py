"""snnTorch's `LinearLeaky`: a `Linear` layer at every step, then `StateLeaky`, as one facade layer."""

from __future__ import annotations

from typing import Any

from jaxtyping import ArrayLike

from .. import snn
from ..imperative import Tensor
from ..snn.surrogate import SurrogateSpike
from .linear import Linear
from .module import to_array
from .state_leaky import StateLeaky


class LinearLeaky(StateLeaky):
    r"""snnTorch 1.0's ``LinearLeaky``: ``StateLeaky(channels=out_features)`` applied to ``Linear(x)``.

    ``x`` is the whole sequence, ``[T, B, in_features]``; the result is
    [`StateLeaky`][]'s on the projection, ``(spk, mem)`` each ``[T, B, out_features]``
    (``output=False``: ``mem``), with the graded spikes factor applied twice as in
    snnTorch. The projection is an [`Linear`][] (torch's initialisation) under
    ``linear``. ``device`` is accepted (JAX places arrays); ``dtype`` only as float32.

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
        threshold: ArrayLike = 1.0,
        spike_grad: SurrogateSpike | None = None,
        surrogate_disable: bool = False,
        learn_beta: bool = False,
        learn_threshold: bool = False,
        state_quant: Any = False,
        output: bool = True,
        graded_spikes_factor: ArrayLike = 1.0,
        learn_graded_spikes_factor: bool = False,
        kernel_truncation_steps: int | None = None,
    ):
        super().__init__(
            beta, out_features, threshold=threshold, spike_grad=spike_grad, surrogate_disable=surrogate_disable,
            learn_beta=learn_beta, learn_threshold=learn_threshold, state_quant=state_quant, output=output,
            graded_spikes_factor=graded_spikes_factor, learn_graded_spikes_factor=learn_graded_spikes_factor,
            kernel_truncation_steps=kernel_truncation_steps,
        )  # fmt: skip
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
