"""autograd_c.autograd: backward, Variable, grad modes and gradient checking."""
from autograd_c import _C
from autograd_c._C import Tensor, is_grad_enabled
from autograd_c.autograd.grad_mode import enable_grad, no_grad, set_grad_enabled
from autograd_c.autograd.gradcheck import GradcheckError, gradcheck

__all__ = ["Variable", "backward", "gradcheck", "GradcheckError", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled"]


def Variable(data, requires_grad=False, volatile=False):
    """The pre-0.4 wrapper. It returns a plain Tensor: a new leaf sharing data's storage."""
    if not isinstance(data, Tensor):
        raise TypeError("Variable data has to be a tensor, but got %s" % type(data).__name__)
    return data.detach().requires_grad_(requires_grad)


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate into each leaf's .grad the gradient of sum(<tensors[i], grad_tensors[i]>)."""
    if create_graph:
        raise NotImplementedError("create_graph=True (gradients of gradients) is not supported "
                                  "yet")
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...) is not supported yet")
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if grads is None:
        grads = (None,) * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError("got %d tensors and %d gradients" % (len(tensors), len(grads)))
    if retain_graph is None:
        retain_graph = create_graph
    _C._run_backward(tensors, grads, bool(retain_graph))
