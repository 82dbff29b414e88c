"""snnTorch models in and out: `from_snntorch` and `to_snntorch`.

Imported networks compute what they computed in snnTorch: same layers, weights,
learned decays and thresholds, reset mechanisms and surrogate gradients (the
facade's neurons reproduce snnTorch 1.0's update operation by operation). torch
and snntorch are imported only when these functions are called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from snnax_torchlike import nn, surrogate
from snnax_torchlike.snn.surrogate import SurrogateSpike

from ._torch_layers import TORCH_LAYERS, UnsupportedModuleError, convert_torch_layer, to_numpy32, unsupported

__all__ = ["from_snntorch", "to_snntorch", "SUPPORTED_MODULES", "UnsupportedModuleError"]

SUPPORTED_MODULES = TORCH_LAYERS + (
    "snntorch.Leaky",
    "snntorch.Synaptic",
    "snntorch.RLeaky",
    "snntorch.RSynaptic",
    "snntorch.Lapicque",
    "snntorch.Alpha",
)
"""What ``from_snntorch`` converts, inside a ``torch.nn.Sequential``."""


def _unsupported(path: str, module: Any, why: str) -> UnsupportedModuleError:
    return unsupported("from_snntorch", path, module, why, SUPPORTED_MODULES)


_SURROGATES: dict[str, Callable[..., SurrogateSpike]] = {
    "atan": lambda alpha: surrogate.atan(alpha),
    "fast_sigmoid": lambda slope: surrogate.fast_sigmoid(slope),
    "sigmoid": lambda slope: surrogate.sigmoid(slope),
    "straight_through_estimator": lambda: surrogate.straight_through_estimator(),
}


def _surrogate(neuron: Any, path: str, override: SurrogateSpike | None) -> SurrogateSpike:
    """The facade surrogate equal to the neuron's snnTorch ``spike_grad``."""
    if override is not None:
        return override
    function = neuron.spike_grad
    factory = getattr(function, "__qualname__", "").split(".<locals>")[0]
    if factory not in _SURROGATES:
        raise _unsupported(
            path,
            neuron,
            f"uses the surrogate {getattr(function, '__qualname__', function)!r}, which has no exact counterpart "
            f"(supported: {sorted(_SURROGATES)}); pass spike_grad=<a snnax_torchlike.surrogate> to choose one",
        )
    cells = dict(zip(function.__code__.co_freevars, (c.cell_contents for c in function.__closure__ or ())))
    return _SURROGATES[factory](*(float(cells[name]) for name in function.__code__.co_freevars))


def _neuron_options(neuron: Any, path: str) -> dict[str, Any]:
    for option in ("inhibition", "state_quant"):
        if getattr(neuron, option, False):
            raise _unsupported(path, neuron, f"sets {option}, which is not supported")
    return {}


def _learns(neuron: Any, name: str) -> bool:
    import torch

    return isinstance(getattr(neuron, name, None), torch.nn.Parameter)


