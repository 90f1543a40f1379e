"""Factories, random numbers and devices: the torch functions that make new tensors.

Arguments are checked the way torch's Python argument parser checks them, and every error is the
one torch 2.13 raises (type and text, with this module's name where torch writes `torch`).
Python data becomes a tensor through the same three steps as torch.tensor: the shape from the
first element of each level, the dtype promoted over every element, then each element converted
on its own, with torch's overflow checks.
"""
import math
import operator
import warnings

import numpy as np

from autograd_c import _C
from autograd_c._C import Tensor, Size, to_dtype, get_default_dtype

_from_array = _C._from_array

_MODULE = getattr(_C, "MODULE_NAME", "autograd_c")

FACTORY_GRAD_MESSAGE = "Only Tensors of floating point and complex dtype can require gradients"

INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1
UINT64_MAX = 2 ** 64 - 1

_MISSING = object()     # an argument the caller did not pass (None can be a wrong value)

_ALL_DTYPES = (_C.bool_, _C.uint8, _C.int8, _C.int16, _C.int32, _C.int64,
               _C.float16, _C.float32, _C.float64)
_DTYPE_BY_NUMPY = {d.numpy_dtype: d for d in _ALL_DTYPES}


# -- devices ------------------------------------------------------------------------------------

class device:
    """A device; only 'cpu' exists here (there is no accelerator backend)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, idx = str(type).partition(":")
        if name not in ("cpu", "cuda", "mps", "meta"):
            raise RuntimeError("Expected one of cpu, cuda, mps, meta device type at start of device "
                               "string: %s" % type)
        self.type = name
        self.index = int(idx) if idx else index

    def __repr__(self):
        if self.index is None:
            return "device(type='%s')" % self.type
        return "device(type='%s', index=%d)" % (self.type, self.index)

    def __str__(self):
        return self.type if self.index is None else "%s:%d" % (self.type, self.index)

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


def check_device(d):
    """Accept the CPU in every spelling torch accepts; refuse the others clearly."""
    if d is None:
        return
    if isinstance(d, int):
        d = "cuda:%d" % d
    if device(d).type != "cpu":
        raise AssertionError("autograd_c is not compiled with CUDA enabled: only the 'cpu' device "
                             "exists")


# -- random numbers -----------------------------------------------------------------------------

class Generator:
    """A random number generator with torch's interface, drawing from numpy's PCG64."""

    def __init__(self, device="cpu"):
        check_device(device)
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed & 0xFFFFFFFFFFFFFFFF))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state
        return self

    @property
    def device(self):
        return CPU


default_generator = Generator()


def manual_seed(seed):
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def _rng(generator):
    return (generator or default_generator)._rng


# -- torch's argument errors --------------------------------------------------------------------
#
# torch's parser raises "f(): argument 'x' (position n) must be T, not U" when exactly one of f's
# overloads takes as many arguments as were passed, and "f() received an invalid combination of
# arguments" listing the overloads otherwise. The overloads of the functions that have several
# are below with the range of argument counts each takes (required ones .. all of them); a
# `Generator? generator` without a default is required in torch's count.

_KW = ("torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
       "bool pin_memory = False, bool requires_grad = False")
_OUT = "Tensor out = None, " + _KW
_GEN = "torch.Generator generator, " + _OUT

_OVERLOADS = {
    "rand": [("tuple of ints size, *, " + _GEN, 2, 8), ("tuple of ints size, *, " + _OUT, 1, 7)],
    "randn": [("tuple of ints size, *, " + _GEN, 2, 8), ("tuple of ints size, *, " + _OUT, 1, 7)],
    "randint": [("int high, tuple of ints size, *, " + _GEN, 3, 9),
                ("int high, tuple of ints size, *, " + _OUT, 2, 8),
                ("int low, int high, tuple of ints size, *, " + _GEN, 4, 10),
                ("int low, int high, tuple of ints size, *, " + _OUT, 3, 9)],
    "randperm": [("int n, *, " + _GEN, 2, 8), ("int n, *, " + _OUT, 1, 7)],
    "eye": [("int n, *, " + _OUT, 1, 7), ("int n, int m, *, " + _OUT, 2, 8)],
    "arange": [("Number end, *, " + _OUT, 1, 7), ("Number start, Number end, *, " + _KW, 2, 7),
               ("Number start, Number end, Number step = 1, *, " + _OUT, 2, 9)],
    "linspace": [("%s start, %s end, int steps, *, %s" % (a, b, _OUT), 3, 9)
                 for a, b in (("Tensor", "Tensor"), ("Number", "Tensor"), ("Tensor", "Number"),
                              ("Number", "Number"))],
    "new": [("*, torch.device device = None", 0, 1), ("torch.Storage storage", 1, 1),
            ("Tensor other", 1, 1), ("tuple of ints size, *, torch.device device = None", 1, 2),
            ("object data, *, torch.device device = None", 1, 2)],
}

_HEAPTYPE = 1 << 9      # Py_TPFLAGS_HEAPTYPE: a class written in Python


def _typename(obj):
    """The name torch's messages give obj's type: CPython's tp_name (`int`, `numpy.float64`, a
    Python class's bare name), `Tensor` for tensors, `<module>.dtype` and `<module>.Size`."""
    if isinstance(obj, Tensor):
        return "Tensor"
    if isinstance(obj, (_C.dtype, Size)):
        return "%s.%s" % (_MODULE, type(obj).__name__)
    t = type(obj)
    if t.__module__ == "builtins" or t.__flags__ & _HEAPTYPE:
        return t.__name__
    return "%s.%s" % (t.__module__, t.__name__)


def _given(*args):
    """The positional arguments a call passed (those not _MISSING)."""
    return tuple(a for a in args if a is not _MISSING)


def _missing(**params):
    """The names of the required arguments a call left out."""
    return [name for name, value in params.items() if value is _MISSING]


