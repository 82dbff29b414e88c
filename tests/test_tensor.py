"""`Tensor` against torch: its methods and protocols, on concrete and on pending tensors.

Every test runs twice through the ``make`` fixture: once on concrete tensors
(``Tensor(array)``) and once on pending ones (outputs of a recorded identity
``nn.Linear``, so the values are exact), and compares each result with torch's on the
same values: value, shape and dtype. A test records all its operations before it reads
any, so a pending run compiles one program; the cases cover every method and argument
form without cross products, since each new eager operation compiles once and each
operation adds to a program's compile time.

Deliberate differences from torch, asserted rather than skipped:

- integers are int32 (JAX's default without ``jax_enable_x64``): ``.long()``, indices and
  ``torch.int64`` conversions give int32, ``.double()`` gives float32;
- ``jax_array <op> t`` is computed by JAX (it reads ``t.__jax_array__()`` first) and gives a
  ``jax.Array`` with the same values;
- a torch in-place method on a *torch* tensor with a facade operand (``loss_val += t``)
  rebinds the name to a facade tensor and leaves the torch tensor unchanged.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from snnax_torchlike import nn  # its losses register F.cross_entropy, F.mse_loss, ... for facade tensors
from snnax_torchlike.imperative import ReturnTypes, Tensor

torch = pytest.importorskip("torch")
F = torch.nn.functional

# Distinct values (no ties for argmax/argmin), no zeros (divisors), exact in binary.
X = np.array([[0.5, -1.5, 2.0, 3.25], [-2.0, 4.0, 0.25, 1.0], [1.5, 2.5, -3.0, -0.75]], np.float32)
ROW = np.array([2.0, -0.5, 0.25, 3.0], np.float32)  # broadcasts against X's rows
TARGETS = np.array([3, 1, 0])

_IDENTITY: list[nn.Linear] = []


def _identity() -> nn.Linear:
    """A recorded layer that returns its input: ``Linear(1, 1)`` with ``W = 1``, ``b = 0`` (one for every shape)."""
    if not _IDENTITY:
        layer = nn.Linear(1, 1)
        layer.weight.data = jnp.ones((1, 1))
        layer.bias.data = jnp.zeros(1)
        _IDENTITY.append(layer)
    return _IDENTITY[0]


def is_pending(tensor: Tensor) -> bool:
    return tensor._value is None


def pending(values: np.ndarray) -> Tensor:
    """A pending tensor with these values and dtype (int64 becoming int32)."""
    values = np.asarray(values)
    tensor = _identity()(values.astype(np.float32).reshape(-1, 1)).reshape(values.shape)
    if values.dtype != np.float32:
        tensor = tensor.type(values.dtype)
    assert is_pending(tensor)
    return tensor


@pytest.fixture(params=["concrete", "pending"])
def make(request):
    """``make(values)``: a tensor of these values, concrete or pending."""
    if request.param == "concrete":
        return lambda values: Tensor(np.asarray(values))
    return pending


def ref(values=X):
    """torch's tensor of ``values`` (float32 for Python floats)."""
    values = np.array(values)
    return torch.from_numpy(values.astype(np.float32) if values.dtype == np.float64 else values)


def _expected_dtype(dtype: np.dtype) -> np.dtype:
    """Our dtype for torch's: int64 is int32 and float64 is float32 under JAX's default."""
    return {np.dtype(np.int64): np.dtype(np.int32), np.dtype(np.float64): np.dtype(np.float32)}.get(dtype, dtype)


def check(ours, expected) -> None:
    """``ours`` is a `Tensor` with ``expected``'s values, shape and (JAX-default) dtype."""
    assert isinstance(ours, Tensor), type(ours)
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    expected = np.asarray(expected)
    got = ours.numpy()
    assert got.shape == expected.shape
    assert got.dtype == _expected_dtype(expected.dtype), (got.dtype, expected.dtype)
    if np.issubdtype(expected.dtype, np.inexact):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, expected)


