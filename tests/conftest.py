"""Shared fixtures: the tutorials, executed once as notebooks for both their own test and the site's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_notebook_runner():
    spec = importlib.util.spec_from_file_location("_docs_notebooks", ROOT / "docs" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ExecutedTutorials:
    """Each tutorial run once, in quick mode, as a notebook under ``folder`` (``docs/notebooks.py``).

    ``notebook(path)`` runs the tutorial the first time it is asked for and returns
    the executed notebook's path, or raises the error its run raised, every time.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self._runner = _load_notebook_runner()
        self._results: dict[Path, Path | BaseException] = {}

    def notebook(self, path: Path) -> Path:
        if path not in self._results:
            try:
                self._results[path] = self._runner.execute_tutorial(path, self.folder, quick=True)
            except Exception as error:  # kept, so the site test builds from the tutorials that ran
                self._results[path] = error
        result = self._results[path]
        if isinstance(result, BaseException):
            raise result
        return result

    def figures(self, path: Path) -> list[Path]:
        """The figures (PNG) and animations (GIF) the tutorial wrote while it ran."""
        folder = self._runner.figures_folder(self.folder, path)
        return sorted([*folder.glob("*.png"), *folder.glob("*.gif")])


@pytest.fixture(scope="session")
def executed_tutorials(tmp_path_factory) -> ExecutedTutorials:
    return ExecutedTutorials(tmp_path_factory.mktemp("executed_tutorials"))


def pytest_collection_modifyitems(session, config, items):
    """Start the failure probes' subprocess as soon as they are selected, so it overlaps the other tests."""
    if not any(item.nodeid.startswith("tests/test_failure_probes.py::test_probe") for item in items):
        return
    import tempfile

    from test_failure_probes import start_probe_run

    out = Path(tempfile.mkdtemp(prefix="probes-")) / "results.json"
    config._probe_run = (start_probe_run(out), out)
