"""MkDocs hook: the tutorials (``tutorials/*.py`` at the repository root) become pages of the site.

The tutorials live outside ``docs/`` because the test suite runs them
(``tests/test_tutorials.py``). ``on_files`` adds every one of them to the site's
files as ``tutorials/<name>.py``; the ``mkdocs-jupyter`` plugin then renders each
as a notebook page.

- By default the page is the script itself, rendered without running it: code
  and text, no outputs.
- With ``SNNAX_DOCS_NOTEBOOKS=<folder>`` (notebooks that ``docs/notebooks.py``
  executed), a tutorial with ``<folder>/tutorials/<name>.ipynb`` is rendered from
  that notebook instead, with its printed outputs and its figures. The page keeps
  its address, so the navigation and the links to it stay as they are.

``on_files`` runs twice: before the plugins' own (priority 100), so mkdocs-jupyter
sees the added files, and after them (priority -100), to point the notebook pages
that mkdocs-jupyter made of them at the executed notebooks.
"""

from __future__ import annotations

import os
from pathlib import Path

from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import File, Files

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