def _convert(module: Any, path: str, spike_grad: SurrogateSpike | None) -> nn.Module:
    import snntorch

    layer = convert_torch_layer(module, lambda why: _unsupported(path, module, why))
    if layer is not None:
        return layer
    if not isinstance(module, snntorch.SpikingNeuron):
        raise _unsupported(path, module, "is not supported")
    _neuron_options(module, path)
    common = dict(
        threshold=to_numpy32(module.threshold),
        spike_grad=_surrogate(module, path, spike_grad),
        learn_threshold=_learns(module, "threshold"),
        reset_mechanism=module.reset_mechanism,
    )
    beta = to_numpy32(module.beta)
    # Order matters: subclasses first (RSynaptic is not an RLeaky, but check specific types explicitly).
    if isinstance(module, snntorch.RSynaptic) or isinstance(module, snntorch.RLeaky):
        if getattr(module, "conv2d_channels", None):
            raise _unsupported(path, module, "has a convolutional recurrence, which is not supported")
        if not module.reset_delay:
            raise _unsupported(path, module, "sets reset_delay=False, which is not supported for recurrent neurons")
        recurrent = dict(
            V=to_numpy32(module.V) if not module.all_to_all else 1.0,
            all_to_all=module.all_to_all,
            linear_features=module.linear_features,
            learn_recurrent=any(p.requires_grad for p in module.recurrent.parameters()),
            learn_beta=_learns(module, "beta"),
        )
        if isinstance(module, snntorch.RSynaptic):
            return nn.RSynaptic(
                to_numpy32(module.alpha), beta, learn_alpha=_learns(module, "alpha"), **recurrent, **common
            )
        return nn.RLeaky(beta, **recurrent, **common)
    if isinstance(module, snntorch.Synaptic):
        return nn.Synaptic(to_numpy32(module.alpha), beta, learn_alpha=_learns(module, "alpha"), learn_beta=_learns(module, "beta"),
                           reset_delay=module.reset_delay, **common)  # fmt: skip
    if isinstance(module, snntorch.Alpha):
        return nn.Alpha(to_numpy32(module.alpha), beta, learn_alpha=_learns(module, "alpha"), learn_beta=_learns(module, "beta"),
                        **common)  # fmt: skip
    if isinstance(module, snntorch.Lapicque):
        # beta and R fix the shapes; load_state_dict then copies C (and everything else) exactly.
        return nn.Lapicque(beta=beta, R=to_numpy32(module.R), time_step=to_numpy32(module.time_step),
                           learn_beta=_learns(module, "beta"), **common)  # fmt: skip
    if isinstance(module, snntorch.Leaky):
        return nn.Leaky(
            beta,
            learn_beta=_learns(module, "beta"),
            graded_spikes_factor=to_numpy32(module.graded_spikes_factor),
            learn_graded_spikes_factor=_learns(module, "graded_spikes_factor"),
            reset_delay=module.reset_delay,
            **common,
        )
    raise _unsupported(path, module, "is not supported")


def from_snntorch(
    module: Any, *, assume_chain: bool = False, spike_grad: SurrogateSpike | None = None
) -> nn.Sequential:
    """Convert an snnTorch network into an ``nn.Sequential`` with the same numerics.

    **Arguments:**

    - ``module``: a ``torch.nn.Sequential`` of supported modules (see
      ``SUPPORTED_MODULES``). A custom ``torch.nn.Module`` is accepted with
      ``assume_chain=True``: its children are then taken, in registration order,
      as a chain (check that its ``forward`` does exactly that).
    - ``spike_grad``: a surrogate to use for every neuron instead of the source's
      (needed when the source's surrogate has no exact counterpart here).

    **Returns:** an ``nn.Sequential``; ``net(x)`` on a time-first ``[T, B, ...]``
    input returns the last neuron's ``(spk, mem)``, as the snnTorch network run
    step by step would. Weights, learned decays/thresholds (as trained
    ``Parameter``s when the source learned them) and reset mechanisms are copied.

    Raises ``UnsupportedModuleError`` (a ``ValueError``) naming the first unsupported
    module or option; nothing is silently dropped.
    """
    import torch

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_snntorch: expected a torch.nn.Module, got {type(module).__name__}.")
    if not isinstance(module, torch.nn.Sequential) and not assume_chain:
        raise UnsupportedModuleError(
            f"from_snntorch: {type(module).__name__} is not a torch.nn.Sequential; its forward may not be a chain. "
            "Wrap its layers in torch.nn.Sequential, or pass assume_chain=True if forward applies its children in order."
        )
    children = list(module.named_children())
    if not children:
        raise UnsupportedModuleError(f"from_snntorch: {type(module).__name__} has no layers.")
    layers = [_convert(child, name, spike_grad) for name, child in children]
    for layer, (name, child) in zip(layers, children, strict=True):
        layer.load_state_dict(child.state_dict())
    return nn.Sequential(*layers)


def to_snntorch(net: nn.Sequential) -> Any:
    """Export an ``nn.Sequential`` to a ``torch.nn.Sequential`` of torch layers and snnTorch neurons.

    Neurons are built with ``init_hidden=True`` (the last with ``output=True``), as
    snnTorch's ``nn.Sequential`` idiom needs: run it step by step, resetting with
    ``snntorch.utils.reset(model)`` before each sequence. The state dict carries
    over under the same names, so outputs match (``from_snntorch`` round-trips).
    """
    import snntorch
    import torch

    if not isinstance(net, nn.Sequential):
        raise TypeError(f"to_snntorch: expected an nn.Sequential, got {type(net).__name__}.")
    layers = list(net)
    neuron_indices = [i for i, layer in enumerate(layers) if getattr(layer, "is_neuron", False)]
    converted = []
    for index, layer in enumerate(layers):
        converted.append(
            _export(layer, index, snntorch, torch, output=bool(neuron_indices) and index == neuron_indices[-1])
        )
    model = torch.nn.Sequential(*converted)
    state = {name: torch.tensor(np.asarray(value)) for name, value in net.state_dict().items()}
    model.load_state_dict(state)
    return model


