"""``snnax_torchlike.snntorch.backprop``: one training epoch gives snnTorch's mean loss and updated weights.

The same small network (a Linear layer and a Leaky output neuron with hidden state)
is built in snnTorch and here with identical initial weights, trained for one epoch
on the same two batches with SGD, and compared.
"""

import warnings

import numpy as np
import pytest
import snntorch
import snntorch.functional as their_functional
import torch

import snnax_torchlike.snntorch as snn
from snnax_torchlike import nn, optim
from snnax_torchlike.snntorch import functional as SF

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from snntorch import backprop as their_backprop

from snnax_torchlike.snntorch import backprop  # noqa: E402

T, B, N_IN, N_OUT = 4, 3, 4, 3
RNG = np.random.default_rng(0)
SEQUENCES = [torch.from_numpy((RNG.random((T, B, N_IN)) * 1.5).astype(np.float32)) for _ in range(2)]
STATIC = [torch.from_numpy((RNG.random((B, N_IN)) * 0.8).astype(np.float32)) for _ in range(2)]
TARGETS = [torch.from_numpy(RNG.integers(0, N_OUT, B)) for _ in range(2)]

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _twins():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(N_IN, N_OUT), snntorch.Leaky(beta=0.8, init_hidden=True, output=True))
    ours = nn.Sequential(nn.Linear(N_IN, N_OUT), snn.Leaky(beta=0.8, init_hidden=True, output=True))
    # Clones: snnTorch's SGD updates its tensors in place.
    ours.load_state_dict({name: value.clone() for name, value in theirs.state_dict().items()})
    return theirs, ours


def _assert_same_epoch(loss_t, loss_o, theirs, ours):
    np.testing.assert_allclose(np.asarray(loss_o).reshape(-1), loss_t.detach().numpy().reshape(-1), rtol=1e-5)
    reference = theirs.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(np.asarray(value), reference[name].numpy(), rtol=1e-5, atol=1e-5, err_msg=name)


LOSSES = {
    "mse_count_loss": lambda functional: functional.mse_count_loss(0.8, 0.2),
    "mse_membrane_loss": lambda functional: functional.mse_membrane_loss(),
}

# id -> (method, batches, loss, regulariser's Lambda or None, other keyword arguments)
EPOCHS = {
    "BPTT_spikes": ("BPTT", SEQUENCES, "mse_count_loss", None, {}),
    "TBPTT_remainder_window_regularised": (
        "TBPTT",
        STATIC,
        "mse_count_loss",
        0.05,
        {"num_steps": T, "time_var": False, "K": 3},
    ),
    "RTRL_membrane": ("RTRL", STATIC, "mse_membrane_loss", None, {"num_steps": T, "time_var": False}),
}


def _epoch(module, functional, sgd, net, case):
    method, data, loss, reg, kwargs = EPOCHS[case]
    regularization = functional.l1_rate_sparsity(reg) if reg is not None else False
    return getattr(module, method)(
        net,
        list(zip(data, TARGETS)),
        sgd(net.parameters(), lr=0.5),
        LOSSES[loss](functional),
        regularization=regularization,
        **kwargs,
    )


@pytest.mark.parametrize("case", list(EPOCHS))
def test_one_epoch_equals_snntorch(case):
    theirs, ours = _twins()
    loss_t = _epoch(their_backprop, their_functional, torch.optim.SGD, theirs, case)
    loss_o = _epoch(backprop, SF, optim.SGD, ours, case)
    _assert_same_epoch(loss_t, loss_o, theirs, ours)


def test_truncation_on_time_varying_data_runs_where_snntorch_fails():
    theirs, ours = _twins()
    static_batches = list(zip(STATIC, TARGETS))
    with pytest.raises(UnboundLocalError):
        their_backprop.TBPTT(
            theirs,
            list(zip(SEQUENCES, TARGETS)),
            torch.optim.SGD(theirs.parameters(), lr=0.5),
            their_functional.mse_count_loss(),
            K=3,
        )
    theirs, ours = _twins()
    loss_t = their_backprop.TBPTT(
        theirs,
        static_batches,
        torch.optim.SGD(theirs.parameters(), lr=0.5),
        their_functional.mse_count_loss(),
        num_steps=T,
        time_var=False,
        K=3,
    )
    # The same inputs as a batch-first sequence (the static batch at every step) train the same way.
    repeated = [(x[:, None].expand(B, T, N_IN), y) for x, y in static_batches]
    loss_o = backprop.TBPTT(
        ours, repeated, optim.SGD(ours.parameters(), lr=0.5), SF.mse_count_loss(), K=3, time_first=False
    )
    _assert_same_epoch(loss_t, loss_o, theirs, ours)


def test_each_call_warns_of_the_deprecation_as_snntorch():
    _, ours = _twins()
    with pytest.warns(DeprecationWarning, match="own training loop") as caught:
        backprop.RTRL(
            ours,
            list(zip(STATIC, TARGETS))[:1],
            optim.SGD(ours.parameters(), lr=0.1),
            SF.mse_count_loss(),
            num_steps=2,
            time_var=False,
        )
    assert [warning.filename for warning in caught] == [__file__]  # attributed to the caller's line


def test_what_snntorch_cannot_train_is_refused_before_any_step():
    _, ours = _twins()
    sgd = optim.SGD(ours.parameters(), lr=0.1)
    batches = list(zip(SEQUENCES, TARGETS))
    weight = np.asarray(ours[0].weight.data).copy()
    with pytest.raises(ValueError, match="num_steps should not be specified if time_var is True"):
        backprop.BPTT(ours, batches, sgd, SF.mse_count_loss(), num_steps=T)
    with pytest.raises(ValueError, match="num_steps must be specified if time_var is False"):
        backprop.BPTT(ours, batches, sgd, SF.mse_count_loss(), time_var=False)
    with pytest.raises(ValueError, match="K must be less than or equal to num_steps"):
        backprop.TBPTT(ours, batches, sgd, SF.mse_count_loss(), num_steps=2, time_var=False, K=3)
    with pytest.raises(TypeError, match="criterion must be one of snnTorch's losses"):
        backprop.BPTT(ours, batches, sgd, nn.CrossEntropyLoss())
    with pytest.raises(TypeError, match="regularization must be one of snnTorch's losses or regularisers"):
        backprop.BPTT(ours, batches, sgd, SF.mse_count_loss(), regularization=lambda spk: spk.sum())
    stateless = nn.Sequential(nn.Linear(N_IN, N_OUT), snn.Leaky(beta=0.8))
    with pytest.raises(TypeError, match=r"neurons keep hidden state \(init_hidden=True"):
        backprop.BPTT(stateless, batches, optim.SGD(stateless.parameters(), lr=0.1), SF.mse_count_loss())
    no_output = nn.Sequential(nn.Linear(N_IN, N_OUT), snn.Leaky(beta=0.8, init_hidden=True))
    with pytest.raises(TypeError, match=r"net must return \(spk, \.\.\., mem\)"):
        backprop.BPTT(no_output, batches, optim.SGD(no_output.parameters(), lr=0.1), SF.mse_count_loss())
    np.testing.assert_array_equal(np.asarray(ours[0].weight.data), weight)