def check_all(pairs) -> None:
    """``check`` on each ``(ours, expected)``, naming the failing case."""
    for i, (ours, expected) in enumerate(pairs):
        try:
            check(ours, expected)
        except AssertionError as error:
            raise AssertionError(f"case {i}: {error}") from None


# -- reductions ---------------------------------------------------------------------------------


def test_reductions(make):
    t, r = make(X), ref()
    b, rb = t > 0, r > 0
    inf = float("inf")
    cases = [
        ("sum", (), {}),
        ("sum", (1,), {}),
        ("sum", (), {"dim": -1, "keepdim": True}),
        ("mean", (), {}),
        ("mean", (), {"dim": (0, -1), "keepdim": True}),
        ("prod", (-1,), {"keepdim": True}),
        ("std", (1,), {}),
        ("std", (), {"dim": (0, 1), "keepdim": True}),
        ("std", (0,), {"unbiased": False}),
        ("var", (), {}),
        ("var", ((0, 1),), {"correction": 0}),
        ("norm", (), {}),
        ("norm", (1,), {"dim": (0, -1), "keepdim": True}),
        ("norm", (inf,), {"dim": 0}),
        ("norm", ("nuc",), {}),
        ("amax", ((0, 1),), {}),
        ("amin", (-1,), {"keepdim": True}),
        ("max", (), {}),
        ("min", (), {}),
        ("argmax", (), {}),
        ("argmin", (), {"dim": -2, "keepdim": True}),
        ("argmax", (), {"keepdim": True}),
        ("sum", (), {"dtype": torch.int32}),
    ]
    pairs = [(getattr(t, name)(*args, **kwargs), getattr(r, name)(*args, **kwargs)) for name, args, kwargs in cases]
    pairs += [
        (b.any(), rb.any()),
        (b.any(-1), rb.any(-1)),
        (b.all(dim=(0, 1), keepdim=True), rb.all(dim=(0, 1), keepdim=True)),
    ]
    check_all(pairs)


def test_max_min_with_dim_give_values_and_indices(make):
    t, r = make(X), ref()
    results = [(t.max(1), r.max(1)), (t.max(-1, keepdim=True), r.max(-1, keepdim=True)), (t.min(dim=0), r.min(dim=0))]
    _, idx = t.max(1)
    pairs = []
    for ours, theirs in results:
        assert isinstance(ours, ReturnTypes)
        values, indices = ours
        pairs += [(values, theirs.values), (indices, theirs.indices), (ours.values, theirs[0]), (ours[1], theirs[1])]
    pairs.append((idx, r.max(1)[1]))
    # Elementwise with a tensor argument.
    other = X[::-1].copy()
    pairs += [
        (t.max(make(other)), r.max(ref(other))),
        (t.min(ref(other)), r.min(ref(other))),
        (t.maximum(other), torch.maximum(r, ref(other))),
        (t.minimum(ref(other)), torch.minimum(r, ref(other))),
    ]
    check_all(pairs)
    assert idx.dtype == jnp.int32  # torch's indices are int64


# -- metadata and values out ---------------------------------------------------------------------------


def test_metadata(make):
    t, r = make(X), ref()
    assert t.size() == tuple(r.size()) == (3, 4) and isinstance(t.size(), tuple)
    assert t.size(1) == r.size(1) and t.size(-1) == r.size(-1) and t.size(0) == 3
    assert t.shape == tuple(r.shape)
    assert t.dim() == r.dim() == t.ndim == t.ndimension() == 2
    assert t.numel() == r.numel() == t.nelement() == 12
    assert len(t) == len(r) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(row, Tensor) for row in rows)
    scalar = t.sum()
    assert scalar.shape == () and scalar.dim() == 0 and scalar.numel() == 1
    with pytest.raises(TypeError):
        len(scalar)
    check_all(list(zip(rows, r)))
    assert t.is_cuda is False and t.device is not None