class _Call:
    """One call of a factory, for raising torch's argument errors about it: its name, positional
    arguments and keyword arguments (those left at their defaults do not count)."""

    def __init__(self, name, args, /, **kwargs):
        self.name, self.args, self._kwargs = name, tuple(args), kwargs

    @property
    def kwargs(self):
        # (torch counts every keyword given; unset ones cannot be told from the defaults here)
        return {k: v for k, v in self._kwargs.items()
                if v is not _MISSING and v is not None and v is not False}

    def error(self, message):
        """TypeError(message) when one overload takes this many arguments; otherwise torch's
        "invalid combination of arguments" listing every overload."""
        overloads = _OVERLOADS.get(self.name)
        n = len(self.args) + len(self.kwargs)
        if overloads is None or sum(lo <= n <= hi for _, lo, hi in overloads) == 1:
            return TypeError(message)
        got = "".join("%s, " % _typename(a) for a in self.args)
        got += "".join("%s=%s, " % (k, _typename(v)) for k, v in self.kwargs.items())
        if self.args:           # torch trims the last ", " only when there are positional ones
            got = got[:-2]
        lines = "".join("\n * (%s)" % text for text, _, _ in overloads)
        return TypeError(("%s() received an invalid combination of arguments - got (%s), but "
                          "expected one of:%s\n" % (self.name, got, lines))
                         .replace("torch.", _MODULE + "."))

    def wrong_type(self, param, position, expected, value):
        """torch's error for one argument of the wrong type; position None for a keyword."""
        where = "" if position is None else " (position %d)" % position
        return self.error("%s(): argument '%s'%s must be %s, not %s"
                          % (self.name, param, where, expected, _typename(value)))

    def dtype(self, value):
        """A dtype argument: a dtype, None, or Python's float/int/bool as torch allows."""
        if value is None or isinstance(value, _C.dtype):
            return value
        if value is float or value is int or value is bool:
            return to_dtype(value)
        raise self.wrong_type("dtype", None, _MODULE + ".dtype", value)

    def flag(self, param, value, optional=True):
        """A bool argument (requires_grad, pin_memory): exactly a bool (not an int nor a numpy
        bool), or None where torch declares it `bool?` as the factories do; None means False."""
        if not isinstance(value, bool) and not (optional and value is None):
            raise self.wrong_type(param, None, "bool", value)
        return bool(value)

    def generator(self, value):
        if value is not None and not isinstance(value, Generator):
            raise self.wrong_type("generator", None, _MODULE + ".Generator", value)
        return value

    def integer(self, param, position, value):
        """Check an `int` argument: anything with __index__ but a bool (_unpack_long reads it)."""
        if not _is_int_like(value):
            raise self.wrong_type(param, position, "int", value)

    def number(self, param, position, value):
        """Check a `Number` argument (a Scalar): a Python or numpy number, or a 0-d tensor that
        does not require grad (_scalar_value reads it)."""
        if isinstance(value, Tensor):
            ok = value.dim() == 0 and not value.requires_grad
        else:
            ok = isinstance(value, (bool, int, float, complex, np.number, np.bool_))
        if not ok:
            raise self.wrong_type(param, position, "Number", value)

    def missing(self, *params):
        """torch's error for missing required arguments (its grammar included)."""
        n = len(params)
        return self.error("%s() missing %d required positional argument%s: %s"
                          % (self.name, n, "s" if n == 1 else "",
                             ", ".join('"%s"' % p for p in params)))


def _scalar_value(value):
    """A `Number` argument read as torch reads a Scalar: a Python bool, int or float. An int
    must fit in 64 bits, signed or else unsigned (which later fails a conversion to int64)."""
    if isinstance(value, Tensor):
        value = value.item()
    elif isinstance(value, np.bool_):
        value = float(value)            # torch reads a numpy bool as a double Scalar
    elif isinstance(value, np.number):
        value = value.item()
    if isinstance(value, complex):
        raise TypeError("complex tensors are not supported")
    if isinstance(value, int) and not isinstance(value, bool):
        if value > UINT64_MAX:
            raise OverflowError("int too big to convert")
        if value < INT64_MIN:
            raise OverflowError("can't convert negative int to unsigned")
    return value


def _is_int_like(obj):
    """torch's is_int_or_symint: an index (never a bool), or a one-element integer tensor."""
    if isinstance(obj, Tensor):
        return obj.numel() == 1 and not obj.dtype.is_floating_point
    if isinstance(obj, bool):
        return False
    try:
        operator.index(obj)
    except TypeError:
        return False
    return True


def _index(obj):
    """obj.__index__(), with torch's rule for tensors (one element, integer or bool dtype)."""
    if isinstance(obj, Tensor):
        if obj.numel() != 1 or obj.dtype.is_floating_point:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(obj.item())
    return operator.index(obj)


def _unpack_long(obj):
    """THPUtils_unpackLong: obj as an int64."""
    value = _index(obj)
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    return value


# -- sizes --------------------------------------------------------------------------------------

