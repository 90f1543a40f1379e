"""More of autograd_c.nn: BCELoss, BCEWithLogitsLoss, SmoothL1Loss, HuberLoss, Dropout, Embedding,
F.layer_norm and LayerNorm, and nn.utils (gradient clipping, parameters <-> vector).

Tests that compare with torch import it inside the test, so the rest run without torch."""
import math

import numpy as np
import pytest

import autograd_c as ag
from autograd_c.autograd import gradcheck

nn = ag.nn
F = nn.functional


def _torch():
    return pytest.importorskip("torch")


def _pair(torch, a, requires_grad=False):
    a = np.asarray(a)
    x = ag.tensor(a.copy(), requires_grad=requires_grad)
    t = torch.tensor(a.copy(), requires_grad=requires_grad)
    return x, t


def _close(x, t, atol=1e-6, rtol=1e-5):
    np.testing.assert_allclose(np.asarray(x.detach().numpy()), t.detach().numpy(),
                               atol=atol, rtol=rtol)


# ---------------------------------------------------------------------------------------------
# loss modules
# ---------------------------------------------------------------------------------------------

_LOSSES = [
    ("BCELoss", {}),
    ("BCELoss", {"reduction": "sum"}),
    ("BCELoss", {"reduction": "none"}),
    ("BCEWithLogitsLoss", {}),
    ("BCEWithLogitsLoss", {"reduction": "none"}),
    ("SmoothL1Loss", {}),
    ("SmoothL1Loss", {"beta": 0.5, "reduction": "sum"}),
    ("SmoothL1Loss", {"beta": 0.0}),
    ("HuberLoss", {}),
    ("HuberLoss", {"delta": 0.3, "reduction": "none"}),
]


@pytest.mark.parametrize("name,kwargs", _LOSSES)
def test_loss_modules_match_torch(name, kwargs):
    torch = _torch()
    rng = np.random.default_rng(0)
    if name == "BCELoss":
        inp = rng.uniform(0.05, 0.95, (3, 4))
        tgt = rng.uniform(0, 1, (3, 4))
    else:
        inp = rng.normal(size=(3, 4)) * 2
        tgt = rng.normal(size=(3, 4)) if "L1" in name or "Huber" in name else rng.uniform(0, 1, (3, 4))
    x, tx = _pair(torch, inp, True)
    y, ty = _pair(torch, tgt)
    m = getattr(nn, name)(**kwargs)
    tm = getattr(torch.nn, name)(**kwargs)
    assert repr(m) == repr(tm)
    assert list(m.state_dict().keys()) == list(tm.state_dict().keys())
    out, tout = m(x, y), tm(tx, ty)
    _close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    _close(x.grad, tx.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_weight_and_pos_weight_match_torch(reduction):
    torch = _torch()
    rng = np.random.default_rng(1)
    x, tx = _pair(torch, rng.normal(size=(5, 3)) * 3, True)
    y, ty = _pair(torch, rng.uniform(0, 1, (5, 3)))
    w, tw = _pair(torch, rng.uniform(0.5, 2, (3,)))
    pw, tpw = _pair(torch, rng.uniform(0.5, 3, (3,)))
    m = nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction)
    tm = torch.nn.BCEWithLogitsLoss(weight=tw, pos_weight=tpw, reduction=reduction)
    assert list(m.state_dict().keys()) == list(tm.state_dict().keys()) == ["weight", "pos_weight"]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert list(m.parameters()) == []
    out, tout = m(x, y), tm(tx, ty)
    _close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    _close(x.grad, tx.grad)


def test_bce_loss_weight_buffer_matches_torch():
    torch = _torch()
    rng = np.random.default_rng(2)
    x, tx = _pair(torch, rng.uniform(0.1, 0.9, (4, 2)), True)
    y, ty = _pair(torch, rng.uniform(0, 1, (4, 2)))
    w, tw = _pair(torch, rng.uniform(0.5, 2, (2,)))
    m, tm = nn.BCELoss(weight=w), torch.nn.BCELoss(weight=tw)
    assert list(m.state_dict().keys()) == list(tm.state_dict().keys()) == ["weight"]
    out, tout = m(x, y), tm(tx, ty)
    _close(out, tout)
    out.backward()
    tout.backward()
    _close(x.grad, tx.grad)


