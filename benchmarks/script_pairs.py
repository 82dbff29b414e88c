"""snnTorch's own tutorial scripts, end to end: the original on snnTorch against the port, one process each.

The pairs are ``tests/snntorch_scripts/<name>_snntorch.py`` and ``<name>_ported.py``: the README
quick-start and tutorials 5, 6 and 7, the port differing only in its import lines (tested). Each
script runs in a fresh process, as a user runs it, on the same data for the same epochs (their full
mode, ``SNN_SCRIPT_QUICK=0``; ``--quick`` for their test-suite size). The port runs twice on a new,
empty compilation cache: cold (every program compiles) and warm (every program loads from the
cache), the way a second run of a script goes. torch runs on one OpenMP thread (its fastest setting
on this 2-core machine, see docs/performance.md "Threads"); ``--torch-threads 0`` keeps its default.

Per run it prints the process's wall time, the time XLA spent compiling (ours; JAX's own
``backend_compile_duration`` events), the number of training iterations and the median time of one
(the interval between consecutive ``optimizer.step()`` calls after the first five), and the ratio of
the original's wall time to the port's (> 1: the port finishes first)::

    python benchmarks/script_pairs.py                       # full mode, ~10 min on 2 idle cores
    python benchmarks/script_pairs.py --quick --names tutorial_5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "tests" / "snntorch_scripts"
NAMES = ("readme_quickstart", "tutorial_5", "tutorial_6", "tutorial_7")
_REPORT = "SCRIPT_PAIRS_REPORT="
_SKIPPED_STEPS = 5  # the first steps compile (ours) or warm up allocators (torch)

# Runs a script as `python script.py` would (its own folder, __main__), timing the optimizer's steps
# and, for JAX, XLA's compilations; prints one JSON line when the script ends.
_WRAPPER = """
import atexit, json, runpy, sys, time
steps, compile_s = [], [0.0]

def _timed(cls):
    original = cls.step
    def step(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        steps.append(time.perf_counter())
        return result
    cls.step = step

if sys.argv[2] == "ported":
    import jax
    jax.monitoring.register_event_duration_secs_listener(
        lambda name, secs, **kw: compile_s.__setitem__(0, compile_s[0] + secs)
        if name == "/jax/core/compile/backend_compile_duration" else None)
    from snnax_torchlike.optim.optimizer import Optimizer
    _timed(Optimizer)
else:
    import importlib  # every torch optimizer's step() calls the global post-step hooks
    importlib.import_module("torch.optim.optimizer").register_optimizer_step_post_hook(
        lambda *args: steps.append(time.perf_counter()))

@atexit.register
def _report():
    intervals = [b - a for a, b in zip(steps, steps[1:])][%d:]
    print("%s" + json.dumps({"steps": len(steps), "compile_s": compile_s[0], "intervals": intervals}))

sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
""" % (_SKIPPED_STEPS, _REPORT)


def _run(name: str, library: str, *, quick: bool, cache: Path | None, torch_threads: int) -> dict:
    """One script in a fresh process: wall time, compile time, step count and median step interval."""
    script = SCRIPTS / f"{name}_{library}.py"
    env = dict(os.environ, SNN_SCRIPT_QUICK="1" if quick else "0", PYTHONPATH=str(ROOT))
    env["SNNAX_COMPILATION_CACHE"] = str(cache) if cache is not None else "0"
    if torch_threads:
        env["OMP_NUM_THREADS"] = str(torch_threads)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _WRAPPER, script.name, library], cwd=SCRIPTS, env=env,
                            capture_output=True, text=True, timeout=3600)  # fmt: skip
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{script.name} failed:\n{result.stderr[-3000:]}")
    report = json.loads(next(line for line in result.stdout.splitlines() if line.startswith(_REPORT))[len(_REPORT) :])
    accuracy = [line.split("=", 1)[1] for line in result.stdout.splitlines() if line.startswith("FINAL_TEST_ACCURACY=")]
    intervals = report["intervals"]
    return {
        "wall_s": wall,
        "compile_s": report["compile_s"] if library == "ported" else None,
        "steps": report["steps"],
        "step_ms": 1e3 * statistics.median(intervals) if intervals else None,
        "accuracy": float(re.search(r"[0-9.]+", accuracy[-1]).group()) if accuracy else None,  # "0.9" or "tensor(0.9)"
    }


def _row(label: str, run: dict) -> str:
    compile_s = "" if run["compile_s"] is None else f"{run['compile_s']:.1f}"
    step = "" if run["step_ms"] is None else f"{run['step_ms']:.1f}"
    accuracy = "" if run["accuracy"] is None else f"{run['accuracy']:.3f}"
    return f"| {label} | {run['wall_s']:.1f} | {compile_s} | {run['steps']} | {step} | {accuracy} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the scripts' quick mode (a few iterations)")
    parser.add_argument("--names", default=",".join(NAMES), help=f"comma-separated, from {', '.join(NAMES)}")
    parser.add_argument("--torch-threads", type=int, default=1, help="OMP_NUM_THREADS for torch (0: its default)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    names = [name for name in args.names.split(",") if name]
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        parser.error(f"unknown scripts {unknown}; the pairs are {list(NAMES)}")
    results = {}
    lines = ["| script, run | wall s | XLA compile s | iterations | ms / iteration | test accuracy |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name in names:
        with tempfile.TemporaryDirectory(prefix="snnax-cache-") as folder:
            original = _run(name, "snntorch", quick=args.quick, cache=None, torch_threads=args.torch_threads)
            cold = _run(name, "ported", quick=args.quick, cache=Path(folder), torch_threads=args.torch_threads)
            warm = _run(name, "ported", quick=args.quick, cache=Path(folder), torch_threads=args.torch_threads)
        results[name] = {"snntorch": original, "cold": cold, "warm": warm}
        lines += [_row(f"{name}, snnTorch", original), _row(f"{name}, port, cold cache", cold),
                  _row(f"{name}, port, warm cache", warm)]  # fmt: skip
        print(
            f"{name}: snnTorch {original['wall_s']:.1f} s; port cold {cold['wall_s']:.1f} s "
            f"({original['wall_s'] / cold['wall_s']:.2f}x), warm {warm['wall_s']:.1f} s "
            f"({original['wall_s'] / warm['wall_s']:.2f}x)",
            flush=True,
        )
    print("\n" + "\n".join(lines))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
