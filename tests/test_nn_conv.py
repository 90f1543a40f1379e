"""Convolution, pooling and batch normalization (nn.functional and the modules) against torch
2.13: values and gradients over grids of arguments in float32 and float64, gradcheck in float64,
torch's errors for bad arguments, edge cases (empty batch, NaN, non-contiguous, integer and
half inputs, no_grad, in-place changes) and PyTorch's tutorial LeNet. Tests that need torch skip
without it; a few torch-free ones check literal values."""
import math
import warnings

import numpy as np
import pytest

import autograd_c as ac
import autograd_c.nn as nn
import autograd_c.nn.functional as F
from autograd_c.autograd import gradcheck

FLOATS = ["float32", "float64"]
TOL = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-9, atol=1e-11)}


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def rng(seed=0):
    return np.random.default_rng(seed)


def randn(shape, dtype="float64", seed=0):
    return rng(seed).standard_normal(shape).astype(dtype)


def distinct(shape, seed=0):
    """float64 values at least 0.1 apart, so that no max-pool window has a (near) tie."""
    return (rng(seed).permutation(int(np.prod(shape))) * 0.1).reshape(shape)


def leaf(lib, arr, requires_grad=True):
    t = lib.tensor(np.ascontiguousarray(arr))
    return t.requires_grad_() if requires_grad else t


def numpy_of(t):
    return np.asarray(t.detach().numpy())


def assert_close(a, t, dtype="float64", equal_nan=False):
    an, tn = numpy_of(a), numpy_of(t)
    assert an.shape == tn.shape, (an.shape, tn.shape)
    assert an.dtype == tn.dtype, (an.dtype, tn.dtype)
    np.testing.assert_allclose(an, tn, equal_nan=equal_nan, **TOL[str(dtype)])


def run_both(torch, call, arrays, dtype, grad=True, seed=1):
    """call(lib, *tensors) in both libraries on the same data; compares the outputs, the
    grad_fn names and, after backward of one random cotangent, every input's gradient."""
    a_in = [leaf(ac, x.astype(dtype), grad) for x in arrays]
    t_in = [leaf(torch, x.astype(dtype), grad) for x in arrays]
    out_a, out_t = call(ac, *a_in), call(torch, *t_in)
    assert_close(out_a, out_t, dtype)
    if not grad:
        return out_a, out_t
    assert out_a.grad_fn.name() == out_t.grad_fn.name()
    cot = randn(tuple(out_t.shape), dtype, seed)
    out_a.backward(ac.tensor(cot))
    out_t.backward(torch.tensor(cot))
    for a, t in zip(a_in, t_in):
        assert_close(a.grad, t.grad, dtype)
    return out_a, out_t


def torch_to_ours(message):
    """torch's message with its module name ("torch.Size", "torch.FloatTensor") as ours."""
    return message.replace("torch.", ac.__name__ + ".")


def same_error(torch, call_ac, call_torch, phrase=None):
    """Both calls raise the same exception type; with no phrase the messages are equal (up to
    the module name), else both contain the phrase."""
    with pytest.raises(Exception) as ea:
        call_ac()
    with pytest.raises(Exception) as et:
        call_torch()
    assert type(ea.value) is type(et.value), (repr(ea.value), repr(et.value))
    if phrase is None:
        assert str(ea.value) == torch_to_ours(str(et.value)), (str(ea.value), str(et.value))
    else:
        assert phrase in str(ea.value) and phrase in str(et.value), (ea.value, et.value)


# ---------------------------------------------------------------------------------------------
# convolution
# ---------------------------------------------------------------------------------------------

# (input shape, weight shape, keyword arguments, bias)
CONV2D_CASES = {
    "plain": ((2, 3, 8, 8), (4, 3, 3, 3), {}, True),
    "stride2_pad1": ((2, 3, 8, 7), (4, 3, 3, 3), dict(stride=2, padding=1), True),
    "tuples": ((2, 2, 9, 8), (3, 2, 3, 2), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
               True),
    "padding_list": ((1, 2, 6, 6), (3, 2, 3, 3), dict(padding=[1, 2]), True),
    "one_value_tuples": ((1, 2, 7, 7), (3, 2, 3, 3), dict(stride=(2,), padding=(1,)), True),
    "dilation2": ((2, 2, 9, 9), (3, 2, 3, 3), dict(dilation=2, padding=2), True),
    "same_odd": ((2, 3, 7, 6), (4, 3, 3, 3), dict(padding="same"), True),
    "same_even": ((2, 3, 7, 6), (4, 3, 2, 4), dict(padding="same"), True),
    "same_even_dilated": ((1, 2, 7, 6), (3, 2, 2, 3), dict(padding="same", dilation=(2, 3)),
                          True),
    "same_odd_dilation": ((1, 2, 7, 6), (3, 2, 2, 2), dict(padding="same", dilation=3), True),
    "valid": ((2, 3, 7, 6), (4, 3, 3, 3), dict(padding="valid"), True),
    "groups": ((2, 6, 7, 7), (9, 2, 3, 3), dict(groups=3, padding=1), True),
    "depthwise": ((2, 4, 7, 7), (8, 1, 3, 3), dict(groups=4), True),
    "no_bias": ((2, 3, 6, 6), (4, 3, 3, 3), dict(stride=2), False),
    "kernel_is_input": ((2, 3, 5, 4), (4, 3, 5, 4), {}, True),
    "one_by_one": ((2, 5, 4, 3), (2, 5, 1, 1), {}, True),
    "stride_over_kernel": ((1, 2, 9, 9), (3, 2, 2, 2), dict(stride=3), True),
    "unbatched": ((3, 6, 7), (4, 3, 3, 3), dict(padding=1), True),
    "unbatched_same_even": ((3, 6, 7), (4, 3, 2, 2), dict(padding="same"), False),
}

CONV1D_CASES = {
    "plain": ((2, 3, 10), (4, 3, 3), {}, True),
    "stride_pad": ((2, 3, 11), (4, 3, 3), dict(stride=2, padding=2), True),
    "dilation": ((2, 3, 11), (4, 3, 3), dict(dilation=3, padding=1), True),
    "tuples": ((2, 3, 11), (4, 3, 3), dict(stride=(2,), padding=(1,), dilation=[2]), True),
    "same_even": ((2, 3, 9), (4, 3, 4), dict(padding="same"), True),
    "valid": ((2, 3, 9), (4, 3, 4), dict(padding="valid"), True),
    "groups": ((2, 4, 9), (6, 2, 3), dict(groups=2), True),
    "depthwise": ((2, 3, 9), (3, 1, 5), dict(groups=3, padding=2), True),
    "no_bias": ((2, 3, 9), (4, 3, 3), {}, False),
    "kernel_is_input": ((2, 3, 5), (4, 3, 5), {}, True),
    "one": ((2, 3, 5), (4, 3, 1), {}, True),
    "unbatched": ((3, 9), (4, 3, 3), dict(padding=1), True),
}


def conv_call(fn_name, kwargs, bias):
    def call(lib, x, w, *b):
        return getattr(lib.nn.functional, fn_name)(x, w, b[0] if bias else None, **kwargs)
    return call


def conv_arrays(shape_x, shape_w, bias, seed=0):
    arrays = [randn(shape_x, seed=seed), randn(shape_w, seed=seed + 1)]
    return arrays + [randn((shape_w[0],), seed=seed + 2)] if bias else arrays


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", list(CONV2D_CASES))
def test_conv2d_matches_torch(torch, case, dtype):
    shape_x, shape_w, kwargs, bias = CONV2D_CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # 'same' with an even kernel warns (checked below)
        run_both(torch, conv_call("conv2d", kwargs, bias), conv_arrays(shape_x, shape_w, bias),
                 dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", list(CONV1D_CASES))
def test_conv1d_matches_torch(torch, case, dtype):
    shape_x, shape_w, kwargs, bias = CONV1D_CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_both(torch, conv_call("conv1d", kwargs, bias), conv_arrays(shape_x, shape_w, bias),
                 dtype)


def test_conv_only_some_inputs_need_grad(torch):
    """Gradients flow to exactly the inputs that need them, whichever those are."""
    arrays = conv_arrays((2, 3, 6, 6), (4, 3, 3, 3), True)
    for needs in [(True, False, False), (False, True, False), (False, False, True),
                  (False, True, True)]:
        a_in = [leaf(ac, x, g) for x, g in zip(arrays, needs)]
        t_in = [leaf(torch, x, g) for x, g in zip(arrays, needs)]
        F.conv2d(*a_in, padding=1).sum().backward()
        torch.nn.functional.conv2d(*t_in, padding=1).sum().backward()
        for a, t in zip(a_in, t_in):
            assert (a.grad is None) == (t.grad is None)
            if t.grad is not None:
                assert_close(a.grad, t.grad)


SAME_PADDING_WARNING = ("Using padding='same' with even kernel lengths and odd dilation may "
                        "require a zero-padded copy of the input be created")   # torch's words


def test_same_padding_even_kernel_warns():
    """torch warns once per process (a C++ warn-once); ours is a Python warning, once per call
    (the default filter then shows it once per call site), at the caller's line."""
    x, w = randn((1, 2, 5, 5)), randn((3, 2, 2, 2))
    for xs in (x, x[0]):      # the unbatched call must not warn twice
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            F.conv2d(ac.tensor(xs), ac.tensor(w), padding="same")
        assert [(w.category, str(w.message)) for w in got] == [(UserWarning,
                                                                 SAME_PADDING_WARNING)]
        assert got[0].filename == __file__
    # an odd kernel, or an even one with an even dilation, pads evenly and does not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.conv2d(ac.tensor(x), ac.tensor(randn((3, 2, 3, 3))), padding="same")
        F.conv2d(ac.tensor(x), ac.tensor(w), padding="same", dilation=2)


def test_conv2d_literal_values():
    """torch-free: a 2x2 all-ones kernel sums each window; padding adds zeros."""
    x = ac.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]])
    w = ac.ones(1, 1, 2, 2)
    assert F.conv2d(x, w).tolist() == [[[[12.0, 16.0], [24.0, 28.0]]]]
    assert F.conv2d(x, w, ac.tensor([1.0]), stride=2, padding=1).tolist() == \
        [[[[2.0, 6.0], [12.0, 29.0]]]]
    # conv1d over [1, 2, 3, 4] with [1, -1]: the negated differences
    y = F.conv1d(ac.tensor([[[1.0, 2.0, 4.0, 7.0]]]), ac.tensor([[[1.0, -1.0]]]))
    assert y.tolist() == [[[-1.0, -2.0, -3.0]]]


