"""Gradients of gradients (create_graph=True): the recording pass itself, the elementwise ops'
graph rules, custom Functions, hooks and anomaly mode in that pass, gradgradcheck, and
autograd.functional's Hessian family. Each is checked by gradgradcheck (finite differences of
the first derivatives, float64) and, where torch is installed, against torch."""
import warnings

import numpy as np
import pytest

import autograd_c as ac
from autograd_c.autograd import GradcheckError, gradcheck, gradgradcheck
from test_autograd_function import legendre_class

try:
    import torch
except ImportError:  # the torch-free tests still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")

RNG = np.random.default_rng(7)
A = RNG.uniform(0.3, 1.2, (2, 3))
B = RNG.uniform(0.3, 1.2, (3,))


def leaves(lib, *arrays):
    return [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]


def values(t):
    if t is None:
        return None
    if isinstance(t, (tuple, list)):
        return [values(v) for v in t]
    return np.array(t.detach().numpy(), dtype=np.float64)


def second_derivatives(lib, f, arrays, weights_seed=0):
    """(first gradients, gradients of a weighted sum of them), both as arrays."""
    xs = leaves(lib, *arrays)
    out = f(*xs)
    firsts = lib.autograd.grad(out.sum() if out.dim() else out, xs, create_graph=True)
    rng = np.random.default_rng(weights_seed)
    total = sum((g * lib.tensor(rng.uniform(-1, 1, tuple(g.shape)), dtype=lib.float64)).sum()
                for g in firsts)
    seconds = lib.autograd.grad(total, xs, allow_unused=True)
    return values(firsts), values(seconds)


def close(a, b, tol=1e-10):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(close(p, q, tol) for p, q in zip(a, b))
    return a.shape == b.shape and np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True)


# -- the elementwise family ---------------------------------------------------------------------

POINTWISE = {
    "neg": lambda lib, a, b: -a * b,
    "abs": lambda lib, a, b: (a - 0.7).abs() * a * b,
    "exp": lambda lib, a, b: a.exp() * b,
    "log": lambda lib, a, b: a.log() * b,
    "log2": lambda lib, a, b: a.log2() * b,
    "log10": lambda lib, a, b: a.log10() * b,
    "sqrt": lambda lib, a, b: a.sqrt() * b,
    "rsqrt": lambda lib, a, b: a.rsqrt() * b,
    "sin": lambda lib, a, b: a.sin() * b,
    "cos": lambda lib, a, b: a.cos() * b,
    "tanh": lambda lib, a, b: a.tanh() * b,
    "sigmoid": lambda lib, a, b: a.sigmoid() * b,
    "relu": lambda lib, a, b: (a - 0.7).relu() * a * b,
    "reciprocal": lambda lib, a, b: a.reciprocal() * b,
    "add_sub_alpha": lambda lib, a, b: (lib.add(a, b, alpha=2) - lib.sub(b, a, alpha=3)) * a,
    "rsub": lambda lib, a, b: (1 - a) * (2 - b) * a,
    "mul_broadcast": lambda lib, a, b: a * b * a,
    "div": lambda lib, a, b: a / b + b / (a + 1) + 2 / a + a / 3,
    "pow_scalar": lambda lib, a, b: a.pow(3) * b + a.pow(0.5) + a.pow(-2),
    "pow_tensor": lambda lib, a, b: a ** b,
    "pow_base": lambda lib, a, b: 2 ** b * a,
    "where": lambda lib, a, b: lib.where(a > 0.7, a * a, b * a),
    "clamp": lambda lib, a, b: a.clamp(0.5, 1.0) * a * b,
    "clamp_tensors": lambda lib, a, b: lib.clamp(a, min=b * 0.8, max=b * 1.2) * a,
    "maximum": lambda lib, a, b: lib.maximum(a, b) * a,
    "minimum": lambda lib, a, b: lib.minimum(a, b) * b,
    "masked_fill": lambda lib, a, b: (a * b).masked_fill(a > 0.8, 0.5) * a,
    "remainder": lambda lib, a, b: lib.remainder(a * 3, b) * a,
    "sign_round": lambda lib, a, b: (a.sign() + (a * 4).round() + (a * 4).floor()) * a * b,
}


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_second_derivatives_pass_gradgradcheck(name):
    f = POINTWISE[name]
    a, b = leaves(ac, A, B)
    assert gradgradcheck(lambda x, y: f(ac, x, y), (a, b))


