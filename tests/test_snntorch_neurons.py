"""RLeaky, RSynaptic, Lapicque and Alpha (facade, and the core through nn.Sequential) against the real snnTorch."""

import numpy as np
import pytest
import snntorch
import torch

from snnax_torchlike import nn

T, B, F_IN, N = 100, 3, 6, 8


def _snntorch_run(fc, neuron, x, init):
    state = init()
    state = state if isinstance(state, tuple) else (state,)
    spikes, mems = [], []
    with torch.no_grad():
        for t in range(x.shape[0]):
            out = neuron(fc(x[t]), *state)
            spikes.append(out[0].numpy().copy())
            mems.append(out[-1].numpy().copy())
            state = out if isinstance(neuron, (snntorch.RLeaky, snntorch.RSynaptic)) else out[1:]
    return np.stack(spikes), np.stack(mems)


def _facade_stepwise(fc, neuron, x, init):
    state = init()
    state = state if isinstance(state, tuple) else (state,)
    spikes, mems = [], []
    for t in range(x.shape[0]):
        out = neuron(fc(x[t]), *state)
        spikes.append(np.asarray(out[0]))
        mems.append(np.asarray(out[-1]))
        state = out if isinstance(neuron, (nn.RLeaky, nn.RSynaptic)) else out[1:]
    return np.stack(spikes), np.stack(mems)


def _check(spikes, mems, ref_spikes, ref_mems, threshold=1.0):
    near = np.abs(ref_mems - threshold) < 1e-5
    assert not ((spikes != ref_spikes) & ~near).any(), f"{int(((spikes != ref_spikes) & ~near).sum())} flips"
    if np.array_equal(spikes, ref_spikes):
        np.testing.assert_allclose(mems, ref_mems, atol=1e-4, rtol=0)
    assert ref_spikes.sum() > 10


CASES = {
    "rleaky_linear_subtract": (lambda: snntorch.RLeaky(beta=0.9, linear_features=N),
                               lambda: nn.RLeaky(beta=0.9, linear_features=N), "init_rleaky"),
    "rleaky_linear_zero": (lambda: snntorch.RLeaky(beta=0.8, linear_features=N, reset_mechanism="zero"),
                           lambda: nn.RLeaky(beta=0.8, linear_features=N, reset_mechanism="zero"), "init_rleaky"),
    "rleaky_one_to_one": (lambda: snntorch.RLeaky(beta=0.9, V=torch.linspace(0.1, 0.9, N), all_to_all=False),
                          lambda: nn.RLeaky(beta=0.9, V=np.zeros(N, np.float32), all_to_all=False), "init_rleaky"),
    "rsynaptic_linear": (lambda: snntorch.RSynaptic(alpha=0.7, beta=0.9, linear_features=N),
                         lambda: nn.RSynaptic(alpha=0.7, beta=0.9, linear_features=N), "init_rsynaptic"),
    "rsynaptic_zero": (lambda: snntorch.RSynaptic(alpha=0.6, beta=0.8, linear_features=N, reset_mechanism="zero"),
                       lambda: nn.RSynaptic(alpha=0.6, beta=0.8, linear_features=N, reset_mechanism="zero"), "init_rsynaptic"),
    "lapicque_beta": (lambda: snntorch.Lapicque(beta=0.5, threshold=0.3), lambda: nn.Lapicque(beta=0.5, threshold=0.3),
                      "init_lapicque"),
    "lapicque_rc_zero": (lambda: snntorch.Lapicque(R=2.0, C=0.7, time_step=0.5, reset_mechanism="zero"),
                         lambda: nn.Lapicque(R=2.0, C=0.7, time_step=0.5, reset_mechanism="zero"), "init_lapicque"),
    "alpha_zero": (lambda: snntorch.Alpha(alpha=0.9, beta=0.8), lambda: nn.Alpha(alpha=0.9, beta=0.8), "init_alpha"),
    "alpha_subtract": (lambda: snntorch.Alpha(alpha=0.85, beta=0.6, reset_mechanism="subtract"),
                       lambda: nn.Alpha(alpha=0.85, beta=0.6, reset_mechanism="subtract"), "init_alpha"),
    "alpha_none": (lambda: snntorch.Alpha(alpha=0.9, beta=0.7, reset_mechanism="none"),
                   lambda: nn.Alpha(alpha=0.9, beta=0.7, reset_mechanism="none"), "init_alpha"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_neuron_matches_snntorch(case):
    make_theirs, make_ours, init = CASES[case]
    torch.manual_seed(0)
    fc, theirs = torch.nn.Linear(F_IN, N), make_theirs()
    x = torch.rand(T, B, F_IN) * 1.5
    ref_spikes, ref_mems = _snntorch_run(fc, theirs, x, getattr(theirs, init))

    reference = torch.nn.Sequential(fc, theirs)
    net = nn.Sequential(nn.Linear(F_IN, N), make_ours())
    torch_sd = reference.state_dict()
    assert list(net.state_dict()) == list(torch_sd)
    net.load_state_dict(torch_sd)
    spikes, mems = net(x.numpy())
    threshold = float(theirs.threshold)
    _check(np.asarray(spikes), np.asarray(mems), ref_spikes, ref_mems, threshold)

    ours = net[1]
    step_spikes, step_mems = _facade_stepwise(net[0], ours, x.numpy(), getattr(ours, init))
    _check(step_spikes, step_mems, ref_spikes, ref_mems, threshold)


def test_unsupported_options_raise():
    with pytest.raises(ValueError, match="convolutional recurrence"):
        nn.RLeaky(beta=0.9, conv2d_channels=4, kernel_size=3)
    with pytest.raises(ValueError, match="needs linear_features"):
        nn.RLeaky(beta=0.9)
    with pytest.raises(ValueError, match="reset_delay=False is not supported"):
        nn.RSynaptic(alpha=0.5, beta=0.9, linear_features=3, reset_delay=False)
    with pytest.raises(ValueError, match="alpha > beta"):
        nn.Alpha(alpha=0.5, beta=0.8)
    with pytest.raises(ValueError, match="give beta, or both R and C"):
        nn.Lapicque(R=1.0)
