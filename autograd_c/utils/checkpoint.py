"""Activation checkpointing (torch.utils.checkpoint): trade compute for memory.

`checkpoint(fn, *args)` runs fn without recording a graph, so none of its intermediate
activations stay alive until backward. Its backward runs fn again, this time recording, from
the saved inputs (with the random generator's state as it was, so dropout draws the same
masks), then backpropagates through that fresh graph: the same gradients, for the price of a
second forward.
"""
import warnings

from autograd_c import _C, _creation
from autograd_c._C import Tensor
from autograd_c.autograd import Function, backward as autograd_backward
from autograd_c.autograd.grad_mode import enable_grad

__all__ = ["checkpoint", "checkpoint_sequential"]

_NOT_WITH_GRAD = ("When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() "
                  "or passing an `inputs` parameter to .backward(). To resolve this error, you "
                  "can either set use_reentrant=False, or call .backward() without passing the "
                  "`inputs` argument.")


class CheckpointFunction(Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function = run_function
        ctx.rng_state = _creation.default_generator.get_state() if preserve_rng_state else None
        ctx.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.other_args = list(args)
        for i in ctx.tensor_positions:
            ctx.other_args[i] = None
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_positions))
        return run_function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        if _C._in_targeted_pass():
            raise RuntimeError(_NOT_WITH_GRAD)
        inputs = list(ctx.other_args)
        for i, saved in zip(ctx.tensor_positions, ctx.saved_tensors):
            inputs[i] = saved.detach().requires_grad_(saved.requires_grad)
        outputs = _recompute(ctx, inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not "
                               "necessary")
        autograd_backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in inputs)


def _recompute(ctx, inputs):
    """fn(*inputs) again, recording, with the generator as it was at the first forward."""
    if ctx.rng_state is None:
        with enable_grad():
            return ctx.run_function(*inputs)
    now = _creation.default_generator.get_state()
    _creation.default_generator.set_state(ctx.rng_state)
    try:
        with enable_grad():
            return ctx.run_function(*inputs)
    finally:
        _creation.default_generator.set_state(now)


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    """function(*args, **kwargs), with its activations recomputed in backward instead of kept."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. Starting in PyTorch 2.9, calling checkpoint without "
                      "use_reentrant will raise an exception. use_reentrant=False is "
                      "recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", stacklevel=2)
    if kwargs and use_reentrant is not False:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if context_fn is not None:
        raise NotImplementedError("checkpoint(context_fn=...) is not supported")
    run = function if not kwargs else (lambda *a: function(*a, **kwargs))
    return CheckpointFunction.apply(run, preserve_rng_state, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a Sequential (or list of modules) in `segments` checkpointed pieces; the last piece
    runs normally, as torch does."""
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = len(modules) // segments

    def run_piece(start, end):
        def forward(x):
            for module in modules[start:end + 1]:
                x = module(x)
            return x
        return forward

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_piece(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run_piece(end + 1, len(modules) - 1)(input)
