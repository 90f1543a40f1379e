"""Misuse raises torch's exception type with torch's exact text (DESIGN.md, "Errors").

Every expected string below was copied from what torch 2.13.0 (CPU) raises for the same code,
with `autograd_c` standing where torch names its own types (`autograd_c.Size([4])`,
`autograd_c.FloatTensor`). The strings are literals, so this file runs without torch.
"""
import warnings

import numpy as np
import pytest

import autograd_c as torch


def raises_exactly(exc_type, text):
    """Context manager: the block raises exactly `exc_type` (not a subclass) with message `text`."""
    class _Check:
        def __enter__(self):
            self._cm = pytest.raises(exc_type)
            self.info = self._cm.__enter__()
            return self.info

        def __exit__(self, *exc):
            suppressed = self._cm.__exit__(*exc)
            assert type(self.info.value) is exc_type, (
                "expected %s, got %s: %s" % (exc_type.__name__, type(self.info.value).__name__,
                                             self.info.value))
            assert str(self.info.value) == text
            return suppressed
    return _Check()


# -- backward on a non-scalar without gradient -------------------------------------------------

IMPLICIT_GRAD = "grad can be implicitly created only for scalar outputs"


@pytest.mark.parametrize("make", [
    lambda x: x * 2,
    lambda x: x.reshape(3, 1) * x,
    lambda x: x.sum(0, keepdim=True).expand(2),
    lambda x: x[:0] * 2,                  # an empty output is not a scalar either
], ids=["vector", "matrix", "expanded", "empty"])
def test_backward_non_scalar_without_gradient(make):
    x = torch.ones(3, requires_grad=True)
    y = make(x)
    with raises_exactly(RuntimeError, IMPLICIT_GRAD):
        y.backward()
    assert x.grad is None


def test_backward_one_element_non_0d_is_allowed():
    # torch creates the implicit gradient for any one-element output, not only 0-d ones
    x = torch.ones(1, 1, requires_grad=True)
    (x * 2).backward()
    assert x.grad.tolist() == [[2.0]]


def test_autograd_backward_non_scalar_in_list():
    x = torch.ones(3, requires_grad=True)
    with raises_exactly(RuntimeError, IMPLICIT_GRAD):
        torch.autograd.backward([x * 2])


# -- second backward after the graph was freed -------------------------------------------------

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


@pytest.mark.parametrize("make", [
    lambda x: (x * x).sum(),
    lambda x: x.exp().sum(),              # saves its output
    lambda x: x.sigmoid().sum(),
    lambda x: x.relu().sum(),
    lambda x: (x.reshape(3, 1) @ x.reshape(1, 3)).sum(),
    lambda x: (x * 2).sum(),              # torch's MulBackward0 saves the scalar operand too
], ids=["mul", "exp", "sigmoid", "relu", "matmul", "mul_scalar"])
def test_second_backward_through_saved_tensors(make):
    x = torch.ones(3, requires_grad=True)
    y = make(x)
    y.backward()
    with raises_exactly(RuntimeError, SECOND_BACKWARD):
        y.backward()


def test_second_backward_through_a_shared_freed_subgraph():
    x = torch.ones(3, requires_grad=True)
    y = x.tanh()
    y.sum().backward()
    with raises_exactly(RuntimeError, SECOND_BACKWARD):
        y.sum().backward()       # a new SumBackward0, but TanhBackward0 below it was freed


@pytest.mark.parametrize("make", [
    lambda x: (x + 1).sum(),
    lambda x: x.reshape(3, 1).t().sum(),
    lambda x: x.sum() + x.mean(),
], ids=["add_scalar", "views", "sum_mean"])
def test_second_backward_without_saved_tensors_is_allowed(make):
    # torch raises only when a node has saved tensors to unpack; these graphs have none
    x = torch.ones(3, requires_grad=True)
    y = make(x)
    y.backward()
    first = x.grad.tolist()
    y.backward()
    assert x.grad.tolist() == [2 * v for v in first]


def test_retain_graph_allows_exactly_the_retained_passes():
    x = torch.ones(3, requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]
    with raises_exactly(RuntimeError, SECOND_BACKWARD):
        y.backward()


# -- requires_grad on an integer tensor --------------------------------------------------------

FACTORY_INT_GRAD = "Only Tensors of floating point and complex dtype can require gradients"
METHOD_INT_GRAD = "only Tensors of floating point dtype can require gradients"
SETTER_INT_GRAD = "only Tensors of floating point and complex dtype can require gradients"


@pytest.mark.parametrize("make", [
    lambda: torch.zeros(2, dtype=torch.int64, requires_grad=True),
    lambda: torch.ones(2, dtype=torch.int32, requires_grad=True),
    lambda: torch.tensor([1, 2], requires_grad=True),
    lambda: torch.tensor([True], requires_grad=True),
    lambda: torch.arange(3, requires_grad=True),
], ids=["zeros_int64", "ones_int32", "tensor_ints", "tensor_bool", "arange"])
def test_requires_grad_integer_from_factory(make):
    with raises_exactly(RuntimeError, FACTORY_INT_GRAD):
        make()


