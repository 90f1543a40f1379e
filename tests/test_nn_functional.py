"""autograd_c.nn.functional: values, errors and input gradients against torch 2.13 (when it is
installed), gradcheck in float64, and a few torch-free tests with literal expected values."""
import math
import warnings

import numpy as np
import pytest

import autograd_c as ac
from autograd_c.autograd import gradcheck
from autograd_c.nn import functional as F

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the torch-free tests still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")

REDUCTIONS = ["mean", "sum", "none"]


def rng(seed=0):
    return np.random.default_rng(seed)


def pair(arr, requires_grad=True):
    """The same data as an autograd_c tensor and a torch tensor (leaves)."""
    arr = np.array(arr)
    a = ac.tensor(arr.tolist(), dtype=_ac_dtype(arr.dtype), requires_grad=requires_grad)
    t = torch.tensor(arr, requires_grad=requires_grad)
    return a, t


def _ac_dtype(dt):
    return {np.dtype("float64"): ac.float64, np.dtype("float32"): ac.float32,
            np.dtype("int64"): ac.int64, np.dtype("bool"): ac.bool}[np.dtype(dt)]


def close(a, t, rtol=1e-7, atol=1e-9):
    an = np.asarray(a.detach().numpy() if isinstance(a, ac.Tensor) else a)
    tn = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    assert tuple(an.shape) == tuple(tn.shape), (an.shape, tn.shape)
    np.testing.assert_allclose(an, tn, rtol=rtol, atol=atol)


def compare(fn_ac, fn_th, float_inputs, other_ac=(), other_th=(), rtol=1e-7, atol=1e-9):
    """Run both on the same float64 inputs; compare outputs and the gradients of every float
    input (backward of a fixed random cotangent, so 'none' reductions are covered too)."""
    a_in, t_in = zip(*[pair(x) for x in float_inputs])
    out_a = fn_ac(*a_in, *other_ac)
    out_t = fn_th(*t_in, *other_th)
    close(out_a, out_t, rtol, atol)
    cot = rng(99).standard_normal(tuple(out_t.shape))
    out_a.backward(ac.tensor(cot.tolist() if cot.ndim else float(cot), dtype=ac.float64))
    out_t.backward(torch.tensor(cot))
    for a, t in zip(a_in, t_in):
        if t.grad is None:
            assert a.grad is None or np.allclose(a.grad.numpy(), 0)
        else:
            close(a.grad, t.grad, rtol, atol)


def randn(*shape, seed=0):
    return rng(seed).standard_normal(shape)


# ---------------------------------------------------------------------------------------------
# torch-free tests with literal values
# ---------------------------------------------------------------------------------------------

def test_cross_entropy_literal():
    x = ac.tensor([[0.0, 0.0], [math.log(3.0), 0.0]], dtype=ac.float64, requires_grad=True)
    t = ac.tensor([0, 1])
    loss = F.cross_entropy(x, t)
    # row 0: -log(1/2); row 1: -log(1/4)
    assert loss.item() == pytest.approx((math.log(2) + math.log(4)) / 2, rel=1e-12)
    loss.backward()
    expected = [[(0.5 - 1) / 2, 0.5 / 2], [0.75 / 2, (0.25 - 1) / 2]]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
    assert F.cross_entropy(x, t, reduction="sum").item() == pytest.approx(math.log(8), rel=1e-12)
    assert F.cross_entropy(x, ac.tensor([0, -100])).item() == pytest.approx(math.log(2), rel=1e-12)


def test_nll_weighted_mean_literal():
    logp = ac.tensor([[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]], dtype=ac.float64)
    w = ac.tensor([1.0, 2.0, 3.0], dtype=ac.float64)
    t = ac.tensor([2, 1])
    # (3*3 + 2*5) / (3 + 2)
    assert F.nll_loss(logp, t, weight=w).item() == pytest.approx(19 / 5, rel=1e-12)
    assert F.nll_loss(logp, t, weight=w, reduction="none").tolist() == [9.0, 10.0]


def test_simple_losses_literal():
    x = ac.tensor([0.0, 1.0, 4.0], dtype=ac.float64)
    y = ac.tensor([0.5, 1.0, 1.0], dtype=ac.float64)
    assert F.mse_loss(x, y).item() == pytest.approx((0.25 + 0 + 9) / 3)
    assert F.l1_loss(x, y, reduction="sum").item() == pytest.approx(3.5)
    assert F.smooth_l1_loss(x, y, reduction="none").tolist() == pytest.approx([0.125, 0.0, 2.5])
    assert F.huber_loss(x, y, delta=2.0, reduction="none").tolist() == pytest.approx(
        [0.125, 0.0, 2.0 * (3 - 1.0)])
    p = ac.tensor([0.5, 0.0], dtype=ac.float64)
    q = ac.tensor([1.0, 1.0], dtype=ac.float64)
    # log(0) is clamped at -100
    assert F.binary_cross_entropy(p, q, reduction="none").tolist() == pytest.approx(
        [math.log(2), 100.0])
    z = ac.tensor([0.0, 1000.0, -1000.0], dtype=ac.float64)
    out = F.binary_cross_entropy_with_logits(z, ac.tensor([1.0, 1.0, 0.0], dtype=ac.float64),
                                             reduction="none")
    assert out.tolist() == pytest.approx([math.log(2), 0.0, 0.0])