# ---------------------------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------------------------

MAX_POOL_CASES = {
    "k2": ((2, 3, 8, 8), dict(kernel_size=2)),
    "k3_s2_p1": ((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1)),
    "tuples": ((2, 2, 9, 10), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0),
                                   dilation=(1, 2))),
    "dilation2": ((1, 2, 9, 9), dict(kernel_size=3, stride=1, padding=1, dilation=2)),
    "stride_over_kernel": ((1, 2, 10, 10), dict(kernel_size=2, stride=3)),
    "ceil": ((2, 2, 7, 8), dict(kernel_size=2, ceil_mode=True)),
    "ceil_pad": ((1, 2, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    # the last ceil_mode window would start in the right padding: torch drops it
    "ceil_drops_last": ((1, 2, 5, 5), dict(kernel_size=3, stride=3, padding=1, ceil_mode=True)),
    "kernel_is_input": ((2, 3, 5, 4), dict(kernel_size=(5, 4))),
    "stride_list": ((1, 2, 8, 8), dict(kernel_size=[2, 3], stride=[2, 1])),
    "unbatched": ((3, 7, 6), dict(kernel_size=2, stride=1)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", list(MAX_POOL_CASES))
def test_max_pool2d_matches_torch(torch, case, dtype):
    shape, kwargs = MAX_POOL_CASES[case]
    arr = distinct(shape)
    run_both(torch, lambda lib, x: lib.nn.functional.max_pool2d(x, **kwargs), [arr], dtype)
    # the indices are torch's flat positions within each plane
    a, t = ac.tensor(arr.astype(dtype)), torch.tensor(arr.astype(dtype))
    (va, ia), (vt, it) = (F.max_pool2d(a, return_indices=True, **kwargs),
                          torch.nn.functional.max_pool2d(t, return_indices=True, **kwargs))
    assert ia.dtype == ac.int64 and np.array_equal(ia.numpy(), it.numpy())
    va2, ia2 = F.max_pool2d_with_indices(a, **kwargs)
    assert np.array_equal(va2.numpy(), va.numpy()) and np.array_equal(ia2.numpy(), ia.numpy())


def test_max_pool_overlapping_windows_share_gradient(torch):
    """With stride < kernel one element can be the max of several windows: its gradient is
    the sum of theirs."""
    arr = np.zeros((1, 1, 4, 4))
    arr[0, 0, 1, 1] = 5.0
    a = leaf(ac, arr)
    F.max_pool2d(a, 2, stride=1).sum().backward()
    assert a.grad.numpy()[0, 0, 1, 1] == 4.0
    t = leaf(torch, arr)
    torch.nn.functional.max_pool2d(t, 2, stride=1).sum().backward()
    assert_close(a.grad, t.grad)


AVG_POOL_CASES = {
    "k2": ((2, 3, 8, 8), dict(kernel_size=2)),
    "k3_s2_p1": ((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1)),
    "exclude_pad": ((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1,
                                       count_include_pad=False)),
    "tuples": ((1, 2, 9, 10), dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 1))),
    "ceil_pad": ((1, 2, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    "ceil_pad_exclude": ((1, 2, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                            count_include_pad=False)),
    "ceil_drops_last": ((1, 2, 5, 5), dict(kernel_size=3, stride=3, padding=1, ceil_mode=True)),
    "ceil_no_pad": ((1, 2, 7, 7), dict(kernel_size=2, ceil_mode=True)),
    "divisor": ((2, 2, 6, 6), dict(kernel_size=3, padding=1, divisor_override=4)),
    "negative_divisor": ((1, 2, 6, 6), dict(kernel_size=2, divisor_override=-3)),
    "kernel_is_input": ((2, 3, 5, 4), dict(kernel_size=(5, 4))),
    "unbatched": ((3, 7, 6), dict(kernel_size=2, stride=1)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", list(AVG_POOL_CASES))
def test_avg_pool2d_matches_torch(torch, case, dtype):
    shape, kwargs = AVG_POOL_CASES[case]
    run_both(torch, lambda lib, x: lib.nn.functional.avg_pool2d(x, **kwargs), [randn(shape)],
             dtype)


ADAPTIVE_CASES = {
    "divides": ((2, 3, 8, 8), 4),
    "does_not_divide": ((2, 3, 7, 9), (3, 4)),
    "bigger_than_input": ((1, 2, 3, 4), (5, 7)),
    "none_height": ((2, 3, 7, 9), (None, 4)),
    "none_width": ((2, 3, 7, 9), [5, None]),
    "same_as_input": ((1, 2, 5, 6), (5, 6)),
    "one_by_one": ((2, 3, 5, 6), 1),                 # torch takes a mean here
    "one_by_one_tuple": ((2, 3, 5, 6), (1, 1)),
    "one_row": ((2, 3, 5, 6), (1, 3)),
    "unbatched": ((3, 7, 6), (2, 4)),
    "unbatched_one": ((3, 7, 6), 1),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", list(ADAPTIVE_CASES))
def test_adaptive_avg_pool2d_matches_torch(torch, case, dtype):
    shape, size = ADAPTIVE_CASES[case]
    run_both(torch, lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, size),
             [randn(shape)], dtype)
    run_both(torch, lambda lib, x: lib.nn.AdaptiveAvgPool2d(size)(x), [randn(shape)], dtype)


def test_adaptive_avg_pool_zero_output_size(torch):
    x = randn((2, 3, 5, 5))
    for size in [(0, 2), 0]:
        a = F.adaptive_avg_pool2d(ac.tensor(x), size)
        t = torch.nn.functional.adaptive_avg_pool2d(torch.tensor(x), size)
        assert tuple(a.shape) == tuple(t.shape)


def test_pooling_literal_values():
    """torch-free: max and mean of 2x2 windows; count_include_pad counts padded zeros."""
    x = ac.tensor([[[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0],
                     [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]]])
    assert F.max_pool2d(x, 2).tolist() == [[[[6.0, 8.0], [14.0, 16.0]]]]
    assert F.max_pool2d(x, 2, return_indices=True)[1].tolist() == [[[[5, 7], [13, 15]]]]
    assert F.avg_pool2d(x, 2).tolist() == [[[[3.5, 5.5], [11.5, 13.5]]]]
    # a 3x3 window at the corner with padding 1 covers 4 values: 1 + 2 + 5 + 6 = 14
    corner = F.avg_pool2d(x, 3, stride=3, padding=1)[0, 0, 0, 0].item()
    assert corner == pytest.approx(14 / 9)
    corner = F.avg_pool2d(x, 3, stride=3, padding=1, count_include_pad=False)[0, 0, 0, 0]
    assert corner.item() == pytest.approx(14 / 4)
    # adaptive 4 -> 3 windows: rows [0, 2), [1, 3), [2, 4)
    assert F.adaptive_avg_pool2d(x, (3, 1))[0, 0, :, 0].tolist() == [4.5, 8.5, 12.5]


# ---------------------------------------------------------------------------------------------
# batch normalization
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 4, 5)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_function_matches_torch(torch, shape, training, affine, dtype):
    C = shape[1]
    stats = [randn((C,), seed=5), rng(6).uniform(0.5, 2.0, C)]
    # the running statistics are updated in place: both libraries start from the same values
    rm_a, rv_a = (ac.tensor(s.astype(dtype)) for s in stats)
    rm_t, rv_t = (torch.tensor(s.astype(dtype)) for s in stats)
    arrays = [randn(shape)] + ([randn((C,), seed=7), randn((C,), seed=8)] if affine else [])

    def call(lib, x, *wb):
        rm, rv = (rm_a, rv_a) if lib is ac else (rm_t, rv_t)
        return lib.nn.functional.batch_norm(x, rm, rv, *wb, training=training, momentum=0.3,
                                            eps=1e-3)
    run_both(torch, call, arrays, dtype)
    assert_close(rm_a, rm_t, dtype)
    assert_close(rv_a, rv_t, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_batch_norm_function_without_running_stats(torch, dtype):
    arrays = [randn((4, 3, 5)), randn((3,), seed=2), randn((3,), seed=3)]
    run_both(torch, lambda lib, x, w, b: lib.nn.functional.batch_norm(
        x, None, None, w, b, training=True), arrays, dtype)


def test_batch_norm_parameters_need_only_c_elements(torch):
    """torch reads weight and bias by element count: a (1, C) weight works forward (torch's
    backward then fails inside; ours gives gradients shaped like the parameters)."""
    arrays = [randn((4, 3, 5)), randn((1, 3), seed=2), randn((3, 1), seed=3)]
    run_both(torch, lambda lib, x, w, b: lib.nn.functional.batch_norm(
        x, None, None, w, b, training=True), arrays, "float64", grad=False)
    a_in = [leaf(ac, x) for x in arrays]
    F.batch_norm(a_in[0], None, None, a_in[1], a_in[2], training=True).sum().backward()
    assert [tuple(t.grad.shape) for t in a_in] == [(4, 3, 5), (1, 3), (3, 1)]


BN_CONFIGS = {
    "default": {},
    "no_affine": dict(affine=False),
    "no_stats": dict(track_running_stats=False),
    "cumulative": dict(momentum=None),
    "momentum_eps": dict(momentum=0.5, eps=1e-2),
    "bare": dict(affine=False, track_running_stats=False),
}

BN_SHAPES = {"BatchNorm1d_2d": ("BatchNorm1d", (8, 3)),
             "BatchNorm1d_3d": ("BatchNorm1d", (4, 3, 5)),
             "BatchNorm2d": ("BatchNorm2d", (3, 3, 4, 5))}


def copy_params(torch_module, ac_module):
    """ac_module's parameters and buffers set to torch_module's values."""
    state = {k: ac.tensor(v.detach().numpy().copy()) for k, v in
             torch_module.state_dict().items()}
    ac_module.load_state_dict(state)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("config", list(BN_CONFIGS))
@pytest.mark.parametrize("kind", list(BN_SHAPES))
def test_batch_norm_modules_over_several_steps(torch, kind, config, dtype):
    """Three training steps then two in eval mode: outputs, every gradient, the running stats
    and num_batches_tracked equal torch's after each step."""
    cls, shape = BN_SHAPES[kind]
    kwargs = BN_CONFIGS[config]
    tdt = getattr(torch, dtype)
    mt = getattr(torch.nn, cls)(3, dtype=tdt, **kwargs)
    ma = getattr(nn, cls)(3, dtype=getattr(ac, dtype), **kwargs)
    if mt.affine:   # away from the ones/zeros start, so that a swapped weight would show
        with torch.no_grad():
            mt.weight.copy_(torch.tensor(randn((3,), seed=11)))
            mt.bias.copy_(torch.tensor(randn((3,), seed=12)))
    copy_params(mt, ma)
    for step in range(5):
        if step == 3:
            mt.eval(), ma.eval()
        x = randn(shape, dtype, seed=20 + step) * 2 + 1
        xa, xt = leaf(ac, x), leaf(torch, x)
        out_a, out_t = ma(xa), mt(xt)
        assert_close(out_a, out_t, dtype)
        assert out_a.grad_fn.name() == out_t.grad_fn.name()
        cot = randn(shape, dtype, seed=30 + step)
        out_a.backward(ac.tensor(cot))
        out_t.backward(torch.tensor(cot))
        assert_close(xa.grad, xt.grad, dtype)
        for (name_a, pa), (name_t, pt) in zip(ma.named_parameters(), mt.named_parameters()):
            assert name_a == name_t
            assert_close(pa.grad, pt.grad, dtype)
            pa.grad, pt.grad = None, None
        buffers_t = dict(mt.named_buffers())
        assert list(dict(ma.named_buffers())) == list(buffers_t)
        for name, ba in ma.named_buffers():
            if name == "num_batches_tracked":
                assert ba.dtype == ac.int64 and ba.item() == buffers_t[name].item()
            else:
                assert_close(ba, buffers_t[name], dtype)


def test_batch_norm_module_without_bias(torch):
    ma, mt = nn.BatchNorm2d(3, bias=False), torch.nn.BatchNorm2d(3, bias=False)
    assert ma.bias is None and list(ma.state_dict()) == list(mt.state_dict())
    copy_params(mt, ma)
    x = randn((2, 3, 4, 4), "float32")
    assert_close(ma(ac.tensor(x)), mt(torch.tensor(x)), "float32")


def test_batch_norm_literal_values():
    """torch-free: [1, 3] normalizes to [-1, 1] (up to eps); the running variance moves toward
    the unbiased batch variance 2."""
    x = ac.tensor([[1.0], [3.0]], dtype=ac.float64)
    bn = nn.BatchNorm1d(1, eps=0.0 + 1e-12, dtype=ac.float64)
    assert bn(x)[:, 0].tolist() == pytest.approx([-1.0, 1.0])
    assert bn.running_mean.item() == pytest.approx(0.1 * 2.0)
    assert bn.running_var.item() == pytest.approx(0.9 * 1.0 + 0.1 * 2.0)
    assert bn.num_batches_tracked.item() == 1


# ---------------------------------------------------------------------------------------------
# the modules: forward/backward, grad_fn names, reprs, state_dict keys, initialisation
# ---------------------------------------------------------------------------------------------

MODULE_CASES = {
    "conv2d": (lambda L: L.nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 7)),
    "conv2d_groups_dilation": (lambda L: L.nn.Conv2d(4, 6, (3, 2), dilation=(1, 2), groups=2,
                                                     bias=False), (2, 4, 7, 7)),
    "conv2d_same": (lambda L: L.nn.Conv2d(3, 4, 3, padding="same"), (3, 6, 5)),
    "conv1d": (lambda L: L.nn.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    "conv1d_valid": (lambda L: L.nn.Conv1d(2, 4, 2, padding="valid", groups=2), (2, 2, 9)),
    "maxpool": (lambda L: L.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 7, 8)),
    "maxpool_dilation": (lambda L: L.nn.MaxPool2d(2, dilation=2), (2, 3, 7, 8)),
    "avgpool": (lambda L: L.nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
                (2, 3, 7, 8)),
    "avgpool_divisor": (lambda L: L.nn.AvgPool2d((2, 3), divisor_override=5), (2, 3, 7, 8)),
    "adaptive": (lambda L: L.nn.AdaptiveAvgPool2d((3, None)), (2, 3, 7, 8)),
}


def build_pair(torch, make):
    """The same module in both libraries, ours with torch's initial parameters."""
    mt, ma = make(torch), make(ac)
    copy_params(mt, ma)
    return ma, mt


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", list(MODULE_CASES))
def test_modules_match_torch(torch, case, dtype):
    make, shape = MODULE_CASES[case]
    ma, mt = build_pair(torch, make)
    if dtype == "float64":
        ma, mt = ma.double(), mt.double()
    x = distinct(shape) if "maxpool" in case else randn(shape)
    run_both(torch, lambda lib, xx: (ma if lib is ac else mt)(xx), [x], dtype)
    for (na, pa), (nt, pt) in zip(ma.named_parameters(), mt.named_parameters()):
        assert na == nt
        assert_close(pa.grad, pt.grad, dtype)


def test_max_pool_module_return_indices(torch):
    x = distinct((2, 3, 6, 6))
    va, ia = nn.MaxPool2d(2, return_indices=True)(ac.tensor(x))
    vt, it = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    assert_close(va, vt)
    assert np.array_equal(ia.numpy(), it.numpy())


REPR_CASES = [
    lambda L: L.nn.Conv2d(3, 8, 3),
    lambda L: L.nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=2, groups=1,
                          bias=False),
    lambda L: L.nn.Conv2d(4, 8, 3, padding="same", groups=4),
    lambda L: L.nn.Conv2d(4, 8, 3, padding="valid"),
    lambda L: L.nn.Conv1d(3, 6, 5),
    lambda L: L.nn.Conv1d(3, 6, 5, stride=2, padding=2, dilation=3, groups=3, bias=False),
    lambda L: L.nn.MaxPool2d(2),
    lambda L: L.nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=2, ceil_mode=True),
    lambda L: L.nn.AvgPool2d(2),
    lambda L: L.nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False,
                             divisor_override=2),
    lambda L: L.nn.AdaptiveAvgPool2d(5),
    lambda L: L.nn.AdaptiveAvgPool2d((None, 7)),
    lambda L: L.nn.BatchNorm1d(10),
    lambda L: L.nn.BatchNorm2d(4, eps=1e-3, momentum=None, affine=False,
                               track_running_stats=False),
    lambda L: L.nn.BatchNorm2d(4, bias=False),
]


@pytest.mark.parametrize("index", range(len(REPR_CASES)))
def test_module_repr_and_state_dict_keys(torch, index):
    ma, mt = REPR_CASES[index](ac), REPR_CASES[index](torch)
    assert repr(ma) == repr(mt)
    assert list(ma.state_dict()) == list(mt.state_dict())
    for (na, a), (nt, t) in zip(ma.state_dict().items(), mt.state_dict().items()):
        assert tuple(a.shape) == tuple(t.shape)


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Conv2d(16, 32, 3), 16 * 9),
    (lambda: nn.Conv2d(16, 32, (3, 5), groups=4), 4 * 15),
    (lambda: nn.Conv1d(8, 64, 5), 8 * 5),
])
def test_conv_default_init_is_uniform_within_fan_in_bound(make, fan_in):
    """torch's default: weight and bias uniform in +-1/sqrt(fan_in)."""
    ac.manual_seed(0)
    m = make()
    bound = 1 / math.sqrt(fan_in)
    w = m.weight.detach().numpy().ravel()
    assert np.abs(w).max() <= bound
    # uniform: it reaches the bound's neighbourhood, centred, with std bound / sqrt(3)
    assert np.abs(w).max() > 0.95 * bound
    assert abs(w.mean()) < 0.05 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    b = m.bias.detach().numpy()
    assert np.abs(b).max() <= bound and len(np.unique(b)) == len(b)


