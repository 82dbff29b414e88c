"""snnTorch's public API as a drop-in namespace: ``import snnax_torchlike.snntorch as snn``.

Laid out like the ``snntorch`` package, so a script ports by changing its imports:

```python
import snnax_torchlike.snntorch as snn
from snnax_torchlike.snntorch import spikegen, surrogate, utils
import snnax_torchlike.snntorch.functional as SF
import snnax_torchlike.snntorch.spikeplot as splt
```

Every name here is an alias of the one class or function that lives where it
belongs (``nn``, ``functional``, ``spikegen``, ``surrogate``, ``utils``, ``plot``);
this package defines only what exists solely to match snnTorch's signatures
(``spikeplot``, ``backprop``, ``export_to_nir``/``import_from_nir``). It is the
outermost layer: it may use ``snnax_torchlike.interop`` (for NIR), never torch.
``docs/snntorch-api.md`` lists snnTorch's public API with what is supported,
what differs and what is refused.
"""

from snnax_torchlike.nn import (
    SLSTM,
    Alpha,
    BatchNormTT1d,
    BatchNormTT2d,
    DeltaLeaky,
    GradedSpikes,
    Lapicque,
    Leaky,
    LeakyParallel,
    LinearLeaky,
    RLeaky,
    RSynaptic,
    SConv2dLSTM,
    StateLeaky,
    Synaptic,
)
from snnax_torchlike.nn.neuron import SnnTorchNeuron as SpikingNeuron

from . import backprop, functional, spikegen, spikeplot, surrogate, utils
from .export_nir import export_to_nir
from .import_nir import import_from_nir

LIF = SpikingNeuron
"""snnTorch's base of its LIF neurons; here one base class serves every snnTorch neuron."""

__version__ = "1.0.0"
"""The snnTorch release whose API and numerics this namespace follows."""

__all__ = [
    "SpikingNeuron",
    "LIF",
    "Leaky",
    "LeakyParallel",
    "Synaptic",
    "Alpha",
    "Lapicque",
    "DeltaLeaky",
    "StateLeaky",
    "LinearLeaky",
    "BatchNormTT1d",
    "BatchNormTT2d",
    "GradedSpikes",
    "RLeaky",
    "RSynaptic",
    "SLSTM",
    "SConv2dLSTM",
    "functional",
    "spikegen",
    "surrogate",
    "utils",
    "spikeplot",
    "backprop",
    "export_to_nir",
    "import_from_nir",
]
