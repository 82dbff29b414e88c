"""What spiking neurons share: parameter checks, decay parameterisation, fire and reset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .._stateful import StatefulLayer
from ..concrete import concrete
from ..surrogate import SurrogateSpike, superspike

ResetMode = Literal["subtract", "zero", "none"]
DecayParameterisation = Literal["direct", "sigmoid"]

_RESET_MODES = ("subtract", "zero", "none")
_DECAY_PARAMETERISATIONS = ("direct", "sigmoid")


def as_float_array(value: ArrayLike, *, layer: str, name: str) -> Array:
    """``value`` as a floating JAX array (float32 unless it already is floating).

    A host value (Python number, list, numpy array) is checked here, where that
    costs no device transfer: a non-numeric one raises ``TypeError``, a NaN
    ``ValueError`` (a NaN decay or threshold silences every neuron).
    """
    if not isinstance(value, jax.Array):
        # Through numpy so Python scalars become strongly typed float32, not weak types.
        given, value = value, np.asarray(value)
        if value.dtype.kind not in "biuf":
            raise TypeError(
                f"{layer}: {name} must be a real number or array, got {type(given).__name__} {given!r:.60}; "
                "convert it, e.g. float(...)."
            )
        if value.dtype.kind == "f" and np.isnan(value).any():
            raise ValueError(f"{layer}: {name} must not be NaN, got {value.tolist()!r:.80}.")
        if value.dtype == np.float64:
            value = value.astype(np.float32)
    array = jnp.asarray(value)
    if jnp.issubdtype(array.dtype, jnp.floating):
        return array
    if jnp.issubdtype(array.dtype, jnp.integer) or array.dtype == jnp.bool_:
        return array.astype(jnp.float32)
    raise TypeError(f"{layer}: {name} must be a real number or array, got dtype {array.dtype}.")


def resolve_decays(
    layer: str,
    names: Sequence[str],
    decay_constants: ArrayLike | Sequence[ArrayLike] | None,
    named: dict[str, ArrayLike | None],
    defaults: dict[str, float] | None = None,
) -> list[ArrayLike]:
    """Collect a neuron's decays from SNNAX's positional list or from keywords.

    ``decay_constants`` holds one entry per name, in order: a Python list/tuple of
    scalars or arrays, or an array whose leading axis runs over the names. A
    neuron with one decay also takes the decay itself (scalar or per-neuron array).
    """
    given = {k: v for k, v in named.items() if v is not None}
    if decay_constants is not None:
        if given:
            raise TypeError(
                f"{layer}: pass the decays either as decay_constants or as "
                f"{', '.join(names)}=..., not both (got decay_constants and {sorted(given)})."
            )
        if isinstance(decay_constants, (list, tuple)):
            entries = list(decay_constants)
        elif len(names) == 1:
            entries = [decay_constants]
        else:
            array = jnp.asarray(decay_constants)
            entries = list(array) if array.ndim >= 1 else [array]
        if len(entries) != len(names):
            raise ValueError(
                f"{layer}: decay_constants must hold {len(names)} entr"
                f"{'y' if len(names) == 1 else 'ies'} ({', '.join(names)}), got {len(entries)}."
            )
        return entries
    defaults = defaults or {}
    missing = [n for n in names if n not in given and n not in defaults]
    if missing:
        raise TypeError(f"{layer}: missing decay constant(s) {missing}; pass decay_constants or keywords.")
    return [given.get(n, defaults.get(n)) for n in names]


def encode_decay(value: ArrayLike, parameterisation: DecayParameterisation, *, layer: str, name: str) -> Array:
    """Check a decay lies in its range and store it in the chosen parameterisation.

    ``"direct"`` stores the decay itself (range [0, 1], never clamped afterwards);
    ``"sigmoid"`` stores its logit, so training keeps it in (0, 1).
    """
    check_decay_parameterisation(parameterisation, layer=layer)
    decay = as_float_array(value, layer=layer, name=name)
    values = concrete(decay)
    if parameterisation == "direct":
        if values is not None and not np.all((values >= 0) & (values <= 1)):
            raise ValueError(
                f"{layer}: {name} must lie in [0, 1], got values in [{values.min():.4g}, {values.max():.4g}]."
            )
        return decay
    if values is not None and not np.all((values > 0) & (values < 1)):
        raise ValueError(
            f"{layer}: with decay_parameterisation='sigmoid', {name} must lie in (0, 1), "
            f"got values in [{values.min():.4g}, {values.max():.4g}]."
        )
    return jnp.log(decay) - jnp.log1p(-decay)


def check_param_shape(value: ArrayLike, state_shape: tuple[int, ...], *, layer: str, name: str) -> None:
    """A parameter is a scalar, or has the state's rank with each axis 1 or full.

    A per-channel decay of a conv layer is shape ``(C, 1, 1)``; a shape like
    ``(W,)`` against a ``(C, H, W)`` state is refused rather than broadcast along
    the wrong axis.
    """
    shape = tuple(np.shape(value))
    if shape == ():
        return
    if len(shape) == len(state_shape) and all(p in (1, s) for p, s in zip(shape, state_shape)):
        return
    per_channel = (
        f" (e.g. {(state_shape[0],) + (1,) * (len(state_shape) - 1)} for one value per channel)"
        if len(state_shape) > 1
        else ""
    )
    raise ValueError(
        f"{layer}: {name} has shape {shape}, but the layer's neurons have shape {state_shape}. "
        f"Expected a scalar, shape {state_shape}, or that shape with some axes of size 1{per_channel}."
    )


def check_param_shapes(module: object, shape: tuple[int, ...], names: Sequence[str]) -> None:
    """[`check_param_shape`][] for each named attribute of ``module``, naming the module's class."""
    for name in names:
        check_param_shape(getattr(module, name), shape, layer=type(module).__name__, name=name)


