"""The snnTorch neurons' one constructor: own parameters, then the shared ``SpikingOptions`` by keyword.

Each neuron takes every option its snnTorch constructor takes, by keyword, with
snnTorch's defaults; an option passed by position, an unknown or misspelt keyword
and an option snnTorch's neuron lacks raise a ``TypeError`` that names the neuron;
``inspect.signature`` lists the neuron's own parameters, which match snnTorch's.
"""

from __future__ import annotations

import inspect

import jax
import numpy as np
import pytest
import snntorch

from snnax_torchlike import nn, random, surrogate
from snnax_torchlike.nn.neuron import SnnTorchNeuron, SpikingOptions

# name: (own leading parameters, all by position; an input for one step)
NEURONS = {
    "Leaky": ((0.8,), (2, 4)),
    "Lapicque": ((0.7, False, False, 1), (2, 4)),
    "Synaptic": ((0.6, 0.8), (2, 4)),
    "Alpha": ((0.85, 0.6), (2, 4)),
    "RLeaky": ((0.8, 1.0, True, 4, None, None), (2, 4)),
    "RSynaptic": ((0.6, 0.8, 1.0, True, 4, None, None), (2, 4)),
    "StateLeaky": ((0.8, 4), (3, 2, 4)),
    "LinearLeaky": ((0.8, 3, 4, True, None, None), (3, 2, 3)),
    "SLSTM": ((4, 4, True), (2, 4)),
    "SConv2dLSTM": ((1, 2, 3, True, 0, 0), (2, 1, 4, 4)),
    "DeltaLeaky": ((1.0, 0.8), (2, 4)),
}


def _build(name: str, **options):
    random.manual_seed(0)  # the same initial weights (RLeaky's Linear, SLSTM's cell, ...) for every build
    return getattr(nn, name)(*NEURONS[name][0], **options)


def _step(neuron, name: str) -> list[np.ndarray]:
    x = np.linspace(0.0, 1.5, int(np.prod(NEURONS[name][1])), dtype=np.float32).reshape(NEURONS[name][1])
    outputs = neuron(x, neuron.reset_mem()) if name == "DeltaLeaky" else neuron(x)
    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(outputs)]


def _snntorch_parameters(name: str) -> dict[str, inspect.Parameter]:
    """snnTorch's constructor parameters (DeltaLeaky's are ``delta_threshold`` and Leaky's)."""
    parameters = dict(inspect.signature(getattr(snntorch, name)).parameters)
    if name == "DeltaLeaky":
        del parameters["args"], parameters["kwargs"]
        parameters.update(inspect.signature(snntorch.Leaky).parameters)
    return parameters


