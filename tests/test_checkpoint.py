"""utils.checkpoint: activations recomputed in backward give the same gradients with less
memory held; nested passes share leaves safely with the pass around them."""
import tracemalloc

import numpy as np
import pytest

import autograd_c as ac
from autograd_c import nn
from autograd_c.utils.checkpoint import checkpoint, checkpoint_sequential

try:
    import torch
except ImportError:  # the torch-free tests still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")


def deep_model(seed, width=64, depth=6, dropout=0.0):
    ac.manual_seed(seed)
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def grads_of(model):
    return [p.grad.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_checkpointed_gradients_equal_plain_ones(dropout):
    x = ac.tensor(np.random.default_rng(0).standard_normal((8, 64)).astype(np.float32),
                  requires_grad=True)
    plain = deep_model(1, dropout=dropout)
    ac.manual_seed(7)
    plain(x).pow(2).sum().backward()
    plain_grads, plain_x = grads_of(plain), x.grad.numpy().copy()

    pieces = deep_model(1, dropout=dropout)
    x.grad = None
    ac.manual_seed(7)     # the same dropout masks in forward; backward replays them
    checkpoint_sequential(pieces, 3, x, use_reentrant=True).pow(2).sum().backward()
    for ours, ref in zip(grads_of(pieces), plain_grads):
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), plain_x, rtol=1e-5, atol=1e-6)


def test_a_leaf_used_inside_and_outside_the_segment():
    """The recomputed graph and the outer one share w's accumulator. In `w * segment`, the outer
    pass hands w its first gradient and then runs the segment's node, whose nested pass meets
    w's accumulator while that gradient waits there for the one from `w * 3`."""
    w = ac.tensor([1.5, -0.5], dtype=ac.float64, requires_grad=True)
    a = ac.tensor([2.0, 3.0], dtype=ac.float64, requires_grad=True)
    out = (w * 3).sum() + (w * checkpoint(lambda t: t * w, a, use_reentrant=True)).sum()
    out.backward()
    # out = 3 w + a w^2 (elementwise, summed): d/dw = 3 + 2 a w, d/da = w^2
    assert w.grad.tolist() == pytest.approx([3 + 2 * 2.0 * 1.5, 3 + 2 * 3.0 * -0.5])
    assert a.grad.tolist() == pytest.approx([2.25, 0.25])
    w.grad = a.grad = None
    out = (checkpoint(lambda t: t * w, a, use_reentrant=True) * w).sum() + (w * w).sum()
    out.backward()
    assert w.grad.tolist() == pytest.approx([2 * 2.0 * 1.5 + 3.0, 2 * 3.0 * -0.5 - 1.0])


def test_two_segments_sharing_a_parameter():
    w = ac.tensor([0.7], dtype=ac.float64, requires_grad=True)
    x = ac.tensor([1.3], dtype=ac.float64, requires_grad=True)
    h = checkpoint(lambda t: (t * w).sin(), x, use_reentrant=True)
    y = checkpoint(lambda t: (t * w).sin(), h, use_reentrant=True)
    y.backward()
    ref_w, ref_x = w.detach().requires_grad_(), x.detach().requires_grad_()
    ((ref_x * ref_w).sin() * ref_w).sin().backward()
    assert w.grad.item() == pytest.approx(ref_w.grad.item(), rel=1e-12)
    assert x.grad.item() == pytest.approx(ref_x.grad.item(), rel=1e-12)


def test_forward_keeps_no_graph_inside_the_segment():
    x = ac.ones(3, requires_grad=True)
    y = checkpoint(lambda t: (t * 2).tanh(), x, use_reentrant=True)
    assert y.grad_fn.name() == "CheckpointFunctionBackward"
    child, _ = y.grad_fn.next_functions[2]
    assert type(child).__name__ == "AccumulateGrad"


def test_less_memory_is_held_between_forward_and_backward():
    x = ac.randn(256, 256)

    def held_after_forward(run):
        model = deep_model(2, width=256, depth=8)
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            loss = run(model, x).sum()
            held = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.reset_peak()
            loss.backward()
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        return held, peak

    plain_held, plain_peak = held_after_forward(lambda m, t: m(t))
    ckpt_held, ckpt_peak = held_after_forward(
        lambda m, t: checkpoint_sequential(m, 4, t, use_reentrant=True))
    # 16 saved activations of 256 KB against the 3 segment boundaries and the last segment's
    assert ckpt_held < 0.6 * plain_held
    assert ckpt_peak < plain_peak


def test_grad_and_inputs_are_refused_like_torch():
    a = ac.tensor([1.0, 2.0], requires_grad=True)
    message = ("When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or "
               "passing an `inputs` parameter to .backward()")
    with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace(".", r"\.")):
        ac.autograd.grad(checkpoint(lambda t: t * 2, a, use_reentrant=True).sum(), a)


def test_use_reentrant_must_be_explicit_or_it_warns():
    a = ac.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed "
                                         "explicitly"):
        checkpoint(lambda t: t * 2, a)


@needs_torch
def test_matches_torch_on_a_small_network():
    results = []
    for lib in (ac, torch):
        cp = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
        lin1, lin2 = lib.nn.Linear(4, 8), lib.nn.Linear(8, 3)
        with lib.no_grad():
            for p in list(lin1.parameters()) + list(lin2.parameters()):
                p.copy_(lib.tensor(np.cos(np.arange(p.numel())).reshape(tuple(p.shape))
                                   .astype(np.float32)))
        x = lib.tensor(np.linspace(-1, 1, 20).reshape(5, 4).astype(np.float32),
                       requires_grad=True)
        y = lin2(cp.checkpoint(lambda t: lib.relu(lin1(t)).tanh(), x, use_reentrant=True)).sum()
        y.backward()
        results.append([y.item(), x.grad.numpy().copy(), lin1.weight.grad.numpy().copy(),
                        lin2.bias.grad.numpy().copy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
