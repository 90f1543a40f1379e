"""Property-based fuzzing of autograd_c's public API with bad arguments, against torch 2.13.

Every example is one call (an op of the table below with arguments hypothesis draws: dims out of
range or huge or of the wrong type, every dtype and mixes of them, NaN/inf, empty, 0-d and
non-contiguous tensors, absurd sizes, None and wrong Python types), optionally followed by a
backward pass. The call runs in a forked child with an address-space limit and an alarm, so a
crash or a hang fails that example instead of killing pytest. torch, when installed, runs the
same call in another forked child and is the oracle:

- both raise: fine if our exception is torch's type or a subclass of it (torch's own exception
  classes count as their builtin base); differing messages are only recorded (hypothesis events,
  and the file named by AUTOGRAD_C_FUZZ_LOG);
- one raises and the other does not: failure;
- both return: values, shapes and dtypes of the results, of every tensor argument afterwards
  (in-place ops, accidental writes) and of the leaves' gradients agree, NaN-aware.

Without torch only crashes and hangs are checked.

CI runs a fixed, derandomized set of examples; AUTOGRAD_C_FUZZ_EXAMPLES=<n> runs n examples per
test (and AUTOGRAD_C_FUZZ_RANDOM=1 draws fresh ones) for a deep local run, and
AUTOGRAD_C_FUZZ_COLLECT=<file> appends every failing example to the file instead of failing.
"""
import faulthandler
import math
import os
import signal
import warnings

import numpy as np
from hypothesis import HealthCheck, event, given, note, settings, strategies as st

import autograd_c
from forked_child import run_forked

try:
    import torch as real_torch       # imported here, before any fork: the children share it
except ImportError:
    real_torch = None


# ================================================================================================
# Known defects: (op, argument class) pairs the fuzzer does not hold against autograd_c until they
# are fixed (KNOWN_DEFECTS below, one comment per entry). Empty the list as they go.
# ================================================================================================

def _walk(specs):
    for s in specs:
        yield s
        if s[0] in ("list", "tuple", "splat"):
            yield from _walk(s[1])


def _specs(case):
    return list(_walk(list(case.args) + list(case.kwargs.values())))


def _values(case):
    return [s[1] for s in _specs(case) if s[0] == "v"]


def _tensors(case):
    return [s[1] for s in _specs(case) if s[0] == "t"]


def _arg(case, i, name=None):
    if name is not None and name in case.kwargs:
        return case.kwargs[name]
    return case.args[i] if i < len(case.args) else None


def _t(case, i, name=None):
    """The tensor spec (shape, dtype, layout, fill, seed, requires_grad) at a slot, or None."""
    a = _arg(case, i, name)
    return a[1] if a is not None and a[0] == "t" else None


def _not_tensor(case, i, name=None):
    a = _arg(case, i, name)
    return a is not None and a[0] != "t"


def _numel(t):
    return int(np.prod(t[0])) if t[0] else 1


def _tagged(case, tag):
    return any(s[0] == "v" and len(s) > 2 and s[2] == tag for s in _specs(case))


def _outside_int64(case):
    return any(type(v) is int and not -2**63 <= v < 2**63 for v in _values(case))


def _float_dtypes(case, *slots):
    return {t[1] for t in (_t(case, i, n) for i, n in slots) if t is not None}


INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64")
NONFLOAT = ("bool",) + INT_DTYPES
PY_F_OPS = ("F.relu", "F.silu", "F.gelu", "F.leaky_relu", "F.sigmoid", "F.tanh", "F.softmax",
            "F.log_softmax", "F.one_hot", "F.dropout", "F.dropout_det", "F.layer_norm",
            "F.pad", "F.mse_loss", "F.l1_loss", "F.smooth_l1_loss", "F.huber_loss",
            "F.binary_cross_entropy", "F.binary_cross_entropy_with_logits", "F.nll_loss",
            "F.cross_entropy", "F.embedding", "F.adaptive_avg_pool2d", "F.max_pool2d")
LOSSES = ("F.mse_loss", "F.l1_loss", "F.smooth_l1_loss", "F.huber_loss",
          "F.binary_cross_entropy", "F.binary_cross_entropy_with_logits", "F.nll_loss",
          "F.cross_entropy")
INPLACE = ("T.add_", "T.sub_", "T.mul_", "T.div_", "T.clamp_", "T.fill_", "T.zero_", "T.relu_",
           "T.masked_fill_", "T.copy_", "T.uniform_", "T.normal_")
ANY = "*"


