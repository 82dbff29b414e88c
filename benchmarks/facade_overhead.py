"""Facade vs functional core: the cost of `net.fit` over a hand-written `eqx.filter_jit` loop.

Both train the same network (snnTorch-style Leaky neurons, rate cross-entropy,
Adam) on the same batches, interleaved in one process; the facade through
`Trainer.fit` exactly as users run it (progress bar off), the core through a
plain Python loop over one `eqx.filter_jit` step with donation. Reports the
median time per training step of each and their ratio, as a JSON line and a
markdown row.

    python benchmarks/facade_overhead.py              # 700-256-20, T=100, batch 64
    python benchmarks/facade_overhead.py --quick
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import snnax_torchlike as snx
import snnax_torchlike.snn as snn
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim


def make_batches(count: int, steps: int, batch: int, features: int, classes: int) -> list:
    rng = np.random.default_rng(0)
    return [
        (
            (rng.random((steps, batch, features)) < 0.05).astype(np.float32),
            rng.integers(0, classes, batch).astype(np.int32),
        )
        for _ in range(count)
    ]


def facade_epoch_timer(batches: list, sizes: tuple[int, int, int]):
    inputs, hidden, classes = sizes
    snx.manual_seed(0)
    net = nn.Sequential(nn.Linear(inputs, hidden), nn.Leaky(beta=0.9), nn.Linear(hidden, classes), nn.Leaky(beta=0.9))
    trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=1e-3), SF.ce_rate_loss(), progress=False)
    trainer.fit(batches[:1])  # compile

    def run() -> float:
        start = time.perf_counter()
        trainer.fit(batches)
        jax.block_until_ready(net[0].weight.data)
        return (time.perf_counter() - start) / len(batches)

    return run


def core_epoch_timer(batches: list, sizes: tuple[int, int, int]):
    inputs, hidden, classes = sizes
    k1, k2 = jax.random.split(jax.random.key(0))
    model = snn.Sequential(eqx.nn.Linear(inputs, hidden, key=k1), snn.Leaky(0.9),
                           eqx.nn.Linear(hidden, classes, key=k2), snn.Leaky(0.9))  # fmt: skip
    state = model.init_state((inputs,))
    optimizer = optax.adam(1e-3)
    loss_fn = SF.ce_rate_loss()
    holder = {"model": model, "opt": optimizer.init(eqx.filter(model, eqx.is_inexact_array))}

    def loss(m, x, y):
        _, outs = m.scan_batch(state, x)  # the core's time-first batch: [T, B, ...]
        return loss_fn(outs[-1], y)

    @eqx.filter_jit(donate="all-except-first")
    def step(x, model, opt_state, y):
        value, grads = eqx.filter_value_and_grad(loss)(model, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
        return eqx.apply_updates(model, updates), opt_state, value

    def run() -> float:
        start = time.perf_counter()
        for x, y in batches:
            holder["model"], holder["opt"], _ = step(jnp.asarray(x), holder["model"], holder["opt"], jnp.asarray(y))
        jax.block_until_ready(holder["model"])
        return (time.perf_counter() - start) / len(batches)

    run()  # compile
    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    steps, batch, sizes, count = (20, 16, (100, 64, 10), 4) if args.quick else (100, 64, (700, 256, 20), 10)
    batches = make_batches(count, steps, batch, sizes[0], sizes[2])
    timers = {"facade": facade_epoch_timer(batches, sizes), "core": core_epoch_timer(batches, sizes)}
    times: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(args.repeats):  # interleaved, so drifts of the machine hit both alike
        for name, timer in timers.items():
            times[name].append(timer())
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "benchmark": "facade_overhead",
        "shape": {"T": steps, "batch": batch, "layers": sizes},
        "facade_ms_per_step": round(medians["facade"] * 1e3, 3),
        "core_ms_per_step": round(medians["core"] * 1e3, 3),
        "ratio_facade_over_core": round(medians["facade"] / medians["core"], 3),
        "devices": str(jax.devices()),
    }
    print(json.dumps(result))
    print("| workload | core ms/step | facade ms/step | facade / core |\n|---|---|---|---|")
    print(f"| {sizes} T={steps} B={batch} | {result['core_ms_per_step']} | {result['facade_ms_per_step']} | "
          f"{result['ratio_facade_over_core']} |")  # fmt: skip


if __name__ == "__main__":
    main()
