"""User-defined differentiable operations (torch.autograd.Function).

A subclass writes `forward(ctx, *args)` and `backward(ctx, *grad_outputs)` as static methods
and is called through `apply`. Forward runs without recording a graph; its tensor outputs then
get one node (autograd_c._C's FunctionBackward) whose backward is the subclass's.
"""
import functools

from autograd_c import _C
from autograd_c._C import Tensor
from autograd_c.autograd.grad_mode import no_grad

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

_SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


class FunctionCtx:
    """The `ctx` of forward and backward: saved tensors, flags, and any attribute forward sets."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self.saved = None               # (tensor, version at save) pairs; () once released
        self.non_differentiable = set()  # ids of outputs that get no grad_fn
        self.dirty = ()

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument %d is "
                                "of type %s" % (tensors.index(t), type(t).__name__))
        self.saved = tuple((t, None if t is None else t._version) for t in tensors)

    @property
    def saved_tensors(self):
        if self.saved is None:
            return ()
        if self.saved == "released":
            raise RuntimeError(_SECOND_BACKWARD)
        for i, (t, version) in enumerate(self.saved):
            if t is not None and t._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    "an inplace operation: [%s %s] is at version %d; expected version %d "
                    "instead. Hint: enable anomaly detection to find the operation that failed "
                    "to compute its gradient, with torch.autograd.set_detect_anomaly(True, "
                    "check_nan=False)." % (t.type(), list(t.shape), t._version, version))
        return tuple(t for t, _ in self.saved)

    saved_variables = saved_tensors

    def release(self):
        if self.saved is not None:
            self.saved = "released"

    def mark_non_differentiable(self, *tensors):
        self.non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        self.dirty = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class _FunctionMeta(type):
    """Gives every Function subclass its backward node's name, '<ClassName>Backward'."""

    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        cls._backward_name = name + "Backward"


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable operations: override forward and backward."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method. (Example: https://pytorch.org/docs/stable/"
                           "autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        with no_grad():
            result = cls.forward(ctx, *args, **kwargs)
        outputs = result if isinstance(result, tuple) else (result,)
        outputs = tuple(_fresh_output(o, args, ctx) for o in outputs)
        if _C.is_grad_enabled() and any(needs):
            tensors = tuple(o for o in outputs if isinstance(o, Tensor))
            _C._function_node(ctx, cls.backward, cls._backward_name, args, tensors)
        return outputs if isinstance(result, tuple) else outputs[0]


def _fresh_output(out, args, ctx):
    """An output that is one of the inputs, returned as is, becomes a new tensor sharing its
    storage (else the graph would rewrite the input's own history); a dirty input keeps its
    identity and takes the new history, as an in-place op's result does."""
    if not isinstance(out, Tensor) or not any(out is a for a in args):
        return out
    if any(out is d for d in ctx.dirty):
        if out.is_leaf and out.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        return out
    return out.detach()


def once_differentiable(fn):
    """Mark a backward as not differentiable itself. It runs without recording; when a pass
    that records a graph (create_graph=True) calls it with gradients that have a history, its
    results take a node that raises if anything differentiates through them, as in torch."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not _C.is_grad_enabled():
            return outputs
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        results = DelayedError.apply(*(_fake_requires_grad(o) for o in
                                       ((outputs,) if single else outputs)))
        return results[0] if single else results

    return wrapper


def _fake_requires_grad(value):
    if isinstance(value, Tensor):
        value = value.detach()
        value.requires_grad_(True)
    return value


class DelayedError(Function):
    """Passes its inputs through; differentiating through them is the error."""

    @staticmethod
    def forward(ctx, *args):
        return tuple(a.view_as(a) if isinstance(a, Tensor) else a for a in args)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


DelayedError._backward_name = "Error"       # torch's name for this node
