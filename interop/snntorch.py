"""snnTorch models in and out: `from_snntorch` and `to_snntorch`.

Imported networks compute what they computed in snnTorch: same layers, weights,
learned decays and thresholds, reset mechanisms, options and surrogate gradients
(the facade's neurons reproduce snnTorch 1.0's update operation by operation).
What has no exact counterpart raises ``UnsupportedModuleError`` naming the layer;
nothing is dropped. torch and snntorch are imported only when these functions are
called.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from snnax_torchlike import nn, surrogate
from snnax_torchlike.snn import surrogate as core_surrogate
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
    "snntorch.DeltaLeaky",
    "snntorch.SLSTM",
    "snntorch.SConv2dLSTM",
    "snntorch.StateLeaky",
    "snntorch.LinearLeaky",
    "snntorch.LeakyParallel",
)
"""What ``from_snntorch`` converts, inside a ``torch.nn.Sequential``."""

_STEP_NEURONS = (nn.Leaky, nn.Synaptic, nn.RLeaky, nn.Lapicque, nn.Alpha, nn.SLSTM, nn.SConv2dLSTM)
"""Facade neurons called once per time step in snnTorch (``DeltaLeaky`` and ``RSynaptic`` are subclasses)."""
_WHOLE_SEQUENCE = (nn.StateLeaky, nn.LeakyParallel)
"""Facade layers called once on the whole ``[T, B, ...]`` sequence in snnTorch (``LinearLeaky`` included)."""

_RESET_NAMES = ("subtract", "zero", "none")
"""snnTorch's ``reset_mechanism_val`` codes, in order."""
_STATE_FUNCTIONS = {"_base_sub": "subtract", "_base_zero": "zero", "_base_int": "none"}
"""snnTorch's update methods, bound at construction, and the reset each runs."""


def _unsupported(path: str, module: Any, why: str) -> UnsupportedModuleError:
    return unsupported("from_snntorch", path, module, why, SUPPORTED_MODULES)


# -- surrogates ---------------------------------------------------------------------------
_SURROGATES: dict[str, Callable[..., SurrogateSpike]] = {
    "atan": lambda alpha: surrogate.atan(float(alpha)),
    "fast_sigmoid": lambda slope: surrogate.fast_sigmoid(float(slope)),
    "sigmoid": lambda slope: surrogate.sigmoid(float(slope)),
    "straight_through_estimator": surrogate.straight_through_estimator,
    "heaviside": surrogate.heaviside,
    "triangular": lambda threshold: surrogate.triangular(float(threshold)),
    "spike_rate_escape": lambda beta, slope: surrogate.spike_rate_escape(float(beta), float(slope)),
    "SFS": lambda slope, B: surrogate.SFS(float(slope), float(B)),
    "custom_surrogate": lambda func: surrogate.custom_surrogate(func),
}
"""snnTorch's surrogate factories -> the facade's, called with the variables of the closure snnTorch returns."""


def _imported_surrogate(function: Any, path: str, module: Any) -> SurrogateSpike:
    """The facade surrogate equal to ``function``, an ``snntorch.surrogate`` closure."""
    import snntorch

    if isinstance(module, snntorch.LeakyParallel) and function == snntorch.LeakyParallel.ATan.apply:
        return surrogate.atan(2.0)  # LeakyParallel's own default, the same formula
    factory = getattr(function, "__qualname__", "").split(".<locals>")[0]
    if getattr(function, "__module__", None) != "snntorch.surrogate" or factory not in _SURROGATES:
        raise _unsupported(
            path,
            module,
            f"uses the surrogate {getattr(function, '__qualname__', function)!r}, which has no exact counterpart "
            f"(supported: snntorch.surrogate.{{{', '.join(sorted(_SURROGATES))}}}); pass "
            "spike_grad=<a snnax_torchlike.surrogate> to choose one",
        )
    cells = (cell.cell_contents for cell in function.__closure__ or ())
    return _SURROGATES[factory](**dict(zip(function.__code__.co_freevars, cells)))


