"""Optimizer state the compiled steps cannot take as it is: plain-number step counts (older
torch saved them), numpy arrays, state dicts saved by torch itself, and state of the wrong type
or shape, against torch 2.13.

State of the wrong type once reached the compiled steps unchecked and crashed the interpreter,
so those cases run in a child process: a regression fails the test instead of killing pytest.
"""
import json
import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest

import autograd_c
import autograd_c.optim as optim

# (optimizer, options, the state buffers it keeps besides the step count)
CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}, ("momentum_buffer",)),
    ("Adam", {"lr": 0.01}, ("exp_avg", "exp_avg_sq")),
    ("AdamW", {"lr": 0.01}, ("exp_avg", "exp_avg_sq")),
    ("AdamW", {"lr": 0.01, "amsgrad": True}, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5},
     ("square_avg", "grad_avg", "momentum_buffer")),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}, ("sum",)),
]
COUNTING = [case for case in CASES if case[0] != "SGD"]     # the ones that keep a step count
SHAPES = [(3, 4), (5,)]
TOL = {"rtol": 1e-6, "atol": 1e-6}
STEP_TYPE_ERROR = ("API has changed, `state_steps` argument must contain a list of singleton "
                   "tensors")


def _ids(cases):
    return ["%s-%s" % (name, "-".join("%s=%s" % kv for kv in kw.items())) for name, kw, _ in cases]


def _arrays(dtype=np.float32):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _grads(n, dtype=np.float32):
    rng = np.random.default_rng(1)
    return [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(n)]


def _steps(params, opt, grads, make):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = make(g.copy())
        opt.step()


def _pair(torch, name, kw, dtype=np.float32):
    """Our optimizer and torch's, each over its own copy of the same parameters."""
    arrays = _arrays(dtype)
    ours = [autograd_c.tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return (ours, getattr(optim, name)(ours, **kw),
            theirs, getattr(torch.optim, name)(theirs, foreach=False, **kw))


def _assert_close(ours, theirs):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)


def _with_states(state_dict, convert):
    """state_dict with each parameter's state entry (key, value) replaced by convert's value."""
    out = dict(state_dict)
    out["state"] = {i: {key: convert(key, value) for key, value in state.items()}
                    for i, state in state_dict["state"].items()}
    return out


def _assert_loaded(opt, params, keys, step_value=None):
    """The loaded state holds our Tensors: buffers of their parameter's dtype, a 0-d float32
    step count."""
    for p in params:
        state = opt.state[p]
        for key in keys:
            assert type(state[key]) is autograd_c.Tensor, key
            assert state[key].dtype == p.dtype and state[key].shape == p.shape, key
        if step_value is not None:
            step = state["step"]
            assert type(step) is autograd_c.Tensor
            assert step.dtype == autograd_c.float32 and step.shape == ()
            assert step.item() == step_value


