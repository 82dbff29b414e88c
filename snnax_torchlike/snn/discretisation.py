r"""From NIR's continuous-time neuron equations to per-step coefficients.

NIR (and Norse's and snnTorch's NIR files) describe neurons by ODEs with time
constants in seconds and fix no time step. A simulator picks ``dt`` and a
scheme; the same file then means different discrete networks. This module makes
that choice explicit: a *convention* plus ``dt`` turn the ODE parameters into the
coefficients of [`ODENeuron`][snnax_torchlike.snn.ODENeuron]:

$$i_t = i_{t-1}^{+} + g_\text{in}\, x_t,\qquad
v' = a_\text{mem}\, v_{t-1} + (1 - a_\text{mem})\, v_\text{leak} + g_\text{mem}\, i_t,\qquad
i_t^{+} = a_\text{syn}\, i_t$$

(without a synapse, $i_t = g_\text{in} x_t$). For the ODEs
$\tau_\text{syn}\dot I = -I + w_\text{in} S$ and $\tau_\text{mem}\dot v = (v_\text{leak} - v) + r I$:

| convention | $a$ | $g_\text{in}$ (synapse) | $g_\text{mem}$ | IF / Integrator gain |
|---|---|---|---|---|
| ``"euler"`` (forward Euler) | $1 - dt/\tau$ | $w_\text{in}\, dt/\tau_\text{syn}$ | $r\, dt/\tau_\text{mem}$ | $r\, dt$ |
| ``"snntorch"`` | as ``"euler"``, default ``dt = 1e-4`` (snnTorch's) | | | |
| ``"norse"`` | $1 - dt/\tau$ | $w_\text{in}$ (the input jumps into the current) | $r\, dt/\tau_\text{mem}$ | $r$ (Norse's IAF ignores dt) |
| ``"exact"`` (exponential Euler) | $e^{-dt/\tau}$ | $w_\text{in} (1 - a_\text{syn})$ | $r (1 - a_\text{mem})$ | $r\, dt$ |

``"exact"`` solves each equation exactly for an input held constant over the
step (exact for LIF, LI, IF; for the current-based neurons the membrane sees the
current at the end of the step). snnTorch's exporter writes
$r = \tau_\text{mem}/dt$ and $w_\text{in} = \tau_\text{syn}/dt$, so under
``"snntorch"`` the gains are 1 and ``v' = beta v + i`` exactly; Norse writes
$r = w_\text{in} = 1$ and $\tau = 1/\tau_\text{inv}$.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

Convention = Literal["euler", "snntorch", "norse", "exact"]
CONVENTIONS: tuple[str, ...] = ("euler", "snntorch", "norse", "exact")
DEFAULT_DT = {"snntorch": 1e-4, "norse": 1e-3}
"""The time step a convention assumes when none is given (``"euler"``/``"exact"`` need one)."""


class Coefficients(NamedTuple):
    """Per-step coefficients of a discretised neuron (see the module docstring).

    ``syn_decay`` is None for neurons without a synaptic current.
    """

    mem_decay: Array
    syn_decay: Array | None
    input_gain: Array
    current_gain: Array


def check_convention(convention: str, dt: float | None, *, where: str) -> float:
    """The time step to use for ``convention``; raises for an unknown convention or a missing dt."""
    if convention not in CONVENTIONS:
        raise ValueError(f"{where}: convention must be one of {CONVENTIONS}, got {convention!r}.")
    if dt is None:
        if convention not in DEFAULT_DT:
            raise ValueError(f"{where}: convention {convention!r} needs an explicit dt (in seconds, e.g. dt=1e-3).")
        return DEFAULT_DT[convention]
    dt = float(dt)
    if not dt > 0:
        raise ValueError(f"{where}: dt must be positive, got {dt}.")
    return dt


def _decay(convention: str, dt: float, tau: Array) -> Array:
    return jnp.exp(-dt / tau) if convention == "exact" else 1.0 - dt / tau


def discretise(
    convention: Convention,
    dt: float,
    *,
    tau_mem: ArrayLike | None,
    r: ArrayLike = 1.0,
    tau_syn: ArrayLike | None = None,
    w_in: ArrayLike = 1.0,
) -> Coefficients:
    """Coefficients of one neuron's update for a time step ``dt`` (seconds).

    **Arguments:**

    - ``convention``: ``"euler"``, ``"snntorch"``, ``"norse"`` or ``"exact"``.
    - ``dt``: the time step.
    - ``tau_mem``: the membrane time constant; None for a neuron without leak
      (NIR ``IF`` and ``I``: $\\dot v = r I$).
    - ``r``: the membrane resistance (input gain of the voltage equation).
    - ``tau_syn``: the synaptic time constant; None without a synaptic current.
    - ``w_in``: the synaptic input weight.

    All parameters are scalars or arrays of the neurons' shape; the coefficients
    have the broadcast shape.

    **Returns:** [`Coefficients`][].
    """
    r = jnp.asarray(r, jnp.float32)
    if tau_mem is None:
        gain = r if convention == "norse" else r * dt
        return Coefficients(jnp.ones_like(r), None, jnp.ones_like(r), gain)
    tau_mem = jnp.asarray(tau_mem, jnp.float32)
    mem_decay = _decay(convention, dt, tau_mem)
    current_gain = r * (1.0 - mem_decay) if convention == "exact" else r * (dt / tau_mem)
    if tau_syn is None:
        return Coefficients(mem_decay, None, jnp.ones_like(current_gain), current_gain)
    tau_syn = jnp.asarray(tau_syn, jnp.float32)
    w_in = jnp.asarray(w_in, jnp.float32)
    syn_decay = _decay(convention, dt, tau_syn)
    if convention == "norse":
        input_gain = w_in * jnp.ones_like(syn_decay)
    elif convention == "exact":
        input_gain = w_in * (1.0 - syn_decay)
    else:
        input_gain = w_in * (dt / tau_syn)
    return Coefficients(mem_decay, syn_decay, input_gain, current_gain)