# (ops, argument class, predicate over the case[, tolerance]). Without a tolerance a matching case
# is not run; with one it runs and only a disagreement of both outcomes for which
# tolerance(ours, torch's) holds is let through. Symptoms quoted are autograd_c vs torch 2.13.
KNOWN_DEFECTS = [
    # --- already being fixed elsewhere ---
    # zeros(0).chunk(2**64) hangs; ints outside int64 (dims, sizes, scalars, kernel sizes) raise
    # IndexError/OverflowError where torch raises its overflow ValueError/TypeError/RuntimeError
    (ANY, "a Python int outside int64 anywhere", _outside_int64),
    # non-bool keepdim/training/ceil_mode/copy/requires_grad flags are accepted or checked late
    (ANY, "a non-bool flag", lambda c: _tagged(c, "flag")),
    # dim=None where torch takes none: x.min(None, False), x.max(None, False), x.squeeze(None)
    (ANY, "dim=None with keepdim", lambda c: ("v", None) in list(c.args[1:2]) + [
        c.kwargs.get("dim")]),
    # --- found by this fuzzer ---
    # losses of bool/integer inputs: mse_loss(bool, float) raises "Subtraction ... bool" where
    # torch returns; smooth_l1_loss(int64, int64) returns where torch raises NotImplementedError
    (LOSSES, "a bool or integer input or target",
     lambda c: any(t[1] in NONFLOAT for t in (_t(c, 0), _t(c, 1)) if t is not None) and
     c.op not in ("F.nll_loss", "F.cross_entropy")),
    # binary_cross_entropy(float16 input, float32 target) promotes; torch raises
    # "Found dtype Float but expected Half"
    (("F.binary_cross_entropy",), "input and target of different dtypes",
     lambda c: len(_float_dtypes(c, (0, "input"), (1, "target"))) > 1),
    # cross_entropy(x, probs, label_smoothing=-0.1) raises; torch 2.13 does not check it
    (("F.cross_entropy",), "label_smoothing outside [0, 1]",
     lambda c: _value(c.kwargs.get("label_smoothing"), 0.0) not in (0.0, 0.1, 1.0)),
    # F.dropout(zeros(0, dtype=int64)) raises NotImplementedError where torch returns
    (("F.dropout", "F.dropout_det"), "an integer/bool input",
     lambda c: _t(c, 0) is not None and _t(c, 0)[1] in NONFLOAT),
    # F.batch_norm of a 1-D input raises ValueError; torch RuntimeError (running_mean size)
    (("F.batch_norm",), "input of fewer than 2 dims",
     lambda c: _t(c, 0) is not None and len(_t(c, 0)[0]) < 2),
    # adaptive_avg_pool2d backward with an empty channel dim: torch 2.13 refuses it in backward
    (("F.adaptive_avg_pool2d",), "an empty non-batch dim, backward",
     lambda c: c.backward and _t(c, 0) is not None and 0 in _t(c, 0)[0][1:]),
    # x.to(float) / F.log_softmax(x, 0, dtype=float): a Python type as dtype raises RuntimeError
    # "Expected one of cpu, cuda, ... device type"; torch takes it as float64
    (ANY, "a Python type or string as dtype", lambda c: _tagged(c, "pydtype")),
    # x.to(torch.float64, bogus=1) raises AssertionError, x.type(torch.float64, bogus=1)
    # returns; torch raises TypeError
    (("T.to", "T.type"), "an unknown keyword", lambda c: "bogus_keyword" in c.kwargs),
    # uniform_/normal_ of bool/integer tensors fill them; torch raises NotImplementedError
    (("T.uniform_", "T.normal_"), "a bool or integer self",
     lambda c: _t(c, 0)[1] in NONFLOAT),
    # uint8 tensor + 300, int8.mul_(1000): OverflowError; torch wraps around
    # and torch.pow(-1, uint8_t) raises OverflowError where torch returns
    (ANY, "an integer tensor with an int scalar outside its dtype",
     lambda c: any(type(v) is int and not np.iinfo(t[1]).min <= v <= np.iinfo(t[1]).max
                   for t in _tensors(c) if t[1] in INT_DTYPES for v in _values(c))),
    # zeros(2).sub_(True) returns; torch raises "Subtraction, the `-` operator, with a bool"
    (("T.sub_",), "a bool scalar", lambda c: any(type(v) is bool for v in _values(c))),
    # zeros(2).copy_(1.5) raises TypeError; torch fills
    (("T.copy_",), "a Python number as source", lambda c: _not_tensor(c, 1)),
    # zeros(3)[1:].detach_() returns; torch raises "Can't detach views in-place"
    (("T.detach_",), "a view", lambda c: _t(c, 0)[2] != "contig"),
    # a view of a leaf that requires grad, bad index: the in-place check comes before the index
    # check (RuntimeError where torch raises IndexError)
    (("setitem",), "a view of a leaf requiring grad",
     lambda c: _t(c, 0)[5] and _t(c, 0)[2] != "contig"),
    # x % 0, x.remainder(0) of an empty integer tensor raise ZeroDivisionError; torch returns
    (("T.remainder", "torch.remainder", "op_mod", "T.floor_divide", "torch.floor_divide",
      "op_floordiv"), "an empty integer tensor and zero",
     lambda c: any(t[1] in NONFLOAT and _numel(t) == 0 for t in _tensors(c))),
    # torch.true_divide(np.int64(1), 0): TypeError; torch takes a numpy scalar as input
    (ANY, "a numpy scalar as the first argument of a function",
     lambda c: c.op.startswith("torch.") and c.args and c.args[0][0] == "np"),
    # complex Python scalars: bool_t.mul_(1j) TypeError "Cannot convert NotImplementedType",
    # torch RuntimeError; pow(float16, 1j) TypeError, torch NotImplementedError
    (ANY, "a complex scalar", lambda c: any(isinstance(v, complex) for v in _values(c))),
    # ~torch.ones(2) raises NotImplementedError; torch TypeError "~ (operator.invert) is only
    # implemented on integer and Boolean-type tensors"
    (("op_invert", "torch.bitwise_not"), "a float tensor",
     lambda c: _t(c, 0) is not None and _t(c, 0)[1] in FLOATS),
    # torch.pow(bool, bool) returns int8; torch raises NotImplementedError "pow" for 'Bool'
    (("torch.pow", "T.pow", "op_pow", "op_rpow"), "bool base and exponent",
     lambda c: all(t[1] == "bool" for t in _tensors(c)) and not any(
         type(v) in (int, float) for v in _values(c))),
    # torch.add(int_t, int_t, alpha=1.0) returns; torch raises "For integral input tensors,
    # argument alpha must not be a floating point number"
    (("torch.add_alpha",), "integer tensors, float alpha",
     lambda c: isinstance(_value(c.kwargs.get("alpha")), float)),
    # x.norm([2, 1]) TypeError from arithmetic, x.norm(dim=False) reduces dim 0; torch raises
    # TypeError on a non-number p / a bool dim: type order differs for other misuse
    (("T.norm", "T.norm_p", "torch.norm_kw"), "p not a number, or a bool dim",
     lambda c: any(type(v) in (bool, list, str, type(None)) or s[0] in ("list", "tuple")
                   for s in c.args[1:] for v in [s[1]])),
    # x.all([1, 1, 1.5]): "dim 1 appears multiple times" before the float element's TypeError
    (ANY, "a dim list with a repeated dim and a non-int",
     lambda c: any(s[0] in ("list", "tuple") and any(type(x[1]) is not int for x in s[1]
                                                      if x[0] == "v")
                   for s in _specs(c))),
    # torch.linspace(3, 0.5, 1, dtype=torch.bool) and torch.randn(0, dtype=torch.bool) raise
    # NotImplementedError; torch only refuses bool when it has values to compute
    (("torch.linspace", "torch.randn", "torch.rand", "torch.rand_like"),
     "dtype bool or integer", lambda c: any(s == ("dtype", d) for s in _specs(c)
                                            for d in NONFLOAT)),
    # torch.is_floating_point((1,)): AttributeError; torch TypeError "must be Tensor"
    (("torch.alias", "torch.is_floating_point"), "is_floating_point of a non-Tensor",
     lambda c: c.op == "torch.is_floating_point" and _not_tensor(c, 0) or (
         c.op == "torch.alias" and _value(c.args[0]) == "is_floating_point" and
         _not_tensor(c, 1))),
    # x.unsqueeze(True), x.sum(True), x.chunk(True), x.split(True), x.reshape(True, 6),
    # x.size(True), F.one_hot(t, True): a bool is taken as an int; torch raises TypeError
    (ANY, "a bool where an int dim or size goes", lambda c: _tagged(c, "boolint")),
    # x.view(torch.int32) raises NotImplementedError "view(dtype) is not supported"
    (("T.view",), "a dtype", lambda c: c.args[1][0] == "dtype" if len(c.args) > 1 else False),
    # bool @ bool returns a bool product; torch raises NotImplementedError "addmv_impl_cpu"
    (("T.matmul", "torch.matmul", "op_matmul", "T.mm", "torch.mm", "T.bmm", "torch.bmm",
      "T.mv", "torch.mv", "T.dot", "torch.dot"), "bool operands, or mixed dtypes with nothing "
     "to multiply (ones(0, 2) @ ones(1, 2, 2, dtype=uint8) raises; torch returns)",
     lambda c: any(t[1] == "bool" for t in _tensors(c)) or (
         len({t[1] for t in _tensors(c)}) > 1 and any(_numel(t) == 0 for t in _tensors(c)))),
    # allclose/isclose of float32 and float64 compare; torch raises "Float did not match Double"
    (("torch.allclose", "torch.isclose"), "tensors of different dtypes",
     lambda c: len({t[1] for t in _tensors(c)}) > 1),
    # x.repeat() raises RuntimeError; torch TypeError (missing repeats)
    (("T.repeat",), "no sizes", lambda c: c.args[1][0] in ("splat", "list", "tuple") and
     not c.args[1][1] if len(c.args) > 1 else False),
    # torch.div(bool_t, bool_t, rounding_mode='trunc') returns; torch NotImplementedError
    (("torch.div_mode",), "bool operands", lambda c: all(t[1] == "bool" for t in _tensors(c))),
    # F.batch_norm(x, running_mean of shape (1, 3), ...) accepted; torch raises
    # "TensorAccessor expected 1 dims but tensor has 2"; F.batch_norm(True, ...) is a
    # TypeError here, torch's own AttributeError
    (("F.batch_norm",), "running stats that are not 1-D, or a non-Tensor input",
     lambda c: _not_tensor(c, 0) or any(t is not None and len(t[0]) != 1
                                        for t in (_t(c, 1), _t(c, 2)))),
    # x.narrow(0, -4, -2): IndexError for the start; torch checks the length first
    # (RuntimeError "narrow(): length must be non-negative")
    (("T.narrow",), "a negative length", lambda c: len(c.args) > 3 and type(
        _value(c.args[3])) is int and _value(c.args[3]) < 0),
    # F.nll_loss(..., ignore_index=[0]) of an empty input returns; torch TypeError
    (("F.nll_loss", "F.cross_entropy"), "a non-int ignore_index",
     lambda c: "ignore_index" in c.kwargs and type(_value(c.kwargs["ignore_index"])) is not int),
    # x.permute(3, -1, -5, 2): IndexError for -5; torch first reports the duplicate
    (("T.permute",), "an out-of-range dim", lambda c: _t(c, 0) is not None and any(
        type(v) is int and not -len(_t(c, 0)[0]) <= v < max(len(_t(c, 0)[0]), 1)
        for v in _values(c))),
    # x.min(None, False), x.max(None, False), x.prod(None, True), torch.min(x, keepdim=False),
    # x.squeeze(None): accepted; torch raises TypeError (dim must be int)
    (("T.min", "T.max", "T.prod", "T.prod_dtype", "torch.min_kw", "torch.max_kw",
      "torch.prod_kw", "T.squeeze", "torch.squeeze", "T.argmax", "T.argmin",
      "torch.argmax_kw", "torch.argmin_kw", "T.cumsum", "T.cumsum_dtype", "T.logsumexp",
      "torch.logsumexp_kw", "T.sum_dtype", "T.mean_dtype"), "dim None or keepdim without dim",
     lambda c: ("v", None) in c.args[1:2] + [c.kwargs.get("dim")]),
    # torch.sum(x, keepdim=False), torch.prod(x, keepdim=True), torch.max(x, keepdim=False):
    # keepdim without dim is accepted; torch raises TypeError
    (ANY, "keepdim without dim", lambda c: c.op.endswith("_kw") and "keepdim" in c.kwargs and
     "dim" not in c.kwargs),
    # x.mT of a 0-d tensor raises IndexError (torch returns x), of a 1-D one IndexError (torch
    # RuntimeError "tensor.mT is only supported on matrices")
    (("T.mT",), "fewer than 2 dims", lambda c: _t(c, 0) is not None and len(_t(c, 0)[0]) < 2),
    # torch.narrow of a 0-d tensor: IndexError; torch RuntimeError "narrow() cannot be applied
    # to a 0-dim tensor"; torch.mv(1-D, 0-d): IndexError, torch RuntimeError
    (("T.narrow", "T.mv", "torch.mv"), "a 0-d tensor",
     lambda c: any(t[0] == () for t in _tensors(c))),
    # clamp(bool_t, nan, tensor) mixes a number and a tensor bound; logical_and(t, -2.5) takes
    # a number: both accepted, torch raises TypeError
    (("T.clamp", "torch.clamp_kw", "torch.logical_and", "torch.logical_or"),
     "a number where a tensor goes, or a number and a tensor bound",
     lambda c: c.op.startswith("torch.logical") and _not_tensor(c, 1) or (
         "clamp" in c.op and len(_tensors(c)) > 1 and any(
             s[0] != "t" for s in list(c.args[1:]) + list(c.kwargs.values())))),
    # torch.linspace(1.5, 1e308, 6) gives inf; F.leaky_relu(x, 1e308) returns; torch raises
    # "value cannot be converted to type float without overflow"
    (("torch.linspace", "F.leaky_relu", "torch.full", "T.new_full", "torch.full_like",
      "T.fill_"), "a value beyond the dtype's range",
     lambda c: any(isinstance(v, float) and (abs(v) > 3.4e38 or math.isinf(v)) for v in
                   _values(c))),
    # x.expand(0, -2, 1, 2) of a 0-d tensor: RuntimeError; torch ValueError "negative
    # dimensions are not allowed"
    (("T.expand",), "a negative size", lambda c: any(type(v) is int and v < -1
                                                       for v in _values(c))),
    # F.layer_norm of an empty input does not check the weight's shape or dtype
    (("F.layer_norm",), "an empty input with a weight",
     lambda c: len(c.args) > 2 and _t(c, 0) is not None and _numel(_t(c, 0)) == 0),
    # x.type('float') converts; torch raises ValueError "invalid type: 'float'"
    (("T.type",), "a string that is not a tensor type name",
     lambda c: len(c.args) > 1 and isinstance(_value(c.args[1]), str)),
    # x.var(unbiased=False, correction=1) accepted; torch TypeError
    (("T.var_unbiased",), "both unbiased and correction",
     lambda c: "unbiased" in c.kwargs and "correction" in c.kwargs),
    # bool_t - bool_t (sub_) raises numpy's TypeError; torch RuntimeError "Subtraction ...
    # with two bool tensors"; float_t.sub_(bool_t) returns, torch raises
    (("T.sub_", "T.sub", "torch.sub"), "a bool operand",
     lambda c: any(t[1] == "bool" for t in _tensors(c))),
    # uint8_t.fill_(-inf) raises OverflowError; torch RuntimeError "value cannot be converted"
    (("T.fill_", "T.masked_fill_", "T.masked_fill", "T.clamp_", "T.add_", "T.mul_", "T.sub_",
      "T.div_"), "an integer self with a non-finite value",
     lambda c: _t(c, 0) is not None and _t(c, 0)[1] in NONFLOAT and any(
         isinstance(v, float) and not math.isfinite(v) for v in _values(c))),
    # torch.pow(int64_t, int16_t) with negative exponents raises numpy's "Integers to negative
    # integer powers are not allowed"; torch returns (2 ** -1 == 0, 1 ** -1 == 1)
    (("torch.pow", "T.pow", "op_pow", "op_rpow", "torch.pow_scalar_base"), "integer operands",
     lambda c: len(_tensors(c)) > 1 and all(t[1] in INT_DTYPES for t in _tensors(c))),
    # x[int16_index] = 1 (also int8) is accepted; torch raises IndexError "tensors used as
    # indices must be long, int, byte or bool tensors"
    (("setitem", "getitem"), "an int16 or int8 index tensor",
     lambda c: any(t[1] in ("int16", "int8") for t in _tensors(c)[1:])),
    # x.uniform_(2) (from > to) raises ValueError "high - low < 0"; torch RuntimeError
    # "uniform_ expects to return a [from, to) range"
    (("T.uniform_",), "from above to", lambda c: _uniform_bounds_reversed(c)),
    # x.expand() accepted; torch TypeError (missing size)
    (("T.expand",), "no sizes", lambda c: len(c.args) > 1 and c.args[1][0] in (
        "splat", "list", "tuple") and not c.args[1][1]),
    # F.gelu(torch.tensor([math.inf, 1.])) is [inf, ...] as in torch's float64 and scalar
    # kernels; torch's vectorized float32 kernel gives nan. And gelu's gradient at inf, -inf
    # and nan is 0 here; torch's is nan
    (("F.gelu",), "a non-finite float32 input, or a non-finite input and backward",
     lambda c: _t(c, 0) is not None and _t(c, 0)[3] == "special" and (
         c.backward or _t(c, 0)[1] == "float32")),
    # F.linear(bool_x, float64 weight with no rows) raises the matmul dtype error; torch returns
    (("F.linear",), "mixed dtypes", lambda c: len({t[1] for t in _tensors(c)}) > 1),
    # x.amin([-1, -2, 2]) of a tensor with an empty dim: "dim 2 appears multiple times" before
    # torch's IndexError "Expected reduction dim -1 to have non-zero size"
    (("T.amin", "T.amax", "torch.amin_kw", "torch.amax_kw"), "an empty tensor",
     lambda c: _t(c, 0) is not None and _numel(_t(c, 0)) == 0),
    # torch.div(x, 2, rounding_mode='bogus') raises ValueError; torch RuntimeError
    (("torch.div_mode",), "an unknown rounding mode",
     lambda c: _value(c.kwargs.get("rounding_mode")) not in (None, "floor", "trunc")),
    # x.normal_(0, -1) raises numpy's ValueError "scale < 0" (torch RuntimeError "normal expects
    # std >= 0.0"); x.uniform_(nan, 1) numpy's OverflowError (torch RuntimeError "from is out
    # of bounds for float")
    (("T.normal_", "T.uniform_"), "a negative std or a non-finite bound",
     lambda c: any(type(v) in (int, float) and (v < 0 or not math.isfinite(v))
                   for v in _values(c))),
    # clamp(bool_t, min=bool_t, max=bool_t) returns; torch NotImplementedError "clamp_cpu"
    (("torch.clamp_kw", "T.clamp", "T.clamp_"), "a bool self",
     lambda c: _t(c, 0) is not None and _t(c, 0)[1] == "bool"),
    # F.embedding(t, weight with no columns) and an index out of range: IndexError; torch
    # RuntimeError "INDICES element is out of DATA bounds"
    (("F.embedding",), "a weight with no columns",
     lambda c: _t(c, 1) is not None and 0 in _t(c, 1)[0]),
    # torch.norm(1.5) is torch's own AttributeError ('float' object has no attribute 'layout');
    # ours TypeError is the better answer
    (("torch.norm_kw",), "a non-Tensor (torch's own bug)", lambda c: _not_tensor(c, 0)),
    # zeros(0, 3).split(-2) returns; torch RuntimeError "split expects split_size be
    # non-negative"
    (("T.split",), "a negative size", lambda c: any(type(v) is int and v < 0
                                                      for v in _values(c))),
    # zeros(2, 0)[tensor([5])]: IndexError; torch 2.13 does not check indices when the result
    # is empty
    (("getitem", "setitem"), "an index tensor into an empty tensor",
     lambda c: _t(c, 0) is not None and _numel(_t(c, 0)) == 0),
    # torch.zeros(()).flatten(0, 1) returns; torch IndexError (end_dim out of range for 0-d)
    (("T.flatten",), "a 0-d tensor", lambda c: _t(c, 0) is not None and _t(c, 0)[0] == ()),
    # torch.isclose(zeros(0), zeros(3)) raises numpy's ValueError "operands could not be
    # broadcast together"; torch RuntimeError "The size of tensor a (0) must match ..."
    (("torch.isclose", "torch.allclose"), "shapes that do not broadcast",
     lambda c: not _broadcasts([t[0] for t in _tensors(c)])),
    # torch.cat([zeros(0), zeros(0, dtype=uint8)], 7): IndexError; torch skips 1-D empty
    # tensors (legacy) and returns
    (("torch.cat", "torch.cat_kw"), "1-D empty tensors",
     lambda c: any(t[0] == (0,) for t in _tensors(c))),
    # F.nll_loss(1-D input, 1-D target of size 2) raises RuntimeError "0D or 1D target tensor
    # expected, multi-target not supported"; torch ValueError "For 1D input, 1D target must
    # have size 1"
    (("F.nll_loss", "F.cross_entropy"), "a 1-D input",
     lambda c: _t(c, 0) is not None and len(_t(c, 0)[0]) == 1),
    # not a defect, a limit of the harness: a size that fits in memory but not in a child's
    # address-space limit fails in one library and not in the other (or in our summary of
    # torch's result), with each library's own allocation error
    (ANY, "an allocation beyond the child's address-space limit", lambda c: True,
     lambda ours, theirs: any(_allocation_failure(o) for o in (ours, theirs))),
    # F.layer_norm of a bool/integer tensor raises RuntimeError from mean(); torch
    # NotImplementedError "LayerNormKernelImpl" not implemented for 'Long'
    (("F.layer_norm",), "a bool or integer input",
     lambda c: _t(c, 0) is not None and _t(c, 0)[1] in NONFLOAT),
    # bool // bool and bool % bool return int8; torch raises NotImplementedError
    # "div_floor_cpu" / "remainder_cpu" not implemented for 'Bool'
    (("T.floor_divide", "torch.floor_divide", "op_floordiv", "T.remainder", "torch.remainder",
      "op_mod"), "bool operands", lambda c: all(t[1] == "bool" for t in _tensors(c))),
    # zeros(3, 2) // zeros(2, 3) and % raise numpy's ValueError "operands could not be
    # broadcast together"; torch RuntimeError "The size of tensor a (2) must match ..."
    (("T.floor_divide", "torch.floor_divide", "op_floordiv", "T.remainder", "torch.remainder",
      "op_mod"), "shapes that do not broadcast",
     lambda c: not _broadcasts([t[0] for t in _tensors(c)])),
    # ones(1).repeat(2, -1) raises numpy's ValueError "negative dimensions are not allowed";
    # torch RuntimeError "Trying to create tensor with negative dimension -1: [2, -1]"
    (("T.repeat",), "a negative size", lambda c: any(
        type(v) is int and v < 0 for v in _values(c))),
    # F.embedding(torch.tensor(1), torch.zeros(0, 1)) raises IndexError; torch RuntimeError
    # "index_select(): self indexing axis dim should be positive"
    (("F.embedding",), "an empty weight",
     lambda c: _t(c, 1) is not None and _t(c, 1)[0][:1] == (0,)),
    # F.embedding(zeros(2), w) raises IndexError; torch RuntimeError "Expected tensor for
    # argument #1 'indices' to have one of the following scalar types: Long, Int"
    (("F.embedding",), "float indices",
     lambda c: _t(c, 0) is not None and _t(c, 0)[1] in FLOATS),
    # torch parses every argument's type before checking any value, so with a wrongly typed
    # argument its error is TypeError; ours checks in order and may first report another bad
    # argument: ones(2, 2, dtype=bool).argmax([0]) RuntimeError "does not support bool",
    # ones(0, 0, 3, 1).narrow(-2**63, 1.5, 2) IndexError; torch TypeError for both
    (ANY, "a wrongly typed argument with another bad one", lambda c: True,
     lambda ours, theirs: ours[0] == theirs[0] == "raise" and theirs[1] == "TypeError" and
     ours[1] in (
         "RuntimeError", "IndexError", "ValueError", "NotImplementedError")),
]


