"""``snntorch.spikeplot``: snnTorch's plotting functions with its names, arguments and artists.

``import snnax_torchlike.snntorch.spikeplot as splt`` runs snnTorch's plotting
code unchanged, on torch tensors, JAX arrays, facade tensors or numpy arrays
(time-first). Each function is a thin adapter over
[`snnax_torchlike.plot`][], which has the library's own (more configurable)
versions; matplotlib is imported at the first call, as there.

| snnTorch | here |
|---|---|
| ``raster(data, ax, **kwargs)`` | the same scatter of ``(t, n)`` where ``data != 0``; ``[T]`` or ``[T, N]`` only |
| ``spike_count(data, fig, ax, labels, ...)`` | the same horizontal count bars, dots, shading and animated time bar |
| ``traces(data, spk=None, dim=(3, 3), spk_height=5, titles=None)`` | the same grid of traces on the current figure |
| ``animator(data, fig, ax, num_steps=False, interval=40, cmap="plasma")`` | the same frames, as a ``FuncAnimation`` |

Differences, all where snnTorch fails or reaches outside the call: ``raster`` refuses
data of rank 3 or more (snnTorch passes the third index as marker sizes: flatten
with ``data.reshape(T, -1)``, as snnTorch's tutorial does); ``spike_count`` draws
into ``ax`` (snnTorch draws into ``plt.gca()``) and leaves matplotlib's global
``rcParams`` alone (snnTorch rewrites five of them); its shading is drawn once,
for the axis limits it sets. ``animator`` returns a ``FuncAnimation`` that redraws
one image (snnTorch: an ``ArtistAnimation`` of one image per step); both have
``save``, ``to_jshtml`` and ``to_html5_video``. snnTorch's helper class ``Camera``
(a copy of the ``celluloid`` package) is not provided: use ``matplotlib.animation``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from snnax_torchlike import plot
from snnax_torchlike.plot import as_numpy, check_rank, pyplot

if TYPE_CHECKING:  # matplotlib is optional: only type checkers import it here
    from matplotlib.animation import FuncAnimation
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure

__all__ = ["raster", "spike_count", "traces", "animator"]

_BAR_COLOUR = "#007ACC"
_TEXT_COLOUR = "#333F4B"


def _num_steps(name: str, num_steps: int | bool, available: int, at_most: int | None) -> int:
    """snnTorch's ``num_steps``: ``False`` (or 0) for the ``available`` steps, else an int in ``[1, at_most]``."""
    if num_steps is False or num_steps is None or num_steps == 0:
        return available
    if isinstance(num_steps, bool) or not isinstance(num_steps, int | np.integer) or num_steps < 1:
        raise ValueError(f"spikeplot.{name}: num_steps must be False or an int >= 1, got {num_steps!r}.")
    if at_most is not None and num_steps > at_most:
        raise ValueError(f"spikeplot.{name}: num_steps={num_steps} exceeds the {at_most} steps of data.")
    return int(num_steps)


def _same_figure(name: str, fig: Figure, ax: Axes) -> None:
    if fig is not ax.figure:
        raise ValueError(f"spikeplot.{name}: ax must belong to fig (an animation records the figure it is given).")


def raster(data: Any, ax: Axes, **kwargs: Any) -> PathCollection:
    """Raster plot: a point at ``(t, n)`` wherever ``data[t, n]`` is non-zero (snnTorch's ``raster``).

    **Arguments:**

    - ``data``: spikes ``[T, N]``, or ``[T]`` for one neuron (drawn at ``n = 0``).
      Flatten other layouts first, e.g. ``data.reshape(T, -1)``.
    - ``ax``: the axes to draw into.
    - ``kwargs``: passed to ``ax.scatter`` (e.g. ``s=1.5, c="black"``).

    **Returns:** the ``PathCollection`` of ``ax.scatter``.

    **Raises:** ``ValueError`` for data of another rank.
    """
    array = as_numpy("spikeplot.raster", "data", data)
    check_rank("spikeplot.raster", "data", array, {1: "[T]", 2: "[T, N] (reshape other layouts to [T, -1])"})
    return ax.scatter(*np.nonzero(array.reshape(array.shape[0], -1)), **kwargs)


