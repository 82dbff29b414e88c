"""Every tutorial runs end to end in its quick mode, as a notebook, cell by cell (``docs/notebooks.py``).

The executed notebooks are kept for the site test (``tests/test_docs_site.py``),
which renders them with their outputs and figures.
"""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("*.py"))


def test_there_are_tutorials():
    assert TUTORIALS


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(executed_tutorials, path):
    notebook = nbformat.read(executed_tutorials.notebook(path), as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells and all(cell.execution_count for cell in code_cells), "a code cell did not run"
    errors = [out for cell in code_cells for out in cell.outputs if out.output_type == "error"]
    assert not errors, errors
