"""autograd_c: reverse-mode autograd with a compiled core and PyTorch's tensor API.

Scripts written for PyTorch run after ``import autograd_c as torch``: tensors record the ops
applied to them, and ``backward()`` runs the compiled engine over the recorded graph.
"""
from autograd_c import _C
from autograd_c._C import (
    Size, Tensor, dtype, get_default_dtype, is_grad_enabled, set_default_dtype,
    # dtypes
    bool_ as bool, uint8, int8, int16, int32, int64, float16, float32, float64,
    # ops
    add, sub, mul, div, true_divide, floor_divide, remainder, pow, where, clamp, clip,
    maximum, minimum, masked_fill, sign, eq, ne, lt, le, gt, ge, equal, allclose, isclose,
    logical_not, logical_and, logical_or, bitwise_not,
    sum, mean, prod, max, min, amax, amin, argmax, argmin, all, any, var, std, norm,
    logsumexp, softmax, log_softmax, cumsum,
    reshape, flatten, squeeze, unsqueeze, transpose, t, permute, narrow, split, chunk, unbind,
    gather, cat, concat, concatenate, stack,
    matmul, mm, bmm, dot, mv,
    conv1d, conv2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d, batch_norm,
)
from autograd_c._creation import (
    Generator, arange, as_tensor, default_generator, device, empty, empty_like, eye,
    from_numpy, full, full_like, initial_seed, linspace, manual_seed, multinomial, normal,
    ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like, randperm, seed,
    tensor, zeros, zeros_like,
)
from autograd_c._creation import _legacy_type
from autograd_c._tensor_str import get_printoptions, printoptions, set_printoptions
from autograd_c import autograd, cuda
from autograd_c.autograd import (enable_grad, inference_mode, is_anomaly_check_nan_enabled,
                                 is_anomaly_enabled, is_inference_mode_enabled, no_grad,
                                 set_grad_enabled)
from autograd_c import nn, optim, utils, models, viz
from autograd_c.serialization import save, load
from autograd_c._threads import (get_num_interop_threads, get_num_threads,
                                 set_num_interop_threads, set_num_threads)
from autograd_c import _threads

__version__ = "0.1.0"

# torch's aliases for dtypes
float = float32
double = float64
half = float16
long = int64
int = int32
short = int16

FloatTensor = _legacy_type("FloatTensor", float32)
DoubleTensor = _legacy_type("DoubleTensor", float64)
HalfTensor = _legacy_type("HalfTensor", float16)
LongTensor = _legacy_type("LongTensor", int64)
IntTensor = _legacy_type("IntTensor", int32)
ShortTensor = _legacy_type("ShortTensor", int16)
CharTensor = _legacy_type("CharTensor", int8)
ByteTensor = _legacy_type("ByteTensor", uint8)
BoolTensor = _legacy_type("BoolTensor", bool)

# functions that are Tensor methods with the same signature
abs = Tensor.abs
neg = negative = Tensor.neg
exp = Tensor.exp
log = Tensor.log
log2 = Tensor.log2
log10 = Tensor.log10
sqrt = Tensor.sqrt
rsqrt = Tensor.rsqrt
sin = Tensor.sin
cos = Tensor.cos
tanh = Tensor.tanh
sigmoid = Tensor.sigmoid
relu = Tensor.relu
relu_ = Tensor.relu_
reciprocal = Tensor.reciprocal
square = Tensor.square
floor = Tensor.floor
ceil = Tensor.ceil
round = Tensor.round
isnan = Tensor.isnan
isfinite = Tensor.isfinite
isinf = Tensor.isinf
clone = Tensor.clone
detach = Tensor.detach
numel = Tensor.numel
expand_as = Tensor.expand_as


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def result_type(tensor1, tensor2):
    return _C._result_type(tensor1, tensor2)


def promote_types(type1, type2):
    return _C._result_type(zeros(1, dtype=type1), zeros(1, dtype=type2))


_threads.apply_default_at_import()
