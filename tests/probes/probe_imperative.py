"""The imperative API, probed again: ``backward()``, ``.grad``, optimizers, in-place parameter edits, torch-like
tensor methods, hidden state and the drop-in namespace, used with the mistakes PyTorch and snnTorch users make.
Where torch or snnTorch define the answer, the numbers are compared with the real libraries on the same weights."""

from __future__ import annotations

import numpy as np
from _harness import probe

import snnax_torchlike as snx
import snnax_torchlike.snntorch as snn
from snnax_torchlike import nn, optim

C = "imperative API"


def _inputs(shape=(4, 3), seed: int = 0, high: float = 2.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, high, shape).astype(np.float32)


def _layer(seed: int = 0, n_in: int = 3, n_out: int = 2) -> nn.Linear:
    snx.manual_seed(seed)
    return nn.Linear(n_in, n_out)


def _torch_copy(layer: nn.Linear):
    """A ``torch.nn.Linear`` holding ``layer``'s weights."""
    import torch

    twin = torch.nn.Linear(*reversed(layer.weight.shape))
    twin.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in layer.state_dict().items()})
    return twin


def _close(ours, theirs, atol: float = 1e-5) -> bool:
    ours = np.asarray(ours)
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    return ours.shape == theirs.shape and np.allclose(ours, theirs, atol=atol, rtol=1e-5)


def _hidden_twins(seed: int = 0, output: bool = True):
    """The same ``Linear(3, 4) -> Leaky(init_hidden=True)`` network in snnTorch and in the drop-in."""
    import snntorch
    import snntorch.utils
    import torch

    torch.manual_seed(seed)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), snntorch.Leaky(beta=0.8, init_hidden=True, output=output))
    ours = nn.Sequential(nn.Linear(3, 4), snn.Leaky(beta=0.8, init_hidden=True, output=output))
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _leaky_loop_loss(fc, lif, x):
    """snnTorch tutorial style: ``mem`` passed by hand through a Python loop; a loss over every step's membrane."""
    mem = lif.init_leaky()
    loss = 0.0
    for t in range(x.shape[0]):
        spk, mem = lif(fc(x[t]), mem)
        loss = loss + ((mem - 0.5) ** 2).mean() + spk.sum() * 0.1
    return loss


# -- backward ----------------------------------------------------------------------------------------------------


@probe(C, raises=RuntimeError, says=("second time", "retain_graph=True"))
def hidden_state_loop_loss_backward_twice():
    net, _ = _hidden_twins()
    snn.utils.reset(net)
    loss = 0.0
    for t in range(3):
        _, mem = net(_inputs(seed=t))
        loss = loss + mem.sum()
    loss.backward()
    loss.backward()


@probe(C, raises=RuntimeError, says=("second time", "retain_graph"))
def two_losses_of_one_forward_backward_in_turn():
    out = _layer()(_inputs())
    first, second = out.sum(), (out**2).sum()
    first.backward()
    second.backward()


@probe(C)
def backward_with_a_gradient_argument_equals_torch():
    import torch

    layer = _layer(1)
    twin = _torch_copy(layer)
    weights = _inputs((4, 2), seed=3)
    layer(_inputs()).backward(gradient=weights)
    twin(torch.from_numpy(_inputs())).backward(gradient=torch.from_numpy(weights))
    return _close(layer.weight.grad, twin.weight.grad) and _close(layer.bias.grad, twin.bias.grad)


@probe(C, raises=RuntimeError, says=("gradient", r"\(3,\)", r"\(4, 2\)"))
def backward_with_a_gradient_of_the_wrong_shape():
    _layer()(_inputs()).backward(gradient=np.ones(3, np.float32))


@probe(C)
def one_element_loss_val_as_in_snntorch_tutorials_backpropagates():
    import torch

    layer = _layer(2)
    twin = _torch_copy(layer)
    x, y = _inputs(), np.array([0, 1, 1, 0])
    ours = torch.zeros((1), dtype=torch.float)
    theirs = torch.zeros((1), dtype=torch.float)
    for _ in range(2):  # loss_val += loss(mem, y): a [1]-shaped loss, as snnTorch's tutorials build it
        ours += nn.CrossEntropyLoss()(layer(x), torch.from_numpy(y))
        theirs += torch.nn.CrossEntropyLoss()(twin(torch.from_numpy(x)), torch.from_numpy(y))
    ours.backward()
    theirs.backward()
    return _close(layer.weight.grad, twin.weight.grad) and _close(ours.numpy(), theirs)



