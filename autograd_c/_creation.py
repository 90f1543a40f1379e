"""Factories, random numbers and devices: the torch functions that make new tensors."""
import numbers

import numpy as np

from autograd_c import _C
from autograd_c._C import Tensor, Size, to_dtype, get_default_dtype

_from_array = _C._from_array

FACTORY_GRAD_MESSAGE = "Only Tensors of floating point and complex dtype can require gradients"


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


# -- data conversion ----------------------------------------------------------------------------

def _infer_array(data, dtype=None):
    """Python data (nested sequences of numbers or tensors) as an ndarray with torch's dtype, or
    with `dtype` when given (converted once, so float64 data never passes through float32)."""
    if isinstance(data, Tensor):
        return _C._array_of(data)
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, (str, bytes)):
        raise TypeError("new(): invalid data type '%s'" % type(data).__name__)
    _check_nested(data)
    arr = np.array(data)
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError("new(): invalid data type '%s'" % arr.dtype)
    if dtype is not None:
        return arr.astype(to_dtype(dtype).numpy_dtype)
    if arr.dtype.kind == "f":
        arr = arr.astype(get_default_dtype().numpy_dtype)
    elif arr.dtype.kind in "iu" and arr.dtype != np.uint8:
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "c":
        raise TypeError("complex tensors are not supported")
    return arr


def _check_nested(data):
    """torch's error for ragged nested lists, checked without recursion."""
    stack = [(data, 0)]
    lengths = {}
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, tuple)):
            n = len(item)
            if depth in lengths and lengths[depth] != n:
                raise ValueError("expected sequence of length %d at dim %d (got %d)"
                                 % (lengths[depth], depth, n))
            lengths[depth] = n
            stack.extend((x, depth + 1) for x in item)
        elif isinstance(item, Tensor) and item.dim() > 0:
            stack.append((item.tolist(), depth))


def _finish(arr, dtype, requires_grad):
    if dtype is not None:
        arr = arr.astype(to_dtype(dtype).numpy_dtype, copy=False)
    t = _from_array(arr)
    if requires_grad:
        if not t.dtype.is_floating_point:
            raise RuntimeError(FACTORY_GRAD_MESSAGE)
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of data."""
    check_device(device)
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.clone().detach() or sourceTensor.clone().detach()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    arr = np.array(_infer_array(data, dtype), copy=True)
    return _finish(arr, dtype, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """data as a tensor, sharing memory when it already is one (or a numpy array) of that dtype."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is to_dtype(dtype) else data.to(dtype)
    if isinstance(data, np.ndarray):
        return from_numpy(data) if dtype is None else _finish(data, dtype, False)
    return tensor(data, dtype=dtype)


def from_numpy(ndarray):
    if not isinstance(ndarray, np.ndarray):
        raise TypeError("expected np.ndarray (got %s)" % type(ndarray).__name__)
    return _from_array(ndarray)


def legacy_constructor_array(args, kwargs, default):
    """Tensor(*sizes), Tensor(data), FloatTensor(...): torch's legacy constructors."""
    check_device(kwargs.pop("device", None))
    if kwargs:
        raise TypeError("new() received an invalid combination of arguments")
    np_dtype = default.numpy_dtype
    if not args:
        return np.empty((0,), dtype=np_dtype)
    if len(args) == 1 and isinstance(args[0], Size):
        return np.empty(tuple(args[0]), dtype=np_dtype)
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        return np.empty(args, dtype=np_dtype)
    if len(args) == 1:
        data = args[0]
        if isinstance(data, numbers.Number):
            raise TypeError("new(): data must be a sequence (got %s)" % type(data).__name__)
        return np.array(_infer_array(data, default), dtype=np_dtype, copy=True)
    raise TypeError("new() received an invalid combination of arguments")


class _LegacyTensorType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype


def _legacy_type(name, dt):
    def __new__(cls, *args, **kwargs):
        return _from_array(legacy_constructor_array(args, kwargs, dt))
    return _LegacyTensorType(name, (), {"dtype": dt, "__new__": __new__})


# -- factories ----------------------------------------------------------------------------------

def _shape(size):
    return _C.parse_shape_py(size)


def _float_dtype(dtype):
    return to_dtype(dtype) if dtype is not None else get_default_dtype()


