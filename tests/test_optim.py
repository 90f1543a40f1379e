"""autograd_c.optim: update rules, state_dict, param groups and errors against torch 2.13."""
import math
import warnings

import numpy as np
import pytest

import autograd_c
import autograd_c.optim as optim

SHAPES = [(3, 4), (5,), (2, 3, 2)]
STEPS = 20


def _init_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def _grad_seq(seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]


def _ours(arrays):
    return [autograd_c.tensor(a.copy(), requires_grad=True) for a in arrays]


def _theirs(torch, arrays):
    return [torch.tensor(a.copy(), requires_grad=True) for a in arrays]


def _set_grads(params, grads, make):
    for p, g in zip(params, grads):
        p.grad = make(g.copy())


def _close(ours, theirs, rtol=2e-5, atol=2e-6):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


OPT_GRID = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "maximize": True, "weight_decay": 0.1}),
    ("SGD", {}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "maximize": True, "weight_decay": 0.05}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-6, "maximize": True}),
]


def _ids(item):
    name, kw = item
    return name + "-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "defaults")


@pytest.mark.parametrize("case", OPT_GRID, ids=[_ids(c) for c in OPT_GRID])
def test_trajectory_matches_torch_random_grads(case):
    torch = pytest.importorskip("torch")
    name, kw = case
    arrays = _init_arrays()
    ours, theirs = _ours(arrays), _theirs(torch, arrays)
    ids_before = [id(p) for p in ours]
    opt_o = getattr(optim, name)(ours, **kw)
    opt_t = getattr(torch.optim, name)(theirs, **kw)
    for grads in _grad_seq():
        _set_grads(ours, grads, autograd_c.tensor)
        _set_grads(theirs, grads, torch.tensor)
        opt_o.step()
        opt_t.step()
        _close(ours, theirs)
    assert [id(p) for p in ours] == ids_before
    assert all(p.requires_grad and p.is_leaf for p in ours)
    # state layout matches torch's
    sd_o, sd_t = opt_o.state_dict(), opt_t.state_dict()
    assert sorted(sd_o["state"]) == sorted(sd_t["state"])
    for k in sd_t["state"]:
        assert sorted(sd_o["state"][k]) == sorted(sd_t["state"][k])
        for key, v in sd_t["state"][k].items():
            np.testing.assert_allclose(
                np.asarray(sd_o["state"][k][key].numpy()), v.numpy(), rtol=2e-5, atol=2e-6
            )
    assert sd_o["param_groups"] == sd_t["param_groups"]


def _quad_loss_ours(params, targets):
    loss = None
    for p, t in zip(params, targets):
        term = ((p - autograd_c.tensor(t)) ** 2).sum() * 0.5 + (p * p * p).mean() * 0.1
        loss = term if loss is None else loss + term
    return loss


def _quad_loss_theirs(torch, params, targets):
    loss = None
    for p, t in zip(params, targets):
        term = ((p - torch.tensor(t)) ** 2).sum() * 0.5 + (p * p * p).mean() * 0.1
        loss = term if loss is None else loss + term
    return loss


