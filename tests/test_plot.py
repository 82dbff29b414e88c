"""`snnax_torchlike.plot`: each function renders, rejects bad shapes clearly, and matplotlib stays optional."""

import base64
import subprocess
import sys
import types

import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from snnax_torchlike import plot  # noqa: E402

RNG = np.random.default_rng(0)
SPIKES = (RNG.random((30, 12)) < 0.2).astype(np.float32)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _saved(ax, path):
    """Save the axes' figure and check that a non-trivial PNG came out."""
    ax.figure.savefig(path)
    assert path.exists() and path.stat().st_size > 2000
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


# -- rendering --------------------------------------------------------------------------
@pytest.mark.parametrize("array", [np.asarray, jnp.asarray], ids=["numpy", "jax"])
def test_raster_renders(tmp_path, array):
    ax = plot.raster(array(SPIKES), title="raster")
    assert ax.get_title() == "raster" and ax.get_xlabel() == "time step"
    offsets = ax.collections[0].get_offsets()
    assert len(offsets) == int(SPIKES.sum())  # one mark per spike, at (t, n)
    assert {tuple(o) for o in np.asarray(offsets)} == {(t, n) for t, n in zip(*np.nonzero(SPIKES))}
    _saved(ax, tmp_path / "raster.png")


def test_raster_picks_a_sample_and_draws_off_spikes(tmp_path):
    batch = np.stack([SPIKES, -SPIKES], axis=1)  # [T, 2, N]; sample 1 holds only off-spikes
    _, axes = plt.subplots(1, 2)
    plot.raster(batch, axes[0], sample=0)
    plot.raster(batch, axes[1], sample=1, off_c="red")
    assert len(axes[0].collections) == 1 and len(axes[0].collections[0].get_offsets()) == int(SPIKES.sum())
    assert len(axes[1].collections) == 2 and len(axes[1].collections[1].get_offsets()) == int(SPIKES.sum())
    _saved(axes[0], tmp_path / "raster_batch.png")


def test_traces_renders(tmp_path):
    mem = np.cumsum(RNG.normal(size=(40, 3)), axis=0).astype(np.float32)
    ax = plot.traces(jnp.asarray(mem), threshold=1.0, labels=["a", "b", "c"], title="membranes")
    assert len(ax.lines) == 4  # three traces and the threshold
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c", "threshold"]
    _saved(ax, tmp_path / "traces.png")
    ax = plot.traces(mem[:, 0])  # a single trace [T]
    assert len(ax.lines) == 1 and ax.get_legend() is None
    np.testing.assert_allclose(ax.lines[0].get_ydata(), mem[:, 0])


def test_spike_counts_renders(tmp_path):
    ax = plot.spike_counts(SPIKES[:, None], highlight=3, title="counts")
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, SPIKES.sum(0))
    assert ax.patches[3].get_facecolor() != ax.patches[0].get_facecolor()
    _saved(ax, tmp_path / "counts.png")
    ax = plot.spike_counts(SPIKES[:, :3], labels=["x", "y", "z"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]


def test_spike_plots_take_a_networks_outputs_as_they_are_returned():
    batch = np.stack([SPIKES, 1.0 - SPIKES], axis=1)  # [T, 2, N]
    mem = RNG.normal(size=batch.shape).astype(np.float32)
    outputs = (jnp.asarray(batch), jnp.asarray(mem))  # what net(x) and predict return
    _, axes = plt.subplots(2, 3)
    for row, sample in enumerate([0, 1]):
        direct, given = axes[row, 0], plot.raster(outputs, axes[row, 1], sample=sample)
        plot.raster(batch, direct, sample=sample)
        np.testing.assert_array_equal(given.collections[0].get_offsets(), direct.collections[0].get_offsets())
    counts = plot.spike_counts(outputs, axes[0, 2], sample=1)
    np.testing.assert_allclose([bar.get_height() for bar in counts.patches], (1.0 - SPIKES).sum(0))
    ax = plot.traces(outputs, axes[1, 2], sample=1, threshold=1.0)  # the membrane, outputs[1]
    assert len(ax.lines) == SPIKES.shape[1] + 1
    for n, line in enumerate(ax.lines[:-1]):
        np.testing.assert_allclose(line.get_ydata(), mem[:, 1, n])
    ax = plot.traces(mem[:, 0, :2])  # the plain layouts are unchanged
    np.testing.assert_allclose(ax.lines[1].get_ydata(), mem[:, 0, 1])
    ax = plot.traces((0.0, 0.5, 1.0))  # a tuple of numbers is still one trace, not outputs
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.0, 0.5, 1.0])


