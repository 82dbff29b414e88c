"""The live snnTorch-style neurons of the process, for snnTorch's class-level calls (``Leaky.detach_hidden()``)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class LiveInstances:
    """A list-like registry of the neurons alive now, in construction order.

    snnTorch keeps ``SpikingNeuron.instances``, a plain list of strong references to
    every neuron ever built (its issue #328: nothing is ever freed). This one holds
    weak references: ``len`` and iteration see only neurons something else still
    keeps alive.
    """

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._refs: list[weakref.ref] = []
        for item in items:
            self.append(item)

    def append(self, item: Any) -> None:
        self._refs = [ref for ref in self._refs if ref() is not None]
        self._refs.append(weakref.ref(item))

    def __iter__(self) -> Iterator[Any]:
        return iter([item for ref in self._refs if (item := ref()) is not None])

    def __len__(self) -> int:
        return sum(1 for ref in self._refs if ref() is not None)

    def __getitem__(self, index: int) -> Any:
        return list(self)[index]

    def clear(self) -> None:
        self._refs.clear()

    def __repr__(self) -> str:
        return f"LiveInstances({list(self)!r})"


class instance_or_class_method:
    """A method that acts on one neuron (``lif.reset_hidden()``) or, called on a class
    (``snn.Leaky.reset_hidden()``), on every live instance of that class, as snnTorch's
    class methods do."""

    def __init__(self, method: Callable[[Any], None]) -> None:
        self._method = method
        self.__doc__ = method.__doc__
        self.__name__ = method.__name__

    def __get__(self, instance: Any, owner: type) -> Callable[[], None]:
        if instance is not None:
            return self._method.__get__(instance, owner)
        method = self._method

        def on_every_instance() -> None:
            for neuron in owner.instances:
                if isinstance(neuron, owner):
                    method(neuron)

        on_every_instance.__doc__ = method.__doc__
        return on_every_instance