@pytest.mark.parametrize(
    "case",
    [c for c in OPT_GRID if c[1]],
    ids=[_ids(c) for c in OPT_GRID if c[1]],
)
def test_trajectory_matches_torch_loss_grads(case):
    torch = pytest.importorskip("torch")
    name, kw = case
    arrays = _init_arrays(3)
    targets = _init_arrays(4)
    ours, theirs = _ours(arrays), _theirs(torch, arrays)
    opt_o = getattr(optim, name)(ours, **kw)
    opt_t = getattr(torch.optim, name)(theirs, **kw)
    for _ in range(STEPS):
        opt_o.zero_grad()
        opt_t.zero_grad()
        lo = _quad_loss_ours(ours, targets)
        lt = _quad_loss_theirs(torch, theirs, targets)
        np.testing.assert_allclose(lo.item(), lt.item(), rtol=1e-5)
        lo.backward()
        lt.backward()
        opt_o.step()
        opt_t.step()
        _close(ours, theirs, rtol=5e-5, atol=5e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_closure_returns_loss(name):
    torch = pytest.importorskip("torch")
    arrays, targets = _init_arrays(3), _init_arrays(4)
    ours, theirs = _ours(arrays), _theirs(torch, arrays)
    kw = {"lr": 0.05}
    opt_o = getattr(optim, name)(ours, **kw)
    opt_t = getattr(torch.optim, name)(theirs, **kw)

    def closure_o():
        opt_o.zero_grad()
        loss = _quad_loss_ours(ours, targets)
        loss.backward()
        return loss

    def closure_t():
        opt_t.zero_grad()
        loss = _quad_loss_theirs(torch, theirs, targets)
        loss.backward()
        return loss

    for _ in range(5):
        lo = opt_o.step(closure_o)
        lt = opt_t.step(closure_t)
        np.testing.assert_allclose(lo.item(), lt.item(), rtol=1e-5)
        _close(ours, theirs)


@pytest.mark.parametrize("case", [c for c in OPT_GRID if c[1]], ids=[_ids(c) for c in OPT_GRID if c[1]])
def test_state_dict_round_trip_then_continue(case):
    torch = pytest.importorskip("torch")
    name, kw = case
    arrays = _init_arrays()
    grads = _grad_seq()
    ours, theirs = _ours(arrays), _theirs(torch, arrays)
    opt_o = getattr(optim, name)(ours, **kw)
    opt_t = getattr(torch.optim, name)(theirs, **kw)
    for g in grads[:10]:
        _set_grads(ours, g, autograd_c.tensor)
        _set_grads(theirs, g, torch.tensor)
        opt_o.step()
        opt_t.step()
    sd = opt_o.state_dict()
    # a fresh optimizer on copies of the parameters, loaded from the state dict
    ours2 = [autograd_c.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ours]
    opt_o2 = getattr(optim, name)(ours2, lr=12345.0)
    opt_o2.load_state_dict(sd)
    assert opt_o2.param_groups[0]["lr"] == opt_o.param_groups[0]["lr"]
    assert opt_o2.param_groups[0]["params"][0] is ours2[0]
    # loaded tensors are copies: stepping the original does not change the loaded state
    for g in grads[10:]:
        _set_grads(ours, g, autograd_c.tensor)
        _set_grads(ours2, g, autograd_c.tensor)
        _set_grads(theirs, g, torch.tensor)
        opt_o.step()
        opt_o2.step()
        opt_t.step()
        _close(ours, theirs)
        _close(ours2, theirs)


def test_state_dict_layout():
    torch = pytest.importorskip("torch")
    arrays = _init_arrays()
    ours, theirs = _ours(arrays), _theirs(torch, arrays)
    opt_o = optim.SGD([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5}], lr=0.1, momentum=0.9)
    opt_t = torch.optim.SGD([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt_o.state_dict()["state"] == {}
    assert opt_o.state_dict()["param_groups"] == opt_t.state_dict()["param_groups"]
    g = _grad_seq()[0]
    _set_grads(ours, g, autograd_c.tensor)
    _set_grads(theirs, g, torch.tensor)
    ours[1].grad = None
    theirs[1].grad = None
    opt_o.step()
    opt_t.step()
    sd_o, sd_t = opt_o.state_dict(), opt_t.state_dict()
    assert sorted(sd_o["state"]) == sorted(sd_t["state"]) == [0, 2]
    assert sd_o["param_groups"] == sd_t["param_groups"]
    assert sd_o["param_groups"][1]["params"] == [2]


def test_load_state_dict_errors():
    torch = pytest.importorskip("torch")
    arrays = _init_arrays()
    ours, theirs = _ours(arrays), _theirs(torch, arrays)
    o1 = optim.Adam(ours)
    t1 = torch.optim.Adam(theirs)
    o2 = optim.Adam([{"params": ours[:1]}, {"params": ours[1:]}])
    t2 = torch.optim.Adam([{"params": theirs[:1]}, {"params": theirs[1:]}])
    with pytest.raises(ValueError) as eo:
        o1.load_state_dict(o2.state_dict())
    with pytest.raises(ValueError) as et:
        t1.load_state_dict(t2.state_dict())
    assert str(eo.value) == str(et.value)
    o3 = optim.Adam(ours[:2])
    t3 = torch.optim.Adam(theirs[:2])
    with pytest.raises(ValueError) as eo:
        o3.load_state_dict(o1.state_dict())
    with pytest.raises(ValueError) as et:
        t3.load_state_dict(t1.state_dict())
    assert str(eo.value) == str(et.value)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_param_groups_different_lr(name):
    torch = pytest.importorskip("torch")
    arrays = _init_arrays()
    ours, theirs = _ours(arrays), _theirs(torch, arrays)
    extra = {"momentum": 0.5} if name in ("SGD", "RMSprop") else {}
    opt_o = getattr(optim, name)(
        [{"params": ours[:1], "lr": 0.3}, {"params": ours[1:]}], lr=0.01, **extra
    )
    opt_t = getattr(torch.optim, name)(
        [{"params": theirs[:1], "lr": 0.3}, {"params": theirs[1:]}], lr=0.01, **extra
    )
    for i, grads in enumerate(_grad_seq()):
        if i == 5:
            for opt in (opt_o, opt_t):
                opt.param_groups[1]["lr"] = 0.1
        _set_grads(ours, grads, autograd_c.tensor)
        _set_grads(theirs, grads, torch.tensor)
        opt_o.step()
        opt_t.step()
        _close(ours, theirs)


def test_add_param_group_matches_torch():
    torch = pytest.importorskip("torch")
    arrays = _init_arrays()
    ours, theirs = _ours(arrays), _theirs(torch, arrays)
    opt_o = optim.Adam(ours[:2], lr=0.01)
    opt_t = torch.optim.Adam(theirs[:2], lr=0.01)
    grads = _grad_seq()
    for i, g in enumerate(grads):
        if i == 4:
            opt_o.add_param_group({"params": ours[2], "lr": 0.2})
            opt_t.add_param_group({"params": theirs[2], "lr": 0.2})
        _set_grads(ours, g, autograd_c.tensor)
        _set_grads(theirs, g, torch.tensor)
        opt_o.step()
        opt_t.step()
        _close(ours, theirs)
    assert opt_o.state_dict()["param_groups"] == opt_t.state_dict()["param_groups"]


def test_grad_none_params_are_skipped():
    p = autograd_c.tensor([1.0, 2.0], requires_grad=True)
    q = autograd_c.tensor([3.0], requires_grad=True)
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop):
        opt = cls([p, q], lr=0.1)
        q.grad = autograd_c.tensor([1.0])
        opt.step()
        assert p.tolist() == [1.0, 2.0]
        assert p not in opt.state
        assert q.tolist() != [3.0]
        q.data.copy_(autograd_c.tensor([3.0]))
    opt = optim.Adagrad([p, q])
    q.grad = autograd_c.tensor([1.0])
    opt.step()
    assert p.tolist() == [1.0, 2.0]
    assert opt.state[p]["step"].item() == 0.0


def test_zero_grad_semantics():
    p = autograd_c.tensor([1.0, 2.0], requires_grad=True)
    q = autograd_c.tensor([3.0], requires_grad=True)
    opt = optim.SGD([p, q], lr=0.1)
    (p * p).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g
    assert p.grad.tolist() == [0.0, 0.0]
    assert q.grad is None
    opt.zero_grad()
    assert p.grad is None and q.grad is None
    (p * p).sum().backward()
    assert p.grad.tolist() == [2.0, 4.0]


def test_zero_grad_matches_torch():
    torch = pytest.importorskip("torch")
    po = autograd_c.tensor([1.0, 2.0], requires_grad=True)
    pt = torch.tensor([1.0, 2.0], requires_grad=True)
    oo, ot = optim.SGD([po]), torch.optim.SGD([pt])
    for p, o, lib in ((po, oo, autograd_c), (pt, ot, torch)):
        (p * 3).sum().backward()
        o.zero_grad(set_to_none=False)
        assert p.grad.tolist() == [0.0, 0.0]
        assert not p.grad.requires_grad
        o.zero_grad()
        assert p.grad is None


def test_step_does_not_record_graph():
    p = autograd_c.tensor([1.0, -2.0], requires_grad=True)
    for cls in (optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad):
        opt = cls([p], lr=0.1)
        p.grad = autograd_c.tensor([0.5, 0.5])
        opt.step()
        assert p.is_leaf and p.grad_fn is None and p.requires_grad
        for st in opt.state[p].values():
            assert not st.requires_grad


# ---- argument checks ----

BAD_ARGS = [
    ("SGD", {"lr": -1}),
    ("SGD", {"momentum": -0.5}),
    ("SGD", {"weight_decay": -1e-3}),
    ("SGD", {"nesterov": True}),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
    ("Adam", {"lr": -1}),
    ("Adam", {"eps": -1.0}),
    ("Adam", {"betas": (1.0, 0.999)}),
    ("Adam", {"betas": (0.9, -0.1)}),
    ("Adam", {"weight_decay": -1}),
    ("AdamW", {"lr": -0.5}),
    ("AdamW", {"betas": (0.9, 1.5)}),
    ("RMSprop", {"lr": -1}),
    ("RMSprop", {"eps": -1}),
    ("RMSprop", {"momentum": -1}),
    ("RMSprop", {"weight_decay": -1}),
    ("RMSprop", {"alpha": -1}),
    ("Adagrad", {"lr": -1}),
    ("Adagrad", {"lr_decay": -1}),
    ("Adagrad", {"weight_decay": -1}),
    ("Adagrad", {"initial_accumulator_value": -1}),
    ("Adagrad", {"eps": -1}),
]


@pytest.mark.parametrize("case", BAD_ARGS, ids=[_ids(c) for c in BAD_ARGS])
def test_validation_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    name, kw = case
    with pytest.raises(ValueError) as eo:
        getattr(optim, name)([autograd_c.zeros(2, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as et:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw)
    assert str(eo.value) == str(et.value)


def test_validation_error_texts():
    with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
        optim.SGD([autograd_c.zeros(2, requires_grad=True)], lr=-1)
    with pytest.raises(ValueError, match="^Nesterov momentum requires a momentum and zero dampening$"):
        optim.SGD([autograd_c.zeros(2, requires_grad=True)], lr=0.1, nesterov=True)


def _params_errors(lib, opt_mod):
    out = []
    a = lib.zeros(2, requires_grad=True)
    b = lib.zeros(3, requires_grad=True)
    cases = [
        lambda: opt_mod.SGD([], lr=0.1),
        lambda: opt_mod.SGD(a, lr=0.1),
        lambda: opt_mod.SGD(lib.zeros(2, dtype=lib.float64, requires_grad=True), lr=0.1),
        lambda: opt_mod.SGD([a, 3], lr=0.1),
        lambda: opt_mod.SGD({a, b}, lr=0.1),
        lambda: opt_mod.SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1),
        lambda: opt_mod.SGD([a * 2], lr=0.1),
        lambda: opt_mod.SGD([a]).add_param_group([b]),
    ]
    for c in cases:
        try:
            c()
        except (TypeError, ValueError) as e:
            out.append((type(e).__name__, str(e).replace("autograd_c", "torch")))
        else:
            out.append(None)
    return out


def test_params_errors_match_torch():
    torch = pytest.importorskip("torch")
    assert _params_errors(autograd_c, optim) == _params_errors(torch, torch.optim)


def test_params_errors_texts():
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        optim.Adam([])
    with pytest.raises(TypeError) as e:
        optim.Adam(autograd_c.zeros(2, requires_grad=True))
    assert str(e.value) == (
        "params argument given to the optimizer should be an iterable of Tensors or dicts, "
        "but got torch.FloatTensor"
    )
    a = autograd_c.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="^some parameters appear in more than one parameter group$"):
        optim.Adam([{"params": [a]}, {"params": [a]}])


def test_duplicate_params_in_group_warns():
    a = autograd_c.zeros(2, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([a, a], lr=0.1)


def test_params_from_generator_and_group_defaults():
    a = autograd_c.zeros(2, requires_grad=True)
    b = autograd_c.zeros(3, requires_grad=True)
    opt = optim.SGD((t for t in (a, b)), lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["params"] == [a, b] or (
        opt.param_groups[0]["params"][0] is a and opt.param_groups[0]["params"][1] is b
    )
    assert opt.param_groups[0]["momentum"] == 0.9
    assert opt.defaults["lr"] == 0.1
    opt = optim.Adam([{"params": [a], "betas": (0.5, 0.6)}, {"params": [b]}])
    assert opt.param_groups[0]["betas"] == (0.5, 0.6)
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    assert optim.AdamW([a]).param_groups[0]["weight_decay"] == 1e-2
    assert optim.RMSprop([a]).param_groups[0]["lr"] == 1e-2
    assert optim.SGD([a]).param_groups[0]["lr"] == 1e-3


# ---- torch-free numerics ----

def test_sgd_momentum_reaches_quadratic_minimum():
    target = np.array([1.5, -2.0, 0.25], dtype=np.float32)
    x = autograd_c.zeros(3, requires_grad=True)
    t = autograd_c.tensor(target)
    opt = optim.SGD([x], lr=0.05, momentum=0.9)
    for _ in range(300):
        opt.zero_grad()
        loss = ((x - t) ** 2).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(x.detach().numpy(), target, atol=1e-4)


def test_sgd_plain_step_by_hand():
    x = autograd_c.tensor([1.0, -1.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.5, momentum=0.5, weight_decay=0.1)
    x.grad = autograd_c.tensor([1.0, 2.0])
    opt.step()
    # g = grad + 0.1 x = [1.1, 1.9]; buf = g; x -= 0.5 * buf
    np.testing.assert_allclose(x.tolist(), [1.0 - 0.55, -1.0 - 0.95], rtol=1e-6)
    x.grad = autograd_c.tensor([1.0, 2.0])
    opt.step()
    g = np.array([1.0, 2.0]) + 0.1 * np.array([0.45, -1.95])
    buf = 0.5 * np.array([1.1, 1.9]) + g
    np.testing.assert_allclose(x.tolist(), np.array([0.45, -1.95]) - 0.5 * buf, rtol=1e-6)


def test_adam_first_two_steps_by_hand():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    x = autograd_c.tensor(1.0, requires_grad=True)
    opt = optim.Adam([x], lr=lr, betas=(b1, b2), eps=eps)
    x.grad = autograd_c.tensor(2.0)
    opt.step()
    # m = 0.2, v = 0.004; m_hat = 2, v_hat = 4 -> step = lr * 2 / (2 + eps)
    x1 = 1.0 - lr * 2.0 / (2.0 + eps)
    assert math.isclose(x.item(), x1, rel_tol=1e-6)
    x.grad = autograd_c.tensor(-1.0)
    opt.step()
    m = b1 * 0.2 + (1 - b1) * -1.0
    v = b2 * 0.004 + (1 - b2) * 1.0
    m_hat = m / (1 - b1 ** 2)
    v_hat = v / (1 - b2 ** 2)
    x2 = x1 - lr * m_hat / (math.sqrt(v_hat) + eps)
    assert math.isclose(x.item(), x2, rel_tol=1e-6)
    assert opt.state[x]["step"].item() == 2.0


def test_adamw_decoupled_weight_decay_by_hand():
    x = autograd_c.tensor(1.0, requires_grad=True)
    opt = optim.AdamW([x], lr=0.1, weight_decay=0.5)
    x.grad = autograd_c.tensor(3.0)
    opt.step()
    # decay first: 1 * (1 - 0.05) = 0.95, then adam step of ~lr
    assert math.isclose(x.item(), 0.95 - 0.1 * 3.0 / (3.0 + 1e-8), rel_tol=1e-6)


# ---- lr schedulers ----

def _lambda_a(epoch):
    return 0.95 ** epoch


def _lambda_b(epoch):
    return 1.0 / (1 + epoch // 7)


SCHEDULERS = [
    ("StepLR", {"step_size": 7}),
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [10, 30, 30, 55]}),
    ("MultiStepLR", {"milestones": [5, 80], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.97}),
    ("CosineAnnealingLR", {"T_max": 30}),
    ("CosineAnnealingLR", {"T_max": 100, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 17, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": _lambda_a}),
    ("LambdaLR", {"lr_lambda": [_lambda_a, _lambda_b]}),
]


def _sched_ids(c):
    name, kw = c
    return name + "-" + "-".join(
        f"{k}={getattr(v, '__name__', v) if not isinstance(v, list) else len(v)}" for k, v in kw.items()
    )


def _two_group_opt(lib, opt_mod):
    a = lib.zeros(2, requires_grad=True)
    b = lib.zeros(3, requires_grad=True)
    return opt_mod.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, momentum=0.9)


@pytest.mark.parametrize("case", SCHEDULERS, ids=[_sched_ids(c) for c in SCHEDULERS])
def test_scheduler_matches_torch_100_steps(case):
    torch = pytest.importorskip("torch")
    name, kw = case
    opt_o = _two_group_opt(autograd_c, optim)
    opt_t = _two_group_opt(torch, torch.optim)
    s_o = getattr(optim.lr_scheduler, name)(opt_o, **kw)
    s_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **kw)
    assert s_o.get_last_lr() == s_t.get_last_lr()
    assert s_o.base_lrs == s_t.base_lrs
    for _ in range(100):
        opt_o.step()
        opt_t.step()
        s_o.step()
        s_t.step()
        np.testing.assert_allclose(s_o.get_last_lr(), s_t.get_last_lr(), rtol=1e-12, atol=1e-15)
        assert [g["lr"] for g in opt_o.param_groups] == s_o.get_last_lr()
        np.testing.assert_allclose(
            [g["lr"] for g in opt_o.param_groups], [g["lr"] for g in opt_t.param_groups],
            rtol=1e-12, atol=1e-15,
        )
    assert s_o.last_epoch == s_t.last_epoch == 100
    assert [g["initial_lr"] for g in opt_o.param_groups] == [0.1, 0.05]
    sd_o, sd_t = s_o.state_dict(), s_t.state_dict()
    assert sorted(sd_o) == sorted(sd_t)


@pytest.mark.parametrize("case", SCHEDULERS, ids=[_sched_ids(c) for c in SCHEDULERS])
def test_scheduler_state_dict_round_trip(case):
    torch = pytest.importorskip("torch")
    name, kw = case
    opt_o = _two_group_opt(autograd_c, optim)
    opt_t = _two_group_opt(torch, torch.optim)
    s_o = getattr(optim.lr_scheduler, name)(opt_o, **kw)
    s_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **kw)
    for _ in range(37):
        opt_o.step()
        opt_t.step()
        s_o.step()
        s_t.step()
    opt_o2 = _two_group_opt(autograd_c, optim)
    opt_o2.load_state_dict(opt_o.state_dict())
    s_o2 = getattr(optim.lr_scheduler, name)(opt_o2, **kw)
    s_o2.load_state_dict(s_o.state_dict())
    assert s_o2.last_epoch == 37
    for _ in range(40):
        opt_o2.step()
        opt_t.step()
        s_o2.step()
        s_t.step()
        np.testing.assert_allclose(s_o2.get_last_lr(), s_t.get_last_lr(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name,kw", [("StepLR", {"step_size": 4}), ("MultiStepLR", {"milestones": [3, 9]}),
                                     ("ExponentialLR", {"gamma": 0.9}), ("CosineAnnealingLR", {"T_max": 12})])
def test_scheduler_closed_form_epoch_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    opt_o = _two_group_opt(autograd_c, optim)
    opt_t = _two_group_opt(torch, torch.optim)
    s_o = getattr(optim.lr_scheduler, name)(opt_o, **kw)
    s_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [1, 5, 2, 17, 9]:
            opt_o.step()
            opt_t.step()
            s_o.step(epoch)
            s_t.step(epoch)
            np.testing.assert_allclose(s_o.get_last_lr(), s_t.get_last_lr(), rtol=1e-12)


def test_scheduler_errors_and_warnings():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="^list is not an Optimizer$"):
        optim.lr_scheduler.StepLR([], 3)
    opt_o = _two_group_opt(autograd_c, optim)
    opt_t = _two_group_opt(torch, torch.optim)
    with pytest.raises(ValueError) as eo:
        optim.lr_scheduler.LambdaLR(opt_o, [_lambda_a])
    with pytest.raises(ValueError) as et:
        torch.optim.lr_scheduler.LambdaLR(opt_t, [_lambda_a])
    assert str(eo.value) == str(et.value)
    with pytest.raises(KeyError) as eo:
        optim.lr_scheduler.StepLR(opt_o, 3, last_epoch=4)
    with pytest.raises(KeyError) as et:
        torch.optim.lr_scheduler.StepLR(opt_t, 3, last_epoch=4)
    assert str(eo.value) == str(et.value)
    s = optim.lr_scheduler.ExponentialLR(opt_o, 0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()


def test_scheduler_torch_free_values():
    a = autograd_c.zeros(1, requires_grad=True)
    opt = optim.SGD([a], lr=1.0)
    s = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(6):
        lrs.append(s.get_last_lr()[0])
        opt.step()
        s.step()
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    opt = optim.SGD([a], lr=1.0)
    s = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    for _ in range(4):
        opt.step()
        s.step()
    assert abs(s.get_last_lr()[0]) < 1e-12


@pytest.mark.parametrize("name,kw", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01}),
                                     ("AdamW", {"lr": 0.01, "amsgrad": True}),
                                     ("RMSprop", {"centered": True, "momentum": 0.3}),
                                     ("Adagrad", {"lr_decay": 0.1})])
