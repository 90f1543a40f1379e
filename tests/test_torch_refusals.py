"""Inputs torch refuses must be refused here too, with torch's exception type and words, not
answered with a silently wrong value or a differently typed result; and where torch answers, the
result's dtype is torch's."""
import re
import warnings

import numpy as np
import pytest

import autograd_c
import autograd_c.nn.functional as F

INF, NAN = float("inf"), float("nan")


def t(mod, values, dtype):
    return mod.tensor(values, dtype=getattr(mod, dtype))


def mask(mod):
    return mod.tensor([True, False, True])


# (id, call, exception type, message; exact=True when our message must equal torch's with our
# module name in place of torch's)
REFUSALS = [
    # numbers written into a tensor are range-checked against its dtype
    ("masked_fill-int8-inf", lambda m, F: t(m, [1, 2, 3], "int8").masked_fill(mask(m), INF),
     RuntimeError, "value cannot be converted to type int8_t without overflow", True),
    ("masked_fill-uint8-256", lambda m, F: t(m, [1, 2, 3], "uint8").masked_fill(mask(m), 256),
     RuntimeError, "value cannot be converted to type uint8_t without overflow", True),
    ("masked_fill-int64-nan", lambda m, F: t(m, [1, 2, 3], "int64").masked_fill(mask(m), NAN),
     RuntimeError, "value cannot be converted to type int64_t without overflow", True),
    ("masked_fill-float32-1e308", lambda m, F: t(m, [1, 2, 3], "float32").masked_fill(mask(m), 1e308),
     RuntimeError, "value cannot be converted to type float without overflow", True),
    ("masked_fill-0d-tensor-value",
     lambda m, F: t(m, [1, 2, 3], "int8").masked_fill(mask(m), m.tensor(300)),
     RuntimeError, "value cannot be converted to type int8_t without overflow", True),
    ("masked_fill_-int8-128.0", lambda m, F: t(m, [1, 2, 3], "int8").masked_fill_(mask(m), 128.0),
     RuntimeError, "value cannot be converted to type int8_t without overflow", True),
    ("clamp-float32-max-1e308", lambda m, F: t(m, [1, 2, 3], "float32").clamp(max=1e308),
     RuntimeError, "value cannot be converted to type float without overflow", True),
    ("clamp-int8-min-1e308", lambda m, F: t(m, [1, 2, 3], "int8").clamp(min=-1e308),
     RuntimeError, "value cannot be converted to type float without overflow", True),
    ("clamp-int8-max-256", lambda m, F: t(m, [1, 2, 3], "int8").clamp(max=256),
     RuntimeError, "value cannot be converted to type int8_t without overflow", True),
    ("clamp_-float32-1e308", lambda m, F: t(m, [1, 2, 3], "float32").clamp_(max=1e308),
     RuntimeError, "value cannot be converted to type float without overflow", True),
    ("where-float32-1e39", lambda m, F: m.where(mask(m), t(m, [1, 2, 3], "float32"), 1e39),
     RuntimeError, "value cannot be converted to type float without overflow", True),
    ("where-int8-256", lambda m, F: m.where(mask(m), t(m, [1, 2, 3], "int8"), 256),
     RuntimeError, "value cannot be converted to type int8_t without overflow", True),
    ("fill_-int8-256", lambda m, F: t(m, [1, 2, 3], "int8").fill_(256),
     RuntimeError, "value cannot be converted to type int8_t without overflow", True),
    ("fill_-float32-1e308", lambda m, F: t(m, [1, 2, 3], "float32").fill_(1e308),
     RuntimeError, "value cannot be converted to type float without overflow", True),
    ("setitem-int8-nan", lambda m, F: t(m, [1, 2, 3], "int8").__setitem__(0, NAN),
     RuntimeError, "value cannot be converted to type int8_t without overflow", True),
    ("add-alpha-1e39", lambda m, F: t(m, [1, 2, 3], "float32").add(t(m, [1, 2, 3], "float32"), alpha=1e39),
     RuntimeError, "value cannot be converted to type float without overflow", True),
    ("add_-int8-alpha-256", lambda m, F: t(m, [1, 2, 3], "int8").add_(1, alpha=256),
     RuntimeError, "value cannot be converted to type int8_t without overflow", True),
    ("add-bool-alpha", lambda m, F: m.add(t(m, [1, 2, 3], "float32"), t(m, [1, 2, 3], "float32"), alpha=True),
     RuntimeError, "Boolean alpha only supported for Boolean results.", True),
    ("sub_-bool-alpha", lambda m, F: t(m, [1, 2, 3], "int64").sub_(1, alpha=True),
     RuntimeError, "Boolean alpha only supported for Boolean results.", True),
    ("leaky_relu-slope-1e308", lambda m, F: F.leaky_relu(t(m, [1, -2, 3], "float32"), 1e308),
     RuntimeError, "value cannot be converted to type float without overflow", True),
    ("pad-value-1e308", lambda m, F: F.pad(t(m, [1, 2, 3], "float32"), (1, 1), value=1e308),
     RuntimeError, "value cannot be converted to type float without overflow", True),
    # integer division by zero
    ("div-trunc-int-zero", lambda m, F: m.div(t(m, [1, 2], "int64"), t(m, [0, 1], "int64"), rounding_mode="trunc"),
     RuntimeError, "ZeroDivisionError", True),
    ("div-trunc-bool", lambda m, F: m.div(t(m, [True], "bool"), t(m, [True], "bool"), rounding_mode="trunc"),
     NotImplementedError, "\"div_trunc_cpu\" not implemented for 'Bool'", True),
    ("floor_divide-bool", lambda m, F: m.floor_divide(t(m, [True], "bool"), True),
     NotImplementedError, "\"div_floor_cpu\" not implemented for 'Bool'", True),
    # mixed dtypes where torch's kernels take one dtype
    ("nll_loss-weight-float64", lambda m, F: F.nll_loss(m.zeros(2, 3), m.tensor([0, 1]), weight=m.ones(3, dtype=m.float64)),
     RuntimeError, "expected scalar type Float but found Double", True),
    ("nll_loss-weight-int64", lambda m, F: F.nll_loss(m.zeros(2, 3, dtype=m.float64), m.tensor([0, 1]), weight=m.ones(3, dtype=m.int64)),
     RuntimeError, "expected scalar type Double but found Long", True),
    ("cross_entropy-weight-float64", lambda m, F: F.cross_entropy(m.zeros(2, 3), m.tensor([0, 1]), weight=m.ones(3, dtype=m.float64)),
     RuntimeError, "expected scalar type Float but found Double", True),
    ("cross_entropy-weight-smoothing", lambda m, F: F.cross_entropy(m.zeros(2, 3), m.tensor([0, 1]), weight=m.ones(3, dtype=m.float64), label_smoothing=0.1),
     RuntimeError, "expected scalar type Float but found Double", True),
    ("linear-float64-weight", lambda m, F: F.linear(m.zeros(2, 3), m.ones(4, 3, dtype=m.float64)),
     RuntimeError, "expected m1 and m2 to have the same dtype, but got: float != double", True),
    ("linear-float32-bias-float64-weight", lambda m, F: F.linear(m.zeros(2, 3, dtype=m.float64), m.ones(4, 3, dtype=m.float64), m.ones(4)),
     RuntimeError, "self and mat2 must have the same dtype, but got Float and Double", True),
    ("linear-float64-bias", lambda m, F: F.linear(m.zeros(2, 3), m.ones(4, 3), m.ones(4, dtype=m.float64)),
     RuntimeError, "self and mat2 must have the same dtype, but got Double and Float", True),
    ("linear-3d-input-float64-bias", lambda m, F: F.linear(m.zeros(5, 2, 3), m.ones(4, 3), m.ones(4, dtype=m.float64)),
     RuntimeError, "self and mat2 must have the same dtype, but got Double and Float", True),
    ("linear-bias-matches-weight-not-input", lambda m, F: F.linear(m.zeros(2, 3), m.ones(4, 3, dtype=m.float64), m.ones(4, dtype=m.float64)),
     RuntimeError, "mat1 and mat2 must have the same dtype, but got Float and Double", True),
    ("layer_norm-float64-weight", lambda m, F: F.layer_norm(m.zeros(2, 3), (3,), m.ones(3, dtype=m.float64)),
     RuntimeError, "mixed dtype (CPU): expect parameter to have scalar type of Float", True),
    ("layer_norm-float32-weight-float64-input", lambda m, F: F.layer_norm(m.zeros(2, 3, dtype=m.float64), (3,), m.ones(3)),
     RuntimeError, "mixed dtype (CPU): all inputs must share same datatype.", True),
    ("layer_norm-float64-bias", lambda m, F: F.layer_norm(m.zeros(2, 3), (3,), m.ones(3), m.ones(3, dtype=m.float64)),
     RuntimeError, "expected scalar type Float but found Double", True),
    ("binary_cross_entropy-target-float64", lambda m, F: F.binary_cross_entropy(m.zeros(3), m.zeros(3, dtype=m.float64)),
     RuntimeError, "Found dtype Double but expected Float", True),
    ("bce_with_logits-integer-target", lambda m, F: F.binary_cross_entropy_with_logits(m.zeros(3), m.zeros(3, dtype=m.int64)),
     RuntimeError, "result type Float can't be cast to the desired output type Long", True),
    ("huber_loss-integer-input", lambda m, F: F.huber_loss(m.zeros(3, dtype=m.int64), m.zeros(3)),
     RuntimeError, "result type Float can't be cast to the desired output type Long", True),
    ("isclose-float32-float64", lambda m, F: m.isclose(m.zeros(2), m.zeros(2, dtype=m.float64)),
     RuntimeError, "Float did not match Double", True),
    ("allclose-float32-int64", lambda m, F: m.allclose(m.zeros(2), m.zeros(2, dtype=m.int64)),
     RuntimeError, "Float did not match Long", True),
    ("mean-dtype-int64", lambda m, F: m.zeros(2, 3).mean(dtype=m.int64),
     RuntimeError, "mean(): could not infer output dtype. Optional dtype must be either a floating point or complex dtype. Got: Long", True),
    # kernels that take floating inputs only
    ("leaky_relu-int64", lambda m, F: F.leaky_relu(m.zeros(3, dtype=m.int64)),
     NotImplementedError, "\"leaky_relu_cpu\" not implemented for 'Long'", True),
    ("silu-bool", lambda m, F: F.silu(m.zeros(3, dtype=m.bool)),
     NotImplementedError, "\"silu_cpu\" not implemented for 'Bool'", True),
    ("mse_loss-int64", lambda m, F: F.mse_loss(m.zeros(3, dtype=m.int64), m.zeros(3, dtype=m.int64)),
     NotImplementedError, "\"mse_cpu\" not implemented for 'Long'", True),
    ("smooth_l1_loss-int64", lambda m, F: F.smooth_l1_loss(m.zeros(3, dtype=m.int64), m.zeros(3, dtype=m.int64)),
     NotImplementedError, "\"smooth_l1_cpu\" not implemented for 'Long'", True),
    ("binary_cross_entropy-int64", lambda m, F: F.binary_cross_entropy(m.zeros(3, dtype=m.int64), m.zeros(3, dtype=m.int64)),
     NotImplementedError, "\"binary_cross_entropy\" not implemented for 'Long'", True),
    ("layer_norm-int64", lambda m, F: F.layer_norm(m.zeros(2, 3, dtype=m.int64), (3,)),
     NotImplementedError, "\"LayerNormKernelImpl\" not implemented for 'Long'", True),
    # shapes and index types
    ("embedding-1d-weight", lambda m, F: F.embedding(m.tensor([0, 1]), m.ones(3)),
     RuntimeError, "'weight' must be 2-D", True),
    ("embedding-3d-weight", lambda m, F: F.embedding(m.tensor([0, 1]), m.ones(3, 2, 2)),
     RuntimeError, "'weight' must be 2-D", True),
    ("embedding-float-indices", lambda m, F: F.embedding(m.tensor([0.0, 1.0]), m.ones(3, 2)),
     RuntimeError, "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got {mod}.FloatTensor instead (while checking arguments for embedding)", True),
    ("index-int8-tensor", lambda m, F: m.zeros(2, 3)[m.tensor([0, 1], dtype=m.int8)],
     IndexError, "tensors used as indices must be long, int, byte or bool tensors", True),
    # out-of-domain parameters that a `<` test lets through as nan
    ("dropout-p-nan", lambda m, F: F.dropout(m.zeros(3), NAN),
     RuntimeError, "dropout probability has to be between 0 and 1, but got nan", True),
    ("huber_loss-delta-nan", lambda m, F: F.huber_loss(m.zeros(3), m.zeros(3), delta=NAN),
     RuntimeError, "huber_loss does not support non-positive values for delta.", True),
    ("smooth_l1_loss-beta-nan", lambda m, F: F.smooth_l1_loss(m.zeros(3), m.zeros(3), beta=NAN),
     RuntimeError, "smooth_l1_loss does not support negative values for beta.", True),
    # Python-typed arguments: bool flags take a bool, integer ones an int
    ("sum-keepdim-float", lambda m, F: m.zeros(2, 3).sum(0, keepdim=1.5),
     TypeError, "sum(): argument 'keepdim' must be bool, not float", True),
    ("sum-keepdim-str", lambda m, F: m.zeros(2, 3).sum(0, keepdim="yes"),
     TypeError, "sum(): argument 'keepdim' must be bool, not str", True),
    ("sum-keepdim-int", lambda m, F: m.sum(m.zeros(2, 3), 0, keepdim=1),
     TypeError, "sum(): argument 'keepdim' must be bool, not int", True),
    ("mean-keepdim-None", lambda m, F: m.zeros(2, 3).mean(0, keepdim=None),
     TypeError, "mean(): argument 'keepdim' must be bool, not NoneType", True),
    ("prod-keepdim-numpy-bool", lambda m, F: m.zeros(2, 3).prod(0, keepdim=np.bool_(True)),
     TypeError, "prod(): argument 'keepdim' must be bool, not numpy.bool", True),
    ("max-keepdim-float", lambda m, F: m.zeros(2, 3).max(0, keepdim=1.5),
     TypeError, "max(): argument 'keepdim' must be bool, not float", True),
    ("amin-keepdim-str", lambda m, F: m.zeros(2, 3).amin(0, keepdim="yes"),
     TypeError, "amin(): argument 'keepdim' must be bool, not str", True),
    ("argmax-keepdim-int", lambda m, F: m.zeros(2, 3).argmax(0, keepdim=1),
     TypeError, "argmax(): argument 'keepdim' must be bool, not int", True),
    ("logsumexp-keepdim-float", lambda m, F: m.zeros(2, 3).logsumexp(0, keepdim=1.5),
     TypeError, "logsumexp(): argument 'keepdim' must be bool, not float", True),
    ("var-keepdim-float", lambda m, F: m.zeros(2, 3).var(0, keepdim=1.5),
     TypeError, r"var\(\).*keepdim.*float", False),
    ("std-unbiased-int", lambda m, F: m.zeros(2, 3).std(0, unbiased=2),
     TypeError, r"std\(\).*unbiased.*int", False),
    ("any-keepdim-str", lambda m, F: m.zeros(2, 3).any(0, keepdim="yes"),
     TypeError, r"any\(\).*keepdim.*str", False),
    ("allclose-equal_nan-int", lambda m, F: m.zeros(2).allclose(m.zeros(2), equal_nan=1),
     TypeError, "allclose(): argument 'equal_nan' must be bool, not int", True),
    ("dropout-training-float", lambda m, F: F.dropout(m.zeros(2, 3), training=1.5),
     TypeError, "dropout(): argument 'train' (position 3) must be bool, not float", True),
    ("dropout-training-str", lambda m, F: F.dropout(m.zeros(2, 3), training="yes"),
     TypeError, "dropout(): argument 'train' (position 3) must be bool, not str", True),
    ("batch_norm-training-str", lambda m, F: F.batch_norm(m.zeros(2, 3), m.zeros(3), m.ones(3), training="yes"),
     TypeError, "batch_norm(): argument 'training' (position 6) must be bool, not str", True),
    ("batch_norm-training-int", lambda m, F: F.batch_norm(m.zeros(2, 3), m.zeros(3), m.ones(3), training=1),
     TypeError, "batch_norm(): argument 'training' (position 6) must be bool, not int", True),
    ("max_pool2d-ceil_mode-int", lambda m, F: F.max_pool2d(m.zeros(1, 1, 5, 5), 2, ceil_mode=1),
     TypeError, "max_pool2d(): argument 'ceil_mode' (position 6) must be bool, not int", True),
    ("avg_pool2d-count_include_pad-None", lambda m, F: F.avg_pool2d(m.zeros(1, 1, 5, 5), 2, count_include_pad=None),
     TypeError, "avg_pool2d(): argument 'count_include_pad' must be bool, not NoneType", True),
    ("nll_loss-ignore_index-float", lambda m, F: F.nll_loss(m.zeros(2, 3), m.tensor([0, 1]), ignore_index=1.0),
     TypeError, "nll_loss_nd(): argument 'ignore_index' (position 5) must be int, not float", True),
    ("cross_entropy-ignore_index-bool", lambda m, F: F.cross_entropy(m.zeros(2, 3), m.tensor([0, 1]), ignore_index=True),
     TypeError, "cross_entropy_loss(): argument 'ignore_index' (position 5) must be int, not bool", True),
    ("one_hot-num_classes-float", lambda m, F: F.one_hot(m.tensor([0, 1]), 2.0),
     TypeError, "one_hot(): argument 'num_classes' (position 2) must be int, not float", True),
    ("softmax-dim-bool", lambda m, F: F.softmax(m.zeros(2, 3), True),
     TypeError, "softmax(): argument 'dim' (position 1) must be int, not bool", True),
]