def _size_element(call, position, obj):
    """One element of a size, unpacked as torch's parser does (bools are accepted here)."""
    if isinstance(obj, bool):
        return int(obj)
    if isinstance(obj, Tensor) and obj.numel() == 1 and obj.dtype is _C.bool_:
        raise RuntimeError("Expected scalar.isIntegral( false) to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    try:
        if not _is_int_like(obj):
            raise TypeError("type must be tuple of ints,but got %s" % _typename(obj))
        return _unpack_long(obj)
    except (TypeError, ValueError) as e:
        raise TypeError('%s(): argument \'size\' failed to unpack the object at pos %d with error '
                        '"%s"' % (call.name, position, e)) from None


def _size_arg(call, args, size=_MISSING, position=1, varargs=True):
    """Check a size given as f(2, 3), f((2, 3)), f([2, 3]), f(Size) or f(size=...), with torch's
    error for each way of getting its form wrong; `args` are the positional arguments holding
    it. Returns its elements, which _unpack_size reads once the other arguments are checked."""
    if args:
        first = args[0]
        if len(args) == 1 and isinstance(first, (tuple, list)):
            if first and not _is_int_like(first[0]):
                raise call.error("%s(): argument 'size' (position %d) must be tuple of ints, but "
                                 "found element of type %s at pos 0"
                                 % (call.name, position, _typename(first[0])))
            elements = first
        elif varargs and _is_int_like(first):
            elements = args            # f(2, 3) means f((2, 3))
        elif len(args) > 1:
            raise TypeError("%s() takes 1 positional argument but %d were given"
                            % (call.name, len(args)))
        else:
            raise call.wrong_type("size", position, "tuple of ints", first)
        if size is not _MISSING:
            raise call.error("%s() got multiple values for argument 'size'" % call.name)
        return elements
    if size is _MISSING:
        raise call.missing("size")
    if not isinstance(size, (tuple, list)) or size and not _is_int_like(size[0]):
        raise call.wrong_type("size", None, "tuple of ints", size)
    return size


def _unpack_size(call, elements):
    """The values of a size's elements (checked by _size_arg), as a tuple of ints."""
    if all(type(x) is int and INT64_MIN <= x <= INT64_MAX for x in elements):
        return tuple(elements)                     # the usual case, quickly
    return tuple(_size_element(call, i + 1, x) for i, x in enumerate(elements))


def _negative_size_error(shape):
    for d in shape:
        if d < 0:
            return RuntimeError("Trying to create tensor with negative dimension %d: [%s]"
                                % (d, ", ".join(map(str, shape))))
    return None


def _allocate(shape, dt, make=np.empty):
    """make(shape, numpy dtype) (np.empty, np.zeros, ...) after torch's checks on the shape,
    with torch's error when memory runs out."""
    negative = _negative_size_error(shape)
    if negative is not None:
        raise negative
    # torch's storage size: the running product of the sizes (which overflows even when a later
    # size is 0), times the item size, must fit in an int64
    nbytes, overflowed = 1, False
    for d in shape + (dt.numpy_dtype.itemsize,):
        nbytes *= d
        overflowed = overflowed or nbytes > UINT64_MAX
    if overflowed or nbytes > INT64_MAX:
        raise RuntimeError("Storage size calculation overflowed with sizes=[%s]"
                           % ", ".join(map(str, shape)))
    # torch's contiguous strides must fit in an int64 too (they can overflow only when a size is
    # 0, so the allocation, which torch does first, cannot have failed)
    stride = 1
    for d in reversed(shape[1:]):
        stride *= max(d, 1)
        if stride > INT64_MAX:
            raise RuntimeError("Stride calculation overflowed")
    try:
        return make(shape, dt.numpy_dtype)
    except MemoryError:
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: "
                           "can't allocate memory: you tried to allocate %d bytes. Error code 12 "
                           "(Cannot allocate memory)" % nbytes) from None
    except ValueError:
        if nbytes:
            raise
        # numpy limits the extent of the non-zero sizes even of an empty array; torch does not
        raise RuntimeError("sizes=[%s] are too large for numpy, which holds %s's tensors, even "
                           "for an empty tensor" % (", ".join(map(str, shape)), _MODULE)) from None


def _finish(arr, requires_grad):
    t = _from_array(arr)
    if requires_grad:
        if not t.dtype.is_floating_point:
            raise RuntimeError(FACTORY_GRAD_MESSAGE)
        t.requires_grad_(True)
    return t


# -- converting one value to a dtype, with torch's overflow checks ------------------------------

# the names torch's messages give the dtypes: when storing Python data, when filling
# (`full`, which converts a Scalar), and as C++ types (randint's bounds, legacy constructors)
_DATA_NAMES = {_C.uint8: "uint8", _C.int8: "int8", _C.int16: "int16", _C.int32: "int32",
               _C.int64: "int64"}
_FILL_NAMES = {_C.uint8: "uint8_t", _C.int8: "int8_t", _C.int16: "int16_t", _C.int32: "int",
               _C.int64: "int64_t", _C.float16: "c10::Half", _C.float32: "float",
               _C.float64: "double", _C.bool_: "bool"}
_CPP_NAMES = {_C.uint8: "unsigned char", _C.int8: "signed char", _C.int16: "short int",
              _C.int32: "int", _C.int64: "long int", _C.float16: "c10::Half",
              _C.float32: "float", _C.float64: "double", _C.bool_: "bool"}


def _range(dt):
    if dt.is_floating_point:
        info = np.finfo(dt.numpy_dtype)
        return float(info.min), float(info.max)
    info = np.iinfo(dt.numpy_dtype)
    return int(info.min), int(info.max)


_RANGES = {d: _range(d) for d in _ALL_DTYPES if d is not _C.bool_}     # bool never overflows


def _overflows(value, dt):
    """c10::overflows: whether the C value `value` (a Python int or float) is out of dt's range.
    An int may wrap into an unsigned type from as low as -max (torch lets `a - b` wrap), a float
    may not; inf and nan overflow every integer type and no floating one."""
    if dt is _C.bool_:
        return False                # converting to bool never overflows
    lo, hi = _RANGES[dt]
    if isinstance(value, float):
        if not math.isfinite(value):
            return not dt.is_floating_point
        return value < lo or value > float(hi)      # C compares in double
    if lo == 0 and value < 0:
        return -value > hi
    return value < lo or value > hi


def _wrap(value, dt):
    """An integer as C stores it in dt: truncated toward zero, then two's complement."""
    bits = 8 * dt.numpy_dtype.itemsize
    value = int(value) & ((1 << bits) - 1)
    if _RANGES[dt][0] < 0 and value >> (bits - 1):
        value -= 1 << bits
    return value


def _fill_value(value, dt):
    """A Scalar (Python bool, int or float) converted to dt as Tensor.fill_ does it: checked."""
    if dt is _C.bool_:
        return bool(value)
    if not isinstance(value, bool) and _overflows(value, dt):
        raise RuntimeError("value cannot be converted to type %s without overflow"
                           % _FILL_NAMES[dt])
    if dt.is_floating_point:
        return float(value)
    return _wrap(value, dt)


def _as_double(obj):
    """PyFloat_AsDouble: a float, or what __float__ (or __index__) gives; no strings."""
    if isinstance(obj, float):
        return float(obj)
    t = type(obj)
    if hasattr(t, "__float__") or hasattr(t, "__index__"):
        return float(obj)
    raise TypeError("must be real number, not %s" % _typename(obj))


def _store(obj, dt):
    """One element of Python data converted to dt as torch.tensor stores it (store_scalar):
    floats and ints each by their own rule, overflow checked for integer dtypes."""
    if dt.is_floating_point:
        return _as_double(obj)
    if dt is _C.bool_:
        return bool(obj) if isinstance(obj, (float, np.bool_)) else bool(_index(obj))
    if isinstance(obj, float):
        value = float(obj)
    else:
        value = _unpack_long(obj)
    if _overflows(value, dt):
        raise RuntimeError("value cannot be converted to type %s without overflow"
                           % _DATA_NAMES[dt])
    return _wrap(value, dt)