def test_float64_params_match_torch(name, kw):
    torch = pytest.importorskip("torch")
    arrays = [a.astype(np.float64) for a in _init_arrays()]
    ours, theirs = _ours(arrays), _theirs(torch, arrays)
    opt_o = getattr(optim, name)(ours, **kw)
    opt_t = getattr(torch.optim, name)(theirs, **kw)
    for grads in _grad_seq():
        grads = [g.astype(np.float64) for g in grads]
        _set_grads(ours, grads, autograd_c.tensor)
        _set_grads(theirs, grads, torch.tensor)
        opt_o.step()
        opt_t.step()
        _close(ours, theirs, rtol=1e-12, atol=1e-13)
    for p in ours:
        assert p.dtype == autograd_c.float64
    for st in opt_o.state.values():
        for k, v in st.items():
            assert v.dtype == (autograd_c.float32 if k == "step" else autograd_c.float64)


# -- the compiled step and its fallback ---------------------------------------------------------

FUSED_CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.2, "maximize": True}),
    ("SGD", {"lr": 0.05}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True, "alpha": 0.3, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "maximize": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "maximize": True}),
]


@pytest.mark.parametrize("name, kw", FUSED_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(FUSED_CASES)])
def test_compiled_step_equals_tensor_op_fallback(name, kw):
    # A non-contiguous parameter goes through the tensor-op formulas, a contiguous one through
    # the compiled loop: from the same values and gradients they must stay together.
    rng = np.random.default_rng(3)
    start = rng.standard_normal((4, 3))
    fused = autograd_c.tensor(start.copy(), requires_grad=True)
    strided = autograd_c.zeros(4, 6, dtype=autograd_c.float64)[:, ::2]
    strided.copy_(autograd_c.tensor(start.copy()))
    strided.requires_grad_()
    assert not strided.is_contiguous()
    opts = [getattr(optim, name)([p], **kw) for p in (fused, strided)]
    for _ in range(10):
        g = rng.standard_normal((4, 3))
        for p, opt in zip((fused, strided), opts):
            p.grad = autograd_c.tensor(g.copy())
            opt.step()
    np.testing.assert_allclose(fused.detach().numpy(), strided.detach().numpy(), rtol=1e-12)


