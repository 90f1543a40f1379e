"""autograd_c's speed suite: autograd_c, torch and hand-written numpy, interleaved in one process.

    python benchmarks/run.py                 # all workloads, a few minutes of CPU
    python benchmarks/run.py --quick         # fewer rounds and iterations, under a minute
    python benchmarks/run.py --only chain4   # one workload (comma-separate several)
    python benchmarks/run.py --repeats 41    # more rounds (R) for steadier medians
    python benchmarks/run.py --markdown      # the table as Markdown, for README.md

Method (see benchmarks/README.md): every workload exists three times, for autograd_c, for torch
(skipped when it cannot be imported) and as plain numpy with a hand-written backward, the floor
(none for ResNet). All are checked once at start-up to produce the same loss and gradients as
a float64 reference. Then R rounds run; each round times a fixed number of iterations of every
implementation in turn (round-robin, the start rotating by one every round), so that the
machine's slow and fast moments fall on all of them alike. The table shows the median over rounds of each implementation's per-iteration time, and
the ratios, each the median over rounds of the ratio measured within the round. One thread
everywhere. Progress and checks go to stderr, the table to stdout.
"""
import os

# One thread for every library, set before numpy or torch is imported (their thread pools read
# these at import time).
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import gc
import platform
import statistics
import sys
import time
from typing import NamedTuple

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

try:
    import autograd_c
except ImportError:
    # Not installed and no PYTHONPATH: use the in-place build of this checkout.
    sys.path.insert(0, REPO)
    import autograd_c

# The clock every timing reads; main() sets it from --clock. CPU time of the process (user +
# system, all threads) is the default: on a shared machine the time this process spends waiting
# for a core is not the library's cost, and wall-clock medians then swing with the neighbours.
perf = time.process_time


SGD_STEPS_CHECKED = 2  # two, so that a momentum buffer is both created and used


class Reference(NamedTuple):
    """What the float32 implementations are checked against: float64 loss and gradients and how
    the reference itself was checked. Each gradient's error is measured relative to its largest
    element and must stay under GRAD_RTOL; with torch_sets_tolerance, under TORCH_ERROR_FACTOR
    times torch's own float32 error where that is larger (for ill-conditioned workloads).
    sgd_steps: after how many optimizer steps the implementations' parameters are compared."""
    loss: float
    grads: list
    checked: str
    torch_sets_tolerance: bool = False
    sgd_steps: int = SGD_STEPS_CHECKED


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def import_torch(wanted):
    if not wanted:
        return None, "disabled by --no-torch"
    try:
        import torch
    except ImportError as e:
        return None, "not importable (%s)" % e
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    return torch, None


# =============================================================================================
# Workloads 1 and 3: the tiny-op chain.  x, w, b leaves of n elements;
# 1,000 times y = tanh(y * w + b) starting from y = x; then y.sum().backward().
# =============================================================================================

CHAIN_STEPS = 1000


def chain_inputs(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n).astype(np.float32)
    w = rng.uniform(0.5, 1.5, n).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, n).astype(np.float32)
    return x, w, b


class TensorChain:
    """The chain written against the torch API: the same code runs autograd_c and torch."""

    def __init__(self, mod, x, w, b, steps):
        self.mod = mod
        self.steps = steps
        self.x = mod.tensor(x, requires_grad=True)
        self.w = mod.tensor(w, requires_grad=True)
        self.b = mod.tensor(b, requires_grad=True)

    def grads(self):
        x, w, b, tanh = self.x, self.w, self.b, self.mod.tanh
        y = x
        for _ in range(self.steps):
            y = tanh(y * w + b)
        s = y.sum()
        s.backward()
        out = [np.array(t.grad.numpy()) for t in (x, w, b)]
        x.grad = None
        w.grad = None
        b.grad = None
        return float(s.item()), out

    def step(self):
        x, w, b, tanh = self.x, self.w, self.b, self.mod.tanh
        steps = range(self.steps)
        t0 = perf()
        y = x
        for _ in steps:
            y = tanh(y * w + b)
        t1 = perf()
        s = y.sum()
        t2 = perf()
        s.backward()
        t3 = perf()
        del y, s  # graph teardown belongs to the step
        t4 = perf()
        x.grad = None
        w.grad = None
        b.grad = None
        return t1 - t0, t3 - t2, t4 - t0


def numpy_chain_forward(x, w, b, steps):
    """Forward, keeping each step's input (for the mul's gradients) and output (for tanh')."""
    ins = [None] * steps
    outs = [None] * steps
    y = x
    for i in range(steps):
        z = y * w           # op 1: mul (new array)
        z += b              # op 2: add, in place
        np.tanh(z, out=z)   # op 3: tanh, in place
        ins[i] = y
        outs[i] = z
        y = z
    return y, ins, outs


def numpy_chain_backward(x, w, ins, outs):
    """d(sum(y))/d(x, w, b), reverse over the steps, accumulating into gw and gb."""
    g = np.ones_like(x)                 # d sum / d y
    gw = np.zeros_like(w)
    gb = np.zeros_like(w)               # b has w's shape and dtype
    tmp = np.empty_like(x)
    for i in range(len(outs) - 1, -1, -1):
        t = outs[i]
        gz = t * t                      # tanh'(z) = 1 - tanh(z)^2 ...
        np.subtract(1, gz, out=gz)
        gz *= g                         # ... times the incoming gradient
        gb += gz                        # add: z = u + b
        np.multiply(gz, ins[i], out=tmp)
        gw += tmp                       # mul: u = y * w, gradient to w
        gz *= w                         # mul: gradient to y, the next (earlier) step's output
        g = gz
    return g, gw, gb


