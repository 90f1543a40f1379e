"""torch.nn.functional for autograd_c, built from autograd_c's differentiable tensor ops.

Every function here composes existing ops (no compiled code of its own), so gradients flow
through the engine as for any other expression.
"""
import math
import warnings

import numpy as np

import autograd_c as _ac
from autograd_c import _C
from autograd_c._C import _from_array, _array_of
from autograd_c._creation import _fill_value
from autograd_c.autograd.function import Function

__all__ = [
    "relu", "leaky_relu", "gelu", "silu", "sigmoid", "tanh", "softmax", "log_softmax",
    "linear", "one_hot", "dropout", "pad", "embedding", "layer_norm",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
    "binary_cross_entropy", "binary_cross_entropy_with_logits",
]


# ---------------------------------------------------------------------------------------------
# argument checks torch's parser and kernels make
# ---------------------------------------------------------------------------------------------

def _scalar_name(dtype):
    return _SCALAR_NAMES[str(dtype).split(".")[-1]]


def _type_name(value):
    """A value's type as torch's argument parser names it (numpy's bool is numpy.bool)."""
    if isinstance(value, _ac.Tensor):
        return "Tensor"
    t = type(value)
    return "numpy." + t.__name__ if t.__module__ == "numpy" else t.__name__


def _check_tensor(value, fn, name="input", position=1):
    """The parser's check of a Tensor argument, for the functions written here in Python that
    torch implements in C++ (torch's own Python-level ones fail on an attribute instead)."""
    if not isinstance(value, _ac.Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be Tensor, "
                        f"not {_type_name(value)}")


def _check_bool(value, fn, name, position):
    if type(value) is not bool:
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be bool, "
                        f"not {_type_name(value)}")


def _check_int(value, fn, name, position):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be int, "
                        f"not {_type_name(value)}")


def _check_floating(input, kernel):
    if not input.is_floating_point():
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_scalar_name(input.dtype)}'")


def _check_castable(result_dtype, out_dtype):
    """torch's kernels write into an output of a fixed dtype; a float result cannot go into an
    integer (or bool) one."""
    if _category(result_dtype) > _category(out_dtype):
        raise RuntimeError(f"result type {_scalar_name(result_dtype)} can't be cast to the "
                           f"desired output type {_scalar_name(out_dtype)}")


def _category(dtype):
    return 2 if dtype.is_floating_point else (0 if dtype is _ac.bool else 1)


# ---------------------------------------------------------------------------------------------
# normalisation
# ---------------------------------------------------------------------------------------------

def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    _check_tensor(input, "layer_norm")
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(d) for d in normalized_shape)
    n = len(normalized_shape)
    shape = tuple(input.shape)
    if n == 0 or input.dim() < n or shape[input.dim() - n:] != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(d) for d in normalized_shape)}], but got input of size"
            f"{list(input.shape)}")
    _check_layer_norm_dtypes(input, weight, bias)
    dims = tuple(range(input.dim() - n, input.dim()))
    mean = input.mean(dims, keepdim=True)
    centered = input - mean
    var = (centered * centered).mean(dims, keepdim=True)
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _check_layer_norm_dtypes(input, weight, bias):
    """torch's CPU kernel takes parameters of the input's dtype only (its one mixed case, float32
    parameters for a half-precision input, has no counterpart here)."""
    _check_floating(input, "LayerNormKernelImpl")
    params = [p for p in (weight, bias) if p is not None]
    if params and params[0].dtype != input.dtype:
        if params[0].dtype is _ac.float32:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
    for p in params[1:]:
        if p.dtype != input.dtype:
            raise RuntimeError(f"expected scalar type {_scalar_name(input.dtype)} but found "
                               f"{_scalar_name(p.dtype)}")


# ---------------------------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------------------------

def _legacy_reduction(size_average, reduce, stacklevel=3):
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
        stacklevel=stacklevel)
    return ret


def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduction_of(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, stacklevel=4)
    _check_reduction(reduction)
    return reduction


# ---------------------------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------------------------

def relu(input, inplace=False):
    _check_tensor(input, "relu_" if inplace else "relu")
    if inplace:
        return input.relu_()
    return input.relu()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check_tensor(input, "leaky_relu_" if inplace else "leaky_relu")
    _check_floating(input, "leaky_relu_cpu")
    _fill_value(negative_slope, input.dtype)        # the range check torch makes of the slope
    if inplace:
        src = input.clone()
        return input.copy_(_ac.where(src > 0, src, src * negative_slope))
    return _ac.where(input > 0, input, input * negative_slope)


def _erfc_np(a):
    return np.asarray(np.frompyfunc(math.erfc, 1, 1)(a), dtype=np.float64)


