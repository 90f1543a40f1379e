# dtypes and torch's type promotion.
#
# Promotion follows torch, not numpy. Operands fall in three tiers: tensors with dims, 0-d
# tensors, and Python scalars. The result is the promotion of the highest tier present, unless a
# lower tier holds a higher category (bool < integer < floating), in which case that tier's type
# joins in. So float32 * 2.5 stays float32, int64 tensor / 2 gives float32 (the default), and
# float32 + int64 gives float32 where numpy would answer float64.

cdef enum:
    CAT_BOOL = 0
    CAT_INT = 1
    CAT_FLOAT = 2


cdef class dtype:
    """A tensor element type, compared by identity as torch's are."""

    def __repr__(self):
        return "%s.%s" % (MODULE_NAME, self.name)

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    @property
    def is_complex(self):
        return False


cdef class VersionCounter:
    pass


cdef dict DTYPES = {}          # name -> dtype
cdef dict DTYPE_BY_NUMPY = {}  # numpy dtype -> dtype
cdef dict DTYPE_BY_TYPENUM = {}


cdef dtype make_dtype(str name, str legacy, object np_dtype, int category):
    cdef dtype d = dtype.__new__(dtype)
    d.name = name
    d.legacy_name = legacy
    d.numpy_dtype = np.dtype(np_dtype)
    d.category = category
    d.is_floating_point = category == CAT_FLOAT
    d.is_signed = d.numpy_dtype.kind in "if"
    d.itemsize = d.numpy_dtype.itemsize
    d.typenum = d.numpy_dtype.num
    d.kernel = AG_F32 if name == "float32" else (AG_F64 if name == "float64" else -1)
    DTYPES[name] = d
    DTYPE_BY_NUMPY[d.numpy_dtype] = d
    DTYPE_BY_TYPENUM[d.typenum] = d
    return d


bool_ = make_dtype("bool", "BoolTensor", np.bool_, CAT_BOOL)
uint8 = make_dtype("uint8", "ByteTensor", np.uint8, CAT_INT)
int8 = make_dtype("int8", "CharTensor", np.int8, CAT_INT)
int16 = make_dtype("int16", "ShortTensor", np.int16, CAT_INT)
int32 = make_dtype("int32", "IntTensor", np.int32, CAT_INT)
int64 = make_dtype("int64", "LongTensor", np.int64, CAT_INT)
float16 = make_dtype("float16", "HalfTensor", np.float16, CAT_FLOAT)
float32 = make_dtype("float32", "FloatTensor", np.float32, CAT_FLOAT)
float64 = make_dtype("float64", "DoubleTensor", np.float64, CAT_FLOAT)
# numpy has two type numbers for 64-bit integers on LP64 systems (long and long long)
DTYPE_BY_TYPENUM[np.dtype(np.longlong).num] = DTYPES["int64" if np.dtype(np.longlong).itemsize == 8 else "int32"]
DTYPE_BY_TYPENUM[np.dtype(np.intc).num] = int32

cdef dtype BOOL = bool_
cdef dtype INT64 = int64
cdef dtype FLOAT32 = float32
cdef dtype FLOAT64 = float64
cdef dtype default_float = float32


def _dtype_by_name(name):
    return DTYPES[name]


def get_default_dtype():
    return default_float


def set_default_dtype(d):
    global default_float
    d = to_dtype(d)
    if not (<dtype>d).is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    default_float = d


# torch's list without the complex types, which autograd_c does not have
SUPPORTED_NUMPY = "float64, float32, float16, int64, int32, int16, int8, uint8, and bool"


cdef inline dtype dtype_of_array(object arr):
    """Our dtype for an ndarray; TypeError with torch's words for a type we do not have."""
    d = DTYPE_BY_TYPENUM.get(cnp.PyArray_TYPE(<cnp.ndarray>arr))
    if d is None:
        raise TypeError("can't convert np.ndarray of type %s. The only supported types are: %s."
                        % (numpy_type_name(arr.dtype), SUPPORTED_NUMPY))
    return <dtype>d


cdef str numpy_type_name(object np_dtype):
    """How torch names a numpy scalar type: numpy.str_, numpy.object_, numpy.uint16."""
    t = np.dtype(np_dtype).type
    return "%s.%s" % ("numpy", t.__name__)


cpdef dtype to_dtype(object d):
    """Accept our dtypes, Python's bool/int/float, numpy dtypes and torch-style names."""
    if isinstance(d, dtype):
        return <dtype>d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str):
        name = d.split(".")[-1]
        found = DTYPES.get(name) or DTYPES.get(ALIASES.get(name, ""))
        if found is not None:
            return found
        raise TypeError("invalid dtype %r" % d)
    try:
        return DTYPE_BY_NUMPY[np.dtype(d)]
    except (TypeError, KeyError):
        raise TypeError("dtype must be an autograd_c dtype, got %r" % (d,))


ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
           "int": "int32", "short": "int16", "FloatTensor": "float32",
           "DoubleTensor": "float64", "LongTensor": "int64", "IntTensor": "int32",
           "BoolTensor": "bool", "ByteTensor": "uint8", "HalfTensor": "float16"}


cdef inline dtype promote(dtype a, dtype b):
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return <dtype>DTYPE_BY_NUMPY[np.promote_types(a.numpy_dtype, b.numpy_dtype)]


cdef inline bint is_scalar(object x):
    """A Python or numpy number, which promotes as a 'wrapped number' in torch."""
    return isinstance(x, (float, int, np.number, np.bool_))


cdef inline check_int_scalar(object s):
    """torch converts Python ints through 64 bits (signed, or unsigned above 2**63)."""
    if not -2**63 <= s < 2**64:
        raise OverflowError("int too big to convert")


cdef dtype scalar_dtype(object s):
    if isinstance(s, (bool, np.bool_)):
        return BOOL
    if isinstance(s, (int, np.integer)):
        check_int_scalar(s)
        return INT64
    if isinstance(s, (float, np.floating)):
        return default_float
    raise TypeError("unsupported scalar type %s" % type(s).__name__)


cdef inline dtype combine_tiers(dtype higher, dtype lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == CAT_FLOAT:
        return higher
    if higher.category == CAT_BOOL or lower.category == CAT_FLOAT:
        return promote(higher, lower)
    return higher


cdef dtype result_type(tuple operands):
    """torch.result_type over tensors and scalars (see the note at the top)."""
    cdef dtype dims = None, zero = None, wrapped = None, d
    cdef Tensor t
    for x in operands:
        if isinstance(x, Tensor):
            t = <Tensor>x
            d = dtype_of_array(t.array)
            if cnp.PyArray_NDIM(t.array) > 0:
                dims = d if dims is None else promote(dims, d)
            else:
                zero = d if zero is None else promote(zero, d)
        elif is_scalar(x):
            d = scalar_dtype(x)
            wrapped = d if wrapped is None else promote(wrapped, d)
        else:
            raise TypeError("unsupported operand type: %s" % type(x).__name__)
    return combine_tiers(dims, combine_tiers(zero, wrapped))


def _result_type(*operands):
    return result_type(operands)