def _export_surrogate(spike_fn: SurrogateSpike, index: int) -> Any:
    """snnTorch's surrogate equal to the facade's ``spike_fn``."""
    import snntorch.surrogate as s

    exports: list[tuple[SurrogateSpike, Callable[[Any], Any]]] = [
        (surrogate.atan(), lambda f: s.atan(alpha=f.alpha)),
        (surrogate.fast_sigmoid(), lambda f: s.fast_sigmoid(slope=f.beta)),
        (surrogate.sigmoid(), lambda f: s.sigmoid(slope=f.slope)),
        (surrogate.straight_through_estimator(), lambda f: s.straight_through_estimator()),
        (surrogate.heaviside(), lambda f: s.heaviside()),
        (surrogate.triangular(), lambda f: s.triangular(threshold=f.threshold)),
        (surrogate.custom_surrogate(lambda input_, grad, out: grad), lambda f: s.custom_surrogate(f.fn)),
    ]
    for example, export in exports:
        if type(spike_fn) is type(example):
            return export(spike_fn)
    # spike_rate_escape and SFS wrap a core surrogate: match the wrapper and what it wraps.
    escape, sparse = surrogate.spike_rate_escape(), surrogate.SFS()
    if type(spike_fn) is type(escape) and type(spike_fn.base) is type(escape.base) and spike_fn.shift == escape.shift:
        return s.spike_rate_escape(beta=spike_fn.base.beta, slope=spike_fn.base.slope)
    if type(spike_fn) is type(sparse) and type(spike_fn.base) is type(sparse.base):
        return s.SFS(slope=spike_fn.base.beta, B=spike_fn.bound)
    same_name = [n for n in ("triangular", "spike_rate_escape") if type(spike_fn) is type(getattr(core_surrogate, n)())]
    hint = (
        f" (the core's {same_name[0]} is not snnTorch's curve of that name; snnax_torchlike.surrogate.{same_name[0]} "
        "is)"
        if same_name
        else ""
    )
    raise UnsupportedModuleError(
        f"to_snntorch: layer {index} uses the surrogate {spike_fn!r}, which snnTorch does not have{hint}."
    )


# -- import -------------------------------------------------------------------------------
def _learns(module: Any, name: str) -> bool:
    """Whether ``name`` is a trained parameter of ``module`` itself (not a buffer, not a property)."""
    return name in dict(module.named_parameters(recurse=False))


def _spiking(module: Any, path: str, override: SurrogateSpike | None, spikes: bool = True) -> dict[str, Any]:
    """Threshold and spike function options every snnTorch neuron shares; refuses a torch ``state_quant``.

    ``spikes=False`` (a neuron that emits none) leaves the spike function at its default.
    """
    quantiser = getattr(module, "state_quant", False)
    if quantiser is not False and quantiser is not None:
        raise _unsupported(
            path,
            module,
            f"sets state_quant={quantiser!r}, a torch function that cannot run on JAX arrays; build the neuron "
            "here with state_quant=snnax_torchlike.functional.quant.state_quant(...) (snnTorch's arguments) and "
            "load the state_dict into it",
        )
    if not spikes:
        spike = dict(spike_grad=None, surrogate_disable=False)
    elif override is not None:
        spike = dict(spike_grad=override, surrogate_disable=False)
    elif getattr(module, "surrogate_disable", False):
        spike = dict(spike_grad=None, surrogate_disable=True)
    else:
        spike = dict(spike_grad=_imported_surrogate(module.spike_grad, path, module), surrogate_disable=False)
    return dict(threshold=to_numpy32(module.threshold), learn_threshold=_learns(module, "threshold"), **spike)