def gelu(input, approximate="none"):
    _check_tensor(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _check_floating(input, "GeluKernelImpl")
    if approximate == "tanh":
        k = math.sqrt(2.0 / math.pi)
        inner = k * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1.0 + inner.tanh())
    # Exact (erf-based) GELU. autograd_c has no erf op, so the value x * Phi(x) and its
    # derivative Phi(x) + x * phi(x) are computed with math.erfc, and combined as
    #     value + derivative * (x - x.detach())
    # whose value is exactly x * Phi(x) and whose gradient is exactly the GELU derivative.
    x = _array_of(input.detach())
    with np.errstate(invalid="ignore", over="ignore"):
        return _gelu_exact(input, x)


def _gelu_exact(input, x):
    x64 = x.astype(np.float64)
    cdf = 0.5 * _erfc_np(-x64 / math.sqrt(2.0))      # erfc keeps the negative tail accurate
    value = _from_array(np.array(x64 * cdf, dtype=x.dtype, order="C"))
    if not (input.requires_grad and _ac.is_grad_enabled()):
        return value
    pdf = np.exp(-0.5 * x64 * x64) / math.sqrt(2.0 * math.pi)
    deriv = _from_array(np.array(cdf + x64 * pdf, dtype=x.dtype, order="C"))
    delta = input - input.detach()       # exactly zero, gradient one
    if not np.isfinite(x).all():
        delta = _ac.where(input.isfinite(), delta, _ac.zeros_like(delta))
        deriv = _from_array(np.array(np.nan_to_num(_array_of(deriv), nan=0.0), order="C"))
    return value + deriv * delta


def silu(input, inplace=False):
    _check_tensor(input, "silu_" if inplace else "silu")
    _check_floating(input, "silu_cpu")
    if inplace:
        # compute from a copy so that the write into input does not invalidate saved tensors
        src = input.clone()
        return input.copy_(src * src.sigmoid())
    return input * input.sigmoid()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def _check_dim(dim, fn):
    if isinstance(dim, bool):
        raise TypeError(f"{fn}(): argument 'dim' (position 1) must be int, not bool")


def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    if ndim == 0 or ndim == 1 or ndim == 3:
        return 0
    return 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    _check_dim(dim, "softmax")
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    _check_dim(dim, "log_softmax")
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(dim)


def linear(input, weight, bias=None):
    if not (isinstance(input, _ac.Tensor) and isinstance(weight, _ac.Tensor)):
        return _C.linear(input, weight, bias)           # for its argument checks
    if input.dim() == 0 or weight.dim() == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{input.dim()}D and {weight.dim()}D")
    # torch multiplies by weight.t(), which refuses more than 2 dims before any shape check
    if weight.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{weight.dim()}D")
    return _C.linear(input, weight, bias)


# Convolution, pooling and batch normalization are compiled ops (autograd_c/_ops_nn.pxi).
conv1d = _C.conv1d
conv2d = _C.conv2d
avg_pool2d = _C.avg_pool2d
batch_norm = _C.batch_norm


def adaptive_avg_pool2d(input, output_size):
    return _C.adaptive_avg_pool2d(input, _sizes_with_default(output_size, input.size()))


