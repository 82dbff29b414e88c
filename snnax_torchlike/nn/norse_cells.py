"""Norse's neuron cells as facade layers: Norse's class names, parameter names and numerics.

``LIFCell``, ``LIFBoxCell``, ``LICell``, ``LIBoxCell``, ``IAFCell``,
``LIFRecurrentCell`` and ``LIFAdExCell`` take Norse's parameter fields as keywords
(``tau_syn_inv``, ``tau_mem_inv``, ``v_leak``, ``v_th``, ``v_reset``, ...), or a
parameters object ``p`` with those fields (a Norse ``LIFParameters`` works; torch
tensors are converted), plus ``dt`` (default ``1e-3``), ``method`` and ``alpha``.
They compute Norse 1.1.0's forward-Euler step (``reference/norse.md`` §1):

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

The surrogate is Norse's ``method`` string with its ``alpha``; see
[`norse_surrogate`][snnax_torchlike.nn.norse_cells.norse_surrogate] for the
"super" difference between Norse 1.1.0 and later versions.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .. import snn
from ..random import next_key
from ..snn._stateful import StatefulLayer
from ..snn.discretisation import Coefficients
from ..snn.neurons.adex import LIFAdExState
from ..snn.neurons.cuba_lif import CubaLIFState
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

NORSE_METHODS: tuple[str, ...] = ("super", "triangle", "tanh", "circ", "heavi_erfc", "heaviside")
"""Norse's threshold ``method`` strings that have a counterpart here (not ``"adjoint"``)."""

RELEASED_NORSE = "1.1.0"
"""The latest Norse release; its "super" surrogate ignores alpha in the backward pass."""


# -- surrogates ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _installed_norse_version() -> str | None:
    try:
        return importlib.metadata.version("norse")
    except importlib.metadata.PackageNotFoundError:
        return None


def super_uses_alpha(norse_version: str | None = None) -> bool:
    """Whether Norse's ``"super"`` surrogate uses ``alpha`` in its backward pass.

    Norse 1.1.0 (the latest release) computes ``g / (|x| + 1)^2`` and ignores alpha;
    later versions (PR #403, unreleased at HEAD ``1.1.1.devN``) compute
    ``g / (alpha |x| + 1)^2``.

    **Arguments:** ``norse_version``: a version string such as ``"1.1.0"`` or
    ``"1.1.1.dev31+g065a3b45"``; None reads the installed Norse's version from the
    package metadata (without importing it), or assumes ``"1.1.0"`` if Norse is not
    installed.

    **Returns:** True for versions after 1.1.0.
    """
    version = norse_version if norse_version is not None else (_installed_norse_version() or RELEASED_NORSE)
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
      [`super_uses_alpha`][]); None follows the installed Norse (1.1.0 if none).
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


# -- parameters ------------------------------------------------------------------------------

_SURROGATE_FIELDS = ("method", "alpha")


def _field(p: Any, name: str) -> Any:
    if p is None:
        return None
    if isinstance(p, Mapping):
        return p.get(name)
    return getattr(p, name, None)


