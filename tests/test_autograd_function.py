"""autograd.Function: custom forward/backward pairs, against torch 2.13 where it is installed
and by finite differences in float64."""
import math

import numpy as np
import pytest

import autograd_c as ac
from autograd_c.autograd import gradcheck

try:
    import torch
except ImportError:  # the torch-free tests still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")


def legendre_class(lib):
    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    return LegendrePolynomial3


def scale_and_exp_class(lib):
    """Two outputs and a non-tensor argument: (x * k, exp(x))."""
    class ScaleAndExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            e = x.exp()
            ctx.save_for_backward(e)
            return x * k, e

        @staticmethod
        def backward(ctx, g_scaled, g_exp):
            e, = ctx.saved_tensors
            return g_scaled * ctx.k + g_exp * e, None

    return ScaleAndExp


def test_gradcheck_accepts_a_correct_backward():
    P3 = legendre_class(ac)
    x = ac.tensor([-0.9, -0.2, 0.4, 1.3], dtype=ac.float64, requires_grad=True)
    assert gradcheck(P3.apply, (x,))
    f = scale_and_exp_class(ac)
    assert gradcheck(lambda t: f.apply(t, 2.5), (x,))


def test_gradcheck_rejects_a_wrong_backward():
    class WrongSquare(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x              # the factor 2 is missing

    x = ac.tensor([0.5, -1.5, 2.0], dtype=ac.float64, requires_grad=True)
    assert not gradcheck(WrongSquare.apply, (x,), raise_exception=False)
    with pytest.raises(Exception):
        gradcheck(WrongSquare.apply, (x,))


def test_node_name_repr_and_edges():
    P3 = legendre_class(ac)
    x = ac.tensor([0.5, 1.0], requires_grad=True)
    y = P3.apply(x * 2)
    assert y.grad_fn.name() == "LegendrePolynomial3Backward"
    assert repr(y.grad_fn).startswith(
        "<autograd_c.autograd.function.LegendrePolynomial3Backward object at 0x")
    (child, _), = y.grad_fn.next_functions
    assert child.name() == "MulBackward0"
    assert not y.is_leaf and y.requires_grad


@needs_torch
def test_legendre_tutorial_loop_matches_torch():
    """The fitting loop of PyTorch's 'Defining new autograd Functions' example, 300 steps."""
    results = []
    for lib in (ac, torch):
        P3 = legendre_class(lib)
        x = lib.tensor(np.linspace(-math.pi, math.pi, 2000), dtype=lib.float64)
        y = lib.sin(x)
        a, b, c, d = (lib.full((), v, dtype=lib.float64, requires_grad=True)
                      for v in (0.0, -1.0, 0.0, 0.3))
        for _ in range(300):
            y_pred = a + b * P3.apply(c + d * x)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                for p in (a, b, c, d):
                    p -= 5e-6 * p.grad
                    p.grad = None
        results.append([loss.item()] + [p.item() for p in (a, b, c, d)])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-9, atol=1e-12)