def _factory(arr, requires_grad, device):
    check_device(device)
    return _finish(arr, None, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _factory(np.zeros(_shape(size), dtype=_float_dtype(dtype).numpy_dtype), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _factory(np.ones(_shape(size), dtype=_float_dtype(dtype).numpy_dtype), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          memory_format=None):
    return _factory(np.empty(_shape(size), dtype=_float_dtype(dtype).numpy_dtype), requires_grad, device)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None):
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = _C.bool_
        elif isinstance(fill_value, numbers.Integral):
            dtype = _C.int64
        elif isinstance(fill_value, Tensor):
            dtype = fill_value.dtype
        else:
            dtype = get_default_dtype()
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    arr = np.full(_shape((size,)), value, dtype=to_dtype(dtype).numpy_dtype)
    return _factory(arr, requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError("n must be greater or equal to 0, got %d" % (n if n < 0 else m))
    return _factory(np.eye(n, m, dtype=_float_dtype(dtype).numpy_dtype), requires_grad, device)


def _like(input, dtype):
    if not isinstance(input, Tensor):
        raise TypeError("expected Tensor as argument 'input', but got %s" % type(input).__name__)
    return to_dtype(dtype) if dtype is not None else input.dtype


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return zeros(input.shape, dtype=_like(input, dtype), device=device, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return ones(input.shape, dtype=_like(input, dtype), device=device, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return empty(input.shape, dtype=_like(input, dtype), device=device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return full(input.shape, fill_value, dtype=_like(input, dtype), device=device,
                requires_grad=requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return rand(input.shape, dtype=_like(input, dtype), device=device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return randn(input.shape, dtype=_like(input, dtype), device=device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=_like(input, dtype), device=device,
                   requires_grad=requires_grad)


def _is_float_number(*values):
    return any(isinstance(v, float) or (isinstance(v, Tensor) and v.dtype.is_floating_point)
               for v in values)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None):
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = get_default_dtype() if _is_float_number(start, end, step) else _C.int64
    n = int(np.ceil((end - start) / step))
    values = start + np.arange(n, dtype=np.float64 if _is_float_number(start, end, step) else np.int64) * step
    return _factory(values.astype(to_dtype(dtype).numpy_dtype), requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None):
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _float_dtype(dtype)
    if steps == 1:
        values = np.array([start], dtype=np.float64)
    else:
        # both ends exact: the first half counts up from start, the second down from end
        step = (end - start) / (steps - 1)
        i = np.arange(steps, dtype=np.float64)
        values = np.where(i < steps // 2, start + i * step, end - (steps - 1 - i) * step)
    return _factory(values.astype(dt.numpy_dtype), requires_grad, device)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    dt = _float_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError("\"check_uniform_bounds\" not implemented for '%s'" % dt.legacy_name[:-6])
    arr = _rng(generator).random(_shape(size), dtype=np.float64).astype(dt.numpy_dtype)
    return _factory(arr, requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    dt = _float_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError("\"normal_kernel_cpu\" not implemented for '%s'" % dt.legacy_name[:-6])
    arr = _rng(generator).standard_normal(_shape(size), dtype=np.float64).astype(dt.numpy_dtype)
    return _factory(arr, requires_grad, device)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    if size is None:
        if high is None or not isinstance(high, (tuple, list, Size)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError("random_ expects 'from' to be less than 'to', but got from=%d >= to=%d"
                           % (low, high))
    dt = to_dtype(dtype) if dtype is not None else _C.int64
    arr = _rng(generator).integers(low, high, size=_shape((size,)), dtype=np.int64)
    return _factory(arr.astype(dt.numpy_dtype), requires_grad, device)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    dt = to_dtype(dtype) if dtype is not None else _C.int64
    return _factory(_rng(generator).permutation(n).astype(dt.numpy_dtype), requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False):
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean.detach().numpy() if isinstance(mean, Tensor) else mean
        s = std.detach().numpy() if isinstance(std, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        dt = (mean if isinstance(mean, Tensor) else std).dtype
        arr = _rng(generator).normal(m, s, size=shape).astype(dt.numpy_dtype)
        return _factory(arr, requires_grad, None)
    dt = _float_dtype(dtype)
    arr = _rng(generator).normal(mean, std, size=_shape((size,))).astype(dt.numpy_dtype)
    return _factory(arr, requires_grad, None)


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