def _resolve(
    layer: str, p: Any, given: dict[str, Any], defaults: dict[str, Any], extra_fields: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Each field from its keyword, else from ``p``, else Norse's default; a field given twice raises."""
    if p is not None:
        fields = list(p.keys()) if isinstance(p, Mapping) else list(getattr(p, "_fields", ()))
        unknown = [f for f in fields if f not in defaults and f not in extra_fields]
        if unknown:
            raise TypeError(
                f"{layer}: the parameters p have fields {unknown} that {layer} does not have "
                f"(its fields: {list(defaults) + list(extra_fields)}); pass the parameters of this cell."
            )
    values = {}
    for name, default in defaults.items():
        keyword, from_p = given.get(name), _field(p, name)
        if keyword is not None and from_p is not None:
            raise TypeError(f"{layer}: {name} is given both in p and as a keyword; pass it once.")
        values[name] = keyword if keyword is not None else (from_p if from_p is not None else default)
    return values


def _surrogate(
    layer: str,
    p: Any,
    method: str | None,
    alpha: ArrayLike | None,
    norse_version: str | None,
    spike_grad: SurrogateSpike | None,
) -> tuple[str, float, SurrogateSpike]:
    """``(method, alpha, surrogate)`` from the keywords, else ``p``, else Norse's ``"super"``/100."""
    chosen: dict[str, Any] = {}
    for name, keyword, default in (("method", method, "super"), ("alpha", alpha, 100.0)):
        from_p = _field(p, name)
        if keyword is not None and from_p is not None:
            raise TypeError(f"{layer}: {name} is given both in p and as a keyword; pass it once.")
        chosen[name] = keyword if keyword is not None else (from_p if from_p is not None else default)
    method_, alpha_ = str(chosen["method"]), _scalar(chosen["alpha"], layer=layer, name="alpha")
    if spike_grad is not None:
        return method_, alpha_, spike_grad
    try:
        return method_, alpha_, norse_surrogate(method_, alpha_, norse_version=norse_version)
    except ValueError as error:
        raise ValueError(f"{layer}: {error}") from None


# -- ODENeuron cells ---------------------------------------------------------------------------


class _NorseCell(ODENeuron):
    """Shared machinery: Norse's fields as buffers/Parameters, Euler coefficients ``dt * tau_inv``."""

    defaults: dict[str, float] = {}
    parameter_names: tuple[str, ...] = ()

    def _setup(
        self,
        p: Any,
        given: dict[str, Any],
        *,
        dt: float,
        spiking: bool,
        method: str | None,
        alpha: ArrayLike | None,
        learn: bool | Sequence[str],
        norse_version: str | None,
        spike_grad: SurrogateSpike | None,
        reset: str = "value",
        stop_reset_grad: bool = False,
        extra_fields: tuple[str, ...] = (),
    ) -> None:
        name = type(self).__name__
        surrogate_fields = _SURROGATE_FIELDS if spiking else ()
        values = _resolve(name, p, given, self.defaults, surrogate_fields + extra_fields)
        if spiking:
            self.method, self.alpha, spike_grad = _surrogate(name, p, method, alpha, norse_version, spike_grad)
        elif method is not None or alpha is not None or spike_grad is not None:
            raise TypeError(f"{name}: a non-spiking cell takes no method, alpha or spike_grad.")
        super().__init__(values, dt=dt, convention="norse", reset=reset, spike_grad=spike_grad,
                         stop_reset_grad=stop_reset_grad, learn=learn)  # fmt: skip

    def coefficients(self) -> Coefficients:
        """``1 - dt * tau_inv`` decays and the ``dt * tau_mem_inv`` gain, formed as Norse forms them."""
        k_mem = self.dt * self.value("tau_mem_inv")
        syn = 1.0 - self.dt * self.value("tau_syn_inv") if "tau_syn_inv" in self.parameter_names else None
        return Coefficients(1.0 - k_mem, syn, jnp.ones(()), k_mem)

    def _threshold(self) -> Array | None:
        return self.value("v_th") if "v_th" in self.parameter_names else None

    def _nir_common(self) -> dict[str, np.ndarray]:
        """NIR's names for Norse's fields: ``tau = 1/tau_inv`` (``tau`` alone without a synapse), ``r = 1``."""
        out: dict[str, np.ndarray] = {"r": np.array(1.0, np.float32)}
        first_order = "tau_syn_inv" not in self.parameter_names
        for ours, theirs in (("tau_syn", "tau_syn_inv"), ("tau" if first_order else "tau_mem", "tau_mem_inv")):
            if theirs in self.parameter_names:
                out[ours] = np.asarray(1.0 / np.asarray(self.value(theirs)), dtype=np.float32)
        if "v_leak" in self.parameter_names:
            out["v_leak"] = np.array(self.value("v_leak"))
        if "v_th" in self.parameter_names:
            out["v_threshold"] = np.array(self.value("v_th"))
        if "v_reset" in self.parameter_names:
            out["v_reset"] = np.array(self.value("v_reset"))
        return out

    def extra_repr(self) -> str:
        surrogate = f", method={self.method!r}, alpha={self.alpha}" if self._threshold() is not None else ""
        return f"{self._parameter_shapes()}, dt={self.dt}{surrogate}"


_LIF_DEFAULTS = dict(tau_syn_inv=200.0, tau_mem_inv=100.0, v_leak=0.0, v_th=1.0, v_reset=0.0)


class LIFCell(_NorseCell):
    r"""Norse's ``LIFCell``: a current-based LIF neuron, one Euler step per call.

    $$i' = i + x,\quad v' = v + dt\,\tau_\text{mem}^{-1}((v_\text{leak} - v) + i'),\quad
    i \leftarrow i' - dt\,\tau_\text{syn}^{-1} i',\quad z = H(v' - v_\text{th}),\quad
    v \leftarrow (1 - z) v' + z v_\text{reset}$$

    ``cell(x, state) -> (z, state)`` with ``x`` of shape ``[B, ...]``; the state is a
    [`CubaLIFState`][snnax_torchlike.snn.CubaLIFState] (``state.v``, ``state.i``, as
    Norse's ``LIFFeedForwardState``). NIR: ``CubaLIF``.
    """

    defaults = _LIF_DEFAULTS
    parameter_names = tuple(_LIF_DEFAULTS)

    def __init__(
        self,
        p: Any = None,
        dt: float = 1e-3,
        *,
        tau_syn_inv: ArrayLike | None = None,
        tau_mem_inv: ArrayLike | None = None,
        v_leak: ArrayLike | None = None,
        v_th: ArrayLike | None = None,
        v_reset: ArrayLike | None = None,
        method: str | None = None,
        alpha: ArrayLike | None = None,
        learn: bool | Sequence[str] = False,
        norse_version: str | None = None,
        spike_grad: SurrogateSpike | None = None,
    ):
        """**Arguments:**

        - ``p``: an object (or dict) with Norse's ``LIFParameters`` fields; any field
          not in it comes from its keyword or Norse's default.
        - ``dt``: the time step (Norse's default 1e-3).
        - ``tau_syn_inv`` (200), ``tau_mem_inv`` (100), ``v_leak`` (0), ``v_th`` (1),
          ``v_reset`` (0): scalars or per-neuron arrays.
        - ``method`` (``"super"``), ``alpha`` (100): Norse's surrogate; see [`norse_surrogate`][].
        - ``learn``: True, or the names of the fields to train (``Parameter``s).
        - ``norse_version``: which Norse's ``"super"`` backward to reproduce (default: the installed one).
        - ``spike_grad``: a surrogate to use instead of ``method``/``alpha``.
        """
        given = dict(tau_syn_inv=tau_syn_inv, tau_mem_inv=tau_mem_inv, v_leak=v_leak, v_th=v_th, v_reset=v_reset)
        self._setup(p, given, dt=dt, spiking=True, method=method, alpha=alpha, learn=learn,
                    norse_version=norse_version, spike_grad=spike_grad)  # fmt: skip

    def nir_parameters(self) -> tuple[str, dict[str, np.ndarray]]:
        """NIR ``CubaLIF`` with ``tau = 1/tau_inv``, ``r = w_in = 1`` (Norse HEAD's export)."""
        return "CubaLIF", {**self._nir_common(), "w_in": np.array(1.0, np.float32)}


_RESET_METHODS = {"value": "value", "subtract": "subtract", "reset_value": "value", "reset_subtract": "subtract"}


class LIFBoxCell(_NorseCell):
    r"""Norse's ``LIFBoxCell``: a LIF neuron without synaptic current.

    $$v' = v + dt\,\tau_\text{mem}^{-1}(x + v_\text{leak} - v),\quad z = H(v' - v_\text{th}),$$
    then ``reset_method="value"`` ($v \leftarrow (1 - z) v' + z v_\text{reset}$, Norse's
    ``reset_value``) or ``"subtract"`` ($v \leftarrow v' - z v_\text{th}$, ``reset_subtract``).
    NIR: ``LIF``.
    """

    defaults = dict(tau_mem_inv=100.0, v_leak=0.0, v_th=1.0, v_reset=0.0)
    parameter_names = tuple(defaults)

    def __init__(
        self,
        p: Any = None,
        dt: float = 1e-3,
        *,
        tau_mem_inv: ArrayLike | None = None,
        v_leak: ArrayLike | None = None,
        v_th: ArrayLike | None = None,
        v_reset: ArrayLike | None = None,
        method: str | None = None,
        alpha: ArrayLike | None = None,
        reset_method: Any = None,
        learn: bool | Sequence[str] = False,
        norse_version: str | None = None,
        spike_grad: SurrogateSpike | None = None,
    ):
        """Arguments as [`LIFCell`][] (fields of ``LIFBoxParameters``), plus ``reset_method``:
        ``"value"`` (default) or ``"subtract"`` (Norse's ``reset_value``/``reset_subtract``
        functions are accepted too)."""
        name = type(self).__name__
        chosen = reset_method if reset_method is not None else _field(p, "reset_method")
        if reset_method is not None and _field(p, "reset_method") is not None:
            raise TypeError(f"{name}: reset_method is given both in p and as a keyword; pass it once.")
        chosen = "value" if chosen is None else chosen
        key = chosen if isinstance(chosen, str) else getattr(chosen, "__name__", repr(chosen))
        if key not in _RESET_METHODS:
            raise ValueError(f"{name}: reset_method must be 'value' or 'subtract' (Norse's reset_value or "
                             f"reset_subtract), got {chosen!r}.")  # fmt: skip
        given = dict(tau_mem_inv=tau_mem_inv, v_leak=v_leak, v_th=v_th, v_reset=v_reset)
        self._setup(p, given, dt=dt, spiking=True, method=method, alpha=alpha, learn=learn,
                    norse_version=norse_version, spike_grad=spike_grad, reset=_RESET_METHODS[key],
                    extra_fields=("reset_method",))  # fmt: skip

    def nir_parameters(self) -> tuple[str, dict[str, np.ndarray]]:
        """NIR ``LIF`` with ``tau = 1/tau_mem_inv`` and ``r = 1``."""
        return "LIF", self._nir_common()


class LICell(_NorseCell):
    r"""Norse's ``LICell``: a leaky integrator with synaptic current; outputs the membrane.

    $$i' = i + x,\quad v \leftarrow v + dt\,\tau_\text{mem}^{-1}((v_\text{leak} - v) + i'),\quad
    i \leftarrow i' - dt\,\tau_\text{syn}^{-1} i'$$

    NIR: ``CubaLI``.
    """

    is_neuron = False
    defaults = dict(tau_syn_inv=200.0, tau_mem_inv=100.0, v_leak=0.0)
    parameter_names = tuple(defaults)

    def __init__(
        self,
        p: Any = None,
        dt: float = 1e-3,
        *,
        tau_syn_inv: ArrayLike | None = None,
        tau_mem_inv: ArrayLike | None = None,
        v_leak: ArrayLike | None = None,
        learn: bool | Sequence[str] = False,
    ):
        """Arguments as [`LIFCell`][] (fields of ``LIParameters``)."""
        given = dict(tau_syn_inv=tau_syn_inv, tau_mem_inv=tau_mem_inv, v_leak=v_leak)
        self._setup(p, given, dt=dt, spiking=False, method=None, alpha=None, learn=learn, norse_version=None,
                    spike_grad=None)  # fmt: skip

    def nir_parameters(self) -> tuple[str, dict[str, np.ndarray]]:
        """NIR ``CubaLI`` with ``tau = 1/tau_inv``, ``r = w_in = 1``."""
        return "CubaLI", {**self._nir_common(), "w_in": np.array(1.0, np.float32)}


class LIBoxCell(_NorseCell):
    r"""Norse's ``LIBoxCell``: $v \leftarrow v + dt\,\tau_\text{mem}^{-1}((v_\text{leak} - v) + x)$; outputs ``v``.

    NIR: ``LI``.
    """

    is_neuron = False
    defaults = dict(tau_mem_inv=100.0, v_leak=0.0)
    parameter_names = tuple(defaults)

    def __init__(
        self,
        p: Any = None,
        dt: float = 1e-3,
        *,
        tau_mem_inv: ArrayLike | None = None,
        v_leak: ArrayLike | None = None,
        learn: bool | Sequence[str] = False,
    ):
        """Arguments as [`LIFCell`][] (fields of ``LIBoxParameters``)."""
        self._setup(p, dict(tau_mem_inv=tau_mem_inv, v_leak=v_leak), dt=dt, spiking=False, method=None, alpha=None,
                    learn=learn, norse_version=None, spike_grad=None)  # fmt: skip

    def nir_parameters(self) -> tuple[str, dict[str, np.ndarray]]:
        """NIR ``LI`` with ``tau = 1/tau_mem_inv`` and ``r = 1``."""
        return "LI", self._nir_common()


class IAFCell(_NorseCell):
    r"""Norse's ``IAFCell``: $v' = v + x$, $z = H(v' - v_\text{th})$, $v \leftarrow (1 - z) v' + z v_\text{reset}$.

    The membrane starts at ``v_reset``; ``dt`` is unused (as in Norse). NIR: ``IF`` with ``r = 1``.
    """

    defaults = dict(v_th=1.0, v_reset=0.0)
    parameter_names = tuple(defaults)

    def __init__(
        self,
        p: Any = None,
        dt: float = 1e-3,
        *,
        v_th: ArrayLike | None = None,
        v_reset: ArrayLike | None = None,
        method: str | None = None,
        alpha: ArrayLike | None = None,
        learn: bool | Sequence[str] = False,
        norse_version: str | None = None,
        spike_grad: SurrogateSpike | None = None,
    ):
        """Arguments as [`LIFCell`][] (fields of ``IAFParameters``)."""
        self._setup(p, dict(v_th=v_th, v_reset=v_reset), dt=dt, spiking=True, method=method, alpha=alpha,
                    learn=learn, norse_version=norse_version, spike_grad=spike_grad)  # fmt: skip

    def coefficients(self) -> Coefficients:
        one = jnp.ones(())
        return Coefficients(one, None, one, one)

    def _v_leak(self) -> Array:
        # No leak (mem_decay 1): v_leak only sets the initial membrane, which is v_reset in Norse.
        return self.value("v_reset")

    def nir_parameters(self) -> tuple[str, dict[str, np.ndarray]]:
        """NIR ``IF`` with ``r = 1``."""
        return "IF", self._nir_common()


class _InputProjection(StatefulLayer):
    """``cell(state, x @ weight.T)``: a recurrent core cell fed through input weights ``[H, I]``."""

    weight: Array
    cell: snn.CubaLIF

    def init_state(self, shape: tuple[int, ...], key: PRNGKeyArray | None = None) -> CubaLIFState:
        hidden, features = self.weight.shape
        if tuple(shape) != (features,):
            raise ValueError(
                f"LIFRecurrentCell: expected per-sample inputs of shape ({features},) (input_size), got {tuple(shape)}."
            )
        return self.cell.init_state((hidden,), key)

    def __call__(self, state: CubaLIFState, x: Array, *, key: PRNGKeyArray | None = None) -> tuple[CubaLIFState, Array]:
        return self.cell(state, x @ self.weight.T, key=key)


class LIFRecurrentCell(_NorseCell):
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

    defaults = _LIF_DEFAULTS
    parameter_names = tuple(_LIF_DEFAULTS)

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
        tau_syn_inv: ArrayLike | None = None,
        tau_mem_inv: ArrayLike | None = None,
        v_leak: ArrayLike | None = None,
        v_th: ArrayLike | None = None,
        v_reset: ArrayLike | None = None,
        method: str | None = None,
        alpha: ArrayLike | None = None,
        learn: bool | Sequence[str] = False,
        norse_version: str | None = None,
        spike_grad: SurrogateSpike | None = None,
        key: PRNGKeyArray | None = None,
    ):
        """**Arguments:** ``input_size``, ``hidden_size``; ``input_weights``,
        ``recurrent_weights`` (initial values, Norse's layout); ``autapses``; the rest
        as [`LIFCell`][]."""
        name = type(self).__name__
        if int(input_size) < 1 or int(hidden_size) < 1:
            raise ValueError(f"{name}: sizes must be >= 1, got input_size={input_size}, hidden_size={hidden_size}.")
        self.input_size, self.hidden_size, self.autapses = int(input_size), int(hidden_size), bool(autapses)
        given = dict(tau_syn_inv=tau_syn_inv, tau_mem_inv=tau_mem_inv, v_leak=v_leak, v_th=v_th, v_reset=v_reset)
        self._setup(p, given, dt=dt, spiking=True, method=method, alpha=alpha, learn=learn,
                    norse_version=norse_version, spike_grad=spike_grad, stop_reset_grad=True)  # fmt: skip
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
        """The cell as a pure core layer: input weights, then a recurrent ``snn.CubaLIF``."""
        recurrent = self.recurrent_weights.data
        if not self.autapses:  # the diagonal is used as it is but trains no further (Norse's hook)
            recurrent = jnp.where(jnp.eye(self.hidden_size, dtype=bool), jax.lax.stop_gradient(recurrent), recurrent)
        c = self.coefficients()
        cell = snn.CubaLIF(
            c.mem_decay, syn_decay=c.syn_decay, input_gain=c.input_gain, current_gain=c.current_gain,
            v_leak=self._v_leak(), threshold=self._threshold(), v_reset=self._v_reset(), reset=self.reset,
            stop_reset_grad=True, recurrent_weight=recurrent, spike_fn=self.spike_grad,
        )  # fmt: skip
        return _InputProjection(self.input_weights.data, cell)

    def forward(self, input_: Any, state: CubaLIFState | None = None) -> tuple[Array, CubaLIFState]:
        """One step: ``z, state = cell(x, state)`` with ``x`` of shape ``[B, input_size]``."""
        x = to_array(input_)
        name = type(self).__name__
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{name}: expected an input [B, {self.input_size}], got shape {tuple(x.shape)}.")
        core = self.core_layer()
        if state is None:
            state = jax.vmap(lambda _: core.init_state((self.input_size,)))(jnp.arange(x.shape[0]))
        elif tuple(state.v.shape) != (x.shape[0], self.hidden_size):
            raise ValueError(
                f"{name}: the state's membrane has shape {tuple(state.v.shape)} but expected "
                f"{(x.shape[0], self.hidden_size)}; pass the state returned by the previous step."
            )
        new_state, out = jax.vmap(lambda s, xi: core(s, xi))(state, x)
        return out, new_state

    def nir_parameters(self) -> tuple[str, dict[str, np.ndarray]]:
        raise ValueError(
            f"{type(self).__name__}: a recurrent cell is a NIR subgraph (Affine input_weights -> CubaLIF with a "
            "recurrent Linear), not one node; it cannot be exported as a single neuron."
        )

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}, autapses={self.autapses}, " + (
            super().extra_repr()
        )


