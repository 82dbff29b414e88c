"""Data parallelism, second pass: device arguments through ``net.fit``/``evaluate``/``predict``, batch splits,
NaN and labels in the last shard, results equal to one device, checkpoints across device counts, dropout,
clipping with schedulers, and the torch loader bridge (``interop.torch_loader``) feeding sharded runs."""

from __future__ import annotations

import functools
import gc
import tempfile
import threading
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _fixtures import CLASSES, FEATURES, labels, parameters, same, spikes
from _harness import probe

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

C = "data parallelism"
STEPS = 4


def _net(seed: int = 0, dropout: float | None = None) -> nn.Sequential:
    snx.manual_seed(seed)
    layers = [nn.Linear(FEATURES, 4)] + ([nn.Dropout(dropout)] if dropout else [])
    return nn.Sequential(*layers, nn.Leaky(beta=0.9), nn.Linear(4, CLASSES), nn.Leaky(beta=0.9))


def _data(*sizes: int, steps: int = STEPS) -> list:
    """Time-first ``(x, y)`` batches of the given sizes, each with its own seed."""
    return [(spikes(steps=steps, batch=b, seed=i), labels(batch=b, seed=i)) for i, b in enumerate(sizes)]


def _train(network: nn.Module, data, devices, *, lr: float = 1e-2, opt=None, **fit_kwargs) -> dict:
    """Fit with Adam through ``net.fit`` and return a copy of the parameters."""
    opt = opt if opt is not None else optim.Adam(network.parameters(), lr=lr)
    network.fit(data, optimizer=opt, loss_fn=SF.ce_rate_loss(), progress=False, devices=devices, **fit_kwargs)
    return parameters(network)


def _fit_quietly(network: nn.Module, data, devices, **fit_kwargs):
    return network.fit(data, optimizer=optim.Adam(network.parameters(), lr=1e-2), loss_fn=SF.ce_rate_loss(),
                       progress=False, devices=devices, **fit_kwargs)  # fmt: skip


def _batch_first(data: list) -> tuple:
    """The batches of ``data`` joined into one batch-first dataset ``(x [N, T, F], y [N])`` as torch tensors."""
    import torch

    x = np.concatenate([b[0] for b in data], axis=1).swapaxes(0, 1).copy()
    y = np.concatenate([b[1] for b in data]).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


@functools.lru_cache(maxsize=1)
def _shared() -> tuple:
    """The shared network, its Adam, a loss, and copies of the weights and optimizer state at the start."""
    network = _net()
    opt = optim.Adam(network.parameters(), lr=1e-2)
    return network, opt, SF.ce_rate_loss(), parameters(network), opt.state


def _fresh() -> tuple:
    """``(network, optimizer, loss)`` shared by many probes, reset to where they started.

    ``net.fit`` keeps one trainer per (optimizer, loss), so the steps compiled for
    one device and for four serve every probe, as for a user who calls ``fit``
    again on one network.
    """
    network, opt, loss, weights, state = _shared()
    network.load_state_dict(weights)
    opt.state = jax.tree_util.tree_map(jnp.copy, state)
    return network, opt, loss


def _shared_fit(data, devices, **fit_kwargs) -> dict:
    """Fit the shared network from its start and return a copy of its parameters."""
    network, opt, loss = _fresh()
    network.fit(data, optimizer=opt, loss_fn=loss, progress=False, devices=devices, **fit_kwargs)
    return parameters(network)


# -- device arguments ---------------------------------------------------------------------------------------


@probe(C)
def devices_as_a_numpy_integer_count():
    # e.g. devices=np.int64(n) from an argparse/numpy computation: it is a count like any int.
    mesh = snx.Trainer(_net(), None, SF.ce_rate_loss(), devices=np.int64(2)).mesh
    return mesh is not None and list(mesh.devices.flat) == jax.devices()[:2]


@probe(C, raises=TypeError, says=(r"devices", r"\[0, 1\]", r"jax\.devices\(\)"))
def devices_as_torch_style_device_ids():
    # torch's DataParallel(device_ids=[0, 1]) habit.
    _fit_quietly(_net(), _data(8), devices=[0, 1])


@probe(C, raises=TypeError, says=(r"devices", r"CpuDevice\(id=1\)", r"\[device\]|list"))
def devices_as_one_device_not_in_a_list():
    _fit_quietly(_net(), _data(8), devices=jax.devices()[1])


