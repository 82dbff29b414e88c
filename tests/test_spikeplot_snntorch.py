"""``snnax_torchlike.snntorch.spikeplot`` draws what the real ``snntorch.spikeplot`` draws on the same data.

Each function runs on torch tensors (as snnTorch's scripts pass them) and on the
library's own arrays, and its artists (points, bar lengths, labels, frames) are
compared with those snnTorch's function puts on a figure of its own.
"""

import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import snntorch.spikeplot as theirs  # noqa: E402
import torch  # noqa: E402

import snnax_torchlike as snx  # noqa: E402
from snnax_torchlike.snntorch import spikeplot as ours  # noqa: E402

# snnTorch's animator hands torch tensors to imshow, which numpy 2 warns about.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

RNG = np.random.default_rng(0)
SPIKES = (RNG.random((12, 4)) < 0.3).astype(np.float32)
FRAMES = RNG.random((5, 6, 7)).astype(np.float32)
MEM = RNG.normal(size=(15, 9)).astype(np.float32)
LABELS = ["zero", "one", "two", "three"]

# The same data as torch tensors (one needing grad, as a network's output), JAX arrays and facade tensors.
AS = {
    "torch": lambda a: torch.from_numpy(a).requires_grad_(True) * 1.0,
    "jax": jnp.asarray,
    "tensor": snx.Tensor,
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _segments(collection):
    return [np.asarray(segment) for segment in collection.get_segments()]


def _assert_segments_equal(a, b):
    assert len(_segments(a)) == len(_segments(b))
    for left, right in zip(_segments(a), _segments(b)):
        np.testing.assert_allclose(left, right)


@pytest.mark.parametrize("kind", list(AS))
def test_raster_draws_snntorchs_scatter(kind):
    for data in (SPIKES, SPIKES[:, 1]):  # [T, N] and one neuron [T]
        _, (ax_t, ax_o) = plt.subplots(1, 2)
        reference = theirs.raster(torch.from_numpy(data), ax_t, s=1.5, c="black")
        points = ours.raster(AS[kind](data), ax_o, s=1.5, c="black")
        np.testing.assert_array_equal(np.asarray(points.get_offsets()), np.asarray(reference.get_offsets()))
        np.testing.assert_array_equal(points.get_sizes(), reference.get_sizes())
        np.testing.assert_array_equal(points.get_facecolors(), reference.get_facecolors())
        assert list(ax_o.collections) == [points]


def test_raster_refuses_unflattened_frames():
    _, ax = plt.subplots()
    with pytest.raises(
        ValueError, match=r"spikeplot.raster: expected data of shape \[T\] or \[T, N\].*got shape \(5, 6, 7\)"
    ):
        ours.raster(FRAMES, ax)


@pytest.mark.parametrize("time_step", [False, 1e-3])
def test_spike_count_draws_snntorchs_bars(time_step):
    figures = {}
    for name, module, data in [("theirs", theirs, torch.from_numpy(SPIKES)), ("ours", ours, AS["torch"](SPIKES))]:
        fig, ax = plt.subplots()
        assert module.spike_count(data, fig, ax, LABELS, time_step=time_step) is None
        figures[name] = ax
    ax_t, ax_o = figures["theirs"], figures["ours"]
    _assert_segments_equal(ax_o.collections[0], ax_t.collections[0])  # bars from 0 to each count, at y = 1..N
    np.testing.assert_array_equal(ax_o.lines[0].get_xydata(), ax_t.lines[0].get_xydata())  # the dots
    np.testing.assert_array_equal(ax_o.lines[0].get_xdata(), SPIKES.sum(0))
    assert ax_o.get_xlim() == ax_t.get_xlim()
    assert [t.get_text() for t in ax_o.get_yticklabels()] == LABELS == [t.get_text() for t in ax_t.get_yticklabels()]
    assert [t.get_text() for t in ax_o.get_xticklabels()] == [t.get_text() for t in ax_t.get_xticklabels()]
    assert ax_o.get_xlabel() == ax_t.get_xlabel() and ax_o.get_ylabel() == ax_t.get_ylabel()
    shading = [(p.get_x(), p.get_width()) for p in ax_o.patches]
    assert shading == [(p.get_x(), p.get_width()) for p in ax_t.patches] and shading


def test_spike_count_animation_has_snntorchs_frames():
    fig_t, ax_t = plt.subplots()  # snnTorch draws into plt.gca(): its figure must be the current one
    reference = theirs.spike_count(torch.from_numpy(SPIKES), fig_t, ax_t, LABELS, animate=True, interpolate=3)
    fig_o, ax_o = plt.subplots()
    anim = ours.spike_count(jnp.asarray(SPIKES), fig_o, ax_o, LABELS, animate=True, interpolate=3)
    frames = len(reference._framedata)
    assert frames == SPIKES.shape[0] * 3 == len(list(anim.new_frame_seq()))
    for frame in (0, 4, frames - 1):
        expected = reference._framedata[frame]
        bars, dots, scanner = anim._func(frame)
        _assert_segments_equal(bars, expected[0])
        lines = [artist for artist in expected if isinstance(artist, matplotlib.lines.Line2D)]
        np.testing.assert_array_equal(dots.get_xydata(), lines[0].get_xydata())
        np.testing.assert_allclose(scanner.get_xdata(), lines[1].get_xdata())
    fig_t.canvas.draw(), fig_o.canvas.draw()  # an animation never drawn warns when freed


def test_traces_draws_snntorchs_grid():
    spk = (MEM > 1.0).astype(np.float32)
    theirs.traces(torch.from_numpy(MEM), spk=torch.from_numpy(spk), titles=["a", "b"])
    reference = plt.gcf()
    plt.figure()
    ours.traces(AS["tensor"](MEM), spk=AS["torch"](spk), titles=["a", "b"])
    figure = plt.gcf()
    assert len(figure.axes) == len(reference.axes) == 9
    for ax_o, ax_t in zip(figure.axes, reference.axes):
        assert len(ax_o.lines) == len(ax_t.lines) == 1
        np.testing.assert_allclose(ax_o.lines[0].get_xydata(), ax_t.lines[0].get_xydata())
        assert ax_o.get_title() == ax_t.get_title() and not ax_o.axison
        assert ax_o.get_subplotspec().get_geometry() == ax_t.get_subplotspec().get_geometry()
    assert figure.axes[5].get_shared_y_axes().joined(figure.axes[0], figure.axes[5])


def test_traces_refuses_too_few_traces_and_mismatched_spikes():
    with pytest.raises(ValueError, match=r"a 3x3 grid needs 9 traces, got data of shape \(15, 4\)"):
        ours.traces(MEM[:, :4])
    with pytest.raises(ValueError, match=r"spk must have the shape of data \(15, 9\), got \(15, 8\)"):
        ours.traces(MEM, spk=MEM[:, :8])


def test_animator_shows_snntorchs_frames():
    fig_t, ax_t = plt.subplots()
    reference = theirs.animator(torch.from_numpy(FRAMES), fig_t, ax_t, num_steps=4, cmap="viridis")
    fig_o, ax_o = plt.subplots()
    anim = ours.animator(AS["torch"](FRAMES), fig_o, ax_o, num_steps=4, cmap="viridis")
    assert len(reference._framedata) == len(list(anim.new_frame_seq())) == 4
    image = ax_o.images[0]
    for frame in range(4):
        anim._func(frame)
        expected = reference._framedata[frame][0]
        np.testing.assert_array_equal(np.asarray(image.get_array()), np.asarray(expected.get_array()))
        np.testing.assert_allclose(image.get_clim(), expected.get_clim())  # the whole data's range, as snnTorch
    assert image.get_cmap().name == "viridis" and not ax_o.axison
    fig_t.canvas.draw(), fig_o.canvas.draw()  # an animation never drawn warns when freed
    with pytest.raises(ValueError, match="ax must belong to fig"):
        ours.animator(FRAMES, fig_t, ax_o)
    with pytest.raises(ValueError, match="num_steps=9 exceeds the 5 steps"):
        ours.animator(FRAMES, fig_o, ax_o, num_steps=9)
