"""Norse's neuron cells as facade layers: Norse's class names, parameter names and numerics.

``LIFCell``, ``LIFBoxCell``, ``LICell``, ``LIBoxCell``, ``IAFCell``,
``LIFRecurrentCell`` and ``LIFAdExCell`` take Norse's parameter fields as keywords
(``tau_syn_inv``, ``tau_mem_inv``, ``v_leak``, ``v_th``, ``v_reset``, ...), or a
parameters object ``p`` with those fields (a Norse ``LIFParameters`` works; torch
tensors are converted), plus ``dt`` (default ``1e-3``), ``method`` and ``alpha``.
They compute Norse 1.1.0's forward-Euler step (see docs/interop-norse.md):

- the input jumps into the synaptic current first, ``i' = i + x``; the membrane
  then moves by ``dt * tau_mem_inv * ((v_leak - v) + i')`` and the current decays
  by ``dt * tau_syn_inv * i'`` (Norse's ``dt * tau_inv`` factors, never ``exp``);
- the spike is ``H(v' - v_th)`` (strict), the reset ``(1 - z) v' + z v_reset``, with
  the gradient flowing through ``z`` (detached in the recurrent cell, as Norse's);
- the membrane starts at ``v_leak`` (``IAFCell``: at ``v_reset``), the currents at 0.

Unlike Norse, the parameters belong to the module: they are buffers in
``state_dict`` under Norse's field names, or trained ``Parameter``s with
``learn=True`` (or a list of names). A cell runs one step on a batch,
``out, state = cell(x, state)`` (Norse's idiom), and whole sequences inside
``nn.Sequential``. Every cell except ``LIFAdExCell`` is an
[`ODENeuron`][snnax_torchlike.nn.ODENeuron] with convention ``"norse"`` and
exports to NIR as Norse's HEAD does (``tau = 1/tau_inv``, ``r = w_in = 1``).

The surrogate is Norse's ``method`` string with its ``alpha``, as Norse 1.1.0
computes it whichever Norse is installed; see
[`norse_surrogate`][snnax_torchlike.nn.norse_cells.norse_surrogate] for the
"super" difference between Norse 1.1.0 and later versions.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .. import snn
from ..random import next_key
from ..snn.discretisation import Coefficients, check_convention
from ..snn.neurons.ode_neuron import ODENeuronState
from ..snn.surrogate import SurrogateSpike
from .module import Parameter, to_array, to_numpy
from .ode_neurons import NamedParameterModule, ODENeuron, batched_step, register_named_parameters

__all__ = [
    "LIFCell",
    "LIFBoxCell",
    "LICell",
    "LIBoxCell",
    "IAFCell",
    "LIFRecurrentCell",
    "LIFAdExCell",
    "norse_surrogate",
    "super_uses_alpha",
    "NORSE_METHODS",
]


# -- surrogates -------------------------------------------------------------------------------

NORSE_METHODS: tuple[str, ...] = ("super", "triangle", "tanh", "circ", "heavi_erfc", "heaviside")
"""Norse's threshold ``method`` strings that have a counterpart here (not ``"adjoint"``)."""

NORSE_VERSION = "1.1.0"
"""The Norse release the cells reproduce, whichever Norse is installed (if any)."""


def super_uses_alpha(norse_version: str | None = None) -> bool:
    """Whether Norse's ``"super"`` surrogate uses ``alpha`` in its backward pass.

    Norse 1.1.0 (the latest release) computes ``g / (|x| + 1)^2`` and ignores alpha;
    later versions (PR #403, unreleased at HEAD ``1.1.1.devN``) compute
    ``g / (alpha |x| + 1)^2``.

    **Arguments:** ``norse_version``: a version string such as ``"1.1.0"`` or
    ``"1.1.1.dev31+g065a3b45"``; None means Norse 1.1.0, the release this package
    reproduces, whichever Norse is installed.

    **Returns:** True for versions after 1.1.0.
    """
    version = NORSE_VERSION if norse_version is None else norse_version
    match = re.match(r"\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", str(version))
    if match is None:
        raise ValueError(f"norse_version: expected a version such as '1.1.0', got {norse_version!r}.")
    release = tuple(int(part or 0) for part in match.groups())
    return release > (1, 1, 0)


