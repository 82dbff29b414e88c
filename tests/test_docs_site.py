"""The documentation site builds with ``mkdocs build --strict`` and holds every tutorial and every public module.

The site is built from the tutorials as executed notebooks (the ``executed_tutorials``
fixture of ``tests/conftest.py`` runs each once, in quick mode, for this test and
for ``tests/test_tutorials.py``), so each tutorial page holds its outputs and its
figures; the test checks that every figure a tutorial wrote is on its page. A
second build, without executed notebooks, is the plain ``mkdocs build`` a user runs.

Needs the ``docs`` extra (MkDocs, Material, mkdocstrings, mkdocs-jupyter); the
``test`` extra includes it.
"""

from __future__ import annotations

import html
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("*.py"))
API_MODULES = ["snn", "nn", "imperative", "utils", "optim", "functional", "spikegen", "surrogate", "train", "interop",
               "plot", "random"]  # fmt: skip
DOCSTRING_MODULES = ["snnax_torchlike", "snnax_torchlike.snn", "snnax_torchlike.nn", "snnax_torchlike.imperative",
                     "snnax_torchlike.utils", "snnax_torchlike.optim",
                     "snnax_torchlike.functional", "snnax_torchlike.train", "snnax_torchlike.interop"]  # fmt: skip


def _build(out: Path, notebooks: Path | None) -> Path:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONPATH=str(ROOT))
    env.pop("SNNAX_DOCS_NOTEBOOKS", None)
    if notebooks is not None:
        env["SNNAX_DOCS_NOTEBOOKS"] = str(notebooks)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, "mkdocs build --strict failed:\n" + result.stdout[-3000:] + result.stderr[-6000:]
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory, executed_tutorials) -> Path:
    for path in TUTORIALS:
        try:
            executed_tutorials.notebook(path)
        except Exception:  # tests/test_tutorials.py reports it; its page stays the bare script
            pass
    return _build(tmp_path_factory.mktemp("site"), executed_tutorials.folder)


def _text(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def _h1(page: Path) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page.read_text(encoding="utf-8"), re.S)
    assert match, f"{page} has no <h1>"
    return _text(match.group(1)).rstrip("¶").strip()


def _tutorial_title(path: Path) -> str:
    """The tutorial's title: the first markdown heading ``# # ...`` of its first cell."""
    match = re.search(r"^# # (.+)$", path.read_text(encoding="utf-8"), re.M)
    assert match, f"{path.name} has no '# # Title' line"
    return match.group(1).replace("`", "").strip()


def _nav_entries(nav) -> list[str]:
    entries = []
    for item in nav:
        value = item if isinstance(item, str) else next(iter(item.values()))
        entries += _nav_entries(value) if isinstance(value, list) else [value]
    return entries


def test_every_tutorial_is_in_the_nav():
    # A plain YAML read: mkdocs.yml uses no custom tags.
    nav = _nav_entries(yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"])
    assert TUTORIALS
    missing = [path.name for path in TUTORIALS if f"tutorials/{path.name}" not in nav]
    assert not missing, f"tutorials missing from the nav in mkdocs.yml: {missing}"


def _embedded_images(page: Path) -> int:
    return len(re.findall(r'<img[^>]*src="data:image/(?:png|gif);base64,', page.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_each_tutorial_has_a_page_with_its_title_outputs_and_figures(site, executed_tutorials, path):
    page = site / "tutorials" / path.stem / "index.html"
    assert page.exists(), f"no page for {path.name}"
    title = _tutorial_title(path)
    assert _h1(page) == title
    content = page.read_text(encoding="utf-8")
    assert _text(re.search(r"<title>(.*?)</title>", content, re.S).group(1)) == f"{title} - snnax-torchlike"
    assert "QUICK" in _text(content)  # the code is on the page
    # The page is the executed notebook (downloadable next to it), so it shows what the cells printed.
    notebook = executed_tutorials.notebook(path)  # raises the tutorial's own error if it failed
    assert (site / "tutorials" / path.stem / notebook.name).exists()
    assert re.search(r'class="[^"]*jp-OutputArea-output', content), "the page shows no outputs"
    # Every figure and animation the tutorial wrote is shown inline on its page.
    figures = executed_tutorials.figures(path)
    if "FIGURES" in path.read_text(encoding="utf-8"):
        assert figures, f"{path.name} saves figures but wrote none"
    assert _embedded_images(page) >= len(figures), (
        f"{path.name} wrote {len(figures)} figures, its page shows {_embedded_images(page)}"
    )


def test_the_site_also_builds_from_the_bare_scripts(tmp_path):
    """Without executed notebooks (a plain ``mkdocs build``), each tutorial page is its script, unexecuted."""
    site = _build(tmp_path / "site", None)
    for path in TUTORIALS:
        page = site / "tutorials" / path.stem / "index.html"
        assert _h1(page) == _tutorial_title(path)
        assert (site / "tutorials" / path.stem / path.name).exists()
        assert _embedded_images(page) == 0


@pytest.mark.parametrize("name", API_MODULES)
def test_each_public_module_has_an_api_page_with_every_exported_name(site, name):
    page = site / "api" / name / "index.html"
    assert page.exists(), f"no API page for snnax_torchlike.{name}"
    assert _h1(page).startswith(f"snnax_torchlike.{name}")
    anchors = set(re.findall(r'id="([^"]+)"', page.read_text(encoding="utf-8")))
    module = importlib.import_module(f"snnax_torchlike.{name}")
    # The interop package's source is the top-level interop/ folder, documented as `interop`.
    prefix = "interop" if name == "interop" else f"snnax_torchlike.{name}"
    missing = [export for export in module.__all__ if f"{prefix}.{export}" not in anchors]
    assert not missing, f"names of snnax_torchlike.{name}.__all__ not on its API page (no docstring?): {missing}"


def test_home_page_has_the_install_commands(site):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert len(commands) >= 2
    home = _text((site / "index.html").read_text(encoding="utf-8"))
    for command in commands[:2]:
        assert _text(html.escape(command)) in home


def _griffe_module(name: str):
    import griffe

    if name == "snnax_torchlike.interop":  # installed from the top-level interop/ folder
        return griffe.load("interop", search_paths=[str(ROOT)])
    package = griffe.load("snnax_torchlike", search_paths=[str(ROOT)])
    return package if name == "snnax_torchlike" else package[name.removeprefix("snnax_torchlike.")]


def test_every_public_name_has_a_docstring():
    """Names in ``__all__`` (dunders aside) have a docstring, as the API reference renders it (griffe).

    Read statically, as mkdocstrings reads them: module constants count when a
    string literal follows their assignment, and dataclasses get no generated
    ``Name(field, ...)`` docstring.
    """
    missing = []
    for module_name in DOCSTRING_MODULES:
        exports = importlib.import_module(module_name).__all__
        module = _griffe_module(module_name)
        for export in exports:
            if export.startswith("__"):
                continue
            docstring = module[export].docstring
            if docstring is None or not docstring.value.strip():
                missing.append(f"{module_name}.{export}")
    assert not missing, f"public names without a docstring: {missing}"