def test_loss_module_attributes_and_reprs_torch_free():
    assert repr(nn.BCELoss()) == "BCELoss()"
    assert repr(nn.BCEWithLogitsLoss()) == "BCEWithLogitsLoss()"
    assert repr(nn.SmoothL1Loss(beta=0.5)) == "SmoothL1Loss()"
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss()"
    assert nn.SmoothL1Loss().beta == 1.0 and nn.SmoothL1Loss(beta=0.5).beta == 0.5
    assert nn.HuberLoss().delta == 1.0 and nn.HuberLoss(reduction="sum").reduction == "sum"
    m = nn.BCEWithLogitsLoss()
    assert m.weight is None and m.pos_weight is None
    assert list(m.state_dict().keys()) == []
    assert nn.BCELoss(size_average=False).reduction == "sum"


def test_loss_module_literal_values():
    x = ag.tensor([0.0, 2.0, -3.0])
    y = ag.tensor([0.0, 0.0, 0.0])
    # |d| = 0, 2, 3; beta=1: 0, 1.5, 2.5
    assert nn.SmoothL1Loss(reduction="sum")(x, y).item() == pytest.approx(4.0)
    # delta=2: 0, 2, 2*(3-1)=4
    assert nn.HuberLoss(delta=2.0, reduction="sum")(x, y).item() == pytest.approx(6.0)
    p = ag.tensor([0.5, 0.5])
    t = ag.tensor([1.0, 0.0])
    assert nn.BCELoss()(p, t).item() == pytest.approx(math.log(2), rel=1e-6)
    assert nn.BCEWithLogitsLoss()(ag.zeros(2), t).item() == pytest.approx(math.log(2), rel=1e-6)
    # pos_weight 3 triples the positive term: (3 log 2 + log 2) / 2
    out = nn.BCEWithLogitsLoss(pos_weight=ag.tensor([3.0]))(ag.zeros(2), t)
    assert out.item() == pytest.approx(2 * math.log(2), rel=1e-6)


def test_huber_loss_module_bad_delta_matches_torch():
    torch = _torch()
    x = ag.zeros(2)
    with pytest.raises(RuntimeError) as e:
        nn.HuberLoss(delta=0.0)(x, x)
    with pytest.raises(RuntimeError) as te:
        torch.nn.HuberLoss(delta=0.0)(torch.zeros(2), torch.zeros(2))
    assert str(e.value) == str(te.value)


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------

def test_dropout_repr_and_errors_match_torch():
    torch = _torch()
    for kwargs in ({}, {"p": 0.2}, {"p": 0.1, "inplace": True}):
        assert repr(nn.Dropout(**kwargs)) == repr(torch.nn.Dropout(**kwargs))
    with pytest.raises(ValueError) as e:
        nn.Dropout(1.5)
    with pytest.raises(ValueError) as te:
        torch.nn.Dropout(1.5)
    assert str(e.value) == str(te.value)
    assert list(nn.Dropout().state_dict().keys()) == []


def test_dropout_eval_is_identity_and_train_scales():
    ag.manual_seed(0)
    m = nn.Dropout(0.25)
    assert repr(m) == "Dropout(p=0.25, inplace=False)"
    x = ag.ones(1000, requires_grad=True)
    m.eval()
    out = m(x)
    np.testing.assert_array_equal(out.detach().numpy(), np.ones(1000, dtype=np.float32))
    m.train()
    out = m(x)
    vals = out.detach().numpy()
    assert set(np.unique(vals).tolist()) <= {0.0, np.float32(1 / 0.75)}
    assert 150 < int((vals == 0).sum()) < 350
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), vals)      # gradient is the same mask * scale
    assert nn.Dropout(0.0)(x) is x or np.array_equal(nn.Dropout(0.0)(x).detach().numpy(), np.ones(1000))
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).detach().numpy(), np.zeros(1000))


def test_dropout_inplace():
    m = nn.Dropout(0.5, inplace=True)
    x = ag.ones(100)
    out = m(x)
    assert out is x
    assert set(np.unique(x.numpy()).tolist()) <= {0.0, 2.0}