def test_activations_literal():
    x = ac.tensor([-1.0, 0.0, 2.0], dtype=ac.float64)
    assert F.relu(x).tolist() == [0.0, 0.0, 2.0]
    assert F.leaky_relu(x, 0.1).tolist() == pytest.approx([-0.1, 0.0, 2.0])
    assert F.gelu(x).tolist() == pytest.approx(
        [-0.15865525393145707, 0.0, 1.9544997361036416], rel=1e-12)
    assert F.one_hot(ac.tensor([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert F.one_hot(ac.tensor([0, 2])).dtype == ac.int64
    assert F.pad(ac.tensor([[1.0]]), (1, 0, 0, 1), value=7.0).tolist() == [[7.0, 1.0], [7.0, 7.0]]
    assert F.linear(ac.tensor([[1.0, 2.0]]), ac.tensor([[3.0, 4.0]]),
                    ac.tensor([0.5])).tolist() == [[11.5]]


def test_invalid_reduction_and_errors():
    x = ac.zeros(2, 3)
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        F.mse_loss(x, x, reduction="bogus")
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        F.cross_entropy(x, ac.tensor([0, 1]), reduction="bogus")
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)
    with pytest.raises(RuntimeError, match="Class values must be non-negative."):
        F.one_hot(ac.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        F.one_hot(ac.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        F.one_hot(ac.tensor([1.0]))
    with pytest.raises(IndexError, match="Target 3 is out of bounds."):
        F.nll_loss(x, ac.tensor([0, 3]))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(x, ac.zeros(3))
    with pytest.raises(ValueError, match="that is different to the input size"):
        F.binary_cross_entropy(x, ac.zeros(3))
    with pytest.warns(UserWarning, match="Using a target size .* that is different to the input size"):
        F.mse_loss(x, ac.zeros(3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        F.softmax(x)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1,))


def test_dropout_mask_and_scale():
    ac.manual_seed(0)
    x = ac.ones(1000, dtype=ac.float64, requires_grad=True)
    y = F.dropout(x, 0.25)
    vals = set(np.round(y.detach().numpy(), 12).tolist())
    assert vals <= {0.0, round(1 / 0.75, 12)}
    assert 0.15 < float((y == 0).double().mean()) < 0.35
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 1.0).sum().item() == 0.0
    z = ac.ones(4)
    out = F.dropout(z, 0.5, inplace=True)
    assert out is z


def test_relu_inplace():
    x = ac.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x
    assert x.tolist() == [0.0, 2.0]
    leaf = ac.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        F.relu(leaf, inplace=True)
    leaf = ac.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    h = leaf * 2
    out = F.relu(h, inplace=True)
    (out * ac.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert leaf.grad.tolist() == [0.0, 4.0, 6.0]


# ---------------------------------------------------------------------------------------------
# gradcheck (float64, torch-free)
# ---------------------------------------------------------------------------------------------

def _leaf(arr):
    return ac.tensor(np.asarray(arr).tolist(), dtype=ac.float64, requires_grad=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_losses(reduction):
    r = rng(1)
    x, y = _leaf(r.standard_normal((3, 4))), _leaf(r.standard_normal((3, 4)))
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), (x, y))
    assert gradcheck(lambda a, b: F.l1_loss(a, b, reduction=reduction), (x, y))
    assert gradcheck(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=0.7), (x, y))
    assert gradcheck(lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=0.6), (x, y))
    logits = _leaf(r.standard_normal((5, 3)))
    t = ac.tensor([0, 2, 1, -100, 2])
    w = ac.tensor(r.uniform(0.5, 2.0, 3).tolist(), dtype=ac.float64)  # not differentiable
    assert gradcheck(lambda a: F.nll_loss(a.log_softmax(1), t, reduction=reduction), (logits,))
    assert gradcheck(lambda a: F.nll_loss(a.log_softmax(1), t, weight=w, reduction=reduction),
                     (logits,))
    assert gradcheck(lambda a: F.cross_entropy(a, t, weight=w, reduction=reduction,
                                               label_smoothing=0.2), (logits,))
    x3 = _leaf(r.standard_normal((2, 3, 2, 2)))
    t3 = ac.tensor(r.integers(0, 3, (2, 2, 2)).tolist())
    assert gradcheck(lambda a: F.cross_entropy(a, t3, reduction=reduction), (x3,))
    probs = _leaf(r.dirichlet(np.ones(3), 5))
    assert gradcheck(lambda a, p: F.cross_entropy(a, p, reduction=reduction), (logits, probs))
    p = _leaf(r.uniform(0.1, 0.9, (3, 4)))
    q = _leaf(r.uniform(0, 1, (3, 4)))
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), (p, q))
    pw = _leaf(r.uniform(0.5, 2, 4))
    assert gradcheck(lambda a, b, c: F.binary_cross_entropy_with_logits(
        a, b, reduction=reduction, pos_weight=c), (x, q, pw))