def _export_surrogate(spike_fn: SurrogateSpike, index: int) -> Any:
    import snntorch.surrogate as s

    from snnax_torchlike.snn import surrogate as core

    kind = type(spike_fn).__name__
    if kind == "_Atan":
        return s.atan(alpha=spike_fn.alpha)
    if kind == "_SuperSpike":
        return s.fast_sigmoid(slope=spike_fn.beta)
    if kind == "_Sigmoid":
        return s.sigmoid(slope=spike_fn.slope)
    if isinstance(spike_fn, type(core.straight_through())):
        return s.straight_through_estimator()
    raise UnsupportedModuleError(
        f"to_snntorch: layer {index} uses the surrogate {spike_fn!r}, which snnTorch does not have."
    )


def _export(layer: nn.Module, index: int, snntorch: Any, torch: Any, *, output: bool) -> Any:
    t = torch.nn
    if isinstance(layer, nn.Linear):
        return t.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
    if isinstance(layer, (nn.Conv1d, nn.Conv2d)):
        kind = t.Conv1d if isinstance(layer, nn.Conv1d) else t.Conv2d
        return kind(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                    layer.dilation, layer.groups, layer.bias is not None)  # fmt: skip
    if isinstance(layer, nn.MaxPool2d):
        return t.MaxPool2d(layer.kernel_size, layer.stride, layer.padding)
    if isinstance(layer, nn.AvgPool2d):
        return t.AvgPool2d(layer.kernel_size, layer.stride, layer.padding, count_include_pad=layer.count_include_pad)
    if isinstance(layer, nn.Flatten):
        return t.Flatten()
    if isinstance(layer, nn.Dropout):
        return t.Dropout(layer.p)
    if isinstance(layer, nn.LayerNorm):
        return t.LayerNorm(layer.normalized_shape, layer.eps, layer.weight is not None, bias=layer.bias is not None)
    if not getattr(layer, "is_neuron", False):
        raise UnsupportedModuleError(
            f"to_snntorch: layer {index} ({type(layer).__name__}) has no snnTorch counterpart."
        )
    common = dict(
        threshold=layer._value("threshold"),
        spike_grad=_export_surrogate(layer.spike_grad, index),
        init_hidden=True,
        output=output,
        learn_threshold=isinstance(layer.threshold, nn.Parameter),
        reset_mechanism=layer.reset_mechanism,
    )
    common["threshold"] = torch.tensor(np.asarray(common["threshold"]))
    beta = torch.tensor(np.asarray(layer._value("beta")))
    learn_beta = isinstance(layer.beta, nn.Parameter)
    if isinstance(layer, nn.RLeaky):
        recurrent = dict(all_to_all=layer.all_to_all, linear_features=layer.recurrent.weight.shape[0] if layer.all_to_all else None,
                         V=torch.tensor(np.asarray(layer._value("V"))) if not layer.all_to_all else 1.0,
                         learn_beta=learn_beta)  # fmt: skip
        if isinstance(layer, nn.RSynaptic):
            return snntorch.RSynaptic(torch.tensor(np.asarray(layer._value("alpha"))), beta, **recurrent, **common)
        return snntorch.RLeaky(beta, **recurrent, **common)
    if isinstance(layer, nn.Synaptic):
        return snntorch.Synaptic(torch.tensor(np.asarray(layer._value("alpha"))), beta, learn_beta=learn_beta,
                                 reset_delay=layer.reset_delay, **common)  # fmt: skip
    if isinstance(layer, nn.Alpha):
        return snntorch.Alpha(
            float(np.asarray(layer._value("alpha"))), float(np.asarray(layer._value("beta"))), **common
        )
    if isinstance(layer, nn.Lapicque):
        return snntorch.Lapicque(R=float(layer._value("R")), C=float(layer._value("C")),
                                 time_step=float(layer._value("time_step")), **common)  # fmt: skip
    return snntorch.Leaky(beta, learn_beta=learn_beta, reset_delay=layer.reset_delay,
                          graded_spikes_factor=torch.tensor(np.asarray(layer._value("graded_spikes_factor"))),
                          **common)  # fmt: skip
