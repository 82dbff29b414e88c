"""``net.summary(...)``: rows, shapes and counts agree with a real forward pass; ``print(net)`` agrees with torch."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _networks import TutorialLoopNet

import snnax_torchlike as snx
from snnax_torchlike import nn, utils
from snnax_torchlike.nn.neuron import SnnTorchNeuron

T, B = 6, 3


def _shapes(output) -> list[tuple[int, ...]]:
    return [tuple(leaf.shape) for leaf in jax.tree_util.tree_leaves(output, is_leaf=lambda x: hasattr(x, "shape"))]


def _rows(result) -> dict[str, nn.LayerSummary]:
    return {row.name: row for row in result.layers}


def _stepped_shapes(layers, x_step) -> list[tuple[int, ...]]:
    """Each layer's output shape over T steps, from applying the layers to one real step ``[B, ...]`` in turn."""
    shapes = []
    for layer in layers:
        out = layer(x_step)
        x_step = out[0] if isinstance(out, tuple) else out
        shapes.append((T,) + tuple(x_step.shape))
    return shapes


def _assert_counts(net, result) -> None:
    params = list(net.parameters())
    assert result.total_params == sum(p.numel() for p in params)
    assert result.trainable_params == sum(p.numel() for p in params if p.requires_grad)
    assert result.frozen_params == sum(p.numel() for p in params if not p.requires_grad)
    assert sum(row.params for row in result.layers) == result.total_params
    assert result.param_bytes == 4 * result.total_params


def test_sequential_counts_shapes_and_state():
    snx.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 16), nn.Leaky(beta=0.9), nn.Linear(16, 5), nn.Synaptic(alpha=0.8, beta=0.9))
    x = np.random.default_rng(0).random((T, B, 20), dtype=np.float32)
    result = net.summary((T, B, 20), training_memory=False)
    _assert_counts(net, result)
    assert list(result.output_shapes) == _shapes(net(x)) == [(T, B, 5), (T, B, 5)]
    rows = _rows(result)
    assert [row.name for row in result.layers] == ["", "0", "1", "2", "3"]
    assert [rows[str(i)].output_shapes[0] for i in range(4)] == _stepped_shapes(net, x[0])
    assert [rows[str(i)].params for i in range(4)] == [20 * 16 + 16, 0, 16 * 5 + 5, 0]
    # Leaky carries its membrane, Synaptic its synaptic current and membrane.
    assert [rows[str(i)].state_size for i in range(4)] == [0, 16, 0, 2 * 5]
    assert result.state_size == 26


def _loop_net():
    return TutorialLoopNet(12, 8, 4)


def test_module_with_a_loop_over_time_shows_per_sequence_shapes():
    net = _loop_net()
    x = np.random.default_rng(1).random((T, B, 12), dtype=np.float32)
    result = nn.summary(net, x, training_memory=False)
    _assert_counts(net, result)
    assert list(result.output_shapes) == _shapes(net(x)) == [(T, B, 4), (T, B, 4)]
    rows = _rows(result)
    # Called once per step: shown once, with the shape over the sequence (neurons return spikes and membrane).
    assert rows["fc1"].output_shapes == ((T, B, 8),)
    assert rows["lif1"].output_shapes == ((T, B, 8), (T, B, 8))
    assert rows["fc2"].output_shapes == ((T, B, 4),)
    assert [rows[name].state_size for name in ("fc1", "lif1", "fc2", "lif2")] == [0, 8, 0, 4]
    assert str(result).count("fc1 (Linear)") == 1


def test_a_loop_over_a_static_input_takes_the_steps_from_the_output():
    class StaticInput(TutorialLoopNet):
        def forward(self, x):
            mem = self.lif2.init_leaky()
            spikes = []
            for _ in range(T):
                spk, mem = self.lif2(self.fc2(self.fc1(x)), mem)
                spikes.append(spk)
            return jnp.stack(spikes)

    net = StaticInput(12, 8, 4)
    result = net.summary((B, 12), training_memory=False)
    assert list(result.output_shapes) == _shapes(net(np.zeros((B, 12), np.float32))) == [(T, B, 4)]
    assert _rows(result)["fc1"].output_shapes == ((T, B, 8),)
    assert _rows(result)["lif1"].output_shapes == ()  # never called: no shape


def test_conv_network_shapes_equal_the_forward_pass():
    snx.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3), nn.MaxPool2d(2), nn.Leaky(beta=0.5), nn.Dropout(0.2),
        nn.Flatten(), nn.Linear(4 * 5 * 5, 10), nn.Leaky(beta=0.5),
    )  # fmt: skip
    x = np.random.default_rng(2).random((T, B, 2, 12, 12), dtype=np.float32)
    rng_state = snx.random.get_rng_state()
    result = net.summary(x, training_memory=False)
    assert np.array_equal(snx.random.get_rng_state(), rng_state)  # no key drawn from the global stream
    _assert_counts(net, result)
    assert list(result.output_shapes) == _shapes(net(x))
    rows = _rows(result)
    assert [rows[str(i)].output_shapes[0] for i in range(len(net))] == _stepped_shapes(net, x[0])
    assert rows["2"].state_size == 4 * 5 * 5 and rows["6"].state_size == 10
    assert rows["0"].params == 4 * 2 * 3 * 3 + 4


