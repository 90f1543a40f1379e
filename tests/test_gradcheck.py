"""Finite-difference checks of every differentiable op, in float64.

Each case is one line: a name, a function ``fn(T, *inputs)`` written against a torch-like module
``T`` (here autograd_c; test_torch_oracle.py runs the same table against torch), and one spec per
input saying how to draw it. Inputs are drawn from a generator seeded by the case name, so a
failure names the op and shape and reproduces exactly.

Input specs (all float64 leaves that require grad, unless noted):

    A(*shape)        uniform in [-1.5, 1.5]
    P(*shape)        positive, in [0.5, 2] (log, sqrt, pow bases ...)
    N(*shape)        nonzero, |x| in [0.3, 1.5] (abs, relu, divisors ...)
    R(lo, hi, *shape)  uniform in [lo, hi] (clamp bounds)
    Z(shape, zeros)  like A, with exact zeros at the given positions (prod)
    ...,  nc="t"     a non-contiguous leaf: the transpose of a contiguous tensor
    ...,  nc="s"     a non-contiguous leaf: every other element of the last dim
    Mask(*shape)     a bool tensor (no grad); Idx(values) an int64 tensor (no grad)
    F(*shape)        a float64 tensor that does not require grad

Points where an op is not differentiable are avoided by construction (ties, zeros, bounds).
"""
import zlib

import numpy as np
import pytest

import autograd_c as ag
from autograd_c.autograd import GradcheckError, gradcheck

INF = float("inf")


# -- input specs ------------------------------------------------------------------------------

class In:
    """How to draw one input and make it a tensor of a torch-like module."""

    def __init__(self, shape, lo=-1.5, hi=1.5, away=False, nc=None, zeros=(), grad=True,
                 value=None, label=None):
        self.shape, self.lo, self.hi, self.away = tuple(shape), lo, hi, away
        self.nc, self.zeros, self.grad, self.value, self.label = nc, tuple(zeros), grad, value, label

    def array(self, rng):
        if self.value is not None:
            return np.array(self.value)
        x = rng.uniform(self.lo, self.hi, self.shape)
        if self.away:
            x = np.where(rng.random(self.shape) < 0.5, -1.0, 1.0) * rng.uniform(0.3, 1.5, self.shape)
        for pos in self.zeros:
            x[pos] = 0.0
        return np.asarray(x, dtype=np.float64)

    def tensor(self, T, arr, float32=False):
        if float32 and arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        if self.nc == "t":      # storage holds the transpose; the leaf is a transposed view of it
            t = T.tensor(np.ascontiguousarray(np.swapaxes(arr, -1, -2))).transpose(-1, -2)
        elif self.nc == "s":    # storage twice as wide; the leaf takes every other element
            wide = np.zeros(arr.shape[:-1] + (2 * arr.shape[-1],), dtype=arr.dtype)
            wide[..., ::2] = arr
            t = T.tensor(wide)[..., ::2]
        else:
            t = T.tensor(arr.copy())
        t = t.detach()
        if self.nc:
            assert not t.is_contiguous()
        if self.grad:
            t.requires_grad_(True)
        return t

    def __str__(self):
        if self.label:
            return self.label
        s = "x".join(map(str, self.shape)) if self.shape else "0d"
        return s + ("-nc" + self.nc if self.nc else "")


def A(*shape, nc=None):
    return In(shape, nc=nc)


def P(*shape, nc=None):
    return In(shape, 0.5, 2.0, nc=nc)


def N(*shape, nc=None):
    return In(shape, away=True, nc=nc)


def R(lo, hi, *shape):
    return In(shape, lo, hi)


def Z(shape, zeros):
    return In(shape, zeros=zeros, label="x".join(map(str, shape)) + "-zeros%d" % len(zeros))


def F(*shape):
    return In(shape, grad=False)


def Mask(*shape, seed=0):
    m = np.random.default_rng(seed + 17).random(shape) < 0.5
    m.flat[0], m.flat[-1] = True, False          # both branches always taken
    return In(shape, grad=False, value=m, label="mask" + "x".join(map(str, shape)))


def Idx(values):
    a = np.array(values, dtype=np.int64)
    return In(a.shape, grad=False, value=a, label="idx" + "x".join(map(str, a.shape)))


