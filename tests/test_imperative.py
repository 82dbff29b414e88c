"""The imperative PyTorch style: hidden state in modules, ``loss.backward()``, ``optimizer.step()``.

Everything here is checked against a second computation of the same thing: the
closure path, the pure time-first facade path, or the real snnTorch.
"""

from __future__ import annotations

import gc

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import snntorch.utils
import torch

import snnax_torchlike as snx
from snnax_torchlike import nn, optim, utils
from snnax_torchlike.imperative import Tensor, stats
from snnax_torchlike.imperative._graph import Node

T, B, N_IN, N_HID, N_OUT = 8, 5, 12, 10, 4


class LoopNet(nn.Module):
    """snnTorch tutorial 5's network: a Python loop over time steps inside forward."""

    def __init__(self, steps: int = T, peek_at: int | None = None):
        super().__init__()
        self.steps = steps
        self.peek_at = peek_at  # a step at which forward reads a value (forcing what was recorded)
        self.fc1 = nn.Linear(N_IN, N_HID)
        self.lif1 = nn.Leaky(beta=0.9)
        self.fc2 = nn.Linear(N_HID, N_OUT)
        self.lif2 = nn.Leaky(beta=0.8)

    def forward(self, x):
        mem1 = self.lif1.init_leaky()
        mem2 = self.lif2.init_leaky()
        spk_rec, mem_rec = [], []
        for step in range(self.steps):
            spk1, mem1 = self.lif1(self.fc1(x[step]), mem1)
            if step == self.peek_at:
                float(spk1.sum())
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spk_rec.append(spk2)
            mem_rec.append(mem2)
        return torch.stack(spk_rec, dim=0), torch.stack(mem_rec, dim=0)


def _data(seed: int = 0, steps: int = T):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy((rng.random((steps, B, N_IN)) * 2.0).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, N_OUT, B))
    return x, y


def _loop_loss(net, x, y):
    loss_fn = nn.CrossEntropyLoss()
    _, mem_rec = net(x)
    loss_val = torch.zeros((1), dtype=torch.float)
    for step in range(net.steps):
        loss_val += loss_fn(mem_rec[step], y)
    return loss_val


def _copy(net: nn.Module) -> nn.Module:
    twin = type(net)()
    twin.load_state_dict(net.state_dict())
    return twin


def _grads(net: nn.Module) -> dict[str, np.ndarray]:
    return {name: np.asarray(p.grad) for name, p in net.named_parameters() if p.grad is not None}


def test_backward_equals_pure_time_first_path_and_the_loop_is_rolled():
    snx.manual_seed(1)
    net = LoopNet()
    x, y = _data()
    rolled_before = stats.rolled_loops
    loss = _loop_loss(net, x, y)
    loss.backward()
    assert stats.rolled_loops >= rolled_before + 2  # the forward loop and the loss loop each became one scan

    # The same network in the facade's time-first path, differentiated by jax.grad.
    seq = nn.Sequential(nn.Linear(N_IN, N_HID), nn.Leaky(beta=0.9), nn.Linear(N_HID, N_OUT), nn.Leaky(beta=0.8))
    seq.load_state_dict({k.replace("fc1", "0").replace("fc2", "2"): v for k, v in net.state_dict().items()
                         if "lif" not in k}, strict=False)  # fmt: skip
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    xj, yj = jnp.asarray(x.numpy()), jnp.asarray(y.numpy())

    def reference(arrays):
        with snx.imperative.pure_scope(), seq.bind(dict(zip(names, arrays))):
            _, mem = snx.imperative.unwrap(seq(xj))
        logp = jax.nn.log_softmax(mem, -1)
        return -jnp.take_along_axis(logp, yj[None, :, None], -1).mean(1).sum()

    value, grads = jax.value_and_grad(reference)(tuple(seq.named_arrays()[n] for n in names))
    np.testing.assert_allclose(loss.item(), float(value), rtol=1e-5)
    ours = _grads(net)
    for name, grad in zip(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], grads):
        np.testing.assert_allclose(ours[name], np.asarray(grad), rtol=1e-4, atol=1e-6)


