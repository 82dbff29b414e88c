"""The drop-in `snntorch.spikegen` against the real snnTorch 1.0.0: its whole public API, deterministic functions
value for value (spike-time codes with their gradients), random ones by shape and distribution.

Spike trains, targets and ramps carry no gradient in snnTorch (scatter, bernoulli, round, arange), so only the
spike-time codes (latency_code, latency_code_log, latency_code_linear) have gradients to compare."""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch.spikegen as real
import torch

import snnax_torchlike as snx
from snnax_torchlike.imperative import Tensor
from snnax_torchlike.snntorch import spikegen


def _np(x) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _assert_equal(ours, theirs) -> None:
    ours, theirs = _np(ours), _np(theirs)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


STEPS = 13  # one number of steps (and one data shape) throughout: JAX compiles each operation once per shape


@pytest.fixture(scope="module")
def unit_data() -> np.ndarray:
    data = np.random.default_rng(0).random((3, 5)).astype(np.float32)
    data[0, :4] = [0.0, 1.0, 0.01, np.float32(0.01) + np.float32(1e-7)]  # the ends, the threshold, the floor
    return data


def test_the_whole_public_api_is_there():
    theirs = {
        name for name, value in vars(real).items()
        if inspect.isfunction(value) and value.__module__ == real.__name__ and not name.startswith("_")
    }  # fmt: skip
    assert theirs == set(spikegen.__all__)
    for name in theirs:  # snnTorch's parameters, in its order (ours may add a keyword-only key)
        ours = [p for p in inspect.signature(getattr(spikegen, name)).parameters.values() if p.kind != p.KEYWORD_ONLY]
        assert [p.name for p in ours] == list(inspect.signature(getattr(real, name)).parameters), name


# -- spike-time codes: values and gradients --------------------------------------------------
CODE_OPTIONS = [
    ("latency_code_log", {}),
    ("latency_code_log", {"num_steps": STEPS, "normalize": True, "first_spike_time": 2, "tau": 3.0}),
    ("latency_code_linear", {}),
    ("latency_code_linear", {"num_steps": STEPS, "normalize": True, "first_spike_time": 1}),
    ("latency_code_linear", {"num_steps": STEPS, "normalize": True, "shift": True}),  # data in [-0.5, 1.5]: rescaled
    ("latency_code", {"num_steps": STEPS, "normalize": True, "linear": True, "tau": 2.0}),
]