def _cast_floats(values, dt):
    """Python floats (or a float64 array) as dt: C's double-to-float casts (to half through
    float, as c10 converts), inf where they overflow."""
    arr = np.asarray(values, dtype=np.float64)
    if dt is _C.float64:
        return arr
    with np.errstate(over="ignore"):
        arr = arr.astype(np.float32)
        return arr if dt is _C.float32 else arr.astype(dt.numpy_dtype)


# -- numpy arrays and numpy dtypes --------------------------------------------------------------

_TORCH_NUMPY_TYPES = ("float64, float32, float16, complex64, complex128, int64, int32, int16, "
                      "int8, uint64, uint32, uint16, uint8, and bool")


def _dtype_of_numpy(np_dtype):
    """Our dtype for a numpy dtype; torch's TypeError for one torch cannot hold, and a clear one
    for those torch has but autograd_c does not (complex, uint16 and wider unsigned)."""
    found = _DTYPE_BY_NUMPY.get(np_dtype)
    if found is not None:
        return found
    name = "numpy." + np_dtype.type.__name__
    if np_dtype.name in ("uint16", "uint32", "uint64", "complex64", "complex128"):
        raise TypeError("can't convert np.ndarray of type %s: %s has no %s dtype"
                        % (name, _MODULE, np_dtype.name))
    raise TypeError("can't convert np.ndarray of type %s. The only supported types are: %s."
                    % (name, _TORCH_NUMPY_TYPES))


def _check_numpy(arr):
    """What torch's tensor_from_numpy refuses, in its order and words."""
    itemsize = arr.dtype.itemsize
    if itemsize and any(s % itemsize for s in arr.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. Copy "
                         "the numpy array to reallocate the memory.")
    if any(s < 0 for s in arr.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array  with array.copy().) ")
    if not arr.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. "
                         "Conversion between byte orders is currently not supported.")
    return _dtype_of_numpy(arr.dtype)


def _convert_array(arr, dt):
    """arr in dtype dt as Tensor.to(dt) converts (plain C casts); the same array if it already
    is of that dtype."""
    if dt is None or arr.dtype == dt.numpy_dtype:
        return arr
    if dt.is_floating_point and arr.dtype.kind == "f":
        return _cast_floats(arr, dt)
    with np.errstate(over="ignore", invalid="ignore"):
        return arr.astype(dt.numpy_dtype)


# -- Python data (nested sequences of numbers) --------------------------------------------------

_MAX_DIMS = 128


def _is_sequence(obj):
    """PySequence_Check as torch applies it to data: anything indexable except dicts, numpy
    number scalars (they index like mappings; numpy strings are strings) and tensors (torch's do
    not count as sequences)."""
    if isinstance(obj, (dict, Tensor)):
        return False
    if isinstance(obj, np.generic) and not isinstance(obj, (str, bytes)):
        return False
    return hasattr(type(obj), "__getitem__")


def _compute_sizes(data):
    """The shape torch reads from data: the length of the first element at each level."""
    sizes = []
    seq = data
    while _is_sequence(seq):
        n = len(seq)
        sizes.append(n)
        if len(sizes) > _MAX_DIMS:
            raise ValueError("too many dimensions '%s'" % _typename(seq))
        if n == 0:
            break
        seq = seq[0]
    return tuple(sizes)


def _promote(a, b):
    """torch.promote_types for our dtypes: a floating type beats any integer or bool one."""
    if a is None or a is b:
        return b
    if a.is_floating_point != b.is_floating_point:
        return a if a.is_floating_point else b
    return _DTYPE_BY_NUMPY[np.promote_types(a.numpy_dtype, b.numpy_dtype)]


def _infer_dtype(obj):
    """torch's infer_scalar_type: the dtype torch.tensor(obj) gets, promoted over every element."""
    if isinstance(obj, (np.ndarray, np.generic)):
        return _dtype_of_numpy(obj.dtype)
    if isinstance(obj, float):
        return get_default_dtype()
    if isinstance(obj, bool):
        return _C.bool_
    if isinstance(obj, int):
        return _C.int64
    if isinstance(obj, complex):
        raise TypeError("complex tensors are not supported")
    if isinstance(obj, Tensor):
        return obj.dtype
    if isinstance(obj, (str, bytes)):
        raise TypeError("new(): invalid data type '%s'" % _typename(obj))
    if _is_sequence(obj):
        n = len(obj)
        if n == 0:
            return get_default_dtype()
        result = None
        for i in range(n):
            result = _promote(result, _infer_dtype(obj[i]))
        return result
    raise RuntimeError("Could not infer dtype of %s" % _typename(obj))


def _store_all(data, sizes, dt):
    """torch's recursive_store: every element of data, converted to dt, as a flat list; each
    level must have the length its first element set."""
    out = []
    ndim = len(sizes)

    def store(obj, dim):
        if dim == ndim:
            out.append(_store(obj, dt))
            return
        if isinstance(obj, (list, tuple)):
            items = obj
        else:
            try:
                items = list(iter(obj))
            except TypeError:
                raise TypeError("not a sequence") from None
        if len(items) != sizes[dim]:
            raise ValueError("expected sequence of length %d at dim %d (got %d)"
                             % (sizes[dim], dim, len(items)))
        for item in items:
            store(item, dim + 1)

    store(data, 0)
    return out


_PLAIN = frozenset((bool, int, float))
_CONTAINERS = frozenset((list, tuple))