def make_inputs(T, specs, name, float32=False):
    """Draw the inputs of case `name` (same numbers every run and for every module T)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return [s.tensor(T, s.array(rng), float32) for s in specs]


CASES = []


def case(name, fn, *specs):
    """Add one case; the id is the name plus the input shapes."""
    full = name + "[" + ",".join(str(s) for s in specs) + "]"
    CASES.append(pytest.param(full, fn, specs, id=full))


# -- unary ------------------------------------------------------------------------------------

UNARY = {"neg": A, "abs": N, "exp": A, "log": P, "log2": P, "log10": P, "sqrt": P, "rsqrt": P,
         "sin": A, "cos": A, "tanh": A, "sigmoid": A, "relu": N, "reciprocal": N}
UNARY_SHAPES = [(), (5,), (3, 4), (0,), (2, 3, 4)]

for op, kind in UNARY.items():
    for shape in UNARY_SHAPES:
        case(op, lambda T, x, op=op: getattr(x, op)(), kind(*shape))
    case(op, lambda T, x, op=op: getattr(x, op)(), kind(3, 4, nc="t"))
    case(op, lambda T, x, op=op: getattr(x, op)(), kind(2, 3, 4, nc="s"))
    case("T." + op, lambda T, x, op=op: getattr(T, op)(x), kind(3, 4))
case("-x", lambda T, x: -x, A(3, 4))
case("abs(x)", lambda T, x: abs(x), N(3, 4))
case("square", lambda T, x: x.square(), A(3, 4))

# -- + - * / with broadcasting in both directions ------------------------------------------------

BINARY = {"add": lambda T, x, y: x + y, "sub": lambda T, x, y: x - y,
          "mul": lambda T, x, y: x * y, "div": lambda T, x, y: x / y}
BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)),
                 ((2, 3, 4), (3, 1)), ((3, 1), (2, 3, 4)), ((), (3, 4)), ((3, 4), ()), ((), ()),
                 ((0, 3), (3,)), ((2, 0, 3), (1, 3))]

for op, fn in BINARY.items():
    second = N if op == "div" else A
    for sx, sy in BINARY_SHAPES:
        case(op, fn, A(*sx), second(*sy))
    case(op, fn, A(3, 4, nc="t"), second(3, 4))
    case(op, fn, A(3, 4), second(3, 4, nc="s"))
    case(op, fn, A(3, 4, nc="t"), second(4, nc="s"))
    case("leaf twice " + op, lambda T, x, fn=fn: fn(T, x, x) + x, N(3, 4))

case("x.add(y)", lambda T, x, y: x.add(y), A(3, 4), A(4))
case("x.sub(y)", lambda T, x, y: x.sub(y), A(3, 4), A(4))
case("x.mul(y)", lambda T, x, y: x.mul(y), A(3, 1), A(4))
case("x.div(y)", lambda T, x, y: x.div(y), A(3, 4), N(3, 1))
case("x.true_divide(y)", lambda T, x, y: x.true_divide(y), A(3, 4), N(4))
case("T.add", lambda T, x, y: T.add(x, y), A(3, 4), A(4))
case("T.sub", lambda T, x, y: T.sub(x, y), A(4), A(3, 4))
case("T.mul", lambda T, x, y: T.mul(x, y), A(3, 4), A(3, 4))
case("T.div", lambda T, x, y: T.div(x, y), A(3, 4), N(3, 4))

# add/sub with alpha
case("add alpha=2", lambda T, x, y: T.add(x, y, alpha=2), A(3, 4), A(4))
case("add alpha=-0.5", lambda T, x, y: x.add(y, alpha=-0.5), A(4), A(3, 4))
case("sub alpha=3", lambda T, x, y: T.sub(x, y, alpha=3), A(3, 4), A(3, 4))
case("sub alpha=0.25", lambda T, x, y: x.sub(y, alpha=0.25), A(3, 1), A(1, 4))
case("add scalar alpha", lambda T, x: T.add(x, 2, alpha=3), A(3, 4))
case("sub scalar alpha", lambda T, x: x.sub(2, alpha=0.5), A(3, 4))

# Python scalars on either side
SCALAR_EXPRS = [
    ("x+2", lambda T, x: x + 2, A), ("2+x", lambda T, x: 2 + x, A),
    ("x+0.5", lambda T, x: x + 0.5, A), ("x-2", lambda T, x: x - 2, A),
    ("2-x", lambda T, x: 2 - x, A), ("1.5-x", lambda T, x: 1.5 - x, A),
    ("x*3", lambda T, x: x * 3, A), ("2.5*x", lambda T, x: 2.5 * x, A),
    ("x/2", lambda T, x: x / 2, A), ("x/0.25", lambda T, x: x / 0.25, A),
    ("2/x", lambda T, x: 2 / x, N), ("-1.5/x", lambda T, x: -1.5 / x, N),
    ("x**3", lambda T, x: x ** 3, A), ("x**2", lambda T, x: x ** 2, A),
    ("x**1", lambda T, x: x ** 1, A), ("x**0", lambda T, x: x ** 0, A),
    ("x**0.5", lambda T, x: x ** 0.5, P), ("x**-1.5", lambda T, x: x ** -1.5, P),
    ("x**-2", lambda T, x: x ** -2, N), ("2**x", lambda T, x: 2 ** x, A),
    ("0.5**x", lambda T, x: 0.5 ** x, A), ("2.5**x", lambda T, x: 2.5 ** x, A),
    ("T.pow(x,3)", lambda T, x: T.pow(x, 3), A), ("T.pow(2,x)", lambda T, x: T.pow(2, x), A),
    ("x.pow(2.5)", lambda T, x: x.pow(2.5), P),
]
for name, fn, kind in SCALAR_EXPRS:
    case(name, fn, kind(3, 4))
    case(name, fn, kind())
case("x**3", lambda T, x: x ** 3, A(3, 4, nc="t"))
case("2-x", lambda T, x: 2 - x, A(2, 3, 4, nc="s"))
case("2/x", lambda T, x: 2 / x, N(3, 4, nc="t"))

# pow with two tensors
case("x**y", lambda T, x, y: x ** y, P(3, 4), A(3, 4))
case("x**y", lambda T, x, y: x ** y, P(3, 1), A(4))
case("x**y", lambda T, x, y: x ** y, P(4), A(2, 3, 4))
case("x**y", lambda T, x, y: x ** y, P(), A(3))
case("x.pow(y)", lambda T, x, y: x.pow(y), P(3, 4, nc="t"), A(3, 4))
case("T.pow(x,y)", lambda T, x, y: T.pow(x, y), P(3, 4), A(1, 4))

# -- clamp, maximum/minimum, where, masked_fill ------------------------------------------------

case("clamp(-0.5,0.5)", lambda T, x: x.clamp(-0.5, 0.5), A(3, 4))
case("clamp(-0.5,0.5)", lambda T, x: x.clamp(-0.5, 0.5), A(3, 4, nc="t"))
case("clamp(-0.5,0.5)", lambda T, x: x.clamp(-0.5, 0.5), A())
case("clamp(min=0.2)", lambda T, x: x.clamp(min=0.2), A(3, 4))
case("clamp(max=-0.1)", lambda T, x: x.clamp(max=-0.1), A(3, 4))
case("clamp(min=0)", lambda T, x: x.clamp(min=0), N(3, 4))
case("T.clamp", lambda T, x: T.clamp(x, -0.3, 0.6), A(3, 4))
case("clip", lambda T, x: x.clip(-0.3, 0.6), A(3, 4))
case("clamp(lo,hi) tensors", lambda T, x, lo, hi: x.clamp(lo, hi), A(3, 4), R(-0.8, -0.1, 3, 4), R(0.1, 0.8, 3, 4))
case("clamp(lo,hi) broadcast", lambda T, x, lo, hi: T.clamp(x, lo, hi), A(3, 4), R(-0.8, -0.1, 4), R(0.1, 0.8, 3, 1))
case("clamp(min=tensor)", lambda T, x, lo: x.clamp(min=lo), A(3, 4), R(-0.5, 0.5, 4))
case("clamp(max=tensor)", lambda T, x, hi: x.clamp(max=hi), A(3, 4), R(-0.5, 0.5, 3, 1))

for name, fn in [("maximum", lambda T, x, y: T.maximum(x, y)), ("minimum", lambda T, x, y: T.minimum(x, y)),
                 ("x.maximum", lambda T, x, y: x.maximum(y)), ("x.minimum", lambda T, x, y: x.minimum(y))]:
    case(name, fn, A(3, 4), A(3, 4))
case("maximum", lambda T, x, y: T.maximum(x, y), A(3, 4), A(4))
case("maximum", lambda T, x, y: T.maximum(x, y), A(2, 1, 4), A(3, 1))
case("minimum", lambda T, x, y: T.minimum(x, y), A(), A(3))
case("minimum", lambda T, x, y: T.minimum(x, y), A(3, 4, nc="t"), A(3, 4, nc="s"))
case("T.max(x,y)", lambda T, x, y: T.max(x, y), A(3, 4), A(4))
case("T.min(x,y)", lambda T, x, y: T.min(x, y), A(3, 4), A(3, 1))

case("where", lambda T, c, x, y: T.where(c, x, y), Mask(3, 4), A(3, 4), A(3, 4))
case("where broadcast", lambda T, c, x, y: T.where(c, x, y), Mask(3, 1), A(1, 4), A(4))
case("where broadcast", lambda T, c, x, y: T.where(c, x, y), Mask(4), A(2, 3, 4), A(3, 1))
case("where scalar other", lambda T, c, x: T.where(c, x, 0.5), Mask(3, 4), A(3, 4))
case("where scalar input", lambda T, c, y: T.where(c, -2.0, y), Mask(3, 4), A(3, 4))
case("where scalar other bcast", lambda T, c, x: T.where(c, x, 0.5), Mask(3, 4), A(4))
case("x.where", lambda T, c, x, y: x.where(c, y), Mask(3, 4), A(3, 4), A(3, 1))
case("where nc", lambda T, c, x, y: T.where(c, x, y), Mask(3, 4), A(3, 4, nc="t"), A(3, 4, nc="s"))

case("masked_fill", lambda T, m, x: x.masked_fill(m, 0.5), Mask(3, 4), A(3, 4))
case("masked_fill bcast mask", lambda T, m, x: x.masked_fill(m, -1.0), Mask(4), A(3, 4))
case("masked_fill tensor value", lambda T, m, x, v: x.masked_fill(m, v), Mask(3, 4), A(3, 4), A())
case("T.masked_fill", lambda T, m, x: T.masked_fill(x, m, 2.0), Mask(2, 1, 4), A(2, 3, 4))
case("masked_fill nc", lambda T, m, x: x.masked_fill(m, 0.0), Mask(3, 4), A(3, 4, nc="t"))

# -- matrix products --------------------------------------------------------------------------

MATMUL_SHAPES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)),
                 ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                 ((2, 3, 4), (4,)), ((4,), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)),
                 ((2, 3, 4), (2, 4, 5)), ((0, 4), (4, 5)), ((3, 0), (0, 5)), ((1, 1), (1, 1))]
for sa, sb in MATMUL_SHAPES:
    case("matmul", lambda T, a, b: T.matmul(a, b), A(*sa), A(*sb))
case("a@b", lambda T, a, b: a @ b, A(3, 4), A(4, 5))
case("a@b nc", lambda T, a, b: a @ b, A(3, 4, nc="t"), A(4, 5, nc="s"))
case("a@b nc", lambda T, a, b: a @ b, A(2, 3, 4, nc="s"), A(4, 5, nc="t"))
case("a@b nc", lambda T, a, b: a @ b, A(4, nc="s"), A(4, 5, nc="t"))
case("a.matmul(b)", lambda T, a, b: a.matmul(b), A(3, 4), A(4))
case("mm", lambda T, a, b: T.mm(a, b), A(3, 4), A(4, 5))
case("mm", lambda T, a, b: a.mm(b), A(3, 4, nc="t"), A(4, 2, nc="t"))
case("bmm", lambda T, a, b: T.bmm(a, b), A(2, 3, 4), A(2, 4, 5))
case("bmm", lambda T, a, b: a.bmm(b), A(2, 3, 4, nc="t"), A(2, 4, 5, nc="s"))
case("dot", lambda T, a, b: T.dot(a, b), A(5), A(5))
case("dot", lambda T, a, b: a.dot(b), A(5, nc="s"), A(5))
case("mv", lambda T, a, b: T.mv(a, b), A(3, 4), A(4))
case("mv", lambda T, a, b: a.mv(b), A(3, 4, nc="t"), A(4, nc="s"))
case("x@x (leaf twice)", lambda T, a: a @ a, A(3, 3))

# -- reductions -------------------------------------------------------------------------------

for red in ("sum", "mean"):
    r = lambda T, x, *a, red=red, **k: getattr(x, red)(*a, **k)
    case(red, lambda T, x, r=r: r(T, x), A(3, 4))
    case(red, lambda T, x, r=r: r(T, x), A())
    case(red, lambda T, x, r=r: r(T, x), A(0, 3))
    case(red, lambda T, x, r=r: r(T, x), A(3, 4, nc="t"))
    case(red + "(0)", lambda T, x, r=r: r(T, x, 0), A(3, 4))
    case(red + "(-1)", lambda T, x, r=r: r(T, x, -1), A(2, 3, 4))
    case(red + "((0,2))", lambda T, x, r=r: r(T, x, (0, 2)), A(2, 3, 4))
    case(red + "([-1,-3])", lambda T, x, r=r: r(T, x, [-1, -3]), A(2, 3, 4))
    case(red + "(1,keepdim)", lambda T, x, r=r: r(T, x, 1, keepdim=True), A(2, 3, 4))
    case(red + "((0,1),keepdim)", lambda T, x, r=r: r(T, x, (0, 1), keepdim=True), A(2, 3, 4))
    case(red + "(dim=0) 0d", lambda T, x, r=r: r(T, x, dim=0), A())
    case(red + "(0) empty", lambda T, x, r=r: r(T, x, 0), A(0, 3))
    case(red + "(1) nc", lambda T, x, r=r: r(T, x, 1), A(2, 3, 4, nc="s"))
    case("T." + red, lambda T, x, red=red: getattr(T, red)(x, 1), A(3, 4))

case("prod", lambda T, x: x.prod(), A(3, 4))
case("prod", lambda T, x: x.prod(), A())
case("prod(1)", lambda T, x: x.prod(1), A(3, 4))
case("prod(0,keepdim)", lambda T, x: x.prod(0, keepdim=True), A(3, 4))
case("prod(-1)", lambda T, x: x.prod(-1), A(2, 3, 4, nc="t"))
case("prod(0) 0d", lambda T, x: x.prod(0), A())
case("T.prod", lambda T, x: T.prod(x, 1), A(3, 4))
case("prod one zero", lambda T, x: x.prod(), Z((3, 4), [(1, 2)]))
case("prod two zeros", lambda T, x: x.prod(), Z((3, 4), [(1, 2), (2, 0)]))
case("prod(1) one zero", lambda T, x: x.prod(1), Z((3, 4), [(1, 2)]))
case("prod(1) two zeros in a row", lambda T, x: x.prod(1), Z((3, 4), [(1, 2), (1, 0)]))
case("prod(0) zeros", lambda T, x: x.prod(0), Z((3, 4), [(0, 0), (2, 0), (1, 3)]))
case("prod all zeros", lambda T, x: x.prod(), Z((2,), [(0,), (1,)]))

for ext in ("max", "min"):
    e = lambda x, *a, ext=ext, **k: getattr(x, ext)(*a, **k)
    case(ext, lambda T, x, e=e: e(x), A(3, 4))
    case(ext, lambda T, x, e=e: e(x), A())
    case(ext, lambda T, x, e=e: e(x), A(3, 4, nc="t"))
    case(ext + "(1)", lambda T, x, e=e: e(x, 1), A(3, 4))
    case(ext + "(1).values", lambda T, x, e=e: e(x, 1).values, A(3, 4))
    case(ext + "(dim=0,keepdim)[0]", lambda T, x, e=e: e(x, dim=0, keepdim=True)[0], A(3, 4))
    case(ext + "(-1)", lambda T, x, e=e: e(x, -1), A(2, 3, 4, nc="s"))
    case(ext + "(0) 0d", lambda T, x, e=e: e(x, 0), A())
    case("T." + ext, lambda T, x, ext=ext: getattr(T, ext)(x, 0), A(3, 4))
for ext in ("amax", "amin"):
    e = lambda x, *a, ext=ext, **k: getattr(x, ext)(*a, **k)
    case(ext, lambda T, x, e=e: e(x), A(3, 4))
    case(ext + "(1)", lambda T, x, e=e: e(x, 1), A(3, 4))
    case(ext + "((0,2))", lambda T, x, e=e: e(x, (0, 2)), A(2, 3, 4))
    case(ext + "(-1,keepdim)", lambda T, x, e=e: e(x, -1, keepdim=True), A(2, 3, 4))
    case(ext + "(0) nc", lambda T, x, e=e: e(x, 0), A(3, 4, nc="t"))
    case(ext + "(0) 0d", lambda T, x, e=e: e(x, 0), A())
    case("T." + ext, lambda T, x, ext=ext: getattr(T, ext)(x, 1), A(3, 4))

for vs in ("var", "std"):
    v = lambda x, *a, vs=vs, **k: getattr(x, vs)(*a, **k)
    case(vs, lambda T, x, v=v: v(x), A(3, 4))
    case(vs + "(unbiased=False)", lambda T, x, v=v: v(x, unbiased=False), A(3, 4))
    case(vs + "(1)", lambda T, x, v=v: v(x, 1), A(3, 4))
    case(vs + "(1,unbiased=False)", lambda T, x, v=v: v(x, 1, unbiased=False), A(3, 4))
    case(vs + "((0,2),keepdim)", lambda T, x, v=v: v(x, (0, 2), keepdim=True), A(2, 3, 4))
    case(vs + "(-1,keepdim)", lambda T, x, v=v: v(x, -1, keepdim=True), A(2, 3, 4))
    case(vs + "(0,correction=0)", lambda T, x, v=v: v(x, 0, correction=0), A(3, 4))
    case(vs + "(correction=2)", lambda T, x, v=v: v(x, correction=2), A(3, 4))
    case(vs + "(dim=1,correction=2)", lambda T, x, v=v: v(x, dim=1, correction=2), A(3, 5))
    case(vs + "(0) nc", lambda T, x, v=v: v(x, 0), A(3, 4, nc="t"))
    case("T." + vs, lambda T, x, vs=vs: getattr(T, vs)(x, 1), A(3, 4))

NORMS = [("norm()", lambda T, x: x.norm(), A), ("norm(2)", lambda T, x: x.norm(2), A),
         ("norm(1)", lambda T, x: x.norm(1), N), ("norm(inf)", lambda T, x: x.norm(INF), A),
         ("norm(3)", lambda T, x: x.norm(3), N), ("norm(1.5)", lambda T, x: x.norm(1.5), N),
         ("norm(dim=1)", lambda T, x: x.norm(dim=1), A),
         ("norm(p=1,dim=0)", lambda T, x: x.norm(p=1, dim=0), N),
         ("norm(3,dim=-1,keepdim)", lambda T, x: x.norm(3, dim=-1, keepdim=True), N),
         ("norm(inf,dim=1)", lambda T, x: x.norm(INF, dim=1), A),
         ("norm(2,dim=(0,1))", lambda T, x: x.norm(2, dim=(0, 1)), A),
         ("T.norm", lambda T, x: T.norm(x), A)]
for name, fn, kind in NORMS:
    case(name, fn, kind(3, 4))
case("norm()", lambda T, x: x.norm(), A(2, 3, 4, nc="s"))
case("norm(dim=0)", lambda T, x: x.norm(dim=0), A(3, 4, nc="t"))
case("norm() 0d", lambda T, x: x.norm(), N())
case("norm(dim=0) 0d", lambda T, x: x.norm(dim=0), N())

case("logsumexp(1)", lambda T, x: x.logsumexp(1), A(3, 4))
case("logsumexp((0,1))", lambda T, x: x.logsumexp((0, 1)), A(3, 4))
case("logsumexp(-1,keepdim)", lambda T, x: x.logsumexp(-1, keepdim=True), A(2, 3, 4))
case("logsumexp(0) 0d", lambda T, x: x.logsumexp(0), A())
case("logsumexp(0) nc", lambda T, x: x.logsumexp(0), A(3, 4, nc="t"))
case("T.logsumexp", lambda T, x: T.logsumexp(x, 0), A(3, 4))
case("logsumexp large", lambda T, x: (x * 300).logsumexp(1), A(3, 4))

for sm in ("softmax", "log_softmax"):
    s = lambda x, *a, sm=sm, **k: getattr(x, sm)(*a, **k)
    case(sm + "(1)", lambda T, x, s=s: s(x, 1), A(3, 4))
    case(sm + "(0)", lambda T, x, s=s: s(x, 0), A(3, 4))
    case(sm + "(-1)", lambda T, x, s=s: s(x, -1), A(2, 3, 4))
    case(sm + "(dim=1)", lambda T, x, s=s: s(x, dim=1), A(2, 3, 4))
    case(sm + "(0)", lambda T, x, s=s: s(x, 0), A(5))
    case(sm + "(0) 0d", lambda T, x, s=s: s(x, 0), A())
    case(sm + "(1) empty", lambda T, x, s=s: s(x, 1), A(0, 3))
    case(sm + "(1) nc", lambda T, x, s=s: s(x, 1), A(3, 4, nc="t"))
    case(sm + "(1) large", lambda T, x, s=s: s(x * 400, 1), A(3, 4))
    case("T." + sm, lambda T, x, sm=sm: getattr(T, sm)(x, 1), A(3, 4))

case("cumsum(0)", lambda T, x: x.cumsum(0), A(3, 4))
case("cumsum(1)", lambda T, x: x.cumsum(1), A(3, 4))
case("cumsum(-1)", lambda T, x: x.cumsum(-1), A(2, 3, 4))
case("cumsum(0) 0d", lambda T, x: x.cumsum(0), A())
case("cumsum(0) empty", lambda T, x: x.cumsum(0), A(0))
case("cumsum(1) nc", lambda T, x: x.cumsum(1), A(3, 4, nc="t"))
case("T.cumsum", lambda T, x: T.cumsum(x, dim=1), A(3, 4))

# -- shape ops --------------------------------------------------------------------------------

SHAPE_OPS = [
    ("reshape(4,3)", lambda T, x: x.reshape(4, 3), A(3, 4)),
    ("reshape(-1)", lambda T, x: x.reshape(-1), A(2, 3, 4)),
    ("reshape((2,-1,2))", lambda T, x: x.reshape((2, -1, 2)), A(3, 4)),
    ("reshape(-1) nc", lambda T, x: x.reshape(-1), A(3, 4, nc="t")),
    ("reshape(2,6) nc", lambda T, x: x.reshape(2, 6), A(3, 4, nc="s")),
    ("reshape(1) 0d", lambda T, x: x.reshape(1), A()),
    ("reshape(()) ", lambda T, x: x.reshape(()), A(1, 1)),
    ("reshape(3,0) empty", lambda T, x: x.reshape(3, 0), A(0, 3)),
    ("T.reshape", lambda T, x: T.reshape(x, (6, 2)), A(3, 4)),
    ("view(12)", lambda T, x: x.view(12), A(3, 4)),
    ("view(-1,4)", lambda T, x: x.view(-1, 4), A(2, 3, 4)),
    ("view(2,2,3)", lambda T, x: x.view(2, 2, 3), A(3, 4)),
    ("view(1) 0d", lambda T, x: x.view(1), A()),
    ("view_as", lambda T, x, y: x.view_as(y), A(3, 4), F(4, 3)),
    ("flatten()", lambda T, x: x.flatten(), A(2, 3, 4)),
    ("flatten(1)", lambda T, x: x.flatten(1), A(2, 3, 4)),
    ("flatten(0,1)", lambda T, x: x.flatten(0, 1), A(2, 3, 4)),
    ("flatten() nc", lambda T, x: x.flatten(), A(3, 4, nc="t")),
    ("flatten() 0d", lambda T, x: x.flatten(), A()),
    ("T.flatten", lambda T, x: T.flatten(x, 1), A(2, 3, 4)),
    ("squeeze()", lambda T, x: x.squeeze(), A(1, 3, 1, 4)),
    ("squeeze(0)", lambda T, x: x.squeeze(0), A(1, 3, 1, 4)),
    ("squeeze(-2)", lambda T, x: x.squeeze(-2), A(1, 3, 1, 4)),
    ("squeeze((0,2))", lambda T, x: x.squeeze((0, 2)), A(1, 3, 1, 4)),
    ("squeeze(1) noop", lambda T, x: x.squeeze(1), A(1, 3, 1, 4)),
    ("squeeze() 0d", lambda T, x: x.squeeze(), A()),
    ("T.squeeze", lambda T, x: T.squeeze(x, 0), A(1, 4)),
    ("unsqueeze(0)", lambda T, x: x.unsqueeze(0), A(3, 4)),
    ("unsqueeze(-1)", lambda T, x: x.unsqueeze(-1), A(3, 4)),
    ("unsqueeze(1)", lambda T, x: x.unsqueeze(1), A(3, 4, nc="t")),
    ("unsqueeze(0) 0d", lambda T, x: x.unsqueeze(0), A()),
    ("T.unsqueeze", lambda T, x: T.unsqueeze(x, 1), A(3)),
    ("expand(3,4)", lambda T, x: x.expand(3, 4), A(3, 1)),
    ("expand(2,3,4)", lambda T, x: x.expand(2, 3, 4), A(4)),
    ("expand(-1,4)", lambda T, x: x.expand(-1, 4), A(3, 1)),
    ("expand((2,1,4))", lambda T, x: x.expand((2, 1, 4)), A(1, 1)),
    ("expand(3) 0d", lambda T, x: x.expand(3), A()),
    ("expand(2,3,4) nc", lambda T, x: x.expand(2, 3, 4), A(3, 4, nc="t")),
    ("expand_as", lambda T, x, y: x.expand_as(y), A(3, 1), F(2, 3, 4)),
    ("expand_as 0d", lambda T, x, y: x.expand_as(y), A(), F(3, 4)),
    ("expanded used twice", lambda T, x: x.expand(3, 4) * x.expand(3, 4).exp(), A(4)),
    ("transpose(0,1)", lambda T, x: x.transpose(0, 1), A(3, 4)),
    ("transpose(0,2)", lambda T, x: x.transpose(0, 2), A(2, 3, 4)),
    ("transpose(-1,-2)", lambda T, x: x.transpose(-1, -2), A(2, 3, 4, nc="s")),
    ("T.transpose", lambda T, x: T.transpose(x, 1, 0), A(3, 4)),
    ("t()", lambda T, x: x.t(), A(3, 4)),
    ("t() 1d", lambda T, x: x.t(), A(4)),
    ("t() nc", lambda T, x: x.t(), A(3, 4, nc="t")),
    ("T.t", lambda T, x: T.t(x), A(3, 4)),
    (".T", lambda T, x: x.T, A(3, 4)),
    (".T nc", lambda T, x: x.T, A(3, 4, nc="s")),
    ("permute(2,0,1)", lambda T, x: x.permute(2, 0, 1), A(2, 3, 4)),
    ("permute((1,0,2))", lambda T, x: x.permute((1, 0, 2)), A(2, 3, 4)),
    ("permute(-1,0,1)", lambda T, x: x.permute(-1, 0, 1), A(2, 3, 4, nc="t")),
    ("T.permute", lambda T, x: T.permute(x, (1, 0)), A(3, 4)),
    ("repeat(2,1)", lambda T, x: x.repeat(2, 1), A(3, 4)),
    ("repeat(2,3)", lambda T, x: x.repeat(2, 3), A(3)),
    ("repeat(1,1,2)", lambda T, x: x.repeat(1, 1, 2), A(2, 3)),
    ("repeat((2,2))", lambda T, x: x.repeat((2, 2)), A(3, 4, nc="t")),
    ("repeat(3) 0d", lambda T, x: x.repeat(3), A()),
    ("narrow(0,1,2)", lambda T, x: x.narrow(0, 1, 2), A(3, 4)),
    ("narrow(-1,0,3)", lambda T, x: x.narrow(-1, 0, 3), A(2, 3, 4)),
    ("narrow(1,1,2) nc", lambda T, x: x.narrow(1, 1, 2), A(3, 4, nc="t")),
    ("T.narrow", lambda T, x: T.narrow(x, 1, 1, 2), A(3, 4)),
]
for name, fn, *specs in SHAPE_OPS:
    case(name, fn, *specs)

# -- indexing ---------------------------------------------------------------------------------

INDEXING = [
    ("x[1]", lambda T, x: x[1], A(3, 4)),
    ("x[-1]", lambda T, x: x[-1], A(3, 4)),
    ("x[1,2]", lambda T, x: x[1, 2], A(3, 4)),
    ("x[-1,-2]", lambda T, x: x[-1, -2], A(3, 4)),
    ("x[1:3]", lambda T, x: x[1:3], A(3, 4)),
    ("x[:,1]", lambda T, x: x[:, 1], A(3, 4)),
    ("x[:,::2]", lambda T, x: x[:, ::2], A(3, 4)),
    ("x[-2:,1:-1]", lambda T, x: x[-2:, 1:-1], A(3, 4)),
    ("x[None]", lambda T, x: x[None], A(3, 4)),
    ("x[:,None]", lambda T, x: x[:, None], A(3, 4)),
    ("x[...,1]", lambda T, x: x[..., 1], A(2, 3, 4)),
    ("x[1,...,None]", lambda T, x: x[1, ..., None], A(2, 3, 4)),
    ("x[...]", lambda T, x: x[...], A(3, 4)),
    ("x[1] nc", lambda T, x: x[1], A(3, 4, nc="t")),
    ("x[:,1:3] nc", lambda T, x: x[:, 1:3], A(2, 3, 4, nc="s")),
    ("x[None] 0d", lambda T, x: x[None], A()),
    ("x[...] 0d", lambda T, x: x[...], A()),
    ("x[mask]", lambda T, x, m: x[m], A(3, 4), Mask(3, 4)),
    ("x[row mask]", lambda T, x, m: x[m], A(3, 4), Mask(3)),
    ("x[:,mask]", lambda T, x, m: x[:, m], A(3, 4), Mask(4)),
    ("x[mask] nc", lambda T, x, m: x[m], A(3, 4, nc="t"), Mask(3, 4)),
    ("x[idx] repeated", lambda T, x, i: x[i], A(3, 4), Idx([0, 2, 0, 0])),
    ("x[-idx]", lambda T, x, i: x[i], A(3, 4), Idx([-1, 0, -1])),
    ("x[:,idx] repeated", lambda T, x, i: x[:, i], A(3, 4), Idx([3, 3, 1])),
    ("x[idx,idx]", lambda T, x, i, j: x[i, j], A(3, 4), Idx([0, 2, 0]), Idx([1, 3, 1])),
    ("x[1,idx]", lambda T, x, i: x[1, i], A(3, 4), Idx([0, 0, 2])),
    ("x[idx] nc", lambda T, x, i: x[i], A(3, 4, nc="s"), Idx([2, 2, 0])),
    ("C[X] embedding", lambda T, C, X: C[X], A(5, 3), Idx([[0, 1, 1, 4], [4, 4, 2, 0]])),
    ("C[X] embedding 1-col", lambda T, C, X: C[X].sum(-1), A(27, 2), Idx([[0, 5, 13], [5, 0, 0]])),
    ("x[[0,0,1]] list", lambda T, x: x[[0, 0, 1]], A(3, 4)),
    ("gather(1)", lambda T, x, i: x.gather(1, i), A(3, 4), Idx([[0, 0], [3, 1], [2, 2]])),
    ("gather(0)", lambda T, x, i: T.gather(x, 0, i), A(3, 4), Idx([[0, 1, 2, 0], [2, 2, 2, 2]])),
    ("gather(-1) 3d", lambda T, x, i: x.gather(-1, i), A(2, 3, 4), Idx([[[1], [0], [3]], [[2], [2], [0]]])),
    ("gather nc", lambda T, x, i: x.gather(1, i), A(3, 4, nc="t"), Idx([[0, 3], [1, 1], [2, 0]])),
]
for name, fn, *specs in INDEXING:
    case(name, fn, *specs)

# -- joining and splitting --------------------------------------------------------------------

JOINING = [
    ("cat", lambda T, x, y: T.cat([x, y]), A(2, 3), A(4, 3)),
    ("cat(dim=1)", lambda T, x, y: T.cat([x, y], dim=1), A(3, 2), A(3, 4)),
    ("cat(-1)", lambda T, x, y: T.cat((x, y), -1), A(2, 3, 1), A(2, 3, 2)),
    ("cat three, leaf twice", lambda T, x, y: T.cat([x, y, x]), A(2, 3), A(1, 3)),
    ("cat with empty", lambda T, x, y: T.cat([x, y]), A(0, 3), A(2, 3)),
    ("cat nc", lambda T, x, y: T.cat([x, y], 1), A(3, 4, nc="t"), A(3, 2, nc="s")),
    ("cat no-grad part", lambda T, x, y: T.cat([x, y]), A(2, 3), F(2, 3)),
    ("stack", lambda T, x, y: T.stack([x, y]), A(3, 4), A(3, 4)),
    ("stack(dim=1)", lambda T, x, y: T.stack([x, y], dim=1), A(3, 4), A(3, 4)),
    ("stack(-1)", lambda T, x, y, z: T.stack((x, y, z), -1), A(3), A(3), A(3)),
    ("stack 0d", lambda T, x, y: T.stack([x, y]), A(), A()),
    ("stack nc", lambda T, x, y: T.stack([x, y]), A(3, 4, nc="t"), A(3, 4)),
    ("split(2)", lambda T, x: x.split(2), A(5, 3)),
    ("split([1,4])", lambda T, x: x.split([1, 4]), A(5, 3)),
    ("split(2,dim=1)", lambda T, x: x.split(2, dim=1), A(3, 5)),
    ("split(1,-1) nc", lambda T, x: x.split(1, -1), A(3, 2, nc="t")),
    ("T.split", lambda T, x: T.split(x, [2, 0, 3]), A(5, 2)),
    ("split one piece used", lambda T, x: x.split(2)[1] * 2, A(5, 3)),
    ("chunk(2)", lambda T, x: x.chunk(2), A(5, 3)),
    ("chunk(3,dim=1)", lambda T, x: x.chunk(3, dim=1), A(2, 6)),
    ("T.chunk", lambda T, x: T.chunk(x, 4, 0), A(7)),
    ("unbind()", lambda T, x: x.unbind(), A(3, 4)),
    ("unbind(1)", lambda T, x: x.unbind(1), A(3, 4)),
    ("T.unbind", lambda T, x: T.unbind(x, -1), A(2, 3, nc="t")),
    ("unbind pieces recombined", lambda T, x: T.stack(list(x.unbind(1))[::-1], 0), A(3, 4)),
]
for name, fn, *specs in JOINING:
    case(name, fn, *specs)

# -- copies, casts, in-place writes into non-leaves -------------------------------------------

def setitem_row(T, x, z):
    y = x * 1
    y[0] = z
    return y


def setitem_slice(T, x, z):
    y = x * 1
    y[:, 1:3] = z
    return y


def setitem_scalar_mask(T, x, m):
    y = x * 1
    y[m] = 0.5
    return y


def setitem_index(T, x, i, z):
    y = x.sin()                  # sin saves its input, not y: writing into y is allowed
    y[i] = z
    return y


def setitem_element(T, x, z):
    y = x * 2
    y[1, 2] = z
    return y * x                 # y is used after the write; x fans out


def setitem_twice(T, x, z):
    y = x + 0
    y[0] = z
    y[:, 0] = z[1]
    return y


COPIES = [
    ("clone", lambda T, x: x.clone(), A(3, 4)),
    ("clone nc", lambda T, x: x.clone(), A(3, 4, nc="t")),
    ("T.clone", lambda T, x: T.clone(x) * x, A(3)),
    ("to(float64)", lambda T, x: x.to(T.float64) * 2, A(3, 4)),
    ("to(dtype=float64)", lambda T, x: x.to(dtype=T.float64), A(3, 4)),
    ("double()", lambda T, x: x.double() + 1, A(3, 4)),
    ("type_as", lambda T, x, y: x.type_as(y) * y, A(3, 4), A(3, 4)),
    ("contiguous nc-t", lambda T, x: x.contiguous(), A(3, 4, nc="t")),
    ("contiguous nc-s", lambda T, x: x.contiguous() * 2, A(2, 3, 4, nc="s")),
    ("contiguous of contiguous", lambda T, x: x.contiguous() * 2, A(3, 4)),
    ("setitem row", setitem_row, A(3, 4), A(4)),
    ("setitem row bcast", setitem_row, A(3, 4), A()),
    ("setitem slice", setitem_slice, A(3, 4), A(3, 2)),
    ("setitem slice bcast", setitem_slice, A(3, 4), A(1, 2)),
    ("setitem mask scalar", setitem_scalar_mask, A(3, 4), Mask(3, 4)),
    ("setitem index", setitem_index, A(3, 4), Idx([2, 0]), A(2, 4)),
    ("setitem element, reused", setitem_element, A(3, 4), A()),
    ("setitem twice", setitem_twice, A(3, 4), A(4)),
    ("setitem nc", setitem_row, A(3, 4, nc="t"), A(4, nc="s")),
]
for name, fn, *specs in COPIES:
    case(name, fn, *specs)


# -- the tests --------------------------------------------------------------------------------

def float_outputs(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, ag.Tensor) and o.dtype.is_floating_point]


@pytest.mark.parametrize("name,fn,specs", CASES)
def test_gradcheck(name, fn, specs):
    inputs = make_inputs(ag, specs, name)
    assert gradcheck(lambda *xs: fn(ag, *xs), inputs)


@pytest.mark.parametrize("name,fn,specs", CASES)
def test_backward_gives_grads_of_input_shape(name, fn, specs):
    """One backward with a ones seed: every input that requires grad gets a gradient of its own
    shape and dtype (this also exercises empty tensors, where gradcheck has nothing to compare)."""
    inputs = make_inputs(ag, specs, name)
    outs = [o for o in float_outputs(fn(ag, *inputs)) if o.requires_grad]
    assert outs, "no output requires grad"
    ag.autograd.backward(outs, [ag.ones_like(o) for o in outs])
    for spec, x in zip(specs, inputs):
        if spec.grad:
            assert x.grad is not None, "input %s got no gradient" % spec
            assert tuple(x.grad.shape) == tuple(x.shape)
            assert x.grad.dtype == x.dtype


@pytest.mark.parametrize("target,method", [("float64", lambda x: x.to(ag.float64)),
                                           ("float64", lambda x: x.double()),
                                           ("float64", lambda x: x.type_as(ag.zeros(1, dtype=ag.float64))),
                                           ("float32", lambda x: x.double().float())])
def test_cast_gradient_comes_back_in_the_input_dtype(target, method):
    w = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -4.0]])
    x = ag.tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32), requires_grad=True)
    y = method(x)
    assert y.dtype.name == target
    assert y.grad_fn is not None and y.grad_fn.name() == "ToCopyBackward0"
    (y * ag.tensor(w, dtype=y.dtype)).sum().backward()
    assert x.grad.dtype == ag.float32
    np.testing.assert_allclose(x.grad.numpy(), w.astype(np.float32))


# -- gradcheck itself must catch a wrong gradient ----------------------------------------------

WRONG = [
    # round's analytical gradient is 0, but at .5 it jumps: the numerical gradient is huge
    ("round at .5", lambda x: x.round(), [0.5, 1.5, -2.5]),
    ("floor at integers", lambda x: x.floor(), [1.0, 2.0]),
    ("sign at 0", lambda x: x.sign(), [0.0, 1.0]),
    # a detach cuts half of the product rule: analytical x, numerical 2x
    ("x * x.detach()", lambda x: x * x.detach(), [0.5, -1.0, 2.0]),
    ("x.data used", lambda x: x.exp() * x.data, [0.5, -1.0, 2.0]),
]


@pytest.mark.parametrize("name,fn,values", WRONG, ids=[w[0] for w in WRONG])
def test_gradcheck_rejects_a_wrong_gradient(name, fn, values):
    x = ag.tensor(values, dtype=ag.float64, requires_grad=True)
    assert gradcheck(fn, (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError):
        gradcheck(fn, (x,))


def test_gradcheck_accepts_round_away_from_half():
    x = ag.tensor([0.2, 1.7], dtype=ag.float64, requires_grad=True)
    assert gradcheck(lambda x: x.round() + x, (x,))


def test_gradcheck_error_is_a_runtime_error():
    assert issubclass(GradcheckError, RuntimeError)


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError):
        gradcheck(lambda x: x * 2, (ag.tensor([1.0], dtype=ag.float64),))


def test_gradcheck_leaves_inputs_and_their_grads_alone():
    x = ag.tensor([0.5, 1.5], dtype=ag.float64, requires_grad=True)
    before = x.detach().clone()
    assert gradcheck(lambda x: x.exp(), (x,))
    assert x.grad is None
    assert ag.equal(x.detach(), before)
