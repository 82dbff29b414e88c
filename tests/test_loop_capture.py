"""Loop capture: a ``forward`` that loops over time in Python compiles as one loop in the library's traced functions.

Every check compares the captured run with the same code traced with
``capture_loops(False)`` (the loop unrolled, T copies of the network): outputs,
gradients, fit histories and parameters must agree, and the compiled program
must hold one loop instead of T copies.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _networks import TutorialLoopNet

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim
from snnax_torchlike.imperative import capture_loops, pure_scope, stack, stats
from snnax_torchlike.nn.module import bind_parameters
from snnax_torchlike.nn.time_loop import traced_forward
from snnax_torchlike.random import key_scope


class SynapticLoopNet(nn.Module):
    """Two states in the first neuron, the records joined as ``torch.stack`` joins them."""

    def __init__(self, inputs: int, hidden: int, outputs: int):
        super().__init__()
        self.fc1, self.syn1 = nn.Linear(inputs, hidden), nn.Synaptic(alpha=0.8, beta=0.9)
        self.fc2, self.lif2 = nn.Linear(hidden, outputs), nn.Leaky(beta=0.85)

    def forward(self, x):
        syn1, mem1 = self.syn1.init_synaptic()
        mem2 = self.lif2.init_leaky()
        spikes, mems = [], []
        for step in range(x.shape[0]):
            spk1, syn1, mem1 = self.syn1(self.fc1(x[step]), syn1, mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spikes.append(spk2)
            mems.append(mem2)
        return stack(spikes), stack(mems)


class StaticInputNet(TutorialLoopNet):
    """snnTorch's tutorial 5: the same input current at every step; with ``detach``, the hidden membrane is
    cut from the graph after each step."""

    def __init__(self, *args, detach: bool = True):
        super().__init__(*args)
        self.detach = detach

    def forward(self, x):
        image = x.mean(0)
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        spikes, mems = [], []
        for _ in range(x.shape[0]):
            spk1, mem1 = self.lif1(self.fc1(image), mem1)
            if self.detach:
                mem1 = mem1.detach()
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spikes.append(spk2)
            mems.append(mem2)
        return stack(spikes), stack(mems)


class DropoutLoopNet(TutorialLoopNet):
    """A fresh dropout mask at every step: each step draws its own key."""

    def __init__(self, *args):
        super().__init__(*args)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        spikes, mems = [], []
        for step in range(x.shape[0]):
            spk1, mem1 = self.lif1(self.fc1(x[step]), mem1)
            spk2, mem2 = self.lif2(self.fc2(self.drop(spk1)), mem2)
            spikes.append(spk2)
            mems.append(mem2)
        return stack(spikes), stack(mems)


class LaxInputNet(TutorialLoopNet):
    """Calls a ``lax`` function on its input, which a recorded tensor cannot enter: capture falls back."""

    def forward(self, x):
        return super().forward(jax.lax.mul(x, 2.0))


NETWORKS = {
    "jnp.stack": lambda: TutorialLoopNet(6, 8, 3, betas=(0.9, 0.8)),
    "synaptic": lambda: SynapticLoopNet(6, 8, 3),
    "static input, detached": lambda: StaticInputNet(6, 8, 3),
    "dropout": lambda: DropoutLoopNet(6, 8, 3),
}


def _inputs(steps: int, batch: int = 4, features: int = 6) -> jnp.ndarray:
    return jnp.asarray(np.random.default_rng(steps).random((steps, batch, features)) * 3, jnp.float32)


def _step(net: nn.Module, x: jnp.ndarray, capture: bool):
    """A jitted loss-and-gradient of ``traced_forward`` as ``fit``'s step traces it, and its jaxpr."""
    params = list(net.parameters())

    def loss(arrays):
        with bind_parameters(params, arrays), key_scope(jax.random.key(7)), pure_scope(differentiated=True), \
                capture_loops(capture):  # fmt: skip
            spk, mem = traced_forward(net, x)
        weights = jnp.arange(1.0, spk.shape[-1] + 1.0)
        return jnp.sum(mem**2) + jnp.sum(spk * weights), (spk, mem)

    arrays = [p.data for p in params]
    function = jax.value_and_grad(loss, has_aux=True)
    return jax.jit(function)(arrays), jax.make_jaxpr(function)(arrays)


