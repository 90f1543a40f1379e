"""Graphs that a user's object closes into a cycle are freed by the cycle collector.

Nodes are not tracked by the collector (they form no cycles among themselves), except once they
hold an object of the user's: a Function's ctx, hooks, metadata. `ctx.y = y` then makes
y -> y.grad_fn -> ctx -> y, which torch frees and so must we."""
import gc
import weakref

import autograd_c as ac


class KeepOutput(ac.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x * 2
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, g):
        return g * 2


class KeepOneOfTwo(ac.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        a, b = x * 2, x * 3
        ctx.a = a
        return a, b

    @staticmethod
    def backward(ctx, ga, gb):
        return ga * 2 + gb * 3


def collected(make):
    """make() -> a tensor in a cycle; True when it is gone after a collection."""
    ref = weakref.ref(make())
    gc.collect()
    return ref() is None


def test_function_keeping_its_output_on_ctx_is_freed():
    assert collected(lambda: KeepOutput.apply(ac.randn(1000, requires_grad=True)))


def test_multi_output_function_keeping_an_output_is_freed():
    assert collected(lambda: KeepOneOfTwo.apply(ac.randn(1000, requires_grad=True))[0])


def test_tensor_hook_closing_over_its_tensor_is_freed():
    def make():
        y = ac.randn(3, requires_grad=True) * 2
        y.register_hook(lambda g: g + 0 * y)
        return y
    assert collected(make)


def test_node_hooks_and_metadata_closing_over_the_tensor_are_freed():
    def with_post_hook():
        y = ac.randn(3, requires_grad=True) * 2
        y.grad_fn.register_hook(lambda gi, go: (y,))
        return y

    def with_pre_hook():
        y = ac.randn(3, requires_grad=True) * 2
        y.grad_fn.register_prehook(lambda go: (y,))
        return y

    def with_metadata():
        y = ac.randn(3, requires_grad=True) * 2
        y.grad_fn.metadata["y"] = y
        return y

    for make in (with_post_hook, with_pre_hook, with_metadata):
        assert collected(make), make.__name__


def test_memory_stays_flat_over_many_calls():
    import tracemalloc
    tracemalloc.start()
    try:
        for rounds in (50, 250):
            for _ in range(rounds):
                x = ac.randn(4000, requires_grad=True)
                KeepOutput.apply(x).sum().backward()
            gc.collect()
            if rounds == 50:
                baseline = tracemalloc.get_traced_memory()[0]
        grown = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    # 200 more calls that each kept 16 kB alive would add 3.2 MB
    assert grown < 500_000, grown


def test_the_cycle_still_backpropagates_while_alive():
    x = ac.randn(5, requires_grad=True)
    y = KeepOutput.apply(x)
    y.sum().backward()
    assert x.grad.tolist() == [2.0] * 5
