"""Spike encoders with snnTorch's names, signatures and formulas (``snntorch.spikegen``).

- ``rate``, ``rate_conv``: Bernoulli spikes whose probability is the (clipped) intensity;
- ``latency``, ``latency_code``, ``latency_code_log``, ``latency_code_linear``,
  ``latency_interpolate``: one spike per element, earlier for larger values;
- ``delta``: spikes where a time-first signal changes by a threshold;
- ``targets_convert``, ``targets_rate``, ``targets_latency``, ``target_rate_code``,
  ``rate_interpolate``: spike-coded class targets;
- ``to_one_hot``, ``to_one_hot_inverse``, ``from_one_hot``: one-hot helpers.

Outputs are float32 and time-first ``[T, ...]`` (spike times are int32 where
snnTorch's are int64). The deterministic functions reproduce snnTorch 1.0.0
exactly (tested against it), with two last-bit exceptions: XLA's ``log`` is not
always correctly rounded, so ``latency_code_log``'s times can differ by an ulp
(their rounded spike steps do not), and under ``jax.jit`` XLA fuses multiply-adds,
so interpolated ramps between ``off_target`` and ``on_target`` can differ by an
ulp. The spike-time codes are differentiable in the data, with snnTorch's
gradients (also through ``backward()`` on facade tensors). The random ones
(``rate``, ``rate_conv``, the ``'uniform'``/``'poisson'`` target patterns) draw
their own numbers from a key (``key=``, or the library stream of
``snnax_torchlike.random`` reset by ``manual_seed``), so only their distribution
matches snnTorch's: torch's RNG stream cannot be reproduced in JAX.

Results are JAX arrays for JAX or numpy data and facade ``Tensor`` s for torch or
facade tensors (so snnTorch code can compare them with torch tensors).

The encoders are traceable where their output shape does not depend on values:
``num_steps`` and the options are static, the data may be traced. Checks that need
the data's values run when the data is concrete and are skipped under
``jax.jit``. ``from_one_hot``, ``rate_interpolate``, ``latency(bypass=True)``
without ``num_steps`` and the ``'poisson'`` target pattern need concrete values.

Where snnTorch silently ignores an option (``rate``'s ``gain``/``offset`` with
``time_var_input``, ``latency``'s ``clip`` with ``interpolate``, options
``targets_convert`` does not pass on), these functions raise instead. Where
snnTorch 1.0.0 is broken (``targets_rate`` with rates other than 1 and 0 fails
unless ``num_classes == num_steps`` and then returns ``[T, B, C, B, C]``), they
return the documented result. Each function's docstring says how.
"""

from ._delta import delta
from ._latency import latency, latency_code, latency_code_linear, latency_code_log, latency_interpolate
from ._one_hot import from_one_hot, to_one_hot, to_one_hot_inverse
from ._rate import rate, rate_conv
from ._targets import rate_interpolate, target_rate_code, targets_convert, targets_latency, targets_rate

__all__ = [
    "rate",
    "latency",
    "delta",
    "rate_conv",
    "latency_code",
    "latency_code_linear",
    "latency_code_log",
    "targets_convert",
    "targets_rate",
    "target_rate_code",
    "rate_interpolate",
    "latency_interpolate",
    "targets_latency",
    "to_one_hot_inverse",
    "to_one_hot",
    "from_one_hot",
]
