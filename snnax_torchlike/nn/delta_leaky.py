"""snnTorch's `DeltaLeaky` neuron as a facade layer."""

from __future__ import annotations

import numbers
from typing import Any, Unpack

import numpy as np
from jaxtyping import Array, ArrayLike

from .. import snn
from ._recorded_call import recorded_call
from .leaky import Leaky
from .module import to_array
from .neuron import SpikingOptions


def _as_delta_threshold(value: Any) -> float:
    """``value`` as a float, or a clear error (snnTorch keeps it as a plain number, outside ``state_dict``).

    It must be a finite number ``>= 0``: a spike needs ``|m_t - m_{t-1}| > delta_threshold``, which a
    negative one makes true at every step and NaN at none.
    """
    if isinstance(value, numbers.Real) or (np.ndim(value) == 0 and hasattr(value, "__float__")):
        threshold = float(value)
        if not (np.isfinite(threshold) and threshold >= 0):
            raise ValueError(
                f"DeltaLeaky: delta_threshold must be a finite number >= 0 (the change of the membrane that makes "
                f"a spike), got {threshold}."
            )
        return threshold
    raise TypeError(f"DeltaLeaky: delta_threshold must be a real number, got {type(value).__name__} {value!r}.")


class DeltaLeaky(Leaky):
    r"""A leaky integrator that spikes when its membrane changes by more than ``delta_threshold``, as snnTorch 1.0's.

    ``DeltaLeaky(delta_threshold=1.0, beta, ...)``: every other argument is
    [`Leaky`][]'s (``beta``, required, a keyword or the second positional
    argument). Equations ([`snnax_torchlike.snn.delta_leaky_update`][]):
    $m_t = \beta m_{t-1} + x_t$ and $s_t = H(|m_t - m_{t-1}| - \delta)$. As in
    snnTorch, ``beta`` is not clamped, nothing resets the membrane, and
    ``threshold``, ``reset_mechanism``, ``graded_spikes_factor`` and ``output``
    are accepted and stored but do not enter the dynamics.

    The state is the pair ``(mem, mem_prev)``, the membrane and the one before it:

    ```python
    state = neuron.reset_mem()                 # (None, None): zeros on the first step
    for t in range(T):
        spk, state = neuron(x[t], state)       # state = (mem[t], mem[t-1])
    ```

    With ``init_hidden=True`` the neuron keeps ``mem`` and ``mem_prev`` itself and
    is called with the input only; it still returns ``(spk, (mem, mem_prev))``, as
    snnTorch's does. Passing a state then raises ``TypeError`` (snnTorch ignores it).
    A stored state whose shape differs from the input's starts again from zeros.

    ``state_dict``: Leaky's (``threshold``, ``graded_spikes_factor``,
    ``reset_mechanism_val``, ``beta``); ``delta_threshold`` is a plain attribute.
    """

    _state_names = ("mem", "mem_prev")
    forward_sequence = None
    """Leaky's whole-sequence kernel computes Leaky's dynamics, not these."""

    def __init__(
        self,
        delta_threshold: float = 1.0,
        beta: ArrayLike | None = None,
        *,
        learn_beta: bool = False,
        **options: Unpack[SpikingOptions],
    ):
        if beta is None:
            raise TypeError(
                "DeltaLeaky: beta is required, as in snnTorch: DeltaLeaky(delta_threshold, beta) or "
                "DeltaLeaky(beta=...)."
            )
        super().__init__(beta, learn_beta=learn_beta, **options)
        self.delta_threshold = _as_delta_threshold(delta_threshold)

    def reset_mem(self) -> tuple[None, None]:
        """Clear the stored state; returns ``(None, None)``, the state that starts from zeros."""
        self.reset_hidden()
        return None, None

    init_leaky = reset_mem

    def core_layer(self) -> snn.DeltaLeaky:
        """The neuron as a pure core layer over the current arrays."""
        return snn.DeltaLeaky(self._value("beta"), delta_threshold=self.delta_threshold, spike_fn=self.spike_grad)

    def __call__(self, input_: Any, mem: Any = None) -> tuple[Any, tuple[Any, Any]]:
        if self.init_hidden:
            if mem is not None:
                raise TypeError(
                    "DeltaLeaky: with init_hidden=True the neuron keeps its state (mem, mem_prev); call it with the "
                    "input only (spk, state = neuron(x)), or build it with init_hidden=False to pass states."
                )
            state, stored = (self._hidden["mem"], self._hidden["mem_prev"]), True
        else:
            if mem is None:
                raise TypeError(
                    "DeltaLeaky: `mem` must be provided when init_hidden=False: pass the (mem, mem_prev) pair that "
                    "reset_mem() or the previous step returned."
                )
            if not isinstance(mem, (tuple, list)) or len(mem) != 2:
                raise TypeError(
                    f"DeltaLeaky: the state must be the pair (mem, mem_prev), got {type(mem).__name__}"
                    f"{f' of length {len(mem)}' if isinstance(mem, (tuple, list)) else ''}."
                )
            state, stored = tuple(mem), False
        shape = tuple(getattr(input_, "shape", None) or to_array(input_).shape)
        state = tuple(self._initial_state(value, shape, stored) for value in state)
        spk, (new_mem, previous) = recorded_call(self, self.forward, (input_, state), {})
        self._hidden["mem"], self._hidden["mem_prev"] = new_mem, previous
        return spk, (new_mem, previous)

    def forward(self, input_: Any, mem: tuple[Any, Any]) -> tuple[Array, tuple[Array, Array]]:
        """One step: ``spk, (mem, mem_prev) = neuron(input_, (mem, mem_prev))``; the new ``mem_prev`` is the old
        ``mem`` (the ``mem_prev`` passed in is not used, as in snnTorch)."""
        x = to_array(input_)
        previous = to_array(mem[0])
        self._check_state(x, previous, "the membrane")
        spk, new_mem = snn.delta_leaky_update(
            x, previous, beta=self._value("beta"), delta_threshold=self.delta_threshold, spike_fn=self.spike_grad
        )
        return spk, (new_mem, previous)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: ``delta_threshold``."""
        return f"delta_threshold={self.delta_threshold}"