def _fit_history(epochs=4, validation=True):
    """A ``History`` as ``fit`` fills it, with a scheduled learning rate."""
    from snnax_torchlike.train import History

    history = History()
    for epoch in range(epochs):
        logs = {"loss": 2.0 / (epoch + 1), "accuracy_rate": 0.5 + 0.1 * epoch, "lr": 1e-3 * 0.5**epoch}
        if validation:
            logs.update({"val_loss": 2.5 / (epoch + 1), "val_accuracy_rate": 0.4 + 0.1 * epoch})
        history.append(epoch, logs)
    return history


def _curves(ax):
    """``{label: (x, y)}`` of the lines on ``ax``."""
    return {line.get_label(): (line.get_xdata(), line.get_ydata()) for line in ax.lines}


def test_history_draws_each_quantity_with_its_validation_twin(tmp_path):
    history = _fit_history()
    axes = plot.history(history)
    assert len(axes) == 2 and axes[0].figure is axes[1].figure  # loss and the metric; lr only when asked
    for ax, key in zip(axes, ["loss", "accuracy_rate"]):
        assert ax.get_title() == key and ax.get_xlabel() == "epoch"
        curves = _curves(ax)
        assert list(curves) == ["training", "validation"]
        for label, name in [("training", key), ("validation", f"val_{key}")]:
            x, y = curves[label]
            np.testing.assert_array_equal(x, [1, 2, 3, 4])  # counted from 1, like "Epoch 1/N"
            np.testing.assert_allclose(y, history.history[name], rtol=1e-6)
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]
    plot.save_figure(axes[0].figure, tmp_path / "history.png")
    assert (tmp_path / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_keys_titles_labels_and_given_axes():
    history = _fit_history()
    _, given = plt.subplots(1, 2)
    axes = plot.history(
        history, keys=["lr", "loss"], axes=given, titles={"loss": "cross-entropy"}, labels=("train", "test")
    )
    assert list(axes) == list(given)
    assert axes[0].get_title() == "learning rate" and axes[1].get_title() == "cross-entropy"
    assert list(_curves(axes[0])) == ["train"] and axes[0].get_legend() is None  # lr has no validation twin
    np.testing.assert_allclose(_curves(axes[0])["train"][1], history["lr"], rtol=1e-6)
    assert list(_curves(axes[1])) == ["train", "test"]
    _, one = plt.subplots()
    (ax,) = plot.history(history, keys="val_accuracy_rate", axes=one)  # one key, one Axes
    assert ax is one
    assert ax.get_title() == "accuracy_rate" and list(_curves(ax)) == ["validation"]


def test_history_takes_a_plain_dict_and_a_history_without_validation():
    logged = {"loss": [0.9, 0.5, 0.4], "accuracy": [0.6, 0.8, 0.85], "val_accuracy": [0.5, 0.7, 0.8]}
    loss, accuracy = plot.history(logged)  # Keras' history.history
    x, y = _curves(loss)["training"]
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_allclose(y, logged["loss"])
    assert loss.get_legend() is None and list(_curves(accuracy)) == ["training", "validation"]
    (ax,) = plot.history({"val_loss": [1.0, 0.5]})  # validation only: its own panel
    assert ax.get_title() == "loss" and list(_curves(ax)) == ["validation"]
    axes = plot.history(_fit_history(epochs=1, validation=False))  # the quick tutorials' single epoch
    assert [len(ax.lines) for ax in axes] == [1, 1]
    np.testing.assert_array_equal(axes[0].lines[0].get_xdata(), [1])


@pytest.mark.parametrize(
    ("history", "kwargs", "error", "message"),
    [
        ({}, {}, ValueError, r"plot\.history: the history is empty"),
        ({"loss": [], "val_loss": []}, {}, ValueError, r"plot\.history: the history holds no epochs yet"),
        (
            {"loss": [1.0, 0.5], "accuracy": [0.5]},
            {},
            ValueError,
            r"plot\.history: .*lengths differ \(loss: 2, accuracy: 1\)",
        ),
        (
            {"loss": [1.0], "val_loss": [1.0, 2.0]},
            {},
            ValueError,
            r"plot\.history: .*lengths differ \(loss: 1, val_loss: 2\)",
        ),
        (
            {"loss": [1.0], "lr": [0.1]},
            {"keys": ["loss", "acc"]},
            ValueError,
            r"plot\.history: unknown key\(s\) 'acc'; the history has loss, lr\.",
        ),
        ({"loss": [1.0]}, {"keys": []}, ValueError, r"plot\.history: keys selects no quantity"),
        ({"loss": [1.0]}, {"titles": {"lr": "x"}}, ValueError, r"plot\.history: titles given for 'lr'"),
        ({"loss": [1.0]}, {"labels": ("a",)}, ValueError, r"plot\.history: labels must be"),
        ({"loss": [[1.0, 2.0]]}, {}, ValueError, r"plot\.history: expected history\['loss'\] of shape \[epochs\]"),
        ({"loss": ["a"]}, {}, TypeError, r"plot\.history: history\['loss'\] must hold numbers"),
        ([1.0, 0.5], {}, TypeError, r"plot\.history: expected a History .* got <class 'list'>"),
    ],
)
def test_history_errors(history, kwargs, error, message):
    with pytest.raises(error, match=message):
        plot.history(history, **kwargs)


def test_history_checks_the_epochs_and_the_number_of_axes():
    history = _fit_history(epochs=3)
    history.epoch.append(3)  # one epoch listed without values
    with pytest.raises(ValueError, match=r"plot\.history: history\.epoch lists 4 epochs but the curves hold 3"):
        plot.history(history)
    _, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match=r"plot\.history: got 3 axes for 2 panels \(loss, accuracy_rate\)"):
        plot.history(_fit_history(), axes=axes)


