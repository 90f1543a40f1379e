"""autograd_c.autograd: backward, grad, Variable, grad modes and gradient checking."""
import warnings

import numpy as np

from autograd_c import _C, _creation
from autograd_c._C import Tensor, is_grad_enabled
from autograd_c.autograd.anomaly_mode import (detect_anomaly, is_anomaly_check_nan_enabled,
                                              is_anomaly_enabled, set_detect_anomaly)
from autograd_c.autograd.function import Function, FunctionCtx, once_differentiable
from autograd_c.autograd.grad_mode import (enable_grad, inference_mode, is_inference_mode_enabled,
                                           no_grad, set_grad_enabled)
from autograd_c.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["Variable", "Function", "FunctionCtx", "once_differentiable", "backward", "grad",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "inference_mode", "is_inference_mode_enabled",
           "gradcheck", "gradgradcheck", "GradcheckError", "no_grad", "enable_grad",
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


def _gradient_pairs(outputs, grad_outputs):
    outputs = _as_tuple(outputs)
    grads = _as_tuple(grad_outputs)
    if grads is None:
        grads = (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError("got %d tensors and %d gradients" % (len(outputs), len(grads)))
    return outputs, grads


def _differentiated(inputs, fn):
    """inputs as a tuple of Tensors that require grad, with torch's errors."""
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    elif not isinstance(inputs, (tuple, list)):
        raise TypeError("%r object is not iterable" % type(inputs).__name__)
    inputs = tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `%s()` cannot be empty." % fn)
    for x in inputs:
        if not isinstance(x, Tensor):
            raise RuntimeError("all inputs have to be Tensors or GradientEdges, but got %s"
                               % type(x).__name__)
        if not x.requires_grad and fn == "grad":
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    return inputs


_warned_create_graph_cycle = False


def _warn_create_graph_cycle():
    """torch's warning, once per process: .grad with a history refers back to its leaf."""
    global _warned_create_graph_cycle
    if not _warned_create_graph_cycle:
        _warned_create_graph_cycle = True
        warnings.warn("Using backward() with create_graph=True will create a reference cycle "
                      "between the parameter and its gradient which can cause a memory leak. We "
                      "recommend using autograd.grad when creating the graph to avoid this. If "
                      "you have to use this function, make sure to reset the .grad fields of "
                      "your parameters to None after use to break the cycle and avoid the leak.",
                      UserWarning, stacklevel=3)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate into each leaf's .grad the gradient of sum(<tensors[i], grad_tensors[i]>);
    with `inputs`, into theirs only (non-leaf ones included), running only the graph that
    leads to them."""
    tensors, grads = _gradient_pairs(tensors, grad_tensors if grad_tensors is not None
                                     else grad_variables)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        _warn_create_graph_cycle()
    if inputs is None:
        _C._run_backward(tensors, grads, bool(retain_graph), None, True, bool(create_graph))
        return
    inputs = _differentiated(inputs, "backward")
    for x in inputs:
        x.retain_grad()         # as torch: a non-leaf input keeps its gradient in .grad
    _C._run_backward(tensors, grads, bool(retain_graph), inputs, True, bool(create_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of sum(<outputs[i], grad_outputs[i]>) with respect to each of `inputs`,
    as a tuple, without touching any .grad. Only the graph that leads to `inputs` runs."""
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not supported")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs, grads = _gradient_pairs(outputs, grad_outputs)
    for i, out in enumerate(outputs):     # torch checks the outputs first
        if isinstance(out, Tensor) and not out.requires_grad:
            raise RuntimeError("element %d of tensors does not require grad and does not have a "
                               "grad_fn" % i)
    inputs = _differentiated(inputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    captured = _C._run_backward(outputs, grads, bool(retain_graph), inputs, False,
                                bool(create_graph))
    result = []
    for i, (x, g) in enumerate(zip(inputs, captured)):
        if g is not None and create_graph:
            result.append(g)                # a Tensor, with its history
        elif g is not None:
            result.append(_C._from_array(np.array(g, copy=True)))
        elif not allow_unused:
            raise RuntimeError("The differentiated Tensor at index %d appears to not have been "
                               "used in the graph. Set allow_unused=True if this is the desired "
                               "behavior." % i)
        else:
            result.append(_creation.zeros_like(x) if materialize_grads else None)
    return tuple(result)


from autograd_c.autograd import functional  # noqa: E402  (it uses grad, defined above)
