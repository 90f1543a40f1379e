# The Tensor type. Its methods hold no arithmetic: each one delegates to an op function of the
# families below (pointwise, reduce, shape, linalg, inplace) or answers from the fields.

NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information.")

REQUIRES_GRAD_DTYPE_MESSAGE = "only Tensors of floating point dtype can require gradients"
LEAF_ONLY_MESSAGE = "you can only change requires_grad flags of leaf variables."
DETACH_HINT = (" If you want to use a computed variable in a subgraph that doesn't require "
               "differentiation use var_no_grad = var.detach().")


@cython.freelist(64)
@cython.binding(False)      # method descriptors: CPython checks `self` is a Tensor when a
                            # method is called unbound (torch.floor(1.5), Tensor.numel(1.5))
cdef class Tensor:
    """A multi-dimensional array that records the ops applied to it for reverse-mode autograd."""

    __array_priority__ = 1000       # numpy defers `ndarray * Tensor` to Tensor.__rmul__

    def __init__(self, *args, **kwargs):
        from autograd_c._creation import legacy_constructor_array
        self.array = legacy_constructor_array(args, kwargs, FLOAT32)

    @staticmethod
    def _make_subclass(cls, data, bint requires_grad=False):
        """A `cls` instance sharing data's storage, as a fresh leaf (used by Parameter)."""
        cdef Tensor src = <Tensor?>data
        cdef Tensor t = <Tensor>Tensor.__new__(cls)
        t.array = src.array
        t.version_ = counter_of(src)
        t.set_requires_grad(requires_grad, True)
        return t

    # -- autograd attributes ----------------------------------------------------------------

    @property
    def requires_grad(self):
        return tracked(self)

    @requires_grad.setter
    def requires_grad(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise RuntimeError("requires_grad must be a bool")
        if self.grad_fn_ is not None:
            raise RuntimeError(LEAF_ONLY_MESSAGE if value else LEAF_ONLY_MESSAGE + DETACH_HINT)
        self.set_requires_grad(bool(value), False)

    cdef set_requires_grad(self, bint value, bint from_method):
        if self.grad_fn_ is not None:
            if not value:
                raise RuntimeError(LEAF_ONLY_MESSAGE + DETACH_HINT)
            return
        if value and self.inference_ and not inference_enabled:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        if value and not dtype_of_array(self.array).is_floating_point:
            raise RuntimeError(REQUIRES_GRAD_DTYPE_MESSAGE if from_method else
                               "only Tensors of floating point and complex dtype can require "
                               "gradients")
        self.needs_grad = value

    def requires_grad_(self, requires_grad=True):
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError("requires_grad_(): argument 'requires_grad' (position 1) must be "
                            "bool, not %s" % type(requires_grad).__name__)
        self.set_requires_grad(bool(requires_grad), True)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn_ is None

    def is_inference(self):
        return self.inference_

    @property
    def grad_fn(self):
        if is_stale_view(self):
            refresh_view(self)
        return self.grad_fn_

    @property
    def grad(self):
        if self.grad_fn_ is not None and self.retain_ref is None:
            # stacklevel 1: a compiled property has no frame of its own, so level 1 is the caller
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=1)
        return self.grad_

    @grad.setter
    def grad(self, value):
        cdef Tensor g
        if value is None:
            self.grad_ = None
            return
        if not isinstance(value, Tensor):
            raise TypeError("assigned grad expected to be a Tensor or None but got grad of type %s"
                            % type(value).__name__)
        g = <Tensor>value
        if g is self:
            raise RuntimeError("can't assign Variable as its own grad")
        if cnp.PyArray_TYPE(g.array) != cnp.PyArray_TYPE(self.array):
            raise RuntimeError("assigned grad has data of a different type")
        if not same_shape(g.array, self.array):
            raise RuntimeError("assigned grad has data of a different size")
        self.grad_ = g

    @grad.deleter
    def grad(self):
        self.grad_ = None

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in .grad during backward."""
        if self.grad_fn_ is None:
            if not self.needs_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self.retain_ref is None:
            self.retain_ref = weakref.ref(self)
            self.grad_fn_.retained = self.retain_ref

    @property
    def retains_grad(self):
        return self.retain_ref is not None

    def register_hook(self, hook):
        """hook(grad) runs when this tensor's gradient is computed; a Tensor it returns
        replaces the gradient. Returns a handle whose remove() unregisters it."""
        if not self.needs_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn_ is None:
            if self.leaf_hooks is None:
                self.leaf_hooks = OrderedDict()
            return add_hook(self.leaf_hooks, hook)
        if self.grad_fn_.tensor_hooks is None:
            self.grad_fn_.tensor_hooks = OrderedDict()
            track_cycles(self.grad_fn_)        # a hook that closes over this tensor
        return add_hook(self.grad_fn_.tensor_hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) runs after a leaf's gradient was summed into its .grad."""
        if not self.needs_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn_ is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self.post_accumulate_hooks is None:
            self.post_accumulate_hooks = OrderedDict()
        return add_hook(self.post_accumulate_hooks, hook)

    @property
    def data(self):
        """A detached tensor sharing storage (but not the version counter, as in torch)."""
        return new_tensor(self.array)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError("data must be a Tensor, got %s" % type(value).__name__)
        self.array = (<Tensor>value).array

    @property
    def _version(self):
        return 0 if self.version_ is None else self.version_.value

    def detach(self):
        # shares storage and version counter, but is not an autograd view: writing into it is
        # allowed even when self is a leaf that requires grad (torch's semantics)
        cdef Tensor t = new_tensor(self.array)
        t.version_ = counter_of(self)
        return t

    def detach_(self):
        if self.base_ is not None and self.grad_fn_ is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn_ = None
        self.needs_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) times `gradient` into the .grad of every leaf."""
        if create_graph or inputs is not None or not (gradient is None or isinstance(gradient, Tensor)):
            # the uncommon forms (a sequence of gradients, options not supported yet) go through
            # autograd.backward, which explains each; the common one goes straight to the engine
            from autograd_c.autograd import backward as autograd_backward
            autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)
            return
        _run_backward((self,), (gradient,), bool(retain_graph))

    # -- shape and type ---------------------------------------------------------------------

    @property
    def shape(self):
        return Size(shp(self.array))

    def size(self, dim=None):
        if dim is None:
            return Size(shp(self.array))
        return shp(self.array)[normalize_dim(dim, cnp.PyArray_NDIM(self.array))]

    def dim(self):
        return cnp.PyArray_NDIM(self.array)

    def ndimension(self):
        return cnp.PyArray_NDIM(self.array)

    @property
    def ndim(self):
        return cnp.PyArray_NDIM(self.array)

    def numel(self):
        return cnp.PyArray_SIZE(self.array)

    def nelement(self):
        return cnp.PyArray_SIZE(self.array)

    def element_size(self):
        return cnp.PyArray_ITEMSIZE(self.array)

    def stride(self, dim=None):
        cdef int item = cnp.PyArray_ITEMSIZE(self.array)
        strides = tuple([s // item for s in (<object>self.array).strides])
        if dim is None:
            return strides
        return strides[normalize_dim(dim, cnp.PyArray_NDIM(self.array))]

    def data_ptr(self):
        return <size_t>cnp.PyArray_DATA(self.array)

    @property
    def dtype(self):
        return dtype_of_array(self.array)

    @property
    def device(self):
        from autograd_c._creation import CPU
        return CPU

    @property
    def is_cuda(self):
        return False

    def is_floating_point(self):
        return dtype_of_array(self.array).is_floating_point

    def is_contiguous(self, memory_format=None):
        return bool(cnp.PyArray_IS_C_CONTIGUOUS(self.array))

    def type(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None:
            return "%s.%s" % (MODULE_NAME, dtype_of_array(self.array).legacy_name)
        try:
            target = to_dtype(dtype)
        except TypeError:
            raise ValueError("invalid type: %r" % (dtype,))
        return to_dtype_op(self, target, False)

    # -- conversions -------------------------------------------------------------------------

    def item(self):
        cdef Py_ssize_t n = cnp.PyArray_SIZE(self.array)
        if n != 1:
            raise RuntimeError("a Tensor with %d elements cannot be converted to Scalar" % n)
        return self.array.reshape(-1)[0].item()

    def tolist(self):
        return self.array.tolist()

    def numpy(self, *, force=False):
        if self.needs_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self.array

    def __array__(self, dtype=None, copy=None):
        if dtype is None:
            return self.array
        return self.array.astype(dtype)

    def __float__(self):
        return float(self.scalar_value("float"))

    def __int__(self):
        return int(self.scalar_value("int"))

    def __index__(self):
        if dtype_of_array(self.array).category == CAT_FLOAT or cnp.PyArray_SIZE(self.array) != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.scalar_value("index"))

    def __bool__(self):
        cdef Py_ssize_t n = cnp.PyArray_SIZE(self.array)
        if n != 1:
            raise RuntimeError("Boolean value of Tensor with %s is ambiguous"
                               % ("no values" if n == 0 else "more than one value"))
        return bool(self.array.reshape(-1)[0])

    cdef object scalar_value(self, str kind):
        if cnp.PyArray_SIZE(self.array) != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.array.reshape(-1)[0]

    def __format__(self, spec):
        if cnp.PyArray_NDIM(self.array) == 0 or (cnp.PyArray_SIZE(self.array) == 1 and spec):
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __len__(self):
        if cnp.PyArray_NDIM(self.array) == 0:
            raise TypeError("len() of a 0-d tensor")
        return shp(self.array)[0]

    def __iter__(self):
        if cnp.PyArray_NDIM(self.array) == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(unbind(self, 0))

    def __hash__(self):
        return id(self)

    def __contains__(self, element):
        return bool(np.any(self.array == (element.array if isinstance(element, Tensor) else element)))

    def __repr__(self):
        from autograd_c._tensor_str import format_tensor
        cdef dtype dt = dtype_of_array(self.array)
        if self.grad_fn_ is not None:
            suffix = "grad_fn=<%s>" % self.grad_fn_.name()
        elif self.needs_grad:
            suffix = "requires_grad=True"
        else:
            suffix = None
        show = not (dt is default_float or dt is INT64 or dt is BOOL)
        return format_tensor(self.array, dtype_name=repr(dt), show_dtype=show, grad_suffix=suffix)

    def __reduce__(self):
        return (_rebuild_tensor, (self.array.copy(), self.needs_grad))

    def __copy__(self):
        return self.clone().detach().requires_grad_(self.needs_grad)

    def __deepcopy__(self, memo):
        if self.grad_fn_ is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        t = new_tensor(self.array.copy())
        (<Tensor>t).needs_grad = self.needs_grad
        if self.grad_ is not None:
            (<Tensor>t).grad_ = new_tensor((<Tensor>self.grad_).array.copy())
        memo[id(self)] = t
        return t

    def to(self, *args, **kwargs):
        cdef dtype target = None
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        for a in args + tuple(kwargs.values()):
            if isinstance(a, Tensor):
                target = dtype_of_array((<Tensor>a).array)
            elif isinstance(a, dtype):
                target = a
            elif a is not None:
                from autograd_c._creation import check_device
                check_device(a)
        if target is None:
            return self.clone() if copy else self
        return to_dtype_op(self, target, copy)

    def cpu(self):
        return self

    def float(self):
        return to_dtype_op(self, FLOAT32, False)

    def double(self):
        return to_dtype_op(self, FLOAT64, False)

    def half(self):
        return to_dtype_op(self, float16, False)

    def long(self):
        return to_dtype_op(self, INT64, False)

    def int(self):
        return to_dtype_op(self, int32, False)

    def bool(self):
        return to_dtype_op(self, BOOL, False)

    def type_as(self, other):
        return to_dtype_op(self, dtype_of_array((<Tensor?>other).array), False)

    def clone(self, *, memory_format=None):
        return clone(self)

    def contiguous(self, memory_format=None):
        if cnp.PyArray_IS_C_CONTIGUOUS(self.array):
            return self
        return clone(self)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        from autograd_c._creation import tensor
        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        from autograd_c._creation import zeros
        return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        from autograd_c._creation import ones
        return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        from autograd_c._creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        from autograd_c._creation import empty
        return empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    # -- arithmetic operators: _ops_pointwise ------------------------------------------------

    def __add__(self, other):
        return binary_op(AG_ADD, self, other)

    def __radd__(self, other):
        return binary_op(AG_ADD, self, other)

    def __sub__(self, other):
        return binary_op(AG_SUB, self, other)

    def __rsub__(self, other):
        return binary_op(AG_RSUB, self, other)

    def __mul__(self, other):
        return binary_op(AG_MUL, self, other)

    def __rmul__(self, other):
        return binary_op(AG_MUL, self, other)

    def __truediv__(self, other):
        return binary_op(AG_DIV, self, other)

    def __rtruediv__(self, other):
        return binary_op(AG_MUL, unary_op(AG_RECIPROCAL, self), other)

    def __floordiv__(self, other):
        return floor_divide(self, other)

    def __rfloordiv__(self, other):
        return floor_divide(other, self)

    def __mod__(self, other):
        return remainder(self, other)

    def __rmod__(self, other):
        return remainder(other, self)

    def __pow__(self, exponent, modulo):
        return pow(self, exponent)

    def __rpow__(self, base, modulo):
        return pow(base, self)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __neg__(self):
        return unary_op(AG_NEG, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return unary_op(AG_ABS, self)

    def __invert__(self):
        return logical_not(self) if dtype_of_array(self.array) is BOOL else bitwise_not(self)

    def __and__(self, other):
        return logical_op(np.bitwise_and, self, other)

    def __rand__(self, other):
        return logical_op(np.bitwise_and, self, other)

    def __or__(self, other):
        return logical_op(np.bitwise_or, self, other)

    def __ror__(self, other):
        return logical_op(np.bitwise_or, self, other)

    def __xor__(self, other):
        return logical_op(np.bitwise_xor, self, other)

    def __rxor__(self, other):
        return logical_op(np.bitwise_xor, self, other)

    def __eq__(self, other):
        return compare(np.equal, self, other)

    def __ne__(self, other):
        return compare(np.not_equal, self, other)

    def __lt__(self, other):
        return compare(np.less, self, other)

    def __le__(self, other):
        return compare(np.less_equal, self, other)

    def __gt__(self, other):
        return compare(np.greater, self, other)

    def __ge__(self, other):
        return compare(np.greater_equal, self, other)

    # in place: _ops_inplace
    def __iadd__(self, other):
        return inplace_binary(AG_ADD, self, other, 1.0)

    def __isub__(self, other):
        return inplace_binary(AG_SUB, self, other, 1.0)

    def __imul__(self, other):
        return inplace_binary(AG_MUL, self, other, 1.0)

    def __itruediv__(self, other):
        return inplace_binary(AG_DIV, self, other, 1.0)

    def __getitem__(self, index):
        return getitem(self, index)

    def __setitem__(self, index, value):
        setitem(self, index, value)

    # -- named methods: one line each --------------------------------------------------------

    def add(self, other, *, alpha=1):
        return add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return sub(self, other, alpha=alpha)

    def mul(self, other):
        return mul(self, other)

    def div(self, other, *, rounding_mode=None):
        return div(self, other, rounding_mode=rounding_mode)

    def true_divide(self, other):
        return div(self, other)

    def floor_divide(self, other):
        return floor_divide(self, other)

    def remainder(self, other):
        return remainder(self, other)

    def pow(self, exponent):
        return pow(self, exponent)

    def neg(self):
        return unary_op(AG_NEG, self)

    def abs(self):
        return unary_op(AG_ABS, self)

    def exp(self):
        return unary_op(AG_EXP, self)

    def log(self):
        return unary_op(AG_LOG, self)

    def log2(self):
        return unary_op(AG_LOG2, self)

    def log10(self):
        return unary_op(AG_LOG10, self)

    def sqrt(self):
        return unary_op(AG_SQRT, self)

    def rsqrt(self):
        return unary_op(AG_RSQRT, self)

    def sin(self):
        return unary_op(AG_SIN, self)

    def cos(self):
        return unary_op(AG_COS, self)

    def tanh(self):
        return unary_op(AG_TANH, self)

    def sigmoid(self):
        return unary_op(AG_SIGMOID, self)

    def relu(self):
        return unary_op(AG_RELU, self)

    def reciprocal(self):
        return unary_op(AG_RECIPROCAL, self)

    def square(self):
        return pow(self, 2)

    def clamp(self, min=None, max=None):
        return clamp(self, min, max)

    def clip(self, min=None, max=None):
        return clamp(self, min, max)

    def maximum(self, other):
        return maximum(self, other)

    def minimum(self, other):
        return minimum(self, other)

    def where(self, condition, other):
        return where(condition, self, other)

    def masked_fill(self, mask, value):
        return masked_fill(self, mask, value)

    def sign(self):
        return sign(self)

    def floor(self):
        return rounding(np.floor, "FloorBackward0", self)

    def ceil(self):
        return rounding(np.ceil, "CeilBackward0", self)

    def round(self):
        return rounding(np.round, "RoundBackward0", self)

    def isnan(self):
        return isnan_op(self)

    def isfinite(self):
        return isfinite_op(self)

    def isinf(self):
        return isinf_op(self)

    def logical_not(self):
        return logical_not(self)

    def eq(self, other):
        return eq(self, other)

    def ne(self, other):
        return ne(self, other)

    def lt(self, other):
        return lt(self, other)

    def le(self, other):
        return le(self, other)

    def gt(self, other):
        return gt(self, other)

    def ge(self, other):
        return ge(self, other)

    def equal(self, other):
        return equal(self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return allclose(self, other, rtol, atol, equal_nan)

    # reductions: _ops_reduce
    def sum(self, dim=None, keepdim=False, *, dtype=None, **kw):
        return sum(self, dim, keepdim, dtype=dtype, **kw)

    def mean(self, dim=None, keepdim=False, *, dtype=None, **kw):
        return mean(self, dim, keepdim, dtype=dtype, **kw)

    def prod(self, dim=None, keepdim=False, *, dtype=None, **kw):
        return prod(self, dim, keepdim, dtype=dtype, **kw)

    def max(self, dim=None, keepdim=False, **kw):
        return max(self, dim, keepdim, **kw)

    def min(self, dim=None, keepdim=False, **kw):
        return min(self, dim, keepdim, **kw)

    def amax(self, dim=(), keepdim=False, **kw):
        return amax(self, dim, keepdim, **kw)

    def amin(self, dim=(), keepdim=False, **kw):
        return amin(self, dim, keepdim, **kw)

    def argmax(self, dim=None, keepdim=False, **kw):
        return argmax(self, dim, keepdim, **kw)

    def argmin(self, dim=None, keepdim=False, **kw):
        return argmin(self, dim, keepdim, **kw)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, **kw):
        return var(self, dim, unbiased, keepdim, correction=correction, **kw)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, **kw):
        return std(self, dim, unbiased, keepdim, correction=correction, **kw)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None, **kw):
        return norm(self, p, dim, keepdim, dtype, **kw)

    def logsumexp(self, dim, keepdim=False, **kw):
        return logsumexp(self, dim, keepdim, **kw)

    def softmax(self, dim, dtype=None):
        return softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        return log_softmax(self, dim, dtype=dtype)

    def cumsum(self, dim, *, dtype=None):
        return cumsum(self, dim, dtype=dtype)

    def all(self, dim=None, keepdim=False, **kw):
        return all(self, dim, keepdim, **kw)

    def any(self, dim=None, keepdim=False, **kw):
        return any(self, dim, keepdim, **kw)

    # shape: _ops_shape
    def reshape(self, *shape):
        return reshape(self, parse_shape(shape))

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], dtype):
            raise NotImplementedError("view(dtype) is not supported")
        return view(self, parse_shape(shape))

    def view_as(self, other):
        return view(self, shp((<Tensor?>other).array))

    def reshape_as(self, other):
        return reshape(self, shp((<Tensor?>other).array))

    def flatten(self, start_dim=0, end_dim=-1):
        return flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        return squeeze(self, dim)

    def unsqueeze(self, dim):
        return unsqueeze(self, dim)

    def expand(self, *sizes):
        return expand(self, parse_shape(sizes))

    def expand_as(self, other):
        return expand(self, shp((<Tensor?>other).array))

    def transpose(self, dim0, dim1):
        return transpose(self, dim0, dim1)

    def swapaxes(self, dim0, dim1):
        return transpose(self, dim0, dim1)

    def t(self):
        return t(self)

    @property
    def T(self):
        return permute(self, tuple(range(cnp.PyArray_NDIM(self.array) - 1, -1, -1)))

    @property
    def mT(self):
        return transpose(self, -2, -1)

    def permute(self, *dims):
        if not dims:        # x.permute(()) is a 0-d tensor's ordering; x.permute() names none
            raise TypeError('permute() missing 1 required positional arguments: "dims"')
        return permute(self, parse_shape(dims))

    def repeat(self, *sizes):
        return repeat(self, parse_shape(sizes))

    def narrow(self, dim, start, length):
        return narrow(self, dim, start, length)

    def split(self, split_size, dim=0):
        return split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return unbind(self, dim)

    def gather(self, dim, index):
        return gather(self, dim, index)

    # linear algebra: _ops_linalg
    def matmul(self, other):
        return matmul(self, other)

    def mm(self, other):
        return mm(self, other)

    def bmm(self, other):
        return bmm(self, other)

    def dot(self, other):
        return dot(self, other)

    def mv(self, other):
        return mv(self, other)

    # in place: _ops_inplace
    def add_(self, other, *, alpha=1):
        return inplace_binary(AG_ADD, self, other, alpha)

    def sub_(self, other, *, alpha=1):
        return inplace_binary(AG_SUB, self, other, alpha)

    def mul_(self, other):
        return inplace_binary(AG_MUL, self, other, 1.0)

    def div_(self, other):
        return inplace_binary(AG_DIV, self, other, 1.0)

    def zero_(self):
        return fill_(self, 0)

    def fill_(self, value):
        return fill_(self, value)

    def copy_(self, src, non_blocking=False):
        return copy_(self, src)

    def clamp_(self, min=None, max=None):
        return clamp_(self, min, max)

    def relu_(self):
        return relu_(self)

    def clip_(self, min=None, max=None):
        return clamp_(self, min, max)

    def masked_fill_(self, mask, value):
        return masked_fill_(self, mask, value)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        from autograd_c._creation import fill_uniform
        return fill_random(self, fill_uniform(shp(self.array), a, b, generator))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        from autograd_c._creation import fill_normal
        return fill_random(self, fill_normal(shp(self.array), mean, std, generator))


def _rebuild_tensor(array, requires_grad):
    t = new_tensor(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _from_array(object arr, bint requires_grad=False):
    """A leaf Tensor taking over arr (an ndarray of a supported dtype)."""
    cdef cnp.ndarray a = as_array(arr)
    dtype_of_array(a)
    cdef Tensor t = new_tensor(a)
    if requires_grad:
        t.set_requires_grad(True, False)
    return t


def _array_of(Tensor t):
    return t.array