def _reset_mechanism(module: Any, path: str) -> str:
    """The reset ``module`` runs, or a clear error where its buffer and its bound update disagree."""
    stored = _RESET_NAMES[int(module.reset_mechanism_val)]
    bound = getattr(getattr(module, "state_function", None), "__name__", None)
    running = _STATE_FUNCTIONS.get(bound, stored)
    if running != stored:
        raise _unsupported(
            path,
            module,
            f"runs the reset {running!r} chosen at construction, but its reset_mechanism_val says {stored!r} "
            "(snnTorch 1.0 keeps the construction-time update when reset_mechanism is set or loaded later, except "
            "in its reset_delay=False branch); rebuild it with the reset it should run",
        )
    return stored


def _step_options(module: Any, path: str, override: SurrogateSpike | None) -> dict[str, Any]:
    """The options of neurons called once per step: spiking ones, ``inhibition`` and the reset."""
    return dict(**_spiking(module, path, override), inhibition=bool(module.inhibition),
                reset_mechanism=_reset_mechanism(module, path))  # fmt: skip


def _graded(module: Any) -> dict[str, Any]:
    return dict(graded_spikes_factor=to_numpy32(module.graded_spikes_factor),
                learn_graded_spikes_factor=_learns(module, "graded_spikes_factor"))  # fmt: skip


def _features(layer: nn.Module | None) -> int | None:
    """How many features ``layer`` (an already converted layer) outputs per step, where it says."""
    if isinstance(layer, nn.Linear):
        return layer.out_features
    if isinstance(layer, nn.StateLeaky):
        return layer.channels
    if isinstance(layer, nn.LeakyParallel):
        return layer.hidden_size
    return None


def _state_leaky(module: Any, path: str, override: SurrogateSpike | None, previous: nn.Module | None) -> nn.Module:
    """``StateLeaky`` or ``LinearLeaky``, whose ``state_dict`` holds both the constructor's ``beta`` and ``tau``."""
    import snntorch

    spiking = _spiking(module, path, override, spikes=bool(module.output))
    beta = to_numpy32(module.state_dict()["beta"])
    options = dict(learn_beta=_learns(module, "tau"), output=bool(module.output),
                   kernel_truncation_steps=module.kernel_truncation_steps, **spiking, **_graded(module))  # fmt: skip
    if isinstance(module, snntorch.LinearLeaky):
        linear = module.linear
        return nn.LinearLeaky(beta, linear.in_features, linear.out_features, bias=linear.bias is not None, **options)
    channels = beta.shape[0] if beta.ndim == 1 and beta.shape[0] > 1 else _features(previous)
    if channels is None:
        raise _unsupported(
            path,
            module,
            f"has a beta of shape {tuple(beta.shape)}, so its number of channels is not stored (snnTorch reads it "
            "from the input); give it a per-channel beta, or put it after a torch.nn.Linear",
        )
    return nn.StateLeaky(beta, channels, **options)


def _leaky_parallel(module: Any, path: str, override: SurrogateSpike | None) -> nn.LeakyParallel:
    """``LeakyParallel``: its ``nn.RNN`` weights and, when ``beta`` is learnt, whether the gradient is diagonal."""
    import snntorch

    rnn, spiking = module.rnn, _spiking(module, path, override)
    weight_hh = rnn.weight_hh_l0
    learn_beta = bool(weight_hh.requires_grad)
    hooks = (getattr(hook, "__func__", None) for hook in (weight_hh._backward_hooks or {}).values())
    diagonal = any(hook is snntorch.LeakyParallel.grad_hook for hook in hooks)
    beta = None if module.beta is None else to_numpy32(module.beta)
    with warnings.catch_warnings():  # a vector beta's note on the initial weights: the source's are loaded
        warnings.filterwarnings("ignore", message=r".*does not initialise rnn\.weight_hh_l0")
        return nn.LeakyParallel(rnn.input_size, rnn.hidden_size, beta=beta, bias=rnn.bias, dropout=rnn.dropout,
                                learn_beta=learn_beta, weight_hh_enable=learn_beta and not diagonal, **spiking,
                                **_graded(module))  # fmt: skip


