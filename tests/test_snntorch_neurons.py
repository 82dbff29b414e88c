"""snnTorch's neurons and options (facade, and the core through nn.Sequential) against the real snnTorch.

RLeaky, RSynaptic, Lapicque and Alpha; then the options inhibition, state_quant,
reset_delay=False and the convolutional recurrence of RLeaky/RSynaptic.
"""

import numpy as np
import pytest
import snntorch
import torch
from snntorch.functional import quant as torch_quant

import snnax_torchlike.snn as core
from snnax_torchlike import nn
from snnax_torchlike.functional import quant

T, B, F_IN, N = 100, 3, 6, 8
T_OPTIONS, C, SIDE = 15, 3, 4


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


def _compare(make_theirs, make_ours, init, fc, our_fc, x):
    """Both neurons after ``fc`` over ``x``: nn.Sequential (one scan) and step by step, against snnTorch's steps."""
    theirs = make_theirs()
    ref_spikes, ref_mems = _snntorch_run(fc, theirs, x, getattr(theirs, init))
    reference = torch.nn.Sequential(fc, theirs)
    net = nn.Sequential(our_fc, make_ours())
    torch_sd = reference.state_dict()
    assert list(net.state_dict()) == list(torch_sd)
    net.load_state_dict(torch_sd)
    spikes, mems = net(x.numpy())
    threshold = float(theirs.threshold)
    _check(np.asarray(spikes), np.asarray(mems), ref_spikes, ref_mems, threshold)

    ours = net[1]
    step_spikes, step_mems = _facade_stepwise(net[0], ours, x.numpy(), getattr(ours, init))
    _check(step_spikes, step_mems, ref_spikes, ref_mems, threshold)


@pytest.mark.parametrize("case", CASES)
def test_neuron_matches_snntorch(case):
    make_theirs, make_ours, init = CASES[case]
    torch.manual_seed(0)
    fc = torch.nn.Linear(F_IN, N)
    x = torch.rand(T, B, F_IN) * 1.5
    _compare(make_theirs, make_ours, init, fc, nn.Linear(F_IN, N), x)


def _both(name, *args, **kwargs):
    """snnTorch's neuron ``name`` and ours, made with the same arguments (``quant``: each library's quantiser)."""
    bits = kwargs.pop("quant", None)

    def make(library, quantiser):
        options = dict(kwargs) if bits is None else dict(kwargs, state_quant=quantiser.state_quant(**bits))
        return lambda: getattr(library, name)(*args, **options)

    return make(snntorch, torch_quant), make(nn, quant)


OPTION_CASES = {
    "leaky_inhibition_graded_no_reset_delay": (*_both("Leaky", beta=0.8, inhibition=True, graded_spikes_factor=2.0,
                                                      reset_delay=False, reset_mechanism="zero"), "init_leaky"),
    "leaky_state_quant_zero": (*_both("Leaky", beta=0.8, reset_mechanism="zero", quant=dict(num_bits=4)), "init_leaky"),
    "synaptic_inhibition_state_quant": (*_both("Synaptic", alpha=0.6, beta=0.8, inhibition=True,
                                               quant=dict(num_bits=5, uniform=False)), "init_synaptic"),
    "lapicque_inhibition": (*_both("Lapicque", beta=0.7, threshold=0.3, inhibition=True), "init_lapicque"),
    "alpha_state_quant": (*_both("Alpha", alpha=0.9, beta=0.8, threshold=0.5,
                                 quant=dict(num_bits=8, threshold=4, upper_limit=0.5)), "init_alpha"),
    "rleaky_no_reset_delay_inhibition": (*_both("RLeaky", beta=0.8, linear_features=N, reset_delay=False,
                                                inhibition=True), "init_rleaky"),
    "rsynaptic_inhibition_state_quant": (*_both("RSynaptic", alpha=0.6, beta=0.8, linear_features=N, inhibition=True,
                                                quant=dict(num_bits=4)), "init_rsynaptic"),
}  # fmt: skip

CONV_CASES = {
    "rleaky_conv": (*_both("RLeaky", beta=0.8, conv2d_channels=C, kernel_size=3), "init_rleaky"),
    "rsynaptic_conv_zero_state_quant": (*_both("RSynaptic", alpha=0.6, beta=0.8, conv2d_channels=C, kernel_size=(3, 1),
                                               reset_mechanism="zero", quant=dict(num_bits=6)), "init_rsynaptic"),
}  # fmt: skip


@pytest.mark.filterwarnings("ignore:Inhibition is an unstable feature")
@pytest.mark.parametrize("case", OPTION_CASES)
def test_option_matches_snntorch(case):
    make_theirs, make_ours, init = OPTION_CASES[case]
    torch.manual_seed(1)
    fc = torch.nn.Linear(F_IN, N)
    x = torch.rand(T_OPTIONS, B, F_IN) * 1.5
    _compare(make_theirs, make_ours, init, fc, nn.Linear(F_IN, N), x)


def test_convolutional_recurrence_matches_snntorch():
    make_theirs, make_ours, init = CONV_CASES["rleaky_conv"]
    torch.manual_seed(2)
    conv = torch.nn.Conv2d(2, C, 3, padding=1)
    x = torch.rand(T_OPTIONS, B, 2, SIDE, SIDE) * 1.5
    _compare(make_theirs, make_ours, init, conv, nn.Conv2d(2, C, 3, padding=1), x)


