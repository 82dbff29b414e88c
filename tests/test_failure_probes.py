"""The failure probes (``tests/probes/``): every mistake gets a clear error or the right result.

The probes run once, in one subprocess with four virtual CPU devices (the
data-parallel probes need them, and XLA reads the device count only at start),
and each probe is then checked as its own test, so a failure names the probe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBES = Path(__file__).resolve().parent / "probes"
sys.path.insert(0, str(PROBES))
import run as _probe_runner  # noqa: E402

_HARNESS = _probe_runner.load_probes()


def start_probe_run(out: Path) -> subprocess.Popen:
    """Start ``run.py`` in the background, writing its results to ``out`` (``conftest.py`` starts it with the
    session, so it runs beside the other tests on a second core)."""
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    return subprocess.Popen(
        [sys.executable, str(PROBES / "run.py"), "--json", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def probe_results(request, tmp_path_factory) -> dict[str, dict]:
    started = getattr(request.config, "_probe_run", None)
    if started is None:
        out = tmp_path_factory.mktemp("probes") / "results.json"
        started = (start_probe_run(out), out)
    process, out = started
    output, _ = process.communicate(timeout=900)
    if not out.exists():
        pytest.fail(f"the probe run wrote no results:\n{output[-6000:]}")
    return {r["name"]: r for r in json.loads(out.read_text())}


def test_every_category_is_probed():
    counts = {c: sum(p.category == c for p in _HARNESS.PROBES) for c in _HARNESS.CATEGORIES}
    assert all(n >= 10 for n in counts.values()), counts


@pytest.mark.parametrize("name", [p.name for p in _HARNESS.PROBES])
def test_probe(name, probe_results):
    result = probe_results[name]
    assert result["outcome"] in _HARNESS.GOOD_OUTCOMES, f"{result['category']} / {name}: {result['outcome']}: {result['detail']}"