def test_gelu_scalar_and_nonfinite():
    x = ac.tensor(-2.0, dtype=ac.float64, requires_grad=True)
    y = F.gelu(x)
    assert y.shape == ()
    assert y.item() == pytest.approx(-0.04550026389635842, rel=1e-12)
    y.backward()
    assert x.grad.shape == ()
    assert x.grad.item() == pytest.approx(-0.08523180107819767, rel=1e-10)
    z = ac.tensor([float("inf"), 1.0], dtype=ac.float64, requires_grad=True)
    out = F.gelu(z)
    assert out.tolist()[0] == float("inf")
    out.sum().backward()
    assert z.grad.tolist()[1] == pytest.approx(1.0833154705876864, rel=1e-12)


def test_gradcheck_activations():
    r = rng(2)
    x = _leaf(r.standard_normal((3, 4)))
    for fn in (F.relu, F.silu, F.sigmoid, F.tanh, lambda a: F.leaky_relu(a, 0.2),
               F.gelu, lambda a: F.gelu(a, approximate="tanh"),
               lambda a: F.softmax(a, 1), lambda a: F.log_softmax(a, 0),
               lambda a: F.pad(a, (1, 2, -1, 1), value=3.0)):
        assert gradcheck(fn, (x,))
    w, b = _leaf(r.standard_normal((2, 4))), _leaf(r.standard_normal(2))
    assert gradcheck(F.linear, (x, w, b))
    idx = ac.tensor([[0, 2], [1, 0]])
    assert gradcheck(lambda ww: F.embedding(idx, ww), (x,))


# ---------------------------------------------------------------------------------------------
# torch oracle comparisons
# ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("name", ["relu", "silu", "sigmoid", "tanh", "leaky_relu", "gelu",
                                  "gelu_tanh"])
def test_activations_vs_torch(name):
    x = randn(4, 5, seed=3)
    if name == "leaky_relu":
        compare(lambda a: F.leaky_relu(a, 0.3), lambda t: TF.leaky_relu(t, 0.3), [x])
        compare(F.leaky_relu, TF.leaky_relu, [x])
    elif name == "gelu":
        compare(F.gelu, TF.gelu, [x], rtol=1e-12, atol=1e-14)
    elif name == "gelu_tanh":
        compare(lambda a: F.gelu(a, approximate="tanh"),
                lambda t: TF.gelu(t, approximate="tanh"), [x])
    else:
        compare(getattr(F, name), getattr(TF, name), [x])


@needs_torch
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 3, 2, 2)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_vs_torch(name, shape):
    x = randn(*shape, seed=4)
    for dim in range(len(shape)):
        compare(lambda a: getattr(F, name)(a, dim), lambda t: getattr(TF, name)(t, dim), [x])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(lambda a: getattr(F, name)(a), lambda t: getattr(TF, name)(t), [x])
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been "
                                         "deprecated. Change the call to include dim=X"):
        getattr(F, name)(ac.zeros(*shape))


@needs_torch
def test_softmax_dtype_vs_torch():
    x = randn(3, 4, seed=5).astype(np.float32)
    a = ac.tensor(x.tolist(), dtype=ac.float32)
    out = F.softmax(a, 1, dtype=ac.float64)
    assert out.dtype == ac.float64
    close(out, TF.softmax(torch.tensor(x), 1, dtype=torch.float64), rtol=1e-6)


@needs_torch
def test_linear_vs_torch():
    x, w, b = randn(3, 4, seed=6), randn(5, 4, seed=7), randn(5, seed=8)
    compare(F.linear, TF.linear, [x, w, b])
    compare(F.linear, TF.linear, [x, w])
    compare(F.linear, TF.linear, [randn(2, 3, 4, seed=9), w, b])


