"""Plots of spikes, membranes and event frames, time-first like snnTorch's ``spikeplot``.

matplotlib is an optional dependency (the ``plot`` extra: ``pip install
"snnax-torchlike[plot]"``). It is imported when a function here is first called,
never by ``import snnax_torchlike``.

- ``raster``: spike times as dots, time on the x axis and neurons on the y axis;
- ``traces``: membrane potentials (or any signal) over time, with the threshold;
- ``spike_counts``: a bar chart of each neuron's spike count over the sequence;
- ``animate``: a ``FuncAnimation`` of frames (images, event camera frames) over time;
- ``save_figure``: write a figure as a PNG, closing it in scripts and keeping it to show inline in notebooks;
- ``save_gif``: write an animation as a GIF, which a notebook then shows inline.

Every function takes numpy arrays, JAX arrays or torch tensors, time-first
(``[T, ...]``), draws into ``ax`` when one is given (else into a new figure) and
returns the ``Axes`` (``animate``: the animation), so you can style it further or
call ``ax.figure.savefig(path)``. Shapes are checked: a wrong rank raises a
``ValueError`` naming the function, the expected layouts and the actual shape;
non-numeric input raises a ``TypeError``::

    from snnax_torchlike import plot

    spk, mem = net(x)                               # [T, B, N] each
    ax = plot.raster(spk, sample=0, title="output spikes")
    ax.figure.savefig("raster.png")
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .nn.module import to_numpy

if TYPE_CHECKING:  # matplotlib is optional: only type checkers import it here
    from matplotlib.animation import FuncAnimation
    from matplotlib.axes import Axes

__all__ = ["raster", "traces", "spike_counts", "animate", "save_figure", "save_gif", "Gif"]


def pyplot() -> Any:
    """``matplotlib.pyplot``, or an ``ImportError`` that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "snnax_torchlike.plot needs matplotlib, an optional dependency: install the plot extra "
            '(pip install "snnax-torchlike[plot]") or matplotlib itself (pip install "matplotlib>=3.7").'
        ) from error
    return plt


def _axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 3.2)) -> Axes:
    """``ax``, or the axes of a new figure."""
    if ax is not None:
        return ax
    _, ax = pyplot().subplots(figsize=figsize)
    return ax


def as_numpy(name: str, argument: str, value: Any) -> np.ndarray:
    """``value`` as a float numpy array, or a ``TypeError`` naming the function ``name`` (e.g. ``"plot.raster"``)."""
    try:
        array = to_numpy(value)
    except Exception as error:  # anything numpy cannot read
        raise TypeError(f"{name}: {argument} must be an array (numpy, JAX or torch), got {type(value)}.") from error
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name}: {argument} must hold numbers, got dtype {array.dtype}.")
    return array.astype(np.float32)


def check_rank(name: str, argument: str, array: np.ndarray, ranks: dict[int, str]) -> None:
    """Raise a ``ValueError`` naming the function, the expected layouts and the actual shape."""
    if array.ndim not in ranks:
        expected = " or ".join(ranks.values())
        raise ValueError(f"{name}: expected {argument} of shape {expected}, got shape {tuple(array.shape)}.")


def _pick_sample(name: str, array: np.ndarray, sample: int) -> np.ndarray:
    """``array[:, sample]`` of a time-first batch ``[T, B, N]``, with a clear error when out of range."""
    batch = array.shape[1]
    if isinstance(sample, bool) or not isinstance(sample, int | np.integer) or not -batch <= sample < batch:
        raise ValueError(f"{name}: sample={sample!r} is out of range for a batch of {batch} (shape {array.shape}).")
    return array[:, sample]


def _spike_matrix(name: str, spikes: Any, sample: int) -> np.ndarray:
    """Validated spikes ``[T, N]`` from ``[T, N]`` or ``[T, B, N]``."""
    array = as_numpy(name, "spikes", spikes)
    check_rank(name, "spikes", array, {2: "[T, N]", 3: "[T, B, N] (with sample=...)"})
    return _pick_sample(name, array, sample) if array.ndim == 3 else array


