"""API misuse, second pass: optimizers, schedulers, Trainer/fit arguments, callbacks, modules, state dicts, seeds.

Each probe is a mistake a PyTorch, snnTorch, Keras or Lightning user makes when
moving to this library, or a documented promise those users rely on.
"""

from __future__ import annotations

import numpy as np
from _fixtures import loader, net, parameters, same, spikes, trainer
from _harness import probe

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

C = "API misuse"


def _fit(network: nn.Module, optimizer: optim.Optimizer, epochs: int = 1, **kwargs) -> snx.History:
    """A quiet fit of ``network`` with ``ce_rate_loss`` on the shared two-batch loader."""
    trainer_kwargs = {k: kwargs.pop(k) for k in ("metrics", "callbacks") if k in kwargs}
    t = snx.Trainer(network, optimizer, SF.ce_rate_loss(), progress=False, **trainer_kwargs)
    return t.fit(loader(), epochs=epochs, **kwargs)


# -- optimizers ---------------------------------------------------------------------------
@probe(C, raises=(TypeError, ValueError), says=("Adam", "betas", "two|2 values|pair"))
def adam_betas_with_one_value():
    optim.Adam(net().parameters(), betas=(0.9,))


@probe(C, raises=(TypeError, ValueError), says=("AdamW", "betas", "0.9"))
def adamw_betas_given_as_a_single_float():
    optim.AdamW(net().parameters(), betas=0.9)


@probe(C, raises=TypeError, says=("SGD", "momentum", "'0.9'|str"))
def sgd_momentum_as_a_string_with_nesterov():
    optim.SGD(net().parameters(), lr=0.1, momentum="0.9", nesterov=True)


@probe(C, raises=ValueError, says=("RMSprop", "alpha", "1.5"))
def rmsprop_alpha_above_one():
    # v = alpha v + (1 - alpha) g^2 turns negative: the square root gives NaN at the first step.
    optim.RMSprop(net().parameters(), lr=0.01, alpha=1.5)


@probe(C, raises=TypeError, says=("Adam", "Parameter", r"\[|list|iterable|parameters\(\)"))
def optimizer_given_one_parameter_not_a_list():
    optim.Adam(net()[0].weight)


@probe(C, raises=TypeError, says=("SGD", "Sequential|module", r"parameters\(\)"))
def optimizer_given_the_module_instead_of_its_parameters():
    optim.SGD(net(), lr=0.1)


@probe(C, raises=(TypeError, ValueError), says=("Adam", "param group|dict", "not supported|one group|per group"))
def optimizer_given_torch_param_groups():
    network = net()
    optim.Adam([{"params": [network[0].weight], "lr": 1e-2}, {"params": [network[0].bias], "lr": 1e-3}])


@probe(C)
def param_groups_weight_decay_set_takes_effect():
    # torch users switch weight decay off through param_groups; a dropped write would keep decaying.
    network = net()
    o = optim.SGD(network.parameters(), lr=0.1, weight_decay=0.5)
    o.param_groups[0]["weight_decay"] = 0.0
    return float(o.state.hyperparams["weight_decay"]) == 0.0 and o.param_groups[0]["weight_decay"] == 0.0


@probe(C, raises=(KeyError, ValueError), says=("param_groups|SGD", "nesterov|not a hyper-parameter|no hyper"))
def param_groups_unknown_key_set():
    o = optim.SGD(net().parameters(), lr=0.1, momentum=0.9)
    o.param_groups[0]["nesterov"] = True  # fixed when built: a silent no-op otherwise


@probe(C)
def optimizer_lr_lowered_to_zero_between_fits_freezes_weights():
    network = net()
    o = optim.Adam(network.parameters(), lr=0.05)
    t = snx.Trainer(network, o, SF.ce_rate_loss(), progress=False)
    t.fit(loader())
    o.param_groups[0]["lr"] = 0.0
    before = parameters(network)
    t.fit(loader())
    return same(before, parameters(network))