def test_values_out(make):
    t, r = make(X), ref()
    # Every value is recorded before the first read (a pending run computes them in one program).
    element, first, four, total = t[1, 2], t[0, 0], t[1, 1], t.sum()
    seven, two = make(np.array([7])), make(np.array(2))
    positive, negative, mask = first > 0, t[0, 1] > 0, t > 0
    whole = t.numpy()
    assert isinstance(whole, np.ndarray)
    np.testing.assert_array_equal(whole, r.numpy())
    np.testing.assert_array_equal(t.numpy(force=True), r.numpy(force=True))
    assert element.item() == r[1, 2].item() == 0.25 and isinstance(element.item(), float)
    assert total.item() == pytest.approx(r.sum().item())
    assert seven.item() == 7 and isinstance(seven.item(), int)
    with pytest.raises(ValueError):
        t.item()
    assert t.tolist() == r.tolist()
    assert total.tolist() == pytest.approx(r.sum().tolist())
    assert float(first) == 0.5 and int(four) == 4 and float(total) == pytest.approx(float(r.sum()))
    assert bool(positive) is True and bool(negative) is False
    with pytest.raises(RuntimeError):
        bool(mask)
    assert [10, 11, 12][two] == 12  # __index__
    assert (4.0 in t) is (4.0 in r) is True and (5.0 in t) is (5.0 in r) is False
    copy = np.array(t)  # numpy's copy=True: a writable copy, as for any array-like
    copy[0, 0] = 100.0
    assert copy.flags.writeable and whole[0, 0] == 0.5 and t.numpy()[0, 0] == 0.5


def test_detach_copy_device_and_dtype(make):
    t, r = make(X), ref()
    i, ri = make(np.array([[3, -1], [0, 2]])), torch.tensor([[3, -1], [0, 2]])
    pairs = [
        (t.detach(), r.detach()),
        (t.cpu(), r.cpu()),
        (t.to("cpu"), r.to("cpu")),
        (t.to(torch.device("cpu")), r.to(torch.device("cpu"))),
        (t.to(torch.float32), r.to(torch.float32)),
        (t.to("cpu", torch.int64), r.to("cpu", torch.int64)),
        (t.to(dtype=torch.bool), r.to(dtype=torch.bool)),
        (t.to(ri), r.to(ri)),
        (t.to(i), r.to(ri)),
        (t.data, r.data),
        (t.clone(), r.clone()),
        (t.contiguous(), r.contiguous()),
        (i.float(), ri.float()),
        (t.long(), r.long()),
        (t.int(), r.int()),
        (t.bool(), r.bool()),
        (t.type(torch.int32), r.type(torch.int32)),
        (t.double(), r.double()),
    ]
    check_all(pairs)
    # The documented difference: torch's long is int64, JAX's default integers are int32.
    assert t.long().dtype == jnp.int32 and r.long().dtype == torch.int64
    assert t.to(torch.int64).dtype == jnp.int32 and t.double().dtype == jnp.float32
    assert t.to("cpu") is t and t.cpu() is t and t.float() is t and t.contiguous() is t
    assert t.detach().requires_grad is False


# -- shapes -------------------------------------------------------------------------------------------