class NumpyChain:
    """The floor: the chain in numpy with a hand-written backward, same arithmetic, float32."""

    def __init__(self, x, w, b, steps):
        self.x, self.w, self.b = x.copy(), w.copy(), b.copy()
        self.steps = steps

    def grads(self):
        y, ins, outs = numpy_chain_forward(self.x, self.w, self.b, self.steps)
        return float(y.sum()), list(numpy_chain_backward(self.x, self.w, ins, outs))

    def step(self):
        x, w, b, steps = self.x, self.w, self.b, self.steps
        t0 = perf()
        y, ins, outs = numpy_chain_forward(x, w, b, steps)
        t1 = perf()
        s = y.sum()
        t2 = perf()
        gx, gw, gb = numpy_chain_backward(x, w, ins, outs)
        t3 = perf()
        del y, s, ins, outs, gx, gw, gb
        t4 = perf()
        return t1 - t0, t3 - t2, t4 - t0


def chain_reference(x, w, b, steps, rng):
    """float64 gradients from the numpy backward, itself checked by central differences."""
    x, w, b = (a.astype(np.float64) for a in (x, w, b))
    y, ins, outs = numpy_chain_forward(x, w, b, steps)
    ref = numpy_chain_backward(x, w, ins, outs)

    def loss(xx, ww, bb):
        return numpy_chain_forward(xx, ww, bb, steps)[0].sum()

    eps = 1e-6
    worst = 0.0
    args = [x, w, b]
    for k in range(3):
        for j in rng.choice(x.size, size=min(4, x.size), replace=False):
            plus = [a.copy() for a in args]
            minus = [a.copy() for a in args]
            plus[k][j] += eps
            minus[k][j] -= eps
            fd = (loss(*plus) - loss(*minus)) / (2 * eps)
            scale = max(1.0, float(np.abs(ref[k]).max()))
            worst = max(worst, abs(fd - ref[k][j]) / scale)
    if worst > 1e-6:
        raise AssertionError("numpy chain backward disagrees with finite differences: %.3g" % worst)
    return Reference(float(y.sum()), list(ref), "vs finite differences %.1e" % worst)


def chain_workload(size):
    ops = 3 * CHAIN_STEPS
    nodes = ops + 1  # the chain's mul/add/tanh nodes and SumBackward0 (leaf sinks not counted)

    def build(impls):
        x, w, b = chain_inputs(size, seed=size)
        out = {"numpy": NumpyChain(x, w, b, CHAIN_STEPS)}
        for name, mod in impls.items():
            out[name] = TensorChain(mod, x, w, b, CHAIN_STEPS)
        return out

    def reference(libs):
        x, w, b = chain_inputs(size, seed=size)
        return chain_reference(x, w, b, CHAIN_STEPS, np.random.default_rng(0))

    metrics = [
        # (label, index into step()'s tuple, divisor, unit)
        ("forward", 0, ops, "µs/op"),
        ("backward", 1, nodes, "µs/node"),
        ("forward+backward", 2, 1, "µs/step"),
    ]
    return build, reference, ["x", "w", "b"], metrics


# =============================================================================================
# Workload 2: one SGD step of a 784-256-256-10 MLP on a batch of 64, raw tensors.
# =============================================================================================

MLP_BATCH = 64
MLP_SIZES = (784, 256, 256, 10)
MLP_LR = 0.01


def mlp_inputs(seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
        params.append((rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in))
                      .astype(np.float32))
        params.append(rng.uniform(-0.1, 0.1, fan_out).astype(np.float32))
    X = rng.standard_normal((MLP_BATCH, MLP_SIZES[0])).astype(np.float32)
    labels = rng.integers(0, MLP_SIZES[-1], MLP_BATCH).astype(np.int64)
    return params, X, labels


class TensorMLP:
    """The MLP step written against the torch API: the same code runs autograd_c and torch."""

    def __init__(self, mod, params, X, labels):
        self.mod = mod
        self.params = [mod.tensor(p, requires_grad=True) for p in params]
        self.X = mod.tensor(X)
        self.labels = mod.tensor(labels)
        self.rows = mod.arange(MLP_BATCH)

    def forward(self):
        W1, b1, W2, b2, W3, b3 = self.params
        h = (self.X @ W1 + b1).relu()
        h = (h @ W2 + b2).relu()
        logits = h @ W3 + b3
        # softmax cross-entropy: logsumexp minus the label's logit, picked by integer indexing
        return (logits.logsumexp(1) - logits[self.rows, self.labels]).mean()

    def update(self):
        with self.mod.no_grad():
            for p in self.params:
                p -= MLP_LR * p.grad
                p.grad = None

    def grads(self):
        loss = self.forward()
        loss.backward()
        out = [np.array(p.grad.numpy()) for p in self.params]
        for p in self.params:
            p.grad = None
        return float(loss.item()), out

    def params_now(self):
        return [np.array(p.detach().numpy()) for p in self.params]

    def step(self):
        t0 = perf()
        loss = self.forward()
        t1 = perf()
        loss.backward()
        t2 = perf()
        self.update()
        t3 = perf()
        del loss
        t4 = perf()
        return t1 - t0, t2 - t1, t3 - t2, t4 - t0


def numpy_mlp_forward(params, X, labels, rows):
    W1, b1, W2, b2, W3, b3 = params
    h1 = X @ W1
    h1 += b1
    a1 = np.maximum(h1, 0)
    h2 = a1 @ W2
    h2 += b2
    a2 = np.maximum(h2, 0)
    logits = a2 @ W3
    logits += b3
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - m)
    se = e.sum(axis=1, keepdims=True)
    lse = np.log(se)
    lse += m
    loss = (lse[:, 0] - logits[rows, labels]).mean()
    return loss, (X, h1, a1, h2, a2, e, se)


def numpy_mlp_backward(params, saved, labels, rows):
    W1, b1, W2, b2, W3, b3 = params
    X, h1, a1, h2, a2, e, se = saved
    d = e / se                    # softmax
    d[rows, labels] -= 1          # minus one-hot
    d /= X.shape[0]               # mean over the batch
    gW3 = a2.T @ d
    gb3 = d.sum(axis=0)
    d = d @ W3.T
    d *= h2 > 0                   # relu' (a mask multiply: no branches, unlike d[h2 <= 0] = 0)
    gW2 = a1.T @ d
    gb2 = d.sum(axis=0)
    d = d @ W2.T
    d *= h1 > 0
    gW1 = X.T @ d
    gb1 = d.sum(axis=0)
    return [gW1, gb1, gW2, gb2, gW3, gb3]


