"""`SLSTM` and `SConv2dLSTM` (facade and core) against the real snnTorch, on the same weights."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import torch

import snnax_torchlike.snntorch as snn
from snnax_torchlike import nn
from snnax_torchlike import snn as core

T, B = 4, 2
THRESHOLD = 0.1  # |h| < 1, so snnTorch's default threshold 1 never spikes


def _run(neuron, xs, *, explicit=True):
    """Step ``neuron`` (ours or snnTorch's) over ``xs``; spikes, syn and mem of every step as numpy."""
    syn, mem = neuron.reset_mem()
    spikes, syns, mems = [], [], []
    for x in xs:
        if explicit:
            spk, syn, mem = neuron(x, syn, mem)
        else:
            spk = neuron(x)
            syn, mem = neuron.syn, neuron.mem
        spikes.append(_numpy(spk))
        syns.append(_numpy(syn))
        mems.append(_numpy(mem))
    return np.stack(spikes), np.stack(syns), np.stack(mems)


def _numpy(value):
    return value.detach().numpy().copy() if isinstance(value, torch.Tensor) else np.asarray(value)


def _assert_same(ours, reference):
    spikes, syns, mems = ours
    ref_spikes, ref_syns, ref_mems = reference
    np.testing.assert_array_equal(spikes, ref_spikes)
    np.testing.assert_allclose(syns, ref_syns, atol=1e-5, rtol=0)
    np.testing.assert_allclose(mems, ref_mems, atol=1e-5, rtol=0)


def _twin(ours, reference):
    ours.load_state_dict(reference.state_dict())
    assert list(ours.state_dict()) == list(reference.state_dict())
    return ours


def _inputs(shape, seed):
    return torch.from_numpy((np.random.default_rng(seed).random((T, *shape)) * 2 - 1).astype(np.float32))


@pytest.mark.parametrize("reset_mechanism", ["none", "subtract", "zero"])
def test_slstm_matches_snntorch(reset_mechanism):
    torch.manual_seed(0)
    reference = snntorch.SLSTM(6, 6, threshold=THRESHOLD, reset_mechanism=reset_mechanism)
    ours = _twin(snn.SLSTM(6, 6, threshold=THRESHOLD, reset_mechanism=reset_mechanism), reference)
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in reference.named_parameters()]
    xs = _inputs((B, 6), 0)
    expected = _run(reference, xs)
    spikes = expected[0]
    assert 0 < spikes[:-1].sum() < spikes[:-1].size  # spikes and silences, so the resets matter
    _assert_same(_run(ours, xs), expected)


def test_slstm_state_is_zeroed_every_step_when_sizes_differ_as_in_snntorch():
    torch.manual_seed(1)
    reference = snntorch.SLSTM(4, 5, threshold=THRESHOLD, reset_mechanism="subtract")
    with pytest.warns(UserWarning, match="zeroed before every step"):
        ours = _twin(snn.SLSTM(4, 5, threshold=THRESHOLD, reset_mechanism="subtract"), reference)
    xs = _inputs((B, 4), 1)
    expected = _run(reference, xs)
    _assert_same(_run(ours, xs), expected)
    with torch.no_grad():  # snnTorch's own output is its LSTM cell's from zero state, step by step
        stateless = np.stack([reference.lstm_cell(x)[0].numpy() for x in xs])
    np.testing.assert_allclose(stateless, expected[2], atol=1e-6)


def test_slstm_init_hidden_matches_snntorch():
    torch.manual_seed(2)
    reference = snntorch.SLSTM(4, 4, threshold=THRESHOLD, init_hidden=True, reset_mechanism="zero")
    ours = _twin(snn.SLSTM(4, 4, threshold=THRESHOLD, init_hidden=True, reset_mechanism="zero"), reference)
    xs = _inputs((B, 4), 2)
    _assert_same(_run(ours, xs, explicit=False), _run(reference, xs, explicit=False))
    with pytest.raises(TypeError, match="init_hidden=True"):
        ours(xs[0], *ours.reset_mem())


