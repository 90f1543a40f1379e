"""Double backward (create_graph=True) through the shape, indexing and in-place nodes.

Each case is one function written once for both libraries (`L` is autograd_c or torch). Its
output goes through y * y.sin(), so the gradient reaching the node's rule depends on the inputs
and the second derivatives pass through that rule's recorded ops, not only through the seed."""
import numpy as np
import pytest

import autograd_c as ac

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")


def idx(L, values):
    return L.tensor(np.asarray(values, dtype=np.int64))


def setitem(y, index, value):
    y[index] = value
    return y


def written(y, fn):
    fn(y)
    return y


def stale_view(x):
    y = x.clone()
    v = y[0]
    y.mul_(3)                       # v is read after its base was written: a fresh node
    return v * y


def stale_view_after_view_write(x):
    y = x.clone()
    v, u = y[1], y[:, 0]
    u.mul_(y[0, 1:].clone())        # the base's history is rewritten, v is stale
    return v + y[:, 0].sum()


# (case id, node names the function must record, function(L, *inputs), input shapes)
CASES = [
    ("alias", ["AliasBackward0"], lambda L, x: x[...] * 1, [(2, 3)]),
    ("slice", ["SliceBackward0"], lambda L, x: x[:, 1:3], [(3, 4)]),
    ("slice_step", ["SliceBackward0"], lambda L, x: x[::2, 1:], [(5, 3)]),
    ("narrow", ["SliceBackward0"], lambda L, x: x.narrow(1, 1, 2), [(2, 4)]),
    ("select", ["SelectBackward0"], lambda L, x: x[1], [(3, 4)]),
    ("select_negative", ["SelectBackward0"], lambda L, x: x[:, -1], [(3, 4)]),
    ("getitem_unsqueeze", ["UnsqueezeBackward0"], lambda L, x: x[1:, None], [(3, 2)]),
    ("unsqueeze", ["UnsqueezeBackward0"], lambda L, x: x.unsqueeze(1), [(3, 2)]),
    ("index_list", ["IndexBackward0"], lambda L, x: x[[2, 0]], [(3, 4)]),
    ("index_repeated", ["IndexBackward0"], lambda L, x: x[idx(L, [1, 1, 0, 1])], [(3, 2)]),
    ("index_mixed", ["IndexBackward0"], lambda L, x: x[1:, [0, 0, 2]], [(3, 4)]),
    ("index_two_arrays", ["IndexBackward0"],
     lambda L, x: x[idx(L, [0, 2, 0]), idx(L, [1, 1, 1])], [(3, 4)]),
    ("index_mask", ["IndexBackward0"],
     lambda L, x: x[L.tensor(np.array([True, False, True]))], [(3, 2)]),
    ("gather", ["GatherBackward0"],
     lambda L, x: x.gather(1, idx(L, [[0, 0, 2], [1, 2, 1]])), [(2, 3)]),
    ("gather_dim0", ["GatherBackward0"],
     lambda L, x: L.gather(x, 0, idx(L, [[1, 0], [1, 1], [0, 1]])), [(2, 2)]),
    ("gather_0d", ["GatherBackward0"], lambda L, x: x.gather(0, idx(L, [0, 0, 0])), [()]),
    ("permute", ["PermuteBackward0"], lambda L, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("transpose", ["TransposeBackward0"], lambda L, x: x.transpose(0, 2), [(2, 3, 4)]),
    ("transpose_0d", ["TransposeBackward0"], lambda L, x: x.transpose(0, -1), [()]),
    ("t", ["TBackward0"], lambda L, x: x.t(), [(2, 3)]),
    ("t_1d", ["TBackward0"], lambda L, x: x.t(), [(3,)]),
    ("repeat", ["RepeatBackward0"], lambda L, x: x.repeat(2, 1, 3), [(2, 3)]),
    ("repeat_0d", ["RepeatBackward0"], lambda L, x: x.repeat(3), [()]),
    ("clone", ["CloneBackward0"], lambda L, x: x.clone(), [(2, 3)]),
    ("split", ["SplitBackward0"],
     lambda L, x: (lambda p: p[0] * p[1][:, :1] + p[2].sum())(x.split(1, 1)), [(2, 3)]),
    ("chunk", ["SplitBackward0"],
     lambda L, x: (lambda p: p[0] * p[1])(x.chunk(2, 0)), [(4, 3)]),
    ("split_sizes", ["SplitWithSizesBackward0"],
     lambda L, x: (lambda p: p[0].sum(0) * p[1][0])(x.split([2, 1], 0)), [(3, 2)]),
    ("unbind", ["UnbindBackward0"],
     lambda L, x: (lambda p: p[0] * p[2] - p[1])(x.unbind(1)), [(2, 3)]),
    ("cat", ["CatBackward0"], lambda L, x, y: L.cat([x, y, x], 1), [(2, 1), (2, 3)]),
    ("cat_constant", ["CatBackward0"],
     lambda L, x: L.cat([L.ones((1, 2), dtype=L.float64), x], 0), [(2, 2)]),
    ("stack", ["StackBackward0"], lambda L, x, y: L.stack([x, y], 1), [(2, 3), (2, 3)]),
    ("view_reshape", ["ViewBackward0"], lambda L, x: x.reshape(3, 2).view(6), [(2, 3)]),
    ("reshape_alias", ["ReshapeAliasBackward0"], lambda L, x: x[:, ::2].reshape(4), [(2, 4)]),
    ("unsafe_view", ["UnsafeViewBackward0"], lambda L, x: x.t().reshape(6), [(2, 3)]),
    ("squeeze", ["SqueezeBackward0"], lambda L, x: x.squeeze(), [(2, 1, 3)]),
    ("expand", ["ExpandBackward0"], lambda L, x: x.expand(3, 2, 4), [(2, 1)]),
    ("to_float32_and_back", ["ToCopyBackward0"],
     lambda L, x: x.float().double() * 1, [(2, 3)]),
    # -- in-place
    ("setitem_row", ["torch::autograd::CopySlices"],
     lambda L, x, z: setitem(x.clone(), 0, z), [(2, 3), (3,)]),
    ("setitem_broadcast", ["torch::autograd::CopySlices"],
     lambda L, x, z: setitem(x * 1, (slice(None), 1), z), [(3, 3), ()]),
    ("setitem_scalar", ["torch::autograd::CopySlices"],
     lambda L, x: setitem(x.clone(), (1, slice(0, 2)), 5.0), [(2, 3)]),
    ("index_put", ["IndexPutBackward0"],
     lambda L, x, z: setitem(x.clone(), idx(L, [2, 0]), z), [(3, 2), (2, 2)]),
    ("index_put_mask", ["IndexPutBackward0"],
     lambda L, x, z: setitem(x.clone(), L.tensor(np.array([[True, False], [False, True]])), z),
     [(2, 2), (2,)]),
    ("view_mul_", ["torch::autograd::CopySlices"],
     lambda L, x: written(x.clone(), lambda y: y[:, 1].mul_(2)), [(2, 3)]),
    ("view_mul_tensor", ["torch::autograd::CopySlices", "MulBackward0"],
     lambda L, x, w: written(x.clone(), lambda y: y[1:].mul_(w)), [(3, 2), (2,)]),
    ("add_", ["AddBackward0"], lambda L, x, w: x.clone().add_(w), [(2, 3), (3,)]),
    ("fill_", ["FillBackward0"], lambda L, x, s: x.clone().fill_(s) * x, [(2, 3), ()]),
    ("fill_slice", ["FillBackward0", "torch::autograd::CopySlices"],
     lambda L, x, s: written(x.clone(), lambda y: y[0].fill_(s)), [(2, 3), ()]),
    ("fill_number", ["ZeroBackward0"], lambda L, x: x.clone().fill_(2.0) + x, [(2, 3)]),
    ("zero_", ["ZeroBackward0", "torch::autograd::CopySlices"],
     lambda L, x: written(x.clone(), lambda y: y[:, 1:].zero_()), [(2, 3)]),
    ("copy_slice", ["CopyBackwards", "torch::autograd::CopySlices"],
     lambda L, x, z: written(x.clone(), lambda y: y[1:].copy_(z)), [(3, 2), (2,)]),
    ("stale_view", ["AsStridedBackward0"], lambda L, x: stale_view(x), [(2, 3)]),
    ("stale_view_after_view_write", ["AsStridedBackward0", "torch::autograd::CopySlices"],
     lambda L, x: stale_view_after_view_write(x), [(2, 3)]),
]

IDS = [c[0] for c in CASES]

# finite differences through float32 need a wider step and tolerance
GRADGRADCHECK_OPTIONS = {"to_float32_and_back": dict(eps=1e-3, atol=1e-3, rtol=1e-2)}


def post(out):
    return out * out.sin()


def inputs_for(shapes, seed, lib=ac):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(0.5, 1.5, s) * rng.choice([-1.0, 1.0], s) for s in shapes]
    if lib is ac:
        return [ac.tensor(a, dtype=ac.float64, requires_grad=True) for a in arrays]
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


