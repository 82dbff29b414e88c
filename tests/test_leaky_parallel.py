"""LeakyParallel (facade, and the core through nn.Sequential) against the real snntorch.LeakyParallel."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import torch

import snnax_torchlike.snntorch as snn
from snnax_torchlike import nn

T, B, I, H = 10, 3, 4, 6

CONFIGS = {
    "scalar_beta_learnt_diagonal": dict(beta=0.8, learn_beta=True),
    "dense_learnt_threshold_and_graded": dict(beta=0.5, weight_hh_enable=True, learn_beta=True, learn_threshold=True,
                                              graded_spikes_factor=2.0, learn_graded_spikes_factor=True),
    "random_weights_no_bias_fast_sigmoid": dict(bias=False, threshold=0.3, spike_grad="fast_sigmoid"),
}  # fmt: skip


def _pair(**kwargs):
    """snnTorch's layer and ours with the same weights (``spike_grad="fast_sigmoid"``: each library's)."""
    theirs_kwargs, ours_kwargs = dict(kwargs), dict(kwargs)
    if kwargs.get("spike_grad") == "fast_sigmoid":
        theirs_kwargs["spike_grad"] = snntorch.surrogate.fast_sigmoid(slope=5)
        ours_kwargs["spike_grad"] = snn.surrogate.fast_sigmoid(slope=5)
    theirs = snntorch.LeakyParallel(I, H, **theirs_kwargs)
    ours = snn.LeakyParallel(I, H, **ours_kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def _check_spikes(ours, theirs, mem, threshold):
    flips = (ours != theirs) & (np.abs(mem - threshold) > 1e-5)
    assert not flips.any(), f"{int(flips.sum())} spikes differ away from the threshold"
    assert theirs.sum() > 5


@pytest.mark.parametrize(
    "config, batched", [(name, True) for name in CONFIGS] + [("scalar_beta_learnt_diagonal", False)]
)
def test_values_and_gradients_match_snntorch(config, batched):
    """``[T, B, I]`` (and once ``[T, I]``): spikes, and gradients of the input and of every trained array."""
    torch.manual_seed(0)
    theirs, ours = _pair(**CONFIGS[config])
    x = torch.rand(T, B, I) * 2.0
    x = x if batched else x[:, 0]
    weights = torch.linspace(0.5, 1.5, H)

    x_theirs = x.clone().requires_grad_(True)
    spk_theirs = theirs(x_theirs)
    (spk_theirs * weights).sum().backward()
    mem_theirs = theirs.rnn(x)[0].detach().numpy()

    x_ours = nn.Parameter(x.numpy())
    spk_ours = ours(x_ours)
    assert spk_ours.shape == tuple(spk_theirs.shape)
    (spk_ours * weights.numpy()).sum().backward()

    _check_spikes(np.asarray(spk_ours), spk_theirs.detach().numpy(), mem_theirs, theirs.threshold.item())
    np.testing.assert_allclose(np.asarray(x_ours.grad), x_theirs.grad.numpy(), rtol=1e-4, atol=1e-5)
    ours_params = dict(ours.named_parameters())
    for name, param in theirs.named_parameters():
        if param.grad is None:  # rnn.weight_hh_l0 without learn_beta: frozen
            assert not ours_params[name].requires_grad and ours_params[name].grad is None
            continue
        np.testing.assert_allclose(np.asarray(ours_params[name].grad), param.grad.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)  # fmt: skip


def test_weight_hh_from_beta_as_snntorch():
    torch.manual_seed(1)
    for kwargs in (dict(beta=0.9), dict(beta=1.4, weight_hh_enable=True), dict()):
        theirs, _ = _pair(**kwargs)
        torch.manual_seed(1)
        ours = snn.LeakyParallel(I, H, **kwargs)
        hh = np.asarray(ours.rnn.weight_hh_l0.data)
        if "beta" in kwargs:  # beta clamped to [0, 1], written everywhere, kept on the diagonal unless enabled
            np.testing.assert_array_equal(hh, theirs.rnn.weight_hh_l0.detach().numpy())
            np.testing.assert_array_equal(np.asarray(ours.beta), theirs.beta.numpy())
        else:  # random, diagonal only; no beta buffer
            assert "beta" not in ours.state_dict() and "beta" not in theirs.state_dict()
            np.testing.assert_array_equal(hh, np.diag(np.diag(hh)))
            assert np.all(np.diag(hh) != 0)


def test_vector_beta_is_kept_but_unused_with_a_warning():
    torch.manual_seed(2)
    beta = torch.linspace(0.1, 0.9, H)
    with pytest.warns(UserWarning, match=r"does not initialise rnn.weight_hh_l0.*PR #441"):
        ours = snn.LeakyParallel(I, H, beta=beta)
    theirs = snntorch.LeakyParallel(I, H, beta=beta)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(np.asarray(ours.beta), theirs.beta.numpy())
    hh = np.asarray(ours.rnn.weight_hh_l0.data)
    assert not np.allclose(np.diag(hh), beta.numpy())  # as snnTorch 1.0: random, not beta
    np.testing.assert_array_equal(hh, np.diag(np.diag(hh)))


def test_in_sequential_matches_snntorch():
    torch.manual_seed(3)
    options = dict(beta=0.7, threshold=0.3, learn_beta=True)
    reference = torch.nn.Sequential(torch.nn.Linear(I, I), snntorch.LeakyParallel(I, H, **options))
    net = nn.Sequential(nn.Linear(I, I), snn.LeakyParallel(I, H, **options))
    net.load_state_dict(reference.state_dict())
    x = torch.rand(T, B, I) * 2.0
    spikes = reference(x).detach().numpy()
    mem = reference[1].rnn(reference[0](x))[0].detach().numpy()
    _check_spikes(np.asarray(net(x.numpy())), spikes, mem, 0.3)

    core = net[1].core_layer()  # stepping the core layer (graphs with delays) equals its whole-sequence run
    xs, h0 = jnp.asarray(x[:, 0].numpy()) * 3.0, core.init_state((I,))

    def step(h, x_t):
        h, spk = core(h, x_t)
        return h, (spk, h)

    _, (spikes_stepped, mems_stepped) = jax.lax.scan(step, h0, xs)
    _, spikes_whole, mems_whole = core.scan_sequence(h0, xs)
    np.testing.assert_allclose(np.asarray(mems_whole), np.asarray(mems_stepped), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(spikes_whole), np.asarray(spikes_stepped))
    assert float(spikes_whole.sum()) > 0


def test_bad_arguments_and_inputs_raise():
    lif = snn.LeakyParallel(I, H, beta=0.9)
    with pytest.raises(ValueError, match=r"LeakyParallel: expected an input \[T, B, 4\] or \[T, 4\].*\(10, 3, 5\)"):
        lif(np.zeros((T, B, I + 1), np.float32))
    with pytest.raises(ValueError, match=r"expected an input.*\(10, 3, 1, 4\)"):
        lif(np.zeros((T, B, 1, I), np.float32))
    with pytest.raises(TypeError, match="expected a floating-point input, got dtype int32"):
        lif(np.zeros((T, B, I), np.int32))
    with pytest.raises(ValueError, match="surrogate_disable=True spikes without a gradient"):
        snn.LeakyParallel(I, H, surrogate_disable=True, spike_grad=snn.surrogate.atan())
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\], got 1.5"):
        snn.LeakyParallel(I, H, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1, got 0"):
        snn.LeakyParallel(I, 0)
    with pytest.warns(UserWarning, match="dropout=0.5 has no effect"):
        snn.LeakyParallel(I, H, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        disabled = snn.LeakyParallel(I, H, beta=0.9, surrogate_disable=True)
    disabled.load_state_dict(lif.state_dict())
    x = np.random.default_rng(0).uniform(0, 2, (T, B, I)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(disabled(x)), np.asarray(lif(x)))
