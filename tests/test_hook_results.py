"""What a node hook (`grad_fn.register_hook`) returns is checked as torch checks it.

The gradients a post hook returns go on to the next node's kernel, which trusts their size and
type: a hook that changes either must be refused, in the plain pass and with create_graph, for
every kind of node (C-kernel nodes, rule nodes, reductions, Function nodes)."""
import numpy as np
import pytest

import autograd_c as ac

WRONG_SIZE = "hook '{}' has changed the size of value"
WRONG_TYPE = "hook '{}' has changed the type of value (was {} got {})"


def unary(m):
    x = m.randn(3, requires_grad=True)
    return x, x.exp()


def binary(m):
    x = m.randn(2, 3, requires_grad=True)
    return x, x * m.randn(3)


def broadcast_other(m):
    b = m.randn(3, requires_grad=True)
    return b, m.randn(2, 3) * b


def reduction(m):
    x = m.randn(2, 3, requires_grad=True)
    return x, x.sum(1)


def view(m):
    x = m.randn(2, 3, requires_grad=True)
    return x, x.reshape(6)


def matmul(m):
    x = m.randn(2, 3, requires_grad=True)
    return x, x @ m.randn(3, 4)


def function(m):
    class Double(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = m.randn(3, requires_grad=True)
    return x, Double.apply(x)


GRAPHS = [unary, binary, broadcast_other, reduction, view, matmul, function]


def wrong_size(grad_inputs, grad_outputs):
    return tuple(None if g is None else g.new_ones(g.numel() + 2) for g in grad_inputs)


def wrong_type(grad_inputs, grad_outputs):
    return tuple(None if g is None else g.double() for g in grad_inputs)


def int_type(grad_inputs, grad_outputs):
    return tuple(None if g is None else g.long() for g in grad_inputs)


def run(m, graph, hook, create_graph):
    x, y = graph(m)
    y.grad_fn.register_hook(hook)
    y.sum().backward(create_graph=create_graph)
    return x


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("graph", GRAPHS)
def test_post_hook_changing_the_size_is_refused(graph, create_graph):
    with pytest.raises(RuntimeError) as info:
        run(ac, graph, wrong_size, create_graph)
    assert str(info.value) == WRONG_SIZE.format("wrong_size")


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("hook, got", [(wrong_type, "DoubleTensor"), (int_type, "LongTensor")])
def test_post_hook_changing_the_type_is_refused(graph, create_graph, hook, got):
    with pytest.raises(RuntimeError) as info:
        run(ac, graph, hook, create_graph)
    assert str(info.value) == WRONG_TYPE.format(hook.__name__, "autograd_c.FloatTensor",
                                                "autograd_c." + got)


@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("hook", [wrong_size, wrong_type])
def test_torch_refuses_the_same(graph, hook):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        run(torch, graph, hook, False)
    with pytest.raises(RuntimeError) as ours:
        run(ac, graph, hook, False)
    assert str(ours.value) == str(theirs.value).replace("torch.", "autograd_c.")


def test_post_hook_returning_a_non_tuple_is_refused():
    x, y = unary(ac)
    y.grad_fn.register_hook(lambda gi, go: gi[0])
    with pytest.raises(TypeError, match="expected tuple, but hook returned 'Tensor'"):
        y.sum().backward()


def test_post_hook_returning_the_right_size_and_type_still_replaces():
    x, y = binary(ac)
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0 + 7, None))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 7.0, dtype=np.float32))


def test_second_hook_is_checked_against_what_the_first_returned():
    x, y = unary(ac)
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 3,))
    y.grad_fn.register_hook(lambda gi, go: (gi[0] + 1,))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.detach().numpy()) * 3 + 1, rtol=1e-6)
