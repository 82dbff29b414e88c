"""API misuse: optimizers, schedulers, Trainer and fit arguments, modules and state dicts used wrongly."""

from __future__ import annotations

import numpy as np
from _fixtures import loader, net, parameters, same, spikes, trainer
from _harness import probe

import snnax_torchlike as snx
from snnax_torchlike import functional as SF
from snnax_torchlike import nn, optim

C = "API misuse"


@probe(C, raises=(TypeError, ValueError), says=("Adam", "lr", "1e-3"))
def optimizer_learning_rate_as_a_string():
    optim.Adam(net().parameters(), lr="1e-3")


@probe(C, raises=ValueError, says=("SGD", "lr", "nan"))
def optimizer_nan_learning_rate():
    optim.SGD(net().parameters(), lr=float("nan"))


@probe(C, raises=ValueError, says=("Adam", "lr", "-0.1"))
def optimizer_negative_learning_rate():
    optim.Adam(net().parameters(), lr=-0.1)


@probe(C, raises=ValueError, says=("Adam", "betas", "1.5"))
def adam_beta_above_one():
    optim.Adam(net().parameters(), betas=(1.5, 0.999))


@probe(C, raises=ValueError, says=("Adam", "empty|no parameters"))
def optimizer_over_no_parameters():
    optim.Adam([])


@probe(C, raises=ValueError, says=("Adam", "empty|no parameters|generator"))
def optimizer_over_a_consumed_generator():
    network = net()
    parameters_once = network.parameters()
    list(parameters_once)
    optim.Adam(parameters_once)


@probe(C, raises=ValueError, says=("Adam", "twice|more than once|duplicate"))
def optimizer_given_a_parameter_twice():
    network = net()
    weight = network[0].weight
    optim.Adam([weight, weight])


@probe(C, raises=ValueError, says=("lr", "nan"))
def optimizer_learning_rate_set_to_nan_later():
    o = optim.SGD(net().parameters(), lr=0.1)
    o.param_groups[0]["lr"] = float("nan")
    o.lr = float("nan")


@probe(C, raises=ValueError, says=("another|not in the model|other network", "optimizer"))
def fit_with_an_optimizer_of_another_network():
    a, b = net(0), net(1)
    snx.Trainer(a, optim.Adam(b.parameters()), SF.ce_rate_loss(), progress=False).fit(loader())


@probe(C, raises=ValueError, says=("StepLR", "step_size", "0"))
def steplr_step_size_zero():
    optim.lr_scheduler.StepLR(optim.SGD(net().parameters(), lr=0.1), step_size=0)


@probe(C, raises=ValueError, says=("scheduler", "optimizer"))
def fit_with_a_scheduler_of_another_optimizer():
    network = net()
    other = optim.SGD(net(1).parameters(), lr=0.1)
    trainer(network).fit(loader(), scheduler=optim.lr_scheduler.StepLR(other, step_size=1))


@probe(C, raises=TypeError, says=("Trainer", "optimizer", "snnax_torchlike.optim"))
def trainer_given_a_plain_function_as_optimizer():
    snx.Trainer(net(), lambda: None, SF.ce_rate_loss())


@probe(C, raises=(ValueError, TypeError), says=("epochs", "0|positive|>= 1"))
def fit_zero_epochs():
    trainer().fit(loader(), epochs=0)


@probe(C, raises=(ValueError, TypeError), says=("epochs", "2.5|int"))
def fit_fractional_epochs():
    trainer().fit(loader(), epochs=2.5)


@probe(C, raises=TypeError, says=("fit", "lr|unexpected keyword"))
def fit_unknown_keyword():
    trainer().fit(loader(), lr=0.1)


@probe(C, raises=(ValueError, TypeError), says=("log_every_n_steps", "0"))
def trainer_log_every_zero_steps():
    snx.Trainer(net(), optim.SGD(net().parameters(), lr=0.1), SF.ce_rate_loss(), log_every_n_steps=0)


@probe(C, raises=(ValueError, TypeError), says=("accumulate_grad_batches", "0"))
def fit_accumulate_zero_batches():
    trainer().fit(loader(), accumulate_grad_batches=0)


@probe(C, raises=ValueError, says=("loss", "one value per sample", r"\(1, 2\)"))
def fit_loss_returning_a_matrix():
    def loss(out, y):
        return out.sum(0)  # [B, classes]

    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), loss, progress=False).fit(loader())


@probe(C, raises=(ValueError, TypeError), says=("metric", "one value per sample|shape|scalar"))
def fit_metric_returning_a_vector():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), progress=False,
                metrics=[lambda out, y: out.sum(0)]).fit(loader())