@pytest.mark.parametrize("name, options", CODE_OPTIONS, ids=[f"{n}-{o}" for n, o in CODE_OPTIONS])
def test_spike_time_codes_and_gradients_equal_snntorch(name, options, unit_data):
    options = dict(options)
    data = unit_data * 2 - 0.5 if options.pop("shift", False) else unit_data
    weights = np.random.default_rng(1).normal(size=data.shape).astype(np.float32)
    x = torch.tensor(data, requires_grad=True)
    theirs = getattr(real, name)(x, **options)
    theirs_times = theirs[0] if name == "latency_code" else theirs
    (theirs_times * torch.tensor(weights)).sum().backward()

    ours = getattr(spikegen, name)(torch.tensor(data), **options)
    ours_times = ours[0] if name == "latency_code" else ours
    assert isinstance(ours_times, Tensor)  # torch data in, facade tensors out
    if name == "latency_code":
        _assert_equal(ours[1], theirs[1])  # the below-threshold mask
    if options.get("linear") or name == "latency_code_linear":
        _assert_equal(ours_times, theirs_times)
    else:  # XLA's log is within an ulp of torch's
        np.testing.assert_allclose(_np(ours_times), _np(theirs_times), rtol=1e-6, atol=1e-6)

    def loss(d):
        out = getattr(spikegen, name)(d, **options)
        return ((out[0] if name == "latency_code" else out) * weights).sum()

    grad = jax.jit(jax.grad(loss))(jnp.asarray(data))  # one compiled program, not one per operation
    np.testing.assert_allclose(np.asarray(grad), x.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_spike_time_code_gradients_flow_through_backward():
    lin = snx.nn.Linear(3, 2)
    x = jnp.asarray([[0.3, 0.6, 0.9]])
    spikegen.latency_code_log(lin(x).sigmoid(), tau=2.0).sum().backward()

    def loss(weight, bias):
        return spikegen.latency_code_log(jax.nn.sigmoid(x @ weight.T + bias), tau=2.0).sum()

    expected = jax.grad(loss)(lin.weight.data, lin.bias.data)
    np.testing.assert_allclose(np.asarray(lin.weight.grad), np.asarray(expected), rtol=1e-5)


# -- spike trains and ramps ------------------------------------------------------------------
LATENCY_OPTIONS = [
    {"bypass": True},
    {"bypass": True, "linear": True, "first_spike_time": 2, "tau": 10.0},
    {"num_steps": STEPS, "bypass": True, "tau": 4.0},  # late spikes are dropped instead of raising
    {"num_steps": STEPS, "interpolate": True, "on_target": 1.3, "off_target": 0.2},
    {"bypass": True, "interpolate": True},
]


@pytest.mark.parametrize("options", LATENCY_OPTIONS, ids=str)
def test_latency_bypass_and_interpolate_equal_snntorch(options, unit_data):
    _assert_equal(spikegen.latency(torch.tensor(unit_data), **options), real.latency(torch.tensor(unit_data), **options))


@pytest.mark.parametrize("on, off", [(1.0, 0.0), (1.25, 0.25), (3.7, -1.3), (2.0, 2.0)])
def test_latency_interpolate_equals_snntorch(on, off):
    steps = STEPS
    times = np.random.default_rng(2).uniform(-3, steps + 3, (3, 5)).astype(np.float32)
    times[0, :4] = [0, steps, steps + 1, 2.5]  # at 0, at T, beyond T, a tie rounded to even
    theirs = real.latency_interpolate(torch.tensor(times), steps, on_target=on, off_target=off)
    _assert_equal(spikegen.latency_interpolate(torch.tensor(times), steps, on, off), theirs)
    if (on, off) == (1.0, 0.0):  # other scales may fuse into a multiply-add under jit (an ulp off)
        _assert_equal(jax.jit(lambda t: spikegen.latency_interpolate(t, steps))(times), theirs)


RAMP_CASES = [([], 5), ([4], 5), ([0, 4], 5), ([1], 5), ([0, 1, 2, 3, 4], 5), ([0, 40], 50), ([3, 21, 22, 30], 45)]


@pytest.mark.parametrize("times, steps", RAMP_CASES, ids=str)
@pytest.mark.parametrize("on, off", [(1.0, 0.0), (1.25, 0.25), (0.5, 1.0)])
def test_rate_interpolate_equals_snntorch(times, steps, on, off):
    times = torch.tensor(times, dtype=torch.float32)
    theirs = real.rate_interpolate(times, steps, on_target=on, off_target=off)
    _assert_equal(spikegen.rate_interpolate(times, steps, on, off), theirs)


def test_regular_target_rate_code_equals_snntorch():
    for rate in np.linspace(0.01, 1, 30):
        for steps, first in [(7, 0), (50, 3)]:
            spikes, times = spikegen.target_rate_code(steps, first, float(rate))
            their_spikes, their_times = real.target_rate_code(steps, first, float(rate))
            _assert_equal(spikes, their_spikes)
            _assert_equal(times, their_times)
    spikes, times = spikegen.target_rate_code(5, rate=0)
    _assert_equal(spikes, np.zeros(5, np.float32))
    assert times.shape == (0,)


# -- class targets ---------------------------------------------------------------------------
TARGETS = torch.tensor([4.0, 1.0, 0.0])  # one-hot [3, 5]: the shape of unit_data
RATE_TARGET_OPTIONS = [
    {},
    {"num_steps": 5, "first_spike_time": 2},
    {"num_steps": 5, "first_spike_time": 2, "on_target": 1.2, "off_target": 0.5},
    {"on_target": 0.3, "off_target": 0.7},  # on below off: on at the class, off elsewhere
    {"num_steps": 5, "correct_rate": 0.25, "on_target": 1.2, "off_target": 0.5, "interpolate": True},
    {"num_steps": 5, "correct_rate": 0.5, "incorrect_rate": 0.2, "interpolate": True, "on_target": 2.0},
    {"num_steps": 5, "incorrect_rate": 0.3, "interpolate": True, "first_spike_time": 3},
]


@pytest.mark.parametrize("options", RATE_TARGET_OPTIONS, ids=str)
def test_targets_rate_equals_snntorch(options):  # 5 classes, 5 steps: snnTorch's varying rates need C == T
    theirs = real.targets_rate(TARGETS, 5, **options)
    _assert_equal(spikegen.targets_rate(TARGETS, 5, **options), theirs)
    _assert_equal(spikegen.targets_convert(TARGETS, 5, "rate", **options), theirs)


def test_targets_rate_varying_rates_give_the_documented_shape():
    options = {"num_steps": 8, "correct_rate": 0.5, "incorrect_rate": 0.25, "on_target": 1.5, "off_target": 0.2}
    with pytest.raises(RuntimeError):  # snnTorch 1.0.0 broadcasts [T] against the classes: it fails unless C == T
        real.targets_rate(TARGETS, 5, **options)
    ours = spikegen.targets_rate(TARGETS, 5, **options)
    one_hot = real.to_one_hot(TARGETS, 5)
    correct = real.target_rate_code(8, rate=0.5)[0][:, None, None]
    incorrect = real.target_rate_code(8, rate=0.25)[0][:, None, None]
    expected = torch.clamp((one_hot * correct + (1 - one_hot) * incorrect) * 1.5, 0.2)
    _assert_equal(ours, expected)


LATENCY_TARGET_OPTIONS = [
    {"num_steps": STEPS},
    {"num_steps": STEPS, "normalize": True, "linear": True, "first_spike_time": 2},
    {"num_steps": STEPS, "tau": 0.5, "clip": True, "threshold": 0.3},
    {"bypass": True},
]


@pytest.mark.parametrize("options", LATENCY_TARGET_OPTIONS, ids=str)
def test_targets_latency_equals_snntorch(options):
    theirs = real.targets_latency(TARGETS, 5, **options)
    _assert_equal(spikegen.targets_latency(TARGETS, 5, **options), theirs)
    _assert_equal(spikegen.targets_convert(TARGETS, 5, "latency", **options), theirs)
    interpolated = {**options, "interpolate": True, "on_target": 1.5, "off_target": 0.5}
    interpolated.pop("clip", None)
    _assert_equal(spikegen.targets_latency(TARGETS, 5, **interpolated), real.targets_latency(TARGETS, 5, **interpolated))


def test_one_hot_helpers_equal_snntorch():
    for targets in (torch.tensor([2, 0, 1, 2]), torch.tensor([2.0, 0.0, 1.0])):
        _assert_equal(spikegen.to_one_hot(targets, 4), real.to_one_hot(targets, 4))
    for one_hot in (torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), torch.tensor([[True, False], [False, True]])):
        ours = spikegen.to_one_hot_inverse(one_hot)
        _assert_equal(ours, real.to_one_hot_inverse(one_hot))
        assert ours.dtype == (jnp.bool_ if one_hot.dtype == torch.bool else jnp.float32)
    for label in (torch.tensor([0.0, 0.0, 1.0, 0.0]), torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])):
        _assert_equal(spikegen.from_one_hot(label), real.from_one_hot(label))  # rows of the 1s, as snnTorch