@needs_torch
def test_one_hot_vs_torch():
    t = np.array([[0, 3], [1, 1]])
    assert F.one_hot(ac.tensor(t.tolist())).tolist() == TF.one_hot(torch.tensor(t)).tolist()
    assert F.one_hot(ac.tensor(t.tolist()), 6).tolist() == TF.one_hot(torch.tensor(t), 6).tolist()
    for bad, kw in (([-1], {}), ([4], {"num_classes": 3})):
        with pytest.raises(RuntimeError) as ours:
            F.one_hot(ac.tensor(bad), **kw)
        with pytest.raises(RuntimeError) as theirs:
            TF.one_hot(torch.tensor(bad), **kw)
        assert str(ours.value) in str(theirs.value)


@needs_torch
@pytest.mark.parametrize("padding", [(1, 2), (0, 1, 2, 0), (-1, 2, 1, -1), (1, 1, 1, 1, 1, 1)])
def test_pad_vs_torch(padding):
    x = randn(2, 3, 4, seed=10)
    compare(lambda a: F.pad(a, padding), lambda t: TF.pad(t, padding), [x])
    compare(lambda a: F.pad(a, padding, value=-2.5), lambda t: TF.pad(t, padding, value=-2.5), [x])


@needs_torch
def test_embedding_vs_torch():
    w = randn(6, 3, seed=11)
    idx = np.array([[0, 5, 2], [2, 2, 1]])
    compare(lambda a: F.embedding(ac.tensor(idx.tolist()), a),
            lambda t: TF.embedding(torch.tensor(idx), t), [w])
    compare(lambda a: F.embedding(ac.tensor(idx.tolist()), a, padding_idx=2),
            lambda t: TF.embedding(torch.tensor(idx), t, padding_idx=2), [w])


@needs_torch
def test_dropout_eval_and_errors_vs_torch():
    x = randn(3, 3, seed=12)
    compare(lambda a: F.dropout(a, 0.3, training=False),
            lambda t: TF.dropout(t, 0.3, training=False), [x])
    for p in (-0.1, 1.1):
        with pytest.raises(ValueError) as ours:
            F.dropout(ac.zeros(2), p)
        with pytest.raises(ValueError) as theirs:
            TF.dropout(torch.zeros(2), p)
        assert str(ours.value) == str(theirs.value)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_losses_vs_torch(name, reduction):
    x, y = randn(3, 4, seed=13), randn(3, 4, seed=14)
    compare(lambda a, b: getattr(F, name)(a, b, reduction=reduction),
            lambda a, b: getattr(TF, name)(a, b, reduction=reduction), [x, y])
    if name == "smooth_l1_loss":
        for beta in (0.3, 2.0, 0.0):
            compare(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
                    lambda a, b: TF.smooth_l1_loss(a, b, reduction=reduction, beta=beta), [x, y])
    if name == "huber_loss":
        for delta in (0.3, 2.0):
            compare(lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=delta),
                    lambda a, b: TF.huber_loss(a, b, reduction=reduction, delta=delta), [x, y])
    if name in ("mse_loss", "l1_loss", "huber_loss"):
        w = randn(3, 4, seed=15) ** 2
        compare(lambda a, b: getattr(F, name)(a, b, reduction=reduction, weight=ac.tensor(w.tolist(), dtype=ac.float64)),
                lambda a, b: getattr(TF, name)(a, b, reduction=reduction, weight=torch.tensor(w)),
                [x, y])


@needs_torch
def test_mse_loss_size_warning_vs_torch():
    x, y = randn(3, 1, seed=16), randn(3, seed=17)
    with pytest.warns(UserWarning) as ours:
        out_a = F.mse_loss(*[pair(v)[0] for v in (x, y)])
    with pytest.warns(UserWarning) as theirs:
        out_t = TF.mse_loss(torch.tensor(x), torch.tensor(y))
    close(out_a, out_t)
    norm = lambda s: str(s).replace("autograd_c.", "torch.")
    assert norm(ours[0].message) == norm(theirs[0].message)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 3, 2)])