@needs_torch
@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_second_derivatives_match_torch(name):
    f = POINTWISE[name]
    ours = second_derivatives(ac, lambda x, y: f(ac, x, y), (A, B))
    theirs = second_derivatives(torch, lambda x, y: f(torch, x, y), (A, B))
    assert close(ours, theirs)


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_first_derivatives_with_create_graph_equal_those_without(name):
    f = POINTWISE[name]
    xs = leaves(ac, A, B)
    plain = ac.autograd.grad(f(ac, *xs).sum(), xs)
    recorded = ac.autograd.grad(f(ac, *xs).sum(), xs, create_graph=True)
    for p, r in zip(plain, recorded):
        np.testing.assert_allclose(r.detach().numpy(), p.numpy(), rtol=1e-13, atol=1e-13)


def test_third_derivative_through_three_recorded_passes():
    x = ac.tensor([0.5, 2.0], dtype=ac.float64, requires_grad=True)
    y = (x ** 4 + x.sin()).sum()
    g1, = ac.autograd.grad(y, x, create_graph=True)
    g2, = ac.autograd.grad(g1.sum(), x, create_graph=True)
    g3, = ac.autograd.grad(g2.sum(), x)
    expected = 24 * np.array([0.5, 2.0]) - np.cos([0.5, 2.0])
    np.testing.assert_allclose(g3.numpy(), expected, rtol=1e-12)


def test_a_gradient_that_does_not_depend_on_the_inputs_has_no_history():
    w = ac.tensor([3., 4.], requires_grad=True)
    g, = ac.autograd.grad((w * 2).sum(), w, create_graph=True)
    assert g.tolist() == [2., 2.] and not g.requires_grad and g.grad_fn is None


# -- the recording pass: leaves, retained gradients, targets ------------------------------------

