"""Data-parallel training throughput (samples per second) against the device count.

Each device count runs in its own process: JAX fixes the device count at start.
On a CPU the devices are forced with ``--xla_force_host_platform_device_count``.
They share the same cores, so the figure shows the overhead of sharding, not a
speed-up; on a multi-GPU machine the same command measures real scaling.

    python benchmarks/data_parallel.py [--counts 1,2,4,8] [--batch 64] [--steps 10]

Prints one JSON line per device count and a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

_WORKER = """
import json, sys, time
import jax, numpy as np
import snnax_torchlike as snx
from snnax_torchlike import nn, optim, functional as SF
count, batch, steps = (int(a) for a in sys.argv[1:4])
platform = jax.devices()[0].platform
devices = None if count == 1 else count
snx.manual_seed(0)
net = nn.Sequential(nn.Linear(700, 256), nn.Leaky(beta=0.9), nn.Linear(256, 20), nn.Leaky(beta=0.9))
rng = np.random.default_rng(0)
data = [((rng.random((100, batch, 700)) < 0.05).astype(np.float32), rng.integers(0, 20, batch).astype(np.int32))
        for _ in range(steps)]
trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=1e-3), SF.ce_rate_loss(), progress=False, devices=devices)
trainer.fit(data[:1])
start = time.perf_counter()
trainer.fit(data)
jax.block_until_ready(net[0].weight.data)
seconds = time.perf_counter() - start
print(json.dumps({"benchmark": "data_parallel_w1", "devices": count, "platform": platform, "batch": batch,
                  "samples_per_s": round(batch * steps / seconds, 1), "ms_per_step": round(seconds / steps * 1e3, 1)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="1,2,4,8")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    rows = []
    for count in (int(c) for c in args.counts.split(",")):
        env = dict(os.environ, PYTHONPATH=str(root))
        if "cuda" not in env.get("JAX_PLATFORMS", "") and count > 1:
            env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={count}".strip()
        result = subprocess.run(
            [sys.executable, "-c", _WORKER, str(count), str(args.batch), str(args.steps)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        row = json.loads(result.stdout.strip().splitlines()[-1])
        print(json.dumps(row))
        rows.append(row)
    print("| devices | platform | samples/s | ms/step |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['devices']} | {row['platform']} | {row['samples_per_s']} | {row['ms_per_step']} |")


if __name__ == "__main__":
    main()
