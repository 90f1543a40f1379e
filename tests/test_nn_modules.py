"""autograd_c.nn: Module registration, containers, Linear, activations, init, state_dict, hooks.

Tests that compare with torch import it inside the test, so the rest run without torch.
"""
import copy
import math
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import autograd_c as ag
import autograd_c.nn  # noqa: F401  (autograd_c/__init__ does not import nn)

nn = ag.nn


def _torch():
    return pytest.importorskip("torch")


def _lib(m):
    """The package (autograd_c or torch) that the nn module m belongs to."""
    if m is nn:
        return ag
    import torch
    return torch


def _mlp(m):
    """The same nested model built from torch.nn or autograd_c.nn."""
    lib = _lib(m)

    class Block(m.Module):
        def __init__(self):
            super().__init__()
            self.fc = m.Linear(4, 5)
            self.act = m.Tanh()
            self.register_buffer("running", lib.zeros(3))
            self.register_buffer("scratch", lib.zeros(1), persistent=False)

        def forward(self, x):
            return self.act(self.fc(x))

    class Net(m.Module):
        def __init__(self):
            super().__init__()
            self.inp = m.Linear(3, 4)
            self.blocks = m.ModuleList([Block(), Block()])
            self.heads = m.ModuleDict({"a": m.Linear(5, 2), "b": m.Sequential(m.ReLU(),
                                                                              m.Linear(5, 1))})
            self.scale = m.Parameter(lib.ones(1))
            self.out = m.Sequential(m.Linear(2, 2, bias=False), m.LeakyReLU(0.2),
                                    m.Softmax(dim=1))

        def forward(self, x):
            return x

    return Net()


# -- Parameter ----------------------------------------------------------------------------------

def test_parameter_basics_and_backward():
    p = nn.Parameter(ag.tensor([1.0, 2.0, 3.0]))
    assert isinstance(p, nn.Parameter) and isinstance(p, ag.Tensor)
    assert p.requires_grad and p.is_leaf and p.grad is None
    y = p * 2
    assert type(y) is ag.Tensor
    (y * p).sum().backward()
    assert type(p.grad) is ag.Tensor
    np.testing.assert_allclose(p.grad.numpy(), [4.0, 8.0, 12.0])
    (p * 1).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [5.0, 9.0, 13.0])
    q = nn.Parameter(ag.zeros(2), requires_grad=False)
    assert not q.requires_grad
    e = nn.Parameter()
    assert e.shape == (0,) and e.dtype == ag.float32 and e.requires_grad


def test_parameter_shares_storage():
    t = ag.zeros(3)
    p = nn.Parameter(t)
    t[0] = 5.0
    assert p[0].item() == 5.0


def test_parameter_copy_and_pickle():
    p = nn.Parameter(ag.tensor([1.0, 2.0]))
    (p * p).sum().backward()
    d = copy.deepcopy(p)
    assert type(d) is nn.Parameter and d.requires_grad
    np.testing.assert_allclose(d.detach().numpy(), [1.0, 2.0])
    np.testing.assert_allclose(d.grad.numpy(), [2.0, 4.0])
    d.data.fill_(0)
    assert p[0].item() == 1.0
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is nn.Parameter and r.requires_grad
    np.testing.assert_allclose(r.detach().numpy(), [1.0, 2.0])
    r2 = pickle.loads(pickle.dumps(nn.Parameter(ag.ones(1), requires_grad=False)))
    assert not r2.requires_grad


def test_parameter_repr_matches_torch():
    torch = _torch()
    data = [[1.0, -2.5], [3.25, 4.0]]
    assert repr(nn.Parameter(ag.tensor(data))) == repr(torch.nn.Parameter(torch.tensor(data)))
    assert (repr(nn.Parameter(ag.tensor([1.0]), requires_grad=False))
            == repr(torch.nn.Parameter(torch.tensor([1.0]), requires_grad=False)))


# -- registration -------------------------------------------------------------------------------

