"""Bad input: shapes, dtypes, axis orders and values a user gets wrong."""

from __future__ import annotations

import warnings

import numpy as np
from _fixtures import BATCH, CLASSES, STEPS, labels, net, spikes, trainer
from _harness import probe

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, spikegen

C = "bad input"


@probe(C, raises=ValueError, says=("Linear", "3", "5"))
def linear_given_the_wrong_feature_count():
    nn.Linear(3, 2)(np.zeros((2, 5), np.float32))


@probe(C, raises=TypeError, says=("integer|int", "float"))
def linear_given_integer_spikes():
    nn.Linear(3, 2)(np.ones((2, 3), np.int32))


@probe(C, raises=ValueError, says=(r"\[T, B", r"\(2, 3\)"))
def sequential_given_one_step_without_time_axis():
    net()(np.zeros((2, 3), np.float32))


@probe(C, raises=ValueError, says=("Conv2d", "channels|expected", r"\(1, 3, 8, 8\)"))
def conv2d_given_the_wrong_channel_count():
    nn.Conv2d(2, 4, 3)(np.zeros((1, 3, 8, 8), np.float32))


@probe(C, raises=ValueError, says=("Conv2d", "kernel"))
def conv2d_input_smaller_than_kernel():
    nn.Conv2d(1, 1, 5)(np.zeros((1, 1, 3, 3), np.float32))


@probe(C, raises=ValueError, says=("Conv2d", r"\[B, 1"))
def conv2d_given_channels_last_images():
    nn.Conv2d(1, 4, 3)(np.zeros((2, 8, 8, 1), np.float32))


@probe(C, raises=UserWarning, says=("Leaky", "beta=1.5", r"clamps it into \[0, 1\]", "1.0"))
def leaky_beta_above_one():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Leaky(beta=1.5)  # snnTorch clamps beta in every step; a warning says the decay used


@probe(C, raises=UserWarning, says=("Leaky", "beta=-0.1", "no gradient"))
def leaky_learned_negative_beta():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Leaky(beta=-0.1, learn_beta=True)


@probe(C, raises=ValueError, says=("Leaky", "beta", "nan"))
def leaky_nan_beta():
    nn.Leaky(beta=float("nan"))


@probe(C, raises=ValueError, says=("reset_mechanism", "subtract", "zero", "none", "sub"))
def leaky_unknown_reset_mechanism():
    nn.Leaky(beta=0.9, reset_mechanism="sub")


@probe(C, raises=TypeError, says=("spike_grad", "surrogate"))
def leaky_spike_grad_not_a_surrogate():
    nn.Leaky(beta=0.9, spike_grad="fast_sigmoid")


@probe(C, raises=ValueError, says=("Leaky", "beta", r"\(3,\)", "5"))
def leaky_per_neuron_beta_of_wrong_length():
    layer = nn.Leaky(beta=np.full(3, 0.9, np.float32))
    layer(np.zeros((2, 5), np.float32))


@probe(C, raises=UserWarning, says=("Synaptic", "alpha=2.0", r"\[0, 1\]"))
def synaptic_alpha_above_one():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Synaptic(alpha=2.0, beta=0.9)


@probe(C, raises=ValueError, says=("threshold", "nan"))
def leaky_nan_threshold():
    nn.Leaky(beta=0.9, threshold=float("nan"))


@probe(C, raises=ValueError, says=("Linear", ">= 1|positive", "-1"))
def linear_with_negative_size():
    nn.Linear(-1, 2)


@probe(C, raises=ValueError, says=("Dropout", "p", "1.5"))
def dropout_probability_above_one():
    nn.Dropout(p=1.5)


@probe(C, raises=ValueError, says=("MaxPool2d|pool", "kernel|input"))
def maxpool_larger_than_input():
    nn.MaxPool2d(4)(np.zeros((1, 1, 2, 2), np.float32))


@probe(C, raises=ValueError, says=("batch 0", r"\[B, T, \.\.\.\]", "time_first=False"))
def fit_batch_first_inputs_with_default_time_first():
    x = np.swapaxes(spikes(steps=7), 0, 1)  # [B, T, F], the torch habit
    trainer().fit([(x, labels())])


@probe(C, raises=ValueError, says=("batch 0", "targets|labels", r"\(3,\)|3", "4"))
def fit_labels_of_another_batch_size():
    trainer().fit([(spikes(), labels(batch=3))])


@probe(C)
def evaluate_a_smaller_batch_before_the_last_counts_only_its_samples():
    t = trainer()
    big, small = (spikes(), labels()), (spikes(batch=2, seed=3), labels(batch=2, seed=3))
    both = t.evaluate([big, small, big])["loss"]
    alone = [t.evaluate([batch])["loss"] for batch in (big, small)]
    return np.isclose(both, (2 * BATCH * alone[0] + 2 * alone[1]) / (2 * BATCH + 2), rtol=1e-5)


