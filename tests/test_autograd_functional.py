"""autograd.functional: vjp, jvp and jacobian against torch 2.13 (when installed) and against
finite differences in float64."""
import numpy as np
import pytest

import autograd_c as ac
from autograd_c.autograd import functional as AF

try:
    import torch
except ImportError:  # the torch-free tests still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")

X = [[0.5, -1.0], [2.0, 0.25]]
Y = [1.5, -0.5]


def mixed(lib):
    return lambda a, b: (a.exp() @ b).sin()


def numeric_jacobian(f, arrays, j, eps=1e-6):
    """d f / d arrays[j] by central differences, shape out.shape + arrays[j].shape."""
    base = [np.array(a, dtype=np.float64) for a in arrays]
    out = np.asarray(f(*base))
    jac = np.zeros(out.shape + base[j].shape)
    for idx in np.ndindex(base[j].shape):
        plus = [a.copy() for a in base]
        minus = [a.copy() for a in base]
        plus[j][idx] += eps
        minus[j][idx] -= eps
        jac[(...,) + idx] = (np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * eps)
    return jac


def as_numpy(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def test_jacobian_matches_finite_differences():
    x, y = ac.tensor(X, dtype=ac.float64), ac.tensor(Y, dtype=ac.float64)
    jx, jy = AF.jacobian(mixed(ac), (x, y))
    f = lambda a, b: np.sin(np.exp(a) @ b)
    np.testing.assert_allclose(jx.numpy(), numeric_jacobian(f, [X, Y], 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jy.numpy(), numeric_jacobian(f, [X, Y], 1), rtol=1e-6, atol=1e-8)
    assert tuple(jx.shape) == (2, 2, 2) and tuple(jy.shape) == (2, 2)


def test_vjp_and_jvp_are_the_jacobian_products():
    y = ac.tensor(Y, dtype=ac.float64)
    v = ac.tensor([1.0, 2.0], dtype=ac.float64)
    cube = lambda a: a.pow(3)
    jac = AF.jacobian(cube, y).numpy()
    out, vjp = AF.vjp(cube, y, v)
    np.testing.assert_allclose(vjp.numpy(), v.numpy() @ jac, rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), np.array(Y) ** 3, rtol=1e-12)
    assert not out.requires_grad
    _, jvp = AF.jvp(cube, y, v)
    np.testing.assert_allclose(jvp.numpy(), jac @ v.numpy(), rtol=1e-12)


def test_inputs_keep_their_graph_state_and_grad():
    y = ac.tensor(Y, dtype=ac.float64, requires_grad=True)
    AF.jacobian(lambda a: a * 2, y)
    assert y.grad is None and y.is_leaf


def test_errors():
    y = ac.tensor(Y, dtype=ac.float64)
    with pytest.raises(RuntimeError, match="The vector v can only be None if the user-provided "
                                           "function returns a single Tensor with a single "
                                           "element."):
        AF.vjp(lambda a: a * 2, y)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                           "independent of input 1. This is not allowed in "
                                           "strict mode."):
        AF.jacobian(lambda a, b: a * 2, (y, y), strict=True)
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or "
                                        "a tuple of Tensors"):
        AF.jacobian(lambda a: a, [1.0])


@needs_torch
@pytest.mark.parametrize("case", ["mixed", "single", "two_outputs", "unused_input"])
def test_jacobian_nesting_and_values_match_torch(case):
    def run(lib):
        x, y = lib.tensor(X, dtype=lib.float64), lib.tensor(Y, dtype=lib.float64)
        F = lib.autograd.functional
        if case == "mixed":
            return F.jacobian(mixed(lib), (x, y))
        if case == "single":
            return F.jacobian(lambda a: a.pow(2), y)
        if case == "two_outputs":
            return F.jacobian(lambda a: (a * 2, a.sum()), y)
        return F.jacobian(lambda a, b: a * 2, (y, y))

    def flatten(value):
        if isinstance(value, tuple):
            return ("tuple", [flatten(v) for v in value])
        return as_numpy(value)

    ours, theirs = flatten(run(ac)), flatten(run(torch))

    def compare(a, b):
        if isinstance(a, tuple):
            assert isinstance(b, tuple) and len(a[1]) == len(b[1])
            for p, q in zip(a[1], b[1]):
                compare(p, q)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12)

    compare(ours, theirs)


@needs_torch
def test_vjp_with_tuples_matches_torch():
    def run(lib):
        x, y = lib.tensor(X, dtype=lib.float64), lib.tensor(Y, dtype=lib.float64)
        out, (gx, gy) = lib.autograd.functional.vjp(mixed(lib), (x, y),
                                                    lib.tensor([1.0, 2.0], dtype=lib.float64))
        return [as_numpy(t) for t in (out, gx, gy)]

    for a, b in zip(run(ac), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
