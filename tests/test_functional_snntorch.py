"""snnTorch's `snntorch.functional` through the drop-in: every loss option, accuracy, SpikeTime, quant.

Each case runs the REAL snnTorch 1.0.0 and ours on the same outputs and targets, and
compares values and gradients (torch autograd against ``jax.grad``): every reduction,
with and without ``weight``, population codes, the temporal losses' options.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch.functional as snn_functional
import torch
from snntorch.functional import quant as snn_quant

import snnax_torchlike.snntorch as snn
from snnax_torchlike.imperative import Tensor
from snnax_torchlike.snntorch import functional as SF
from snnax_torchlike.snntorch.functional import quant

T, B, C = 6, 4, 4  # B == C: snnTorch's weighted squared-error losses only run then (see test_weight_axis)
RNG = np.random.default_rng(7)
SPIKES = (RNG.random((T, B, C)) < 0.3).astype(np.float32)
MEMBRANE = RNG.normal(size=(T, B, C)).astype(np.float32)
TARGETS = np.array([1, 3, 0, 3], np.int64)
WEIGHT = np.array([0.35, 0.5, 0.15, 1.2], np.float32)
POP_SPIKES = (RNG.random((T, B, 2 * C)) < 0.3).astype(np.float32)  # 8 outputs, 2 per class
GRADED = SPIKES * RNG.choice(np.array([0.5, 1.0], np.float32), size=SPIKES.shape)

OPTIONS = {  # snnTorch's constructor options of each loss (with weight/reduction added per case)
    "ce_rate_loss": ({}, MEMBRANE),  # any real outputs work; membranes give richer gradients
    "ce_count_loss": ({}, SPIKES),
    "ce_max_membrane_loss": ({}, MEMBRANE),
    "mse_count_loss": ({"correct_rate": 0.8, "incorrect_rate": 0.2}, SPIKES),
    "mse_membrane_loss": ({"on_target": 2.0, "off_target": -1.0}, MEMBRANE),
    "mse_temporal_loss": ({"on_target": 1, "off_target": T - 1}, SPIKES),
    "ce_temporal_loss": ({}, SPIKES),
}
EXTRA = [  # (name, options, outputs, weighted)
    ("ce_count_loss", {"population_code": True, "num_classes": C}, POP_SPIKES, True),
    ("mse_count_loss", {"population_code": True, "num_classes": C, "correct_rate": 0.7}, POP_SPIKES, True),
    ("ce_rate_loss", {"population_code": True, "num_classes": C}, POP_SPIKES, True),
    ("mse_temporal_loss", {}, SPIKES, True),  # the default-target quirk: every output targeted at step 0
    ("mse_temporal_loss", {"on_target": 1, "off_target": -1, "tolerance": 2}, SPIKES, False),
    ("mse_temporal_loss", {"on_target": (0, 2), "off_target": (4, 5), "multi_spike": True}, SPIKES, True),
    ("mse_temporal_loss", {"on_target": 0, "off_target": T - 1}, GRADED, False),  # spikes other than 0/1
    ("ce_temporal_loss", {"inverse": "reciprocal"}, SPIKES, True),
    ("ce_max_membrane_loss", {}, SPIKES, False),  # tied maxima: torch's gradient goes to the first step
]
CASES = [
    (name, {**options, "reduction": reduction}, outputs, weighted)
    for name, (options, outputs) in OPTIONS.items()
    for reduction in ("mean", "sum", "none")
    for weighted in (False, True)
] + [(name, {**options, "reduction": "mean"}, outputs, weighted) for name, options, outputs, weighted in EXTRA]


def _cotangent(shape):
    return np.random.default_rng(3).normal(size=shape).astype(np.float32)


def _snntorch_value_and_grad(name, options, outputs, weighted):
    """snnTorch's loss and the gradient of ``sum(loss * cotangent)``, with the cotangent used."""
    loss_fn = getattr(snn_functional, name)(**options, weight=torch.tensor(WEIGHT) if weighted else None)
    assert loss_fn.reduction == options["reduction"] and loss_fn.__name__ == name
    torch_outputs = torch.tensor(outputs, requires_grad=True)
    loss = loss_fn(torch_outputs, torch.tensor(TARGETS))
    if options["reduction"] == "sum" and loss.numel() > 1:  # snnTorch leaves weighted sums unreduced; ours sums
        assert weighted
        loss = loss.sum()
    cotangent = _cotangent(loss.shape)
    (loss * torch.tensor(cotangent)).sum().backward()
    loss = loss.detach().numpy()
    if options["reduction"] != "none":
        loss = loss.reshape(())  # snnTorch's shape [1] of ce_rate_loss and mse_membrane_loss: ours is ()
    return loss, torch_outputs.grad.numpy(), cotangent


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_loss_value_and_gradient_match_snntorch(name):
    """Every reduction with and without weight (and the extra options) of one loss, in one compiled program."""
    cases = [case[1:] for case in CASES if case[0] == name]
    expected = [_snntorch_value_and_grad(name, *case) for case in cases]
    loss_fns = [getattr(SF, name)(**options, weight=WEIGHT if weighted else None) for options, _, weighted in cases]

    @jax.jit
    def ours():
        def objective(x, loss_fn, cotangent):
            loss = loss_fn(x, TARGETS)
            return jnp.sum(loss * cotangent), loss

        return [
            jax.value_and_grad(objective, has_aux=True)(jnp.asarray(outputs), loss_fn, cotangent)
            for loss_fn, (_, outputs, _), (_, _, cotangent) in zip(loss_fns, cases, expected)
        ]

    for loss_fn, (options, _, weighted), ((_, loss), grad), (expected_loss, expected_grad, _) in zip(
        loss_fns, cases, ours(), expected
    ):
        where = f"{name}({options}, weighted={weighted})"
        assert loss_fn.reduction == options["reduction"] and (loss_fn.weight is None) == (not weighted), where
        assert loss.shape == expected_loss.shape and loss.dtype == jnp.float32, where
        np.testing.assert_allclose(np.asarray(loss), expected_loss, rtol=2e-5, atol=1e-7, err_msg=where)
        np.testing.assert_allclose(np.asarray(grad), expected_grad, rtol=1e-4, atol=1e-7, err_msg=where)
        assert np.abs(expected_grad).max() > 0, where


