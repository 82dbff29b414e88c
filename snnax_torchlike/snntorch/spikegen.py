"""``snntorch.spikegen``: an alias of [`snnax_torchlike.spikegen`][] (nothing is defined twice)."""

from snnax_torchlike.spikegen import *  # noqa: F401,F403
from snnax_torchlike.spikegen import __all__  # noqa: F401