def check_shape_argument(shape: Sequence[int], *, layer: str) -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints, or a clear error."""
    try:
        result = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(
            f"{layer}.init_state: shape must be a tuple of ints (one sample, one time step), got {shape!r}."
        ) from None
    if any(s < 0 for s in result):
        raise ValueError(f"{layer}.init_state: shape must be non-negative, got {result}.")
    return result


def check_input(x: Array, expected_shape: tuple[int, ...], *, layer: str) -> None:
    """The input of one step has the state's shape and a floating dtype."""
    if not hasattr(x, "shape"):
        raise TypeError(f"{layer}: expected an array input of shape {expected_shape}, got {type(x).__name__}.")
    if x.shape != expected_shape:
        hint = ""
        if x.shape[1:] == expected_shape:
            hint = (
                f" The extra leading axis of size {x.shape[0]} looks like a batch or time axis: "
                "layers take one sample at one step; batch with jax.vmap and run time "
                "through a model (snn.Sequential / snn.StatefulModel)."
            )
        raise ValueError(
            f"{layer}: expected an input of shape {expected_shape} (the shape given to "
            f"init_state), got {x.shape}.{hint}"
        )
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"{layer}: expected a floating-point input, got dtype {x.dtype}.")


def decode_decay(stored: Array, parameterisation: DecayParameterisation) -> Array:
    """The decay in [0, 1] from its stored parameterisation (see ``encode_decay``)."""
    if parameterisation == "sigmoid":
        return jax.nn.sigmoid(stored)
    return stored


def check_decay_parameterisation(value: str, *, layer: str) -> DecayParameterisation:
    if value not in _DECAY_PARAMETERISATIONS:
        raise ValueError(f"{layer}: decay_parameterisation must be one of {_DECAY_PARAMETERISATIONS}, got {value!r}.")
    return value


def check_reset_mode(value: str, *, layer: str, name: str = "reset") -> ResetMode:
    """``value`` if it is a known reset mode, else a ValueError naming the layer."""
    if value not in _RESET_MODES:
        raise ValueError(f"{layer}: {name} must be one of {_RESET_MODES}, got {value!r}.")
    return value


def check_spike_fn(spike_fn: SurrogateSpike | None, *, layer: str) -> SurrogateSpike:
    """The given surrogate, or ``superspike()`` when None."""
    if spike_fn is None:
        return superspike()
    if not isinstance(spike_fn, SurrogateSpike):
        raise TypeError(
            f"{layer}: spike_fn must be a SurrogateSpike (e.g. snn.surrogate.superspike()), "
            f"got {type(spike_fn).__name__}. Wrap a derivative with snn.surrogate.custom(fn)."
        )
    return spike_fn


def as_hyperparameter(value: ArrayLike, *, layer: str, name: str) -> ArrayLike:
    """A plain number (Python or numpy scalar) stays a fixed hyper-parameter; an array becomes a trained float array."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    return as_float_array(value, layer=layer, name=name)


class SpikingNeuron(StatefulLayer):
    """Shared machinery of spiking neurons: threshold, spike function, reset.

    Fire and reset happen in the same step: ``s = H(v - threshold)``, then

    - ``"subtract"``: ``v <- v - s * threshold``
    - ``"zero"``: ``v <- v * (1 - s)``
    - ``"none"``: ``v`` unchanged

    With ``stop_reset_grad`` (default), ``s`` in the reset is wrapped in
    ``stop_gradient`` (as snnTorch does), so gradients flow only through the spike
    output, not through the reset.
    """

    threshold: ArrayLike
    spike_fn: SurrogateSpike
    reset: ResetMode = eqx.field(static=True)
    stop_reset_grad: bool = eqx.field(static=True)
    decay_parameterisation: DecayParameterisation = eqx.field(static=True)

    def _init_common(
        self,
        threshold: ArrayLike,
        spike_fn: SurrogateSpike | None,
        reset: ResetMode,
        stop_reset_grad: bool,
        decay_parameterisation: DecayParameterisation,
    ) -> None:
        name = type(self).__name__
        check_reset_mode(reset, layer=name)
        self.threshold = as_hyperparameter(threshold, layer=name, name="threshold")
        self.spike_fn = check_spike_fn(spike_fn, layer=name)
        self.reset = reset
        self.stop_reset_grad = bool(stop_reset_grad)
        self.decay_parameterisation = check_decay_parameterisation(decay_parameterisation, layer=name)

    def _decay(self, stored: Array) -> Array:
        return decode_decay(stored, self.decay_parameterisation)

    def _check_params(self, state_shape: tuple[int, ...], *names: str) -> None:
        """The threshold and the named parameters fit the neurons' shape."""
        check_param_shapes(self, state_shape, ("threshold", *names))

    def _fire_and_reset(self, v: Array) -> tuple[Array, Array]:
        """Spikes of membrane ``v`` and the membrane after the reset."""
        s = self.spike_fn(v - self.threshold)
        r = jax.lax.stop_gradient(s) if self.stop_reset_grad else s
        if self.reset == "subtract":
            v = v - r * self.threshold
        elif self.reset == "zero":
            v = v * (1.0 - r)
        return v, s
