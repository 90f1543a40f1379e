"""Shapes and indices at the edges: each case here once gave a wrong shape, wrapped an index
around, or hung, where torch answers or refuses at once."""
import subprocess
import tempfile
import sys

import numpy as np
import pytest

import autograd_c as ac

try:
    import torch
except ImportError:  # the comparisons below skip; our own assertions still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


# -- cat and stack of a single tensor ------------------------------------------------------------

@pytest.mark.parametrize("join", ["cat", "stack"])
@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_joining_one_tensor_gives_its_gradient_its_shape(join, shape):
    x = ac.randn(*shape, requires_grad=True)
    out = getattr(ac, join)([x])
    (out * ac.arange(out.numel()).reshape(out.shape)).sum().backward()
    assert x.grad.shape == x.shape
    np.testing.assert_array_equal(x.grad.numpy().ravel(), np.arange(x.numel(), dtype=np.float32))


@pytest.mark.parametrize("join", ["cat", "stack"])
def test_joining_one_tensor_with_create_graph(join):
    x = ac.randn(3, requires_grad=True, dtype=ac.float64)
    g, = ac.autograd.grad((getattr(ac, join)([x]) ** 2).sum(), x, create_graph=True)
    assert g.shape == x.shape
    h, = ac.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.full(3, 2.0))


# -- gather's bounds --------------------------------------------------------------------------

@pytest.mark.parametrize("index, bad", [([[-1]], -1), ([[0, 4]], 4), ([[2, -3]], -3)])
def test_gather_refuses_an_index_out_of_bounds(index, bad):
    x = ac.randn(3, 4)
    with pytest.raises(RuntimeError) as info:
        x.gather(1, ac.tensor(index))
    assert str(info.value) == "index %d is out of bounds for dimension 1 with size 4" % bad


def test_gather_of_a_0d_tensor_refuses_minus_one():
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 1"):
        ac.tensor(3.0).gather(0, ac.tensor(-1))


def test_gather_in_bounds_still_gathers_and_differentiates():
    x = ac.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    out = x.gather(1, ac.tensor([[2, 0], [1, 1]]))
    assert out.tolist() == [[3.0, 1.0], [5.0, 5.0]]
    out.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]]


@needs_torch
@pytest.mark.parametrize("index", [[[-1]], [[4]], [[0, -4]]])
def test_gather_errors_are_torchs(index):
    data = np.arange(12.0).reshape(3, 4)
    with pytest.raises(RuntimeError) as theirs:
        torch.tensor(data).gather(1, torch.tensor(index))
    with pytest.raises(RuntimeError) as ours:
        ac.tensor(data).gather(1, ac.tensor(index))
    assert str(ours.value) == str(theirs.value)


# -- reductions over every dim with keepdim -------------------------------------------------

@pytest.mark.parametrize("fn", ["sum", "mean", "all", "any"])
@pytest.mark.parametrize("shape", [(2, 3), (4,), (2, 1, 3), ()])
def test_reducing_everything_with_keepdim_keeps_every_dim(fn, shape):
    x = ac.ones(shape)
    out = getattr(x, fn)(None, keepdim=True)
    assert tuple(out.shape) == tuple(1 for _ in shape)


@pytest.mark.parametrize("fn", ["sum", "mean"])
def test_keepdim_over_everything_differentiates(fn):
    x = ac.randn(2, 3, requires_grad=True, dtype=ac.float64)
    out = getattr(x, fn)(None, keepdim=True)
    assert out.grad_fn.name() == fn.capitalize() + "Backward1"
    out.backward(ac.ones(1, 1, dtype=ac.float64))
    want = 1.0 if fn == "sum" else 1.0 / 6
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), want))
    assert ac.autograd.gradcheck(lambda t: getattr(t, fn)(None, keepdim=True), (x.detach().requires_grad_(),))


@needs_torch
@pytest.mark.parametrize("fn", ["sum", "mean", "all", "any", "amax", "var", "std", "argmax"])
def test_keepdim_over_everything_matches_torch(fn):
    data = np.arange(6.0).reshape(2, 3)
    if fn in ("all", "any"):
        data = data > 2
    theirs = getattr(torch.tensor(data), fn)(None, keepdim=True)
    ours = getattr(ac.tensor(data), fn)(None, keepdim=True)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float))


@pytest.mark.parametrize("fn", ["prod", "max", "min"])
def test_keepdim_without_a_dim_is_refused_where_torch_needs_one(fn):
    with pytest.raises(TypeError, match="argument 'dim' must be int, not NoneType"):
        getattr(ac.ones(2, 3), fn)(None, keepdim=True)
    if torch is not None:
        with pytest.raises(TypeError):
            getattr(torch.ones(2, 3), fn)(None, keepdim=True)


# -- chunk's count --------------------------------------------------------------------------

def test_chunk_of_an_empty_tensor_into_more_pieces_than_memory_holds_fails_at_once():
    # in a child with a deadline: the old behaviour was a loop that never ended
    code = ("import autograd_c as ac\n"
            "for n, err in ((2**64, ValueError), (2**63 - 1, RuntimeError), (10**12, RuntimeError)):\n"
            "    try:\n"
            "        ac.zeros(0).chunk(n)\n"
            "    except err as e:\n"
            "        print(type(e).__name__, e)\n"
            "    else:\n"
            "        raise SystemExit('no error for %d' % n)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=tempfile.gettempdir())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "ValueError Overflow when unpacking long long"
    assert lines[1] == "RuntimeError cannot create std::vector larger than max_size()"
    assert lines[2].startswith("RuntimeError chunk: 1000000000000 empty pieces would not fit")


@pytest.mark.parametrize("chunks, exc, message", [
    (1.5, TypeError, "chunk(): argument 'chunks' (position 1) must be int, not float"),
    (True, TypeError, "chunk(): argument 'chunks' (position 1) must be int, not bool"),
    (0, RuntimeError, "chunk expects `chunks` to be greater than 0, got: 0"),
])
def test_chunk_count_errors(chunks, exc, message):
    with pytest.raises(exc) as info:
        ac.zeros(5).chunk(chunks)
    assert str(info.value) == message
    if torch is not None:
        with pytest.raises(exc) as theirs:
            torch.zeros(5).chunk(chunks)
        assert str(theirs.value) == message


def test_chunk_of_an_empty_tensor_gives_the_pieces_asked_for():
    pieces = ac.zeros(0, 2).chunk(3)
    assert len(pieces) == 3 and all(tuple(p.shape) == (0, 2) for p in pieces)


def test_gather_with_an_empty_index_of_any_dtype_gathers_nothing():
    out = ac.randn(3, 4).gather(1, ac.zeros(0, 1))
    assert tuple(out.shape) == (0, 1)
    with pytest.raises(RuntimeError, match=r"gather\(\): Expected dtype int32/int64 for index"):
        ac.randn(3, 4).gather(1, ac.tensor([[0.0]]))


def test_permute_needs_its_dims():
    with pytest.raises(TypeError, match='permute\\(\\) missing 1 required positional arguments: "dims"'):
        ac.ones(()).permute()
    assert tuple(ac.ones(()).permute(()).shape) == ()
    assert tuple(ac.ones(2, 3).permute(1, 0).shape) == (3, 2)