def _allocation_failure(outcome):
    return outcome[0] == "raise" and (outcome[1] == "MemoryError" or any(m in outcome[4] for m in (
        "can't allocate memory", "Unable to allocate", "bad_alloc", "array is too big",
        "too large for numpy")))


def _uniform_bounds_reversed(c):
    bounds = [_value(c.args[1], 0) if len(c.args) > 1 else 0,
              _value(c.args[2], 1) if len(c.args) > 2 else 1]
    return all(type(b) in (int, float) for b in bounds) and bounds[0] > bounds[1]


def _broadcasts(shapes):
    try:
        np.broadcast_shapes(*shapes)
        return True
    except ValueError:
        return False

def _value(spec, default=None):
    return spec[1] if spec is not None and spec[0] == "v" else default


# ================================================================================================
# Running one call in a forked child
# ================================================================================================

CHILD_EXTRA_ADDRESS_SPACE = 2 << 30     # a child may map this much beyond what it inherits
CALL_TIMEOUT = 20                       # seconds of alarm in the child; the parent waits longer


def _exception_outcome(e):
    mro = type(e).__mro__
    builtin = next(c for c in mro if c.__module__ == "builtins")
    return ("raise", type(e).__name__, builtin.__name__,
            tuple(c.__name__ for c in mro if c.__module__ == "builtins"), str(e)[:2000])


def forked(fn, *args):
    """fn(*args) in a forked child. Returns ("ok", value) | ("raise", name, builtin base,
    builtin mro names, message) | ("crash", description)."""
    return run_forked(fn, args, extra_address_space=CHILD_EXTRA_ADDRESS_SPACE,
                      timeout=CALL_TIMEOUT + 15, describe_exception=_exception_outcome,
                      prepare_child=_prepare_child)


def _prepare_child():
    faulthandler.disable()          # a crash is reported by the parent, not dumped
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(CALL_TIMEOUT)


# ================================================================================================
# Argument specs: picklable descriptions, made into real arguments in the child, per module
#   ("t", (shape, dtype, layout, fill, seed, requires_grad))   a tensor
#   ("v", python value)     ("np", numpy dtype name, value)     ("dtype", name)
#   ("list", [specs])       ("tuple", [specs])                  ("splat", [specs]) -> *args
#   ("size", [ints])        a Size of the module
# ================================================================================================

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
FLOATS = ("float16", "float32", "float64")
INTS = ("uint8", "int8", "int16", "int32", "int64")
SPECIAL_FLOATS = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 0.5, 100.0, -1e4, 2.0]


