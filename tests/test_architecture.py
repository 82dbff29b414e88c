"""The package's layers depend one way, and no layer reaches into another's private modules.

Every import is read from the source (``ast``), including imports inside
functions, which Python resolves late and which therefore hide cycles from a
plain ``import``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lower layers never import higher ones. Units in one layer may import each other
# only in the order given by ``_WITHIN``.
_LAYERS: dict[str, int] = {
    "snn": 0,  # the functional core
    "random": 1, "imperative": 1,  # arrays, tensors and PRNG keys
    "nn": 2, "surrogate": 2, "spikegen": 2, "functional": 2, "optim": 2, "plot": 2, "utils": 2,
    "_closures": 2, "compile": 2,  # the facade
    "train": 3,
    "interop": 4, "snntorch": 5,
    "snnax_torchlike": 6,  # the package's __init__ re-exports all of them
}
_WITHIN: dict[str, tuple[str, ...]] = {
    "nn": (),
    "surrogate": (),
    "_closures": ("nn",),
    "optim": ("nn", "_closures"),
    "compile": ("nn", "_closures"),
    "spikegen": ("nn",),
    "functional": ("nn",),
    "plot": ("nn",),
    "utils": ("nn",),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every ``(imported module or name, line)`` of the project's own packages in `path`."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
    return [(name, line) for name, line in found if name.split(".")[0] in ("snnax_torchlike", "interop")]


def _unit(dotted: str) -> str:
    parts = dotted.split(".")
    if parts[0] == "interop":
        return "interop"
    return parts[1] if len(parts) > 1 and parts[1] in _LAYERS else "snnax_torchlike"


def _sources() -> list[Path]:
    return sorted([*(ROOT / "snnax_torchlike").rglob("*.py"), *(ROOT / "interop").rglob("*.py")])


def _is_private(dotted: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def test_layers_depend_one_way():
    wrong = []
    for path in _sources():
        source = _unit(_module_name(path))
        for target, line in _imports(path):
            destination = _unit(target)
            if destination == source:
                continue
            lower = _LAYERS[destination] < _LAYERS[source]
            same_layer_in_order = _LAYERS[destination] == _LAYERS[source] and destination in _WITHIN.get(source, ())
            if not (lower or same_layer_in_order):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {source} imports {target}")
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_private_import_across_layers():
    wrong = []
    for path in _sources():
        source = _unit(_module_name(path))
        for target, line in _imports(path):
            destination = _unit(target)
            if _LAYERS[destination] != _LAYERS[source] and _is_private(target.split(".", 1)[1]):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {source} imports the private {target}")
    assert not wrong, "private names imported from another layer:\n" + "\n".join(wrong)