@probe(C, raises=TypeError, says=(r"devices", r"Mesh", r"\.devices|jax\.Device"))
def devices_as_a_jax_mesh():
    from jax.sharding import Mesh

    _fit_quietly(_net(), _data(8), devices=Mesh(np.array(jax.devices()), ("batch",)))


@probe(C)
def devices_as_a_numpy_array_of_devices_through_net_evaluate():
    # mesh_utils.create_device_mesh((n,)) and np.array(jax.devices()) give arrays of devices, which Trainer accepts.
    network, data = _net(), _data(8)
    one = network.evaluate(data, loss_fn=SF.ce_rate_loss())
    two = network.evaluate(data, loss_fn=SF.ce_rate_loss(), devices=np.array(jax.devices()[:2]))
    return np.isclose(one["loss"], two["loss"], atol=1e-6)


@probe(C, raises=ValueError, says=(r"devices", r"'4'", r"an int|int\("))
def devices_as_a_string_count_from_the_command_line():
    _fit_quietly(_net(), _data(8), devices="4")


@probe(C, raises=ValueError, says=(r"devices=0", r"from 1 to 4|between 1 and 4|1 \.\. 4|1 <= .*<= 4"))
def devices_zero_through_net_evaluate():
    _net().evaluate(_data(8), loss_fn=SF.ce_rate_loss(), devices=0)


@probe(C, raises=ValueError, says=(r"devices=-1", r"'all'"))
def devices_minus_one_meaning_all_through_net_predict():
    # Lightning's Trainer(devices=-1) means every device.
    _net().predict(_data(8), devices=-1)


@probe(C, raises=ValueError, says=(r"'gpu'", r"'all'", r"cpu"))
def devices_gpu_on_a_cpu_only_machine_names_what_is_there():
    _fit_quietly(_net(), _data(8), devices="gpu")


@probe(C, raises=ValueError, says=(r"more than once|twice|duplicate", r"CpuDevice\(id=1\)"))
def devices_listed_twice_through_net_evaluate():
    d = jax.devices()
    _net().evaluate(_data(8), loss_fn=SF.ce_rate_loss(), devices=[d[1], d[2], d[1]])


@probe(C, raises=TypeError, says=(r"devices", r"None", r"jax\.Device"))
def devices_list_with_a_none_entry():
    _fit_quietly(_net(), _data(8), devices=[jax.devices()[0], None])


@probe(C, on_false="data-loss")
def bad_devices_assignment_keeps_the_trainer_usable():
    network = _net()
    trainer = snx.Trainer(network, optim.Adam(network.parameters(), lr=1e-2), SF.ce_rate_loss(), progress=False,
                          devices="all")  # fmt: skip
    try:
        trainer.devices = 5
    except ValueError:
        pass
    return trainer.devices == "all" and trainer.mesh is not None and trainer.mesh.devices.size == 4


# -- batch splits -----------------------------------------------------------------------------------------


@probe(C, raises=ValueError, says=(r"6 samples", r"4 devices", r"e\.g\. 4 or 8"))
def batch_of_six_on_four_devices_through_net_fit():
    _fit_quietly(_net(), _data(6, 6), devices="all")


@probe(C, raises=ValueError, says=(r"3 samples", r"4 devices", r"e\.g\. (\d+) or (?!\1\))\d+\)"))
def only_batch_smaller_than_the_device_count_suggests_two_different_sizes():
    _fit_quietly(_net(), _data(3), devices="all")


@probe(C, raises=ValueError, says=(r"evaluate", r"6 samples", r"4 devices"))
def evaluate_batch_that_does_not_divide_names_evaluate():
    _net().evaluate(_data(6), loss_fn=SF.ce_rate_loss(), devices="all")


@probe(C, raises=ValueError, says=(r"val|validation", r"6 samples", r"4 devices"))
def validation_batch_that_does_not_divide_names_the_validation_loader():
    _shared_fit(_data(8), "all", val_loader=_data(6))


@probe(C)
def predict_with_a_last_batch_smaller_than_the_device_count_equals_one_device():
    network, data = _fresh()[0], [x for x, _ in _data(8, 3)]
    one, four = network.predict(data), network.predict(data, devices="all")
    return one[0].shape == (STEPS, 11, CLASSES) and all(np.allclose(a, b, atol=1e-6) for a, b in zip(one, four))