def test_leaf_grad_is_a_recorded_copy_then_an_out_of_place_sum():
    x = ac.tensor([1., 2.], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (x ** 3).sum().backward(create_graph=True)
        first = x.grad
        assert first.grad_fn.name() == "CopyBackwards"
        (x ** 3).sum().backward(create_graph=True)
    assert x.grad.grad_fn.name() == "AddBackward0"
    assert first.tolist() == [3., 12.]                 # the first .grad was not written to
    assert x.grad.tolist() == [6., 24.]
    assert ac.autograd.grad(x.grad.sum(), x)[0].tolist() == [12., 24.]


def test_retained_grad_of_a_non_leaf_is_a_recorded_clone():
    a = ac.tensor([1., 2.], requires_grad=True)
    b = a * 1
    b.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (b * b).sum().backward(create_graph=True)
    assert b.grad.grad_fn.name() == "CloneBackward0" and b.grad.tolist() == [2., 4.]
    assert ac.autograd.grad(b.grad.sum(), a)[0].tolist() == [2., 2.]


def test_the_reference_cycle_warning_is_given_once_per_process(monkeypatch):
    import autograd_c.autograd as autograd
    monkeypatch.setattr(autograd, "_warned_create_graph_cycle", False)
    x = ac.tensor([1.], requires_grad=True)
    with pytest.warns(UserWarning, match="create a reference cycle between the parameter and "
                                         "its gradient"):
        (x * x).sum().backward(create_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x * x).sum().backward(create_graph=True)
        ac.autograd.grad((x * x).sum(), x, create_graph=True)   # grad() never warns


def test_backward_inputs_with_create_graph_accumulates_only_the_named_tensors():
    x = ac.tensor([1., 2.], dtype=ac.float64, requires_grad=True)
    w = ac.tensor([3., 4.], dtype=ac.float64, requires_grad=True)
    h = x * w
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (h * h).sum().backward(create_graph=True, inputs=[x, h])
    assert w.grad is None
    assert x.grad.tolist() == [18., 64.] and h.grad.tolist() == [6., 16.]     # 2xw^2, 2xw
    assert ac.autograd.grad(x.grad.sum(), w)[0].tolist() == [12., 32.]        # 4xw


def test_grad_of_a_non_leaf_with_create_graph():
    x = ac.tensor([1., 2.], dtype=ac.float64, requires_grad=True)
    h = x * x
    g, = ac.autograd.grad((h * h * h).sum(), h, create_graph=True)
    assert np.allclose(g.detach().numpy(), 3 * np.array([1., 16.]))
    assert np.allclose(ac.autograd.grad(g.sum(), x)[0].numpy(), 6 * np.array([1., 4.]) * 2 * np.array([1., 2.]))


def test_grad_outputs_that_require_grad_are_part_of_the_recorded_graph():
    x = ac.tensor([1., 2.], dtype=ac.float64, requires_grad=True)
    v = ac.tensor([0.5, -1.], dtype=ac.float64, requires_grad=True)
    g, = ac.autograd.grad(x.exp(), x, v, create_graph=True)
    gv, gx = ac.autograd.grad(g.sum(), (v, x))
    np.testing.assert_allclose(gv.numpy(), np.exp([1., 2.]))
    np.testing.assert_allclose(gx.numpy(), [0.5 * np.exp(1.), -np.exp(2.)])


def test_without_retain_graph_the_original_graph_is_freed_as_in_torch():
    x = ac.tensor([1., 2.], dtype=ac.float64, requires_grad=True)
    g, = ac.autograd.grad((x.exp()).sum(), x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        ac.autograd.grad(g.sum(), x)


@needs_torch
def test_gradient_penalty_training_step_matches_torch():
    rng = np.random.default_rng(3)
    W1, W2, X = rng.normal(size=(4, 5)), rng.normal(size=(5, 1)), rng.normal(size=(6, 4))

    def step(lib):
        w1, w2 = leaves(lib, W1, W2)
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        score = (x @ w1).tanh() @ w2
        g, = lib.autograd.grad(score.sum(), x, create_graph=True)
        penalty = (((g * g).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
        loss = score.mean() + 10 * penalty
        loss.backward()
        return [float(loss), w1.grad.numpy(), w2.grad.numpy()]

    ours, theirs = step(ac), step(torch)
    assert abs(ours[0] - theirs[0]) < 1e-12
    assert close([ours[1], ours[2]], [theirs[1], theirs[2]])


# -- custom Functions --------------------------------------------------------------------------

def test_a_function_whose_backward_uses_tensor_ops_is_twice_differentiable():
    P3 = legendre_class(ac)
    x, = leaves(ac, B)
    assert gradgradcheck(P3.apply, (x,))
    g, = ac.autograd.grad(P3.apply(x).sum(), x, create_graph=True)
    h, = ac.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 15 * B, rtol=1e-12)


def test_gradgradcheck_rejects_a_backward_that_is_right_only_to_first_order():
    class Cube(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            return grad_output * 3 * x.detach() ** 2       # no history through x

    x, = leaves(ac, B)
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(Cube.apply, (x,))


def two_outputs(lib):
    class SinCos(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs, gc):
            x, = ctx.saved_tensors
            return gs * x.cos() - gc * x.sin()

    return SinCos


@needs_torch
def test_a_function_with_two_outputs_matches_torch_to_second_order():
    def f(lib):
        SinCos = two_outputs(lib)
        return lambda x, y: (lambda s, c: s * y + c * c)(*SinCos.apply(x))

    assert close(second_derivatives(ac, f(ac), (B, B[::-1].copy())),
                 second_derivatives(torch, f(torch), (B, B[::-1].copy())))


def once(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * g * x

    return Square


@pytest.mark.parametrize("lib_name", ["ac", "torch"])
def test_differentiating_through_a_once_differentiable_backward_raises(lib_name):
    if lib_name == "torch" and torch is None:
        pytest.skip("torch (the oracle) is not installed")
    lib = ac if lib_name == "ac" else torch
    x = lib.tensor([1., 2.], dtype=lib.float64, requires_grad=True)
    y = once(lib).apply(x)
    g, = lib.autograd.grad(y.sum(), x, create_graph=True)
    assert g.tolist() == [2., 4.]                       # the first derivative is fine
    v = lib.tensor([1., 1.], dtype=lib.float64, requires_grad=True)
    g, = lib.autograd.grad(y, x, v, create_graph=True)
    assert g.tolist() == [2., 4.] and "Error" in repr(g.grad_fn)
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was "
                                           "marked with @once_differentiable"):
        g.sum().backward()


# -- hooks and anomaly mode in a recording pass -------------------------------------------------

def test_hooks_see_and_replace_tensors_with_history():
    x = ac.tensor([1., 2.], dtype=ac.float64, requires_grad=True)
    h = x * x
    seen = []
    h.register_hook(lambda g: g * 2)
    h.grad_fn.register_hook(lambda gi, go: seen.append((gi[0].requires_grad, go[0].tolist())))
    g, = ac.autograd.grad((h * x).sum(), x, create_graph=True)
    # d/dx of h*x = h + x * dh/dx, with the hook doubling the gradient reaching h: 2x*x + x^2
    assert g.tolist() == [1. + 2 * 2, 4. + 2 * 8]
    assert seen == [(True, [2., 4.])]
    # as in torch, the second pass reaches h's node again (through the saved h of h * x), and
    # h's hook doubles the gradient arriving there too: 12x where the hook-free value is 10x
    second, = ac.autograd.grad(g.sum(), x)
    assert second.tolist() == [12., 24.]


def test_a_hook_that_changes_the_size_is_refused_in_a_recording_pass():
    x = ac.tensor([1., 2.], requires_grad=True)
    h = x * x
    h.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the size of value"):
        ac.autograd.grad(h.sum(), x, create_graph=True)


def test_anomaly_mode_names_the_node_that_made_nan_in_a_recording_pass():
    x = ac.tensor([-1., 4.], dtype=ac.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # the mode's own warning, and the forward stack
        with ac.autograd.detect_anomaly():
            y = x.sqrt()
            with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values "
                                                   "in its 0th output."):
                ac.autograd.grad(y.sum(), x, create_graph=True)


# -- autograd.functional ------------------------------------------------------------------------

def scalar_f(lib):
    return lambda a, b: (a.exp() * b).sum() + (a * a * a).sum() * b.sin().sum()


def functional_results(lib):
    F = lib.autograd.functional
    x, y = (lib.tensor(v, dtype=lib.float64) for v in (A, B))
    f = scalar_f(lib)
    out = {
        "hessian": F.hessian(f, (x, y)),
        "hessian_single": F.hessian(lambda a: (a ** 3).sum() * a.sum(), y),
        "vhp": F.vhp(f, (x, y), (x * 0 + 1, y)),
        "hvp": F.hvp(f, (x, y), (x * 0 + 1, y)),
        "jvp": F.jvp(lambda a, b: a * b.exp(), (x, y), (x, y)),
        "vjp": F.vjp(lambda a, b: a * b.exp(), (x, y), x),
    }
    xg = x.clone().requires_grad_(True)
    out["jacobian_create_graph"] = lib.autograd.grad(
        F.jacobian(lambda a: a.sin() * a, xg, create_graph=True).sum(), xg)
    out["hessian_create_graph"] = lib.autograd.grad(
        F.hessian(lambda a: (a ** 4).sum(), xg, create_graph=True).sum(), xg)
    out["vjp_create_graph"] = lib.autograd.grad(
        F.vjp(lambda a: a.exp(), xg, xg, create_graph=True)[1].sum(), xg)
    return out


@needs_torch
def test_functional_hessian_family_matches_torch():
    ours, theirs = functional_results(ac), functional_results(torch)
    for key in ours:
        assert close(values(ours[key]), values(theirs[key])), key


def test_functional_hessian_is_the_matrix_of_second_derivatives():
    F = ac.autograd.functional
    y = ac.tensor(B, dtype=ac.float64)
    H = F.hessian(lambda a: (a ** 3).sum(), y)
    np.testing.assert_allclose(H.numpy(), np.diag(6 * B), rtol=1e-12)
    _, vh = F.vhp(lambda a: (a ** 3).sum(), y, ac.ones(3, dtype=ac.float64))
    _, hv = F.hvp(lambda a: (a ** 3).sum(), y, ac.ones(3, dtype=ac.float64))
    np.testing.assert_allclose(vh.numpy(), 6 * B, rtol=1e-12)
    np.testing.assert_allclose(hv.numpy(), 6 * B, rtol=1e-12)
    assert not H.requires_grad and not vh.requires_grad


@pytest.mark.parametrize("lib_name", ["ac", "torch"])
def test_functional_errors_are_torchs(lib_name):
    if lib_name == "torch" and torch is None:
        pytest.skip("torch (the oracle) is not installed")
    lib = ac if lib_name == "ac" else torch
    F = lib.autograd.functional
    y = lib.tensor(B, dtype=lib.float64)
    with pytest.raises(RuntimeError, match="The function given to hessian should return a single "
                                           "Tensor"):
        F.hessian(lambda a: (a.sum(), a.sum()), y)
    with pytest.raises(RuntimeError, match="The Tensor returned by the function given to vhp "
                                           "should contain a single element"):
        F.vhp(lambda a: a * 2, y, y)
    with pytest.raises(RuntimeError, match="v has invalid size: should be torch.Size\\(\\[3\\]\\)"
                       if lib is torch else "v has invalid size: should be autograd_c.Size"
                                            "\\(\\[3\\]\\)"):
        F.hvp(lambda a: a.sum(), y, y[:2])
    with pytest.raises(RuntimeError, match="While computing the hessian, found that the jacobian "
                                           "of the user-provided function with respect to input "
                                           "0 is independent of the input"):
        F.hessian(lambda a: (a * 2).sum(), y, strict=True)
    with pytest.raises(RuntimeError, match="The output of the user-provided function is "
                                           "independent of input 1. This is not allowed in "
                                           "strict mode."):
        F.vjp(lambda a, b: (a * 2).sum(), (y, y), strict=True)


# -- a whole network -----------------------------------------------------------------------------

@needs_torch
def test_input_gradient_penalty_through_a_small_cnn_matches_torch():
    """Every layer of a training step's network under create_graph: convolution, batch norm,
    pooling, linear and the loss, differentiated twice, against torch from the same weights."""
    rng = np.random.default_rng(5)
    shapes = {"conv1.weight": (4, 2, 3, 3), "conv1.bias": (4,), "bn.weight": (4,),
              "bn.bias": (4,), "conv2.weight": (3, 4, 3, 3), "fc.weight": (5, 3), "fc.bias": (5,)}
    weights = {k: rng.normal(scale=0.5, size=s) for k, s in shapes.items()}
    X = rng.normal(size=(3, 2, 8, 8))

    def step(lib):
        F = lib.nn.functional
        p = {k: lib.tensor(v, dtype=lib.float64, requires_grad=True) for k, v in weights.items()}
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        h = F.conv2d(x, p["conv1.weight"], p["conv1.bias"], padding=1)
        h = F.batch_norm(h, None, None, p["bn.weight"], p["bn.bias"], training=True)
        h = F.max_pool2d(F.relu(h), 2)
        h = F.conv2d(h, p["conv2.weight"], stride=2)
        h = F.adaptive_avg_pool2d(F.avg_pool2d(h, 1), 1).flatten(1)
        loss = F.cross_entropy(F.linear(h, p["fc.weight"], p["fc.bias"]), lib.tensor([0, 3, 1]))
        g, = lib.autograd.grad(loss, x, create_graph=True)
        (loss + (g * g).sum()).backward()
        return [p[k].grad.numpy() for k in sorted(p)]

    assert close(step(ac), step(torch), tol=1e-9)