def test_batch_norm_default_init():
    bn = nn.BatchNorm2d(5)
    assert bn.weight.tolist() == [1.0] * 5 and bn.bias.tolist() == [0.0] * 5
    assert bn.running_mean.tolist() == [0.0] * 5 and bn.running_var.tolist() == [1.0] * 5
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype == ac.int64
    assert bn.weight.requires_grad and not bn.running_mean.requires_grad


# ---------------------------------------------------------------------------------------------
# gradcheck (float64, small shapes)
# ---------------------------------------------------------------------------------------------

def g64(shape, seed=0, values=None):
    arr = randn(shape, seed=seed) if values is None else values
    return ac.tensor(arr).requires_grad_()


GRADCHECKS = {
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2)),
               [(1, 2, 5, 5), (3, 2, 2, 2), (3,)]),
    "conv2d_groups": (lambda x, w: F.conv2d(x, w, groups=2, padding=1),
                      [(2, 4, 3, 3), (4, 2, 2, 2)]),
    "conv2d_same_even": (lambda x, w: F.conv2d(x, w, padding="same"),
                         [(1, 2, 4, 3), (2, 2, 2, 2)]),
    "conv2d_unbatched": (lambda x, w, b: F.conv2d(x, w, b), [(2, 4, 4), (2, 2, 3, 3), (2,)]),
    "conv1d": (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
               [(2, 2, 7), (3, 2, 3), (3,)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                          count_include_pad=False), [(1, 2, 6, 5)]),
    "avg_pool2d_divisor": (lambda x: F.avg_pool2d(x, 2, stride=1, divisor_override=3),
                           [(1, 2, 4, 4)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [(2, 2, 5, 7)]),
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         [(4, 3, 2), (3,), (3,)]),
    "batch_norm_eval": (lambda x, w, b: F.batch_norm(
        x, ac.tensor([0.5, -1.0, 0.0], dtype=ac.float64),
        ac.tensor([2.0, 0.5, 1.0], dtype=ac.float64), w, b), [(4, 3, 2), (3,), (3,)]),
}


