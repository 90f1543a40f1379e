"""autograd_c against torch: the same programs run in both must agree.

(a) every case of test_gradcheck's table: forward values, dtypes, shapes, input gradients after
    a backward with a random upstream gradient, and the grad_fn node names;
(b) random DAGs of 5-30 ops over 2-4 broadcast-compatible leaves, with fan-out and leaves used
    more than once: values and leaf gradients;
(c) type promotion of + - * / == < between every pair of dtypes, 0-d and dim tensors, and
    Python scalars;
(d) repr of results that carry a grad_fn, with torch's module name swapped for ours.

Skipped as a whole when torch is not installed.
"""
import operator
import re
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import autograd_c as ag  # noqa: E402
from test_gradcheck import CASES, make_inputs  # noqa: E402  (the shared table of op cases)

RTOL, ATOL = 1e-10, 1e-12
INF = float("inf")


# -- helpers ----------------------------------------------------------------------------------

def as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def np_of(t):
    return t.detach().numpy()


def dtype_name(d):
    """'float32' for both torch.float32 and autograd_c.float32."""
    return str(d).split(".")[-1]


def node_name(t):
    return None if t.grad_fn is None else t.grad_fn.name()


def assert_same_tensor(ours, theirs, what, rtol=RTOL, atol=ATOL):
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype), "%s: dtype %s, torch %s" % (
        what, ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape), "%s: shape %s, torch %s" % (
        what, tuple(ours.shape), tuple(theirs.shape))
    np.testing.assert_allclose(np_of(ours), np_of(theirs), rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=what)


# -- (a) the table of op cases ------------------------------------------------------------------

def check_against_torch(name, fn, specs, float32, rtol, atol):
    xs_ours = make_inputs(ag, specs, name, float32)
    xs_torch = make_inputs(torch, specs, name, float32)
    ours, theirs = as_list(fn(ag, *xs_ours)), as_list(fn(torch, *xs_torch))
    assert len(ours) == len(theirs), "number of outputs"
    for k, (o, t) in enumerate(zip(ours, theirs)):
        assert_same_tensor(o, t, "output %d" % k, rtol, atol)
        assert o.requires_grad == t.requires_grad, "output %d requires_grad" % k
        assert o.is_leaf == t.is_leaf, "output %d is_leaf" % k

    rng = np.random.default_rng(zlib.crc32(name.encode()) + 1)
    pairs = [(o, t) for o, t in zip(ours, theirs) if t.requires_grad]
    seeds = [rng.standard_normal(tuple(t.shape)).astype(np_of(t).dtype) for _, t in pairs]
    ag.autograd.backward([o for o, _ in pairs], [ag.tensor(s) for s in seeds])
    torch.autograd.backward([t for _, t in pairs], [torch.tensor(s) for s in seeds])
    for k, (spec, xo, xt) in enumerate(zip(specs, xs_ours, xs_torch)):
        if not spec.grad:
            continue
        if xt.grad is None:
            assert xo.grad is None, "input %d: torch leaves .grad None" % k
        else:
            assert xo.grad is not None, "input %d got no gradient" % k
            assert_same_tensor(xo.grad, xt.grad, "gradient of input %d (%s)" % (k, spec), rtol, atol)


@pytest.mark.parametrize("name,fn,specs", CASES)
def test_values_and_grads_match_torch(name, fn, specs):
    check_against_torch(name, fn, specs, False, RTOL, ATOL)


@pytest.mark.parametrize("name,fn,specs", CASES)
def test_float32_values_and_grads_match_torch(name, fn, specs):
    """The same cases in float32, where small contiguous tensors take the C kernels."""
    check_against_torch(name, fn, specs, True, 2e-5, 2e-6)


@pytest.mark.parametrize("name,fn,specs", CASES)
def test_grad_fn_names_match_torch(name, fn, specs):
    ours = as_list(fn(ag, *make_inputs(ag, specs, name)))
    theirs = as_list(fn(torch, *make_inputs(torch, specs, name)))
    assert [node_name(o) for o in ours] == [node_name(t) for t in theirs]