def test_backward_step_equals_closure_step():
    snx.manual_seed(2)
    net_a = LoopNet()
    net_b = _copy(net_a)
    opt_a = optim.Adam(net_a.parameters(), lr=1e-2)
    opt_b = optim.Adam(net_b.parameters(), lr=1e-2)
    for seed in range(3):
        x, y = _data(seed)
        opt_a.zero_grad()
        loss_a = _loop_loss(net_a, x, y)
        loss_a.backward()
        opt_a.step()
        loss_b = opt_b.step(lambda: _loop_loss(net_b, x, y).sum())
        np.testing.assert_allclose(loss_a.item(), float(loss_b), rtol=1e-6)
    for (name, pa), (_, pb) in zip(net_a.named_parameters(), net_b.named_parameters()):
        np.testing.assert_allclose(np.asarray(pa.data), np.asarray(pb.data), rtol=1e-6, atol=1e-6, err_msg=name)


def test_backward_accumulates_until_zero_grad_and_compiles_once():
    snx.manual_seed(3)
    net = LoopNet()
    x, y = _data()
    _loop_loss(net, x, y).backward()
    first = _grads(net)
    compiled = stats.compiled
    _loop_loss(net, x, y).backward()
    assert stats.compiled == compiled  # the same structure: no new program
    for name, grad in _grads(net).items():
        np.testing.assert_allclose(grad, 2 * first[name], rtol=1e-6)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_no_grad_and_detach_stop_gradients():
    snx.manual_seed(4)
    lin1, lin2 = nn.Linear(3, 3), nn.Linear(3, 1)
    x = np.ones((2, 3), np.float32)
    with snx.no_grad():
        out = lin2(lin1(x)).sum()
    assert not out.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        out.backward()
    with torch.no_grad():  # the script's own torch.no_grad() is honoured too
        assert not lin1(x).requires_grad
    loss = lin2(lin1(x).detach()).sum()
    loss.backward()
    assert lin1.weight.grad is None and lin2.weight.grad is not None
    h = lin1(x)
    h.detach_()
    assert not h.requires_grad


def test_backward_errors_say_what_to_do():
    snx.manual_seed(5)
    lin = nn.Linear(3, 2)
    out = lin(np.ones((2, 3), np.float32))
    with pytest.raises(RuntimeError, match="scalar outputs"):
        out.backward()
    loss = out.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    retained = lin(np.ones((2, 3), np.float32)).sum()
    lin.zero_grad()
    retained.backward(retain_graph=True)
    retained.backward()
    np.testing.assert_allclose(np.asarray(lin.bias.grad), [4.0, 4.0])
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match="loss.backward"):
        opt.step()


def test_parameter_updates_are_seen_by_the_next_program():
    snx.manual_seed(6)
    lin = nn.Linear(3, 1)
    x = np.ones((1, 3), np.float32)
    first = lin(x).item()
    lin.weight.data = lin.weight.data * 10
    second = lin(x).item()
    assert second == pytest.approx(float(jnp.sum(lin.weight.data) + lin.bias.data[0]), rel=1e-6)
    assert second != pytest.approx(first)


def test_a_value_read_inside_the_loop_keeps_results_exact():
    snx.manual_seed(7)
    net = LoopNet()
    twin = _copy(net)
    x, y = _data()
    _loop_loss(net, x, y).backward()

    peeking = LoopNet(peek_at=3)
    peeking.load_state_dict(twin.state_dict())
    _loop_loss(peeking, x, y).backward()
    for name, grad in _grads(net).items():
        np.testing.assert_allclose(_grads(peeking)[name], grad, rtol=1e-5, atol=1e-7)