@pytest.mark.parametrize("case", list(GRADCHECKS))
def test_gradcheck(case):
    fn, shapes = GRADCHECKS[case]
    inputs = [g64(s, seed=i) for i, s in enumerate(shapes)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # 'same' with an even kernel
        assert gradcheck(fn, inputs)


def test_gradcheck_max_pool_without_ties():
    x = g64(None, values=distinct((1, 2, 6, 5)))
    assert gradcheck(lambda t: F.max_pool2d(t, 3, stride=2, padding=1, dilation=(1, 2)), [x])
    assert gradcheck(lambda t: F.max_pool2d(t, 2, ceil_mode=True), [x])


def test_gradcheck_catches_a_wrong_gradient():
    """The gradchecks above can fail: a function whose backward is off by a factor does."""
    x = g64((1, 1, 4, 4))

    def doubled_forward(t):
        out = F.avg_pool2d(t, 2)
        return out + out.detach()
    assert not gradcheck(doubled_forward, [x], raise_exception=False)


# ---------------------------------------------------------------------------------------------
# bad arguments: torch's exception type and message
# ---------------------------------------------------------------------------------------------

X4, W4, B4 = randn((2, 4, 6, 6), "float32"), randn((6, 4, 3, 3), "float32", 1), \
    randn((6,), "float32", 2)

# each: lib -> (function of x, w, b in that library)
CONV_ERRORS = {
    "input_2d": lambda F, x, w, b: F.conv2d(x[0, 0], w, b),
    "input_5d": lambda F, x, w, b: F.conv2d(x[None], w, b),
    "weight_2d": lambda F, x, w, b: F.conv2d(x, w[0, 0], b),
    "weight_3d": lambda F, x, w, b: F.conv2d(x, w[0], b),
    "weight_5d": lambda F, x, w, b: F.conv2d(x, w[None], b),
    "channel_mismatch": lambda F, x, w, b: F.conv2d(x[:, :3], w, b),
    "channel_mismatch_unbatched": lambda F, x, w, b: F.conv2d(x[0, :3], w, b),
    "groups_not_dividing_weight": lambda F, x, w, b: F.conv2d(x, w[:, :1], b, groups=4),
    "groups_over_weight": lambda F, x, w, b: F.conv2d(x, w[:, :1], b, groups=8),
    "groups_not_dividing_input": lambda F, x, w, b: F.conv2d(x, w[:, :2], b, groups=3),
    "groups_zero": lambda F, x, w, b: F.conv2d(x, w, b, groups=0),
    "groups_negative": lambda F, x, w, b: F.conv2d(x, w, b, groups=-2),
    "bias_wrong_size": lambda F, x, w, b: F.conv2d(x, w, b[:5]),
    "bias_2d": lambda F, x, w, b: F.conv2d(x, w, b[None]),
    "kernel_over_input": lambda F, x, w, b: F.conv2d(x[..., :2, :2], w, b),
    "kernel_over_input_dilated": lambda F, x, w, b: F.conv2d(x, w, b, dilation=3),
    "kernel_over_input_valid": lambda F, x, w, b: F.conv2d(x[..., :2, :5], w, b,
                                                           padding="valid"),
    "kernel_over_input_and_bias": lambda F, x, w, b: F.conv2d(x[..., :2, :2], w, b[:5]),
    "negative_padding": lambda F, x, w, b: F.conv2d(x, w, b, padding=(1, -1)),
    "zero_stride": lambda F, x, w, b: F.conv2d(x, w, b, stride=0),
    "negative_stride": lambda F, x, w, b: F.conv2d(x, w, b, stride=(1, -2)),
    "zero_dilation": lambda F, x, w, b: F.conv2d(x, w, b, dilation=(1, 0)),
    "negative_dilation": lambda F, x, w, b: F.conv2d(x, w, b, dilation=-1),
    "zero_dilation_and_channels": lambda F, x, w, b: F.conv2d(x[:, :3], w, b, dilation=0),
    "negative_padding_and_groups": lambda F, x, w, b: F.conv2d(x, w, b, padding=-1, groups=0),
    "stride_three_values": lambda F, x, w, b: F.conv2d(x, w, b, stride=(1, 1, 1)),
    "padding_three_values": lambda F, x, w, b: F.conv2d(x, w, b, padding=[1, 1, 1]),
    "stride_empty": lambda F, x, w, b: F.conv2d(x, w, b, stride=()),
    "stride_and_weight_dims": lambda F, x, w, b: F.conv2d(x, w[0], b, stride=(1, 1, 1)),
    "bad_padding_string": lambda F, x, w, b: F.conv2d(x, w, b, padding="full"),
    "same_with_stride": lambda F, x, w, b: F.conv2d(x, w, b, padding="same", stride=2),
    "same_with_stride_tuple": lambda F, x, w, b: F.conv2d(x, w, b, padding="same",
                                                          stride=(1, 2)),
    "same_stride_three_values": lambda F, x, w, b: F.conv2d(x, w, b, padding="same",
                                                            stride=(1, 1, 1)),
    "same_dilation_three_values": lambda F, x, w, b: F.conv2d(x, w, b, padding="same",
                                                              dilation=(1, 1, 1)),
    "same_weight_3d": lambda F, x, w, b: F.conv2d(x, w[0], None, padding="same"),
    "same_groups_zero": lambda F, x, w, b: F.conv2d(x, w, b, padding="same", groups=0),
    "same_even_channel_mismatch": lambda F, x, w, b: F.conv2d(x[:, :3], w[..., :2, :2],
                                                              padding="same"),
    "weight_float64": lambda F, x, w, b: F.conv2d(x, w.double(), None),
    "weight_float64_unbatched": lambda F, x, w, b: F.conv2d(x[0], w.double(), None),
    "weight_int64": lambda F, x, w, b: F.conv2d(x, w.long(), None),
    "weight_bool": lambda F, x, w, b: F.conv2d(x, w.bool(), None),
    "weight_float16": lambda F, x, w, b: F.conv2d(x, w.half(), None),
    "input_float64": lambda F, x, w, b: F.conv2d(x.double(), w, None),
    "input_float16": lambda F, x, w, b: F.conv2d(x.half(), w, None),
    "input_int64": lambda F, x, w, b: F.conv2d(x.long(), w, None),
    "bias_float64": lambda F, x, w, b: F.conv2d(x, w, b.double()),
    "bias_float16": lambda F, x, w, b: F.conv2d(x, w, b.half()),
    "bias_int64": lambda F, x, w, b: F.conv2d(x.long(), w.long(), b),
    "bias_dtype_before_dims": lambda F, x, w, b: F.conv2d(x[None].double(), w, b),
    "bias_dtype_with_same": lambda F, x, w, b: F.conv2d(x, w, b.double(), padding="same"),
    "weight_before_bias_dtype": lambda F, x, w, b: F.conv2d(x, w.double(), b.double(),
                                                            padding="valid"),
    "dtype_after_shape": lambda F, x, w, b: F.conv2d(x[:, :3], w.double(), None),
    "bool_conv": lambda F, x, w, b: F.conv2d(x.bool(), w.bool()),
    "bool_input_float_weight": lambda F, x, w, b: F.conv2d(x.bool(), w),
    "bool_dilated": lambda F, x, w, b: F.conv2d(x.bool(), w.bool(), dilation=2),
    "int32_dilated": lambda F, x, w, b: F.conv2d(x.int(), w.int(), dilation=2),
    "conv1d_input_4d": lambda F, x, w, b: F.conv1d(x, w[:, :, 0], b),
    "conv1d_input_1d": lambda F, x, w, b: F.conv1d(x[0, 0, 0], w[:, :, 0], b),
    "conv1d_weight_4d": lambda F, x, w, b: F.conv1d(x[0], w, b, stride=2),
    "conv1d_channel_mismatch": lambda F, x, w, b: F.conv1d(x[:, :, 0], w[:, :3, 0], b),
    "conv1d_weight_float64": lambda F, x, w, b: F.conv1d(x[:, :, 0], w[:, :, 0].double()),
    "conv1d_bool": lambda F, x, w, b: F.conv1d(x[:, :, 0].bool(), w[:, :, 0].bool()),
    "conv1d_same_stride": lambda F, x, w, b: F.conv1d(x[:, :, 0], w[:, :, 0], b, stride=2,
                                                      padding="same"),
}


@pytest.mark.parametrize("case", list(CONV_ERRORS))
def test_conv_errors_match_torch(torch, case):
    fn = CONV_ERRORS[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(torch, lambda: fn(F, ac.tensor(X4), ac.tensor(W4), ac.tensor(B4)),
                         lambda: fn(torch.nn.functional, torch.tensor(X4), torch.tensor(W4),
                                    torch.tensor(B4)))


@pytest.mark.parametrize("args", [
    dict(input=[[1.0]]), dict(input=None), dict(weight=3), dict(bias=[1.0] * 6),
    dict(stride=1.0), dict(padding=1.5), dict(groups=1.0), dict(padding=["same"]),
    dict(dilation="1"),
])
def test_conv_argument_type_errors(torch, args):
    """torch lists its overloads in these messages; both name the function and are
    TypeErrors."""
    def call(lib):
        kw = dict(input=lib.tensor(X4), weight=lib.tensor(W4), bias=lib.tensor(B4))
        kw.update(args)
        return lib.nn.functional.conv2d(kw.pop("input"), kw.pop("weight"), **kw)
    same_error(torch, lambda: call(ac), lambda: call(torch), phrase="conv2d()")


XP = randn((2, 3, 7, 7), "float32", 3)

POOL_ERRORS = {
    "mp_kernel_three": lambda F, x: F.max_pool2d(x, (3, 3, 3)),
    "mp_kernel_empty": lambda F, x: F.max_pool2d(x, ()),
    "mp_stride_three": lambda F, x: F.max_pool2d(x, 3, (1, 1, 1)),
    "mp_padding_three": lambda F, x: F.max_pool2d(x, 3, 1, (1, 1, 1)),
    "mp_dilation_three": lambda F, x: F.max_pool2d(x, 3, 1, 0, (1, 1, 1)),
    "mp_kernel_zero": lambda F, x: F.max_pool2d(x, 0),
    "mp_kernel_zero_stride_one": lambda F, x: F.max_pool2d(x, 0, 1),
    "mp_kernel_negative": lambda F, x: F.max_pool2d(x, -1, 1),
    "mp_stride_zero": lambda F, x: F.max_pool2d(x, 2, 0),
    "mp_stride_negative": lambda F, x: F.max_pool2d(x, 2, -1),
    "mp_padding_negative": lambda F, x: F.max_pool2d(x, 3, 1, (0, -1)),
    "mp_padding_over_half": lambda F, x: F.max_pool2d(x, 2, 1, 2),
    "mp_padding_over_half_kernel": lambda F, x: F.max_pool2d(x, 3, 1, (0, 2), 2),
    "mp_dilation_zero": lambda F, x: F.max_pool2d(x, 2, 1, 0, 0),
    "mp_dilation_negative": lambda F, x: F.max_pool2d(x, 3, 1, 0, -1),
    "mp_input_2d": lambda F, x: F.max_pool2d(x[0, 0], 2),
    "mp_input_5d": lambda F, x: F.max_pool2d(x[None], 2),
    "mp_input_0d": lambda F, x: F.max_pool2d(x[0, 0, 0, 0], 2),
    "mp_input_2d_kernel_zero": lambda F, x: F.max_pool2d(x[0, 0], 0),
    "mp_no_channels": lambda F, x: F.max_pool2d(x[:, :0], 2),
    "mp_no_channels_unbatched": lambda F, x: F.max_pool2d(x[0, :0], 2),
    "mp_no_height": lambda F, x: F.max_pool2d(x[:, :, :0], 2),
    "mp_output_too_small": lambda F, x: F.max_pool2d(x[..., :2, :2], 3),
    "mp_output_too_small_height": lambda F, x: F.max_pool2d(x[..., :2, :], 3),
    "mp_output_too_small_dilated": lambda F, x: F.max_pool2d(x, 3, dilation=4),
    "mp_output_too_small_unbatched": lambda F, x: F.max_pool2d(x[0, :, :2, :2], 3),
    "mp_bool": lambda F, x: F.max_pool2d(x > 0, 2),
    "mp_kernel_float": lambda F, x: F.max_pool2d(x, 2.0),
    "mp_kernel_str": lambda F, x: F.max_pool2d(x, "2"),
    "mp_kernel_none": lambda F, x: F.max_pool2d(x, None),
    "mp_kernel_bool": lambda F, x: F.max_pool2d(x, True),
    "mp_kernel_float_element": lambda F, x: F.max_pool2d(x, (2, 2.0)),
    "mp_stride_float": lambda F, x: F.max_pool2d(x, 2, 1.0),
    "mp_stride_float_element": lambda F, x: F.max_pool2d(x, 2, (2, 2.0)),
    "mp_padding_float": lambda F, x: F.max_pool2d(x, 2, 2, 1.0),
    "mp_dilation_float": lambda F, x: F.max_pool2d(x, 2, 2, 0, 1.0),
    "mp_not_tensor": lambda F, x: F.max_pool2d(x.tolist(), 2),
    "ap_kernel_three": lambda F, x: F.avg_pool2d(x, (2, 2, 2)),
    "ap_stride_three": lambda F, x: F.avg_pool2d(x, 2, (2, 2, 2)),
    "ap_padding_three": lambda F, x: F.avg_pool2d(x, 2, 2, (1, 1, 1)),
    "ap_kernel_zero": lambda F, x: F.avg_pool2d(x, 0),
    "ap_kernel_zero_stride_one": lambda F, x: F.avg_pool2d(x, 0, 1),
    "ap_stride_zero": lambda F, x: F.avg_pool2d(x, 2, 0),
    "ap_stride_negative": lambda F, x: F.avg_pool2d(x, 2, -1),
    "ap_padding_negative": lambda F, x: F.avg_pool2d(x, 2, 1, -1),
    "ap_padding_over_half": lambda F, x: F.avg_pool2d(x, 3, 1, 2),
    "ap_divisor_zero": lambda F, x: F.avg_pool2d(x, 3, divisor_override=0),
    "ap_divisor_zero_2d": lambda F, x: F.avg_pool2d(x[0, 0], 2, divisor_override=0),
    "ap_divisor_float": lambda F, x: F.avg_pool2d(x, 3, divisor_override=2.0),
    "ap_divisor_bool": lambda F, x: F.avg_pool2d(x, 3, divisor_override=True),
    "ap_input_2d": lambda F, x: F.avg_pool2d(x[0, 0], 2),
    "ap_input_1d": lambda F, x: F.avg_pool2d(x[0, 0, 0], 2),
    "ap_input_0d": lambda F, x: F.avg_pool2d(x[0, 0, 0, 0], 2),
    "ap_input_5d": lambda F, x: F.avg_pool2d(x[None], 2),
    "ap_input_5d_stride_zero": lambda F, x: F.avg_pool2d(x[None], 2, 0),
    "ap_no_channels": lambda F, x: F.avg_pool2d(x[:, :0], 2),
    "ap_no_height": lambda F, x: F.avg_pool2d(x[:, :, :0], 2),
    "ap_output_too_small": lambda F, x: F.avg_pool2d(x[..., :2, :2], 3),
    "ap_bool": lambda F, x: F.avg_pool2d(x > 0, 3),
    "ap_int32": lambda F, x: F.avg_pool2d(x.int(), 3),
    "ap_kernel_float": lambda F, x: F.avg_pool2d(x, 2.0),
    "ap_kernel_float_element": lambda F, x: F.avg_pool2d(x, (2, 2.0)),
    "ap_not_tensor": lambda F, x: F.avg_pool2d(x.tolist(), 2),
    "aap_three_sizes": lambda F, x: F.adaptive_avg_pool2d(x, (3, 3, 3)),
    "aap_one_size": lambda F, x: F.adaptive_avg_pool2d(x, (3,)),
    "aap_negative": lambda F, x: F.adaptive_avg_pool2d(x, -1),
    "aap_negative_width": lambda F, x: F.adaptive_avg_pool2d(x, (2, -3)),
    "aap_input_2d": lambda F, x: F.adaptive_avg_pool2d(x[0, 0], 2),
    "aap_input_2d_tuple": lambda F, x: F.adaptive_avg_pool2d(x[0, 0], (2, 3)),
    "aap_input_1d": lambda F, x: F.adaptive_avg_pool2d(x[0, 0, 0], 2),
    "aap_input_1d_tuple": lambda F, x: F.adaptive_avg_pool2d(x[0, 0, 0], (None, 3)),
    "aap_input_5d": lambda F, x: F.adaptive_avg_pool2d(x[None], 2),
    "aap_no_height": lambda F, x: F.adaptive_avg_pool2d(x[:, :, :0], 2),
    "aap_no_width_unbatched": lambda F, x: F.adaptive_avg_pool2d(x[0, :, :, :0], 2),
    "aap_bool": lambda F, x: F.adaptive_avg_pool2d(x > 0, 2),
    "aap_int64": lambda F, x: F.adaptive_avg_pool2d(x.long(), 2),
    "aap_int64_mean": lambda F, x: F.adaptive_avg_pool2d(x.long(), 1),
    "aap_float_size": lambda F, x: F.adaptive_avg_pool2d(x, 2.0),
    "aap_float_element": lambda F, x: F.adaptive_avg_pool2d(x, (2, 2.0)),
    "aap_none": lambda F, x: F.adaptive_avg_pool2d(x, None),
    "aap_not_tensor": lambda F, x: F.adaptive_avg_pool2d(x.tolist(), 2),
}


@pytest.mark.parametrize("case", list(POOL_ERRORS))
def test_pool_errors_match_torch(torch, case):
    fn = POOL_ERRORS[case]
    same_error(torch, lambda: fn(F, ac.tensor(XP)),
                     lambda: fn(torch.nn.functional, torch.tensor(XP)))


XB = randn((4, 3, 5), "float32", 4)

# each: (F, x, running_mean, running_var, weight, bias) -> call
BN_ERRORS = {
    "one_value_per_channel": lambda F, x, m, v, w, b: F.batch_norm(x[:1, :, :1], m, v, w, b,
                                                                   True),
    "one_value_per_channel_2d": lambda F, x, m, v, w, b: F.batch_norm(x[:1, :, 0], m, v, w, b,
                                                                      True),
    "running_mean_size": lambda F, x, m, v, w, b: F.batch_norm(x, m[:2], v, w, b, True),
    "running_mean_size_eval": lambda F, x, m, v, w, b: F.batch_norm(x, m[:2], None, w, b),
    "running_var_size": lambda F, x, m, v, w, b: F.batch_norm(x, m, v[:2], w, b),
    "weight_size": lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w[:2], b),
    "bias_size": lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w, b[:1], True),
    "eval_without_stats": lambda F, x, m, v, w, b: F.batch_norm(x, None, None, w, b),
    "eval_without_running_var": lambda F, x, m, v, w, b: F.batch_norm(x, m, None, w, b),
    "eps_zero_training": lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w, b, True, 0.1, 0.0),
    "eps_negative": lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w, b, False, 0.1, -1e-3),
    "momentum_none": lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w, b, True, None),
    "input_not_tensor": lambda F, x, m, v, w, b: F.batch_norm(x.tolist(), m, v, w, b),
    "running_mean_not_tensor": lambda F, x, m, v, w, b: F.batch_norm(x, m.tolist(), v, w, b),
    "weight_not_tensor": lambda F, x, m, v, w, b: F.batch_norm(x, m, v, [1.0] * 3, b),
    "bias_not_tensor": lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w, 3, True),
    "input_int64": lambda F, x, m, v, w, b: F.batch_norm(x.long(), m, v, w, b),
    "input_bool_no_params": lambda F, x, m, v, w, b: F.batch_norm(x > 0, None, None,
                                                                  training=True),
    "input_float64": lambda F, x, m, v, w, b: F.batch_norm(x.double(), m, v, w, b),
    "weight_float64": lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w.double(), b),
    "bias_float64": lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w, b.double()),
    "running_var_float64": lambda F, x, m, v, w, b: F.batch_norm(x, m, v.double(), w, b),
    "half_input_double_params": lambda F, x, m, v, w, b: F.batch_norm(
        x.half(), m.double(), v.double(), w.double(), b.double()),
    "half_input_mixed_params": lambda F, x, m, v, w, b: F.batch_norm(
        x.half(), m, v, w.half(), b.half()),
}