# Points where an op is not differentiable, or has ties: gradcheck cannot judge these, but the
# convention must be torch's (ties share evenly or go to the chosen index, bounds are inclusive,
# 0 * inf stays out of masked branches ...). Inputs are literal float64 lists.
NEG_INF = float("-inf")
TIES = [
    ("max() ties", lambda T, x: x.max(), [[1.0, 3.0, 3.0], [0.0, 3.0, 2.0]]),
    ("min() ties", lambda T, x: x.min(), [[1.0, 0.0, 3.0], [0.0, 3.0, 0.0]]),
    ("max() all equal", lambda T, x: x.max(), [2.0, 2.0, 2.0, 2.0]),
    ("max(1) ties", lambda T, x: x.max(1)[0], [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]),
    ("min(0) ties", lambda T, x: x.min(0).values, [[1.0, 3.0, 0.0], [1.0, 2.0, 0.0]]),
    ("amax(1) ties", lambda T, x: x.amax(1), [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),
    ("amin() ties", lambda T, x: x.amin(), [[1.0, 0.0, 3.0], [0.0, 3.0, 0.0]]),
    ("maximum ties", lambda T, x: T.maximum(x, x * 1), [1.0, -2.0]),
    ("maximum equal leaves", lambda T, x: T.maximum(x[0], x[1]), [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]]),
    ("minimum equal leaves", lambda T, x: T.minimum(x[0], x[1]), [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]]),
    ("clamp at bounds", lambda T, x: x.clamp(-1.0, 1.0), [-1.0, 1.0, 0.0, 2.0, -2.0]),
    ("clamp(min) at bound", lambda T, x: x.clamp(min=0.0), [0.0, 1.0, -1.0]),
    ("clamp(max) at bound", lambda T, x: x.clamp(max=0.0), [0.0, 1.0, -1.0]),
    ("clamp tensor bounds ties", lambda T, x: x[0].clamp(x[1], x[2]), [[0.0, 1.0, 2.0], [0.0, 0.0, 0.0], [2.0, 1.0, 2.0]]),
    ("relu at 0", lambda T, x: x.relu(), [0.0, 1.0, -1.0]),
    ("abs at 0", lambda T, x: x.abs(), [0.0, 1.0, -1.0]),
    ("sqrt at 0", lambda T, x: x.sqrt(), [0.0, 4.0]),
    ("x**0.5 at 0", lambda T, x: x ** 0.5, [0.0, 4.0]),
    ("x**0 at 0", lambda T, x: x ** 0, [0.0, 4.0]),
    ("x**2 at 0", lambda T, x: x ** 2, [0.0, -3.0]),
    ("x**y at x=0", lambda T, x: x[0] ** x[1], [[0.0, 0.0, 2.0], [2.0, 0.0, 0.5]]),
    ("0**x", lambda T, x: 0.0 ** x, [0.0, 1.0, 2.0]),
    ("norm() at 0", lambda T, x: x.norm(), [0.0, 0.0]),
    ("norm(1) at 0", lambda T, x: x.norm(1), [0.0, 1.0, -2.0]),
    ("norm(inf) ties", lambda T, x: x.norm(INF), [1.0, -1.0, 0.5]),
    ("norm(3) at 0", lambda T, x: x.norm(3), [0.0, 1.0, -2.0]),
    ("std of constant", lambda T, x: x.std(), [1.5, 1.5, 1.5]),
    ("var of one element", lambda T, x: x.var(), [1.5]),
    ("softmax with -inf", lambda T, x: x.softmax(-1), [[0.5, NEG_INF, 1.0], [NEG_INF, 2.0, 0.0]]),
    ("log_softmax with -inf", lambda T, x: x.log_softmax(-1) * T.tensor([1.0, 0.0, 1.0], dtype=T.float64), [[0.5, NEG_INF, 1.0]]),
    ("logsumexp with -inf", lambda T, x: x.logsumexp(-1), [[0.5, NEG_INF, 1.0], [NEG_INF, 2.0, 0.0]]),
    ("masked softmax (attention)", lambda T, x: x.masked_fill(T.tensor([[False, True, False], [True, False, False]]), NEG_INF).softmax(-1), [[0.5, 3.0, 1.0], [9.0, 2.0, 0.0]]),
    ("where keeps nan out", lambda T, x: T.where(x > 0, x.log(), x), [1.0, -1.0, 2.0]),
    ("prod with zeros", lambda T, x: x.prod(1), [[0.0, 2.0, 0.0], [0.0, 2.0, 3.0]]),
    ("sign", lambda T, x: x.sign() * x, [0.0, 2.0, -3.0]),
    ("round/floor/ceil", lambda T, x: x.round() + x.floor() + x.ceil() + x, [0.5, 1.5, -2.2]),
]