# ---------------------------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("padding_idx", [None, 0, 2, -1])
def test_embedding_matches_torch(padding_idx):
    torch = _torch()
    m = nn.Embedding(5, 3, padding_idx=padding_idx)
    tm = torch.nn.Embedding(5, 3, padding_idx=padding_idx)
    assert repr(m) == repr(tm)
    assert m.padding_idx == tm.padding_idx
    assert list(m.state_dict().keys()) == list(tm.state_dict().keys()) == ["weight"]
    assert tuple(m.weight.shape) == tuple(tm.weight.shape)
    assert m.weight.requires_grad and m.weight.dtype == ag.float32
    if padding_idx is not None:
        np.testing.assert_array_equal(m.weight.detach().numpy()[m.padding_idx], np.zeros(3))
    # same weights, same forward and backward
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(m.weight.detach().numpy()))
    idx = [[0, 2, 4], [4, 1, 2]]
    out = m(ag.tensor(idx))
    tout = tm(torch.tensor(idx))
    _close(out, tout)
    g = np.arange(18, dtype=np.float32).reshape(2, 3, 3)
    out.backward(ag.tensor(g))
    tout.backward(torch.tensor(g))
    _close(m.weight.grad, tm.weight.grad)


def test_embedding_init_statistics_and_errors():
    ag.manual_seed(0)
    w = nn.Embedding(2000, 10).weight.detach().numpy()
    assert abs(w.mean()) < 0.02
    assert abs(w.std() - 1.0) < 0.02
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 3, padding_idx=5)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 3, padding_idx=-6)
    assert repr(nn.Embedding(10, 4)) == "Embedding(10, 4)"
    assert repr(nn.Embedding(10, 4, padding_idx=-2)) == "Embedding(10, 4, padding_idx=8)"


def test_embedding_padding_row_gets_no_gradient():
    m = nn.Embedding(4, 2, padding_idx=1)
    out = m(ag.tensor([1, 1, 3]))
    np.testing.assert_array_equal(out.detach().numpy()[:2], np.zeros((2, 2)))
    out.sum().backward()
    np.testing.assert_array_equal(m.weight.grad.numpy(),
                                  np.array([[0, 0], [0, 0], [0, 0], [1, 1]], dtype=np.float32))


# ---------------------------------------------------------------------------------------------
# layer_norm and LayerNorm
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,normalized", [((2, 4), (4,)), ((2, 3, 4), (3, 4)), ((5,), 5),
                                              ((2, 3, 4), [4])])
@pytest.mark.parametrize("affine", [False, True])
def test_functional_layer_norm_matches_torch(shape, normalized, affine):
    torch = _torch()
    rng = np.random.default_rng(3)
    x, tx = _pair(torch, rng.normal(size=shape) * 3 + 1, True)
    nshape = (normalized,) if isinstance(normalized, int) else tuple(normalized)
    if affine:
        w, tw = _pair(torch, rng.normal(size=nshape), True)
        b, tb = _pair(torch, rng.normal(size=nshape), True)
    else:
        w = b = tw = tb = None
    out = F.layer_norm(x, normalized, w, b, eps=1e-3)
    tout = torch.nn.functional.layer_norm(tx, nshape, tw, tb, eps=1e-3)
    _close(out, tout, atol=1e-5)
    g = rng.normal(size=shape)
    out.backward(ag.tensor(g))
    tout.backward(torch.tensor(g))
    _close(x.grad, tx.grad, atol=1e-5, rtol=1e-4)
    if affine:
        _close(w.grad, tw.grad, atol=1e-5, rtol=1e-4)
        _close(b.grad, tb.grad, atol=1e-5, rtol=1e-4)


def test_functional_layer_norm_shape_error_matches_torch():
    torch = _torch()
    with pytest.raises(RuntimeError) as e:
        F.layer_norm(ag.zeros(2, 3), (4,))
    with pytest.raises(RuntimeError) as te:
        torch.nn.functional.layer_norm(torch.zeros(2, 3), (4,))
    assert str(e.value) == str(te.value)


@pytest.mark.parametrize("kwargs", [{}, {"eps": 1e-3}, {"elementwise_affine": False},
                                    {"bias": False}])
