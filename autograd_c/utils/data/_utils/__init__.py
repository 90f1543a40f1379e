"""Internals of the data loader, at the import paths torch scripts use."""
from autograd_c.utils.data._utils import collate

__all__ = ["collate"]
