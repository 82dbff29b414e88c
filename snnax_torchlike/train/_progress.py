"""The progress bar class: tqdm's notebook widget where a notebook can show it, its text bar elsewhere."""

from __future__ import annotations

import functools
import importlib.util
import sys

from tqdm.std import tqdm


@functools.cache
def progress_bar() -> type[tqdm]:
    """``tqdm.notebook.tqdm`` in a Jupyter kernel with ipywidgets installed, else ``tqdm.std.tqdm``.

    ``tqdm.auto`` makes the same choice, but in a kernel without ipywidgets it
    prints "IProgress not found" to stderr on every import; here a kernel without
    them gets the text bar silently. Decided on first use, not at import, so
    importing the library never imports IPython or ipywidgets.
    """
    ipython = sys.modules.get("IPython")
    in_kernel = ipython is not None and "IPKernelApp" in getattr(ipython.get_ipython(), "config", {})
    if in_kernel and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm
    return tqdm
