"""One meaning per name across the core (`snn`) and the facade (`nn`); the core's renamed names still work, and warn.

A name in both namespaces means one thing when the facade's class is the core's
class over module state: ``nn.X``'s core layer is an ``snn.X``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest

import snnax_torchlike.nn as nn
import snnax_torchlike.snn as snn
import snnax_torchlike.snn.neurons as neurons

ALLOWED_CLASHES: dict[str, str] = {}
"""Names in both ``snn.__all__`` and ``nn.__all__`` that mean different things, each with the reason. Keep it empty."""

FACADE_LAYERS: dict[str, Callable[[], Any]] = {
    "Alpha": lambda: nn.Alpha(alpha=0.9, beta=0.8),
    "DeltaLeaky": lambda: nn.DeltaLeaky(beta=0.9),
    "Flatten": lambda: nn.Flatten(),
    "Lapicque": lambda: nn.Lapicque(beta=0.9),
    "Leaky": lambda: nn.Leaky(beta=0.9),
    "LeakyParallel": lambda: nn.LeakyParallel(4, 3),
    "ODENeuron": lambda: nn.CubaLIF(tau_syn=5e-3, tau_mem=1e-2, dt=1e-3),
    "RLeaky": lambda: nn.RLeaky(beta=0.9, linear_features=3),
    "RSynaptic": lambda: nn.RSynaptic(alpha=0.8, beta=0.9, linear_features=3),
    "SConv2dLSTM": lambda: nn.SConv2dLSTM(1, 2, 3),
    "SLSTM": lambda: nn.SLSTM(3, 3),
    "Sequential": lambda: nn.Sequential(nn.Linear(2, 3), nn.Leaky(beta=0.9)),
    "StateLeaky": lambda: nn.StateLeaky(beta=0.9, channels=3),
    "Synaptic": lambda: nn.Synaptic(alpha=0.8, beta=0.9),
}
"""For each name in both namespaces, a facade layer of that class."""

RENAMED = {
    "LIF": "CurrentBasedLIF",
    "LIFState": "CurrentBasedLIFState",
    "LIFSoftReset": "CurrentBasedLIFSoftReset",
    "CubaLIF": "ODENeuron",
    "CubaLIFState": "ODENeuronState",
}
"""The core's old names and their new ones: the old ones stay as aliases that warn."""


def _core(layer: Any) -> Any:
    return layer.core_model() if isinstance(layer, nn.Sequential) else layer.core_layer()


def test_every_shared_name_is_checked():
    shared = set(snn.__all__) & set(nn.__all__)
    assert shared - set(ALLOWED_CLASHES) == set(FACADE_LAYERS)
    assert not set(ALLOWED_CLASHES) - shared  # no stale entries


@pytest.mark.parametrize("name", sorted(FACADE_LAYERS))
def test_a_shared_name_is_the_facade_over_the_core_class(name):
    layer = FACADE_LAYERS[name]()
    assert isinstance(layer, getattr(nn, name))
    core = _core(layer)
    assert isinstance(core, getattr(snn, name)), f"nn.{name}'s core layer is a {type(core).__name__}, not snn.{name}"


@pytest.mark.parametrize(("package", "module"), [("snn", snn), ("snn.neurons", neurons)])
@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_an_old_core_name_warns_and_is_the_new_class(package, module, old, new):
    assert old not in module.__all__ and new in module.__all__
    with pytest.warns(DeprecationWarning, match=rf"^{package}\.{old} is deprecated; use {package}\.{new}\.$"):
        alias = getattr(module, old)
    assert alias is getattr(module, new)


def test_importing_an_old_name_warns_at_the_import():
    with pytest.warns(DeprecationWarning, match=r"^snn\.LIF is deprecated; use snn\.CurrentBasedLIF\.$") as caught:
        from snnax_torchlike.snn import LIF
    assert LIF is snn.CurrentBasedLIF
    assert caught[0].filename == __file__


def test_new_names_and_unknown_names_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert snn.CurrentBasedLIF is neurons.CurrentBasedLIF and snn.ODENeuron is neurons.ODENeuron
        with pytest.raises(AttributeError, match=r"module 'snnax_torchlike\.snn' has no attribute 'NoSuchNeuron'"):
            snn.NoSuchNeuron  # noqa: B018
