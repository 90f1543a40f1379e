"""autograd_c's speed suite: autograd_c, torch and hand-written numpy, interleaved in one process.

    python benchmarks/run.py                 # all workloads, under a minute of CPU
    python benchmarks/run.py --quick         # fewer rounds, under 20 s
    python benchmarks/run.py --only chain4   # one workload (comma-separate several)
    python benchmarks/run.py --repeats 41    # more rounds (R) for steadier medians
    python benchmarks/run.py --markdown      # the table as Markdown, for README.md

Method (see benchmarks/README.md): every workload exists three times, for autograd_c, for torch
(skipped when it cannot be imported) and as plain numpy with a hand-written backward, the floor.
All three are checked once at start-up to produce the same gradients. Then R rounds run; each
round times a fixed number of iterations of every implementation in turn (round-robin, the start
rotating by one every round), so that the machine's slow and fast moments fall on all of them
alike. The table shows the median over rounds of each implementation's per-iteration time, and
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
        y.sum().backward()
        out = [np.array(t.grad.numpy()) for t in (x, w, b)]
        x.grad = None
        w.grad = None
        b.grad = None
        return out

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
        return list(numpy_chain_backward(self.x, self.w, ins, outs))

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
    return list(ref), worst


def chain_workload(size):
    ops = 3 * CHAIN_STEPS
    nodes = ops + 1  # the chain's mul/add/tanh nodes and SumBackward0 (leaf sinks not counted)

    def build(impls):
        x, w, b = chain_inputs(size, seed=size)
        out = {"numpy": NumpyChain(x, w, b, CHAIN_STEPS)}
        for name, mod in impls.items():
            out[name] = TensorChain(mod, x, w, b, CHAIN_STEPS)
        return out

    def reference():
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
        return out

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
        return numpy_mlp_backward(self.params, saved, self.labels, self.rows)

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


def mlp_reference():
    params, X, labels = mlp_inputs()
    params = [p.astype(np.float64) for p in params]
    X = X.astype(np.float64)
    rows = np.arange(MLP_BATCH)
    _, saved = numpy_mlp_forward(params, X, labels, rows)
    ref = numpy_mlp_backward(params, saved, labels, rows)

    rng = np.random.default_rng(1)
    eps = 1e-6
    worst = 0.0
    for k, p in enumerate(params):
        scale = max(1e-3, float(np.abs(ref[k]).max()))
        for _ in range(3):
            j = tuple(rng.integers(0, s) for s in p.shape)
            old = p[j]
            p[j] = old + eps
            lp = numpy_mlp_forward(params, X, labels, rows)[0]
            p[j] = old - eps
            lm = numpy_mlp_forward(params, X, labels, rows)[0]
            p[j] = old
            worst = max(worst, abs((lp - lm) / (2 * eps) - ref[k][j]) / scale)
    if worst > 1e-5:
        raise AssertionError("numpy MLP backward disagrees with finite differences: %.3g" % worst)
    return ref, worst


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
}

IMPL_ORDER = ["autograd_c", "torch", "numpy"]
GRAD_RTOL = 1e-4  # float32 implementations against the float64 reference, relative to max |grad|


def verify(name, impls, reference, names):
    """Every implementation's float32 gradients against the float64 reference (which is checked
    by finite differences), so that the timings never compare wrong code."""
    ref, fd_err = reference()
    report = []
    for impl_name, impl in impls.items():
        got = impl.grads()
        worst = 0.0
        for pname, g, r in zip(names, got, ref):
            if g.shape != r.shape:
                raise AssertionError("%s/%s: grad of %s has shape %s, expected %s"
                                     % (name, impl_name, pname, g.shape, r.shape))
            scale = max(float(np.abs(r).max()), 1e-6)
            err = float(np.abs(g.astype(np.float64) - r).max()) / scale
            if not np.isfinite(err) or err > GRAD_RTOL:
                raise AssertionError(
                    "%s: %s's gradient of %s differs from the float64 reference by %.3g of its "
                    "largest element (tolerance %.0e)" % (name, impl_name, pname, err, GRAD_RTOL))
            worst = max(worst, err)
        report.append("%s %.1e" % (impl_name, worst))
    # the SGD step must move every implementation's parameters the same way
    if all(hasattr(i, "params_now") for i in impls.values()):
        for impl in impls.values():
            impl.step()
        after = {k: i.params_now() for k, i in impls.items()}
        base = after["numpy"]
        for k, ps in after.items():
            for pname, p, q in zip(names, ps, base):
                err = float(np.abs(p - q).max()) / max(float(np.abs(q).max()), 1e-6)
                if err > 1e-4:
                    raise AssertionError("%s: after one SGD step %s's %s differs from numpy's "
                                         "by %.3g" % (name, k, pname, err))
    log("  gradients agree (max error / max |grad| vs float64 reference: %s; "
        "reference vs finite differences %.1e)" % (", ".join(report), fd_err))


def run_workload(name, impls_by_lib, rounds, iters):
    desc, factory, _, _ = WORKLOADS[name]
    build, reference, names, metrics = factory()
    log("%s: %s" % (name, desc))
    impls = build(impls_by_lib)
    impls = {k: impls[k] for k in IMPL_ORDER if k in impls}
    verify(name, impls, reference, names)

    order = list(impls)
    nmetric = len(metrics)

    def one_round(impl):
        acc = [0.0] * nmetric
        for _ in range(iters):
            t = impl.step()
            for m in range(nmetric):
                acc[m] += t[metrics[m][1]]
        return [a / iters for a in acc]

    for impl_name in order:  # warm-up, untimed
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
            gc.collect()  # every turn starts with an empty young generation
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
                    help="fewer rounds and iterations (under 20 s)")
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
        "numpy %s, Python %s, %s, %s" % (np.__version__, platform.python_version(),
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