@dataclasses.dataclass(frozen=True)
class _NorseDerivative:
    """The backward pass of one of Norse's threshold functions (hashable, so jit caches it)."""

    method: str
    alpha: float

    def __call__(self, x: Array) -> Array:
        a = self.alpha
        if self.method == "triangle":
            return a * jnp.maximum(1.0 - jnp.abs(x), 0.0)
        if self.method == "tanh":
            return 1.0 - jnp.tanh(x * a) ** 2
        if self.method == "circ":
            return (-(x**2 / (2 * (a**2 + x**2) ** 1.5)) + 1 / (2 * jnp.sqrt(a**2 + x**2))) * 2 * a
        if self.method == "heavi_erfc":
            return 2 * jnp.exp(-((a * x) ** 2)) / math.sqrt(math.pi)
        return jnp.zeros_like(x)  # "heaviside": no gradient


def _scalar(value: Any, *, layer: str, name: str) -> float:
    """``value`` (a number, or an array or tensor of one element) as a float; ``layer`` names the caller in errors."""
    array = np.asarray(to_numpy(value), dtype=np.float64)
    if array.size != 1:
        raise ValueError(f"{layer}: {name} must be a scalar, got an array of shape {array.shape}.")
    return float(array.reshape(()))


def norse_surrogate(
    method: str = "super",
    alpha: ArrayLike = 100.0,
    *,
    norse_version: str | None = None,
    super_alpha: bool | None = None,
) -> SurrogateSpike:
    r"""Norse's threshold function ``threshold(x, method, alpha)`` as a surrogate spike.

    The forward pass is ``x > 0`` for every method; the backward pass
    (``x`` = membrane minus threshold) is:

    | ``method`` | backward | here |
    |---|---|---|
    | ``"super"``, Norse 1.1.0 | ``1/(abs(x)+1)^2`` (alpha ignored) | ``superspike(1.0)`` |
    | ``"super"``, Norse > 1.1.0 | ``1/(alpha abs(x)+1)^2`` | ``superspike(alpha)`` |
    | ``"triangle"`` | ``alpha relu(1 - abs(x))`` | ``custom`` |
    | ``"tanh"`` | ``1 - tanh(alpha x)^2`` | ``custom`` |
    | ``"circ"`` | ``2 alpha (1/(2 sqrt(alpha^2+x^2)) - x^2/(2 (alpha^2+x^2)^1.5))`` | ``custom`` |
    | ``"heavi_erfc"`` | ``2 exp(-(alpha x)^2)/sqrt(pi)`` | ``custom`` |
    | ``"heaviside"`` | 0 (no gradient) | ``custom`` |

    **Arguments:**

    - ``method``: one of ``NORSE_METHODS`` (Norse's ``"adjoint"`` has no counterpart).
    - ``alpha``: Norse's ``alpha`` (a scalar; a 0-d tensor is fine).
    - ``norse_version``: the Norse version whose ``"super"`` to reproduce (see
      [`super_uses_alpha`][]); None means 1.1.0, whichever Norse is installed.
    - ``super_alpha``: decide the ``"super"`` behaviour directly (overrides ``norse_version``).

    **Returns:** a [`SurrogateSpike`][snnax_torchlike.snn.surrogate.SurrogateSpike].
    """
    if method not in NORSE_METHODS:
        extra = " (Norse's event-based adjoint has no counterpart here)" if method == "adjoint" else ""
        raise ValueError(f"norse_surrogate: method must be one of {NORSE_METHODS}, got {method!r}{extra}.")
    alpha = _scalar(alpha, layer="norse_surrogate", name="alpha")
    if method == "super":
        uses_alpha = super_uses_alpha(norse_version) if super_alpha is None else bool(super_alpha)
        return snn.surrogate.superspike(alpha if uses_alpha else 1.0)
    return snn.surrogate.custom(_NorseDerivative(method, alpha))