@probe(C)
def backward_called_inside_no_grad_still_fills_grads():
    layer = _layer()
    loss = layer(_inputs()).sum()
    with snx.no_grad():  # torch: grad mode governs recording only; backward() still runs
        loss.backward()
    return _close(layer.bias.grad, [4.0, 4.0])


@probe(C)
def forgetting_zero_grad_in_a_leaky_loop_doubles_the_grads():
    snx.manual_seed(0)
    fc, lif = nn.Linear(3, 4), snn.Leaky(beta=0.9)
    x = _inputs((4, 2, 3))
    _leaky_loop_loss(fc, lif, x).backward()
    once = {name: np.array(p.grad) for name, p in fc.named_parameters()}
    _leaky_loop_loss(fc, lif, x).backward()
    return all(np.allclose(np.asarray(p.grad), 2 * once[name], rtol=1e-6) for name, p in fc.named_parameters())


@probe(C)
def leaky_loop_gradients_equal_snntorch():
    import snntorch
    import snntorch.utils
    import torch

    fc = _layer(3, 3, 4)
    twin = _torch_copy(fc)
    x = _inputs((5, 2, 3), seed=5)
    _leaky_loop_loss(fc, snn.Leaky(beta=0.9), x).backward()
    _leaky_loop_loss(twin, snntorch.Leaky(beta=0.9), torch.from_numpy(x)).backward()
    return _close(fc.weight.grad, twin.weight.grad) and _close(fc.bias.grad, twin.bias.grad)


@probe(C)
def learned_beta_gradient_equals_snntorch():
    import snntorch
    import snntorch.utils
    import torch

    fc = _layer(4, 3, 4)
    twin = _torch_copy(fc)
    x = _inputs((4, 2, 3), seed=6)
    ours, theirs = snn.Leaky(beta=0.7, learn_beta=True), snntorch.Leaky(beta=0.7, learn_beta=True)
    _leaky_loop_loss(fc, ours, x).backward()
    _leaky_loop_loss(twin, theirs, torch.from_numpy(x)).backward()
    return _close(ours.beta.grad, theirs.beta.grad) and _close(fc.weight.grad, twin.weight.grad)


# -- optimizers ----------------------------------------------------------------------------------------------------



def _three_torch_style_steps(make_ours, make_theirs) -> bool:
    import torch

    layer = _layer(5)
    twin = _torch_copy(layer)
    ours, theirs = make_ours(layer.parameters()), make_theirs(twin.parameters())
    y = np.array([0, 1, 1, 0])
    for seed in range(3):
        x = _inputs(seed=seed)
        ours.zero_grad()
        nn.CrossEntropyLoss()(layer(x), y).backward()
        ours.step()
        theirs.zero_grad()
        torch.nn.CrossEntropyLoss()(twin(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        theirs.step()
    return _close(layer.weight.data, twin.weight) and _close(layer.bias.data, twin.bias)


@probe(C)
def sgd_momentum_backward_loop_equals_torch():
    import torch

    return _three_torch_style_steps(
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)
    )


@probe(C)
def adamw_backward_loop_equals_torch():
    import torch

    return _three_torch_style_steps(
        lambda p: optim.AdamW(p, lr=0.05, weight_decay=0.1), lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1)
    )


@probe(C, raises=RuntimeError, says=("AdamW.step", "requires_grad=False now", "build the optimizer after freezing"))
def parameter_frozen_after_the_optimizer_was_built():
    layer = _layer()
    opt = optim.AdamW(layer.parameters(), lr=0.1, weight_decay=0.5)
    layer.bias.requires_grad_(False)  # torch skips it (grad None); here its weight decay would still move it
    layer(_inputs()).sum().backward()
    opt.step()


@probe(C, raises=RuntimeError, says=("no parameter has a gradient", "backward"))
def optimizer_of_one_network_stepped_after_backward_of_another():
    first, second = _layer(0), _layer(1)
    opt = optim.SGD(first.parameters(), lr=0.1)
    second(_inputs()).sum().backward()
    opt.step()


@probe(C, raises=RuntimeError, says=("step", "snx.compile", "outside"))
def optimizer_step_inside_a_compiled_function():
    layer = _layer()
    opt = optim.SGD(layer.parameters(), lr=0.1)
    layer(_inputs()).sum().backward()

    @snx.compile
    def update():
        opt.step()

    update()