def test_results_follow_the_data_type(unit_data):
    assert isinstance(spikegen.to_one_hot(TARGETS, 5), Tensor)
    assert isinstance(spikegen.delta(torch.tensor(unit_data)), Tensor)
    assert isinstance(spikegen.target_rate_code(5)[0], Tensor)  # no data: tensors, as snnTorch's
    jax_data = (spikegen.delta(unit_data), spikegen.latency(jnp.asarray(unit_data), STEPS))
    for out in (*jax_data, spikegen.to_one_hot(TARGETS.numpy(), 5)):
        assert isinstance(out, jax.Array) and not isinstance(out, Tensor)
    assert torch.all(torch.eq(spikegen.to_one_hot(TARGETS, 5), real.to_one_hot(TARGETS, 5)))


# -- random encoders: shapes and distributions -----------------------------------------------
def test_rate_time_varying_and_first_spike_time():
    steps, probability = 2000, np.linspace(0, 1, 11, dtype=np.float32)
    sigma = np.sqrt(probability * (1 - probability) / steps)
    varying = np.broadcast_to(probability, (steps, 11))
    ours = np.asarray(spikegen.rate(varying, first_spike_time=3, time_var_input=True, key=jax.random.key(0)))
    theirs = real.rate(torch.tensor(varying.copy()), first_spike_time=3, time_var_input=True).numpy()
    assert ours.shape == theirs.shape == (steps + 3, 11)
    assert not ours[:3].any() and not theirs[:3].any()
    assert np.all(np.abs(ours[3:].mean(0) - probability) <= 4 * sigma)

    ours = np.asarray(spikegen.rate(probability, steps, 0.5, 0.25, 2, key=jax.random.key(1)))  # positional gain, offset
    theirs = real.rate(torch.tensor(probability), steps, 0.5, 0.25, 2).numpy()
    assert ours.shape == theirs.shape == (steps, 11)
    assert not ours[:2].any() and not theirs[:2].any()
    expected = np.clip(probability * 0.5 + 0.25, 0, 1)
    assert np.all(np.abs(ours[2:].mean(0) - expected) <= 4 * np.sqrt(expected * (1 - expected) / steps) + 1e-9)

    spikes = np.asarray(spikegen.rate_conv(varying, key=jax.random.key(2)))
    assert spikes.shape == varying.shape and np.all(np.abs(spikes.mean(0) - probability) <= 4 * sigma)


