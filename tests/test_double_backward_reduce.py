"""Second derivatives through the reductions and the softmax family (create_graph=True):
gradgradcheck against finite differences, torch as the oracle, and first derivatives that do
not change when the pass records them."""
import numpy as np
import pytest

import autograd_c as ac
import autograd_c.nn.functional as AF

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = None
    TF = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")


def values(r):
    return r[0]         # (values, indices) of max/min along a dim


# name -> (node name, function of (library, F, x), input). Inputs are away from ties and kinks
# unless the case is about them.
def _rand(*shape, seed=0, low=-1.0, high=1.0):
    return np.random.RandomState(seed).uniform(low, high, shape)


_X = _rand(3, 4)
_POS = _rand(3, 4, seed=1, low=0.5, high=1.5)
_ONE_ZERO = _POS.copy()
_ONE_ZERO[1, 2] = 0.0
_TWO_ZEROS = _POS.copy()
_TWO_ZEROS[1, 0] = _TWO_ZEROS[1, 3] = 0.0
_ZERO_3D = _rand(2, 3, 2, seed=2, low=0.5, high=1.5)
_ZERO_3D[1, 1, 0] = 0.0
_TIES = np.array([[0.5, 2.0, -1.0], [2.0, 0.25, 2.0]])

CASES = {
    "sum": ("SumBackward0", lambda L, F, x: x.sum(), _X),
    "sum_dim": ("SumBackward1", lambda L, F, x: x.sum(1), _X),
    "sum_dims_keepdim": ("SumBackward1", lambda L, F, x: x.sum((0, 1), keepdim=True), _X),
    "mean": ("MeanBackward0", lambda L, F, x: x.mean(), _X),
    "mean_dim": ("MeanBackward1", lambda L, F, x: x.mean(0, keepdim=True), _X),
    "prod": ("ProdBackward0", lambda L, F, x: x.prod(), _POS),
    "prod_dim": ("ProdBackward1", lambda L, F, x: x.prod(1), _POS),
    "prod_dim0_keepdim": ("ProdBackward1", lambda L, F, x: x.prod(0, keepdim=True), _POS),
    "prod_one_zero": ("ProdBackward0", lambda L, F, x: x.prod(), _ONE_ZERO),
    "prod_dim_one_zero": ("ProdBackward1", lambda L, F, x: x.prod(1), _ONE_ZERO),
    "prod_dim_two_zeros": ("ProdBackward1", lambda L, F, x: x.prod(1), _TWO_ZEROS),
    "prod_3d_middle_dim_one_zero": ("ProdBackward1", lambda L, F, x: x.prod(1), _ZERO_3D),
    "max": ("MaxBackward1", lambda L, F, x: x.max(), _X),
    "min": ("MinBackward1", lambda L, F, x: x.min(), _X),
    "max_dim": ("MaxBackward0", lambda L, F, x: values(x.max(1)), _X),
    "min_dim_keepdim": ("MinBackward0", lambda L, F, x: values(x.min(0, keepdim=True)), _X),
    "max_0d": ("MaxBackward0", lambda L, F, x: values(x.max(0)), np.array(0.7)),
    "min_0d": ("MinBackward0", lambda L, F, x: values(x.min(-1)), np.array(-0.3)),
    "max_3d_middle_dim": ("MaxBackward0", lambda L, F, x: values(x.max(1)), _ZERO_3D),
    "amax": ("AmaxBackward0", lambda L, F, x: x.amax(1), _X),
    "amin": ("AminBackward0", lambda L, F, x: x.amin((0, 1), keepdim=True), _X),
    "var": ("VarBackward0", lambda L, F, x: x.var(), _X),
    "var_dim": ("VarBackward0", lambda L, F, x: x.var(1, correction=0), _X),
    "var_0d": ("VarBackward0", lambda L, F, x: x.var(correction=0), np.array(0.4)),
    "std": ("StdBackward0", lambda L, F, x: x.std(), _X),
    "std_dim_keepdim": ("StdBackward0", lambda L, F, x: x.std(0, keepdim=True), _X),
    "norm": ("LinalgVectorNormBackward0", lambda L, F, x: x.norm(), _X),
    "norm_dim_keepdim": ("LinalgVectorNormBackward0", lambda L, F, x: x.norm(dim=1, keepdim=True), _X),
    "norm_p3_dim": ("LinalgVectorNormBackward0", lambda L, F, x: x.norm(p=3, dim=0), _X),
    "norm_p1": ("LinalgVectorNormBackward0", lambda L, F, x: x.norm(p=1), _X),
    "norm_inf_dim": ("LinalgVectorNormBackward0", lambda L, F, x: x.norm(p=float("inf"), dim=1), _X),
    "norm_p0": ("LinalgVectorNormBackward0", lambda L, F, x: x.norm(p=0), _X),
    "logsumexp": ("LogsumexpBackward0", lambda L, F, x: L.logsumexp(x, 1), _X),
    "logsumexp_keepdim": ("LogsumexpBackward0", lambda L, F, x: L.logsumexp(x, (0, 1), keepdim=True), _X),
    "softmax": ("SoftmaxBackward0", lambda L, F, x: L.softmax(x, 1), _X),
    "softmax_dim0": ("SoftmaxBackward0", lambda L, F, x: L.softmax(x, 0), _X),
    "log_softmax": ("LogSoftmaxBackward0", lambda L, F, x: L.log_softmax(x, 1), _X),
    "log_softmax_dim0": ("LogSoftmaxBackward0", lambda L, F, x: L.log_softmax(x, 0), _X),
    "cumsum": ("CumsumBackward0", lambda L, F, x: x.cumsum(1), _X),
    "cumsum_dim0": ("CumsumBackward0", lambda L, F, x: x.cumsum(0), _X),
    "cumsum_3d_middle_dim": ("CumsumBackward0", lambda L, F, x: x.cumsum(1), _ZERO_3D),
    # nn.functional and compositions that go through these nodes
    "F.softmax": ("SoftmaxBackward0", lambda L, F, x: F.softmax(x, dim=1), _X),
    "F.log_softmax": ("LogSoftmaxBackward0", lambda L, F, x: F.log_softmax(x, dim=0), _X),
    "cross_entropy_by_hand": ("NegBackward0", lambda L, F, x:
                              -(F.log_softmax(x, dim=1) * L.tensor(np.eye(3, 4))).sum(1).mean(), _X),
    "F.layer_norm": ("DivBackward0", lambda L, F, x: F.layer_norm(x, (4,)), _X),
    "normalize_by_norm": ("DivBackward0", lambda L, F, x: x / x.norm(dim=1, keepdim=True), _X),
    "std_over_mean": ("DivBackward0", lambda L, F, x: x.std(1) / x.exp().mean(1), _X),
    "softmax_entropy": ("NegBackward0", lambda L, F, x:
                        -(F.softmax(x, dim=1) * F.log_softmax(x, dim=1)).sum(1), _X),
}

