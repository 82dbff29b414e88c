"""`snnax_torchlike.spikegen` and `snnax_torchlike.random`: latency and delta equal to snnTorch's,
rate checked by its distribution (torch's RNG stream cannot be reproduced in JAX)."""

import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch.spikegen as snn_spikegen
import torch

import snnax_torchlike as snx
from snnax_torchlike import random as snx_random
from snnax_torchlike import spikegen


# -- latency ----------------------------------------------------------------------------
def _latency_data(shape=(6, 9)) -> np.ndarray:
    data = np.random.default_rng(2).random(shape).astype(np.float32)
    flat = data.reshape(-1)
    flat[:4] = [0.0, 1.0, 0.005, 0.01]  # the ends, below and at the default threshold
    return data


LATENCY_OPTIONS = [
    {},
    {"linear": True},
    {"normalize": True},
    {"linear": True, "normalize": True},
    {"clip": True, "threshold": 0.3},
    {"clip": True, "linear": True, "threshold": 0.3, "tau": 5.0},
    {"tau": 3.0, "first_spike_time": 2, "on_target": 2.0, "normalize": True},
    {"tau": 2.0, "first_spike_time": 4},
    {"linear": True, "tau": 20.0, "first_spike_time": 3, "off_target": -1.0},
    {"linear": True, "normalize": True, "first_spike_time": 5, "threshold": 0.2},
    {"threshold": 0.05, "epsilon": 1e-3, "tau": 4.0},
    {"normalize": True, "first_spike_time": 29},  # the degenerate normalisation: every spike at t=29
]


@pytest.mark.parametrize("options", LATENCY_OPTIONS, ids=str)
def test_latency_equals_snntorch(options):
    data = _latency_data()
    theirs = snn_spikegen.latency(torch.tensor(data), num_steps=30, **options).numpy()
    ours = spikegen.latency(data, 30, **options)
    assert ours.shape == (30, 6, 9) and ours.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(ours), theirs)
    on = options.get("on_target", 1.0)
    off = max(0.0, options.get("off_target", 0.0))  # off_target is a floor: a negative one leaves zeros (snnTorch)
    spike_count = (np.asarray(ours) == on).sum(0)
    if options.get("clip"):
        assert np.all(spike_count == (data >= options["threshold"]))
    else:
        assert np.all(spike_count == 1)  # exactly one spike per element
    assert np.all((np.asarray(ours) == on) | (np.asarray(ours) == off))


def test_latency_on_higher_rank_data_and_under_jit():
    data = _latency_data((3, 4, 5))
    eager = spikegen.latency(data, 20, tau=2.0, normalize=True)
    np.testing.assert_array_equal(
        np.asarray(eager), snn_spikegen.latency(torch.tensor(data), num_steps=20, tau=2.0, normalize=True).numpy()
    )
    compiled = jax.jit(lambda d: spikegen.latency(d, 20, tau=2.0, normalize=True))(jnp.asarray(data))
    np.testing.assert_array_equal(np.asarray(compiled), np.asarray(eager))


@pytest.mark.parametrize(
    "data, options, message",
    [
        (np.array([0.2, 1.4]), {}, r"data must lie in \[0, 1\], got values in \[0.2, 1.4"),
        (np.array([-0.1, 0.5]), {}, r"data must lie in \[0, 1\]"),
        (np.array([0.2, 0.5]), {"threshold": 0.0}, r"threshold must lie in \(0, 1\), got 0.0"),
        (np.array([0.2, 0.5]), {"threshold": 1.0}, r"threshold must lie in \(0, 1\), got 1.0"),
        (np.array([0.2, 0.5]), {"tau": 0.0}, "tau must be > 0, got 0.0"),
        (np.array([0.2, 0.5]), {"first_spike_time": 10}, r"first_spike_time must lie in \[0, num_steps - 1\] = \[0, 9\], got 10"),
        (np.array([0.0, 0.5]), {"tau": 5.0}, r"the latest spike time 58 is beyond num_steps - 1 = 9; decrease tau"),
    ],
)  # fmt: skip
def test_latency_rejects_what_snntorch_rejects(data, options, message):
    data = data.astype(np.float32)
    with pytest.raises(Exception):  # snnTorch raises a bare Exception for each of these
        snn_spikegen.latency(torch.tensor(data), num_steps=10, **options)
    with pytest.raises(ValueError, match=f"spikegen.latency: {message}"):
        spikegen.latency(data, 10, **options)


