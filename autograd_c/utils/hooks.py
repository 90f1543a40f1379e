"""Handles returned by every register_*hook method (as torch.utils.hooks)."""
import itertools

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """Returned by the register_*hook methods; `remove()` unregisters the hook. Usable as a
    context manager that removes the hook on exit."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict):
        self._hooks_dict = hooks_dict
        self.id = next(RemovableHandle._next_id)

    def remove(self):
        self._hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.remove()