def _recurrent(module: Any, path: str, override: SurrogateSpike | None) -> nn.RLeaky:
    """``RLeaky``/``RSynaptic`` with a linear, convolutional or one-to-one recurrence."""
    import snntorch

    learn_recurrent = any(p.requires_grad for p in module.recurrent.parameters())
    if module.all_to_all:
        recurrence = dict(linear_features=module.linear_features, conv2d_channels=module.conv2d_channels,
                          kernel_size=module.kernel_size)  # fmt: skip
    else:
        recurrence = dict(V=to_numpy32(module.V), all_to_all=False)
    options = dict(learn_beta=_learns(module, "beta"), learn_recurrent=learn_recurrent, reset_delay=module.reset_delay,
                   **recurrence, **_step_options(module, path, override))  # fmt: skip
    beta = to_numpy32(module.beta)
    if isinstance(module, snntorch.RSynaptic):
        return nn.RSynaptic(to_numpy32(module.alpha), beta, learn_alpha=_learns(module, "alpha"), **options)
    return nn.RLeaky(beta, **options)


def _neuron(module: Any, path: str, override: SurrogateSpike | None, previous: nn.Module | None) -> nn.Module:
    """The facade layer of an snnTorch neuron (or a clear error)."""
    import snntorch

    if isinstance(module, snntorch.LeakyParallel):
        return _leaky_parallel(module, path, override)
    if not isinstance(module, snntorch.SpikingNeuron):
        raise _unsupported(path, module, "is not supported")
    if isinstance(module, snntorch.StateLeaky):  # LinearLeaky included
        return _state_leaky(module, path, override, previous)
    if isinstance(module, (snntorch.RLeaky, snntorch.RSynaptic)):
        return _recurrent(module, path, override)
    if isinstance(module, snntorch.SLSTM):
        return nn.SLSTM(module.input_size, module.hidden_size, bias=module.bias,
                        **_step_options(module, path, override))  # fmt: skip
    if isinstance(module, snntorch.SConv2dLSTM):
        return nn.SConv2dLSTM(module.in_channels, module.out_channels, module.kernel_size, bias=module.bias,
                              max_pool=module.max_pool, avg_pool=module.avg_pool,
                              **_step_options(module, path, override))  # fmt: skip
    if not isinstance(module, (snntorch.Synaptic, snntorch.Alpha, snntorch.Lapicque, snntorch.Leaky)):
        raise _unsupported(path, module, "is not supported")
    beta = dict(beta=to_numpy32(module.beta), learn_beta=_learns(module, "beta"))
    if isinstance(module, snntorch.Synaptic):
        return nn.Synaptic(to_numpy32(module.alpha), learn_alpha=_learns(module, "alpha"),
                           reset_delay=module.reset_delay, **beta, **_step_options(module, path, override))  # fmt: skip
    if isinstance(module, snntorch.Alpha):
        return nn.Alpha(to_numpy32(module.alpha), learn_alpha=_learns(module, "alpha"), **beta,
                        **_step_options(module, path, override))  # fmt: skip
    if isinstance(module, snntorch.Lapicque):
        # beta and R fix the shapes; load_state_dict then copies C (and everything else) exactly.
        return nn.Lapicque(R=to_numpy32(module.R), time_step=to_numpy32(module.time_step), **beta,
                           **_step_options(module, path, override))  # fmt: skip
    leaky = dict(reset_delay=module.reset_delay, **beta, **_graded(module), **_step_options(module, path, override))
    if isinstance(module, snntorch.DeltaLeaky):
        return nn.DeltaLeaky(delta_threshold=module.delta_threshold, **leaky)
    return nn.Leaky(**leaky)