# -- parameters edited by hand -----------------------------------------------------------------------------------


@probe(C, on_false="data-loss")
def parameter_data_item_assignment_raises_and_changes_nothing():
    # ``.data`` is the raw JAX array, which refuses item assignment with JAX's own TypeError (naming
    # ``x.at[idx].set(y)``); docs/pytorch-users.md gives the torch spelling that works: ``p[i] = v`` under no_grad.
    layer = _layer()
    before = np.array(layer.weight.data)
    try:
        layer.weight.data[0, 0] = 5.0
    except TypeError as error:
        return "immutable" in str(error) and np.array_equal(before, np.asarray(layer.weight.data))
    return False


@probe(C)
def parameter_item_assignment_under_torch_no_grad_changes_the_weight():
    import torch

    layer = _layer()
    expected = np.array(layer.weight.data)
    expected[0, 1] = 5.0
    expected[1] = 0.25
    with torch.no_grad():
        layer.weight[0, 1] = 5.0
        layer.weight[1] = 0.25
    return np.array_equal(np.asarray(layer.weight.data), expected)


@probe(C, raises=RuntimeError, says=("in-place", "no_grad"))
def parameter_item_assignment_outside_no_grad():
    _layer().weight[0, 0] = 5.0


@probe(C, raises=RuntimeError, says=("in-place", "add_", "no_grad"))
def parameter_add_method_outside_no_grad():
    _layer().bias.add_(1.0)


@probe(C)
def parameter_fill_under_no_grad_as_torch_init():
    layer = _layer()
    with snx.no_grad():
        layer.bias.fill_(0.5)
        layer.weight.zero_()
    return np.array_equal(np.asarray(layer(_inputs())), np.full((4, 2), 0.5, np.float32))


@probe(C)
def manual_sgd_under_torch_no_grad_equals_torch():
    import torch

    layer = _layer(6)
    twin = _torch_copy(layer)
    for seed in range(2):
        x = _inputs(seed=seed)
        layer.zero_grad()
        (layer(x) ** 2).mean().backward()
        with torch.no_grad():
            for p in layer.parameters():
                p -= 0.1 * p.grad
        twin.zero_grad()
        (twin(torch.from_numpy(x)) ** 2).mean().backward()
        with torch.no_grad():
            for p in twin.parameters():
                p -= 0.1 * p.grad
    return _close(layer.weight.data, twin.weight) and _close(layer.bias.data, twin.bias)


@probe(C, raises=(RuntimeError, ValueError), says=("grad", r"\(3, 3\)", r"\(2, 3\)"))
def grad_assigned_by_hand_with_the_wrong_shape():
    _layer().weight.grad = np.zeros((3, 3), np.float32)


@probe(C)
def grad_assigned_by_hand_as_numpy_is_applied_by_step():
    layer = _layer()
    before = np.array(layer.weight.data)
    layer.weight.grad = np.ones((2, 3), np.float32)
    optim.SGD([layer.weight], lr=0.5).step()
    return np.allclose(np.asarray(layer.weight.data), before - 0.5)


@probe(C)
def module_zero_grad_set_to_none_false_leaves_zeros():
    layer = _layer()
    layer(_inputs()).sum().backward()
    layer.zero_grad(set_to_none=False)  # torch: the grads become zeros, not None
    return layer.weight.grad is not None and np.array_equal(np.asarray(layer.weight.grad), np.zeros((2, 3)))


@probe(C, raises=AttributeError, says=("Parameter", "normal_", r"copy_|\.data"))
def parameter_method_torch_has_and_parameter_lacks():
    with snx.no_grad():
        _layer().weight.normal_(0.0, 0.1)


# -- tensor methods ---------------------------------------------------------------------------------------------


@probe(C, raises=IndexError, says=("index 7", "dimension 0", "size 4"))
def index_with_a_torch_index_tensor_out_of_range():
    import torch

    snx.Tensor(_inputs())[torch.tensor([0, 7])]


@probe(C, raises=IndexError, says=("index 9", "dimension 0", "size 4"))
def assignment_through_an_index_array_out_of_range():
    t = snx.Tensor(_inputs())
    t[np.array([0, 9])] = 0.0


@probe(C, raises=IndexError, says=("mask", r"\[3\]", r"\[4, 3\]"))
def boolean_mask_of_the_wrong_length():
    snx.Tensor(_inputs())[np.array([True, False, True])]


