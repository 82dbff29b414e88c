"""Property-based: random layer stacks and input shapes either run or raise the documented error."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnax_torchlike import nn

NEURONS = {
    "Leaky": lambda n: nn.Leaky(beta=0.9),
    "Synaptic": lambda n: nn.Synaptic(alpha=0.8, beta=0.9),
    "LIF": lambda n: nn.LIF(0.01, dt=1e-3, v_threshold=np.full(n, 0.5)),
    "CubaLIF": lambda n: nn.CubaLIF(0.005, 0.01, dt=1e-3, convention="norse"),
}


@st.composite
def stacks(draw):
    sizes = draw(st.lists(st.integers(1, 9), min_size=2, max_size=4))
    kinds = draw(st.lists(st.sampled_from(sorted(NEURONS)), min_size=len(sizes) - 1, max_size=len(sizes) - 1))
    layers = []
    for (n_in, n_out), kind in zip(zip(sizes, sizes[1:]), kinds):
        layers += [nn.Linear(n_in, n_out), NEURONS[kind](n_out)]
    return sizes, nn.Sequential(*layers)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks(), st.integers(1, 6), st.integers(1, 4), st.sampled_from([0, 0, 1, 3]))
def test_valid_inputs_run_and_wrong_feature_sizes_raise(stack, steps, batch, feature_error):
    sizes, net = stack
    features = sizes[0] + feature_error
    x = np.random.default_rng(0).random((steps, batch, features)).astype(np.float32)
    if feature_error == 0:
        spk, mem = net(x)
        assert spk.shape == mem.shape == (steps, batch, sizes[-1])
        assert set(np.unique(np.asarray(spk))) <= {0.0, 1.0}
    else:
        try:
            net(x)
        except ValueError as error:
            assert "layer 0 (Linear)" in str(error) and f"({features},)" in str(error)
        else:
            raise AssertionError(f"input with {features} features into Linear({sizes[0]}, ...) did not raise")


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2), st.integers(1, 5))
def test_wrong_rank_inputs_raise_a_value_error_naming_the_shape(rank, size):
    net = nn.Sequential(nn.Linear(3, 2), nn.Leaky(beta=0.9))
    x = np.zeros((size,) * rank, np.float32)
    try:
        net(x)
    except ValueError as error:
        assert "time-first input [T, B, ...]" in str(error) and str(tuple(x.shape)) in str(error)
    else:
        raise AssertionError(f"rank-{rank} input did not raise")