def _convert(module: Any, path: str, spike_grad: SurrogateSpike | None, previous: nn.Module | None) -> nn.Module:
    layer = convert_torch_layer(module, lambda why: _unsupported(path, module, why))
    if layer is not None:
        return layer
    try:
        return _neuron(module, path, spike_grad, previous)
    except UnsupportedModuleError:
        raise
    except (ValueError, TypeError) as error:  # a facade constructor refusing an option, with its reason
        raise _unsupported(path, module, f"cannot be converted: {error}") from error


def _check_one_calling_convention(importer: str, names: list[str], layers: list[nn.Module]) -> None:
    """Refuse a chain that mixes per-step neurons with whole-sequence layers: snnTorch runs it in neither way."""
    step = [name for name, layer in zip(names, layers) if isinstance(layer, _STEP_NEURONS)]
    whole = [name for name, layer in zip(names, layers) if isinstance(layer, _WHOLE_SEQUENCE)]
    if step and whole:
        raise UnsupportedModuleError(
            f"{importer}: layers {step} run one time step per call (Leaky, Synaptic, RLeaky, SLSTM, ...) and layers "
            f"{whole} the whole [T, B, ...] sequence (StateLeaky, LinearLeaky, LeakyParallel); a torch.nn.Sequential "
            "of both cannot be run either way in snnTorch, so it has no numerics to reproduce. Convert the two "
            "parts separately."
        )


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
      (needed when the source's surrogate has no exact counterpart here; it also
      replaces ``surrogate_disable=True``).

    **Returns:** an ``nn.Sequential``; ``net(x)`` on a time-first ``[T, B, ...]``
    input returns the last neuron's ``(spk, mem)``, as the snnTorch network run
    step by step would (a network of ``StateLeaky``, ``LinearLeaky`` and
    ``LeakyParallel`` layers: as the snnTorch network called once on ``x``).
    Weights, learned decays/thresholds (as trained ``Parameter``s when the source
    learned them), reset mechanisms, ``reset_delay``, ``inhibition``, graded
    spikes, the recurrence (linear, convolutional or one-to-one) and the surrogate
    (``atan``, ``fast_sigmoid``, ``sigmoid``, ``straight_through_estimator``,
    ``heaviside``, ``triangular``, ``spike_rate_escape``, ``SFS``,
    ``custom_surrogate``, or ``surrogate_disable``) are copied.

    Raises ``UnsupportedModuleError`` (a ``ValueError``) naming the first unsupported
    module or option (a torch ``state_quant``, another surrogate, an option the
    facade neuron refuses, a chain mixing per-step and whole-sequence neurons);
    nothing is silently dropped.
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
    layers: list[nn.Module] = []
    for name, child in children:
        layers.append(_convert(child, name, spike_grad, layers[-1] if layers else None))
    _check_one_calling_convention("from_snntorch", [name for name, _ in children], layers)
    for layer, (_, child) in zip(layers, children, strict=True):
        layer.load_state_dict(child.state_dict())
    return nn.Sequential(*layers)


