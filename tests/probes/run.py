"""Run the failure probes and count their outcomes.

    python tests/probes/run.py                  # every probe, a table and the counts
    python tests/probes/run.py --category "NIR files" --verbose
    python tests/probes/run.py --json results.json

Runs with four virtual CPU devices, so the data-parallel probes have devices
to shard over. Exits 1 when any probe's outcome is neither ``clear`` nor
``correct``.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip()
sys.path[:0] = [str(HERE), str(HERE.parents[1])]


def load_probes():
    """Import every ``probe_*.py`` beside this file and return the registry."""
    import _harness

    for path in sorted(HERE.glob("probe_*.py")):
        importlib.import_module(path.stem)
    return _harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--category", action="append", help="run only this category (repeatable)")
    parser.add_argument("--name", action="append", help="run only the probe of this name (repeatable)")
    parser.add_argument("--json", type=Path, help="write every probe's outcome to this file")
    parser.add_argument("--verbose", action="store_true", help="print every probe, not only the bad ones")
    args = parser.parse_args(argv)

    import warnings

    warnings.simplefilter("ignore")
    harness = load_probes()
    selected = [
        p for p in harness.PROBES
        if (not args.category or p.category in args.category) and (not args.name or p.name in args.name)
    ]
    results = []
    for p in selected:
        start = time.perf_counter()
        kind, detail = harness.outcome(p)
        results.append({"category": p.category, "name": p.name, "outcome": kind, "detail": detail,
                        "seconds": round(time.perf_counter() - start, 3)})
        if args.verbose or kind not in harness.GOOD_OUTCOMES:
            print(f"[{kind:>12}] {p.category} / {p.name}: {detail}", flush=True)

    counts = collections.Counter((r["category"], r["outcome"]) for r in results)
    columns = harness.OUTCOMES
    print("\n| category | probes | " + " | ".join(columns) + " |")
    print("|---|---:|" + "---:|" * len(columns))
    for category in harness.CATEGORIES:
        total = sum(counts[category, c] for c in columns)
        if total:
            print(f"| {category} | {total} | " + " | ".join(str(counts[category, c]) for c in columns) + " |")
    print(f"| all | {len(results)} | " + " | ".join(str(sum(counts[k, c] for k in harness.CATEGORIES)) for c in columns) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0 if all(r["outcome"] in harness.GOOD_OUTCOMES for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
