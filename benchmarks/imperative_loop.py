"""snnTorch's own training loop, written the snnTorch way, against the same loop on snnax-torchlike.

The loop is snnTorch's tutorial 5 on W1's shape (700-256-20, T=100, batch 64,
sparse time-varying input): a Python loop over time steps inside ``forward``
(``fc1(x[step])``, ``Leaky``, ``fc2``, ``Leaky``, ``torch.stack`` of the records),
cross-entropy on the membrane summed over the steps into ``torch.zeros(1)``,
``optimizer.zero_grad()``, ``loss.backward()``, ``optimizer.step()``,
``loss.item()``. The two versions differ only in their imports: this file runs
the same source text against ``snntorch``/``torch.nn`` and against
``snnax_torchlike``.

Contenders run interleaved in one process (rounds of ``--steps`` iterations
each), so machine load affects them alike; the report gives medians and the
ratio snnTorch / ours. It also reports, for ours: the first iteration (compile
included), how many programs were compiled over all iterations, and the
process's resident memory after each round (constant memory over steps).

    python benchmarks/imperative_loop.py               # ~1 min on 2 cores
    python benchmarks/imperative_loop.py --quick       # a smoke run: T=20, few steps
    python benchmarks/imperative_loop.py --compile-vs-steps   # ours' first iteration at T = 25, 100, 400
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import time

import numpy as np

LOOP_SOURCE = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(num_inputs, num_hidden)
        self.lif1 = snn.Leaky(beta=beta)
        self.fc2 = nn.Linear(num_hidden, num_outputs)
        self.lif2 = snn.Leaky(beta=beta)

    def forward(self, x):
        mem1 = self.lif1.init_leaky()
        mem2 = self.lif2.init_leaky()
        spk2_rec = []
        mem2_rec = []
        for step in range(num_steps):
            cur1 = self.fc1(x[step])
            spk1, mem1 = self.lif1(cur1, mem1)
            cur2 = self.fc2(spk1)
            spk2, mem2 = self.lif2(cur2, mem2)
            spk2_rec.append(spk2)
            mem2_rec.append(mem2)
        return torch.stack(spk2_rec, dim=0), torch.stack(mem2_rec, dim=0)


net = Net()
loss = nn.CrossEntropyLoss()
optimizer = optim.Adam(net.parameters(), lr=5e-4, betas=(0.9, 0.999))


def train_step(data, targets):
    spk_rec, mem_rec = net(data)
    loss_val = torch.zeros((1), dtype=torch.float)
    for step in range(num_steps):
        loss_val += loss(mem_rec[step], targets)
    optimizer.zero_grad()
    loss_val.backward()
    optimizer.step()
    return loss_val.item()
'''

IMPORTS = {
    "snntorch": "import torch\nimport torch.nn as nn\nimport snntorch as snn\nfrom torch import optim\n",
    "ours": (
        "import torch\nfrom snnax_torchlike import nn\nimport snnax_torchlike.nn as snn\n"
        "from snnax_torchlike import optim\n"
    ),
}


def build(library: str, num_steps: int, sizes: tuple[int, int, int] = (700, 256, 20)) -> dict:
    """The namespace of ``LOOP_SOURCE`` run with ``library``'s imports: ``net``, ``optimizer``, ``train_step``.

    ``sizes``: inputs, hidden and output neurons (W1's by default).
    """
    num_inputs, num_hidden, num_outputs = sizes
    namespace = dict(num_inputs=num_inputs, num_hidden=num_hidden, num_outputs=num_outputs, num_steps=num_steps,
                     beta=0.95)  # fmt: skip
    exec(IMPORTS[library] + LOOP_SOURCE, namespace)  # the same source text for both libraries
    return namespace


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="T=20, 2 rounds of 3 steps (a smoke run)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10, help="iterations per contender per round")
    parser.add_argument("--torch-threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--compile-vs-steps", action="store_true", help="first-iteration time against T instead")
    args = parser.parse_args()
    if args.compile_vs_steps:
        _compile_vs_steps()
        return
    num_steps = 20 if args.quick else 100
    rounds, steps = (2, 3) if args.quick else (args.rounds, args.steps)

    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    from snnax_torchlike.imperative import stats

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = torch.from_numpy((rng.random((num_steps, 64, 700)) < 0.05).astype(np.float32))
    targets = torch.from_numpy(rng.integers(0, 20, 64))
    contenders = {library: build(library, num_steps)["train_step"] for library in IMPORTS}

    start = time.perf_counter()
    first_loss = contenders["ours"](data, targets)
    first_ours = time.perf_counter() - start
    compiled_after_first = stats.compiled
    contenders["snntorch"](data, targets)

    times: dict[str, list[float]] = {library: [] for library in contenders}
    memory = []
    for _ in range(rounds):
        for library, train_step in contenders.items():
            for _ in range(steps):
                start = time.perf_counter()
                train_step(data, targets)
                times[library].append(time.perf_counter() - start)
        gc.collect()
        memory.append(_rss_mb())

    median = {library: statistics.median(values) * 1e3 for library, values in times.items()}
    total_iterations = 1 + rounds * steps
    print(f"snnTorch tutorial-5 loop, 700-256-20, T={num_steps}, batch 64, {rounds} rounds x {steps} steps")
    print(f"  snnTorch 1.0 (torch {torch.__version__}, {torch.get_num_threads()} threads): {median['snntorch']:.1f} ms")
    print(f"  snnax-torchlike imperative: {median['ours']:.1f} ms")
    print(f"  ratio snnTorch / ours: {median['snntorch'] / median['ours']:.2f}x")
    print(f"  ours, first iteration (compile included): {first_ours:.2f} s, loss {first_loss:.4f}")
    print(f"  ours, programs compiled: {compiled_after_first} after the first iteration, "
          f"{stats.compiled} after {total_iterations} iterations")  # fmt: skip
    print(f"  resident memory after each round (MB): {', '.join(f'{m:.0f}' for m in memory)}")


def _compile_vs_steps() -> None:
    """The first iteration (recording, compiling, running) and a later one, for T = 25, 100, 400."""
    import torch

    from snnax_torchlike.imperative import stats

    rng = np.random.default_rng(0)
    print("ours: first iteration (compile included) / steady iteration, against the number of time steps")
    for num_steps in (25, 100, 400):
        train_step = build("ours", num_steps)["train_step"]
        data = torch.from_numpy((rng.random((num_steps, 64, 700)) < 0.05).astype(np.float32))
        targets = torch.from_numpy(rng.integers(0, 20, 64))
        compiled = stats.compiled
        start = time.perf_counter()
        train_step(data, targets)
        first = time.perf_counter() - start
        start = time.perf_counter()
        train_step(data, targets)
        steady = time.perf_counter() - start
        print(f"  T={num_steps}: first {first:.2f} s, then {steady * 1e3:.0f} ms; "
              f"{stats.compiled - compiled} program(s) compiled")  # fmt: skip


if __name__ == "__main__":
    main()
