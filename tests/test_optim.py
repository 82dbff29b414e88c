"""torch.optim-style optimizers: same updates as torch, the closure idiom, learning-rate control."""

import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from snnax_torchlike import nn, optim


def _quadratic_problem():
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 3)).astype(np.float32)
    target = rng.normal(size=(4, 3)).astype(np.float32)
    return w0, target


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda p: optim.Adam(p, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1),
         lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
        (lambda p: optim.AdamW(p, lr=0.05), lambda p: torch.optim.AdamW(p, lr=0.05)),
        (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        (lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        (lambda p: optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5),
         lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5)),
    ],
)  # fmt: skip
def test_updates_match_torch(ours, theirs):
    w0, target = _quadratic_problem()
    param = nn.Parameter(w0)
    optimizer = ours([param])
    torch_param = torch.nn.Parameter(torch.tensor(w0))
    torch_optimizer = theirs([torch_param])
    for _ in range(6):
        optimizer.step(lambda: jnp.sum((param.data - target) ** 2 * jnp.arange(1.0, 4.0)))
        torch_optimizer.zero_grad()
        loss = torch.sum((torch_param - torch.tensor(target)) ** 2 * torch.arange(1.0, 4.0))
        loss.backward()
        torch_optimizer.step()
    np.testing.assert_allclose(np.asarray(param.data), torch_param.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(np.asarray(param.data), w0)


def test_closure_idiom_updates_the_network_in_place():
    net = nn.Sequential(nn.Linear(3, 1))
    x = jnp.ones((2, 5, 3))  # [T, B, features]
    y = jnp.full((2, 5, 1), 2.0)
    optimizer = optim.SGD(net.parameters(), lr=0.05)
    held = net[0].weight.data  # an array the user holds must stay valid

    def closure():
        return jnp.mean((net(x) - y) ** 2)

    losses = [float(optimizer.step(closure)) for _ in range(30)]
    assert losses[-1] < 0.05 * losses[0]
    assert not np.allclose(np.asarray(net[0].weight.data), np.asarray(held))
    assert np.isfinite(np.asarray(held)).all()
    with pytest.raises(RuntimeError, match="call loss.backward"):
        optimizer.step()  # no closure and no gradients
    with pytest.raises(ValueError, match="must return a scalar"):
        optimizer.step(lambda: net(x))


def test_learning_rate_control_and_frozen_parameters():
    frozen = nn.Parameter(np.ones(2, np.float32), requires_grad=False)
    trained = nn.Parameter(np.ones(2, np.float32))
    optimizer = optim.SGD([frozen, trained], lr=0.1)
    assert optimizer.params == [trained]
    optimizer.step(lambda: jnp.sum(trained.data * frozen.data))
    np.testing.assert_allclose(np.asarray(trained.data), 0.9)
    optimizer.param_groups[0]["lr"] = 0.5
    assert optimizer.lr == pytest.approx(0.5)
    optimizer.step(lambda: jnp.sum(trained.data))
    np.testing.assert_allclose(np.asarray(trained.data), 0.4, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(frozen.data), 1.0)


def test_gradient_clipping():
    param = nn.Parameter(np.zeros(4, np.float32))
    optimizer = optim.SGD([param], lr=1.0, max_grad_norm=1.0)
    optimizer.step(lambda: jnp.sum(param.data * 100.0))
    np.testing.assert_allclose(float(jnp.linalg.norm(param.data)), 1.0, rtol=1e-5)


def test_optimizer_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="not a Parameter"):
        optim.Adam([np.zeros(3)])
    p = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="more than once"):
        optim.Adam([p, p])
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([p], nesterov=True)


@pytest.mark.parametrize(
    "ours, theirs, steps",
    [
        (lambda o: optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
         lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 10),
        (lambda o: optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
         lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 10),
        (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01), 7),
        (lambda o: optim.lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=20),
         lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=20), 19),
    ],
)  # fmt: skip
def test_schedulers_match_torch(ours, theirs, steps):
    param = nn.Parameter(np.zeros(2, np.float32))
    optimizer = optim.Adam([param], lr=0.1)
    torch_optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    scheduler, torch_scheduler = ours(optimizer), theirs(torch_optimizer)
    for _ in range(steps):
        assert scheduler.get_last_lr()[0] == pytest.approx(torch_scheduler.get_last_lr()[0], rel=1e-5)
        assert optimizer.state.hyperparams["b1"] == pytest.approx(torch_optimizer.param_groups[0]["betas"][0], rel=1e-5)
        torch_optimizer.step()
        scheduler.step()
        torch_scheduler.step()
    # The schedule reaches the update rule: one step with lr=0 leaves the parameter alone.
    optimizer.lr = 0.0
    optimizer.step(lambda: jnp.sum(param.data + 1.0))
    np.testing.assert_array_equal(np.asarray(param.data), 0.0)