@pytest.mark.parametrize("fn,values", [t[1:] for t in TIES], ids=[t[0] for t in TIES])
def test_conventions_at_ties_and_kinks_match_torch(fn, values):
    xo = ag.tensor(np.array(values), requires_grad=True)
    xt = torch.tensor(np.array(values), requires_grad=True)
    with np.errstate(all="ignore"):
        o, t = fn(ag, xo), fn(torch, xt)
        assert_same_tensor(o, t, "value")
        seed = np.arange(1.0, 1.0 + t.numel()).reshape(tuple(t.shape))
        o.backward(ag.tensor(seed))
        t.backward(torch.tensor(seed))
    assert_same_tensor(xo.grad, xt.grad, "gradient")


def graph_of(node, depth=6):
    """The node names of a backward graph, as nested tuples (None where an input has no edge)."""
    if node is None:
        return None
    if depth == 0:
        return node.name()
    return (node.name(), tuple(graph_of(n, depth - 1) for n, _ in node.next_functions))


GRAPHS = [
    ("x*y+z", lambda T, x, y, z: (x * y + z).sum()),
    ("leaf twice", lambda T, x, y, z: (x * x).mean()),
    ("fan-out", lambda T, x, y, z: (lambda h: (h * h.sigmoid() - h).sum())(x.tanh() @ y.t())),
    ("const operand", lambda T, x, y, z: (x * y.detach()).relu().sum()),
    ("scalars", lambda T, x, y, z: (2 - x / 3) ** 2 + 1),
    ("views", lambda T, x, y, z: x.t()[1:3].unsqueeze(0).expand(2, 2, 2)[:, 1].transpose(0, 1)),
    ("reshape that copies", lambda T, x, y, z: x.t().reshape(-1)),
    ("softmax mm", lambda T, x, y, z: (x @ y.t()).softmax(-1).log().max()),
]


@pytest.mark.parametrize("expr", [g[1] for g in GRAPHS], ids=[g[0] for g in GRAPHS])
def test_graph_structure_matches_torch(expr):
    def run(T):
        x = T.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=T.float64, requires_grad=True)
        y = T.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], dtype=T.float64, requires_grad=True)
        z = T.tensor([0.1, 0.2, 0.3], dtype=T.float64, requires_grad=True)
        return expr(T, x, y, z)
    assert graph_of(run(ag).grad_fn) == graph_of(run(torch).grad_fn)


# -- (b) random expression graphs ---------------------------------------------------------------
# Each op is (name, arity, applicable(shapes), fn(T, *operands)). Operands are drawn from every
# value made so far, leaves included, so intermediate results fan out and leaves are reused.

def bshape(*shapes):
    return tuple(np.broadcast_shapes(*shapes))


def _setitem(T, a, b):
    s = bshape(a.shape, b.shape)
    y = a.expand(s) * 1
    y[..., 0] = b.expand(s)[..., 0]
    return y


def _catsplit(T, a, b):
    s = bshape(a.shape, b.shape)
    u, v = T.cat([a.expand(s), b.expand(s)], -1).split(s[-1], -1)
    return u * v - v


def _matmul(T, a, b):
    s = bshape(a.shape, b.shape)
    A, B = a.expand(s), b.expand(s)
    return (A @ B.transpose(-1, -2)) @ A / s[-1]


def _index(T, a):
    idx = np.random.default_rng(a.shape[-1]).integers(0, a.shape[-1], a.shape[-1])
    return a[..., T.tensor(idx)]


ANY = lambda *shapes: True                                      # noqa: E731
LAST_GT1 = lambda s: len(s) >= 1 and s[-1] > 1                  # noqa: E731
ND1 = lambda *shapes: len(bshape(*shapes)) >= 1                 # noqa: E731
ND2 = lambda *shapes: len(bshape(*shapes)) >= 2                 # noqa: E731