def _style_count_axes(ax: Axes, rows: np.ndarray, labels: Sequence[str], time_step: float | bool) -> None:
    """snnTorch's look of ``spike_count``: labelled rows, bold axis titles, open top and right."""
    font = {"fontsize": 15, "fontweight": "black", "color": _TEXT_COLOUR}
    ax.set_xlabel("Time [s]" if time_step else "Time Step", **font)
    ax.set_ylabel("Labels", **font)
    ax.tick_params(axis="both", which="major", labelsize=12)
    ax.set_yticks(rows, list(labels))
    ax.spines["top"].set_color("none")
    ax.spines["right"].set_color("none")
    ax.spines["bottom"].set_position(("axes", -0.04))
    ax.spines["left"].set_position(("axes", 0.0))
    if time_step:
        ticks = ax.get_xticks()
        ax.set_xticks(ticks, [float(tick) * time_step for tick in ticks])


def _shade_alternate_ticks(ax: Axes) -> None:
    """Grey bands over every other interval between the x ticks inside the limits, from the second on."""
    ax.autoscale(False, axis="x")
    low, high = ax.get_xlim()
    ticks = ax.get_xticks()
    edges = np.concatenate([[low], ticks[(ticks > low) & (ticks < high)], [high]])
    for start, end in zip(edges[1::2], edges[2::2]):
        ax.axvspan(start, end, zorder=0, facecolor="lightgrey", alpha=0.7)