def test_recorded_graph_is_freed_after_each_iteration():
    snx.manual_seed(8)
    net = LoopNet()
    opt = optim.SGD(net.parameters(), lr=1e-3)
    x, y = _data()

    def live_nodes() -> int:
        gc.collect()
        return sum(type(obj) is Node for obj in gc.get_objects())

    counts = []
    for _ in range(6):
        opt.zero_grad()
        loss = _loop_loss(net, x, y)
        loss.backward()
        opt.step()
        loss.item()
        del loss
        counts.append(live_nodes())
    assert max(counts[2:]) <= counts[1]  # no growth over iterations


class _HiddenTwin:
    """The same 2-layer network in snnTorch and here, with snnTorch's init_hidden style."""

    def __init__(self):
        torch.manual_seed(0)
        self.theirs = torch.nn.Sequential(
            torch.nn.Linear(N_IN, N_HID),
            snntorch.Leaky(beta=0.9, init_hidden=True),
            torch.nn.Linear(N_HID, N_OUT),
            snntorch.Leaky(beta=0.8, init_hidden=True, output=True),
        )
        self.ours = nn.Sequential(
            nn.Linear(N_IN, N_HID),
            nn.Leaky(beta=0.9, init_hidden=True),
            nn.Linear(N_HID, N_OUT),
            nn.Leaky(beta=0.8, init_hidden=True, output=True),
        )
        self.ours.load_state_dict(self.theirs.state_dict())


