"""Results the fuzzer (test_fuzz.py) found silently wrong: each case states torch 2.13's answer
(values, dtype, shape, requires_grad, or exception type and message), which we must give, and
which torch itself is checked to give when it is importable."""
import math

import numpy as np
import pytest

import autograd_c
import autograd_c.nn.functional as F_ours

INF = math.inf

# the losses of a 0-d and a 1-D operand warn of the broadcast, in torch as here
pytestmark = pytest.mark.filterwarnings("ignore:Using a target size")


def t(m, values, dtype="float32", requires_grad=False):
    return m.tensor(values, dtype=getattr(m, dtype), requires_grad=requires_grad)


def grads_after_sum_backward(m, fn, *leaves):
    fn(*leaves).sum().backward()
    return m.stack([x.grad for x in leaves])


def floor_divide_backward(m, F):
    x = t(m, [1.0, 2.0], requires_grad=True)
    return grads_after_sum_backward(m, lambda x: x // 1, x)


def copy_into_integer_view(m, F):
    base = m.zeros(3, dtype=m.int64)
    base[1:].copy_(m.ones(2, requires_grad=True))
    return base


def empty_channel_conv_gradients(m, F):
    x = m.zeros(1, 0, 2, 2, requires_grad=True)
    w = m.zeros(3, 0, 1, 1, requires_grad=True)
    b = m.ones(3, requires_grad=True)
    F.conv2d(x, w, b).sum().backward()
    return m.cat([x.grad.reshape(-1), w.grad.reshape(-1), b.grad])


def ok(values, dtype, shape, requires_grad=False):
    return ("ok", str(values), dtype, shape, requires_grad)


def raises(exc, message):
    return ("raise", exc.__name__, message)


INCONSISTENT = "upper bound and lower bound inconsistent with step sign"
NO_INT_MEAN = ("mean(): could not infer output dtype. Optional dtype must be either a floating "
               "point or complex dtype. Got: Short")

# (id, call(module, functional), torch 2.13's outcome)
CASES = [
    # arange with an integer dtype: int64 takes its length from the bounds converted to int64,
    # the narrower types from the bounds as given; values step from the converted start
    ("arange-0.5-int8", lambda m, F: m.arange(0.5, dtype=m.int8), ok([0], "int8", (1,))),
    ("arange-0.5-int64", lambda m, F: m.arange(0.5, dtype=m.int64), ok([], "int64", (0,))),
    ("arange-2.5-uint8", lambda m, F: m.arange(2.5, dtype=m.uint8), ok([0, 1, 2], "uint8", (3,))),
    ("arange-neg-uint8", lambda m, F: m.arange(-2.5, 0, dtype=m.uint8),
     ok([254, 255, 0], "uint8", (3,))),
    ("arange-fractional-int16", lambda m, F: m.arange(-1.5, 1.5, dtype=m.int16),
     ok([-1, 0, 1], "int16", (3,))),
    ("arange-fractional-step-int8", lambda m, F: m.arange(0, 3, 1.5, dtype=m.int8),
     ok([0, 1], "int8", (2,))),
    ("arange-fractional-step-int64", lambda m, F: m.arange(0, 3, 1.5, dtype=m.int64),
     ok([0, 1, 2], "int64", (3,))),
    ("arange-down-int32", lambda m, F: m.arange(2.5, 0.2, -1.5, dtype=m.int32),
     ok([2, 1], "int32", (2,))),
    ("arange-reversed-int8", lambda m, F: m.arange(0.7, 0.5, dtype=m.int8),
     raises(RuntimeError, INCONSISTENT)),
    ("arange-negative-end-int64", lambda m, F: m.arange(-0.5, dtype=m.int64),
     raises(RuntimeError, INCONSISTENT)),
    # linspace with an integer dtype interpolates between its ends converted to the dtype
    ("linspace-int64", lambda m, F: m.linspace(0.5, 3.7, 5, dtype=m.int64),
     ok([0, 0, 1, 2, 3], "int64", (5,))),
    ("linspace-uint8-wraps-int", lambda m, F: m.linspace(-1, 3, 3, dtype=m.uint8),
     ok([255, 129, 3], "uint8", (3,))),
    ("linspace-uint8-negative-float", lambda m, F: m.linspace(-0.5, 2.5, 3, dtype=m.uint8),
     raises(RuntimeError, "value cannot be converted to type uint8_t without overflow")),
    ("linspace-int8-end-too-big", lambda m, F: m.linspace(0, 200, 3, dtype=m.int8),
     raises(RuntimeError, "value cannot be converted to type int8_t without overflow")),
    ("linspace-one-step-int8", lambda m, F: m.linspace(1.5, 300, 1, dtype=m.int8),
     ok([1], "int8", (1,))),
    # a reduction's dtype argument is its result's dtype, wrapping around
    ("sum-int32", lambda m, F: t(m, [1, 2], "int32").sum(0, dtype=m.int32), ok(3, "int32", ())),
    ("prod-int32", lambda m, F: t(m, [1, 2], "int32").prod(0, dtype=m.int32), ok(2, "int32", ())),
    ("sum-bool", lambda m, F: t(m, [1, 2], "int32").sum(0, dtype=m.bool), ok(True, "bool", ())),
    ("sum-uint8", lambda m, F: t(m, [200, 100], "uint8").sum(0, dtype=m.uint8),
     ok(44, "uint8", ())),
    ("prod-int8", lambda m, F: t(m, [100, 100, 100], "int8").prod(dtype=m.int8),
     ok(64, "int8", ())),
    ("sum-float-as-int16", lambda m, F: t(m, [1.7, 2.7]).sum(dtype=m.int16), ok(3, "int16", ())),
    ("cumsum-int32", lambda m, F: t(m, [1, 2], "int32").cumsum(0, dtype=m.int32),
     ok([1, 3], "int32", (2,))),
    ("cumsum-uint8", lambda m, F: t(m, [200, 100], "uint8").cumsum(0, dtype=m.uint8),
     ok([200, 44], "uint8", (2,))),
    ("cumsum-bool", lambda m, F: t(m, [1, 2], "int32").cumsum(0, dtype=m.bool),
     raises(NotImplementedError, "\"cumsum_out_cpu\" not implemented for 'Bool'")),
    ("cumsum-bool-empty", lambda m, F: m.zeros(0, dtype=m.int32).cumsum(0, dtype=m.bool),
     ok([], "bool", (0,))),
    ("mean-int16", lambda m, F: t(m, [1, 2], "int32").mean(dtype=m.int16),
     raises(RuntimeError, NO_INT_MEAN)),
    ("sum-int16-of-grad", lambda m, F: m.ones(2, requires_grad=True).sum(dtype=m.int16),
     raises(RuntimeError, "Autograd not support dtype: Short")),
    ("cumsum-bool-of-grad", lambda m, F: m.ones(2, requires_grad=True).cumsum(0, dtype=m.bool),
     raises(NotImplementedError, "\"cumsum_out_cpu\" not implemented for 'Bool'")),
    ("cumsum-bool-of-empty-grad",
     lambda m, F: m.ones(0, requires_grad=True).cumsum(0, dtype=m.bool),
     raises(RuntimeError, "Autograd not support dtype: Bool")),
    ("prod-int8-bad-dim-of-grad",
     lambda m, F: m.ones(2, requires_grad=True).prod(5, dtype=m.int8),
     raises(IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 5)")),
    # all/any over an empty dim list reduce over no dim; sum and mean over every dim
    ("all-empty-tuple", lambda m, F: m.ones(2, 3).all(()),
     ok([[True] * 3] * 2, "bool", (2, 3))),
    ("all-empty-list", lambda m, F: t(m, [[0.0, 2.0]]).all([]), ok([[False, True]], "bool", (1, 2))),
    ("any-empty-keepdim", lambda m, F: m.zeros(2, 3).any((), True),
     ok([[False] * 3] * 2, "bool", (2, 3))),
    ("any-empty-uint8", lambda m, F: m.any(t(m, [0, 2], "uint8"), dim=[]), ok([0, 1], "uint8", (2,))),
    ("sum-empty-tuple", lambda m, F: m.ones(2, 3).sum(()), ok(6.0, "float32", ())),
    ("sum-empty-tuple-bool", lambda m, F: m.ones(2, 3).sum((), dtype=m.bool), ok(True, "bool", ())),
    ("sum-empty-list-bool-keepdim", lambda m, F: m.ones(2, 3).sum([], True, dtype=m.bool),
     ok([[True]], "bool", (1, 1))),
    # a bool or integer tensor cannot require grad, whatever is copied into it
    ("copy_-into-bool", lambda m, F: m.zeros(2, dtype=m.bool).copy_(m.ones(2, requires_grad=True)),
     ok([True, True], "bool", (2,))),
    ("copy_-into-integer-view", copy_into_integer_view, ok([0, 1, 1], "int64", (3,))),
    ("copy_-into-float", lambda m, F: m.zeros(2).copy_(m.ones(2, requires_grad=True)),
     ok([1.0, 1.0], "float32", (2,), True)),
    # floor division's result requires grad; floor_divide has no derivative, a rounded div a
    # zero one
    ("floordiv-requires-grad", lambda m, F: m.ones(2, requires_grad=True) // 1,
     ok([1.0, 1.0], "float32", (2,), True)),
    ("rfloordiv-requires-grad", lambda m, F: 3 // m.ones(2, requires_grad=True),
     ok([3.0, 3.0], "float32", (2,), True)),
    ("floor_divide-int-by-grad",
     lambda m, F: m.floor_divide(t(m, [3], "int64"), m.ones(2, requires_grad=True)),
     ok([3.0, 3.0], "float32", (2,), True)),
    ("floordiv-backward", floor_divide_backward,
     raises(RuntimeError, "derivative for aten::floor_divide is not implemented")),
    ("div-floor-backward", lambda m, F: grads_after_sum_backward(
        m, lambda x: m.div(x, 2, rounding_mode="floor"), m.ones(2, requires_grad=True)),
     ok([[0.0, 0.0]], "float32", (1, 2))),
    ("div-trunc-backward", lambda m, F: grads_after_sum_backward(
        m, lambda x, y: m.div(x, y, rounding_mode="trunc"), m.ones(2, requires_grad=True),
        m.ones(2, requires_grad=True)),
     ok([[0.0, 0.0], [0.0, 0.0]], "float32", (2, 2))),
    # gelu(-inf) is -inf * 0 = nan, gelu(inf) inf
    ("gelu-inf-float64", lambda m, F: F.gelu(t(m, [INF, -INF], "float64")),
     ok([INF, math.nan], "float64", (2,))),
    ("gelu-inf-0d", lambda m, F: F.gelu(t(m, INF)), ok(INF, "float32", ())),
    ("gelu-minus-inf-float32", lambda m, F: F.gelu(t(m, [-INF] * 3)),
     ok([math.nan] * 3, "float32", (3,))),
    ("gelu-tanh-inf", lambda m, F: F.gelu(t(m, [INF, -INF]), approximate="tanh"),
     ok([INF, math.nan], "float32", (2,))),
    # a convolution of an input with no channels has no output channels
    ("conv2d-no-channels", lambda m, F: F.conv2d(m.zeros(1, 0, 2, 2), m.zeros(3, 0, 1, 1)),
     ok([[]], "float32", (1, 0, 2, 2))),
    ("conv2d-no-channels-bias",
     lambda m, F: F.conv2d(m.zeros(1, 0, 3, 3), m.zeros(4, 0, 3, 3), m.ones(4), padding=1,
                           stride=2),
     ok([[]], "float32", (1, 0, 2, 2))),
    ("conv2d-no-channels-unbatched",
     lambda m, F: F.conv2d(m.zeros(0, 2, 2, dtype=m.float64), m.zeros(3, 0, 1, 1)),
     ok([], "float64", (0, 2, 2))),
    ("conv1d-no-channels", lambda m, F: F.conv1d(m.zeros(2, 0, 5), m.zeros(3, 0, 2), stride=2,
                                                 padding=1),
     ok([[], []], "float32", (2, 0, 3))),
    ("conv2d-no-channels-kernel-too-big",
     lambda m, F: F.conv2d(m.zeros(1, 0, 2, 2), m.zeros(3, 0, 1, 3)),
     raises(RuntimeError, "Calculated padded input size per channel: (2 x 2). Kernel size: "
                          "(1 x 3). Kernel size can't be greater than actual input size")),
    ("conv2d-no-channels-gradients", empty_channel_conv_gradients,
     ok([0.0, 0.0, 0.0], "float32", (3,))),
    # result dtypes
    ("smooth_l1_loss-float64-target",
     lambda m, F: F.smooth_l1_loss(m.ones(2), m.zeros(2, dtype=m.float64)),
     ok(0.5, "float64", ())),
    ("smooth_l1_loss-0d-float32-target",
     lambda m, F: F.smooth_l1_loss(m.ones(2, dtype=m.float16), m.zeros((), dtype=m.float32),
                                   reduction="none"),
     ok([0.5, 0.5], "float32", (2,))),
    ("mse_loss-0d-float64-input",
     lambda m, F: F.mse_loss(m.ones((), dtype=m.float64), m.zeros(2), reduction="sum"),
     ok(2.0, "float64", ())),
    ("l1_loss-0d-float64-target",
     lambda m, F: F.l1_loss(m.ones(2), m.zeros((), dtype=m.float64), reduction="none"),
     ok([1.0, 1.0], "float64", (2,))),
    ("smooth_l1_loss-0d-target-gradient-dtype", lambda m, F: grads_after_sum_backward(
        m, lambda x: F.smooth_l1_loss(x, m.zeros((), dtype=m.float32)),
        m.ones(2, dtype=m.float16, requires_grad=True)),
     ok([[0.5, 0.5]], "float16", (1, 2))),
    ("smooth_l1_loss-infinite-difference-gradient", lambda m, F: grads_after_sum_backward(
        m, lambda x: F.smooth_l1_loss(x, t(m, [INF, -INF, 100.0, math.nan, 0.0]),
                                      reduction="none"),
        m.full((5,), 0.5, requires_grad=True)),
     ok([[-1.0, 1.0, -1.0, math.nan, 0.5]], "float32", (1, 5))),
    ("clamp-int8-numpy-int8", lambda m, F: m.clamp(t(m, [1, 5], "int8"), np.int8(3)),
     ok([3, 5], "int8", (2,))),
    ("clamp-int8-uint8-tensor", lambda m, F: m.clamp(t(m, [1, 5], "int8"), None,
                                                     t(m, [4, 4], "uint8")),
     ok([1, 4], "int16", (2,))),
]


def outcome(m, F, call):
    try:
        r = call(m, F)
    except Exception as e:                      # noqa: B902 - the exception is the outcome
        return ("raise", type(e).__name__, str(e))
    return ("ok", str(r.tolist()), str(r.dtype).split(".")[-1], tuple(r.shape), r.requires_grad)


@pytest.mark.parametrize("call, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_result_is_torchs(call, expected):
    assert outcome(autograd_c, F_ours, call) == expected


@pytest.mark.parametrize("call, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_torch_gives_the_stated_result(call, expected):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F_torch
    assert outcome(torch, F_torch, call) == expected
