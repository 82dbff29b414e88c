"""Compile time against the number of time steps, for a ``forward`` that loops over time in Python.

The network is snnTorch's tutorial 5 (784-1000-10, two ``Leaky`` neurons, records
joined with ``torch.stack``), its ``forward`` a Python loop over ``x[step]``
(``imperative_loop.py``'s source text, with tutorial 5's sizes),
trained with ``fit`` on one batch of 128. ``fit`` captures the loop (it records
the ``forward`` and compiles the repeated step as one ``lax.scan``); with
``snx.imperative.capture_loops(False)`` the loop is traced as plain code and
unrolled, T copies of the network. Each configuration runs in a fresh process
with the persistent compilation cache off.

Per run it prints the first ``fit`` call (trace, compile and one step), the
second (one step, nothing compiled), their difference (the compile time a user
waits for), the part of the first call XLA spent compiling (JAX's
``backend_compile_duration`` events; the second call compiles nothing), and the ratio of each captured compile time to the one at the smallest T::

    python benchmarks/loop_compile.py                            # T = 25, 100, 500; unrolled at 25 and 100
    python benchmarks/loop_compile.py --steps 25 100 500 --unrolled 25 100 500   # unrolled at 500: minutes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

_REPORT = "LOOP_COMPILE_REPORT="


def _run(steps: int, capture: bool) -> dict:
    """One configuration in this process: the timings of two ``fit`` calls on one batch."""
    import time

    import jax
    import numpy as np
    from imperative_loop import build

    import snnax_torchlike as snx
    from snnax_torchlike import functional as SF
    from snnax_torchlike import optim

    xla = [0.0]
    jax.monitoring.register_event_duration_secs_listener(
        lambda name, secs, **_: (
            xla.__setitem__(0, xla[0] + secs) if name == "/jax/core/compile/backend_compile_duration" else None
        )
    )

    snx.manual_seed(0)
    net = build("ours", steps, sizes=(784, 1000, 10))["net"]  # tutorial 5's network, written as snnTorch's
    rng = np.random.default_rng(0)
    batch = [((rng.random((steps, 128, 784)) < 0.1).astype(np.float32), rng.integers(0, 10, 128))]
    trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=5e-4), SF.ce_rate_loss(), progress=False)
    timings, xla_per_call = [], []
    with snx.imperative.capture_loops(capture):
        for _ in range(2):
            xla_before, start = xla[0], time.perf_counter()
            trainer.fit(batch, epochs=1)
            timings.append(time.perf_counter() - start)
            xla_per_call.append(xla[0] - xla_before)
    return {
        "steps": steps,
        "first_s": timings[0],
        "second_s": timings[1],
        "compile_s": timings[0] - timings[1],
        "xla_s": xla_per_call[0],
    }


def _in_process(steps: int, capture: bool) -> dict:
    env = dict(os.environ, SNNAX_COMPILATION_CACHE="0")
    command = [sys.executable, __file__, "--one", str(steps), "1" if capture else "0"]
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    (line,) = [line for line in output.splitlines() if line.startswith(_REPORT)]
    return json.loads(line[len(_REPORT) :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[25, 100, 500], help="T values, captured")
    parser.add_argument("--unrolled", type=int, nargs="*", default=[25, 100], help="T values, unrolled")
    parser.add_argument("--one", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(_REPORT + json.dumps(_run(args.one[0], bool(args.one[1]))), flush=True)
        return
    print(f"{'loop':9} {'T':>4} {'first fit':>10} {'second':>8} {'compile':>8} {'XLA':>7} {'vs smallest T':>14}")
    for capture, all_steps in ((True, args.steps), (False, args.unrolled)):
        runs = [_in_process(steps, capture) for steps in sorted(all_steps)]
        for run in runs:
            ratio = run["compile_s"] / runs[0]["compile_s"]
            kind = "captured" if capture else "unrolled"
            print(
                f"{kind:9} {run['steps']:>4} {run['first_s']:>9.2f}s {run['second_s']:>7.2f}s "
                f"{run['compile_s']:>7.2f}s {run['xla_s']:>6.2f}s {ratio:>13.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
