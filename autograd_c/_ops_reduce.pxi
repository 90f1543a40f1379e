# Reductions and the softmax family. A reduction over `dims` gives a gradient of the reduced
# shape; expand_grad() broadcasts it back over the reduced dims into a fresh contiguous array.

from collections import namedtuple


class _ReturnType(tuple):
    """torch.return_types.*: a (values, indices) pair that prints as torch prints it."""
    _fields = ("values", "indices")

    def __new__(cls, values, indices):
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return "%s.return_types.%s(\nvalues=%r,\nindices=%r)" % (MODULE_NAME, self._name,
                                                                   self[0], self[1])


def _return_type(name):
    return type(name, (_ReturnType,), {"_name": name, "__slots__": ()})


return_types_max = _return_type("max")
return_types_min = _return_type("min")
return_types_sort = _return_type("sort")
return_types_topk = _return_type("topk")


cdef inline bint no_dims(object dim):
    return isinstance(dim, (tuple, list)) and len(dim) == 0


cdef tuple reduce_axes(object dim, int ndim):
    """Axes to reduce: all of them for None or an empty list, as torch does."""
    if dim is None or no_dims(dim):
        return tuple(range(ndim))
    axes = normalize_dims(dim, ndim)
    return axes if ndim > 0 else ()     # a 0-d tensor accepts dim 0 or -1 and stays as it is


cdef tuple keepdim_shape(tuple shape, tuple axes):
    return tuple([1 if i in axes else s for i, s in enumerate(shape)])


cdef cnp.ndarray expand_grad(cnp.ndarray g, tuple axes, tuple shape, bint keepdim):
    """Broadcast the gradient of a reduction back to the input's shape, as a fresh array."""
    cdef cnp.ndarray out
    if not keepdim:
        g = g.reshape(keepdim_shape(shape, axes))
    out = np.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


cdef class SumBackward0(Node):
    """Sum of all elements: the gradient is the output's gradient everywhere in the input's shape.
    It keeps the input's shape and dtype, not its values."""
    cdef int nd
    cdef int typenum
    cdef cnp.npy_intp dims[64]          # NPY_MAXDIMS

    cdef int apply(self, cnp.ndarray g) except -1:
        cdef cnp.ndarray out = cnp.PyArray_EMPTY(self.nd, self.dims, self.typenum, 0)
        cdef int k = kernel_code(out)
        if k >= 0 and cnp.PyArray_TYPE(g) == self.typenum:
            ag_fill(k, cnp.PyArray_DATA(out), float(g), cnp.PyArray_SIZE(out))
        else:
            out[...] = g
        self.out0 = out
        return 0


cdef inline cnp.ndarray float_input(Tensor x, str fn):
    if dtype_of_array(x.array).category != CAT_FLOAT:
        raise RuntimeError("%s(): could not infer output dtype. Input dtype must be either a "
                           "floating point or complex dtype. Got: %s"
                           % (fn, dtype_of_array(x.array).legacy_name[:-6]))
    return x.array


cdef object cast_for(object dt, cnp.ndarray a):
    if dt is None:
        return a
    return a.astype(to_dtype(dt).numpy_dtype)


cdef check_result_dtype(Tensor x, object dt):
    """A reduction asked for an integer or bool result of an input that requires grad: torch
    refuses it, as such a result cannot carry a gradient."""
    if dt is not None and not to_dtype(dt).is_floating_point and wants_grad(x):
        raise RuntimeError("Autograd not support dtype: %s" % to_dtype(dt).legacy_name[:-6])