def test_float16_parameters_take_the_fallback_and_match_torch():
    torch = pytest.importorskip("torch")
    start = np.linspace(-1, 1, 6, dtype=np.float16)
    ours = autograd_c.tensor(start.copy(), requires_grad=True)
    theirs = torch.tensor(start.copy(), requires_grad=True)
    o1 = optim.SGD([ours], lr=0.1, momentum=0.9)
    o2 = torch.optim.SGD([theirs], lr=0.1, momentum=0.9)
    for step in range(5):
        g = np.full(6, 0.5 + step, dtype=np.float16)
        ours.grad, theirs.grad = autograd_c.tensor(g.copy()), torch.tensor(g.copy())
        o1.step()
        o2.step()
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


# the compiled group step each optimizer calls
STEP_FUNCTIONS = {"RMSprop": "_rmsprop_step", "Adagrad": "_adagrad_step"}


def _spy_on_group_step(monkeypatch, name):
    """Records the indices each call of name's compiled group step leaves to the fallback."""
    real = getattr(autograd_c._C, STEP_FUNCTIONS[name])
    calls = []

    def spy(*args):
        left = real(*args)
        calls.append(list(left))
        return left

    monkeypatch.setattr(autograd_c._C, STEP_FUNCTIONS[name], spy)
    return calls


