# cython: freethreading_compatible = False
"""The compiled core of autograd_c: Tensor, the backward graph, the engine, and the ops.

It is one extension module, split into files by family and stitched together with `include`,
so that a Tensor method, the op it delegates to and the node that op records are direct C calls:

    _dtype.pxi          dtypes, torch's type promotion, scalars
    _tensor.pxi         the Tensor type: attributes, conversions, one-line delegations to ops
    _engine.pxi         Node, AccumulateGrad, RuleNode and the backward pass
    _ops_pointwise.pxi  elementwise arithmetic and functions, comparisons, where, clamp
    _ops_reduce.pxi     sum, mean, prod, max/min, var/std, norm, softmax family, cumsum
    _ops_shape.pxi      views, indexing, cat/stack/split, repeat, expand
    _ops_linalg.pxi     matmul, mm, bmm, dot, mv
    _ops_inplace.pxi    add_, mul_, ..., item assignment, and their version bookkeeping
    _ops_nn.pxi         convolution, pooling and batch normalization
    _ops_loss.pxi       nll_loss (what cross_entropy reduces to)
    _ops_optim.pxi      fused SGD and Adam steps over a param group
    _function.pxi       the nodes of user-defined autograd Functions
    _engine_graph.pxi   the backward pass that records a graph (create_graph=True)
    _graph_rules_*.pxi  each node's gradient in Tensor ops, for that pass, by op family
"""
cimport cython
cimport numpy as cnp
from cpython.object cimport PyObject
from libc.math cimport isnan

import math
import warnings
import weakref
from collections import OrderedDict

import numpy as np

from autograd_c._kernels cimport *

cnp.import_array()

MODULE_NAME = "autograd_c"

include "_dtype.pxi"
include "_engine.pxi"
include "_tensor.pxi"
include "_ops_pointwise.pxi"
include "_ops_reduce.pxi"
include "_ops_shape.pxi"
include "_ops_linalg.pxi"
include "_ops_inplace.pxi"
include "_ops_nn.pxi"
include "_ops_loss.pxi"
include "_ops_optim.pxi"
include "_function.pxi"
include "_engine_graph.pxi"
include "_graph_rules_pointwise.pxi"
include "_graph_rules_reduce.pxi"
include "_graph_rules_shape.pxi"
include "_graph_rules_nn.pxi"


# -- grad mode: a thread-local flag in C (csrc/grad_mode.c) ---------------------------------

def is_grad_enabled():
    """Whether ops record the backward graph in this thread."""
    return bool(ag_grad_enabled())


def _set_grad_enabled(bint enabled):
    ag_set_grad_enabled(enabled)


# -- the C kernels, with the GIL released for large arrays --------------------------------------
# Below NOGIL_ELEMENTS releasing and re-taking the GIL would cost more than the loop; above it,
# other Python threads (a data loader, say) run while the loop does.

cdef enum:
    NOGIL_ELEMENTS = 65536


cdef inline void run_unary_forward(int op, int k, const void *x, void *y, ag_size n) noexcept:
    if n < NOGIL_ELEMENTS:
        ag_unary_forward(op, k, x, y, n)
    else:
        with nogil:
            ag_unary_forward(op, k, x, y, n)


cdef inline void run_unary_backward(int op, int k, const void *g, const void *x, const void *y,
                                    void *gx, ag_size n) noexcept:
    if n < NOGIL_ELEMENTS:
        ag_unary_backward(op, k, g, x, y, gx, n)
    else:
        with nogil:
            ag_unary_backward(op, k, g, x, y, gx, n)


cdef inline void run_binary(int op, int k, const void *a, const void *b, void *out,
                            ag_size n) noexcept:
    if n < NOGIL_ELEMENTS:
        ag_binary(op, k, a, b, out, n)
    else:
        with nogil:
            ag_binary(op, k, a, b, out, n)


cdef inline void run_binary_scalar(int op, int k, const void *a, double s, void *out,
                                   ag_size n) noexcept:
    if n < NOGIL_ELEMENTS:
        ag_binary_scalar(op, k, a, s, out, n)
    else:
        with nogil:
            ag_binary_scalar(op, k, a, s, out, n)


cdef inline void run_div_backward_other(int k, const void *g, const void *a, const void *b,
                                        void *gb, ag_size n) noexcept:
    if n < NOGIL_ELEMENTS:
        ag_div_backward_other(k, g, a, b, gb, n)
    else:
        with nogil:
            ag_div_backward_other(k, g, a, b, gb, n)


cdef inline void run_accumulate(int k, void *dst, const void *src, ag_size n) noexcept:
    if n < NOGIL_ELEMENTS:
        ag_accumulate(k, dst, src, n)
    else:
        with nogil:
            ag_accumulate(k, dst, src, n)


# -- helpers shared by every family -----------------------------------------------------------

# Inference mode: grad mode off, and every tensor made meanwhile is marked, so that autograd can
# refuse it later (it has no version history worth trusting), as torch's inference tensors.
cdef bint inference_enabled = False


def _set_inference_mode(bint enabled):
    global inference_enabled
    inference_enabled = enabled


def _inference_mode_enabled():
    return inference_enabled


cdef inline Tensor new_tensor(cnp.ndarray arr):
    """A leaf Tensor around arr, which it takes over as is."""
    cdef Tensor t = Tensor.__new__(Tensor)
    t.array = arr
    t.inference_ = inference_enabled
    return t


cdef inline tuple shp(cnp.ndarray a):
    """The shape as a Python tuple (a typed array's .shape is a C pointer in Cython)."""
    return (<object>a).shape


cdef inline cnp.ndarray as_array(object x):
    """x as an ndarray: numpy's 0-d results come back as scalars, which would break invariants."""
    if cnp.PyArray_Check(x):
        return <cnp.ndarray>x
    return np.asarray(x)


