"""Runnable examples: `python -m autograd_c.examples.<name>`."""