def test_shape_methods(make):
    t, r = make(X), ref()
    x3 = X.reshape(2, 3, 2)
    t3, r3 = make(x3), ref(x3)
    s, rs = make(X.reshape(1, 3, 1, 4)), ref(X.reshape(1, 3, 1, 4))
    c, rc = make(X[:, :1]), ref(X[:, :1])
    pairs = [
        (t.view(2, -1), r.view(2, -1)),
        (t.view((4, 3)), r.view((4, 3))),
        (t.reshape(-1, 2), r.reshape(-1, 2)),
        (t.reshape([2, 6]), r.reshape([2, 6])),
        (t.view_as(t3), r.view_as(r3)),
        (t.flatten(), r.flatten()),
        (t3.flatten(1), r3.flatten(1)),
        (t3.flatten(0, 1), r3.flatten(0, 1)),
        (t.permute(1, 0), r.permute(1, 0)),
        (t3.permute((2, 0, 1)), r3.permute((2, 0, 1))),
        (t.transpose(0, 1), r.transpose(0, 1)),
        (t3.transpose(-1, 0), r3.transpose(-1, 0)),
        (t.t(), r.t()),
        (t.T, r.T),
        (t.unsqueeze(0), r.unsqueeze(0)),
        (t.unsqueeze(-1), r.unsqueeze(-1)),
        (s.squeeze(), rs.squeeze()),
        (s.squeeze(0), rs.squeeze(0)),
        (s.squeeze(1), rs.squeeze(1)),
        (s.squeeze(-2), rs.squeeze(-2)),
        (t.repeat(2, 1, 3), r.repeat(2, 1, 3)),
        (t.expand(2, 3, 4), r.expand(2, 3, 4)),
        (c.expand(-1, 4), rc.expand(-1, 4)),
        (t.select(1, 2), r.select(1, 2)),
        (t3.select(-1, 0), r3.select(-1, 0)),
    ]
    for ours, theirs in (
        (t.chunk(2, dim=1), r.chunk(2, dim=1)),
        (t.split(3, dim=-1), r.split(3, dim=-1)),
        (t.split([1, 3], dim=1), r.split([1, 3], dim=1)),
        (t.unbind(), r.unbind()),
        (t.unbind(-1), r.unbind(-1)),
    ):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        pairs += list(zip(ours, theirs))
    check_all(pairs)
    assert t.t().t().shape == t.shape and t[0].t().shape == (4,)


# -- indexing -----------------------------------------------------------------------------------------


def test_getitem(make):
    t, r = make(X), ref()
    mask = X > 0
    cases = [
        1,
        -1,
        (1, 2),
        (slice(None, None, 2), slice(1, None, 2)),
        (None, Ellipsis, None),
        (Ellipsis, 1),
        [0, 2],
        ([0, 2], [1, -1]),
        [True, False, True],
    ]
    pairs = [(t[index], r[index]) for index in cases]
    pairs += [
        (t[np.array([2, 0])], r[np.array([2, 0])]),
        (t[:, torch.tensor([1, 2])], r[:, torch.tensor([1, 2])]),
        (t[make(np.array([2, 0]))], r[torch.tensor([2, 0])]),
        (t[jnp.array([1, -1])], r[torch.tensor([1, -1])]),
        (t[mask], r[torch.from_numpy(mask)]),
        (t[torch.from_numpy(mask[:, 0])], r[torch.from_numpy(mask[:, 0])]),
        (t[t > 0], r[r > 0]),
    ]
    check_all(pairs)


def test_setitem(make):
    r = ref()
    cases = [
        (-1, 5.0),
        ((Ellipsis, 1), ref([6.0, 7.0, 8.0])),
        (slice(0, 2), ROW),
        (([0, 2], [1, 3]), ref([10.0, 20.0])),
        (X > 0, torch.tensor(3.0)),
        ([True, False, True], 2.0),
    ]
    pairs = []
    for index, value in cases:
        t, expected = make(X), r.clone()
        t[index] = value
        expected[index] = torch.from_numpy(value) if isinstance(value, np.ndarray) else value
        pairs.append((t, expected))
    t, expected = make(X), r.clone()
    t[t < 0] = 0  # the mask is a facade tensor
    t[1] = make(X[2])  # so is the value
    t[:, 0] = t[:, 1] * 2
    expected[expected < 0] = 0
    expected[1] = r[2]
    expected[:, 0] = expected[:, 1] * 2
    pairs.append((t, expected))
    check_all(pairs)


# -- arithmetic and comparisons --------------------------------------------------------------------------

_BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "//": lambda a, b: a // b,
    "%": lambda a, b: a % b,
    "**": lambda a, b: a**b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


# ``x <op> t`` with other kinds of ``x`` as well, for some operators.
_MORE_REFLECTED = {
    "-": ("float",), "/": ("jax",), "//": ("int",), "**": ("float", "int"), "<": ("facade",), ">=": ("jax",),
}  # fmt: skip