def test_named_parameters_and_modules_match_torch():
    torch = _torch()
    ours, theirs = _mlp(nn), _mlp(torch.nn)
    assert ([n for n, _ in ours.named_parameters()]
            == [n for n, _ in theirs.named_parameters()])
    assert ([(n, tuple(p.shape)) for n, p in ours.named_parameters()]
            == [(n, tuple(p.shape)) for n, p in theirs.named_parameters()])
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert ([n for n, _ in ours.named_parameters(prefix="m", recurse=False)]
            == [n for n, _ in theirs.named_parameters(prefix="m", recurse=False)])
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert ([type(m).__name__ for m in ours.modules()]
            == [type(m).__name__ for m in theirs.modules()])


def test_shared_parameters_not_duplicated():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4


def test_setattr_getattr_delattr():
    m = nn.Module()
    m.w = nn.Parameter(ag.ones(2))
    m.sub = nn.Linear(2, 2)
    m.register_buffer("buf", ag.zeros(2))
    m.register_buffer("tmp", ag.zeros(1), persistent=False)
    m.plain = 3
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"]
    assert list(m._buffers) == ["buf", "tmp"]
    assert m.w is m._parameters["w"] and m.sub is m._modules["sub"] and m.plain == 3
    assert [n for n, _ in m.named_buffers()] == ["buf", "tmp"]
    assert list(m.state_dict()) == ["w", "buf", "sub.weight", "sub.bias"]
    with pytest.raises(TypeError, match="cannot assign"):
        m.w = ag.ones(2)
    m.w = None
    assert m.w is None and [n for n, _ in m.named_parameters()] == ["sub.weight", "sub.bias"]
    del m.sub
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        m.sub
    del m.buf
    assert list(m._buffers) == ["tmp"]
    m.register_parameter("q", nn.Parameter(ag.ones(1)))
    m.add_module("lin", nn.Linear(1, 1))
    m.register_module("lin2", nn.Identity())
    assert list(m._modules) == ["lin", "lin2"]
    with pytest.raises(KeyError):
        m.register_buffer("a.b", ag.ones(1))
    with pytest.raises(TypeError):
        m.register_parameter("r", ag.ones(1))


def test_get_submodule():
    seq = nn.Sequential(nn.Linear(1, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 3)))
    assert seq.get_submodule("1.1") is seq[1][1]
    assert seq.get_submodule("") is seq
    with pytest.raises(AttributeError, match="has no attribute `9`"):
        seq.get_submodule("1.9")
    assert seq.get_parameter("1.1.bias") is seq[1][1].bias


# -- reprs --------------------------------------------------------------------------------------

def _repr_pairs(m):
    return [
        m.Sequential(m.Linear(784, 256), m.ReLU(), m.Linear(256, 10)),
        m.Linear(3, 4, bias=False),
        m.ReLU(inplace=True), m.LeakyReLU(), m.LeakyReLU(0.2), m.Tanh(), m.Sigmoid(),
        m.Softmax(dim=1), m.LogSoftmax(dim=-1), m.Softmax(), m.Identity(), m.Flatten(),
        m.GELU(), m.GELU(approximate="tanh"), m.SiLU(),
        m.MSELoss(), m.L1Loss(), m.CrossEntropyLoss(), m.NLLLoss(),
        m.ModuleList([m.Linear(2, 2), m.Linear(2, 2), m.ReLU(), m.Linear(2, 2)]),
        m.ModuleList(),
        m.ModuleDict({"x": m.Tanh(), "y": m.Sequential(m.Linear(1, 1), m.Sigmoid())}),
        m.Sequential(),
        _mlp(m),
    ]


def test_reprs_match_torch():
    torch = _torch()
    for ours, theirs in zip(_repr_pairs(nn), _repr_pairs(torch.nn)):
        assert repr(ours) == repr(theirs)
        assert "torch." not in repr(theirs)


def test_repr_without_torch():
    assert repr(nn.Sequential(nn.Linear(784, 256), nn.ReLU())) == (
        "Sequential(\n  (0): Linear(in_features=784, out_features=256, bias=True)\n"
        "  (1): ReLU()\n)")
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"

    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.child = nn.Tanh()

        def extra_repr(self):
            return "k=1"

    assert repr(WithExtra()) == "WithExtra(\n  k=1\n  (child): Tanh()\n)"


# -- Linear -------------------------------------------------------------------------------------