COMPILED_VS_TORCH = [
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "centered": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "centered": True}),  # lerp's form for weights >= 1/2
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1,
                 "maximize": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05,
                 "initial_accumulator_value": 0.2, "eps": 1e-6, "maximize": True}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, kw", COMPILED_VS_TORCH, ids=[_ids(c) for c in COMPILED_VS_TORCH])
def test_compiled_rmsprop_adagrad_match_torch(name, kw, dtype, monkeypatch):
    torch = pytest.importorskip("torch")
    calls = _spy_on_group_step(monkeypatch, name)
    tol = {"rtol": 2e-5, "atol": 2e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}
    arrays = [a.astype(dtype) for a in _init_arrays()]
    ours, theirs = _ours(arrays), _theirs(torch, arrays)
    opt_o = getattr(optim, name)(ours, **kw)
    opt_t = getattr(torch.optim, name)(theirs, foreach=False, **kw)
    for grads in _grad_seq():
        grads = [g.astype(dtype) for g in grads]
        _set_grads(ours, grads, autograd_c.tensor)
        _set_grads(theirs, grads, torch.tensor)
        opt_o.step()
        opt_t.step()
        _close(ours, theirs, **tol)
        for p_o, p_t in zip(ours, theirs):
            state_o, state_t = opt_o.state[p_o], opt_t.state[p_t]
            assert sorted(state_o) == sorted(state_t)
            for key, v in state_t.items():
                np.testing.assert_allclose(state_o[key].numpy(), v.numpy(), **tol)
    # contiguous float32/float64 parameters all went through the compiled loop
    assert calls == [[]] * STEPS


