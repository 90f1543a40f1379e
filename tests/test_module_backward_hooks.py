"""Module.register_full_backward_hook / register_full_backward_pre_hook, against torch 2.13
(when installed) and hand-derived values."""
import numpy as np
import pytest

import autograd_c as ac

try:
    import torch
except ImportError:  # the torch-free tests still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")

W = [[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]]
B = [0.1, -0.2]


def linear(lib):
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(W))
        lin.bias.copy_(lib.tensor(B))
    return lin


def as_lists(grads):
    return [None if g is None else g.tolist() for g in grads]


def hooked_step(lib):
    """Both kinds of hook on a Linear: the pre-hook doubles grad_output."""
    lin, log = linear(lib), []
    lin.register_full_backward_pre_hook(
        lambda m, go: log.append(("pre", as_lists(go))) or (go[0] * 2,))
    lin.register_full_backward_hook(
        lambda m, gi, go: log.append(("full", as_lists(gi), as_lists(go))))
    x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    out = lin(x)
    (out * lib.tensor([[1.0, 3.0]])).sum().backward()
    return out.grad_fn.name(), log, x.grad.tolist(), lin.weight.grad.tolist()


def test_hooks_see_and_replace_gradients():
    name, log, x_grad, w_grad = hooked_step(ac)
    assert name == "BackwardHookFunctionBackward"
    g_out = [[2.0, 6.0]]                              # [1, 3], doubled by the pre-hook
    g_in = (np.array(g_out) @ np.array(W)).tolist()   # grad_output @ W
    assert log == [("pre", [[[1.0, 3.0]]]), ("full", [g_in], [g_out])]
    assert x_grad == g_in
    assert w_grad == (np.array(g_out).T @ np.array([[1.0, 2.0, 3.0]])).tolist()


@needs_torch
def test_hooks_match_torch():
    assert hooked_step(ac) == hooked_step(torch)


def replaced_grad_input(lib):
    lin = linear(lib)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    lin(x).sum().backward()
    return x.grad.tolist(), lin.weight.grad.tolist()


def test_full_hook_replaces_grad_input_only():
    x_grad, w_grad = replaced_grad_input(ac)
    assert x_grad == [[0.0, 0.0, 0.0]]
    assert w_grad == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]   # the parameters are not affected


@needs_torch
def test_replaced_grad_input_matches_torch():
    assert replaced_grad_input(ac) == replaced_grad_input(torch)


def test_no_input_requires_grad_fires_at_the_outputs_with_a_warning():
    lin, log = linear(ac), []
    lin.register_full_backward_hook(lambda m, gi, go: log.append((gi, as_lists(go))))
    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are "
                                         "computed with respect to module outputs"):
        lin(ac.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    assert log == [((None,), [[[1.0, 1.0]]])]


def test_removed_hooks_do_not_run_and_no_graph_without_grad():
    lin, log = linear(ac), []
    handle = lin.register_full_backward_hook(lambda m, gi, go: log.append(1))
    pre = lin.register_full_backward_pre_hook(lambda m, go: log.append(2))
    handle.remove()
    pre.remove()
    x = ac.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    out = lin(x)
    out.sum().backward()
    assert log == [] and out.grad_fn.name() == "AddmmBackward0"
    lin.register_full_backward_hook(lambda m, gi, go: log.append(1))
    with ac.no_grad():
        assert lin(x).grad_fn is None


def test_wrong_number_of_values_from_a_hook():
    lin = linear(ac)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    x = ac.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of "
                                           "grad_input, got 2, but expected 1"):
        lin(x).sum().backward()


def test_hooks_on_a_container_see_its_input_and_output():
    model = ac.nn.Sequential(ac.nn.Linear(3, 4), ac.nn.Tanh(), ac.nn.Linear(4, 2))
    seen = {}
    model.register_full_backward_hook(
        lambda m, gi, go: seen.update(gi=gi[0].shape, go=go[0].shape))
    x = ac.randn(5, 3, requires_grad=True)
    model(x).pow(2).sum().backward()
    assert seen == {"gi": ac.Size([5, 3]), "go": ac.Size([5, 2])}
