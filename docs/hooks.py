"""MkDocs hook: the tutorials become pages of the site, and every page renders offline.

The tutorials (``tutorials/*.py`` at the repository root) live outside ``docs/``
because the test suite runs them (``tests/test_tutorials.py``). ``on_files`` adds
every one of them to the site's files as ``tutorials/<name>.py``; the
``mkdocs-jupyter`` plugin then renders each as a notebook page.

- By default the page is the script itself, rendered without running it: code
  and text, no outputs.
- With ``SNNAX_DOCS_NOTEBOOKS=<folder>`` (notebooks that ``docs/notebooks.py``
  executed), a tutorial with ``<folder>/tutorials/<name>.ipynb`` is rendered from
  that notebook instead, with its printed outputs and its figures. The page keeps
  its address, so the navigation and the links to it stay as they are.

``on_files`` runs twice: before the plugins' own (priority 100), so mkdocs-jupyter
sees the added files, and after them (priority -100), to point the notebook pages
that mkdocs-jupyter made of them at the executed notebooks.

``on_page_content`` makes every page readable without a network and without
JavaScript:

- Math becomes MathML at build time, which browsers render natively: the
  ``\\(...\\)``/``\\[...\\]`` spans that ``pymdownx.arithmatex`` makes of ``$...$``
  in the Markdown pages and the docstrings, and the ``$...$``/``$$...$$`` that
  mkdocs-jupyter leaves in a notebook's markdown cells. Code (``<pre>``,
  ``<code>``) is never touched. A formula that ``latex2mathml`` cannot convert
  fails the build with the page and the formula.
- Notebook pages lose the MathJax 2 loader and configuration (an empty
  ``<script src="">`` with mkdocs-jupyter's default) and the mermaid loader,
  which would fetch scripts from a CDN.
- A notebook page's table of contents is rebuilt from its rendered headings.
  mkdocs-jupyter builds it from a Markdown copy of the notebook with every
  inline code span deleted, so a heading such as ``## 1. `fit``` got the label
  "1." and the anchor ``#1``, which no heading has.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from latex2mathml.converter import convert as _latex2mathml
from mkdocs.exceptions import PluginError
from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc

ROOT = Path(__file__).resolve().parents[1]


def _executed_notebook(path: Path) -> Path | None:
    """The executed notebook of the tutorial ``path``, if ``SNNAX_DOCS_NOTEBOOKS`` holds one."""
    folder = os.environ.get("SNNAX_DOCS_NOTEBOOKS")
    notebook = Path(folder) / "tutorials" / f"{path.stem}.ipynb" if folder else None
    return notebook.resolve() if notebook is not None and notebook.exists() else None


@event_priority(100)
def _add_tutorials(files: Files, config) -> Files:
    for path in sorted((ROOT / "tutorials").glob("*.py")):
        if files.get_file_from_path(f"tutorials/{path.name}") is None:
            files.append(File(f"tutorials/{path.name}", str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


@event_priority(-100)
def _render_executed_notebooks(files: Files, config) -> Files:
    for path in sorted((ROOT / "tutorials").glob("*.py")):
        notebook = _executed_notebook(path)
        if notebook is not None:
            # mkdocs-jupyter reads the page (and offers it for download) from abs_src_path.
            files.get_file_from_path(f"tutorials/{path.name}").abs_src_path = str(notebook)
    return files


on_files = CombinedEvent(_add_tutorials, _render_executed_notebooks)


# --- Math: TeX to MathML -------------------------------------------------------------------------------------------

# What arithmatex (generic mode) makes of $...$ and $$...$$ in Markdown pages and docstrings.
_ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
# Elements whose text is code or not prose, comments, and single tags: skipped whole when looking for $...$.
_NOT_PROSE = re.compile(r"<(pre|code|script|style|textarea)\b[^>]*>.*?</\1\s*>|<!--.*?-->|<[^>]+>", re.S | re.I)
# A notebook's markdown cells, as Jupyter reads them: $$...$$ (display) first, then $...$ (inline), neither
# opening nor closing on a space, neither escaped, inline math within one paragraph.
_NOTEBOOK_MATH = re.compile(
    r"(?<![\\$])\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?![\s$])(?P<inline>(?:(?!\n\s*\n)[^$])+?)(?<![\s\\])\$(?!\$)",
    re.S,
)
# latex2mathml passes what it does not know through as text: an unknown command keeps its backslash, and an
# alignment point (&) of an unsupported environment stays a bare ampersand.
_UNCONVERTED = re.compile(r"\\|&(?!#x?[0-9A-Fa-f]+;|[A-Za-z]+;)")
# latex2mathml knows align* (the same rows and alignment points) but not aligned.
_TEX_ALIASES = {r"\begin{aligned}": r"\begin{align*}", r"\end{aligned}": r"\end{align*}"}


def _mathml(tex: str, *, display: bool, errors: list[tuple[str, str]]) -> str:
    """Convert one TeX formula to a MathML ``<math>`` element.

    **Arguments:**

    - `tex`: the formula, without its delimiters and not HTML-escaped.
    - `display`: a display (block) formula rather than an inline one.
    - `errors`: where a formula that cannot be converted is recorded, as ``(formula, reason)``.

    **Returns:** the ``<math>`` element, or the formula as it was (escaped) when it
    could not be converted; ``on_page_content`` then fails the build.
    """
    source = tex.strip()
    for alias, known in _TEX_ALIASES.items():
        source = source.replace(alias, known)
    try:
        mathml = _latex2mathml(source, display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises a variety of its own and built-in errors on bad input
        errors.append((tex, f"{type(error).__name__}: {error}".rstrip(": ")))
        return html.escape(tex)
    unconverted = _UNCONVERTED.search(mathml)
    if unconverted:
        errors.append((tex, f"latex2mathml left {mathml[unconverted.start() :][:40]!r} unconverted"))
        return html.escape(tex)
    return mathml


def _arithmatex_to_mathml(content: str, errors: list[tuple[str, str]]) -> str:
    """Replace arithmatex's ``\\(...\\)`` spans and ``\\[...\\]`` blocks with MathML."""

    def replace(match: re.Match) -> str:
        tex = html.unescape(match.group(2)).strip()
        display = match.group(1) == "div"
        # A div holds \[...\] or a bare environment (\begin{align}...\end{align}).
        for opening, closing in (("\\(", "\\)"), ("\\[", "\\]")):
            if tex.startswith(opening) and tex.endswith(closing):
                tex = tex[len(opening) : -len(closing)]
        return _mathml(tex, display=display, errors=errors)

    return _ARITHMATEX.sub(replace, content)