@pytest.mark.parametrize("case", list(BN_ERRORS))
def test_batch_norm_errors_match_torch(torch, case):
    fn = BN_ERRORS[case]

    def args(lib):
        return (lib.tensor(XB), lib.zeros(3), lib.ones(3), lib.tensor(randn((3,), "float32")),
                lib.tensor(randn((3,), "float32", 1)))
    same_error(torch, lambda: fn(F, *args(ac)), lambda: fn(torch.nn.functional,
                                                                  *args(torch)))


MODULE_ERRORS = {
    "conv_groups_zero": lambda L: L.nn.Conv2d(4, 4, 3, groups=0),
    "conv_in_not_divisible": lambda L: L.nn.Conv2d(3, 4, 3, groups=2),
    "conv_out_not_divisible": lambda L: L.nn.Conv1d(4, 3, 3, groups=2),
    "conv_bad_padding_string": lambda L: L.nn.Conv2d(3, 4, 3, padding="full"),
    "conv_same_strided": lambda L: L.nn.Conv2d(3, 4, 3, padding="same", stride=2),
    "conv2d_wrong_channels": lambda L: L.nn.Conv2d(3, 4, 3)(L.zeros(1, 2, 5, 5)),
    "conv1d_2d_weight_input": lambda L: L.nn.Conv1d(3, 4, 3)(L.zeros(1, 3, 5, 5)),
    "bn1d_4d_input": lambda L: L.nn.BatchNorm1d(3)(L.zeros(2, 3, 4, 4)),
    "bn1d_1d_input": lambda L: L.nn.BatchNorm1d(3)(L.zeros(3)),
    "bn2d_3d_input": lambda L: L.nn.BatchNorm2d(3)(L.zeros(3, 4, 4)),
    "bn2d_wrong_channels": lambda L: L.nn.BatchNorm2d(3)(L.zeros(2, 4, 4, 4)),
    "bn2d_wrong_channels_eval": lambda L: L.nn.BatchNorm2d(3).eval()(L.zeros(2, 4, 4, 4)),
    "bn2d_one_value": lambda L: L.nn.BatchNorm2d(3)(L.zeros(1, 3, 1, 1)),
    "bn2d_untracked_eval_one_value": lambda L: L.nn.BatchNorm2d(
        3, track_running_stats=False).eval()(L.zeros(1, 3, 1, 1)),
    "bn2d_double_input": lambda L: L.nn.BatchNorm2d(3)(L.zeros(2, 3, 2, 2, dtype=L.float64)),
    "maxpool_too_small": lambda L: L.nn.MaxPool2d(3)(L.zeros(1, 2, 2, 2)),
    "avgpool_pad_over_half": lambda L: L.nn.AvgPool2d(2, padding=2)(L.zeros(1, 2, 6, 6)),
    "adaptive_1d_input": lambda L: L.nn.AdaptiveAvgPool2d((2, 2))(L.zeros(4)),
}