GRAPH_OPS = [
    ("neg", 1, ANY, lambda T, a: -a),
    ("tanh", 1, ANY, lambda T, a: a.tanh()),
    ("sigmoid", 1, ANY, lambda T, a: a.sigmoid()),
    ("sin", 1, ANY, lambda T, a: a.sin()),
    ("cos", 1, ANY, lambda T, a: T.cos(a)),
    ("exp", 1, ANY, lambda T, a: (a.tanh() * 2).exp()),
    ("log", 1, ANY, lambda T, a: (a * a + 1).log()),
    ("sqrt", 1, ANY, lambda T, a: (a * a + 0.5).sqrt()),
    ("rsqrt", 1, ANY, lambda T, a: (a * a + 0.5).rsqrt()),
    ("relu", 1, ANY, lambda T, a: a.relu()),
    ("abs", 1, ANY, lambda T, a: a.abs()),
    ("affine", 1, ANY, lambda T, a: 1.5 - a * 2.5 + 0.5),
    ("rdiv", 1, ANY, lambda T, a: 2 / (a * a + 1)),
    ("square", 1, ANY, lambda T, a: a ** 2),
    ("cube", 1, ANY, lambda T, a: a.pow(3) / 4),
    ("rpow", 1, ANY, lambda T, a: 2 ** a.tanh()),
    ("clamp", 1, ANY, lambda T, a: a.clamp(-0.5, 0.5)),
    ("sum keepdim", 1, ND1, lambda T, a: a.sum(-1, keepdim=True)),
    ("mean keepdim", 1, ND1, lambda T, a: a.mean(-1, keepdim=True)),
    ("center", 1, ND1, lambda T, a: a - a.mean(-1, keepdim=True)),
    ("amax keepdim", 1, ND1, lambda T, a: a.amax(-1, keepdim=True)),
    ("var keepdim", 1, LAST_GT1, lambda T, a: a.var(-1, keepdim=True)),
    ("norm keepdim", 1, ND1, lambda T, a: (a * a + 0.1).norm(dim=-1, keepdim=True)),
    ("softmax", 1, ND1, lambda T, a: a.softmax(-1)),
    ("log_softmax", 1, ND1, lambda T, a: a.log_softmax(-1)),
    ("logsumexp keepdim", 1, ND1, lambda T, a: a.logsumexp(-1, keepdim=True)),
    ("cumsum", 1, ND1, lambda T, a: a.cumsum(-1) / a.shape[-1]),
    ("reshape roundtrip", 1, ANY, lambda T, a: a.reshape(-1).reshape(a.shape) * 1.0),
    ("transpose roundtrip", 1, ND2, lambda T, a: a.transpose(0, -1).contiguous().transpose(0, -1)),
    ("index repeated", 1, ND1, _index),
    ("add", 2, ANY, lambda T, a, b: a + b),
    ("sub", 2, ANY, lambda T, a, b: a - b),
    ("mul", 2, ANY, lambda T, a, b: a * b),
    ("div", 2, ANY, lambda T, a, b: a / (b * b + 1)),
    ("pow", 2, ANY, lambda T, a, b: (a * a + 0.5) ** b.tanh()),
    ("maximum", 2, ANY, lambda T, a, b: T.maximum(a, b)),
    ("minimum", 2, ANY, lambda T, a, b: T.minimum(a, b)),
    ("where", 2, ANY, lambda T, a, b: T.where(a > b, a, b * 0.5)),
    ("where scalar", 2, ANY, lambda T, a, b: T.where(b > 0, a, 0.25)),
    ("masked_fill", 2, ANY, lambda T, a, b: a.expand(bshape(a.shape, b.shape)).masked_fill(b > 0.3, -0.5)),
    ("add alpha", 2, ANY, lambda T, a, b: T.add(a, b, alpha=-0.5)),
    ("setitem", 2, ND1, _setitem),
    ("cat split", 2, ND1, _catsplit),
    ("stack prod", 2, ANY, lambda T, a, b: T.stack([a.expand(bshape(a.shape, b.shape)), b.expand(bshape(a.shape, b.shape))]).prod(0)),
    ("matmul", 2, ND2, _matmul),
    ("where3", 3, ANY, lambda T, a, b, c: T.where(c > 0, a, b)),
    # (a is expanded first: torch's backward fails when the bounds are larger than the input)
    ("clamp tensors", 3, ANY, lambda T, a, b, c: a.expand(bshape(a.shape, b.shape, c.shape)).clamp(min=b - 1, max=b + c.abs() + 1)),
]

FULL_SHAPES = [(3, 4), (2, 3, 4), (4, 4), (2, 1, 3), (5,), (2, 3, 2, 3)]


