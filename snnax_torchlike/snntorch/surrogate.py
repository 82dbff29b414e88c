"""``snntorch.surrogate``: an alias of [`snnax_torchlike.surrogate`][] (nothing is defined twice)."""

from snnax_torchlike.surrogate import *  # noqa: F401,F403
from snnax_torchlike.surrogate import __all__  # noqa: F401
