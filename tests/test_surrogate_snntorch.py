"""snnTorch's surrogates in the drop-in ``snnax_torchlike.snntorch.surrogate``: forward and backward equal snnTorch's.

Each case runs the real ``snntorch.surrogate`` (torch autograd) and ours (``jax.grad``)
on the same inputs and the same upstream gradient.
"""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import snntorch.surrogate as theirs
import snntorch.utils
import torch

import snnax_torchlike.snntorch as snn
from snnax_torchlike import nn, utils
from snnax_torchlike.snntorch import surrogate as ours

# Through 0 and through 1 (snnTorch's SFS bound and spike_rate_escape's peak), exactly and either side.
X = np.unique(np.concatenate([np.linspace(-2.0, 2.0, 33), [0.0, 1e-4, -1e-4, 1.0, 1.0001, 0.9999]]).astype(np.float32))
UPSTREAM = np.random.default_rng(0).normal(size=X.shape).astype(np.float32)


def _fast_sigmoid_backward(input_, grad_input, out):
    slope = 25
    return grad_input / (slope * torch.abs(input_) + 1.0) ** 2


def _spike_weighted_backward(input_, grad_input, out):
    return grad_input * (out + 0.1 * torch.exp(-input_.abs())) * 2.0


# id -> (snnTorch surrogate, ours)
CASES = {
    "atan": (theirs.atan(), ours.atan()),
    "atan_alpha3": (theirs.atan(alpha=3.0), ours.atan(alpha=3.0)),
    "fast_sigmoid": (theirs.fast_sigmoid(), ours.fast_sigmoid()),
    "fast_sigmoid_slope5": (theirs.fast_sigmoid(slope=5), ours.fast_sigmoid(slope=5)),
    "sigmoid": (theirs.sigmoid(), ours.sigmoid()),
    "sigmoid_slope4": (theirs.sigmoid(slope=4), ours.sigmoid(slope=4)),
    "straight_through_estimator": (theirs.straight_through_estimator(), ours.straight_through_estimator()),
    "heaviside": (theirs.heaviside(), ours.heaviside()),
    "triangular": (theirs.triangular(), ours.triangular()),
    "triangular_threshold0.5": (theirs.triangular(threshold=0.5), ours.triangular(threshold=0.5)),
    "spike_rate_escape": (theirs.spike_rate_escape(), ours.spike_rate_escape()),
    "spike_rate_escape_beta2_slope3": (theirs.spike_rate_escape(beta=2, slope=3), ours.spike_rate_escape(2, 3)),
    "SFS": (theirs.SFS(), ours.SFS()),
    "SFS_slope5_B-0.5": (theirs.SFS(slope=5, B=-0.5), ours.SFS(slope=5, B=-0.5)),
    "custom_surrogate_fast_sigmoid": (
        theirs.custom_surrogate(_fast_sigmoid_backward),
        ours.custom_surrogate(_fast_sigmoid_backward),
    ),
    "custom_surrogate_uses_spikes": (
        theirs.custom_surrogate(_spike_weighted_backward),
        ours.custom_surrogate(_spike_weighted_backward),
    ),
}


def _torch_run(spike_fn, x=X):
    t = torch.tensor(x, requires_grad=True)
    out = spike_fn(t)
    (out * torch.from_numpy(UPSTREAM)).sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def _jax_run(spike_fn, x=X):
    out, vjp = jax.vjp(spike_fn, jnp.asarray(x))
    (grad,) = vjp(jnp.asarray(UPSTREAM))
    return np.asarray(out), np.asarray(grad)


@pytest.mark.parametrize("case", list(CASES))
def test_forward_and_gradient_equal_snntorch(case):
    reference, spike_fn = CASES[case]
    out_t, grad_t = _torch_run(reference)
    out_j, grad_j = _jax_run(spike_fn)
    np.testing.assert_array_equal(out_j, out_t)
    # sigmoid: snnTorch's e^{-z}/(e^{-z}+1)^2 underflows to 0 where ours keeps ~1e-20.
    np.testing.assert_allclose(grad_j, grad_t, rtol=2e-6, atol=1e-12 if "sigmoid" not in case else 1e-9)


