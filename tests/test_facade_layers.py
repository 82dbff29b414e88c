"""Conv, pooling, dropout and layer norm against torch; a convolutional SNN in `nn.Sequential`."""

import jax.numpy as jnp
import numpy as np
import pytest
import torch

import snnax_torchlike as snx
from snnax_torchlike import nn


def _compare(ours, theirs, x, atol=1e-5):
    ours.load_state_dict(theirs.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(np.asarray(ours(x)), expected, atol=atol, rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [dict(kernel_size=3), dict(kernel_size=(3, 2), stride=2, padding=1), dict(kernel_size=3, dilation=2, padding="same"),
     dict(kernel_size=3, groups=2, bias=False), dict(kernel_size=5, padding="valid")],
)  # fmt: skip
def test_conv2d_matches_torch(kwargs):
    x = np.random.default_rng(0).normal(size=(2, 4, 11, 9)).astype(np.float32)
    _compare(nn.Conv2d(4, 6, **kwargs), torch.nn.Conv2d(4, 6, **kwargs), x)


def test_conv1d_and_single_sample():
    x = np.random.default_rng(1).normal(size=(3, 2, 17)).astype(np.float32)
    _compare(nn.Conv1d(2, 5, 4, stride=2, padding=1), torch.nn.Conv1d(2, 5, 4, stride=2, padding=1), x)
    conv = nn.Conv1d(2, 5, 4)
    np.testing.assert_allclose(np.asarray(conv(x[0])), np.asarray(conv(x))[0], atol=1e-6)
    with pytest.raises(ValueError, match=r"Conv1d: expected \[B, 2, \*\].*\(3, 3, 17\)"):
        conv(np.zeros((3, 3, 17), np.float32))
    with pytest.raises(ValueError, match="must divide by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


@pytest.mark.parametrize(
    "kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3))]
)
def test_pooling_matches_torch(kwargs):
    x = np.random.default_rng(2).normal(size=(2, 3, 8, 9)).astype(np.float32)
    _compare(nn.MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), x)
    _compare(nn.AvgPool2d(**kwargs), torch.nn.AvgPool2d(**kwargs), x)
    _compare(nn.AvgPool2d(**kwargs, count_include_pad=False), torch.nn.AvgPool2d(**kwargs, count_include_pad=False), x)


def test_layer_norm_matches_torch():
    x = np.random.default_rng(3).normal(size=(4, 3, 5)).astype(np.float32)
    theirs = torch.nn.LayerNorm((3, 5))
    with torch.no_grad():
        theirs.weight.mul_(2.0).add_(0.5)
    _compare(nn.LayerNorm((3, 5)), theirs, x)
    with pytest.raises(ValueError, match=r"LayerNorm: expected inputs ending in \(5,\)"):
        nn.LayerNorm(5)(np.zeros((2, 4), np.float32))


def test_dropout_train_and_eval():
    snx.manual_seed(0)
    dropout = nn.Dropout(0.25)
    y = np.asarray(dropout(jnp.ones((200, 100))))
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], rtol=1e-6)
    assert abs((y == 0).mean() - 0.25) < 0.02
    dropout.eval()
    np.testing.assert_array_equal(np.asarray(dropout(jnp.ones((4, 4)))), 1.0)
    with pytest.raises(ValueError, match=r"Dropout: p must lie in \[0, 1\)"):
        nn.Dropout(1.0)


def test_dropout_inside_sequential_differs_per_step_and_sample_and_is_seeded():
    net = nn.Sequential(nn.Dropout(0.5))
    x = jnp.ones((6, 3, 40))
    snx.manual_seed(1)
    first = np.asarray(net(x))
    assert len({first[t, b].tobytes() for t in range(6) for b in range(3)}) == 18
    snx.manual_seed(1)
    np.testing.assert_array_equal(np.asarray(net(x)), first)
    net.eval()
    np.testing.assert_array_equal(np.asarray(net(x)), 1.0)


def test_convolutional_snn_sequence_equals_stepwise():
    snx.manual_seed(2)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 5), nn.MaxPool2d(2), nn.Leaky(beta=0.5),
        nn.Conv2d(4, 8, 5), nn.MaxPool2d(2), nn.Leaky(beta=0.5),
        nn.Flatten(), nn.Linear(8 * 4 * 4, 10), nn.Leaky(beta=0.5),
    )  # fmt: skip
    x = (np.random.default_rng(4).random((5, 2, 1, 28, 28)) < 0.3).astype(np.float32)
    spk, mem = net(x)
    assert spk.shape == mem.shape == (5, 2, 10)
    layers = list(net)
    mems = [layer.init_leaky() if isinstance(layer, nn.Leaky) else None for layer in layers]
    for t in range(5):
        h = x[t]
        for i, layer in enumerate(layers):
            if isinstance(layer, nn.Leaky):
                h, mems[i] = layer(h, mems[i])
            else:
                h = layer(h)
        np.testing.assert_allclose(np.asarray(mems[-1]), np.asarray(mem[t]), atol=1e-5)
        np.testing.assert_array_equal(np.asarray(h), np.asarray(spk[t]))