def _fast_array(data, dt):
    """numpy's conversion of data when it is certain to agree with torch's element-by-element one
    (a rectangular nest of lists and tuples holding only Python bools, ints and floats, the ints
    within int64); None when the general path must decide."""
    if type(data) not in (list, tuple):
        return None
    try:
        arr = np.array(data)
    except Exception:       # ragged, too deep, odd elements: all for the general path to judge
        return None
    if arr.dtype not in (np.bool_, np.int64, np.float64):
        return None
    # numpy also unpacks arrays, tensors and other sequences, which torch treats differently:
    # walk down the levels numpy found, requiring lists and tuples, then plain numbers
    level = [data]
    for _ in range(arr.ndim):
        if not set(map(type, level)) <= _CONTAINERS:
            return None
        level = [x for seq in level for x in seq]
    kinds = set(map(type, level))
    if not kinds <= _PLAIN or float not in kinds and arr.dtype == np.float64:
        return None         # (numpy makes floats of ints beyond int64 mixed with negative ones)
    if dt is None:
        dt = (get_default_dtype() if float in kinds or not kinds else
              _C.int64 if int in kinds else _C.bool_)
    if dt.is_floating_point:
        return _cast_floats(arr, dt)
    if dt is _C.bool_:
        return arr.astype(np.bool_)
    # integer dtypes: ints and floats convert by different rules, so only unmixed data here,
    # and only when nothing overflows (the general path raises torch's error at the right spot)
    if float in kinds and kinds != {float}:
        return None
    if arr.size:
        lo, hi = arr.min(), arr.max()
        lo, hi = (float(lo), float(hi)) if arr.dtype.kind == "f" else (int(lo), int(hi))
        if _overflows(lo, dt) or _overflows(hi, dt):
            return None
    with np.errstate(invalid="ignore"):
        return arr.astype(dt.numpy_dtype)


def _data_to_array(data, dt, infer):
    """torch's internal_new_from_data: Python data, a tensor or an ndarray as an array of dtype
    dt (when not infer) or of the dtype torch infers from the data. May share memory with data."""
    if isinstance(data, (str, bytes)):
        raise TypeError("new(): invalid data type '%s'" % _typename(data))
    if isinstance(data, Tensor):
        arr = _C._array_of(data)
        return _convert_array(arr, None if infer else dt)
    if isinstance(data, np.ndarray):
        _check_numpy(data)
        return _convert_array(data, None if infer else dt)
    arr = _fast_array(data, None if infer else dt)
    if arr is not None:
        return arr
    sizes = _compute_sizes(data)
    if infer:
        dt = _infer_dtype(data)
    if any(n == 0 for n in sizes):                 # torch stores nothing then
        return np.zeros(sizes, dtype=dt.numpy_dtype)
    values = _store_all(data, sizes, dt)
    if dt.is_floating_point:
        arr = _cast_floats(values, dt)
    else:
        arr = np.array(values, dtype=dt.numpy_dtype)
    return arr.reshape(sizes)


# -- tensor, as_tensor, from_numpy, legacy constructors -----------------------------------------