@probe(C)
def evaluate_with_a_last_batch_of_one_equals_one_device():
    network, data = _net(), _data(8, 1)
    kwargs = dict(loss_fn=SF.ce_rate_loss(), metrics=[SF.accuracy_rate])
    one, four = network.evaluate(data, **kwargs), network.evaluate(data, devices="all", **kwargs)
    return one.keys() == four.keys() and all(np.isclose(one[k], four[k], atol=1e-6) for k in one)


@probe(C)
def batch_of_six_on_two_devices_equals_one_device():
    data = _data(6, 6)
    return same(_shared_fit(data, None), _shared_fit(data, 2), atol=1e-5)


# -- NaN and labels in the last shard ----------------------------------------------------------------------


@probe(C, raises=snx.NonFiniteError, says=(r"step 0", r"input batch", r"NaN or Inf"))
def inf_input_on_the_last_device_through_net_fit():
    data = _data(8)
    data[0][0][STEPS - 1, 7, FEATURES - 1] = np.inf
    _shared_fit(data, "all")


@probe(C, raises=snx.NonFiniteError, says=(r"step 1", r"input batch"))
def nan_in_the_short_last_batch_with_a_frozen_first_layer():
    network = _net()
    network[0].requires_grad_(False)
    data = _data(8, 2)
    data[1][0][0, 0, 0] = np.nan
    trained = [p for p in network.parameters() if p.requires_grad]
    network.fit(data, optimizer=optim.Adam(trained, lr=1e-2), loss_fn=SF.ce_rate_loss(), progress=False,
                devices="all")  # fmt: skip


@probe(C, on_false="data-loss")
def nan_stops_a_sharded_fit_with_the_last_good_parameters():
    good = _data(8)
    bad = _data(8, 8)
    bad[1][0][1, 6, 0] = np.nan
    expected = _shared_fit(good, None)
    try:
        _shared_fit(bad, "all")
        return False
    except snx.NonFiniteError:
        return same(parameters(_shared()[0]), expected, atol=1e-5)


@probe(C, raises=snx.NonFiniteError, says=(r"predict", r"batch 0", r"NaN or Inf"))
def nan_on_the_last_device_in_sharded_predict():
    x = spikes(batch=8)
    x[2, 7, 1] = np.nan
    _fresh()[0].predict([x], devices="all")


@probe(C, raises=snx.NonFiniteError, says=(r"evaluate", r"batch 1", r"label"))
def negative_label_in_a_short_last_batch_in_sharded_evaluate():
    data = _data(8, 3)
    data[1][1][0] = -1
    _net().evaluate(data, loss_fn=SF.ce_rate_loss(), devices="all")


@probe(C, on_false="data-loss")
def out_of_range_label_leaves_the_parameters_as_they_were():
    before = _shared()[3]
    data = _data(8)
    data[0][1][5] = 7
    try:
        _shared_fit(data, "all")
        return False
    except snx.NonFiniteError:
        return same(parameters(_shared()[0]), before)


# -- equal to one device ----------------------------------------------------------------------------------


@probe(C)
def two_named_devices_in_reverse_order_equal_one_device():
    d = jax.devices()
    data = _data(8, 8)
    one, two = _net(), _net()
    h1 = _fit_quietly(one, data, None, metrics=[SF.accuracy_rate], log_grad_norm=True)
    h2 = _fit_quietly(two, data, [d[3], d[1]], metrics=[SF.accuracy_rate], log_grad_norm=True)
    history_same = all(np.allclose(h1[k], h2[k], atol=1e-5) for k in ("loss", "accuracy_rate", "grad_norm"))
    return history_same and same(parameters(one), parameters(two), atol=1e-5)


@probe(C)
def sharded_accumulated_gradients_equal_one_device():
    data = _data(8, 8, 8, 4)
    return same(_shared_fit(data, None, accumulate_grad_batches=2),
                _shared_fit(data, "all", accumulate_grad_batches=2), atol=1e-5)  # fmt: skip


def _dropout_trainer(devices) -> snx.Trainer:
    network = _net(dropout=0.5)
    return snx.Trainer(network, optim.SGD(network.parameters(), lr=0.5), SF.ce_rate_loss(), progress=False,
                       devices=devices)  # fmt: skip


@probe(C)
def sharded_dropout_equals_one_device():
    one, four = _dropout_trainer(None), _dropout_trainer("all")
    one.fit(_data(8), seed=3)
    four.fit(_data(8), seed=3)
    return same(parameters(one.model), parameters(four.model), atol=1e-5)