@pytest.mark.parametrize("shape", [(8, 10, 12), (8, 2, 10, 12)], ids=["THW", "TCHW"])
def test_animate_renders(tmp_path, shape):
    frames = (RNG.random(shape) < 0.3).astype(np.float32)
    anim = plot.animate(jnp.asarray(frames), interval=50, title="frames")
    fig = plt.gcf()
    fig.savefig(tmp_path / "frame.png")
    assert (tmp_path / "frame.png").stat().st_size > 2000
    anim.save(tmp_path / "frames.gif", writer="pillow")
    gif = tmp_path / "frames.gif"
    assert gif.exists() and gif.stat().st_size > 1000
    expected = frames.sum(axis=1) if len(shape) == 4 else frames
    image = fig.axes[0].images[0]
    np.testing.assert_allclose(image.get_array(), expected[-1])  # the last frame drawn by save


def test_save_figure_writes_the_file_and_closes_the_figure_outside_a_notebook(tmp_path, monkeypatch):
    import ipykernel  # noqa: F401  (imported is not running in a kernel: a process that imported it still closes)

    ax = plot.raster(SPIKES)
    path = plot.save_figure(ax.figure, tmp_path / "raster.png")
    assert path == tmp_path / "raster.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.fignum_exists(ax.figure.number)  # a script: closed
    # Inside a Jupyter kernel (here a stand-in shell with a kernel) the figure stays open, to show inline.
    import IPython

    ax = plot.raster(SPIKES)
    with monkeypatch.context() as patch:
        patch.setattr(IPython, "get_ipython", lambda: types.SimpleNamespace(kernel=object()))
        plot.save_figure(ax.figure, tmp_path / "inline.png")
    assert plt.fignum_exists(ax.figure.number)
    plt.close(ax.figure)
    ax = plot.traces(SPIKES[:, :2])
    plot.save_figure(ax.figure, tmp_path / "kept.svg", close=False)
    assert plt.fignum_exists(ax.figure.number) and (tmp_path / "kept.svg").read_text().lstrip().startswith("<?xml")
    plt.close(ax.figure)


