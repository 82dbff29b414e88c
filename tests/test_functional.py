"""`snnax_torchlike.functional` against the real snnTorch 1.0.0: values, gradients, errors."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch.functional as snn_functional
import torch

from snnax_torchlike import functional as SF

T, B, C = 25, 8, 10
RNG = np.random.default_rng(1234)
SPIKES = (RNG.random((T, B, C)) < 0.3).astype(np.float32)  # 0/1 floats
MEMBRANE = RNG.normal(size=(T, B, C)).astype(np.float32)
TARGETS = RNG.integers(0, C, B).astype(np.int64)  # int64, as torch wants; ours accepts any integer dtype

# (ours, snnTorch's, output kind); configurations chosen to exercise snnTorch's target rules:
# int(T * rate) truncation (0.3 * 25 = 7.5 -> 7), incorrect > correct (exact one-hot branch),
# a negative off_target (floor quirk: wrong classes stay at 0) and off > on (exact branch).
CASES = [
    (SF.ce_rate_loss(), snn_functional.ce_rate_loss(), "spikes"),
    (SF.ce_count_loss(), snn_functional.ce_count_loss(), "spikes"),
    (SF.mse_count_loss(), snn_functional.mse_count_loss(), "spikes"),
    (SF.mse_count_loss(0.8, 0.2), snn_functional.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2), "spikes"),
    (SF.mse_count_loss(0.3, 0.1), snn_functional.mse_count_loss(correct_rate=0.3, incorrect_rate=0.1), "spikes"),
    (SF.mse_count_loss(0.2, 0.8), snn_functional.mse_count_loss(correct_rate=0.2, incorrect_rate=0.8), "spikes"),
    (SF.ce_max_membrane_loss(), snn_functional.ce_max_membrane_loss(), "membrane"),
    (SF.mse_membrane_loss(), snn_functional.mse_membrane_loss(), "membrane"),
    (SF.mse_membrane_loss(on_target=2.0, off_target=-1.0),
     snn_functional.mse_membrane_loss(on_target=2.0, off_target=-1.0), "membrane"),
    (SF.mse_membrane_loss(on_target=1.0, off_target=0.25),
     snn_functional.mse_membrane_loss(on_target=1.0, off_target=0.25), "membrane"),
    (SF.mse_membrane_loss(on_target=-0.5, off_target=0.5),
     snn_functional.mse_membrane_loss(on_target=-0.5, off_target=0.5), "membrane"),
]  # fmt: skip
IDS = [f"{type(ours).__name__}{dataclasses.astuple(ours)}" for ours, _, _ in CASES]
LOSSES = [SF.ce_rate_loss(), SF.ce_count_loss(), SF.mse_count_loss(), SF.ce_max_membrane_loss(), SF.mse_membrane_loss()]


def _outputs(kind: str) -> np.ndarray:
    return SPIKES if kind == "spikes" else MEMBRANE


def _torch_loss_and_grad(loss_fn, outputs: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    torch_outputs = torch.tensor(outputs, requires_grad=True)
    loss = loss_fn(torch_outputs, torch.tensor(targets))
    loss.sum().backward()  # ce_rate_loss and mse_membrane_loss return shape [1]
    return float(loss.detach().sum()), torch_outputs.grad.numpy()


@pytest.mark.parametrize("ours, theirs, kind", CASES, ids=IDS)
def test_loss_value_and_gradient_match_snntorch(ours, theirs, kind):
    outputs = _outputs(kind)
    expected_loss, expected_grad = _torch_loss_and_grad(theirs, outputs, TARGETS)
    loss, grad = jax.value_and_grad(ours)(jnp.asarray(outputs), TARGETS)
    assert type(ours).input_kind == ours.input_kind == kind
    assert loss.shape == () and loss.dtype == jnp.float32  # a true scalar, not snnTorch's [1]
    np.testing.assert_allclose(float(loss), expected_loss, rtol=1e-5)
    assert np.all(np.isfinite(np.asarray(grad))) and grad.shape == outputs.shape
    np.testing.assert_allclose(np.asarray(grad), expected_grad, rtol=1e-4, atol=1e-9)
    assert np.abs(expected_grad).max() > 0  # the comparison is not between two zero arrays


@pytest.mark.parametrize("loss_fn", LOSSES, ids=lambda f: type(f).__name__)
def test_loss_runs_under_jit_and_is_a_mean_over_samples(loss_fn):
    outputs = jnp.asarray(_outputs(loss_fn.input_kind))
    targets = jnp.asarray(TARGETS, jnp.int32)
    eager = loss_fn(outputs, targets)
    np.testing.assert_allclose(float(jax.jit(loss_fn)(outputs, targets)), float(eager), rtol=1e-6)
    # The trainer masks padding by evaluating each sample alone (vmap, traced targets): the mean of those
    # per-sample losses must be the batch loss.
    per_sample = jax.vmap(lambda o, t: loss_fn(o[:, None], t[None]), in_axes=(1, 0))(outputs, targets)
    np.testing.assert_allclose(float(per_sample.mean()), float(eager), rtol=1e-5)


def test_loss_objects_are_immutable_hashable_and_named():
    loss_fn = SF.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        loss_fn.correct_rate = 0.5
    assert loss_fn == SF.mse_count_loss(0.8, 0.2) and hash(loss_fn) == hash(SF.mse_count_loss(0.8, 0.2))
    assert loss_fn != SF.mse_count_loss(0.8, 0.1)
    for factory in (*map(type, LOSSES), SF.l1_rate_sparsity):
        assert factory().__name__ == factory.__name__  # snnTorch sets __name__ on its loss objects
    assert [f.input_kind for f in LOSSES] == ["spikes", "spikes", "spikes", "membrane", "membrane"]


def test_accuracy_rate_matches_snntorch_including_ties():
    targets = TARGETS.copy()
    counts = SPIKES.sum(0)
    targets[:4] = counts[:4].argmax(-1)  # some right, some (probably) wrong
    assert np.any(np.sum(counts == counts.max(-1, keepdims=True), -1) > 1)  # the data has ties
    ours = SF.accuracy_rate(SPIKES, targets)
    theirs = snn_functional.accuracy_rate(torch.tensor(SPIKES), torch.tensor(targets))
    assert isinstance(ours, jax.Array) and ours.shape == () and ours.dtype == jnp.float32
    assert isinstance(theirs, np.floating)  # snnTorch returns a numpy float
    assert float(ours) == pytest.approx(float(theirs), abs=1e-7)
    assert 0 < float(ours) < 1
    assert float(jax.jit(SF.accuracy_rate)(SPIKES, targets)) == pytest.approx(float(theirs), abs=1e-7)


def test_accuracy_rate_ties_go_to_the_lowest_class():
    spikes = np.zeros((3, 2, 4), np.float32)
    spikes[:, :, 1] = spikes[:, :, 3] = 1.0  # classes 1 and 3 tie for both samples
    targets = np.array([1, 3])
    assert float(SF.accuracy_rate(spikes, targets)) == 0.5
    assert float(snn_functional.accuracy_rate(torch.tensor(spikes), torch.tensor(targets))) == 0.5


@pytest.mark.parametrize("Lambda", [1e-5, 1e-3, 0.5])
def test_l1_rate_sparsity_matches_snntorch(Lambda):
    spikes = np.concatenate([SPIKES, SPIKES[:3]], axis=0)  # any shape
    theirs = snn_functional.l1_rate_sparsity(Lambda=Lambda)
    torch_spikes = torch.tensor(spikes, requires_grad=True)
    theirs(torch_spikes).backward()
    value, grad = jax.value_and_grad(SF.l1_rate_sparsity(Lambda=Lambda))(jnp.asarray(spikes))
    assert value.shape == ()
    np.testing.assert_allclose(float(value), float(theirs(torch.tensor(spikes))), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(grad), torch_spikes.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["ce_rate_loss", "ce_count_loss", "mse_count_loss", "ce_max_membrane_loss",
                                  "mse_membrane_loss", "accuracy_rate"])  # fmt: skip
def test_out_of_range_targets_are_errors_eagerly_and_nan_under_jit(name):
    fn = getattr(SF, name) if name == "accuracy_rate" else getattr(SF, name)()
    outputs = jnp.asarray(SPIKES)
    too_high = TARGETS.copy()
    too_high[3] = C
    with pytest.raises(
        ValueError, match=rf"{name}: targets must lie in \[0, 10\) for 10 outputs.*got values in \[\d+, 10\]"
    ):
        fn(outputs, too_high)
    negative = TARGETS.copy()
    negative[0] = -1
    with pytest.raises(ValueError, match=rf"{name}: targets must lie in \[0, 10\).*\[-1, \d+\]"):
        fn(outputs, negative)
    # Traced targets cannot raise; the result is NaN rather than a plausible wrong number
    # (a negative index would otherwise wrap around to the last class).
    assert np.isnan(float(jax.jit(fn)(outputs, negative)))
    assert np.isnan(float(jax.jit(fn)(outputs, too_high)))
    assert np.isfinite(float(jax.jit(fn)(outputs, TARGETS)))


@pytest.mark.parametrize("name", ["ce_rate_loss", "mse_membrane_loss", "accuracy_rate"])
def test_wrong_ranks_and_dtypes_are_errors(name):
    fn = getattr(SF, name) if name == "accuracy_rate" else getattr(SF, name)()
    with pytest.raises(ValueError, match=rf"{name}: expected time-first outputs \[T, B, C\], got shape \(8, 10\)"):
        fn(np.zeros((B, C), np.float32), TARGETS)
    with pytest.raises(ValueError, match=r"got shape \(1, 25, 8, 10\) \(rank 4, expected rank 3\)"):
        fn(SPIKES[None], TARGETS)
    with pytest.raises(
        ValueError,
        match=rf"{name}: expected class-index targets \[B\] with B=8 for outputs \[T, B, C\] = \(25, 8, 10\), "
        r"got shape \(8, 10\).*one-hot",
    ):
        fn(SPIKES, np.eye(C, dtype=np.int64)[TARGETS])
    with pytest.raises(ValueError, match=r"targets \[B\] with B=8 .*, got shape \(7,\)"):
        fn(SPIKES, TARGETS[:7])
    with pytest.raises(TypeError, match=rf"{name}: targets must be integer class indices, got dtype float32"):
        fn(SPIKES, TARGETS.astype(np.float32))


def test_bad_loss_options_are_errors():
    with pytest.raises(ValueError, match=r"mse_count_loss: correct_rate must lie in \[0, 1\], got 1.5"):
        SF.mse_count_loss(correct_rate=1.5)
    with pytest.raises(ValueError, match=r"mse_count_loss: incorrect_rate must lie in \[0, 1\], got -0.1"):
        SF.mse_count_loss(incorrect_rate=-0.1)
    with pytest.raises(TypeError, match="mse_membrane_loss: on_target must be a real number, got str"):
        SF.mse_membrane_loss(on_target="1")
    with pytest.raises(TypeError, match="l1_rate_sparsity: Lambda must be a real number"):
        SF.l1_rate_sparsity(Lambda=None)
