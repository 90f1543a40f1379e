"""In-place writes through views of tensors in a graph (torch's CopySlices), and views whose
storage was written in place after they were made: gradients as torch computes them."""
import numpy as np
import pytest

import autograd_c as ac
from autograd_c.autograd import gradcheck

try:
    import torch
except ImportError:  # the torch-free tests still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")

A = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
WEIGHTS = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def scenario(lib, case):
    a = lib.tensor(A, dtype=lib.float64, requires_grad=True)
    y = lib.tensor([10.0, 20.0, 30.0], dtype=lib.float64, requires_grad=True)
    x = a * 2
    if case == "setitem":
        x[0] = y
    elif case == "mul_column":
        x[:, 1].mul_(3)
    elif case == "add_part_of_row":
        x[1, 1:] += y[:2]
    elif case == "copy_into_row":
        x[0].copy_(y * y)
    elif case == "view_of_view":
        x[1][::2].mul_(y[:2])
    elif case == "transposed_view":
        x.t()[2].sub_(y[1])
    elif case == "stale_view":               # v made before the write to its base
        v = x[0:1]
        x.mul_(3)
        x = v * 1
    elif case == "stale_expanded_view":      # its positions repeat: their gradients add up
        v = x[1].expand(2, 3)
        x.mul_(3)
        x = v * 1
    elif case == "two_writes":
        v = x[:, 0]
        v.mul_(y[0])
        x[1].add_(y)
    out = (x * lib.tensor(WEIGHTS[:x.shape[0]] if x.shape[0] == 2 else [WEIGHTS[0]],
                          dtype=lib.float64)).sum()
    out.backward()
    return (x.detach().numpy().copy(), a.grad.numpy().copy(),
            None if y.grad is None else y.grad.numpy().copy())


CASES = ["setitem", "mul_column", "add_part_of_row", "copy_into_row", "view_of_view",
         "transposed_view", "stale_view", "stale_expanded_view", "two_writes"]


@needs_torch
@pytest.mark.parametrize("case", CASES)
def test_gradients_match_torch(case):
    for ours, theirs in zip(scenario(ac, case), scenario(torch, case)):
        if theirs is None:
            assert ours is None or not np.any(ours)
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_stale_view_gradient_by_hand():
    a = ac.tensor([1.0, 2.0], requires_grad=True)
    x = a * 2
    v = x[0:1]
    x.mul_(3)                                  # v now holds 6 * a[0]
    v.sum().backward()
    assert v.tolist() == [6.0]
    assert a.grad.tolist() == [6.0, 0.0]
    assert v.grad_fn.name() == "AsStridedBackward0"


def test_node_names():
    a = ac.tensor(A, requires_grad=True)
    x = a * 2
    col = x[:, 1]
    col.mul_(3)
    assert x.grad_fn.name() == "torch::autograd::CopySlices"
    assert col.grad_fn.name() == "AsStridedBackward0"
    (old, _), (result, _) = x.grad_fn.next_functions
    assert old.name() == "MulBackward0" and result.name() == "MulBackward0"


def test_gradcheck_through_writes_into_views():
    def f(a, y):
        x = a * a
        x[:, 1].mul_(y[0])
        x[1, ::2] = y * 3
        return x.exp()

    a = ac.tensor([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]], dtype=ac.float64, requires_grad=True)
    y = ac.tensor([0.7, -0.3], dtype=ac.float64, requires_grad=True)
    assert gradcheck(f, (a, y))


def test_overlapping_view_is_refused_like_torch():
    a = ac.tensor([1.0, 2.0], requires_grad=True)
    x = (a * 2)[:1].expand(3)
    with pytest.raises(RuntimeError, match="unsupported operation: more than one element of the "
                                           "written-to tensor refers to a single memory location"):
        x.mul_(ac.tensor([1.0, 2.0, 3.0], requires_grad=True))


def test_writes_without_grad_leave_views_plain():
    x = ac.zeros(2, 3)
    v = x[0]
    v.add_(1)
    assert v.grad_fn is None and not v.requires_grad and x.tolist()[0] == [1.0, 1.0, 1.0]


def gains_history(lib):
    """x needs no grad until a write gives part of it y's history; v was made before."""
    x = lib.zeros(3)
    v = x[0:2]
    y = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.ones(1, requires_grad=True)
    x[0:2] = y
    loss = (v * 2).sum() + (w * 3).sum() + v.exp().sum()
    loss.backward()
    return v.requires_grad, y.grad.tolist()


def test_a_view_sees_its_base_gain_a_history():
    requires, grad = gains_history(ac)
    assert requires
    np.testing.assert_allclose(grad, [2 + np.exp(1.0), 2 + np.exp(2.0)], rtol=1e-6)


@needs_torch
def test_a_view_sees_its_base_gain_a_history_like_torch():
    ours, theirs = gains_history(ac), gains_history(torch)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)


def test_matmul_and_linear_see_a_gained_history():
    x = ac.zeros(2, 3)
    v = x[0:1]                                 # (1, 3), made before x needs grad
    y = ac.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    x[0:1] = y
    m = ac.ones(3, 2)                          # no other input requires grad
    (v @ m).sum().backward()
    assert y.grad.tolist() == [[2.0, 2.0, 2.0]]
    y.grad = None
    w = ac.ones(4, 3)
    ac.nn.functional.linear(v, w).sum().backward()
    assert y.grad.tolist() == [[4.0, 4.0, 4.0]]


def writes_into_a_stale_view(lib):
    x = lib.zeros(3)
    v = x[0:2]                                 # made before x gains y's history
    y = lib.tensor([1.0, 2.0], requires_grad=True)
    x[0:2] = y
    v[0] = 5.0                                 # overwrites y[0]'s value: its gradient is gone
    v.mul_(2)
    (x * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
    return x.tolist(), y.grad.tolist()


def test_writes_into_a_stale_view():
    values, grad = writes_into_a_stale_view(ac)
    assert values == [10.0, 4.0, 0.0]
    assert grad == [0.0, 4.0]


@needs_torch
def test_writes_into_a_stale_view_like_torch():
    assert writes_into_a_stale_view(ac) == writes_into_a_stale_view(torch)
