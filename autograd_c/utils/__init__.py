"""Helpers around the core: `data` holds datasets, samplers and the DataLoader; `hooks` the
handles that register_*hook methods return; `checkpoint` activation checkpointing."""
from autograd_c.utils import checkpoint, data, hooks

__all__ = ["checkpoint", "data", "hooks"]