def test_traced_targets_give_the_eager_loss():
    loss_fn = SF.mse_temporal_loss(on_target=1, off_target=-1, tolerance=2, weight=WEIGHT)
    np.testing.assert_allclose(float(loss_fn(SPIKES, TARGETS)), float(jax.jit(loss_fn)(SPIKES, TARGETS)), rtol=1e-6)


def test_the_data_exercise_silent_outputs_and_ties():
    assert np.any(SPIKES.sum(0) == 0)  # outputs that never spike: spike time T - 1
    assert np.any(np.sum(SPIKES.sum(0) == SPIKES.sum(0).max(-1, keepdims=True), -1) > 1)  # tied counts


def test_torch_inputs_give_facade_tensors_that_mix_with_torch():
    loss_fn = snn.functional.ce_rate_loss(reduction="none", weight=torch.tensor(WEIGHT))
    loss = loss_fn(torch.tensor(SPIKES), torch.tensor(TARGETS))
    assert isinstance(loss, Tensor) and tuple(loss.shape) == (B,)
    mixed = (loss * torch.tensor(WEIGHT)[torch.tensor(TARGETS)]).mean()
    assert isinstance(mixed, Tensor) and isinstance(mixed.item(), float)
    assert not isinstance(SF.ce_rate_loss()(SPIKES, TARGETS), Tensor)  # numpy in, JAX array out


