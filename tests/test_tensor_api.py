"""The Tensor attributes and conversions of the tutorials, one behaviour per test."""
import operator

import numpy as np
import pytest

import autograd_c as torch


def test_shape_size_dims_and_counts():
    x = torch.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and repr(x.shape) == "autograd_c.Size([2, 3, 4])"
    assert x.size() == x.shape and x.size(1) == 3 and x.size(-1) == 4
    assert x.dim() == x.ndim == 3
    assert x.numel() == x.nelement() == 24
    assert len(x) == 2
    assert x.dtype is torch.float32 and str(x.device) == "cpu"


def test_dtype_aliases_are_the_same_objects():
    assert torch.float is torch.float32 and torch.double is torch.float64
    assert torch.long is torch.int64 and repr(torch.float64) == "autograd_c.float64"
    assert torch.tensor([1, 2]).dtype is torch.int64
    assert torch.tensor([True]).dtype is torch.bool
    assert torch.tensor([1.5]).dtype is torch.float32


def test_numpy_shares_memory_both_ways():
    a = np.zeros(3, dtype=np.float32)
    t = torch.from_numpy(a)
    t[0] = 5
    assert a[0] == 5
    t.numpy()[1] = 7
    assert t[1].item() == 7
    assert np.asarray(t) is t.numpy()


def test_scalar_conversions_and_format():
    t = torch.tensor(2.5)
    assert t.item() == 2.5 and float(t) == 2.5 and int(t) == 2
    assert f"{t:.2f}" == "2.50" and bool(torch.tensor([1.0]))
    assert operator.index(torch.tensor([3])) == 3
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        operator.index(torch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        torch.tensor([1.0, 2.0]).item()


def test_tolist_and_iteration():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    rows = [r.tolist() for r in x]
    assert rows == [[1.0, 2.0], [3.0, 4.0]]


def test_dtype_conversions_and_to():
    x = torch.tensor([1.7, -2.2])
    assert x.double().dtype is torch.float64 and x.long().tolist() == [1, -2]
    assert x.int().dtype is torch.int32 and x.bool().tolist() == [True, True]
    assert x.to(torch.float64).dtype is torch.float64
    assert x.to("cpu") is x and x.to(torch.float32) is x
    assert x.type_as(torch.zeros(1, dtype=torch.float64)).dtype is torch.float64
    assert x.type() == "autograd_c.FloatTensor"


def test_clone_detach_contiguous():
    x = torch.arange(6.0).reshape(2, 3).requires_grad_()
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0" and c.data_ptr() != x.data_ptr()
    t = x.t()
    assert not t.is_contiguous() and t.contiguous().is_contiguous()
    assert x.is_contiguous() and x.contiguous() is x
    y = x * 2
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_T_transposes_and_data_setter_replaces_values():
    x = torch.arange(6.0).reshape(2, 3)
    assert x.T.shape == (3, 2) and x.T[2, 1].item() == 5.0
    x.data = torch.ones(4)
    assert x.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_legacy_constructors():
    assert torch.FloatTensor([[5, 2], [6, 8]]).dtype is torch.float32
    assert torch.LongTensor([1, 2]).dtype is torch.int64
    assert torch.Tensor(2, 3).shape == (2, 3)
    assert isinstance(torch.ones(2), torch.FloatTensor)
    assert not isinstance(torch.ones(2), torch.DoubleTensor)


def test_generator_and_manual_seed_reproduce_draws():
    g = torch.Generator().manual_seed(7)
    a = torch.randn(5, generator=g)
    g.manual_seed(7)
    assert torch.equal(a, torch.randn(5, generator=g))
    torch.manual_seed(3)
    b = torch.rand(4)
    torch.manual_seed(3)
    assert torch.equal(b, torch.rand(4))
    draws = torch.multinomial(torch.tensor([0.0, 1.0, 0.0]), 4, replacement=True)
    assert draws.tolist() == [1, 1, 1, 1]


def test_cuda_is_absent():
    assert torch.cuda.is_available() is False
    with pytest.raises(AssertionError):
        torch.zeros(2).to("cuda")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_in_place_arithmetic_with_alpha_matches_out_of_place(dtype):
    x = torch.ones(3, dtype=dtype)
    other = torch.tensor([1.0, 2.0, 3.0], dtype=dtype)
    x.add_(2, alpha=3).sub_(1, alpha=2).mul_(2).div_(4)
    assert x.tolist() == [2.5, 2.5, 2.5]
    x.add_(other, alpha=-1).sub_(other, alpha=0.5)
    assert x.tolist() == [1.0, -0.5, -2.0]
    version = x._version
    x += 1
    assert x._version == version + 1


def test_optimizer_style_update_on_a_leaf_under_no_grad():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with torch.no_grad():
        w.add_(w.grad, alpha=-0.25)
    assert w.tolist() == [0.5, 1.0] and w.requires_grad and w.is_leaf
