"""W1 (`shd-mlp`) training step: this library's `fit` against snnTorch, interleaved in one process.

700 -> Linear 256 -> Leaky -> Linear 20 -> Leaky, T=100, batch 64, float32, Adam,
snnTorch's rate cross-entropy, BPTT over all steps. snnTorch runs its usual
Python time loop (eager torch, CPU). Medians over repetitions after warm-up;
one JSON line and a markdown row.

    python benchmarks/w1_vs_snntorch.py [--repeats 5] [--batches 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import jax
import numpy as np

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import interop, optim

T, B, SIZES = 100, 64, (700, 256, 20)


def main() -> None:
    import snntorch
    import snntorch.functional as snn_functional
    import snntorch.utils
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    batches = [((rng.random((T, B, SIZES[0])) < 0.05).astype(np.float32), rng.integers(0, SIZES[2], B).astype(np.int64))
               for _ in range(args.batches)]  # fmt: skip

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), snntorch.Leaky(beta=0.9, init_hidden=True),
        torch.nn.Linear(SIZES[1], SIZES[2]), snntorch.Leaky(beta=0.9, init_hidden=True, output=True),
    )  # fmt: skip
    net = interop.from_snntorch(model)  # same weights
    torch_optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    torch_loss = snn_functional.ce_rate_loss()
    trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=1e-3), SF.ce_rate_loss(), progress=False)
    ours = [(x, y.astype(np.int32)) for x, y in batches]
    theirs = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

    def snntorch_epoch() -> float:
        start = time.perf_counter()
        for x, y in theirs:
            snntorch.utils.reset(model)
            spikes = torch.stack([model(x[t])[0] for t in range(T)])
            loss = torch_loss(spikes, y)
            torch_optimizer.zero_grad()
            loss.backward()
            torch_optimizer.step()
        return (time.perf_counter() - start) / len(theirs)

    def facade_epoch() -> float:
        start = time.perf_counter()
        trainer.fit(ours)
        jax.block_until_ready(net[0].weight.data)
        return (time.perf_counter() - start) / len(ours)

    compile_start = time.perf_counter()
    trainer.fit(ours[:1])
    compile_seconds = time.perf_counter() - compile_start
    snntorch_epoch()
    times: dict[str, list[float]] = {"snntorch": [], "snnax_torchlike": []}
    for _ in range(args.repeats):
        times["snntorch"].append(snntorch_epoch())
        times["snnax_torchlike"].append(facade_epoch())
    medians = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "benchmark": "w1_shd_mlp_train_step",
        "T": T, "batch": B, "sizes": SIZES,
        "snntorch_ms": round(medians["snntorch"] * 1e3, 1),
        "snnax_torchlike_ms": round(medians["snnax_torchlike"] * 1e3, 1),
        "speedup_vs_snntorch": round(medians["snntorch"] / medians["snnax_torchlike"], 2),
        "first_step_compile_s": round(compile_seconds, 2),
        "torch_threads": torch.get_num_threads(),
    }  # fmt: skip
    print(json.dumps(result))
    print("| workload | snnTorch ms/step | snnax-torchlike ms/step | speed-up | compile s |\n|---|---|---|---|---|")
    print(f"| W1 700-256-20, T={T}, B={B} | {result['snntorch_ms']} | {result['snnax_torchlike_ms']} | "
          f"{result['speedup_vs_snntorch']}x | {result['first_step_compile_s']} |")  # fmt: skip


if __name__ == "__main__":
    main()
