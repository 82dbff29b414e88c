"""``snntorch.functional``: an alias of [`snnax_torchlike.functional`][] (nothing is defined twice)."""

from snnax_torchlike.functional import *  # noqa: F401,F403
from snnax_torchlike.functional import (
    __all__,  # noqa: F401
    quant,  # noqa: F401  (snnTorch's `from snntorch.functional import quant`)
)