@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_backward_matches_torch(bias):
    torch = _torch()
    tl = torch.nn.Linear(5, 3, bias=bias)
    ol = nn.Linear(5, 3, bias=bias)
    with ag.no_grad():
        ol.weight.copy_(ag.tensor(tl.weight.detach().numpy()))
        if bias:
            ol.bias.copy_(ag.tensor(tl.bias.detach().numpy()))
    xn = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    tx = torch.tensor(xn, requires_grad=True)
    ox = ag.tensor(xn, requires_grad=True)
    ty, oy = tl(tx), ol(ox)
    np.testing.assert_allclose(oy.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    (ty ** 2).sum().backward()
    (oy ** 2).sum().backward()
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ol.weight.grad.numpy(), tl.weight.grad.numpy(),
                               rtol=1e-5, atol=1e-5)
    if bias:
        np.testing.assert_allclose(ol.bias.grad.numpy(), tl.bias.grad.numpy(),
                                   rtol=1e-5, atol=1e-5)
    else:
        assert ol.bias is None and list(ol.state_dict()) == ["weight"]


def test_linear_batched_and_1d_input():
    lin = nn.Linear(3, 2)
    assert lin(ag.randn(2, 4, 3)).shape == (2, 4, 2)
    assert lin(ag.randn(3)).shape == (2,)
    assert lin.weight.dtype == ag.float32
    assert nn.Linear(3, 2, dtype=ag.float64).weight.dtype == ag.float64


def test_linear_default_init_bounds():
    ag.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)   # kaiming_uniform_(a=sqrt(5)) gives 1/sqrt(fan_in) too
    w = lin.weight.detach().numpy()
    b = lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.mean()) < 0.01 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound


def test_init_functions():
    ag.manual_seed(1)
    t = ag.empty(200, 300)
    nn.init.xavier_uniform_(t)
    a = math.sqrt(6.0 / 500)
    assert np.abs(t.numpy()).max() <= a and np.abs(t.numpy()).max() > 0.98 * a
    nn.init.xavier_normal_(t, gain=2.0)
    assert abs(t.numpy().std() - 2.0 * math.sqrt(2.0 / 500)) < 0.01
    nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(t.numpy().std() - math.sqrt(2.0 / 200)) < 0.005
    nn.init.kaiming_uniform_(t, nonlinearity="relu")
    assert np.abs(t.numpy()).max() <= math.sqrt(6.0 / 300)
    nn.init.normal_(t, 3.0, 0.5)
    assert abs(t.numpy().mean() - 3.0) < 0.01 and abs(t.numpy().std() - 0.5) < 0.01
    nn.init.uniform_(t, -2, -1)
    assert t.numpy().min() >= -2 and t.numpy().max() <= -1
    nn.init.constant_(t, 0.25)
    assert (t.numpy() == 0.25).all()
    nn.init.zeros_(t)
    assert (t.numpy() == 0).all()
    nn.init.ones_(t)
    assert (t.numpy() == 1).all()
    p = nn.Parameter(ag.empty(3, 3))
    out = nn.init.kaiming_uniform_(p)
    assert out is p and p.is_leaf and p.grad_fn is None
    assert nn.init._calculate_fan_in_and_fan_out(ag.empty(4, 3, 5, 2)) == (30, 40)
    with pytest.raises(ValueError):
        nn.init._calculate_fan_in_and_fan_out(ag.empty(3))


def test_init_gains_match_torch():
    torch = _torch()
    for nl, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                      ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
                      ("conv2d", None), ("leaky_relu", math.sqrt(5))]:
        assert nn.init.calculate_gain(nl, param) == torch.nn.init.calculate_gain(nl, param)
    for shape in [(3, 4), (5, 2, 3), (2, 3, 4, 5)]:
        assert (nn.init._calculate_fan_in_and_fan_out(ag.empty(*shape))
                == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape)))


# -- activations, containers ---------------------------------------------------------------------

