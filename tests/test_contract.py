"""The facade issue's contract, run as written (with small offline data)."""

import numpy as np
from _networks import TutorialLoopNet

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim, spikegen, surrogate


def _loaders():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 160).astype(np.int32)
    images = np.clip(rng.normal(0.2, 0.1, (160, 64)) + 0.6 * (np.arange(64)[None] % 10 == labels[:, None]), 0, 1)
    spikes = np.asarray(spikegen.rate(images.astype(np.float32), num_steps=25))
    batches = [(spikes[:, i : i + 32], labels[i : i + 32]) for i in range(0, 160, 32)]
    return images[:32], batches[:4], batches[4:]


def test_contract_snippets_run_as_written():
    images, train_loader, test_loader = _loaders()
    net = nn.Sequential(
        nn.Linear(64, 128),
        nn.Leaky(beta=0.9, spike_grad=surrogate.fast_sigmoid(slope=25)),
        nn.Linear(128, 10),
        nn.Leaky(beta=0.9),
    )
    x = spikegen.rate(images, num_steps=25)  # [T, B, 64], time-first
    spk, mem = net(x)  # last layer's spikes and membrane, each [T, B, 10]
    assert x.shape == (25, 32, 64) and spk.shape == mem.shape == (25, 32, 10)
    sd = net.state_dict()  # torch names and layouts
    assert sd["0.weight"].shape == (128, 64) and {"0.bias", "1.beta", "1.threshold"} <= set(sd)
    net.load_state_dict(sd)
    assert len(list(net.parameters())) == 4 and set(dict(net.named_parameters())) == {
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    }
    assert net.eval() is net and not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    optimizer = optim.Adam(net.parameters(), lr=5e-4, betas=(0.9, 0.999))
    loss_fn = SF.ce_rate_loss()
    history = net.fit(train_loader, epochs=3, optimizer=optimizer, loss_fn=loss_fn,
                      val_loader=test_loader, metrics=[SF.accuracy_rate], progress=False)  # fmt: skip
    assert len(history["val_accuracy_rate"]) == 3
    results = net.evaluate(test_loader, loss_fn=loss_fn, metrics=[SF.accuracy_rate])
    assert set(results) == {"loss", "accuracy_rate"}
    stopper = snx.EarlyStopping(monitor="val_loss", patience=3)
    trainer = snx.Trainer(net, optimizer, loss_fn, metrics=[SF.accuracy_rate], callbacks=[stopper], progress=False)
    history = trainer.fit(train_loader, epochs=2, val_loader=test_loader)
    assert len(history["val_loss"]) == 2 and stopper.best == min(history["val_loss"]) and stopper.stopped_epoch is None
    predictions = trainer.predict(test_loader)
    assert predictions[0].shape == (25, 32, 10)

    y = train_loader[0][1]
    x = train_loader[0][0]

    def closure():  # the PyTorch closure idiom
        spk, _ = net(x)
        return loss_fn(spk, y)

    before = np.asarray(net[0].weight.data)
    loss = optimizer.step(closure)  # one update; net's parameters change in place
    assert np.isfinite(float(loss)) and not np.array_equal(before, np.asarray(net[0].weight.data))


def _loop_net():
    return TutorialLoopNet(64, 32, 10)


def test_user_module_with_python_loop_trains_with_fit():
    _, train_loader, test_loader = _loaders()
    snx.manual_seed(0)
    net = _loop_net()
    trainer = snx.Trainer(net, optim.Adam(net.parameters(), lr=5e-3), SF.ce_rate_loss(), metrics=[SF.accuracy_rate],
                          progress=False)  # fmt: skip
    before = trainer.evaluate(test_loader)
    history = trainer.fit(train_loader, epochs=4)
    assert trainer.trace_count == 1
    assert history["loss"][-1] < history["loss"][0]
    assert trainer.evaluate(test_loader)["loss"] < before["loss"]