@probe(C, raises=TypeError, says=("callback", "Callback"))
def trainer_callback_that_is_not_a_callback():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), progress=False,
                callbacks=[print]).fit(loader())


@probe(C, raises=(KeyError, ValueError), says=("EarlyStopping", "val_accuracy", "loss"))
def early_stopping_on_a_metric_never_logged():
    network = net()
    snx.Trainer(network, optim.Adam(network.parameters()), SF.ce_rate_loss(), progress=False,
                callbacks=[snx.EarlyStopping(monitor="val_accuracy")]).fit(loader(), epochs=2)


@probe(C, raises=ValueError, says=("EarlyStopping", "patience", "-1"))
def early_stopping_negative_patience():
    snx.EarlyStopping(patience=-1)


@probe(C, raises=(ValueError, TypeError), says=("max_grad_norm|clip", "-1|positive"))
def optimizer_negative_clip_norm():
    optim.Adam(net().parameters(), max_grad_norm=-1.0)


@probe(C, raises=(RuntimeError, ValueError), says=("evaluate", "loss_fn|loss"))
def evaluate_without_a_loss():
    network = net()
    snx.Trainer(network, None, None, progress=False).evaluate(loader())


@probe(C, raises=(RuntimeError, ValueError), says=("fit", "optimizer"))
def fit_without_an_optimizer():
    network = net()
    snx.Trainer(network, None, SF.ce_rate_loss(), progress=False).fit(loader())


@probe(C, raises=(KeyError, ValueError), says=("load_state_dict", "missing keys.*0.weight", "unexpected keys.*nonsense"))
def load_state_dict_with_a_wrong_key():
    network = net()
    state = network.state_dict()
    state["nonsense"] = state.pop("0.weight")
    network.load_state_dict(state)


@probe(C, on_false="data-loss")
def load_state_dict_failing_late_changes_nothing():
    network = net()
    before = parameters(network)
    state = dict(network.state_dict())
    state["0.weight"] = np.ones((2, 3), np.float32)
    state["1.beta"] = np.array("high")
    try:
        network.load_state_dict(state)
    except (ValueError, TypeError):
        return same(before, parameters(network))
    return False


@probe(C)
def load_state_dict_non_strict_reports_the_unexpected_key():
    network = net()
    state = dict(network.state_dict())
    state["extra.weight"] = np.zeros(3, np.float32)
    result = network.load_state_dict(state, strict=False)
    return list(result.unexpected_keys) == ["extra.weight"] and list(result.missing_keys) == []


@probe(C, raises=TypeError, says=("Sequential", "layer 1", "not a facade layer|Module"))
def sequential_given_a_plain_function():
    nn.Sequential(nn.Linear(3, 2), lambda x: x)


@probe(C, raises=TypeError, says=("manual_seed", "int", "seed"))
def manual_seed_with_a_string():
    snx.manual_seed("42")


@probe(C)
def frozen_parameter_is_not_trained():
    network = net()
    network[0].weight.requires_grad = False
    before = np.array(network[0].weight.data)
    snx.Trainer(network, optim.Adam([network[0].bias], lr=0.1), SF.ce_rate_loss(), progress=False).fit(loader())
    return np.array_equal(before, np.array(network[0].weight.data))


@probe(C, raises=ValueError, says=("requires_grad|frozen", "0.weight|weight"))
def fit_after_freezing_a_parameter_the_optimizer_holds():
    network = net()
    t = trainer(network)
    network[0].weight.requires_grad = False
    t.fit(loader())


@probe(C, raises=ValueError, says=("replaced", r"not train the model's \['0.weight'\]"))
def fit_after_replacing_a_parameter():
    network = net()
    t = trainer(network)
    network[0].weight = nn.Parameter(np.zeros((2, 3), np.float32))
    t.fit(loader())


@probe(C)
def fit_twice_continues_training():
    network = net()
    t = trainer(network)
    t.fit(loader(), epochs=1)
    middle = parameters(network)
    history = t.fit(loader(), epochs=2)
    return not same(middle, parameters(network)) and len(history.epoch) == 2


@probe(C)
def eval_mode_disables_dropout_in_predict():
    snx.manual_seed(0)
    network = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.Leaky(beta=0.9))
    t = snx.Trainer(network, None, None, progress=False)
    a, b = t.predict([spikes()]), t.predict([spikes()])
    return np.array_equal(np.asarray(a), np.asarray(b))


@probe(C, raises=TypeError, says=("forward", "argument|positional"))
def calling_a_layer_with_too_many_arguments():
    nn.Linear(3, 2)(spikes()[0], spikes()[0])