@pytest.mark.parametrize("case", list(MODULE_ERRORS))
def test_module_errors_match_torch(torch, case):
    make = MODULE_ERRORS[case]
    same_error(torch, lambda: make(ac), lambda: make(torch))


def test_bad_padding_mode_error_matches_torch(torch):
    # both print the valid modes as a Python set, whose order follows string hashing
    def parts(message):
        head, _, rest = message.partition("{")
        modes, _, tail = rest.partition("}")
        return head, sorted(m.strip() for m in modes.split(",")), tail
    messages = []
    for lib in (ac, torch):
        with pytest.raises(ValueError) as info:
            lib.nn.Conv2d(3, 4, 3, padding_mode="mirror")
        messages.append(parts(str(info.value)))
    assert messages[0] == messages[1]
    assert messages[0][1] == ["'circular'", "'reflect'", "'replicate'", "'zeros'"]


# ---------------------------------------------------------------------------------------------
# edge cases
# ---------------------------------------------------------------------------------------------

EMPTY_BATCH = {
    "conv2d": (lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, padding=1),
               [(0, 3, 5, 5), (4, 3, 3, 3), (4,)]),
    "conv1d": (lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, stride=2),
               [(0, 3, 7), (4, 3, 3), (4,)]),
    "conv2d_same_even": (lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding="same"),
                         [(0, 3, 5, 5), (4, 3, 2, 2)]),
    "max_pool2d": (lambda lib, x: lib.nn.functional.max_pool2d(x, 2), [(0, 3, 5, 5)]),
    "avg_pool2d": (lambda lib, x: lib.nn.functional.avg_pool2d(x, 2, padding=1),
                   [(0, 3, 5, 5)]),
    "adaptive_avg_pool2d": (lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, (2, 3)),
                            [(0, 3, 5, 5)]),
    "adaptive_mean": (lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, 1),
                      [(0, 3, 5, 5)]),
    "batch_norm_train": (lambda lib, x, w, b: lib.nn.functional.batch_norm(
        x, None, None, w, b, training=True), [(0, 3, 5), (3,), (3,)]),
}