@probe(C, raises=ValueError, says=(r"0\.weight", "frozen|requires_grad", "unfroze|unfrozen|build the optimizer"))
def fit_after_unfreezing_a_parameter_the_optimizer_skipped():
    # torch: an optimizer built over all parameters trains a frozen one as soon as it is unfrozen.
    network = net()
    network[0].weight.requires_grad = False
    o = optim.Adam(network.parameters(), lr=0.05)
    network[0].weight.requires_grad = True
    _fit(network, o)


@probe(C)
def optimizer_over_shared_parameters_counts_each_once():
    snx.manual_seed(0)
    shared = nn.Linear(3, 3)
    network = nn.Sequential(shared, shared, nn.Leaky(beta=0.9))
    o = optim.Adam(network.parameters(), lr=0.05)
    before = np.array(shared.weight.data)
    snx.Trainer(network, o, SF.mse_count_loss(correct_rate=1.0, incorrect_rate=0.0), progress=False).fit(
        [(spikes(), np.array([0, 1, 2, 0], np.int32))]
    )
    return len(o.params) == 2 and not np.array_equal(before, np.array(shared.weight.data))


# -- schedulers -----------------------------------------------------------------------------
@probe(C, raises=ValueError, says=("StepLR", "gamma", "-0.5"))
def steplr_negative_gamma():
    optim.lr_scheduler.StepLR(optim.SGD(net().parameters(), lr=0.1), step_size=1, gamma=-0.5)


@probe(C, raises=ValueError, says=("CosineAnnealingLR", "eta_min", "-0.1"))
def cosine_annealing_negative_eta_min():
    optim.lr_scheduler.CosineAnnealingLR(optim.SGD(net().parameters(), lr=0.1), T_max=4, eta_min=-0.1)


@probe(C, raises=ValueError, says=("ExponentialLR", "gamma", "nan"))
def exponentiallr_nan_gamma():
    optim.lr_scheduler.ExponentialLR(optim.SGD(net().parameters(), lr=0.1), gamma=float("nan"))


@probe(C, raises=TypeError, says=("StepLR", "step_size", "2.5"))
def steplr_fractional_step_size():
    optim.lr_scheduler.StepLR(optim.SGD(net().parameters(), lr=0.1), step_size=2.5)


@probe(C)
def onecycle_with_torch_total_steps_runs_every_batch():
    # torch's recipe: total_steps = epochs * len(loader), stepped after every batch.
    network = net()
    o = optim.Adam(network.parameters(), lr=1e-3)
    batches = loader()
    scheduler = optim.lr_scheduler.OneCycleLR(o, max_lr=0.05, total_steps=2 * len(batches))
    history = _fit(network, o, epochs=2, scheduler=scheduler)
    return scheduler.last_epoch == 4 and len(history.epoch) == 2


@probe(C, raises=ValueError, says=("OneCycleLR", "total_steps", "3", "6"))
def onecycle_too_short_for_the_fit_is_refused_before_training():
    network = net()
    o = optim.Adam(network.parameters(), lr=1e-3)
    scheduler = optim.lr_scheduler.OneCycleLR(o, max_lr=0.05, total_steps=3)
    _fit(network, o, epochs=3, scheduler=scheduler)


@probe(C)
def scheduler_state_dict_round_trip():
    o = optim.SGD(net().parameters(), lr=0.1)
    scheduler = optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5)
    scheduler.step()
    scheduler.step()
    state = scheduler.state_dict()
    o2 = optim.SGD(net().parameters(), lr=0.1)
    restored = optim.lr_scheduler.StepLR(o2, step_size=1, gamma=0.5)
    restored.load_state_dict(state)
    restored.step()
    return restored.last_epoch == 3 and abs(o2.lr - 0.1 * 0.5**3) < 1e-9