def test_nll_loss_vs_torch(shape, weighted, reduction):
    r = rng(18)
    x = np.log(r.dirichlet(np.ones(shape[1]), int(np.prod(shape)) // shape[1]))
    x = np.moveaxis(x.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1).copy()
    tshape = (shape[0],) + shape[2:]
    t = r.integers(0, shape[1], tshape)
    t.reshape(-1)[::3] = -100          # some ignored targets
    w = r.uniform(0.2, 3.0, shape[1])
    wa = ac.tensor(w.tolist(), dtype=ac.float64) if weighted else None
    wt = torch.tensor(w) if weighted else None
    compare(lambda a: F.nll_loss(a, ac.tensor(t.tolist()), weight=wa, reduction=reduction),
            lambda b: TF.nll_loss(b, torch.tensor(t), weight=wt, reduction=reduction), [x])
    t2 = np.where(t == -100, 1, t)
    compare(lambda a: F.nll_loss(a, ac.tensor(t2.tolist()), weight=wa, ignore_index=1,
                                 reduction=reduction),
            lambda b: TF.nll_loss(b, torch.tensor(t2), weight=wt, ignore_index=1,
                                  reduction=reduction), [x])


@needs_torch
def test_nll_loss_1d_vs_torch():
    x = randn(4, seed=19)
    compare(lambda a: F.nll_loss(a, ac.tensor(2)), lambda b: TF.nll_loss(b, torch.tensor(2)), [x])


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 3, 2)])
def test_cross_entropy_indices_vs_torch(shape, smoothing, weighted, reduction):
    r = rng(20)
    x = r.standard_normal(shape) * 2
    t = r.integers(0, shape[1], (shape[0],) + shape[2:])
    t.reshape(-1)[1::4] = -100
    w = r.uniform(0.2, 3.0, shape[1])
    wa = ac.tensor(w.tolist(), dtype=ac.float64) if weighted else None
    wt = torch.tensor(w) if weighted else None
    compare(lambda a: F.cross_entropy(a, ac.tensor(t.tolist()), weight=wa, reduction=reduction,
                                      label_smoothing=smoothing),
            lambda b: TF.cross_entropy(b, torch.tensor(t), weight=wt, reduction=reduction,
                                       label_smoothing=smoothing), [x])
    t2 = np.where(t == -100, 0, t)
    compare(lambda a: F.cross_entropy(a, ac.tensor(t2.tolist()), weight=wa, ignore_index=0,
                                      reduction=reduction, label_smoothing=smoothing),
            lambda b: TF.cross_entropy(b, torch.tensor(t2), weight=wt, ignore_index=0,
                                       reduction=reduction, label_smoothing=smoothing), [x])


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5)])
def test_cross_entropy_probs_vs_torch(shape, smoothing, weighted, reduction):
    r = rng(21)
    x = r.standard_normal(shape)
    p = np.moveaxis(r.dirichlet(np.ones(shape[1]), int(np.prod(shape)) // shape[1])
                    .reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1).copy()
    w = r.uniform(0.2, 3.0, shape[1])
    wa = ac.tensor(w.tolist(), dtype=ac.float64) if weighted else None
    wt = torch.tensor(w) if weighted else None
    compare(lambda a, b: F.cross_entropy(a, b, weight=wa, reduction=reduction,
                                         label_smoothing=smoothing),
            lambda a, b: TF.cross_entropy(a, b, weight=wt, reduction=reduction,
                                          label_smoothing=smoothing), [x, p])


@needs_torch
def test_cross_entropy_1d_vs_torch():
    x = randn(5, seed=22)
    compare(lambda a: F.cross_entropy(a, ac.tensor(3)),
            lambda b: TF.cross_entropy(b, torch.tensor(3)), [x])
    compare(lambda a: F.cross_entropy(a, ac.tensor(3), label_smoothing=0.1),
            lambda b: TF.cross_entropy(b, torch.tensor(3), label_smoothing=0.1), [x])


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_vs_torch(weighted, reduction):
    r = rng(23)
    x = r.uniform(0.02, 0.98, (3, 4))
    y = r.uniform(0, 1, (3, 4))
    w = r.uniform(0.2, 2, (3, 4))
    wa = ac.tensor(w.tolist(), dtype=ac.float64) if weighted else None
    wt = torch.tensor(w) if weighted else None
    compare(lambda a, b: F.binary_cross_entropy(a, b, weight=wa, reduction=reduction),
            lambda a, b: TF.binary_cross_entropy(a, b, weight=wt, reduction=reduction), [x, y])


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos", [False, True])
def test_bce_with_logits_vs_torch(pos, weighted, reduction):
    r = rng(24)
    x = r.standard_normal((3, 4)) * 5
    x[0, 0], x[0, 1] = 60.0, -60.0
    y = r.uniform(0, 1, (3, 4))
    w = r.uniform(0.2, 2, (3, 4))
    pw = r.uniform(0.2, 3, 4)
    wa = ac.tensor(w.tolist(), dtype=ac.float64) if weighted else None
    wt = torch.tensor(w) if weighted else None
    pa = ac.tensor(pw.tolist(), dtype=ac.float64) if pos else None
    pt = torch.tensor(pw) if pos else None
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=wa, reduction=reduction,
                                                            pos_weight=pa),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, weight=wt, reduction=reduction,
                                                             pos_weight=pt), [x, y])


