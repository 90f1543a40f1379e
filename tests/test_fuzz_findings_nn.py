"""Silently wrong results the fuzzer (tests/test_fuzz.py) found in pooling, expand and in-place
writes, binary_cross_entropy's gradient and 0-d float16 backward: torch 2.13's answers written
out, and compared with torch itself when it is installed."""
import warnings

import numpy as np
import pytest

import autograd_c as ac
from autograd_c.nn import functional as F

OVERLAP = "more than one element of the written-to tensor refers to a single memory location"


def outcome(M, fn):
    """fn(M)'s value as nested lists, or the exception's type name and message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(M)
    except Exception as e:      # the outcome is what is compared
        return type(e).__name__, str(e)
    return out.tolist() if hasattr(out, "tolist") else out


def same_outcome(fn):
    torch = pytest.importorskip("torch")
    ours, theirs = outcome(ac, fn), outcome(torch, fn)
    if isinstance(theirs, tuple) and isinstance(theirs[0], str):
        assert isinstance(ours, tuple) and ours[0] == theirs[0], (ours, theirs)
        assert ours[1].split(".")[0] == theirs[1].split(".")[0]
    else:
        assert ours == theirs


# -- integer pooling is exact ------------------------------------------------------------------

BIG = 2**62 + 1

POOLS = {
    "max_near_int64_max": lambda M: M.nn.functional.max_pool2d(M.tensor([[[2**63 - 2]]]), 1),
    "max_beyond_2_53": lambda M: M.nn.functional.max_pool2d(M.tensor([[[BIG, BIG + 2]]]), (1, 2)),
    "max_2x2": lambda M: M.nn.functional.max_pool2d(
        M.tensor([[[BIG, -BIG], [BIG + 2, 2**63 - 1]]]), 2),
    "max_all_int64_min": lambda M: M.nn.functional.max_pool2d(
        M.tensor([[[-2**63, -2**63]]]), (1, 2), return_indices=True)[1],
    "max_padded": lambda M: M.nn.functional.max_pool2d(
        M.tensor([[[-2**63 + 1, -5, BIG]]]), (1, 3), 1, (0, 1)),
    "avg_beyond_2_53": lambda M: M.nn.functional.avg_pool2d(M.tensor([[[BIG]]]), 1),
    "avg_truncates": lambda M: M.nn.functional.avg_pool2d(M.tensor([[[-7, 0, 5, 2]]]), (1, 2)),
    "avg_padded": lambda M: M.nn.functional.avg_pool2d(M.tensor([[[-7, 0, 5]]]), (1, 3),
                                                       padding=(0, 1)),
    "avg_divisor": lambda M: M.nn.functional.avg_pool2d(M.tensor([[[-7, 0]]]), (1, 2),
                                                        divisor_override=-3),
    "avg_sum_wraps": lambda M: M.nn.functional.avg_pool2d(M.tensor([[[2**62] * 4]]), (1, 4)),
    "avg_ceil_no_pad_count": lambda M: M.nn.functional.avg_pool2d(
        M.tensor([[[7, 0, 5]]]), (1, 2), 1, (0, 1), ceil_mode=True, count_include_pad=False),
}

POOL_VALUES = {
    "max_near_int64_max": [[[2**63 - 2]]],
    "max_beyond_2_53": [[[BIG + 2]]],
    "max_2x2": [[[2**63 - 1]]],
    "max_all_int64_min": [[[0]]],
    "max_padded": [[[-5, BIG, BIG]]],
    "avg_beyond_2_53": [[[BIG]]],
    "avg_truncates": [[[-3, 3]]],
    "avg_padded": [[[-2]]],
    "avg_divisor": [[[2]]],
    "avg_sum_wraps": [[[0]]],
    "avg_ceil_no_pad_count": [[[7, 3, 2, 5]]],
}


@pytest.mark.parametrize("case", sorted(POOLS))
def test_int64_pooling_is_exact(case):
    assert outcome(ac, POOLS[case]) == POOL_VALUES[case]


@pytest.mark.parametrize("case", sorted(POOLS))
def test_int64_pooling_matches_torch(case):
    same_outcome(POOLS[case])


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32"])
def test_max_pool_of_narrow_integers_keeps_dtype_and_values(dtype):
    info = np.iinfo(dtype)
    x = np.array([[[info.min, info.max], [info.max - 1, 0]]], dtype=dtype)
    out = F.max_pool2d(ac.tensor(x), 2, return_indices=True)
    assert out[0].dtype is getattr(ac, dtype)
    assert out[0].tolist() == [[[info.max]]] and out[1].tolist() == [[[1]]]


def test_avg_pool_int64_min_over_minus_one_wraps():
    # torch dies of SIGFPE here; the wrapped quotient is the answer two's complement gives
    out = F.avg_pool2d(ac.tensor([[[-2**63]]]), 1, divisor_override=-1)
    assert out.tolist() == [[[-2**63]]]


# -- expand: torch's strides; in-place writes refused only where elements share memory ---------

STRIDES = {
    "same_shape": lambda M: M.zeros(1, 2).expand(1, 2).stride(),
    "new_leading_dim": lambda M: M.zeros(1, 2).expand(3, 1, 2).stride(),
    "size_one_kept": lambda M: M.zeros(2, 1).expand(2, 1).stride(),
    "size_one_broadcast": lambda M: M.zeros(2, 1).expand(2, 3).stride(),
    "from_0d": lambda M: M.zeros(()).expand(1, 1).stride(),
    "new_size_one_dims": lambda M: M.zeros(3).expand(2, 1, 3).stride(),
    "to_empty": lambda M: M.zeros(1, 2).expand(0, 2).stride(),
    "transposed": lambda M: M.zeros(3, 1).t().expand(1, 3).stride(),
    "index_none_middle": lambda M: M.zeros(3, 4)[:, None].stride(),
    "index_none_first": lambda M: M.zeros(3, 4)[None].stride(),
    "index_none_last": lambda M: M.zeros(3, 4)[..., None].stride(),
    "index_none_twice": lambda M: M.zeros(3)[None, None].stride(),
    "index_none_after_int": lambda M: M.zeros(2, 3, 4)[0, None, 1:].stride(),
    # numpy's contiguous arrays may carry any stride on a size-1 dim; torch.tensor keeps it
    "tensor_of_numpy": lambda M: M.tensor(np.ascontiguousarray(
        np.zeros((1, 3, 1, 3), np.float32).swapaxes(2, 3))).stride(),
    "tensor_of_numpy_cast": lambda M: M.tensor(np.zeros((1, 2, 1), np.float32).swapaxes(1, 2),
                                               dtype=M.float64).stride(),
}

STRIDE_VALUES = {
    "same_shape": (2, 1), "new_leading_dim": (0, 2, 1), "size_one_kept": (1, 1),
    "size_one_broadcast": (1, 0), "from_0d": (0, 0), "new_size_one_dims": (0, 3, 1),
    "to_empty": (0, 1), "transposed": (1, 1),
    "index_none_middle": (4, 4, 1), "index_none_first": (12, 4, 1),
    "index_none_last": (4, 1, 1), "index_none_twice": (3, 3, 1),
    "index_none_after_int": (12, 4, 1), "tensor_of_numpy": (9, 3, 1, 3),
    "tensor_of_numpy_cast": (2, 1, 1),
}


@pytest.mark.parametrize("case", sorted(STRIDES))
def test_strides_of_size_one_dims(case):
    assert STRIDES[case](ac) == STRIDE_VALUES[case]


@pytest.mark.parametrize("case", sorted(STRIDES))
def test_strides_of_size_one_dims_match_torch(case):
    same_outcome(STRIDES[case])


EXPANDS = {
    "no_broadcast": lambda M: M.zeros(1, 2).expand(1, 2),
    "broadcast": lambda M: M.zeros(1, 2).expand(2, 2),
    "empty": lambda M: M.zeros(1, 2).expand(0, 2),
    "empty_broadcast": lambda M: M.zeros(0, 1).expand(0, 3),
    "new_size_one_dim": lambda M: M.zeros(2).expand(1, 2),
    "from_0d": lambda M: M.zeros(()).expand(1),
    "one_to_five": lambda M: M.zeros(1).expand(5),
}

WRITES = {
    "add_": lambda M, t: t.add_(1),
    "sub_": lambda M, t: t.sub_(1),
    "mul_": lambda M, t: t.mul_(2),
    "div_": lambda M, t: t.div_(2),
    "clamp_": lambda M, t: t.clamp_(0.5),
    "relu_": lambda M, t: t.relu_(),
    "copy_": lambda M, t: t.copy_(M.ones(t.shape)),
    "zero_": lambda M, t: t.zero_(),
    "fill_": lambda M, t: t.fill_(2),
    "fill_tensor": lambda M, t: t.fill_(M.tensor(3.0)),
    "masked_fill_": lambda M, t: t.masked_fill_(M.ones(t.shape, dtype=M.bool), 3),
    "uniform_": lambda M, t: t.uniform_(4, 4),
    "setitem_int": lambda M, t: t.__setitem__(0, 5) if t.numel() else t,
    "setitem_ellipsis": lambda M, t: t.__setitem__(Ellipsis, 5),
    "setitem_index_tensor": lambda M, t: t.__setitem__(M.tensor([0]), 5) if t.numel() else t,
}

# torch refuses an in-place op on overlapping memory except fill_ of a number (zero_ too),
# masked_fill_ and index_put_; with no element to write, or none shared, it writes
REFUSED = {("broadcast", w) for w in ("add_", "sub_", "mul_", "div_", "clamp_", "relu_", "copy_",
                                       "fill_tensor", "uniform_", "setitem_ellipsis")} | {
    ("one_to_five", w) for w in ("add_", "sub_", "mul_", "div_", "clamp_", "relu_", "copy_",
                                  "fill_tensor", "uniform_", "setitem_ellipsis")}


def _write(expand, write):
    def fn(M):
        t = EXPANDS[expand](M)
        out = WRITES[write](M, t)
        return t if out is None else out
    return fn


@pytest.mark.parametrize("expand", sorted(EXPANDS))
@pytest.mark.parametrize("write", sorted(WRITES))
def test_inplace_write_into_expanded_tensor(expand, write):
    got = outcome(ac, _write(expand, write))
    if (expand, write) in REFUSED:
        assert got[0] == "RuntimeError" and OVERLAP in got[1]
    else:
        assert not (isinstance(got, tuple) and isinstance(got[0], str)), got


@pytest.mark.parametrize("expand", sorted(EXPANDS))
@pytest.mark.parametrize("write", sorted(set(WRITES) - {"uniform_"}))
def test_inplace_write_into_expanded_tensor_matches_torch(expand, write):
    same_outcome(_write(expand, write))


def test_fill_of_expanded_tensor_writes_its_storage():
    base = ac.zeros(1, 2)
    base.expand(3, 2).fill_(4)
    assert base.tolist() == [[4.0, 4.0]]
    base.expand(3, 2).zero_()
    assert base.tolist() == [[0.0, 0.0]]


def test_masked_fill_of_overlapping_memory_warns_as_torch():
    t = ac.zeros(1, 2).expand(2, 2)
    with pytest.warns(UserWarning, match="Use of masked_fill_ on expanded tensors is deprecated"):
        t.masked_fill_(ac.tensor([True, False]), 5)
    assert t.tolist() == [[5.0, 0.0], [5.0, 0.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ac.zeros(1, 2).expand(1, 2).masked_fill_(ac.tensor(True), 1)   # nothing shared


def test_fill_through_expanded_view_records_history_but_refuses_backward():
    results = []
    for M in (ac, pytest.importorskip("torch")):
        w = M.tensor([[1.0, 2.0]], requires_grad=True)
        x = w * 1
        x.expand(2, 2).zero_()
        results.append((x.tolist(), x.grad_fn.name()))
        with pytest.raises(RuntimeError, match=OVERLAP):
            (x * M.tensor([3.0, 4.0])).sum().backward()
    assert results[0] == results[1] == ([[0.0, 0.0]], "torch::autograd::CopySlices")


def test_fill_through_view_without_overlap_still_backpropagates():
    w = ac.tensor([[1.0, 2.0]], requires_grad=True)
    x = w * 1
    x.expand(1, 2).fill_(5)
    x[:, :1].mul_(3)
    (x * ac.tensor([3.0, 4.0])).sum().backward()
    assert x.tolist() == [[15.0, 5.0]] and w.grad.tolist() == [[0.0, 0.0]]


# -- binary_cross_entropy's gradient at 0 and 1 ------------------------------------------------

BCE_X = [0.0, 1.0, 0.0, 1.0, 0.5, 1e-30]
BCE_T = [0.0, 1.0, 1.0, 0.0, 0.25, 1.0]


def _bce_grads(M, dtype, reduction="sum", weight=None):
    x = M.tensor(BCE_X, dtype=getattr(M, dtype), requires_grad=True)
    t = M.tensor(BCE_T, dtype=getattr(M, dtype), requires_grad=True)
    w = None if weight is None else M.tensor(weight, dtype=getattr(M, dtype))
    loss = M.nn.functional.binary_cross_entropy(x, t, weight=w, reduction=reduction)
    loss.backward()
    return loss.item(), x.grad.tolist(), t.grad.tolist()


def test_binary_cross_entropy_gradient_is_finite_at_0_and_1():
    loss, gx, gt = _bce_grads(ac, "float64")
    assert loss == pytest.approx(2 * 100 + 69.07755278982137 - 0.25 * np.log(0.5)
                                 - 0.75 * np.log(0.5))
    eps_quotient = 1 / 1e-12
    assert gx[:2] == [0.0, 0.0]
    assert gx[2:4] == pytest.approx([-eps_quotient, eps_quotient])
    assert gx[4] == 1.0 and gx[5] == pytest.approx(-eps_quotient)
    assert gt[:4] == [np.inf, -np.inf, np.inf, -np.inf]       # -logit(x), unclamped


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_binary_cross_entropy_gradient_matches_torch(dtype, reduction):
    torch = pytest.importorskip("torch")

    def grads(M):
        x = M.tensor(BCE_X, dtype=getattr(M, dtype), requires_grad=True)
        t = M.tensor(BCE_T, dtype=getattr(M, dtype), requires_grad=True)
        w = M.tensor([1.0, 2.0, 0.5, 1.0, 3.0, 1.0], dtype=getattr(M, dtype))
        loss = M.nn.functional.binary_cross_entropy(x, t, weight=w, reduction=reduction)
        loss.backward(M.ones(loss.shape, dtype=loss.dtype))
        return [np.array(v.detach().tolist(), dtype=np.float64) for v in (loss, x.grad, t.grad)]

    tol = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-12}[dtype]
    for ours, theirs in zip(grads(ac), grads(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=0, equal_nan=True)


def test_binary_cross_entropy_double_backward_matches_torch():
    torch = pytest.importorskip("torch")
    out = []
    for M in (ac, torch):
        x = M.tensor([0.2, 0.7, 0.0], dtype=M.float64, requires_grad=True)
        t = M.tensor([1.0, 0.0, 0.5], dtype=M.float64)
        g, = M.autograd.grad(M.nn.functional.binary_cross_entropy(x, t, reduction="sum"), x,
                             create_graph=True)
        gg, = M.autograd.grad(g[:2].sum(), x)
        out.append((g.tolist(), gg.tolist()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    # torch's second derivative adds 1e-12 to x and 1 - x, which moves it by about 1e-11
    np.testing.assert_allclose(out[0][1][:2], out[1][1][:2], rtol=1e-9)


# -- backward of 0-d tensors (float16 gradients are summed by numpy) ---------------------------

ZERO_D = {
    "leaky_relu": lambda M, x: M.nn.functional.leaky_relu(x),
    "silu": lambda M, x: M.nn.functional.silu(x),
    "binary_cross_entropy": lambda M, x: M.nn.functional.binary_cross_entropy(x.sigmoid(),
                                                                              x.sigmoid() * 0),
    "binary_cross_entropy_with_logits": lambda M, x: (
        M.nn.functional.binary_cross_entropy_with_logits(x, x.detach() * 0 + 1)),
    "smooth_l1_loss": lambda M, x: M.nn.functional.smooth_l1_loss(x, x.detach() * 0),
    "huber_loss": lambda M, x: M.nn.functional.huber_loss(x, x.detach() * 0),
    "mse_loss": lambda M, x: M.nn.functional.mse_loss(x, x.detach() * 0),
    "where": lambda M, x: M.where(x > 0, x, x * 2),
    "x_times_x": lambda M, x: x * x,
    "x_plus_exp_x": lambda M, x: x + x.exp(),
    "gelu": lambda M, x: M.nn.functional.gelu(x),
    "softmax": lambda M, x: x.softmax(0) + x,
}


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("op", sorted(ZERO_D))
def test_backward_of_0d_input(op, dtype):
    x = ac.tensor(0.5, dtype=getattr(ac, dtype), requires_grad=True)
    ZERO_D[op](ac, x).backward()
    assert x.grad.shape == () and x.grad.dtype is getattr(ac, dtype)
    assert np.isfinite(x.grad.item())


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("op", sorted(ZERO_D))
def test_backward_of_0d_input_matches_torch(op, dtype):
    torch = pytest.importorskip("torch")
    grads = []
    for M in (ac, torch):
        x = M.tensor(0.5, dtype=getattr(M, dtype), requires_grad=True)
        ZERO_D[op](M, x).backward()
        grads.append(x.grad.item())
    assert grads[0] == pytest.approx(grads[1], rel=1e-3 if dtype == "float16" else 1e-6)