def test_activations_match_torch():
    torch = _torch()
    xn = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    for name, args in [("ReLU", ()), ("LeakyReLU", (0.1,)), ("Tanh", ()), ("Sigmoid", ()),
                       ("Softmax", (1,)), ("LogSoftmax", (0,)), ("Identity", ()),
                       ("Flatten", (0,)), ("GELU", ()), ("SiLU", ())]:
        ox = ag.tensor(xn, requires_grad=True)
        tx = torch.tensor(xn, requires_grad=True)
        oy = getattr(nn, name)(*args)(ox)
        ty = getattr(torch.nn, name)(*args)(tx)
        np.testing.assert_allclose(oy.detach().numpy(), ty.detach().numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=name)
        g = np.arange(oy.numel(), dtype=np.float32).reshape(tuple(oy.shape))
        (oy * ag.tensor(g)).sum().backward()
        (ty * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)


def test_sequential_container():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert list(sub._modules) == ["1", "2"]
    assert seq(ag.ones(4, 2)).shape == (4, 1)
    d = nn.Tanh()
    seq.append(d)
    assert seq[3] is d and len(seq) == 4
    e = nn.Sigmoid()
    seq.insert(1, e)
    assert list(seq) == [a, e, b, c, d] and list(seq._modules) == ["0", "1", "2", "3", "4"]
    seq.extend([nn.Identity()])
    assert len(seq) == 6
    del seq[1]
    assert list(seq)[:2] == [a, b] and list(seq._modules) == [str(i) for i in range(5)]
    with pytest.raises(IndexError):
        seq[10]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(1, 1)), ("act", nn.ReLU())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    assert named.act is named[1]


def test_modulelist_and_moduledict():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh(), nn.Sigmoid()])
    ml.insert(0, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "ReLU", "Tanh", "Sigmoid"]
    assert len(ml) == 5 and isinstance(ml[-1], nn.Sigmoid)
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias"]
    md = nn.ModuleDict({"a": nn.Linear(1, 2)})
    md["b"] = nn.ReLU()
    md.update([("c", nn.Tanh())])
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert list(md) == ["a", "b", "c"] and isinstance(md["c"], nn.Tanh)
    assert [k for k, _ in md.items()] == ["a", "b", "c"]
    popped = md.pop("b")
    assert isinstance(popped, nn.ReLU) and list(md.keys()) == ["a", "c"]


# -- state_dict ---------------------------------------------------------------------------------

def test_state_dict_keys_match_torch_and_round_trip():
    torch = _torch()
    ours, theirs = _mlp(nn), _mlp(torch.nn)
    sd = ours.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == list(theirs.state_dict())
    for k, v in sd.items():
        assert type(v) is ag.Tensor and not v.requires_grad
    other = _mlp(nn)
    result = other.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (n1, p1), (n2, p2) in zip(ours.named_parameters(), other.named_parameters()):
        assert n1 == n2 and p1 is not p2
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())
    # state_dict entries share storage with the parameters, as in torch
    with ag.no_grad():
        ours.inp.weight.fill_(7.0)
    assert (sd["inp.weight"].numpy() == 7.0).all()
    # loading from torch's state_dict (converted) works too
    tsd = {k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(tsd)
    np.testing.assert_array_equal(ours.inp.weight.detach().numpy(),
                                  theirs.inp.weight.detach().numpy())


def test_buffers_in_state_dict():
    m = nn.Linear(2, 2)
    m.register_buffer("count", ag.zeros(1))
    m.register_buffer("scratch", ag.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["weight", "bias", "count"]
    m2 = nn.Linear(2, 2)
    m2.register_buffer("count", ag.ones(1))
    m2.register_buffer("scratch", ag.ones(1), persistent=False)
    m2.load_state_dict(m.state_dict())
    assert m2.count.item() == 0.0 and m2.scratch.item() == 1.0


def _load_errors(m, lin, seq, Sequential, tensor):
    out = []
    cases = [
        (lin, {"weight": tensor(np.zeros((3, 2), np.float32))}, True),
        (lin, {"weight": tensor(np.zeros((3, 2), np.float32)),
               "bias": tensor(np.zeros(3, np.float32)),
               "extra": tensor(np.zeros(1, np.float32))}, True),
        (lin, {"weight": tensor(np.zeros((3, 2), np.float32)),
               "extra": tensor(np.zeros(1, np.float32)),
               "bias.x": tensor(np.zeros(1, np.float32))}, True),
        (seq, {"0.weight": tensor(np.zeros((3, 2), np.float32)),
               "0.bias": tensor(np.zeros(3, np.float32)),
               "1.weight": tensor(np.zeros(1, np.float32)),
               "0": tensor(np.zeros(1, np.float32))}, True),
        (seq, {}, True),
    ]
    for module, sd, strict in cases:
        try:
            module.load_state_dict(sd, strict=strict)
            out.append(None)
        except RuntimeError as e:
            out.append(str(e))
    r = lin.load_state_dict({"weight": tensor(np.zeros((3, 2), np.float32)),
                             "extra": tensor(np.zeros(1, np.float32))}, strict=False)
    out.append((list(r.missing_keys), list(r.unexpected_keys), r._fields))
    return out


def test_load_state_dict_errors_match_torch():
    torch = _torch()
    ours = _load_errors(nn, nn.Linear(2, 3), nn.Sequential(nn.Linear(2, 3), nn.ReLU()),
                        nn.Sequential, ag.tensor)
    theirs = _load_errors(torch.nn, torch.nn.Linear(2, 3),
                          torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()),
                          torch.nn.Sequential, torch.tensor)
    assert ours == theirs


def test_load_state_dict_error_text_without_torch():
    lin = nn.Linear(2, 3)
    with pytest.raises(RuntimeError) as info:
        lin.load_state_dict({"weight": ag.zeros(3, 2)})
    assert str(info.value) == ('Error(s) in loading state_dict for Linear:\n\t'
                               'Missing key(s) in state_dict: "bias". ')
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        lin.load_state_dict({"weight": ag.zeros(2, 2), "bias": ag.zeros(3)})
    missing, unexpected = lin.load_state_dict({"bias": ag.ones(3), "junk": ag.ones(1)},
                                              strict=False)
    assert missing == ["weight"] and unexpected == ["junk"]
    assert (lin.bias.detach().numpy() == 1).all()


# -- modes, grads, conversion ------------------------------------------------------------------

def test_train_eval_propagate():
    model = _mlp(nn)
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.blocks.train()
    assert model.blocks[0].fc.training and not model.inp.training and not model.training
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError):
        model.train("yes")


