"""What the torch-side importers (snnTorch, Norse) share: the error type and the torch.nn layer conversions.

torch is imported only inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from snnax_torchlike import nn

TORCH_LAYERS = (
    "torch.nn.Linear",
    "torch.nn.Conv1d",
    "torch.nn.Conv2d",
    "torch.nn.MaxPool2d",
    "torch.nn.AvgPool2d",
    "torch.nn.Flatten",
    "torch.nn.Dropout",
    "torch.nn.LayerNorm",
)
"""The plain torch layers every importer converts (with the options ``convert_torch_layer`` accepts)."""


class UnsupportedModuleError(ValueError):
    """A torch/snnTorch/Norse module or option that cannot be converted faithfully."""


def unsupported(importer: str, path: str, module: Any, why: str, supported: Sequence[str]) -> UnsupportedModuleError:
    """The importer's error for ``module`` at ``path``: what is wrong and what is supported.

    **Arguments:** ``importer``: the function's name (``"from_snntorch"``); ``path``:
    the module's name in its parent (``"1"``); ``why``: the reason, as a clause
    ("is not supported"); ``supported``: the names listed after it.
    """
    return UnsupportedModuleError(
        f"{importer}: {path} ({type(module).__module__}.{type(module).__name__}) {why}. "
        f"Supported: {', '.join(supported)}."
    )


def to_numpy32(tensor: Any) -> np.ndarray:
    """A float32 numpy copy of a torch tensor (or of a number)."""
    if hasattr(tensor, "detach"):
        tensor = tensor.detach().cpu().numpy()
    return np.asarray(tensor, dtype=np.float32)


def convert_torch_layer(module: Any, refuse: Callable[[str], Exception]) -> nn.Module | None:
    """The facade layer for a plain torch layer, or None if ``module`` is none of ``TORCH_LAYERS``.

    **Arguments:** ``module``: a ``torch.nn.Module``; ``refuse(why)``: builds the
    error raised for an option that has no exact counterpart.

    **Returns:** a freshly initialised layer of the same shape; copy the weights
    with ``layer.load_state_dict(module.state_dict())``.
    """
    import torch

    t = torch.nn
    if isinstance(module, t.Linear):
        return nn.Linear(module.in_features, module.out_features, bias=module.bias is not None)
    if isinstance(module, (t.Conv1d, t.Conv2d)):
        if module.padding_mode != "zeros":
            raise refuse(f"uses padding_mode={module.padding_mode!r}; only 'zeros' is supported")
        layer = nn.Conv1d if isinstance(module, t.Conv1d) else nn.Conv2d
        return layer(module.in_channels, module.out_channels, module.kernel_size, module.stride, module.padding,
                     module.dilation, module.groups, module.bias is not None)  # fmt: skip
    if isinstance(module, t.MaxPool2d):
        if module.dilation not in (1, (1, 1)) or module.ceil_mode or module.return_indices:
            raise refuse("uses dilation, ceil_mode or return_indices, which are not supported")
        return nn.MaxPool2d(module.kernel_size, module.stride, module.padding)
    if isinstance(module, t.AvgPool2d):
        if module.ceil_mode or module.divisor_override is not None:
            raise refuse("uses ceil_mode or divisor_override, which are not supported")
        return nn.AvgPool2d(module.kernel_size, module.stride, module.padding, module.count_include_pad)
    if isinstance(module, t.Flatten):
        if (module.start_dim, module.end_dim) != (1, -1):
            raise refuse("flattens other axes than 1..-1")
        return nn.Flatten()
    if isinstance(module, t.Dropout):
        return nn.Dropout(module.p)
    if isinstance(module, t.LayerNorm):
        return nn.LayerNorm(module.normalized_shape, module.eps, module.elementwise_affine, module.bias is not None)
    return None