def test_closure_step_is_one_compiled_update_that_sees_new_data():
    net = nn.Sequential(nn.Linear(3, 2))
    optimizer = optim.SGD(net.parameters(), lr=0.1)
    traces = []
    rng = np.random.default_rng(0)
    for step in range(5):
        x = jnp.asarray(rng.normal(size=(4, 6, 3)).astype(np.float32))  # new data every step
        y = jnp.asarray(rng.normal(size=(4, 6, 2)).astype(np.float32))
        weight, bias = net[0].weight.data, net[0].bias.data

        def closure():
            traces.append("traced")  # runs while tracing only
            return jnp.mean((net(x) - y) ** 2)

        loss = optimizer.step(closure)
        expected_loss, (grad_w, grad_b) = jax.value_and_grad(
            lambda w, b: jnp.mean((x @ w.T + b - y) ** 2), argnums=(0, 1)
        )(weight, bias)
        assert float(loss) == pytest.approx(float(expected_loss), rel=1e-5)
        np.testing.assert_allclose(
            np.asarray(net[0].weight.data), np.asarray(weight - 0.1 * grad_w), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(np.asarray(net[0].bias.data), np.asarray(bias - 0.1 * grad_b), rtol=1e-5, atol=1e-6)
    assert traces == ["traced"]  # compiled once, reused with each step's data and weights
    # A callable object (not a plain function) still works, differentiated eagerly.

    class Loss:
        def __call__(self):
            return jnp.sum(net[0].bias.data)

    before = np.asarray(net[0].bias.data)
    optimizer.step(Loss())
    np.testing.assert_allclose(np.asarray(net[0].bias.data), before - 0.1, rtol=1e-6)


def test_closure_over_torch_tensors_compiles_once_and_sees_each_batch():
    torch = pytest.importorskip("torch")
    net = nn.Sequential(nn.Linear(3, 2))
    optimizer = optim.SGD(net.parameters(), lr=0.1)
    traces = []
    generator = torch.Generator().manual_seed(0)
    for step in range(4):
        x, y = torch.randn(4, 6, 3, generator=generator), torch.randn(4, 6, 2, generator=generator)
        weight, bias = net[0].weight.data, net[0].bias.data

        def closure():
            traces.append("traced")
            return jnp.mean((net(x) - y) ** 2)

        loss = optimizer.step(closure)
        x_np, y_np = jnp.asarray(x.numpy()), jnp.asarray(y.numpy())
        expected = jnp.mean((x_np @ weight.T + bias - y_np) ** 2)
        assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    assert traces == ["traced"]  # the tensors are inputs of one compiled step, not constants


def test_closure_calling_torch_methods_on_a_captured_tensor_still_trains_with_a_warning():
    torch = pytest.importorskip("torch")
    net = nn.Sequential(nn.Linear(3, 2))
    optimizer = optim.SGD(net.parameters(), lr=0.1)
    traces = []
    for step in range(2):
        x, y = torch.randn(4, 6, 3), torch.randn(4, 6, 2)
        weight, bias = net[0].weight.data, net[0].bias.data

        def closure():
            traces.append("traced")
            return jnp.mean((net(x.view(4, 6, 3)) - jnp.asarray(y.numpy())) ** 2)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loss = optimizer.step(closure)
        expected = jnp.mean((jnp.asarray(x.numpy()) @ weight.T + bias - jnp.asarray(y.numpy())) ** 2)
        assert float(loss) == pytest.approx(float(expected), rel=1e-5)
        if step == 0:
            assert len(caught) == 1
            assert re.search(r"torch tensor\(s\) \['x', 'y'\].*x = x.numpy\(\)", str(caught[0].message))
        else:
            assert not caught  # warned once per closure
    # The failed conversion is traced twice (captured, then as plain traced code, which fails the same
    # way): 3 traces on the first step, then 1 per new batch (constants).
    assert traces == ["traced"] * 4


def test_hyper_parameters_must_be_finite_numbers():
    """A NaN learning rate would turn every weight into NaN at the first step: refused up front."""
    params = list(nn.Linear(2, 2).parameters())
    for lr, error, message in [(float("nan"), ValueError, "lr must be a finite number >= 0, got nan"),
                               (float("inf"), ValueError, "lr must be a finite number >= 0, got inf"),
                               (-1e-3, ValueError, "lr must be a finite number >= 0, got -0.001"),
                               ("1e-3", TypeError, "lr must be a number, got '1e-3'"),
                               (True, TypeError, "lr must be a number")]:  # fmt: skip
        with pytest.raises(error, match=f"Adam: {message}"):
            optim.Adam(params, lr=lr)
    optimizer = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="SGD: lr must be a finite number >= 0, got nan"):
        optimizer.lr = float("nan")
    with pytest.raises(ValueError, match="SGD: momentum must be a finite number >= 0, got -0.5"):
        optimizer.set_hyperparameter("momentum", -0.5)
    assert optimizer.lr == pytest.approx(0.1)


def test_gradient_clipping_applies_to_the_accumulated_gradient():
    """As torch and Lightning: accumulate micro-batch gradients, then clip their mean, then update."""
    import optax

    optimizer = optim.SGD(nn.Linear(2, 2).parameters(), lr=1.0, max_grad_norm=1.0)
    params = tuple(p.data for p in optimizer.params)
    micro = [tuple(jnp.full(p.shape, 3.0) for p in params), tuple(jnp.full(p.shape, -1.0) for p in params)]
    accumulate = optax.MultiSteps(optimizer.transform, 2)
    state = accumulate.init(params)._replace(inner_opt_state=optimizer.state)
    stepped = params
    for grads in micro:
        stepped, state = optimizer.update(stepped, state, grads, accumulate)
    mean = tuple(jnp.full(p.shape, 1.0) for p in params)  # (3 - 1) / 2, norm sqrt(6) > 1: clipped to norm 1
    norm = float(optax.global_norm(mean))
    for before, after, g in zip(params, stepped, mean):
        np.testing.assert_allclose(np.asarray(after), np.asarray(before - g / norm), rtol=1e-6)