@probe(C)
def fit_resumed_with_a_fresh_scheduler_continues_its_schedule():
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/ckpt.safetensors"
        network = net()
        o = optim.SGD(network.parameters(), lr=0.1)
        t = snx.Trainer(network, o, SF.ce_rate_loss(), progress=False)
        t.fit(loader(), epochs=2, scheduler=optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5))
        t.save_checkpoint(path)
        resumed = net()
        o2 = optim.SGD(resumed.parameters(), lr=0.1)
        history = snx.Trainer(resumed, o2, SF.ce_rate_loss(), progress=False).fit(
            loader(), epochs=4, ckpt_path=path, scheduler=optim.lr_scheduler.StepLR(o2, step_size=1, gamma=0.5)
        )
    # Uninterrupted: the epochs end with lr 0.1, 0.05, 0.025, 0.0125.
    return np.allclose(history["lr"], [0.1, 0.05, 0.025, 0.0125])


# -- Trainer and fit arguments -------------------------------------------------------------
@probe(C, raises=TypeError, says=("epochs", "list", "val_loader="))
def fit_given_the_validation_loader_positionally():
    trainer().fit(loader(), loader(1))  # Lightning: fit(model, train_loader, val_loader)


@probe(C, raises=TypeError, says=("loss_fn", "class|CrossEntropyLoss", r"CrossEntropyLoss\(\)|instance"))
def trainer_given_a_loss_class_not_an_instance():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), nn.CrossEntropyLoss, progress=False)


@probe(C, raises=TypeError, says=("loss_fn", "ce_rate_loss", r"ce_rate_loss\(\)"))
def trainer_given_the_snntorch_loss_factory_uncalled():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss, progress=False).fit(loader())


@probe(C, raises=TypeError, says=("loss_fn", r"\(outputs, targets\)|two arguments|2 arguments"))
def trainer_loss_fn_taking_one_argument():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), lambda out: out.sum(), progress=False).fit(loader())


@probe(C, raises=(TypeError, ValueError), says=("loss", "tuple", "one value|only the loss|scalar"))
def fit_loss_returning_a_tuple():
    def loss_and_rate(spk, y):
        return SF.ce_rate_loss()(spk, y), spk.mean()

    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), loss_and_rate, progress=False).fit(loader())


@probe(C, raises=TypeError, says=("python_float_loss", "jax|jnp|traced", r"float\(\)|item\(\)"))
def fit_loss_converting_to_a_python_float():
    def python_float_loss(spk, y):
        return float(SF.ce_rate_loss()(spk, y))  # torch habit: loss.item() for logging

    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), python_float_loss, progress=False).fit(loader())


@probe(C, raises=TypeError, says=("metrics", "'accuracy'|str", "accuracy_rate|function"))
def trainer_keras_style_metric_names():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), metrics=["accuracy"], progress=False)


@probe(C, raises=TypeError, says=("metrics", "list|sequence", "accuracy_rate"))
def trainer_metrics_given_one_function_not_a_list():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), metrics=SF.accuracy_rate,
                progress=False)  # fmt: skip


@probe(C, raises=ValueError, says=("metrics", "<lambda>", "same name|twice|distinct"))
def trainer_two_metrics_with_the_same_name():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), progress=False,
                metrics=[lambda s, y: s.mean(), lambda s, y: s.max()])  # fmt: skip


@probe(C, raises=ValueError, says=("metric", "'loss'", "name|rename"))
def trainer_metric_named_loss_would_overwrite_the_loss():
    def loss(spk, y):
        return spk.mean()

    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), metrics=[loss], progress=False)


@probe(C, raises=TypeError, says=("callbacks", "EarlyStopping", r"list|\["))
def trainer_given_one_callback_not_a_list():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), callbacks=snx.EarlyStopping(),
                progress=False)  # fmt: skip


@probe(C, raises=TypeError, says=(r"callbacks\[0\]", "EarlyStopping", r"EarlyStopping\(\)|instance"))
def trainer_given_a_callback_class_not_an_instance():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), callbacks=[snx.EarlyStopping],
                progress=False)  # fmt: skip


