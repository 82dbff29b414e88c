"""Edge cases of neuron arguments and inputs: plain numbers, numpy scalars, mismatched SRM decays."""

import jax.numpy as jnp
import numpy as np
import pytest

import snnax_torchlike.snn as snn


def test_plain_number_input_gets_a_clear_error():
    layer = snn.SimpleLIF(0.9)
    with pytest.raises(TypeError, match=r"SimpleLIF: expected an array input of shape \(\), got float"):
        layer(layer.init_state(()), 1.0)
    state, spike = layer(layer.init_state(()), jnp.float32(2.0))
    assert float(spike) == 1.0


@pytest.mark.parametrize("threshold", [1.0, np.float32(1.0), np.float64(1.0), 1])
def test_scalar_thresholds_of_any_numeric_type_stay_fixed(threshold):
    assert isinstance(snn.SimpleLIF(0.9, threshold=threshold).threshold, float)
    assert not isinstance(snn.SimpleLIF(0.9, threshold=jnp.asarray(threshold)).threshold, float)


def test_srm_decays_of_mismatched_shapes_raise_at_construction():
    with pytest.raises(ValueError, match=r"SRM: fast_decay has shape \(2,\) but slow_decay has shape \(3,\)"):
        snn.SRM([np.full(2, 0.3), np.full(3, 0.5), 0.5])
    layer = snn.SRM([0.3, np.full(3, 0.5), 0.5])  # a scalar against per-neuron values is fine
    assert layer.init_state((3,)).fast.shape == (3,)


@pytest.mark.parametrize(
    "layer, name",
    [
        (lambda: snn.Alpha(0.9, np.full(3, 0.5, np.float32)), "Alpha: beta"),
        (lambda: snn.Synaptic(np.full(3, 0.5, np.float32), 0.9), "Synaptic: alpha"),
        (lambda: snn.RLeaky(np.full(3, 0.5, np.float32), V=1.0), "RLeaky: beta"),
    ],
)
def test_parameter_shape_errors_name_the_subclass(layer, name):
    with pytest.raises(ValueError, match=rf"{name} has shape \(3,\), but the layer's neurons have shape \(4,\)"):
        layer().init_state((4,))