@pytest.mark.parametrize("dt", ["int64", "int32", "uint8", "bool"])
def test_requires_grad_integer_from_method(dt):
    x = torch.zeros(2, dtype=getattr(torch, dt))
    with raises_exactly(RuntimeError, METHOD_INT_GRAD):
        x.requires_grad_()
    with raises_exactly(RuntimeError, METHOD_INT_GRAD):
        x.requires_grad_(True)
    assert x.requires_grad is False
    x.requires_grad_(False)            # switching it off is fine


@pytest.mark.parametrize("dt", ["int64", "int32", "uint8", "bool"])
def test_requires_grad_integer_from_setter(dt):
    x = torch.zeros(2, dtype=getattr(torch, dt))
    with raises_exactly(RuntimeError, SETTER_INT_GRAD):
        x.requires_grad = True
    assert x.requires_grad is False
    x.requires_grad = False


# -- in-place op on a leaf that requires grad --------------------------------------------------

LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_INPLACE = ("a view of a leaf Variable that requires grad is being used in an "
                        "in-place operation.")


def _iadd(x):
    x += 1


def _isub(x):
    x -= 1


def _imul(x):
    x *= 2


def _idiv(x):
    x /= 2


INPLACE_ON_LEAF = {
    "add_": lambda x: x.add_(1),
    "sub_": lambda x: x.sub_(1),
    "mul_": lambda x: x.mul_(2),
    "div_": lambda x: x.div_(2),
    "zero_": lambda x: x.zero_(),
    "fill_": lambda x: x.fill_(3.0),
    "copy_": lambda x: x.copy_(torch.zeros(3)),
    "clamp_": lambda x: x.clamp_(0, 1),
    "masked_fill_": lambda x: x.masked_fill_(torch.tensor([True, False, True]), 0.0),
    "iadd": _iadd,
    "isub": _isub,
    "imul": _imul,
    "idiv": _idiv,
    "add_tensor": lambda x: x.add_(torch.ones(3)),
}


@pytest.mark.parametrize("name", sorted(INPLACE_ON_LEAF))
def test_inplace_on_leaf_requiring_grad(name):
    x = torch.ones(3, requires_grad=True)
    with raises_exactly(RuntimeError, LEAF_INPLACE):
        INPLACE_ON_LEAF[name](x)
    assert x.tolist() == [1.0, 1.0, 1.0]          # nothing was written
    assert x.is_leaf and x.grad_fn is None and x.requires_grad


def test_item_assignment_on_leaf_requiring_grad():
    # torch goes through a view (x[0]) here, so its text names a view of a leaf
    x = torch.ones(3, requires_grad=True)
    with raises_exactly(RuntimeError, VIEW_OF_LEAF_INPLACE):
        x[0] = 1
    with raises_exactly(RuntimeError, VIEW_OF_LEAF_INPLACE):
        x[1:] = torch.zeros(2)
    assert x.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("make_view", [
    lambda x: x[1:],
    lambda x: x.view(3),
    lambda x: x.reshape(3),
], ids=["slice", "view", "reshape"])
def test_inplace_on_view_of_leaf_requiring_grad(make_view):
    x = torch.ones(3, requires_grad=True)
    with raises_exactly(RuntimeError, VIEW_OF_LEAF_INPLACE):
        make_view(x).add_(1)
    assert x.tolist() == [1.0, 1.0, 1.0]


def test_inplace_on_leaf_allowed_under_no_grad():
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        x.add_(1)
        x += 1
        x[0] = 5
        x.mul_(2)
        x.sub_(1)
        x.div_(2)
        x -= 1
        x *= 2
        x /= 2
        x.masked_fill_(torch.tensor([False, True, False]), 7.0)
        x.clamp_(0, 6)
        x.copy_(x * 1)
    assert x.tolist() == [3.5, 6.0, 1.5]
    with torch.no_grad():
        x.zero_()
        x.fill_(3)
    assert x.tolist() == [3.0, 3.0, 3.0]
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    (x * x).sum().backward()                      # still a usable leaf afterwards
    assert x.grad.tolist() == [6.0, 6.0, 6.0]


def test_inplace_on_leaf_allowed_through_data_and_detach():
    x = torch.ones(3, requires_grad=True)
    x.data.add_(1)
    x.detach().mul_(3)
    assert x.tolist() == [6.0, 6.0, 6.0]
    assert x.is_leaf and x.requires_grad


def test_inplace_on_leaf_that_does_not_require_grad_is_allowed():
    x = torch.ones(3)
    x.add_(1)
    x[0] = 0
    assert x.tolist() == [0.0, 2.0, 2.0]


# -- gradient of the wrong shape ---------------------------------------------------------------

@pytest.mark.parametrize("out_shape,grad_shape", [
    ((3,), (4,)),
    ((3,), (1,)),
    ((3,), (3, 1)),
    ((2, 3), (3, 2)),
    ((), (4,)),
    ((), (1,)),
])
def test_gradient_of_wrong_shape(out_shape, grad_shape):
    n = int(np.prod(out_shape))
    x = torch.ones(max(n, 1), requires_grad=True)
    y = (x * x)[:n].reshape(out_shape) if out_shape else (x * x).sum()
    expected = ("Mismatch in shape: grad_output[0] has a shape of autograd_c.Size(%s) and "
                "output[0] has a shape of autograd_c.Size(%s)."
                % (list(grad_shape), list(out_shape)))
    with raises_exactly(RuntimeError, expected):
        y.backward(torch.ones(grad_shape))
    assert x.grad is None