@pytest.mark.parametrize("name, kw", [("RMSprop", {"centered": True, "momentum": 0.5}),
                                      ("Adagrad", {"lr_decay": 0.1})])
def test_group_step_leaves_what_the_kernels_cannot_take(name, kw, monkeypatch):
    # one group: a contiguous float32 parameter (compiled), a strided one and a float16 one
    # (both left to the tensor-op formulas)
    calls = _spy_on_group_step(monkeypatch, name)
    rng = np.random.default_rng(5)
    start = rng.standard_normal((4, 3)).astype(np.float32)
    contiguous = autograd_c.tensor(start.copy(), requires_grad=True)
    strided = autograd_c.zeros(4, 6)[:, ::2]
    strided.copy_(autograd_c.tensor(start.copy()))
    strided.requires_grad_()
    half = autograd_c.tensor(start.astype(np.float16), requires_grad=True)
    params = [contiguous, strided, half]
    opt = getattr(optim, name)(params, lr=0.05, weight_decay=0.1, **kw)
    for _ in range(5):
        g = rng.standard_normal((4, 3))
        contiguous.grad = autograd_c.tensor(g.astype(np.float32))
        strided.grad = autograd_c.tensor(g.astype(np.float32))
        half.grad = autograd_c.tensor(g.astype(np.float16))
        opt.step()
    assert calls == [[1, 2]] * 5
    np.testing.assert_allclose(contiguous.detach().numpy(), strided.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert not np.array_equal(half.detach().numpy(), start.astype(np.float16))
    assert half.dtype == autograd_c.float16
    for p in params:
        assert opt.state[p]["step"].item() == 5


@pytest.mark.parametrize("name, kw", [("RMSprop", {"centered": True, "momentum": 0.5}),
                                      ("Adagrad", {})])
def test_compiled_step_bumps_the_state_versions(name, kw):
    p = autograd_c.tensor([1.0, 2.0], requires_grad=True)
    p.grad = autograd_c.tensor([0.5, -0.5])
    opt = getattr(optim, name)([p], lr=0.1, **kw)
    opt.step()
    before = {key: t._version for key, t in opt.state[p].items()}
    before["param"] = p._version
    opt.step()
    after = {key: t._version for key, t in opt.state[p].items()}
    after["param"] = p._version
    assert sorted(after) == sorted(before)
    assert all(after[key] > before[key] for key in before), (before, after)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_step_bumps_the_parameter_version(name):
    # a graph that saved the parameter must refuse to backward through the stepped values
    p = autograd_c.tensor([1.0, 2.0], requires_grad=True)
    p.grad = autograd_c.tensor([0.5, 0.5])
    opt = getattr(optim, name)([p], lr=0.1)
    y = (p * p).sum()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_momentum_buffer_is_state_and_distinct_from_grad():
    p = autograd_c.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = autograd_c.tensor([1.0, -1.0])
    opt.step()
    buf = opt.state[p]["momentum_buffer"]
    np.testing.assert_array_equal(buf.numpy(), [1.0, -1.0])
    p.grad.zero_()
    np.testing.assert_array_equal(buf.numpy(), [1.0, -1.0])  # a copy, not the gradient itself
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 2.1])


def test_adagrad_state_for_a_group_added_later():
    """A parameter of a group added after construction gets its accumulator on its first step,
    filled with the constructor's initial_accumulator_value (not the new group's)."""
    p = autograd_c.nn.Parameter(autograd_c.ones(2))
    q = autograd_c.nn.Parameter(autograd_c.ones(2))
    opt = optim.Adagrad([p], lr=0.1, initial_accumulator_value=0.5)
    opt.add_param_group({"params": [q], "initial_accumulator_value": 0.2})
    (p.sum() + q.sum()).backward()
    opt.step()
    assert opt.state[q]["sum"].tolist() == [1.5, 1.5]
    assert opt.state[q]["step"].item() == 1
    expected = 1 - 0.1 * 1 / (1.5 ** 0.5 + 1e-10)
    assert q.tolist() == pytest.approx([expected, expected], rel=1e-6)