def run(fn, L, xs):
    return post(fn(L, *xs))


def node_names(out):
    seen, stack, names = set(), [out.grad_fn], set()
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        names.add(n.name())
        stack.extend(f for f, _ in n.next_functions)
    return names


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_records_the_node(case):
    _, names, fn, shapes = case
    missing = set(names) - node_names(fn(ac, *inputs_for(shapes, 0)))
    assert not missing


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradgradcheck(case):
    name, _, fn, shapes = case
    assert ac.autograd.gradgradcheck(lambda *xs: run(fn, ac, xs), inputs_for(shapes, 1),
                                     **GRADGRADCHECK_OPTIONS.get(name, {}))


def second_derivatives(L, fn, xs, seed):
    out = run(fn, L, xs)
    rng = np.random.default_rng(seed)
    v = L.tensor(rng.uniform(-1, 1, tuple(out.shape)), dtype=L.float64, requires_grad=True)
    firsts = L.autograd.grad([out], xs, [v], create_graph=True)
    weighted = sum((f * L.tensor(rng.uniform(-1, 1, tuple(f.shape)), dtype=L.float64)).sum()
                   for f in firsts)
    seconds = L.autograd.grad([weighted], list(xs) + [v], allow_unused=True)
    return [f.detach().numpy() for f in firsts], [
        None if s is None else s.detach().numpy() for s in seconds]


