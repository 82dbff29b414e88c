"""Norse models in: `from_norse`.

Imported networks compute what they computed in Norse 1.1.0: same layers and
weights, the neuron parameters and ``dt`` read from the live modules (Norse keeps
them in ``module.p``, outside ``state_dict``), Norse's forward-Euler step (the
input jumps into the current first) and its surrogate gradients. torch and norse
are imported only when ``from_norse`` is called.
"""

from __future__ import annotations

import inspect
from typing import Any

from snnax_torchlike import nn
from snnax_torchlike.nn.module import to_array
from snnax_torchlike.nn.norse_cells import norse_surrogate, super_uses_alpha

from ._torch_layers import TORCH_LAYERS, UnsupportedModuleError, convert_torch_layer, to_numpy32, unsupported

__all__ = ["from_norse", "SUPPORTED_NORSE_MODULES"]

SUPPORTED_NORSE_MODULES = TORCH_LAYERS + (
    "norse.torch.LIFCell",
    "norse.torch.LIFBoxCell",
    "norse.torch.LICell",
    "norse.torch.LIBoxCell",
    "norse.torch.IAFCell",
    "norse.torch.LIFRecurrentCell",
    "norse.torch.LIFAdExCell",
    "norse.torch.LIF",
    "norse.torch.LI",
    "norse.torch.IAF",
    "norse.torch.LIFAdEx",
    "norse.torch.LIFRecurrent",
    "norse.torch.Lift(<one of these>)",
    "a torch.nn.Module holding one of these neurons and only parameters shared with its p (Norse's trainable pattern)",
)
"""What ``from_norse`` converts, inside a ``SequentialState``/``torch.nn.Sequential`` or alone."""


def _refuse(path: str, module: Any, why: str) -> UnsupportedModuleError:
    return unsupported("from_norse", path, module, why, SUPPORTED_NORSE_MODULES)


def _neuron_classes() -> dict[str, tuple[type, ...]]:
    """Norse's neuron modules by the facade cell they become: (per-step cell, time-looped module)."""
    import norse.torch as nt

    return {
        "LIFCell": (nt.LIFCell, nt.LIF),
        "LIFBoxCell": (nt.LIFBoxCell,),
        "LICell": (nt.LICell, nt.LI),
        "LIBoxCell": (nt.LIBoxCell,),
        "IAFCell": (nt.IAFCell, nt.IAF),
        "LIFRecurrentCell": (nt.LIFRecurrentCell, nt.LIFRecurrent),
        "LIFAdExCell": (nt.LIFAdExCell, nt.LIFAdEx),
    }


def _source_super_uses_alpha() -> bool:
    """Whether the Norse the imported modules come from uses alpha in its "super" backward.

    Measured on that Norse's threshold function with torch autograd rather than read
    from its version string, so a development build is judged by what it computes.
    """
    import torch
    from norse.torch.functional.threshold import threshold

    x = torch.tensor([0.5], requires_grad=True)
    threshold(x, "super", torch.as_tensor(100.0)).sum().backward()
    # 1.1.0: 1 / (0.5 + 1)^2 = 0.444; with alpha (PR #403): 1 / (50 + 1)^2 = 3.8e-4.
    return float(x.grad[0]) < 0.1


def _is_parameter(value: Any) -> bool:
    import torch

    return isinstance(value, torch.nn.Parameter)