def test_zero_grad_semantics():
    lin = nn.Linear(3, 2)
    lin(ag.ones(1, 3)).sum().backward()
    assert lin.weight.grad is not None
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None
    lin(ag.ones(1, 3)).sum().backward()
    g = lin.weight.grad
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is g and (g.numpy() == 0).all()
    lin(ag.ones(1, 3)).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), np.ones((2, 3)))


def test_requires_grad_apply_and_dtype_conversion():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential"]
    w = model[0].weight
    assert model.double() is model
    assert model[0].weight is w and w.dtype == ag.float64 and type(w) is nn.Parameter
    assert w.requires_grad and w.is_leaf
    out = model(ag.ones(4, 2, dtype=ag.float64))
    assert out.dtype == ag.float64
    out.sum().backward()
    assert w.grad.dtype == ag.float64
    model.float()
    assert model[0].weight is w and w.dtype == ag.float32 and w.grad.dtype == ag.float32
    model.to(ag.float64)
    assert w.dtype == ag.float64
    model.to("cpu")
    assert w.dtype == ag.float64


# -- hooks --------------------------------------------------------------------------------------

def test_forward_hooks_order_and_removal():
    calls = []
    lin = nn.Linear(2, 2)
    h1 = lin.register_forward_pre_hook(lambda m, args: calls.append(("pre1", len(args))))
    h2 = lin.register_forward_pre_hook(lambda m, args: calls.append("pre2"))
    h3 = lin.register_forward_hook(lambda m, args, out: calls.append(("post", tuple(out.shape))))
    x = ag.ones(3, 2)
    lin(x)
    assert calls == [("pre1", 1), "pre2", ("post", (3, 2))]
    h1.remove()
    h3.remove()
    calls.clear()
    lin(x)
    assert calls == ["pre2"]
    h2.remove()
    h2.remove()   # removing twice is harmless
    calls.clear()
    lin(x)
    assert calls == []