@probe(C, raises=ValueError, says=("batch 1", "6 samples", "first batch had 4", "larger"))
def fit_a_batch_larger_than_the_first():
    trainer().fit([(spikes(), labels()), (spikes(batch=6), labels(batch=6))])


@probe(C, raises=(ValueError, FloatingPointError), says=("input", "NaN"))
def fit_nan_in_inputs():
    x = spikes()
    x[0, 0, 0] = np.nan
    trainer().fit([(x, labels())])


@probe(C, raises=(ValueError, FloatingPointError), says=("label", r"\[0, 2\)|outside|range"))
def fit_labels_out_of_range():
    trainer().fit([(spikes(), np.array([0, 1, 2, 5], np.int32))])


@probe(C, raises=(ValueError, FloatingPointError), says=("NaN", "input"))
def evaluate_nan_in_inputs():
    x = spikes()
    x[1, 2, 0] = np.nan
    trainer().evaluate([(x, labels())])


@probe(C, raises=(ValueError, FloatingPointError), says=("label", "range|outside"))
def evaluate_labels_out_of_range():
    trainer().evaluate([(spikes(), np.array([0, 1, 7, 1], np.int32))])


@probe(C, raises=(ValueError, FloatingPointError), says=("Inf|NaN", "input"))
def predict_inf_in_inputs():
    x = spikes()
    x[0, 0, 0] = np.inf
    trainer().predict([x])


@probe(C, raises=ValueError, says=(r"layer 0 \(Linear\)", r"input of shape \(5,\)", r"\(3,\)"))
def fit_inputs_with_the_wrong_feature_count():
    trainer().fit([(spikes(features=5), labels())])


@probe(C, raises=TypeError, says=("batch 0", r"\(x, y\)"))
def fit_loader_yields_bare_arrays():
    trainer().fit([spikes()])


@probe(C, raises=ValueError, says=("lengths", r"\[1, T\]|\[1, 4\]"))
def fit_lengths_longer_than_the_sequence():
    trainer().fit([(spikes(), labels(), np.full(BATCH, STEPS + 3))])


@probe(C, raises=ValueError, says=("ce_rate_loss", "shape|labels|targets"))
def ce_rate_loss_targets_of_wrong_rank():
    SF.ce_rate_loss()(np.zeros((STEPS, BATCH, CLASSES), np.float32), np.zeros((BATCH, 2, 2), np.int32))


@probe(C, raises=ValueError, says=("mse_count_loss", "correct_rate|incorrect_rate", "1.5"))
def mse_count_loss_rate_above_one():
    SF.mse_count_loss(correct_rate=1.5, incorrect_rate=0.1)


@probe(C)
def spikegen_rate_clips_intensities_above_one_as_snntorch():
    return bool(np.all(np.asarray(spikegen.rate(np.full((2, 3), 2.0, np.float32), num_steps=4)) == 1.0))


@probe(C, raises=ValueError, says=("rate", "num_steps", "0|positive"))
def spikegen_rate_zero_steps():
    spikegen.rate(np.full((2, 3), 0.5, np.float32), num_steps=0)


@probe(C, raises=ValueError, says=("latency", "tau|num_steps|threshold"))
def spikegen_latency_negative_tau():
    spikegen.latency(np.full((2, 3), 0.5, np.float32), num_steps=5, tau=-1.0)


@probe(C, raises=ValueError, says=("Leaky", "mem", r"\(2, 3\)", r"\(2, 5\)"))
def leaky_explicit_membrane_of_wrong_shape():
    nn.Leaky(beta=0.9)(np.zeros((2, 5), np.float32), np.zeros((2, 3), np.float32))


@probe(C, raises=ValueError, says=("CrossEntropyLoss", r"\[0, 2\)", r"\[2\]"))
def torch_style_cross_entropy_with_label_out_of_range():
    nn.CrossEntropyLoss()(np.zeros((2, 2), np.float32), np.array([0, 2], np.int32))


@probe(C, raises=ValueError, says=("MSELoss", r"\(2, 3\)", r"\(3, 2\)"))
def mse_loss_of_mismatched_shapes():
    nn.MSELoss()(np.zeros((2, 3), np.float32), np.zeros((3, 2), np.float32))


@probe(C, raises=ValueError, says=("Linear|layer 0", "7", "3"))
def core_model_given_the_wrong_feature_count():
    import equinox as eqx
    import jax

    model = snx.snn.Sequential(eqx.nn.Linear(3, 2, key=jax.random.PRNGKey(0)), snx.snn.Leaky(0.9))
    state = model.init_state((7,), key=jax.random.PRNGKey(0))
    model(state, np.zeros((STEPS, 7), np.float32), key=jax.random.PRNGKey(0))