def make_array(shape, dtype, fill, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if fill == "index":
        vals = rng.integers(-3, 6, size=shape)
    elif fill == "class":
        vals = rng.integers(0, 3, size=shape)
    elif dtype in FLOATS:
        if fill == "special":
            vals = rng.choice(SPECIAL_FLOATS, size=shape)
        elif fill == "prob":
            vals = rng.uniform(0.0, 1.0, size=shape)
        elif fill == "pos":
            vals = rng.uniform(0.1, 3.0, size=shape)
        else:
            vals = rng.uniform(-3.0, 3.0, size=shape).round(3)
    else:
        info = np.iinfo(dtype)
        if fill == "special":
            vals = rng.choice([info.min, info.max, 0, 1, info.max - 1], size=shape)
        elif dtype == "uint8" or fill in ("prob", "pos"):
            vals = rng.integers(0, 6, size=shape)
        else:
            vals = rng.integers(-3, 6, size=shape)
    return np.asarray(vals).astype(dtype)


def _storage_and_view(M, arr, layout):
    """(storage array, function storage-tensor -> the view holding arr's values)."""
    if layout == "T":
        return np.ascontiguousarray(np.swapaxes(arr, -1, -2)), lambda t: t.transpose(-1, -2)
    if layout == "strided":
        big = np.zeros(arr.shape[:-1] + (2 * arr.shape[-1],), dtype=arr.dtype)
        big[..., ::2] = arr
        return big, lambda t: t[..., ::2]
    if layout == "offset":
        big = np.concatenate([np.zeros((1,) + arr.shape[1:], dtype=arr.dtype), arr])
        return big, lambda t: t[1:]
    if layout == "expand":
        return np.ascontiguousarray(arr[:1]), lambda t: t.expand(*arr.shape)
    return arr, None


class Ctx:
    def __init__(self, M):
        self.M, self.leaves, self.tensors = M, [], []


def build_tensor(ctx, spec):
    shape, dtype, layout, fill, seed, requires_grad = spec
    arr = make_array(shape, dtype, fill, seed)
    storage, view = _storage_and_view(ctx.M, arr, layout)
    leaf = ctx.M.tensor(storage)
    if requires_grad:
        leaf.requires_grad_()
    ctx.leaves.append(leaf)
    t = leaf if view is None else view(leaf)
    ctx.tensors.append(t)
    return t


def resolve(ctx, spec):
    kind = spec[0]
    if kind == "t":
        return build_tensor(ctx, spec[1])
    if kind == "v":
        return spec[1]
    if kind == "np":
        return np.dtype(spec[1]).type(spec[2])
    if kind == "dtype":
        return getattr(ctx.M, spec[1])
    if kind == "size":
        return ctx.M.Size(spec[1])
    if kind == "list":
        return [resolve(ctx, s) for s in spec[1]]
    if kind == "tuple":
        return tuple(resolve(ctx, s) for s in spec[1])
    raise ValueError(kind)


def resolve_args(ctx, specs):
    out = []
    for s in specs:
        if s[0] == "splat":
            out.extend(resolve(ctx, x) for x in s[1])
        else:
            out.append(resolve(ctx, s))
    return out


def show(spec):
    """Source-like text of an argument spec, for reproducers."""
    kind = spec[0]
    if kind == "t":
        shape, dtype, layout, fill, seed, rg = spec[1]
        return "T(%s, %s%s%s%s)" % (shape, dtype, "" if layout == "contig" else ", " + layout,
                                    "" if fill == "rand" else ", " + fill,
                                    ", requires_grad" if rg else "")
    if kind == "v":
        return repr(spec[1])
    if kind == "np":
        return "np.%s(%r)" % (spec[1], spec[2])
    if kind == "dtype":
        return "torch." + spec[1]
    if kind == "size":
        return "torch.Size(%r)" % (spec[1],)
    if kind in ("list", "splat"):
        inner = ", ".join(show(s) for s in spec[1])
        return "[%s]" % inner if kind == "list" else "*[%s]" % inner
    if kind == "tuple":
        return "(%s)" % "".join(show(s) + ", " for s in spec[1])
    return repr(spec)


# ================================================================================================
# Summaries: a picklable, module-independent view of results
# ================================================================================================

def _is_tensor(v):
    return isinstance(v, autograd_c.Tensor) or (
        real_torch is not None and isinstance(v, real_torch.Tensor))


def summarise(v):
    if _is_tensor(v):
        arr = np.array(v.detach().numpy(), copy=True)
        return ("tensor", str(v.dtype).split(".")[-1], tuple(v.shape), arr, bool(v.requires_grad))
    if isinstance(v, (autograd_c.Size,) + ((real_torch.Size,) if real_torch else ())):
        return ("py", tuple(v))
    if isinstance(v, (autograd_c.dtype,) + ((real_torch.dtype,) if real_torch else ())):
        return ("dtype", str(v).split(".")[-1])
    if isinstance(v, (tuple, list)):
        return ("seq", tuple(summarise(x) for x in v))
    if isinstance(v, str):        # our module name stands where torch names its types
        return ("py", v.replace("autograd_c.", "torch."))
    if isinstance(v, (bool, int, float, type(None))):
        return ("py", v)
    return ("other", type(v).__name__)


TOLERANCE = {"float16": (1e-2, 1e-2), "float32": (1e-4, 1e-5), "float64": (1e-7, 1e-9)}


def values_differ(o, t, dtype):
    """None if the arrays agree (NaN-aware, same infinities), else a description."""
    o, t = np.asarray(o), np.asarray(t)
    if o.shape != t.shape:
        return "shape %s, torch %s" % (o.shape, t.shape)
    if t.dtype.kind == "f":
        o64, t64 = o.astype(np.float64), t.astype(np.float64)
        if not np.array_equal(np.isnan(o64), np.isnan(t64)):
            return "NaN positions differ\n ours:  %s\n torch: %s" % (o, t)
        if not np.array_equal(o64[np.isinf(o64)], t64[np.isinf(o64)]) or \
                not np.array_equal(np.isinf(o64), np.isinf(t64)):
            return "infinities differ\n ours:  %s\n torch: %s" % (o, t)
        finite = np.isfinite(t64)
        rtol, atol = TOLERANCE.get(dtype, (1e-4, 1e-5))
        if not np.allclose(o64[finite], t64[finite], rtol=rtol, atol=atol):
            return "values differ\n ours:  %s\n torch: %s" % (o, t)
        return None
    return None if np.array_equal(o, t) else "values differ\n ours:  %s\n torch: %s" % (o, t)


def summary_differs(o, t, values=True, where="result"):
    if o[0] != t[0]:
        return "%s: %s, torch %s" % (where, _short(o), _short(t))
    if o[0] == "tensor":
        if (o[1], o[2]) != (t[1], t[2]):
            return "%s: dtype %s shape %s, torch dtype %s shape %s" % (
                where, o[1], o[2], t[1], t[2])
        if o[4] != t[4]:
            return "%s: requires_grad %s, torch %s" % (where, o[4], t[4])
        if values:
            d = values_differ(o[3], t[3], o[1])
            return None if d is None else "%s: %s" % (where, d)
        return None
    if o[0] == "seq":
        if len(o[1]) != len(t[1]):
            return "%s: %d items, torch %d" % (where, len(o[1]), len(t[1]))
        for i, (a, b) in enumerate(zip(o[1], t[1])):
            d = summary_differs(a, b, values, "%s[%d]" % (where, i))
            if d:
                return d
        return None
    if o[0] == "py" and values:
        a, b = o[1], t[1]
        if isinstance(b, float) and math.isnan(b):
            ok = isinstance(a, float) and math.isnan(a)
        elif isinstance(b, float) and isinstance(a, float):
            ok = math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6)
        else:
            ok = a == b and type(a) is type(b)
        return None if ok else "%s: %r, torch %r" % (where, a, b)
    if o[0] in ("dtype", "other") and o[1] != t[1]:
        return "%s: %r, torch %r" % (where, o[1], t[1])
    return None


def _short(v, n=300):
    s = repr(v)
    return s if len(s) < n else s[:n] + "..."


# ================================================================================================
# The op table
# ================================================================================================

class Case:
    def __init__(self, op, args, kwargs, backward):
        self.op, self.args, self.kwargs, self.backward = op, args, kwargs, backward

    def __repr__(self):
        parts = [show(a) for a in self.args] + ["%s=%s" % (k, show(v))
                                               for k, v in self.kwargs.items()]
        return "%s(%s)%s" % (self.op, ", ".join(parts), " + backward" if self.backward else "")


class Op:
    """target: "T.name" (a method of the first argument), "torch.name", "F.name", or a function
    (M, *args, **kwargs). gen(draw, g) -> (args, kwargs) of specs, g the case's draw context."""

    def __init__(self, target, gen, random=False, wild_from=None):
        self.target, self.gen, self.random = target, gen, random
        # arguments from this index on may be replaced by a wrongly typed value
        self.wild_from = (1 if isinstance(target, str) and target.startswith("T.") else 0) \
            if wild_from is None else wild_from

    def call(self, M, args, kwargs):
        t = self.target
        if callable(t):
            return t(M, *args, **kwargs)
        ns, name = t.split(".", 1)
        if ns == "T":
            return getattr(args[0], name)(*args[1:], **kwargs)
        return getattr(M if ns == "torch" else M.nn.functional, name)(*args, **kwargs)


