"""``snntorch.export_nir``: ``export_to_nir`` with snnTorch's signature and node layout.

A thin adapter over `snnax_torchlike.interop.to_nir` with
``snntorch_resets=True`` (every reset written as a reset to 0, recurrent neurons
as ``<name>.lif``/``<name>.w_rec`` nodes, ``dt = 1e-4``), which is what snnTorch's
exporter writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from snnax_torchlike import nn
from snnax_torchlike.interop import UnsupportedNodeError, from_snntorch, to_nir

__all__ = ["export_to_nir"]


def _network(module: Any, model_name: str) -> nn.Module:
    """``module`` as an ``nn.Sequential``/``nn.Graph`` that ``to_nir`` describes."""
    if isinstance(module, (nn.Sequential, nn.Graph)):
        return module
    if isinstance(module, nn.Module):
        if not isinstance(module, nn.FacadeLayer):
            raise TypeError(
                f"export_to_nir: {type(module).__name__} is a network whose forward is Python code, which is not "
                "traced here; export an nn.Sequential or nn.Graph of its layers."
            )
        return nn.Graph({model_name: module}, [("input", model_name), (model_name, "output")])
    if not hasattr(module, "named_children"):
        raise TypeError(
            "export_to_nir: expected an nn.Sequential, nn.Graph or facade layer, or a torch.nn.Sequential of torch "
            f"layers and snnTorch neurons; got {type(module).__name__}."
        )
    return from_snntorch(module)


def export_to_nir(
    module: Any,
    sample_data: Any,
    model_name: str = "snntorch",
    model_fwd_args: Sequence[Any] = (),
    ignore_dims: Sequence[int] = (),
) -> Any:
    """Describe a network as a ``nir.NIRGraph``, as snnTorch's ``export_to_nir`` does.

    **Arguments:**

    - ``module``: an ``nn.Sequential`` or ``nn.Graph`` (nodes ``"0"``, ``"1"``, ...
      for a chain, plus ``"input"`` and ``"output"``), a single facade layer, or a
      ``torch.nn.Sequential`` of torch layers and real snnTorch neurons (converted
      with `snnax_torchlike.interop.from_snntorch`).
    - ``sample_data``: an input batch; only its shape is read. The graph's input type
      is that shape without the axes in ``ignore_dims``; a shape the network cannot
      take raises a ``ValueError`` that names ``sample_data``'s shape and the layer.
    - ``model_name``: the node name of a ``module`` that is a single layer (snnTorch
      passes it on as the name of a module without children); containers name
      their nodes by position.
    - ``model_fwd_args``: must be empty. snnTorch passes them to ``forward`` while
      tracing; the graph is read from the layers here, so they could not be honoured.
    - ``ignore_dims``: axes of ``sample_data`` that are not part of one sample;
      pass ``[0]`` for ``[B, ...]`` data, as snnTorch's examples do.

    Neurons are written with snnTorch's convention (``dt = 1e-4``): ``Leaky`` ->
    ``LIF(tau = dt/(1-beta), r = tau/dt, v_leak = 0, v_threshold, v_reset = 0)``,
    ``Synaptic`` -> ``CubaLIF`` (``w_in = tau_syn/dt``), ``RLeaky``/``RSynaptic`` ->
    ``"<i>.lif"`` in a cycle with ``"<i>.w_rec"`` (``Affine`` all-to-all,
    ``Linear(diag(V))`` one-to-one; a scalar ``V`` is broadcast to the layer's size,
    where snnTorch raises). As in snnTorch the reset mechanism and ``reset_delay``
    are not encoded (a ``UserWarning`` names the neurons whose dynamics change).
    Differs from snnTorch: other layers are written as ``interop.to_nir`` writes
    them (``Conv1d``/``Conv2d`` with their input shape, ``AvgPool2d`` with its
    padding, which snnTorch drops, ``Flatten``, ``Scale``, ...); a layer without a
    NIR node, and ``DeltaLeaky`` (which snnTorch writes as a ``LIF``), raise
    ``UnsupportedNodeError`` naming it, where snnTorch prints a warning and writes
    no node; so do neurons with ``inhibition=True`` or a ``state_quant``, which
    snnTorch writes as plain neurons; the metadata records ``dt`` and the convention.

    **Returns:** the ``nir.NIRGraph``, type-checked.
    """
    if len(model_fwd_args) > 0:
        raise ValueError(
            f"export_to_nir: model_fwd_args={list(model_fwd_args)!r} would be passed to forward when snnTorch traces "
            "the model; the graph is read from the layers here, so pass no forward arguments."
        )
    shape = tuple(int(d) for d in np.shape(sample_data))
    try:
        per_sample = tuple(int(d) for d in np.delete(np.array(shape, dtype=int), list(ignore_dims)))
    except IndexError as error:
        raise ValueError(
            f"export_to_nir: ignore_dims={list(ignore_dims)} names an axis that sample_data of shape {shape} lacks."
        ) from error
    net = _network(module, model_name)
    try:
        return to_nir(net, input_shape=per_sample, snntorch_resets=True)
    except UnsupportedNodeError:
        raise
    except ValueError as error:  # the shapes: say how they came from sample_data
        # to_nir's own hint names its input_shape argument, which the caller here did not pass: drop it.
        reason = error.__cause__ if isinstance(error.__cause__, ValueError) else error
        raise ValueError(
            f"export_to_nir: sample_data of shape {shape} with ignore_dims={list(ignore_dims)} gives one sample the "
            f"shape {per_sample}, which the network cannot take: {reason} Pass sample_data of a shape the network "
            "takes, and ignore_dims=[0] for its batch axis."
        ) from error
