"""Execute the tutorials as notebooks, so the documentation site shows their outputs and figures.

The tutorials are jupytext percent-format scripts (``tutorials/*.py``). This runs
each one as a notebook in a Jupyter kernel (``nbclient``, the interpreter running
this file), cell by cell, and writes ``<out>/tutorials/<name>.ipynb`` with every output:
printed text, tables, and the figures inline as PNG. Built with the environment
variable ``SNNAX_DOCS_NOTEBOOKS=<out>``, the site renders those notebooks instead
of the bare scripts (``docs/hooks.py``).

    python docs/notebooks.py site-notebooks            # full mode, as each tutorial's header states
    python docs/notebooks.py site-notebooks --quick    # the test suite's quick mode
    SNNAX_DOCS_NOTEBOOKS=site-notebooks mkdocs build --strict

Every tutorial runs, even after one fails; the time of each is printed, and the
failures, with the end of each traceback, at the end (exit status 1). A failed
tutorial writes no notebook, so its page stays the bare script.

``tests/test_tutorials.py`` runs every tutorial this way (quick mode), and
``tests/test_docs_site.py`` builds the site from the notebooks it wrote.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("*.py"))


def figures_folder(out: Path, path: Path) -> Path:
    """Where the tutorial ``path``, run by ``execute_tutorial`` into ``out``, writes its PNG/GIF files."""
    return out / "figures" / path.stem


def execute_tutorial(path: Path, out: Path, *, quick: bool, timeout: int = 900) -> Path:
    """Run the tutorial ``path`` as a notebook and write it, with its outputs, to ``out/tutorials/<name>.ipynb``.

    **Arguments:**

    - `path`: a jupytext percent-format tutorial.
    - `out`: the folder for the executed notebook, in its ``tutorials/`` subfolder (created if missing).
    - `quick`: run in quick mode (``SNNAX_QUICK=1``: small sizes, about a minute).
      The tutorial writes its own PNG/GIF files to ``figures_folder(out, path)``
      (``SNNAX_FIGURES``).
    - `timeout`: seconds allowed per cell.

    **Returns:** the path of the executed notebook.

    **Raises:** ``nbclient.exceptions.CellExecutionError`` with the failing cell's
    traceback when a cell raises; nothing is written then.
    """
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    notebook = jupytext.read(path)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env = dict(os.environ, SNNAX_QUICK="1" if quick else "0", SNNAX_FIGURES=str(figures_folder(out, path)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # The tutorials keep their figures open inside a kernel, so the inline backend shows them.
    env.pop("MPLBACKEND", None)
    # coalesce_streams: a cell's printed text as Jupyter shows it, one block per stream with the lines a
    # carriage return overwrote (progress bars) dropped, rather than one block per write.
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
        coalesce_streams=True,
    )
    client.execute(env=env)
    target = out / "tutorials" / f"{path.stem}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


def _error_summary(error: Exception, lines: int = 12) -> str:
    """The last ``lines`` lines of an error's message: for a failing cell, the end of its traceback."""
    text = str(error).strip() or type(error).__name__
    return "\n".join(text.splitlines()[-lines:])


def run_tutorials(paths: list[Path], out: Path, *, quick: bool) -> dict[str, Exception]:
    """Run every tutorial of ``paths`` (``execute_tutorial``), going on past failures, and print each one's time.

    **Arguments:**

    - `paths`: the tutorials, run in this order.
    - `out`: the folder for the executed notebooks and figures.
    - `quick`: run each in its quick mode.

    **Returns:** the error of each tutorial that failed, by file name (empty when all ran).
    """
    failures: dict[str, Exception] = {}
    started = time.monotonic()
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        start = time.monotonic()
        try:
            target = execute_tutorial(path, out, quick=quick)
        except Exception as error:  # the others still run; every failure is reported at the end
            failures[path.name] = error
            print(f"  FAILED after {time.monotonic() - start:.0f} s: {type(error).__name__}", flush=True)
        else:
            print(f"  {time.monotonic() - start:.0f} s, wrote {target}", flush=True)
    print(
        f"{len(paths) - len(failures)} of {len(paths)} tutorials ran in {time.monotonic() - started:.0f} s", flush=True
    )
    return failures


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the executed notebooks")
    parser.add_argument("--quick", action="store_true", help="run each tutorial in its quick mode")
    parser.add_argument("names", nargs="*", help="tutorial names (default: all), e.g. t1_spike_encoding")
    args = parser.parse_intermixed_args()
    chosen = [path for path in TUTORIALS if not args.names or path.stem in args.names]
    unknown = sorted(set(args.names) - {path.stem for path in TUTORIALS})
    if unknown:
        sys.exit(f"no such tutorials: {unknown}; the tutorials are {[path.stem for path in TUTORIALS]}")
    failures = run_tutorials(chosen, args.out, quick=args.quick)
    for name, error in failures.items():
        print(f"\n{name} failed:\n{_error_summary(error)}", file=sys.stderr)
    if failures:
        sys.exit(f"\n{len(failures)} tutorial(s) failed: {', '.join(failures)}; their pages stay the bare scripts")


if __name__ == "__main__":
    _main()