# -- what torch accepts, converted on loading -----------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, kw, keys", CASES, ids=_ids(CASES))
def test_a_torch_optimizers_state_dict_loads_and_steps_like_torch(name, kw, keys, dtype):
    torch = pytest.importorskip("torch")
    grads = _grads(6, dtype)
    _, _, theirs, opt_t = _pair(torch, name, kw, dtype)
    _steps(theirs, opt_t, grads[:3], torch.tensor)
    ours = [autograd_c.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    opt_o = getattr(optim, name)(ours, **kw)
    opt_o.load_state_dict(opt_t.state_dict())
    _assert_loaded(opt_o, ours, keys, None if name == "SGD" else 3)
    _steps(theirs, opt_t, grads[3:], torch.tensor)
    _steps(ours, opt_o, grads[3:], autograd_c.tensor)
    _assert_close(ours, theirs)


@pytest.mark.parametrize("name, kw, keys", CASES, ids=_ids(CASES))
def test_torch_state_of_another_dtype_takes_the_parameters_dtype_but_step_keeps_its_own(
        name, kw, keys):
    torch = pytest.importorskip("torch")
    _, _, theirs, opt_t = _pair(torch, name, kw, np.float64)
    _steps(theirs, opt_t, _grads(2, np.float64), torch.tensor)
    saved = _with_states(opt_t.state_dict(), lambda key, v: v.long() if key == "step" else v)
    p32 = [torch.tensor(p.detach().numpy().astype(np.float32), requires_grad=True)
           for p in theirs]
    expected = getattr(torch.optim, name)(p32, foreach=False, **kw)
    expected.load_state_dict(saved)
    ours = [autograd_c.tensor(p.detach().numpy(), requires_grad=True) for p in p32]
    opt_o = getattr(optim, name)(ours, **kw)
    opt_o.load_state_dict(saved)
    for p_o, p_t in zip(ours, p32):
        for key, value in expected.state[p_t].items():
            assert str(opt_o.state[p_o][key].dtype).split(".")[-1] == \
                str(value.dtype).split(".")[-1], key
    if name != "SGD":
        assert opt_o.state[ours[0]]["step"].dtype == autograd_c.int64


@pytest.mark.parametrize("step", [3, 3.0, np.int64(3)], ids=["int", "float", "numpy-int"])
@pytest.mark.parametrize("name, kw, keys", COUNTING, ids=_ids(COUNTING))
def test_a_plain_number_step_loads_as_a_step_tensor_as_in_torch(name, kw, keys, step):
    torch = pytest.importorskip("torch")
    grads = _grads(6)
    ours, opt_o, theirs, opt_t = _pair(torch, name, kw)
    _steps(ours, opt_o, grads[:3], autograd_c.tensor)
    _steps(theirs, opt_t, grads[:3], torch.tensor)
    plain = lambda key, v: step if key == "step" else v     # noqa: E731
    reloaded_o = getattr(optim, name)(ours, **kw)
    reloaded_o.load_state_dict(_with_states(opt_o.state_dict(), plain))
    reloaded_t = getattr(torch.optim, name)(theirs, foreach=False, **kw)
    reloaded_t.load_state_dict(_with_states(opt_t.state_dict(), plain))
    _assert_loaded(reloaded_o, ours, keys, 3)
    assert reloaded_t.state[theirs[0]]["step"].dtype == torch.float32
    _steps(ours, reloaded_o, grads[3:], autograd_c.tensor)
    _steps(theirs, reloaded_t, grads[3:], torch.tensor)
    _assert_close(ours, theirs)


def test_a_plain_number_step_survives_pickling_as_a_step_tensor():
    import pickle
    p = autograd_c.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p])
    p.grad = autograd_c.tensor([0.5, 0.5])
    opt.step()
    opt.state[p]["step"] = 1
    restored = pickle.loads(pickle.dumps(opt))
    (state,) = restored.state.values()
    assert type(state["step"]) is autograd_c.Tensor and state["step"].item() == 1


@pytest.mark.parametrize("name, kw, keys", CASES, ids=_ids(CASES))
def test_numpy_state_loads_as_tensors_of_the_parameters_dtype(name, kw, keys):
    torch = pytest.importorskip("torch")
    grads = _grads(6)
    ours, opt_o, theirs, opt_t = _pair(torch, name, kw)
    _steps(ours, opt_o, grads[:3], autograd_c.tensor)
    _steps(theirs, opt_t, grads[:3], torch.tensor)

    def as_numpy(key, value):
        if key == "step":
            return np.array(value.item(), dtype=np.float32)
        return value.numpy().astype(np.float64)     # cast back to the float32 parameter's

    saved = _with_states(opt_o.state_dict(), as_numpy)
    reloaded = getattr(optim, name)(ours, **kw)
    reloaded.load_state_dict(saved)
    _assert_loaded(reloaded, ours, keys, None if name == "SGD" else 3)
    # a copy: the loaded state does not share memory with the arrays it came from
    first = saved["state"][0][keys[0]]
    first += 1
    _steps(ours, reloaded, grads[3:], autograd_c.tensor)
    _steps(theirs, opt_t, grads[3:], torch.tensor)
    _assert_close(ours, theirs)