@probe(C, raises=(TypeError, ValueError), says=("on_epoch_end", "on_train_epoch_end"))
def callback_with_a_keras_hook_name_that_is_never_called():
    class PrintLoss(snx.Callback):
        def on_epoch_end(self, epoch, logs=None):  # Keras' name: Trainer calls on_train_epoch_end
            print(epoch, logs)

    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), callbacks=[PrintLoss()],
                progress=False)  # fmt: skip


@probe(C, raises=TypeError, says=("on_train_epoch_end", r"\(trainer, epoch, logs\)|trainer, epoch, logs"))
def callback_hook_with_the_wrong_signature():
    class Logger(snx.Callback):
        def on_train_epoch_end(self, epoch, logs):  # forgot the trainer
            pass

    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), callbacks=[Logger()],
                progress=False)  # fmt: skip


@probe(C, raises=ValueError, says=("EarlyStopping", "min_delta", "-0.1"))
def early_stopping_negative_min_delta():
    snx.EarlyStopping(min_delta=-0.1)


@probe(C)
def fit_after_early_stopping_trains_again():
    network = net()
    stop = snx.EarlyStopping(monitor="loss", patience=0, mode="max")  # loss falls: stops after epoch 2
    t = snx.Trainer(network, optim.Adam(network.parameters(), lr=0.05), SF.ce_rate_loss(), callbacks=[stop],
                    progress=False)  # fmt: skip
    first = t.fit(loader(), epochs=5)
    second = t.fit(loader(), epochs=5)
    return len(first.epoch) == 2 and len(second.epoch) == 2 and stop.stopped_epoch == 1


@probe(C, raises=ValueError, says=("val_loader", "generator|iterator", "list|re-iterable"))
def fit_with_a_generator_as_validation_loader():
    network = net()
    validation = (batch for batch in loader(1))
    _fit(network, optim.Adam(network.parameters()), epochs=2, val_loader=validation)


@probe(C)
def evaluate_before_fit_matches_a_manual_loss():
    network = net()
    t = trainer(network)
    x, y = loader(1)[0]
    logs = t.evaluate([(x, y)])
    spk, _ = network(x)
    return abs(logs["loss"] - float(SF.ce_rate_loss()(spk, y))) < 1e-5


@probe(C)
def fit_after_model_eval_restores_eval_mode():
    network = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5), nn.Leaky(beta=0.9))
    network.eval()
    _fit(network, optim.Adam(network.parameters()))
    return network.training is False and all(not m.training for m in network.modules())


@probe(C)
def load_state_dict_after_building_the_optimizer_trains_the_loaded_weights():
    network, pretrained = net(0), net(1)
    o = optim.SGD(network.parameters(), lr=0.0)  # lr 0: fit must leave the loaded weights as they are
    network.load_state_dict(pretrained.state_dict())
    _fit(network, o)
    return same(parameters(network), parameters(pretrained))


@probe(C, raises=ValueError, says=(r"0\.weight", r"\(2, 3\)|2, 3", r"\(4, 3\)|4, 3"))
def load_state_dict_non_strict_with_a_misshapen_weight():
    network = net()
    state = dict(network.state_dict())
    state["0.weight"] = np.zeros((4, 3), np.float32)
    network.load_state_dict(state, strict=False)


@probe(C, raises=(TypeError, ValueError), says=("load_state_dict", "path|file|str", r"snx\.load|load\("))
def load_state_dict_given_a_file_path():
    net().load_state_dict("model.safetensors")


@probe(C, raises=(TypeError, ValueError), says=("train", "mode", "bool|True|False"))
def module_train_given_a_string_mode():
    net().train("eval")


@probe(C)
def fit_with_the_same_seed_is_reproducible():
    a, b = net(0), net(0)
    _fit(a, optim.Adam(a.parameters(), lr=0.05), seed=3)
    _fit(b, optim.Adam(b.parameters(), lr=0.05), seed=3)
    return same(parameters(a), parameters(b))


@probe(C, raises=ValueError, says=("manual_seed", "2\\*\\*64|range", str(2**64)))
def manual_seed_too_large():
    snx.manual_seed(2**64)