def test_snntorch_quirks_are_kept_and_the_core_keeps_the_real_curves():
    from snnax_torchlike.snn import surrogate as core

    x = jnp.asarray([-0.5, 0.0, 0.5, 1.0])
    slope_of = lambda fn: np.asarray(jax.vmap(jax.grad(fn))(x))  # noqa: E731
    np.testing.assert_allclose(slope_of(ours.triangular()), [1.0, -1.0, -1.0, -1.0])  # sign flips at x >= 0
    np.testing.assert_allclose(slope_of(core.triangular()), [0.5, 1.0, 0.5, 0.0])  # a triangle
    assert int(np.argmax(slope_of(ours.spike_rate_escape()))) == 3  # peaks at x = 1
    assert int(np.argmax(slope_of(core.spike_rate_escape()))) == 1  # peaks at the threshold


@pytest.mark.parametrize(
    "name, args",
    [
        ("ATan", (2.0,)),
        ("FastSigmoid", (25,)),
        ("Sigmoid", (4,)),
        ("StraightThroughEstimator", ()),
        ("Heaviside", ()),
        ("Triangular", (1,)),
        ("SpikeRateEscape", (1, 25)),
        ("SparseFastSigmoid", (25, 0.5)),
        ("CustomSurrogate", (_fast_sigmoid_backward,)),
    ],
)
def test_autograd_function_classes_apply_like_snntorch(name, args):
    out_t, grad_t = _torch_run(lambda t: getattr(theirs, name).apply(t, *args))
    out_j, grad_j = _jax_run(lambda x: getattr(ours, name).apply(x, *args))
    np.testing.assert_array_equal(out_j, out_t)
    np.testing.assert_allclose(grad_j, grad_t, rtol=2e-6, atol=1e-9)
    np.testing.assert_array_equal(np.asarray(getattr(ours, name).apply(torch.from_numpy(X), *args)), out_t)


def test_stochastic_and_broken_operators_are_refused_with_the_reason():
    with pytest.raises(NotImplementedError, match=r"SSO.*fresh torch random noise.*custom_surrogate"):
        ours.SSO(mean=0.1, variance=0.3)
    with pytest.raises(NotImplementedError, match="SSO"):
        ours.StochasticSpikeOperator.apply(jnp.zeros(3), 0.0, 0.2)
    with pytest.raises(TypeError, match=r"LSO\(slope=0.2\).*broken"):
        ours.LSO(slope=0.2)
    with pytest.raises(TypeError, match="LSO"):
        ours.LeakySpikeOperator.apply(jnp.zeros(3), 0.1)
    with pytest.raises(TypeError):  # snnTorch's own LSO fails at its first use
        theirs.LSO()(torch.zeros(3))


def test_bad_arguments_name_the_factory():
    with pytest.raises(TypeError, match="custom_surrogate: expected a function"):
        ours.custom_surrogate(3.0)
    with pytest.raises(TypeError, match="triangular: threshold must be a real number"):
        ours.triangular("1")
    with pytest.raises(TypeError, match="SFS: B must be a real number"):
        ours.SFS(25, None)
    with pytest.raises(ValueError, match="spike_rate_escape: beta must be > 0"):
        ours.spike_rate_escape(beta=0.0)


def test_every_public_snntorch_surrogate_name_exists():
    public = {
        name
        for name, value in vars(theirs).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and getattr(value, "__module__", "") == theirs.__name__
    }
    assert public <= set(ours.__all__), sorted(public - set(ours.__all__))
    assert all(hasattr(ours, name) for name in ours.__all__)


@pytest.mark.parametrize("case", ["custom_surrogate_fast_sigmoid", "spike_rate_escape"])
def test_inside_a_leaky_network_gradients_equal_snntorch(case):
    reference, spike_fn = CASES[case]
    torch.manual_seed(0)
    net_t = torch.nn.Sequential(
        torch.nn.Linear(4, 3), snntorch.Leaky(beta=0.9, spike_grad=reference, init_hidden=True, output=True)
    )
    net_o = nn.Sequential(nn.Linear(4, 3), snn.Leaky(beta=0.9, spike_grad=spike_fn, init_hidden=True, output=True))
    net_o.load_state_dict({k: v.clone() for k, v in net_t.state_dict().items()})
    x = torch.from_numpy(np.random.default_rng(1).uniform(0, 1.5, (5, 2, 4)).astype(np.float32))

    def loss(net, reset, stack):
        reset(net)
        spk, mem = zip(*(net(x[t]) for t in range(x.shape[0])))
        return (stack(spk) * 2 + stack(mem)).sum()

    loss(net_t, snntorch.utils.reset, torch.stack).backward()
    loss(net_o, utils.reset, torch.stack).backward()
    for name, param in net_o.named_parameters():
        np.testing.assert_allclose(
            np.asarray(param.grad), dict(net_t.named_parameters())[name].grad.numpy(), rtol=1e-5, atol=1e-6
        )