@pytest.mark.parametrize("normalized", [4, (3, 4), [4]])
def test_layer_norm_module_matches_torch(kwargs, normalized):
    torch = _torch()
    m = nn.LayerNorm(normalized, **kwargs)
    tm = torch.nn.LayerNorm(normalized, **kwargs)
    assert repr(m) == repr(tm)
    assert m.normalized_shape == tm.normalized_shape
    assert list(m.state_dict().keys()) == list(tm.state_dict().keys())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), tm.state_dict()[k].numpy())
    rng = np.random.default_rng(4)
    x, tx = _pair(torch, rng.normal(size=(2, 3, 4)).astype(np.float32), True)
    if m.weight is not None:
        # move the affine parameters off their initial values
        wv = rng.normal(size=m.weight.shape).astype(np.float32)
        m.weight.data = ag.tensor(wv)
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(wv))
    out, tout = m(x), tm(tx)
    _close(out, tout, atol=1e-5)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    _close(x.grad, tx.grad, atol=1e-4, rtol=1e-4)
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        _close(p.grad, tp.grad, atol=1e-4, rtol=1e-4)


def test_layer_norm_literal_values():
    m = nn.LayerNorm(2)
    assert repr(m) == "LayerNorm((2,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(nn.LayerNorm([2, 3], elementwise_affine=False)) == \
        "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False, bias=False)"
    np.testing.assert_array_equal(m.weight.detach().numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(m.bias.detach().numpy(), [0.0, 0.0])
    out = nn.LayerNorm(2, eps=0.0)(ag.tensor([[1.0, 3.0], [-2.0, 2.0]]))
    np.testing.assert_allclose(out.detach().numpy(), [[-1.0, 1.0], [-1.0, 1.0]], rtol=1e-6)
    assert list(nn.LayerNorm(3, bias=False).state_dict().keys()) == ["weight"]
    assert nn.LayerNorm(3, elementwise_affine=False).weight is None


def test_gradcheck_layer_norm():
    ag.manual_seed(0)
    x = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    w = ag.randn(4, dtype=ag.float64, requires_grad=True)
    b = ag.randn(4, dtype=ag.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (4,), w, b), (x, w, b))
    y = ag.randn(2, 3, 2, dtype=ag.float64, requires_grad=True)
    assert gradcheck(lambda y: F.layer_norm(y, (3, 2), eps=1e-3), (y,))


# ---------------------------------------------------------------------------------------------
# nn.utils
# ---------------------------------------------------------------------------------------------

def test_utils_is_an_attribute_after_import():
    import autograd_c
    assert autograd_c.nn.utils.clip_grad_norm_ is nn.utils.clip_grad_norm_
    for name in ("clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
                 "vector_to_parameters"):
        assert callable(getattr(autograd_c.nn.utils, name))


def _grads_pair(torch, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2)]
    arrays = [rng.normal(size=s).astype(np.float32) * scale for s in shapes]
    grads = [rng.normal(size=s).astype(np.float32) * scale for s in shapes]
    ps, tps = [], []
    for a, g in zip(arrays, grads):
        p = nn.Parameter(ag.tensor(a))
        p.grad = ag.tensor(g)
        tp = torch.nn.Parameter(torch.tensor(a))
        tp.grad = torch.tensor(g)
        ps.append(p)
        tps.append(tp)
    return ps, tps


@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1), (0.5, 3.0),
                                                (0.2, math.inf), (2, "inf")])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    torch = _torch()
    ps, tps = _grads_pair(torch, 5)
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    assert isinstance(total, ag.Tensor)
    assert total.dim() == 0 and total.dtype == ag.float32
    _close(total, ttotal)
    for p, tp in zip(ps, tps):
        _close(p.grad, tp.grad)


def test_clip_grad_norm_single_tensor_none_grads_and_generator():
    torch = _torch()
    ps, tps = _grads_pair(torch, 6)
    ps[1].grad = None
    tps[1].grad = None
    total = nn.utils.clip_grad_norm_(iter(ps), 0.7)
    ttotal = torch.nn.utils.clip_grad_norm_(iter(tps), 0.7)
    _close(total, ttotal)
    assert ps[1].grad is None
    for p, tp in zip(ps, tps):
        if tp.grad is not None:
            _close(p.grad, tp.grad)
    total = nn.utils.clip_grad_norm_(ps[0], 0.1)
    ttotal = torch.nn.utils.clip_grad_norm_(tps[0], 0.1)
    _close(total, ttotal)
    _close(ps[0].grad, tps[0].grad)


