"""Losses, accuracy and encoders against the real snnTorch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch.functional as snn_functional
import snntorch.spikegen as snn_spikegen
import torch

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import spikegen

T, B, C = 25, 8, 10


def _outputs(kind):
    rng = np.random.default_rng(0)
    if kind == "spikes":
        return (rng.random((T, B, C)) < 0.3).astype(np.float32)
    return rng.normal(size=(T, B, C)).astype(np.float32)


TARGETS = np.random.default_rng(1).integers(0, C, B).astype(np.int64)

CASES = [
    (SF.ce_rate_loss(), snn_functional.ce_rate_loss(), "spikes"),
    (SF.ce_count_loss(), snn_functional.ce_count_loss(), "spikes"),
    (SF.mse_count_loss(0.8, 0.2), snn_functional.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2), "spikes"),
    (SF.ce_max_membrane_loss(), snn_functional.ce_max_membrane_loss(), "membrane"),
    (SF.mse_membrane_loss(on_target=2.0, off_target=-1.0),
     snn_functional.mse_membrane_loss(on_target=2.0, off_target=-1.0), "membrane"),
]  # fmt: skip


@pytest.mark.parametrize("ours, theirs, kind", CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_losses_and_gradients_match_snntorch(ours, theirs, kind):
    outputs = _outputs(kind)
    assert ours.input_kind == kind
    torch_outputs = torch.tensor(outputs, requires_grad=True)
    torch_loss = theirs(torch_outputs, torch.tensor(TARGETS))
    torch_loss.sum().backward()
    loss, grad = jax.value_and_grad(lambda o: ours(o, jnp.asarray(TARGETS, jnp.int32)))(jnp.asarray(outputs))
    assert loss.shape == ()  # a true scalar, unlike snnTorch's shape-[1] results
    np.testing.assert_allclose(float(loss), float(torch_loss.detach().sum()), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(grad), torch_outputs.grad.numpy(), rtol=1e-4, atol=1e-7)


def test_accuracy_and_sparsity_match_snntorch():
    spikes = _outputs("spikes")
    targets = TARGETS.copy()
    targets[:4] = spikes.sum(0)[:4].argmax(-1)  # some right, some wrong
    ours = float(SF.accuracy_rate(spikes, targets.astype(np.int32)))
    theirs = float(snn_functional.acc.accuracy_rate(torch.tensor(spikes), torch.tensor(targets)))
    assert ours == pytest.approx(theirs)
    assert 0 < ours < 1
    regulariser = snn_functional.reg.l1_rate_sparsity(Lambda=1e-3)
    assert float(SF.l1_rate_sparsity(1e-3)(spikes)) == pytest.approx(float(regulariser(torch.tensor(spikes))), rel=1e-5)


def test_loss_input_errors():
    with pytest.raises(ValueError, match=r"ce_rate_loss: targets must lie in \[0, 10\).*\[0, 12\]"):
        SF.ce_rate_loss()(_outputs("spikes"), np.array([0, 1, 2, 3, 4, 5, 6, 12], np.int32))
    with pytest.raises(ValueError, match=r"time-first outputs \[T, B, C\], got shape \(8, 10\)"):
        SF.ce_count_loss()(np.zeros((8, 10), np.float32), TARGETS.astype(np.int32))
    with pytest.raises(ValueError, match=r"targets \[B\] with B=8, got shape \(7,\)"):
        SF.accuracy_rate(_outputs("spikes"), np.zeros(7, np.int32))
    with pytest.raises(TypeError, match="integer class indices"):
        SF.mse_count_loss()(_outputs("spikes"), np.zeros(8, np.float32))


@pytest.mark.parametrize(
    "options",
    [{}, {"linear": True}, {"normalize": True}, {"linear": True, "normalize": True}, {"clip": True, "threshold": 0.3},
     {"tau": 3.0, "first_spike_time": 2, "on_target": 2.0, "normalize": True}],
)  # fmt: skip
def test_latency_matches_snntorch(options):
    data = np.random.default_rng(2).random((6, 9)).astype(np.float32)
    data[0, 0] = 0.0
    theirs = snn_spikegen.latency(torch.tensor(data), num_steps=30, **options).numpy()
    ours = np.asarray(spikegen.latency(data, 30, **options))
    np.testing.assert_array_equal(ours, theirs)
    assert ours.shape == (30, 6, 9)


@pytest.mark.parametrize("options", [{}, {"padding": True}, {"off_spike": True, "threshold": 0.2}])
def test_delta_matches_snntorch(options):
    data = np.random.default_rng(3).random((20, 4, 5)).astype(np.float32)
    theirs = snn_spikegen.delta(torch.tensor(data), **options).numpy()
    np.testing.assert_array_equal(np.asarray(spikegen.delta(data, **options)), theirs)


def test_rate_is_bernoulli_with_the_clipped_probability():
    data = jnp.asarray([[0.0, 0.2, 0.5, 0.9, 1.4]])
    spikes = spikegen.rate(data, num_steps=4000, key=jax.random.key(0))
    assert spikes.shape == (4000, 1, 5) and spikes.dtype == jnp.float32
    means = np.asarray(spikes.mean(axis=0))[0]
    expected = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    sigma = np.sqrt(expected * (1 - expected) / 4000) + 1e-9
    assert np.all(np.abs(means - expected) <= 4 * sigma)
    gained = spikegen.rate(data, num_steps=4000, gain=0.5, offset=0.1, key=jax.random.key(1)).mean(axis=0)
    np.testing.assert_allclose(np.asarray(gained)[0], np.clip(np.asarray(data)[0] * 0.5 + 0.1, 0, 1), atol=0.03)
    # Same key, same spikes; the global stream is reproducible under manual_seed and advances between calls.
    np.testing.assert_array_equal(
        np.asarray(spikegen.rate(data, 10, key=jax.random.key(5))),
        np.asarray(spikegen.rate(data, 10, key=jax.random.key(5))),
    )
    snx.manual_seed(7)
    first, second = spikegen.rate(jnp.full((50,), 0.5), 10), spikegen.rate(jnp.full((50,), 0.5), 10)
    snx.manual_seed(7)
    np.testing.assert_array_equal(np.asarray(spikegen.rate(jnp.full((50,), 0.5), 10)), np.asarray(first))
    assert not np.array_equal(np.asarray(first), np.asarray(second))
    with pytest.raises(ValueError, match="num_steps must be >= 1"):
        spikegen.rate(data, 0)
    with pytest.raises(ValueError, match=r"data must lie in \[0, 1\]"):
        spikegen.latency(data, 10)