def raster(
    spikes: Any,
    ax: Axes | None = None,
    *,
    sample: int = 0,
    s: float = 20.0,
    c: str = "black",
    off_c: str = "tab:red",
    marker: str = "|",
    title: str | None = None,
) -> Axes:
    """Raster plot: a mark at ``(t, n)`` wherever neuron ``n`` spiked at step ``t``.

    Non-zero entries count as spikes; negative ones (``spikegen.delta``'s
    off-spikes) are drawn in ``off_c``. Graded spikes are drawn like binary ones.

    **Arguments:**

    - ``spikes``: time-first ``[T, N]``, or a batch ``[T, B, N]`` of which sample
      ``sample`` is drawn. Flatten other layouts first, e.g. ``spk.reshape(T, -1)``.
    - ``ax``: the axes to draw into (default: a new figure).
    - ``sample``: which sample of a ``[T, B, N]`` batch to draw (ignored for ``[T, N]``).
    - ``s``, ``c``, ``marker``: the marker size, colour and shape (as ``Axes.scatter``).
    - ``off_c``: the colour of negative spikes.
    - ``title``: the axes title.

    **Returns:** the ``Axes``.

    **Raises:** ``ValueError`` for another rank or a ``sample`` out of range.
    """
    matrix = _spike_matrix("plot.raster", spikes, sample)
    ax = _axes(ax)
    steps, neurons = np.nonzero(matrix > 0)
    ax.scatter(steps, neurons, s=s, c=c, marker=marker, linewidths=1.0)
    steps, neurons = np.nonzero(matrix < 0)
    if steps.size:
        ax.scatter(steps, neurons, s=s, c=off_c, marker=marker, linewidths=1.0)
    ax.set_xlim(-0.5, matrix.shape[0] - 0.5)
    ax.set_ylim(-0.5, matrix.shape[1] - 0.5)
    from matplotlib.ticker import MaxNLocator  # matplotlib is there: ax came from it

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # neuron indices
    ax.set_xlabel("time step")
    ax.set_ylabel("neuron")
    if title is not None:
        ax.set_title(title)
    return ax


def traces(
    values: Any,
    ax: Axes | None = None,
    *,
    threshold: float | None = None,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    ylabel: str = "membrane potential",
) -> Axes:
    """Line plot of one or several signals over time (membrane potentials, currents).

    **Arguments:**

    - ``values``: time-first ``[T]`` (one trace) or ``[T, N]`` (``N`` traces).
    - ``ax``: the axes to draw into (default: a new figure).
    - ``threshold``: if given, a dashed horizontal line at this value.
    - ``labels``: one legend label per trace (``N`` strings).
    - ``title``: the axes title.
    - ``ylabel``: the y-axis label.

    **Returns:** the ``Axes``.

    **Raises:** ``ValueError`` for another rank, or a number of labels that is not ``N``.
    """
    array = as_numpy("plot.traces", "values", values)
    check_rank("plot.traces", "values", array, {1: "[T]", 2: "[T, N]"})
    if array.ndim == 1:
        array = array[:, None]
    if labels is not None and len(labels) != array.shape[1]:
        raise ValueError(
            f"plot.traces: got {len(labels)} labels for {array.shape[1]} traces (values of shape {array.shape})."
        )
    ax = _axes(ax)
    lines = ax.plot(np.arange(array.shape[0]), array)
    if labels is not None:
        for line, label in zip(lines, labels):
            line.set_label(label)
    if threshold is not None:
        ax.axhline(float(threshold), color="gray", linestyle="--", linewidth=1.0, label="threshold")
    if labels is not None or threshold is not None:
        ax.legend(loc="best", fontsize="small")
    ax.set_xlabel("time step")
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    return ax


def spike_counts(
    spikes: Any,
    ax: Axes | None = None,
    *,
    sample: int = 0,
    labels: Sequence[str] | None = None,
    highlight: int | None = None,
    c: str = "tab:blue",
    highlight_c: str = "tab:orange",
    title: str | None = None,
) -> Axes:
    """Bar chart of how often each neuron spiked over the whole sequence.

    For a classifier's output layer this is the rate-coded prediction: the
    tallest bar is the predicted class.

    **Arguments:**

    - ``spikes``: time-first ``[T, N]``, or a batch ``[T, B, N]`` of which sample
      ``sample`` is drawn. Counts are ``spikes.sum(0)`` (off-spikes subtract).
    - ``ax``: the axes to draw into (default: a new figure).
    - ``sample``: which sample of a ``[T, B, N]`` batch to draw (ignored for ``[T, N]``).
    - ``labels``: one tick label per neuron (``N`` strings; default ``0..N-1``).
    - ``highlight``: a neuron whose bar is drawn in ``highlight_c`` (e.g. the target class).
    - ``c``, ``highlight_c``: bar colours.
    - ``title``: the axes title.

    **Returns:** the ``Axes``.

    **Raises:** ``ValueError`` for another rank, a ``sample`` or ``highlight`` out
    of range, or a number of labels that is not ``N``.
    """
    counts = _spike_matrix("plot.spike_counts", spikes, sample).sum(axis=0)
    neurons = counts.shape[0]
    if labels is not None and len(labels) != neurons:
        raise ValueError(f"plot.spike_counts: got {len(labels)} labels for {neurons} neurons.")
    if highlight is not None and not 0 <= highlight < neurons:
        raise ValueError(f"plot.spike_counts: highlight={highlight} is out of range for {neurons} neurons.")
    colours = [highlight_c if n == highlight else c for n in range(neurons)]
    ax = _axes(ax)
    ax.bar(np.arange(neurons), counts, color=colours)
    ax.set_xticks(np.arange(neurons), labels if labels is not None else [str(n) for n in range(neurons)])
    ax.set_xlabel("neuron")
    ax.set_ylabel("spike count")
    if title is not None:
        ax.set_title(title)
    return ax