def _operands(make, row: np.ndarray) -> dict[str, tuple]:
    """``kind: (our operand, torch's)`` for every kind of operand."""
    return {
        "float": (2.5, 2.5),
        "torch": (ref(row), ref(row)),
        "numpy": (row, ref(row)),
        "int": (2, 2),
        "jax": (jnp.asarray(row), ref(row)),
        "facade": (make(row), ref(row)),
    }


def test_arithmetic_and_comparisons_in_both_orders(make):
    """Each operator in both orders with Python numbers, numpy, JAX, torch and facade operands.

    ``t <op> x`` takes one code path whatever the operator, so it rotates through the
    operand kinds; ``x <op> t`` reaches the tensor differently for each kind of ``x``
    (numpy's deferral to the reflected method, torch's ``__torch_function__``, Python's
    reflected method, JAX's own operator), so every operator meets numpy (which reaches
    each reflected method) and torch there, and the other kinds meet a few.
    """
    t, r = make(np.abs(X)), ref(np.abs(X))  # positive bases keep ** real
    kinds = list(_operands(make, ROW))
    operands, positive = _operands(make, ROW), _operands(make, np.abs(ROW))
    pairs = []
    for i, (symbol, fn) in enumerate(_BINARY.items()):
        chosen = operands if symbol != "**" else positive
        other, theirs = chosen[kinds[i % len(kinds)]]
        pairs.append((fn(t, other), fn(r, theirs)))
        for kind in ("numpy", "torch", *_MORE_REFLECTED.get(symbol, ())):
            other, theirs = chosen[kind]
            result = fn(other, t)
            if kind == "jax":
                # JAX reads t.__jax_array__() first: a jax.Array with the same values (documented).
                assert isinstance(result, jax.Array), (symbol, type(result))
                result = Tensor(result)
            pairs.append((result, fn(theirs, r)))
    check_all(pairs)


def test_matmul_and_logical_operators_in_both_orders(make):
    t, r = make(X), ref()
    right = np.arange(8, dtype=np.float32).reshape(4, 2) / 4
    left = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    b, rb = t > 0, r > 0
    other = np.array([True, False, True, False])
    ro = torch.from_numpy(other)
    pairs = [
        (t @ right, r @ ref(right)),
        (t @ ref(right), r @ ref(right)),
        (t @ make(right), r @ ref(right)),
        (left @ t, ref(left) @ r),
        (ref(left) @ t, ref(left) @ r),
        (t.matmul(ROW), r.matmul(ref(ROW))),
        (t.mm(ref(right)), r.mm(ref(right))),
        (b & other, rb & ro),
        (other & b, ro & rb),
        (b | ro, rb | ro),
        (ro | b, ro | rb),
        (b ^ make(other), rb ^ ro),
        (ro ^ b, ro ^ rb),
        (b.logical_and(make(other)), rb.logical_and(ro)),
        (b.logical_or(ro), rb.logical_or(ro)),
        (b.logical_not(), rb.logical_not()),
    ]
    reflected = jnp.asarray(left) @ t
    assert isinstance(reflected, jax.Array)  # JAX on the left: a jax.Array (documented)
    pairs.append((Tensor(reflected), ref(left) @ r))
    check_all(pairs)


def test_comparisons_are_elementwise_never_python_bools(make):
    t, r = make(X), ref()
    results = [t == r, r == t, r != t, X == t, 0.5 == t, t == t, t < r[0]]
    for result in results:
        assert isinstance(result, Tensor) and result.shape == (3, 4) and result.dtype == jnp.bool_
    expected = [r == r, r == r, r != r, r == r, r == 0.5, r == r, r < r[0]]
    check_all(zip(results, expected))