# how the reduced value is used: as it is, or through a function of x itself, so that the
# gradient reaching the node has a history of its own; and with or without a non-leaf input
OUTER = {
    "plain": lambda L, F, f, x: f(L, F, x),
    "composed": lambda L, F, f, x: f(L, F, x.sin() * 2 + x) * f(L, F, x.sin() * 2 + x),
}

# ties: the first and second derivatives against torch; finite differences are not defined there
TIE_CASES = {
    "max_ties": ("MaxBackward1", lambda L, F, x: x.max(), _TIES),
    "min_ties": ("MinBackward1", lambda L, F, x: x.min(), -_TIES),
    "amax_ties": ("AmaxBackward0", lambda L, F, x: x.amax(1), _TIES),
    "amin_ties": ("AminBackward0", lambda L, F, x: x.amin(), -_TIES),
    "norm_inf_ties": ("LinalgVectorNormBackward0", lambda L, F, x: x.norm(p=float("inf")), _TIES),
}


def _ac_leaf(a):
    return ac.tensor(np.array(a, dtype=np.float64), requires_grad=True)


def _torch_leaf(a):
    return torch.tensor(np.array(a, dtype=np.float64), requires_grad=True)


def _fn(case, outer, L, F):
    return lambda x: OUTER[outer](L, F, case[1], x)


@pytest.mark.parametrize("outer", sorted(OUTER))
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradgradcheck(name, outer):
    case = CASES[name]
    assert ac.autograd.gradgradcheck(_fn(case, outer, ac, AF), (_ac_leaf(case[2]),))


@pytest.mark.parametrize("name", sorted(CASES) + sorted(TIE_CASES))
def test_records_the_node_named(name):
    case = CASES.get(name) or TIE_CASES[name]
    y = case[1](ac, AF, _ac_leaf(case[2]))
    assert y.grad_fn.name() == case[0]


def _second_derivatives(L, F, f, x, v, u):
    y = f(x)
    (gx,) = L.autograd.grad(y, x, v, create_graph=True)
    return gx, L.autograd.grad((gx * u).sum(), (x, v), allow_unused=True)