@pytest.mark.parametrize("name", NEURONS)
def test_every_option_by_keyword_at_snntorch_default_changes_nothing(name):
    cls = getattr(nn, name)
    plain, explicit = _build(name), _build(name, **cls.option_defaults())
    assert list(plain.state_dict()) == list(explicit.state_dict())
    for key, value in plain.state_dict().items():
        np.testing.assert_array_equal(np.asarray(value), np.asarray(explicit.state_dict()[key]), err_msg=key)
    for attribute in ("reset_mechanism", "reset_delay", "output", "init_hidden", "inhibition", "surrogate_disable"):
        assert getattr(plain, attribute) == getattr(explicit, attribute), attribute
    for ours, theirs in zip(_step(plain, name), _step(explicit, name), strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name", NEURONS)
def test_option_defaults_are_snntorchs(name):
    theirs = _snntorch_parameters(name)
    shared = {key: p.default for key, p in theirs.items() if key in SpikingOptions.__optional_keys__}
    assert getattr(nn, name).option_defaults() == shared


@pytest.mark.parametrize("name", NEURONS)
def test_options_set_away_from_their_default_are_honoured(name):
    cls = getattr(nn, name)
    taken = cls.option_defaults()
    spike = surrogate.fast_sigmoid(slope=10)
    changed = {"threshold": 0.5, "spike_grad": spike, "learn_threshold": True, "graded_spikes_factor": 2.0,
               "learn_graded_spikes_factor": True, "init_hidden": True, "output": not taken["output"],
               "reset_delay": False, "reset_mechanism": "none" if taken.get("reset_mechanism") != "none" else "zero"}
    if name == "RSynaptic":
        del changed["reset_delay"]  # refused: snnTorch 1.0's RSynaptic has no working reset_delay=False
    options = {key: value for key, value in changed.items() if key in taken}
    if taken["output"]:  # StateLeaky, LinearLeaky: output=False emits no spikes, so the spike options warn
        with pytest.warns(UserWarning, match="only affect spikes, which output=False never emits"):
            neuron = _build(name, **options)
    else:
        neuron = _build(name, **options)
    parameters = dict(neuron.named_parameters())
    assert "threshold" in parameters and np.asarray(parameters["threshold"].data) == 0.5
    assert neuron.spike_grad is spike
    for key in ("init_hidden", "output", "reset_delay", "reset_mechanism"):
        if key in options:
            assert getattr(neuron, key) == options[key], key
    if "graded_spikes_factor" in options:
        assert np.asarray(parameters["graded_spikes_factor"].data) == 2.0
    assert _build(name, surrogate_disable=True).surrogate_disable is True


@pytest.mark.parametrize("name", NEURONS)
def test_an_option_by_position_says_to_pass_it_by_keyword(name):
    leading = NEURONS[name][0]
    with pytest.raises(TypeError, match=rf"^{name}: takes {len(leading)} positional argument.*pass threshold .*by "
                       rf"keyword, e\.g\. {name}\(.*threshold=\.\.\.\)"):  # fmt: skip
        getattr(nn, name)(*leading, 1.0)


@pytest.mark.parametrize("name", NEURONS)
def test_an_unknown_keyword_names_the_neuron_and_its_options(name):
    with pytest.raises(TypeError, match=rf"^{name}: unknown option 'bogus'; it takes .* the options threshold, "):
        _build(name, bogus=1)


@pytest.mark.parametrize(
    ("name", "wrong", "meant"),
    [("Leaky", "treshold", "threshold"), ("Leaky", "learn_bta", "learn_beta"), ("Synaptic", "reset_mechansm",
     "reset_mechanism"), ("RLeaky", "learn_recurent", "learn_recurrent"), ("SLSTM", "spike_gard", "spike_grad"),
     ("StateLeaky", "kernel_truncation_step", "kernel_truncation_steps")],
)  # fmt: skip
def test_a_misspelt_keyword_suggests_the_closest(name, wrong, meant):
    with pytest.raises(TypeError, match=rf"^{name}: unknown option '{wrong}' \(did you mean '{meant}'\?\)"):
        _build(name, **{wrong: True})


@pytest.mark.parametrize(
    ("name", "option"),
    [("Synaptic", "graded_spikes_factor"), ("Alpha", "reset_delay"), ("Lapicque", "learn_graded_spikes_factor"),
     ("SLSTM", "reset_delay"), ("StateLeaky", "init_hidden"), ("LinearLeaky", "reset_mechanism")],
)
def test_an_option_the_snntorch_neuron_lacks_is_refused_as_snntorch_does(name, option):
    with pytest.raises(TypeError):
        getattr(snntorch, name)(*NEURONS[name][0], **{option: SnnTorchNeuron.option_defaults()[option]})
    with pytest.raises(TypeError, match=rf"^{name}: unknown option '{option}' \(snnTorch's {name} has no such"):
        _build(name, **{option: SnnTorchNeuron.option_defaults()[option]})


@pytest.mark.parametrize("name", NEURONS)
def test_the_signature_lists_the_own_parameters_as_snntorch_orders_them(name):
    ours = list(inspect.signature(getattr(nn, name)).parameters.values())
    assert ours[-1].kind is inspect.Parameter.VAR_KEYWORD and "SpikingOptions" in str(ours[-1].annotation)
    own = [p.name for p in ours[:-1]]
    theirs = [key for key in _snntorch_parameters(name) if key not in SpikingOptions.__optional_keys__]
    assert sorted(own) == sorted(theirs)
    positional = [p.name for p in ours if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert positional == list(_snntorch_parameters(name))[: len(positional)]
    assert list(_snntorch_parameters(name))[len(positional)] == "threshold"


def test_spiking_options_are_each_documented_once_with_the_default():
    doc = SnnTorchNeuron.__doc__
    defaults = SnnTorchNeuron.option_defaults()
    assert set(defaults) == SpikingOptions.__optional_keys__
    for key, default in defaults.items():
        shown = f'"{default}"' if isinstance(default, str) else repr(default)
        assert doc.count(f"``{key}={shown}``") == 1, key


def test_deltaleaky_without_beta_says_beta_is_required():
    with pytest.raises(TypeError, match=r"DeltaLeaky: beta is required"):
        nn.DeltaLeaky(0.5)


def test_a_subclass_passing_keywords_to_its_parent_keeps_working():
    class Scaled(nn.Leaky):
        def __init__(self, size: int, **kwargs):
            super().__init__(**kwargs)
            self.size = size

    neuron = Scaled(3, beta=0.9, learn_beta=True, threshold=0.5)
    assert neuron.size == 3 and "beta" in dict(neuron.named_parameters())
    with pytest.raises(TypeError, match=r"^Scaled: unknown option 'treshold' \(did you mean 'threshold'\?\)"):
        Scaled(3, beta=0.9, treshold=0.5)
