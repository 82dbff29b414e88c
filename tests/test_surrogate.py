"""Every surrogate: Heaviside forward, and a backward that equals its documented formula."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from snnax_torchlike.snn import surrogate

GRID = np.concatenate([np.linspace(-2.0, 2.0, 41), [0.0, 1e-3, -1e-3]]).astype(np.float32)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# (surrogate, independent numpy formula of its derivative)
FORMULAS = {
    "superspike": (surrogate.superspike(), lambda x: 1 / (1 + 10 * np.abs(x)) ** 2),
    "superspike_beta3": (surrogate.superspike(3.0), lambda x: 1 / (1 + 3 * np.abs(x)) ** 2),
    "fast_sigmoid": (surrogate.fast_sigmoid(), lambda x: 1 / (25 * np.abs(x) + 1) ** 2),
    "fast_sigmoid_5": (surrogate.fast_sigmoid(5.0), lambda x: 1 / (5 * np.abs(x) + 1) ** 2),
    "sigmoid": (surrogate.sigmoid(), lambda x: 25 * _sigmoid(25 * x) * (1 - _sigmoid(25 * x))),
    "sigmoid_4": (surrogate.sigmoid(4.0), lambda x: 4 * _sigmoid(4 * x) * (1 - _sigmoid(4 * x))),
    "piecewise": (surrogate.piecewise(), lambda x: np.where(np.abs(x) < 0.5, 1.0, 0.0)),
    "piecewise_1": (surrogate.piecewise(1.0), lambda x: np.where(np.abs(x) < 1.0, 0.5, 0.0)),
    "atan": (surrogate.atan(), lambda x: 1.0 / (1 + (math.pi / 2 * 2 * x) ** 2)),
    "atan_3": (surrogate.atan(3.0), lambda x: 1.5 / (1 + (math.pi / 2 * 3 * x) ** 2)),
    "triangular": (surrogate.triangular(), lambda x: np.maximum(0, 1 - np.abs(x))),
    "triangular_half": (surrogate.triangular(0.5), lambda x: np.maximum(0, 1 - np.abs(x) / 0.5) / 0.5),
    "straight_through": (surrogate.straight_through(), lambda x: np.ones_like(x)),
    "spike_rate_escape": (surrogate.spike_rate_escape(), lambda x: 25 * np.exp(-np.abs(x))),
    "spike_rate_escape_2_3": (surrogate.spike_rate_escape(2.0, 3.0), lambda x: 3 * np.exp(-2 * np.abs(x))),
    "custom_gaussian": (surrogate.custom(lambda x: jnp.exp(-(x**2) / 0.5)), lambda x: np.exp(-(x**2) / 0.5)),
}


@pytest.mark.parametrize("name", FORMULAS)
def test_forward_is_strict_heaviside(name):
    spike_fn, _ = FORMULAS[name]
    out = spike_fn(jnp.asarray(GRID))
    assert out.dtype == jnp.float32 and out.shape == GRID.shape
    np.testing.assert_array_equal(np.asarray(out), (GRID > 0).astype(np.float32))
    assert float(spike_fn(jnp.float32(0.0))) == 0.0


@pytest.mark.parametrize("name", FORMULAS)
def test_gradient_equals_formula(name):
    spike_fn, formula = FORMULAS[name]
    expected = formula(GRID.astype(np.float64))
    grads = jax.vmap(jax.grad(lambda x: spike_fn(x)))(jnp.asarray(GRID))
    np.testing.assert_allclose(np.asarray(grads), expected, rtol=1e-5, atol=1e-7)
    # Forward mode agrees, and so does reverse mode under jit on a whole array.
    _, tangent = jax.jvp(spike_fn, (jnp.asarray(GRID),), (jnp.ones_like(jnp.asarray(GRID)),))
    np.testing.assert_allclose(np.asarray(tangent), expected, rtol=1e-5, atol=1e-7)
    jitted = jax.jit(jax.grad(lambda x: jnp.sum(spike_fn(x) * 2.0)))(jnp.asarray(GRID))
    np.testing.assert_allclose(np.asarray(jitted), 2.0 * expected, rtol=1e-5, atol=1e-7)


def test_user_subclass():
    class Box(surrogate.SurrogateSpike):
        width: float

        def derivative(self, x):
            return jnp.where(jnp.abs(x) < self.width, 3.0, 0.0)

    spike_fn = Box(0.25)
    np.testing.assert_array_equal(np.asarray(spike_fn(jnp.asarray([-1.0, 0.0, 0.1]))), [0, 0, 1])
    np.testing.assert_allclose(np.asarray(jax.vmap(jax.grad(spike_fn))(jnp.asarray([-1.0, 0.0, 0.1]))), [0, 3, 3])


def test_invalid_arguments():
    for factory in (surrogate.superspike, surrogate.sigmoid, surrogate.piecewise, surrogate.atan, surrogate.triangular):
        with pytest.raises(ValueError, match=f"surrogate.{factory.__name__}: .* must be > 0"):
            factory(0.0)
    with pytest.raises(ValueError, match="spike_rate_escape: slope must be > 0"):
        surrogate.spike_rate_escape(1.0, -1.0)
    with pytest.raises(TypeError, match="expected a callable"):
        surrogate.custom(3.0)
    with pytest.raises(TypeError, match="floating-point input"):
        surrogate.atan()(jnp.asarray([1, 2]))
