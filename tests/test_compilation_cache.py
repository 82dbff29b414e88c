"""The persistent compilation cache: a second process compiles nothing; the switches and the folder rules."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from snnax_torchlike import compilation_cache

ROOT = Path(__file__).resolve().parents[1]

# fit (a donated, jitted step), evaluate, an snx.compile closure and an imperative loop with
# loss.backward() / optimizer.step(): every kind of compiled program the library makes.
_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    events = {}
    jax.monitoring.register_event_listener(lambda name, **kw: events.__setitem__(name, events.get(name, 0) + 1))
    import numpy as np
    import snnax_torchlike as snx
    from snnax_torchlike import functional as SF, nn, optim

    snx.manual_seed(0)
    net = nn.Sequential(nn.Linear(16, 24), nn.Leaky(beta=0.9), nn.Linear(24, 4), nn.Leaky(beta=0.9))
    rng = np.random.default_rng(0)
    x = (rng.random((8, 48, 16)) < 0.3).astype(np.float32)
    y = rng.integers(0, 4, 48)
    loader = [(x[:, i : i + 16], y[i : i + 16]) for i in range(0, 48, 16)]
    optimizer = optim.Adam(net.parameters(), lr=1e-2)
    history = net.fit(loader, epochs=2, optimizer=optimizer, loss_fn=SF.ce_rate_loss(), progress=False)
    evaluated = net.evaluate(loader, loss_fn=SF.ce_rate_loss())

    scale = 2.0
    @snx.compile
    def rate(inputs):
        spikes, _ = net(inputs)
        return spikes.mean() * scale  # a closure over a Python value
    compiled = float(rate(x[:, :16]))

    loss_fn = SF.ce_rate_loss()
    for inputs, targets in loader:
        optimizer.zero_grad()
        spikes, _ = net(inputs)
        loss = loss_fn(spikes, targets)
        loss.backward()
        optimizer.step()
    json.dump({"folder": str(snx.compilation_cache.folder()), "events": events, "history": history["loss"],
               "evaluated": evaluated["loss"], "compiled": compiled, "last": float(loss)}, sys.stdout)
    """
)


def _run(script: str, **environment: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("SNNAX_COMPILATION_CACHE",
                                                                         "JAX_COMPILATION_CACHE_DIR")}  # fmt: skip
    env.update(environment, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_every_program_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    first = _run(_SCRIPT, SNNAX_COMPILATION_CACHE=str(cache))
    second = _run(_SCRIPT, SNNAX_COMPILATION_CACHE=str(cache))
    assert first["folder"] == second["folder"] == str(cache)
    misses, hits = "/jax/compilation_cache/cache_misses", "/jax/compilation_cache/cache_hits"
    requests = first["events"]["/jax/compilation_cache/compile_requests_use_cache"]
    assert first["events"][misses] == requests > 0 and hits not in first["events"]
    # Every program the second run needs (the same ones) comes from the cache: nothing is compiled.
    assert second["events"][hits] == requests and misses not in second["events"]
    for name in ("history", "evaluated", "compiled", "last"):
        assert second[name] == first[name], name  # the cached programs compute the same numbers


_FOLDER = "import snnax_torchlike as snx, json; print(json.dumps(str(snx.compilation_cache.folder())))"


def test_the_default_folder_is_per_user_and_the_switch_turns_it_off(tmp_path):
    assert _run(_FOLDER, XDG_CACHE_HOME=str(tmp_path)) == str(tmp_path / "snnax_torchlike" / "jax")
    assert (tmp_path / "snnax_torchlike" / "jax").is_dir()
    for off in ("0", "off", "false"):
        assert _run(_FOLDER, XDG_CACHE_HOME=str(tmp_path), SNNAX_COMPILATION_CACHE=off) == "None"


def test_a_folder_given_to_jax_is_kept(tmp_path):
    own = tmp_path / "own"
    assert _run(_FOLDER, JAX_COMPILATION_CACHE_DIR=str(own), XDG_CACHE_HOME=str(tmp_path)) == str(own)


def test_an_unwritable_default_folder_warns_and_the_import_works(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = {key: value for key, value in os.environ.items() if key != "SNNAX_COMPILATION_CACHE"}
    env.update(XDG_CACHE_HOME=str(blocker), PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", _FOLDER], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == '"None"'
    assert "RuntimeWarning: snnax_torchlike: the persistent compilation cache is off" in result.stderr
    assert "Set SNNAX_COMPILATION_CACHE to a writable folder" in result.stderr


def test_enable_checks_its_size_limit(tmp_path):
    with pytest.raises(ValueError, match="max_size_bytes must be -1 or > 0, got 0"):
        compilation_cache.enable(tmp_path, max_size_bytes=0)


def test_a_hand_written_loop_compiles_its_shorter_last_batch_once_per_run():
    """snnTorch's loop with a last batch of 8 after two of 16: both shapes compile in the first epoch, none after."""
    import jax
    import numpy as np

    import snnax_torchlike as snx
    from snnax_torchlike import functional as SF
    from snnax_torchlike import nn, optim

    requests = []

    def count(name, *args, **kwargs):
        if name in ("/jax/core/compile/backend_compile_duration", "/jax/compilation_cache/compile_requests_use_cache"):
            requests.append(name)

    jax.monitoring.register_event_listener(count)
    jax.monitoring.register_event_duration_secs_listener(count)
    snx.manual_seed(0)
    net = nn.Sequential(nn.Linear(16, 24), nn.Leaky(beta=0.9), nn.Linear(24, 4), nn.Leaky(beta=0.9))
    rng = np.random.default_rng(0)
    x, y = (rng.random((8, 40, 16)) < 0.3).astype(np.float32), rng.integers(0, 4, 40)
    loader = [(x[:, i : i + 16], y[i : i + 16]) for i in range(0, 40, 16)]
    optimizer, loss_fn = optim.Adam(net.parameters(), lr=1e-2), SF.ce_rate_loss()
    per_epoch = []
    try:
        for _ in range(3):
            before = len(requests)
            for inputs, targets in loader:
                optimizer.zero_grad()
                spikes, _ = net(inputs)
                loss_fn(spikes, targets).backward()
                optimizer.step()
            per_epoch.append(len(requests) - before)
    finally:
        jax.monitoring.unregister_event_listener(count)
        jax.monitoring.unregister_event_duration_listener(count)
    assert per_epoch[0] > 0 and per_epoch[1:] == [0, 0], per_epoch
