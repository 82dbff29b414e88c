"""`snnax_torchlike.nn`'s torch loss modules against the real ``torch.nn`` losses.

Values and input gradients (``jax.grad`` against torch autograd) on the same
random arrays, for every reduction and option; ``jax.jit`` against eager;
errors; ``state_dict`` keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from snnax_torchlike import nn
from snnax_torchlike.nn import loss as loss_module

torch = pytest.importorskip("torch")

REDUCTIONS = ("none", "mean", "sum")
RTOL, ATOL = 1e-5, 1e-6
CLASSES = (
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
)  # fmt: skip


# -- inputs -------------------------------------------------------------------------------
def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _logits_indices(shape: tuple[int, ...], *, ignore: int | None = None, seed: int = 0):
    """Logits of ``shape`` (classes on axis 1, or axis 0 when unbatched) and integer targets."""
    rng = _rng(seed)
    x = rng.normal(size=shape).astype(np.float32)
    classes = shape[1] if len(shape) > 1 else shape[0]
    target_shape = (shape[0], *shape[2:]) if len(shape) > 1 else ()
    t = rng.integers(0, classes, size=target_shape).astype(np.int64)
    if ignore is not None:
        t = np.where(rng.random(target_shape) < 0.3, ignore, t)
        t.flat[0] = ignore  # at least one ignored
        if t.size > 1:
            t.flat[-1] = 0 if ignore != 0 else 1  # and one counted
    return x, t


def _log_probs_indices(shape: tuple[int, ...], **kwargs: Any):
    x, t = _logits_indices(shape, **kwargs)
    axis = 1 if len(shape) > 1 else 0
    return np.asarray(torch.log_softmax(torch.from_numpy(x), dim=axis)), t


def _logits_probabilities(shape: tuple[int, ...], seed: int = 0):
    rng = _rng(seed)
    x = rng.normal(size=shape).astype(np.float32)
    p = rng.random(size=shape).astype(np.float32)
    axis = 1 if len(shape) > 1 else 0
    return x, (p / p.sum(axis=axis, keepdims=True)).astype(np.float32)


def _regression(shape: tuple[int, ...], seed: int = 0, scale: float = 1.0):
    rng = _rng(seed)
    x = (scale * rng.normal(size=shape)).astype(np.float32)
    t = (scale * rng.normal(size=shape)).astype(np.float32)
    t.flat[0] = x.flat[0]  # a tie: torch's gradient of |d| there is 0
    return x, t


def _probabilities(shape: tuple[int, ...], seed: int = 0, saturated: bool = False):
    rng = _rng(seed)
    x = (1 / (1 + np.exp(-rng.normal(size=shape)))).astype(np.float32)
    t = rng.random(size=shape).astype(np.float32)
    if saturated:  # torch clamps the logs at -100 and the gradient's denominator at 1e-12
        x.flat[0], t.flat[0] = 0.0, 1.0
        x.flat[1], t.flat[1] = 1.0, 0.0
        x.flat[2], t.flat[2] = 0.0, 0.0
    return x, t


def _logits_binary(shape: tuple[int, ...], seed: int = 0):
    rng = _rng(seed)
    x = (3 * rng.normal(size=shape)).astype(np.float32)
    t = (rng.random(size=shape) < 0.5).astype(np.float32)
    t.flat[0] = 0.3  # soft targets are allowed
    return x, t


# -- cases --------------------------------------------------------------------------------
@dataclass
class Case:
    """One loss configuration: the class name, its keyword arguments and inputs ``(x, t)``."""

    id: str
    cls: str
    make: Callable[[], tuple[np.ndarray, np.ndarray]]
    kwargs: dict[str, Any] = field(default_factory=dict)


W5 = np.array([0.3, 2.0, 1.0, 0.5, 1.2], np.float32)
# Few distinct shapes, so eager JAX compiles each operation once and the file stays fast.
SCORES, SPATIAL, UNBATCHED, ELEMENTS = (6, 5), (3, 5, 2), (5,), (2, 3, 5)

BASE_CASES = [
    # CrossEntropyLoss: class indices
    Case("ce", "CrossEntropyLoss", lambda: _logits_indices(SCORES)),
    Case("ce-weight", "CrossEntropyLoss", lambda: _logits_indices(SCORES), {"weight": W5}),
    Case("ce-ignore", "CrossEntropyLoss", lambda: _logits_indices(SCORES, ignore=-100)),
    Case("ce-ignore-2", "CrossEntropyLoss", lambda: _logits_indices(SCORES, ignore=2), {"ignore_index": 2}),
    Case("ce-weight-ignore", "CrossEntropyLoss", lambda: _logits_indices(SCORES, ignore=-100), {"weight": W5}),
    Case("ce-smooth", "CrossEntropyLoss", lambda: _logits_indices(SCORES), {"label_smoothing": 0.2}),
    Case(
        "ce-smooth-weight-ignore", "CrossEntropyLoss", lambda: _logits_indices(SCORES, ignore=-100),
        {"weight": W5, "label_smoothing": 0.15},
    ),  # fmt: skip
    Case("ce-spatial", "CrossEntropyLoss", lambda: _logits_indices(SPATIAL), {"weight": W5}),
    Case(
        "ce-spatial-smooth-ignore", "CrossEntropyLoss", lambda: _logits_indices(SPATIAL, ignore=-100),
        {"weight": W5, "label_smoothing": 0.1},
    ),  # fmt: skip
    Case(
        "ce-unbatched", "CrossEntropyLoss", lambda: _logits_indices(UNBATCHED), {"weight": W5, "label_smoothing": 0.1}
    ),
    # CrossEntropyLoss: class probabilities
    Case("ce-prob", "CrossEntropyLoss", lambda: _logits_probabilities(SCORES)),
    Case("ce-prob-weight", "CrossEntropyLoss", lambda: _logits_probabilities(SCORES), {"weight": W5}),
    Case(
        "ce-prob-weight-smooth", "CrossEntropyLoss", lambda: _logits_probabilities(SCORES),
        {"weight": W5, "label_smoothing": 0.25, "ignore_index": -1},
    ),  # fmt: skip
    Case("ce-prob-spatial", "CrossEntropyLoss", lambda: _logits_probabilities(SPATIAL), {"weight": W5}),
    Case("ce-prob-unbatched", "CrossEntropyLoss", lambda: _logits_probabilities(UNBATCHED), {"label_smoothing": 0.1}),
    # NLLLoss
    Case("nll", "NLLLoss", lambda: _log_probs_indices(SCORES)),
    Case("nll-weight-ignore", "NLLLoss", lambda: _log_probs_indices(SCORES, ignore=-100), {"weight": W5}),
    Case("nll-ignore-0", "NLLLoss", lambda: _log_probs_indices(SCORES, ignore=0), {"ignore_index": 0}),
    Case("nll-spatial", "NLLLoss", lambda: _log_probs_indices(SPATIAL, ignore=-100), {"weight": W5}),
    Case("nll-unbatched", "NLLLoss", lambda: _log_probs_indices(UNBATCHED), {"weight": W5}),
    # regression
    Case("mse", "MSELoss", lambda: _regression(ELEMENTS)),
    Case("l1", "L1Loss", lambda: _regression(ELEMENTS)),
    Case("smooth-l1", "SmoothL1Loss", lambda: _regression(ELEMENTS)),
    Case("smooth-l1-beta", "SmoothL1Loss", lambda: _regression(ELEMENTS), {"beta": 0.4}),
    Case("smooth-l1-beta0", "SmoothL1Loss", lambda: _regression(ELEMENTS), {"beta": 0.0}),
    Case("huber", "HuberLoss", lambda: _regression(ELEMENTS)),
    Case("huber-delta", "HuberLoss", lambda: _regression(ELEMENTS, scale=2.0), {"delta": 0.3}),
    # binary
    Case("bce", "BCELoss", lambda: _probabilities(ELEMENTS)),
    Case("bce-weight", "BCELoss", lambda: _probabilities(ELEMENTS), {"weight": W5}),
    Case("bce-saturated", "BCELoss", lambda: _probabilities(ELEMENTS, saturated=True)),
    Case("bce-logits", "BCEWithLogitsLoss", lambda: _logits_binary(ELEMENTS)),
    Case("bce-logits-weight", "BCEWithLogitsLoss", lambda: _logits_binary(ELEMENTS), {"weight": W5}),
    Case("bce-logits-pos", "BCEWithLogitsLoss", lambda: _logits_binary(ELEMENTS), {"pos_weight": W5 * 3}),
    Case(
        "bce-logits-both", "BCEWithLogitsLoss", lambda: _logits_binary(ELEMENTS),
        {"weight": np.array([[0.5], [1.0], [2.0]], np.float32), "pos_weight": W5 * 2},
    ),  # fmt: skip
]
CASES = [
    Case(f"{case.id}-{reduction}", case.cls, case.make, {**case.kwargs, "reduction": reduction})
    for case in BASE_CASES
    for reduction in REDUCTIONS
]


def _torch_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def _both(case: Case) -> tuple[Any, Any]:
    """Our loss module and torch's, with the same arguments."""
    return getattr(nn, case.cls)(**case.kwargs), getattr(torch.nn, case.cls)(**_torch_kwargs(case.kwargs))


