"""OneCycleLR and ReduceLROnPlateau against torch 2.13, plus torch-free closed-form checks."""
import math
import warnings

import numpy as np
import pytest

import autograd_c
import autograd_c.optim as optim

sched = optim.lr_scheduler

# ---- shared helpers ----

OPTIMIZERS = {
    "SGD": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "Adam": ("Adam", {"lr": 0.01, "betas": (0.8, 0.99)}),
}


def _two_group_opt(lib, opt_mod, kind="SGD", like=None):
    """SGD/Adam over two groups (lr 0.1 and 0.05); like= copies another optimizer's params."""
    name, kw = OPTIMIZERS[kind]
    if like is None:
        a = lib.zeros(2, requires_grad=True)
        b = lib.zeros(3, requires_grad=True)
    else:
        a, b = (p.detach().clone().requires_grad_(True) for p in _params(like))
    return getattr(opt_mod, name)([{"params": [a]}, {"params": [b], "lr": 0.05}], **kw)


def _both_opts(torch, kind="SGD"):
    return _two_group_opt(autograd_c, optim, kind), _two_group_opt(torch, torch.optim, kind)


def _params(opt):
    return [p for g in opt.param_groups for p in g["params"]]


def _feed_grads(opt, step, make):
    # Fixed, step-dependent gradients so momentum/beta1 changes show up in the parameters.
    for i, p in enumerate(_params(opt)):
        n = p.shape[0]
        p.grad = make(np.sin(np.arange(n, dtype=np.float32) + step + 3 * i).astype(np.float32))