cdef cnp.ndarray kept_dtype(object out, cnp.ndarray a):
    """numpy widens integer sums and products; torch keeps the dtype (wrapping around)."""
    return as_array(out).astype(a.dtype, copy=False)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    cdef Tensor x = as_tensor_arg(input, "sum")
    cdef cnp.ndarray a = cast_for(dtype, x.array), out
    cdef SumBackward0 node
    cdef Tensor result
    cdef int i
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    check_bool_arg(keepdim, "sum", "keepdim")
    if dtype is not None and cnp.PyArray_TYPE(a) == cnp.NPY_BOOL:
        # a bool sum is an or, over every dim for an empty dim list (unlike torch's any)
        result = all_any(np.any, new_tensor(a), None if no_dims(dim) else dim, keepdim, "sum")
        check_result_dtype(x, dtype)
        return result
    cdef int k
    cdef int nd = cnp.PyArray_NDIM(a)
    if dtype is None and dtype_of_array(a).category != CAT_FLOAT:
        a = a.astype(np.int64)
    if dim is None and not keepdim:         # keepdim keeps every dim, as size 1: SumBackward1
        check_result_dtype(x, dtype)
        k = kernel_code(a)
        if k >= 0 and cnp.PyArray_SIZE(a) <= 4096:
            out = cnp.PyArray_EMPTY(0, NULL, cnp.PyArray_TYPE(a), 0)
            out[()] = ag_sum_all(k, cnp.PyArray_DATA(a), cnp.PyArray_SIZE(a))
        else:
            out = kept_dtype(a.sum(), a)
        result = new_tensor(out)
        if wants_grad(x):
            node = SumBackward0.__new__(SumBackward0)
            node.num_inputs = 1
            node.next0 = edge_to(x)
            node.nd = cnp.PyArray_NDIM(x.array)
            node.typenum = cnp.PyArray_TYPE(x.array)
            for i in range(node.nd):
                node.dims[i] = cnp.PyArray_DIMS(x.array)[i]
            attach(result, node)
        return result
    axes = reduce_axes(dim, nd)
    check_result_dtype(x, dtype)
    out = kept_dtype(a.sum(axis=axes, keepdims=bool(keepdim)), a)
    return record(new_tensor(out), "SumBackward1", _sum_rule,
                  (axes, shp(x.array), bool(keepdim), x.array.dtype), (x,))


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    cdef Tensor x = as_tensor_arg(input, "mean")
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    check_bool_arg(keepdim, "mean", "keepdim")
    if dtype is not None and not to_dtype(dtype).is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Optional dtype must be either a "
                           "floating point or complex dtype. Got: %s"
                           % to_dtype(dtype).legacy_name[:-6])
    cdef cnp.ndarray a = cast_for(dtype, x.array) if dtype is not None else float_input(x, "mean")
    cdef int k
    if dim is None and not keepdim:         # keepdim keeps every dim, as size 1: MeanBackward1
        k = kernel_code(a)
        if k >= 0 and 0 < cnp.PyArray_SIZE(a) <= 4096:
            out = cnp.PyArray_EMPTY(0, NULL, cnp.PyArray_TYPE(a), 0)
            out[()] = ag_sum_all(k, cnp.PyArray_DATA(a), cnp.PyArray_SIZE(a)) / cnp.PyArray_SIZE(a)
        else:
            with np.errstate(all="ignore"):
                out = as_array(np.mean(a)) if a.size else as_array(a.dtype.type(np.nan))
        return record(new_tensor(out), "MeanBackward0", _mean_rule,
                      (tuple(range(a.ndim)), shp(x.array), False, x.array.dtype, a.size), (x,))
    axes = reduce_axes(dim, a.ndim)
    count = 1
    for ax in axes:
        count *= shp(a)[ax]
    with np.errstate(all="ignore"):
        out = as_array(a.sum(axis=axes, keepdims=bool(keepdim)) / a.dtype.type(count) if count else
                       np.full(keepdim_shape(shp(a), axes) if keepdim else
                               tuple([s for i, s in enumerate(shp(a)) if i not in axes]),
                               np.nan, dtype=a.dtype))
    return record(new_tensor(as_array(out).astype(a.dtype, copy=False)), "MeanBackward1", _mean_rule,
                  (axes, shp(x.array), bool(keepdim), x.array.dtype, count), (x,))