def test_latency_rejects_bad_argument_types():
    with pytest.raises(
        TypeError, match="spikegen.latency: num_steps must be an integer >= 1|num_steps must be an integer"
    ):
        spikegen.latency(np.ones(3, np.float32), 10.0)
    with pytest.raises(ValueError, match="spikegen.latency: num_steps must be >= 1, got 0"):
        spikegen.latency(np.ones(3, np.float32), 0)
    with pytest.raises(TypeError, match="spikegen.latency: first_spike_time must be an integer, got float 1.5"):
        spikegen.latency(np.ones(3, np.float32), 10, first_spike_time=1.5)


# -- delta ------------------------------------------------------------------------------
DELTA_OPTIONS = [
    {},
    {"padding": True},
    {"off_spike": True},
    {"off_spike": True, "threshold": 0.2, "padding": True},
    {"threshold": 0.0, "off_spike": True},  # a zero change is both >= 0 and <= -0: +1 - 1 = 0, as snnTorch
    {"threshold": -0.3},
]


@pytest.mark.parametrize("options", DELTA_OPTIONS, ids=str)
@pytest.mark.parametrize("shape", [(20, 4, 5), (30,)], ids=["T,B,N", "T"])
def test_delta_equals_snntorch(options, shape):
    data = np.random.default_rng(3).random(shape).astype(np.float32)
    data[5:8] = data[4]  # flat stretches
    theirs = snn_spikegen.delta(torch.tensor(data), **options).numpy()
    ours = spikegen.delta(data, **options)
    assert ours.shape == data.shape and ours.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(ours), theirs)
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda d: spikegen.delta(d, **options))(data)), theirs)
    if options.get("off_spike") and options.get("threshold", 0.1) > 0:
        assert (np.asarray(ours) == -1).any() and (np.asarray(ours) == 1).any()


def test_delta_rejects_data_without_a_time_axis():
    with pytest.raises(
        ValueError, match=r"spikegen.delta: expected time-first data \[T, ...\] with T >= 1, got shape \(\)"
    ):
        spikegen.delta(np.float32(0.5))
    with pytest.raises(ValueError, match=r"got shape \(0, 3\)"):
        spikegen.delta(np.zeros((0, 3), np.float32))


# -- rate -------------------------------------------------------------------------------
def test_rate_firing_probability_is_the_clipped_intensity():
    steps = 20_000
    data = jnp.asarray([-0.3, 0.0, 0.05, 0.2, 0.5, 0.9, 1.0, 1.4])  # out-of-range values clip to 0 and 1
    spikes = spikegen.rate(data, steps, key=jax.random.key(0))
    assert spikes.shape == (steps, 8) and spikes.dtype == jnp.float32
    assert set(np.unique(np.asarray(spikes))) <= {0.0, 1.0}
    expected = np.clip(np.asarray(data), 0, 1)
    sigma = np.sqrt(expected * (1 - expected) / steps)
    means = np.asarray(spikes.mean(0))
    assert np.all(np.abs(means - expected) <= 3 * sigma)  # exact for p in {0, 1}: sigma = 0
    # gain and offset act before the clip
    gained = spikegen.rate(data, steps, gain=0.5, offset=0.1, key=jax.random.key(1))
    expected = np.clip(np.asarray(data) * 0.5 + 0.1, 0, 1)
    sigma = np.sqrt(expected * (1 - expected) / steps)
    assert np.all(np.abs(np.asarray(gained.mean(0)) - expected) <= 3 * sigma)


def test_rate_is_independent_over_steps_and_elements():
    p, steps = 0.3, 4000
    spikes = np.asarray(spikegen.rate(jnp.full((64,), p), steps, key=jax.random.key(2)))
    total = spikes.size
    assert abs(spikes.mean() - p) <= 3 * np.sqrt(p * (1 - p) / total)
    # consecutive steps: P(s_t = s_{t+1} = 1) = p^2 (not p, as a train repeated over time would give)
    both = (spikes[1:] * spikes[:-1]).mean()
    assert abs(both - p**2) <= 3 * np.sqrt(p**2 * (1 - p**2) / spikes[1:].size)
    # neighbouring elements at the same step: also p^2
    pairs = (spikes[:, 1:] * spikes[:, :-1]).mean()
    assert abs(pairs - p**2) <= 3 * np.sqrt(p**2 * (1 - p**2) / spikes[:, 1:].size)


def test_rate_matches_snntorch_in_distribution():
    torch.manual_seed(0)
    data = np.linspace(0, 1, 11, dtype=np.float32)
    theirs = snn_spikegen.rate(torch.tensor(data), num_steps=5000).numpy()
    ours = np.asarray(spikegen.rate(data, 5000, key=jax.random.key(3)))
    assert ours.shape == theirs.shape == (5000, 11)
    sigma = np.sqrt(data * (1 - data) / 5000)
    assert np.all(np.abs(ours.mean(0) - theirs.mean(0)) <= 3 * np.sqrt(2) * sigma + 1e-9)


