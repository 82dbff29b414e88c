"""Bad input, second round: values, dtypes and shapes given to core layers, facade layers, fit, losses and encoders."""

from __future__ import annotations

import functools

import numpy as np
from _fixtures import BATCH, labels, net, parameters, same, spikes, trainer
from _harness import probe

from snnax_torchlike import functional as SF
from snnax_torchlike import nn, snn, spikegen

C = "bad input"


@functools.cache
def _core_key():
    import jax

    return jax.random.PRNGKey(0)


def _core_model(features: int = 3):
    import equinox as eqx

    return snn.Sequential(eqx.nn.Linear(features, 2, key=_core_key()), snn.Leaky(0.9))


# -- core layers (snx.snn) ----------------------------------------------------------------
@probe(C, raises=ValueError, says=("Leaky", "beta", "nan"))
def core_leaky_built_with_nan_beta():
    snn.Leaky(float("nan"))  # e.g. exp(-dt / tau) with tau = 0


@probe(C, raises=TypeError, says=("Leaky", "threshold", "str|number"))
def core_leaky_threshold_given_as_a_string():
    snn.Leaky(0.9, threshold="1.0")


@probe(C, raises=TypeError, says=("Leaky.init_state", "tuple of ints", "3"))
def core_leaky_init_state_given_a_bare_int():
    snn.Leaky(0.9).init_state(3)


@probe(C, raises=ValueError, says=("CurrentBasedLIF", "mem_decay", r"\[0, 1\]", "1.5"))
def core_lif_decay_above_one():
    snn.CurrentBasedLIF([1.5, 0.9])


@probe(C, raises=ValueError, says=("extra axis", "vmap", r"\(4, 2, 3\)"))
def core_model_given_a_batched_sequence():
    model = _core_model()
    model(model.init_state((3,), key=_core_key()), np.zeros((4, 2, 3), np.float32), key=_core_key())


# -- facade neurons -----------------------------------------------------------------------
@probe(C, raises=TypeError, says=("Leaky", "beta", "str|number"))
def facade_leaky_beta_given_as_a_string():
    nn.Leaky(beta="0.9")  # read from a config file and never converted


@probe(C)
def facade_leaky_beta_given_as_a_torch_tensor_that_requires_grad():
    import torch

    return float(nn.Leaky(beta=torch.tensor(0.9, requires_grad=True)).beta) == np.float32(0.9)


@probe(C, raises=ValueError, says=("Alpha", "alpha > beta"))
def facade_alpha_with_alpha_below_beta():
    nn.Alpha(alpha=0.5, beta=0.9)


@probe(C, raises=ValueError, says=("Lapicque", "C", "0"))
def facade_lapicque_zero_capacitance():
    nn.Lapicque(R=1.0, C=0.0)  # the update divides by C


@probe(C, raises=ValueError, says=("Lapicque", "beta", "1"))
def facade_lapicque_beta_of_one():
    nn.Lapicque(beta=1.0)  # C = dt / ln(1 / beta) is infinite: the membrane would never move


@probe(C, raises=ValueError, says=("Lapicque", "time_step", "0"))
def facade_lapicque_zero_time_step():
    nn.Lapicque(beta=0.9, time_step=0)


@probe(C, raises=ValueError, says=("RLeaky", "linear_features", "4", r"\(2, 3\)"))
def facade_rleaky_linear_features_differ_from_input():
    nn.RLeaky(beta=0.9, linear_features=4)(np.zeros((2, 3), np.float32))


@probe(C, raises=ValueError, says=("RLeaky", "V", r"\(4,\)", r"\(2, 3\)"))
def facade_rleaky_one_to_one_weights_of_wrong_length():
    nn.RLeaky(beta=0.9, all_to_all=False, V=np.ones(4, np.float32))(np.zeros((2, 3), np.float32))


@probe(C, raises=ValueError, says=("RSynaptic", "linear_features", "4", r"\(2, 3\)"))
def facade_rsynaptic_linear_features_differ_from_input():
    nn.RSynaptic(alpha=0.8, beta=0.9, linear_features=4)(np.zeros((2, 3), np.float32))


@probe(C, raises=ValueError, says=("DeltaLeaky", "delta_threshold", "-1"))
def facade_delta_leaky_negative_delta_threshold():
    nn.DeltaLeaky(delta_threshold=-1.0, beta=0.9)  # |change| > -1 holds at every step: it would always spike