def prod(input, dim=None, keepdim=False, *, dtype=None, keepdims=None):
    """The product; its gradient is torch's: result / input where no input is 0, and products of
    the other elements (computed without division) where one is."""
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "prod", "keepdim")
    cdef Tensor x = as_tensor_arg(input, "prod")
    cdef cnp.ndarray a = cast_for(dtype, x.array)
    if dtype is not None and cnp.PyArray_TYPE(a) == cnp.NPY_BOOL:
        result = all_any(np.all, new_tensor(a), dim, keepdim, "prod")   # a bool product is an and
        check_result_dtype(x, dtype)
        return result
    if dtype is None and dtype_of_array(a).category != CAT_FLOAT:
        a = a.astype(np.int64)
    if dim is None:
        no_dim_to_keep(keepdim, "prod")
        check_result_dtype(x, dtype)
        out = kept_dtype(np.prod(a), a)
        result = record(new_tensor(out), "ProdBackward0", _prod_rule,
                        (a.reshape(-1), None, shp(x.array), False, x.array.dtype), (x,), True)
    else:
        d = normalize_dim(dim, a.ndim)
        check_result_dtype(x, dtype)
        out = kept_dtype(np.prod(a, axis=d, keepdims=bool(keepdim)), a)
        result = record(new_tensor(out), "ProdBackward1", _prod_rule,
                        (a, d, shp(x.array), bool(keepdim), x.array.dtype), (x,), True)
    save_checked(result, 0, x, 0)
    return result


cdef no_dim_to_keep(object keepdim, str fn):
    """torch's prod/max/min take keepdim only with an int dim: keepdim with none would be
    ignored, and the result's shape would not be the one asked for."""
    if keepdim:
        raise TypeError("%s(): argument 'dim' must be int, not NoneType" % fn)


cdef Tensor empty_reduction_error(Tensor x, str fn):
    raise RuntimeError("%s(): Expected reduction dim to be specified for input.numel() == 0. "
                       "Specify the reduction dim with the 'dim' argument." % fn)


def max(input, dim=None, keepdim=False, *, out=None, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "max", "keepdim")
    return extreme(input, dim, keepdim, True)


def min(input, dim=None, keepdim=False, *, out=None, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "min", "keepdim")
    return extreme(input, dim, keepdim, False)


cdef object extreme(object input, object dim, bint keepdim, bint is_max):
    cdef Tensor x = as_tensor_arg(input, "max" if is_max else "min")
    name = "Max" if is_max else "Min"
    if isinstance(dim, Tensor):
        return maximum(x, dim) if is_max else minimum(x, dim)
    a = x.array
    if dim is None:
        no_dim_to_keep(keepdim, name.lower())
        if a.size == 0:
            empty_reduction_error(x, name.lower())
        out = as_array(a.max() if is_max else a.min())
        result = record(new_tensor(out), name + "Backward1", _max_all_rule, (a, out), (x,), True)
        save_checked(result, 0, x, 0)
        return result
    d = normalize_dim(dim, a.ndim)
    cls = return_types_max if is_max else return_types_min
    if a.ndim == 0:
        values = record(new_tensor(a.copy()), name + "Backward0", _identity_rule, None, (x,))
        return cls(values, new_tensor(np.zeros((), dtype=np.int64)))
    if shp(a)[d] == 0:
        raise IndexError("%s(): Expected reduction dim %d to have non-zero size." % (name.lower(), d))
    arr = a
    idx = np.argmax(arr, axis=d, keepdims=True) if is_max else np.argmin(arr, axis=d, keepdims=True)
    if a.dtype.kind == "f":
        # numpy's argmax ignores NaN ordering differently; torch reports the first NaN
        nan_first = np.argmax(np.isnan(arr), axis=d, keepdims=True)
        has_nan = np.take_along_axis(np.isnan(arr), nan_first, axis=d)
        idx = np.where(has_nan, nan_first, idx)
    vals = np.take_along_axis(arr, idx, axis=d)
    kept_idx = idx
    if not keepdim:
        vals = np.squeeze(vals, axis=d)
        idx = np.squeeze(idx, axis=d)
    values = record(new_tensor(as_array(vals)), name + "Backward0", _max_dim_rule,
                    (kept_idx, d, shp(a), bool(keepdim)), (x,))
    return cls(values, new_tensor(as_array(idx.astype(np.int64))))


def amax(input, dim=(), keepdim=False, *, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "amax", "keepdim")
    return amax_amin(input, dim, keepdim, True)


def amin(input, dim=(), keepdim=False, *, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "amin", "keepdim")
    return amax_amin(input, dim, keepdim, False)


