"""Helpers around the core: `data` holds datasets, samplers and the DataLoader."""
from autograd_c.utils import data

__all__ = ["data"]
