"""Containers: `Sequential`, a chain of facade layers run over time in one `lax.scan`, and `ModuleList`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .. import snn
from ..random import next_key
from ._run import run_named
from .module import FacadeLayer, Module, to_array


class Sequential(Module):
    """Layers applied in order to a whole time-first sequence, like ``torch.nn.Sequential``.

    ``net(x)`` takes ``x`` of shape ``[T, B, ...]`` and runs every time step of
    every layer inside one jitted ``lax.scan`` (the functional core), each sample
    independently. When the last layer is a neuron it returns ``(spk, mem)``, its
    spikes and membrane, each ``[T, B, ...]``; otherwise the last layer's output.

    Children are named ``"0"``, ``"1"``, ..., so ``state_dict`` keys match
    torch's (``"0.weight"``, ``"1.beta"``, ...). Stochastic layers (``Dropout``)
    draw from ``snnax_torchlike.random`` (``manual_seed``; inside ``fit``, a fresh
    key per step), with a different mask per sample, time step and layer.

    Execution: layer by layer by default (each Linear/Conv over all ``T*B`` frames
    in one op, each neuron in its own scan). ``checkpoint_every=k`` (constructor
    argument or attribute) adds gradient checkpointing over chunks of ``k`` steps,
    each chunk still run layer by layer, for long sequences: training memory grows
    as ``T/k + k`` steps instead of ``T``, for about one extra forward pass.

    **snnTorch's step-by-step form.** When a neuron keeps hidden state
    (``Leaky(..., init_hidden=True)``), a call is one time step, as in snnTorch:
    ``x`` is ``[B, ...]``, each layer is applied in turn and the last layer's output
    is returned (``(spk, mem)`` for a last neuron with ``output=True``). Reset the
    state with ``snnax_torchlike.utils.reset(net)`` before each sequence.
    ``fit``, ``evaluate`` and ``predict`` run such a network over the time axis
    themselves, from a reset state for every batch.
    """

    def __init__(self, *layers: Module, checkpoint_every: int | None = None):
        super().__init__()
        self.checkpoint_every = checkpoint_every
        if not layers:
            raise ValueError("Sequential: needs at least one layer.")
        for index, layer in enumerate(layers):
            if not isinstance(layer, Module) or not isinstance(layer, FacadeLayer):
                raise TypeError(
                    f"Sequential: layer {index} ({type(layer).__name__}) is not a facade layer from snnax_torchlike.nn."
                )
            self.add_module(str(index), layer)

    def __getitem__(self, index: int) -> Module:
        return list(self.children())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self.children())

    @property
    def records_as_node(self) -> bool:  # type: ignore[override]
        # With hidden-state neurons each call is one time step and each layer records its own node.
        """Whether a call records as one node: yes, unless a layer keeps hidden state (then each layer does)."""
        return not self.steps_hidden_state()

    def steps_hidden_state(self) -> bool:
        """Whether a layer keeps hidden state (``init_hidden=True``): then a call is one step, as in snnTorch."""
        return any(getattr(layer, "init_hidden", False) for layer in self)

    def core_model(self) -> snn.Sequential:
        """The network as a pure core model over the current arrays."""
        return snn.Sequential(*(layer.core_layer() for layer in self))

    def forward(self, x: Any) -> Any:
        """Run the layers over the sequence ``x`` ``[T, B, ...]``: a last neuron's ``(spk, mem)``, else the output.

        With a neuron that keeps hidden state (``init_hidden=True``), one time step:
        ``x`` is ``[B, ...]`` and each layer is applied in turn (see the class).
        """
        if self.steps_hidden_state():
            for layer in self:
                x = layer(x)
            return x
        x = to_array(x)
        if x.ndim < 3:
            raise ValueError(
                f"Sequential: expected a time-first input [T, B, ...] (e.g. from spikegen.rate), "
                f"got shape {tuple(x.shape)}. For one step at a time, call the layers directly."
            )
        last_is_neuron = self[-1].is_neuron
        key = next_key() if any(layer.needs_key for layer in self) else None
        records = (len(self) - 1,) if last_is_neuron else ()  # a last neuron's membrane is returned too
        labels = [f"layer {i} ({type(layer).__name__})" for i, layer in enumerate(self)]
        outputs, mems = run_named(self.core_model(), (x,), records, key, self.checkpoint_every, labels)
        return (outputs[-1], mems[0]) if last_is_neuron else outputs[-1]


class ModuleList(Module):
    """A list of modules whose parameters and buffers belong to the owner, like ``torch.nn.ModuleList``.

    ``ModuleList(modules=None)``; then indexing (``[i]``, negative ``i``, slices giving a
    ``ModuleList``), assignment and ``del`` by index, ``len``, iteration, ``append``,
    ``extend``, ``insert``, ``pop``, ``+`` and ``+=``. Children are named ``"0"``,
    ``"1"``, ... (renumbered after ``del``/``insert``), so ``state_dict`` keys match
    torch's (``"0.weight"``, ...). It has no ``forward``: call its items.
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _checked(self, module: Any, index: int) -> Module:
        if not isinstance(module, Module):
            raise TypeError(
                f"ModuleList: item {index} ({type(module).__name__}) is not a module from snnax_torchlike.nn."
            )
        return module

    def _position(self, index: int) -> int:
        """``index`` (negative counts from the end) as a position in the list, or ``IndexError``."""
        count = len(self)
        position = int(index) + count if int(index) < 0 else int(index)
        if not 0 <= position < count:
            raise IndexError(f"ModuleList: index {index} is out of range for {count} modules.")
        return position

    def _renumber(self, modules: list[Module]) -> None:
        self._modules.clear()
        for position, module in enumerate(modules):
            self.add_module(str(position), module)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self)[index])
        return self._modules[str(self._position(index))]

    def __setitem__(self, index: int, module: Module) -> None:
        position = self._position(index)
        self.add_module(str(position), self._checked(module, position))

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self)
        del modules[index if isinstance(index, slice) else self._position(index)]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList(list(self) + list(other))

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns the list."""
        self.add_module(str(len(self)), self._checked(module, len(self)))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append every module of ``modules``; returns the list."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (as ``list.insert``)."""
        modules = list(self)
        modules.insert(index, self._checked(module, index))
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at ``index`` (default: the last)."""
        module = self[index]
        del self[index]
        return module