cdef inline cnp.ndarray c_contiguous(object a, object np_dtype=None):
    """a as a C-contiguous array (of np_dtype), copying only when needed. Unlike
    np.ascontiguousarray, it keeps 0-d arrays 0-d."""
    return np.asarray(a, dtype=np_dtype, order="C")


cdef inline cnp.ndarray empty_like_array(cnp.ndarray a):
    return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)


cdef inline bint same_shape(cnp.ndarray a, cnp.ndarray b):
    cdef int i, nd = cnp.PyArray_NDIM(a)
    if nd != cnp.PyArray_NDIM(b):
        return False
    cdef cnp.npy_intp *da = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp *db = cnp.PyArray_DIMS(b)
    for i in range(nd):
        if da[i] != db[i]:
            return False
    return True


cdef inline int kernel_code(cnp.ndarray a):
    """The csrc dtype code when a is a C-contiguous float32/float64 array, else -1."""
    cdef int t = cnp.PyArray_TYPE(a)
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        return -1
    if t == cnp.NPY_FLOAT32:
        return AG_F32
    if t == cnp.NPY_FLOAT64:
        return AG_F64
    return -1


cdef inline int kernel_code_pair(cnp.ndarray a, cnp.ndarray b):
    """The csrc dtype code when a and b can go to one elementwise kernel together, else -1."""
    cdef int k = kernel_code(a)
    if k < 0 or cnp.PyArray_TYPE(a) != cnp.PyArray_TYPE(b) or not cnp.PyArray_IS_C_CONTIGUOUS(b):
        return -1
    if not same_shape(a, b):
        return -1
    return k


cdef cnp.ndarray sum_to_shape(cnp.ndarray g, tuple shape):
    """Sum a broadcast gradient back down to an input's shape."""
    cdef int lead = cnp.PyArray_NDIM(g) - len(shape)
    if lead == 0 and shp(g) == shape:
        return g
    axes = list(range(lead))
    gshape = shp(g)
    for i, s in enumerate(shape):
        if s == 1 and gshape[i + lead] != 1:
            axes.append(i + lead)
    if axes:
        g = as_array(g.sum(axis=tuple(axes), keepdims=True))
    return g.reshape(shape)


cdef inline cnp.ndarray fit_gradient(cnp.ndarray g, object meta):
    """Reduce and cast g to an input described by meta = (shape, numpy dtype); None: as is."""
    if meta is None:
        return g
    shape, np_dtype = meta
    g = sum_to_shape(g, shape)
    if g.dtype != np_dtype:
        g = g.astype(np_dtype)
    return g


cdef inline object input_meta(Tensor x, cnp.ndarray out):
    """None when x has out's shape and dtype (its gradient needs no fitting)."""
    if cnp.PyArray_TYPE(x.array) == cnp.PyArray_TYPE(out) and same_shape(x.array, out):
        return None
    return (shp(x.array), x.array.dtype)


cdef inline bint grad_mode():
    return ag_grad_enabled()


cdef str shape_str(shape):
    return "[" + ", ".join([str(s) for s in shape]) + "]"


def size_repr(shape):
    return "%s.Size(%s)" % (MODULE_NAME, shape_str(shape))


class Size(tuple):
    """The shape of a tensor: a tuple that prints as torch prints torch.Size."""

    def __repr__(self):
        return size_repr(self)

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key):
        r = tuple.__getitem__(self, key)
        return Size(r) if isinstance(key, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))


cdef int normalize_dim(object dim, int ndim) except -100:
    """torch's dim wrapping, with its IndexError for a dim out of range. The dim stays a Python
    integer until it is known to be in range, so a huge one is an IndexError, not an overflow."""
    try:
        d = dim.__index__()
    except AttributeError:
        raise TypeError("dim must be an int, got %s" % type(dim).__name__)
    cdef int n = ndim if ndim > 0 else 1
    if d < -n or d > n - 1:
        raise IndexError("Dimension out of range (expected to be in range of [%d, %d], but got %d)"
                         % (-n, n - 1, d))
    return d + n if d < 0 else d


cdef tuple normalize_dims(object dims, int ndim):
    """A dim or a sequence of dims, wrapped, as a sorted tuple; torch's error for repeats."""
    if isinstance(dims, (list, tuple)):
        out = []
        for d in dims:
            nd = normalize_dim(d, ndim)
            if nd in out:
                raise RuntimeError("dim %d appears multiple times in the list of dims" % nd)
            out.append(nd)
        return tuple(sorted(out))
    return (normalize_dim(dims, ndim),)


cdef tuple parse_shape(tuple args):
    """Shapes given as f(2, 3), f((2, 3)), f([2, 3]) or f(Size)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for pos, a in enumerate(args):
        if isinstance(a, Tensor):
            a = (<Tensor>a).item()
        try:
            a = a.__index__()
        except AttributeError:
            raise TypeError("size must be a tuple of ints, but got an element of type %s"
                            % type(a).__name__)
        if not INT64_MIN <= a <= INT64_MAX:
            raise TypeError("argument 'size' failed to unpack the object at pos %d with error "
                            "\"Overflow when unpacking long long\"" % (pos + 1))
        out.append(a)
    return tuple(out)


INT64_MIN = -2**63
INT64_MAX = 2**63 - 1


cdef check_numel(tuple shape):
    """torch's error for a shape whose element count does not fit in 64 bits; like torch, it
    multiplies left to right, so an overflow before a zero still counts."""
    n = 1
    for s in shape:
        n *= s
        if n > INT64_MAX:
            raise RuntimeError("numel: integer multiplication overflow")


def parse_shape_py(tuple args):
    return parse_shape(args)