@pytest.mark.parametrize("case", list(EMPTY_BATCH))
def test_empty_batch(torch, case):
    """N = 0 works as in torch: an empty output of the right shape, and zero gradients."""
    call, shapes = EMPTY_BATCH[case]
    a_in = [leaf(ac, randn(s)) for s in shapes]
    t_in = [leaf(torch, randn(s)) for s in shapes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_a, out_t = call(ac, *a_in), call(torch, *t_in)
    assert tuple(out_a.shape) == tuple(out_t.shape) and out_a.dtype == ac.float64
    out_a.sum().backward()
    out_t.sum().backward()
    for a, t in zip(a_in, t_in):
        assert (a.grad is None) == (t.grad is None)
        if t.grad is not None:
            assert_close(a.grad, t.grad)


def test_empty_batch_leaves_running_stats_alone(torch):
    counted = []
    for lib in (ac, torch):
        bn = lib.nn.BatchNorm1d(3)
        out = bn(lib.zeros(0, 3))
        assert tuple(out.shape) == (0, 3)
        assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
        counted.append(bn.num_batches_tracked.item())
    assert counted[0] == counted[1]     # the module counts the batch even so


def test_nan_propagates_through_max_pool_like_torch(torch):
    x = distinct((1, 2, 6, 6))
    x[0, 0, 1, 1] = np.nan          # one NaN in a window
    x[0, 0, 4, 4] = x[0, 0, 5, 5] = np.nan   # two in one window: torch keeps the later
    x[0, 1, 0, 3] = np.inf
    x[0, 1, 5, 0] = -np.inf
    for kwargs in [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)]:
        va, ia = F.max_pool2d(leaf(ac, x), return_indices=True, **kwargs)
        vt, it = torch.nn.functional.max_pool2d(leaf(torch, x), return_indices=True, **kwargs)
        assert_close(va, vt, equal_nan=True)
        assert np.array_equal(ia.numpy(), it.numpy())
    # gradients go to the NaN positions, as the indices say
    xa, xt = leaf(ac, x), leaf(torch, x)
    F.max_pool2d(xa, 2).sum().backward()
    torch.nn.functional.max_pool2d(xt, 2).sum().backward()
    assert_close(xa.grad, xt.grad)


def test_nan_propagates_through_conv_and_avg_pool(torch):
    x = randn((1, 2, 6, 6))
    x[0, 1, 2, 3] = np.nan
    w = randn((3, 2, 3, 3), seed=1)
    a = F.conv2d(ac.tensor(x), ac.tensor(w), padding=1)
    t = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    assert_close(a, t, equal_nan=True)
    assert np.isnan(a.numpy()).sum() == 3 * 9   # every window that touches it, every channel
    assert_close(F.avg_pool2d(ac.tensor(x), 2), torch.nn.functional.avg_pool2d(
        torch.tensor(x), 2), equal_nan=True)


NONCONTIGUOUS = {
    "conv2d_transposed": (lambda lib, x, w, b: lib.nn.functional.conv2d(
        x.transpose(2, 3), w.transpose(2, 3), b, padding=1), [(2, 3, 7, 6), (4, 3, 3, 2), (4,)]),
    "conv2d_sliced": (lambda lib, x, w: lib.nn.functional.conv2d(
        x[:, ::2, 1:, ::2], w[::2, :, :, 1:]), [(2, 6, 8, 9), (8, 3, 3, 4)]),
    "conv1d_permuted": (lambda lib, x, w: lib.nn.functional.conv1d(
        x.permute(2, 1, 0), w), [(9, 3, 2), (4, 3, 3)]),
    "max_pool_transposed": (lambda lib, x: lib.nn.functional.max_pool2d(
        x.transpose(1, 3), 2), [(2, 6, 5, 3)]),
    "avg_pool_sliced": (lambda lib, x: lib.nn.functional.avg_pool2d(
        x[:, 1:, ::2, :], 2, padding=1), [(2, 4, 9, 6)]),
    "adaptive_transposed": (lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(
        x.transpose(2, 3), (2, 3)), [(2, 3, 7, 5)]),
    "batch_norm_transposed": (lambda lib, x, w, b: lib.nn.functional.batch_norm(
        x.transpose(0, 2), None, None, w, b, training=True), [(5, 3, 4), (3,), (3,)]),
}


@pytest.mark.parametrize("case", list(NONCONTIGUOUS))
def test_non_contiguous_inputs(torch, case):
    call, shapes = NONCONTIGUOUS[case]
    arrays = [distinct(s, seed=i) if "max" in case else randn(s, seed=i)
              for i, s in enumerate(shapes)]
    run_both(torch, call, arrays, "float64")


def test_integer_inputs_like_torch(torch):
    ints = rng(9).integers(-3, 4, (2, 3, 6, 6))
    wints = rng(10).integers(-2, 3, (4, 3, 3, 3))
    for dt in ["int64", "int32", "int16"]:
        xa, xt = ac.tensor(ints.astype(dt)), torch.tensor(ints.astype(dt))
        wa, wt = ac.tensor(wints.astype(dt)), torch.tensor(wints.astype(dt))
        a, t = F.conv2d(xa, wa, padding=1), torch.nn.functional.conv2d(xt, wt, padding=1)
        assert a.dtype == getattr(ac, dt) and np.array_equal(a.numpy(), t.numpy())
        va, ia = F.max_pool2d(xa, 3, stride=2, padding=1, return_indices=True)
        vt, it = torch.nn.functional.max_pool2d(xt, 3, stride=2, padding=1, return_indices=True)
        assert va.dtype == getattr(ac, dt) and np.array_equal(va.numpy(), vt.numpy())
    small = rng(11).integers(0, 3, (1, 2, 5, 5)).astype("uint8")
    a = F.conv2d(ac.tensor(small), ac.tensor(small[:, :, :3, :3].copy()))
    t = torch.nn.functional.conv2d(torch.tensor(small), torch.tensor(small[:, :, :3, :3].copy()))
    assert a.dtype == ac.uint8 and np.array_equal(a.numpy(), t.numpy())
    # int64 average pooling divides and truncates toward zero, as torch's does
    big = rng(12).integers(-50, 50, (2, 2, 7, 7))
    for kwargs in [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1,
                                             count_include_pad=False, ceil_mode=True)]:
        a = F.avg_pool2d(ac.tensor(big), **kwargs)
        t = torch.nn.functional.avg_pool2d(torch.tensor(big), **kwargs)
        assert a.dtype == ac.int64 and np.array_equal(a.numpy(), t.numpy())


def test_float16_inputs_like_torch(torch):
    x, w, b = randn((2, 3, 6, 6)), randn((4, 3, 3, 3), seed=1), randn((4,), seed=2)
    half = dict(rtol=1e-2, atol=1e-2)
    cases = [
        lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, padding=1),
        lambda lib, x, w, b: lib.nn.functional.conv1d(x[:, :, 0], w[:, :, 0], b),
        lambda lib, x, w, b: lib.nn.functional.max_pool2d(x, 2),
        lambda lib, x, w, b: lib.nn.functional.avg_pool2d(x, 3, padding=1),
        lambda lib, x, w, b: lib.nn.functional.adaptive_avg_pool2d(x, (4, 5)),
        lambda lib, x, w, b: lib.nn.functional.batch_norm(
            x, lib.zeros(3), lib.ones(3), lib.ones(3), lib.zeros(3), training=True),
        # a half input may have float32 parameters in batch norm
        lambda lib, x, w, b: lib.nn.functional.batch_norm(
            x, lib.zeros(3), lib.ones(3), lib.ones(3, dtype=lib.float32), None),
    ]
    for call in cases:
        a = call(ac, *(ac.tensor(v.astype("float16")) for v in (x, w, b)))
        t = call(torch, *(torch.tensor(v.astype("float16")) for v in (x, w, b)))
        assert a.dtype == ac.float16
        np.testing.assert_allclose(a.numpy().astype("float64"), t.numpy().astype("float64"),
                                   **half)


def test_no_grad_records_no_graph(torch):
    x = ac.tensor(randn((2, 3, 6, 6))).requires_grad_()
    w = ac.tensor(randn((4, 3, 3, 3))).requires_grad_()
    bn = nn.BatchNorm2d(3, dtype=ac.float64)
    with ac.no_grad():
        outs = [F.conv2d(x, w), F.conv1d(x[:, :, 0], w[:, :, 0]), F.max_pool2d(x, 2),
                F.max_pool2d(x, 2, return_indices=True)[0], F.avg_pool2d(x, 2),
                F.adaptive_avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, 1), bn(x),
                F.conv2d(x[0], w)]
    for out in outs:
        assert out.grad_fn is None and not out.requires_grad
    # the running statistics still move under no_grad, as in torch
    assert bn.num_batches_tracked.item() == 1 and bn.running_mean.abs().sum().item() > 0
    assert F.conv2d(x, w).requires_grad   # and the graph is back afterwards


def test_in_place_change_of_saved_tensors_is_caught(torch):
    """Changing the conv weight (or input, or a batch norm weight) between forward and backward
    makes backward fail, with torch's error."""
    def run(lib, what):
        x = lib.tensor(randn((1, 2, 5, 5))).requires_grad_()
        conv = lib.nn.Conv2d(2, 3, 3).double()
        bn = lib.nn.BatchNorm2d(3).double()
        h = x * 1.0
        out = bn(conv(h)).sum()
        with lib.no_grad():
            {"weight": conv.weight, "bn_weight": bn.weight}.get(what, h).add_(1.0)
        out.backward()
    for what in ["weight", "input", "bn_weight"]:
        with pytest.raises(RuntimeError) as ea:
            run(ac, what)
        with pytest.raises(RuntimeError) as et:
            run(torch, what)
        assert "modified by an inplace operation" in str(ea.value)
        # equal up to the hint, which names torch's own anomaly switch
        assert str(ea.value).split(" Hint")[0] == torch_to_ours(str(et.value).split(" Hint")[0])
    # a change to the bias is harmless: the bias is not needed for the gradient
    x = ac.tensor(randn((1, 2, 5, 5)))
    conv = nn.Conv2d(2, 3, 3).double()
    out = conv(x).sum()
    with ac.no_grad():
        conv.bias.add_(1.0)
    out.backward()
    assert conv.weight.grad is not None


# ---------------------------------------------------------------------------------------------
# LeNet, from PyTorch's neural networks tutorial
# ---------------------------------------------------------------------------------------------