# -- export -------------------------------------------------------------------------------
def to_snntorch(net: nn.Sequential) -> Any:
    """Export an ``nn.Sequential`` to a ``torch.nn.Sequential`` of torch layers and snnTorch neurons.

    Neurons called once per step are built with ``init_hidden=True`` (the last with
    ``output=True``), as snnTorch's ``nn.Sequential`` idiom needs: run it step by
    step, resetting with ``snntorch.utils.reset(model)`` before each sequence. A
    network of whole-sequence layers (``StateLeaky``, ``LinearLeaky``,
    ``LeakyParallel``) is called once on the ``[T, B, ...]`` sequence instead. The
    state dict carries over under the same names, and every option (``inhibition``,
    ``reset_delay``, the recurrence, learn flags, the surrogate) is passed on, so
    outputs match (``from_snntorch`` round-trips).

    Raises ``UnsupportedModuleError`` naming the layer for what snnTorch cannot run:
    ``state_quant`` (a JAX function), a surrogate snnTorch lacks, a layer without a
    snnTorch counterpart, a layer returning a tuple (``DeltaLeaky``, ``StateLeaky``
    with ``output=True``) before the last, a chain mixing per-step and
    whole-sequence neurons.
    """
    import snntorch
    import torch

    if not isinstance(net, nn.Sequential):
        raise TypeError(f"to_snntorch: expected an nn.Sequential, got {type(net).__name__}.")
    layers = list(net)
    _check_one_calling_convention("to_snntorch", [str(i) for i in range(len(layers))], layers)
    steps = [i for i, layer in enumerate(layers) if isinstance(layer, _STEP_NEURONS)]
    converted = []
    for index, layer in enumerate(layers):
        returns_tuple = isinstance(layer, nn.DeltaLeaky) or (isinstance(layer, nn.StateLeaky) and layer.output)
        if returns_tuple and index != len(layers) - 1:
            raise UnsupportedModuleError(
                f"to_snntorch: layer {index} ({type(layer).__name__}) returns a tuple in snnTorch, which "
                "torch.nn.Sequential would hand to the next layer; it can only be the last layer."
            )
        converted.append(_export(layer, index, snntorch, torch, output=bool(steps) and index == steps[-1]))
    model = torch.nn.Sequential(*converted)
    state = {name: torch.tensor(np.asarray(value)) for name, value in net.state_dict().items()}
    model.load_state_dict(state)
    return model


def _export_torch_layer(layer: nn.Module, torch: Any) -> Any:
    """The torch layer of a plain facade layer, or None."""
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
    return None


def _learned(layer: nn.Module, name: str) -> bool:
    """Whether ``name`` is a trained ``Parameter`` of the facade ``layer`` itself."""
    return name in dict(layer.named_parameters(recurse=False))


def _exported_spiking(layer: nn.Module, index: int, torch: Any) -> dict[str, Any]:
    """snnTorch's threshold and spike-function arguments for a facade neuron; refuses ``state_quant``."""
    if getattr(layer, "state_quant", None) is not None:
        raise UnsupportedModuleError(
            f"to_snntorch: layer {index} ({type(layer).__name__}) sets state_quant={layer.state_quant!r}, a JAX "
            "function snnTorch (torch) cannot run; export it without state_quant and pass snnTorch's "
            "snntorch.functional.quant.state_quant(...) to the exported neuron yourself."
        )
    if layer.surrogate_disable:
        spike: dict[str, Any] = dict(surrogate_disable=True)
    elif isinstance(layer, nn.StateLeaky) and not layer.output:
        spike = {}  # no spikes, so no surrogate to pass
    else:
        spike = dict(spike_grad=_export_surrogate(layer.spike_grad, index))
    threshold = torch.tensor(layer.state_dict()["threshold"])
    return dict(threshold=threshold, learn_threshold=_learned(layer, "threshold"), **spike)