@probe(C)
def sharded_dropout_same_seed_twice_is_identical_and_another_seed_differs():
    trainer = _dropout_trainer("all")
    start = parameters(trainer.model)  # plain SGD keeps no state: reloading the weights restarts the run

    def run(seed: int) -> dict:
        trainer.model.load_state_dict(start)
        trainer.fit(_data(8), seed=seed)
        return parameters(trainer.model)

    a, b, c = run(5), run(5), run(6)
    return same(a, b) and not same(a, c, atol=1e-7)


@probe(C)
def sharded_clipping_with_a_per_step_scheduler_equals_one_device():
    def run(devices):
        network = _net()
        opt = optim.Adam(network.parameters(), lr=1e-2, max_grad_norm=0.05)
        # torch's idiom: one step per batch, epochs * len(loader) in all.
        scheduler = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, epochs=2, steps_per_epoch=3)
        return _train(network, _data(8, 8, 4), devices, opt=opt, epochs=2, scheduler=scheduler)

    return same(run(None), run("all"), atol=1e-5)


@probe(C)
def sharded_clipping_bounds_the_update():
    network = _net()
    before = parameters(network)
    opt = optim.SGD(network.parameters(), lr=1.0, max_grad_norm=1e-3)
    after = _train(network, _data(8), "all", opt=opt, scheduler=optim.lr_scheduler.StepLR(opt, step_size=1))
    step = np.sqrt(sum(np.sum((after[k] - before[k]) ** 2) for k in before))
    return 0 < step <= 1e-3 * (1 + 1e-4)


# -- checkpoints across device counts -----------------------------------------------------------------------


@probe(C)
def checkpoint_of_a_sharded_run_resumes_on_one_device():
    folder = Path(tempfile.mkdtemp(prefix="probe-dp2-"))
    data = _data(8, 8)
    whole = _shared_fit(data, None, epochs=2, seed=2)
    _shared_fit(data, "all", seed=2, callbacks=[snx.ModelCheckpoint(str(folder))])
    resumed = _shared_fit(data, None, epochs=2, seed=2, ckpt_path=folder / "epoch-0000.safetensors")
    return same(whole, resumed, atol=1e-5)


@probe(C)
def checkpoint_of_a_single_device_run_resumes_on_four_devices():
    folder = Path(tempfile.mkdtemp(prefix="probe-dp2-"))
    data = _data(8, 8)
    whole = _shared_fit(data, "all", epochs=2, seed=2)
    _shared_fit(data, None, seed=2, callbacks=[snx.ModelCheckpoint(str(folder))])
    resumed = _shared_fit(data, "all", epochs=2, seed=2, resume=folder / "epoch-0000.safetensors")
    return same(whole, resumed, atol=1e-5)


@probe(C, on_false="data-loss")
def save_after_a_sharded_fit_round_trips():
    path = Path(tempfile.mkdtemp(prefix="probe-dp2-")) / "weights.safetensors"
    trained = _shared_fit(_data(8), "all")
    snx.save(_shared()[0], path)
    fresh = _net(seed=9)
    fresh.load_state_dict(snx.load(path))
    return same(parameters(fresh), trained)


@probe(C)
def plain_forward_after_a_sharded_fit_equals_predict():
    _shared_fit(_data(8), "all")
    network = _shared()[0]
    x = spikes(batch=8, seed=7)
    predicted = network.predict([x])
    network.eval()
    try:
        direct = network(x)
    finally:
        network.train()
    direct = direct[0] if isinstance(direct, tuple) else direct
    return np.allclose(np.asarray(direct), np.asarray(predicted[0]), atol=1e-6)


@probe(C)
def single_device_fit_after_a_sharded_fit_continues_like_one_device_throughout():
    data = _data(8)
    expected = _shared_fit(data, None, epochs=2)  # one optimizer, so two fit calls make two epochs
    _shared_fit(data, "all")
    network, opt, loss = _shared()[:3]
    network.fit(data, optimizer=opt, loss_fn=loss, progress=False)
    return same(parameters(network), expected, atol=1e-5)


# -- the torch loader bridge ------------------------------------------------------------------------------


@probe(C)
def torch_loader_over_a_generator_feeds_a_sharded_fit():
    from interop import torch_loader

    data = _data(8, 8)
    batches = (([x.swapaxes(0, 1) for x, _ in data][i], data[i][1]) for i in range(2))
    expected = _shared_fit(data, None)
    return same(_shared_fit(torch_loader(batches), "all"), expected, atol=1e-5)