cdef Tensor amax_amin(object input, object dim, bint keepdim, bint is_max):
    cdef Tensor x = as_tensor_arg(input, "amax" if is_max else "amin")
    a = x.array
    if a.size == 0 and (dim is None or dim == ()):
        empty_reduction_error(x, "amax" if is_max else "amin")
    axes = reduce_axes(dim, a.ndim)
    if a.size == 0 and not all_nonzero(shp(a), axes):
        raise IndexError("%s(): Expected reduction dim %s to have non-zero size."
                         % ("amax" if is_max else "amin", first_empty(shp(a), axes)))
    out = as_array(a.max(axis=axes, keepdims=keepdim) if is_max else a.min(axis=axes, keepdims=keepdim))
    result = record(new_tensor(out), "AmaxBackward0" if is_max else "AminBackward0", _amax_rule,
                    (a, out, axes, keepdim), (x,), True)
    save_checked(result, 0, x, 0)
    return result


cdef int first_empty(tuple shape, tuple axes):
    for ax in axes:
        if shape[ax] == 0:
            return ax
    return 0


cdef bint all_nonzero(tuple shape, tuple axes):
    for ax in axes:
        if shape[ax] == 0:
            return False
    return True


def argmax(input, dim=None, keepdim=False, *, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "argmax", "keepdim")
    return arg_extreme(input, dim, keepdim, True)


def argmin(input, dim=None, keepdim=False, *, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "argmin", "keepdim")
    return arg_extreme(input, dim, keepdim, False)


cdef Tensor arg_extreme(object input, object dim, bint keepdim, bint is_max):
    cdef Tensor x = as_tensor_arg(input, "argmax" if is_max else "argmin")
    a = x.array
    fn = np.argmax if is_max else np.argmin
    name = "argmax" if is_max else "argmin"
    if dtype_of_array(a) is BOOL:
        raise RuntimeError("%s(): does not support bool input" % name)
    if a.size == 0 and dim is None:
        raise IndexError("%s(): Expected reduction dim to be specified for input.numel() == 0."
                         % name)
    if a.size == 0:
        d = normalize_dim(dim, a.ndim)
        if shp(a)[d] == 0:
            raise IndexError("%s(): Expected reduction dim %d to have non-zero size." % (name, d))
        out_shape = keepdim_shape(shp(a), (d,)) if keepdim else shp(a)[:d] + shp(a)[d + 1:]
        return new_tensor(np.zeros(out_shape, dtype=np.int64))
    if dim is None:
        out = np.asarray(fn(a.reshape(-1)), dtype=np.int64)
        if keepdim:
            out = out.reshape((1,) * a.ndim)
        return new_tensor(as_array(out))
    d = normalize_dim(dim, a.ndim)
    arr = a if a.ndim else a.reshape(1)
    out = np.asarray(fn(arr, axis=d, keepdims=bool(keepdim)), dtype=np.int64)
    return new_tensor(as_array(out.reshape(()) if not a.ndim else out))


def all(input, dim=None, keepdim=False, *, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "all", "keepdim")
    return all_any(np.all, input, dim, keepdim, "all")


def any(input, dim=None, keepdim=False, *, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "any", "keepdim")
    return all_any(np.any, input, dim, keepdim, "any")


cdef Tensor all_any(object reduce, object input, object dim, bint keepdim, str fn):
    """Bool results, except that torch keeps uint8 for a uint8 input."""
    cdef Tensor x = as_tensor_arg(input, fn)
    # unlike sum's and mean's, all's and any's empty dim list reduces over no dim
    axes = None if dim is None else () if no_dims(dim) else reduce_axes(dim, x.array.ndim)
    out = as_array(reduce(x.array, axis=axes, keepdims=keepdim))
    if x.array.dtype == np.uint8:
        out = out.astype(np.uint8)
    return new_tensor(out)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "var", "keepdim")
    return variance(input, dim, unbiased, keepdim, correction, False)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "std", "keepdim")
    return variance(input, dim, unbiased, keepdim, correction, True)