class NumpyMLP:
    """The floor: the MLP step in numpy with a hand-written backward and SGD, float32."""

    def __init__(self, params, X, labels):
        self.params = [p.copy() for p in params]
        self.X = X.copy()
        self.labels = labels.copy()
        self.rows = np.arange(MLP_BATCH)

    def grads(self):
        loss, saved = numpy_mlp_forward(self.params, self.X, self.labels, self.rows)
        return float(loss), numpy_mlp_backward(self.params, saved, self.labels, self.rows)

    def params_now(self):
        return [p.copy() for p in self.params]

    def step(self):
        params, labels, rows = self.params, self.labels, self.rows
        t0 = perf()
        loss, saved = numpy_mlp_forward(params, self.X, labels, rows)
        t1 = perf()
        grads = numpy_mlp_backward(params, saved, labels, rows)
        t2 = perf()
        for p, g in zip(params, grads):
            g *= MLP_LR
            p -= g
        grads = None  # as `p.grad = None` frees the tensors' gradients in their update
        t3 = perf()
        del loss, saved
        t4 = perf()
        return t1 - t0, t2 - t1, t3 - t2, t4 - t0


def mlp_reference(libs):
    params, X, labels = mlp_inputs()
    params = [p.astype(np.float64) for p in params]
    X = X.astype(np.float64)
    rows = np.arange(MLP_BATCH)
    loss, saved = numpy_mlp_forward(params, X, labels, rows)
    ref = numpy_mlp_backward(params, saved, labels, rows)
    worst = finite_difference_error(
        lambda: numpy_mlp_forward(params, X, labels, rows)[0], params, ref)
    if worst > 1e-5:
        raise AssertionError("numpy MLP backward disagrees with finite differences: %.3g" % worst)
    return Reference(float(loss), ref, "vs finite differences %.1e" % worst)


def finite_difference_error(loss_now, params, grads, probes=3, eps=1e-6, seed=1):
    """Largest gap between central differences of loss_now() (which reads the float64 arrays
    in params, perturbed here in place) and grads, at a few random elements of every
    parameter, relative to that parameter's largest gradient element."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for p, g in zip(params, grads):
        scale = max(1e-3, float(np.abs(g).max()))
        for _ in range(probes):
            j = tuple(int(rng.integers(0, s)) for s in p.shape)
            old = p[j]
            p[j] = old + eps
            plus = loss_now()
            p[j] = old - eps
            minus = loss_now()
            p[j] = old
            worst = max(worst, abs((plus - minus) / (2 * eps) - g[j]) / scale)
    return worst


def mlp_workload():
    def build(impls):
        params, X, labels = mlp_inputs()
        out = {"numpy": NumpyMLP(params, X, labels)}
        for name, mod in impls.items():
            out[name] = TensorMLP(mod, params, X, labels)
        return out

    metrics = [
        ("forward (to the loss)", 0, 1, "µs/step"),
        ("backward", 1, 1, "µs/step"),
        ("SGD update + zero grads", 2, 1, "µs/step"),
        ("whole step", 3, 1, "µs/step"),
    ]
    return build, mlp_reference, ["W1", "b1", "W2", "b2", "W3", "b3"], metrics


# =============================================================================================
# The nn-level workloads: one training step written the way users write it,
#     opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
# with nn modules, a loss module and optim.SGD with momentum.  The same code runs autograd_c and
# torch; every implementation starts from the same weights, generated here in numpy.
# =============================================================================================

SGD_LR = 0.01
SGD_MOMENTUM = 0.9

# The rows of every nn workload; ModuleStep.step() and the numpy floors return the times in
# this order.
NN_METRICS = [
    ("forward (to the loss)", 0),
    ("backward", 1),
    ("zero_grad + SGD step", 2),
    ("whole step", 3),
]


def nn_metrics(divisor, unit):
    return [(label, index, divisor, unit) for label, index in NN_METRICS]


class ModuleStep:
    """A model, a loss function, an SGD optimizer with momentum and a fixed batch: one training
    step per step(). Written against the torch API, so it runs autograd_c and torch alike.

    With initial_state given, reset() restores those weights and zeroes the momentum: for losses
    that are unbounded below, so that each round starts from the same point instead of
    diverging."""

    def __init__(self, mod, model, loss_fn, x, target, names, initial_state=None):
        self.mod = mod
        self.model = model
        self.loss_fn = loss_fn
        self.x = x
        self.target = target
        by_name = dict(model.named_parameters())
        missing = [n for n in names if n not in by_name]
        if missing:
            raise AssertionError("%s model has no parameters %s" % (mod.__name__, missing))
        self.params = [by_name[n] for n in names]  # in the workload's order, for comparison
        self.initial_state = initial_state
        self.opt = self.new_optimizer()
        self.reset()

    def new_optimizer(self):
        return self.mod.optim.SGD(self.model.parameters(), lr=SGD_LR, momentum=SGD_MOMENTUM)

    def reset(self):
        if self.initial_state is None:
            return  # bounded losses train on through the rounds, as the numpy floors do
        load_numpy_state(self.mod, self.model, self.initial_state)
        # Zeroed momentum buffers make the next step compute exactly what a fresh optimizer's
        # first step does (buf = 0.9 * 0 + grad), while every timed step stays a steady-state
        # one: no buffer allocation, which would otherwise be in every step of resnet18_b16.
        with self.mod.no_grad():
            for state in self.opt.state.values():
                if state.get("momentum_buffer") is not None:
                    state["momentum_buffer"].zero_()

    def grads(self):
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.target)
        loss.backward()
        out = [np.array(p.grad.numpy()) for p in self.params]
        self.opt.zero_grad()
        return float(loss.item()), out

    def params_now(self):
        return [np.array(p.detach().numpy()) for p in self.params]

    def step(self):
        opt = self.opt
        t0 = perf()
        opt.zero_grad()
        t1 = perf()
        loss = self.loss_fn(self.model(self.x), self.target)
        t2 = perf()
        loss.backward()
        t3 = perf()
        opt.step()
        t4 = perf()
        del loss
        t5 = perf()
        return t2 - t1, t3 - t2, (t1 - t0) + (t4 - t3), t5 - t0


def load_numpy_state(mod, model, state):
    model.load_state_dict({k: mod.tensor(v) for k, v in state.items()})


def linear_init(rng, fan_out, fan_in, prefix, state, weight_shape=None):
    """nn.Linear's and nn.Conv2d's default: uniform in +-1/sqrt(fan_in), weight and bias."""
    bound = 1.0 / np.sqrt(fan_in)
    shape = weight_shape or (fan_out, fan_in)
    state[prefix + ".weight"] = rng.uniform(-bound, bound, shape).astype(np.float32)
    state[prefix + ".bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)


class NumpyMomentumSGD:
    """torch.optim.SGD(momentum=m, dampening=0): buf = grad on the first step, then
    buf = m * buf + grad; p -= lr * buf. Updates in place; the grads are used as scratch."""

    def __init__(self, params):
        self.params = params
        self.bufs = [None] * len(params)

    def step(self, grads):
        for i, (p, g) in enumerate(zip(self.params, grads)):
            buf = self.bufs[i]
            if buf is None:
                buf = self.bufs[i] = g.copy()
            else:
                buf *= SGD_MOMENTUM
                buf += g
            np.multiply(buf, SGD_LR, out=g)
            p -= g


def dense_forward(params, x):
    """Linear, ReLU, ..., Linear with nn.Linear's (out, in) weights. Returns the logits and every
    layer's input (a ReLU's output doubles as its mask: a > 0 exactly where its input was)."""
    inputs = []
    n = len(params) // 2
    for i in range(n):
        W, b = params[2 * i], params[2 * i + 1]
        inputs.append(x)
        h = x @ W.T
        h += b
        x = np.maximum(h, 0) if i < n - 1 else h
    return x, inputs


def dense_backward(params, inputs, d, need_input_grad):
    """Gradients of dense_forward's weights (and input, if asked) from d = dloss/dlogits."""
    n = len(params) // 2
    grads = [None] * len(params)
    for i in range(n - 1, -1, -1):
        a = inputs[i]
        grads[2 * i] = d.T @ a
        grads[2 * i + 1] = d.sum(axis=0)
        if i > 0 or need_input_grad:
            d = d @ params[2 * i]
            if i > 0:
                d *= a > 0            # relu' as a mask multiply, branch-free
    return grads, (d if need_input_grad else None)