def _count(jaxpr, primitive: str) -> int:
    """How many equations of ``primitive`` the jaxpr holds, inner jaxprs (scan bodies, jit calls) included."""
    total = 0
    for eqn in jaxpr.eqns:
        total += eqn.primitive.name == primitive
        for value in eqn.params.values():
            for inner in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(inner, "jaxpr", inner)
                if hasattr(inner, "eqns"):
                    total += _count(inner, primitive)
    return total


@pytest.mark.parametrize("name", list(NETWORKS))
def test_captured_loop_gives_the_unrolled_outputs_and_gradients(name):
    snx.manual_seed(0)
    net = NETWORKS[name]()
    x = _inputs(12)
    fallbacks, rolled = stats.capture_fallbacks, stats.rolled_loops
    ((loss, (spk, mem)), grads), captured_jaxpr = _step(net, x, capture=True)
    assert stats.capture_fallbacks == fallbacks
    assert stats.rolled_loops > rolled
    ((loss_unrolled, (spk_unrolled, mem_unrolled)), grads_unrolled), unrolled_jaxpr = _step(net, x, capture=False)
    assert spk.shape == spk_unrolled.shape == (12, 4, 3)
    assert jnp.sum(spk_unrolled) > 0  # the comparison covers spikes, not only silence
    np.testing.assert_array_equal(spk, spk_unrolled)
    np.testing.assert_allclose(mem, mem_unrolled, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loss, loss_unrolled, rtol=1e-5)
    for grad, expected in zip(grads, grads_unrolled, strict=True):
        assert jnp.any(expected != 0)
        np.testing.assert_allclose(grad, expected, rtol=1e-4, atol=1e-5)
    assert _count(captured_jaxpr.jaxpr, "scan") >= 1
    assert _count(captured_jaxpr.jaxpr, "dot_general") < _count(unrolled_jaxpr.jaxpr, "dot_general")


@pytest.mark.parametrize("name", ["jnp.stack", "synaptic"])
def test_captured_program_does_not_grow_with_the_number_of_steps(name):
    counts = {}
    for steps in (8, 40):
        snx.manual_seed(0)
        net = NETWORKS[name]()
        _, captured = _step(net, _inputs(steps), capture=True)
        _, unrolled = _step(net, _inputs(steps), capture=False)
        counts[steps] = (_count(captured.jaxpr, "dot_general"), _count(unrolled.jaxpr, "dot_general"))
    assert counts[8][0] == counts[40][0], counts  # captured: the same matmuls at any T
    assert counts[40][1] >= 4 * counts[8][1], counts  # unrolled: a copy per step


def _fit(capture: bool, precision: str):
    """Train 3 epochs (a shorter last batch), then evaluate and predict: everything ``fit`` traces."""
    snx.manual_seed(3)
    net = TutorialLoopNet(6, 16, 3, betas=(0.9, 0.8))
    rng = np.random.default_rng(0)
    x = (rng.random((20, 40, 6)) < 0.4).astype(np.float32)
    y = rng.integers(0, 3, 40)
    batches = [(x[:, i : i + 16], y[i : i + 16]) for i in range(0, 40, 16)]
    loss_fn = SF.ce_rate_loss()
    with capture_loops(capture):
        optimizer = optim.Adam(net.parameters(), lr=2e-2)
        history = net.fit(batches, 3, optimizer=optimizer, loss_fn=loss_fn, precision=precision, progress=False)
        evaluation = net.evaluate(batches, loss_fn=loss_fn, precision=precision)
        spk, mem = net.predict(batches, precision=precision)
    params = {name: np.asarray(p.data) for name, p in net.named_parameters()}
    return history["loss"], evaluation["loss"], np.asarray(mem), params


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_fit_trains_a_captured_loop_exactly_as_the_unrolled_one(precision):
    rolled = stats.rolled_loops
    losses, evaluated, mem, params = _fit(True, precision)
    assert stats.rolled_loops >= rolled + 3  # train, evaluate and predict steps
    losses_unrolled, evaluated_unrolled, mem_unrolled, params_unrolled = _fit(False, precision)
    assert losses[-1] < losses[0]
    np.testing.assert_allclose(losses, losses_unrolled, rtol=1e-5)
    np.testing.assert_allclose(evaluated, evaluated_unrolled, rtol=1e-5)
    assert mem.shape == (20, 40, 3)
    np.testing.assert_allclose(mem, mem_unrolled, rtol=1e-4, atol=1e-5)
    for name, value in params.items():
        np.testing.assert_allclose(value, params_unrolled[name], rtol=1e-4, atol=1e-6, err_msg=name)