def test_network_that_keeps_hidden_state_is_stepped_as_fit_steps_it():
    net = nn.Sequential(nn.Linear(10, 7), nn.Leaky(beta=0.9, init_hidden=True), nn.Linear(7, 2),
                        nn.Leaky(beta=0.9, init_hidden=True, output=True))  # fmt: skip
    x = np.random.default_rng(3).random((T, B, 10), dtype=np.float32)
    utils.reset(net)
    real = [net(x[t]) for t in range(T)]
    kept = net[1].mem
    result = net.summary((T, B, 10))
    assert net[1].mem is kept  # the summary leaves the hidden state as it found it
    assert list(result.output_shapes) == [(T,) + shape for shape in _shapes(real[0])]
    utils.reset(net)
    assert [row.output_shapes[0] for row in result.layers[1:]] == _stepped_shapes(net, x[0])
    assert result.training_memory.total_bytes > 0


def test_graph_children_and_a_delayed_edge():
    graph = nn.Graph(
        {"fc": nn.Linear(4, 6), "lif": nn.Leaky(beta=0.9), "rec": nn.Linear(6, 6)},
        [("input", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif", 1), ("lif", "output")],
    )
    x = np.zeros((T, B, 4), np.float32)
    result = graph.summary(x, training_memory=False)
    _assert_counts(graph, result)
    assert list(result.output_shapes) == _shapes(graph(x))
    rows = _rows(result)
    assert [rows[name].output_shapes for name in ("fc", "lif", "rec")] == [((T, B, 6),)] * 3
    # The membrane of `lif`, and the one step of `rec`'s output its delayed edge keeps.
    assert (rows["lif"].state_size, rows["rec"].state_size) == (6, 6)


def test_frozen_layer_counts_as_frozen_and_is_left_out_of_the_gradients():
    net = nn.Sequential(nn.Linear(20, 30), nn.Leaky(beta=0.9), nn.Linear(30, 5), nn.Leaky(beta=0.9))
    net[0].requires_grad_(False)
    result = net.summary((T, B, 20))
    _assert_counts(net, result)
    assert (result.trainable_params, result.frozen_params) == (30 * 5 + 5, 20 * 30 + 30)
    rows = _rows(result)
    assert (rows["0"].trainable_params, rows["2"].trainable_params) == (0, 155)
    text = str(result)
    assert "Frozen params: 630" in text and "Trainable params: 155" in text
    # The gradients XLA returns are those of the trainable parameters only (plus the tuple's index).
    assert 4 * 155 <= result.training_memory.output_bytes < 4 * 155 + 256
    assert result.training_memory.argument_bytes >= 4 * (785 + T * B * 20)


def test_a_layer_used_twice_is_counted_once():
    shared = nn.Linear(6, 6)
    net = nn.Sequential(shared, nn.Leaky(beta=0.9), shared, nn.Leaky(beta=0.9))
    result = net.summary((T, B, 6), training_memory=False)
    _assert_counts(net, result)
    assert result.total_params == 42
    rows = _rows(result)
    assert (rows["0"].params, rows["2"].params, rows["2"].shared_with) == (42, 0, "0")
    assert rows["2"].output_shapes == ((T, B, 6),)
    assert "shared: 0" in str(result)


def test_a_tied_parameter_and_a_layer_called_twice_per_step_are_counted_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.lif = nn.Linear(5, 5), nn.Linear(5, 5, bias=False), nn.Leaky(beta=0.9)
            self.b.weight = self.a.weight

        def forward(self, x):
            mem, out = self.lif.init_leaky(), []
            for t in range(x.shape[0]):
                spk, mem = self.lif(self.b(self.a(self.a(x[t]))), mem)
                out.append(spk)
            return jnp.stack(out)

    net = Tied()
    result = net.summary((T, B, 5), training_memory=False)
    _assert_counts(net, result)
    assert result.total_params == 30
    rows = _rows(result)
    assert (rows["a"].params, rows["b"].params) == (30, 0)
    assert rows["a"].output_shapes == ((T, B, 5),)


@pytest.mark.parametrize("shape", [(T, 3.0, 20), (T, "B", 20), (T, 0, 20), ()])
def test_a_shape_that_is_not_positive_ints_is_refused(shape):
    net = nn.Sequential(nn.Linear(20, 4), nn.Leaky(beta=0.9))
    with pytest.raises(ValueError, match=r"summary: a shape must be a tuple of positive ints.*got \("):
        net.summary(shape)


@pytest.mark.parametrize(("net", "shape", "cause"), [
    (nn.Sequential(nn.Linear(20, 4), nn.Leaky(beta=0.9)), (B, 20), "Sequential: expected a time-first input"),
    (nn.Sequential(nn.Linear(20, 4), nn.Leaky(beta=0.9)), (T, B, 21), "layer 0 (Linear): cannot take an input"),
    (_loop_net(), (T, B, 11), "Linear: expected inputs whose last axis has 12 features"),
])  # fmt: skip
def test_a_shape_the_first_layer_cannot_take_names_summary_and_the_shapes(net, shape, cause):
    with pytest.raises(ValueError, match=rf"summary: {type(net).__name__} cannot run on an input of shape "
                                         rf"{re.escape(str(shape))} \(float32\): {re.escape(cause)}"):  # fmt: skip
        net.summary(shape)


def test_a_non_numeric_example_is_refused():
    with pytest.raises(ValueError, match="summary: expected a shape tuple"):
        nn.summary(nn.Linear(2, 2), "abc")
    with pytest.raises(TypeError, match="summary: expected an nn.Module, got function"):
        nn.summary(lambda x: x, (T, B, 2))


def test_examples_of_every_kind_give_the_shape_and_the_classes_are_left_as_they_were():
    torch = pytest.importorskip("torch")
    net = nn.Sequential(nn.Linear(20, 4), nn.Leaky(beta=0.9))
    by_shape = net.summary((T, B, 20), training_memory=False)
    for example in (np.zeros((T, B, 20)), jnp.zeros((T, B, 20)), torch.zeros(T, B, 20), torch.Size([T, B, 20])):
        assert nn.summary(net, example, training_memory=False) == by_shape
    assert "__call__" not in nn.Leaky.__dict__ and nn.Leaky.__call__ is SnnTorchNeuron.__call__
    assert nn.Linear.__call__ is nn.Module.__call__


def test_the_table_lists_rows_and_totals():
    net = nn.Sequential(nn.Linear(20, 16), nn.Leaky(beta=0.9), nn.Linear(16, 5), nn.Leaky(beta=0.9))
    result = net.summary((25, 128, 20))
    text = str(result)
    assert repr(result) == text
    lines = text.splitlines()
    assert lines[1].split() == ["Layer", "(type)", "Output", "shape", "Param", "#", "Trainable", "State", "#"]
    assert lines[4].split() == ["0", "(Linear)", "[25,", "128,", "16]", "336", "yes", "--"]
    assert lines[5].split() == ["1", "(Leaky)", "[25,", "128,", "16]", "0", "--", "16"]
    assert "Total params: 421" in text and "Neuron state per sample: 21 values" in text
    memory = result.training_memory
    assert memory.total_bytes == memory.argument_bytes + memory.temp_bytes + memory.output_bytes - memory.alias_bytes
    assert f"{memory.total_bytes / 1e6:,.2f}" in text or f"{memory.total_bytes / 1e6:.3g}" in text
    assert "Training memory: not computed" in str(net.summary((25, 128, 20), training_memory=False))


def test_training_memory_without_an_analysis_shows_n_a(monkeypatch):
    monkeypatch.setattr(jax.stages.Compiled, "memory_analysis", lambda self: None)
    result = nn.Sequential(nn.Linear(3, 2), nn.Leaky(beta=0.9)).summary((T, B, 3))
    assert result.training_memory.total_bytes is None
    assert "Training memory (MB), forward + backward: n/a" in str(result)


_TORCH_LAYERS = [
    ("Linear", (3, 4), {}),
    ("Linear", (3, 4), {"bias": False}),
    ("Conv2d", (1, 8, 5), {}),
    ("Conv2d", (1, 8, 3), {"stride": 2, "padding": 1}),
    ("Conv2d", (4, 8, (3, 5)), {"stride": (2, 1), "padding": (1, 2), "dilation": 2, "groups": 2, "bias": False}),
    ("Conv1d", (2, 4, 3), {"padding": "same"}),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((2, 3),), {"stride": 1, "padding": 1}),
    ("AvgPool2d", (2,), {}),
    ("Flatten", (), {}),
    ("Dropout", (), {}),
    ("Dropout", (0.2,), {}),
    ("LayerNorm", (4,), {}),
    ("LayerNorm", ([2, 3],), {"elementwise_affine": False}),
    ("BatchNorm1d", (4,), {}),
    ("BatchNorm2d", (4,), {"affine": False}),
    ("LSTMCell", (3, 4), {}),
    ("LSTMCell", (3, 4), {"bias": False}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), _TORCH_LAYERS)
def test_layer_repr_equals_torch(name, args, kwargs):
    torch = pytest.importorskip("torch")
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


def test_nested_repr_equals_torch():
    torch = pytest.importorskip("torch")

    def build(m):
        class Net(m.Module):
            def __init__(self):
                super().__init__()
                self.features = m.Sequential(m.Conv2d(1, 8, 5), m.MaxPool2d(2), m.Flatten())
                self.head = m.Sequential(m.Linear(8 * 12 * 12, 10), m.Dropout(0.1))

        return Net()

    assert repr(build(nn)) == repr(build(torch.nn))
    # A facade network with a neuron prints the torch layers as torch does and the neuron as snnTorch does.
    text = repr(nn.Sequential(nn.Linear(3, 4), nn.Leaky(beta=0.9)))
    assert text.startswith("Sequential(\n  (0): Linear(in_features=3, out_features=4, bias=True)\n  (1): Leaky(")