def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of data."""
    call = _Call("tensor", (data,))
    dt = call.dtype(dtype)
    check_device(device)
    requires_grad = call.flag("requires_grad", requires_grad, optional=False)
    call.flag("pin_memory", pin_memory, optional=False)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than %s.tensor(sourceTensor)." % _MODULE,
                      UserWarning, stacklevel=2)
    arr = _data_to_array(data, dt, infer=dt is None)
    source = _C._array_of(data) if isinstance(data, Tensor) else data
    if arr is source:
        arr = arr.copy()                           # never share memory with the source
    return _finish(_with_size_one_strides_of(arr, source), requires_grad)


def _with_size_one_strides_of(arr, source):
    """arr, a C-contiguous copy of the array source, with source's strides (in elements) on
    its size-1 dims: numpy leaves any stride there in a contiguous array, and torch.tensor
    keeps it, as .stride() shows."""
    if not (isinstance(source, np.ndarray) and source.flags.c_contiguous and
            arr.flags.c_contiguous and arr.shape == source.shape and source.itemsize):
        return arr
    strides = tuple(s // source.itemsize * arr.itemsize for s in source.strides)
    if strides == arr.strides:
        return arr
    return np.lib.stride_tricks.as_strided(arr, arr.shape, strides)


def as_tensor(data, *, dtype=None, device=None):
    """data as a tensor, sharing memory when it already is one (or a numpy array) of that dtype."""
    call = _Call("as_tensor", (data,))
    dt = call.dtype(dtype)
    check_device(device)
    if isinstance(data, Tensor):
        return data if dt is None or data.dtype is dt else data.to(dt)
    return _from_array(_data_to_array(data, dt, infer=dt is None))


def from_numpy(ndarray):
    if not isinstance(ndarray, np.ndarray):
        raise TypeError("expected np.ndarray (got %s)" % _typename(ndarray))
    _check_numpy(ndarray)
    return _from_array(ndarray)


def _tensor_options(dt):
    return ("TensorOptions(dtype=%s, device=cpu, layout=Strided, requires_grad=false (default), "
            "pinned_memory=false (default), memory_format=(nullopt))" % _CPP_NAMES[dt])


def legacy_constructor_array(args, kwargs, default, typed=False):
    """torch's legacy constructors: Tensor(*sizes), Tensor(data), Tensor(other), and the typed
    ones (FloatTensor(...), typed=True), as the array the new tensor holds."""
    kwargs = dict(kwargs)
    device_arg = kwargs.pop("device", None)
    call = _Call("new", args, device=device_arg, **kwargs)
    if kwargs:
        raise call.error("new() received an invalid combination of arguments")
    if device_arg is not None and device(device_arg).type != "cpu":
        raise RuntimeError("legacy constructor expects device type: cpu but device type: %s was "
                           "passed" % device(device_arg).type)
    if not args:
        return np.empty((0,), dtype=default.numpy_dtype)
    first = args[0]
    if len(args) == 1:
        if isinstance(first, Tensor):              # an alias of the tensor, as torch's Tensor(t)
            if typed and first.dtype is not default:
                raise TypeError("expected %s (got %s)"
                                % (_tensor_options(default), _tensor_options(first.dtype)))
            return _C._array_of(first)
        if not isinstance(first, Size) and not _is_int_like(first):
            if not _is_sequence(first):
                raise TypeError("new(): data must be a sequence (got %s)" % _typename(first))
            return _data_to_array(first, default, infer=False)    # shares an ndarray's memory
    elif not _is_int_like(first):
        raise call.error("new() received an invalid combination of arguments")
    return _allocate(_unpack_size(call, _size_arg(call, args)), default)


class _LegacyTensorType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype


def _legacy_type(name, dt):
    def __new__(cls, *args, **kwargs):
        return _from_array(legacy_constructor_array(args, kwargs, dt, typed=True))
    return _LegacyTensorType(name, (), {"dtype": dt, "__new__": __new__})


# -- factories ----------------------------------------------------------------------------------
#
# Each factory checks its arguments' types in torch's order first (_Call: a specific message, or
# "invalid combination of arguments"), and only then reads their values (sizes, ints, Numbers),
# which may fail on overflow: torch's parser does the same two passes.

def _options(call, dtype, device, requires_grad, pin_memory):
    """Check the keyword arguments every factory takes; the dtype (or None) and requires_grad."""
    dt = call.dtype(dtype)
    check_device(device)
    call.flag("pin_memory", pin_memory)
    return dt, call.flag("requires_grad", requires_grad)


def _filled(name, args, size, dtype, device, requires_grad, pin_memory, make):
    """zeros, ones and empty (and their _like forms): make(shape, numpy dtype) of the size in
    args or `size`."""
    call = _Call(name, args, size=size, dtype=dtype, device=device, requires_grad=requires_grad,
                 pin_memory=pin_memory)
    elements = _size_arg(call, args, size)
    dt, requires_grad = _options(call, dtype, device, requires_grad, pin_memory)
    shape = _unpack_size(call, elements)
    if name.startswith("zeros") and any(d < 0 for d in shape):
        raise RuntimeError("zeros: Dimension size must be non-negative.")    # zeros' own check
    return _finish(_allocate(shape, dt or get_default_dtype(), make), requires_grad)


def zeros(*args, size=_MISSING, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """A tensor of zeros: zeros(2, 3), zeros((2, 3)), zeros([2, 3]) or zeros(size=(2, 3))."""
    return _filled("zeros", args, size, dtype, device, requires_grad, pin_memory, np.zeros)


def ones(*args, size=_MISSING, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    return _filled("ones", args, size, dtype, device, requires_grad, pin_memory, np.ones)


def empty(*args, size=_MISSING, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, memory_format=None):
    return _filled("empty", args, size, dtype, device, requires_grad, pin_memory, np.empty)


def _full(name, size, fill_value, dtype, device, requires_grad, pin_memory):
    call = _Call(name, _given(size, fill_value), dtype=dtype, device=device,
                 requires_grad=requires_grad, pin_memory=pin_memory)
    if size is _MISSING:
        raise call.missing(*_missing(size=size, fill_value=fill_value))
    elements = _size_arg(call, (size,), varargs=False)
    if fill_value is _MISSING:
        raise call.missing("fill_value")
    call.number("fill_value", 2, fill_value)
    dt, requires_grad = _options(call, dtype, device, requires_grad, pin_memory)
    shape = _unpack_size(call, elements)
    value = _scalar_value(fill_value)
    if dt is None:      # the Scalar's kind decides (a 0-d tensor's value counts as a number)
        dt = (_C.bool_ if isinstance(value, bool) else
              _C.int64 if isinstance(value, int) else get_default_dtype())
    arr = _allocate(shape, dt)
    arr.fill(_fill_value(value, dt))
    return _finish(arr, requires_grad)


def full(size=_MISSING, fill_value=_MISSING, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    # (the defaults only let a missing argument get torch's error, in torch's order)
    return _full("full", size, fill_value, dtype, device, requires_grad, pin_memory)


def eye(n=_MISSING, m=_MISSING, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False, pin_memory=False):
    call = _Call("eye", _given(n, m), dtype=dtype, device=device, requires_grad=requires_grad,
                 pin_memory=pin_memory)
    if n is _MISSING:
        raise call.missing("n")
    call.integer("n", 1, n)
    if m is not _MISSING:
        call.integer("m", 2, m)
    dt, requires_grad = _options(call, dtype, device, requires_grad, pin_memory)
    n = _unpack_long(n)
    m = n if m is _MISSING else _unpack_long(m)
    if n < 0:
        raise RuntimeError("n must be greater or equal to 0, got %d" % n)
    if m < 0:
        raise RuntimeError("m must be greater or equal to 0, got %d" % m)
    arr = _allocate((n, m), dt or get_default_dtype(), np.zeros)
    np.fill_diagonal(arr, 1)
    return _finish(arr, requires_grad)


def _like(name, input, dtype):
    """The dtype a *_like factory asks for (checked later, in torch's order); torch's error when
    input is not a tensor."""
    if not isinstance(input, Tensor):
        raise TypeError("%s(): argument 'input' (position 1) must be Tensor, not %s"
                        % (name, _typename(input)))
    return input.dtype if dtype is None else dtype


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, pin_memory=False):
    dtype = _like("zeros_like", input, dtype)
    return _filled("zeros_like", (input.shape,), _MISSING, dtype, device, requires_grad,
                   pin_memory, np.zeros)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, pin_memory=False):
    dtype = _like("ones_like", input, dtype)
    return _filled("ones_like", (input.shape,), _MISSING, dtype, device, requires_grad,
                   pin_memory, np.ones)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, pin_memory=False):
    dtype = _like("empty_like", input, dtype)
    return _filled("empty_like", (input.shape,), _MISSING, dtype, device, requires_grad,
                   pin_memory, np.empty)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, pin_memory=False):
    dtype = _like("full_like", input, dtype)
    return _full("full_like", tuple(input.shape), fill_value, dtype, device, requires_grad,
                 pin_memory)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, pin_memory=False):
    dtype = _like("rand_like", input, dtype)
    return _random("rand_like", (input.shape,), _MISSING, None, dtype, device, requires_grad,
                   pin_memory, *_UNIFORM)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, pin_memory=False):
    dtype = _like("randn_like", input, dtype)
    return _random("randn_like", (input.shape,), _MISSING, None, dtype, device, requires_grad,
                   pin_memory, *_NORMAL)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None, pin_memory=False):
    dtype = _like("randint_like", input, dtype)
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype, device=device,
                   requires_grad=requires_grad, pin_memory=pin_memory)


def _format_scalar(value):
    """A C++ Scalar as torch's messages print it (a double with six significant digits)."""
    return "%g" % value if isinstance(value, float) else str(value)


def arange(start=_MISSING, end=_MISSING, step=_MISSING, *, out=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False):
    """arange(end), arange(start, end) or arange(start, end, step), as torch's overloads."""
    call = _Call("arange", _given(start, end, step), dtype=dtype, device=device,
                 requires_grad=requires_grad, pin_memory=pin_memory)
    if step is _MISSING and (start is _MISSING) != (end is _MISSING):     # arange(end)
        start, end, step = 0, end if start is _MISSING else start, 1
        call.number("end", 1, end)
    elif start is _MISSING or end is _MISSING:
        raise call.missing("end")
    else:
        call.number("start", 1, start)
        call.number("end", 2, end)
        if step is _MISSING:
            step = 1
        else:
            call.number("step", 3, step)
    dt, requires_grad = _options(call, dtype, device, requires_grad, pin_memory)
    start, end, step = (_scalar_value(v) for v in (start, end, step))
    if dt is None:
        dt = (get_default_dtype() if any(isinstance(v, float) for v in (start, end, step))
              else _C.int64)
    if dt is _C.bool_:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    # torch works in the accumulate type: int64 for integer dtypes, double for floating ones
    acc = _C.float64 if dt.is_floating_point else _C.int64
    xstart, xend, xstep = (_fill_value(v, acc) for v in (start, end, step))
    if not (xstep > 0 or xstep < 0):
        # a step that only the conversion to an integer type made 0 is a ValueError in torch
        raise (ValueError if acc is _C.int64 and step != 0 else RuntimeError)(
            "step must be nonzero")
    if not (math.isfinite(xstart) and math.isfinite(xend)):
        raise RuntimeError("unsupported range: %s -> %s"
                           % (_format_scalar(xstart), _format_scalar(xend)))
    # the bounds as given, not as converted: arange(0.7, 0.5, dtype=torch.int8) is refused
    if not (xstep > 0 and end >= start or xstep < 0 and end <= start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dt is _C.int64:
        # only int64's length comes from the converted values; the other integer dtypes' from
        # the bounds as given, as the floating ones'
        span = xend - xstart + xstep - (1 if xstep > 0 else -1)
        size = float(abs(span) // abs(xstep))          # C's truncating division
    else:
        size = (float(end) - float(start)) / float(step)
        size = math.ceil(size) if math.isfinite(size) else size
    if not 0 <= size <= float(INT64_MAX):
        raise RuntimeError("invalid size, possible overflow?")
    size = int(size)
    if size > INT64_MAX:                               # 2**63 itself passes the check above
        raise RuntimeError("IntArrayRef contains an int that cannot be represented as a SymInt: "
                           "%d" % INT64_MIN)

    def values(shape, np_dtype):
        i = np.arange(size, dtype=np.int64)
        if acc is _C.int64:
            with np.errstate(over="ignore"):
                return (xstart + xstep * i).astype(np_dtype)
        return _cast_floats(xstart + xstep * i.astype(np.float64), dt)

    return _finish(_allocate((size,), dt, values), requires_grad)


def _linspace_end(value, param):
    """linspace's start or end: a Number, or a 0-d tensor (which, unlike a Number, may require
    grad); as a Python number."""
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError("linspace only supports 0-dimensional start and end tensors, but "
                               "got %s with %d dimension(s)." % (param, value.dim()))
        return value.item()
    return _scalar_value(value)


def linspace(start=_MISSING, end=_MISSING, steps=_MISSING, *, out=None, dtype=None,
             layout=None, device=None, requires_grad=False, pin_memory=False):
    call = _Call("linspace", _given(start, end, steps), dtype=dtype, device=device,
                 requires_grad=requires_grad, pin_memory=pin_memory)
    missing = _missing(start=start, end=end, steps=steps)
    if missing:
        raise call.missing(*missing)
    for param, position, value in (("start", 1, start), ("end", 2, end)):
        if not isinstance(value, Tensor):      # (a Tensor overload takes any tensor)
            call.number(param, position, value)
    call.integer("steps", 3, steps)
    dt, requires_grad = _options(call, dtype, device, requires_grad, pin_memory)
    dt = dt or get_default_dtype()
    start, end = _linspace_end(start, "start"), _linspace_end(end, "end")
    steps = _unpack_long(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")

    def values(shape, np_dtype):
        if dt is _C.bool_:
            raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
        first, last = start, end
        if not dt.is_floating_point and steps:
            # an integer dtype interpolates between the ends converted to it (checked, and
            # truncated); a single step only takes the start
            first = _fill_value(start, dt)
            last = _fill_value(end, dt) if steps > 1 else end
        if steps == 1:
            v = np.array([first], dtype=np.float64)
        else:
            # both ends exact: the first half counts up from start, the second down from end
            step = (last - first) / (steps - 1)
            i = np.arange(steps, dtype=np.float64)
            v = np.where(i < steps // 2, first + i * step, last - (steps - 1 - i) * step)
        if dt.is_floating_point:
            return _cast_floats(v, dt)
        with np.errstate(invalid="ignore"):
            return v.astype(np_dtype)

    return _finish(_allocate((steps,), dt, values), requires_grad)


# rand's and randn's kernels (named in torch's error for a dtype they lack) and draws, which are
# float64 whatever the dtype, so that a seed gives the same values in every floating dtype
_UNIFORM = ("check_uniform_bounds", lambda rng, shape: rng.random(shape, dtype=np.float64))
_NORMAL = ("normal_kernel_cpu", lambda rng, shape: rng.standard_normal(shape, dtype=np.float64))


def _random(name, args, size, generator, dtype, device, requires_grad, pin_memory, kernel, draw):
    """rand and randn (and their _like forms): draw(rng, shape) in a floating dtype."""
    call = _Call(name, args, size=size, generator=generator, dtype=dtype, device=device,
                 requires_grad=requires_grad, pin_memory=pin_memory)
    elements = _size_arg(call, args, size)
    rng = _rng(call.generator(generator))
    dt, requires_grad = _options(call, dtype, device, requires_grad, pin_memory)
    dt = dt or get_default_dtype()
    shape = _unpack_size(call, elements)

    def values(shape, np_dtype):
        if not dt.is_floating_point:
            raise NotImplementedError("\"%s\" not implemented for '%s'"
                                      % (kernel, dt.legacy_name[:-len("Tensor")]))
        return draw(rng, shape).astype(np_dtype)

    return _finish(_allocate(shape, dt, values), requires_grad)


def rand(*args, size=_MISSING, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    return _random("rand", args, size, generator, dtype, device, requires_grad, pin_memory,
                   *_UNIFORM)


def randn(*args, size=_MISSING, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    return _random("randn", args, size, generator, dtype, device, requires_grad, pin_memory,
                   *_NORMAL)


def _check_random_bounds(low, high, dt):
    """torch's random_(from, to) checks: from < to, both ends representable in dt, and a warning
    when a floating dtype cannot tell all the integers between them apart."""
    if low >= high:
        raise RuntimeError("random_ expects 'from' to be less than 'to', but got from=%d >= to=%d"
                           % (low, high))
    lo, hi = (0, 1) if dt is _C.bool_ else _RANGES[dt]
    for value, what in ((low, "from"), (high - 1, "to - 1")):
        if not lo <= value <= hi:
            raise RuntimeError("%s is out of bounds for %s" % (what, _CPP_NAMES[dt]))
    if dt.is_floating_point:
        digits = np.finfo(dt.numpy_dtype).nmant + 1
        for value, what in ((low, "from"), (high - 1, "to - 1")):
            if not -(1 << digits) <= value <= 1 << digits:
                warnings.warn("%s is out of bounds [-(2^%d), 2^%d]. Due to precision limitations "
                              "%s can support discrete uniform distribution only within this "
                              "range. This warning will become an error in version 1.7 release, "
                              "please fix the code in advance"
                              % (what, digits, digits, _CPP_NAMES[dt]), UserWarning, stacklevel=5)


def randint(*args, low=_MISSING, high=_MISSING, size=_MISSING, generator=None, out=None,
            dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """randint(high, size) or randint(low, high, size): integers drawn from [low, high)."""
    call = _Call("randint", args, low=low, high=high, size=size, generator=generator, dtype=dtype,
                 device=device, requires_grad=requires_grad, pin_memory=pin_memory)
    # torch's two overloads, (high, size) and (low, high, size), positionally or by keyword
    three = len(args) == 3 or len(args) == 2 and size is not _MISSING \
        or len(args) == 1 and high is not _MISSING
    names = ("low", "high", "size") if three else ("high", "size")
    bound = dict(zip(names, args))
    for name, value in (("low", low), ("high", high), ("size", size)):
        if value is not _MISSING:
            if name in bound:
                raise TypeError("randint() got multiple values for argument '%s'" % name)
            bound[name] = value
    if len(args) > 3 or "high" not in bound or "size" not in bound:
        raise call.missing(*(p for p in ("high", "size") if p not in bound))
    position = {name: i + 1 if i < len(args) else None for i, name in enumerate(names)}
    if "low" in bound:
        call.integer("low", position.get("low"), bound["low"])
    call.integer("high", position["high"], bound["high"])
    if position["size"] is None:
        elements = _size_arg(call, (), size=bound["size"])
    else:
        elements = _size_arg(call, (bound["size"],), position=position["size"], varargs=False)
    rng = _rng(call.generator(generator))
    dt, requires_grad = _options(call, dtype, device, requires_grad, pin_memory)
    dt = dt or _C.int64
    low = _unpack_long(bound["low"]) if "low" in bound else 0
    high = _unpack_long(bound["high"])
    shape = _unpack_size(call, elements)

    def values(shape, np_dtype):
        _check_random_bounds(low, high, dt)
        return rng.integers(low, high, size=shape, dtype=np.int64).astype(np_dtype)

    return _finish(_allocate(shape, dt, values), requires_grad)


# how many distinct integers a floating dtype holds exactly (randperm's limit)
_PERMUTATION_LIMITS = {_C.float16: (2049, "2049 for Half"),
                       _C.float32: ((1 << 24) + 1, "2^24+1 for Float"),
                       _C.float64: ((1 << 53) + 1, "2^53+1 for Double")}


def randperm(n=_MISSING, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    call = _Call("randperm", _given(n), generator=generator, dtype=dtype, device=device,
                 requires_grad=requires_grad, pin_memory=pin_memory)
    if n is _MISSING:
        raise call.missing("n")
    call.integer("n", 1, n)
    rng = _rng(call.generator(generator))
    dt, requires_grad = _options(call, dtype, device, requires_grad, pin_memory)
    dt = dt or _C.int64
    n = _unpack_long(n)

    def values(shape, np_dtype):
        _fill_value(n - 1 if n > 0 else n, dt)           # the largest value must fit in dt
        limit, text = _PERMUTATION_LIMITS.get(dt, (n, ""))
        if n > limit:
            raise RuntimeError("n cannot be greater than %s type." % text)
        if dt is _C.bool_:
            raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
        return rng.permutation(n).astype(np_dtype)

    return _finish(_allocate((n,), dt, values), requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False):
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean.detach().numpy() if isinstance(mean, Tensor) else mean
        s = std.detach().numpy() if isinstance(std, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        dt = (mean if isinstance(mean, Tensor) else std).dtype
        arr = _rng(generator).normal(m, s, size=shape).astype(dt.numpy_dtype)
        return _finish(arr, requires_grad)
    call = _Call("normal", (mean, std, size))
    shape = _unpack_size(call, _size_arg(call, (size,), position=3, varargs=False))
    dt = call.dtype(dtype) or get_default_dtype()
    arr = _rng(generator).normal(mean, std, size=shape).astype(dt.numpy_dtype)
    return _finish(arr, requires_grad)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Draw category indices from each row of non-negative weights."""
    if not isinstance(input, Tensor):
        raise TypeError("multinomial(): argument 'input' must be Tensor, not %s" % type(input).__name__)
    probs = input.detach().numpy().astype(np.float64)
    if probs.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    rows = probs.reshape(-1, probs.shape[-1])
    n_categories = rows.shape[1]
    if not replacement and num_samples > n_categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rng = _rng(generator)
    out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for r, row in enumerate(rows):
        total = row.sum()
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement and np.count_nonzero(row) < num_samples:
            raise RuntimeError("invalid multinomial distribution (with replacement=False, not "
                               "enough non-negative category to sample)")
        out[r] = rng.choice(n_categories, size=num_samples, replace=replacement, p=row / total)
    return _from_array(out.reshape(probs.shape[:-1] + (num_samples,)))


def fill_uniform(shape, a, b, generator):
    return _rng(generator).uniform(a, b, size=shape)


def fill_normal(shape, mean, std, generator):
    return _rng(generator).normal(mean, std, size=shape)
