"""Bridges to the torch world, installed as ``snnax_torchlike.interop``.

This package may import torch, snntorch, norse and nir (optional extras); nothing
else in ``snnax_torchlike`` imports it. Its contents (DataLoader bridge, snnTorch
and Norse import, NIR import/export) are specified in the interop issue.
"""