def run_case(module_name, op_name, case):
    M = autograd_c if module_name == "autograd_c" else real_torch
    if module_name == "torch":
        M.set_num_threads(1)
    op = OPS[op_name]
    ctx = Ctx(M)
    args = resolve_args(ctx, case.args)
    kwargs = {k: resolve(ctx, v) for k, v in case.kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = op.call(M, args, kwargs)
        result = summarise(out)
        after = tuple(summarise(t) for t in ctx.tensors)
        grads = None
        if case.backward:
            grads = _backward(M, out, ctx)
    return result, after, grads


def _backward(M, out, ctx):
    outs = out if isinstance(out, (tuple, list)) else [out]
    loss = None
    for o in outs:
        if _is_tensor(o) and o.requires_grad:
            n = o.numel()
            w = np.linspace(0.5, 1.5, num=max(n, 1))[:n].reshape(tuple(o.shape))
            term = (o * M.tensor(w.astype(str(o.dtype).split(".")[-1]))).sum()
            loss = term if loss is None else loss + term
    if loss is None:
        return None
    try:
        loss.backward()
    except Exception as e:
        raise type(e)("in backward: %s" % e) from None
    return tuple(None if leaf.grad is None else summarise(leaf.grad) for leaf in ctx.leaves)


# ---- strategies for single arguments ----------------------------------------------------------

HUGE_INTS = [2**31 - 1, 2**31, 2**32, 2**62, 2**63 - 1, 2**63, 2**64, -2**63, -2**63 - 1,
             -2**31, 10**12]
WILD = st.sampled_from([("v", None), ("v", 1.5), ("v", math.nan), ("v", "a"),
                        ("v", True, "boolint"),
                        ("list", [("v", 0)]), ("tuple", [("v", 1), ("v", 2.5)]), ("v", 1j),
                        ("np", "int64", 1), ("np", "float32", 0.5), ("v", b"x"),
                        ("dtype", "float32")])


def pick(draw, *weighted):
    """One of the (weight, thunk) alternatives, chosen by weight; calls the thunk."""
    total = sum(w for w, _ in weighted)
    k = draw(st.integers(0, total - 1))
    for w, thunk in weighted:
        if k < w:
            return thunk()
        k -= w
    raise AssertionError


class G:
    """Per-case draw context: the shapes drawn so far (by name), the backward flag."""

    def __init__(self, draw, backward):
        self.draw, self.backward, self.shapes, self.dtypes = draw, backward, {}, {}
        self.seed = 0

    def ndim(self, ref="x"):
        return len(self.shapes.get(ref, ()))


def shape_st(min_nd=0, max_nd=4, max_size=3):
    return st.lists(st.integers(0, max_size), min_size=min_nd, max_size=max_nd).map(tuple)


def tensor(min_nd=0, max_nd=4, dtypes=DTYPES, fills=("rand", "rand", "special"), name="x",
           shape=None, grad=True):
    """A tensor argument: any layout its rank allows; it records its shape under `name`."""
    def gen(g):
        draw = g.draw
        s = tuple(shape(g)) if callable(shape) else tuple(
            draw(shape_st(min_nd, max_nd)) if shape is None else shape)
        dt = draw(st.sampled_from(dtypes))
        layouts = ["contig", "contig"] + (["strided", "offset", "expand"] if s else []) + (
            ["T"] if len(s) >= 2 else [])
        layout = draw(st.sampled_from(layouts))
        fill = draw(st.sampled_from(fills))
        g.seed += 1
        rg = bool(grad and g.backward and dt in FLOATS and draw(st.integers(0, 3)) > 0)
        g.shapes[name], g.dtypes[name] = s, dt
        return ("t", (s, dt, layout, fill, g.seed, rg))
    return gen


def partner(ref="x", dtypes=DTYPES, name="y", fills=("rand", "rand", "special")):
    """A tensor whose shape usually broadcasts against `ref`'s; dtype same or any."""
    def shape_of(g):
        s = g.shapes.get(ref, ())
        draw = g.draw
        return pick(draw,
                    (3, lambda: s),
                    (2, lambda: tuple(1 if draw(st.booleans()) else d for d in s)),
                    (2, lambda: s[draw(st.integers(0, len(s))):]),
                    (1, lambda: tuple(draw(shape_st(0, 2))) + s),
                    (1, lambda: draw(shape_st(0, 4))))

    def gen(g):
        same = g.draw(st.booleans()) and g.dtypes.get(ref) in dtypes
        dts = (g.dtypes[ref],) if same else dtypes
        return tensor(dtypes=dts, name=name, shape=shape_of, fills=fills)(g)
    return gen


def const(value):
    return lambda g: ("v", value)


def choice(*values):
    return lambda g: ("v", g.draw(st.sampled_from(values)))


def one_of(*gens):
    return lambda g: gens[g.draw(st.integers(0, len(gens) - 1))](g)


def integer(lo, hi, bad=True):
    """Mostly an int in [lo, hi]; sometimes a huge, negative or non-int one."""
    def gen(g):
        draw = g.draw
        return pick(draw,
                    (8, lambda: ("v", draw(st.integers(lo, hi)))),
                    (2 if bad else 0, lambda: ("v", draw(st.sampled_from(HUGE_INTS)))),
                    (1 if bad else 0, lambda: ("v", draw(st.integers(-4, -1)))),
                    (1 if bad else 0, lambda: draw(st.sampled_from(
                        [("v", 2.0), ("v", 1.5), ("v", None), ("v", True, "boolint"),
                         ("np", "int64", 2), ("v", math.inf), ("v", "2")]))))
    return gen


def dim(ref="x", none=False):
    """A dim for `ref`: mostly valid, else out of range, huge, or of a wrong type."""
    def gen(g):
        n, draw = g.ndim(ref), g.draw
        valid = (lambda: ("v", draw(st.integers(-n, n - 1)))) if n else (
            lambda: ("v", draw(st.sampled_from([0, -1]))))
        return pick(draw,
                    (10, valid),
                    (2, lambda: ("v", draw(st.sampled_from([n, -n - 1, n + 1, 7])))),
                    (1, lambda: ("v", draw(st.sampled_from(HUGE_INTS)))),
                    (1 if none else 0, lambda: ("v", None)),
                    (1, lambda: draw(st.sampled_from(
                        [("v", 0.0), ("v", 1.5), ("v", True, "boolint"), ("np", "int64", 0),
                         ("v", "0"), ("v", None)]))))
    return gen


def dims(ref="x"):
    """A tuple/list of dims (maybe repeated or empty), a single dim, or None."""
    def gen(g):
        draw, d = g.draw, dim(ref)
        return pick(draw,
                    (3, lambda: d(g)),
                    (3, lambda: (draw(st.sampled_from(["tuple", "list"])),
                                 [d(g) for _ in range(draw(st.integers(0, 3)))])),
                    (1, lambda: ("v", None)))
    return gen


def keepdim(g):
    return pick(g.draw, (12, lambda: ("v", g.draw(st.booleans()))),
                (1, lambda: ("v", g.draw(st.sampled_from([0, 1, None, "yes"])), "flag")))


def dtype_arg(g):
    return pick(g.draw, (10, lambda: ("dtype", g.draw(st.sampled_from(DTYPES)))),
                (1, lambda: ("v", None)),
                (1, lambda: ("v", g.draw(st.sampled_from([float, int, bool, "float32",
                                                          np.float32])), "pydtype")))


def scalar(g):
    return pick(g.draw,
                (6, lambda: ("v", g.draw(st.sampled_from([0, 1, -1, 2, 3, 0.5, -2.5, 1.0])))),
                (3, lambda: ("v", g.draw(st.sampled_from([math.nan, math.inf, -math.inf, 1e308,
                                                          -1e308, 1e-320, 2**63, 2**64,
                                                          -2**63 - 1, 300, -129])))),
                (1, lambda: g.draw(st.sampled_from([("v", True), ("v", False),
                                                    ("np", "float32", 1.5), ("np", "int8", 3),
                                                    ("v", None), ("v", "1"), ("v", 1j)]))))


def size_elem(g):
    return pick(g.draw,
                (10, lambda: ("v", g.draw(st.integers(0, 3)))),
                (2, lambda: ("v", g.draw(st.sampled_from([-1, -2])))),
                (2, lambda: ("v", g.draw(st.sampled_from(HUGE_INTS)))),
                (1, lambda: g.draw(st.sampled_from([("v", 2.0), ("v", None),
                                                    ("v", True, "boolint"),
                                                    ("np", "int64", 2), ("v", "2"),
                                                    ("np", "float64", 2.0)]))))


def sizes(allow_splat=True, max_len=4):
    """A shape argument: *ints, a tuple, a list, a Size, a bare int, or nonsense."""
    def gen(g):
        draw = g.draw
        elems = [size_elem(g) for _ in range(draw(st.integers(0, max_len)))]
        kinds = ["tuple", "list", "size"] + (["splat", "splat"] if allow_splat else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "size" and not all(e[0] == "v" and type(e[1]) is int and e[1] >= 0
                                      for e in elems):
            kind = "tuple"
        if kind == "size":
            return ("size", [e[1] for e in elems])
        return (kind, elems)
    return gen


def reshape_sizes(ref="x"):
    """Sizes that usually multiply out to `ref`'s numel (with -1s sprinkled), else `sizes`."""
    def gen(g):
        draw = g.draw
        s = g.shapes.get(ref, ())
        n = int(np.prod(s)) if s else 1
        if draw(st.integers(0, 2)) == 0:
            return sizes()(g)
        factors = [d for d in (1, 2, 3, 4, 6) if n % d == 0] if n else [0, 1, 2]
        out, left = [], n
        for _ in range(draw(st.integers(0, 3))):
            f = draw(st.sampled_from(factors))
            if f and left % f == 0:
                out.append(f)
                left //= f
            elif not n:
                out.append(f)
        out.append(left if n else draw(st.sampled_from([0, -1, 5])))
        if draw(st.booleans()):
            out[draw(st.integers(0, len(out) - 1))] = -1
        elems = [("v", v) for v in out]
        return (draw(st.sampled_from(["splat", "tuple", "list"])), elems)
    return gen


def tensors(n_min=0, n_max=3, ref="x"):
    """A list (or tuple) of tensors of `ref`'s shape or a bit off, for cat/stack."""
    def gen(g):
        draw = g.draw
        first = tensor(min_nd=0, max_nd=3, name=ref)(g)
        items = [first]
        for i in range(draw(st.integers(n_min, n_max))):
            s = g.shapes[ref]

            def near(g, s=s):
                return pick(draw, (4, lambda: s),
                            (2, lambda: tuple(draw(st.integers(0, 3)) if j == 0 else d
                                              for j, d in enumerate(s))),
                            (1, lambda: draw(shape_st(0, 3))))
            items.append(tensor(shape=near, name="_%d" % i)(g))
        return (draw(st.sampled_from(["list", "list", "tuple"])), items)
    return gen


def index_tensor(ref_shape_fn, dtypes=("int64", "int64", "int32", "int16", "uint8", "float32")):
    return lambda g: tensor(shape=ref_shape_fn, dtypes=dtypes, fills=("index", "class"),
                            name="idx", grad=False)(g)


def sig(*pos, opt=(), kw=None):
    """Positional generators, then a prefix of the optional ones, then a random subset of the
    keyword generators; sometimes one argument is swapped for a wrongly typed value and
    sometimes a bogus keyword is added."""
    kw = kw or {}

    def gen(g, wild_from):
        draw = g.draw
        args = [p(g) for p in pos]
        args += [p(g) for p in opt[:draw(st.integers(0, len(opt)))]]
        kwargs = {k: p(g) for k, p in kw.items() if draw(st.booleans())}
        slots = list(range(wild_from, len(args))) + list(kwargs)
        if slots and draw(st.integers(0, 11)) == 0:
            slot = draw(st.sampled_from(slots))
            if isinstance(slot, int):
                args[slot] = draw(WILD)
            else:
                kwargs[slot] = draw(WILD)
        if draw(st.integers(0, 40)) == 0:
            kwargs["bogus_keyword"] = ("v", 1)
        return args, kwargs
    return gen


X = tensor()
XF = tensor(dtypes=FLOATS + ("float32", "int64", "bool"))
Y = partner()


def op_add(M, a, b):
    return a + b


def op_rsub(M, a, b):
    return b - a


def op_mul(M, a, b):
    return a * b


def op_truediv(M, a, b):
    return a / b


def op_floordiv(M, a, b):
    return a // b


def op_mod(M, a, b):
    return a % b


def op_pow(M, a, b):
    return a ** b


def op_rpow(M, a, b):
    return b ** a


def op_matmul(M, a, b):
    return a @ b


def op_neg(M, a):
    return -a


def op_invert(M, a):
    return ~a


def op_lt(M, a, b):
    return a < b


def op_eq(M, a, b):
    return a == b


def op_getitem(M, x, idx):
    return x[idx]


def op_setitem(M, x, idx, value):
    y = x.clone() if x.requires_grad and x.is_leaf else x
    y[idx] = value
    return y


def op_len(M, x):
    return len(x)


def op_item(M, x):
    return x.item()


def op_tolist(M, x):
    return x.tolist()


def op_iter(M, x):
    return list(x)


def op_bool(M, x):
    return bool(x)


def op_int(M, x):
    return int(x)


def op_float(M, x):
    return float(x)


def op_index(M, x):
    return [10, 20, 30, 40, 50, 60][x]


def op_inplace(method):
    """x.method_(*args): on a leaf that requires grad this is torch's error."""
    def fn(M, x, *args, **kwargs):
        return getattr(x, method)(*args, **kwargs)
    fn.__name__ = method
    return fn


def index_spec(g):
    """An indexing key for x: ints, slices, None, Ellipsis, bool/int tensors, lists, nonsense."""
    draw = g.draw
    n = g.ndim("x")
    shape = g.shapes.get("x", ())

    def one():
        return pick(draw,
                    (4, lambda: ("v", draw(st.integers(-4, 4)))),
                    (1, lambda: ("v", draw(st.sampled_from(HUGE_INTS)))),
                    (3, lambda: ("v", slice(draw(st.sampled_from([None, 0, 1, -1, -5, 2**63])),
                                            draw(st.sampled_from([None, 2, -1, 10, 2**70])),
                                            draw(st.sampled_from([None, 1, 2, 3, -1, 0]))))),
                    (1, lambda: ("v", None)),
                    (1, lambda: ("v", Ellipsis)),
                    (1, lambda: ("list", [("v", draw(st.integers(-3, 3)))
                                          for _ in range(draw(st.integers(0, 3)))])),
                    (2, lambda: index_tensor(lambda g: draw(shape_st(0, 2)))(g)),
                    (1, lambda: tensor(shape=lambda g: shape[:draw(st.integers(0, n))],
                                       dtypes=("bool",), name="mask", grad=False)(g)),
                    (1, lambda: draw(st.sampled_from([("v", 1.0), ("v", "a"), ("v", True),
                                                      ("v", False), ("np", "int64", 1),
                                                      ("v", [True, False])]))))
    k = draw(st.integers(1, 3))
    items = [one() for _ in range(k)]
    return items[0] if k == 1 and draw(st.booleans()) else ("tuple", items)


REDUCTION = choice("mean", "sum", "none", "mean", "sum", "bogus", None)


def conv_input(nd):
    def shape(g):
        draw = g.draw
        return tuple(draw(st.integers(0, 3)) if i < 2 else draw(st.integers(1, 5))
                     for i in range(draw(st.sampled_from([nd + 1, nd + 2, nd + 2, nd + 2, 2]))))
    return tensor(shape=shape, dtypes=FLOATS + ("float32", "float32", "int64"))


def conv_weight(nd):
    def shape(g):
        draw = g.draw
        xs = g.shapes["x"]
        cin = xs[1] if len(xs) == nd + 2 else (xs[0] if xs else 1)
        groups = draw(st.sampled_from([1, 1, 2]))
        g.shapes["groups"] = (groups,)
        c = cin // groups if cin % groups == 0 and cin >= groups else draw(st.integers(0, 3))
        return (draw(st.integers(0, 3)) * groups, c) + tuple(
            draw(st.integers(1, 3)) for _ in range(nd)) if draw(st.integers(0, 5)) else \
            draw(shape_st(0, 4))
    return tensor(shape=shape, dtypes=FLOATS + ("float32", "float32"), name="w")


def bias_for(ref, axis):
    def shape(g):
        s = g.shapes.get(ref, ())
        return (s[axis],) if len(s) > axis and g.draw(st.integers(0, 4)) else g.draw(
            shape_st(0, 2))
    return one_of(tensor(shape=shape, dtypes=FLOATS + ("float32",), name="b"), const(None))


def int_pair(lo, hi):
    """An int, a pair, or a bad size (0, negative, huge, wrong length, wrong type)."""
    def gen(g):
        draw = g.draw
        return pick(draw,
                    (4, lambda: ("v", draw(st.integers(lo, hi)))),
                    (3, lambda: ("tuple", [("v", draw(st.integers(lo, hi))) for _ in range(2)])),
                    (2, lambda: integer(lo, hi)(g)),
                    (1, lambda: ("list", [integer(lo, hi)(g) for _ in range(
                        draw(st.sampled_from([1, 3, 0])))])))
    return gen


def channel_vec(ref="x"):
    def shape(g):
        s = g.shapes.get(ref, ())
        return (s[1],) if len(s) > 1 and g.draw(st.integers(0, 5)) else g.draw(shape_st(0, 2))
    return shape


def batch_norm_gen():
    x = tensor(shape=lambda g: g.draw(shape_st(0, 4)), dtypes=FLOATS + ("float32", "float32"))
    stats = lambda name, fill: one_of(  # noqa: E731
        tensor(shape=channel_vec(), dtypes=FLOATS + ("float32",), name=name, fills=(fill,),
               grad=False), const(None))
    return sig(x, stats("rm", "rand"), stats("rv", "pos"),
               opt=(bias_for("x", 1), bias_for("x", 1), keepdim,
                    choice(0.1, 0.0, 1.0, -1.0, None), choice(1e-5, 0.0, -1.0, math.nan)))


def loss_target_shape(g):
    s = g.shapes.get("x", ())
    return pick(g.draw, (6, lambda: s), (1, lambda: s[1:]), (1, lambda: g.draw(shape_st(0, 3))))


def class_target(g):
    s = g.shapes.get("x", ())
    shape = pick(g.draw, (6, lambda: (s[:1] + s[2:]) if len(s) >= 2 else ()),
                 (1, lambda: s), (1, lambda: g.draw(shape_st(0, 3))))
    return tensor(shape=shape, dtypes=("int64", "int64", "int64", "int32", "uint8", "float32"),
                  fills=("class", "class", "index"), name="target", grad=False)(g)


def class_weight(g):
    s = g.shapes.get("x", ())
    c = s[1] if len(s) >= 2 else (s[0] if s else 1)
    return one_of(const(None), tensor(shape=pick(g.draw, (5, lambda: (c,)),
                                                 (1, lambda: g.draw(shape_st(0, 2)))),
                                      dtypes=("float32", "float32", "float64"), fills=("pos",),
                                      name="cw", grad=False))(g)


def pad_spec(g):
    draw = g.draw
    n = draw(st.sampled_from([0, 1, 2, 2, 3, 4, 4, 6, 10]))
    elems = [("v", draw(st.sampled_from([0, 1, 2, -1, -2, 1, 0]))) if draw(st.integers(0, 7))
             else size_elem(g) for _ in range(n)]
    return (draw(st.sampled_from(["tuple", "list"])), elems)


def embedding_weight(g):
    shape = pick(g.draw, (8, lambda: (g.draw(st.integers(0, 6)), g.draw(st.integers(0, 3)))),
                 (1, lambda: g.draw(shape_st(0, 3))))
    return tensor(shape=shape, dtypes=("float32", "float32", "float64", "float16", "int64"),
                  name="w")(g)


def unary(target):
    return Op(target, sig(X))


def method_or_func(name, gen, **kw):
    return {"T." + name: Op("T." + name, gen, **kw), "torch." + name: Op("torch." + name, gen,
                                                                          **kw)}


OPS = {}

# ---- creation ---------------------------------------------------------------------------------
FACTORY_KW = {"dtype": dtype_arg, "requires_grad": keepdim}
for _name, _random in [("zeros", False), ("ones", False), ("empty", True), ("rand", True),
                       ("randn", True)]:
    OPS["torch." + _name] = Op("torch." + _name, sig(sizes(), kw=FACTORY_KW), random=_random)
OPS["torch.full"] = Op("torch.full", sig(sizes(allow_splat=False), scalar, kw=FACTORY_KW))
OPS["torch.arange"] = Op("torch.arange", sig(scalar, opt=(scalar, scalar), kw=FACTORY_KW))
OPS["torch.arange_int"] = Op("torch.arange", sig(
    integer(-3, 8), opt=(integer(-3, 8), integer(-2, 3)), kw=FACTORY_KW))
OPS["torch.linspace"] = Op("torch.linspace", sig(scalar, scalar, integer(0, 6), kw=FACTORY_KW))
OPS["torch.eye"] = Op("torch.eye", sig(integer(0, 4), opt=(integer(0, 4),), kw=FACTORY_KW))
OPS["torch.randint"] = Op("torch.randint", sig(integer(-2, 5), opt=(integer(0, 6),),
                                               kw={"size": sizes(allow_splat=False),
                                                   "dtype": dtype_arg}), random=True)
OPS["torch.randperm"] = Op("torch.randperm", sig(integer(0, 5), kw={"dtype": dtype_arg}),
                           random=True)
for _name, _random in [("zeros_like", False), ("ones_like", False), ("rand_like", True),
                       ("empty_like", True)]:
    OPS["torch." + _name] = Op("torch." + _name, sig(X, kw=FACTORY_KW), random=_random)
OPS["torch.full_like"] = Op("torch.full_like", sig(X, scalar, kw=FACTORY_KW))
OPS["T.new_zeros"] = Op("T.new_zeros", sig(X, sizes(), kw=FACTORY_KW))
OPS["T.new_full"] = Op("T.new_full", sig(X, sizes(allow_splat=False), scalar, kw=FACTORY_KW))


def nested_data(g, depth=0):
    draw = g.draw
    return pick(draw,
                (4, lambda: scalar(g)),
                (1, lambda: ("v", draw(st.sampled_from(HUGE_INTS)))),
                (3 if depth < 3 else 0, lambda: ("list", [
                    nested_data(g, depth + 1) for _ in range(draw(st.integers(0, 3)))])),
                (1 if depth < 3 else 0, lambda: ("tuple", [
                    nested_data(g, depth + 1) for _ in range(draw(st.integers(0, 2)))])),
                (1, lambda: tensor(max_nd=2, grad=False, name="d")(g)),
                (1, lambda: ("np", draw(st.sampled_from(["float16", "int8", "uint8", "bool",
                                                          "float64"])), 1)))


OPS["torch.tensor"] = Op("torch.tensor", sig(nested_data, kw={"dtype": dtype_arg,
                                                               "requires_grad": keepdim}))
OPS["torch.as_tensor"] = Op("torch.as_tensor", sig(nested_data, kw={"dtype": dtype_arg}))

# ---- pointwise --------------------------------------------------------------------------------
for _name in ["abs", "neg", "exp", "log", "log2", "log10", "sqrt", "rsqrt", "sin", "cos", "tanh",
              "sigmoid", "relu", "reciprocal", "square", "floor", "ceil", "round", "sign",
              "isnan", "isfinite", "isinf", "logical_not", "clone", "contiguous", "float",
              "double", "half", "int", "long", "bool", "t", "detach", "numel", "dim",
              "is_contiguous", "is_floating_point"]:
    OPS["T." + _name] = unary("T." + _name)
for _name in ["abs", "exp", "sqrt", "sigmoid", "floor", "isnan", "bitwise_not", "sign",
              "logical_not", "numel", "is_floating_point", "negative"]:
    OPS["torch." + _name] = unary("torch." + _name)
for _fn in [op_neg, op_invert, op_len, op_item, op_tolist, op_iter, op_bool, op_int, op_float,
            op_index]:
    OPS[_fn.__name__] = Op(_fn, sig(X))
# torch.<name> functions that are Tensor methods, and Tensor methods called unbound, with
# anything as the tensor
TORCH_ALIASES = ("abs", "neg", "negative", "exp", "log", "log2", "log10", "sqrt", "rsqrt", "sin",
                 "cos", "tanh", "sigmoid", "relu", "relu_", "reciprocal", "square", "floor",
                 "ceil", "round", "isnan", "isfinite", "isinf", "clone", "detach", "numel",
                 "sign", "is_floating_point", "is_tensor")
UNBOUND_METHODS = ("bool", "ceil", "clamp_", "clone", "contiguous", "detach", "dim", "double",
                   "element_size", "float", "floor", "half", "int", "is_contiguous",
                   "is_floating_point", "item", "long", "ndimension", "nelement", "numel",
                   "relu_", "requires_grad_", "round", "size", "stride", "tolist", "type",
                   "zero_", "abs", "exp", "sum", "t", "neg", "sigmoid")
NO_WILD = 99        # the argument is drawn from wrongly typed values already
OPS["torch.alias"] = Op(lambda M, name, x: getattr(M, name)(x), sig(
    choice(*TORCH_ALIASES), one_of(X, lambda g: g.draw(WILD), scalar)), wild_from=NO_WILD)
OPS["T.unbound"] = Op(lambda M, name, x: getattr(M.Tensor, name)(x), sig(
    choice(*UNBOUND_METHODS), one_of(X, lambda g: g.draw(WILD), scalar)), wild_from=NO_WILD)
OPS["T.to"] = Op("T.to", sig(X, dtype_arg, kw={"copy": keepdim}))
OPS["T.type"] = Op("T.type", sig(X, opt=(one_of(dtype_arg, choice(
    "torch.FloatTensor", "torch.LongTensor", "torch.bogus", "float")),)))
OPS["T.clamp"] = Op("T.clamp", sig(X, opt=(one_of(scalar, const(None), Y),
                                           one_of(scalar, const(None), partner(name="z"))),
                                   kw={}))
OPS["torch.clamp_kw"] = Op("torch.clamp", sig(X, kw={"min": one_of(scalar, Y),
                                                     "max": one_of(scalar, partner(name="z"))}))
OPS["T.pow"] = Op("T.pow", sig(X, one_of(scalar, Y)))
OPS["torch.pow_scalar_base"] = Op("torch.pow", sig(scalar, X), wild_from=0)
OPS["T.masked_fill"] = Op("T.masked_fill", sig(X, partner(dtypes=("bool", "bool", "uint8",
                                                                  "int64")),
                                               one_of(scalar, tensor(max_nd=1, name="v"))))
OPS["torch.where"] = Op("torch.where", sig(partner(dtypes=("bool", "bool", "uint8", "float32"),
                                                   name="c"), X, one_of(Y, scalar)))
OPS["torch.where_scalar"] = Op("torch.where", sig(X, scalar, scalar))
for _name in ["add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "pow",
              "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
              "logical_or", "isclose", "allclose", "equal"]:
    OPS["torch." + _name] = Op("torch." + _name, sig(X, one_of(Y, Y, scalar)))
for _name in ["add", "sub", "mul", "div", "maximum", "eq", "lt", "floor_divide", "remainder"]:
    OPS["T." + _name] = Op("T." + _name, sig(X, one_of(Y, Y, scalar)))
OPS["torch.add_alpha"] = Op("torch.add", sig(X, Y, kw={"alpha": scalar}))
OPS["torch.div_mode"] = Op("torch.div", sig(X, one_of(Y, scalar), kw={
    "rounding_mode": choice("floor", "trunc", None, "bogus")}))
for _fn in [op_add, op_rsub, op_mul, op_truediv, op_floordiv, op_mod, op_pow, op_rpow, op_lt,
            op_eq]:
    OPS[_fn.__name__] = Op(_fn, sig(X, one_of(Y, Y, scalar, lambda g: g.draw(WILD))))

# ---- reductions -------------------------------------------------------------------------------
for _name in ["sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "all",
              "any", "logsumexp", "norm", "var", "std"]:
    OPS["T." + _name] = Op("T." + _name, sig(X, opt=(dims(), keepdim)))
    OPS["torch.%s_kw" % _name] = Op("torch." + _name, sig(X, kw={"dim": dims(),
                                                                 "keepdim": keepdim}))
for _name in ["sum", "mean", "prod", "cumsum"]:
    OPS["T.%s_dtype" % _name] = Op("T." + _name, sig(X, dim(), kw={"dtype": dtype_arg}))
for _name in ["softmax", "log_softmax", "cumsum"]:
    OPS.update(method_or_func(_name, sig(X, dim(none=True))))
OPS["T.var_unbiased"] = Op("T.var", sig(X, kw={"dim": dims(), "unbiased": keepdim,
                                               "correction": choice(0, 1, 2, 5, -1, 0.5, None),
                                               "keepdim": keepdim}))
OPS["T.std_unbiased"] = Op("T.std", sig(X, opt=(dims(), keepdim, keepdim)))
OPS["T.norm_p"] = Op("T.norm", sig(X, opt=(choice(1, 2, 0, 3.5, -1, math.inf, -math.inf,
                                                  "fro", "nuc", "bogus", None), dims(),
                                           keepdim)))
OPS["T.max_other"] = Op("T.max", sig(X, Y))

# ---- shape ------------------------------------------------------------------------------------
OPS["T.reshape"] = Op("T.reshape", sig(X, reshape_sizes()))
OPS["T.view"] = Op("T.view", sig(X, one_of(reshape_sizes(), reshape_sizes(), dtype_arg)))
OPS["torch.reshape"] = Op("torch.reshape", sig(X, lambda g: _not_splat(reshape_sizes()(g))))
OPS["T.flatten"] = Op("T.flatten", sig(X, opt=(dim(), dim())))
OPS["T.squeeze"] = Op("T.squeeze", sig(X, opt=(dims(),)))
OPS["torch.squeeze"] = Op("torch.squeeze", sig(X, opt=(dims(),)))
OPS["T.unsqueeze"] = Op("T.unsqueeze", sig(X, lambda g: dim()(_plus_one(g))))
OPS["T.expand"] = Op("T.expand", sig(X, one_of(sizes(), reshape_sizes())))
OPS["T.expand_as"] = Op("T.expand_as", sig(X, Y))
OPS["T.reshape_as"] = Op("T.reshape_as", sig(X, Y))
OPS["T.view_as"] = Op("T.view_as", sig(X, Y))
OPS["T.type_as"] = Op("T.type_as", sig(X, Y))
OPS["T.transpose"] = Op("T.transpose", sig(X, dim(), dim()))
OPS["torch.transpose"] = Op("torch.transpose", sig(X, dim(), dim()))
OPS["T.swapaxes"] = Op("T.swapaxes", sig(X, dim(), dim()))
OPS["T.permute"] = Op("T.permute", sig(X, lambda g: (g.draw(st.sampled_from(
    ["tuple", "list", "splat"])), [dim()(g) for _ in range(g.draw(st.integers(
        max(0, g.ndim() - 1), g.ndim() + 1)))])))
OPS["T.repeat"] = Op("T.repeat", sig(X, sizes()))
OPS["T.narrow"] = Op("T.narrow", sig(X, dim(), integer(-3, 4), integer(0, 3)))
OPS["T.chunk"] = Op("T.chunk", sig(X, integer(1, 4), opt=(dim(),)))
OPS["torch.chunk"] = Op("torch.chunk", sig(X, integer(1, 4), opt=(dim(),)))
OPS["T.split"] = Op("T.split", sig(X, one_of(integer(1, 3), lambda g: (
    "list", [integer(0, 3)(g) for _ in range(g.draw(st.integers(0, 4)))])), opt=(dim(),)))
OPS["T.unbind"] = Op("T.unbind", sig(X, opt=(dim(),)))
OPS["torch.cat"] = Op("torch.cat", sig(tensors(), opt=(dim(),)))
OPS["torch.stack"] = Op("torch.stack", sig(tensors(), opt=(lambda g: dim()(_plus_one(g)),)))
OPS["torch.cat_kw"] = Op("torch.cat", sig(tensors(), kw={"dim": dim()}))
OPS["T.gather"] = Op("T.gather", sig(X, dim(), index_tensor(lambda g: pick(
    g.draw, (4, lambda: g.shapes["x"]), (2, lambda: tuple(
        g.draw(st.integers(0, d)) for d in g.shapes["x"])), (1, lambda: g.draw(shape_st()))),
    dtypes=("int64", "int64", "int64", "int32", "float32"))))
OPS["getitem"] = Op(op_getitem, sig(X, index_spec), wild_from=1)
OPS["setitem"] = Op(op_setitem, sig(X, index_spec, one_of(scalar, partner(
    ref="x", name="val"))), wild_from=1)
OPS["T.T"] = Op(lambda M, x: x.T, sig(X))
OPS["T.mT"] = Op(lambda M, x: x.mT, sig(X))
OPS["T.size"] = Op("T.size", sig(X, opt=(dim(),)))
OPS["T.stride"] = Op("T.stride", sig(X, opt=(dim(),)))


def _not_splat(spec):
    """torch.reshape takes its shape as one argument."""
    return ("tuple", spec[1]) if spec[0] == "splat" else spec


def _plus_one(g):
    """A view of g whose x has one more dim (unsqueeze/stack take dims in [-n-1, n])."""
    h = G(g.draw, g.backward)
    h.shapes = dict(g.shapes)
    h.shapes["x"] = tuple(g.shapes.get("x", ())) + (1,)
    return h


# ---- matrix products --------------------------------------------------------------------------
def mat_partner(g):
    s = g.shapes.get("x", ())
    draw = g.draw
    k = s[-1] if s else 2
    shape = pick(draw,
                 (3, lambda: (k,)),
                 (3, lambda: (k, draw(st.integers(0, 3)))),
                 (2, lambda: s[:-2] + (k, draw(st.integers(0, 3)))),
                 (1, lambda: (draw(st.integers(1, 2)),) + s[:-2] + (k, draw(st.integers(0, 3)))),
                 (2, lambda: draw(shape_st(0, 4))))
    same = draw(st.booleans())
    return tensor(shape=shape, name="y",
                  dtypes=(g.dtypes["x"],) if same else DTYPES)(g)


for _name in ["matmul", "mm", "bmm", "dot", "mv"]:
    OPS["T." + _name] = Op("T." + _name, sig(X, mat_partner))
    OPS["torch." + _name] = Op("torch." + _name, sig(X, mat_partner))
OPS["op_matmul"] = Op(op_matmul, sig(X, mat_partner))

# ---- nn.functional ----------------------------------------------------------------------------
OPS["F.linear"] = Op("F.linear", sig(X, lambda g: tensor(shape=pick(
    g.draw, (5, lambda: (g.draw(st.integers(0, 3)), g.shapes["x"][-1] if g.shapes["x"] else 1)),
    (1, lambda: g.draw(shape_st(0, 3)))), dtypes=FLOATS + ("float32", "int64"), name="w")(g),
    opt=(one_of(const(None), lambda g: tensor(shape=pick(
        g.draw, (4, lambda: g.shapes["w"][:1]), (1, lambda: g.draw(shape_st(0, 2)))),
        dtypes=FLOATS + ("float32",), name="b")(g)),)))
CONV_KW = {"stride": int_pair(1, 3), "padding": int_pair(0, 2), "dilation": int_pair(1, 2),
           "groups": lambda g: ("v", g.shapes.get("groups", (1,))[0]) if g.draw(
               st.integers(0, 5)) else integer(1, 3)(g)}
OPS["F.conv2d"] = Op("F.conv2d", sig(conv_input(2), conv_weight(2), opt=(bias_for("w", 0),),
                                     kw=CONV_KW))
OPS["F.conv1d"] = Op("F.conv1d", sig(conv_input(1), conv_weight(1), opt=(bias_for("w", 0),),
                                     kw=CONV_KW))
POOL_KW = {"stride": one_of(int_pair(1, 3), const(None)), "padding": int_pair(0, 1),
           "ceil_mode": keepdim}
OPS["F.max_pool2d"] = Op("F.max_pool2d", sig(conv_input(2), int_pair(1, 3),
                                             kw=dict(POOL_KW, dilation=int_pair(1, 2),
                                                     return_indices=keepdim)))
OPS["F.avg_pool2d"] = Op("F.avg_pool2d", sig(conv_input(2), int_pair(1, 3), kw=dict(
    POOL_KW, count_include_pad=keepdim, divisor_override=choice(None, 1, 2, 0, -1))))
OPS["F.adaptive_avg_pool2d"] = Op("F.adaptive_avg_pool2d", sig(conv_input(2), one_of(
    int_pair(1, 3), lambda g: ("tuple", [g.draw(st.sampled_from(
        [("v", None), ("v", 1), ("v", 2)])) for _ in range(2)]))))
OPS["F.batch_norm"] = Op("F.batch_norm", batch_norm_gen())
OPS["F.layer_norm"] = Op("F.layer_norm", sig(XF, lambda g: pick(
    g.draw, (5, lambda: ("tuple", [("v", d) for d in g.shapes["x"][g.draw(st.integers(
        0, len(g.shapes["x"]))):]])), (2, lambda: sizes(allow_splat=False)(g))),
    opt=(lambda g: one_of(const(None), tensor(shape=g.shapes["x"][1:], dtypes=FLOATS,
                                              name="lw"))(g),)))
OPS["F.embedding"] = Op("F.embedding", sig(
    lambda g: tensor(dtypes=("int64", "int64", "int32", "float32"), fills=("class", "index"),
                     name="idx", max_nd=3, grad=False)(g),
    embedding_weight, kw={"padding_idx": choice(None, 0, 1, -1, 10, -10)}))
OPS["F.one_hot"] = Op("F.one_hot", sig(
    tensor(dtypes=("int64", "int64", "int32", "float32"), fills=("class", "index")),
    opt=(choice(-1, 0, 1, 3, 5, 2**63, -2),)))
OPS["F.pad"] = Op("F.pad", sig(X, pad_spec, opt=(const("constant"), scalar)))
OPS["F.dropout"] = Op("F.dropout", sig(XF, opt=(choice(0.0, 0.5, 1.0, -0.1, 1.5, math.nan),
                                                keepdim)), random=True)
OPS["F.dropout_det"] = Op("F.dropout", sig(XF, choice(0.0, 1.0, -0.1, 1.5), keepdim))
for _name in ["relu", "silu", "gelu", "sigmoid", "tanh"]:
    OPS["F." + _name] = Op("F." + _name, sig(XF))
OPS["F.leaky_relu"] = Op("F.leaky_relu", sig(XF, opt=(scalar,)))
OPS["F.softmax"] = Op("F.softmax", sig(XF, dim(), kw={"dtype": dtype_arg}))
OPS["F.log_softmax"] = Op("F.log_softmax", sig(XF, dim(), kw={"dtype": dtype_arg}))
for _name in ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
              "binary_cross_entropy_with_logits"]:
    OPS["F." + _name] = Op("F." + _name, sig(XF, lambda g: tensor(
        shape=loss_target_shape, dtypes=FLOATS + ("float32", "int64"), name="y")(g),
        kw={"reduction": REDUCTION}))
OPS["F.binary_cross_entropy"] = Op("F.binary_cross_entropy", sig(
    tensor(dtypes=FLOATS + ("float32",), fills=("prob", "prob", "special")),
    lambda g: tensor(shape=loss_target_shape, dtypes=FLOATS + ("float32",), fills=("prob",),
                     name="y")(g), kw={"reduction": REDUCTION}))
OPS["F.nll_loss"] = Op("F.nll_loss", sig(tensor(min_nd=1, max_nd=4, dtypes=FLOATS + (
    "float32", "float32")), class_target, kw={"weight": class_weight, "reduction": REDUCTION,
                                            "ignore_index": choice(-100, 0, 1, -1, 2**63)}))
OPS["F.cross_entropy"] = Op("F.cross_entropy", sig(tensor(min_nd=1, max_nd=4, dtypes=FLOATS + (
    "float32", "float32")), one_of(class_target, class_target, lambda g: tensor(
        shape=g.shapes["x"], dtypes=FLOATS + ("float32",), fills=("prob",), name="y")(g)),
    kw={"weight": class_weight, "reduction": REDUCTION,
        "ignore_index": choice(-100, 0, 1, -1), "label_smoothing": choice(0.0, 0.1, 1.0, -0.1,
                                                                           2.0)}))

# ---- in-place ---------------------------------------------------------------------------------
for _name, _gen in [("add_", sig(X, one_of(Y, scalar))), ("sub_", sig(X, one_of(Y, scalar))),
                    ("mul_", sig(X, one_of(Y, scalar))), ("div_", sig(X, one_of(Y, scalar))),
                    ("clamp_", sig(X, opt=(scalar, scalar))), ("fill_", sig(X, one_of(
                        scalar, tensor(max_nd=1, name="v")))),
                    ("zero_", sig(X)), ("relu_", sig(X)),
                    ("masked_fill_", sig(X, partner(dtypes=("bool", "bool", "uint8")),
                                         one_of(scalar, tensor(max_nd=1, name="v")))),
                    ("copy_", sig(X, Y)), ("requires_grad_", sig(X, opt=(keepdim,))),
                    ("detach_", sig(X))]:
    OPS["T." + _name] = Op(op_inplace(_name), _gen, wild_from=1)
OPS["T.uniform_"] = Op(op_inplace("uniform_"), sig(X, opt=(scalar, scalar)), random=True,
                       wild_from=1)
OPS["T.normal_"] = Op(op_inplace("normal_"), sig(X, opt=(scalar, scalar)), random=True,
                      wild_from=1)


# ================================================================================================
# The case strategy and the check
# ================================================================================================

GROUPS = {
    "creation": [k for k in OPS if k.split(".")[-1].split("_")[0] in (
        "zeros", "ones", "empty", "rand", "randn", "full", "arange", "linspace", "eye",
        "randint", "randperm", "tensor", "as", "new")],
    "nn": [k for k in OPS if k.startswith("F.")],
    "inplace": [k for k in OPS if k.startswith("T.") and k.endswith("_")],
}
GROUPS["ops"] = [k for k in OPS if not any(k in v for v in GROUPS.values())]


@st.composite
def cases(draw, group):
    name = draw(st.sampled_from(GROUPS[group]))
    backward = draw(st.integers(0, 2)) == 0
    g = G(draw, backward)
    args, kwargs = OPS[name].gen(g, OPS[name].wild_from)
    return Case(name, args, kwargs, backward)


MESSAGE_MISMATCHES = {}


def _record_message_mismatch(case, ours, theirs):
    key = (case.op, ours[1], ours[4][:80], theirs[4][:80])
    event("message differs from torch: %s" % case.op)
    if key in MESSAGE_MISMATCHES:
        return
    MESSAGE_MISMATCHES[key] = case
    path = os.environ.get("AUTOGRAD_C_FUZZ_LOG")
    if path:
        with open(path, "a") as f:
            f.write("MESSAGE %r\n  ours:  %s: %s\n  torch: %s: %s\n" % (
                case, ours[1], ours[4][:300], theirs[1], theirs[4][:300]))


def known_defect(case):
    """The entries of KNOWN_DEFECTS that match the case: (skip it entirely, tolerances)."""
    skip, tolerances = False, []
    for entry in KNOWN_DEFECTS:
        ops, matches = entry[0], entry[2]
        if (ops == ANY or case.op in ops) and matches(case):
            if len(entry) > 3:
                tolerances.append(entry[3])
            else:
                skip = True
    return skip, tolerances


def describe(outcome):
    if outcome[0] == "ok":
        return "returned %s" % _short(outcome[1][0])
    if outcome[0] == "raise":
        return "raised %s: %s" % (outcome[1], outcome[4][:300])
    return "CRASHED: %s" % outcome[1]


def check(case):
    """Fails on a disagreement; with AUTOGRAD_C_FUZZ_COLLECT=<file> (a deep local run) it only
    appends it to the file, so one run lists every failing example."""
    collect = os.environ.get("AUTOGRAD_C_FUZZ_COLLECT")
    try:
        _check(case)
    except AssertionError as e:
        if not collect:
            raise
        with open(collect, "a") as f:
            f.write("=== %s\n%s\n\n" % (case.op, str(e)[:3000]))


def _check(case):
    note(repr(case))
    skip, tolerances = known_defect(case)
    if skip:
        event("skipped: known defect")
        return
    ours = forked(run_case, "autograd_c", case.op, case)
    assert ours[0] != "crash", "%r\n  autograd_c %s" % (case, describe(ours))
    if real_torch is None:
        return
    theirs = forked(run_case, "torch", case.op, case)
    if theirs[0] == "crash":          # torch is no oracle here
        event("torch crashed or hung")
        return
    what = "%r\n  autograd_c %s\n  torch 2.13 %s" % (case, describe(ours), describe(theirs))
    if ours[0] != theirs[0] and any(t(ours, theirs) for t in tolerances):
        event("tolerated: known defect")
        return
    if theirs[0] == "raise":
        assert ours[0] == "raise", what
        # our exception must be catchable as torch's (torch's own classes count as their base)
        assert theirs[2] in ours[3] or any(t(ours, theirs) for t in tolerances), (
            "exception type differs: " + what)
        if ours[4] != theirs[4]:
            _record_message_mismatch(case, ours, theirs)
        return
    assert ours[0] == "ok", what
    (o_res, o_after, o_grads), (t_res, t_after, t_grads) = ours[1], theirs[1]
    values = not OPS[case.op].random
    diff = summary_differs(o_res, t_res, values) or \
        summary_differs(("seq", o_after), ("seq", t_after), values, "arguments afterwards")
    if diff is None and (o_grads is not None or t_grads is not None):
        if (o_grads is None) != (t_grads is None):
            diff = "gradients: %s, torch %s" % (_short(o_grads), _short(t_grads))
        else:
            for i, (a, b) in enumerate(zip(o_grads, t_grads)):
                if (a is None) != (b is None):
                    diff = "grad of leaf %d: %s, torch %s" % (i, _short(a), _short(b))
                elif a is not None:
                    diff = summary_differs(a, b, values, "grad of leaf %d" % i)
                if diff:
                    break
    assert diff is None, "%r\n  %s" % (case, diff)


EXAMPLES = int(os.environ.get("AUTOGRAD_C_FUZZ_EXAMPLES", "0")) or None
FUZZ = settings(max_examples=EXAMPLES or 150, deadline=None,
                derandomize=not os.environ.get("AUTOGRAD_C_FUZZ_RANDOM"), database=None,
                suppress_health_check=list(HealthCheck))
CI_EXAMPLES = {"creation": 350, "ops": 1200, "nn": 600, "inplace": 250}


def _fuzz_test(group):
    @settings(FUZZ, max_examples=EXAMPLES or CI_EXAMPLES[group])
    @given(cases(group))
    def test(case):
        check(case)
    test.__name__ = "test_fuzz_" + group
    return test


test_fuzz_creation = _fuzz_test("creation")
test_fuzz_ops = _fuzz_test("ops")
test_fuzz_nn = _fuzz_test("nn")
test_fuzz_inplace = _fuzz_test("inplace")


def test_table_is_broad():
    """Every group has ops, and the fuzzer itself reports a crash as a failure."""
    assert all(len(v) >= 5 for v in GROUPS.values()), {k: len(v) for k, v in GROUPS.items()}
    # a sanitizer build's handler turns the SIGSEGV into an abort: a crash either way
    assert forked(lambda: os.kill(os.getpid(), signal.SIGSEGV)) in (
        ("crash", "killed by SIGSEGV"), ("crash", "killed by SIGABRT"))


def test_known_defects_name_real_ops():
    """An entry naming no op of the table would silently exclude nothing."""
    for ops, what, _ in (e[:3] for e in KNOWN_DEFECTS):
        assert ops == ANY or (isinstance(ops, tuple) and set(ops) <= set(OPS)), (ops, what)