def _dollars_to_mathml(content: str, errors: list[tuple[str, str]]) -> str:
    """Replace ``$...$`` and ``$$...$$`` in the prose of a notebook page (not in code or tags) with MathML."""

    def replace(match: re.Match) -> str:
        display = match.group("display") is not None
        tex = html.unescape(match.group("display") if display else match.group("inline"))
        return _mathml(tex, display=display, errors=errors)

    pieces, start = [], 0
    for skipped in _NOT_PROSE.finditer(content):
        pieces += [_NOTEBOOK_MATH.sub(replace, content[start : skipped.start()]), skipped.group(0)]
        start = skipped.end()
    pieces.append(_NOTEBOOK_MATH.sub(replace, content[start:]))
    return "".join(pieces)


# --- Notebook pages ------------------------------------------------------------------------------------------------

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.S | re.I)
_MATHJAX_CONFIG = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
_HEADING = re.compile(r'<h([1-6])\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</h\1\s*>', re.S | re.I)
_ANCHOR_LINK = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.S)


def _is_notebook(page: Page) -> bool:
    """Whether mkdocs-jupyter renders ``page`` (a tutorial), rather than Markdown."""
    return page.file.src_uri.startswith("tutorials/") and page.file.src_uri.endswith((".py", ".ipynb"))


def _without_cdn_scripts(content: str) -> str:
    """A notebook page without nbconvert's MathJax 2 and mermaid loaders, which load from a CDN."""

    def drop_loader(script: re.Match) -> str:
        return "" if re.search("mathjax|mermaid", script.group(0), re.I) else script.group(0)

    return _SCRIPT.sub(drop_loader, _MATHJAX_CONFIG.sub("", content))


def _heading_text(fragment: str) -> str:
    """The visible text of a heading's inner HTML, without its ``¶`` link, escaped as a TOC title is."""
    text = re.sub(r"<[^>]+>", "", _ANCHOR_LINK.sub("", fragment))
    return html.escape(" ".join(html.unescape(text).split()), quote=False)


def _notebook_toc_tokens(content: str) -> list[dict]:
    """Table-of-contents tokens (as ``mkdocs.structure.toc.get_toc`` takes them) of every heading with an id."""
    tokens: list[dict] = []
    stack: list[dict] = []  # the open headings, from the outermost
    for level, anchor, inner in _HEADING.findall(content):
        token = {"level": int(level), "id": anchor, "name": _heading_text(inner), "children": []}
        while stack and stack[-1]["level"] >= token["level"]:
            stack.pop()
        (stack[-1]["children"] if stack else tokens).append(token)
        stack.append(token)
    return tokens


def on_page_content(content: str, page: Page, config, files: Files) -> str:
    """Turn the page's math into MathML and, on notebook pages, drop CDN scripts and rebuild the TOC.

    **Arguments:**

    - `content`: the page's HTML, as Markdown, mkdocstrings or mkdocs-jupyter rendered it.
    - `page`: the page; a notebook page's ``toc`` and ``title`` are replaced.
    - `config`, `files`: the site's configuration and files (unused).

    **Returns:** the page's HTML.

    **Raises:** ``PluginError`` naming the page and each formula that latex2mathml cannot convert.
    """
    errors: list[tuple[str, str]] = []
    content = _arithmatex_to_mathml(content, errors)
    if _is_notebook(page):
        content = _dollars_to_mathml(_without_cdn_scripts(content), errors)
        tokens = _notebook_toc_tokens(content)
        page.toc = get_toc(tokens)
        if tokens and tokens[0]["level"] == 1:
            page.title = html.unescape(tokens[0]["name"])
    if errors:
        raise PluginError(
            f"{page.file.src_uri}: {len(errors)} formula(s) that latex2mathml cannot turn into MathML:\n"
            + "\n".join(f"  {tex!r}: {reason}" for tex, reason in errors)
        )
    return content