# -- the generic cell -------------------------------------------------------------------------
#
# A cell class names its row of Norse's parameter table, ``class LIFCell(_EulerCell,
# defaults=_LIF)``: the fields of Norse's ``LIFParameters`` with their defaults, in
# Norse's order. From that row alone the cell gets its keywords (and its
# ``inspect.signature``), each field resolved from a keyword, the parameters object
# ``p`` or Norse's default, its buffers or ``Parameter``s under Norse's names, and its
# surrogate from ``method`` and ``alpha``.

_SETTINGS = ("method", "alpha", "reset_method")
"""Fields of Norse's parameter tuples that configure a cell rather than hold per-neuron values."""

_SURROGATE_OPTIONS = ("norse_version", "spike_grad")
"""Keywords of the generic cell that only a spiking cell takes."""

_RESETS = {"value": "value", "subtract": "subtract", "reset_value": "value", "reset_subtract": "subtract"}


def _field(p: Any, name: str) -> Any:
    if p is None:
        return None
    if isinstance(p, Mapping):
        return p.get(name)
    return getattr(p, name, None)


def _resolve(layer: str, p: Any, given: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Each field from its keyword, else from ``p``, else Norse's default; a field given twice raises.

    ``p`` is a mapping or an object with attributes (Norse's NamedTuples); a field
    of ``p`` that is not among ``defaults`` raises, since it belongs to another cell.
    """
    if p is not None:
        fields = list(p.keys()) if isinstance(p, Mapping) else list(getattr(p, "_fields", ()))
        unknown = [f for f in fields if f not in defaults]
        if unknown:
            raise TypeError(
                f"{layer}: the parameters p have fields {unknown} that {layer} does not have "
                f"(its fields: {list(defaults)}); pass the parameters of this cell."
            )
    values = {}
    for name, default in defaults.items():
        keyword, from_p = given.get(name), _field(p, name)
        if keyword is not None and from_p is not None:
            raise TypeError(f"{layer}: {name} is given both in p and as a keyword; pass it once.")
        values[name] = keyword if keyword is not None else (from_p if from_p is not None else default)
    return values


def _reset(layer: str, reset_method: Any) -> str:
    """Norse's ``reset_method`` (a name, or Norse's ``reset_value``/``reset_subtract`` function) as a reset rule."""
    key = reset_method if isinstance(reset_method, str) else getattr(reset_method, "__name__", repr(reset_method))
    if key not in _RESETS:
        raise ValueError(f"{layer}: reset_method must be 'value' or 'subtract' (Norse's reset_value or "
                         f"reset_subtract), got {reset_method!r}.")  # fmt: skip
    return _RESETS[key]


class _NorseCell(NamedParameterModule):
    """One of Norse's cells: a row of Norse's parameter table, a time step and a surrogate.

    Subclasses give their row as the class keyword ``defaults``. A row with a
    ``method`` field spikes (``is_neuron``); its ``method`` and ``alpha`` pick the
    surrogate. The other settings (``_SETTINGS``) go to ``_build`` as keywords; the
    per-neuron fields become ``parameter_names``.
    """

    defaults: ClassVar[dict[str, Any]] = {}
    """Norse's parameter fields of this cell with their defaults, in Norse's order."""

    def __init_subclass__(cls, defaults: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if defaults is not None:
            cls.defaults = dict(defaults)
            cls.parameter_names = tuple(f for f in defaults if f not in _SETTINGS)
            cls.is_neuron = "method" in defaults
        cls.__signature__ = _signature(cls)

    def __init__(
        self,
        p: Any = None,
        dt: float = 1e-3,
        *,
        learn: bool | Sequence[str] = False,
        norse_version: str | None = None,
        spike_grad: SurrogateSpike | None = None,
        **fields: Any,
    ):
        """**Arguments:**

        - ``p``: an object (or dict) with the fields of the cell's Norse parameters
          (a Norse ``LIFParameters`` works; tensors are converted); a field not in it
          comes from its keyword or Norse's default.
        - ``dt``: the time step (Norse's default 1e-3).
        - ``learn``: True, or the names of the fields to train (``Parameter``s).
        - ``norse_version``: which Norse's ``"super"`` backward to reproduce
          (default: Norse 1.1.0; see [`norse_surrogate`][snnax_torchlike.nn.norse_cells.norse_surrogate]).
        - ``spike_grad``: a surrogate to use instead of ``method``/``alpha``.
        - ``**fields``: the cell's Norse fields (scalars or per-neuron arrays), and
          ``method`` and ``alpha`` (Norse's surrogate) for a spiking cell.
        """
        name = type(self).__name__
        unexpected = [k for k in fields if k not in self.defaults]
        if not self.is_neuron:  # a cell without a threshold has no surrogate to choose
            given = {"norse_version": norse_version, "spike_grad": spike_grad}
            unexpected += [k for k in _SURROGATE_OPTIONS if given[k] is not None]
        if unexpected:
            raise TypeError(f"{name}.__init__() got an unexpected keyword argument {unexpected[0]!r}")
        values = _resolve(name, p, fields, self.defaults)
        settings = {k: values.pop(k) for k in _SETTINGS if k in values}
        method, alpha = settings.pop("method", None), settings.pop("alpha", None)
        if self.is_neuron:
            method, alpha = str(method), _scalar(alpha, layer=name, name="alpha")
            if spike_grad is None:
                try:
                    spike_grad = norse_surrogate(method, alpha, norse_version=norse_version)
                except ValueError as error:
                    raise ValueError(f"{name}: {error}") from None
        self._build(values, dt=dt, spike_grad=spike_grad, learn=learn, **settings)
        if self.is_neuron:
            self.method, self.alpha = method, alpha

    def _build(
        self, values: dict[str, Any], *, dt: float, spike_grad: SurrogateSpike | None, learn: bool | Sequence[str]
    ) -> None:
        """Initialise the module with the resolved per-neuron ``values`` (and the row's other settings)."""
        raise NotImplementedError

    def forward(self, input_: Any, state: Any = None) -> tuple[Array, Any]:
        """One step on a batch: ``out, state = cell(x, state)``; ``x`` is ``[B, ...]``.

        ``out`` is the spikes (the membrane for a non-spiking cell); ``state`` has a leading batch axis.
        """
        return batched_step(type(self).__name__, self.core_layer(), input_, state)

    def extra_repr(self) -> str:
        surrogate = f", method={self.method!r}, alpha={self.alpha}" if self.is_neuron else ""
        return f"{self._parameter_shapes()}, dt={self.dt}{surrogate}"


def _signature(cls: type[_NorseCell]) -> inspect.Signature | None:
    """The constructor as a user calls it: its own arguments, then the row's fields, then the options.

    None (``inspect`` reads ``__init__``) when ``__init__`` takes no ``**fields``.
    """
    own = list(inspect.signature(cls.__init__).parameters.values())[1:]
    if not own or own[-1].kind is not inspect.Parameter.VAR_KEYWORD:
        return None
    options = [q for q in inspect.signature(_NorseCell.__init__).parameters.values() if q.kind is q.KEYWORD_ONLY]
    head = [q for q in own[:-1] if q.name not in {o.name for o in options}]
    fields = [
        inspect.Parameter(f, inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation="str | None" if isinstance(d, str) else "ArrayLike | None")
        for f, d in cls.defaults.items()
    ]  # fmt: skip
    kept = [q for q in options if cls.is_neuron or q.name not in _SURROGATE_OPTIONS]
    return inspect.Signature(head + fields + kept)


class _EulerCell(_NorseCell, ODENeuron):
    """A Norse cell that is an [`ODENeuron`][snnax_torchlike.nn.ODENeuron] with convention ``"norse"``.

    Its step is one [`snnax_torchlike.snn.ODENeuron`][] core layer with Norse's
    forward-Euler coefficients (``dt * tau_inv`` factors), and it exports to NIR as
    Norse HEAD does: ``nir_node`` with ``tau = 1/tau_inv`` and ``r = 1`` (and
    ``w_in = 1`` with a synaptic current).
    """

    nir_node: ClassVar[str] = ""
    """The NIR node the cell exports as."""

    detach_reset: ClassVar[bool] = False
    """Whether the spike is detached in the reset (Norse's recurrent cells)."""

    def _build(
        self,
        values: dict[str, Any],
        *,
        dt: float,
        spike_grad: SurrogateSpike | None,
        learn: bool | Sequence[str],
        reset_method: Any = "value",
    ) -> None:
        reset = _reset(type(self).__name__, reset_method)
        ODENeuron.__init__(self, values, dt=dt, convention="norse", reset=reset, spike_grad=spike_grad,
                           stop_reset_grad=self.detach_reset, learn=learn)  # fmt: skip

    def coefficients(self) -> Coefficients:
        """``1 - dt * tau_inv`` decays and the ``dt * tau_mem_inv`` gain, formed as Norse forms them."""
        k_mem = self.dt * self.value("tau_mem_inv")
        syn = 1.0 - self.dt * self.value("tau_syn_inv") if "tau_syn_inv" in self.parameter_names else None
        return Coefficients(1.0 - k_mem, syn, jnp.ones(()), k_mem)

    def _threshold(self) -> Array | None:
        return self.value("v_th") if self.is_neuron else None

    def nir_parameters(self) -> tuple[str, dict[str, np.ndarray]]:
        """The NIR node (``nir_node``) with NIR's names for Norse's fields: ``tau = 1/tau_inv``, ``r = 1``.

        A first-order node has ``tau``; a node with a synapse has ``tau_syn``, ``tau_mem`` and ``w_in = 1``.
        """
        out: dict[str, np.ndarray] = {"r": np.array(1.0, np.float32)}
        synaptic = "tau_syn_inv" in self.parameter_names
        for ours, theirs in (("tau_syn", "tau_syn_inv"), ("tau_mem" if synaptic else "tau", "tau_mem_inv")):
            if theirs in self.parameter_names:
                out[ours] = np.asarray(1.0 / np.asarray(self.value(theirs)), dtype=np.float32)
        for ours, theirs in (("v_leak", "v_leak"), ("v_threshold", "v_th"), ("v_reset", "v_reset")):
            if theirs in self.parameter_names:
                out[ours] = np.array(self.value(theirs))
        if synaptic:
            out["w_in"] = np.array(1.0, np.float32)
        return self.nir_node, out


# -- Norse's parameter table and the cells ----------------------------------------------------

# Norse 1.1.0's parameter tuples (``LIFParameters``, ...): each cell's fields with
# Norse's defaults, in Norse's order. A row is all a cell declares about its fields.
_SURROGATE = dict(method="super", alpha=100.0)
_LIF = dict(tau_syn_inv=200.0, tau_mem_inv=100.0, v_leak=0.0, v_th=1.0, v_reset=0.0, **_SURROGATE)
_LIF_BOX = dict(tau_mem_inv=100.0, v_leak=0.0, v_th=1.0, v_reset=0.0, **_SURROGATE, reset_method="value")
_LI = dict(tau_syn_inv=200.0, tau_mem_inv=100.0, v_leak=0.0)
_LI_BOX = dict(tau_mem_inv=100.0, v_leak=0.0)
_IAF = dict(v_th=1.0, v_reset=0.0, **_SURROGATE)
_LIF_ADEX = dict(adaptation_current=4.0, adaptation_spike=0.02, delta_T=0.5, tau_ada_inv=2.0, **_LIF)


class LIFCell(_EulerCell, defaults=_LIF):
    r"""Norse's ``LIFCell``: a current-based LIF neuron, one Euler step per call.

    $$i' = i + x,\quad v' = v + dt\,\tau_\text{mem}^{-1}((v_\text{leak} - v) + i'),\quad
    i \leftarrow i' - dt\,\tau_\text{syn}^{-1} i',\quad z = H(v' - v_\text{th}),\quad
    v \leftarrow (1 - z) v' + z v_\text{reset}$$

    ``cell(x, state) -> (z, state)`` with ``x`` of shape ``[B, ...]``; the state is a
    [`ODENeuronState`][snnax_torchlike.snn.ODENeuronState] (``state.v``, ``state.i``, as
    Norse's ``LIFFeedForwardState``). NIR: ``CubaLIF``.

    Fields (Norse's ``LIFParameters``), as keywords or in ``p``: ``tau_syn_inv``
    (200), ``tau_mem_inv`` (100), ``v_leak`` (0), ``v_th`` (1), ``v_reset`` (0),
    scalars or per-neuron arrays; ``method`` (``"super"``) and ``alpha`` (100),
    Norse's surrogate (see [`norse_surrogate`][snnax_torchlike.nn.norse_cells.norse_surrogate]).
    """

    nir_node = "CubaLIF"


class LIFBoxCell(_EulerCell, defaults=_LIF_BOX):
    r"""Norse's ``LIFBoxCell``: a LIF neuron without synaptic current.

    $$v' = v + dt\,\tau_\text{mem}^{-1}(x + v_\text{leak} - v),\quad z = H(v' - v_\text{th}),$$
    then ``reset_method="value"`` ($v \leftarrow (1 - z) v' + z v_\text{reset}$, Norse's
    ``reset_value``) or ``"subtract"`` ($v \leftarrow v' - z v_\text{th}$, ``reset_subtract``).
    NIR: ``LIF``.

    Fields of ``LIFBoxParameters``: as [`LIFCell`][] without ``tau_syn_inv``, plus
    ``reset_method``: ``"value"`` (default) or ``"subtract"`` (Norse's
    ``reset_value``/``reset_subtract`` functions are accepted too).
    """

    nir_node = "LIF"


class LICell(_EulerCell, defaults=_LI):
    r"""Norse's ``LICell``: a leaky integrator with synaptic current; outputs the membrane.

    $$i' = i + x,\quad v \leftarrow v + dt\,\tau_\text{mem}^{-1}((v_\text{leak} - v) + i'),\quad
    i \leftarrow i' - dt\,\tau_\text{syn}^{-1} i'$$

    Fields of ``LIParameters``: ``tau_syn_inv`` (200), ``tau_mem_inv`` (100),
    ``v_leak`` (0). NIR: ``CubaLI``.
    """

    nir_node = "CubaLI"


class LIBoxCell(_EulerCell, defaults=_LI_BOX):
    r"""Norse's ``LIBoxCell``: $v \leftarrow v + dt\,\tau_\text{mem}^{-1}((v_\text{leak} - v) + x)$; outputs ``v``.

    Fields of ``LIBoxParameters``: ``tau_mem_inv`` (100), ``v_leak`` (0). NIR: ``LI``.
    """

    nir_node = "LI"


class IAFCell(_EulerCell, defaults=_IAF):
    r"""Norse's ``IAFCell``: $v' = v + x$, $z = H(v' - v_\text{th})$, $v \leftarrow (1 - z) v' + z v_\text{reset}$.

    Fields of ``IAFParameters``: ``v_th`` (1), ``v_reset`` (0), ``method``,
    ``alpha``. The membrane starts at ``v_reset``; ``dt`` is unused (as in Norse).
    NIR: ``IF`` with ``r = 1``.
    """

    nir_node = "IF"

    def coefficients(self) -> Coefficients:
        """No decay and unit gains: the membrane integrates its input (Norse's IAF)."""
        one = jnp.ones(())
        return Coefficients(one, None, one, one)

    def _v_leak(self) -> Array:
        # No leak (mem_decay 1): v_leak only sets the initial membrane, which is v_reset in Norse.
        return self.value("v_reset")


class _InputProjection(snn.StatefulLayer):
    """``cell(state, x @ weight.T)``: a recurrent core cell fed through input weights ``[H, I]``."""

    weight: Array
    cell: snn.ODENeuron

    def init_state(self, shape: tuple[int, ...], key: PRNGKeyArray | None = None) -> ODENeuronState:
        hidden, features = self.weight.shape
        if tuple(shape) != (features,):
            raise ValueError(
                f"LIFRecurrentCell: expected per-sample inputs of shape ({features},) (input_size), got {tuple(shape)}."
            )
        return self.cell.init_state((hidden,), key)

    def __call__(
        self, state: ODENeuronState, x: Array, *, key: PRNGKeyArray | None = None
    ) -> tuple[ODENeuronState, Array]:
        return self.cell(state, x @ self.weight.T, key=key)


class LIFRecurrentCell(_EulerCell, defaults=_LIF):
    r"""Norse's ``LIFRecurrentCell``: [`LIFCell`][] fed by input weights and its own last spikes.

    $$i' = i + x W_\text{in}^T + z_{t-1} W_\text{rec}^T$$ then [`LIFCell`][]'s step,
    with the spike **detached** in the reset (as Norse's recurrent cells).

    ``input_weights`` ``[hidden_size, input_size]`` and ``recurrent_weights``
    ``[hidden_size, hidden_size]`` are ``Parameter``s under Norse's ``state_dict``
    names, initialised as Norse does (``randn * sqrt(2 / hidden_size)``, from
    ``snnax_torchlike.random`` unless ``key`` is given). With ``autapses=False``
    (default) the diagonal of ``recurrent_weights`` starts at 0 and gets no gradient
    (Norse's gradient hook). ``cell(x, state)`` takes ``x`` of shape
    ``[B, input_size]``; the state has ``v``, ``i`` and the last spikes ``spk``
    (Norse's ``z``), each ``[B, hidden_size]``.

    NIR: a recurrent cell is a subgraph (Affine, CubaLIF, a recurrent Linear), not
    one node, so ``nir_parameters`` raises.
    """

    detach_reset = True

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        p: Any = None,
        *,
        input_weights: ArrayLike | None = None,
        recurrent_weights: ArrayLike | None = None,
        autapses: bool = False,
        dt: float = 1e-3,
        key: PRNGKeyArray | None = None,
        **options: Any,
    ):
        """**Arguments:** ``input_size``, ``hidden_size``; ``input_weights``,
        ``recurrent_weights`` (initial values, Norse's layout); ``autapses``; the rest
        as [`LIFCell`][]."""
        name = type(self).__name__
        if int(input_size) < 1 or int(hidden_size) < 1:
            raise ValueError(f"{name}: sizes must be >= 1, got input_size={input_size}, hidden_size={hidden_size}.")
        self.input_size, self.hidden_size, self.autapses = int(input_size), int(hidden_size), bool(autapses)
        super().__init__(p, dt, **options)
        in_key, rec_key = jax.random.split(next_key() if key is None else key)
        scale = math.sqrt(2.0 / self.hidden_size)
        shapes = {"input_weights": (self.hidden_size, self.input_size),
                  "recurrent_weights": (self.hidden_size, self.hidden_size)}  # fmt: skip
        for (weight_name, shape), given_weight, wkey in zip(
            shapes.items(), (input_weights, recurrent_weights), (in_key, rec_key), strict=True
        ):
            weight = jax.random.normal(wkey, shape) * scale if given_weight is None else to_array(given_weight)
            weight = jnp.asarray(weight, jnp.float32)
            if tuple(weight.shape) != shape:
                raise ValueError(f"{name}: {weight_name} must have shape {shape}, got {tuple(weight.shape)}.")
            setattr(self, weight_name, Parameter(weight))
        if not self.autapses:
            self.recurrent_weights.data = self.recurrent_weights.data * (1.0 - jnp.eye(self.hidden_size))

    def core_layer(self) -> _InputProjection:
        """The cell as a pure core layer: input weights, then a recurrent ``snn.ODENeuron``."""
        recurrent = self.recurrent_weights.data
        if not self.autapses:  # the diagonal is used as it is but trains no further (Norse's hook)
            recurrent = jnp.where(jnp.eye(self.hidden_size, dtype=bool), jax.lax.stop_gradient(recurrent), recurrent)
        # The feed-forward core of the same fields, with the last spikes fed back through `recurrent`.
        cell = eqx.tree_at(lambda c: c.recurrent_weight, super().core_layer(), recurrent, is_leaf=lambda x: x is None)
        return _InputProjection(self.input_weights.data, cell)

    def forward(self, input_: Any, state: ODENeuronState | None = None) -> tuple[Array, ODENeuronState]:
        """One step: ``z, state = cell(x, state)`` with ``x`` of shape ``[B, input_size]``."""
        x = to_array(input_)
        name = type(self).__name__
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{name}: expected an input [B, {self.input_size}], got shape {tuple(x.shape)}.")
        if state is not None and tuple(state.v.shape) != (x.shape[0], self.hidden_size):
            raise ValueError(
                f"{name}: the state's membrane has shape {tuple(state.v.shape)} but expected "
                f"{(x.shape[0], self.hidden_size)}; pass the state returned by the previous step."
            )
        core = self.core_layer()
        if state is None:
            state = jax.vmap(lambda _: core.init_state((self.input_size,)))(jnp.arange(x.shape[0]))
        new_state, out = jax.vmap(core)(state, x)
        return out, new_state

    def nir_parameters(self) -> tuple[str, dict[str, np.ndarray]]:
        """Not one NIR node: raises ``ValueError`` (a recurrent cell exports as a subgraph)."""
        raise ValueError(
            f"{type(self).__name__}: a recurrent cell is a NIR subgraph (Affine input_weights -> CubaLIF with a "
            "recurrent Linear), not one node; it cannot be exported as a single neuron."
        )

    def extra_repr(self) -> str:
        """The settings shown in ``repr(layer)``: ``input_size``, ``hidden_size``, ``autapses`` and the neuron's."""
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}, autapses={self.autapses}, " + (
            super().extra_repr()
        )


class LIFAdExCell(_NorseCell, defaults=_LIF_ADEX):
    r"""Norse's ``LIFAdExCell``: adaptive exponential LIF, equations in [`snnax_torchlike.snn.LIFAdEx`][].

    Parameters (Norse's ``LIFAdExParameters`` fields, buffers or ``Parameter``s with
    ``learn=``): ``adaptation_current`` (4), ``adaptation_spike`` (0.02),
    ``delta_T`` (0.5), ``tau_ada_inv`` (2), ``tau_syn_inv`` (200), ``tau_mem_inv``
    (100), ``v_leak`` (0), ``v_th`` (1), ``v_reset`` (0); ``method`` and ``alpha`` as
    [`LIFCell`][]. ``cell(x, state) -> (z, state)``; the state is a
    [`LIFAdExState`][snnax_torchlike.snn.LIFAdExState] ``(v, i, a)``. Not an
    ``ODENeuron``: NIR has no AdEx node.
    """

    def _build(
        self, values: dict[str, Any], *, dt: float, spike_grad: SurrogateSpike | None, learn: bool | Sequence[str]
    ) -> None:
        NamedParameterModule.__init__(self)
        self.dt = check_convention("norse", dt, where=type(self).__name__)
        self.spike_grad = spike_grad
        register_named_parameters(self, values, learn)

    def core_layer(self) -> snn.LIFAdEx:
        """The neuron as a pure core layer over the current arrays (``v_th`` is the core's ``threshold``)."""
        arrays = {("threshold" if n == "v_th" else n): self.value(n) for n in self.parameter_names}
        return snn.LIFAdEx(**arrays, dt=self.dt, spike_fn=self.spike_grad)