@pytest.mark.parametrize("pattern", ["uniform", "Poisson"])
def test_random_target_rate_codes(pattern):
    steps, first, rate = 2000, 4, 0.3
    spikes, times = spikegen.target_rate_code(steps, first, rate, pattern, key=jax.random.key(3))
    spikes, times = np.asarray(spikes), np.asarray(times)
    their_spikes, their_times = real.target_rate_code(steps, first, rate, pattern)
    assert spikes.shape == their_spikes.shape == (steps,) and set(np.unique(spikes)) <= {0.0, 1.0}
    assert not spikes[:first].any()  # nothing before first_spike_time
    if pattern == "uniform":  # as many times as the regular pattern, uniform over [first, steps)
        assert len(times) == len(their_times) == 599
        assert times.min() >= first and times.max() < steps
        assert abs(times.mean() - (first + steps - 1) / 2) < 4 * steps / np.sqrt(12 * 599)
        _assert_equal(spikes, np.isin(np.arange(steps), times).astype(np.float32))
    else:  # a spike at each step with probability rate; the times are where it fired
        assert abs(spikes[first:].mean() - rate) < 4 * np.sqrt(rate * (1 - rate) / (steps - first))
        _assert_equal(times, np.nonzero(spikes)[0].astype(np.int32))


# -- errors ----------------------------------------------------------------------------------
ERRORS = [
    ("rate", ([0.5], 5), {"time_var_input": True}, "with time_var_input=True the data's time axis sets the steps"),
    ("rate", ([0.5],), {"gain": 2.0, "time_var_input": True}, "gain and offset apply to static data only"),
    ("rate", ([0.5],), {}, "num_steps must be given for static data"),
    ("rate", ([0.5], 5), {"first_spike_time": 5}, r"first_spike_time must lie in \[0, num_steps - 1\] = \[0, 4\]"),
    ("latency", ([0.5],), {}, "num_steps must be given; or pass bypass=True"),
    ("latency", ([0.5], 5), {"clip": True, "interpolate": True}, "clip does not apply with interpolate=True"),
    ("latency_code_log", ([0.5],), {"normalize": True}, "normalize=True needs num_steps"),
    ("latency_code_linear", ([-0.5, 1.5],), {"first_spike_time": 1}, r"first_spike_time applies to data in \[0, 1\]"),
    ("latency_interpolate", ([2.0], 5), {"on_target": 0.0, "off_target": 1.0}, "interpolated targets need on_target >= off_target"),
    ("to_one_hot", ([0, 3], 3), {}, r"targets must lie in \[0, 2\] for num_classes=3, got values in \[0, 3\]"),
    ("to_one_hot", ([0.5], 3), {}, "targets must be whole class indices"),
    ("to_one_hot", ([[0, 1]], 3), {}, r"expected class indices \[B\], got shape \(1, 2\)"),
    ("targets_rate", ([1], 3), {"correct_rate": 0.5}, "num_steps must be given for time-varying targets"),
    ("targets_rate", ([1], 3, 5), {"correct_rate": 0.2, "incorrect_rate": 0.5}, "correct_rate .* must be >="),
    ("target_rate_code", (5,), {"firing_pattern": "bursty"}, "firing_pattern must be 'regular', 'uniform' or"),
    ("target_rate_code", (5,), {"rate": 1.5}, r"rate must lie in \[0, 1\], got 1.5"),
    ("targets_convert", ([1], 3), {"code": "phase"}, "code must be 'rate' or 'latency', got 'phase'"),
    ("targets_convert", ([1], 3), {"tau": 2.0}, "code='rate' does not use tau=2.0"),
    ("targets_convert", ([1], 3, "latency", 5), {"on_target": 2.0}, "code='latency' does not use on_target=2.0"),
    ("rate_interpolate", ([0, 3], 5), {"on_target": 1.0, "off_target": 1.0}, "on_target and off_target are both 1.0: there is no ramp"),
]


