"""torch.nn.utils: gradient clipping and flattening parameters to and from one vector."""
import math

import numpy as np

import autograd_c as _ac
from autograd_c._C import Tensor, _array_of

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _norm_of(a, norm_type):
    """The norm_type vector norm of the numpy array a, in a's dtype."""
    a = np.abs(a.reshape(-1))
    if a.size == 0:
        return a.dtype.type(0)
    if norm_type == math.inf:
        return a.max()
    if norm_type == -math.inf:
        return a.min()
    if norm_type == 0:
        return a.dtype.type(np.count_nonzero(a))
    if norm_type == 1:
        return a.sum()
    if norm_type == 2:
        return np.sqrt((a * a).sum())
    return (a ** a.dtype.type(norm_type)).sum() ** a.dtype.type(1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients of parameters so that their joint norm is at most max_norm.

    Returns the total norm of the gradients (before clipping) as a tensor.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        parameters = list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if len(grads) == 0:
        return _ac.tensor(0.0)
    with _ac.no_grad():
        norms = [_norm_of(_array_of(g), norm_type) for g in grads]
        dtype = np.result_type(*[np.asarray(n).dtype for n in norms])
        total = _norm_of(np.asarray(norms, dtype=dtype), norm_type)
        total_norm = _ac.tensor(float(total), dtype=grads[0].dtype)
        if error_if_nonfinite and not math.isfinite(float(total)):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
        clip_coef = max_norm / (total_norm + 1e-6)
        clip_coef_clamped = clip_coef.clamp(max=1.0)
        for g in grads:
            g.mul_(clip_coef_clamped.to(g.dtype))
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    import warnings
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of parameters into [-clip_value, clip_value], in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    with _ac.no_grad():
        for p in parameters:
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)


def _typename(obj):
    if isinstance(obj, Tensor):
        return "autograd_c." + type(obj).__name__
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", None) else module + "." + name


def _check_param(param):
    param.device    # torch checks the device first: a non-tensor raises AttributeError here


def parameters_to_vector(parameters):
    """Flatten parameters into one 1-D tensor (differentiable)."""
    vec = []
    for param in parameters:
        _check_param(param)
        vec.append(param.view(-1))
    return _ac.cat(vec)


def vector_to_parameters(vec, parameters):
    """Copy slices of the 1-D tensor vec into the data of parameters, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        _check_param(param)
        num = param.numel()
        param.data = vec[pointer:pointer + num].view_as(param).data
        pointer += num