def _convert_neuron(kind: str, module: Any, path: str, super_alpha: bool) -> nn.Module:
    """The facade cell ``kind`` with the parameters of the live Norse ``module`` (``module.p``, ``module.dt``)."""
    import torch

    p, dt = module.p, float(module.dt)
    cell_type = getattr(nn, kind)
    fields = list(cell_type.parameter_names)
    missing = [f for f in fields if not hasattr(p, f)]
    if missing:
        raise _refuse(path, module, f"has parameters p without the fields {missing}")
    values = {f: to_numpy32(getattr(p, f)) for f in fields}
    learn = [f for f in fields if _is_parameter(getattr(p, f))]
    options: dict[str, Any] = {}
    if kind not in ("LICell", "LIBoxCell"):
        method = getattr(p, "method", "super")
        if method == "adjoint":
            raise _refuse(path, module, "uses method='adjoint' (Norse's event-based adjoint), which is not supported")
        try:
            options["spike_grad"] = norse_surrogate(method, to_numpy32(p.alpha), super_alpha=super_alpha)
        except ValueError as error:
            raise _refuse(path, module, f"has a threshold that cannot be converted ({error})") from None
        options.update(method=method, alpha=to_numpy32(p.alpha))
    if kind == "LIFBoxCell":
        from norse.torch.functional import reset

        known = {reset.reset_value: "value", reset.reset_subtract: "subtract"}
        if p.reset_method not in known:
            raise _refuse(path, module, f"uses reset_method={p.reset_method!r}; only reset_value and reset_subtract")
        options["reset_method"] = known[p.reset_method]
    if kind == "LIFRecurrentCell":
        layer = nn.LIFRecurrentCell(
            int(module.input_size), int(module.hidden_size), autapses=bool(module.autapses), dt=dt, learn=learn,
            **values, **options,
        )  # fmt: skip
        for name in ("input_weights", "recurrent_weights"):
            weight = getattr(module, name)
            getattr(layer, name).data = to_array(to_numpy32(weight))
            getattr(layer, name).requires_grad = bool(isinstance(weight, torch.Tensor) and weight.requires_grad)
        return layer
    return cell_type(dt=dt, learn=learn, **values, **options)


def _wrapped_neuron(module: Any, classes: dict[str, tuple[type, ...]]) -> tuple[str, Any] | None:
    """``(child name, neuron)`` if ``module`` is Norse's trainable-parameter wrapper of one neuron, else None."""
    children = list(module.named_children())
    # SequentialState passes the state only to modules whose forward has a `state` argument.
    if len(children) != 1 or "state" not in inspect.signature(module.forward).parameters:
        return None
    name, child = children[0]
    if not any(isinstance(child, group) for group in classes.values()):
        return None
    return name, child


def _kind(module: Any, classes: dict[str, tuple[type, ...]]) -> str | None:
    for kind, group in classes.items():
        if isinstance(module, group):
            return kind
    return None


def _is_sequence_module(module: Any) -> bool:
    """Whether a Norse module runs over a whole time-first sequence (``SNN``, ``SNNRecurrent``, ``Lift``)."""
    from norse.torch.module.lift import Lift
    from norse.torch.module.snn import SNN, SNNRecurrent

    return isinstance(module, (SNN, SNNRecurrent, Lift))


def _convert(
    module: Any, path: str, super_alpha: bool, classes: dict[str, tuple[type, ...]], sequence_mode: bool
) -> nn.Module:
    """One element of the chain as a facade layer, weights copied."""
    import torch
    from norse.torch.module.lift import Lift

    if isinstance(module, Lift):
        inner = module.lifted_module
        if isinstance(inner, Lift) or _is_sequence_module(inner):
            raise _refuse(path, module, "lifts a module that already runs over time")
        return _convert(inner, f"{path}.lifted_module", super_alpha, classes, sequence_mode=False)
    kind = _kind(module, classes)
    if kind is not None:
        return _convert_neuron(kind, module, path, super_alpha)
    t = torch.nn
    if sequence_mode and isinstance(module, (t.Conv1d, t.Conv2d, t.MaxPool2d, t.AvgPool2d)):
        raise _refuse(path, module, "takes one time step, but this chain runs over whole sequences; wrap it in "
                      "norse.torch.Lift(...)")  # fmt: skip
    if sequence_mode and isinstance(module, t.Flatten):
        if (module.start_dim, module.end_dim) != (2, -1):
            raise _refuse(path, module, "flattens other axes than 2..-1 of a time-first [T, B, ...] sequence; wrap "
                          "torch.nn.Flatten() in norse.torch.Lift(...)")  # fmt: skip
        return nn.Flatten()
    layer = convert_torch_layer(module, lambda why: _refuse(path, module, why))
    if layer is not None:
        layer.load_state_dict(module.state_dict())
        return layer
    wrapped = _wrapped_neuron(module, classes)
    if wrapped is None:
        if isinstance(module, t.Sequential):
            raise _refuse(path, module, "is a nested container; put its layers in the outer chain")
        raise _refuse(path, module, "is not supported")
    name, neuron = wrapped
    shared = {id(getattr(neuron.p, f)) for f in getattr(neuron.p, "_fields", ())}
    foreign = [n for n, prm in module.named_parameters(recurse=False) if id(prm) not in shared]
    foreign += [n for n, _ in module.named_buffers(recurse=False)]
    if foreign:
        raise _refuse(path, module, f"wraps {type(neuron).__name__} but also holds {foreign}, which are not its "
                      "neuron's parameters; its forward may use them in ways that cannot be imported")  # fmt: skip
    return _convert(neuron, f"{path}.{name}", super_alpha, classes, sequence_mode)


