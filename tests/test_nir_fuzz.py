"""Malformed and hostile NIR files: loading succeeds or raises the library's error, never anything else."""

import os

import h5py
import nir
import numpy as np
import pytest
from snnax_torchlike.interop import NIRImportError

from snnax_torchlike import interop


def _valid_file(path):
    rng = np.random.default_rng(0)
    graph = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([4])}),
            "affine": nir.Affine(weight=rng.normal(size=(6, 4)).astype(np.float32), bias=np.zeros(6, np.float32)),
            "lif": nir.CubaLIF(
                tau_syn=np.full(6, 5e-3), tau_mem=np.full(6, 1e-2), r=np.ones(6), v_leak=np.zeros(6),
                v_threshold=np.ones(6), v_reset=np.zeros(6), w_in=np.ones(6),
            ),
            "rec": nir.Linear(weight=rng.normal(size=(6, 6)).astype(np.float32)),
            "li": nir.LI(tau=np.full(6, 1e-2), r=np.ones(6), v_leak=np.zeros(6)),
            "output": nir.Output(output_type={"output": np.array([6])}),
        },
        edges=[("input", "affine"), ("affine", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "li"), ("li", "output")],
    )  # fmt: skip
    nir.write(path, graph)
    return path


def _datasets(handle):
    found = []
    handle.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None)
    return sorted(found)


def _mutate(path, rng, *, last):
    """One random structural corruption of the file at ``path``, or (``last`` only) a byte-level one."""
    kind = rng.integers(0, 6 if last else 5)
    if kind == 5:  # raw bytes: flip a few, or truncate
        data = bytearray(open(path, "rb").read())
        if rng.random() < 0.5:
            for i in rng.integers(0, len(data), size=8):
                data[i] ^= int(rng.integers(1, 256))
        else:
            data = data[: int(rng.integers(0, len(data)))]
        open(path, "wb").write(bytes(data))
        return f"bytes kind {kind}"
    with h5py.File(path, "r+") as handle:
        names = _datasets(handle)
        name = names[int(rng.integers(0, len(names)))]
        data = handle[name][()]
        del handle[name]
        if kind == 0:
            return f"deleted {name}"
        if kind == 1:  # wrong shape
            handle[name] = rng.normal(size=tuple(int(d) for d in rng.integers(0, 5, size=int(rng.integers(0, 4)))))
        elif kind == 2:  # wrong type: a string where a number was, or the reverse
            handle[name] = b"garbage" if not isinstance(data, bytes) else np.arange(3.0)
        elif kind == 3:  # NaN / Inf / negative values
            handle[name] = np.full(np.shape(data) or (), rng.choice([np.nan, np.inf, -1.0, 0.0]))
        else:  # a different node type name
            handle[name] = (
                rng.choice([b"LIF", b"Conv2d", b"NIRGraph", b"Unknown", b"Delay"]) if name.endswith("type") else data
            )
        return f"kind {kind} on {name}"


def test_the_unmutated_file_imports(tmp_path):
    net = interop.from_nir(_valid_file(tmp_path / "g.nir"), convention="norse")
    assert "lif" in dict(net.named_children())


@pytest.mark.parametrize("seed", range(40))
def test_mutated_files_import_or_raise_the_library_error(tmp_path, seed):
    rng = np.random.default_rng(seed)
    path = _valid_file(tmp_path / "g.nir")
    count = int(rng.integers(1, 4))
    what = [_mutate(path, rng, last=i == count - 1) for i in range(count)]
    try:
        net = interop.from_nir(path, convention="norse")
    except NIRImportError as error:
        assert str(error).startswith("from_nir"), (what, error)
        return
    # Whatever imported must run.
    net(np.zeros((3, 2, 4), np.float32))


def test_a_missing_file_and_a_foreign_file_raise_the_library_error(tmp_path):
    with pytest.raises(NIRImportError, match="cannot import"):
        interop.from_nir(tmp_path / "absent.nir", convention="norse")
    (tmp_path / "foreign.nir").write_bytes(os.urandom(500))
    with pytest.raises(NIRImportError, match="cannot import"):
        interop.from_nir(tmp_path / "foreign.nir", convention="norse")
