"""Techniques the performance issue asked to evaluate, each timed interleaved in one process.

- W1's pure-core training step with buffer donation, without it, and with 8 steps per compiled call (a
  ``lax.scan`` over stacked batches, like Spyx's ``compile_fit``);
- a reset-free Leaky layer of W1's hidden shape ([T=100, B=64, 256]), forward + backward, as the
  library's sequential time-major loop and as ``jax.lax.associative_scan``.

The figures and what was kept are in docs/performance.md ("What changed in round 3").

    python benchmarks/techniques.py
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).resolve().parent))
import suite  # noqa: E402

import snnax_torchlike.snn as snn  # noqa: E402
from snnax_torchlike import functional as SF  # noqa: E402
from snnax_torchlike import interop  # noqa: E402


def interleaved_medians(runs: dict[str, Callable[[], None]], rounds: int, per_run: int = 1) -> dict[str, float]:
    """Median milliseconds per unit of each run, the runs interleaved (the order alternating by round)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for index in range(rounds):
        for name, run in list(runs.items())[:: 1 if index % 2 else -1]:
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) / per_run)
    return {name: round(statistics.median(values) * 1e3, 3) for name, values in times.items()}


def training_step_variants(batches: int = 8, rounds: int = 9) -> dict[str, float]:
    """W1's pure-core step (snnTorch's weights, Adam, spike-count loss): ms per step for each variant."""
    workload = suite.WORKLOADS["w1"]
    data = [(jnp.asarray(x), jnp.asarray(y.astype(np.int32))) for x, y in suite.make_data(workload, batches)]
    model = interop.from_snntorch(suite.snntorch_model(workload)).core_model()
    state = model.init_state((700,))

    def trained(tree: snn.Sequential) -> list:
        return [getattr(layer, n) for layer in tree.layers if hasattr(layer, "weight") for n in ("weight", "bias")]

    spec = eqx.tree_at(trained, jax.tree.map(lambda _: False, model), replace=[True] * len(trained(model)))
    params, static = eqx.partition(model, spec)
    optimizer, loss_fn = optax.adam(1e-3), SF.ce_count_loss()

    def step(p, opt_state, x, y):
        value, grads = jax.value_and_grad(lambda p: loss_fn(eqx.combine(p, static).scan_batch(state, x)[1][-1], y))(p)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, value

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def several(p, opt_state, xs, ys):
        def body(carry, batch):
            *carry, value = step(*carry, *batch)
            return tuple(carry), value

        (p, opt_state), values = jax.lax.scan(body, (p, opt_state), (xs, ys))
        return p, opt_state, values

    single = {"donated": jax.jit(step, donate_argnums=(0, 1)), "not donated": jax.jit(step)}
    stacked = (jnp.stack([x for x, _ in data]), jnp.stack([y for _, y in data]))

    def runner(name: str) -> Callable[[], None]:
        held = [jax.tree.map(jnp.copy, params), optimizer.init(params)]

        def run() -> None:
            p, opt_state = held
            if name == f"{batches} steps per call":
                p, opt_state, _ = several(p, opt_state, *stacked)
            else:
                for x, y in data:
                    p, opt_state, _ = single[name](p, opt_state, x, y)
            held[:] = jax.block_until_ready([p, opt_state])

        run()
        return run

    runs = {name: runner(name) for name in (*single, f"{batches} steps per call")}
    return interleaved_medians(runs, rounds, per_run=batches)


def reset_free_scans(rounds: int = 20) -> dict[str, float]:
    """Forward + backward of a reset-free Leaky over [100, 64, 256]: ms for the loop and the associative scan."""
    steps, batch, neurons = 100, 64, 256
    rng = np.random.default_rng(0)
    inputs = jnp.asarray(rng.normal(0.1, 0.5, (steps, batch, neurons)).astype(np.float32))
    cotangent = jnp.asarray(rng.normal(size=(steps, batch, neurons)).astype(np.float32))
    leaky = snn.Leaky(0.9, reset_mechanism="none")

    def sequential(z):
        membranes = jax.vmap(lambda zz: leaky.scan_sequence(jnp.zeros((neurons,)), zz)[2], in_axes=1, out_axes=1)
        return membranes(z)

    def associative(z):
        return jax.lax.associative_scan(lambda a, b: (a[0] * b[0], b[0] * a[1] + b[1]), (jnp.full_like(z, 0.9), z))[1]

    np.testing.assert_allclose(np.asarray(sequential(inputs)), np.asarray(associative(inputs)), rtol=1e-4, atol=1e-4)
    grads = {name: jax.jit(jax.grad(lambda z, f=f: jnp.sum(f(z) * cotangent))) for name, f in
             (("sequential loop", sequential), ("associative scan", associative))}  # fmt: skip
    runs = {name: (lambda g=g: jax.block_until_ready(g(inputs))) for name, g in grads.items()}
    for run in runs.values():
        run()
    return interleaved_medians(runs, rounds)


def main() -> None:
    print("W1 training step, ms/step:", training_step_variants())
    print("reset-free Leaky [100, 64, 256], forward + backward, ms:", reset_free_scans())


if __name__ == "__main__":
    main()
