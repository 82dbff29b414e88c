"""Loggers: CSV and TensorBoard files hold every logged value once, a custom logger gets the documented calls,
a resumed run appends to its logs without repeating a step, only process 0 logs."""

import csv
import json
from pathlib import Path

import jax
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

T, FEATURES, CLASSES, BATCH = 6, 12, 3, 8


def _batches(samples=44, seed=0):
    """5 full batches and a short one of 4: the short batch is padded and masked by ``fit``."""
    rng = np.random.default_rng(seed)
    x = (rng.random((T, samples, FEATURES)) < 0.4).astype(np.float32)
    y = rng.integers(0, CLASSES, samples).astype(np.int32)
    return [(x[:, i : i + BATCH], y[i : i + BATCH]) for i in range(0, samples, BATCH)]


def _net():
    snx.manual_seed(3)
    return nn.Sequential(nn.Linear(FEATURES, 16), nn.Leaky(beta=0.9), nn.Dropout(0.2), nn.Linear(16, CLASSES),
                         nn.Leaky(beta=0.9))  # fmt: skip


class Recorder(snx.Logger):
    """A custom logger: keeps every call it receives, in order."""

    def __init__(self):
        self.calls = []

    def log_hyperparams(self, params):
        self.calls.append(("log_hyperparams", params))

    def log_metrics(self, metrics, step):
        self.calls.append(("log_metrics", dict(metrics), step))

    def finalize(self, status):
        self.calls.append(("finalize", status))

    def metric_calls(self):
        return [(metrics, step) for kind, *rest in self.calls if kind == "log_metrics" for metrics, step in [rest]]


class BatchLosses(snx.Callback):
    """The loss of every training step, by global step."""

    def __init__(self):
        self.losses = {}

    def on_train_batch_end(self, trainer, batch_index, loss):
        self.losses[trainer.global_step - 1] = float(loss)


def _fit(net, loggers, *, epochs=3, callbacks=(), ckpt_path=None, val=True, log_every_n_steps=2):
    optimizer = optim.Adam(net.parameters(), lr=2e-2)
    trainer = snx.Trainer(net, optimizer, SF.ce_rate_loss(), metrics=[SF.accuracy_rate], callbacks=list(callbacks),
                          logger=loggers, progress=False, log_every_n_steps=log_every_n_steps)  # fmt: skip
    batches = _batches()
    history = trainer.fit(batches, epochs=epochs, val_loader=batches[:2] if val else None, seed=0,
                          ckpt_path=ckpt_path, log_grad_norm=True)  # fmt: skip
    return trainer, history


def _csv_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _csv_as_calls(rows):
    """The CSV's rows as (metrics, step) pairs, the form log_metrics received them in."""
    calls = []
    for row in rows:
        metrics = {name: float(value) for name, value in row.items() if name not in ("step",) and value != ""}
        calls.append((metrics, int(row["step"])))
    return calls


def _tensorboard_scalars(folder):
    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}  # fmt: skip


def _expected_scalars(calls):
    expected = {}
    for metrics, step in calls:
        for name, value in metrics.items():
            expected.setdefault(name, []).append((step, value))
    return expected


def test_csv_and_tensorboard_hold_every_logged_value_once_with_its_step(tmp_path):
    recorder, losses = Recorder(), BatchLosses()
    csv_logger, board = snx.CSVLogger(tmp_path / "csv"), snx.TensorBoardLogger(tmp_path / "tb")
    trainer, history = _fit(_net(), [recorder, csv_logger, board], callbacks=[losses])
    steps_per_epoch, epochs = 6, 3
    assert trainer.global_step == steps_per_epoch * epochs
    calls = recorder.metric_calls()
    step_calls = [(m, s) for m, s in calls if "loss_step" in m]
    epoch_calls = [(m, s) for m, s in calls if "loss" in m]
    # Every log_every_n_steps-th step, once, in order; each epoch once, at its last step.
    assert [s for _, s in step_calls] == list(range(0, steps_per_epoch * epochs, 2))
    assert [s for _, s in epoch_calls] == [steps_per_epoch * (e + 1) - 1 for e in range(epochs)]
    assert len(step_calls) + len(epoch_calls) == len(calls)
    for metrics, step in step_calls:
        assert set(metrics) == {"epoch", "loss_step", "accuracy_rate_step", "grad_norm_step", "lr_step"}
        assert metrics["epoch"] == step // steps_per_epoch
        assert metrics["loss_step"] == pytest.approx(losses.losses[step], rel=1e-6)
        assert 0.0 <= metrics["accuracy_rate_step"] <= 1.0 and metrics["grad_norm_step"] > 0
        assert metrics["lr_step"] == pytest.approx(2e-2)
    for epoch, (metrics, _) in enumerate(epoch_calls):
        assert metrics == {"epoch": epoch, **{name: values[epoch] for name, values in history.history.items()}}
    assert set(trainer.logged_names) == set(history.history)

    # The CSV file: the same calls, values exact, in the same order.
    rows = _csv_rows(csv_logger.log_dir + "/metrics.csv")
    assert csv_logger.log_dir == str(tmp_path / "csv" / "version_0")
    assert list(rows[0])[:2] == ["epoch", "step"]
    assert _csv_as_calls(rows) == calls

    # TensorBoard's own reader: every tag holds the same (step, value) pairs, each step once.
    scalars = _tensorboard_scalars(board.log_dir)
    expected = _expected_scalars(calls)
    assert set(scalars) == set(expected)
    for tag, pairs in expected.items():
        assert [step for step, _ in scalars[tag]] == [step for step, _ in pairs], tag
        np.testing.assert_allclose([v for _, v in scalars[tag]], [v for _, v in pairs], rtol=1e-6, err_msg=tag)