def _closure_step(capture: bool):
    snx.manual_seed(5)
    net = TutorialLoopNet(6, 8, 3, betas=(0.9, 0.8))
    optimizer = optim.SGD(net.parameters(), lr=0.1)
    x, y = _inputs(10), jnp.asarray([0, 1, 2, 1])
    loss_fn = nn.CrossEntropyLoss()

    def closure():
        optimizer.zero_grad()
        _, mem = net(x)
        loss = 0.0
        for step in range(x.shape[0]):
            loss = loss + loss_fn(mem[step], y)
        loss.backward()
        return loss

    with capture_loops(capture):
        loss = optimizer.step(closure)
    return float(loss), [np.asarray(p.data) for p in net.parameters()]


def test_closure_step_captures_its_loops():
    rolled = stats.rolled_loops
    loss, params = _closure_step(capture=True)
    assert stats.rolled_loops >= rolled + 2  # the network's loop and the loss's loop
    loss_unrolled, params_unrolled = _closure_step(capture=False)
    np.testing.assert_allclose(loss, loss_unrolled, rtol=1e-5)
    for value, expected in zip(params, params_unrolled, strict=True):
        np.testing.assert_allclose(value, expected, rtol=1e-4, atol=1e-6)


def test_compiled_function_captures_its_loop():
    snx.manual_seed(1)
    net = SynapticLoopNet(6, 8, 3)
    x = _inputs(16)

    def infer(x):
        spk, mem = net(x)
        return spk.sum(0), mem

    rolled = stats.rolled_loops
    counts, mem = snx.compile(infer)(x)
    assert stats.rolled_loops > rolled
    with capture_loops(False):
        counts_unrolled, mem_unrolled = snx.compile(infer)(x)
    np.testing.assert_array_equal(np.asarray(counts), np.asarray(counts_unrolled))
    np.testing.assert_allclose(np.asarray(mem), np.asarray(mem_unrolled), rtol=1e-5, atol=1e-6)


def test_forward_that_cannot_be_captured_runs_unrolled():
    snx.manual_seed(0)
    net = LaxInputNet(6, 8, 3)
    x = _inputs(6)
    fallbacks = stats.capture_fallbacks
    ((loss, (spk, mem)), grads), _ = _step(net, x, capture=True)
    assert stats.capture_fallbacks == fallbacks + 1
    ((loss_unrolled, _), grads_unrolled), _ = _step(net, x, capture=False)
    np.testing.assert_allclose(loss, loss_unrolled, rtol=1e-6)
    for grad, expected in zip(grads, grads_unrolled, strict=True):
        np.testing.assert_allclose(grad, expected, rtol=1e-6)


@pytest.mark.parametrize("capture", [True, False])
def test_detach_inside_a_traced_function_stops_the_gradient(capture):
    x = _inputs(8)
    grads = {}
    for detach in (True, False):
        snx.manual_seed(0)
        (_, grads[detach]), _ = _step(StaticInputNet(6, 8, 3, detach=detach), x, capture=capture)
    # Same weights, same forward values; only the gradient through the hidden membrane's history differs.
    fc1_weight, fc2_weight = 0, 2  # in named_parameters() order: fc1.weight, fc1.bias, fc2.weight, fc2.bias
    assert not np.allclose(grads[True][fc1_weight], grads[False][fc1_weight], rtol=1e-3)
    np.testing.assert_allclose(grads[True][fc2_weight], grads[False][fc2_weight], rtol=1e-5, atol=1e-6)


def test_capture_switch_restores_the_previous_setting():
    assert snx.imperative.loops_captured()
    with capture_loops(False):
        assert not snx.imperative.loops_captured()
        with capture_loops(True):
            assert snx.imperative.loops_captured()
        assert not snx.imperative.loops_captured()
    assert snx.imperative.loops_captured()