def cross_entropy_forward(logits, labels):
    """Mean softmax cross-entropy; keeps exp(logits - max) and its row sums for the backward."""
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - m)
    se = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = (np.log(se[:, 0]) + m[:, 0] - logits[rows, labels]).mean()
    return loss, (e, se)


def cross_entropy_backward(saved, labels):
    e, se = saved
    d = e / se                                    # softmax
    d[np.arange(len(labels)), labels] -= 1        # minus one-hot
    d /= len(labels)                              # mean over the batch
    return d


class NumpyNNStep:
    """The floor of an nn workload: forward, loss, hand-written backward, momentum SGD, float32.
    forward(params, x) -> (logits, saved); backward(params, saved, dlogits) -> grads."""

    def __init__(self, state, names, x, labels, forward, backward):
        self.params = [state[n].copy() for n in names]
        self.x = x
        self.labels = labels
        self.forward = forward
        self.backward = backward
        self.opt = NumpyMomentumSGD(self.params)

    def loss_and_grads(self, params):
        logits, saved = self.forward(params, self.x)
        loss, ce = cross_entropy_forward(logits, self.labels)
        return loss, self.backward(params, saved, cross_entropy_backward(ce, self.labels))

    def grads(self):
        loss, grads = self.loss_and_grads(self.params)
        return float(loss), grads

    def params_now(self):
        return [p.copy() for p in self.params]

    def step(self):
        params, labels = self.params, self.labels
        t0 = perf()
        logits, saved = self.forward(params, self.x)
        loss, ce = cross_entropy_forward(logits, labels)
        t1 = perf()
        grads = self.backward(params, saved, cross_entropy_backward(ce, labels))
        t2 = perf()
        self.opt.step(grads)
        grads = None  # as zero_grad() drops the gradients
        t3 = perf()
        del loss, saved, ce, logits
        t4 = perf()
        return t1 - t0, t2 - t1, t3 - t2, t4 - t0


def numpy_nn_reference(state, names, x, labels, forward, backward):
    """float64 loss and gradients of a numpy floor, checked by central differences."""
    state64 = {k: v.astype(np.float64) for k, v in state.items()}
    floor = NumpyNNStep(state64, names, x.astype(np.float64), labels, forward, backward)
    loss, ref = floor.loss_and_grads(floor.params)
    worst = finite_difference_error(
        lambda: cross_entropy_forward(forward(floor.params, floor.x)[0], labels)[0],
        floor.params, ref)
    if worst > 1e-5:
        raise AssertionError("numpy backward disagrees with finite differences: %.3g" % worst)
    return Reference(float(loss), ref, "vs finite differences %.1e" % worst)


