"""Loader items and convolution inputs that used to give silent wrong results or cryptic errors raise clearly."""

import numpy as np
import pytest

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

STEPS, BATCH, FEATURES, CLASSES = 5, 4, 3, 2


@pytest.fixture(scope="module")
def trainer():
    snx.manual_seed(0)
    net = nn.Sequential(nn.Linear(FEATURES, CLASSES), nn.Leaky(beta=0.9))
    return snx.Trainer(net, optim.Adam(net.parameters()), SF.ce_rate_loss(), progress=False)


def _batch(steps=STEPS, batch=BATCH):
    rng = np.random.default_rng(1)
    x = (rng.random((steps, batch, FEATURES)) < 0.5).astype(np.float32)
    return x, rng.integers(0, CLASSES, batch).astype(np.int32)


def test_sample_indices_as_third_item_are_refused_not_used_as_lengths(trainer):
    x, y = _batch()
    indices = np.arange(BATCH)  # (x, y, sample_index): integers [B] in [0, T], which lengths allowed before
    hint = r"third item is read as each sample's true number of time steps.*sample indices.*collate_fn"
    with pytest.raises(ValueError, match=r"batch 0: lengths must lie in \[1, T\] = \[1, 5\].*sample 0 has length 0.*" + hint):
        trainer.fit([(x, y, indices)])
    with pytest.raises(ValueError, match=r"batch 1: lengths must lie in \[1, T\].*sample 0 has length 40.*" + hint):
        trainer.evaluate([(x, y, np.full(BATCH, 2)), (x, y, indices + 40)])
    with pytest.raises(TypeError, match=r"lengths must be integers.*float64.*" + hint):
        trainer.predict([(x, y, np.linspace(0.0, 1.0, BATCH))])
    with pytest.raises(ValueError, match=r"lengths must have shape \[B\] = \(4,\).*got shape \(4, 2\).*" + hint):
        trainer.fit([(x, y, np.ones((BATCH, 2), np.int64))])
    with pytest.raises(TypeError, match=r"of length 4; drop extra items \(sample indices, metadata\).*collate_fn"):
        trainer.fit([(x, y, np.full(BATCH, STEPS), indices)])
    assert trainer.trace_count == 0  # all refused on the host, before any step


@pytest.mark.parametrize("time_first", [True, False])
@pytest.mark.parametrize("steps,batch", [(0, BATCH), (STEPS, 0)])
def test_empty_batches_raise_a_value_error_naming_the_shape(trainer, steps, batch, time_first):
    x, y = _batch(steps, batch)
    shape = (steps, batch, FEATURES) if time_first else (batch, steps, FEATURES)
    layout = r"\[T, B, \.\.\.\]" if time_first else r"\[B, T, \.\.\.\]"
    x = x if time_first else np.swapaxes(x, 0, 1)
    with pytest.raises(ValueError, match=rf"batch 0: inputs {layout} of shape {shape}".replace("(", r"\(").replace(")", r"\)")):
        trainer.fit([(x, y)], time_first=time_first)
    with pytest.raises(ValueError, match=r"are empty; every batch needs at least one sample and one time step"):
        trainer.predict([x], time_first=time_first)


def test_a_generator_consumed_in_epoch_one_is_named_in_epoch_two(trainer):
    x, y = _batch()
    with pytest.raises(ValueError, match=r"no batches in epoch 2 \(epoch 1 had some\).*generator or iterator can be "
                       r"consumed only once.*re-iterable loader \(a list, a DataLoader\)"):
        trainer.fit(((x, y) for _ in range(2)), epochs=2)
    with pytest.raises(ValueError, match=r"^Trainer\.fit: the training loader yielded no batches\.$"):
        trainer.fit([], epochs=2)  # empty from the start: nothing about generators
    history = trainer.fit([(x, y)] * 2, epochs=2)  # a list is re-iterable
    assert len(history.epoch) >= 2


@pytest.mark.parametrize("path", ["facade", "core_layer"])
def test_convolution_inputs_smaller_than_the_kernel_or_with_other_channels_raise(path):
    def call(layer, x):
        return layer(x) if path == "facade" else layer.core_layer()(x)

    small = np.zeros((1, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"Conv2d: input of shape \(1, 2, 3, 3\) is smaller than the kernel.*"
                       r"padding \(\(0, 0\), \(0, 0\)\).*kernel_size \(5, 5\).*needs at least \(5, 5\)"):
        call(nn.Conv2d(2, 4, 5), small)
    assert call(nn.Conv2d(2, 4, 5, padding=1), small).shape == (1, 4, 1, 1)  # padding makes it fit, as in torch
    with pytest.raises(ValueError, match=r"Conv1d: input of shape \(2, 5\).*dilation \(3,\) needs at least \(7,\)"):
        call(nn.Conv1d(2, 4, 3, dilation=3), np.zeros((2, 5), np.float32))  # was an empty [4, 0] output
    with pytest.raises(ValueError, match=r"Conv2d: expected \[B, 2, \*, \*\].*got shape \(1, 3, 8, 8\)"):
        call(nn.Conv2d(2, 4, 3), np.zeros((1, 3, 8, 8), np.float32))  # was a reshape TypeError
    with pytest.raises(ValueError, match=r"Conv2d: expected \[B, 4, \*, \*\].*got shape \(1, 2, 8, 8\)"):
        call(nn.Conv2d(4, 4, 3, groups=2), np.zeros((1, 2, 8, 8), np.float32))


def test_device_arguments_that_are_not_a_device_list_get_clear_errors():
    import jax

    from snnax_torchlike.train._sharding import data_parallel_mesh

    with pytest.raises(TypeError, match=r"devices must be None, 'all', an int or a list of jax.Device, got True"):
        data_parallel_mesh(True)
    device = jax.devices()[0]
    with pytest.raises(ValueError, match="devices lists a device more than once"):
        data_parallel_mesh([device, device])
    assert data_parallel_mesh([device]).devices.size == 1