@probe(C, raises=IndexError, says=("transpose", r"\[-2, 1\]", "got 2"))
def transpose_of_a_dimension_out_of_range():
    snx.Tensor(_inputs()).transpose(0, 2)


@probe(C, raises=IndexError, says=("sum", r"\[-2, 1\]", "got 3"))
def sum_over_a_dimension_out_of_range():
    _layer()(_inputs()).sum(dim=3)


@probe(C, raises=IndexError, says=("squeeze", r"\[-2, 1\]", "got 5"))
def squeeze_of_a_dimension_out_of_range():
    snx.Tensor(_inputs()).squeeze(5)


@probe(C, raises=(RuntimeError, ValueError), says=("add", r"\(4, 3\)", r"\(5,\)"))
def adding_a_torch_tensor_of_an_incompatible_shape():
    import torch

    snx.Tensor(_inputs()) + torch.ones(5)


@probe(C, raises=(RuntimeError, ValueError, TypeError), says=("matmul", r"\(4, 3\)", r"\(5, 2\)"))
def matmul_with_mismatched_inner_sizes():
    _layer(0, 3, 3)(_inputs()) @ np.ones((5, 2), np.float32)


@probe(C, raises=(RuntimeError, ValueError), says=("stack", r"\[4, 3\]|\(4, 3\)", r"\[4, 2\]|\(4, 2\)"))
def torch_stack_of_spike_records_of_different_shapes():
    import torch

    torch.stack([snx.Tensor(_inputs()), snx.Tensor(_inputs((4, 2)))])


@probe(C, raises=RuntimeError, says=("ambiguous", r"\.any\(\)", r"\.all\(\)"))
def python_if_on_a_spike_tensor():
    spk, _ = snn.Leaky(beta=0.9)(_inputs())
    if spk:
        pass


@probe(C, raises=(RuntimeError, TypeError), says=("item", "compile", "return"))
def item_inside_a_compiled_function():
    layer = _layer()

    @snx.compile
    def step(x):
        return layer(x).sum().item()

    step(_inputs())


@probe(C, raises=(RuntimeError, TypeError), says=("bool|if", "compile", "where"))
def python_if_on_a_value_inside_a_compiled_function():
    layer = _layer()

    @snx.compile
    def step(x):
        out = layer(x)
        return out if out.sum() > 0 else -out

    step(_inputs())



# -- hidden state ------------------------------------------------------------------------------------------------


@probe(C)
def forgetting_reset_between_batches_in_a_sequential_equals_snntorch():
    import torch

    ours, theirs = _hidden_twins(1)
    same = True
    for batch in range(2):  # two batches of three steps, no utils.reset in between
        for t in range(3):
            x = _inputs(seed=10 * batch + t)
            (so, mo), (st, mt) = ours(x), theirs(torch.from_numpy(x))
            same = same and _close(so, st, 0) and _close(mo, mt)
    return same


@probe(C)
def synaptic_output_true_gives_the_triple_snntorch_gives():
    import snntorch
    import snntorch.utils
    import torch

    ours = snn.Synaptic(alpha=0.7, beta=0.9, init_hidden=True, output=True)
    theirs = snntorch.Synaptic(alpha=0.7, beta=0.9, init_hidden=True, output=True)
    same = True
    for t in range(4):
        x = _inputs(seed=t)
        a, b = ours(x), theirs(torch.from_numpy(x))
        same = same and isinstance(a, tuple) and len(a) == len(b) == 3 and all(_close(p, q) for p, q in zip(a, b))
    return same


@probe(C)
def reset_hidden_mid_sequence_equals_snntorch():
    import snntorch
    import snntorch.utils
    import torch

    ours, theirs = snn.Leaky(beta=0.9, init_hidden=True), snntorch.Leaky(beta=0.9, init_hidden=True)
    for t in range(2):
        ours(_inputs(seed=t)), theirs(torch.from_numpy(_inputs(seed=t)))
    ours.reset_hidden()
    theirs.reset_hidden()
    x = _inputs(seed=7)
    return _close(ours(x), theirs(torch.from_numpy(x)), 0) and _close(ours.mem, theirs.mem)