def test_init_hidden_sequential_steps_like_snntorch():
    twin = _HiddenTwin()
    x, _ = _data()
    snntorch.utils.reset(twin.theirs)
    utils.reset(twin.ours)
    for step in range(T):
        spk_t, mem_t = twin.theirs(x[step])
        spk_o, mem_o = twin.ours(x[step])
        np.testing.assert_array_equal(spk_o.numpy(), spk_t.detach().numpy())
        np.testing.assert_allclose(mem_o.numpy(), mem_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(twin.ours[3].mem.numpy(), twin.theirs[3].mem.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="init_hidden=True"):
        twin.ours[1](x[0], twin.ours[1].mem)


def test_truncated_bptt_matches_snntorch():
    twin = _HiddenTwin()
    x, y = _data(steps=2 * T)
    k = T // 2  # detach every k steps

    def run(net, reset, loss_fn):
        reset(net)
        loss = 0
        for step in range(2 * T):
            spk, mem = net(x[step])
            loss = loss + loss_fn(mem, y)
            if (step + 1) % k == 0:
                loss.backward()
                loss = 0
                for layer in net:
                    if hasattr(layer, "detach_hidden"):
                        layer.detach_hidden()

    run(twin.theirs, snntorch.utils.reset, torch.nn.CrossEntropyLoss())
    run(twin.ours, utils.reset, nn.CrossEntropyLoss())
    theirs = {name: p.grad.numpy() for name, p in twin.theirs.named_parameters()}
    for name, grad in _grads(twin.ours).items():
        np.testing.assert_allclose(grad, theirs[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_reset_touches_one_network_only_and_reaches_nested_neurons():
    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.Linear(3, 3), nn.Leaky(beta=0.5, init_hidden=True))

        def forward(self, x):
            return self.inner(x)

    a, b = Outer(), Outer()
    x = np.ones((2, 3), np.float32) * 3
    a(x), b(x)
    b_mem = b.inner[1].mem.numpy()
    utils.reset(a)
    assert a.inner[1].mem is None
    np.testing.assert_array_equal(b.inner[1].mem.numpy(), b_mem)


def test_fit_runs_the_time_loop_of_a_hidden_state_network_from_a_reset_state():
    twin = _HiddenTwin()
    plain = nn.Sequential(nn.Linear(N_IN, N_HID), nn.Leaky(beta=0.9), nn.Linear(N_HID, N_OUT), nn.Leaky(beta=0.8))
    plain.load_state_dict(twin.ours.state_dict())
    loader = [(_data(seed)[0].numpy(), _data(seed)[1].numpy()) for seed in range(3)]
    for net in (twin.ours, plain):
        net.fit(loader, epochs=2, optimizer=optim.Adam(net.parameters(), lr=1e-2),
                loss_fn=snx.functional.ce_rate_loss(), progress=False)  # fmt: skip
    for (name, p_hidden), (_, p_plain) in zip(twin.ours.named_parameters(), plain.named_parameters()):
        np.testing.assert_allclose(np.asarray(p_hidden.data), np.asarray(p_plain.data), rtol=1e-5, atol=1e-6)
    trainer = twin.ours._trainers[-1]
    assert trainer.trace_count == 1
    assert isinstance(twin.ours[1].mem, (type(None), Tensor))  # nothing traced was left behind
    predictions = twin.ours.predict([(loader[0][0], loader[0][1])])
    np.testing.assert_allclose(np.asarray(predictions[1]), np.asarray(plain.predict([loader[0]])[1]), atol=1e-5)


def test_closure_carries_hidden_state_in_and_out_without_recompiling():
    twin = _HiddenTwin()
    net = twin.ours
    opt = optim.SGD(net.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    x, y = _data()

    def closure():
        loss = 0
        for step in range(T):
            _, mem = net(x[step])
            loss = loss + loss_fn(mem, y)
        return loss

    utils.reset(net)
    for _ in range(4):  # the state carries on from step to step, as snnTorch's would
        opt.step(closure)
        state = net[3].mem
        assert isinstance(state, Tensor) and not isinstance(state.jax(), jax.core.Tracer)
    assert opt._jitted_closure_step._cache_size() <= 2  # once without a state, once with it


def test_compiled_step_function_carries_hidden_state():
    twin = _HiddenTwin()
    net = twin.ours
    x, _ = _data()
    utils.reset(net)
    eager = [net(x[step])[1].numpy() for step in range(T)]

    @snx.compile
    def one_step(x_t):
        return net(x_t)

    utils.reset(net)
    compiled = [np.asarray(one_step(x[step])[1]) for step in range(T)]
    np.testing.assert_allclose(np.stack(compiled), np.stack(eager), rtol=1e-5, atol=1e-6)


def test_explicit_state_calls_store_state_as_snntorch_does():
    lif = nn.Leaky(beta=0.5)
    cur = np.ones((2, 3), np.float32) * 0.6
    mem = lif.init_leaky()
    spk, mem = lif(cur, mem)
    np.testing.assert_allclose(lif.mem.numpy(), mem.numpy())
    spk, mem2 = lif(cur)  # no state passed: the stored one is used
    np.testing.assert_allclose(mem2.numpy(), 0.5 * 0.6 + 0.6, rtol=1e-6)
    lif.init_leaky()  # resets the stored state
    assert lif.mem is None


def test_unsupported_tensor_methods_name_the_replacement():
    out = nn.Linear(3, 2)(np.ones((1, 3), np.float32))
    with pytest.raises(AttributeError, match=r"register_hook.*jnp.asarray\(t\).*torch.from_numpy"):
        out.register_hook(lambda grad: grad)
    with pytest.raises(TypeError, match="fft"):
        torch.fft.fft(out)


def test_module_device_and_dtype_calls_are_accepted():
    net = LoopNet()
    assert net.to("cpu") is net and net.cuda() is net and net.cpu() is net and net.to(torch.float32) is net
    with pytest.raises(TypeError, match="float32"):
        net.to(torch.float64)


@pytest.mark.parametrize("make", [
    lambda params: optim.SGD(params, lr=0.1, momentum=0.9, max_grad_norm=0.5),
    lambda params: optim.AdamW(params, lr=1e-2, max_grad_norm=0.5),
    lambda params: optim.RMSprop(params, lr=1e-2),
])  # fmt: skip
def test_backward_path_with_schedulers_and_clipping_equals_closure_path(make):
    snx.manual_seed(9)
    net_a = LoopNet()
    net_b = _copy(net_a)
    opt_a, opt_b = make(net_a.parameters()), make(net_b.parameters())
    sched_a = optim.lr_scheduler.StepLR(opt_a, step_size=1, gamma=0.5)
    sched_b = optim.lr_scheduler.StepLR(opt_b, step_size=1, gamma=0.5)
    for seed in range(3):
        x, y = _data(seed)
        opt_a.zero_grad()
        _loop_loss(net_a, x, y).backward()
        opt_a.step()
        sched_a.step()
        opt_b.step(lambda: _loop_loss(net_b, x, y).sum())
        sched_b.step()
    assert opt_a.lr == pytest.approx(opt_b.lr)
    for (name, pa), (_, pb) in zip(net_a.named_parameters(), net_b.named_parameters()):
        np.testing.assert_allclose(np.asarray(pa.data), np.asarray(pb.data), rtol=1e-5, atol=1e-6, err_msg=name)


def test_closure_reads_captured_tensors_as_inputs_not_constants():
    snx.manual_seed(10)
    lin = nn.Linear(3, 1)
    opt = optim.SGD(lin.parameters(), lr=0.0)  # no update: the loss only depends on the captured tensor
    losses = []
    for scale in (1.0, 2.0, 3.0):
        x = Tensor(np.full((2, 3), scale, np.float32))

        def closure():
            return lin(x.view(2, 3)).sum()  # a torch method on the captured tensor, traced

        losses.append(float(opt.step(closure)))
    expected = [float(lin(np.full((2, 3), s, np.float32)).sum()) for s in (1.0, 2.0, 3.0)]
    np.testing.assert_allclose(losses, expected, rtol=1e-6)
    assert opt._jitted_closure_step._cache_size() == 1


def test_grad_mode_switches_nest_and_decorate():
    @snx.no_grad()
    def evaluate():
        return snx.is_grad_enabled()

    assert evaluate() is False and snx.is_grad_enabled()
    with snx.no_grad():
        with snx.enable_grad():
            assert snx.is_grad_enabled()
        assert not snx.is_grad_enabled()
        with snx.set_grad_enabled(True):
            assert nn.Linear(2, 1)(np.ones((1, 2), np.float32)).requires_grad
    assert snx.is_grad_enabled()


def test_backward_reaches_torch_layers_in_front_of_facade_neurons():
    """A torch layer feeding a facade neuron is trained by torch: ``backward()`` fills its ``.grad``."""
    torch.manual_seed(3)
    x = torch.rand(T, B, N_IN)
    theirs_fc, ours_fc = torch.nn.Linear(N_IN, N_HID), torch.nn.Linear(N_IN, N_HID)
    ours_fc.load_state_dict(theirs_fc.state_dict())
    theirs_lif, ours_lif = snntorch.Leaky(beta=0.9), nn.Leaky(beta=0.9)
    scale = torch.linspace(0.5, 1.5, N_HID, requires_grad=True)
    our_scale = scale.detach().clone().requires_grad_(True)

    def loss_of(fc, lif, factor):
        mem = lif.init_leaky()
        total = 0.0
        for t in range(T):
            spk, mem = lif(fc(x[t]), mem)
            total = total + (spk * factor).sum() + (mem**2).mean()  # a torch tensor times ours (either side)
        return total

    loss_of(theirs_fc, theirs_lif, scale).backward()
    loss = loss_of(ours_fc, ours_lif, our_scale)
    assert isinstance(loss, Tensor)
    loss.backward()
    np.testing.assert_allclose(ours_fc.weight.grad.numpy(), theirs_fc.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours_fc.bias.grad.numpy(), theirs_fc.bias.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(our_scale.grad.numpy(), scale.grad.numpy(), rtol=1e-4, atol=1e-5)
    with torch.no_grad():  # torch's no_grad: nothing is recorded for torch
        out = ours_lif(ours_fc(x[0]))[1]
    assert out._node is None or not out._node.requires_grad
