"""autograd.grad, backward(inputs=...) and the hook API (tensor hooks, post-accumulate-grad hooks,
node pre/post hooks, RemovableHandle, grad_fn.metadata).

Most scenarios are written once against a module `T` (autograd_c, or torch 2.13 when it is
installed) and compared with hand-derived values: the autograd_c test runs without torch, and
the torch test confirms that the expected values (and error messages) are torch's."""
import math
import warnings

import numpy as np
import pytest

import autograd_c as ac
from autograd_c.autograd import GradcheckError, gradcheck
from autograd_c.utils.hooks import RemovableHandle

try:
    import torch
except ImportError:  # the torch-free tests still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")

TENSOR_TYPES = (ac.Tensor,) + ((torch.Tensor,) if torch is not None else ())


def py(value):
    """Tensors to nested lists (None stays None), recursively through tuples/lists/dicts."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, TENSOR_TYPES):
        return value.detach().tolist()
    if isinstance(value, dict):
        return {k: py(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [py(v) for v in value]
    raise TypeError("unexpected %r" % type(value))


def assert_same(got, want, path="result"):
    """Structural equality, floats compared to 1e-6 relative."""
    if isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9), (path, got, want)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (path, got, want)
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, "%s[%d]" % (path, i))
    elif isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), (path, got, want)
        for k in want:
            assert_same(got[k], want[k], "%s[%r]" % (path, k))
    else:
        assert type(got) is type(want) and got == want, (path, got, want)


def vec(T, values, dtype=None, requires_grad=True):
    return T.tensor(values, dtype=dtype or T.float32, requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------
# Behaviour scenarios: each returns plain data; EXPECTED holds the hand-derived results.
# ---------------------------------------------------------------------------------------------

def grad_basic_leaves_untouched(T):
    x, w = vec(T, [1., 2.]), vec(T, [3., 4.])
    g = T.autograd.grad((x * w).sum(), x)
    return type(g).__name__, g, x.grad, w.grad


def grad_nonleaf_and_repeated_inputs(T):
    x = vec(T, [1., 2.])
    h = x * 3                                   # [3, 6]
    y = (h * h).sum()                           # dy/dh = 2h, dy/dx = 6h
    return T.autograd.grad(y, [h, x, h, x])


def grad_with_grad_outputs(T):
    x = vec(T, [1., 2.])
    y = x * x
    one = T.autograd.grad(y, x, grad_outputs=T.tensor([1., 10.]), retain_graph=True)
    # several outputs, one of them scalar with an implicit gradient
    two = T.autograd.grad([y, (x * 3).sum()], [x], grad_outputs=[T.tensor([1., 10.]), None])
    return one, two


def grad_allow_unused_and_materialize(T):
    x = vec(T, [1., 2.])
    z = vec(T, [[1., 2.]], dtype=T.float64)
    zz = z * 2                                  # a non-leaf that y does not use either
    y = (x * 2).sum()
    none = T.autograd.grad(y, [x, z, zz], allow_unused=True, retain_graph=True)
    zeros = T.autograd.grad(y, [x, zz, z], materialize_grads=True)
    return none, zeros, [str(t.dtype).split(".")[-1] for t in zeros]


def grad_keeps_existing_grad(T):
    x = vec(T, [1., 2.])
    x.grad = T.tensor([5., 5.])
    g = T.autograd.grad((x * x).sum(), x)
    return g, x.grad


def grad_result_properties(T):
    out = []
    for dtype in (T.float32, T.float64):
        x = vec(T, [1., 2.], dtype=dtype)
        (g,) = T.autograd.grad((x * 2).sum(), x)
        out.append([g.requires_grad, g.grad_fn is None, g.is_leaf, str(g.dtype).split(".")[-1]])
    return out


def grad_inside_no_grad(T):
    x = vec(T, [1., 2.])
    y = (x * x).sum()
    with T.no_grad():
        return T.autograd.grad(y, x)


def grad_retain_graph(T):
    x = vec(T, [1., 2.])
    y = (x * x).sum()
    first = T.autograd.grad(y, x, retain_graph=True)
    second = T.autograd.grad(y, x)              # allowed: the graph was kept
    return first, second


def grad_retain_grad_tensor_is_filled(T):
    x = vec(T, [1., 2.])
    h = x * 2                                   # [2, 4]; dy/dh = 2h = [4, 8]
    h.retain_grad()
    g = T.autograd.grad((h * h).sum(), x)
    return g, h.grad, x.grad


def grad_skips_unrelated_branch(T):
    log = []
    x, w = vec(T, [1., 2.]), vec(T, [1., 2.])
    u = w * w
    u.register_hook(lambda g: log.append("u tensor hook"))
    u.grad_fn.register_prehook(lambda go: log.append("u pre-hook"))
    u.grad_fn.register_hook(lambda gi, go: log.append("u post-hook"))
    v = x * w
    v.grad_fn.register_hook(lambda gi, go: log.append("v post-hook"))
    g = T.autograd.grad((u * v).sum(), x)       # d/dx = u * w = w^3
    return log, g, x.grad, w.grad


def grad_skips_branch_that_would_raise(T):
    x, w = vec(T, [1., 2.]), vec(T, [3., 4.])
    c = w * 1
    d = c * c                                   # saves c ...
    c.add_(1)                                   # ... which is now modified: d's backward raises
    y = (x * 2).sum() + d.sum()
    g = T.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        d.sum().backward()
    return g


def grad_leaves_unrun_nodes_usable(T):
    x, w = vec(T, [1., 2.]), vec(T, [3., 4.])
    d = w * w
    y = (x * 2).sum() + d.sum()
    g = T.autograd.grad(y, x)                   # frees the part that ran, not w * w
    d.sum().backward()
    return g, w.grad, x.grad


def backward_inputs_leaf_and_nonleaf(T):
    x, w = vec(T, [1., 2.]), vec(T, [3., 4.])
    h = x * w                                   # [3, 8]
    retains_before = h.retains_grad
    y = (h * h).sum()
    y.backward(inputs=[h, w])                   # dh = 2h, dw = 2h * x
    return x.grad, w.grad, h.grad, retains_before, h.retains_grad, x.is_leaf


def backward_inputs_function_form(T):
    x, w = vec(T, [1., 2.]), vec(T, [1., 2.])
    y = x * w
    T.autograd.backward([y, (x * 3).sum()], [T.tensor([1., 10.]), None], inputs=[w, x])
    return x.grad, w.grad


def backward_inputs_forms(T):
    x, z = vec(T, [1., 2.]), vec(T, [7., 7.])
    y = (x * 2).sum()
    y.backward(inputs=x, retain_graph=True)     # a single tensor
    y.backward(inputs=(x, x, z), retain_graph=True)   # repeated, and one that is unused
    y.backward(inputs=[x])
    return x.grad, z.grad


def backward_inputs_with_gradient(T):
    x, w = vec(T, [1., 2.]), vec(T, [3., 4.])
    y = x * w
    y.backward(T.tensor([1., 10.]), inputs=[x])
    return x.grad, w.grad


def backward_inputs_leaves_other_branch_intact(T):
    x, w = vec(T, [0., 1.], dtype=T.float64), vec(T, [1., 2.], dtype=T.float64)
    e = x.exp()
    (e * w).sum().backward(inputs=[w])          # ExpBackward does not run
    first = (x.grad, w.grad)
    e.sum().backward()                          # so its saved output is still there
    return first, x.grad


def backward_inputs_second_time_raises(T):
    x, w = vec(T, [1., 2.]), vec(T, [1., 2.])
    y = (x * w).sum()
    y.backward(inputs=[w])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward(inputs=[x])
    return w.grad, x.grad


def backward_inputs_hooks(T):
    log = []
    x, w = vec(T, [1., 2.]), vec(T, [1., 2.])
    h = x * w                                   # [1, 4]
    h.register_hook(lambda g: g + 1)            # 3 -> 4
    x.register_hook(lambda g: log.append("x hook") or g * 10)
    x.register_post_accumulate_grad_hook(lambda t: log.append("x post-accumulate"))
    w.register_hook(lambda g: log.append("w hook"))
    w.register_post_accumulate_grad_hook(lambda t: log.append("w post-accumulate"))
    (h * 3).sum().backward(inputs=[h, x])
    return log, x.grad, h.grad, w.grad


def tensor_hooks_on_nonleaf_in_order(T):
    log = []
    x = vec(T, [1., 2.])
    h = x * 3                                   # [3, 6]; incoming gradient 2h = [6, 12]

    def a(g):
        log.append(("a", g.tolist()))
        return g * 2

    def b(g):
        log.append(("b", g.tolist()))           # returns None: keeps the gradient

    def c(g):
        log.append(("c", g.tolist()))
        return g + 1

    h.register_hook(a)
    h.register_hook(b)
    h.register_hook(c)
    h.retain_grad()
    (h * h).sum().backward()
    return log, h.grad, x.grad


def retain_grad_before_hook_sees_hooked_value(T):
    x = vec(T, [1., 2.])
    h = x * 3
    h.retain_grad()                             # registered first, still sees the hook's result
    h.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    return h.grad, x.grad


def tensor_hooks_on_leaf(T):
    log = []
    x = vec(T, [1., 2.])

    def a(g):
        log.append(("a", g.tolist()))
        return g * 2

    x.register_hook(a)
    x.register_hook(lambda g: log.append(("b", g.tolist())))
    (x * x).sum().backward()                    # 2x = [2, 4] -> [4, 8]
    (x * 1).sum().backward()                    # [1, 1] -> [2, 2]
    return log, x.grad


def hook_handles_remove(T):
    x = vec(T, [1., 2.])
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    with x.register_hook(lambda g: g * 5) as ctx:
        (x * 1).sum().backward()                # [5, 5]
    (x * 1).sum().backward()                    # [1, 1]: removed on exiting the with
    handle.remove()                             # removing twice is harmless
    return ctx is not None, x.grad


def hook_removing_itself(T):
    calls = []
    x = vec(T, [1., 2.])

    def once(g):
        calls.append(1)
        handle.remove()
        return g * 2

    handle = x.register_hook(once)
    (x * 1).sum().backward()
    (x * 1).sum().backward()
    return len(calls), x.grad


def hook_sees_summed_gradient_once(T):
    log = []
    x = vec(T, [1., 2.])
    h = x * 1
    h.register_hook(lambda g: log.append(g.tolist()))
    ((h * 2).sum() + (h * 3).sum()).backward()
    return log, x.grad


def hook_on_unreached_tensor_not_called(T):
    log = []
    x = vec(T, [1., 2.])
    h = x * 1
    h.register_hook(lambda g: log.append(g))
    h.exp()
    (x * 3).sum().backward()
    return log, x.grad


def hook_on_root_and_gradient_flags(T):
    log = []
    x = vec(T, [1., 2.])
    h = x * 2
    h.register_hook(lambda g: log.append(("h", g.requires_grad, g.tolist())))
    y = (h * h).sum()
    y.register_hook(lambda g: log.append(("root", g.tolist())) or g * 0.5)
    y.backward()
    return log, x.grad


def hooks_around_inplace(T):
    log = []
    x = vec(T, [1., 2.])
    h = x * 1
    h.register_hook(lambda g: log.append(("before", g.tolist())))
    h.mul_(2)
    h.register_hook(lambda g: log.append(("after", g.tolist())))
    (h * T.tensor([5., 7.])).sum().backward()
    return sorted(log), x.grad


def hook_on_view(T):
    x = T.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    v = x[0]
    v.register_hook(lambda g: g * 5)
    (v * T.tensor([1., 2.])).sum().backward()
    return x.grad


def nonleaf_hook_changes_what_flows_back(T):
    x = vec(T, [1., 2.])
    h = x * 2
    h.register_hook(lambda g: g * 0 + 100)
    return T.autograd.grad((h * h).sum(), x)


def nonleaf_hook_applies_to_its_own_grad(T):
    x = vec(T, [1., 2.])
    h = x * 2                                   # dy/dh = 2h = [4, 8]
    h.register_hook(lambda g: g * 3)
    y = (h * h).sum()
    as_input = T.autograd.grad(y, h, retain_graph=True)
    through = T.autograd.grad(y, x, retain_graph=True)
    root = T.autograd.grad(h, h, T.ones(2))
    return as_input, through, root


def hook_returning_zeros_counts_as_used(T):
    x = vec(T, [1., 2.])
    h = x * 2
    h.register_hook(lambda g: g * 0)
    return T.autograd.grad((h * h).sum(), x)


def post_accumulate_grad_hook(T):
    log = []
    x = vec(T, [1., 2.])

    def post(t):
        log.append((t is x, t.grad.tolist()))

    handle = x.register_post_accumulate_grad_hook(post)
    x.register_hook(lambda g: g * 3)
    (x * 2).sum().backward()                    # .grad = 6
    (x * 1).sum().backward()                    # .grad = 6 + 3
    handle.remove()
    (x * 1).sum().backward()                    # 12, hook gone
    return log, x.grad


def post_accumulate_grad_hook_can_clear_grad(T):
    seen = []
    x = vec(T, [1., 2.])

    def post(t):
        seen.append(t.grad.tolist())
        t.grad = None

    x.register_post_accumulate_grad_hook(post)
    (x * 2).sum().backward()
    (x * 1).sum().backward()
    return seen, x.grad


def post_accumulate_grad_hook_not_run_by_grad(T):
    log = []
    x = vec(T, [1., 2.])
    x.register_post_accumulate_grad_hook(lambda t: log.append(1))
    g = T.autograd.grad((x * 2).sum(), x)
    return log, g, x.grad


def hook_ordering_across_kinds(T):
    log = []
    x = vec(T, [1., 2.])
    h = x * x                                   # [1, 4]; incoming 2h = [2, 8]
    h.register_hook(lambda g: log.append("tensor") or g * 2)
    h.grad_fn.register_prehook(lambda go: log.append(("pre", go[0].tolist())) or None)
    h.grad_fn.register_hook(lambda gi, go: log.append(("post", go[0].tolist())) or None)
    h.retain_grad()
    x.register_hook(lambda g: log.append("leaf") or None)
    x.register_post_accumulate_grad_hook(lambda t: log.append("post-accumulate"))
    (h * h).sum().backward()
    return log, x.grad, h.grad


def node_hooks_observe(T):
    log = []
    x = vec(T, [1., 2.])
    c = T.tensor([3., 4.])                      # needs no gradient
    h = x * c                                   # [3, 8]; incoming 2h = [6, 16]

    def pre(grad_outputs):
        log.append(("pre", type(grad_outputs).__name__, py(grad_outputs)))

    def post(grad_inputs, grad_outputs):
        log.append(("post", type(grad_inputs).__name__, py(grad_inputs), py(grad_outputs)))

    h.grad_fn.register_prehook(pre)
    h.grad_fn.register_hook(post)
    (h * h).sum().backward()
    return log, x.grad


def node_post_hook_replaces_grad_inputs(T):
    x, w = vec(T, [1., 2.]), vec(T, [3., 4.])
    h = x * w                                   # incoming 2h = [6, 16]
    h.grad_fn.register_hook(lambda gi, go: (gi[0] * 10, None))
    (h * h).sum().backward()
    return x.grad, w.grad


def node_pre_hooks_chain(T):
    x = vec(T, [1., 2.])
    h = x * x                                   # [1, 4]; incoming [2, 8]
    h.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    h.grad_fn.register_prehook(lambda go: (go[0] + 1,))
    h.retain_grad()                             # a tensor hook: runs before node pre-hooks
    (h * h).sum().backward()                    # dx = 2x * 5 and 2x * 17
    return x.grad, h.grad


def node_hooks_in_grad(T):
    x, w = vec(T, [1., 2.]), vec(T, [1., 2.])
    h = x * w                                   # [1, 4]; incoming [2, 8]
    h.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, gi[1] * 2))
    return T.autograd.grad((h * h).sum(), [x, w])


def node_hooks_removed(T):
    x, w = vec(T, [1., 2.]), vec(T, [3., 4.])
    h = x * w
    handle = h.grad_fn.register_hook(lambda gi, go: (gi[0] * 100, gi[1]))
    handle.remove()
    with h.grad_fn.register_prehook(lambda go: (go[0] * 7,)):
        pass
    h.sum().backward()
    return x.grad, w.grad


def node_metadata(T):
    x = vec(T, [1., 2.])
    h = x * x
    m = h.grad_fn.metadata
    m["key"] = 1
    return type(m).__name__, h.grad_fn.metadata is m, h.grad_fn.metadata


EXPECTED = {
    grad_basic_leaves_untouched: ["tuple", [[3., 4.]], None, None],
    grad_nonleaf_and_repeated_inputs: [[6., 12.], [18., 36.], [6., 12.], [18., 36.]],
    grad_with_grad_outputs: [[[2., 40.]], [[5., 43.]]],
    grad_allow_unused_and_materialize: [[[2., 2.], None, None],
                                        [[2., 2.], [[0., 0.]], [[0., 0.]]],
                                        ["float32", "float64", "float64"]],
    grad_keeps_existing_grad: [[[2., 4.]], [5., 5.]],
    grad_result_properties: [[False, True, True, "float32"], [False, True, True, "float64"]],
    grad_inside_no_grad: [[2., 4.]],
    grad_retain_graph: [[[2., 4.]], [[2., 4.]]],
    grad_retain_grad_tensor_is_filled: [[[8., 16.]], [4., 8.], None],
    grad_skips_unrelated_branch: [["v post-hook"], [[1., 8.]], None, None],
    grad_skips_branch_that_would_raise: [[2., 2.]],
    grad_leaves_unrun_nodes_usable: [[[2., 2.]], [6., 8.], None],
    backward_inputs_leaf_and_nonleaf: [None, [6., 32.], [6., 16.], False, True, True],
    backward_inputs_function_form: [[4., 23.], [1., 20.]],
    backward_inputs_forms: [[6., 6.], None],
    backward_inputs_with_gradient: [[3., 40.], None],
    backward_inputs_leaves_other_branch_intact: [[None, [1., math.e]], [1., math.e]],
    backward_inputs_second_time_raises: [[1., 2.], None],
    backward_inputs_hooks: [["x hook", "x post-accumulate"], [40., 80.], [4., 4.], None],
    tensor_hooks_on_nonleaf_in_order: [[["a", [6., 12.]], ["b", [12., 24.]], ["c", [12., 24.]]],
                                       [13., 25.], [39., 75.]],
    retain_grad_before_hook_sees_hooked_value: [[60., 120.], [180., 360.]],
    tensor_hooks_on_leaf: [[["a", [2., 4.]], ["b", [4., 8.]], ["a", [1., 1.]], ["b", [2., 2.]]],
                           [6., 10.]],
    hook_handles_remove: [True, [6., 6.]],
    hook_removing_itself: [1, [3., 3.]],
    hook_sees_summed_gradient_once: [[[5., 5.]], [5., 5.]],
    hook_on_unreached_tensor_not_called: [[], [3., 3.]],
    hook_on_root_and_gradient_flags: [[["root", 1.], ["h", False, [2., 4.]]], [4., 8.]],
    hooks_around_inplace: [[["after", [5., 7.]], ["before", [10., 14.]]], [10., 14.]],
    hook_on_view: [[5., 10.], [0., 0.]],
    nonleaf_hook_changes_what_flows_back: [[200., 200.]],
    nonleaf_hook_applies_to_its_own_grad: [[[12., 24.]], [[24., 48.]], [[3., 3.]]],
    hook_returning_zeros_counts_as_used: [[0., 0.]],
    post_accumulate_grad_hook: [[[True, [6., 6.]], [True, [9., 9.]]], [12., 12.]],
    post_accumulate_grad_hook_can_clear_grad: [[[2., 2.], [1., 1.]], None],
    post_accumulate_grad_hook_not_run_by_grad: [[], [[2., 2.]], None],
    hook_ordering_across_kinds: [["tensor", ["pre", [4., 16.]], ["post", [4., 16.]], "leaf",
                                  "post-accumulate"], [8., 64.], [4., 16.]],
    node_hooks_observe: [[["pre", "tuple", [[6., 16.]]],
                          ["post", "tuple", [[18., 64.], None], [[6., 16.]]]], [18., 64.]],
    node_post_hook_replaces_grad_inputs: [[180., 640.], None],
    node_pre_hooks_chain: [[10., 68.], [2., 8.]],
    node_hooks_in_grad: [[0., 0.], [4., 32.]],
    node_hooks_removed: [[3., 4.], [1., 2.]],
    node_metadata: ["dict", True, {"key": 1}],
}

SCENARIOS = [pytest.param(f, id=f.__name__) for f in EXPECTED]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario):
    assert_same(py(scenario(ac)), EXPECTED[scenario])


@needs_torch
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_expectation_is_torchs(scenario):
    assert_same(py(scenario(torch)), EXPECTED[scenario])


# ---------------------------------------------------------------------------------------------
# Errors: the same scenario must raise the same exception type and message in both libraries.
# ---------------------------------------------------------------------------------------------

SECOND_TIME = ("Trying to backward through the graph a second time (or directly access saved "
               "tensors after they have already been freed). Saved intermediate values of the "
               "graph are freed when you call .backward() or autograd.grad(). Specify "
               "retain_graph=True if you need to backward through the graph a second time or if "
               "you need to access saved tensors after calling backward.")
NO_HOOK = "cannot register a hook on a tensor that doesn't require gradient"


def err_unused(T):
    x, z = vec(T, [1., 2.]), vec(T, [1., 2.])
    T.autograd.grad((x * 2).sum(), [x, z])


def err_unused_nonleaf(T):
    x, z = vec(T, [1., 2.]), vec(T, [1., 2.])
    T.autograd.grad((x * 2).sum(), [z * 2, x])


def err_input_no_grad(T):
    x = vec(T, [1., 2.])
    T.autograd.grad((x * 2).sum(), [x, T.tensor([1., 2.])])


def err_input_detached(T):
    x = vec(T, [1., 2.])
    T.autograd.grad((x * 2).sum(), x.detach())


def err_grad_empty_inputs(T):
    x = vec(T, [1., 2.])
    T.autograd.grad((x * 2).sum(), [])


def err_materialize_and_allow_unused_false(T):
    x = vec(T, [1., 2.])
    T.autograd.grad((x * 2).sum(), x, materialize_grads=True, allow_unused=False)


def err_grad_twice(T):
    x = vec(T, [1., 2.])
    y = (x * x).sum()
    T.autograd.grad(y, x)
    T.autograd.grad(y, x)


def err_grad_then_backward(T):
    x = vec(T, [1., 2.])
    y = (x * x).sum()
    T.autograd.grad(y, x, retain_graph=False)
    y.backward()


def err_grad_implicit_nonscalar(T):
    x = vec(T, [1., 2.])
    T.autograd.grad(x * 2, x)


def err_grad_outputs_too_few(T):
    x = vec(T, [1., 2.])
    y = x * x
    T.autograd.grad([y, y], [x], grad_outputs=[T.tensor([1., 10.])])


def err_output_without_grad(T):
    x = vec(T, [1., 2.])
    T.autograd.grad([(x * 2).sum(), T.tensor(1.)], x)


def err_backward_empty_inputs(T):
    x = vec(T, [1., 2.])
    (x * 2).sum().backward(inputs=[])


def err_backward_empty_inputs_function(T):
    x = vec(T, [1., 2.])
    T.autograd.backward((x * 2).sum(), inputs=())


def err_backward_input_no_grad(T):
    x = vec(T, [1., 2.])
    (x * 2).sum().backward(inputs=[x, T.tensor([1., 2.])])


def err_hook_on_plain_tensor(T):
    T.tensor([1., 2.]).register_hook(lambda g: g)


def err_hook_on_detached(T):
    vec(T, [1., 2.]).detach().register_hook(lambda g: g)


def err_hook_on_nograd_result(T):
    x = vec(T, [1., 2.])
    with T.no_grad():
        y = x * 2
    y.register_hook(lambda g: g)


def err_post_accumulate_on_plain_tensor(T):
    T.tensor([1., 2.]).register_post_accumulate_grad_hook(lambda t: None)


def err_post_accumulate_on_nonleaf(T):
    (vec(T, [1., 2.]) * 2).register_post_accumulate_grad_hook(lambda t: None)


def err_node_post_hook_wrong_count(T):
    x, w = vec(T, [1., 2.]), vec(T, [3., 4.])
    h = x * w

    def myhook(grad_inputs, grad_outputs):
        return (grad_inputs[0],)

    h.grad_fn.register_hook(myhook)
    h.sum().backward()


def err_hook_raises_in_backward(T):
    x = vec(T, [1., 2.])
    h = x * 2

    def boom(g):
        raise ValueError("boom from hook")

    h.register_hook(boom)
    h.sum().backward()


# Known library bugs (reported): the scenario runs under torch in the oracle test regardless.

def err_hook_changes_size_nonleaf(T):
    x = vec(T, [1., 2.])
    h = x * 3

    def summed(g):
        return g.sum()

    h.register_hook(summed)
    h.sum().backward()


def err_hook_changes_size_leaf(T):
    x = vec(T, [1., 2.])

    def longer(g):
        return T.ones(3)

    x.register_hook(longer)
    (x * 3).sum().backward()


def err_hook_returns_non_tensor(T):
    x = vec(T, [1., 2.])
    h = x * 3
    h.register_hook(lambda g: 5)
    h.sum().backward()


def err_node_post_hook_fills_none_slot(T):
    x = vec(T, [1., 2.])
    h = x * T.tensor([3., 4.])
    h.grad_fn.register_hook(lambda gi, go: (gi[0], T.ones(2)))
    h.sum().backward()


def err_node_pre_hook_wrong_count(T):
    x = vec(T, [1., 2.])
    h = x * x

    def pre(grad_outputs):
        return (grad_outputs[0], grad_outputs[0])

    h.grad_fn.register_prehook(pre)
    h.sum().backward()


def err_node_pre_hook_returns_tensor(T):
    x = vec(T, [1., 2.])
    h = x * x
    h.grad_fn.register_prehook(lambda go: go[0])
    h.sum().backward()


def err_grad_non_tensor_input(T):
    x = vec(T, [1., 2.])
    T.autograd.grad((x * x).sum(), [x, 1])


def err_backward_non_tensor_input(T):
    x = vec(T, [1., 2.])
    (x * x).sum().backward(inputs=[x, 1])


def err_neither_output_nor_input_requires_grad(T):
    x = T.tensor([1., 2.])
    T.autograd.grad((x * 2).sum(), x)       # torch checks the outputs first


ERRORS = [
    (err_unused, RuntimeError, "The differentiated Tensor at index 1 appears to not have been "
     "used in the graph. Set allow_unused=True if this is the desired behavior."),
    (err_unused_nonleaf, RuntimeError, "The differentiated Tensor at index 0 appears to not have "
     "been used in the graph. Set allow_unused=True if this is the desired behavior."),
    (err_input_no_grad, RuntimeError, "One of the differentiated Tensors does not require grad"),
    (err_input_detached, RuntimeError, "One of the differentiated Tensors does not require grad"),
    (err_grad_empty_inputs, RuntimeError, "`inputs` argument to `grad()` cannot be empty."),
    (err_materialize_and_allow_unused_false, ValueError, "Expected allow_unused to be True or not "
     "passed when materialize_grads=True, but got: allow_unused=False."),
    (err_grad_twice, RuntimeError, SECOND_TIME),
    (err_grad_then_backward, RuntimeError, SECOND_TIME),
    (err_grad_implicit_nonscalar, RuntimeError,
     "grad can be implicitly created only for scalar outputs"),
    (err_grad_outputs_too_few, RuntimeError, "got 2 tensors and 1 gradients"),
    (err_output_without_grad, RuntimeError,
     "element 1 of tensors does not require grad and does not have a grad_fn"),
    (err_backward_empty_inputs, RuntimeError, "`inputs` argument to `backward()` cannot be empty."),
    (err_backward_empty_inputs_function, RuntimeError,
     "`inputs` argument to `backward()` cannot be empty."),
    (err_backward_input_no_grad, RuntimeError,
     "can't retain_grad on Tensor that has requires_grad=False"),
    (err_hook_on_plain_tensor, RuntimeError, NO_HOOK),
    (err_hook_on_detached, RuntimeError, NO_HOOK),
    (err_hook_on_nograd_result, RuntimeError, NO_HOOK),
    (err_post_accumulate_on_plain_tensor, RuntimeError, NO_HOOK),
    (err_post_accumulate_on_nonleaf, RuntimeError,
     "post accumulate grad hooks cannot be registered on non-leaf tensors"),
    (err_node_post_hook_wrong_count, RuntimeError, "hook 'myhook' has returned an incorrect number "
     "of values (got 1, but expected 2)"),
    (err_hook_raises_in_backward, ValueError, "boom from hook"),
    (err_hook_changes_size_nonleaf, RuntimeError, "hook 'summed' has changed the size of value"),
    (err_hook_changes_size_leaf, RuntimeError, "hook 'longer' has changed the size of value"),
    (err_hook_returns_non_tensor, TypeError, "expected Variable, but hook returned 'int'"),
    (err_node_post_hook_fills_none_slot, RuntimeError,
     "can't replace a None gradient with a non-None value"),
    (err_node_pre_hook_wrong_count, RuntimeError, "hook 'pre' has returned an incorrect number of "
     "values (got 2, but expected 1)"),
    (err_node_pre_hook_returns_tensor, TypeError, "expected tuple, but hook returned 'Tensor'"),
    (err_grad_non_tensor_input, RuntimeError,
     "all inputs have to be Tensors or GradientEdges, but got int"),
    (err_backward_non_tensor_input, RuntimeError,
     "all inputs have to be Tensors or GradientEdges, but got int"),
    (err_neither_output_nor_input_requires_grad, RuntimeError,
     "element 0 of tensors does not require grad and does not have a grad_fn"),
]


@pytest.mark.parametrize("scenario, exc, message", [
    pytest.param(f, e, m, id=f.__name__) for f, e, m in ERRORS])
def test_error(scenario, exc, message):
    with pytest.raises(exc) as info:
        scenario(ac)
    assert str(info.value) == message


@needs_torch
@pytest.mark.parametrize("scenario, exc, message", [
    pytest.param(f, e, m, id=f.__name__) for f, e, m in ERRORS])
def test_error_is_torchs(scenario, exc, message):
    with pytest.raises(exc) as info:
        scenario(torch)
    assert str(info.value) == message


def _changes_dtype(T):
    x = vec(T, [1., 2.])
    x.register_hook(lambda g: g.double())
    (x * x).sum().backward()
    return x.grad


def test_hook_changing_dtype_is_rejected():
    with pytest.raises(RuntimeError, match=r"^hook '<lambda>' has changed the type of value"):
        _changes_dtype(ac)


@needs_torch
def test_hook_changing_dtype_is_rejected_by_torch():
    with pytest.raises(RuntimeError, match=r"^hook '<lambda>' has changed the type of value"):
        _changes_dtype(torch)


# ---------------------------------------------------------------------------------------------
# Hooks on the tensors passed to autograd.grad (library bugs, checked against torch too)
# ---------------------------------------------------------------------------------------------

def leaf_hook_in_grad(T):
    x = vec(T, [1., 2.])
    x.register_hook(lambda g: g * 3)
    through = T.autograd.grad((x * x).sum(), x)          # 2x, then the hook
    s = T.tensor(3., requires_grad=True)
    s.register_hook(lambda g: g * 2)
    itself = T.autograd.grad(s, s)                       # the output is the input
    return through, itself, x.grad


def node_prehook_of_grad_input(T):
    log = []
    x = vec(T, [1., 2.])
    h = x * 2                                            # dy/dh = 2h = [4, 8]
    h.grad_fn.register_prehook(lambda go: log.append("pre") or (go[0] * 3,))
    h.register_hook(lambda g: log.append("tensor"))
    alone = T.autograd.grad((h * h).sum(), h)            # h's node does not run
    h2 = x * 2
    h2.grad_fn.register_prehook(lambda go: (go[0] * 3,))
    both = T.autograd.grad((h2 * h2).sum(), [h2, x])     # it runs (for x) after the capture
    return log, alone, both


def test_leaf_hook_applies_to_grad_result():
    assert_same(py(leaf_hook_in_grad(ac)), [[[6., 12.]], [2.], None])


@needs_torch
def test_leaf_hook_applies_to_grad_result_in_torch():
    assert_same(py(leaf_hook_in_grad(torch)), [[[6., 12.]], [2.], None])


def test_node_prehook_of_grad_input_not_applied_to_capture():
    assert_same(py(node_prehook_of_grad_input(ac)), [["tensor"], [[4., 8.]],
                                                     [[4., 8.], [24., 48.]]])


@needs_torch
def test_node_prehook_of_grad_input_in_torch():
    assert_same(py(node_prehook_of_grad_input(torch)), [["tensor"], [[4., 8.]],
                                                        [[4., 8.], [24., 48.]]])


# ---------------------------------------------------------------------------------------------
# torch-free checks: finite differences, gradcheck, create_graph, handles
# ---------------------------------------------------------------------------------------------

def _f(x, w):
    h = x * w
    return (h.tanh() + x * x * w.sin()).sum(), h


def test_grad_matches_finite_differences_float64():
    r = np.random.default_rng(0)
    xv, wv = r.standard_normal(5), r.standard_normal(5)
    x = ac.tensor(xv.tolist(), dtype=ac.float64, requires_grad=True)
    w = ac.tensor(wv.tolist(), dtype=ac.float64, requires_grad=True)
    y, h = _f(x, w)
    gx, gw, gh = ac.autograd.grad(y, [x, w, h])
    assert x.grad is None and w.grad is None

    def value(xa, wa):
        with ac.no_grad():
            return _f(ac.tensor(xa.tolist(), dtype=ac.float64),
                      ac.tensor(wa.tolist(), dtype=ac.float64))[0].item()

    eps = 1e-6
    for i in range(5):
        e = np.zeros(5)
        e[i] = eps
        assert gx[i].item() == pytest.approx((value(xv + e, wv) - value(xv - e, wv)) / (2 * eps),
                                             rel=1e-6, abs=1e-8)
        assert gw[i].item() == pytest.approx((value(xv, wv + e) - value(xv, wv - e)) / (2 * eps),
                                             rel=1e-6, abs=1e-8)
    # d/dh tanh(h) = 1 - tanh(h)^2
    np.testing.assert_allclose(gh.numpy(), 1 - np.tanh(xv * wv) ** 2, rtol=1e-12)


def test_backward_inputs_matches_grad_and_finite_differences():
    r = np.random.default_rng(1)
    xv, wv = r.standard_normal(4), r.standard_normal(4)
    x = ac.tensor(xv.tolist(), dtype=ac.float64, requires_grad=True)
    w = ac.tensor(wv.tolist(), dtype=ac.float64, requires_grad=True)
    y, _ = _f(x, w)
    (gw,) = ac.autograd.grad(y, w, retain_graph=True)
    y.backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), gw.numpy(), rtol=0, atol=0)
    expected = xv * (1 - np.tanh(xv * wv) ** 2) + xv * xv * np.cos(wv)
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)


def test_gradcheck_detects_a_hook_that_changes_the_gradient():
    x = ac.tensor([0.3, -1.2, 0.7], dtype=ac.float64, requires_grad=True)

    def f(t, scale):
        h = t.sin()
        if h.requires_grad:                     # the numerical pass runs without grad
            h.register_hook(lambda g: None if scale == 1 else g * scale)
        return (h * h).sum()

    assert gradcheck(lambda t: f(t, 1), (x,))
    assert gradcheck(lambda t: f(t, 2), (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: f(t, 2), (x,))


def test_create_graph_gives_gradients_with_a_history_from_each_entry_point():
    x = ac.tensor([1., 2.], requires_grad=True)
    y = (x * x * x).sum()
    g, = ac.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad and g.tolist() == [3., 12.]
    assert ac.autograd.grad(g.sum(), x, retain_graph=True)[0].tolist() == [6., 12.]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # torch's once-per-process cycle warning
        y.backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn.name() == "CopyBackwards"
    y.backward(create_graph=True)               # a second sum is out of place, recorded
    assert x.grad.grad_fn.name() == "AddBackward0" and x.grad.tolist() == [6., 24.]
    x.grad = None
    ac.autograd.backward(y, create_graph=True, inputs=[x])
    assert ac.autograd.grad(x.grad.sum(), x)[0].tolist() == [6., 12.]


def test_handles_are_removable_handles_for_every_kind_of_hook():
    x = ac.tensor([1., 2.], requires_grad=True)
    h = x * x
    handles = [x.register_hook(lambda g: None), h.register_hook(lambda g: None),
               x.register_post_accumulate_grad_hook(lambda t: None),
               h.grad_fn.register_hook(lambda gi, go: None),
               h.grad_fn.register_prehook(lambda go: None)]
    assert all(type(hd) is RemovableHandle for hd in handles)
    assert ac.utils.hooks.RemovableHandle is RemovableHandle
    assert len({hd.id for hd in handles}) == len(handles)
    for hd in handles:
        with hd as entered:
            assert entered is hd
        hd.remove()


def test_removed_hooks_no_longer_run_for_any_kind():
    calls = []
    x = ac.tensor([1., 2.], requires_grad=True)
    h = x * x
    handles = [x.register_hook(lambda g: calls.append("leaf")),
               h.register_hook(lambda g: calls.append("nonleaf")),
               x.register_post_accumulate_grad_hook(lambda t: calls.append("post-acc")),
               h.grad_fn.register_hook(lambda gi, go: calls.append("node post")),
               h.grad_fn.register_prehook(lambda go: calls.append("node pre"))]
    h.sum().backward(retain_graph=True)
    assert sorted(calls) == sorted(["leaf", "nonleaf", "post-acc", "node post", "node pre"])
    calls.clear()
    for hd in handles:
        hd.remove()
    h.sum().backward()
    assert calls == []
    assert x.grad.tolist() == [4., 8.]


def test_hooks_persist_across_backward_calls_and_grad_calls():
    calls = []
    x = ac.tensor([1., 2.], requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: calls.append(g.tolist()) or g * 2)
    y = (h * h).sum()                           # dy/dh = 2h = [4, 8]
    assert ac.autograd.grad(y, x, retain_graph=True)[0].tolist() == [16., 32.]
    y.backward()
    assert x.grad.tolist() == [16., 32.]
    assert calls == [[4., 8.], [4., 8.]]