# -- what torch refuses: the wrong type (checked in a child process) ------------------------------

CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import autograd_c
    import autograd_c.optim as optim

    name, kw, corruptions = json.loads(sys.argv[1])
    results = []
    for key, expression in corruptions:
        params = [autograd_c.ones(3, 4, requires_grad=True), autograd_c.ones(5, requires_grad=True)]
        opt = getattr(optim, name)(params, **kw)
        for p in params:
            p.grad = autograd_c.full_like(p, 0.5)
        opt.step()
        before = [p.detach().numpy().copy() for p in params]
        first_step = opt.state[params[0]].get("step")
        first_count = None if first_step is None else first_step.item()
        # the second parameter's state is the bad one: nothing may be updated before the error
        opt.state[params[1]][key] = eval(expression)
        try:
            opt.step()
            results.append(["no error", "", True])
        except Exception as e:
            untouched = all((p.detach().numpy() == b).all() for p, b in zip(params, before))
            if first_step is not None:
                untouched = untouched and first_step.item() == first_count
            results.append([type(e).__name__, str(e), bool(untouched)])
    print(json.dumps(results))
""")


def _run_isolated(name, kw, corruptions):
    """Our optimizer stepped with each corruption of its state, in a child process; returns
    [exception type, message, whether parameters and step counts were left untouched]."""
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(autograd_c.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [package_root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps([name, kw, corruptions])],
                          capture_output=True, text=True, timeout=300, env=env,
                          cwd=tempfile.gettempdir())
    assert done.returncode == 0, "child exited with %d: %s" % (done.returncode,
                                                               done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name, kw, keys", CASES, ids=_ids(CASES))
def test_state_of_the_wrong_type_raises_a_clear_error_and_updates_nothing(name, kw, keys):
    corruptions, expected = [], []
    for key in keys:
        for expression, type_name in (("np.zeros(5, dtype=np.float32)", "numpy.ndarray"),
                                      ("'abc'", "str"), ("[0.0] * 5", "list")):
            corruptions.append([key, expression])
            expected.append(["TypeError", "optimizer state '%s' must be a Tensor, not %s"
                             % (key, type_name), True])
        if name != "SGD":       # SGD starts a new momentum buffer where it finds None
            corruptions.append([key, "None"])
            expected.append(["TypeError", "optimizer state '%s' must be a Tensor, not NoneType"
                             % key, True])
    if name != "SGD":
        for expression in ("3", "3.0", "np.float32(3)", "'3'"):
            corruptions.append(["step", expression])
            expected.append(["RuntimeError", STEP_TYPE_ERROR, True])
    assert _run_isolated(name, kw, corruptions) == expected


@pytest.mark.parametrize("name, kw, keys", COUNTING, ids=_ids(COUNTING))
def test_a_plain_number_step_put_in_the_state_raises_torchs_error(name, kw, keys):
    torch = pytest.importorskip("torch")
    p = torch.ones(3, requires_grad=True)
    opt = getattr(torch.optim, name)([p], foreach=False, **kw)
    p.grad = torch.ones(3)
    opt.step()
    opt.state[p]["step"] = 3
    with pytest.raises(RuntimeError) as theirs:
        opt.step()
    assert str(theirs.value) == STEP_TYPE_ERROR
    assert _run_isolated(name, kw, [["step", "3"]]) == [["RuntimeError", STEP_TYPE_ERROR, True]]


# -- what torch refuses: the wrong shape --------------------------------------------------------

BAD_SHAPES = [(4,), (2, 3), (1,), (), (3, 1), (1, 3)]


def _bad_shape_error(lib, make_opt, key, shape):
    """(type, message) of the step after parameter 1's state `key` became zeros of shape."""
    params = [lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)]
    opt = make_opt(params)
    for p in params:
        p.grad = lib.full((p.shape[0],), 0.5)
    opt.step()
    before = [p.detach().numpy().copy() for p in params]
    opt.state[params[1]][key] = lib.zeros(shape)
    with pytest.raises(Exception) as info:
        opt.step()
    untouched = all((p.detach().numpy() == b).all() for p, b in zip(params, before))
    return type(info.value).__name__, str(info.value), untouched