@needs_torch
def test_loss_error_messages_vs_torch():
    cases = [
        (lambda m, T: m.mse_loss(T.zeros(2), T.zeros(2), reduction="avg"), ValueError),
        (lambda m, T: m.nll_loss(T.zeros(2, 3), T.tensor([0, 5])), IndexError),
        (lambda m, T: m.binary_cross_entropy_with_logits(T.zeros(2), T.zeros(3)), ValueError),
        (lambda m, T: m.smooth_l1_loss(T.zeros(2), T.zeros(2), beta=-1.0), RuntimeError),
        (lambda m, T: m.pad(T.zeros(2), (1, 2, 3)), RuntimeError),
        (lambda m, T: m.pad(T.zeros(2), (1, 1, 1, 1)), RuntimeError),
        (lambda m, T: m.nll_loss(T.zeros(2, 3), T.tensor([0, 1], dtype=T.int32)), RuntimeError),
        (lambda m, T: m.cross_entropy(T.zeros(2, 3), T.zeros(2)), RuntimeError),
        (lambda m, T: m.cross_entropy(T.zeros(2, 3), T.zeros(2, 2)), RuntimeError),
        (lambda m, T: m.nll_loss(T.zeros(2, 3, 4), T.zeros(2, 3, dtype=T.int64)), RuntimeError),
        (lambda m, T: m.nll_loss(T.zeros(2, 3), T.tensor([0, 1, 2])), ValueError),
        (lambda m, T: m.cross_entropy(T.zeros(2, 3), T.tensor([0, 1]), weight=T.ones(2)),
         RuntimeError),
        (lambda m, T: m.huber_loss(T.zeros(2), T.zeros(2), delta=0.0), RuntimeError),
        (lambda m, T: m.mse_loss(T.zeros(2), T.zeros(2), weight=T.ones(3)), ValueError),
        (lambda m, T: m.l1_loss(T.zeros(2), T.zeros(2), weight=T.ones(2), reduction="x"),
         ValueError),
        (lambda m, T: m.binary_cross_entropy(T.tensor([1.5]), T.tensor([1.0])), RuntimeError),
        (lambda m, T: m.one_hot(T.zeros(0, dtype=T.int64)), RuntimeError),
        (lambda m, T: m.gelu(T.zeros(2), approximate="x"), RuntimeError),
        (lambda m, T: m.gelu(T.zeros(2, dtype=T.int64)), RuntimeError),
    ]
    for fn, exc in cases:
        with pytest.raises(exc) as ours:
            fn(F, ac)
        with pytest.raises(exc) as theirs:
            fn(TF, torch)
        assert str(ours.value).replace("autograd_c.", "torch.") == str(theirs.value)