@pytest.mark.parametrize("in_channels", [1, 4])
@pytest.mark.parametrize(
    "kwargs", [dict(kernel_size=3), dict(kernel_size=(3, 2), stride=2, padding=1), dict(kernel_size=5, padding=2)]
)
def test_matmul_and_xla_convolutions_agree_in_values_and_gradients(kwargs, in_channels):
    import jax

    from snnax_torchlike.nn.conv import ConvKernel

    conv = nn.Conv2d(in_channels, 6, **kwargs)
    x = jnp.asarray(np.random.default_rng(3).normal(size=(2, in_channels, 11, 9)).astype(np.float32))

    def run(algorithm, weight, x):
        kernel = conv.core_layer()
        kernel = ConvKernel(weight, kernel.bias, kernel.stride, kernel.padding, kernel.dilation, 1, algorithm)
        return jnp.sum(jnp.sin(kernel(x)))

    algorithms = ("xla", "im2col", "band")
    values = [run(a, conv.weight.data, x) for a in algorithms]
    grads = [jax.grad(run, argnums=(1, 2))(a, conv.weight.data, x) for a in algorithms]
    for value, grad in zip(values[1:], grads[1:]):
        np.testing.assert_allclose(value, values[0], rtol=1e-5)
        for a, b in zip(grad, grads[0]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_auto_convolution_algorithm_choice_and_errors():
    from snnax_torchlike.nn.conv import ConvKernel, _algorithm

    def chosen(conv, width):
        return _algorithm(conv.core_layer(), width)

    assert chosen(nn.Conv2d(1, 12, 5), 28) == "band"  # few input channels, narrow: rows times a band matrix
    assert chosen(nn.Conv2d(2, 8, 5), 34) == "band"
    assert chosen(nn.Conv2d(12, 64, 5), 12) == "im2col"
    assert chosen(nn.Conv2d(1, 12, 5), 128) == "im2col"  # wide: the band's zeros would cost too much
    assert chosen(nn.Conv1d(1, 4, 3), 20) == "im2col"
    assert chosen(nn.Conv2d(4, 4, 3, groups=2), 9) == "xla"
    weight = jnp.zeros((4, 2, 3))
    with pytest.raises(ValueError, match=r"algorithm must be one of \('auto', 'xla', 'im2col', 'band'\), got 'fft'"):
        ConvKernel(jnp.zeros((4, 2, 3, 3)), None, (1, 1), "VALID", (1, 1), 1, "fft")
    with pytest.raises(ValueError, match="'band' is 2-D only"):
        ConvKernel(weight, None, (1,), "VALID", (1,), 1, "band")
    with pytest.raises(ValueError, match="'im2col' needs groups=1 and no dilation"):
        ConvKernel(jnp.zeros((4, 1, 3, 3)), None, (1, 1), "VALID", (2, 2), 1, "im2col")


@pytest.mark.parametrize("kernel", [2, 3, (2, 3), (3, 1)])
def test_tiled_max_pool_gradient_goes_to_the_first_maximum_as_in_torch(kernel):
    import jax

    # Spikes: windows full of ties, where a split gradient would differ from torch.
    x = (np.random.default_rng(4).random((2, 3, 6, 6)) < 0.5).astype(np.float32)
    pool = nn.MaxPool2d(kernel)
    out_shape = pool(jnp.asarray(x)).shape
    weights = np.arange(1, 1 + np.prod(out_shape), dtype=np.float32).reshape(out_shape)
    ours = jax.grad(lambda v: jnp.sum(pool(v) * weights))(jnp.asarray(x))
    xt = torch.tensor(x, requires_grad=True)
    (torch.nn.functional.max_pool2d(xt, kernel) * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(np.asarray(ours), xt.grad.numpy())
    # Also under vmap (a batch of sequences, as inside the model), and with continuous values.
    seq = np.random.default_rng(5).normal(size=(4, 2, 3, 6, 6)).astype(np.float32)
    ours = jax.vmap(jax.grad(lambda v: jnp.sum(pool(v) * weights)))(jnp.asarray(seq))
    st = torch.tensor(seq, requires_grad=True)
    (
        torch.nn.functional.max_pool2d(st.reshape(8, 3, 6, 6), kernel).reshape(4, *out_shape) * torch.tensor(weights)
    ).sum().backward()
    np.testing.assert_array_equal(np.asarray(ours), st.grad.numpy())
    average = nn.AvgPool2d(kernel)
    size = np.prod(np.broadcast_to(kernel, (2,)))
    np.testing.assert_allclose(jax.grad(lambda v: jnp.sum(average(v)))(jnp.asarray(x)), 1.0 / size, rtol=1e-6)
    np.testing.assert_allclose(
        average(jnp.asarray(x)), torch.nn.functional.avg_pool2d(torch.tensor(x), kernel), rtol=1e-6
    )
