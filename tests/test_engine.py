"""Engine semantics: how gradients flow, accumulate and are freed."""
import gc
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

import autograd_c as torch


def leaf(values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype, requires_grad=True)


def test_fan_in_sums_the_gradients_of_every_path():
    a, b, c = leaf([1.0, 2.0]), leaf([3.0, 4.0]), leaf([5.0, 6.0])
    (a * b + a * c).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [8.0, 10.0])
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 2.0])
    np.testing.assert_allclose(c.grad.numpy(), [1.0, 2.0])


def test_a_leaf_used_twice_gets_both_contributions():
    x = leaf([3.0, -2.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, -4.0])


def test_shared_subgraph_runs_once_with_summed_gradient():
    x = leaf([1.0, 2.0, 3.0])
    h = x * 2
    y = h * h + h.exp() + h
    y.sum().backward()
    expected = 2 * (2 * (2 * x.detach().numpy()) + np.exp(2 * x.detach().numpy()) + 1)
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_diamond_with_uneven_path_lengths():
    x = leaf([0.5])
    long_path = x.tanh().sin().exp()
    short_path = x * 3
    (long_path * short_path).sum().backward()
    v = 0.5
    lp = np.exp(np.sin(np.tanh(v)))
    dlp = lp * np.cos(np.tanh(v)) * (1 - np.tanh(v) ** 2)
    np.testing.assert_allclose(x.grad.numpy(), [dlp * 3 * v + lp * 3])


def test_grad_accumulates_across_backward_calls_into_the_same_object():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    first = x.grad
    (x * 3).sum().backward()
    assert x.grad is first
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_leaf_grad_never_aliases_the_user_gradient():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    g = torch.ones(4, dtype=torch.float64)
    (x + 0).backward(g)
    g[0] = 100.0
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, 1.0, 1.0])


def test_leaf_grad_never_aliases_a_view_of_the_gradient():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    g = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    x.reshape(4).backward(g)
    g[0] = 100.0
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 2.0], [3.0, 4.0]])


def test_gradient_passed_to_two_leaves_is_not_shared():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.add_(10)
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_vector_jacobian_product_with_explicit_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float64))
    np.testing.assert_allclose(x.grad.numpy(), [0.2, 4.0, 0.0006])


def test_gradient_of_another_float_dtype_is_cast_to_the_output_dtype():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(torch.tensor([1.0, 1.0], dtype=torch.float64))
    assert x.grad.dtype is torch.float32


def test_backward_of_a_leaf_itself():
    x = leaf([1.0, 2.0])
    x.backward(torch.tensor([3.0, 4.0], dtype=torch.float64))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_non_leaf_grad_is_none_with_torch_warning_and_retain_grad_keeps_it():
    x = leaf([1.0, 2.0])
    y = x * 2
    z = y * y
    y2 = x * 3
    y2.retain_grad()
    (z.sum() + y2.sum()).backward()
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(y2.grad.numpy(), [1.0, 1.0])
    assert y2.retains_grad and not y.retains_grad


def test_grad_fn_names_and_next_functions():
    x, y = leaf([1.0]), leaf([2.0])
    z = x * y + 3
    assert z.grad_fn.name() == "AddBackward0"
    (mul, _), (none, _) = z.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and none is None
    (acc_x, _), (acc_y, _) = mul.next_functions
    assert acc_x.variable is x and acc_y.variable is y
    assert repr(z.grad_fn).startswith("<AddBackward0 object at 0x")


def test_is_leaf_and_requires_grad_propagate():
    x = leaf([1.0])
    c = torch.tensor([2.0], dtype=torch.float64)
    assert x.is_leaf and c.is_leaf
    y = x * c
    assert y.requires_grad and not y.is_leaf
    w = c * 2
    assert not w.requires_grad and w.is_leaf and w.grad_fn is None


def test_graph_is_freed_after_backward_and_second_backward_raises():
    x = leaf([1.0, 2.0])
    loss = x.exp().sum()
    exp_node = loss.grad_fn.next_functions[0][0]
    saved = weakref.ref(exp_node.saved0)
    loss.backward()
    assert exp_node.saved0 is None and saved() is None
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        loss.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_graph_without_saved_tensors_can_be_run_twice():
    # torch raises only when a node needs saved tensors that were freed
    x = leaf([1.0, 2.0])
    y = x + 1
    y.sum().backward()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_no_grad_records_nothing_and_restores_the_mode():
    x = leaf([1.0])
    with torch.no_grad():
        y = x * 2
        assert not torch.is_grad_enabled()
        with torch.enable_grad():
            z = x * 2
    assert torch.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ValueError):
        with torch.no_grad():
            raise ValueError
    assert torch.is_grad_enabled()