@needs_torch
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "silu", "dropout0"])
def test_inplace_activations_vs_torch(name):
    x = randn(3, 4, seed=25)
    kw = {"leaky_relu": {"negative_slope": 0.2}, "dropout0": {"p": 0.0}}.get(name, {})
    fname = "dropout" if name == "dropout0" else name

    def run(m, T):
        def fn(a):
            h = a * 2
            out = getattr(m, fname)(h, inplace=True, **kw)
            assert out is h
            return out
        return fn
    compare(run(F, ac), run(TF, torch), [x])
    leaf = ac.zeros(2, requires_grad=True)
    if name != "dropout0":
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            getattr(F, fname)(leaf, inplace=True, **kw)
    plain = ac.tensor([-1.0, 2.0])
    expected = getattr(TF, fname)(torch.tensor([-1.0, 2.0]), **kw)
    assert getattr(F, fname)(plain, inplace=True, **kw) is plain
    close(plain, expected, rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_legacy_reduction_args_vs_torch(size_average, reduce):
    x, y = randn(3, 4, seed=26), randn(3, 4, seed=27)
    t = np.array([0, 3, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(lambda a, b: F.mse_loss(a, b, size_average=size_average, reduce=reduce),
                lambda a, b: TF.mse_loss(a, b, size_average=size_average, reduce=reduce), [x, y])
        compare(lambda a: F.cross_entropy(a, ac.tensor(t.tolist()), size_average=size_average,
                                          reduce=reduce),
                lambda a: TF.cross_entropy(a, torch.tensor(t), size_average=size_average,
                                           reduce=reduce), [x])
    if size_average is not None or reduce is not None:
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            F.l1_loss(ac.zeros(2), ac.zeros(2), size_average=size_average, reduce=reduce)


@needs_torch
def test_gelu_float32_vs_torch():
    x = randn(50, seed=28).astype(np.float32) * 4
    a = ac.tensor(x.tolist(), dtype=ac.float32, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    out_a, out_t = F.gelu(a), TF.gelu(t)
    assert out_a.dtype == ac.float32
    close(out_a, out_t, rtol=1e-6, atol=1e-6)
    out_a.sum().backward()
    out_t.sum().backward()
    close(a.grad, t.grad, rtol=1e-6, atol=1e-6)


# -- linear as one node, relu_ -------------------------------------------------------------------

def _graph_names(fn):
    """(name, next names) of a grad_fn, None for missing edges."""
    return fn.name(), tuple(None if f is None else f.name() for f, _ in fn.next_functions)


LINEAR_CASES = [  # x shape, with bias, which inputs require grad
    ((5, 3), True, "xwb"), ((5, 3), False, "xw"), ((5, 3), True, "wb"), ((5, 3), True, "x"),
    ((2, 5, 3), True, "xwb"), ((3,), True, "xwb"), ((0, 3), True, "xwb"),
]


@needs_torch
@pytest.mark.parametrize("shape, with_bias, needs", LINEAR_CASES)
def test_linear_graph_values_and_gradients_match_torch(shape, with_bias, needs):
    r = rng(7)
    arrays = {"x": r.standard_normal(shape), "w": r.standard_normal((4, 3)),
              "b": r.standard_normal(4)}
    results = []
    for lib, fn in ((ac, F.linear), (torch, TF.linear)):
        t = {k: lib.tensor(v, requires_grad=k in needs) for k, v in arrays.items()}
        y = fn(t["x"], t["w"], t["b"] if with_bias else None)
        (y * y).sum().backward()
        grads = [t[k].grad.numpy() for k in "xwb" if k in needs and (k != "b" or with_bias)]
        results.append((y.detach().numpy(), grads, _graph_names(y.grad_fn)))
    (ours_y, ours_g, ours_graph), (their_y, their_g, their_graph) = results
    np.testing.assert_allclose(ours_y, their_y, rtol=1e-12, atol=1e-12)
    for a, b in zip(ours_g, their_g):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert ours_graph == their_graph


def test_linear_weight_gradient_arrives_contiguous():
    # the leaf gets (g.T @ x), not a transposed view that AccumulateGrad would have to copy
    lin = ac.nn.Linear(3, 4)
    lin(ac.randn(5, 3)).sum().backward()
    assert lin.weight.grad.is_contiguous()
    np.testing.assert_allclose(lin.bias.grad.numpy(), np.full(4, 5.0))


def test_linear_gradcheck_float64():
    x = ac.randn(4, 3, dtype=ac.float64, requires_grad=True)
    w = ac.randn(2, 3, dtype=ac.float64, requires_grad=True)
    b = ac.randn(2, dtype=ac.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), (x, w, b))
    assert gradcheck(lambda x, w: F.linear(x, w), (x, w))


def test_linear_keeps_the_weight_version_check():
    w = ac.randn(2, 3, requires_grad=True)
    x = ac.randn(4, 3, requires_grad=True)
    y = F.linear(x, w)
    with ac.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@needs_torch
def test_linear_errors_match_torch():
    for x_shape, w_shape, dtypes in [((5, 3), (4, 2), None), ((5, 3), (4, 3), ("f8", "f4"))]:
        errors = []
        for lib, fn in ((ac, F.linear), (torch, TF.linear)):
            x = lib.tensor(np.ones(x_shape, dtype=dtypes[0] if dtypes else "f4"))
            w = lib.tensor(np.ones(w_shape, dtype=dtypes[1] if dtypes else "f4"))
            with pytest.raises(RuntimeError) as info:
                fn(x, w)
            errors.append(str(info.value))
        assert errors[0] == errors[1]


@needs_torch
def test_relu_inplace_is_relu_backward_like_torch():
    arr = rng(2).standard_normal((3, 4))
    out = []
    for lib, fn in ((ac, F.relu), (torch, TF.relu)):
        x = lib.tensor(arr, requires_grad=True)
        h = x * 2
        y = fn(h, inplace=True)
        assert y is h
        (y * y).sum().backward()
        out.append((y.grad_fn.name(), x.grad.numpy(), h._version))
    assert out[0][0] == out[1][0] == "ReluBackward0"
    np.testing.assert_allclose(out[0][1], out[1][1])
    assert out[0][2] == out[1][2]


def test_relu_inplace_on_a_leaf_that_requires_grad_raises():
    x = ac.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.relu(x, inplace=True)
    with ac.no_grad():
        F.relu(x, inplace=True)
    assert (x.detach().numpy() >= 0).all()


# -- nll_loss's own node ---------------------------------------------------------------------

def test_cross_entropy_graph_is_nll_over_log_softmax():
    x = ac.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, ac.tensor([0, 2, 1, 1]))
    assert loss.grad_fn.name() == "NllLossBackward0"
    (child, _), = loss.grad_fn.next_functions
    assert child.name() == "LogSoftmaxBackward0"
    spatial = F.nll_loss(ac.randn(2, 3, 4, 5, requires_grad=True), ac.zeros(2, 4, 5).long())
    assert spatial.grad_fn.name() == "NllLoss2DBackward0"


def test_nll_loss_weight_is_not_differentiable():
    x = ac.randn(4, 3, requires_grad=True)
    w = ac.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="The function 'nll_loss_forward' is not differentiable "
                                           "with respect to argument 'weight'"):
        F.nll_loss(x, ac.tensor([0, 1, 2, 0]), weight=w)
    with ac.no_grad():                  # no graph, nothing to refuse
        assert F.nll_loss(x, ac.tensor([0, 1, 2, 0]), weight=w).item() == pytest.approx(
            -(x[0, 0] + x[1, 1] + x[2, 2] + x[3, 0]).item() / 4, rel=1e-6)


def test_nll_loss_bounds_are_checked_on_counted_targets_only():
    x = ac.randn(3, 4)
    with pytest.raises(IndexError, match=r"^Target 7 is out of bounds\.$"):
        F.nll_loss(x, ac.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match=r"^Target -3 is out of bounds\.$"):
        F.nll_loss(x, ac.tensor([0, -3, 1]))
    # an ignored target may be anything, in range or not
    assert F.nll_loss(x, ac.tensor([9, 1, 9]), ignore_index=9).item() == pytest.approx(
        -x[1, 1].item(), rel=1e-6)


def test_nll_loss_target_and_input_dtypes():
    x = ac.randn(3, 4)
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
        F.nll_loss(x, ac.tensor([0, 1, 2], dtype=ac.int32))
    with pytest.raises(RuntimeError, match="but got Float"):
        F.nll_loss(x, ac.tensor([0.0, 1.0, 2.0]))
    byte = F.nll_loss(x, ac.tensor([0, 1, 2], dtype=ac.uint8))
    assert byte.item() == pytest.approx(F.nll_loss(x, ac.tensor([0, 1, 2])).item(), rel=1e-6)
    with pytest.raises(NotImplementedError, match="\"nll_loss_out_frame\" not implemented for 'Long'"):
        F.nll_loss(ac.tensor([[1, 2], [3, 4]]), ac.tensor([0, 1]))
    half = ac.randn(3, 4).half().requires_grad_()
    out = F.nll_loss(half, ac.tensor([0, 1, 2]))
    out.backward()
    assert out.dtype == ac.float16 and half.grad.dtype == ac.float16
    assert half.grad.float().numpy()[[0, 1, 2], [0, 1, 2]] == pytest.approx([-1 / 3] * 3, rel=1e-3)


def test_nll_loss_all_ignored_and_zero_weights():
    x = ac.randn(3, 4, dtype=ac.float64, requires_grad=True)
    ignored = ac.tensor([-100, -100, -100])
    loss = F.nll_loss(x, ignored)
    assert math.isnan(loss.item())
    loss.backward()
    assert np.all(x.grad.numpy() == 0)            # nothing was picked, nothing flows back
    assert F.nll_loss(x, ignored, reduction="sum").item() == 0
    assert np.all(F.nll_loss(x, ignored, reduction="none").detach().numpy() == 0)
    # counted entries whose classes weigh 0: 0 / 0 in both the loss and the gradient, as torch
    x.grad = None
    zero_w = F.nll_loss(x, ac.tensor([1, 1, 1]), weight=ac.tensor([1.0, 0.0, 1.0, 1.0],
                                                                   dtype=ac.float64))
    zero_w.backward()
    assert math.isnan(zero_w.item()) and np.isnan(x.grad.numpy()[:, 1]).all()


def test_nll_loss_none_keeps_ignored_entries_out_of_the_gradient():
    x = ac.randn(3, 4, dtype=ac.float64, requires_grad=True)
    per_sample = F.nll_loss(x, ac.tensor([2, -100, 0]), reduction="none")
    per_sample.backward(ac.tensor([1.0, float("inf"), 2.0], dtype=ac.float64))
    expected = np.zeros((3, 4))
    expected[0, 2], expected[2, 0] = -1.0, -2.0
    assert np.array_equal(x.grad.numpy(), expected)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_training_shapes_vs_torch(dtype):
    """The classifier case every training step takes: (N, C) logits, class indices, mean."""
    r = rng(23)
    x = r.standard_normal((64, 10)).astype(dtype) * 3
    t = r.integers(0, 10, 64)
    xa = ac.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    la, lt = F.cross_entropy(xa, ac.tensor(t)), TF.cross_entropy(xt, torch.tensor(t))
    la.backward()
    lt.backward()
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert la.dtype == getattr(ac, dtype)
    assert la.item() == pytest.approx(lt.item(), rel=tol)
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
