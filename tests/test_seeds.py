"""Every code cell of the seed tutorials runs with autograd_c as torch and
prints what the tutorial prints (one test per cell, e.g. ``seed001-In[12]``).

Each notebook runs once per session, cells in order in one namespace (see
seed_cells.py for parsing and running); each test asserts on its cell's record.

SEED_TARGET=torch runs the seeds on the real torch instead of autograd_c.  It
exists only to validate this harness (all cells pass on torch 2.13); the
project's tests use the default, autograd_c as installed.
"""

import builtins
import functools
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # seed_cells, wherever pytest roots
import seed_cells  # noqa: E402

TARGET = os.environ.get("SEED_TARGET", "autograd_c")

try:
    SEEDS = seed_cells.load_seeds()
except seed_cells.SeedsMissing as missing:
    pytest.skip(str(missing), allow_module_level=True)

# The ResNet-18 cells: torchvision.models.resnet18 is autograd_c.models.resnet18 here (see
# seed_cells._torchvision_stand_in). Beyond printing nothing, as the tutorials' cells do, the
# checks below ask that the training step really ran: logits of the right shape, a gradient
# for every parameter, and parameters moved by the SGD step.
RESNET_CELLS = {
    "000": {"forward": "11", "backward": "12", "step": "15"},
    "002": {"forward": "9", "backward": "10", "step": "12"},
}

# Cells whose printed numbers come from torch.randn/torch.rand: compared by
# structure (seed_cells.structure_pattern) plus the relation in RELATIONS.
# Every other cell is compared exactly, including 001 In[11] (random `a`, but
# it prints only False/True/<SumBackward0 ...>) and 004 In[24] (b.grad is -1).
RANDOM_CELLS = {
    "001": {"12", "25", "26"},  # a = f(randn) and b; the doubling loop; x.grad
    "004": {"14", "15", "17", "19", "21", "23", "26"},  # W, b, x, output, loss, W.grad, new W
}

RELATIONS = {}  # (seed, label) -> check(ns, memo), run right after the cell


def relation(seed, label):
    def register(check):
        RELATIONS[seed, label] = check
        return check
    return register


def arr(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def close(actual, desired):
    np.testing.assert_allclose(actual, desired, rtol=1e-5, atol=1e-6)


@relation("001", "12")
def _b_is_sum_of_squares(ns, memo):
    close(arr(ns["b"]), (arr(ns["a"]) ** 2).sum())


@relation("001", "25")
def _y_is_first_doubling_of_norm_10(ns, memo):
    y, i = arr(ns["y"]), ns["i"]
    close(y, arr(ns["x"]) * 2.0 ** (i + 1))
    assert np.linalg.norm(y) >= 10 and (i == 0 or np.linalg.norm(y / 2) < 10)


@relation("001", "26")
def _vjp_of_doublings(ns, memo):  # y = x * 2**(i+1), so x.grad = v * 2**(i+1)
    close(arr(ns["x"].grad), arr(ns["v"]) * 2.0 ** (ns["i"] + 1))


@relation("004", "19")
def _linear(ns, memo):
    close(arr(ns["output"]), arr(ns["x"]) @ arr(ns["W"]) + arr(ns["b"]))


@relation("004", "21")
def _loss(ns, memo):
    close(arr(ns["loss"]), 1 - arr(ns["output"]))


@relation("004", "23")
def _w_grad(ns, memo):  # d(1 - xW - b)/dW = -x.T
    close(arr(ns["W"].grad), -arr(ns["x"]).T)
    memo["W"], memo["W.grad"] = arr(ns["W"]), arr(ns["W"].grad)  # for In[26]


@relation("004", "24")
def _b_grad(ns, memo):
    close(arr(ns["b"].grad), [-1.0])


@relation("004", "26")
def _sgd_step(ns, memo):
    close(arr(ns["W"]), memo["W"] - 0.001 * memo["W.grad"])


def _resnet_checks(seed, cells):
    @relation(seed, cells["forward"])
    def _logits(ns, memo):
        assert tuple(ns["prediction"].shape) == (1, 1000)
        memo["before step"] = [arr(p).copy() for p in ns["model"].parameters()]

    @relation(seed, cells["backward"])
    def _every_parameter_has_a_gradient(ns, memo):
        params = list(ns["model"].parameters())
        assert len(params) == 62 and all(p.grad is not None for p in params)
        assert all(np.isfinite(arr(p.grad)).all() for p in params)

    @relation(seed, cells["step"])
    def _sgd_moved_the_parameters(ns, memo):
        after = [arr(p) for p in ns["model"].parameters()]
        lr = ns["optim"].param_groups[0]["lr"]
        for p, old, new in zip(ns["model"].parameters(), memo["before step"], after):
            close(new, old - lr * arr(p.grad))  # first step: momentum buffer is the gradient


for _seed, _cells in RESNET_CELLS.items():
    _resnet_checks(_seed, _cells)


@functools.cache
def notebook(seed):
    """Results of running seed `seed` once, one per cell (None: skipped)."""
    memo = {}

    def after_cell(cell, ns):
        check = RELATIONS.get((cell.seed, cell.label))
        if check:
            check(ns, memo)

    return seed_cells.run_notebook(SEEDS[seed], TARGET, after_cell=after_cell)


@pytest.mark.parametrize(
    "seed, index",
    [pytest.param(seed, i, id=cell.test_id) for seed, cells in SEEDS.items() for i, cell in enumerate(cells)],
)
def test_cell(seed, index):
    cell = SEEDS[seed][index]
    result = notebook(seed)[index]
    expected = seed_cells.normalise(cell.expected, expected=True)

    shown_exc = cell.expected_exception()
    if shown_exc:  # the tutorial shows this cell raising: same type, same message
        name, message = shown_exc
        assert result.exc is not None, f"expected {name}: {message}, but the cell ran"
        assert isinstance(result.exc, getattr(builtins, name)), result.traceback
        assert str(result.exc) == message
        expected = expected.rpartition("\n")[0]  # the rest is what was printed before
    elif result.exc is not None:
        pytest.fail(f"cell raised:\n{result.traceback}", pytrace=False)

    actual = seed_cells.normalise(result.stdout)
    if cell.label in RANDOM_CELLS.get(seed, ()):
        pattern = seed_cells.structure_pattern(expected)
        assert pattern.fullmatch(actual), (
            f"output differs in structure from the tutorial's\n--- expected (numbers may vary):\n"
            f"{expected}\n--- actual:\n{actual}"
        )
    else:
        assert actual == expected
    if result.check_error:
        pytest.fail(f"relation check failed after the cell:\n{result.check_error}", pytrace=False)