def from_norse(module: Any, *, norse_version: str | None = None) -> nn.Sequential:
    """Convert a Norse network into an ``nn.Sequential`` with the same numerics.

    **Arguments:**

    - ``module``: a ``norse.torch.SequentialState`` or ``torch.nn.Sequential`` of
      supported modules (see ``SUPPORTED_NORSE_MODULES``), or one supported neuron.
      The chain is either per-step (cells such as ``LIFCell``, run by Norse as
      ``for t: out, s = model(x[t], s)``) or time-looped (``LIF``, ``LI``,
      ``Lift(...)``, run as ``out, s = model(x)``); both become the same network.
    - ``norse_version``: the Norse version whose ``"super"`` surrogate to
      reproduce (1.1.0 ignores ``alpha`` in the backward pass, later versions use
      it). None: the Norse that ``module`` comes from decides, since the network
      being imported was trained with its surrogate; its threshold function is
      probed once per call. The cells built directly (``nn.LIFCell(...)``)
      reproduce 1.1.0 whichever Norse is installed.

    **Returns:** an ``nn.Sequential``. ``net(x)`` on a time-first ``[T, B, ...]``
    input returns the last neuron's ``(spikes, v)`` (a spiking last layer) or the
    last layer's output (e.g. ``LICell``'s membrane), as Norse computes them step
    by step. Weights are copied; neuron parameters (taus, ``v_th``, ``v_leak``,
    ``v_reset``, per-neuron tensors), ``dt``, ``method`` and ``alpha`` are read from
    each module's ``p`` and ``dt``; parameters that are ``torch.nn.Parameter``s in
    Norse become trained ``Parameter``s. The network takes the source's
    training/eval mode.

    Raises ``UnsupportedModuleError`` (a ``ValueError``) naming the first
    unsupported module or option; nothing is silently dropped.
    """
    import torch

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_norse: expected a torch.nn.Module, got {type(module).__name__}.")
    classes = _neuron_classes()
    if isinstance(module, torch.nn.Sequential):
        if getattr(module, "return_hidden", False):
            raise UnsupportedModuleError(
                "from_norse: the SequentialState has return_hidden=True (it returns every layer's output); "
                "import it with return_hidden=False."
            )
        children = list(module.named_children())
        if not children:
            raise UnsupportedModuleError(f"from_norse: {type(module).__name__} has no layers.")
    else:
        children = [("module", module)]
    super_alpha = _source_super_uses_alpha() if norse_version is None else super_uses_alpha(norse_version)
    modes = {}
    for name, child in children:
        wrapped = _wrapped_neuron(child, classes)
        target = wrapped[1] if wrapped is not None else child
        if _kind(target, classes) is not None or _is_sequence_module(target):
            modes[name] = "sequence" if _is_sequence_module(target) else "step"
    if len(set(modes.values())) > 1:
        steps = [n for n, m in modes.items() if m == "step"]
        sequences = [n for n, m in modes.items() if m == "sequence"]
        raise UnsupportedModuleError(
            f"from_norse: the chain mixes per-step cells (layers {steps}) with modules that run over whole "
            f"sequences (layers {sequences}); use cells throughout (run as out, s = model(x[t], s)) or "
            "time-looped modules and Lift throughout."
        )
    sequence_mode = "sequence" in modes.values()
    layers = [_convert(child, name, super_alpha, classes, sequence_mode) for name, child in children]
    net = nn.Sequential(*layers)
    net.train(module.training)
    return net