def leaf_shape(rng, full):
    shape = list(full[rng.integers(0, len(full) + 1) if rng.random() < 0.3 else 0:])
    return tuple(1 if rng.random() < 0.3 else s for s in shape)


def random_program(seed):
    """Draw a program: leaf arrays and a list of (op index, operand indices)."""
    rng = np.random.default_rng(seed)
    full = FULL_SHAPES[rng.integers(len(FULL_SHAPES))]
    leaves = [rng.uniform(-1.5, 1.5, leaf_shape(rng, full)) for _ in range(rng.integers(2, 5))]
    shapes = [a.shape for a in leaves]
    steps = []
    for _ in range(rng.integers(5, 31)):
        while True:
            op = int(rng.integers(len(GRAPH_OPS)))
            name, arity, ok, _ = GRAPH_OPS[op]
            # favour recent values (deep chains) but reach back to any value, leaves included
            n = len(shapes)
            args = [int(n - 1 - min(rng.geometric(0.35) - 1, n - 1)) if rng.random() < 0.7
                    else int(rng.integers(n)) for _ in range(arity)]
            arg_shapes = [shapes[i] for i in args]
            if ok(*arg_shapes):
                break
        steps.append((op, args))
        shapes.append(bshape(*arg_shapes) if not name.endswith("keepdim")
                      else tuple(arg_shapes[0][:-1]) + (1,))
    return leaves, steps


def run_program(T, leaves, steps):
    xs = [T.tensor(a.copy()).requires_grad_() for a in leaves]
    values = list(xs)
    for op, args in steps:
        v = GRAPH_OPS[op][3](T, *[values[i] for i in args])
        with (torch.no_grad() if T is torch else ag.no_grad()):
            big = bool((v.abs() > 1e3).any())
        values.append(v.tanh() if big else v)     # the same values decide in both frameworks
    return xs, values


def describe(leaves, steps):
    lines = ["v%d = leaf %s" % (i, a.shape) for i, a in enumerate(leaves)]
    for k, (op, args) in enumerate(steps):
        lines.append("v%d = %s(%s)" % (len(leaves) + k, GRAPH_OPS[op][0], ", ".join("v%d" % a for a in args)))
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(120))
def test_random_graph_matches_torch(seed):
    leaves, steps = random_program(seed)
    program = describe(leaves, steps)
    xs_ours, vs_ours = run_program(ag, leaves, steps)
    xs_torch, vs_torch = run_program(torch, leaves, steps)
    for k, (o, t) in enumerate(zip(vs_ours, vs_torch)):
        assert_same_tensor(o, t, "value v%d of\n%s" % (k, program), rtol=1e-9, atol=1e-10)
    # backward from every value made by an op at once: many roots over shared subgraphs
    rng = np.random.default_rng(seed + 10_000)
    roots = range(len(leaves), len(vs_ours))
    seeds = [rng.standard_normal(tuple(vs_torch[i].shape)) for i in roots]
    ag.autograd.backward([vs_ours[i] for i in roots], [ag.tensor(s) for s in seeds])
    torch.autograd.backward([vs_torch[i] for i in roots], [torch.tensor(s) for s in seeds])
    for k, (xo, xt) in enumerate(zip(xs_ours, xs_torch)):
        if xt.grad is None:
            assert xo.grad is None, "leaf v%d: torch gives no gradient\n%s" % (k, program)
        else:
            assert xo.grad is not None, "leaf v%d got no gradient\n%s" % (k, program)
            assert_same_tensor(xo.grad, xt.grad, "gradient of leaf v%d of\n%s" % (k, program),
                               rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("seed", range(40))
def test_random_graph_loss_backward_twice_with_retain_graph(seed):
    """A scalar loss over the same random graphs, backward twice: gradients double as in torch."""
    leaves, steps = random_program(seed)
    grads = {}
    for T in (ag, torch):
        xs, values = run_program(T, leaves, steps)
        loss = values[len(leaves)].sum()
        for v in values[len(leaves) + 1:]:
            loss = loss + v.mean()
        loss.backward(retain_graph=True)
        loss.backward()
        grads[T] = xs
    for k, (xo, xt) in enumerate(zip(grads[ag], grads[torch])):
        if xt.grad is None:
            assert xo.grad is None
        else:
            assert_same_tensor(xo.grad, xt.grad, "leaf v%d\n%s" % (k, describe(leaves, steps)),
                               rtol=1e-9, atol=1e-10)


# Everything above builds tensors from float64 numpy arrays; Python numbers must arrive in the
# requested dtype just as exactly (0.1 as float64 is not 0.1 rounded to float32 first).
CREATIONS = [
    ("tensor(list, float64)", lambda T: T.tensor([0.1, -2.2, 1e-300], dtype=T.float64)),
    ("tensor(nested, float64)", lambda T: T.tensor([[0.1, 0.2], [1, 2.2]], dtype=T.float64)),
    ("tensor(scalar, float64)", lambda T: T.tensor(-2.2, dtype=T.float64)),
    ("tensor(list, float64, requires_grad)", lambda T: T.tensor([0.1, 0.7], dtype=T.float64, requires_grad=True)),
    ("as_tensor(list, float64)", lambda T: T.as_tensor([0.1, 0.7], dtype=T.float64)),
    ("tensor(list of ints, float64)", lambda T: T.tensor([2 ** 53 + 1, 3], dtype=T.float64)),
    ("tensor(list of ints, int64)", lambda T: T.tensor([2 ** 62 + 1, -3], dtype=T.int64)),
    ("tensor(list) float32", lambda T: T.tensor([0.1, 1e-8])),
    ("full float64", lambda T: T.full((2,), 0.1, dtype=T.float64)),
    ("DoubleTensor", lambda T: T.DoubleTensor([0.1, 0.3])),
    ("set_default_dtype float64", lambda T: _with_default_float64(T, lambda: T.tensor([0.1, 0.7]))),
]


def _with_default_float64(T, make):
    old = T.get_default_dtype()
    T.set_default_dtype(T.float64)
    try:
        return make()
    finally:
        T.set_default_dtype(old)


@pytest.mark.parametrize("make", [c[1] for c in CREATIONS], ids=[c[0] for c in CREATIONS])
def test_creation_from_python_numbers_is_exact(make):
    ours, theirs = make(ag), make(torch)
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype)
    assert ours.tolist() == theirs.tolist()