def test_hyperparameters_reach_every_logger(tmp_path):
    recorder = Recorder()
    csv_logger, board = snx.CSVLogger(tmp_path), snx.TensorBoardLogger(tmp_path, name="tb")
    trainer, _ = _fit(_net(), [recorder, csv_logger, board], epochs=1)
    assert recorder.calls[0] == ("log_hyperparams", trainer.hparams)
    hparams = trainer.hparams
    assert hparams["optimizer"] == "Adam" and hparams["optimizer.learning_rate"] == pytest.approx(2e-2)
    assert hparams["loss_fn"] == "ce_rate_loss" and hparams["metrics"] == "accuracy_rate"
    assert hparams["trainable_parameters"] == sum(p.data.size for p in trainer.model.parameters())
    assert hparams["epochs"] == 1 and hparams["seed"] == 0 and hparams["resumed_from"] is None
    assert json.loads((Path(csv_logger.log_dir) / "hparams.json").read_text()) == hparams

    accumulator = EventAccumulator(board.log_dir)
    accumulator.Reload()
    content = accumulator.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["optimizer"].string_value == "Adam"
    assert start.hparams["epochs"].number_value == 1
    assert start.hparams["optimizer.learning_rate"].number_value == pytest.approx(2e-2)
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    assert {metric.name.tag for metric in experiment.metric_infos} == set(trainer.logged_names)


def test_a_custom_logger_receives_the_documented_calls_in_order(tmp_path):
    recorder = Recorder()
    _fit(_net(), recorder, epochs=2, val=False, log_every_n_steps=4)
    kinds = [call[0] for call in recorder.calls]
    assert kinds[0] == "log_hyperparams" and kinds[-1] == "finalize" and recorder.calls[-1][1] == "success"
    assert kinds.count("log_hyperparams") == 1 and kinds.count("finalize") == 1
    steps = [step for _, step in recorder.metric_calls()]
    # steps 0, 4, 8 of 12 with an epoch row at 5 and 11; the step logged before an epoch's end comes before it
    assert steps == [0, 4, 5, 8, 11]


def test_a_failing_fit_finalizes_the_loggers_with_what_was_logged(tmp_path):
    recorder, csv_logger = Recorder(), snx.CSVLogger(tmp_path)
    batches = _batches()
    x, y = batches[3]
    batches[3] = (np.where(np.arange(x.shape[-1]) == 0, np.nan, x).astype(np.float32), y)
    net = _net()
    trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=1e-2), SF.ce_rate_loss(),
                          logger=[recorder, csv_logger], progress=False, log_every_n_steps=1)  # fmt: skip
    with pytest.raises(snx.NonFiniteError):
        trainer.fit(batches, epochs=2)
    assert recorder.calls[-1] == ("finalize", "failed")
    logged = [step for _, step in recorder.metric_calls()]
    assert logged and max(logged) < 3  # the steps before the bad batch, nothing after it
    assert [int(row["step"]) for row in _csv_rows(csv_logger.metrics_file)] == logged


class CrashAt(snx.Callback):
    """Stands in for a killed process: raises at one step, after the loggers wrote the steps before it."""

    def __init__(self, step):
        self.step = step

    def on_train_batch_end(self, trainer, batch_index, loss):
        if trainer.global_step - 1 == self.step:
            raise RuntimeError("crash")


