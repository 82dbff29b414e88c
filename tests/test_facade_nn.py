"""The PyTorch-style `nn` facade: modules, state_dict, snnTorch numerics, functional binding."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import torch
from _networks import TutorialLoopNet

import snnax_torchlike as snx
from snnax_torchlike import nn, surrogate


def _contract_net():
    return nn.Sequential(
        nn.Linear(64, 128),
        nn.Leaky(beta=0.9, spike_grad=surrogate.fast_sigmoid(slope=25)),
        nn.Linear(128, 10),
        nn.Leaky(beta=0.9),
    )


def test_contract_shapes_and_state_dict_names():
    snx.manual_seed(0)
    net = _contract_net()
    x = snx.spikegen.rate(jnp.full((8, 64), 0.5), num_steps=25)
    spk, mem = net(x)
    assert spk.shape == mem.shape == (25, 8, 10)
    sd = net.state_dict()
    assert list(sd) == [
        "0.weight", "0.bias",
        "1.threshold", "1.graded_spikes_factor", "1.reset_mechanism_val", "1.beta",
        "2.weight", "2.bias",
        "3.threshold", "3.graded_spikes_factor", "3.reset_mechanism_val", "3.beta",
    ]  # fmt: skip
    assert sd["0.weight"].shape == (128, 64) and sd["2.bias"].shape == (10,)
    assert isinstance(sd["0.weight"], np.ndarray)
    # Buffers are not parameters unless learn_* is set.
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    learned = nn.Leaky(beta=0.9, learn_beta=True, learn_threshold=True)
    assert [name for name, _ in learned.named_parameters()] == ["threshold", "beta"]


def test_state_dict_keys_equal_snntorch_and_torch_weights_load():
    torch.manual_seed(0)
    reference = torch.nn.Sequential(
        torch.nn.Linear(64, 128), snntorch.Leaky(beta=0.9), torch.nn.Linear(128, 10), snntorch.Leaky(beta=0.9)
    )
    net = _contract_net()
    torch_sd = reference.state_dict()
    assert list(torch_sd) == list(net.state_dict())
    net.load_state_dict(torch_sd)  # torch tensors accepted directly
    np.testing.assert_array_equal(net.state_dict()["0.weight"], torch_sd["0.weight"].numpy())


@pytest.mark.parametrize("reset_mechanism", ["subtract", "zero"])
def test_sequential_matches_snntorch_network(reset_mechanism):
    torch.manual_seed(1)
    T, B = 100, 4
    fc1, fc2 = torch.nn.Linear(20, 32), torch.nn.Linear(32, 5)
    lif1 = snntorch.Leaky(beta=torch.linspace(0.7, 0.95, 32), reset_mechanism=reset_mechanism)
    lif2 = snntorch.Leaky(beta=0.85, threshold=0.7, reset_mechanism=reset_mechanism)
    x = (torch.rand(T, B, 20) * 1.5).float()
    mem1, mem2 = lif1.reset_mem(), lif2.reset_mem()
    spikes, mems = [], []
    with torch.no_grad():
        for t in range(T):
            s1, mem1 = lif1(fc1(x[t]), mem1)
            s2, mem2 = lif2(fc2(s1), mem2)
            spikes.append(s2.numpy().copy())
            mems.append(mem2.numpy().copy())
    ref_spk, ref_mem = np.stack(spikes), np.stack(mems)

    net = nn.Sequential(
        nn.Linear(20, 32),
        nn.Leaky(beta=np.linspace(0.7, 0.95, 32), reset_mechanism=reset_mechanism),
        nn.Linear(32, 5),
        nn.Leaky(beta=0.85, threshold=0.7, reset_mechanism=reset_mechanism),
    )
    reference = torch.nn.Sequential(fc1, lif1, fc2, lif2)
    net.load_state_dict(reference.state_dict())
    spk, mem = net(x.numpy())
    near_threshold = np.abs(ref_mem - 0.7) < 1e-5
    assert not ((np.asarray(spk) != ref_spk) & ~near_threshold).any()
    assert ref_spk.sum() > 20
    if np.array_equal(np.asarray(spk), ref_spk):
        np.testing.assert_allclose(np.asarray(mem), ref_mem, atol=1e-4, rtol=0)


def test_stepwise_neuron_equals_sequence_run():
    net = _contract_net()
    x = jax.random.uniform(jax.random.PRNGKey(0), (12, 3, 64))
    spk_seq, mem_seq = net(x)
    lin1, lif1, lin2, lif2 = list(net)
    mem1, mem2 = lif1.init_leaky(), lif2.init_leaky()
    for t in range(12):
        s1, mem1 = lif1(lin1(x[t]), mem1)
        s2, mem2 = lif2(lin2(s1), mem2)
        np.testing.assert_allclose(np.asarray(mem2), np.asarray(mem_seq[t]), atol=1e-5)
        np.testing.assert_array_equal(np.asarray(s2), np.asarray(spk_seq[t]))
    with pytest.raises(ValueError, match=r"Leaky: the membrane has shape \(3, 5\).*\(3, 10\)"):
        lif2(jnp.ones((3, 10)), jnp.zeros((3, 5)))


def _loop_net():
    """An snnTorch-style user network with a Python time loop."""
    return TutorialLoopNet(6, 8, 3, betas=(0.9, 0.8))


def test_user_module_runs_eagerly_and_as_a_pure_function():
    net = _loop_net()
    assert [name for name, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    x = jax.random.uniform(jax.random.PRNGKey(0), (10, 2, 6)) * 2
    spk, mem = net(x)
    assert spk.shape == (10, 2, 3)

    names = [name for name, _ in net.named_parameters()]

    @jax.jit
    def pure(arrays, xs):
        with net.bind(dict(zip(names, arrays))):
            return net(xs)

    arrays = [p.data for p in net.parameters()]
    spk_jit, mem_jit = pure(arrays, x)
    np.testing.assert_allclose(np.asarray(mem_jit), np.asarray(mem), atol=1e-5)
    # Binding other values changes the result, and the module's own values come back afterwards.
    zeroed = [jnp.zeros_like(a) for a in arrays]
    _, mem_zero = pure(zeroed, x)
    assert float(jnp.abs(mem_zero).sum()) == 0.0
    np.testing.assert_array_equal(np.asarray(net.fc1.weight.data), np.asarray(arrays[0]))


def test_bind_restores_after_error():
    net = _contract_net()
    before = net.state_dict()
    with pytest.raises(RuntimeError):
        with net.bind({"0.weight": jnp.zeros((128, 64)), "1.beta": jnp.asarray(0.1)}):
            assert float(jnp.abs(net[0].weight.data).sum()) == 0.0
            raise RuntimeError("boom")
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    with pytest.raises(KeyError, match="no parameter or buffer named"):
        with net.bind({"9.weight": jnp.zeros(1)}):
            pass


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    net = _contract_net()
    before = net.state_dict()
    bad = dict(before)
    del bad["0.bias"]
    bad["0.weight"] = np.zeros((64, 128), np.float32)
    bad["9.extra"] = np.zeros(1)
    with pytest.raises(ValueError) as error:
        net.load_state_dict(bad)
    message = str(error.value)
    assert "0.weight: expected shape (128, 64), got (64, 128)" in message
    assert "missing keys: ['0.bias']" in message
    assert "unexpected keys: ['9.extra']" in message
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    # Values that cannot be cast are found before anything is written (the first key is valid and changed).
    unusable = {name: np.ones_like(value) for name, value in before.items()}
    unusable["2.weight"] = np.full(before["2.weight"].shape, "x")
    unusable["2.bias"] = None
    with pytest.raises(ValueError, match=r"unusable values for 2\.weight: expected numbers, got dtype <U1; "
                                         r"2\.bias: got None"):  # fmt: skip
        net.load_state_dict(unusable)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    # Non-strict loading reports what it skipped and loads the rest.
    partial = {"2.bias": np.arange(10, dtype=np.float32), "9.extra": np.zeros(1)}
    result = net.load_state_dict(partial, strict=False)
    assert "9.extra" in result.unexpected_keys and "0.weight" in result.missing_keys
    np.testing.assert_array_equal(np.asarray(net[2].bias.data), np.arange(10))


def test_train_eval_and_module_errors():
    net = _contract_net()
    assert net.training and net[1].training
    net.eval()
    assert not net.training and not net[3].training
    net.train()
    assert net[3].training
    with pytest.raises(ValueError, match=r"time-first input \[T, B, \.\.\.\].*\(4, 64\)"):
        net(jnp.ones((4, 64)))
    with pytest.raises(
        ValueError, match=r"Linear: expected inputs whose last axis has 64 features, got shape \(4, 63\)"
    ):
        net[0](jnp.ones((4, 63)))
    with pytest.raises(ValueError, match=r"Leaky: inhibition=True needs inputs \[batch, features\].*\(2, 3, 4\)"):
        nn.Leaky(beta=0.9, inhibition=True)(jnp.ones((2, 3, 4)))
    with pytest.raises(TypeError, match="not a facade layer"):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)

    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\)"):
        Forgetful()
    with pytest.raises(TypeError, match="is a Parameter"):
        net[0].weight = np.zeros((128, 64))