def nn_workload(make_inputs, make_model, np_forward, np_backward, to_numpy_layout=lambda x: x):
    """A classifier workload: make_inputs() -> (state, names, x, labels) in numpy;
    make_model(mod) -> an untrained model of the library mod. to_numpy_layout turns the input
    into the layout the numpy floor works in."""
    state, names, x, labels = make_inputs()

    def build(libs):
        out = {"numpy": NumpyNNStep(state, names, to_numpy_layout(x), labels,
                                    np_forward, np_backward)}
        for lib, mod in libs.items():
            model = make_model(mod)
            load_numpy_state(mod, model, state)
            out[lib] = ModuleStep(mod, model, mod.nn.CrossEntropyLoss(), mod.tensor(x),
                                  mod.tensor(labels), names)
        return out

    def reference(libs):
        return numpy_nn_reference(state, names, to_numpy_layout(x), labels,
                                  np_forward, np_backward)

    return build, reference, names, nn_metrics(1, "µs/step")


# ---- mlp_nn: the MLP of workload `mlp` as nn.Sequential, CrossEntropyLoss, SGD momentum ------

def mlp_nn_inputs(seed=2):
    rng = np.random.default_rng(seed)
    state = {}
    for i, (fan_in, fan_out) in enumerate(zip(MLP_SIZES[:-1], MLP_SIZES[1:])):
        linear_init(rng, fan_out, fan_in, str(2 * i), state)   # Sequential indices 0, 2, 4
    names = list(state)
    x = rng.standard_normal((MLP_BATCH, MLP_SIZES[0])).astype(np.float32)
    labels = rng.integers(0, MLP_SIZES[-1], MLP_BATCH).astype(np.int64)
    return state, names, x, labels


def mlp_nn_model(mod):
    nn = mod.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def mlp_nn_backward(params, inputs, d):
    return dense_backward(params, inputs, d, need_input_grad=False)[0]


def mlp_nn_workload():
    return nn_workload(mlp_nn_inputs, mlp_nn_model, dense_forward, mlp_nn_backward)


# ---- lenet: the network of PyTorch's "Neural Networks" tutorial ------------------------------

LENET_BATCH = 64


def lenet_inputs(seed=3):
    rng = np.random.default_rng(seed)
    state = {}
    linear_init(rng, 6, 1 * 25, "conv1", state, (6, 1, 5, 5))
    linear_init(rng, 16, 6 * 25, "conv2", state, (16, 6, 5, 5))
    linear_init(rng, 120, 400, "fc1", state)
    linear_init(rng, 84, 120, "fc2", state)
    linear_init(rng, 10, 84, "fc3", state)
    names = list(state)
    x = rng.standard_normal((LENET_BATCH, 1, 32, 32)).astype(np.float32)
    labels = rng.integers(0, 10, LENET_BATCH).astype(np.int64)
    return state, names, x, labels


def lenet_model(mod):
    nn, F = mod.nn, mod.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = mod.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return Net()


# The numpy floor keeps activations as (C, N, H, W): channels first, then the batch. im2col is
# then a strided view of the input whose reshape copies whole output rows (the column matrix has
# one row per (c, ki, kj), the order of weight.reshape(Cout, -1), and one column per (n, oh, ow));
# one matmul convolves the whole batch, and its (Cout, N * OH * OW) result is already the next
# layer's (C, N, H, W) layout, with no transpose.

def channels_first(x):
    return np.ascontiguousarray(x.transpose(1, 0, 2, 3))


def conv_forward(x, W, b):
    c, n, h, w = x.shape
    cout, k = W.shape[0], W.shape[2]
    oh, ow = h - k + 1, w - k + 1
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))
    cols = windows.transpose(0, 4, 5, 1, 2, 3).reshape(c * k * k, n * oh * ow)  # im2col copy
    out = W.reshape(cout, -1) @ cols
    out += b[:, None]
    return out.reshape(cout, n, oh, ow), cols


def conv_backward(d, cols, W, x_shape):
    """Weight and bias gradients; the input gradient by col2im when x_shape is given."""
    cout, c, k = W.shape[0], W.shape[1], W.shape[2]
    d2 = d.reshape(cout, -1)
    gW = (d2 @ cols.T).reshape(W.shape)
    gb = d2.sum(axis=1)
    if x_shape is None:
        return gW, gb, None
    n, oh, ow = d.shape[1:]
    dcols = (W.reshape(cout, -1).T @ d2).reshape(c, k, k, n, oh, ow)
    dx = np.zeros(x_shape, dtype=d.dtype)
    for ki in range(k):            # col2im: each kernel offset adds one shifted slab
        for kj in range(k):
            dx[:, :, ki:ki + oh, kj:kj + ow] += dcols[:, ki, kj]
    return gW, gb, dx


def pool2_forward(a):
    """2x2 max pooling, stride 2, as the larger of the four strided quarters."""
    return np.maximum(np.maximum(a[..., 0::2, 0::2], a[..., 0::2, 1::2]),
                      np.maximum(a[..., 1::2, 0::2], a[..., 1::2, 1::2]))


def pool2_backward(a, y, g):
    """Route g to each 2x2 window's maximum. Ties other than measure-zero ones are windows of
    ReLU zeros, whose gradient the ReLU mask that follows drops, as torch's relu' at 0 does."""
    out = np.empty_like(a)
    for i in (0, 1):
        for j in (0, 1):
            np.multiply(a[..., i::2, j::2] == y, g, out=out[..., i::2, j::2])
    return out


def lenet_forward(params, x):
    c1w, c1b, c2w, c2b = params[:4]
    h1, cols1 = conv_forward(x, c1w, c1b)
    a1 = np.maximum(h1, 0)
    p1 = pool2_forward(a1)
    h2, cols2 = conv_forward(p1, c2w, c2b)
    a2 = np.maximum(h2, 0)
    p2 = pool2_forward(a2)
    flat = p2.transpose(1, 0, 2, 3).reshape(x.shape[1], -1)  # torch.flatten's (C, H, W) order
    logits, inputs = dense_forward(params[4:], flat)
    return logits, (cols1, a1, p1, cols2, a2, p2, inputs)


