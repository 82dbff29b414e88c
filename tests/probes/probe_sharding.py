"""Data parallelism over four virtual CPU devices: device arguments, batch splits, NaN and labels under
sharding, and results equal to one device."""

from __future__ import annotations

import tempfile
from pathlib import Path

import jax
import numpy as np
from _fixtures import FEATURES, labels, net, parameters, same, spikes
from _harness import probe

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

C = "data parallelism"


def _sharded(network=None, devices="all", **kwargs) -> snx.Trainer:
    network = network if network is not None else net()
    return snx.Trainer(network, optim.Adam(network.parameters(), lr=1e-2), SF.ce_rate_loss(), progress=False,
                       devices=devices, **kwargs)  # fmt: skip


def _batches(batch: int = 8, count: int = 2) -> list:
    return [(spikes(batch=batch, seed=i), labels(batch=batch, seed=i)) for i in range(count)]


@probe(C)
def four_devices_are_there():
    return len(jax.devices()) == 4


@probe(C, raises=ValueError, says=("6", "4 devices|divid", "4|8"))
def batch_that_does_not_divide_by_the_devices():
    _sharded().fit(_batches(batch=6))


@probe(C, raises=(ValueError, TypeError), says=("devices", "0"))
def zero_devices():
    _sharded(devices=0).fit(_batches())


@probe(C, raises=(ValueError, TypeError), says=("devices", "-1"))
def negative_device_count():
    _sharded(devices=-1).fit(_batches())


@probe(C, raises=ValueError, says=("devices", "5", "4"))
def more_devices_than_exist():
    _sharded(devices=5).fit(_batches())


@probe(C, raises=TypeError, says=("devices", "True"))
def devices_true():
    _sharded(devices=True).fit(_batches())


@probe(C, raises=(ValueError, TypeError), says=("devices", "gpu", "all"))
def devices_as_a_platform_name():
    _sharded(devices="gpu").fit(_batches())


@probe(C, raises=ValueError, says=("devices", "twice|more than once|duplicate"))
def a_device_listed_twice():
    device = jax.devices()[0]
    _sharded(devices=[device, device]).fit(_batches())


@probe(C, raises=(ValueError, TypeError), says=("devices", "empty|at least one"))
def an_empty_device_list():
    _sharded(devices=[]).fit(_batches())


@probe(C, raises=TypeError, says=("devices", "str|jax.Device|device"))
def device_list_of_strings():
    _sharded(devices=["cpu:0", "cpu:1"]).fit(_batches())


@probe(C, raises=snx.NonFiniteError, says=("input batch",))
def nan_input_with_a_frozen_first_layer():
    snx.manual_seed(0)
    network = nn.Sequential(nn.Linear(FEATURES, 4), nn.Leaky(beta=0.9), nn.Linear(4, 2), nn.Leaky(beta=0.9))
    network[0].weight.requires_grad = False
    network[0].bias.requires_grad = False
    data = _batches()
    data[1][0][0, 0, 0] = np.nan
    snx.Trainer(network, optim.Adam([p for p in network.parameters() if p.requires_grad], lr=1e-2),
                SF.ce_rate_loss(), progress=False, devices="all").fit(data)


@probe(C, raises=snx.NonFiniteError, says=("input batch",))
def nan_input_with_every_layer_trained():
    data = _batches()
    data[0][0][2, 5, 1] = np.nan
    _sharded().fit(data)


@probe(C, raises=(snx.NonFiniteError, ValueError), says=("label",))
def labels_out_of_range_on_the_last_device():
    data = _batches()
    data[0][1][7] = 9
    _sharded().fit(data)


@probe(C, raises=(snx.NonFiniteError, ValueError), says=("NaN|Inf", "input"))
def nan_input_in_sharded_evaluate():
    data = _batches()
    data[1][0][0, 7, 0] = np.nan
    _sharded().evaluate(data)


@probe(C, raises=(snx.NonFiniteError, ValueError), says=("label",))
def labels_out_of_range_in_sharded_evaluate():
    data = _batches()
    data[1][1][3] = -1
    _sharded().evaluate(data)


