"""`fit` / `evaluate` / `predict`: learning, one compilation per epoch, loaders, callbacks, errors."""

import jax.numpy as jnp
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim, spikegen

T = 10


def _digits_batches(batch_size=64, limit=None, time_first=True):
    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int32)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    snx.manual_seed(0)
    spikes = np.asarray(spikegen.rate(jnp.asarray(images), num_steps=T))  # [T, N, 64]
    batches = []
    for start in range(0, len(labels), batch_size):
        x = spikes[:, start : start + batch_size]
        batches.append((x if time_first else np.swapaxes(x, 0, 1), labels[start : start + batch_size]))
    return batches


def _net():
    snx.manual_seed(1)
    return nn.Sequential(nn.Linear(64, 64), nn.Leaky(beta=0.9), nn.Linear(64, 10), nn.Leaky(beta=0.9))


def test_fit_learns_logs_history_and_compiles_once():
    batches = _digits_batches(limit=1000)  # 15 batches of 64 and a short one of 40
    train, val = batches[:13], batches[13:]
    net = _net()
    optimizer = optim.Adam(net.parameters(), lr=5e-3)
    trainer = snx.Trainer(net, optimizer, SF.ce_rate_loss(), metrics=[SF.accuracy_rate], progress=False)
    before = trainer.evaluate(val)
    history = trainer.fit(train + [val[-1]], epochs=3, val_loader=val)
    assert trainer.trace_count == 1  # full batches and the short last batch share one compiled step
    assert set(history.history) == {"loss", "accuracy_rate", "val_loss", "val_accuracy_rate", "lr"}
    assert history["lr"] == pytest.approx([5e-3] * 3)
    assert len(history["loss"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    after = trainer.evaluate(val)
    assert after["loss"] < before["loss"]
    assert after["accuracy_rate"] > 0.6 > before["accuracy_rate"]
    # evaluate agrees with the last epoch's validation log (parameters were written back)
    assert after["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-5)


def test_masked_last_batch_gives_the_unpadded_mean():
    batches = _digits_batches(limit=100, batch_size=64)  # 64 + 36
    net = _net()
    loss_fn = SF.ce_rate_loss()
    results = net.evaluate(batches, loss_fn=loss_fn, metrics=[SF.accuracy_rate])
    spk, _ = net(np.concatenate([b[0] for b in batches], axis=1))
    labels = np.concatenate([b[1] for b in batches])
    assert results["loss"] == pytest.approx(float(loss_fn(spk, jnp.asarray(labels))), rel=1e-5)
    assert results["accuracy_rate"] == pytest.approx(float(SF.accuracy_rate(spk, jnp.asarray(labels))), rel=1e-6)


def test_net_fit_with_torch_dataloader_and_batch_first_data():
    batches = _digits_batches(limit=256, time_first=False)
    x = np.concatenate([b[0] for b in batches])  # [B, T, 64]
    y = np.concatenate([b[1] for b in batches])
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=50, shuffle=True
    )
    net = _net()
    held = net[0].weight.data
    optimizer = optim.Adam(net.parameters(), lr=5e-3)
    history = net.fit(
        loader, epochs=2, optimizer=optimizer, loss_fn=SF.ce_rate_loss(), time_first=False, progress=False
    )
    assert history["loss"][1] < history["loss"][0]
    # Arrays handed out before fit are still alive (the step donates private copies only).
    assert np.isfinite(np.asarray(held)).all()
    assert not np.array_equal(np.asarray(held), np.asarray(net[0].weight.data))
    # The optimizer keeps working after fit: its state was written back, not donated away.
    spikes = jnp.asarray(np.swapaxes(x[:8], 0, 1))
    optimizer.step(lambda: SF.ce_rate_loss()(net(spikes)[0], jnp.asarray(y[:8])))


def test_predict_concatenates_and_unpads():
    batches = _digits_batches(limit=100, batch_size=64)
    net = _net()
    spk, mem = net.predict(batches)
    assert spk.shape == mem.shape == (T, 100, 10)
    direct_spk, _ = net(np.concatenate([b[0] for b in batches], axis=1))
    np.testing.assert_array_equal(np.asarray(spk), np.asarray(direct_spk))
    only_inputs = [b[0] for b in batches]
    spk_inputs, _ = net.predict(only_inputs)
    np.testing.assert_array_equal(np.asarray(spk_inputs), np.asarray(spk))


def test_early_stopping_and_callback_hooks():
    batches = _digits_batches(limit=256)
    calls = []

    class Recorder(snx.Callback):
        def on_fit_start(self, trainer):
            calls.append("fit_start")

        def on_train_epoch_end(self, trainer, epoch, logs):
            calls.append(("epoch_end", epoch, round(logs["loss"], 6)))

        def on_fit_end(self, trainer):
            calls.append("fit_end")

    stopper = snx.EarlyStopping(monitor="loss", patience=1, min_delta=1e9)  # never "improves" enough
    net = _net()
    history = net.fit(
        batches, epochs=5, optimizer=optim.SGD(net.parameters(), lr=0.0), loss_fn=SF.ce_rate_loss(),
        callbacks=[Recorder(), stopper], progress=False,
    )  # fmt: skip
    assert len(history["loss"]) == 2  # epoch 0 sets the best, epoch 1 fails to improve -> stop
    assert stopper.stopped_epoch == 1
    assert calls[0] == "fit_start" and calls[-1] == "fit_end" and len(calls) == 4
    with pytest.raises(KeyError, match="monitor 'val_loss' is not logged"):
        net.fit(batches, epochs=1, optimizer=optim.SGD(net.parameters(), lr=0.0), loss_fn=SF.ce_rate_loss(),
                callbacks=[snx.EarlyStopping()], progress=False)  # fmt: skip


def test_fit_input_errors():
    net = _net()
    optimizer = optim.Adam(net.parameters())
    trainer = snx.Trainer(net, optimizer, SF.ce_rate_loss(), progress=False)
    good_x = np.zeros((T, 8, 64), np.float32)
    with pytest.raises(ValueError, match="no batches"):
        trainer.fit([], epochs=1)
    with pytest.raises(ValueError, match=r"8 inputs but targets of shape \(5,\).*time_first=False"):
        trainer.fit([(good_x, np.zeros(5, np.int32))])
    with pytest.raises(ValueError, match=r"has 16 samples but the first batch had 8"):
        trainer.fit([(good_x, np.zeros(8, np.int32)), (np.zeros((T, 16, 64)), np.zeros(16, np.int32))])
    with pytest.raises(ValueError, match=r"time and a batch axis"):
        trainer.fit([(np.zeros((8, 64)), np.zeros(8, np.int32))])
    with pytest.raises(TypeError, match=r"expected an \(x, y\) pair"):
        trainer.fit([good_x])
    with pytest.raises(ValueError, match="optimizer is needed"):
        snx.Trainer(net, None, SF.ce_rate_loss()).fit([(good_x, np.zeros(8, np.int32))])


def test_module_methods_reuse_compiled_steps():
    batches = _digits_batches(limit=128)
    net = _net()
    optimizer = optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = SF.ce_rate_loss()
    for _ in range(3):
        net.evaluate(batches, loss_fn=loss_fn, metrics=[SF.accuracy_rate])
        net.fit(batches, epochs=1, optimizer=optimizer, loss_fn=SF.ce_rate_loss(), progress=False)
    evaluator = net._trainer(None, loss_fn, [SF.accuracy_rate], (), False, None, "32-true")
    trainer = net._trainer(optimizer, loss_fn, (), (), False, None, "32-true")
    assert evaluator.eval_trace_count == 1 and trainer.trace_count == 1


def test_per_sample_losses_of_any_reduction_and_shape_errors():
    """snnTorch losses with reduction="none" give [1] per sample: the same epoch loss as the mean."""
    net = nn.Sequential(nn.Linear(4, 3), nn.Leaky(beta=0.9))
    rng = np.random.default_rng(0)
    batch = (rng.random((5, 8, 4), dtype=np.float32), rng.integers(0, 3, 8))
    means = [
        snx.Trainer(net, None, loss, progress=False).evaluate([batch])["loss"]
        for loss in (SF.ce_rate_loss(), SF.ce_rate_loss(reduction="none"), SF.mse_count_loss(reduction="sum"))
    ]
    assert means[0] == pytest.approx(means[1], rel=1e-6)
    with pytest.raises(ValueError, match=r"Trainer: .* gave shape \(3,\) for one sample"):
        snx.Trainer(net, None, lambda out, y: out.sum(axis=(0, 1)), progress=False).evaluate([batch])


def test_evaluate_and_predict_refuse_nan_inputs_and_out_of_range_labels():
    """The threshold turns NaN into "no spike": without a check the outputs would look normal."""
    net = nn.Sequential(nn.Linear(4, 3), nn.Leaky(beta=0.9))
    trainer = snx.Trainer(net, None, SF.ce_rate_loss(), progress=False)
    rng = np.random.default_rng(1)
    good = (rng.random((5, 8, 4), dtype=np.float32), rng.integers(0, 3, 8))
    nan_x = good[0].copy()
    nan_x[2, 3, 1] = np.nan
    with pytest.raises(snx.NonFiniteError, match=r"Trainer.evaluate: batch 1 \(counting from 0\) has NaN or Inf"):
        trainer.evaluate([good, (nan_x, good[1])])
    with pytest.raises(snx.NonFiniteError, match=r"Trainer.evaluate: batch 0 .* class labels outside"):
        trainer.evaluate([(good[0], np.full(8, 3))])
    with pytest.raises(snx.NonFiniteError, match=r"Trainer.predict: batch 0 .* NaN or Inf in its input"):
        trainer.predict([nan_x])
    assert set(trainer.evaluate([good])) == {"loss"} and trainer.predict([good[0]])[0].shape == (5, 8, 3)


def test_fit_refuses_an_optimizer_or_scheduler_that_would_silently_train_nothing():
    net, other = nn.Sequential(nn.Linear(4, 3), nn.Leaky(beta=0.9)), nn.Sequential(nn.Linear(4, 3), nn.Leaky(beta=0.9))
    rng = np.random.default_rng(2)
    batch = (rng.random((5, 8, 4), dtype=np.float32), rng.integers(0, 3, 8))
    with pytest.raises(ValueError, match=r"2 of the optimizer's 2 parameters are not in the model"):
        snx.Trainer(net, optim.SGD(other.parameters(), lr=0.1), SF.ce_rate_loss(), progress=False).fit([batch])
    optimizer = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="scheduler was built for another optimizer"):
        snx.Trainer(net, optimizer, SF.ce_rate_loss(), progress=False).fit(
            [batch], scheduler=optim.lr_scheduler.StepLR(optim.SGD(other.parameters(), lr=0.1), step_size=1)
        )
    net[0].bias.requires_grad = False
    with pytest.raises(ValueError, match=r"\['0.bias'\] have requires_grad=False but the optimizer was built"):
        snx.Trainer(net, optimizer, SF.ce_rate_loss(), progress=False).fit([batch])
    net[0].bias.requires_grad = True
    net[0].weight = nn.Parameter(np.zeros((3, 4), np.float32))  # replaced after the optimizer was built
    with pytest.raises(ValueError, match=r"1 of the optimizer's 2 parameters are not in the model"):
        snx.Trainer(net, optimizer, SF.ce_rate_loss(), progress=False).fit([batch])


def test_changing_the_loss_metrics_or_optimizer_after_a_step_takes_effect():
    net = nn.Sequential(nn.Linear(4, 3), nn.Leaky(beta=0.9))
    rng = np.random.default_rng(3)
    batch = (rng.random((5, 8, 4), dtype=np.float32), rng.integers(0, 3, 8))
    trainer = snx.Trainer(net, optim.SGD(net.parameters(), lr=0.1), SF.ce_rate_loss(), progress=False)
    ce = trainer.evaluate([batch])["loss"]
    trainer.loss_fn = SF.mse_count_loss()
    trainer.metrics = [SF.accuracy_rate]
    logs = trainer.evaluate([batch])
    assert logs["loss"] == pytest.approx(snx.Trainer(net, None, SF.mse_count_loss(), progress=False)
                                         .evaluate([batch])["loss"]) and logs["loss"] != pytest.approx(ce)  # fmt: skip
    assert "accuracy_rate" in logs
    trainer.fit([batch])
    trainer.optimizer = optim.SGD(net.parameters(), lr=0.0)  # a new optimizer: nothing may move now
    before = {name: np.array(value) for name, value in net.state_dict().items()}
    trainer.fit([batch])
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_module_trainers_are_reused_by_equal_arguments_and_left_out_of_copies():
    import copy
    import pickle

    batches = _digits_batches(limit=64)
    net = _net()
    optimizer = optim.Adam(net.parameters(), lr=1e-3)
    net.fit(batches, optimizer=optimizer, loss_fn=SF.ce_rate_loss(), progress=False)
    first = net._trainers[-1]
    net.fit(batches, optimizer=optimizer, loss_fn=SF.ce_rate_loss(), progress=False)  # an equal loss: reused
    assert net._trainers == [first] and first.trace_count == 1
    net.fit(batches, optimizer=optimizer, loss_fn=SF.ce_count_loss(), progress=False)  # another loss: a new one
    assert len(net._trainers) == 2 and net._trainers[0] is first
    for loss in (SF.mse_count_loss(), SF.ce_max_membrane_loss(), SF.mse_count_loss(correct_rate=0.9)):
        net.evaluate(batches, loss_fn=loss)
    assert len(net._trainers) == 4 and first not in net._trainers  # the least recently used went first
    twin = copy.deepcopy(net)
    restored = pickle.loads(pickle.dumps(net))
    assert twin._trainers == [] and restored._trainers == [] and len(net._trainers) == 4
    x = batches[0][0]
    np.testing.assert_array_equal(np.asarray(restored(x)[0]), np.asarray(net(x)[0]))


def test_in_a_kernel_without_ipywidgets_fit_draws_no_bar_on_stderr_and_prints_epochs(monkeypatch, capsys):
    """A notebook without ipywidgets would show tqdm's text bar as stderr output, one line per redraw."""
    import importlib.util
    import sys
    import types

    from snnax_torchlike.train._progress import progress_bar

    kernel = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: kernel))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ipywidgets" else real_find_spec(name, *a)
    )
    progress_bar.cache_clear()
    try:
        net = _net()
        batches = _digits_batches(limit=128)
        snx.Trainer(net, optim.Adam(net.parameters(), lr=1e-3), SF.ce_rate_loss(), progress=True).fit(batches, epochs=2)
        captured = capsys.readouterr()
    finally:
        progress_bar.cache_clear()
    assert captured.err == ""
    assert "Epoch 1/2: loss=" in captured.out and "Epoch 2/2: loss=" in captured.out
