"""The documentation site builds with ``mkdocs build --strict`` and holds every tutorial and every public module.

The site is built from the tutorials as executed notebooks (the ``executed_tutorials``
fixture of ``tests/conftest.py`` runs each once, in quick mode, for this test and
for ``tests/test_tutorials.py``), so each tutorial page holds its outputs and its
figures; the test checks that every figure a tutorial wrote is on its page. A
second build, without executed notebooks, is the plain ``mkdocs build`` a user runs.

Every page of that build is also checked for what a reader would meet as a defect:
math left as raw ``$...$`` TeX (it should be MathML, ``docs/hooks.py``), an empty
``<script>``, anything loaded from another host (the site must render offline), a
notebook output written to stderr, and a link or ``#anchor`` that leads nowhere.
``test_the_page_checks_catch_a_broken_page`` shows each check failing on a page
made to break it.

Needs the ``docs`` extra (MkDocs, Material, mkdocstrings, mkdocs-jupyter,
latex2mathml, ruff); the ``test`` extra includes it.
"""

from __future__ import annotations

import html
import importlib
import os
import re
import subprocess
import sys
import urllib.parse
from functools import cache
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
def site(tmp_path_factory, request) -> Path:
    """The site built from the tutorials executed in quick mode, or the site built in ``SNNAX_DOCS_SITE``.

    ``SNNAX_DOCS_SITE=site pytest tests/test_docs_site.py -k no_page_has`` checks the
    pages of a site built for publishing (full mode) in seconds, running nothing.
    """
    if os.environ.get("SNNAX_DOCS_SITE"):
        return Path(os.environ["SNNAX_DOCS_SITE"])
    executed_tutorials = request.getfixturevalue("executed_tutorials")
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


# --- Every page: what a reader would meet as a defect -------------------------------------------------------------

# Code, scripts, styles, MathML, comments and tags: what is left is the text a reader sees as prose.
_NOT_PROSE = re.compile(r"<(pre|code|script|style|textarea|math)\b[^>]*>.*?</\1\s*>|<!--.*?-->|<[^>]+>", re.S | re.I)
# TeX left for a JavaScript renderer: $$...$$, $...$ (not opening or closing on a space), \(...\), \[...\].
_RAW_MATH = re.compile(r"\$\$.+?\$\$|\$[^\s$](?:[^$\n]*?[^\s$\\])?\$|\\\(.+?\\\)|\\\[.+?\\\]", re.S)
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)  # http:, mailto:, data:, //host ...
_STDERR_BOX = re.compile(r'<div\b[^>]*data-mime-type="application/vnd\.jupyter\.stderr"[^>]*>(.*?)</div>', re.S)


def _attribute(tag: str, name: str) -> str | None:
    match = re.search(rf'\b{name}\s*=\s*"([^"]*)"', tag, re.I)
    return html.unescape(match.group(1)) if match else None


def _raw_math(content: str) -> list[str]:
    """TeX a browser would show as it is: outside code, and not turned into MathML."""
    found = [match.group(0)[:80] for match in _RAW_MATH.finditer(_NOT_PROSE.sub(" ", content))]
    return found + ['class="arithmatex"'] * content.count('class="arithmatex"')


def _empty_scripts(content: str) -> list[str]:
    """``<script>`` elements with an empty ``src`` or neither a ``src`` nor a body."""
    found = []
    for match in _SCRIPT.finditer(content):
        src = _attribute(match.group(1), "src")
        if (src is not None and not src.strip()) or (src is None and not match.group(2).strip()):
            found.append(match.group(0)[:80])
    return found


def _external_resources(content: str) -> list[str]:
    """Scripts, styles, fonts and images the page would load from another host (links to follow are fine)."""
    found = []
    for match in re.finditer(r"<(script|img|iframe|link|source|video|audio|embed)\b[^>]*>", content, re.I):
        tag = match.group(0)
        if match.group(1).lower() == "link":
            rel = (_attribute(tag, "rel") or "").lower().split()
            if not {"stylesheet", "preload", "modulepreload", "preconnect", "icon", "manifest"} & set(rel):
                continue  # canonical, alternate: addresses, not loaded
            url = _attribute(tag, "href")
        else:
            url = _attribute(tag, "src")
        if url and _EXTERNAL.match(url) and not url.startswith("data:"):
            found.append(tag[:120])
    return found


def _stderr_boxes(content: str) -> list[str]:
    """The text of every notebook output written to stderr."""
    return [_text(match.group(1))[:300] for match in _STDERR_BOX.finditer(content)]


@cache
def _ids(page: Path) -> frozenset[str]:
    content = page.read_text(encoding="utf-8")
    return frozenset(html.unescape(anchor) for anchor in re.findall(r'\b(?:id|name)="([^"]+)"', content))


