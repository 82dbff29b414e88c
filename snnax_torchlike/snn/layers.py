"""Stateless layers for spiking networks: flattening and spiking pooling."""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
from jaxtyping import Array, ArrayLike

from .neurons._base import as_hyperparameter, check_spike_fn
from .surrogate import SurrogateSpike


class LeadingAxesLayer(eqx.Module):
    """A stateless, deterministic layer that maps any leading axes: ``f(x)[..., :] == f(x[..., :])`` per sample.

    A model runs such a layer once over a whole sequence ``[T, (B,) *shape]``
    instead of ``vmap``-ing it over every frame: the same values, one call (its
    backward pass then sees every frame at once, as one matrix product).
    Subclasses implement ``__call__(x)``.
    """


class Flatten(eqx.Module):
    """Flattens one sample's input to a vector: ``(C, H, W) -> (C*H*W,)``."""

    def __call__(self, x: Array) -> Array:
        return x.reshape(-1)


class _SpikingPool2d(eqx.Module):
    """Pooling over a window, then a threshold through a surrogate spike function."""

    pool: eqx.nn.Pool
    threshold: ArrayLike
    spike_fn: SurrogateSpike
    _pool_type = eqx.nn.Pool

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        *,
        threshold: ArrayLike = 0.5,
        spike_fn: SurrogateSpike | None = None,
    ):
        """**Arguments:** ``kernel_size``, ``stride`` (default: ``kernel_size``) and
        ``padding`` as in ``torch.nn.MaxPool2d``; ``threshold`` $\\theta$ (float:
        fixed; array: trained); ``spike_fn`` (default ``superspike()``)."""
        name = type(self).__name__
        self.pool = self._pool_type(kernel_size, kernel_size if stride is None else stride, padding)
        self.threshold = as_hyperparameter(threshold, layer=name, name="threshold")
        self.spike_fn = check_spike_fn(spike_fn, layer=name)

    def __call__(self, x: Array) -> Array:
        if x.ndim != 3:
            raise ValueError(
                f"{type(self).__name__}: expected one sample's input of shape (C, H, W), got {x.shape} "
                "(no batch axis; batch with jax.vmap)."
            )
        return self.spike_fn(self.pool(x) - self.threshold)


class SpikingMaxPool2d(_SpikingPool2d):
    r"""2-D max pooling followed by a threshold: $y = H(\max_{\text{window}} x - \theta)$.

    On binary spikes with the default $\theta = 0.5$ a window emits a spike iff
    any of its inputs spiked. Gradients pass through the surrogate ``spike_fn``.
    Input and output are per sample, ``(C, H, W)``.
    """

    _pool_type = eqx.nn.MaxPool2d


class SpikingAvgPool2d(_SpikingPool2d):
    r"""2-D average pooling followed by a threshold: $y = H(\mathrm{mean}_{\text{window}} x - \theta)$.

    On binary spikes with the default $\theta = 0.5$ a window spikes when more than
    half of its inputs spiked. Input and output are per sample, ``(C, H, W)``.
    """

    _pool_type = eqx.nn.AvgPool2d
