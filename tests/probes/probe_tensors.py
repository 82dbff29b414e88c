"""The imperative API: backward(), .grad, optimizer.step(), hidden state and torch-like tensors, used the
way PyTorch and snnTorch users use them, mistakes included. Numbers are compared with real torch/snnTorch."""

from __future__ import annotations

import numpy as np
from _harness import probe

import snnax_torchlike as snx
import snnax_torchlike.snntorch as snn
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

C = "imperative API"


def _tensor(values) -> snx.Tensor:
    return snx.Tensor(np.asarray(values, np.float32))


def _linear(seed: int = 0) -> nn.Linear:
    snx.manual_seed(seed)
    return nn.Linear(3, 2)


def _x(batch: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(batch, 3)).astype(np.float32)


@probe(C, raises=RuntimeError, says=("second time", "retain_graph=True"))
def backward_twice_without_retain_graph():
    loss = _linear()(_x()).sum()
    loss.backward()
    loss.backward()


@probe(C)
def backward_twice_with_retain_graph_accumulates():
    layer = _linear()
    loss = layer(_x()).sum()
    loss.backward(retain_graph=True)
    once = np.array(layer.weight.grad)
    loss.backward()
    return np.allclose(np.array(layer.weight.grad), 2 * once)


@probe(C, raises=RuntimeError, says=("scalar", "gradient"))
def backward_of_a_non_scalar_without_gradient():
    _linear()(_x()).backward()


@probe(C, raises=RuntimeError, says=("does not require grad|grad_fn",))
def backward_of_a_tensor_that_needs_no_grad():
    _tensor([1.0, 2.0]).sum().backward()


@probe(C)
def forgetting_zero_grad_accumulates_as_in_torch():
    layer = _linear()
    layer(_x()).sum().backward()
    first = np.array(layer.weight.grad)
    layer(_x()).sum().backward()
    return np.allclose(np.array(layer.weight.grad), 2 * first, rtol=1e-6)


@probe(C)
def gradient_equals_torch():
    import torch

    layer = _linear(3)
    reference = torch.nn.Linear(3, 2)
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(np.array(layer.weight.data)))
        reference.bias.copy_(torch.from_numpy(np.array(layer.bias.data)))
    x = _x(seed=4)
    (layer(x) ** 2).mean().backward()
    (reference(torch.from_numpy(x)) ** 2).mean().backward()
    return np.allclose(np.array(layer.weight.grad), reference.weight.grad.numpy(), atol=1e-6)


@probe(C, raises=RuntimeError, says=("SGD.step", "no parameter has a gradient", "backward"))
def step_before_any_backward():
    optim.SGD(_linear().parameters(), lr=0.1).step()


@probe(C)
def frozen_parameter_gets_no_grad():
    layer = _linear()
    layer.bias.requires_grad = False
    layer(_x()).sum().backward()
    return layer.bias.grad is None and layer.weight.grad is not None


@probe(C)
def no_grad_block_records_nothing():
    layer = _linear()
    with snx.no_grad():
        out = layer(_x()).sum()
    return not out.requires_grad


@probe(C)
def torch_no_grad_block_records_nothing():
    import torch

    layer = _linear()
    with torch.no_grad():
        out = layer(_x()).sum()
    return not out.requires_grad


@probe(C)
def in_place_update_under_no_grad_changes_the_weight():
    layer = _linear()
    before = np.array(layer.weight.data)
    with snx.no_grad():
        layer.weight -= 1.0
    return np.allclose(np.array(layer.weight.data), before - 1.0)


@probe(C)
def detached_output_has_no_gradient_path():
    layer = _linear()
    out = layer(_x()).detach()
    return not out.requires_grad


@probe(C, raises=RuntimeError, says=(r"shape '\[5, -1\]' is invalid for input of size 8",))
def view_with_an_incompatible_shape():
    _tensor(np.zeros((4, 2))).view(5, -1)


@probe(C, raises=RuntimeError, says=("only one dimension can be inferred|-1",))
def reshape_with_two_inferred_axes():
    _tensor(np.zeros((4, 2))).reshape(-1, -1)


@probe(C, raises=IndexError, says=("index 7|out of|bounds", "4|size"))
def index_out_of_range():
    _tensor(np.zeros((4, 2)))[7]


@probe(C, raises=(RuntimeError, ValueError), says=("item|one element|scalar", "8|elements"))
def item_of_a_tensor_with_many_values():
    _tensor(np.zeros((4, 2))).item()


@probe(C)
def numpy_of_a_tensor_that_requires_grad_gives_its_values():
    out = _linear()(_x())
    return np.array_equal(out.numpy(), out.detach().numpy())  # torch insists on detach() first; values agree


@probe(C)
def mixing_a_torch_tensor_into_arithmetic():
    import torch

    total = _tensor([1.0, 2.0]) + torch.tensor([3.0, 4.0])
    return np.allclose(np.asarray(total), [4.0, 6.0])


@probe(C)
def torch_linear_in_front_trains_through_backward():
    import torch

    torch.manual_seed(0)
    front = torch.nn.Linear(3, 3)
    layer = _linear()
    out = layer(front(torch.from_numpy(_x())))
    out.sum().backward()
    return front.weight.grad is not None and float(front.weight.grad.abs().sum()) > 0


