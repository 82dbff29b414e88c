"""snnTorch's ``utils``: resetting the hidden state of a network."""

from __future__ import annotations


from .nn._time_loop import detach_hidden_state, reset_hidden_state
from .nn.module import Module

__all__ = ["reset", "detach_hidden"]


def reset(net: Module) -> Module:
    """Zero the hidden state of every neuron inside ``net``, at any depth, and of no other network.

    snnTorch's ``utils.reset`` resets every neuron of the same classes in the whole
    process (and misses nested containers); this resets exactly ``net``'s.
    Returns ``net``.
    """
    if not isinstance(net, Module):
        raise TypeError(f"utils.reset: expected an nn.Module, got {type(net).__name__}.")
    reset_hidden_state(net)
    return net


def detach_hidden(net: Module) -> Module:
    """Cut the hidden state of every neuron inside ``net`` from the graph (truncated BPTT). Returns ``net``."""
    detach_hidden_state(net)
    return net