@probe(C)
def sharded_training_equals_one_device():
    one, four = net(), net()
    _sharded(one, devices=None).fit(_batches(), epochs=2, seed=1)
    _sharded(four).fit(_batches(), epochs=2, seed=1)
    return same(parameters(one), parameters(four), atol=1e-5)


@probe(C)
def sharded_training_with_a_short_last_batch_equals_one_device():
    data = _batches() + [(spikes(batch=2, seed=5), labels(batch=2, seed=5))]
    one, four = net(), net()
    _sharded(one, devices=None).fit(data, epochs=2, seed=1)
    _sharded(four).fit(data, epochs=2, seed=1)
    return same(parameters(one), parameters(four), atol=1e-5)


@probe(C)
def sharded_evaluate_equals_one_device():
    network = net()
    a = _sharded(network, devices=None).evaluate(_batches())["loss"]
    b = _sharded(network).evaluate(_batches())["loss"]
    return np.isclose(a, b, rtol=1e-5)


@probe(C)
def sharded_predict_equals_one_device():
    network = net()
    a = _sharded(network, devices=None).predict([x for x, _ in _batches()])
    b = _sharded(network).predict([x for x, _ in _batches()])
    a, b = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
    return np.allclose(np.asarray(a), np.asarray(b), atol=1e-6)


@probe(C)
def sharded_dropout_is_reproducible_with_a_seed():
    def build():
        snx.manual_seed(0)
        return nn.Sequential(nn.Linear(FEATURES, 4), nn.Dropout(0.5), nn.Leaky(beta=0.9), nn.Linear(4, 2),
                             nn.Leaky(beta=0.9))

    a, b = build(), build()
    _sharded(a).fit(_batches(), seed=4)
    _sharded(b).fit(_batches(), seed=4)
    return same(parameters(a), parameters(b))


@probe(C)
def sharded_resume_equals_an_uninterrupted_run():
    folder = Path(tempfile.mkdtemp(prefix="probe-dp-"))
    whole = net()
    _sharded(whole).fit(_batches(), epochs=2, seed=2)
    first = net()
    _sharded(first, callbacks=[snx.ModelCheckpoint(str(folder))]).fit(_batches(), epochs=1, seed=2)
    resumed = net()
    _sharded(resumed).fit(_batches(), epochs=2, seed=2, ckpt_path=next(folder.glob("epoch-*")))
    return same(parameters(whole), parameters(resumed))


@probe(C)
def sharded_gradient_clipping_and_scheduler_equal_one_device():
    def run(devices):
        network = net()
        opt = optim.SGD(network.parameters(), lr=0.5, max_grad_norm=0.01)
        t = snx.Trainer(network, opt, SF.ce_rate_loss(), progress=False, devices=devices)
        t.fit(_batches(), epochs=2, scheduler=optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
        return parameters(network)

    return same(run(None), run("all"), atol=1e-5)


@probe(C)
def torch_dataloader_feeds_sharded_fit():
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    x = torch.from_numpy(np.concatenate([s for s, _ in _batches()], axis=1).swapaxes(0, 1).copy())
    y = torch.from_numpy(np.concatenate([t for _, t in _batches()]).astype(np.int64))
    data = DataLoader(TensorDataset(x, y), batch_size=8)
    one, four = net(), net()
    _sharded(one, devices=None).fit(data, time_first=False, seed=1)
    _sharded(four).fit(data, time_first=False, seed=1)
    return same(parameters(one), parameters(four), atol=1e-5)


@probe(C, raises=ValueError, says=("batch 0", "time_first=False"))
def torch_dataloader_batch_first_without_time_first_false():
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    x = torch.zeros((16, 5, FEATURES))
    y = torch.zeros(16, dtype=torch.int64)
    _sharded().fit(DataLoader(TensorDataset(x, y), batch_size=8))


@probe(C, raises=ValueError, says=("batch 0", "2", "4 devices|divid"))
def first_batch_smaller_than_the_device_count():
    _sharded().fit([(spikes(batch=2), labels(batch=2))])