def _loss(fc, neuron, x):
    """A loss of every step's spikes and membrane, the state kept in the neuron."""
    neuron.reset_mem()
    total = 0.0
    for t in range(x.shape[0]):
        out = neuron(fc(x[t]))
        total = total + (out[0] * 2.0).sum() + (out[-1] ** 2).mean()
    return total


@pytest.mark.filterwarnings("ignore:Inhibition is an unstable feature")
@pytest.mark.parametrize(
    "case",
    ["leaky_inhibition_graded_no_reset_delay", "rsynaptic_inhibition_state_quant", "rsynaptic_conv_zero_state_quant"],
)
def test_option_gradients_match_snntorch(case):
    make_theirs, make_ours, _ = {**OPTION_CASES, **CONV_CASES}[case]
    torch.manual_seed(3)
    conv = case in CONV_CASES
    fc = torch.nn.Conv2d(2, C, 3, padding=1) if conv else torch.nn.Linear(F_IN, N)
    our_fc = nn.Conv2d(2, C, 3, padding=1) if conv else nn.Linear(F_IN, N)
    x = torch.rand(10, B, *((2, SIDE, SIDE) if conv else (F_IN,))) * 1.5
    theirs, ours = make_theirs(), make_ours()
    our_fc.load_state_dict(fc.state_dict())
    ours.load_state_dict(theirs.state_dict())
    loss_theirs = _loss(fc, theirs, x)
    loss_theirs.backward()
    loss_ours = _loss(our_fc, ours, x.numpy())
    loss_ours.backward()
    np.testing.assert_allclose(float(loss_ours), loss_theirs.item(), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(our_fc.weight.grad), fc.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, param in theirs.named_parameters():
        np.testing.assert_allclose(np.asarray(dict(ours.named_parameters())[name].grad), param.grad.numpy(),
                                   rtol=1e-4, atol=1e-5)  # fmt: skip


@pytest.mark.filterwarnings("ignore:Inhibition is an unstable feature")
def test_fire_inhibition_and_mem_reset_match_snntorch():
    theirs = snntorch.Leaky(beta=0.9, threshold=0.5, graded_spikes_factor=3.0, inhibition=True)
    ours = nn.Leaky(beta=0.9, threshold=0.5, graded_spikes_factor=3.0, inhibition=True)
    mem = torch.tensor([[0.2, 0.9, 0.9, 0.6], [0.1, 0.4, 0.3, 0.5], [1.2, 0.6, 1.5, 0.0]])
    np.testing.assert_array_equal(np.asarray(ours.fire_inhibition(3, mem.numpy())), theirs.fire_inhibition(3, mem))
    np.testing.assert_array_equal(np.asarray(ours.mem_reset(mem.numpy())), theirs.mem_reset(mem))
    with pytest.raises(ValueError, match="fire_inhibition got batch_size=2 for a membrane of shape"):
        ours.fire_inhibition(2, mem.numpy())


def test_unsupported_options_raise():
    with pytest.raises(ValueError, match="needs linear_features"):
        nn.RLeaky(beta=0.9)
    with pytest.raises(ValueError, match="both conv2d_channels and kernel_size"):
        nn.RLeaky(beta=0.9, conv2d_channels=4)
    with pytest.raises(ValueError, match="not both"):
        nn.RLeaky(beta=0.9, linear_features=4, kernel_size=3)
    with pytest.raises(ValueError, match="must not be given"):
        nn.RLeaky(beta=0.9, all_to_all=False, linear_features=4)
    with pytest.raises(ValueError, match=r"RLeaky: inhibition=True needs inputs \[batch, features\]"):
        nn.RLeaky(beta=0.9, conv2d_channels=4, kernel_size=3, inhibition=True)
    with pytest.raises(ValueError, match=r"RLeaky: the convolutional recurrence needs inputs \[B, 4, H, W\]"):
        nn.RLeaky(beta=0.9, conv2d_channels=4, kernel_size=3)(np.zeros((2, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"Synaptic: inhibition=True needs inputs \[batch, features\].*\(5,\)"):
        nn.Synaptic(alpha=0.5, beta=0.9, inhibition=True)(np.zeros(5, np.float32))
    with pytest.raises(ValueError, match=r"Leaky: inhibition=True needs inputs \(features,\) per sample"):
        core.Leaky(0.9, inhibition=True).init_state((2, 3))
    with pytest.raises(ValueError, match="reset_delay=False is not supported"):
        nn.RSynaptic(alpha=0.5, beta=0.9, linear_features=3, reset_delay=False)
    with pytest.raises(TypeError, match="state_quant must be None or a function"):
        nn.Leaky(beta=0.9, state_quant=True)
    with pytest.raises(TypeError, match="is a torch function and cannot run on JAX arrays"):
        nn.Leaky(beta=0.9, state_quant=torch_quant.state_quant(num_bits=4))
    with pytest.raises(ValueError, match="DeltaLeaky: inhibition is not supported"):
        nn.DeltaLeaky(beta=0.9, inhibition=True)  # a subclass with its own step refuses what it does not implement
    with pytest.raises(ValueError, match="alpha > beta"):
        nn.Alpha(alpha=0.5, beta=0.8)
    with pytest.raises(ValueError, match="give beta, or both R and C"):
        nn.Lapicque(R=1.0)
