"""``snntorch.utils``: an alias of [`snnax_torchlike.utils`][] (nothing is defined twice)."""

from snnax_torchlike.utils import *  # noqa: F401,F403
from snnax_torchlike.utils import __all__  # noqa: F401