cdef Tensor variance(object input, object dim, object unbiased, bint keepdim, object correction,
                     bint take_sqrt):
    cdef Tensor x = as_tensor_arg(input, "std" if take_sqrt else "var")
    fn = "std" if take_sqrt else "var"
    if unbiased is not None and type(unbiased) is not bool:
        check_bool_arg(unbiased, fn, "unbiased")
    a = float_input(x, fn)
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = reduce_axes(dim, a.ndim)
    count = 1
    for ax in axes:
        count *= shp(a)[ax]
    with np.errstate(all="ignore"):
        centered = a - a.mean(axis=axes, keepdims=True) if count else a
        ss = (centered * centered).sum(axis=axes, keepdims=keepdim)
        out = ss / a.dtype.type(count - correction) if count - correction > 0 else ss * a.dtype.type(np.inf if count else np.nan)
        if count - correction <= 0:
            warnings.warn("%s(): degrees of freedom is <= 0. Correction should be strictly less "
                          "than the reduction factor (input numel divided by output numel)." % fn,
                          UserWarning, stacklevel=3)
            out = np.where(ss == 0, np.nan, out) if count else out
        if take_sqrt:
            out = np.sqrt(out)
    out = as_array(out).astype(a.dtype, copy=False)
    result = record(new_tensor(out), "StdBackward0" if take_sqrt else "VarBackward0", _var_rule,
                    (centered, out, axes, keepdim, count - correction, take_sqrt), (x,), True)
    save_checked(result, 0, x, 0)
    return result


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, *, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "linalg_vector_norm", "keepdim")
    cdef Tensor x = as_tensor_arg(input, "norm")
    a = x.array
    if dtype_of_array(a).category != CAT_FLOAT:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           "input. Got %s" % dtype_of_array(a).legacy_name[:-6])
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise RuntimeError("norm(): p=%r is not supported; use a number, 'fro' or inf" % p)
    axes = reduce_axes(dim, a.ndim)
    absx = np.abs(a)
    with np.errstate(all="ignore"):
        if p == np.inf:
            out = absx.max(axis=axes, keepdims=keepdim) if a.size else np.zeros(())
        elif p == -np.inf:
            out = absx.min(axis=axes, keepdims=keepdim)
        elif p == 0:
            out = (a != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
        elif p == 1:
            out = absx.sum(axis=axes, keepdims=keepdim)
        elif p == 2:
            out = np.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
        else:
            out = np.power(np.power(absx, p).sum(axis=axes, keepdims=keepdim), 1.0 / p)
    out = as_array(out).astype(a.dtype, copy=False)
    if dtype is not None:
        out = out.astype(to_dtype(dtype).numpy_dtype)
    result = record(new_tensor(out), "LinalgVectorNormBackward0", _norm_rule,
                    (a, out, p, axes, keepdim), (x,), True)
    save_checked(result, 0, x, 0)
    return result


def logsumexp(input, dim, keepdim=False, *, keepdims=None):
    keepdim = keepdim if keepdims is None else keepdims
    check_bool_arg(keepdim, "logsumexp", "keepdim")
    cdef Tensor x = as_tensor_arg(input, "logsumexp")
    a = x.array
    if dtype_of_array(a).category != CAT_FLOAT:
        a = a.astype(default_float.numpy_dtype)
    axes = reduce_axes(dim, a.ndim)
    with np.errstate(all="ignore"):
        m = a.max(axis=axes, keepdims=True) if a.size else np.zeros(keepdim_shape(a.shape, axes), a.dtype)
        m = np.where(np.isfinite(m), m, 0)
        out = np.log(np.exp(a - m).sum(axis=axes, keepdims=True)) + m
    out_kept = as_array(out).astype(a.dtype, copy=False)
    out = out_kept if keepdim else out_kept.reshape([s for i, s in enumerate(a.shape) if i not in axes])
    result = record(new_tensor(out), "LogsumexpBackward0", _logsumexp_rule,
                    (a, out_kept, axes, keepdim), (x,), True)
    save_checked(result, 0, x, 0)
    return result


cdef int softmax_dim(object dim, int ndim, str fn) except -100:
    if dim is None:
        # torch.softmax takes no implicit dim (nn.functional's legacy choice lives there)
        raise TypeError("%s() missing required argument 'dim'" % fn)
    return normalize_dim(dim, ndim)


def softmax(input, dim, dtype=None):
    cdef Tensor x = as_tensor_arg(input, "softmax")
    a = cast_for(dtype, x.array)
    d = softmax_dim(dim, a.ndim, "softmax")
    if dtype_of_array(a).category != CAT_FLOAT:
        if a.size == 0:
            return new_tensor(a.copy())
        raise NotImplementedError("\"softmax_lastdim_kernel_impl\" not implemented for '%s'"
                                  % dtype_of_array(a).legacy_name[:-6])
    arr = a if a.ndim else a.reshape(1)
    with np.errstate(all="ignore"):
        e = np.exp(arr - arr.max(axis=d, keepdims=True)) if arr.size else arr.copy()
        y = e / e.sum(axis=d, keepdims=True)
    y = as_array(y.reshape(a.shape))
    result = record(new_tensor(y), "SoftmaxBackward0", _softmax_rule, (y, d if a.ndim else None, x.array.dtype), (x,), True)
    save_checked(result, 0, result, SAVED_OUTPUT)
    return result


def log_softmax(input, dim, dtype=None):
    cdef Tensor x = as_tensor_arg(input, "log_softmax")
    a = cast_for(dtype, x.array)
    d = softmax_dim(dim, a.ndim, "log_softmax")
    if dtype_of_array(a).category != CAT_FLOAT:
        if a.size == 0:
            return new_tensor(a.copy())
        raise NotImplementedError("\"log_softmax_lastdim_kernel_impl\" not implemented for '%s'"
                                  % dtype_of_array(a).legacy_name[:-6])
    arr = a if a.ndim else a.reshape(1)
    with np.errstate(all="ignore"):
        shifted = arr - arr.max(axis=d, keepdims=True) if arr.size else arr.copy()
        y = shifted - np.log(np.exp(shifted).sum(axis=d, keepdims=True))
    y = as_array(y.reshape(a.shape))
    result = record(new_tensor(y), "LogSoftmaxBackward0", _log_softmax_rule, (y, d if a.ndim else None, x.array.dtype), (x,), True)
    save_checked(result, 0, result, SAVED_OUTPUT)
    return result


def cumsum(input, dim, *, dtype=None):
    cdef Tensor x = as_tensor_arg(input, "cumsum")
    a = cast_for(dtype, x.array)
    if dtype is None and dtype_of_array(a).category != CAT_FLOAT:
        a = a.astype(np.int64)
    d = normalize_dim(dim, a.ndim)
    if a.dtype == np.bool_ and a.ndim and a.size:
        raise NotImplementedError("\"cumsum_out_cpu\" not implemented for 'Bool'")
    check_result_dtype(x, dtype)
    out = kept_dtype(np.cumsum(a, axis=d) if a.ndim else a.copy(), a)
    return record(new_tensor(out), "CumsumBackward0", _cumsum_rule, (d if a.ndim else None, x.array.dtype), (x,))


# -- gradient rules, one per line ----------------------------------------------------------------

def _sum_rule(g, ctx):
    axes, shape, keepdim, dt = ctx
    return expand_grad(g, axes, shape, keepdim).astype(dt, copy=False)


def _mean_rule(g, ctx):
    axes, shape, keepdim, dt, count = ctx
    return (expand_grad(g, axes, shape, keepdim) / g.dtype.type(count)).astype(dt, copy=False)


def _prod_rule(g, ctx):
    a, d, shape, keepdim, dt = ctx
    axis = 0 if d is None else d
    if a.ndim == 0:
        return as_array(g.astype(dt)).reshape(shape)
    if a.size == 0:
        return np.zeros(shape, dtype=dt)
    if not np.any(a == 0):
        with np.errstate(all="ignore"):
            result = np.prod(a, axis=axis, keepdims=True)
            gk = g if (keepdim or d is None) else np.expand_dims(g, axis)
            return as_array((gk * result / a).reshape(shape).astype(dt, copy=False))
    # product of everything before and after each element: correct with zeros, no division
    with np.errstate(all="ignore"):
        return _prod_with_zeros(g, a, d, axis, shape, keepdim, dt)


def _prod_with_zeros(g, a, d, axis, shape, keepdim, dt):
    ones = np.ones_like(np.take(a, [0], axis=axis))
    before = np.cumprod(np.concatenate([ones, np.take(a, range(shp(a)[axis] - 1), axis=axis)], axis=axis), axis=axis)
    rev = np.flip(a, axis=axis)
    after = np.flip(np.cumprod(np.concatenate([ones, np.take(rev, range(shp(a)[axis] - 1), axis=axis)], axis=axis), axis=axis), axis=axis)
    gk = g if (keepdim or d is None) else np.expand_dims(g, axis)
    return as_array((gk * before * after).reshape(shape).astype(dt, copy=False))


def _amax_rule(g, ctx):
    # amax/amin: the gradient is shared by the elements equal to the result (a NaN result
    # matches none of them, so that slice gets 0/0 = NaN, as in torch)
    a, out, axes, keepdim = ctx
    out_k = out if keepdim else out.reshape(keepdim_shape(a.shape, axes))
    g_k = g if keepdim else g.reshape(keepdim_shape(a.shape, axes))
    mask = (a == out_k)
    count = mask.sum(axis=axes, keepdims=True)
    with np.errstate(all="ignore"):
        return as_array((mask * (g_k / count.astype(g.dtype))).astype(g.dtype, copy=False))


def _max_all_rule(g, ctx):
    # max()/min() over everything: shared evenly by the elements equal to the result, where a
    # NaN result is "equal" to the NaN elements (torch's evenly_distribute_backward)
    a, out = ctx
    mask = np.isnan(a) if np.isnan(out) else (a == out)
    return as_array(np.where(mask, g / g.dtype.type(mask.sum()), g.dtype.type(0)))


def _max_dim_rule(g, ctx):
    idx, d, shape, keepdim = ctx
    out = np.zeros(shape, dtype=g.dtype)
    gk = g if keepdim else np.expand_dims(g, d)
    np.put_along_axis(out, idx, gk, axis=d)
    return out


def _var_rule(g, ctx):
    centered, out, axes, keepdim, dof, take_sqrt = ctx
    shape = centered.shape
    gk = g if keepdim else g.reshape(keepdim_shape(shape, axes))
    with np.errstate(all="ignore"):
        if take_sqrt:
            # torch's convention: where the std is 0 its gradient is 0, not 0/0
            ok = out if keepdim else out.reshape(keepdim_shape(shape, axes))
            gk = np.where(ok == 0, 0, gk / (2 * ok))
        return as_array((gk * (2 * centered) / g.dtype.type(dof)).astype(centered.dtype, copy=False))


def _norm_rule(g, ctx):
    a, out, p, axes, keepdim = ctx
    gk = g if keepdim else g.reshape(keepdim_shape(a.shape, axes))
    ok = out if keepdim else out.reshape(keepdim_shape(a.shape, axes))
    with np.errstate(all="ignore"):
        if p == 2:
            r = np.where(ok == 0, 0, a / ok) * gk
        elif p == 1:
            r = np.nan_to_num(np.sign(a), nan=0.0) * gk     # torch: sgn(NaN) = 0
        elif p == 0:
            r = np.zeros_like(a)
        elif p in (np.inf, -np.inf):
            mask = np.abs(a) == ok
            r = np.sign(a) * mask * gk / mask.sum(axis=axes, keepdims=True)
        else:
            r = np.where(ok == 0, 0, a * np.power(np.abs(a), p - 2) / np.power(ok, p - 1)) * gk
    return as_array(r.astype(a.dtype, copy=False))


def _logsumexp_rule(g, ctx):
    a, out_kept, axes, keepdim = ctx
    gk = g if keepdim else g.reshape(out_kept.shape)
    with np.errstate(all="ignore"):
        return as_array((gk * np.exp(a - out_kept)).astype(a.dtype, copy=False))


def _softmax_rule(g, ctx):
    y, d, dt = ctx
    if d is None:
        return np.zeros_like(y).astype(dt)
    return as_array((y * (g - (g * y).sum(axis=d, keepdims=True))).astype(dt, copy=False))


def _log_softmax_rule(g, ctx):
    y, d, dt = ctx
    if d is None:
        return np.zeros_like(y).astype(dt)
    return as_array((g - np.exp(y) * g.sum(axis=d, keepdims=True)).astype(dt, copy=False))


def _cumsum_rule(g, ctx):
    d, dt = ctx
    if d is None:
        return g.astype(dt)
    return as_array(np.flip(np.cumsum(np.flip(g, axis=d), axis=d), axis=d).astype(dt))