def _broken_links(site: Path, page: Path, content: str) -> list[str]:
    """Links (``<a href>``), and files a page loads (``src``, ``<link href>``), that lead to no file of the site,
    and ``#fragments`` of links that no element of their target page has as its id."""
    found = []
    for match in re.finditer(r"<(a|link|img|script|source)\b[^>]*>", content, re.I):
        tag, is_link = match.group(0), match.group(1).lower() == "a"
        url = _attribute(tag, "href" if match.group(1).lower() in ("a", "link") else "src")
        if url is None or _EXTERNAL.match(url):
            continue
        path, _, fragment = urllib.parse.unquote(url).partition("#")
        path = path.split("?")[0]
        # 404.html addresses its files from the site's root, as it is served at any address.
        target = (site / path.lstrip("/") if path.startswith("/") else page.parent / path).resolve() if path else page
        if target.is_dir():
            target = target / "index.html"
        if site.resolve() not in target.parents or not target.is_file():
            found.append(f"{url} (no such file)")
        elif is_link and fragment and target.suffix == ".html" and fragment not in _ids(target):
            found.append(f"{url} (no id {fragment!r} on {target.relative_to(site.resolve())})")
    return found


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def _site_problems(site: Path, check) -> dict[str, list[str]]:
    """``check``'s findings on every page of ``site``, by page; pages without any are left out."""
    problems = {}
    for page in _pages(site):
        content = page.read_text(encoding="utf-8")
        found = check(site, page, content)
        if found:
            problems[str(page.relative_to(site))] = found
    return problems


PAGE_CHECKS = {
    "raw TeX (not MathML)": lambda site, page, content: _raw_math(content),
    "empty <script>": lambda site, page, content: _empty_scripts(content),
    "loaded from another host": lambda site, page, content: _external_resources(content),
    "notebook output on stderr": lambda site, page, content: _stderr_boxes(content),
    "broken link or anchor": _broken_links,
}


@pytest.mark.parametrize("problem", PAGE_CHECKS)
def test_no_page_has(site, problem):
    """Every page of the site (built from the executed notebooks) is free of ``problem``."""
    assert len(_pages(site)) > 30
    problems = _site_problems(site, PAGE_CHECKS[problem])
    assert not problems, f"pages with {problem}:\n" + "\n".join(
        f"  {page}: {found[:5]}" + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        for page, found in problems.items()
    )


def test_the_page_checks_catch_a_broken_page(tmp_path):
    """Each check of ``test_no_page_has`` finds its defect on a page made to have it (and nothing on a clean one)."""
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "index.html").write_text('<h2 id="there">There</h2>', encoding="utf-8")
    clean = (
        '<h1 id="top">Top</h1><p>Costs <math><mi>x</mi></math>, <code>$x$</code>, a US$ 5 note.</p>'
        '<pre>echo $HOME \\(x\\)</pre><script src="a.js"></script><script>var a = "$x$";</script>'
        '<link rel="canonical" href="https://example.org/"><a href="https://example.org/">out</a>'
        '<a href="#top">up</a><a href="../other/#there">there</a><a href="../other/">other</a>'
        '<div class="jp-RenderedText" data-mime-type="text/plain"><pre>fine</pre></div>'
    )
    broken = {
        "raw TeX (not MathML)": "<p>A formula $t = \\tau \\ln\\frac{x}{x-\\theta}$.</p>",
        "empty <script>": '<script src=""> </script>',
        "loaded from another host": '<script src="https://cdn.example.org/mathjax.js">x</script>',
        "notebook output on stderr": '<div class="jp-RenderedText jp-OutputArea-output" '
        'data-mime-type="application/vnd.jupyter.stderr"><pre>IProgress not found</pre></div>',
        "broken link or anchor": '<a href="#recurrence-and">Recurrence: and</a>',
    }
    page = tmp_path / "page" / "index.html"
    page.parent.mkdir()
    (tmp_path / "page" / "a.js").write_text("", encoding="utf-8")
    for problem, check in PAGE_CHECKS.items():
        page.write_text(clean, encoding="utf-8")
        _ids.cache_clear()
        assert not check(tmp_path, page, clean), f"{problem}: found on the clean page"
        page.write_text(clean + broken[problem], encoding="utf-8")
        _ids.cache_clear()
        assert check(tmp_path, page, clean + broken[problem]), f"{problem}: not found on the broken page"
    for link in ['<a href="../missing/">x</a>', '<a href="../other/#nowhere">x</a>', '<img src="missing.png">']:
        assert _broken_links(tmp_path, page, link), link