@probe(C, raises=ValueError, says=(r"torch_loader", r"time_first=True", r"\(5, 8, 3\)|\[5, 8"))
def torch_loader_given_time_first_batches_as_batch_first():
    # tonic's PadTensors(batch_first=False) collates [T, B, ...]; the bridge assumes batch-first by default.
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from interop import torch_loader

    time_first = lambda items: (torch.stack([x for x, _ in items], 1), torch.stack([y for _, y in items]))  # noqa: E731
    x, y = torch.zeros((16, 5, FEATURES)), torch.zeros(16, dtype=torch.int64)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, collate_fn=time_first)
    _fit_quietly(_net(), torch_loader(loader), devices="all")


@probe(C, raises=ValueError, says=(r"torch_loader", r"time_first=False|batch-first"))
def torch_loader_given_batch_first_batches_as_time_first():
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from interop import torch_loader

    x, y = torch.zeros((16, 5, FEATURES)), torch.zeros(16, dtype=torch.int64)
    _fit_quietly(_net(), torch_loader(DataLoader(TensorDataset(x, y), batch_size=8), time_first=True), devices="all")


@probe(C, raises=ValueError, says=(r"torch_loader|already time-first", r"time_first=True|leave time_first"))
def torch_loader_then_fit_time_first_false():
    # The bridge already made the batches time-first; telling fit they are batch-first swaps them back.
    from torch.utils.data import DataLoader, TensorDataset

    from interop import torch_loader

    x, y = _batch_first(_data(8, 8, steps=5))
    _fit_quietly(_net(), torch_loader(DataLoader(TensorDataset(x, y), batch_size=8)), devices="all",
                 time_first=False)  # fmt: skip


@probe(C, raises=ValueError, says=(r"torch_loader|already time-first", r"time_first"))
def torch_loader_then_fit_time_first_false_with_as_many_steps_as_samples():
    # As above with T == B == 4: the swapped batch has the right shape, so only the flag can tell.
    from torch.utils.data import DataLoader, TensorDataset

    from interop import torch_loader

    x, y = _batch_first(_data(4, 4))
    _shared_fit(torch_loader(DataLoader(TensorDataset(x, y), batch_size=4)), "all", time_first=False)


@probe(C)
def torch_loader_drop_last_under_sharding_equals_one_device():
    from torch.utils.data import DataLoader, TensorDataset

    from interop import torch_loader

    x, y = _batch_first(_data(8, 8, 2))
    loader = torch_loader(DataLoader(TensorDataset(x, y), batch_size=8, drop_last=True))
    return len(loader) == 2 and same(_shared_fit(loader, "all"), _shared_fit(_data(8, 8), None), atol=1e-5)


@probe(C, raises=ValueError, says=(r"keep_lengths", r"lengths", r"collate_padded"))
def torch_loader_keep_lengths_without_lengths_in_the_batches():
    from torch.utils.data import DataLoader, TensorDataset

    from interop import torch_loader

    x, y = _batch_first(_data(8))
    _fit_quietly(_net(), torch_loader(DataLoader(TensorDataset(x, y), batch_size=8), keep_lengths=True),
                 devices="all")  # fmt: skip


@probe(C)
def torch_loader_padded_lengths_sharded_equal_one_device():
    import torch
    from torch.utils.data import DataLoader

    from interop import collate_padded, torch_loader

    rng = np.random.default_rng(0)
    samples = [(torch.from_numpy((rng.random((int(n), FEATURES)) < 0.5).astype(np.float32)), torch.tensor(i % 2))
               for i, n in enumerate(rng.integers(1, 6, 12))]  # fmt: skip
    loader = torch_loader(DataLoader(samples, batch_size=8, collate_fn=collate_padded(pad_to=5)), keep_lengths=True)
    return same(_shared_fit(loader, None), _shared_fit(loader, "all"), atol=1e-5)


@probe(C)
def torch_loader_thread_ends_after_a_sharded_fit_refuses_the_batch():
    from torch.utils.data import DataLoader, TensorDataset

    from interop import torch_loader

    x, y = _batch_first(_data(6, 6, 6))
    before = threading.active_count()
    try:
        _fit_quietly(_net(), torch_loader(DataLoader(TensorDataset(x, y), batch_size=6)), devices="all")
        return False
    except ValueError:
        pass
    for _ in range(20):
        gc.collect()
        if threading.active_count() <= before:
            return True
        time.sleep(0.05)
    return False
