"""Plots of spikes, membranes, event frames and training runs, time-first like snnTorch's ``spikeplot``.

matplotlib is an optional dependency (the ``plot`` extra: ``pip install
"snnax-torchlike[plot]"``). It is imported when a function here is first called,
never by ``import snnax_torchlike``.

- ``raster``: spike times as dots, time on the x axis and neurons on the y axis;
- ``traces``: membrane potentials (or any signal) over time, with the threshold;
- ``spike_counts``: a bar chart of each neuron's spike count over the sequence;
- ``history``: the loss and metric curves of a training run (what ``fit`` returns), per epoch;
- ``animate``: a ``FuncAnimation`` of frames (images, event camera frames) over time;
- ``save_figure``: write a figure as a PNG, closing it in scripts and keeping it to show inline in notebooks;
- ``save_gif``: write an animation as a GIF, which a notebook then shows inline.

Every function takes numpy arrays, JAX arrays or torch tensors, time-first
(``[T, ...]``), draws into ``ax`` when one is given (else into a new figure) and
returns the ``Axes`` (``animate``: the animation; ``history``: one ``Axes`` per
panel), so you can style it further or call ``ax.figure.savefig(path)``.
``raster``, ``spike_counts`` and ``traces`` also take a network's outputs as they
come, the ``(spk, mem)`` pair of ``net(x)`` or ``predict``: the spike plots draw
``spk``, ``traces`` draws ``mem``. Shapes are checked: a wrong rank raises a
``ValueError`` naming the function, the expected layouts and the actual shape;
non-numeric input raises a ``TypeError``:

```python
from snnax_torchlike import plot

outputs = net(x)                                # (spk, mem), [T, B, N] each
ax = plot.raster(outputs, sample=0, title="output spikes")
ax.figure.savefig("raster.png")
plot.history(net.fit(loader, epochs=5, val_loader=val_loader, ...))
```
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .nn.module import to_numpy

if TYPE_CHECKING:  # matplotlib is optional: only type checkers import it here
    from matplotlib.animation import FuncAnimation
    from matplotlib.axes import Axes

__all__ = ["raster", "traces", "spike_counts", "history", "animate", "save_figure", "save_gif", "Gif"]


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


def _from_outputs(name: str, argument: str, value: Any, index: int) -> tuple[Any, str]:
    """``value[index]`` and its name when ``value`` is a network's ``(spk, mem)`` outputs, else ``value`` itself.

    A tuple counts as outputs when it holds an array of rank 1 or more; a tuple of
    plain numbers (or nested tuples of them) stays array data, as numpy reads it.
    """
    if not isinstance(value, tuple) or not any(len(getattr(element, "shape", ())) > 0 for element in value):
        return value, argument
    if len(value) != 2:
        raise ValueError(
            f"{name}: expected {argument} as an array or a network's outputs (spk, mem), got a tuple of "
            f"{len(value)} arrays. Pass the array to draw itself, e.g. outputs[0]."
        )
    return value[index], f"{argument} (outputs[{index}])"


def _spike_matrix(name: str, spikes: Any, sample: int) -> np.ndarray:
    """Validated spikes ``[T, N]`` from ``[T, N]``, ``[T, B, N]`` or outputs ``(spk, mem)``."""
    spikes, argument = _from_outputs(name, "spikes", spikes, 0)
    array = as_numpy(name, argument, spikes)
    check_rank(name, argument, array, {2: "[T, N]", 3: "[T, B, N] (with sample=...)"})
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
      ``sample`` is drawn, or a network's outputs ``(spk, mem)`` (``spk`` is drawn).
      Flatten other layouts first, e.g. ``spk.reshape(T, -1)``.
    - ``ax``: the axes to draw into (default: a new figure).
    - ``sample``: which sample of a ``[T, B, N]`` batch to draw (ignored for ``[T, N]``).
    - ``s``, ``c``, ``marker``: the marker size, colour and shape (as ``Axes.scatter``).
    - ``off_c``: the colour of negative spikes.
    - ``title``: the axes title.

    **Returns:** the ``Axes``.

    **Raises:** ``ValueError`` for another rank, a ``sample`` out of range, or a
    tuple that is not ``(spk, mem)``.
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
    sample: int = 0,
    threshold: float | None = None,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    ylabel: str = "membrane potential",
) -> Axes:
    """Line plot of one or several signals over time (membrane potentials, currents).

    **Arguments:**

    - ``values``: time-first ``[T]`` (one trace), ``[T, N]`` (``N`` traces), a batch
      ``[T, B, N]`` of which sample ``sample`` is drawn, or a network's outputs
      ``(spk, mem)`` (the membrane ``mem`` is drawn).
    - ``ax``: the axes to draw into (default: a new figure).
    - ``sample``: which sample of a ``[T, B, N]`` batch to draw (ignored for ``[T]`` and ``[T, N]``).
    - ``threshold``: if given, a dashed horizontal line at this value.
    - ``labels``: one legend label per trace (``N`` strings).
    - ``title``: the axes title.
    - ``ylabel``: the y-axis label.

    **Returns:** the ``Axes``.

    **Raises:** ``ValueError`` for another rank, a ``sample`` out of range, a number
    of labels that is not ``N``, or a tuple that is not ``(spk, mem)``.
    """
    values, argument = _from_outputs("plot.traces", "values", values, 1)
    array = as_numpy("plot.traces", argument, values)
    check_rank("plot.traces", argument, array, {1: "[T]", 2: "[T, N]", 3: "[T, B, N] (with sample=...)"})
    if array.ndim == 3:
        array = _pick_sample("plot.traces", array, sample)
    elif array.ndim == 1:
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
      ``sample`` is drawn, or a network's outputs ``(spk, mem)`` (``spk`` is
      counted). Counts are ``spikes.sum(0)`` (off-spikes subtract).
    - ``ax``: the axes to draw into (default: a new figure).
    - ``sample``: which sample of a ``[T, B, N]`` batch to draw (ignored for ``[T, N]``).
    - ``labels``: one tick label per neuron (``N`` strings; default ``0..N-1``).
    - ``highlight``: a neuron whose bar is drawn in ``highlight_c`` (e.g. the target class).
    - ``c``, ``highlight_c``: bar colours.
    - ``title``: the axes title.

    **Returns:** the ``Axes``.

    **Raises:** ``ValueError`` for another rank, a ``sample`` or ``highlight`` out
    of range, a number of labels that is not ``N``, or a tuple that is not ``(spk, mem)``.
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


_VAL = "val_"
_TITLES = {"lr": "learning rate"}


def _history_logs(history: Any) -> dict[str, np.ndarray]:
    """The logged curves of a ``History`` (or anything with a ``.history`` dict, like Keras') or of a dict."""
    logs = history if isinstance(history, Mapping) else getattr(history, "history", None)
    if not isinstance(logs, Mapping):
        raise TypeError(
            "plot.history: expected a History (what fit returns) or a dict name -> per-epoch values, "
            f"got {type(history)}."
        )
    if not logs:
        raise ValueError("plot.history: the history is empty (nothing logged yet); fit fills it in, once per epoch.")
    curves = {}
    for name, values in logs.items():
        curve = as_numpy("plot.history", f"history[{name!r}]", values)
        check_rank("plot.history", f"history[{name!r}]", curve, {1: "[epochs] (one value per epoch)"})
        curves[str(name)] = curve
    return curves


def _panel_keys(curves: Mapping[str, np.ndarray], keys: str | Sequence[str] | None) -> list[str]:
    """The quantities to draw, one panel each: ``keys``, or every logged name but ``lr`` and the ``val_`` twins."""
    if keys is None:
        # A validation-only quantity (no training twin) gets a panel of its own.
        chosen = [
            name for name in curves if name != "lr" and (not name.startswith(_VAL) or name[len(_VAL) :] not in curves)
        ]
        return chosen or list(curves)  # e.g. a dict holding only "lr"
    chosen = [keys] if isinstance(keys, str) else list(keys)
    if not chosen:
        raise ValueError(f"plot.history: keys selects no quantity; the history has {', '.join(curves)}.")
    unknown = [key for key in chosen if key not in curves]
    if unknown:
        raise ValueError(
            f"plot.history: unknown key(s) {', '.join(map(repr, unknown))}; the history has {', '.join(curves)}."
        )
    return list(dict.fromkeys(chosen))  # drop repeats, keep the order


def _epoch_numbers(history: Any, length: int) -> np.ndarray:
    """The x values: ``history.epoch`` counted from 1 (as the progress bar prints them), else ``1..length``."""
    epochs = None if isinstance(history, Mapping) else getattr(history, "epoch", None)
    if epochs is None:
        return np.arange(1, length + 1)
    epochs = np.asarray(epochs)
    if epochs.shape != (length,):
        raise ValueError(
            f"plot.history: history.epoch lists {epochs.size} epochs but the curves hold {length} values each."
        )
    return epochs + 1


def history(
    history: Any,
    *,
    keys: str | Sequence[str] | None = None,
    axes: Axes | Sequence[Axes] | None = None,
    titles: Mapping[str, str] | None = None,
    labels: tuple[str, str] = ("training", "validation"),
    figsize: tuple[float, float] | None = None,
) -> list[Axes]:
    """Loss and metric curves of a training run, one panel per quantity, against the epoch.

    Each panel draws a logged quantity (``"loss"``, a metric) and, when there is
    one, its validation twin ``"val_<name>"`` on the same axes, with a legend. The
    x axis counts epochs from 1, as the progress bar does ("Epoch 1/N"). The
    learning rate ``"lr"``, which ``fit`` logs every epoch, is left out unless
    ``keys`` names it, as it is flat without a scheduler.

    **Arguments:**

    - ``history``: what ``fit`` returns (a ``History``: ``history.history`` maps
      names to one float per epoch), Keras' ``History``, or a plain dict
      ``name -> per-epoch values``.
    - ``keys``: the quantities to draw, one panel each, in this order (a name or a
      list of names, e.g. ``["loss", "accuracy_rate", "lr"]``). Name the training
      quantity; its ``val_`` twin comes along. Default: every logged name but
      ``lr`` and the ``val_`` twins.
    - ``axes``: the axes to draw into, one per panel (an ``Axes`` for one panel;
      default: a new figure with the panels side by side).
    - ``titles``: panel titles by key, e.g. ``{"accuracy_rate": "accuracy"}``
      (default: the key; ``"learning rate"`` for ``lr``).
    - ``labels``: the legend labels of the training and the validation curves
      (e.g. ``("training", "test")`` when the validation loader is the test set).
    - ``figsize``: the size of a new figure (default: 4 x 3 inches per panel).

    **Returns:** a list with the ``Axes`` of each panel, in the order of ``keys``.

    **Raises:** ``TypeError`` for something that is not a history or a dict, or
    values that are not numbers; ``ValueError`` for an empty history, unknown
    ``keys`` or ``titles``, curves of different lengths, or a number of ``axes``
    that is not the number of panels.
    """
    curves = _history_logs(history)
    panels = _panel_keys(curves, keys)
    titles = dict(titles or {})
    unknown = [key for key in titles if key not in panels]
    if unknown:
        raise ValueError(
            f"plot.history: titles given for {', '.join(map(repr, unknown))}, which are not drawn; "
            f"the panels are {', '.join(panels)}."
        )
    if len(labels) != 2:
        raise ValueError(f"plot.history: labels must be (training, validation), got {labels!r}.")
    lines = {}  # panel -> [(label, curve)]
    for key in panels:
        if key.startswith(_VAL):
            lines[key] = [(labels[1], key)]
        else:
            twin = _VAL + key
            lines[key] = [(labels[0], key)] + ([(labels[1], twin)] if twin in curves else [])
    drawn = list(dict.fromkeys(name for pairs in lines.values() for _, name in pairs))
    lengths = {name: curves[name].size for name in drawn}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}: {length}" for name, length in lengths.items())
        raise ValueError(
            f"plot.history: the curves need one value per epoch each, but their lengths differ ({listed})."
        )
    length = next(iter(lengths.values()))
    if length == 0:
        raise ValueError(f"plot.history: the history holds no epochs yet ({', '.join(drawn)} are empty).")
    x = _epoch_numbers(history, length)

    if axes is None:
        width, height = figsize if figsize is not None else (4.0 * len(panels), 3.0)
        _, grid = pyplot().subplots(1, len(panels), figsize=(width, height), squeeze=False)
        axes = list(grid[0])
    else:
        axes = [axes] if hasattr(axes, "plot") else list(np.asarray(axes, dtype=object).ravel())
        if len(axes) != len(panels):
            raise ValueError(f"plot.history: got {len(axes)} axes for {len(panels)} panels ({', '.join(panels)}).")
    from matplotlib.ticker import MaxNLocator  # matplotlib is there: the axes came from it

    for ax, key in zip(axes, panels):
        for label, name in lines[key]:
            ax.plot(x, curves[name], marker=".", label=label)
        if any(name.startswith(_VAL) for _, name in lines[key]):
            ax.legend(loc="best", fontsize="small")
        base = key[len(_VAL) :] if key.startswith(_VAL) else key
        ax.set_title(titles.get(key, _TITLES.get(base, base)))
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    return axes


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
