"""Every surrogate spike function: a strict Heaviside forward and a backward equal to its formula.

The expected pseudo-derivatives are independent numpy (float64) transcriptions of the
formulas in the factories' docstrings, at default and at non-default hyper-parameters.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from snnax_torchlike.snn import surrogate

# A grid through 0 with points exactly on 0, just either side of it, and on the
# boundaries of the compact surrogates (|x| = 0.5, 1.0 are grid points).
GRID = np.unique(
    np.concatenate([np.linspace(-2.0, 2.0, 41), [0.0, 1e-3, -1e-3, 1e-7, -1e-7, 0.25, -0.75]]).astype(np.float32)
)
RTOL, ATOL = 1e-5, 1e-7


def _np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _gaussian_jax(x):
    return jnp.exp(-(x**2) / 0.5)


# id -> (zero-argument constructor, numpy formula of g(x) written from the docstring)
CASES = {
    "superspike_default": (lambda: surrogate.superspike(), lambda x: 1.0 / (1.0 + 10.0 * np.abs(x)) ** 2),
    "superspike_beta3": (lambda: surrogate.superspike(beta=3.0), lambda x: 1.0 / (1.0 + 3.0 * np.abs(x)) ** 2),
    "sigmoid_default": (
        lambda: surrogate.sigmoid(),
        lambda x: 25.0 * _np_sigmoid(25.0 * x) * (1.0 - _np_sigmoid(25.0 * x)),
    ),
    "sigmoid_slope4": (
        lambda: surrogate.sigmoid(slope=4.0),
        lambda x: 4.0 * _np_sigmoid(4.0 * x) * (1.0 - _np_sigmoid(4.0 * x)),
    ),
    "piecewise_default": (lambda: surrogate.piecewise(), lambda x: np.where(np.abs(x) < 0.5, 1.0 / (2 * 0.5), 0.0)),
    "piecewise_width1": (
        lambda: surrogate.piecewise(width=1.0),
        lambda x: np.where(np.abs(x) < 1.0, 1.0 / (2 * 1.0), 0.0),
    ),
    "piecewise_width0.3": (
        lambda: surrogate.piecewise(width=0.3),
        lambda x: np.where(np.abs(x) < np.float32(0.3), 1.0 / (2 * 0.3), 0.0),
    ),
    "atan_default": (lambda: surrogate.atan(), lambda x: (2.0 / 2) / (1.0 + (math.pi / 2 * 2.0 * x) ** 2)),
    "atan_alpha3": (lambda: surrogate.atan(alpha=3.0), lambda x: (3.0 / 2) / (1.0 + (math.pi / 2 * 3.0 * x) ** 2)),
    "fast_sigmoid_default": (lambda: surrogate.fast_sigmoid(), lambda x: 1.0 / (25.0 * np.abs(x) + 1.0) ** 2),
    "fast_sigmoid_slope5": (
        lambda: surrogate.fast_sigmoid(slope=5.0),
        lambda x: 1.0 / (5.0 * np.abs(x) + 1.0) ** 2,
    ),
    "triangular_default": (lambda: surrogate.triangular(), lambda x: np.maximum(0.0, 1.0 - np.abs(x) / 1.0) / 1.0),
    "triangular_width0.5": (
        lambda: surrogate.triangular(width=0.5),
        lambda x: np.maximum(0.0, 1.0 - np.abs(x) / 0.5) / 0.5,
    ),
    "straight_through": (lambda: surrogate.straight_through(), lambda x: np.ones_like(x)),
    "spike_rate_escape_default": (
        lambda: surrogate.spike_rate_escape(),
        lambda x: 25.0 * np.exp(-1.0 * np.abs(x)),
    ),
    "spike_rate_escape_beta2_slope3": (
        lambda: surrogate.spike_rate_escape(beta=2.0, slope=3.0),
        lambda x: 3.0 * np.exp(-2.0 * np.abs(x)),
    ),
    "custom_gaussian": (lambda: surrogate.custom(_gaussian_jax), lambda x: np.exp(-(x**2) / 0.5)),
    "custom_constant_broadcast": (lambda: surrogate.custom(lambda x: 0.3), lambda x: np.full_like(x, 0.3)),
}


def _expected(name, x):
    return CASES[name][1](np.asarray(x, np.float32).astype(np.float64))


@pytest.fixture(params=list(CASES), scope="module")
def case(request):
    build, formula = CASES[request.param]
    return request.param, build(), formula


# ---------------------------------------------------------------- forward


def test_forward_is_strict_heaviside(case):
    _, spike_fn, _ = case
    x = jnp.asarray(GRID)
    out = spike_fn(x)
    assert isinstance(spike_fn, surrogate.SurrogateSpike)
    assert out.dtype == jnp.float32 and out.shape == GRID.shape
    np.testing.assert_array_equal(np.asarray(out), (GRID > 0).astype(np.float32))
    # Exactly at 0 (and at -0.0) there is no spike; the smallest positive float spikes.
    tiny = np.finfo(np.float32).tiny
    edge = jnp.asarray(np.array([0.0, -0.0, tiny, -tiny, -5.0, 5.0], np.float32))
    np.testing.assert_array_equal(np.asarray(spike_fn(edge)), [0.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    # Scalars and multi-dimensional inputs keep their shape.
    assert spike_fn(jnp.float32(0.0)).shape == () and float(spike_fn(jnp.float32(0.0))) == 0.0
    assert float(spike_fn(jnp.float32(1e-3))) == 1.0
    grid2d = jnp.asarray(GRID[:40].reshape(2, 4, 5))
    out2d = spike_fn(grid2d)
    assert out2d.shape == (2, 4, 5) and out2d.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(out2d), (GRID[:40].reshape(2, 4, 5) > 0).astype(np.float32))


def test_forward_keeps_other_float_dtypes(case):
    _, spike_fn, _ = case
    for dtype in (jnp.float16, jnp.bfloat16):
        out = spike_fn(jnp.asarray([-1.0, 0.0, 0.5], dtype))
        assert out.dtype == dtype
        np.testing.assert_array_equal(np.asarray(out, np.float32), [0.0, 0.0, 1.0])


# ---------------------------------------------------------------- backward


def test_grad_at_points_equals_formula(case):
    name, spike_fn, _ = case
    # Scalar jax.grad at a few individual points (including exactly 0).
    for point in (0.0, 0.3, -1.2):
        g = jax.grad(spike_fn)(jnp.float32(point))
        assert g.dtype == jnp.float32
        np.testing.assert_allclose(float(g), _expected(name, point), rtol=RTOL, atol=ATOL)
    # jax.grad of a weighted sum over the whole grid: elementwise weight * g(x).
    weights = np.random.default_rng(1).uniform(0.5, 2.0, GRID.shape).astype(np.float32)
    grads = jax.grad(lambda x: jnp.sum(spike_fn(x) * weights))(jnp.asarray(GRID))
    np.testing.assert_allclose(np.asarray(grads), weights * _expected(name, GRID), rtol=RTOL, atol=ATOL)


def test_jvp_equals_formula_times_tangent(case):
    name, spike_fn, _ = case
    tangent = np.random.default_rng(2).normal(size=GRID.shape).astype(np.float32)
    primal_out, tangent_out = jax.jvp(spike_fn, (jnp.asarray(GRID),), (jnp.asarray(tangent),))
    np.testing.assert_array_equal(np.asarray(primal_out), (GRID > 0).astype(np.float32))
    assert tangent_out.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(tangent_out), tangent * _expected(name, GRID), rtol=RTOL, atol=ATOL)


def test_grad_under_jit_and_vmap(case):
    name, spike_fn, _ = case
    # One compilation: the surrogate passed through eqx.filter_jit as an argument (not
    # closed over), scalar jax.grad vmapped over both axes of a 2-D input.
    batched = jnp.asarray(np.stack([GRID, -GRID]))

    @eqx.filter_jit
    def per_point_grad(fn, x):
        return jax.vmap(jax.vmap(jax.grad(fn)))(x)

    out = per_point_grad(spike_fn, batched)
    expected = np.stack([_expected(name, GRID), _expected(name, -GRID)])
    assert out.shape == batched.shape and out.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(out), expected, rtol=RTOL, atol=ATOL)


def test_fast_sigmoid_is_superspike_with_beta_slope():
    x = jnp.asarray(GRID)
    g1 = jax.grad(lambda v: jnp.sum(surrogate.fast_sigmoid(7.0)(v)))(x)
    g2 = jax.grad(lambda v: jnp.sum(surrogate.superspike(7.0)(v)))(x)
    np.testing.assert_array_equal(np.asarray(g1), np.asarray(g2))


def test_compact_surrogates_boundaries_are_exclusive():
    # piecewise: |x| < width (strict); triangle: zero at |x| = width.
    xs = jnp.asarray(np.array([-0.5, 0.5, 0.4999, -0.4999, 0.6], np.float32))
    g = jax.vmap(jax.grad(surrogate.piecewise(0.5)))(xs)
    np.testing.assert_array_equal(np.asarray(g), [0.0, 0.0, 1.0, 1.0, 0.0])
    g = jax.vmap(jax.grad(surrogate.triangular(0.5)))(xs)
    np.testing.assert_allclose(
        np.asarray(g), [0.0, 0.0, 2 * (1 - 0.4999 / 0.5), 2 * (1 - 0.4999 / 0.5), 0.0], atol=1e-5
    )


def test_surrogate_peaks_as_documented():
    zero = jnp.float32(0.0)
    assert float(jax.grad(surrogate.superspike(3.0))(zero)) == pytest.approx(1.0)
    assert float(jax.grad(surrogate.sigmoid(8.0))(zero)) == pytest.approx(8.0 / 4)
    assert float(jax.grad(surrogate.atan(3.0))(zero)) == pytest.approx(3.0 / 2)
    assert float(jax.grad(surrogate.triangular(0.25))(zero)) == pytest.approx(1 / 0.25)
    assert float(jax.grad(surrogate.piecewise(0.25))(zero)) == pytest.approx(1 / 0.5)
    assert float(jax.grad(surrogate.spike_rate_escape(2.0, 3.0))(zero)) == pytest.approx(3.0)


def test_sigmoid_derivative_has_no_cancellation_far_from_zero():
    # For large |slope x| the stable form stays positive and equals the formula.
    x = jnp.asarray(np.array([1.0, 2.0, 3.0, -3.0], np.float32))
    g = np.asarray(jax.vmap(jax.grad(surrogate.sigmoid(25.0)))(x))
    expected = 25.0 * _np_sigmoid(25.0 * np.asarray(x, np.float64)) * _np_sigmoid(-25.0 * np.asarray(x, np.float64))
    assert np.all(g > 0)
    np.testing.assert_allclose(g, expected, rtol=1e-4)


# ---------------------------------------------------------------- errors


INVALID = [
    (surrogate.superspike, {"beta": 0.0}, "superspike", "beta"),
    (surrogate.superspike, {"beta": -1.0}, "superspike", "beta"),
    (surrogate.sigmoid, {"slope": 0.0}, "sigmoid", "slope"),
    (surrogate.sigmoid, {"slope": -25.0}, "sigmoid", "slope"),
    (surrogate.piecewise, {"width": 0.0}, "piecewise", "width"),
    (surrogate.piecewise, {"width": -0.5}, "piecewise", "width"),
    (surrogate.atan, {"alpha": 0.0}, "atan", "alpha"),
    (surrogate.atan, {"alpha": -2.0}, "atan", "alpha"),
    (surrogate.fast_sigmoid, {"slope": 0.0}, "fast_sigmoid", "slope"),
    (surrogate.fast_sigmoid, {"slope": -1.0}, "fast_sigmoid", "slope"),
    (surrogate.triangular, {"width": 0.0}, "triangular", "width"),
    (surrogate.triangular, {"width": -1.0}, "triangular", "width"),
    (surrogate.spike_rate_escape, {"beta": 0.0}, "spike_rate_escape", "beta"),
    (surrogate.spike_rate_escape, {"slope": 0.0}, "spike_rate_escape", "slope"),
    (surrogate.spike_rate_escape, {"beta": -1.0, "slope": 3.0}, "spike_rate_escape", "beta"),
    (surrogate.spike_rate_escape, {"beta": 1.0, "slope": -3.0}, "spike_rate_escape", "slope"),
    (surrogate.superspike, {"beta": float("nan")}, "superspike", "beta"),
]


@pytest.mark.parametrize(("factory", "kwargs", "factory_name", "param"), INVALID)
def test_invalid_hyperparameters_raise_value_error(factory, kwargs, factory_name, param):
    with pytest.raises(ValueError, match=rf"surrogate\.{factory_name}: {param} must be > 0"):
        factory(**kwargs)


def test_integer_and_bool_inputs_raise_type_error(case):
    _, spike_fn, _ = case
    for bad in (jnp.asarray([1, 0, -1], jnp.int32), jnp.asarray([True, False]), np.arange(3)):
        with pytest.raises(TypeError, match="expected a floating-point input"):
            spike_fn(bad)


@pytest.mark.parametrize("bad", [3.0, "gaussian", None, jnp.ones(3)])
def test_custom_rejects_non_callables(bad):
    with pytest.raises(TypeError, match=r"surrogate\.custom: expected a callable derivative"):
        surrogate.custom(bad)


# ---------------------------------------------------------------- user-defined surrogates


def test_user_subclass_with_float_hyperparameter():
    class Box(surrogate.SurrogateSpike):
        width: float

        def derivative(self, x):
            return jnp.where(jnp.abs(x) < self.width, 3.0, 0.0)

    spike_fn = Box(0.25)
    xs = jnp.asarray(np.array([-1.0, -0.2, 0.0, 0.1, 0.3], np.float32))
    np.testing.assert_array_equal(np.asarray(spike_fn(xs)), [0, 0, 0, 1, 1])
    expected = [0.0, 3.0, 3.0, 3.0, 0.0]
    np.testing.assert_array_equal(np.asarray(jax.vmap(jax.grad(spike_fn))(xs)), expected)
    np.testing.assert_array_equal(np.asarray(jax.jit(jax.grad(lambda v: jnp.sum(spike_fn(v))))(xs)), expected)
    _, tangent = jax.jvp(spike_fn, (xs,), (2 * jnp.ones_like(xs),))
    np.testing.assert_array_equal(np.asarray(tangent), 2 * np.asarray(expected))
    with pytest.raises(TypeError, match="floating-point input"):
        spike_fn(jnp.arange(3))


def test_user_subclass_with_array_hyperparameter_gets_no_gradient():
    class Scaled(surrogate.SurrogateSpike):
        scale: jax.Array

        def derivative(self, x):
            return self.scale * jnp.exp(-jnp.abs(x))

    spike_fn = Scaled(jnp.asarray(2.0))
    xs = jnp.asarray(GRID)
    g = jax.grad(lambda v: jnp.sum(spike_fn(v)))(xs)
    np.testing.assert_allclose(np.asarray(g), 2.0 * np.exp(-np.abs(GRID.astype(np.float64))), rtol=RTOL, atol=ATOL)
    # Under jit with the module as an argument, too.
    g_jit = eqx.filter_jit(lambda fn, v: jax.grad(lambda u: jnp.sum(fn(u)))(v))(spike_fn, xs)
    np.testing.assert_allclose(np.asarray(g_jit), np.asarray(g), rtol=RTOL, atol=ATOL)
    # The forward is a step in x only: the hyper-parameter has zero gradient.
    module_grad = eqx.filter_grad(lambda fn: jnp.sum(fn(xs)))(spike_fn)
    assert float(module_grad.scale) == 0.0


def test_subclass_without_derivative_cannot_be_instantiated():
    class Incomplete(surrogate.SurrogateSpike):
        pass

    with pytest.raises(TypeError):
        Incomplete()


def test_custom_derivative_sees_membrane_minus_threshold():
    seen = []

    def derivative(x):
        seen.append(x.shape)
        return 1.0 + x**2

    spike_fn = surrogate.custom(derivative)
    xs = jnp.asarray(np.array([[-1.0, 0.0], [0.5, 2.0]], np.float32))
    g = jax.grad(lambda v: jnp.sum(spike_fn(v)))(xs)
    np.testing.assert_allclose(np.asarray(g), 1.0 + np.asarray(xs) ** 2, rtol=RTOL)
    assert seen and seen[-1] == (2, 2)