def lenet_backward(params, saved, d):
    c1w, c1b, c2w, c2b = params[:4]
    cols1, a1, p1, cols2, a2, p2, inputs = saved
    dense_grads, d = dense_backward(params[4:], inputs, d, need_input_grad=True)
    d = d.reshape(p2.shape[1], p2.shape[0], p2.shape[2], p2.shape[3]).transpose(1, 0, 2, 3)
    d = pool2_backward(a2, p2, d)
    d *= a2 > 0
    g2w, g2b, d = conv_backward(d, cols2, c2w, p1.shape)
    d = pool2_backward(a1, p1, d)
    d *= a1 > 0
    g1w, g1b, _ = conv_backward(d, cols1, c1w, None)
    return [g1w, g1b, g2w, g2b] + dense_grads


def lenet_workload():
    return nn_workload(lenet_inputs, lenet_model, lenet_forward, lenet_backward, channels_first)


# ---- resnet18: autograd_c.models.resnet18 against the same network built from torch.nn -------

RESNET_SIZE = 64


def torchvision_resnet18(nn):
    """ResNet-18 as torchvision builds it (module names, order, in-place ReLU and residual add),
    from the nn namespace given; the weights are loaded afterwards."""

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample
            self.stride = stride

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += x if self.downsample is None else self.downsample(x)
            return self.relu(out)

    class ResNet(nn.Module):
        def __init__(self, layers=(2, 2, 2, 2), num_classes=1000):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = self._make_layer(64, layers[0], 1)
            self.layer2 = self._make_layer(128, layers[1], 2)
            self.layer3 = self._make_layer(256, layers[2], 2)
            self.layer4 = self._make_layer(512, layers[3], 2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)

        def _make_layer(self, planes, blocks, stride):
            downsample = None
            if stride != 1 or self.inplanes != planes:
                downsample = nn.Sequential(
                    nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                    nn.BatchNorm2d(planes))
            layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes
            layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet()


def resnet_model(mod):
    return mod.models.resnet18() if mod is autograd_c else torchvision_resnet18(mod.nn)


def resnet_loss(pred, labels):
    return (pred - labels).sum()


# In float64 the two libraries must agree almost exactly. In float32 neither can: with
# (pred - labels).sum() the gradient entering the network is the same for every sample and
# position, and each batch norm's backward subtracts its mean, leaving a small remainder of a
# large signal. At batch 16 that cancellation puts the float32 gradients of layer1 and layer2 up
# to ~6% (of their largest element) off the float64 ones, torch's as much as autograd_c's, and
# the two libraries' float32 gradients 0.1% apart. So in float32 autograd_c is held to
# TORCH_ERROR_FACTOR times torch's own error.
RESNET_FLOAT64_TOL = 1e-7


def resnet_float64_agreement(torch, state, x, labels, names):
    """torch's float64 loss and gradients at the initial weights, and the largest disagreement
    with autograd_c's float64 run of the same network: in the gradients, and in the parameters
    after two SGD steps (relative to each parameter's largest element)."""
    steps = {}
    for mod in (autograd_c, torch):
        model = resnet_model(mod).double()
        steps[mod] = ModuleStep(mod, model, resnet_loss, mod.tensor(x.astype(np.float64)),
                                mod.tensor(labels.astype(np.float64)), names,
                                initial_state=state)
    (loss, grads), (ag_loss, ag_grads) = steps[torch].grads(), steps[autograd_c].grads()
    worst = abs(loss - ag_loss) / max(abs(loss), 1.0)
    after = {}
    for mod, step in steps.items():
        for _ in range(SGD_STEPS_CHECKED):
            step.step()
        after[mod] = step.params_now()
    for a, b in zip(ag_grads + after[autograd_c], grads + after[torch]):
        worst = max(worst, float(np.abs(a - b).max()) / max(float(np.abs(b).max()), 1e-12))
    return loss, grads, worst


def resnet_workload(batch):
    """The step of PyTorch's autograd tutorial: resnet18 on random data, loss (pred - labels)
    .sum(), SGD(lr=1e-2, momentum=0.9). That loss has no minimum (it grows ~100x per step at
    batch 16), so every round restarts from the initial weights (ModuleStep.reset, untimed)."""
    autograd_c.manual_seed(0)
    state = {k: np.array(v.numpy()) for k, v in autograd_c.models.resnet18().state_dict().items()}
    names = [n for n, _ in autograd_c.models.resnet18().named_parameters()]
    rng = np.random.default_rng(4)
    x = rng.random((batch, 3, RESNET_SIZE, RESNET_SIZE), dtype=np.float32)
    labels = rng.random((batch, 1000), dtype=np.float32)

    def build(libs):
        out = {}
        for lib, mod in libs.items():
            out[lib] = ModuleStep(mod, resnet_model(mod), resnet_loss, mod.tensor(x),
                                  mod.tensor(labels), names, initial_state=state)
        return out

    def reference(libs):
        """torch in float64 (there is no numpy floor), itself cross-checked against autograd_c
        in float64; None without torch."""
        torch = libs.get("torch")
        if torch is None:
            return None
        loss, grads, agreement = resnet_float64_agreement(torch, state, x, labels, names)
        if agreement > RESNET_FLOAT64_TOL:
            raise AssertionError("resnet18: autograd_c and torch disagree in float64 by %.3g"
                                 % agreement)
        # The optimizer steps are compared in float64 above: in float32 a step moves each
        # parameter by lr times a gradient that is only as accurate as torch's own (see
        # RESNET_FLOAT64_TOL), and this loss magnifies that ~100x per further step.
        return Reference(loss, grads, "vs autograd_c in float64, %d SGD steps included: %.1e"
                         % (SGD_STEPS_CHECKED, agreement), torch_sets_tolerance=True, sgd_steps=0)

    return build, reference, names, nn_metrics(1000, "ms/step")


# =============================================================================================
# The driver
# =============================================================================================