def test_gradient_of_wrong_shape_reports_the_shape_before_the_dtype():
    x = torch.ones(3, requires_grad=True)
    with raises_exactly(RuntimeError, "Mismatch in shape: grad_output[0] has a shape of "
                        "autograd_c.Size([2]) and output[0] has a shape of autograd_c.Size([3])."):
        (x * 2).backward(torch.ones(2, dtype=torch.float64))


@pytest.mark.parametrize("dt", ["float64", "int64"])
def test_gradient_of_other_dtype_but_right_shape_is_accepted(dt):
    # torch casts a gradient of the right shape to the output's dtype
    x = torch.ones(3, requires_grad=True)
    (x * 2).backward(torch.ones(3, dtype=getattr(torch, dt)))
    assert x.grad.dtype == torch.float32
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_gradient_not_a_tensor():
    x = torch.ones(3, requires_grad=True)
    with raises_exactly(TypeError, "gradients can be either Tensors or None, but got str"):
        x.sum().backward("a")
    with raises_exactly(TypeError, "gradients can be either Tensors or None, but got float"):
        x.sum().backward([1.0])


# -- backward on a tensor that needs no grad ---------------------------------------------------

NO_GRAD_FN = "element %d of tensors does not require grad and does not have a grad_fn"


@pytest.mark.parametrize("make", [
    lambda: torch.ones(3).sum(),
    lambda: torch.tensor(2.0),
    lambda: torch.ones(3, requires_grad=True).detach().sum(),
    lambda: (torch.ones(3, requires_grad=True) * 2).sum().detach(),
], ids=["plain", "scalar_leaf", "detached_leaf", "detached_result"])
def test_backward_on_tensor_without_grad(make):
    with raises_exactly(RuntimeError, NO_GRAD_FN % 0):
        make().backward()


def test_backward_on_result_computed_under_no_grad():
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        y = (x * 2).sum()
    with raises_exactly(RuntimeError, NO_GRAD_FN % 0):
        y.backward()


def test_backward_on_tensor_without_grad_with_explicit_gradient():
    with raises_exactly(RuntimeError, NO_GRAD_FN % 0):
        (torch.ones(3) * 2).backward(torch.ones(3))


def test_autograd_backward_names_the_element_without_grad():
    x = torch.ones(3, requires_grad=True)
    with raises_exactly(RuntimeError, NO_GRAD_FN % 1):
        torch.autograd.backward([(x * 2).sum(), torch.ones(())])


# -- numpy() on a tensor that requires grad ----------------------------------------------------

NUMPY_GRAD = "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."


@pytest.mark.parametrize("make", [
    lambda: torch.ones(3, requires_grad=True),
    lambda: torch.ones(3, requires_grad=True) * 2,
    lambda: torch.ones(3, dtype=torch.float64).requires_grad_(),
    lambda: torch.tensor(1.0, requires_grad=True),
], ids=["leaf", "non_leaf", "requires_grad_", "scalar"])
def test_numpy_on_tensor_requiring_grad(make):
    t = make()
    with raises_exactly(RuntimeError, NUMPY_GRAD):
        t.numpy()
    assert isinstance(t.detach().numpy(), np.ndarray)
    assert isinstance(t.numpy(force=True), np.ndarray)


# -- a saved tensor modified in place before backward ------------------------------------------