@pytest.mark.parametrize(
    "name, spikes, options",
    [("accuracy_rate", SPIKES, {}), ("accuracy_rate", POP_SPIKES, {"population_code": True, "num_classes": C}),
     ("accuracy_temporal", SPIKES, {})],
)  # fmt: skip
def test_accuracy_matches_snntorch(name, spikes, options):
    compiled = jax.jit(lambda s, t: getattr(SF, name)(s, t, **options))
    total = 0.0
    for label in range(C):  # every sample's prediction is exactly one of these labels
        targets = np.full(B, label)
        theirs = getattr(snn_functional, name)(torch.tensor(spikes), torch.tensor(targets), **options)
        ours = getattr(SF, name)(spikes, targets, **options)
        assert ours.shape == () and float(ours) == pytest.approx(float(theirs), abs=1e-7), label
        assert float(compiled(spikes, targets)) == float(ours)
        total += float(ours)
    assert total == pytest.approx(1.0)


def test_spike_time_matches_snntorch_with_time_targets_and_tolerance():
    target_times = np.array([[0, 5, -1, 2]] * B, np.float32)  # spike times [B, N]; -1 is the last step
    theirs_fn = snn_functional.SpikeTime(target_is_time=True, tolerance=1.5)
    torch_spikes = torch.tensor(SPIKES, requires_grad=True)
    times, targets = theirs_fn(torch_spikes, torch.tensor(target_times))
    (times * torch.tensor(_cotangent(times.shape))).sum().backward()

    ours_fn = SF.SpikeTime(target_is_time=True, tolerance=1.5)

    def objective(x):
        times, targets = ours_fn(x, target_times)
        return jnp.sum(times * _cotangent((B, C))), (times, targets)

    grad, (our_times, our_targets) = jax.grad(objective, has_aux=True)(jnp.asarray(SPIKES))
    untolerant, _ = SF.SpikeTime(target_is_time=True)(SPIKES, target_times)
    assert np.any(np.asarray(untolerant) != np.asarray(our_times))  # the tolerance moved some times
    assert np.all(np.asarray(our_targets)[:, 2] == T - 1)  # -1 counts from the end
    np.testing.assert_array_equal(np.asarray(our_times), times.detach().numpy())
    np.testing.assert_array_equal(np.asarray(our_targets), targets.numpy())
    np.testing.assert_allclose(np.asarray(grad), torch_spikes.grad.numpy())


@pytest.mark.parametrize(
    "options",
    [{"num_bits": 4}, {"num_bits": 8, "threshold": 2.0, "lower_limit": 0.1}, {"num_bits": 3, "uniform": False},
     {"num_bits": 5, "uniform": False, "thr_centered": False, "upper_limit": 0.5}],
)  # fmt: skip
def test_state_quant_matches_snntorch(options):
    x = np.random.default_rng(5).uniform(-2.5, 2.5, 300).astype(np.float32)  # (grid points could hit midpoints)
    torch_x = torch.tensor(x, requires_grad=True)
    expected = snn_quant.state_quant(**options)(torch_x)
    expected.sum().backward()
    quantise = quant.state_quant(**options)
    grad = jax.grad(lambda v: jnp.sum(quantise(v)))(jnp.asarray(x))
    # Uniform levels may differ from torch.linspace's by one float32 rounding (see quant._linspace).
    exact = 0 if options.get("uniform") is False else 1e-6
    np.testing.assert_allclose(np.asarray(quantise(x)), expected.detach().numpy(), rtol=0, atol=exact)
    assert len(set(np.asarray(quantise(x)).tolist())) >= 6  # many levels are hit
    assert np.all(np.asarray(grad) == 1.0) and torch_x.grad.eq(1).all()  # straight through
    assert quantise == quant.state_quant(**options) and hash(quantise) == hash(quant.state_quant(**options))