def _cotangent(shape: tuple[int, ...]) -> np.ndarray:
    """A fixed random weighting of the loss's outputs, so every output's gradient counts."""
    return _rng(99).uniform(0.5, 1.5, size=shape).astype(np.float32)


def _torch_value_grad(loss: Any, x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xt = torch.from_numpy(x).requires_grad_(True)
    out = loss(xt, torch.from_numpy(t))
    (out * torch.from_numpy(_cotangent(tuple(out.shape)))).sum().backward()
    return out.detach().numpy(), xt.grad.numpy()


def _value_grad(loss: Any, x: Any, t: Any) -> tuple[jax.Array, jax.Array]:
    """Our loss and its gradient w.r.t. the input (``jax.grad``), weighted as in ``_torch_value_grad``.

    ``forward`` is the pure function of arrays that ``jax.jit``/``jax.grad`` trace.
    """

    def weighted(x: jax.Array) -> tuple[jax.Array, jax.Array]:
        out = loss.forward(x, t)
        return jnp.sum(out * _cotangent(tuple(out.shape))), out

    grad, out = jax.grad(weighted, has_aux=True)(jnp.asarray(x))
    return out, grad


def _ours_value_grad(loss: Any, x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out, grad = _value_grad(loss, x, t)
    return np.asarray(out), np.asarray(grad)


# -- values and gradients -----------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_value_and_gradient_match_torch(case: Case) -> None:
    ours, theirs = _both(case)
    x, t = case.make()
    expected_value, expected_grad = _torch_value_grad(theirs, x, t)
    value, grad = _ours_value_grad(ours, x, t)
    assert value.shape == expected_value.shape
    np.testing.assert_allclose(value, expected_value, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(grad, expected_grad, rtol=RTOL, atol=ATOL)


CALL_CASES = ["ce-weight-ignore", "ce-prob-spatial", "nll", "mse", "l1", "smooth-l1", "huber", "bce", "bce-logits-both"]


@pytest.mark.parametrize("case", [c for c in BASE_CASES if c.id in CALL_CASES], ids=lambda c: c.id)
def test_module_call_on_torch_tensors_matches_torch(case: Case) -> None:
    """The user's path: ``loss(output, target)`` on torch tensors, as an snnTorch script writes it."""
    ours, theirs = _both(case)
    x, t = (torch.from_numpy(a) for a in case.make())
    np.testing.assert_allclose(np.asarray(ours(x, t)), theirs(x, t).numpy(), rtol=RTOL, atol=ATOL)


JIT_CASES = [  # between them: weight, ignore_index, label smoothing, probabilities, spatial dims, pos_weight
    "ce-spatial-smooth-ignore", "ce-prob-weight-smooth", "nll-weight-ignore", "smooth-l1-beta", "bce-saturated",
    "bce-logits-both",
]  # fmt: skip


@pytest.mark.parametrize("case", [c for c in BASE_CASES if c.id in JIT_CASES], ids=lambda c: c.id)
def test_jit_equals_eager(case: Case) -> None:
    """Values and input gradients of ``jax.jit`` equal the eager ones, every reduction in one compiled function."""
    losses = [getattr(nn, case.cls)(**case.kwargs, reduction=reduction) for reduction in REDUCTIONS]
    x, t = case.make()

    eager = [_ours_value_grad(loss, x, t) for loss in losses]
    jitted = jax.jit(lambda x, t: [_value_grad(loss, x, t) for loss in losses])(x, t)
    for (value, grad), (jit_value, jit_grad) in zip(eager, jitted, strict=True):
        np.testing.assert_allclose(np.asarray(jit_value), value, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(np.asarray(jit_grad), grad, rtol=1e-6, atol=1e-7)


def test_bce_target_gradient_matches_torch() -> None:
    x, t = _probabilities(ELEMENTS)
    xt, tt = torch.from_numpy(x), torch.from_numpy(t).requires_grad_(True)
    torch.nn.BCELoss(weight=torch.from_numpy(W5))(xt, tt).backward()
    grad = jax.grad(lambda t: nn.BCELoss(weight=W5).forward(x, t))(jnp.asarray(t))
    np.testing.assert_allclose(np.asarray(grad), tt.grad.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_all_targets_ignored_is_nan_with_zero_gradient(smoothing: float, weighted: bool) -> None:
    """torch's mean over no counted target is NaN, and its gradient 0."""
    x = _rng(3).normal(size=SCORES).astype(np.float32)
    t = np.full(SCORES[0], -100, np.int64)
    kwargs = {"label_smoothing": smoothing, **({"weight": W5} if weighted else {})}
    case = Case("all-ignored", "CrossEntropyLoss", lambda: (x, t), kwargs)
    ours, theirs = _both(case)
    expected_value, expected_grad = _torch_value_grad(theirs, x, t)
    value, grad = _ours_value_grad(ours, x, t)
    assert np.isnan(expected_value) and np.isnan(value)
    np.testing.assert_array_equal(grad, expected_grad)


def test_accepts_torch_tensors_and_binds_weight_under_jit() -> None:
    x, t = _logits_indices(SCORES, ignore=-100)
    loss = nn.CrossEntropyLoss(weight=torch.from_numpy(W5))
    expected = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(W5))(torch.from_numpy(x), torch.from_numpy(t))
    np.testing.assert_allclose(np.asarray(loss(torch.from_numpy(x), torch.from_numpy(t))), expected.item(), rtol=RTOL)

    @jax.jit
    def with_weight(weight: jax.Array, x: jax.Array, t: jax.Array) -> jax.Array:
        with loss.bind({"weight": weight}):
            return loss.forward(x, t)

    doubled = with_weight(jnp.asarray(2 * W5), jnp.asarray(x), jnp.asarray(t))
    np.testing.assert_allclose(np.asarray(doubled), expected.item(), rtol=RTOL)  # the mean normalises weights
    np.testing.assert_array_equal(np.asarray(loss.weight), W5)  # restored after bind


def test_out_of_range_targets_raise_eagerly_and_are_nan_under_jit() -> None:
    x, _ = _logits_indices(SCORES)
    t = np.array([0, 5, 1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: class indices must lie in \[0, 5\) .* got \[5\]"):
        nn.CrossEntropyLoss().forward(x, t)
    with pytest.raises(ValueError, match=r"NLLLoss: class indices .* got \[-1\]"):
        loss_module.nll_loss(x, np.array([-1, 0, 0, 0, 0, 0]))
    assert np.isnan(jax.jit(nn.CrossEntropyLoss().forward)(x, t))
    assert np.isnan(jax.jit(nn.NLLLoss(reduction="none").forward)(x, t)[1])


# -- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES)
def test_bad_reduction_names_the_class(cls: str) -> None:
    with pytest.raises(ValueError, match=rf"{cls}: reduction must be one of 'none', 'mean', 'sum', got 'avg'"):
        getattr(nn, cls)(reduction="avg")


@pytest.mark.parametrize("cls", ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss"])
def test_elementwise_losses_never_broadcast(cls: str) -> None:
    x = np.full(ELEMENTS, 0.5, np.float32)
    with pytest.raises(ValueError, match=rf"{cls}: .*\(2, 3, 5\).*\(2, 3, 1\)"):
        getattr(nn, cls)()(x, x[..., :1])


@pytest.mark.parametrize("cls", ["CrossEntropyLoss", "NLLLoss"])
def test_class_index_target_errors(cls: str) -> None:
    loss = getattr(nn, cls)()
    x = np.zeros(SCORES, np.float32)  # [6, 5]
    with pytest.raises(ValueError, match=rf"{cls}: expected input batch size 6 to match target batch size 7"):
        loss(x, np.zeros(7, np.int64))
    with pytest.raises(ValueError, match=rf"{cls}: class-index targets must be integers, got dtype float32"):
        loss(x, np.zeros(6, np.float32))
    with pytest.raises(ValueError, match=rf"{cls}: expected target of shape \(3, 2\)"):
        loss(np.zeros(SPATIAL, np.float32), np.zeros((3, 5), np.int64))
    with pytest.raises(ValueError, match=rf"{cls}: expected target of shape \(\)"):
        loss(np.zeros(UNBATCHED, np.float32), np.zeros(2, np.int64))
    with pytest.raises(ValueError, match=rf"{cls}: weight must have one entry per class, shape \(5,\), got \(2,\)"):
        getattr(nn, cls)(weight=np.ones(2))(x, np.zeros(6, np.int64))
    with pytest.raises(ValueError, match=rf"{cls}: weight must be a 1-D vector"):
        getattr(nn, cls)(weight=np.ones((5, 1)))


def test_cross_entropy_target_errors() -> None:
    x = np.zeros(SCORES, np.float32)  # [6, 5]
    match = r"CrossEntropyLoss: expected target of shape \(6,\) .* or \(6, 5\) .*\(6, 2\)"
    with pytest.raises(ValueError, match=match):
        nn.CrossEntropyLoss()(x, np.zeros((6, 2), np.float32))
    with pytest.raises(ValueError, match="CrossEntropyLoss: a target of the input's shape .* floating point"):
        nn.CrossEntropyLoss()(x, np.zeros(SCORES, np.int64))
    with pytest.raises(ValueError, match="CrossEntropyLoss: ignore_index=1 applies to class-index targets only"):
        nn.CrossEntropyLoss(ignore_index=1)(x, np.full(SCORES, 1 / 5, np.float32))
    with pytest.raises(ValueError, match="CrossEntropyLoss: label_smoothing must lie in"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="CrossEntropyLoss: expected input of shape"):
        nn.CrossEntropyLoss()(np.float32(1.0), np.int64(0))


def test_option_errors() -> None:
    with pytest.raises(ValueError, match="SmoothL1Loss: beta must be >= 0, got -1.0"):
        nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match="HuberLoss: delta must be > 0, got 0.0"):
        nn.HuberLoss(delta=0.0)
    with pytest.raises(ValueError, match="NLLLoss: ignore_index must be an integer"):
        nn.NLLLoss(ignore_index=1.5)
    x = np.zeros(ELEMENTS, np.float32)
    match = r"BCEWithLogitsLoss: pos_weight of shape \(2,\) does not broadcast .*\(2, 3, 5\)"
    with pytest.raises(ValueError, match=match):
        nn.BCEWithLogitsLoss(pos_weight=np.ones(2))(x, x)
    with pytest.raises(ValueError, match=r"BCELoss: weight of shape \(4, 2, 3, 5\) does not broadcast"):
        nn.BCELoss(weight=np.ones((4, *ELEMENTS)))(x, x)


# -- module protocol ----------------------------------------------------------------------
STATE_CONFIGS = [
    ("CrossEntropyLoss", {}),
    ("CrossEntropyLoss", {"weight": W5}),
    ("NLLLoss", {}),
    ("NLLLoss", {"weight": W5}),
    ("MSELoss", {}),
    ("L1Loss", {}),
    ("SmoothL1Loss", {"beta": 0.5}),
    ("HuberLoss", {"delta": 2.0}),
    ("BCELoss", {}),
    ("BCELoss", {"weight": W5}),
    ("BCEWithLogitsLoss", {}),
    ("BCEWithLogitsLoss", {"weight": W5}),
    ("BCEWithLogitsLoss", {"pos_weight": W5}),
    ("BCEWithLogitsLoss", {"weight": W5, "pos_weight": 2 * W5}),
]


@pytest.mark.parametrize(("cls", "kwargs"), STATE_CONFIGS, ids=lambda v: v if isinstance(v, str) else str(list(v)))
def test_state_dict_matches_torch(cls: str, kwargs: dict[str, Any]) -> None:
    ours = getattr(nn, cls)(**kwargs)
    theirs = getattr(torch.nn, cls)(**_torch_kwargs(kwargs))
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key, value in theirs_state.items():
        np.testing.assert_array_equal(ours_state[key], value.numpy())
    assert list(ours.parameters()) == []
    assert ours.load_state_dict(theirs_state) == ([], [])  # torch's state loads as is


def test_state_dict_of_a_loss_inside_a_network_matches_torch() -> None:
    class Ours(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(np.ones(3, np.float32))
            self.criterion = nn.CrossEntropyLoss(weight=W5)

    class Theirs(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(3))
            self.criterion = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(W5))

    assert list(Ours().state_dict()) == list(Theirs().state_dict()) == ["scale", "criterion.weight"]


@pytest.mark.parametrize("cls", CLASSES)
def test_records_as_node_and_exports(cls: str) -> None:
    assert getattr(nn, cls) is getattr(loss_module, cls)
    assert cls in nn.__all__
    assert getattr(nn, cls).records_as_node is True
    assert repr(getattr(nn, cls)()) == repr(getattr(torch.nn, cls)())