@needs_torch
def test_several_outputs_and_a_constant_match_torch():
    data = np.array([0.3, -1.2, 2.0])
    grads = []
    for lib in (ac, torch):
        f = scale_and_exp_class(lib)
        x = lib.tensor(data, requires_grad=True)
        u, v = f.apply(x, 3.0)
        assert u.grad_fn.name() == v.grad_fn.name() == "ScaleAndExpBackward"
        (u * 2 + v).sum().backward()
        first = x.grad.numpy().copy()
        x.grad = None
        u, v = f.apply(x, 3.0)
        u.sum().backward()            # v's gradient never arrives: zeros are passed instead
        grads.append((first, x.grad.numpy().copy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_needs_input_grad_and_non_tensor_arguments():
    seen = {}

    class Mix(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, n):
            seen["needs"] = ctx.needs_input_grad
            ctx.save_for_backward(w)
            return x * w * n

        @staticmethod
        def backward(ctx, g):
            w, = ctx.saved_tensors
            return g * w * 2, None, None

    x = ac.tensor([1.0, 2.0], requires_grad=True)
    w = ac.tensor([3.0, 4.0])
    Mix.apply(x, w, 2).sum().backward()
    assert seen["needs"] == (True, False, False)
    assert x.grad.tolist() == [6.0, 8.0]


def test_no_graph_when_nothing_requires_grad_or_grad_mode_is_off():
    P3 = legendre_class(ac)
    assert P3.apply(ac.tensor([0.5])).grad_fn is None
    x = ac.tensor([0.5], requires_grad=True)
    with ac.no_grad():
        assert P3.apply(x).grad_fn is None
    assert P3.apply(x).grad_fn is not None


def test_forward_records_no_graph_inside():
    class Inside(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            ctx.inner_had_grad_fn = y.grad_fn is not None
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = ac.tensor([1.0], requires_grad=True)
    out = Inside.apply(x)
    assert out.grad_fn.name() == "InsideBackward"


@needs_torch
def test_wrong_number_of_gradients_and_wrong_shape_raise_like_torch():
    def classes(lib):
        class TooFew(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

            @staticmethod
            def backward(ctx, g):
                return g

        class BadShape(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g[:2]

        class Summable(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.expand(4, 3) * 1

            @staticmethod
            def backward(ctx, g):
                return g                  # (4, 3) for a (1, 3) input: summed down, as torch

        return TooFew, BadShape, Summable

    for lib in (ac, torch):
        too_few, bad_shape, summable = classes(lib)
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match=r"function TooFewBackward returned an incorrect "
                                               r"number of gradients \(expected 2, got 1\)"):
            too_few.apply(x, 2).sum().backward()
        with pytest.raises(RuntimeError, match=r"Function BadShapeBackward returned an invalid "
                                               r"gradient at index 0 - got \[2\] but expected "
                                               r"shape compatible with \[3\]"):
            bad_shape.apply(x).sum().backward()
        row = lib.ones(1, 3, requires_grad=True)
        summable.apply(row).sum().backward()
        assert row.grad.tolist() == [[4.0, 4.0, 4.0]]


def test_mark_non_differentiable_output_has_no_grad_fn():
    class SortLike(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            order = ac.tensor(np.argsort(x.detach().numpy()))
            ctx.mark_non_differentiable(order)
            return x * 1, order

        @staticmethod
        def backward(ctx, g, g_order):
            assert g_order is None or float(g_order.abs().sum()) == 0
            return g

    x = ac.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, order = SortLike.apply(x)
    assert order.grad_fn is None and not order.requires_grad
    values.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_set_materialize_grads_false_passes_none():
    got = {}

    class Pair(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            got["g2"] = g2
            return g1 if g2 is None else g1 + 2 * g2

    x = ac.tensor([1.0, 1.0], requires_grad=True)
    a, _ = Pair.apply(x)
    a.sum().backward()
    assert got["g2"] is None and x.grad.tolist() == [1.0, 1.0]


def test_saved_tensors_are_version_checked_and_freed():
    P3 = legendre_class(ac)
    x = ac.tensor([0.5, 0.25], requires_grad=True)
    h = x * 1
    y = P3.apply(h)
    with ac.no_grad():
        h.mul_(2)                      # the saved input changes after forward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    y = P3.apply(x * 1)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.sum().backward()
    z = P3.apply(x * 1)
    z.sum().backward(retain_graph=True)
    z.sum().backward()                 # retained: the saved tensors are still there


def test_an_input_returned_as_is_keeps_its_own_history():
    class Identity(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = ac.tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and x.grad_fn is None
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_legacy_instantiation_and_missing_methods_raise():
    class Nothing(ac.autograd.Function):
        pass

    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward"):
        Nothing()
    with pytest.raises(NotImplementedError, match="You must implement the forward function"):
        Nothing.apply(ac.ones(1, requires_grad=True))


def test_once_differentiable_backward_still_runs():
    class Cube(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @ac.autograd.once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2

    x = ac.tensor([2.0], dtype=ac.float64, requires_grad=True)
    Cube.apply(x).backward()
    assert x.grad.item() == 12.0
    assert gradcheck(Cube.apply, (ac.tensor([0.7], dtype=ac.float64, requires_grad=True),))


def test_recording_a_function_node_refuses_outputs_that_are_not_tensors():
    # _function_node is reachable from Python; an output that is not a Tensor once crashed the
    # interpreter, so the check runs in a child process
    import os
    import subprocess
    import sys
    import tempfile
    script = (
        "import numpy as np, autograd_c as ac\n"
        "from autograd_c.autograd.function import FunctionCtx\n"
        "x = ac.ones(3, requires_grad=True)\n"
        "try:\n"
        "    ac._C._function_node(FunctionCtx((True,)), lambda ctx, g: g, 'XBackward', (x,),\n"
        "                         (np.zeros(3),))\n"
        "except TypeError as e:\n"
        "    print(e)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(ac.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tempfile.gettempdir())
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "Cannot convert numpy.ndarray to autograd_c._C.Tensor"
