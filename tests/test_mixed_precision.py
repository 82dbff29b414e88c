"""Mixed precision ("bf16-mixed"): bfloat16 products with float32 accumulation, everything else float32."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim, snn, surrogate
from snnax_torchlike.snn.precision import matmul

STEPS = 20
EPOCHS = 10


def _bf16(a):
    return np.asarray(jnp.asarray(a).astype(jnp.bfloat16).astype(jnp.float32))


def test_matmul_multiplies_bfloat16_operands_with_float32_accumulation_and_float32_gradients():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 7, 16), dtype=np.float32), rng.standard_normal((16, 5), dtype=np.float32)
    y = matmul(jnp.asarray(x), jnp.asarray(w), "bf16-mixed")
    assert y.dtype == jnp.float32
    # exactly the float32 product of the bfloat16-rounded operands (float32 accumulation)
    np.testing.assert_allclose(np.asarray(y), _bf16(x) @ _bf16(w), rtol=1e-5, atol=1e-5)
    assert np.abs(np.asarray(y) - x @ w).max() > 1e-4  # and not the float32 product
    g = rng.standard_normal((3, 7, 5), dtype=np.float32)
    dx, dw = jax.grad(lambda a, b: jnp.sum(matmul(a, b, "bf16-mixed") * g), argnums=(0, 1))(x, w)
    assert dx.dtype == dw.dtype == jnp.float32
    # the derivative of the float32 product at the same point: the rounding passes straight through
    np.testing.assert_allclose(np.asarray(dx), g @ w.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(dw), x.reshape(-1, 16).T @ g.reshape(-1, 5), rtol=1e-5, atol=1e-5)
    per_sample = jax.grad(lambda b: jnp.sum(jax.vmap(jax.vmap(lambda r: matmul(r, b, "bf16-mixed")))(x) * g))(w)
    np.testing.assert_allclose(np.asarray(per_sample), np.asarray(dw), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(matmul(x, w, "32-true")), np.asarray(jnp.asarray(x) @ w))


@pytest.mark.parametrize("algorithm", ["xla", "im2col", "band"])
def test_convolutions_follow_the_policy(algorithm):
    snx.manual_seed(0)
    conv = nn.Conv2d(2, 4, 3, padding=1)
    x = np.random.default_rng(1).standard_normal((2, 2, 6, 6), dtype=np.float32)
    kernel = conv.core_layer()
    exact = type(kernel)(kernel.weight, kernel.bias, kernel.stride, kernel.padding, kernel.dilation, kernel.groups,
                         algorithm=algorithm)(x)  # fmt: skip
    with snn.precision_scope("bf16-mixed"):
        kernel = conv.core_layer()
    assert kernel.precision == "bf16-mixed"
    mixed = type(kernel)(kernel.weight, kernel.bias, kernel.stride, kernel.padding, kernel.dilation, kernel.groups,
                         algorithm=algorithm, precision="bf16-mixed")(x)  # fmt: skip
    rounded = type(kernel)(jnp.asarray(_bf16(kernel.weight)), kernel.bias, kernel.stride, kernel.padding,
                           kernel.dilation, kernel.groups, algorithm=algorithm)(_bf16(x))  # fmt: skip
    assert mixed.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(mixed), np.asarray(rounded), rtol=1e-4, atol=1e-4)
    assert np.abs(np.asarray(mixed) - np.asarray(exact)).max() > 1e-4
    # every algorithm differentiates as the float32 convolution at the same point
    def loss(weight, kernel, **precision):
        call = type(kernel)(weight, kernel.bias, kernel.stride, kernel.padding, kernel.dilation, kernel.groups,
                            algorithm=algorithm, **precision)  # fmt: skip
        return jnp.sum(jnp.sin(call(x)))

    grad_exact = jax.grad(loss)(kernel.weight, kernel)
    grad_mixed = jax.grad(loss)(kernel.weight, kernel, precision="bf16-mixed")
    cotangent = jnp.cos(mixed)  # the mixed forward's cotangent, through the float32 convolution's derivative
    _, pullback = jax.vjp(lambda w: type(kernel)(w, kernel.bias, kernel.stride, kernel.padding, kernel.dilation,
                                                 kernel.groups, algorithm=algorithm)(x), kernel.weight)  # fmt: skip
    np.testing.assert_allclose(np.asarray(grad_mixed), np.asarray(pullback(cotangent)[0]), rtol=1e-4, atol=1e-4)
    assert grad_mixed.dtype == jnp.float32 and np.abs(np.asarray(grad_mixed - grad_exact)).max() > 0


def test_the_policy_is_checked():
    with pytest.raises(ValueError, match=r"Trainer: precision must be one of \['32-true', 'bf16-mixed'\].*'16-mixed'"):
        snx.Trainer(nn.Sequential(nn.Linear(2, 2), nn.Leaky(0.9)), None, None, precision="16-mixed")
    with pytest.raises(ValueError, match="precision_scope: precision must be one of"):
        with snn.precision_scope("float16"):
            pass
    assert snn.current_precision() == "32-true"
    with snn.precision_scope(32):
        assert snn.current_precision() == "32-true"


class _Digits:
    """Rate-coded digits ``(spikes [T, B, 64], labels [B])``, fresh spikes every pass (as the demo)."""

    def __init__(self, images, labels, batch_size, seed, passes=1):
        self.images, self.labels, self.batch_size, self.passes = images, labels, batch_size, passes
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return self.passes * -(-len(self.labels) // self.batch_size)

    def __iter__(self):
        for _ in range(self.passes):  # several spike draws of each image: a steadier accuracy
            for start in range(0, len(self.labels), self.batch_size):
                images = self.images[start : start + self.batch_size]
                spikes = (self.rng.random((STEPS, *images.shape), dtype=np.float32) < images).astype(np.float32)
                yield spikes, self.labels[start : start + self.batch_size]


def _train(precision):
    digits = load_digits()
    images, labels = (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int32)
    train_x, test_x, train_y, test_y = train_test_split(images, labels, test_size=0.25, random_state=0, stratify=labels)
    snx.manual_seed(0)
    grad = surrogate.fast_sigmoid(slope=25)
    net = nn.Sequential(nn.Linear(64, 128), nn.Leaky(0.9, spike_grad=grad), nn.Linear(128, 10),
                        nn.Leaky(0.9, spike_grad=grad))  # fmt: skip
    trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=5e-3), SF.ce_rate_loss(), metrics=[SF.accuracy_rate],
                          progress=False, precision=precision)  # fmt: skip
    history = trainer.fit(_Digits(train_x, train_y, 64, seed=1), epochs=EPOCHS)
    test = trainer.evaluate(_Digits(test_x, test_y, 150, seed=2, passes=4))
    spk, mem = trainer.predict([x for x, _ in _Digits(test_x[:8], test_y[:8], 8, seed=3)])
    return net, trainer, history, test, (spk, mem)


@pytest.fixture(scope="module")
def runs():
    return {precision: _train(precision) for precision in ("32-true", "bf16-mixed")}


def test_bf16_mixed_training_converges_as_float32_does(runs):
    fp32, bf16 = runs["32-true"][3]["accuracy_rate"], runs["bf16-mixed"][3]["accuracy_rate"]
    assert fp32 > 0.9
    assert abs(bf16 - fp32) <= 0.01, (fp32, bf16)


def test_bf16_mixed_keeps_parameters_state_spikes_membranes_and_loss_in_float32(runs):
    net, trainer, history, _, (spk, mem) = runs["bf16-mixed"]
    assert all(p.data.dtype == jnp.float32 for p in net.parameters())
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree_util.tree_leaves(trainer.optimizer.state)
               if jnp.issubdtype(leaf.dtype, jnp.floating))  # fmt: skip
    assert spk.dtype == mem.dtype == jnp.float32
    assert set(np.unique(np.asarray(spk))) <= {0.0, 1.0}
    assert all(np.isfinite(history.history["loss"]))
    assert trainer.trace_count == 1 and trainer.eval_trace_count == 1  # every epoch runs one compiled step


def test_each_precision_compiles_once_and_switching_reuses_them():
    snx.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), nn.Leaky(0.9))
    data = [(np.ones((5, 8, 4), np.float32), np.zeros(8, np.int32))] * 2
    optimizer = optim.Adam(net.parameters(), lr=1e-3)
    for precision in ("bf16-mixed", "32-true", "bf16-mixed", "32-true"):
        net.fit(data, optimizer=optimizer, loss_fn=SF.ce_rate_loss(), progress=False, precision=precision)
    (trainer,) = net._trainers
    assert trainer.trace_count == 2