# name: (description, factory, iterations per round: default, quick)
WORKLOADS = {
    "chain4": ("tiny-op chain, 4-element float32, 1,000 x tanh(y*w+b)",
               lambda: chain_workload(4), 10, 3),
    "mlp": ("MLP 784-256-256-10, batch 64, one SGD step",
            mlp_workload, 60, 15),
    "chain256": ("tiny-op chain, 256-element float32, 1,000 x tanh(y*w+b)",
                 lambda: chain_workload(256), 10, 3),
    "mlp_nn": ("MLP 784-256-256-10 as nn.Sequential, batch 64, CrossEntropyLoss, SGD momentum",
               mlp_nn_workload, 60, 15),
    "lenet": ("LeNet of the 'Neural Networks' tutorial, batch 64 of 1x32x32, CrossEntropyLoss, "
              "SGD momentum", lenet_workload, 20, 5),
    "resnet18_b1": ("models.resnet18, 1x3x64x64, (pred - labels).sum(), SGD momentum",
                    lambda: resnet_workload(1), 4, 2),
    "resnet18_b16": ("models.resnet18, 16x3x64x64, (pred - labels).sum(), SGD momentum",
                     lambda: resnet_workload(16), 1, 1),
}

IMPL_ORDER = ["autograd_c", "torch", "numpy"]
GRAD_RTOL = 1e-4  # float32 implementations against the float64 reference, relative to max |grad|
TORCH_ERROR_FACTOR = 2.0


def verify(name, impls, reference, names, libs):
    """Every implementation's float32 loss and gradients against the float64 reference (the
    numpy floor in float64, checked by finite differences; torch in float64 where there is no
    floor), then the parameters after two optimizer steps against each other, so that the
    timings never compare wrong code."""
    ref = reference(libs)
    if ref is None:
        log("  NOT CHECKED: this workload's reference needs torch")
        return
    check_gradients(name, impls, names, ref)
    if ref.sgd_steps:
        check_sgd_steps(name, impls, names, ref.sgd_steps)


def relative_error(got, want):
    return float(np.abs(got.astype(np.float64) - want).max()) / max(float(np.abs(want).max()),
                                                                     1e-6)


def check_gradients(name, impls, names, ref):
    results = {k: impl.grads() for k, impl in impls.items()}
    tolerances = [GRAD_RTOL] * len(names)
    if ref.torch_sets_tolerance and "torch" in results:
        tolerances = [max(GRAD_RTOL, TORCH_ERROR_FACTOR * relative_error(g, r))
                      for g, r in zip(results["torch"][1], ref.grads)]
    report = []
    for impl_name, (loss, got) in results.items():
        worst = abs(loss - ref.loss) / max(abs(ref.loss), 1.0)
        if not np.isfinite(worst) or worst > GRAD_RTOL:
            raise AssertionError("%s: %s's loss %.9g differs from the float64 reference %.9g"
                                 % (name, impl_name, loss, ref.loss))
        for pname, g, r, tol in zip(names, got, ref.grads, tolerances):
            if g.shape != r.shape:
                raise AssertionError("%s/%s: grad of %s has shape %s, expected %s"
                                     % (name, impl_name, pname, g.shape, r.shape))
            err = relative_error(g, r)
            if not np.isfinite(err) or err > tol:
                raise AssertionError(
                    "%s: %s's gradient of %s differs from the float64 reference by %.3g of its "
                    "largest element (tolerance %.1e)" % (name, impl_name, pname, err, tol))
            worst = max(worst, err)
        report.append("%s %.1e" % (impl_name, worst))
    how = ""
    if tolerances != [GRAD_RTOL] * len(names):
        how = " (tolerance up to %.1e: %g x torch's float32 error)" % (max(tolerances),
                                                                      TORCH_ERROR_FACTOR)
    log("  loss and gradients agree: max error / max |grad| vs the float64 reference: %s%s; "
        "the reference %s" % (", ".join(report), how, ref.checked))


def check_sgd_steps(name, impls, names, steps):
    """The parameters after a few optimizer steps, against numpy's (or torch's)."""
    if not all(hasattr(i, "params_now") for i in impls.values()):
        return
    base_name = "numpy" if "numpy" in impls else "torch"
    if base_name not in impls or len(impls) < 2:
        return
    after = {}
    for k, impl in impls.items():
        if hasattr(impl, "reset"):
            impl.reset()
        for _ in range(steps):
            impl.step()
        after[k] = impl.params_now()
    worst = 0.0
    for k, ps in after.items():
        for pname, p, q in zip(names, ps, after[base_name]):
            err = relative_error(p, q)
            if not np.isfinite(err) or err > GRAD_RTOL:
                raise AssertionError("%s: after %d optimizer steps %s's %s differs from %s's "
                                     "by %.3g" % (name, steps, k, pname, base_name, err))
            worst = max(worst, err)
    log("  parameters after %d optimizer steps agree with %s's (max error / max |param| %.1e)"
        % (steps, base_name, worst))


def run_workload(name, impls_by_lib, rounds, iters):
    desc, factory, _, _ = WORKLOADS[name]
    build, reference, names, metrics = factory()
    log("%s: %s" % (name, desc))
    impls = build(impls_by_lib)
    impls = {k: impls[k] for k in IMPL_ORDER if k in impls}
    verify(name, impls, reference, names, impls_by_lib)

    order = list(impls)
    nmetric = len(metrics)

    def one_round(impl):
        acc = [0.0] * nmetric
        for _ in range(iters):
            t = impl.step()
            for m in range(nmetric):
                acc[m] += t[metrics[m][1]]
        return [a / iters for a in acc]

    def start_turn(impl):
        if hasattr(impl, "reset"):
            impl.reset()  # untimed: step() reads the clock itself
        gc.collect()  # every turn starts with an empty young generation

    for impl_name in order:  # warm-up, untimed
        start_turn(impls[impl_name])
        one_round(impls[impl_name])
    # Park every object alive now (torch's and numpy's modules, the parameters) in the
    # collector's permanent generation: a full collection then costs what it would in a process
    # holding only the library under test, not what torch's 150,000 module objects cost, and
    # the gc.collect() before each turn below is cheap.
    gc.collect()
    gc.freeze()

    samples = {k: [] for k in order}  # samples[impl][round] = per-metric seconds per iteration
    t_start = time.perf_counter()
    for r in range(rounds):
        rot = order[r % len(order):] + order[:r % len(order)]
        for impl_name in rot:
            start_turn(impls[impl_name])
            samples[impl_name].append(one_round(impls[impl_name]))
    gc.unfreeze()
    log("  %d rounds x %d iterations in %.1f s" % (rounds, iters, time.perf_counter() - t_start))

    rows = []
    for m, (label, _, div, unit) in enumerate(metrics):
        per = {k: [s[m] / div * 1e6 for s in samples[k]] for k in order}
        med = {k: statistics.median(v) for k, v in per.items()}
        spread = {k: (iqr(v) / med[k] if med[k] else 0.0) for k, v in per.items()}

        def paired(num, den):
            if num not in per or den not in per:
                return None
            return statistics.median(a / b for a, b in zip(per[num], per[den]))

        rows.append({
            "workload": name, "metric": label, "unit": unit, "median": med, "spread": spread,
            "torch/ag": paired("torch", "autograd_c"),
            "ag/numpy": paired("autograd_c", "numpy"),
        })
    return rows