def test_unary_and_named_methods(make):
    t, r = make(X), ref()
    other = np.abs(ROW)
    pairs = [
        (-t, -r),
        (+t, +r),
        (abs(t), abs(r)),
        (~(t > 0), ~(r > 0)),
        (t.add(ref(other), alpha=2), r.add(ref(other), alpha=2)),
        (t.sub(other, alpha=0.5), r.sub(ref(other), alpha=0.5)),
        (t.div(ref(other)), r.div(ref(other))),
        (t.floor_divide(-1.5), r.floor_divide(-1.5)),
        (t.remainder(1.5), r.remainder(1.5)),
        (t.exp(), r.exp()),
        (t.abs().log(), r.abs().log()),
        (t.sigmoid(), r.sigmoid()),
        (t.relu(), r.relu()),
        (t.clamp(-1, 1), r.clamp(-1, 1)),
        (t.clamp(min=0), r.clamp(min=0)),
        (t.clamp(max=0.5), r.clamp(max=0.5)),
        (t.clip(ref(-other), 1.0), r.clip(ref(-other), torch.tensor(1.0))),
        (t.softmax(1), r.softmax(1)),
        (t.log_softmax(-1), r.log_softmax(-1)),
        (t.masked_fill(ref(X > 0), 0.0), r.masked_fill(ref(X > 0), 0.0)),
        (t.where(ref(X > 0), 9.0), r.where(ref(X > 0), 9.0)),
        (t.cumsum(1), r.cumsum(1)),
        (t.sort(1, descending=True).indices, r.sort(1, descending=True).indices),
        (t.topk(2, dim=0, largest=False).indices, r.topk(2, dim=0, largest=False).indices),
    ]
    check_all(pairs)
    with pytest.raises(ValueError):
        t.clamp()
    assert t.equal(ref(X)) is True and t.equal(X + 1) is False


def test_torch_tensor_inplace_with_facade_operand_rebinds(make):
    t, r = make(X), ref()
    loss_val = torch.zeros(1)
    original = loss_val
    loss_val += t.sum()
    assert isinstance(loss_val, Tensor)
    first = loss_val
    check(first, torch.zeros(1) + r.sum())
    loss_val += t.mean()  # now our tensor's own +=, in place as in torch
    assert loss_val is first
    check(loss_val, torch.zeros(1) + r.sum() + r.mean())
    assert original.item() == 0.0  # the torch tensor itself is unchanged (documented)


def test_snntorch_accuracy_line(make):
    t, r = make(X), ref()
    targets = torch.from_numpy(TARGETS)
    _, idx = t.max(1)
    _, ridx = r.max(1)
    assert isinstance(targets == idx, Tensor)
    ours = np.mean((targets == idx).detach().cpu().numpy())
    theirs = np.mean((targets == ridx).detach().cpu().numpy())
    assert ours == theirs == pytest.approx(2 / 3)
    assert np.mean((idx == targets).numpy()) == theirs


# -- torch functions (__torch_function__) ------------------------------------------------------------------


def test_torch_functions_on_facade_tensors(make):
    t, r = make(X), ref()
    targets = torch.from_numpy(TARGETS)
    half = ref(X / 2)
    pairs = [
        (torch.stack([r, t], dim=1), torch.stack([r, r], dim=1)),
        (torch.cat([t, r]), torch.cat([r, r])),
        (torch.cat((t, make(X / 2)), dim=-1), torch.cat((r, half), dim=-1)),
        (torch.sum(t, dim=0), torch.sum(r, dim=0)),
        (torch.mean(t, (0, 1), keepdim=True), torch.mean(r, (0, 1), keepdim=True)),
        (torch.max(t, 1).values, torch.max(r, 1).values),
        (torch.max(t, 1)[1], torch.max(r, 1)[1]),
        (torch.max(t, half), torch.max(r, half)),
        (torch.argmax(t, 1), torch.argmax(r, 1)),
        (torch.amax(t), torch.amax(r)),
        (torch.norm(t), torch.norm(r)),
        (torch.eq(r, t), torch.eq(r, r)),
        (torch.zeros_like(t), torch.zeros_like(r)),
        (torch.ones_like(t), torch.ones_like(r)),
        (torch.zeros_like(t, dtype=torch.int64), torch.zeros_like(r, dtype=torch.int64)),
        (torch.where(t > 0, t, 0.0), torch.where(r > 0, r, 0.0)),
        (torch.where(r > 0, t, half), torch.where(r > 0, r, half)),
        (torch.add(t, 1, alpha=2), torch.add(r, 1, alpha=2)),
        (torch.remainder(half, t), torch.remainder(half, r)),
        (torch.unsqueeze(t, 0), torch.unsqueeze(r, 0)),
        (F.relu(t), F.relu(r)),
        (F.softmax(t, dim=1), F.softmax(r, dim=1)),
        (F.log_softmax(t, -1), F.log_softmax(r, -1)),
        (F.cross_entropy(t, targets), F.cross_entropy(r, targets)),
        (F.cross_entropy(t, targets, reduction="sum"), F.cross_entropy(r, targets, reduction="sum")),
        (F.mse_loss(t, half), F.mse_loss(r, half)),
    ]
    relu_in_place = make(X)
    assert F.relu(relu_in_place, inplace=True) is relu_in_place
    pairs.append((relu_in_place, F.relu(r)))
    check_all(pairs)