def animate(
    frames: Any,
    interval: int = 100,
    *,
    ax: Axes | None = None,
    cmap: str = "gray",
    title: str | None = None,
    show_step: bool = True,
    vmin: float | None = None,
    vmax: float | None = None,
) -> FuncAnimation:
    """Animate frames over time, one frame per step (snnTorch's ``spikeplot.animator``).

    The colour scale is fixed over the whole sequence (by default the minimum and
    maximum over all frames), so brightness is comparable between steps. Keep a reference
    to the returned animation while it plays. Save it with
    [`save_gif`][snnax_torchlike.plot.save_gif] (a GIF file that a notebook also
    shows inline), or play it in a notebook with ``IPython.display.HTML(anim.to_jshtml())``.

    **Arguments:**

    - ``frames``: time-first ``[T, H, W]``, or ``[T, C, H, W]`` whose channels are
      summed (e.g. the on and off polarities of event data).
    - ``interval``: milliseconds between frames.
    - ``ax``: the axes to draw into (default: a new figure).
    - ``cmap``: the colour map.
    - ``title``: the axes title.
    - ``show_step``: write the current step in the corner.
    - ``vmin``, ``vmax``: the values at the ends of the colour scale (default: the
      minimum and maximum of ``frames``).

    **Returns:** a ``matplotlib.animation.FuncAnimation``, showing the first frame.
    It draws into ``ax.figure`` (pass ``ax`` to choose the figure; without it,
    ``plt.gcf()`` right after the call is the new one).

    **Raises:** ``ValueError`` for another rank or an empty time axis.
    """
    array = as_numpy("plot.animate", "frames", frames)
    check_rank("plot.animate", "frames", array, {3: "[T, H, W]", 4: "[T, C, H, W]"})
    if array.shape[0] < 1:
        raise ValueError(f"plot.animate: frames needs at least one time step, got shape {array.shape}.")
    if array.ndim == 4:
        array = array.sum(axis=1)
    height, width = array.shape[1:]
    figsize = (4.0, min(8.0, max(1.5, 4.0 * height / width)) + 0.6)
    ax = _axes(ax, figsize=figsize)  # imports matplotlib, with a clear error when it is missing
    from matplotlib import animation

    low = float(array.min()) if vmin is None else float(vmin)
    high = float(array.max()) if vmax is None else float(vmax)
    image = ax.imshow(array[0], cmap=cmap, vmin=low, vmax=high if high > low else low + 1.0)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    label = ax.text(0.02, 0.98, "", transform=ax.transAxes, va="top", color="tab:orange") if show_step else None

    def update(step: int) -> list[Any]:
        image.set_data(array[step])
        if label is None:
            return [image]
        label.set_text(f"t = {step}")
        return [image, label]

    update(0)
    return animation.FuncAnimation(ax.figure, update, frames=array.shape[0], interval=interval, blit=False)


def save_figure(fig: Any, path: str | os.PathLike[str], *, close: bool | None = None, dpi: int = 100) -> Path:
    """Write a figure to an image file (tightly laid out and cropped), as the tutorials do.

    **Arguments:**

    - ``fig``: a matplotlib figure (``ax.figure`` for the axes the functions here return).
    - ``path``: the file to write; its suffix picks the format (``.png``, ``.svg``, ...).
    - ``close``: close the figure afterwards. None (default): close it in a script,
      keep it open inside a Jupyter kernel, where it then shows inline under the cell.
    - ``dpi``: the resolution of raster formats.

    **Returns:** ``path`` as a ``Path``.
    """
    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    if close if close is not None else not _in_jupyter_kernel():
        pyplot().close(fig)
    return path


def _in_jupyter_kernel() -> bool:
    """Whether this code runs inside a Jupyter kernel (not merely in a process that imported ipykernel)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


class Gif:
    """A GIF file written by [`save_gif`][snnax_torchlike.plot.save_gif].

    ``path`` is the file. In a notebook (Jupyter, VS Code, the docs site's
    executed tutorials), a ``Gif`` as a cell's last expression shows as the
    playing animation: its HTML form is an ``<img>`` holding the GIF's bytes.
    """

    def __init__(self, path: Path):
        self.path = path

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.path.read_bytes()).decode("ascii")
        return f'<img src="data:image/gif;base64,{data}" alt="{self.path.name}">'

    def __repr__(self) -> str:
        return f"Gif({str(self.path)!r})"


def save_gif(anim: FuncAnimation, path: str | os.PathLike[str], *, close: bool = True) -> Gif:
    """Write an animation (e.g. from [`animate`][snnax_torchlike.plot.animate]) to a GIF file.

    **Arguments:**

    - ``anim``: a matplotlib animation.
    - ``path``: the file to write (its folder must exist).
    - ``close``: close the animation's figure afterwards, so a notebook shows the
      GIF rather than also a still of the last frame.

    **Returns:** a [`Gif`][snnax_torchlike.plot.Gif], which a notebook shows inline.

    **Raises:** ``ValueError`` when ``path`` does not end in ``.gif``.
    """
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"plot.save_gif: path must end in .gif, got {str(path)!r}.")
    anim.save(path, writer="pillow")
    if close:
        # matplotlib's animations keep their figure in ``_fig``; there is no public accessor.
        pyplot().close(anim._fig)
    return Gif(path)