@probe(C, raises=ValueError, says=("Leaky", "threshold", r"\(4,\)", r"\(2, 3\)"))
def facade_leaky_per_neuron_threshold_of_wrong_length():
    nn.Leaky(beta=0.9, threshold=np.ones(4, np.float32))(np.zeros((2, 3), np.float32))


@probe(C)
def facade_leaky_learned_per_neuron_betas_of_two_widths():
    # snnTorch's usual pattern: each layer learns one beta per neuron, layers of different widths.
    first_steps = []
    for width in (3, 5):
        lif = nn.Leaky(beta=np.full(width, 0.5, np.float32), learn_beta=True)
        lif(np.ones((2, width), np.float32))
        _, mem = lif(np.ones((2, width), np.float32))
        first_steps.append(np.allclose(np.asarray(mem), 1.5))  # 0.5 * 1 + 1, no spike reset yet (threshold 1)
    return all(first_steps)


@probe(C)
def facade_leaky_float64_input_runs_as_float32():
    x = np.random.default_rng(0).random((3, 2, 4)) * 1.5  # float64, numpy's default
    runs = []
    for data in (x, x.astype(np.float32)):
        lif, mem, out = nn.Leaky(beta=0.9), None, []
        mem = lif.init_leaky()
        for t in range(3):
            spk, mem = lif(data[t], mem)
            out.append((np.asarray(spk), np.asarray(mem)))
        runs.append(out)
    return all(
        a.dtype == np.float32 and np.array_equal(a, b) for step64, step32 in zip(*runs) for a, b in zip(step64, step32)
    )


# -- facade layers ------------------------------------------------------------------------
@probe(C, raises=ValueError, says=("Conv2d", "padding", "-1"))
def conv2d_negative_padding():
    nn.Conv2d(1, 1, 3, padding=-1)  # torch: "negative padding is not supported"


@probe(C, raises=ValueError, says=("Conv2d", "stride", "0"))
def conv2d_zero_stride():
    nn.Conv2d(1, 1, 3, stride=0)


@probe(C, raises=ValueError, says=("Conv2d", "kernel_size", "0"))
def conv2d_zero_kernel():
    nn.Conv2d(1, 1, 0)


@probe(C, raises=ValueError, says=("MaxPool2d", "stride", "0"))
def maxpool2d_zero_stride():
    nn.MaxPool2d(2, stride=0)


@probe(C, raises=ValueError, says=("AvgPool2d", "kernel_size", "0"))
def avgpool2d_zero_kernel():
    nn.AvgPool2d(0)


@probe(C, raises=TypeError, says=("Dropout", "p", "'0.5'|str"))
def dropout_probability_given_as_a_string():
    nn.Dropout(p="0.5")


@probe(C, raises=(TypeError, ValueError), says=("Linear", "in_features", "3.5"))
def linear_fractional_feature_count():
    nn.Linear(3.5, 2)  # e.g. in_features=channels * size / 2


@probe(C, raises=ValueError, says=("BatchNorm1d", "more than 1 value", r"\(1, 3\)"))
def batchnorm1d_single_sample_in_training():
    nn.BatchNorm1d(3)(np.ones((1, 3), np.float32))


@probe(C)
def linear_over_time_and_batch_axes_is_a_matmul():
    layer = nn.Linear(3, 2)
    x = np.random.default_rng(1).random((4, 2, 3)).astype(np.float32)
    weights = {k: np.asarray(v) for k, v in layer.state_dict().items()}
    return np.allclose(np.asarray(layer(x)), x @ weights["weight"].T + weights["bias"], atol=1e-6)


@probe(C)
def conv2d_unbatched_image_equals_its_batch_of_one():
    layer = nn.Conv2d(1, 2, 3)
    x = np.random.default_rng(2).random((1, 1, 5, 5)).astype(np.float32)
    return np.allclose(np.asarray(layer(x[0])), np.asarray(layer(x))[0], atol=1e-6)


# -- fit / evaluate / predict batches -------------------------------------------------------
@probe(C, raises=TypeError, says=("batch 0", "targets", "<U1|str"))
def fit_string_class_names_as_labels():
    trainer().fit([(spikes(), np.array(["cat", "dog", "cat", "dog"]))])