def test_grad_mode_decorators_and_set_grad_enabled():
    x = leaf([1.0])

    @torch.no_grad()
    def doubled(t):
        return t * 2

    assert not doubled(x).requires_grad
    with torch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        assert not torch.is_grad_enabled()
    finally:
        torch.set_grad_enabled(True)


def test_grad_mode_is_per_thread():
    seen = []
    with torch.no_grad():
        worker = threading.Thread(target=lambda: seen.append(torch.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]


def test_detach_shares_storage_and_stops_gradients():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad
    d[0] = 5.0
    assert x.detach().numpy()[0] == 5.0


def test_variable_returns_a_new_leaf_sharing_storage():
    from autograd_c.autograd import Variable
    t = torch.ones(2)
    v = Variable(t, requires_grad=True)
    assert type(v) is torch.Tensor and v.requires_grad and not t.requires_grad
    with torch.no_grad():
        v[0] = 3.0
    assert t[0].item() == 3.0


CHAIN_SCRIPT = textwrap.dedent("""
    import sys
    sys.setrecursionlimit(1000)  # the engine must not recurse, whatever the depth
    import autograd_c as torch
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x
    for _ in range(N):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0, 1.0], x.grad
    del y                   # tears down the whole chain
    z = x
    for _ in range(N):
        z = z.tanh()
    del z                   # teardown without a backward
    print("ok")
""")


def test_million_node_chain_forward_backward_and_teardown(tmp_path):
    script = CHAIN_SCRIPT.replace("N", "1_000_000")
    # run outside the source tree: `python -c` puts the working directory first on sys.path
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def _training_step(w, b, x, target):
    loss = ((x @ w + b).tanh() - target).pow(2).mean()
    w.grad = None
    b.grad = None
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        b -= 0.1 * b.grad
    return loss.item()


def test_training_loop_creates_no_reference_cycles():
    torch.manual_seed(0)
    w = torch.randn(8, 4, requires_grad=True)
    b = torch.zeros(4, requires_grad=True)
    x, target = torch.randn(16, 8), torch.randn(16, 4)
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            _training_step(w, b, x, target)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_memory_stays_flat_over_a_thousand_training_steps():
    """1,500 steps in all: the last 1,000 must not grow the traced memory."""
    torch.manual_seed(0)
    w = torch.randn(32, 16, requires_grad=True)
    b = torch.zeros(16, requires_grad=True)
    x, target = torch.randn(64, 32), torch.randn(64, 16)
    for _ in range(100):
        _training_step(w, b, x, target)
    tracemalloc.start()
    try:
        # first-use caches settle during the first window; a leak keeps growing in the second
        first_loss = _training_step(w, b, x, target)
        for _ in range(499):
            _training_step(w, b, x, target)
        settled, _ = tracemalloc.get_traced_memory()
        for _ in range(1000):
            last_loss = _training_step(w, b, x, target)
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert last_loss < first_loss
    # a leak of even one small array per step would add tens of kilobytes
    assert end - settled < 10_000, end - settled


def test_a_tensor_cannot_be_its_own_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="can't assign Variable as its own grad"):
        x.grad = x


def test_large_kernels_release_the_gil():
    # With a switch interval of minutes the interpreter never forces a thread switch: the main
    # thread can run while the worker is alive only if the worker's kernel released the GIL.
    a, b = torch.ones(2_000_000), torch.ones(2_000_000)
    started = threading.Event()

    def work():
        started.set()
        for _ in range(20):
            a * b

    previous = sys.getswitchinterval()
    sys.setswitchinterval(300)
    try:
        worker = threading.Thread(target=work)
        worker.start()
        started.wait()
        ran_alongside = 0
        while worker.is_alive() and ran_alongside < 1000:
            ran_alongside += 1
        worker.join()
    finally:
        sys.setswitchinterval(previous)
    assert ran_alongside > 0