def _export(layer: nn.Module, index: int, snntorch: Any, torch: Any, *, output: bool) -> Any:
    plain = _export_torch_layer(layer, torch)
    if plain is not None:
        return plain

    own = layer.state_dict()

    def tensor(name: str) -> Any:
        return torch.tensor(np.asarray(own[name]))

    if isinstance(layer, nn.LeakyParallel):
        learn_beta = bool(layer.rnn.weight_hh_l0.requires_grad)
        exported = snntorch.LeakyParallel(
            layer.input_size, layer.hidden_size, beta=None, bias=layer.rnn.bias_ih_l0 is not None,
            learn_beta=learn_beta, weight_hh_enable=learn_beta and not layer.rnn.diagonal_gradient,
            graded_spikes_factor=tensor("graded_spikes_factor"),
            learn_graded_spikes_factor=_learned(layer, "graded_spikes_factor"),
            **_exported_spiking(layer, index, torch),
        )  # fmt: skip
        if "beta" in own:  # after construction: snnTorch 1.0 ignores a vector beta there
            exported.beta = tensor("beta")
        return exported
    if not isinstance(layer, (*_STEP_NEURONS, *_WHOLE_SEQUENCE)):
        raise UnsupportedModuleError(
            f"to_snntorch: layer {index} ({type(layer).__name__}) has no snnTorch counterpart."
        )
    spiking = _exported_spiking(layer, index, torch)
    beta = dict(beta=tensor("beta"), learn_beta=_learned(layer, "beta")) if "beta" in own else {}
    graded = dict(graded_spikes_factor=tensor("graded_spikes_factor"),
                  learn_graded_spikes_factor=_learned(layer, "graded_spikes_factor"))  # fmt: skip
    if isinstance(layer, nn.StateLeaky):
        options = dict(learn_beta=_learned(layer, "tau"), output=layer.output,
                       kernel_truncation_steps=layer.kernel_truncation_steps, **spiking, **graded)  # fmt: skip
        if isinstance(layer, nn.LinearLeaky):
            linear = layer.linear
            return snntorch.LinearLeaky(tensor("beta"), linear.in_features, linear.out_features,
                                        bias=linear.bias is not None, **options)  # fmt: skip
        return snntorch.StateLeaky(tensor("beta"), layer.channels, **options)
    step = dict(init_hidden=True, output=output, inhibition=layer.inhibition, reset_mechanism=layer.reset_mechanism,
                **spiking)  # fmt: skip
    if isinstance(layer, nn.RLeaky):  # RSynaptic included
        learn_recurrent = any(p.requires_grad for p in layer.recurrent.parameters())
        if not layer.all_to_all:
            recurrence = dict(all_to_all=False, V=tensor("V"))
        elif isinstance(layer.recurrent, nn.Conv2d):
            recurrence = dict(conv2d_channels=layer.recurrent.in_channels, kernel_size=layer.recurrent.kernel_size)
        else:
            recurrence = dict(linear_features=layer.recurrent.in_features)
        recurrent = dict(learn_recurrent=learn_recurrent, reset_delay=layer.reset_delay, **recurrence, **beta, **step)
        if isinstance(layer, nn.RSynaptic):
            return snntorch.RSynaptic(tensor("alpha"), learn_alpha=_learned(layer, "alpha"), **recurrent)
        return snntorch.RLeaky(**recurrent)
    if isinstance(layer, nn.SLSTM):
        return snntorch.SLSTM(layer.input_size, layer.hidden_size, bias=layer.bias, **step)
    if isinstance(layer, nn.SConv2dLSTM):
        return snntorch.SConv2dLSTM(layer.in_channels, layer.out_channels, layer.kernel_size, bias=layer.bias,
                                    max_pool=layer.max_pool, avg_pool=layer.avg_pool, **step)  # fmt: skip
    if isinstance(layer, nn.Synaptic):
        return snntorch.Synaptic(tensor("alpha"), learn_alpha=_learned(layer, "alpha"), reset_delay=layer.reset_delay,
                                 **beta, **step)  # fmt: skip
    if isinstance(layer, nn.Alpha):
        if _learned(layer, "alpha"):
            raise UnsupportedModuleError(
                f"to_snntorch: layer {index} (Alpha) learns alpha, which snnTorch 1.0's Alpha cannot (its "
                "constructor fails with learn_alpha=True)."
            )
        return snntorch.Alpha(tensor("alpha"), **beta, **step)
    if isinstance(layer, nn.Lapicque):
        return snntorch.Lapicque(R=float(layer._value("R")), C=float(layer._value("C")),
                                 time_step=float(layer._value("time_step")), **step)  # fmt: skip
    leaky = dict(reset_delay=layer.reset_delay, **beta, **graded, **step)
    if isinstance(layer, nn.DeltaLeaky):
        return snntorch.DeltaLeaky(delta_threshold=layer.delta_threshold, **leaky)
    return snntorch.Leaky(**leaky)