@probe(C)
def forgetting_detach_hidden_in_truncated_bptt_gives_the_detached_gradient():
    """Documented difference: torch raises 'backward through the graph a second time'; here the earlier
    chunk's graph is treated as detached, so the gradient equals snnTorch's with ``detach_hidden()``."""
    import snntorch
    import snntorch.utils
    import torch

    ours, theirs = _hidden_twins(2)
    snn.utils.reset(ours)
    snntorch.utils.reset(theirs)
    for chunk in range(2):
        loss_o, loss_t = 0.0, 0.0
        for t in range(2):
            x = _inputs(seed=10 * chunk + t)
            loss_o = loss_o + (ours(x)[1] ** 2).sum()
            loss_t = loss_t + (theirs(torch.from_numpy(x))[1] ** 2).sum()
        loss_o.backward()  # no detach_hidden() before the next chunk
        loss_t.backward()
        theirs[1].detach_hidden()
    return _close(ours[0].weight.grad, theirs[0].weight.grad, 1e-4)


@probe(C)
def hidden_state_left_by_compiled_steps_continues_eagerly():
    net, _ = _hidden_twins(3, output=False)
    snn.utils.reset(net)
    eager = [np.asarray(net(_inputs(seed=t))) for t in range(4)]

    @snx.compile
    def step(x):
        return net(x)

    snn.utils.reset(net)
    mixed = [np.asarray(step(_inputs(seed=t)) if t < 2 else net(_inputs(seed=t))) for t in range(4)]
    return all(np.array_equal(a, b) for a, b in zip(eager, mixed))


@probe(C)
def closure_step_without_reset_carries_state_like_the_backward_loop():
    def run(closure_style: bool):
        net, _ = _hidden_twins(4)
        opt = optim.SGD(net.parameters(), lr=0.1)
        snn.utils.reset(net)  # once, then never again: the state carries over from iteration to iteration

        def loss_fn():
            loss = 0.0
            for t in range(2):
                loss = loss + (net(_inputs(seed=t))[1] ** 2).mean()
            return loss

        for _ in range(2):
            if closure_style:
                opt.step(loss_fn)
            else:
                opt.zero_grad()
                loss_fn().backward()
                opt.step()
        return np.array(net[0].weight.data), np.array(net[1].mem)

    (w_a, m_a), (w_b, m_b) = run(True), run(False)
    return np.allclose(w_a, w_b, atol=1e-6) and np.allclose(m_a, m_b, atol=1e-6)


# -- the drop-in namespace ---------------------------------------------------------------------------------------


@probe(C)
def leaky_beta_above_one_behaves_as_snntorch():
    import snntorch
    import snntorch.utils
    import torch

    same = True
    for beta in (1.5, -0.5):  # snnTorch clamps beta into [0, 1] at every step
        ours, theirs = snn.Leaky(beta=beta), snntorch.Leaky(beta=beta)
        mo, mt = ours.init_leaky(), theirs.init_leaky()
        for t in range(4):
            x = _inputs(seed=t, high=1.0)
            so, mo = ours(x, mo)
            st, mt = theirs(torch.from_numpy(x), mt)
            same = same and _close(so, st, 0) and _close(mo, mt)
    return same


@probe(C, raises=TypeError, says=("spike_grad", r"fast_sigmoid\(\)", "call"))
def spike_grad_given_the_surrogate_factory_uncalled():
    from snnax_torchlike.snntorch import surrogate

    snn.Leaky(beta=0.9, spike_grad=surrogate.fast_sigmoid)


@probe(C)
def drop_in_training_loop_equals_snntorch_after_three_steps():
    import snntorch
    import snntorch.functional as SF_theirs
    import torch

    from snnax_torchlike.snntorch import functional as SF

    ours, theirs = _hidden_twins(5)
    opt_o = optim.Adam(ours.parameters(), lr=0.05)
    opt_t = torch.optim.Adam(theirs.parameters(), lr=0.05)
    loss_o, loss_t = SF.ce_rate_loss(), SF_theirs.ce_rate_loss()
    x = _inputs((3, 4, 3), seed=8)
    y = np.array([0, 1, 2, 3])
    for _ in range(3):
        snn.utils.reset(ours)
        snntorch.utils.reset(theirs)
        spk_o = torch.stack([ours(x[t])[0] for t in range(3)])
        spk_t = torch.stack([theirs(torch.from_numpy(x[t]))[0] for t in range(3)])
        opt_o.zero_grad()
        loss_o(spk_o, torch.from_numpy(y)).backward()
        opt_o.step()
        opt_t.zero_grad()
        loss_t(spk_t, torch.from_numpy(y)).backward()
        opt_t.step()
    return _close(ours[0].weight.data, theirs[0].weight, 1e-5) and _close(ours[0].bias.data, theirs[0].bias, 1e-5)