def _sizes_with_default(out_size, defaults):
    """output_size with each None replaced by the input's size there, as torch resolves it
    (before any check on the input: a 1-D input is a ValueError here)."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size):])]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _C.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode,
                         return_indices)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _C.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def one_hot(tensor, num_classes=-1):
    _check_tensor(tensor, "one_hot")
    _check_int(num_classes, "one_hot", "num_classes", 2)
    if tensor.dtype != _ac.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if int(tensor.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = int(tensor.max()) + 1
        elif int(tensor.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    classes = _ac.arange(num_classes, dtype=_ac.int64)
    return (tensor.unsqueeze(-1) == classes).long()


def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _check_tensor(input, "dropout_" if inplace else "dropout")
    if p != p:          # nan passes the Python check above and is refused by the kernel's
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    _check_bool(training, "dropout", "train", 3)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        scale = _ac.zeros_like(input)
    else:
        keep = _ac.rand(input.shape, dtype=input.dtype) >= p
        scale = keep.to(input.dtype) * (1.0 / (1.0 - p))
    if inplace:
        return input.mul_(scale)
    return input * scale


def pad(input, pad, mode="constant", value=None):
    _check_tensor(input, "pad")
    if mode != "constant":
        raise NotImplementedError(f"pad: mode '{mode}' is not supported by autograd_c (only 'constant')")
    pad = list(pad)
    if len(pad) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got padding length %d and input of dimension %d" % (len(pad), input.dim()))
    if value is None:
        value = 0
    _fill_value(value, input.dtype)                 # torch's range check of the fill value
    out = input
    for i in range(len(pad) // 2):
        dim = input.dim() - 1 - i
        left, right = int(pad[2 * i]), int(pad[2 * i + 1])
        size = out.shape[dim]
        start = -left if left < 0 else 0
        stop = size + right if right < 0 else size
        if stop - start < 0 or (stop - start + max(left, 0) + max(right, 0)) < 0:
            raise RuntimeError(
                "The input size %d, plus negative padding %d and %d resulted in a negative "
                "output size, which is invalid. Check dimension %d of your input."
                % (size, left, right, dim))
        if start != 0 or stop != size:
            out = out.narrow(dim, start, stop - start)
        pieces = []
        if left > 0:
            shape = list(out.shape)
            shape[dim] = left
            pieces.append(_ac.full(shape, value, dtype=out.dtype))
        pieces.append(out)
        if right > 0:
            shape = list(out.shape)
            shape[dim] = right
            pieces.append(_ac.full(shape, value, dtype=out.dtype))
        if len(pieces) > 1:
            out = _ac.cat(pieces, dim)
    if out is input:
        out = input.clone()
    return out


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    _check_tensor(weight, "embedding", "weight", 1)        # torch's op takes (weight, indices)
    _check_tensor(input, "embedding", "indices", 2)
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    if input.dtype not in (_ac.int64, _ac.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {_ac.__name__}.{input.dtype.legacy_name} instead "
            "(while checking arguments for embedding)")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(
            "embedding: max_norm, scale_grad_by_freq and sparse are not supported by autograd_c")
    if padding_idx is not None:
        num = weight.shape[0]
        if padding_idx > 0:
            if padding_idx >= num:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -num:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = num + padding_idx
    out = weight[input]
    if padding_idx is not None and out.requires_grad:
        mask = (input == padding_idx).unsqueeze(-1)
        out = _ac.where(mask, out.detach(), out)
    return out


# ---------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------

def _warn_size(input, target):
    if target.size() != input.size():
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def _broadcast_dtype(input, target):
    """Floating input and target in one dtype: torch broadcasts them before it computes these
    losses, so that a 0-d operand's dtype weighs as much as the other's."""
    if not (input.is_floating_point() and target.is_floating_point()):
        return input, target
    dt = _ac.promote_types(input.dtype, target.dtype)
    return input.to(dt), target.to(dt)


def _weighted(loss, input, weight, reduction, mean_by_weight):
    """torch's Python path for losses given a weight (mse_loss, l1_loss, huber_loss)."""
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / weight.sum() if mean_by_weight else loss.mean()
    raise ValueError(
        f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if not (input.is_floating_point() or target.is_floating_point()):
        raise NotImplementedError(
            f"\"mse_cpu\" not implemented for '{_scalar_name(_ac.result_type(input, target))}'")
    input, target = _broadcast_dtype(input, target)
    diff = input - target
    if weight is not None:
        return _weighted(diff * diff, input, weight, reduction, True)
    _check_reduction(reduction)
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    input, target = _broadcast_dtype(input, target)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, input, weight, reduction, True)
    _check_reduction(reduction)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _warn_size(input, target)
    reduction = _reduction_of(size_average, reduce, reduction)
    if not beta >= 0:       # nan too
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if not (input.is_floating_point() or target.is_floating_point()):
        raise NotImplementedError(
            f"\"smooth_l1_cpu\" not implemented for '{_scalar_name(_ac.result_type(input, target))}'")
    input, target = _broadcast_dtype(input, target)
    ad = (input - target).abs()
    if beta == 0.0:
        return _reduce(ad, reduction)
    # the quadratic branch of only the differences below beta (and nan, as torch's kernel):
    # an infinite one would send 0 * inf = nan back through the branch where() does not take
    large = ad >= beta
    ad_small = _ac.where(large, _ac.zeros_like(ad), ad)
    loss = _ac.where(large, ad - 0.5 * beta, 0.5 * ad_small * ad_small / beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _warn_size(input, target)
    if weight is None:
        _check_reduction(reduction)
    if not delta > 0:       # nan too
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    # torch's kernel computes in the promoted type and writes an output of the input's dtype
    _check_castable(_ac.result_type(input, target), input.dtype)
    _check_floating(input, "huber_cpu")
    ad = (input - target).abs()
    loss = _ac.where(ad < delta, 0.5 * ad * ad, delta * (ad - 0.5 * delta)).to(input.dtype)
    if weight is not None:
        return _weighted(loss, input, weight, reduction, False)
    return _reduce(loss, reduction)


_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int32": "Int",
                 "int16": "Short", "int8": "Char", "bool": "Bool", "uint8": "Byte", "int64": "Long"}


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    reduction = _reduction_of(size_average, reduce, reduction)
    _check_tensor(input, "nll_loss_nd")
    _check_tensor(target, "nll_loss_nd", "target", 2)
    loss = _C.nll_loss(input, target, weight, ignore_index, reduction)
    # torch's kernel for inputs of 3 or more dims reads the target as int64 only, after the
    # shape checks made above; it reduces an empty target without reading it
    if (input.dim() > 2 and target.dtype is _ac.uint8 and
            (target.numel() > 0 or reduction == "none")):
        raise RuntimeError("expected scalar type Long but found Byte")
    return loss


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    reduction = _reduction_of(size_average, reduce, reduction)
    _check_tensor(input, "cross_entropy_loss")
    _check_tensor(target, "cross_entropy_loss", "target", 2)
    _check_int(ignore_index, "cross_entropy_loss", "ignore_index", 5)
    if _is_probability_target(input, target) and ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if not (0.0 <= label_smoothing <= 1.0):
        raise RuntimeError(
            f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    if weight is not None and weight.numel() != n_classes:
        raise RuntimeError(
            f"weight tensor should be defined either for all {n_classes} classes or no classes "
            f"but got weight tensor of shape: {list(weight.shape)}")
    logp = input.log_softmax(class_dim)
    weight_b = None
    if weight is not None:
        shape = [1] * input.dim()
        shape[class_dim] = n_classes
        weight_b = weight.reshape(shape)

    if _is_probability_target(input, target):
        # class probabilities
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        prod = logp * target
        if weight_b is not None:
            prod = prod * weight_b
        if reduction == "none":
            return -prod.sum(class_dim)
        if reduction == "sum":
            return -prod.sum()
        if input.numel() == 0:
            return -prod.sum() * float("nan")
        return -prod.sum() / (input.numel() / n_classes)

    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return nll
    if weight_b is not None:
        smooth = -(logp * weight_b).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    ignore_mask = target == ignore_index
    smooth = smooth.masked_fill(ignore_mask, 0.0)
    if reduction == "mean":
        if weight is not None:
            kept = target[ignore_mask.logical_not()].reshape(-1).long()
            ret = smooth.sum() / weight[kept].sum()
        else:
            ret = smooth.sum() / ignore_mask.logical_not().sum().to(smooth.dtype)
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return (1 - label_smoothing) * nll + ret * (label_smoothing / n_classes)


def _is_probability_target(input, target):
    return target.is_floating_point() and tuple(target.shape) == tuple(input.shape)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _reduction_of(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}) is deprecated. Please ensure they have the same size.")
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {_scalar_name(target.dtype)} but expected "
                           f"{_scalar_name(input.dtype)}")
    _check_floating(input, "binary_cross_entropy")
    if input.numel() > 0 and bool(((input < 0) | (input > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = _BinaryCrossEntropy.apply(input, target)
    if weight is not None:      # torch's kernel takes the weight in the input's dtype
        loss = loss * weight.to(input.dtype)
    return _reduce(loss, reduction)


_BCE_EPSILON = float(np.float32(1e-12))     # torch's constant is a float, in every dtype


class _BinaryCrossEntropy(Function):
    """The unreduced, unweighted loss with torch's gradients, which are not those of its
    formula: the logs are clamped at -100 in forward only, and the input's gradient divides by
    x * (1 - x) held at 1e-12 or above, so that it stays finite at 0 and 1."""

    @staticmethod
    def forward(ctx, input, target):
        ctx.save_for_backward(input, target)
        log_x = input.log().clamp(min=-100)
        log_1mx = (1 - input).log().clamp(min=-100)
        return -(target * log_x + (1 - target) * log_1mx)

    @staticmethod
    def backward(ctx, grad):
        input, target = ctx.saved_tensors
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_input = grad * (input - target) / ((1 - input) * input).clamp(min=_BCE_EPSILON)
        if ctx.needs_input_grad[1]:
            grad_target = grad * -(input / (1 - input)).log()       # -logit, unclamped
        return grad_input, grad_target


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    reduction = _reduction_of(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError(
            f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    # torch's kernel writes an output of the target's dtype, whatever the other operands' are
    _check_castable(_ac.result_type(input, target), target.dtype)
    _check_floating(input, "log_sigmoid_cpu")
    # log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)), stable for any x
    log_sig = _ac.minimum(input, _ac.zeros_like(input)) - (1 + (-input.abs()).exp()).log()
    if pos_weight is not None:
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input - log_weight * log_sig
    else:
        loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.to(target.dtype), reduction)