def same(a, b, tol):
    if a is None or b is None:      # an unused input: no gradient, or a zero one
        other = b if a is None else a
        return other is None or np.allclose(other, 0, rtol=0, atol=tol)
    return a.shape == b.shape and np.allclose(a, b, rtol=0, atol=tol)


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_second_derivatives_match_torch(case):
    _, _, fn, shapes = case
    ours_first, ours = second_derivatives(ac, fn, inputs_for(shapes, 2), 3)
    theirs_first, theirs = second_derivatives(torch, fn, inputs_for(shapes, 2, torch), 3)
    for a, b in zip(ours_first, theirs_first):
        assert same(a, b, 1e-12)
    for a, b in zip(ours, theirs):
        assert same(a, b, 1e-10)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_first_derivatives_same_with_create_graph(case):
    _, _, fn, shapes = case
    xs = inputs_for(shapes, 4)
    out = run(fn, ac, xs)
    seed = ac.tensor(np.random.default_rng(5).uniform(-1, 1, tuple(out.shape)), dtype=ac.float64)
    plain = ac.autograd.grad([out], xs, [seed], retain_graph=True)
    recorded = ac.autograd.grad([out], xs, [seed], create_graph=True)
    for a, b in zip(plain, recorded):
        assert b.requires_grad
        assert np.allclose(a.numpy(), b.detach().numpy(), rtol=0, atol=1e-12)


def test_index_gradient_accumulates_repeated_positions():
    x = ac.tensor([1.0, 2.0, 3.0], dtype=ac.float64, requires_grad=True)
    (g,) = ac.autograd.grad([(x[[0, 0, 2, 0]] ** 2).sum()], [x], create_graph=True)
    assert np.allclose(g.detach().numpy(), [6.0, 0.0, 6.0])
    (gg,) = ac.autograd.grad([g.sum()], [x])
    assert np.allclose(gg.numpy(), [6.0, 0.0, 2.0])



def third_derivatives(L, fn, xs):
    """Each order squared and summed, then differentiated again: through the recorded graphs of
    the rules' own ops (the scatters, index reads and masks they record)."""
    out = run(fn, L, xs)
    v = L.tensor(np.random.default_rng(6).uniform(-1, 1, tuple(out.shape)), dtype=L.float64,
                 requires_grad=True)
    firsts = L.autograd.grad([out], xs, [v], create_graph=True)
    seconds = L.autograd.grad([sum((f * f).sum() for f in firsts)], list(xs) + [v],
                              create_graph=True, allow_unused=True)
    thirds = L.autograd.grad([sum((s * s).sum() for s in seconds if s is not None)],
                             list(xs) + [v], allow_unused=True)
    return [None if s is None else s.detach().numpy() for s in thirds]


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_third_derivatives_match_torch(case):
    _, _, fn, shapes = case
    ours = third_derivatives(ac, fn, inputs_for(shapes, 7))
    theirs = third_derivatives(torch, fn, inputs_for(shapes, 7, torch))
    for a, b in zip(ours, theirs):
        assert same(a, b, 1e-10) if a is None or b is None else (
            a.shape == b.shape and np.allclose(a, b, rtol=1e-10, atol=1e-10))
