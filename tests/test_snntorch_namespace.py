"""The drop-in namespace ``snnax_torchlike.snntorch``: laid out like ``snntorch``, aliases only, documented.

The page ``docs/snntorch-api.md`` lists snnTorch 1.0's public API, one row per name, each
supported, differing (how) or refused (why); these tests hold the page and the namespace to the
real snnTorch package.
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import snnax_torchlike.snntorch as dropin

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "snntorch-api.md"
STATUSES = ("supported", "differs", "refused")

# snnTorch's public modules, and where the drop-in has each.
MODULES = {
    "snntorch": "snnax_torchlike.snntorch",
    "snntorch.spikegen": "snnax_torchlike.snntorch.spikegen",
    "snntorch.surrogate": "snnax_torchlike.snntorch.surrogate",
    "snntorch.functional": "snnax_torchlike.snntorch.functional",
    "snntorch.functional.quant": "snnax_torchlike.functional.quant",
    "snntorch.utils": "snnax_torchlike.snntorch.utils",
    "snntorch.spikeplot": "snnax_torchlike.snntorch.spikeplot",
    "snntorch.backprop": "snnax_torchlike.snntorch.backprop",
    "snntorch.export_nir": "snnax_torchlike.snntorch.export_nir",
    "snntorch.import_nir": "snnax_torchlike.snntorch.import_nir",
}
# Files of the namespace that define what exists only to match snnTorch's signatures.
ADAPTERS = {"spikeplot", "backprop", "export_nir", "import_nir"}


def _public_names(module_name: str) -> list[str]:
    """Classes and functions snnTorch defines and exposes in ``module_name``."""
    module = importlib.import_module(module_name)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "").startswith("snntorch")
    ]


def _rows() -> dict[str, tuple[str, str]]:
    """``{qualified snnTorch name: (status, note)}`` from the page's tables."""
    rows = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*`(snntorch[\w.]*)`\s*\|\s*(\w+)\s*\|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3).strip())
    return rows


def test_every_public_snntorch_name_has_one_row_with_a_status_and_a_reason():
    pytest.importorskip("snntorch")
    rows = _rows()
    expected = [f"{module}.{name}" for module in MODULES for name in _public_names(module)]
    missing = [name for name in expected if name not in rows]
    assert not missing, f"snnTorch names missing from {PAGE.name}: {missing}"
    bad = {name: status for name, (status, _) in rows.items() if status not in STATUSES}
    assert not bad, f"statuses must be one of {STATUSES}: {bad}"
    unexplained = [name for name, (status, note) in rows.items() if status != "supported" and len(note) < 10]
    assert not unexplained, f"rows that differ or are refused must say how or why: {unexplained}"


def test_supported_and_differing_names_exist_in_the_dropin():
    checked = 0
    for name, (status, _) in _rows().items():
        module_name, _, attribute = name.rpartition(".")
        if status == "refused" or module_name not in MODULES:
            continue  # a refused name may still exist to raise a clear error (surrogate.SSO)
        ours = importlib.import_module(MODULES[module_name])
        assert hasattr(ours, attribute), f"{name} is listed as {status} but the drop-in lacks it"
        checked += 1
    assert checked > 60


def test_supported_neurons_accept_every_snntorch_constructor_argument():
    rows = _rows()
    for name in _public_names("snntorch"):
        status, _ = rows[f"snntorch.{name}"]
        if status != "supported" or not hasattr(importlib.import_module("snntorch"), name):
            continue
        theirs = inspect.signature(getattr(importlib.import_module("snntorch"), name)).parameters
        ours = inspect.signature(getattr(dropin, name)).parameters
        options = getattr(getattr(dropin, name), "option_defaults", None)  # a neuron's **options: SpikingOptions
        takes_any = options is None and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in ours.values())
        named = set(ours) | set(options() if options else ())
        missing = [arg for arg in theirs if arg not in named and arg not in ("args", "kwargs") and not takes_any]
        assert not missing, f"snntorch.{name} takes {missing}; the drop-in's {name} does not"


def test_the_namespace_defines_nothing_twice():
    """Every class and function the namespace exposes lives in the package where it belongs."""
    for module_name in set(MODULES.values()):
        module = importlib.import_module(module_name)
        own = module_name.rsplit(".", 1)[-1]
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            home = getattr(value, "__module__", "") or ""
            if inspect.ismodule(value) or not (inspect.isclass(value) or callable(value)):
                continue
            if own in ADAPTERS or home.rsplit(".", 1)[-1] in ADAPTERS:
                continue
            assert not home.startswith("snnax_torchlike.snntorch"), f"{module_name}.{name} is defined in {home}"


def test_the_dropin_imports_as_snntorch_does_and_without_torch(tmp_path):
    """``snntorch`` mapped onto the drop-in (as snnTorch's own suite runs it): every import form works."""
    (tmp_path / "snntorch.py").write_text(
        "import importlib, sys\nsys.modules[__name__] = importlib.import_module('snnax_torchlike.snntorch')\n"
    )
    script = """
import sys
import snntorch as snn
from snntorch import spikegen, surrogate, utils, functional, spikeplot, backprop
import snntorch.functional as SF
import snntorch.spikeplot as splt
from snntorch.export_nir import export_to_nir
from snntorch.import_nir import import_from_nir
from snntorch._neurons.stateleaky import StateLeaky
from snntorch._neurons.linearleaky import LinearLeaky
from snntorch._neurons.deltaleaky import DeltaLeaky
import snnax_torchlike.nn as nn
assert snn.Leaky is nn.Leaky and StateLeaky is nn.StateLeaky and SF.ce_rate_loss is functional.ce_rate_loss
assert "torch" not in sys.modules, sorted(m for m in sys.modules if m.split(".")[0] == "torch")
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(tmp_path), "JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]