# -- (c) type promotion ---------------------------------------------------------------------------

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
       "==": operator.eq, "<": operator.lt}


def typed(T, name, zero_d):
    values = [True, False, True] if name == "bool" else [1, 2, 3]
    return T.tensor(values[0] if zero_d else values, dtype=getattr(T, name))


def outcome(fn):
    try:
        return dtype_name(fn().dtype)
    except Exception as e:   # both must refuse the same things, with the same exception type
        return "raises " + type(e).__name__


def promotion_mismatches(make):
    """{op: (ours, torch)} for the ops whose result dtype (or refusal) differs."""
    diffs = {}
    for sym, op in OPS.items():
        ours, theirs = outcome(lambda: make(ag, op)), outcome(lambda: make(torch, op))
        if ours != theirs:
            diffs[sym] = (ours, theirs)
    return diffs


PAIRS = [(a, b, da, db) for a in DTYPES for b in DTYPES
         for da, db in [(False, False), (False, True), (True, False), (True, True)]]


@pytest.mark.parametrize("a,b,a0,b0", PAIRS, ids=["%s%s-%s%s" % (a, "[]" if a0 else "[3]", b, "[]" if b0 else "[3]")
                                                   for a, b, a0, b0 in PAIRS])
def test_promotion_tensor_tensor(a, b, a0, b0):
    diffs = promotion_mismatches(lambda T, op: op(typed(T, a, a0), typed(T, b, b0)))
    assert not diffs, "op: (autograd_c, torch) %s" % diffs


SCALARS = [True, 3, 2.5]
SCALAR_CASES = [(d, s, left, d0) for d in DTYPES for s in SCALARS for left in (False, True)
                for d0 in (False, True)]


@pytest.mark.parametrize("d,s,scalar_left,d0", SCALAR_CASES,
                         ids=["%s%s-%s%s" % ("%r op " % s if left else "", d + ("[]" if d0 else "[3]"),
                                            "" if left else "op %r" % s, "") for d, s, left, d0 in SCALAR_CASES])
def test_promotion_tensor_scalar(d, s, scalar_left, d0):
    if scalar_left:
        diffs = promotion_mismatches(lambda T, op: op(s, typed(T, d, d0)))
    else:
        diffs = promotion_mismatches(lambda T, op: op(typed(T, d, d0), s))
    assert not diffs, "op: (autograd_c, torch) %s" % diffs


