"""The API reference shows every public method, and shows it as Markdown.

mkdocstrings (griffe, with ``filters: ["!^_"]`` and no ``show_if_no_docstring``) hides
members without a docstring, so a method a user calls but whose docstring is missing
is absent from the reference. These checks read the sources statically, as the
reference does, for the classes the pages of ``docs/api`` render: the names of each
``::: module`` directive (its ``members:`` list, else its ``__all__``) and each
``::: Class`` directive. They need griffe (the ``docs`` extra); nothing is built.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

griffe = pytest.importorskip("griffe")

ROOT = Path(__file__).resolve().parents[1]
API_PAGES = sorted((ROOT / "docs" / "api").glob("*.md"))
PACKAGES = ("snnax_torchlike", "interop")  # interop/ is installed as snnax_torchlike.interop, documented as `interop`

# Public members without a docstring that may stay so, each with the reason. Keep it tiny.
ALLOWED_UNDOCUMENTED: dict[str, str] = {}


@pytest.fixture(scope="module")
def packages() -> dict[str, object]:
    return {name: griffe.load(name, search_paths=[str(ROOT)]) for name in PACKAGES}


def _resolve(packages: dict, path: str):
    package, _, rest = path.partition(".")
    obj = packages[package]
    return obj[rest] if rest else obj


def _directives() -> list[tuple[str, object]]:
    """``(target, members)`` of each ``::: target`` directive; ``members`` is a list, False, or None (not given)."""
    found = []
    for page in API_PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            match = re.match(r"^::: (\S+)\s*$", line)
            if not match:
                continue
            members: object = None
            block = []
            for following in lines[i + 1 :]:
                if following.strip() and not following.startswith(" "):
                    break
                block.append(following)
            text = "\n".join(block)
            if re.search(r"^\s+members:\s*false\s*$", text, re.M):
                members = False
            elif re.search(r"^\s+members:\s*$", text, re.M):
                members = re.findall(r"^\s+- (\S+)\s*$", text.split("members:", 1)[1], re.M)
            found.append((match.group(1), members))
    return found


def _runtime_all(path: str) -> list[str] | None:
    name = "snnax_torchlike.interop" if path == "interop" else path.replace("interop.", "snnax_torchlike.interop.", 1)
    return getattr(importlib.import_module(name), "__all__", None)


def _rendered_classes(packages: dict) -> dict[str, object]:
    """The classes whose own members the API pages show, by their canonical path."""
    classes = {}
    for target, members in _directives():
        obj = _resolve(packages, target)
        if obj.is_alias:
            obj = obj.final_target
        if obj.is_class:
            classes[obj.path] = obj
            continue
        if not obj.is_module or members is False:
            continue
        if members is None:
            members = _runtime_all(target)
        if members is None:
            members = [name for name, member in obj.members.items() if not name.startswith("_") and not member.is_alias]
        for name in members:
            if name.startswith("_"):
                continue
            member = obj[name]
            if member.is_alias:
                member = member.final_target
            if member.is_class:
                classes[member.path] = member
    return classes


def test_every_public_method_of_a_rendered_class_has_a_docstring(packages):
    """Methods and properties (dataclass fields and attributes are the class docstring's ``**Arguments:**``)."""
    classes = _rendered_classes(packages)
    assert len(classes) > 100, sorted(classes)
    missing = []
    for path, cls in sorted(classes.items()):
        for name, member in cls.members.items():
            if name.startswith("_") or member.is_alias:
                continue
            if not (member.is_function or "property" in member.labels):
                continue
            docstring = member.docstring
            if (docstring is None or not docstring.value.strip()) and f"{path}.{name}" not in ALLOWED_UNDOCUMENTED:
                missing.append(f"{path}.{name}")
    assert not missing, (
        f"{len(missing)} public methods/properties without a docstring (hidden in the reference): {missing}"
    )


def _objects(obj):
    yield obj
    for member in obj.members.values():
        if member.is_alias:
            continue
        yield from _objects(member)


def test_no_docstring_holds_a_restructuredtext_code_block_marker(packages):
    """Docstrings are Markdown: a paragraph ending in ``::`` renders literally, its code as plain text."""
    marker = re.compile(r"::[ \t]*$|^\s*\.\. [\w-]+::", re.M)
    offenders = []
    for package in packages.values():
        for obj in _objects(package):
            docstring = obj.docstring
            if docstring is not None and marker.search(docstring.value):
                line = next(line for line in docstring.value.splitlines() if marker.search(line))
                offenders.append(f"{obj.path}: {line.strip()!r}")
    assert not offenders, f"reStructuredText code-block markers in docstrings (use ```python fences): {offenders}"


def test_compile_is_documented_as_the_function(packages):
    """``snnax_torchlike.compile`` is the function (the package re-exports it over its submodule of that name).

    griffe resolves the name to the submodule, so a page listing ``compile`` among the
    package's members would render the module; the reference renders the function itself.
    """
    import snnax_torchlike

    function = snnax_torchlike.compile
    assert callable(function) and function.__name__ == "compile"
    canonical = f"{function.__module__}.{function.__qualname__}"
    directives = _directives()
    targets = [target for target, _ in directives]
    assert canonical in targets, f"no API page renders {canonical} (snnax_torchlike.compile): {targets}"
    rendered = _resolve(packages, canonical)
    assert rendered.is_function and rendered.docstring is not None and rendered.docstring.value.strip()
    for target, members in directives:
        obj = _resolve(packages, target)
        if isinstance(members, list) and obj.is_module:
            modules = [name for name in members if obj[name].is_module]
            assert not modules, f"::: {target} lists {modules}, which the reference renders as modules"
    # The heading and the anchor a reader (and a cross-reference) finds it by are `snnax_torchlike.compile`.
    index = (ROOT / "docs" / "api" / "index.md").read_text(encoding="utf-8")
    assert re.search(r"\{ *#snnax_torchlike\.compile *\}", index), "no `snnax_torchlike.compile` anchor"
    assert re.search(r"heading: +\"?snnax_torchlike\.compile\"?\s*$", index, re.M)