def iqr(v):
    if len(v) < 4:
        return max(v) - min(v)
    q = statistics.quantiles(v, n=4)
    return q[2] - q[0]


def fmt_time(x):
    if x is None:
        return "—"
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def fmt_ratio(x):
    return "—" if x is None else ("%.2f×" % x if x < 10 else "%.1f×" % x)


def table(rows, have_torch, markdown):
    head = ["workload", "metric", "unit", "autograd_c", "torch", "numpy",
            "torch / autograd_c", "autograd_c / numpy"]
    body = []
    for r in rows:
        med = r["median"]
        body.append([
            r["workload"], r["metric"], r["unit"],
            fmt_time(med.get("autograd_c")),
            fmt_time(med.get("torch")) if have_torch else "—",
            fmt_time(med.get("numpy")),
            fmt_ratio(r["torch/ag"]),
            fmt_ratio(r["ag/numpy"]),
        ])
    if markdown:
        lines = ["| " + " | ".join(head) + " |",
                 "| " + " | ".join(["---"] * 3 + ["---:"] * 5) + " |"]
        lines += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(lines)
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    def line(cells):
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    out = [line(head), "  ".join("-" * w for w in widths)]
    prev = None
    for b in body:
        if prev is not None and b[0] != prev:
            out.append("")
        prev = b[0]
        out.append(line(b))
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="fewer rounds and iterations (under a minute)")
    ap.add_argument("--repeats", type=int, metavar="N",
                    help="number of interleaved rounds R (default 31, 7 with --quick)")
    ap.add_argument("--only", metavar="NAME",
                    help="run only these workloads, comma-separated: " + ", ".join(WORKLOADS))
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--no-torch", action="store_true", help="leave torch out even if importable")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="cpu: process CPU time (default, robust on a shared machine); "
                         "wall: time.perf_counter")
    args = ap.parse_args(argv)
    global perf
    perf = time.process_time if args.clock == "cpu" else time.perf_counter

    names = list(WORKLOADS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        bad = [n for n in names if n not in WORKLOADS]
        if bad:
            ap.error("unknown workload %s; choose from %s" % (", ".join(bad), ", ".join(WORKLOADS)))
    rounds = args.repeats if args.repeats is not None else (7 if args.quick else 31)
    if rounds < 1:
        ap.error("--repeats must be at least 1")

    torch, why_not = import_torch(not args.no_torch)
    libs = {"autograd_c": autograd_c}
    if torch is not None:
        libs["torch"] = torch

    info = [
        "autograd_c %s (%s)" % (autograd_c.__version__, os.path.dirname(autograd_c.__file__)),
        "torch %s" % (torch.__version__ if torch is not None else "— " + why_not),
        "numpy %s (BLAS: %s), Python %s, %s, %s" % (np.__version__, blas_name(),
                                                    platform.python_version(),
                                                    platform.machine(), cpu_name()),
        "1 thread; %s clock; %d interleaved rounds; medians over rounds; ratios are medians of "
        "per-round ratios" % ("process CPU" if args.clock == "cpu" else "wall", rounds),
    ]
    for i in info:
        log(i)

    wall0, cpu0 = time.perf_counter(), time.process_time()
    rows = []
    for n in names:
        iters = WORKLOADS[n][3] if args.quick else WORKLOADS[n][2]
        rows += run_workload(n, libs, rounds, iters)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    log("total %.1f s" % wall)
    # Had the machine been busy, this process got less than a full core: worth knowing when
    # comparing runs (the CPU clock discounts the waiting, not the cache sharing).
    info.append("this run: %.0f s, %.0f%% of one core" % (wall, 100 * cpu / wall))

    print()
    if args.markdown:
        print("\n".join("- " + i for i in info))
        print()
    else:
        print("\n".join(info))
        print()
    print(table(rows, torch is not None, args.markdown))
    if rounds >= 4:
        spread, impl, row = max(((v, k, r) for r in rows for k, v in r["spread"].items()),
                                key=lambda t: t[0])
        print()
        print("noise: interquartile range over rounds / median is at most %.0f%% (%s, %s %s)"
              % (100 * spread, impl, row["workload"], row["metric"]))
    return 0


def blas_name():
    """numpy's BLAS, and a forced OpenBLAS kernel if the environment sets one: convolutions and
    matrix products run on it, so it decides much of the conv workloads' speed."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = "%s %s" % (blas.get("name", "?"), blas.get("version", ""))
    except Exception:  # the config layout differs across numpy versions
        name = "unknown"
    core = os.environ.get("OPENBLAS_CORETYPE")
    return name.strip() + (", OPENBLAS_CORETYPE=%s" % core if core else "")


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return "%s x%d" % (line.split(":", 1)[1].strip(), os.cpu_count() or 0)
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