def test_clip_grad_norm_nonfinite_matches_torch():
    torch = _torch()
    ps, tps = _grads_pair(torch, 7)
    ps[0].grad[0, 0] = float("inf")
    tps[0].grad[0, 0] = float("inf")
    with pytest.raises(RuntimeError) as e:
        nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as te:
        torch.nn.utils.clip_grad_norm_(tps, 1.0, error_if_nonfinite=True)
    assert str(e.value) == str(te.value)
    total = nn.utils.clip_grad_norm_(ps, 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 1.0)
    assert math.isinf(total.item()) and math.isinf(ttotal.item())
    np.testing.assert_array_equal(ps[1].grad.numpy(), tps[1].grad.numpy())


def test_clip_grad_norm_literal():
    p = nn.Parameter(ag.zeros(2))
    p.grad = ag.tensor([3.0, 4.0])
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    # below max_norm: the coefficient is clamped to 1, gradients unchanged
    p.grad = ag.tensor([0.3, 0.4])
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == pytest.approx(0.5)
    np.testing.assert_array_equal(p.grad.numpy(), np.array([0.3, 0.4], dtype=np.float32))
    q = nn.Parameter(ag.zeros(2))
    assert nn.utils.clip_grad_norm_([q], 1.0).item() == 0.0


def test_clip_grad_value_matches_torch():
    torch = _torch()
    ps, tps = _grads_pair(torch, 8)
    assert nn.utils.clip_grad_value_(ps, 0.5) is None
    torch.nn.utils.clip_grad_value_(tps, 0.5)
    for p, tp in zip(ps, tps):
        _close(p.grad, tp.grad)
    p = nn.Parameter(ag.zeros(3))
    p.grad = ag.tensor([-2.0, 0.1, 3.0])
    nn.utils.clip_grad_value_(p, 1)
    np.testing.assert_allclose(p.grad.numpy(), [-1.0, 0.1, 1.0], rtol=1e-6)


def test_parameters_to_vector_and_back_match_torch():
    torch = _torch()
    ag.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 2), nn.LayerNorm(2))
    tm = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    vec = nn.utils.parameters_to_vector(m.parameters())
    tvec = torch.nn.utils.parameters_to_vector(tm.parameters())
    assert tuple(vec.shape) == tuple(tvec.shape) == (12,)
    _close(vec, tvec)
    # differentiable
    (vec * ag.arange(12, dtype=ag.float32)).sum().backward()
    (tvec * torch.arange(12, dtype=torch.float32)).sum().backward()
    for p, tp in zip(m.parameters(), tm.parameters()):
        _close(p.grad, tp.grad)
    new = np.linspace(-1, 1, 12).astype(np.float32)
    assert nn.utils.vector_to_parameters(ag.tensor(new), m.parameters()) is None
    torch.nn.utils.vector_to_parameters(torch.tensor(new), tm.parameters())
    for p, tp in zip(m.parameters(), tm.parameters()):
        _close(p, tp)
        assert isinstance(p, nn.Parameter) and p.requires_grad
    with pytest.raises(TypeError) as e:
        nn.utils.vector_to_parameters([1.0], m.parameters())
    with pytest.raises(TypeError) as te:
        torch.nn.utils.vector_to_parameters([1.0], tm.parameters())
    assert str(e.value) == str(te.value)


def test_parameters_to_vector_literal():
    a = nn.Parameter(ag.tensor([[1.0, 2.0], [3.0, 4.0]]))
    b = nn.Parameter(ag.tensor([5.0]))
    np.testing.assert_array_equal(nn.utils.parameters_to_vector([a, b]).detach().numpy(),
                                  [1, 2, 3, 4, 5])
    nn.utils.vector_to_parameters(ag.tensor([9.0, 8.0, 7.0, 6.0, 5.0]), [a, b])
    np.testing.assert_array_equal(a.detach().numpy(), [[9, 8], [7, 6]])
    np.testing.assert_array_equal(b.detach().numpy(), [5])