def spike_count(
    data: Any,
    fig: Figure,
    ax: Axes,
    labels: Sequence[str],
    num_steps: int | bool = False,
    animate: bool = False,
    interpolate: int = 1,
    gridshader: bool = True,
    interval: int = 25,
    time_step: float | bool = False,
) -> FuncAnimation | None:
    """Horizontal bars of each output's spike count (snnTorch's ``spike_count``), optionally animated.

    Row ``n`` (at ``y = n + 1``, labelled ``labels[n]``) is a bar from 0 to the
    count of ``data[:, n]`` with a dot at its end; the x axis spans ``[0, num_steps]``.

    **Arguments:**

    - ``data``: spikes ``[T, N]`` of one sample.
    - ``fig``: the figure of ``ax`` (the animation records it).
    - ``ax``: the axes to draw into.
    - ``labels``: one name per output (``N`` strings).
    - ``num_steps``: the steps to count and the x range (default ``False``: all
      ``T``; a larger value lengthens the x axis).
    - ``animate``: return an animation in which the counts grow step by step behind
      an orange time bar; frame ``i`` shows the counts of the first
      ``floor(i / interpolate)`` steps, as snnTorch's.
    - ``interpolate``: frames per step (a smoother time bar).
    - ``gridshader``: shade every other interval between the x ticks.
    - ``interval``: milliseconds between frames.
    - ``time_step``: the duration of a step in seconds: the x ticks are then
      labelled in seconds (default ``False``: in steps).

    **Returns:** the ``FuncAnimation`` with ``animate=True`` (``num_steps *
    interpolate`` frames), else ``None``.

    **Raises:** ``ValueError`` for data not ``[T, N]``, a number of labels that is
    not ``N``, ``num_steps`` or ``interpolate`` out of range, or (animated) ``ax``
    not in ``fig``.
    """
    spikes = as_numpy("spikeplot.spike_count", "data", data)
    check_rank("spikeplot.spike_count", "data", spikes, {2: "[T, N]"})
    if len(labels) != spikes.shape[1]:
        raise ValueError(
            f"spikeplot.spike_count: got {len(labels)} labels for {spikes.shape[1]} outputs "
            f"(data of shape {spikes.shape})."
        )
    if isinstance(interpolate, bool) or not isinstance(interpolate, int | np.integer) or interpolate < 1:
        raise ValueError(f"spikeplot.spike_count: interpolate must be an int >= 1, got {interpolate!r}.")
    steps = _num_steps("spike_count", num_steps, spikes.shape[0], None)  # a longer x axis is allowed
    if animate:
        _same_figure("spike_count", fig, ax)
    pyplot()  # a clear error when matplotlib is missing
    rows = np.arange(1, spikes.shape[1] + 1)
    first = 0 if animate else steps
    counts = spikes[:first].sum(axis=0)
    ax.set_xlim(0, steps)
    bars = ax.hlines(rows, 0, counts, color=_BAR_COLOUR, alpha=0.5, linewidth=8)
    (dots,) = ax.plot(counts, rows, "o", markersize=8, color=_BAR_COLOUR, alpha=0.6)
    _style_count_axes(ax, rows, labels, time_step)
    if gridshader:
        _shade_alternate_ticks(ax)
    if not animate:
        return None
    from matplotlib import animation

    scanner = ax.axvline(0.0, color="tab:orange", linewidth=3)

    def update(frame: int) -> list[Any]:
        counts = spikes[: frame // interpolate].sum(axis=0)
        bars.set_segments([[(0.0, row), (count, row)] for row, count in zip(rows, counts)])
        dots.set_xdata(counts)
        scanner.set_xdata([frame / interpolate] * 2)
        return [bars, dots, scanner]

    return animation.FuncAnimation(fig, update, frames=steps * interpolate, interval=interval, blit=False)


def traces(
    data: Any,
    spk: Any = None,
    dim: tuple[int, int] = (3, 3),
    spk_height: float = 5,
    titles: Sequence[str] | None = None,
) -> None:
    """A grid of single-trace plots on the current figure (snnTorch's ``traces``).

    Panel ``i`` (row-major in a ``dim`` grid, sharing the first panel's y axis,
    without axes) plots ``data[:, i]``, plus ``spk_height * spk[:, i]`` when
    spikes are given, so that spikes ride on the trace as peaks.

    **Arguments:**

    - ``data``: traces ``[T, N]`` (membrane potentials, currents), ``N >= dim[0] * dim[1]``.
    - ``spk``: spikes of the shape of ``data``, or ``None``.
    - ``dim``: rows and columns of the grid.
    - ``spk_height``: the height added where a spike occurred.
    - ``titles``: panel titles, in order (the first ``len(titles)`` panels get one).

    **Returns:** ``None``, as snnTorch's (the panels are ``plt.gcf().axes``).

    **Raises:** ``ValueError`` for data not ``[T, N]``, too few traces for the grid,
    or ``spk`` of another shape.
    """
    values = as_numpy("spikeplot.traces", "data", data)
    check_rank("spikeplot.traces", "data", values, {2: "[T, N]"})
    panels = math.prod(dim)
    if values.shape[1] < panels:
        raise ValueError(
            f"spikeplot.traces: a {dim[0]}x{dim[1]} grid needs {panels} traces, got data of shape "
            f"{values.shape}; pass dim=(rows, columns) with rows * columns <= {values.shape[1]}."
        )
    if spk is not None:
        spikes = as_numpy("spikeplot.traces", "spk", spk)
        if spikes.shape != values.shape:
            raise ValueError(f"spikeplot.traces: spk must have the shape of data {values.shape}, got {spikes.shape}.")
        values = values + spk_height * spikes
    figure = pyplot().gcf()
    from matplotlib.gridspec import GridSpec

    grid = GridSpec(*dim, figure=figure)
    first = None
    for i in range(panels):
        ax = figure.add_subplot(grid[i], sharey=first)
        first = ax if first is None else first
        if titles is not None and i < len(titles):
            ax.set_title(titles[i])
        plot.traces(values[:, i], ax)
        ax.axis("off")


def animator(
    data: Any,
    fig: Figure,
    ax: Axes,
    num_steps: int | bool = False,
    interval: int = 40,
    cmap: str = "plasma",
) -> FuncAnimation:
    """Animate the frames of one sample over time (snnTorch's ``animator``).

    **Arguments:**

    - ``data``: frames ``[T, H, W]`` (e.g. ``spike_data[:, 0, 0]`` of a ``[T, B, 1, 28, 28]`` batch).
    - ``fig``: the figure of ``ax``.
    - ``ax``: the axes to draw into; its axis is switched off.
    - ``num_steps``: how many of the first steps to show (default ``False``: all ``T``).
    - ``interval``: milliseconds between frames.
    - ``cmap``: the colour map; its ends are the minimum and maximum of all of ``data``.

    **Returns:** a ``matplotlib.animation.FuncAnimation`` of ``num_steps`` frames
    (save it with ``anim.save("x.gif")`` or [`snnax_torchlike.plot.save_gif`][]).

    **Raises:** ``ValueError`` for data not ``[T, H, W]``, ``num_steps`` out of range,
    or ``ax`` not in ``fig``.
    """
    frames = as_numpy("spikeplot.animator", "data", data)
    check_rank("spikeplot.animator", "data", frames, {3: "[T, H, W]"})
    steps = _num_steps("animator", num_steps, frames.shape[0], frames.shape[0])
    _same_figure("animator", fig, ax)
    anim = plot.animate(
        frames[:steps], interval, ax=ax, cmap=cmap, show_step=False, vmin=frames.min(), vmax=frames.max()
    )
    ax.axis("off")
    return anim