def test_hooks_can_replace_input_and_output():
    ident = nn.Identity()
    ident.register_forward_pre_hook(lambda m, args: args[0] * 2)
    h = ident.register_forward_hook(lambda m, args, out: out + 1)
    assert ident(ag.tensor([1.0])).item() == 3.0
    h.remove()
    ident.register_forward_pre_hook(lambda m, args: (args[0] * 10,))
    assert ident(ag.tensor([1.0])).item() == 20.0


def test_hooks_match_torch_call_order():
    torch = _torch()

    def run(m):
        calls = []
        seq = m.Sequential(m.Linear(2, 2), m.ReLU())
        seq.register_forward_pre_hook(lambda mod, a: calls.append("seq-pre"))
        seq.register_forward_hook(lambda mod, a, o: calls.append("seq-post"))
        seq[0].register_forward_hook(lambda mod, a, o: calls.append("lin-post"))
        seq[1].register_forward_pre_hook(lambda mod, a: calls.append("relu-pre"))
        seq(_lib(m).ones(1, 2))
        return calls

    assert run(torch.nn) == ["seq-pre", "lin-post", "relu-pre", "seq-post"]
    assert run(nn) == run(torch.nn)


# -- losses -------------------------------------------------------------------------------------

def test_loss_modules_match_torch():
    torch = _torch()
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 4)).astype(np.float32)
    target = rng.integers(0, 4, 5)
    y = rng.standard_normal((5, 4)).astype(np.float32)
    w = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    cases = [
        ("MSELoss", {}, logits, y), ("MSELoss", {"reduction": "sum"}, logits, y),
        ("L1Loss", {}, logits, y), ("L1Loss", {"reduction": "none"}, logits, y),
        ("CrossEntropyLoss", {}, logits, target),
        ("CrossEntropyLoss", {"label_smoothing": 0.1}, logits, target),
        ("CrossEntropyLoss", {"weight": w}, logits, target),
        ("CrossEntropyLoss", {"ignore_index": int(target[0])}, logits, target),
        ("NLLLoss", {}, logits, target), ("NLLLoss", {"reduction": "sum"}, logits, target),
    ]
    for name, kwargs, inp, tgt in cases:
        ok = {k: (ag.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
        tk = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
        oi, ti = ag.tensor(inp, requires_grad=True), torch.tensor(inp, requires_grad=True)
        ol = getattr(nn, name)(**ok)(oi, ag.tensor(tgt))
        tl = getattr(torch.nn, name)(**tk)(ti, torch.tensor(tgt))
        np.testing.assert_allclose(ol.detach().numpy(), tl.detach().numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=name)
        ol.sum().backward()
        tl.sum().backward()
        np.testing.assert_allclose(oi.grad.numpy(), ti.grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)
        assert repr(getattr(nn, name)(**ok)) == repr(getattr(torch.nn, name)(**tk))


def test_loss_weight_is_buffer():
    loss = nn.CrossEntropyLoss(weight=ag.ones(3))
    assert list(loss.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []


# -- end to end ---------------------------------------------------------------------------------

def test_mlp_training_reduces_loss():
    ag.manual_seed(0)
    x = ag.linspace(-2, 2, 64).reshape(64, 1)
    target = (x * 3).sin() * 0.5 + x * 0.3
    model = nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 1))
    loss_fn = nn.MSELoss()

    def loss_value():
        with ag.no_grad():
            return loss_fn(model(x), target).item()

    first = loss_value()
    for _ in range(200):
        model.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        with ag.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert loss_value() < first / 10


def test_inplace_activations():
    x = ag.tensor([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(x) is x and x.tolist() == [0.0, 2.0]
    x = ag.tensor([-1.0, 2.0])
    assert nn.LeakyReLU(0.5, inplace=True)(x) is x and x.tolist() == [-0.5, 2.0]
    a = ag.tensor([-1.0, 2.0], requires_grad=True)
    nn.ReLU(inplace=True)(a * 1).sum().backward()
    assert a.grad.tolist() == [0.0, 1.0]


def test_module_deepcopy_and_pickle():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert repr(clone) == repr(model)
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]
        for p, q in zip(clone.parameters(), model.parameters()):
            assert type(p) is nn.Parameter and p is not q and p.requires_grad
            np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        x = ag.ones(4, 2)
        np.testing.assert_allclose(clone(x).detach().numpy(), model(x).detach().numpy())