@pytest.mark.parametrize("a", DTYPES)
def test_result_type_and_promote_types(a):
    diffs = {}
    for b in DTYPES:
        for a0, b0 in [(False, False), (False, True), (True, False)]:
            ours = dtype_name(ag.result_type(typed(ag, a, a0), typed(ag, b, b0)))
            theirs = dtype_name(torch.result_type(typed(torch, a, a0), typed(torch, b, b0)))
            if ours != theirs:
                diffs["result_type(%s%s, %s%s)" % (a, "[]" * a0, b, "[]" * b0)] = (ours, theirs)
        ours = dtype_name(ag.promote_types(getattr(ag, a), getattr(ag, b)))
        theirs = dtype_name(torch.promote_types(getattr(torch, a), getattr(torch, b)))
        if ours != theirs:
            diffs["promote_types(%s, %s)" % (a, b)] = (ours, theirs)
        for s in SCALARS:
            ours = dtype_name(ag.result_type(typed(ag, a, False), s))
            theirs = dtype_name(torch.result_type(typed(torch, a, False), s))
            if ours != theirs:
                diffs["result_type(%s, %r)" % (a, s)] = (ours, theirs)
    assert not diffs, "(autograd_c, torch): %s" % diffs


# -- (d) repr of results with a grad_fn ----------------------------------------------------------

def _ones_plus_two(T):
    return T.ones(2, 2, requires_grad=True) + 2


REPRS = [
    ("x+2", _ones_plus_two),
    ("y*y*3", lambda T: (lambda y: y * y * 3)(_ones_plus_two(T))),
    ("mean", lambda T: (lambda y: (y * y * 3).mean())(_ones_plus_two(T))),
    ("float64", lambda T: T.tensor([1.5, -2.25, 3.0], dtype=T.float64, requires_grad=True) * 2),
    ("float16", lambda T: T.tensor([1.0, 2.5], dtype=T.float16, requires_grad=True) * 3),
    ("scientific", lambda T: T.tensor([1e-5, 1e3, 2.0], requires_grad=True) * 1),
    ("leaf", lambda T: T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)),
    ("sum 0-d", lambda T: T.tensor([[1.0, 2.0], [3.0, 4.5]], requires_grad=True).sum()),
    ("max(dim) return type", lambda T: T.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True).max(dim=0)),
    ("split tuple", lambda T: T.tensor([1.0, 2.0, 3.0], requires_grad=True).split(2)),
    ("mm float64", lambda T: T.tensor([[0.5, 0.25]], dtype=T.float64, requires_grad=True) @ T.ones(2, 2, dtype=T.float64)),
    ("wrapped line", lambda T: T.tensor([[0.5, 0.25, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]], requires_grad=True) * 2),
    (".T", lambda T: T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True).T),
    ("index", lambda T: T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)[T.tensor([1, 1, 0])]),
    ("summarised", lambda T: T.arange(2000.0).reshape(40, 50).requires_grad_() * 2),
    ("summarised 1-d", lambda T: T.arange(1500.0, requires_grad=True) - 1),
    ("empty", lambda T: T.zeros(0, 3, requires_grad=True) * 2),
    ("negative zero-ish", lambda T: T.tensor([-0.0, 0.5, -1.25], requires_grad=True).neg()),
    ("comparison (no grad)", lambda T: T.tensor([1.0, 2.0], requires_grad=True) > 1),
    ("detach", lambda T: (T.tensor([1.0, 2.0], requires_grad=True) * 2).detach()),
]


def normalise(text):
    return re.sub(r"0x[0-9a-f]+", "0x...", text.replace("torch.", "autograd_c."))


@pytest.mark.parametrize("build", [r[1] for r in REPRS], ids=[r[0] for r in REPRS])
def test_repr_matches_torch(build):
    assert repr(build(ag)) == normalise(repr(build(torch)))


@pytest.mark.parametrize("build", [r[1] for r in REPRS[:4]], ids=[r[0] for r in REPRS[:4]])
def test_grad_fn_repr_matches_torch(build):
    ours, theirs = build(ag).grad_fn, build(torch).grad_fn
    assert normalise(repr(ours)) == normalise(repr(theirs))
    assert normalise(repr(ours.next_functions)) == normalise(repr(theirs.next_functions))