@probe(C, raises=TypeError, says=("batch 0", "inputs", "<U3|str"))
def fit_file_names_as_inputs():
    trainer().fit([(np.array(["a.npy"] * BATCH), labels())])


@probe(C, raises=ValueError, says=("ce_rate_loss", "one-hot", r"\(4, 2\)"))
def fit_one_hot_labels_with_a_class_index_loss():
    trainer().fit([(spikes(), np.eye(2, dtype=np.float32)[labels()])])


@probe(C, raises=ValueError, says=("batch 0", "targets", "time_first"))
def fit_time_first_false_given_time_first_inputs():
    trainer().fit([(spikes(steps=5), labels())], time_first=False)


@probe(C, raises=TypeError, says=("batch 0", "lengths", "integers", "float"))
def fit_lengths_as_floats():
    trainer().fit([(spikes(), labels(), np.full(BATCH, 2.0))])


@probe(C, raises=ValueError, says=("batch 0", r"\[T, B, \.\.\.\]", r"\(4, 3\)"))
def predict_a_batch_without_time_axis():
    trainer().predict([spikes()[0]])


@probe(C)
def fit_uint8_event_frames_train_as_float32():
    histories = []
    for dtype in (np.uint8, np.float32):
        network = net(seed=5)
        trainer(network).fit([(spikes(seed=s).astype(dtype), labels(seed=s)) for s in range(2)], epochs=1)
        histories.append(parameters(network))
    return same(*histories)


# -- snnTorch's functional losses -----------------------------------------------------------
@probe(C, raises=ValueError, says=("ce_count_loss", "time-first", r"\(4, 5, 2\)"))
def ce_count_loss_given_batch_first_outputs():
    SF.ce_count_loss()(np.swapaxes(spikes(steps=5, features=2), 0, 1), labels())


@probe(C, raises=ValueError, says=("mse_membrane_loss", "on_target", "nan"))
def mse_membrane_loss_nan_target():
    SF.mse_membrane_loss(on_target=float("nan"))


@probe(C, raises=ValueError, says=("ce_rate_loss", "weight", r"\(2,\)", r"\(3,\)"))
def ce_rate_loss_weight_for_another_class_count():
    SF.ce_rate_loss(weight=np.ones(3, np.float32))(spikes(steps=5, features=2), labels())


# -- spike encoders ---------------------------------------------------------------------
@probe(C, raises=ValueError, says=("spikegen.rate", "NaN", "data"))
def spikegen_rate_nan_intensity():
    spikegen.rate(np.array([np.nan, 0.5], np.float32), num_steps=4)  # NaN would never spike


@probe(C, raises=ValueError, says=("spikegen.rate", "gain", "nan"))
def spikegen_rate_nan_gain():
    spikegen.rate(np.full((2, 3), 0.5, np.float32), num_steps=4, gain=float("nan"))


@probe(C, raises=ValueError, says=("spikegen.rate_conv", "NaN"))
def spikegen_rate_conv_nan_probability():
    spikegen.rate_conv(np.array([np.nan, 0.5], np.float32))


@probe(C, raises=ValueError, says=("spikegen.latency", "NaN", "data"))
def spikegen_latency_nan_data():
    spikegen.latency(np.array([np.nan, 0.5], np.float32), num_steps=5)


@probe(C, raises=ValueError, says=("ce_count_loss", "multiple of num_classes", "10", "3"))
def ce_count_loss_population_not_dividing_the_outputs():
    SF.ce_count_loss(population_code=True, num_classes=3)(spikes(steps=5, features=10), labels())


@probe(C, raises=ValueError, says=("spikegen.delta", "NaN"))
def spikegen_delta_nan_in_signal():
    spikegen.delta(np.array([[0.0], [np.nan], [1.0]], np.float32))


@probe(C, raises=TypeError, says=("spikegen.rate", "data", "str|<U3|numeric"))
def spikegen_rate_given_a_file_name():
    spikegen.rate("img.png", num_steps=3)


@probe(C, raises=TypeError, says=("spikegen.rate", "key", "PRNG key"))
def spikegen_rate_integer_seed_as_key():
    spikegen.rate(np.full((2, 3), 0.5, np.float32), num_steps=3, key=0)