def _compare_with_torch(case, outer):
    a = np.array(case[2], dtype=np.float64)
    x_ac, x_t = _ac_leaf(a), _torch_leaf(a)
    y_t = _fn(case, outer, torch, TF)(x_t)
    rs = np.random.RandomState(7)
    v, u = rs.uniform(-1, 1, tuple(y_t.shape)), rs.uniform(-1, 1, a.shape)
    g_ac, (xx_ac, xv_ac) = _second_derivatives(ac, AF, _fn(case, outer, ac, AF), x_ac,
                                               _ac_leaf(v), ac.tensor(u))
    g_t, (xx_t, xv_t) = _second_derivatives(torch, TF, _fn(case, outer, torch, TF), x_t,
                                            _torch_leaf(v), torch.tensor(u))
    np.testing.assert_allclose(g_ac.detach().numpy(), g_t.detach().numpy(), rtol=1e-10, atol=1e-10)
    for ours, theirs, like in ((xx_ac, xx_t, a), (xv_ac, xv_t, v)):
        # a graph that does not reach the input (None) stands for zeros, in either library
        ours = np.zeros_like(like) if ours is None else ours.numpy()
        theirs = np.zeros_like(like) if theirs is None else theirs.numpy(force=True)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@needs_torch
@pytest.mark.parametrize("outer", sorted(OUTER))
@pytest.mark.parametrize("name", sorted(set(CASES) - {"norm_p0"}))
def test_second_derivatives_match_torch(name, outer):
    _compare_with_torch(CASES[name], outer)


def test_norm_p0_has_a_zero_gradient_without_history():
    # torch's p=0 norm has no derivative at all: grad() calls x unused there
    x = _ac_leaf(_X)
    (g,) = ac.autograd.grad(x.norm(p=0), x, create_graph=True)
    assert not g.requires_grad and not np.any(g.numpy())


@needs_torch
@pytest.mark.parametrize("name", sorted(TIE_CASES))
def test_second_derivatives_at_ties_match_torch(name):
    _compare_with_torch(TIE_CASES[name], "plain")


@pytest.mark.parametrize("outer", sorted(OUTER))
@pytest.mark.parametrize("name", sorted(CASES) + sorted(TIE_CASES))
def test_recorded_first_derivatives_are_the_plain_ones(name, outer):
    case = CASES.get(name) or TIE_CASES[name]
    f = _fn(case, outer, ac, AF)
    x = _ac_leaf(case[2])
    y = f(x)
    v = ac.tensor(np.random.RandomState(3).uniform(-1, 1, tuple(y.shape)))
    (plain,) = ac.autograd.grad(f(x), x, v)
    (recorded,) = ac.autograd.grad(f(x), x, v, create_graph=True)
    assert plain.grad_fn is None
    np.testing.assert_allclose(recorded.detach().numpy(), plain.numpy(), rtol=1e-12, atol=1e-12)


# dtype= arguments: the gradient comes back in the input's dtype
DTYPE_CASES = {
    "sum": ("SumBackward0", lambda L, x: x.sum(dtype=L.float64)),
    "sum_dim": ("SumBackward1", lambda L, x: x.sum(1, dtype=L.float64)),
    "mean": ("MeanBackward0", lambda L, x: x.mean(dtype=L.float64)),
    "prod": ("ProdBackward0", lambda L, x: x.prod(dtype=L.float64)),
    "prod_dim": ("ProdBackward1", lambda L, x: x.prod(0, dtype=L.float64)),
    "softmax": ("SoftmaxBackward0", lambda L, x: L.softmax(x, 1, dtype=L.float64)),
    "log_softmax": ("LogSoftmaxBackward0", lambda L, x: L.log_softmax(x, 1, dtype=L.float64)),
    "cumsum": ("CumsumBackward0", lambda L, x: x.cumsum(1, dtype=L.float64)),
}


@pytest.mark.parametrize("name", sorted(DTYPE_CASES))
def test_dtype_argument(name):
    node, f = DTYPE_CASES[name]
    x = ac.tensor(_POS.astype(np.float32), requires_grad=True)
    y = f(ac, x * x)
    assert y.grad_fn.name() == node and y.dtype == ac.float64
    v = ac.tensor(np.random.RandomState(3).uniform(-1, 1, tuple(y.shape)))
    (plain,) = ac.autograd.grad(f(ac, x * x), x, v)
    (recorded,) = ac.autograd.grad(f(ac, x * x), x, v, create_graph=True)
    assert recorded.dtype == ac.float32 and recorded.requires_grad
    np.testing.assert_allclose(recorded.detach().numpy(), plain.numpy(), rtol=1e-6)
    if torch is not None:
        xt = torch.tensor(_POS.astype(np.float32), requires_grad=True)
        (gt,) = torch.autograd.grad(f(torch, xt * xt), xt, torch.tensor(v.numpy()), create_graph=True)
        (ours,) = ac.autograd.grad((recorded * recorded).sum(), x)
        (theirs,) = torch.autograd.grad((gt * gt).sum(), xt)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-5)