def ours(message):
    return message.format(mod="autograd_c")


@pytest.mark.parametrize("name, call, exc, message, exact", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refused(name, call, exc, message, exact):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc) as info:
            call(autograd_c, F)
    if exact:
        assert str(info.value) == ours(message)
    else:
        assert re.search(message, str(info.value))


@pytest.mark.parametrize("name, call, exc, message, exact", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_torch_refuses_alike(name, call, exc, message, exact):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc) as info:
            call(torch, TF)
    if exact:
        assert str(info.value) == message.format(mod="torch")
    else:
        assert re.search(message, str(info.value))


# (id, call, dtype of the result, shape of the result)
RESULTS = [
    ("huber_loss-float32-float64", lambda m, F: F.huber_loss(m.zeros(3), m.ones(3, dtype=m.float64)), "float32", ()),
    ("huber_loss-none-float32-float64", lambda m, F: F.huber_loss(m.zeros(3), m.ones(3, dtype=m.float64), reduction="none"), "float32", (3,)),
    ("huber_loss-float32-weight-float64", lambda m, F: F.huber_loss(m.zeros(3), m.ones(3), weight=m.ones(3, dtype=m.float64)), "float64", ()),
    ("bce_with_logits-float32-float64", lambda m, F: F.binary_cross_entropy_with_logits(m.zeros(3), m.ones(3, dtype=m.float64)), "float64", ()),
    ("bce_with_logits-float64-float32", lambda m, F: F.binary_cross_entropy_with_logits(m.zeros(3, dtype=m.float64), m.ones(3)), "float32", ()),
    ("bce_with_logits-weight-float64", lambda m, F: F.binary_cross_entropy_with_logits(m.zeros(3), m.ones(3), weight=m.ones(3, dtype=m.float64)), "float32", ()),
    ("bce_with_logits-pos_weight-float64", lambda m, F: F.binary_cross_entropy_with_logits(m.zeros(3), m.ones(3), pos_weight=m.ones(3, dtype=m.float64)), "float32", ()),
    ("binary_cross_entropy-weight-float64", lambda m, F: F.binary_cross_entropy(m.full((3,), 0.5), m.ones(3), weight=m.ones(3, dtype=m.float64)), "float32", ()),
    ("sum-dtype-bool", lambda m, F: m.tensor([[0.5, -0.5], [0.0, 0.0]]).sum(1, dtype=m.bool), "bool", (2,)),
    ("prod-dtype-bool", lambda m, F: m.tensor([[0.5, 0.0], [2.0, 3.0]]).prod(1, dtype=m.bool), "bool", (2,)),
    ("index-uint8-mask", lambda m, F: m.arange(6.0).reshape(2, 3)[m.tensor([0, 1], dtype=m.uint8)], "float32", (1, 3)),
]