# -- AdEx --------------------------------------------------------------------------------------

_ADEX_DEFAULTS = dict(
    adaptation_current=4.0,
    adaptation_spike=0.02,
    delta_T=0.5,
    tau_ada_inv=2.0,
    tau_syn_inv=200.0,
    tau_mem_inv=100.0,
    v_leak=0.0,
    v_th=1.0,
    v_reset=0.0,
)


class LIFAdExCell(NamedParameterModule):
    r"""Norse's ``LIFAdExCell``: adaptive exponential LIF, equations in [`snnax_torchlike.snn.LIFAdEx`][].

    Parameters (Norse's ``LIFAdExParameters`` fields, buffers or ``Parameter``s with
    ``learn=``): ``adaptation_current`` (4), ``adaptation_spike`` (0.02),
    ``delta_T`` (0.5), ``tau_ada_inv`` (2), ``tau_syn_inv`` (200), ``tau_mem_inv``
    (100), ``v_leak`` (0), ``v_th`` (1), ``v_reset`` (0). ``cell(x, state) -> (z,
    state)``; the state is a [`LIFAdExState`][snnax_torchlike.snn.LIFAdExState]
    ``(v, i, a)``. Not an ``ODENeuron``: NIR has no AdEx node.
    """

    is_neuron = True
    parameter_names = tuple(_ADEX_DEFAULTS)

    def __init__(
        self,
        p: Any = None,
        dt: float = 1e-3,
        *,
        adaptation_current: ArrayLike | None = None,
        adaptation_spike: ArrayLike | None = None,
        delta_T: ArrayLike | None = None,
        tau_ada_inv: ArrayLike | None = None,
        tau_syn_inv: ArrayLike | None = None,
        tau_mem_inv: ArrayLike | None = None,
        v_leak: ArrayLike | None = None,
        v_th: ArrayLike | None = None,
        v_reset: ArrayLike | None = None,
        method: str | None = None,
        alpha: ArrayLike | None = None,
        learn: bool | Sequence[str] = False,
        norse_version: str | None = None,
        spike_grad: SurrogateSpike | None = None,
    ):
        """Arguments as [`LIFCell`][], with the fields of ``LIFAdExParameters``."""
        super().__init__()
        name = type(self).__name__
        given = dict(adaptation_current=adaptation_current, adaptation_spike=adaptation_spike, delta_T=delta_T,
                     tau_ada_inv=tau_ada_inv, tau_syn_inv=tau_syn_inv, tau_mem_inv=tau_mem_inv, v_leak=v_leak,
                     v_th=v_th, v_reset=v_reset)  # fmt: skip
        values = _resolve(name, p, given, _ADEX_DEFAULTS, _SURROGATE_FIELDS)
        self.method, self.alpha, self.spike_grad = _surrogate(name, p, method, alpha, norse_version, spike_grad)
        self.dt = float(dt)
        if not self.dt > 0:
            raise ValueError(f"{name}: dt must be positive, got {dt}.")
        register_named_parameters(self, values, learn)

    def core_layer(self) -> snn.LIFAdEx:
        """The neuron as a pure core layer over the current arrays."""
        v = self.value
        return snn.LIFAdEx(
            tau_syn_inv=v("tau_syn_inv"), tau_mem_inv=v("tau_mem_inv"), tau_ada_inv=v("tau_ada_inv"),
            adaptation_current=v("adaptation_current"), adaptation_spike=v("adaptation_spike"), delta_T=v("delta_T"),
            v_leak=v("v_leak"), threshold=v("v_th"), v_reset=v("v_reset"), dt=self.dt, spike_fn=self.spike_grad,
        )  # fmt: skip

    def forward(self, input_: Any, state: LIFAdExState | None = None) -> tuple[Array, LIFAdExState]:
        """One step on a batch: ``z, state = cell(x, state)``; ``x`` is ``[B, ...]``."""
        return batched_step(type(self).__name__, self.core_layer(), input_, state)

    def extra_repr(self) -> str:
        return f"{self._parameter_shapes()}, dt={self.dt}, method={self.method!r}, alpha={self.alpha}"
