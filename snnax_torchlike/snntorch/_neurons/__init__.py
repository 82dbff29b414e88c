"""``snntorch._neurons``: the module paths snnTorch's own code and tests import neurons from."""