HINT = (" Hint: enable anomaly detection to find the operation that failed to compute its "
        "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def modified(desc, now, expected=0):
    return ("one of the variables needed for gradient computation has been modified by an "
            "inplace operation: %s is at version %d; expected version %d instead.%s"
            % (desc, now, expected, HINT))


def test_modified_saved_input_add_():
    # torch names the tensor's grad_fn at the time of the check: AddBackward0 -> "Add"
    x = torch.ones(3, requires_grad=True)
    a = x * 1
    b = a * a
    a.add_(1)
    with raises_exactly(RuntimeError,
                        modified("[autograd_c.FloatTensor [3]], which is output 0 of Add,", 1)):
        b.sum().backward()


@pytest.mark.parametrize("op,name", [
    (lambda a: a.mul_(2), "Mul"),
    (lambda a: a.sub_(2), "Sub"),
    (lambda a: a.div_(2), "Div"),
    (_iadd, "Add"),
    (_imul, "Mul"),
], ids=["mul_", "sub_", "div_", "iadd", "imul"])
def test_modified_saved_input_other_inplace_ops(op, name):
    x = torch.ones(3, requires_grad=True)
    a = x * 1
    b = a * a
    op(a)
    with raises_exactly(RuntimeError, modified(
            "[autograd_c.FloatTensor [3]], which is output 0 of %s," % name, 1)):
        b.sum().backward()


def test_modified_saved_input_counts_every_write():
    x = torch.ones(3, requires_grad=True)
    a = x * 1
    b = a * a
    a.mul_(2)
    a.add_(1)
    a.sub_(1)
    with raises_exactly(RuntimeError,
                        modified("[autograd_c.FloatTensor [3]], which is output 0 of Sub,", 3)):
        b.sum().backward()


def test_modified_saved_input_under_no_grad_keeps_the_old_grad_fn():
    x = torch.ones(3, requires_grad=True)
    a = x * 1
    b = a * a
    with torch.no_grad():
        a.add_(1)
    with raises_exactly(RuntimeError,
                        modified("[autograd_c.FloatTensor [3]], which is output 0 of Mul,", 1)):
        b.sum().backward()


def test_modified_saved_input_through_detach():
    x = torch.ones(3, requires_grad=True)
    a = x * 1
    b = a * a
    a.detach().zero_()           # detach() shares the version counter
    with raises_exactly(RuntimeError,
                        modified("[autograd_c.FloatTensor [3]], which is output 0 of Mul,", 1)):
        b.sum().backward()


def test_modified_saved_input_float64_2d():
    x = torch.ones(2, 2, dtype=torch.float64, requires_grad=True)
    a = x * 1
    b = a @ a
    a.add_(1)
    with raises_exactly(RuntimeError, modified(
            "[autograd_c.DoubleTensor [2, 2]], which is output 0 of Add,", 1)):
        b.sum().backward()


def test_modified_saved_leaf():
    # a leaf has no grad_fn: torch leaves out the "which is output ..." clause
    x = torch.ones(3, requires_grad=True)
    y = x * x
    with torch.no_grad():
        x.add_(1)
    with raises_exactly(RuntimeError, modified("[autograd_c.FloatTensor [3]]", 1)):
        y.sum().backward()


def test_modified_saved_leaf_not_requiring_grad():
    x = torch.ones(2, 3, requires_grad=True)
    w = torch.ones(3, 4)
    y = x @ w
    w.add_(1)
    with raises_exactly(RuntimeError, modified("[autograd_c.FloatTensor [3, 4]]", 1)):
        y.sum().backward()


def test_modified_saved_output_exp():
    # exp saves its output: torch names the node that saved it, ExpBackward0 -> "Exp"
    x = torch.ones(3, requires_grad=True)
    y = x.exp()
    y.add_(1)
    with raises_exactly(RuntimeError,
                        modified("[autograd_c.FloatTensor [3]], which is output 0 of Exp,", 1)):
        y.sum().backward()


def test_modified_saved_output_twice():
    x = torch.ones(3, requires_grad=True)
    y = x.exp()
    y.add_(1)
    y.mul_(2)
    with raises_exactly(RuntimeError,
                        modified("[autograd_c.FloatTensor [3]], which is output 0 of Exp,", 2)):
        y.sum().backward()


@pytest.mark.parametrize("fn,name", [
    (lambda t: t.tanh(), "Tanh"),
    (lambda t: t.sigmoid(), "Sigmoid"),
    (lambda t: t.relu(), "Relu"),
    (lambda t: t.sqrt(), "Sqrt"),
], ids=["tanh", "sigmoid", "relu", "sqrt"])
def test_modified_saved_output_other_ops(fn, name):
    x = torch.ones(2, 3, requires_grad=True)
    y = fn(x * 1)
    y.mul_(2)
    with raises_exactly(RuntimeError, modified(
            "[autograd_c.FloatTensor [2, 3]], which is output 0 of %s," % name, 1)):
        y.sum().backward()


def test_modified_saved_output_by_item_assignment():
    x = torch.ones(3, requires_grad=True)
    y = x.sigmoid()
    y[0] = 1
    with raises_exactly(RuntimeError, modified(
            "[autograd_c.FloatTensor [3]], which is output 0 of Sigmoid,", 1)):
        y.sum().backward()


def test_inplace_through_data_is_not_tracked():
    # .data does not share the version counter: torch computes with the new values silently
    x = torch.ones(3, requires_grad=True)
    y = x.exp()
    y.data.add_(1)
    y.sum().backward()
    assert np.allclose(x.grad.tolist(), [np.e + 1] * 3)


def test_inplace_on_non_leaf_clamp_then_backward():
    # clamp_ on a non-leaf in grad mode is recorded by torch (ClampBackward1)
    x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    a = x * 1
    a.clamp_(0, 1)
    a.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


# -- shapes that do not broadcast --------------------------------------------------------------

BROADCAST = ("The size of tensor a (%d) must match the size of tensor b (%d) at non-singleton "
             "dimension %d")


@pytest.mark.parametrize("op", [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / b,
    lambda a, b: a ** b,
    lambda a, b: torch.maximum(a, b),
    lambda a, b: torch.minimum(a, b),
    lambda a, b: a < b,
    lambda a, b: a == b,
    lambda a, b: torch.where(a > 0, a, b),
], ids=["add", "sub", "mul", "div", "pow", "maximum", "minimum", "lt", "eq", "where"])
def test_shapes_that_do_not_broadcast(op):
    with raises_exactly(RuntimeError, BROADCAST % (3, 4, 0)):
        op(torch.ones(3), torch.ones(4))


@pytest.mark.parametrize("sa,sb,expected", [
    ((2, 3), (2, 4), (3, 4, 1)),
    ((5, 3), (4, 1, 2), (3, 2, 2)),
    ((4, 1, 2), (5, 3), (2, 3, 2)),
    ((2, 3), (3, 3), (2, 3, 0)),
])
def test_shapes_that_do_not_broadcast_names_the_dimension(sa, sb, expected):
    with raises_exactly(RuntimeError, BROADCAST % expected):
        torch.ones(sa) * torch.ones(sb)


def test_shapes_that_do_not_broadcast_with_requires_grad():
    a = torch.ones(3, requires_grad=True)
    with raises_exactly(RuntimeError, BROADCAST % (3, 4, 0)):
        a + torch.ones(4, requires_grad=True)


def test_inplace_result_shape_mismatch():
    x = torch.ones(3)
    with raises_exactly(RuntimeError,
                        "output with shape [3] doesn't match the broadcast shape [2, 3]"):
        x.add_(torch.ones(2, 3))


# -- matmul family -----------------------------------------------------------------------------

MAT_SHAPES = "mat1 and mat2 shapes cannot be multiplied (%s and %s)"
INCONSISTENT = ("inconsistent tensor size, expected tensor [%d] and src [%d] to have the same "
                "number of elements, but got %d and %d elements respectively")


@pytest.mark.parametrize("call,text", [
    (lambda: torch.ones(2, 3) @ torch.ones(4, 5), MAT_SHAPES % ("2x3", "4x5")),
    (lambda: torch.ones(2, 3).matmul(torch.ones(4, 5)), MAT_SHAPES % ("2x3", "4x5")),
    (lambda: torch.mm(torch.ones(2, 3), torch.ones(4, 5)), MAT_SHAPES % ("2x3", "4x5")),
    (lambda: torch.ones(2, 3).mm(torch.ones(2, 3)), MAT_SHAPES % ("2x3", "2x3")),
    (lambda: torch.matmul(torch.ones(3), torch.ones(4, 5)), MAT_SHAPES % ("1x3", "4x5")),
    (lambda: torch.matmul(torch.ones(3), torch.ones(4)), INCONSISTENT % (3, 4, 3, 4)),
    (lambda: torch.matmul(torch.ones(2, 3), torch.ones(4)),
     "size mismatch, got input (2), mat (2x3), vec (4)"),
    (lambda: torch.matmul(torch.ones(2, 2, 3), torch.ones(2, 4, 5)),
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]."),
    (lambda: torch.matmul(torch.ones(2, 2, 3), torch.ones(3, 3, 5)), BROADCAST % (2, 3, 0)),
    (lambda: torch.mm(torch.ones(3), torch.ones(3, 3)), "self must be a matrix"),
], ids=["at", "matmul", "mm", "mm_same", "vec_mat", "vec_vec", "mat_vec", "batched",
        "batch_broadcast", "mm_1d"])
def test_matmul_shape_mismatch(call, text):
    with raises_exactly(RuntimeError, text):
        call()


@pytest.mark.parametrize("call,text", [
    (lambda: torch.dot(torch.ones(3), torch.ones(4)), INCONSISTENT % (3, 4, 3, 4)),
    (lambda: torch.ones(3).dot(torch.ones(2)), INCONSISTENT % (3, 2, 3, 2)),
    (lambda: torch.dot(torch.ones(3, 1), torch.ones(3)),
     "1D tensors expected, but got 2D and 1D tensors"),
    (lambda: torch.dot(torch.ones(3), torch.ones(3, dtype=torch.float64)),
     "dot : expected both vectors to have same dtype, but found Float and Double"),
], ids=["length", "method", "2d", "dtype"])
def test_dot_mismatch(call, text):
    with raises_exactly(RuntimeError, text):
        call()


@pytest.mark.parametrize("call,text", [
    (lambda: torch.mv(torch.ones(2, 3), torch.ones(4)),
     "size mismatch, got input (2), mat (2x3), vec (4)"),
    (lambda: torch.ones(5, 2).mv(torch.ones(3)),
     "size mismatch, got input (5), mat (5x2), vec (3)"),
    (lambda: torch.mv(torch.ones(3), torch.ones(3)),
     "vector + matrix @ vector expected, got 1, 1, 1"),
], ids=["length", "method", "1d"])
def test_mv_mismatch(call, text):
    with raises_exactly(RuntimeError, text):
        call()


@pytest.mark.parametrize("call,text", [
    (lambda: torch.bmm(torch.ones(2, 2, 3), torch.ones(2, 4, 5)),
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]."),
    (lambda: torch.bmm(torch.ones(2, 2, 3), torch.ones(3, 3, 5)),
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3]."),
    (lambda: torch.bmm(torch.ones(2, 3), torch.ones(2, 3, 5)), "batch1 must be a 3D tensor"),
], ids=["inner", "batch", "2d"])
def test_bmm_mismatch(call, text):
    with raises_exactly(RuntimeError, text):
        call()


# -- dim out of range --------------------------------------------------------------------------

DIM_RANGE = "Dimension out of range (expected to be in range of [%d, %d], but got %d)"

DIM_OPS = {
    "sum": lambda x, d: x.sum(dim=d),
    "mean": lambda x, d: x.mean(dim=d),
    "prod": lambda x, d: x.prod(dim=d),
    "max": lambda x, d: x.max(dim=d),
    "min": lambda x, d: x.min(dim=d),
    "amax": lambda x, d: x.amax(dim=d),
    "amin": lambda x, d: x.amin(dim=d),
    "argmax": lambda x, d: x.argmax(dim=d),
    "argmin": lambda x, d: x.argmin(dim=d),
    "var": lambda x, d: x.var(dim=d),
    "std": lambda x, d: x.std(dim=d),
    "norm": lambda x, d: x.norm(dim=d),
    "logsumexp": lambda x, d: x.logsumexp(dim=d),
    "softmax": lambda x, d: x.softmax(dim=d),
    "log_softmax": lambda x, d: x.log_softmax(dim=d),
    "cumsum": lambda x, d: x.cumsum(dim=d),
    "all": lambda x, d: (x > 0).all(dim=d),
    "any": lambda x, d: (x > 0).any(dim=d),
    "squeeze": lambda x, d: x.squeeze(d),
    "transpose": lambda x, d: x.transpose(0, d),
    "split": lambda x, d: x.split(1, dim=d),
    "chunk": lambda x, d: x.chunk(2, dim=d),
    "unbind": lambda x, d: x.unbind(d),
    "narrow": lambda x, d: x.narrow(d, 0, 1),
    "size": lambda x, d: x.size(d),
    "flatten": lambda x, d: x.flatten(d),
    "cat": lambda x, d: torch.cat([x, x], dim=d),
}


@pytest.mark.parametrize("name", sorted(DIM_OPS))
@pytest.mark.parametrize("d", [2, -3, 7])
def test_dim_out_of_range(name, d):
    with raises_exactly(IndexError, DIM_RANGE % (-2, 1, d)):
        DIM_OPS[name](torch.ones(2, 3), d)


@pytest.mark.parametrize("call,text", [
    (lambda: torch.ones(2, 3).unsqueeze(3), DIM_RANGE % (-3, 2, 3)),
    (lambda: torch.ones(2, 3).unsqueeze(-4), DIM_RANGE % (-3, 2, -4)),
    (lambda: torch.stack([torch.ones(2, 3)] * 2, dim=3), DIM_RANGE % (-3, 2, 3)),
    (lambda: torch.stack([torch.ones(2, 3)] * 2, dim=-4), DIM_RANGE % (-3, 2, -4)),
    (lambda: torch.tensor(1.0).sum(dim=1), DIM_RANGE % (-1, 0, 1)),
    (lambda: torch.tensor(1.0).softmax(dim=-2), DIM_RANGE % (-1, 0, -2)),
    (lambda: torch.ones(3).squeeze(1), DIM_RANGE % (-1, 0, 1)),
    (lambda: torch.ones(2, 3).permute(0, 2), DIM_RANGE % (-2, 1, 2)),
    (lambda: torch.ones(2, 3).gather(2, torch.zeros(2, 3, dtype=torch.int64)),
     DIM_RANGE % (-2, 1, 2)),
], ids=["unsqueeze", "unsqueeze_neg", "stack", "stack_neg", "0d_sum", "0d_softmax", "1d_squeeze",
        "permute", "gather"])
def test_dim_out_of_range_other_ranks(call, text):
    with raises_exactly(IndexError, text):
        call()


def test_repeated_dim():
    with raises_exactly(RuntimeError, "dim 0 appears multiple times in the list of dims"):
        torch.ones(3).sum(dim=(0, 0))
    with raises_exactly(RuntimeError, "dim 1 appears multiple times in the list of dims"):
        torch.ones(2, 3).sum(dim=(1, -1))


# -- view / reshape with a bad shape -----------------------------------------------------------

@pytest.mark.parametrize("method", ["view", "reshape"])
@pytest.mark.parametrize("shape,text", [
    ((3, 5), "shape '[3, 5]' is invalid for input of size 12"),
    ((-1, 5), "shape '[-1, 5]' is invalid for input of size 12"),
    ((13,), "shape '[13]' is invalid for input of size 12"),
    ((0, -1), "shape '[0, -1]' is invalid for input of size 12"),
    ((-1, -1), "only one dimension can be inferred"),
    ((-2, 6), "invalid shape dimension -2 at index 0 of shape [-2, 6]"),
    ((6, -3), "invalid shape dimension -3 at index 1 of shape [6, -3]"),
], ids=["3x5", "infer_x5", "13", "0_infer", "two_infer", "neg2", "neg3"])
def test_bad_shape(method, shape, text):
    x = torch.ones(12)
    with raises_exactly(RuntimeError, text):
        getattr(x, method)(*shape)


VIEW_STRIDE = ("view size is not compatible with input tensor's size and stride (at least one "
               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")


@pytest.mark.parametrize("make,shape", [
    (lambda: torch.ones(3, 4).t(), (12,)),
    (lambda: torch.ones(3, 4).t(), (-1,)),
    (lambda: torch.ones(2, 3, 4).permute(2, 0, 1), (8, 3)),
    (lambda: torch.ones(2, 3)[:, ::2], (4,)),
    (lambda: torch.ones(3).expand(2, 3), (6,)),
], ids=["t", "t_infer", "permute", "strided", "expanded"])
def test_view_on_non_contiguous(make, shape):
    x = make()
    with raises_exactly(RuntimeError, VIEW_STRIDE):
        x.view(*shape)
    assert x.reshape(*shape).shape == torch.Size(
        shape if -1 not in shape else (x.numel(),))      # reshape copies instead


def test_expand_with_too_few_sizes():
    with raises_exactly(RuntimeError,
                        "expand(autograd_c.FloatTensor{[2, 3]}, size=[3]): the number of sizes "
                        "provided (1) must be greater or equal to the number of dimensions in "
                        "the tensor (2)"):
        torch.ones(2, 3).expand(3)


def test_expand_to_incompatible_size():
    with raises_exactly(RuntimeError,
                        "The expanded size of the tensor (3) must match the existing size (2) at "
                        "non-singleton dimension 0.  Target sizes: [3, 3].  Tensor sizes: [2, 3]"):
        torch.ones(2, 3).expand(3, 3)


# -- item() and bool() of a multi-element tensor -----------------------------------------------

@pytest.mark.parametrize("shape,n", [((3,), 3), ((2, 2), 4), ((0,), 0), ((2, 0), 0)])
def test_item_on_multi_element(shape, n):
    with raises_exactly(RuntimeError, "a Tensor with %d elements cannot be converted to Scalar" % n):
        torch.ones(shape).item()


@pytest.mark.parametrize("shape", [(1,), (1, 1), ()])
def test_item_on_one_element(shape):
    assert torch.full(shape, 2.5).item() == 2.5


@pytest.mark.parametrize("shape", [(3,), (2, 2), (2, 1)])
def test_bool_of_multi_element(shape):
    with raises_exactly(RuntimeError, "Boolean value of Tensor with more than one value is ambiguous"):
        bool(torch.ones(shape))
    with raises_exactly(RuntimeError, "Boolean value of Tensor with more than one value is ambiguous"):
        if torch.ones(shape) > 0:
            pass


def test_bool_of_empty():
    with raises_exactly(RuntimeError, "Boolean value of Tensor with no values is ambiguous"):
        bool(torch.ones(0))


@pytest.mark.parametrize("conv", [float, int])
def test_scalar_conversion_of_multi_element(conv):
    with raises_exactly(ValueError, "only one element tensors can be converted to Python scalars"):
        conv(torch.ones(3))


# -- indexing ----------------------------------------------------------------------------------

@pytest.mark.parametrize("call,text", [
    (lambda: torch.ones(3)[3], "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: torch.ones(3)[-4], "index -4 is out of bounds for dimension 0 with size 3"),
    (lambda: torch.ones(3, 4)[0, 5], "index 5 is out of bounds for dimension 1 with size 4"),
    (lambda: torch.ones(3, 4)[:, 4], "index 4 is out of bounds for dimension 1 with size 4"),
    (lambda: torch.ones(3)[torch.tensor([5])],
     "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda: torch.ones(3)[[0, 3]], "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: torch.ones(0)[0], "index 0 is out of bounds for dimension 0 with size 0"),
], ids=["int", "negative", "second_dim", "slice_then_int", "tensor", "list", "empty"])
def test_index_out_of_range(call, text):
    with raises_exactly(IndexError, text):
        call()


def test_index_assignment_out_of_range():
    x = torch.ones(3)
    with raises_exactly(IndexError, "index 3 is out of bounds for dimension 0 with size 3"):
        x[3] = 1
    assert x.tolist() == [1.0, 1.0, 1.0]


def test_too_many_indices():
    with raises_exactly(IndexError, "too many indices for tensor of dimension 2"):
        torch.ones(3, 4)[0, 0, 0]


def test_int_index_into_0d():
    with raises_exactly(IndexError, "invalid index of a 0-dim tensor. Use `tensor.item()` in "
                        "Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a "
                        "number"):
        torch.tensor(1.0)[0]


def test_boolean_mask_of_wrong_shape():
    with raises_exactly(IndexError, "The shape of the mask [2] at index 0 does not match the shape "
                        "of the indexed tensor [3, 4] at index 0"):
        torch.ones(3, 4)[torch.tensor([True, False])]


FLOAT_INDEX_TENSOR = "tensors used as indices must be long, int, byte or bool tensors"
BAD_INDEX = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
             "valid indices (got %s)")


@pytest.mark.parametrize("index", [
    lambda: torch.tensor([1.0]),
    lambda: torch.tensor(1.0),
    lambda: torch.tensor([[0.0, 1.0]], dtype=torch.float64),
    lambda: (0, torch.tensor([1.0])),
], ids=["1d", "0d", "2d_double", "in_tuple"])
def test_float_tensor_as_index(index):
    x = torch.ones(3, 3)
    with raises_exactly(IndexError, FLOAT_INDEX_TENSOR):
        x[index()]
    with raises_exactly(IndexError, FLOAT_INDEX_TENSOR):
        x[index()] = 0.0
    assert x.sum().item() == 9.0


def test_python_float_as_index():
    x = torch.ones(3)
    with raises_exactly(IndexError, BAD_INDEX % "float"):
        x[1.5]
    with raises_exactly(IndexError, BAD_INDEX % "float"):
        x[1.5] = 2
    with raises_exactly(IndexError, BAD_INDEX % "float"):
        torch.ones(3, 3)[0, 1.0]


@pytest.mark.parametrize("index,name", [({}, "dict"), (object(), "object")])
def test_other_objects_as_index(index, name):
    with raises_exactly(IndexError, BAD_INDEX % name):
        torch.ones(3)[index]


def test_slice_with_zero_step():
    with raises_exactly(ValueError, "slice step cannot be zero"):
        torch.ones(3)[::0]


def test_slice_with_negative_step():
    with raises_exactly(ValueError, "step must be greater than zero"):
        torch.ones(3)[::-1]


def test_gather_index_out_of_range():
    with raises_exactly(RuntimeError, "index 5 is out of bounds for dimension 1 with size 3"):
        torch.ones(2, 3).gather(1, torch.tensor([[0, 5]]))


def test_gather_float_index():
    with raises_exactly(RuntimeError, "gather(): Expected dtype int32/int64 for index"):
        torch.ones(2, 3).gather(1, torch.tensor([[0.0, 1.0]]))


# -- cat / stack with mismatched shapes --------------------------------------------------------

@pytest.mark.parametrize("call,text", [
    (lambda: torch.cat([torch.ones(2, 3), torch.ones(2, 4)]),
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for "
     "tensor number 1 in the list."),
    (lambda: torch.cat([torch.ones(2, 3), torch.ones(1, 4)], dim=1),
     "Sizes of tensors must match except in dimension 1. Expected size 2 but got size 1 for "
     "tensor number 1 in the list."),
    (lambda: torch.cat([torch.ones(2, 3), torch.ones(2, 3), torch.ones(2, 5)]),
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 5 for "
     "tensor number 2 in the list."),
    (lambda: torch.cat([torch.ones(2, 3), torch.ones(3)]),
     "Tensors must have same number of dimensions: got 2 and 1"),
    (lambda: torch.stack([torch.ones(2, 3), torch.ones(2, 4)]),
     "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [2, 4] at entry 1"),
    (lambda: torch.stack([torch.ones(3), torch.ones(3), torch.ones(2)]),
     "stack expects each tensor to be equal size, but got [3] at entry 0 and [2] at entry 2"),
    (lambda: torch.stack([torch.ones(2, 3), torch.ones(3, 2)], dim=1),
     "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [3, 2] at entry 1"),
    (lambda: torch.stack([]), "stack expects a non-empty TensorList"),
], ids=["cat_dim0", "cat_dim1", "cat_third", "cat_rank", "stack", "stack_third", "stack_dim1",
        "stack_empty"])
def test_cat_stack_mismatch(call, text):
    with raises_exactly(RuntimeError, text):
        call()


def test_cat_empty_list():
    with raises_exactly(ValueError, "torch.cat(): expected a non-empty list of Tensors"):
        torch.cat([])


def test_cat_legacy_empty_1d_is_allowed():
    # torch skips 1-d empty tensors in cat, whatever the other shapes
    assert torch.cat([torch.ones(2, 3), torch.ones(0)]).shape == torch.Size([2, 3])


@pytest.mark.parametrize("item,name", [(1, "int"), (None, "NoneType"), ("a", "str"),
                                        ([1.0], "list")])
def test_cat_non_tensor_element(item, name):
    text = "expected Tensor as element 1 in argument 0, but got %s" % name
    with raises_exactly(TypeError, text):
        torch.cat([torch.ones(3), item])
    with raises_exactly(TypeError, text):
        torch.stack([torch.ones(3), item])


# -- .grad of a non-leaf, requires_grad on a non-leaf ------------------------------------------

NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information.")
# torch appends " (Triggered internally at .../TensorBody.h:NNN.)", the C++ source location of
# its warning; there is no such location here, so the text ends at "information."


def test_grad_of_non_leaf_warns():
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None
    assert [w.category for w in caught] == [UserWarning]
    assert str(caught[0].message) == NON_LEAF_GRAD


def test_grad_of_non_leaf_warns_after_backward_too():
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    y.sum().backward()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None
    assert [str(w.message) for w in caught] == [NON_LEAF_GRAD]


def test_grad_of_non_leaf_warning_points_at_the_caller():
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y.grad
    assert caught[0].filename == __file__


def test_no_warning_for_leaf_or_retained_grad():
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None
        assert y.grad is None
        assert torch.ones(3).grad is None
        y.sum().backward()
        assert y.grad.tolist() == [1.0, 1.0, 1.0]


NON_LEAF_REQUIRES_GRAD_OFF = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")


def test_requires_grad_false_on_non_leaf_setter():
    y = torch.ones(3, requires_grad=True) * 2
    with raises_exactly(RuntimeError, NON_LEAF_REQUIRES_GRAD_OFF):
        y.requires_grad = False
    assert y.requires_grad


def test_requires_grad_false_on_non_leaf_method():
    y = torch.ones(3, requires_grad=True) * 2
    with raises_exactly(RuntimeError, NON_LEAF_REQUIRES_GRAD_OFF):
        y.requires_grad_(False)
    assert y.requires_grad


def test_requires_grad_true_on_non_leaf_setter():
    # the setter refuses any change on a non-leaf, with a shorter text
    y = torch.ones(3, requires_grad=True) * 2
    with raises_exactly(RuntimeError, "you can only change requires_grad flags of leaf variables."):
        y.requires_grad = True


def test_requires_grad_true_on_non_leaf_method_is_allowed():
    y = torch.ones(3, requires_grad=True) * 2
    assert y.requires_grad_(True) is y
    assert y.requires_grad_() is y
