"""Helpers around the core: `data` holds datasets, samplers and the DataLoader; `hooks` the
handles that register_*hook methods return."""
from autograd_c.utils import data, hooks

__all__ = ["data", "hooks"]
