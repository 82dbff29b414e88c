"""MkDocs hook: the tutorials (``tutorials/*.py`` at the repository root) become pages of the site.

The tutorials live outside ``docs/`` because the test suite runs them as scripts
(``tests/test_tutorials.py``). This hook adds every one of them to the site's
files as ``tutorials/<name>.py``; the ``mkdocs-jupyter`` plugin then renders each
as a notebook page (without executing it). It runs before the plugins' own
``on_files`` (priority 100), so mkdocs-jupyter sees the added files.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]


@event_priority(100)
def on_files(files: Files, config) -> Files:
    for path in sorted((ROOT / "tutorials").glob("*.py")):
        src_uri = f"tutorials/{path.name}"
        if files.get_file_from_path(src_uri) is None:
            files.append(File(src_uri, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files