@pytest.mark.parametrize("name, args, options, message", ERRORS, ids=[f"{e[0]}-{e[3][:24]}" for e in ERRORS])
def test_bad_input_raises_naming_the_function(name, args, options, message):
    with pytest.raises(ValueError, match=f"spikegen.{name}: {message}"):
        getattr(spikegen, name)(*(np.asarray(a) if isinstance(a, list) else a for a in args), **options)


def test_value_dependent_results_refuse_tracing_and_one_hot_flags_bad_targets():
    with pytest.raises(TypeError, match="spikegen.from_one_hot: one_hot_label must be concrete"):
        jax.jit(spikegen.from_one_hot)(jnp.eye(3))
    with pytest.raises(TypeError, match="spikegen.latency: data must be concrete"):
        jax.jit(lambda d: spikegen.latency(d, bypass=True))(jnp.ones(3))
    with pytest.raises(TypeError, match="spikegen.target_rate_code: key must be concrete"):
        jax.jit(lambda k: spikegen.target_rate_code(5, rate=0.5, firing_pattern="poisson", key=k))(jax.random.key(0))
    encoded = np.asarray(jax.jit(lambda t: spikegen.to_one_hot(t, 3))(jnp.asarray([1, 5])))
    np.testing.assert_array_equal(encoded[0], [0.0, 1.0, 0.0])
    assert np.isnan(encoded[1]).all()  # out of range under jit: NaN, never a silent class