def test_unsupported_torch_functions_raise_naming_them(make):
    t = make(X)
    with pytest.raises(TypeError, match="fft"):
        torch.fft.fft(t)
    with pytest.raises(TypeError, match="conv1d"):
        F.conv1d(t.unsqueeze(0), t.unsqueeze(0))
    with pytest.raises(TypeError, match="out="):
        torch.add(t, 1, out=torch.zeros(3, 4))


# -- in place ---------------------------------------------------------------------------------------------


def test_inplace_methods_change_the_object(make):
    r = ref()
    cases = [
        ("add_", (1.5,), {}),
        ("add_", (ref(ROW),), {"alpha": 2}),
        ("sub_", (ref(ROW),), {}),
        ("mul_", (-2,), {}),
        ("div_", (4,), {}),
        ("zero_", (), {}),
        ("fill_", (3.5,), {}),
        ("clamp_", (-1, 1), {}),
        ("clamp_", (), {"min": 0}),
        ("neg_", (), {}),
        ("masked_fill_", (ref(X > 0), -9.0), {}),
        ("unsqueeze_", (0,), {}),
        ("copy_", (ref(X * 3),), {}),
    ]
    pairs = []
    for name, args, kwargs in cases:
        t = make(X)
        alias = t
        assert getattr(t, name)(*args, **kwargs) is t
        expected = r.clone()
        getattr(expected, name)(*args, **kwargs)
        pairs.append((alias, expected))
    t = make(X)
    alias = t
    t += 1
    t *= make(ROW)
    t -= ref(ROW)
    t /= 2
    assert t is alias  # in place, as in torch
    pairs.append((alias, ((r + 1) * ref(ROW) - ref(ROW)) / 2))
    check_all(pairs)


def test_detach_in_place(make):
    t = make(X)
    alias = t
    assert t.detach_() is alias and t.requires_grad is False and t.grad_fn is None
    y = _identity()(X.reshape(12, 1))  # depends on a trained parameter
    assert y.requires_grad and y.grad_fn is not None
    assert y.detach_() is y and not y.requires_grad
    check_all([(t, ref()), (y, ref(X.reshape(12, 1)))])


# -- JAX interop ------------------------------------------------------------------------------------------