def test_rate_keys_and_seeds():
    data = jnp.full((4, 50), 0.5)
    same_a = spikegen.rate(data, 10, key=jax.random.key(5))
    same_b = spikegen.rate(data, 10, key=jax.random.key(5))
    np.testing.assert_array_equal(np.asarray(same_a), np.asarray(same_b))  # same key, same spikes
    assert not np.array_equal(np.asarray(same_a), np.asarray(spikegen.rate(data, 10, key=jax.random.key(6))))
    np.testing.assert_array_equal(  # legacy raw keys work too
        np.asarray(spikegen.rate(data, 10, key=jax.random.PRNGKey(5))), np.asarray(same_a)
    )
    snx.manual_seed(7)
    first, second = spikegen.rate(data, 10), spikegen.rate(data, 10)
    assert not np.array_equal(np.asarray(first), np.asarray(second))  # the global stream advances
    snx.manual_seed(7)
    np.testing.assert_array_equal(np.asarray(spikegen.rate(data, 10)), np.asarray(first))
    np.testing.assert_array_equal(np.asarray(spikegen.rate(data, 10)), np.asarray(second))
    compiled = jax.jit(lambda d, k: spikegen.rate(d, 10, key=k))(data, jax.random.key(5))
    np.testing.assert_array_equal(np.asarray(compiled), np.asarray(same_a))


@pytest.mark.parametrize(
    "num_steps, kwargs, error, message",
    [
        (0, {}, ValueError, "num_steps must be >= 1, got 0"),
        (-3, {}, ValueError, "num_steps must be >= 1, got -3"),
        (2.5, {}, TypeError, "num_steps must be an integer, got float 2.5"),
        (True, {}, TypeError, "num_steps must be an integer, got the bool True"),
        (5, {"gain": "2"}, TypeError, "gain must be a real number, got str"),
        (5, {"key": 3}, TypeError, r"key must be a single PRNG key .* got int"),
        (5, {"key": jax.random.split(jax.random.key(0), 2)}, TypeError, r"key must be a single PRNG key .*shape \(2,\)"),
    ],
)  # fmt: skip
def test_rate_rejects_bad_arguments(num_steps, kwargs, error, message):
    with pytest.raises(error, match=f"spikegen.rate: {message}"):
        spikegen.rate(jnp.full((3,), 0.5), num_steps, **kwargs)


# -- random -----------------------------------------------------------------------------
def _data(key):
    return np.asarray(jax.random.key_data(key))


def test_manual_seed_and_next_key():
    snx.manual_seed(0)
    keys = [_data(snx_random.next_key()) for _ in range(3)]
    assert len({k.tobytes() for k in keys}) == 3
    snx.manual_seed(0)
    assert np.array_equal(_data(snx_random.next_key()), keys[0])
    # as jax.random.key for small seeds; seeds differing above bit 32 stay different (jax alone truncates them)
    snx.manual_seed(42)
    assert np.array_equal(_data(snx_random.next_key()), _data(jax.random.split(jax.random.key(42))[1]))
    streams = []
    for seed in (0, 2**32, -1, 2**64 - 1, -(2**63)):
        snx.manual_seed(seed)
        streams.append(_data(snx_random.next_key()).tobytes())
    assert len(set(streams)) == 4  # -1 and 2**64 - 1 are the same 64-bit seed, as in torch
    assert streams[2] == streams[3]


def test_manual_seed_rejects_bad_seeds():
    with pytest.raises(TypeError, match="manual_seed: expected an integer seed, got float 1.5"):
        snx.manual_seed(1.5)
    with pytest.raises(TypeError, match="manual_seed: expected an integer seed, got the bool True"):
        snx.manual_seed(True)
    with pytest.raises(
        ValueError, match=r"manual_seed: seed must lie in \[-2\*\*63, 2\*\*64\), got 18446744073709551616"
    ):
        snx.manual_seed(2**64)


def test_rng_state_round_trip_and_key_scope():
    snx.manual_seed(3)
    state = snx_random.get_rng_state()
    expected = _data(snx_random.next_key())
    snx_random.set_rng_state(state)
    assert np.array_equal(_data(snx_random.next_key()), expected)
    snx_random.set_rng_state(state)
    with snx_random.key_scope(jax.random.key(11)):
        scoped = _data(snx_random.next_key())
    assert np.array_equal(scoped, _data(jax.random.split(jax.random.key(11))[1]))
    assert np.array_equal(_data(snx_random.next_key()), expected)  # the scope did not advance the global stream


def test_next_key_is_thread_safe():
    snx.manual_seed(5)
    results: list[bytes] = []
    lock = threading.Lock()

    def draw():
        local = [_data(snx_random.next_key()).tobytes() for _ in range(25)]
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 100 and len(set(results)) == 100  # no key handed out twice