def test_save_gif_writes_the_file_closes_the_figure_and_shows_in_a_notebook(tmp_path):
    frames = (RNG.random((6, 5, 7)) < 0.3).astype(np.float32)
    anim = plot.animate(frames, interval=50)
    figure = plt.gcf()
    gif = plot.save_gif(anim, tmp_path / "frames.gif")
    assert gif.path == tmp_path / "frames.gif"
    assert gif.path.read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    assert not plt.fignum_exists(figure.number)
    html = gif._repr_html_()
    assert html.startswith('<img src="data:image/gif;base64,')
    assert base64.b64decode(html.split(",", 1)[1].split('"')[0]) == gif.path.read_bytes()
    anim = plot.animate(frames)
    with pytest.raises(ValueError, match=r"plot\.save_gif: path must end in \.gif, got '.*frames\.png'"):
        plot.save_gif(anim, tmp_path / "frames.png")
    assert plot.save_gif(anim, tmp_path / "second.gif").path.exists()  # the refused call left it usable


# -- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plot.raster(np.zeros(5)), r"plot\.raster: expected spikes of shape \[T, N\] or \[T, B, N\].*\(5,\)"),
        (lambda: plot.raster(np.zeros((2, 3, 4, 5))), r"plot\.raster: .*got shape \(2, 3, 4, 5\)"),
        (lambda: plot.raster(np.zeros((4, 2, 3)), sample=2), r"plot\.raster: sample=2 is out of range .* batch of 2"),
        (
            lambda: plot.traces(np.zeros((2, 3, 4, 5))),
            r"plot\.traces: expected values of shape \[T\] or \[T, N\] or \[T, B, N\]",
        ),
        (lambda: plot.traces(np.zeros((4, 2, 3)), sample=-3), r"plot\.traces: sample=-3 is out of range"),
        (
            lambda: plot.raster((np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 3)))),
            r"plot\.raster: expected spikes as an array or a network's outputs \(spk, mem\), got a tuple of 3",
        ),
        (
            lambda: plot.traces((np.zeros((4, 3)), np.zeros((4, 3, 2, 2)))),
            r"plot\.traces: expected values \(outputs\[1\]\) of shape .*got shape \(4, 3, 2, 2\)",
        ),
        (lambda: plot.traces(np.zeros((5, 2)), labels=["a"]), r"plot\.traces: got 1 labels for 2 traces"),
        (lambda: plot.spike_counts(np.zeros(5)), r"plot\.spike_counts: expected spikes of shape \[T, N\]"),
        (lambda: plot.spike_counts(np.zeros((5, 3)), highlight=3), r"plot\.spike_counts: highlight=3 is out of range"),
        (
            lambda: plot.animate(np.zeros((5, 4))),
            r"plot\.animate: expected frames of shape \[T, H, W\] or \[T, C, H, W\]",
        ),
        (lambda: plot.animate(np.zeros((0, 4, 4))), r"plot\.animate: frames needs at least one time step"),
    ],
)
def test_errors_name_the_function_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match=r"plot\.raster: spikes must hold numbers"):
        plot.raster(np.array([["a", "b"]]))


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # makes `import matplotlib.pyplot` fail
    with pytest.raises(ImportError, match=r"snnax-torchlike\[plot\]"):
        plot.raster(SPIKES)


def test_importing_the_library_does_not_import_matplotlib():
    code = (
        "import sys, snnax_torchlike, snnax_torchlike.nn\n"
        "from snnax_torchlike import plot\n"
        "assert callable(plot.raster)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'torch'))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
