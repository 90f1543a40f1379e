"""Backward passes in several threads at once give the results one thread gives.

Passes keep their scratch (dependency counts, gradients waiting) on the graph's nodes, so two
passes over one graph must not interleave; the engine runs one pass at a time and the other
threads wait (see Note [One pass at a time] in the engine). These tests make the threads
switch often (a tiny switch interval, arrays large enough that kernels release the GIL) so an
interleaving would show as a wrong gradient or a spurious error.
"""
import sys
import threading

import numpy as np
import pytest

import autograd_c as torch
from autograd_c.utils.checkpoint import checkpoint

N = 70_000          # above the size at which the C kernels release the GIL
ROUNDS = 12


@pytest.fixture(autouse=True)
def frequent_switches():
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def run_in_threads(count, work):
    """work(i) in `count` threads started together; re-raises the first error any of them hit."""
    errors = []
    start = threading.Barrier(count)

    def body(i):
        try:
            start.wait()
            work(i)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "a backward thread hung"
    if errors:
        raise errors[0]


def shared_graph():
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal(N), requires_grad=True)
    w = torch.tensor(rng.standard_normal(N), requires_grad=True)
    h = x * w
    # several paths into x and w, so a pass has gradients waiting on shared nodes
    y = (h.tanh() * x + h.sigmoid() * w + h * h).sum()
    return x, w, y


def test_two_threads_backward_on_one_retained_graph_accumulate_exactly():
    x, w, y = shared_graph()
    y.backward(retain_graph=True)
    gx, gw = x.grad.numpy().copy(), w.grad.numpy().copy()
    x.grad = None
    w.grad = None

    run_in_threads(2, lambda i: [y.backward(retain_graph=True) for _ in range(ROUNDS)])

    np.testing.assert_allclose(x.grad.numpy(), 2 * ROUNDS * gx, rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), 2 * ROUNDS * gw, rtol=1e-10)


def test_autograd_grad_from_two_threads_on_one_graph():
    x, w, y = shared_graph()
    want = [g.numpy().copy() for g in torch.autograd.grad(y, (x, w), retain_graph=True)]
    results = [[] for _ in range(2)]

    def work(i):
        for _ in range(ROUNDS):
            results[i].append(torch.autograd.grad(y, (x, w), retain_graph=True))

    run_in_threads(2, work)
    for per_thread in results:
        assert len(per_thread) == ROUNDS
        for gx, gw in per_thread:
            np.testing.assert_allclose(gx.numpy(), want[0], rtol=1e-12)
            np.testing.assert_allclose(gw.numpy(), want[1], rtol=1e-12)


def test_separate_graphs_in_threads():
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal(N) for _ in range(2)]
    results = [[] for _ in range(2)]

    def work(i):
        for _ in range(ROUNDS):
            x = torch.tensor(inputs[i], requires_grad=True)
            ((x * x).tanh() * x).sum().backward()
            results[i].append(x.grad.numpy())

    run_in_threads(2, work)
    for i in range(2):
        x = inputs[i]
        t = np.tanh(x * x)
        want = (1 - t * t) * 2 * x * x + t
        for got in results[i]:
            np.testing.assert_allclose(got, want, rtol=1e-12)


def test_checkpoint_in_one_thread_plain_backward_in_another():
    rng = np.random.default_rng(2)
    data = rng.standard_normal(N)

    def segment(t):
        return (t * t).tanh() * t

    x0 = torch.tensor(data, requires_grad=True)
    segment(x0).sum().backward()
    want = x0.grad.numpy().copy()
    got = []

    def work(i):
        for _ in range(ROUNDS):
            x = torch.tensor(data, requires_grad=True)
            if i == 0:
                checkpoint(segment, x, use_reentrant=True).sum().backward()
            else:
                segment(x).sum().backward()
            got.append((i, x.grad.numpy()))

    run_in_threads(2, work)
    assert len(got) == 2 * ROUNDS
    for _, g in got:
        np.testing.assert_allclose(g, want, rtol=1e-12)


def test_a_pass_started_inside_a_hook_of_another_pass_in_the_same_thread():
    # the engine's lock is re-entrant for the thread that holds it: nested passes still run
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0], requires_grad=True)
    inner = []

    def hook(g):
        (b * b).sum().backward()
        inner.append(b.grad.clone())

    y = a * 2
    y.register_hook(hook)
    y.sum().backward()
    assert inner and inner[0].tolist() == [6.0]
    assert a.grad.tolist() == [2.0, 2.0]