def _momenta(opt):
    return [g["betas"] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _assert_groups_match(opt_o, opt_t):
    lrs_o = [g["lr"] for g in opt_o.param_groups]
    lrs_t = [g["lr"] for g in opt_t.param_groups]
    np.testing.assert_allclose(lrs_o, lrs_t, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_momenta(opt_o), _momenta(opt_t), rtol=1e-12, atol=1e-15)


def _assert_params_match(opt_o, opt_t):
    for p_o, p_t in zip(_params(opt_o), _params(opt_t)):
        np.testing.assert_allclose(p_o.detach().numpy(), p_t.detach().numpy(), rtol=1e-5, atol=1e-6)


def _train_step(torch, opt_o, opt_t, s_o, s_t, step):
    _feed_grads(opt_o, step, autograd_c.tensor)
    _feed_grads(opt_t, step, torch.tensor)
    opt_o.step()
    opt_t.step()
    s_o.step()
    s_t.step()


def _advance(opt, scheduler, steps):
    for _ in range(steps):
        opt.step()
        scheduler.step()


def _raised(fn):
    """(exception type name, message) of what fn raises; fails the test if nothing is raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except Exception as exc:  # the point is to compare whatever each library raises
            return type(exc).__name__, str(exc)
    pytest.fail("expected an exception")


# ---- OneCycleLR vs torch ----

ONE_CYCLE = [
    {"max_lr": 0.5, "total_steps": 100},
    {"max_lr": [0.3, 0.6], "epochs": 10, "steps_per_epoch": 10, "anneal_strategy": "linear"},
    {"max_lr": 0.4, "total_steps": 120, "pct_start": 0.25, "three_phase": True},
    {"max_lr": (0.4, 0.1), "total_steps": 100, "three_phase": True, "anneal_strategy": "linear",
     "div_factor": 10.0, "final_div_factor": 100.0},
    {"max_lr": 0.2, "total_steps": 150, "cycle_momentum": False},
    {"max_lr": 0.2, "total_steps": 100, "base_momentum": [0.8, 0.7], "max_momentum": (0.9, 0.99)},
    {"max_lr": 0.1, "total_steps": 101, "pct_start": 0.5, "div_factor": 5.0},
    {"max_lr": 0.1, "total_steps": 100, "pct_start": 0.0},
    {"max_lr": 0.3, "total_steps": 100, "pct_start": 0.6, "three_phase": True},
    {"max_lr": 0.3, "epochs": 4, "steps_per_epoch": 33, "total_steps": 100},  # total_steps wins
]


def _kw_id(kw):
    return "-".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("kw", ONE_CYCLE, ids=[_kw_id(k) for k in ONE_CYCLE])
def test_one_cycle_matches_torch_100_steps(kw, kind):
    torch = pytest.importorskip("torch")
    opt_o, opt_t = _both_opts(torch, kind)
    s_o = sched.OneCycleLR(opt_o, **kw)
    s_t = torch.optim.lr_scheduler.OneCycleLR(opt_t, **kw)
    assert s_o.get_last_lr() == s_t.get_last_lr()
    assert s_o.base_lrs == s_t.base_lrs
    assert s_o.total_steps == s_t.total_steps
    _assert_groups_match(opt_o, opt_t)
    for step in range(100):
        _train_step(torch, opt_o, opt_t, s_o, s_t, step)
        np.testing.assert_allclose(s_o.get_last_lr(), s_t.get_last_lr(), rtol=1e-12, atol=1e-15)
        assert [g["lr"] for g in opt_o.param_groups] == s_o.get_last_lr()
        _assert_groups_match(opt_o, opt_t)
    _assert_params_match(opt_o, opt_t)
    assert s_o.last_epoch == s_t.last_epoch == 100
    for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
        assert [g.get(key) for g in opt_o.param_groups] == [g.get(key) for g in opt_t.param_groups]
    assert sorted(s_o.state_dict()) == sorted(s_t.state_dict())
    assert s_o.state_dict()["_schedule_phases"] == s_t.state_dict()["_schedule_phases"]


def test_one_cycle_adamw_and_rmsprop_match_torch():
    torch = pytest.importorskip("torch")
    for name, kw in [("AdamW", {"lr": 0.01}), ("RMSprop", {"lr": 0.01, "momentum": 0.5})]:
        opt_o = getattr(optim, name)([autograd_c.zeros(3, requires_grad=True)], **kw)
        opt_t = getattr(torch.optim, name)([torch.zeros(3, requires_grad=True)], **kw)
        s_o = sched.OneCycleLR(opt_o, 0.05, total_steps=30)
        s_t = torch.optim.lr_scheduler.OneCycleLR(opt_t, 0.05, total_steps=30)
        for step in range(30):
            _train_step(torch, opt_o, opt_t, s_o, s_t, step)
            _assert_groups_match(opt_o, opt_t)
        _assert_params_match(opt_o, opt_t)


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("kw", [ONE_CYCLE[0], ONE_CYCLE[3], ONE_CYCLE[4]], ids=["two", "three", "nomom"])
def test_one_cycle_state_dict_round_trip_then_continue(kw, kind):
    torch = pytest.importorskip("torch")
    opt_o, opt_t = _both_opts(torch, kind)
    s_o = sched.OneCycleLR(opt_o, **kw)
    s_t = torch.optim.lr_scheduler.OneCycleLR(opt_t, **kw)
    for step in range(37):
        _train_step(torch, opt_o, opt_t, s_o, s_t, step)
    # Resume in the documented order: scheduler first, then both state dicts.
    opt_o2 = _two_group_opt(autograd_c, optim, kind, like=opt_o)
    s_o2 = sched.OneCycleLR(opt_o2, **kw)
    opt_o2.load_state_dict(opt_o.state_dict())
    s_o2.load_state_dict(s_o.state_dict())
    assert s_o2.last_epoch == 37
    assert s_o2.get_last_lr() == s_t.get_last_lr()
    _assert_groups_match(opt_o2, opt_t)
    for step in range(37, 100):
        _train_step(torch, opt_o2, opt_t, s_o2, s_t, step)
        np.testing.assert_allclose(s_o2.get_last_lr(), s_t.get_last_lr(), rtol=1e-12, atol=1e-15)
        _assert_groups_match(opt_o2, opt_t)
    _assert_params_match(opt_o2, opt_t)


def test_one_cycle_loads_torch_state_dict():
    torch = pytest.importorskip("torch")
    opt_o, opt_t = _both_opts(torch, "Adam")
    kw = {"max_lr": [0.2, 0.3], "total_steps": 60, "three_phase": True}
    s_o = sched.OneCycleLR(opt_o, **kw)
    s_t = torch.optim.lr_scheduler.OneCycleLR(opt_t, **kw)
    for step in range(20):
        _train_step(torch, opt_o, opt_t, s_o, s_t, step)
    fresh = sched.OneCycleLR(_two_group_opt(autograd_c, optim, "Adam"), **kw)
    fresh.load_state_dict(s_t.state_dict())
    for key, value in s_t.state_dict().items():
        assert fresh.state_dict()[key] == value, key


def test_one_cycle_resume_with_last_epoch_matches_torch():
    torch = pytest.importorskip("torch")
    opt_o, opt_t = _both_opts(torch, "SGD")
    kw = {"max_lr": 0.5, "total_steps": 50}
    sched.OneCycleLR(opt_o, **kw)
    torch.optim.lr_scheduler.OneCycleLR(opt_t, **kw)
    # Groups now carry initial/max/min lr, so a scheduler can resume at batch 19.
    s_o = sched.OneCycleLR(opt_o, last_epoch=19, **kw)
    s_t = torch.optim.lr_scheduler.OneCycleLR(opt_t, last_epoch=19, **kw)
    assert s_o.last_epoch == s_t.last_epoch == 20
    np.testing.assert_allclose(s_o.get_last_lr(), s_t.get_last_lr(), rtol=1e-12)
    _assert_groups_match(opt_o, opt_t)


# ---- ReduceLROnPlateau vs torch ----

def _metric_sequence():
    """Improvements, exact plateaus, tiny (below-threshold) gains, regressions and noise."""
    rng = np.random.default_rng(7)
    falling = [1.0 - 0.05 * i for i in range(10)]
    flat = [0.55] * 8
    tiny_gains = [0.55 * (1 - 0.5e-4) ** k for k in range(1, 7)]
    worse = [0.6, 0.7, 0.65, 0.62, 0.61]
    recovery = [0.5, 0.4, 0.3, 0.3, 0.3, 0.29999, 0.2]
    noise = list(0.2 + 0.05 * rng.standard_normal(40))
    return falling + flat + tiny_gains + worse + recovery + noise + [0.01] * 10


PLATEAU = [
    {"patience": 3},
    {"mode": "max", "factor": 0.5, "patience": 2},
    {"threshold_mode": "abs", "threshold": 0.05, "patience": 1},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "cooldown": 3, "patience": 0},
    {"factor": 0.5, "patience": 1, "cooldown": 2, "min_lr": 0.01},
    {"factor": 0.3, "patience": 0, "min_lr": [0.02, 0.001]},
    {"factor": 0.9, "patience": 0, "eps": 0.004},
    {"mode": "max", "threshold": 0.0, "patience": 2, "min_lr": (0.0, 0.04)},
]


def _plateau_metrics(kw):
    seq = _metric_sequence()
    return [-m for m in seq] if kw.get("mode") == "max" else seq


def _plateau_state(s):
    return (s.last_epoch, s.best, s.num_bad_epochs, s.cooldown_counter, s.in_cooldown)


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("kw", PLATEAU, ids=[_kw_id(k) for k in PLATEAU])
def test_plateau_matches_torch_step_by_step(kw, kind):
    torch = pytest.importorskip("torch")
    opt_o, opt_t = _both_opts(torch, kind)
    s_o = sched.ReduceLROnPlateau(opt_o, **kw)
    s_t = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_t, **kw)
    assert s_o.get_last_lr() == s_t.get_last_lr() == [g["lr"] for g in opt_o.param_groups]
    reductions = 0
    for i, metric in enumerate(_plateau_metrics(kw)):
        before = s_o.get_last_lr()
        # Alternate plain floats and 0-d tensors, both of which step() accepts.
        s_o.step(autograd_c.tensor(metric) if i % 2 else metric)
        s_t.step(torch.tensor(metric) if i % 2 else metric)
        assert s_o.get_last_lr() == s_t.get_last_lr(), i
        assert [g["lr"] for g in opt_o.param_groups] == s_o.get_last_lr()
        assert _plateau_state(s_o) == _plateau_state(s_t), i
        reductions += s_o.get_last_lr() != before
    assert reductions >= 2  # the sequence really exercises reductions
    assert sorted(s_o.state_dict()) == sorted(s_t.state_dict())


@pytest.mark.parametrize("kw", [PLATEAU[0], PLATEAU[3], PLATEAU[5]], ids=["min", "max-cool", "minlrs"])
def test_plateau_state_dict_round_trip_then_continue(kw):
    torch = pytest.importorskip("torch")
    opt_o, opt_t = _both_opts(torch)
    s_o = sched.ReduceLROnPlateau(opt_o, **kw)
    s_t = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_t, **kw)
    metrics = _plateau_metrics(kw)
    half = len(metrics) // 2
    for m in metrics[:half]:
        s_o.step(m)
        s_t.step(m)
    opt_o2 = _two_group_opt(autograd_c, optim)
    opt_o2.load_state_dict(opt_o.state_dict())
    s_o2 = sched.ReduceLROnPlateau(opt_o2)  # default settings, all overwritten by the load
    s_o2.load_state_dict(s_o.state_dict())
    assert _plateau_state(s_o2) == _plateau_state(s_t)
    assert (s_o2.mode, s_o2.threshold_mode, s_o2.mode_worse) == (s_t.mode, s_t.threshold_mode, s_t.mode_worse)
    for m in metrics[half:]:
        s_o2.step(m)
        s_t.step(m)
        assert s_o2.get_last_lr() == s_t.get_last_lr()
        assert _plateau_state(s_o2) == _plateau_state(s_t)


def test_plateau_loads_torch_state_dict_and_epoch_argument():
    torch = pytest.importorskip("torch")
    opt_o, opt_t = _both_opts(torch)
    s_t = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_t, mode="max", patience=1, cooldown=1)
    for m in [1.0, 2.0, 2.0, 2.0]:
        s_t.step(m)
    s_o = sched.ReduceLROnPlateau(opt_o)
    s_o.load_state_dict(s_t.state_dict())
    assert s_o.state_dict() == s_t.state_dict()
    with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
        s_o.step(1.0, epoch=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s_t.step(1.0, epoch=10)
    assert _plateau_state(s_o) == _plateau_state(s_t)


def test_plateau_added_param_group_with_scalar_min_lr_matches_torch():
    torch = pytest.importorskip("torch")
    opt_o, opt_t = _both_opts(torch)
    s_o = sched.ReduceLROnPlateau(opt_o, patience=0, min_lr=0.004)
    s_t = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_t, patience=0, min_lr=0.004)
    opt_o.add_param_group({"params": [autograd_c.zeros(1, requires_grad=True)], "lr": 0.02})
    opt_t.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.02})
    for m in [1.0, 2.0, 2.0, 2.0, 2.0]:
        s_o.step(m)
        s_t.step(m)
        assert s_o.get_last_lr() == s_t.get_last_lr()
    assert s_o.min_lrs == s_t.min_lrs == [0.004] * 3


# ---- errors match torch ----

def _one_cycle_call(kw, kind="SGD"):
    def call(torch_or_none):
        if torch_or_none is None:
            opt = _two_group_opt(autograd_c, optim, kind)
            return lambda: sched.OneCycleLR(opt, **kw)
        opt = _two_group_opt(torch_or_none, torch_or_none.optim, kind)
        return lambda: torch_or_none.optim.lr_scheduler.OneCycleLR(opt, **kw)
    return call


ONE_CYCLE_ERRORS = [
    {"max_lr": 0.1},
    {"max_lr": 0.1, "epochs": 3},
    {"max_lr": 0.1, "steps_per_epoch": 3},
    {"max_lr": 0.1, "total_steps": 0},
    {"max_lr": 0.1, "total_steps": -4},
    {"max_lr": 0.1, "total_steps": 2.5},
    {"max_lr": 0.1, "total_steps": "10"},
    {"max_lr": 0.1, "epochs": 0, "steps_per_epoch": 5},
    {"max_lr": 0.1, "epochs": 2.0, "steps_per_epoch": 5},
    {"max_lr": 0.1, "epochs": 2, "steps_per_epoch": -1},
    {"max_lr": 0.1, "epochs": 2, "steps_per_epoch": 1.5},
    {"max_lr": 0.1, "total_steps": 10, "pct_start": 1.5},
    {"max_lr": 0.1, "total_steps": 10, "pct_start": -0.1},
    {"max_lr": 0.1, "total_steps": 10, "pct_start": 1},
    {"max_lr": 0.1, "total_steps": 10, "anneal_strategy": "exp"},
    {"max_lr": [0.1], "total_steps": 10},
    {"max_lr": [0.1, 0.2, 0.3], "total_steps": 10},
    {"max_lr": 0.1, "total_steps": 10, "max_momentum": [0.9, 0.9, 0.9]},
    {"max_lr": 0.1, "total_steps": 10, "base_momentum": (0.8,)},
    {"max_lr": 0.1, "total_steps": 10, "last_epoch": 3},
]


@pytest.mark.parametrize("kw", ONE_CYCLE_ERRORS, ids=[_kw_id(k) for k in ONE_CYCLE_ERRORS])
def test_one_cycle_constructor_errors_match_torch(kw):
    torch = pytest.importorskip("torch")
    call = _one_cycle_call(kw)
    assert _raised(call(None)) == _raised(call(torch))


def test_one_cycle_runtime_errors_match_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib, opt_mod in [(autograd_c, optim), (torch, torch.optim)]:
        p = [lib.zeros(1, requires_grad=True)]
        errs = [_raised(lambda: opt_mod.lr_scheduler.OneCycleLR([], 0.1, total_steps=5)),
                _raised(lambda: opt_mod.lr_scheduler.OneCycleLR(opt_mod.Adagrad(p), 0.1, total_steps=5))]
        opt = opt_mod.SGD(p, lr=0.1)
        s = opt_mod.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=5)
        _advance(opt, s, 5)
        errs.append(_raised(s.step))  # one step past total_steps
        errs.append(_raised(s.step))
        # pct_start=1.0 leaves the last phase zero steps long: stepping into it divides by zero.
        s = opt_mod.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=4, pct_start=1.0)
        _advance(opt, s, 3)
        errs.append(_raised(s.step))
        results.append(errs)
    assert results[0] == results[1]
    assert results[0][2] == ("ValueError", "Tried to step 6 times. The specified number of total steps is 5")


def _plateau_error(lib, opt_mod, case):
    opt = _two_group_opt(lib, opt_mod)
    make = opt_mod.lr_scheduler.ReduceLROnPlateau
    if case == "not_optimizer":
        return _raised(lambda: make([]))
    if case == "added_group_with_min_lr_list":
        s = make(opt, patience=0, min_lr=[0.0, 0.0])
        s.step(1.0)
        opt.add_param_group({"params": [lib.zeros(1, requires_grad=True)]})
        return _raised(lambda: s.step(2.0))
    if case.startswith("metric="):
        s = make(opt)
        bad = {"metric=vector": lib.tensor([1.0, 2.0]), "metric=str": "abc", "metric=None": None}[case]
        return _raised(lambda: s.step(bad))
    return _raised(lambda: make(opt, **PLATEAU_BAD_KWARGS[case]))


PLATEAU_BAD_KWARGS = {
    "factor=1": {"factor": 1.0},
    "factor=2": {"factor": 2},
    "mode=avg": {"mode": "avg"},
    "mode=3": {"mode": 3},
    "threshold_mode=pct": {"threshold_mode": "pct"},
    "min_lr_short": {"min_lr": [0.1]},
    "min_lr_long": {"min_lr": (0.1, 0.2, 0.3)},
}

PLATEAU_ERROR_CASES = list(PLATEAU_BAD_KWARGS) + [
    "not_optimizer", "added_group_with_min_lr_list", "metric=vector", "metric=str", "metric=None",
]


@pytest.mark.parametrize("case", PLATEAU_ERROR_CASES)
def test_plateau_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert _plateau_error(autograd_c, optim, case) == _plateau_error(torch, torch.optim, case)


def test_plateau_factor_checked_before_optimizer_type():
    with pytest.raises(ValueError, match=r"^Factor should be < 1\.0\.$"):
        sched.ReduceLROnPlateau([], factor=1.0)
    with pytest.raises(TypeError, match="^list is not an Optimizer$"):
        sched.ReduceLROnPlateau([])


# ---- torch-free closed forms ----

def _single(kind="SGD", lr=0.1):
    p = [autograd_c.zeros(2, requires_grad=True)]
    return optim.SGD(p, lr=lr, momentum=0.9) if kind == "SGD" else optim.Adam(p, lr=lr)


def _one_cycle_trace(opt, steps, **kw):
    s = sched.OneCycleLR(opt, **kw)
    lrs, moms = [s.get_last_lr()[0]], [_momenta(opt)[0]]
    for _ in range(steps):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr()[0])
        moms.append(_momenta(opt)[0])
    return lrs, moms


def test_one_cycle_two_phase_landmarks():
    max_lr, total = 0.8, 100
    lrs, moms = _one_cycle_trace(_single(), total - 1, max_lr=max_lr, total_steps=total)
    peak = int(0.3 * total) - 1
    assert lrs[0] == pytest.approx(max_lr / 25.0, rel=1e-15)
    assert lrs[peak] == pytest.approx(max_lr, rel=1e-15)
    assert lrs[-1] == pytest.approx(max_lr / 25.0 / 1e4, rel=1e-12)
    assert max(lrs) == lrs[peak]
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a > b for a, b in zip(lrs[peak:-1], lrs[peak + 1:]))
    # Momentum mirrors the lr: max_momentum at the ends, base_momentum at the peak.
    assert moms[0] == pytest.approx(0.95) and moms[-1] == pytest.approx(0.95)
    assert moms[peak] == pytest.approx(0.85)
    assert min(moms) == moms[peak]


def test_one_cycle_cosine_and_linear_midpoints():
    total, pct = 41, 0.5  # warm-up phase ends at step 19.5
    end = pct * total - 1
    init, top = 1.0 / 10.0, 1.0
    for strategy in ("cos", "linear"):
        lrs, _ = _one_cycle_trace(_single(), 10, max_lr=top, total_steps=total, pct_start=pct,
                                  div_factor=10.0, anneal_strategy=strategy)
        for k in range(11):
            frac = k / end
            shape = (1 - math.cos(math.pi * frac)) / 2 if strategy == "cos" else frac
            assert lrs[k] == pytest.approx(init + (top - init) * shape, rel=1e-12)


def test_one_cycle_three_phase_landmarks_and_adam_beta1():
    total, pct, max_lr = 100, 0.25, 0.4
    opt = _single("Adam")
    lrs, betas = _one_cycle_trace(opt, total - 1, max_lr=max_lr, total_steps=total, pct_start=pct,
                                  three_phase=True, div_factor=8.0, final_div_factor=50.0)
    first_end, second_end = int(pct * total) - 1, int(2 * pct * total) - 2
    assert lrs[0] == pytest.approx(max_lr / 8.0)
    assert lrs[first_end] == pytest.approx(max_lr)
    assert lrs[second_end] == pytest.approx(max_lr / 8.0)
    assert lrs[-1] == pytest.approx(max_lr / 8.0 / 50.0)
    assert [b[0] for b in (betas[0], betas[first_end], betas[second_end], betas[-1])] == \
        pytest.approx([0.95, 0.85, 0.95, 0.95])
    assert all(b[1] == 0.999 for b in betas)  # only beta1 cycles
    group = opt.param_groups[0]
    assert (group["initial_lr"], group["max_lr"]) == (max_lr / 8.0, max_lr)
    assert group["min_lr"] == pytest.approx(max_lr / 8.0 / 50.0)


def test_one_cycle_epochs_steps_and_limits():
    opt = _single()
    s = sched.OneCycleLR(opt, max_lr=[0.5], epochs=3, steps_per_epoch=4, cycle_momentum=False)
    assert s.total_steps == 12
    assert opt.param_groups[0]["momentum"] == 0.9  # left alone without cycle_momentum
    _advance(opt, s, 12)
    with pytest.raises(ValueError, match="^Tried to step 13 times. The specified number of total steps is 12$"):
        s.step()
    with pytest.raises(ValueError, match="^optimizer must support momentum or beta1 with `cycle_momentum`"):
        sched.OneCycleLR(optim.Adagrad([autograd_c.zeros(1, requires_grad=True)]), 0.1, total_steps=5)
    with pytest.raises(ValueError, match=r"^You must define either total_steps OR \(epochs AND steps_per_epoch\)$"):
        sched.OneCycleLR(_single(), 0.1, epochs=3)
    assert {"OneCycleLR", "ReduceLROnPlateau"} <= set(sched.__all__)


def _plateau_trace(metrics, lr=1.0, **kw):
    opt = _single(lr=lr)
    s = sched.ReduceLROnPlateau(opt, **kw)
    out = []
    for m in metrics:
        s.step(m)
        out.append(s.get_last_lr()[0])
    return out


def test_plateau_hand_traced_patience_and_cooldown():
    # Step 1 sets the best; each flat step after it is bad; the lr halves once bad > patience.
    assert _plateau_trace([1.0] * 7, factor=0.5, patience=2) == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    # Cooldown of 2: the two steps after a reduction are not counted.
    assert _plateau_trace([1.0] * 7, factor=0.5, patience=0, cooldown=2) == \
        [1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    # Real improvements keep resetting the counter.
    assert _plateau_trace([5.0, 4.0, 3.0, 2.0, 1.0], factor=0.5, patience=0) == [1.0] * 5
    # max mode: falling values are regressions.
    assert _plateau_trace([1.0, 0.9, 0.8], mode="max", factor=0.5, patience=0) == [1.0, 0.5, 0.25]


def test_plateau_thresholds_and_min_lr():
    # rel: 1.0 -> 0.99995 is not better than 1.0 * (1 - 1e-4); abs 0.1 needs a drop of more than 0.1.
    assert _plateau_trace([1.0, 0.99995], factor=0.5, patience=0) == [1.0, 0.5]
    assert _plateau_trace([1.0, 0.95, 0.85], factor=0.5, patience=0, threshold_mode="abs",
                          threshold=0.1) == [1.0, 0.5, 0.5]
    lrs = _plateau_trace([1.0] * 6, factor=0.5, patience=0, min_lr=0.2)
    assert lrs == [1.0, 0.5, 0.25, 0.2, 0.2, 0.2]
    # A cut smaller than eps is skipped entirely.
    assert _plateau_trace([1.0] * 3, factor=0.9, patience=0, eps=0.2) == [1.0] * 3


def test_plateau_accepts_zero_dim_tensor_and_round_trips():
    opt = _single(lr=1.0)
    s = sched.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    s.step(autograd_c.tensor(3.0))
    assert s.best == 3.0 and isinstance(s.best, float)
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["best"] == 3.0 and sd["last_epoch"] == 1
    s2 = sched.ReduceLROnPlateau(_single(lr=1.0), mode="max")
    s2.load_state_dict(sd)
    assert (s2.mode, s2.mode_worse, s2.best) == ("min", math.inf, 3.0)
    s2.step(autograd_c.tensor([4.0]))
    assert s2.get_last_lr() == [0.5]
    assert s2.num_bad_epochs == 0 and s2.last_epoch == 2