@pytest.mark.parametrize(
    "options",
    [
        dict(reset_mechanism="zero", max_pool=2, threshold=THRESHOLD),
        dict(reset_mechanism="subtract", avg_pool=(2, 3), threshold=0.02),  # averages of h: below its maxima
    ],
)
def test_sconv2dlstm_matches_snntorch(options):
    torch.manual_seed(3)
    reference = snntorch.SConv2dLSTM(2, 3, 3, **options)
    ours = _twin(snn.SConv2dLSTM(2, 3, 3, **options), reference)
    xs = _inputs((B, 2, 6, 6), 3)
    expected = _run(reference, xs)
    assert 0 < expected[0][:-1].sum() < expected[0][:-1].size
    _assert_same(_run(ours, xs), expected)


def _torch_gradients(reference, xs):
    xs = xs.clone().requires_grad_(True)
    syn, mem = reference.reset_mem()
    total = 0
    for x in xs:
        spk, syn, mem = reference(x, syn, mem)
        total = total + spk.sum() + (mem**2).sum()
    total.backward()
    return total.item(), {name: p.grad.numpy() for name, p in reference.named_parameters()}, xs.grad.numpy()


def _our_gradients(ours, xs):
    def loss(params, xs):
        with ours.bind(params):
            spk, mem = nn.Sequential(ours)(xs)
        return jnp.sum(spk) + jnp.sum(mem**2)

    params = {name: p.data for name, p in ours.named_parameters()}
    total, grads = jax.value_and_grad(loss, argnums=(0, 1))(params, jnp.asarray(xs.numpy()))
    return float(total), *grads


@pytest.mark.parametrize("kind", ["SLSTM", "SConv2dLSTM"])
def test_core_layer_values_and_gradients_match_torch_autograd(kind):
    """Through nn.Sequential (the core layer in one lax.scan): the loss and its gradients
    with respect to every parameter and the input."""
    torch.manual_seed(4)
    if kind == "SLSTM":
        args, xs = (6, 6), _inputs((B, 6), 4)
    else:
        args, xs = (2, 3, 3), _inputs((B, 2, 6, 6), 4)

    def make(module):
        return module(*args, threshold=THRESHOLD, reset_mechanism="subtract")

    reference = make(getattr(snntorch, kind))
    ours = _twin(make(getattr(snn, kind)), reference)
    ref_total, ref_param_grads, ref_x_grad = _torch_gradients(reference, xs)
    total, param_grads, x_grad = _our_gradients(ours, xs)
    np.testing.assert_allclose(total, ref_total, rtol=1e-5)
    assert set(param_grads) == set(ref_param_grads)
    for name, grad in param_grads.items():
        np.testing.assert_allclose(np.asarray(grad), ref_param_grads[name], rtol=1e-4, atol=1e-4, err_msg=name)
    np.testing.assert_allclose(np.asarray(x_grad), ref_x_grad, rtol=1e-4, atol=1e-4)


def test_bad_arguments_are_refused_with_the_layer_name():
    with pytest.raises(ValueError, match="SConv2dLSTM: kernel_size must be odd"):
        snn.SConv2dLSTM(1, 2, 4)
    with pytest.raises(ValueError, match="max_pool or avg_pool, not both"):
        snn.SConv2dLSTM(1, 2, 3, max_pool=2, avg_pool=2)
    lstm = snn.SLSTM(6, 6)
    with pytest.raises(ValueError, match=r"SLSTM: expected input \[B, 6\]"):
        lstm(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="SLSTM: the membrane .* has shape"):
        lstm(np.zeros((2, 6), np.float32), np.zeros((2, 6), np.float32), np.zeros((5, 6), np.float32))
    conv = snn.SConv2dLSTM(2, 3, 3)
    with pytest.raises(ValueError, match=r"SConv2dLSTM: expected input \[B, 2, H, W\]"):
        conv(np.zeros((1, 3, 4, 4), np.float32))
    with pytest.raises(ValueError, match="SLSTM: expected one sample's input"):
        layer = lstm.core_layer()
        layer(layer.init_state((6,)), jnp.zeros((2, 6)))
    assert isinstance(nn.LSTMCell(6, 6), nn.Module) and core.SLSTM is type(lstm.core_layer())