def test_a_resumed_run_appends_to_its_logs_without_repeating_steps(tmp_path):
    # The uninterrupted run.
    whole = Recorder()
    _fit(_net(), whole, epochs=4)
    # The same run, crashing in epoch 2 (after logging steps 12 and 14), resumed from epoch 1's checkpoint.
    checkpoints = snx.ModelCheckpoint(tmp_path / "ckpt", keep_last=4)
    first_csv, first_board = snx.CSVLogger(tmp_path / "logs"), snx.TensorBoardLogger(tmp_path / "logs", name="tb")
    with pytest.raises(RuntimeError, match="crash"):
        _fit(_net(), [first_csv, first_board], epochs=4, callbacks=[checkpoints, CrashAt(15)])
    before = _csv_rows(first_csv.metrics_file)
    assert max(int(row["step"]) for row in before) >= 12  # logged past the checkpoint of epoch 1 (step 11)
    csv_logger, board = snx.CSVLogger(tmp_path / "logs"), snx.TensorBoardLogger(tmp_path / "logs", name="tb")
    ckpt = tmp_path / "ckpt" / "epoch-0001.safetensors"
    trainer, _ = _fit(_net(), [csv_logger, board], epochs=4, ckpt_path=ckpt)
    assert trainer.ckpt_path == ckpt and trainer.global_step == 24
    assert csv_logger.log_dir == first_csv.log_dir and board.log_dir == first_board.log_dir  # version_0 both

    rows = _csv_rows(csv_logger.metrics_file)
    calls = _csv_as_calls(rows)
    expected = whole.metric_calls()
    assert [(sorted(m), s) for m, s in calls] == [(sorted(m), s) for m, s in expected]  # each step once, in order
    for (metrics, _), (reference, _) in zip(calls, expected):
        for name, value in metrics.items():
            assert value == pytest.approx(reference[name], rel=1e-5, abs=1e-7), name
    kept = [row for row in before if int(row["step"]) < 12]
    assert len(kept) == 8 and rows[:8] == kept  # the rows of epochs 0 and 1 are kept as written

    scalars = _tensorboard_scalars(board.log_dir)
    for tag, pairs in _expected_scalars(expected).items():
        assert [step for step, _ in scalars[tag]] == [step for step, _ in pairs], tag
        np.testing.assert_allclose([v for _, v in scalars[tag]], [v for _, v in pairs], rtol=1e-5, atol=1e-7)


def test_each_new_run_writes_the_next_version_and_a_given_one_is_not_overwritten(tmp_path):
    net = _net()
    first = snx.CSVLogger(tmp_path)
    _fit(net, first, epochs=1)
    second = snx.CSVLogger(tmp_path)
    _fit(net, second, epochs=1)
    assert (first.version, second.version) == ("version_0", "version_1")
    _fit(net, second, epochs=1)  # the same logger object in a new fit: a new run, a new version
    assert second.version == "version_2"
    with pytest.raises(FileExistsError, match="version_0.*another run"):
        _fit(net, snx.CSVLogger(tmp_path, version=0), epochs=1)
    assert len(_csv_rows(first.metrics_file)) == 4  # untouched: 3 step rows and the epoch row
    fixed = snx.CSVLogger(tmp_path, name="exp", version="baseline")
    _fit(net, fixed, epochs=1)
    assert fixed.log_dir == str(tmp_path / "exp" / "baseline")


def test_only_process_zero_logs(tmp_path, monkeypatch):
    monkeypatch.setattr(jax, "process_index", lambda *args: 1)
    recorder, csv_logger, board = Recorder(), snx.CSVLogger(tmp_path / "a"), snx.TensorBoardLogger(tmp_path / "b")
    _fit(_net(), [recorder, csv_logger, board], epochs=1)
    assert recorder.calls == []
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_module_fit_takes_a_logger(tmp_path):
    net = _net()
    logger = snx.CSVLogger(tmp_path)
    history = net.fit(_batches(), epochs=2, optimizer=optim.SGD(net.parameters(), lr=0.1), loss_fn=SF.ce_rate_loss(),
                      logger=logger, progress=False)  # fmt: skip
    epoch_rows = [row for row in _csv_rows(logger.metrics_file) if row["loss"] != ""]
    assert [float(row["loss"]) for row in epoch_rows] == history["loss"]
    assert net.fit(_batches(), epochs=1, optimizer=optim.SGD(net.parameters(), lr=0.1), loss_fn=SF.ce_rate_loss(),
                   progress=False)  # fmt: skip
    assert logger.version == "version_0"  # a later fit without logger= logs nothing


def test_bad_loggers_are_refused_before_training(tmp_path):
    net = _net()
    optimizer = optim.Adam(net.parameters(), lr=1e-2)
    with pytest.raises(TypeError, match="class CSVLogger, not an instance"):
        snx.Trainer(net, optimizer, SF.ce_rate_loss(), logger=snx.CSVLogger)
    with pytest.raises(TypeError, match=r"logger\[1\] is a str, not a Logger"):
        snx.Trainer(net, optimizer, SF.ce_rate_loss(), logger=[snx.CSVLogger(tmp_path), "runs"])
    same = snx.CSVLogger(tmp_path)
    with pytest.raises(ValueError, match="listed twice"):
        snx.Trainer(net, optimizer, SF.ce_rate_loss(), logger=[same, same])
    with pytest.raises(ValueError, match="version must be >= 0"):
        snx.CSVLogger(tmp_path, version=-1)
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="is a file"):
        snx.TensorBoardLogger(tmp_path / "file")
    with pytest.raises(NotImplementedError, match="must implement log_metrics"):
        _fit(net, snx.Logger(), epochs=1)