@pytest.mark.parametrize("shape", BAD_SHAPES, ids=str)
@pytest.mark.parametrize("name, kw, keys", CASES, ids=_ids(CASES))
def test_state_of_the_wrong_shape_raises_torchs_error_and_updates_nothing(name, kw, keys, shape):
    torch = pytest.importorskip("torch")
    for key in keys:
        kind, message, untouched = _bad_shape_error(
            autograd_c, lambda ps: getattr(optim, name)(ps, **kw), key, shape)
        their_kind, their_message, _ = _bad_shape_error(
            torch, lambda ps: getattr(torch.optim, name)(ps, foreach=False, **kw), key, shape)
        assert (kind, message) == (their_kind, their_message), key
        assert untouched, key


def test_a_step_count_of_several_elements_raises_torchs_error():
    torch = pytest.importorskip("torch")
    for lib, opt_module, extra in ((autograd_c, optim, {}),
                                   (torch, torch.optim, {"foreach": False})):
        p = lib.ones(3, requires_grad=True)
        opt = opt_module.Adam([p], **extra)
        p.grad = lib.ones(3)
        opt.step()
        opt.state[p]["step"] = lib.zeros(2)
        with pytest.raises(RuntimeError, match="^a Tensor with 2 elements cannot be converted "
                                               "to Scalar$"):
            opt.step()


# -- state the kernels leave to the Python formulas ---------------------------------------------

def test_amsgrad_turned_on_after_the_first_step_raises_keyerror_as_in_torch():
    torch = pytest.importorskip("torch")
    for lib, opt_module, extra in ((autograd_c, optim, {}),
                                   (torch, torch.optim, {"foreach": False})):
        p = lib.ones(3, requires_grad=True)
        opt = opt_module.Adam([p], **extra)
        p.grad = lib.ones(3)
        opt.step()
        opt.param_groups[0]["amsgrad"] = True
        with pytest.raises(KeyError, match="max_exp_avg_sq"):
            opt.step()


def test_an_integer_max_exp_avg_sq_raises_torchs_error_instead_of_truncating():
    torch = pytest.importorskip("torch")
    messages = []
    for lib, opt_module, extra in ((autograd_c, optim, {}),
                                   (torch, torch.optim, {"foreach": False})):
        p = lib.ones(3, requires_grad=True)
        opt = opt_module.AdamW([p], amsgrad=True, **extra)
        p.grad = lib.ones(3)
        opt.step()
        opt.state[p]["max_exp_avg_sq"] = lib.zeros(3, dtype=lib.int64)
        with pytest.raises(RuntimeError) as info:
            opt.step()
        messages.append(str(info.value))
    assert messages[0] == messages[1] == ("result type Float can't be cast to the desired output "
                                          "type Long")


@pytest.mark.parametrize("name, kw, keys", CASES, ids=_ids(CASES))
def test_float16_parameters_with_torch_state_take_the_python_formulas_like_torch(name, kw, keys):
    torch = pytest.importorskip("torch")
    grads = _grads(4, np.float16)
    _, _, theirs, opt_t = _pair(torch, name, kw, np.float16)
    _steps(theirs, opt_t, grads[:2], torch.tensor)
    ours = [autograd_c.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    opt_o = getattr(optim, name)(ours, **kw)
    opt_o.load_state_dict(opt_t.state_dict())
    _assert_loaded(opt_o, ours, keys, None if name == "SGD" else 2)
    _steps(theirs, opt_t, grads[2:], torch.tensor)
    _steps(ours, opt_o, grads[2:], autograd_c.tensor)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy().astype(np.float32),
                                   b.detach().numpy().astype(np.float32), rtol=2e-3, atol=2e-3)
