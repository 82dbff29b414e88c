"""The progress bar: tqdm's notebook widget where a notebook can show it, its text bar in a terminal."""

from __future__ import annotations

import functools
import importlib.util
import sys

from tqdm.std import tqdm


@functools.cache
def progress_bar() -> tuple[type[tqdm], bool]:
    """The bar class, and whether a per-batch bar can be drawn where this process runs.

    ``tqdm.notebook.tqdm`` in a Jupyter kernel with ipywidgets installed; in a
    kernel without them, no per-batch bar (``False``): the text bar would land in
    the notebook as stderr output, one line per redraw, and ``tqdm.auto`` would
    also print "IProgress not found" there. The epoch summaries (``tqdm.write``,
    to stdout) show either way. Elsewhere ``tqdm.std.tqdm``. Decided on first use,
    not at import, so importing the library never imports IPython or ipywidgets.
    """
    ipython = sys.modules.get("IPython")
    in_kernel = ipython is not None and "IPKernelApp" in getattr(ipython.get_ipython(), "config", {})
    if not in_kernel:
        return tqdm, True
    if importlib.util.find_spec("ipywidgets") is None:
        return tqdm, False
    from tqdm.notebook import tqdm as notebook_tqdm

    return notebook_tqdm, True