@probe(C)
def init_hidden_loop_equals_snntorch():
    import snntorch
    import torch

    x = np.random.default_rng(0).uniform(0, 2, (6, 2, 3)).astype(np.float32)
    ours, theirs = snn.Leaky(beta=0.8, init_hidden=True), snntorch.Leaky(beta=0.8, init_hidden=True)
    a = [np.asarray(ours(x[t])) for t in range(6)]
    b = [theirs(torch.from_numpy(x[t])).detach().numpy() for t in range(6)]
    return all(np.array_equal(p, q) for p, q in zip(a, b)) and sum(p.sum() for p in a) > 0


@probe(C)
def forgetting_reset_carries_state_as_snntorch():
    import snntorch
    import torch

    x = np.random.default_rng(1).uniform(0, 1, (2, 3)).astype(np.float32)
    ours, theirs = snn.Leaky(beta=0.9, init_hidden=True), snntorch.Leaky(beta=0.9, init_hidden=True)
    for _ in range(3):  # two "batches" without utils.reset in between
        ours(x), theirs(torch.from_numpy(x))
    return np.allclose(np.asarray(ours.mem), theirs.mem.detach().numpy(), atol=1e-6)


@probe(C)
def utils_reset_restarts_the_hidden_state():
    snx.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 3), snn.Leaky(beta=0.9, init_hidden=True))
    first = np.asarray(net(_x()))
    net(_x(seed=1))
    snn.utils.reset(net)
    return np.array_equal(np.asarray(net(_x())), first)


@probe(C)
def batch_size_changed_mid_sequence_restarts_as_snntorch():
    import snntorch
    import torch

    x4 = np.random.default_rng(0).uniform(0, 2, (4, 3)).astype(np.float32)
    ours, theirs = snn.Leaky(beta=0.9, init_hidden=True), snntorch.Leaky(beta=0.9, init_hidden=True)
    ours(x4), theirs(torch.from_numpy(x4))
    a, b = ours(x4[:2]), theirs(torch.from_numpy(x4[:2]))
    return np.array_equal(np.asarray(a), b.detach().numpy()) and np.allclose(np.asarray(ours.mem),
                                                                              theirs.mem.detach().numpy())


@probe(C, raises=TypeError, says=("Leaky", "init_hidden", "mem"))
def init_hidden_neuron_given_an_explicit_membrane():
    lif = snn.Leaky(beta=0.9, init_hidden=True)
    lif(_x(), np.zeros((4, 3), np.float32))


@probe(C)
def output_true_returns_spikes_and_membrane():
    lif = snn.Leaky(beta=0.9, init_hidden=True, output=True)
    result = lif(_x())
    return isinstance(result, tuple) and len(result) == 2


@probe(C, raises=TypeError, says=("spike_grad", "surrogate"))
def drop_in_spike_grad_not_callable():
    snn.Leaky(beta=0.9, spike_grad=0.5)


@probe(C)
def closure_step_matches_backward_then_step():
    def run(closure_style: bool):
        layer = _linear(2)
        opt = optim.SGD(layer.parameters(), lr=0.1)
        x, y = _x(seed=1), np.array([0, 1, 1, 0], np.int64)
        loss_fn = nn.CrossEntropyLoss()
        for _ in range(3):
            if closure_style:
                def closure():
                    opt.zero_grad()
                    loss = loss_fn(layer(x), y)
                    loss.backward()
                    return loss

                opt.step(closure)
            else:
                opt.zero_grad()
                loss_fn(layer(x), y).backward()
                opt.step()
        return np.array(layer.weight.data)

    return np.allclose(run(True), run(False), atol=1e-6)


@probe(C)
def snntorch_training_loop_with_hidden_state_trains():
    snx.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 8), snn.Leaky(beta=0.9, init_hidden=True), nn.Linear(8, 2),
                        snn.Leaky(beta=0.9, init_hidden=True, output=True))
    opt = optim.Adam(net.parameters(), lr=5e-2)
    loss_fn = SF.ce_rate_loss()
    x = (np.random.default_rng(0).random((5, 8, 3)) < 0.5).astype(np.float32)
    y = np.random.default_rng(0).integers(0, 2, 8)
    losses = []
    for _ in range(15):
        snn.utils.reset(net)
        spikes = []
        for t in range(5):
            spk, _ = net(x[t])
            spikes.append(spk)
        loss = loss_fn(snx.imperative.stack(spikes), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return losses[-1] < losses[0]


@probe(C, raises=RuntimeError, says=("leaf Variable that requires grad", "in-place", "no_grad"))
def in_place_update_of_a_parameter_outside_no_grad():
    layer = _linear()
    layer.weight += 1.0


@probe(C)
def parameter_data_assignment_replaces_values():
    layer = _linear()
    layer.weight.data = np.zeros((2, 3), np.float32)
    return float(np.abs(np.asarray(layer(_x()) - layer.bias.data)).max()) == 0.0


@probe(C, raises=ValueError, says=("Parameter.data", r"\(3, 3\)", r"\(2, 3\)", "new nn.Parameter"))
def parameter_data_assignment_of_the_wrong_shape():
    layer = _linear()
    layer.weight.data = np.zeros((3, 3), np.float32)


@probe(C, raises=RuntimeError, says=("backward", "snx.compile", "optimizer.step\\(closure\\)"))
def backward_inside_a_compiled_function():
    layer = _linear()

    @snx.compile
    def step(x):
        loss = layer(x).sum()
        loss.backward()
        return loss

    step(_x())


@probe(C, raises=IndexError, says=("index 3 is out of bounds for dimension 1 with size 2",))
def assignment_to_an_index_out_of_range():
    t = _tensor(np.zeros((4, 2)))
    t[0, 3] = 1.0