def _values(x):
    return np.asarray(x.detach().numpy(), dtype=np.float64)


@pytest.mark.parametrize("name, call, dtype, shape", RESULTS, ids=[c[0] for c in RESULTS])
def test_result_dtype(name, call, dtype, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = call(autograd_c, F)
    assert out.dtype == getattr(autograd_c, dtype)
    assert tuple(out.shape) == shape


@pytest.mark.parametrize("name, call, dtype, shape", RESULTS, ids=[c[0] for c in RESULTS])
def test_result_matches_torch(name, call, dtype, shape):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = call(torch, TF)
        out = call(autograd_c, F)
    assert str(expected.dtype) == "torch." + dtype
    assert tuple(expected.shape) == shape
    np.testing.assert_allclose(_values(out), _values(expected), rtol=1e-6)


def test_uint8_index_warns_as_torch_does():
    x = autograd_c.arange(6.0).reshape(2, 3)
    with pytest.warns(UserWarning, match=r"indexing with dtype autograd_c\.uint8 is now "
                                         r"deprecated, please use a dtype autograd_c\.bool "
                                         r"instead\."):
        x[autograd_c.tensor([1, 0], dtype=autograd_c.uint8)]


@pytest.mark.parametrize("value", [True, 1, 0, 2.5, -1, 255, INF, NAN])
def test_in_range_values_still_accepted(value):
    """What torch accepts stays accepted: bools anywhere, an int down to -255 into uint8 (it
    wraps), inf/nan into floating tensors."""
    u8 = autograd_c.tensor([1, 2, 3], dtype=autograd_c.uint8)
    f32 = autograd_c.tensor([1.0, 2.0, 3.0])
    if not isinstance(value, float):
        u8.masked_fill(mask(autograd_c), value)
        u8.clone().fill_(abs(value))
    f32.masked_fill(mask(autograd_c), value)
    f32.clamp(max=value)
    autograd_c.where(mask(autograd_c), f32, value)


def test_keepdim_bool_still_works():
    x = autograd_c.ones(2, 3)
    assert x.sum(0, keepdim=True).shape == (1, 3)
    assert x.sum(0, keepdims=True).shape == (1, 3)
    assert x.max(1, True).values.shape == (2, 1)
    assert x.var(0, True, True).shape == (1, 3)
    assert autograd_c.amax(x, 1, keepdim=False).shape == (2,)
