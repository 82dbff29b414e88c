"""``snntorch.import_nir``: ``import_from_nir`` with snnTorch's signature and calling convention.

A thin adapter over [`snnax_torchlike.interop.from_nir`][] (convention
``"snntorch"``, ``dt = 1e-4``) that returns the graph as an
[`nn.SteppedGraph`][snnax_torchlike.nn.SteppedGraph]: one time step per call,
``out, state = net(x)``, as snnTorch's imported ``GraphModule``.
"""

from __future__ import annotations

from typing import Any

from snnax_torchlike import nn
from snnax_torchlike.interop import from_nir
from snnax_torchlike.snn.discretisation import DEFAULT_DT
from snnax_torchlike.surrogate import atan

__all__ = ["import_from_nir"]


def import_from_nir(graph: Any) -> nn.SteppedGraph:
    """Build a network that runs a NIR graph one time step per call, as snnTorch's ``import_from_nir``.

    **Arguments:** ``graph``: a ``nir.NIRGraph`` (or the path of a ``.nir`` file).

    Each NIR node becomes the facade layer ``interop.from_nir`` builds, discretised
    with forward Euler at snnTorch's ``dt = 1e-4``: ``LIF`` and ``CubaLIF`` reset to
    ``v_reset`` the step they fire, which is snnTorch's ``Leaky``/``Synaptic`` with
    ``reset_mechanism="zero"`` and ``reset_delay=False`` that its importer builds.
    Spikes take snnTorch's default surrogate gradient, ``atan(alpha=2)``, as those
    neurons do. ``LIF <-> Affine/Linear`` cycles (snnTorch's ``RLeaky``/``RSynaptic``
    files) feed the previous step's spikes back through ``w_rec``.

    Differs from snnTorch, which asserts or errs where this is exact: ``v_leak``,
    ``r``, ``w_in`` and ``v_reset`` are honoured (snnTorch needs ``v_leak = 0`` and
    one threshold per layer, and divides the threshold by ``r dt/tau`` when that is
    not 1, so its membranes are scaled by it); ``IF`` integrates without leak
    (snnTorch builds a ``Leaky`` with ``beta = 0.9``); a recurrent layer's input goes
    to its neuron (snnTorch's importer wires it into ``w_rec`` instead); the
    other nodes of ``interop.from_nir`` are read too; ``graph`` is not modified
    (snnTorch rewrites its recurrent nodes in place).

    **Returns:** an ``nn.SteppedGraph`` whose nodes are named as in the graph
    (``"."`` becomes ``"_"``). ``out, state = net(x)`` takes one step ``[B, ...]``
    and returns the output spikes (or values) and the network's state, which the
    module also keeps for the next call, as snnTorch's ``init_hidden=True``
    neurons do; ``snnax_torchlike.utils.reset(net)`` starts it again from zeros.
    """
    net = from_nir(graph, convention="snntorch", dt=DEFAULT_DT["snntorch"], spike_grad=atan(2.0))
    return nn.SteppedGraph.from_graph(net)