def test_weighted_losses_compare_and_hash_by_value():
    loss_fn = SF.mse_count_loss(0.8, 0.2, weight=torch.tensor(WEIGHT))
    assert loss_fn == SF.mse_count_loss(0.8, 0.2, weight=WEIGHT.copy())
    assert hash(loss_fn) == hash(SF.mse_count_loss(0.8, 0.2, weight=WEIGHT.copy()))
    assert loss_fn != SF.mse_count_loss(0.8, 0.2, weight=WEIGHT * 2) and loss_fn != SF.mse_count_loss(0.8, 0.2)
    assert SF.mse_temporal_loss(on_target=(1, 2), off_target=(3, 4), multi_spike=True).on_target == (1.0, 2.0)


def test_weighted_cross_entropy_per_sample_losses_average_to_the_batch_loss():
    # The trainer evaluates each sample alone (vmap over a batch of one) and averages: snnTorch's plain mean
    # of weighted per-sample losses makes that exact.
    loss_fn = SF.ce_rate_loss(weight=WEIGHT)
    per_sample = jax.vmap(lambda o, t: loss_fn(o[:, None], t[None]), in_axes=(1, 0))(jnp.asarray(MEMBRANE), TARGETS)
    np.testing.assert_allclose(float(per_sample.mean()), float(loss_fn(MEMBRANE, TARGETS)), rtol=1e-6)


def test_weight_axis_quirk_needs_one_sample_per_class():
    loss_fn = SF.mse_count_loss(weight=WEIGHT)
    with pytest.raises(ValueError, match=r"mse_count_loss: with weight=.*\[B, C\] = \[3, 4\].*B == C or B == 1"):
        loss_fn(SPIKES[:, :3], TARGETS[:3])
    assert loss_fn(SPIKES[:, :1], TARGETS[:1]).shape == ()


def test_bad_options_are_errors():
    with pytest.raises(ValueError, match="ce_count_loss: reduction must be one of 'none', 'mean', 'sum', got 'avg'"):
        SF.ce_count_loss(reduction="avg")
    with pytest.raises(ValueError, match=r"mse_membrane_loss: weight must be a 1-D vector.*shape \(2, 2\)"):
        SF.mse_membrane_loss(weight=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"ce_count_loss: weight must have one entry per class, shape \(4,\)"):
        SF.ce_count_loss(weight=np.ones(3))(SPIKES, TARGETS)
    with pytest.raises(TypeError, match="ce_rate_loss: population_code=True needs weight="):
        SF.ce_rate_loss(population_code=True, num_classes=2)
    with pytest.raises(ValueError, match="mse_count_loss: population_code=True needs num_classes"):
        SF.mse_count_loss(population_code=True)
    with pytest.raises(ValueError, match="a multiple of num_classes, got 4 outputs for num_classes=3"):
        SF.ce_count_loss(population_code=True, num_classes=3)(SPIKES, np.array([0, 1, 2, 0]))
    with pytest.raises(NotImplementedError, match="mse_membrane_loss: time_var_targets=True is not supported"):
        SF.mse_membrane_loss(time_var_targets=True)
    with pytest.raises(ValueError, match='ce_temporal_loss: inverse must be "negate" or "reciprocal"'):
        SF.ce_temporal_loss(inverse="invert")
    with pytest.raises(ValueError, match="on_target \\(length 2\\) and off_target \\(length 1\\)"):
        SF.mse_temporal_loss(on_target=(1, 2), off_target=(3,), multi_spike=True)
    with pytest.raises(ValueError, match="mse_temporal_loss: weight= needs class-label targets"):
        SF.mse_temporal_loss(target_is_time=True, weight=WEIGHT)
    with pytest.raises(ValueError, match=r"accuracy_temporal: targets must lie in \[0, 4\)"):
        SF.accuracy_temporal(SPIKES, np.array([0, 1, 2, 4]))
    assert np.isnan(float(jax.jit(SF.ce_temporal_loss())(SPIKES, np.array([0, 1, 2, 4]))))