def lenet(lib):
    F_ = lib.nn.functional

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = lib.nn.Conv2d(1, 6, 5)
            self.conv2 = lib.nn.Conv2d(6, 16, 5)
            self.fc1 = lib.nn.Linear(16 * 5 * 5, 120)
            self.fc2 = lib.nn.Linear(120, 84)
            self.fc3 = lib.nn.Linear(84, 10)

        def forward(self, x):
            x = F_.max_pool2d(F_.relu(self.conv1(x)), (2, 2))
            x = F_.max_pool2d(F_.relu(self.conv2(x)), 2)
            x = lib.flatten(x, 1)
            x = F_.relu(self.fc1(x))
            x = F_.relu(self.fc2(x))
            return self.fc3(x)
    return Net()


def test_lenet_logits_and_gradients_match_torch(torch):
    torch.manual_seed(0)
    net_t, net_a = lenet(torch), lenet(ac)
    copy_params(net_t, net_a)
    assert [n for n, _ in net_a.named_parameters()] == [n for n, _ in net_t.named_parameters()]
    x = randn((4, 1, 32, 32), "float32")
    target = [3, 1, 4, 1]
    out_a, out_t = net_a(ac.tensor(x)), net_t(torch.tensor(x))
    assert tuple(out_a.shape) == (4, 10)
    assert_close(out_a, out_t, "float32")
    F.cross_entropy(out_a, ac.tensor(target)).backward()
    torch.nn.functional.cross_entropy(out_t, torch.tensor(target)).backward()
    for (na, pa), (nt, pt) in zip(net_a.named_parameters(), net_t.named_parameters()):
        assert_close(pa.grad, pt.grad, "float32")


# -- the scratch pool behind convolution's column matrices -------------------------------------

def _conv_grads(x_arr, w_arr, g_arr):
    x = ac.tensor(x_arr, requires_grad=True)
    w = ac.tensor(w_arr, requires_grad=True)
    y = ac.conv2d(x, w, padding=1)
    return x, w, y, ac.tensor(g_arr)


def test_pooled_column_matrices_never_leak_between_live_graphs():
    # Two graphs of the same shape alive at once, then backward in either order, several times:
    # each must see its own columns (a buffer handed out twice would mix them).
    rng = np.random.default_rng(11)
    shapes = [(2, 3, 6, 6), (4, 3, 3, 3), (2, 4, 6, 6)]
    for order in ([0, 1], [1, 0], [0, 1]):
        arrays = [[rng.standard_normal(s) for s in shapes] for _ in range(2)]
        graphs = [_conv_grads(*a) for a in arrays]
        for i in order:
            x, w, y, g = graphs[i]
            y.backward(g)
        for (x, w, y, g), (xa, wa, ga) in zip(graphs, arrays):
            ref_x, ref_w, ref_y, ref_g = _conv_grads(xa, wa, ga)
            ref_y.backward(ref_g, retain_graph=True)
            np.testing.assert_allclose(w.grad.numpy(), ref_w.grad.numpy(), rtol=1e-12)
            np.testing.assert_allclose(x.grad.numpy(), ref_x.grad.numpy(), rtol=1e-12)


def test_retained_graph_keeps_its_columns_for_a_second_backward():
    rng = np.random.default_rng(12)
    x, w, y, g = _conv_grads(rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)),
                             rng.standard_normal((1, 3, 5, 5)))
    y.backward(g, retain_graph=True)
    first = w.grad.numpy().copy()
    for _ in range(3):  # other convolutions of the same shape reuse whatever the pool holds
        _conv_grads(*(rng.standard_normal(tuple(t.shape)) for t in (x, w, g)))[2].sum().backward()
    w.grad = None
    y.backward(g)
    np.testing.assert_allclose(w.grad.numpy(), first, rtol=1e-12)


def test_scratch_pool_is_used_and_bounded():
    from autograd_c import _C
    model = ac.nn.Conv2d(3, 8, 3, padding=1)
    x = ac.randn(4, 3, 16, 16)
    for _ in range(3):
        model(x).sum().backward()
    held = _C._scratch_pool_bytes()
    assert 0 < held <= 256 * 1024 * 1024
    model(x).sum().backward()
    assert _C._scratch_pool_bytes() == held  # the same buffers went out and came back


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(2, 3, 28, 28), (1, 2, 9, 35), (3, 1, 2, 2)])
def test_max_pool_2x2_ties_and_nans_pick_torchs_index(torch, shape, dtype):
    """The vectorised 2x2 scan: ReLU-style windows of equal zeros, partial ties, NaNs and odd
    sizes (a trailing row or column outside every window) give torch's values and indices."""
    r = np.random.default_rng(5)
    x = np.maximum(r.standard_normal(shape), 0)     # about a sixteenth of windows all zeros
    x.reshape(-1)[::7] = 0.5                          # ties between non-zero values too
    x.reshape(-1)[3::53] = np.nan
    x.reshape(-1)[4::97] = -np.inf
    x = x.astype(dtype)
    (va, ia), (vt, it) = (F.max_pool2d(ac.tensor(x), 2, return_indices=True),
                          torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True))
    assert np.array_equal(ia.numpy(), it.numpy())
    np.testing.assert_array_equal(va.numpy(), vt.numpy())
    xa, xt = leaf(ac, x), leaf(torch, x)
    F.max_pool2d(xa, 2).sum().backward()
    torch.nn.functional.max_pool2d(xt, 2).sum().backward()
    np.testing.assert_array_equal(xa.grad.numpy(), xt.grad.numpy())


# -- convolution over the batch in cache-sized chunks -----------------------------------------

CHUNKED_CASES = {
    # (input shape, weight shape, kwargs): the column matrix of one sample is 100-300 KB, so
    # the batch runs in several chunks, the last one shorter
    "plain": ((5, 3, 40, 40), (4, 3, 3, 3), dict()),
    "groups_padding": ((7, 6, 36, 36), (6, 2, 3, 3), dict(padding=1, groups=3)),
    "stride_dilation": ((5, 4, 44, 44), (5, 4, 3, 3), dict(stride=2, dilation=2, padding=2)),
    "same": ((5, 3, 39, 40), (2, 3, 4, 3), dict(padding="same")),
}


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", list(CHUNKED_CASES))
def test_conv2d_in_chunks_matches_torch(torch, case, dtype):
    xs, ws, kwargs = CHUNKED_CASES[case]
    run_both(torch, lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, **kwargs),
             [randn(xs, seed=2), randn(ws, seed=3), randn(ws[:1], seed=4)], dtype)


def test_conv2d_chunks_agree_with_one_sample_at_a_time():
    """Each sample's output and input gradient depend on that sample alone, and the weight
    gradient is the sum over samples, whatever the chunking (torch-free)."""
    x = randn((6, 3, 40, 40), seed=5)
    w, g = randn((4, 3, 5, 5), seed=6), randn((6, 4, 36, 36), seed=7)
    xa, wa = leaf(ac, x), leaf(ac, w)
    F.conv2d(xa, wa).backward(ac.tensor(g))
    w_sum = np.zeros_like(w)
    for n in range(6):
        xn, wn = leaf(ac, x[n:n + 1]), leaf(ac, w)
        yn = F.conv2d(xn, wn)
        yn.backward(ac.tensor(g[n:n + 1]))
        np.testing.assert_allclose(xa.grad.numpy()[n:n + 1], xn.grad.numpy(), rtol=1e-12)
        w_sum += wn.grad.numpy()
    np.testing.assert_allclose(wa.grad.numpy(), w_sum, rtol=1e-10)


SHIFTED_ROW_CASES = {
    # stride 1 with output width == input width: each kernel offset's columns are one shifted
    # copy of the plane, with the wrapped ends zeroed
    "3x3_pad1": ((2, 3, 6, 5), (4, 3, 3, 3), dict(padding=1)),
    "1x1": ((2, 5, 4, 7), (3, 5, 1, 1), dict()),
    "5x5_pad2": ((2, 2, 7, 6), (3, 2, 5, 5), dict(padding=2)),
    "dilated": ((2, 2, 9, 8), (3, 2, 3, 3), dict(padding=2, dilation=2)),
    "rows_unpadded": ((2, 3, 8, 5), (2, 3, 3, 3), dict(padding=(0, 1))),
    "wide_kernel": ((1, 2, 3, 9), (2, 2, 3, 5), dict(padding=(2, 2))),
    "tiny_plane": ((3, 4, 2, 2), (5, 4, 3, 3), dict(padding=1)),
    "one_column": ((2, 3, 5, 1), (2, 3, 3, 1), dict(padding=(1, 0))),
    "kernel_beyond_rows": ((2, 2, 1, 4), (2, 2, 5, 3), dict(padding=(2, 1))),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", list(SHIFTED_ROW_CASES))
def test_conv2d_shifted_rows_match_torch(torch, case, dtype):
    xs, ws, kwargs = SHIFTED_ROW_CASES[case]
    run_both(torch, lambda lib, x, w: lib.nn.functional.conv2d(x, w, **kwargs),
             [randn(xs, seed=8), randn(ws, seed=9)], dtype)


@pytest.mark.parametrize("kernel, padding", [(3, 1), (5, 2), (1, 0)])
def test_conv1d_shifted_rows_match_torch(torch, kernel, padding):
    run_both(torch, lambda lib, x, w: lib.nn.functional.conv1d(x, w, padding=padding),
             [randn((3, 2, 11), seed=10), randn((4, 2, kernel), seed=11)], "float64")