def test_jax_interop(make):
    t, r = make(X), ref()
    tree = {"a": t, "b": [make(ROW)]}
    assert isinstance(jnp.sum(t), jax.Array)
    np.testing.assert_allclose(jnp.sum(t), r.sum().item(), rtol=1e-6)
    np.testing.assert_array_equal(jnp.asarray(t), X)
    np.testing.assert_array_equal(np.asarray(t), X)
    np.testing.assert_array_equal(np.asarray(t, dtype=np.float64), X.astype(np.float64))

    leaves, treedef = jax.tree_util.tree_flatten(t)
    assert len(leaves) == 1 and isinstance(leaves[0], jax.Array)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    doubled = jax.tree_util.tree_map(lambda x: x * 2, tree)
    assert len(jax.tree_util.tree_leaves(tree)) == 2
    # Inside JAX's transformations the tensor's methods work on tracers; what a transformed
    # function returns is JAX's (arrays, or a Tensor where the output mirrors a Tensor input).
    transformed = [
        (jax.jit(lambda a: a * 2 + 1)(t), r * 2 + 1),
        (jax.jit(lambda a: a.sum(1))(t), r.sum(1)),
        (jax.grad(lambda a: jnp.sum(a * a))(t), 2 * r),
        (jax.vmap(lambda row: row.sum())(t), r.sum(1)),
    ]
    assert isinstance(transformed[2][0], Tensor)  # the gradient has the argument's structure
    results = [(ours if isinstance(ours, Tensor) else Tensor(ours), theirs) for ours, theirs in transformed]
    results += [(rebuilt, r), (doubled["a"], 2 * r), (doubled["b"][0], 2 * ref(ROW))]
    check_all(results)


# -- formatting --------------------------------------------------------------------------------------------


def test_formatting(make, capsys):
    t, r = make(X), ref()
    total, first, four, ints, mask = t.sum(), t[0, 0], t[1, 1].int(), make(np.array([1, 2])), t > 0
    assert f"{first.item():.2f}" == f"{r[0, 0].item():.2f}" == "0.50"
    assert f"{total:.3f}" == f"{r.sum():.3f}" and f"{total:8.4f}" == f"{r.sum():8.4f}"
    assert f"{four:d}" == f"{r[1, 1].int():d}" == "4"
    text = repr(t)
    assert text.startswith("tensor([[") and "3.25" in text and "-0.75" in text
    assert str(t) == f"{t}" == text
    assert repr(ints).startswith("tensor([1, 2]") and "dtype=bool" in repr(mask)
    print(total)
    printed = capsys.readouterr().out
    assert printed.startswith("tensor(7.75")


# -- gradients (smoke) -------------------------------------------------------------------------------------


def test_backward_smoke():
    lin = nn.Linear(4, 3)
    theirs = torch.nn.Linear(4, 3)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(np.array(lin.weight.data)))
        theirs.bias.copy_(torch.from_numpy(np.array(lin.bias.data)))
    lin(X).sum().backward()
    theirs(ref()).sum().backward()
    np.testing.assert_allclose(np.asarray(lin.weight.grad), theirs.weight.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(lin.weight.grad), np.broadcast_to(X.sum(0), (3, 4)), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(lin.bias.grad), theirs.bias.grad.numpy(), rtol=1e-6)


def test_jax_style_attributes_keep_working():
    """Code written for JAX arrays (``x.size`` as a number, ``x.max(axis=0)``, ``astype``) runs on tensors too."""
    t = Tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    assert t.size == 6 and t.size * 2 == 12 and t.size() == (2, 3) and t.size(1) == 3
    np.testing.assert_array_equal(np.asarray(t.max(axis=0)), [3.0, 4.0, 5.0])
    values, indices = t.max(0)  # torch's form still gives values and indices
    np.testing.assert_array_equal(np.asarray(indices), [1, 1, 1])
    assert t.astype(np.int32).dtype == np.int32
    np.testing.assert_array_equal(np.asarray(t.at[0, 0].set(9.0))[0, 0], 9.0)


def test_torch_inputs_and_loaded_weights_never_alias_torch_memory():
    """An in-place torch update after the hand-over (an optimizer step, a reused loader buffer) leaves ours."""
    source = torch.ones(4)
    tensor = Tensor(source)
    linear, torch_linear = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    linear.load_state_dict(torch_linear.state_dict())
    expected = torch_linear.weight.detach().numpy().copy()
    with torch.no_grad():
        source.add_(1.0)
        torch_linear.weight.add_(5.0)
    np.testing.assert_array_equal(np.asarray(tensor), np.ones(4, np.float32))
    np.testing.assert_array_equal(np.asarray(linear.weight.data), expected)
