"""Data-parallel fit/evaluate/predict over forced CPU devices and over two processes (`jax.distributed`).

JAX fixes its device count when it starts, so every scenario runs in a fresh
subprocess; each writes its results as .npz files that the test compares.
"""

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

_COMMON = """
import sys
import numpy as np
import jax
import snnax_torchlike as snx
from snnax_torchlike import nn, optim, functional as SF

def make_net():
    snx.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.Leaky(beta=0.9, learn_beta=True), nn.Linear(16, 3), nn.Leaky(beta=0.8))

def global_batches(n=3, batch=16, steps=12):
    rng = np.random.default_rng(1)
    return [((rng.random((steps, batch, 6)) < 0.4).astype(np.float32), rng.integers(0, 3, batch).astype(np.int32))
            for _ in range(n)]

def weights(net):
    return {k: np.asarray(v) for k, v in net.state_dict().items()}
"""


def _run(script: str, out_dir: Path, devices: int, extra_env=None, timeout=240):
    env = dict(os.environ, PYTHONPATH=str(ROOT), XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    env.update(extra_env or {})
    code = _COMMON + textwrap.dedent(script)
    return subprocess.Popen(
        [sys.executable, "-c", code, str(out_dir)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finish(process, timeout=240):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-4000:]
    return out


_SINGLE_AND_SHARDED = """
out = sys.argv[1]
assert len(jax.devices()) == 8
results = {}
for label, devices in (("single", None), ("sharded", 8)):
    net = make_net()
    # SGD, one step: the update is -lr * gradient, so a gradient scaled by the device count would show.
    net.fit(global_batches(1), epochs=1, optimizer=optim.SGD(net.parameters(), lr=0.5), loss_fn=SF.ce_rate_loss(),
            progress=False, devices=devices)
    np.savez(f"{out}/{label}_sgd.npz", **weights(net))
    net = make_net()
    history = net.fit(global_batches(), epochs=2, optimizer=optim.Adam(net.parameters(), lr=1e-2),
                      loss_fn=SF.ce_rate_loss(), metrics=[SF.accuracy_rate], progress=False, devices=devices)
    val = net.evaluate(global_batches(2), loss_fn=SF.ce_rate_loss(), metrics=[SF.accuracy_rate], devices=devices)
    spk, mem = net.predict(global_batches(2), devices=devices)
    np.savez(f"{out}/{label}_adam.npz", **weights(net), loss=np.array(history["loss"]),
             val_loss=np.array(val["loss"]), val_acc=np.array(val["accuracy_rate"]), spk=np.asarray(spk))
    if devices:
        trainer = snx.Trainer(net, optim.Adam(net.parameters()), SF.ce_rate_loss(), progress=False, devices=8)
        x, y = global_batches(1)[0]
        batch = next(__import__("snnax_torchlike.train.batches", fromlist=["x"]).iterate_batches(
            [(x, y)], time_first=True, mesh=trainer.mesh))
        print("shard shapes", sorted({s.data.shape for s in batch.x.addressable_shards}))
        try:
            trainer.fit([(x[:, :12], y[:12])])
        except ValueError as error:
            print("ERROR", error)
"""


def test_data_parallel_matches_single_device(tmp_path):
    out = _finish(_run(_SINGLE_AND_SHARDED, tmp_path, devices=8))
    assert "shard shapes [(12, 2, 6)]" in out  # 16 samples over 8 devices: 2 each, time axis kept
    assert "does not split over 8 devices" in out and "(e.g. 8 or 16)" in out
    for name in ("sgd", "adam"):
        single, sharded = np.load(tmp_path / f"single_{name}.npz"), np.load(tmp_path / f"sharded_{name}.npz")
        assert set(single.files) == set(sharded.files)
        for key in single.files:
            np.testing.assert_allclose(sharded[key], single[key], atol=1e-5, err_msg=key)
    initial = np.load(tmp_path / "single_adam.npz")
    assert initial["spk"].shape == (12, 32, 3)


_TWO_PROCESSES = """
out = sys.argv[1]
import os
process_id = int(os.environ["PROCESS_ID"])
jax.distributed.initialize("127.0.0.1:" + os.environ["PORT"], num_processes=2, process_id=process_id)
assert jax.process_count() == 2 and len(jax.devices()) == 8 and len(jax.local_devices()) == 4
net = make_net()
# Each process feeds its half of every global batch (a per-process sampler in real use).
half = slice(8 * process_id, 8 * process_id + 8)
local = [(x[:, half], y[half]) for x, y in global_batches(2)]
net.fit(local, epochs=1, optimizer=optim.Adam(net.parameters(), lr=1e-2), loss_fn=SF.ce_rate_loss(),
        progress=False, devices="all")
trainer = snx.Trainer(net, optim.Adam(net.parameters()), SF.ce_rate_loss(), progress=False, devices="all")
trainer.save_checkpoint(f"{out}/ckpt_{process_id}.safetensors")
np.savez(f"{out}/process_{process_id}.npz", **weights(net))
"""

_ONE_PROCESS = """
out = sys.argv[1]
net = make_net()
net.fit(global_batches(2), epochs=1, optimizer=optim.Adam(net.parameters(), lr=1e-2), loss_fn=SF.ce_rate_loss(),
        progress=False)
np.savez(f"{out}/reference.npz", **weights(net))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_train_to_the_single_process_result(tmp_path):
    port = str(_free_port())
    processes = [
        _run(_TWO_PROCESSES, tmp_path, devices=4, extra_env={"PROCESS_ID": str(i), "PORT": port}) for i in range(2)
    ]
    reference = _run(_ONE_PROCESS, tmp_path, devices=1)
    for process in processes + [reference]:
        _finish(process)
    expected = np.load(tmp_path / "reference.npz")
    for i in range(2):
        got = np.load(tmp_path / f"process_{i}.npz")
        for key in expected.files:
            np.testing.assert_allclose(got[key], expected[key], atol=1e-5, err_msg=f"process {i}: {key}")
    assert (tmp_path / "ckpt_0.safetensors").exists() and not (tmp_path / "ckpt_1.safetensors").exists()


def test_device_argument_errors():
    import snnax_torchlike as snx
    from snnax_torchlike import functional as SF
    from snnax_torchlike import nn, optim

    net = nn.Sequential(nn.Linear(2, 2), nn.Leaky(beta=0.9))
    with pytest.raises(ValueError, match="devices=5, but 1 device"):
        snx.Trainer(net, optim.SGD(net.parameters(), lr=0.1), SF.ce_rate_loss(), devices=5)
    with pytest.raises(ValueError, match="devices must be None, 'all'"):
        snx.Trainer(net, optim.SGD(net.parameters(), lr=0.1), SF.ce_rate_loss(), devices="gpu")
    with pytest.raises(TypeError, match="list of jax.Device"):
        snx.Trainer(net, optim.SGD(net.parameters(), lr=0.1), SF.ce_rate_loss(), devices=["cpu:0"])


_NAN_INPUT = """
from snnax_torchlike.train.trainer import NonFiniteError
x, y = global_batches(1, batch=8)[0]
x[3, 7, 2] = np.nan  # in the last of the four shards: a cross-device max would drop it
for label, first in (("frozen", 2), ("all", 0)):
    net = make_net()
    try:
        net.fit([(x, y)], optimizer=optim.SGD(list(net.parameters())[first:], lr=0.1), loss_fn=SF.ce_rate_loss(),
                progress=False, devices="all")
        print(label, "no error")
    except NonFiniteError as error:
        print(label, error)
for caller in ("evaluate", "predict"):
    try:
        net.evaluate([(x, y)], loss_fn=SF.ce_rate_loss(), devices="all") if caller == "evaluate" else net.predict(
            [(x, y)], devices="all")
        print(caller, "no error")
    except NonFiniteError as error:
        print(caller, error)
"""


def test_sharded_nan_input_is_named_as_the_input(tmp_path):
    lines = _finish(_run(_NAN_INPUT, tmp_path, devices=4)).splitlines()
    fit_lines = [line for line in lines if line.startswith(("frozen", "all"))]
    assert len(fit_lines) == 2
    for line in fit_lines:  # frozen first layer: no gradient sees it; all trained: the input is named before gradients
        assert "step 0 (counting from 0 in this fit call) met a bad value: the input batch (NaN or Inf) first" in line
    for caller in ("evaluate", "predict"):
        assert f"{caller} Trainer.{caller}: batch 0 (counting from 0) has NaN or Inf in its input." in lines
