"""Thread counts: torch's API, torch's default and torch's errors, over numpy's BLAS.

The default is torch's rule: one thread per physical core this process may run on, or
MKL_NUM_THREADS / OMP_NUM_THREADS when set, capped at those cores. Subprocesses check the
default at import, since the running process has its count changed by other tests.
"""
import json
import os
import subprocess
import tempfile
import sys

import numpy as np
import pytest
import threadpoolctl

import autograd_c as torch

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "GOTO_NUM_THREADS", "BLIS_NUM_THREADS")
INTEROP_LOCKED = ("Error: cannot set number of interop threads after parallel work has "
                  "started or set_num_interop_threads called")


@pytest.fixture(autouse=True)
def restore_thread_count():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def blas_thread_counts():
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
            if pool["user_api"] == "blas"]


def physical_cores(cpus):
    """Cores (socket, core id) behind the logical CPUs `cpus`, read independently of the
    implementation's sibling lists."""
    cores = set()
    for cpu in cpus:
        topology = "/sys/devices/system/cpu/cpu%d/topology/" % cpu
        with open(topology + "physical_package_id") as socket, open(topology + "core_id") as core:
            cores.add((socket.read().strip(), core.read().strip()))
    return len(cores)


def physical_cores_available():
    return physical_cores(os.sched_getaffinity(0))


def run_fresh(code, env_changes=None, cpus=None):
    """Run `code` in a new interpreter whose thread variables are unset except those in
    `env_changes`; returns what it printed as JSON."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env.update(env_changes or {})
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, preexec_fn=pin, timeout=120, cwd=tempfile.gettempdir())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


OURS_AT_IMPORT = """
import json, sys
import autograd_c
imported_threadpoolctl = "threadpoolctl" in sys.modules
import threadpoolctl
blas = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
print(json.dumps([autograd_c.get_num_threads(), blas, autograd_c.get_num_interop_threads(),
                  imported_threadpoolctl]))
"""
TORCH_AT_IMPORT = """
import json, torch
print(json.dumps([torch.get_num_threads(), torch.get_num_interop_threads()]))
"""


# -- set and get --------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [1, 2, 3])
def test_get_returns_what_set_set(count):
    torch.set_num_threads(count)
    assert torch.get_num_threads() == count
    assert type(torch.get_num_threads()) is int


@pytest.mark.parametrize("count", [1, 2])
def test_set_limits_numpy_blas(count):
    assert blas_thread_counts(), "numpy's BLAS should be visible to threadpoolctl"
    torch.set_num_threads(count)
    assert blas_thread_counts() == [count] * len(blas_thread_counts())


def test_set_limits_every_openmp_pool_loaded():
    pytest.importorskip("torch")  # brings libgomp
    torch.set_num_threads(1)
    pools = threadpoolctl.threadpool_info()
    assert any(pool["user_api"] == "openmp" for pool in pools)
    assert all(pool["num_threads"] == 1 for pool in pools)


def test_numpy_integer_counts_are_accepted_as_torch_accepts_them():
    torch.set_num_threads(np.int64(1))
    assert torch.get_num_threads() == 1 and type(torch.get_num_threads()) is int
    assert blas_thread_counts()[0] == 1


# -- errors -------------------------------------------------------------------------------------

BAD_COUNTS = [
    (0, RuntimeError, "{} expects a positive integer"),
    (-1, RuntimeError, "{} expects a positive integer"),
    (1.5, RuntimeError, "{} expects an int, but got float"),
    ("2", RuntimeError, "{} expects an int, but got str"),
    (None, RuntimeError, "{} expects an int, but got NoneType"),
    (True, RuntimeError, "{} expects an int, but got bool"),
    ([1], RuntimeError, "{} expects an int, but got list"),
    (np.float64(1.0), RuntimeError, "{} expects an int, but got numpy.float64"),
    (np.bool_(True), RuntimeError, "{} expects an int, but got numpy.bool"),
    (2 ** 70, ValueError, "Overflow when unpacking long long"),
]


def raised_by(function, value):
    with pytest.raises(Exception) as info:
        function(value)
    return type(info.value), str(info.value)


@pytest.mark.parametrize("name", ["set_num_threads", "set_num_interop_threads"])
@pytest.mark.parametrize("value, error, message", BAD_COUNTS, ids=repr)
def test_bad_counts_raise_torchs_errors(name, value, error, message):
    before = (torch.get_num_threads(), blas_thread_counts())
    assert raised_by(getattr(torch, name), value) == (error, message.format(name))
    assert (torch.get_num_threads(), blas_thread_counts()) == before


@pytest.mark.parametrize("name", ["set_num_threads", "set_num_interop_threads"])
@pytest.mark.parametrize("value", [value for value, _, _ in BAD_COUNTS], ids=repr)
def test_bad_counts_raise_as_torch_raises(name, value):
    real = pytest.importorskip("torch")
    assert raised_by(getattr(torch, name), value) == raised_by(getattr(real, name), value)


def test_count_beyond_a_c_int_is_refused_not_truncated():
    # torch truncates 2**32 + 1 to a C int and silently uses one thread
    with pytest.raises(ValueError, match="fits in a C int"):
        torch.set_num_threads(2 ** 32 + 1)


# -- the default --------------------------------------------------------------------------------

def test_default_is_one_thread_per_physical_core_in_force_at_import():
    threads, blas, interop, imported_threadpoolctl = run_fresh(OURS_AT_IMPORT)
    assert threads == physical_cores_available()
    assert blas == [threads] * len(blas)
    assert interop == physical_cores(range(os.cpu_count()))  # torch ignores affinity here
    if threads == len(os.sched_getaffinity(0)):
        # the BLAS already runs that many threads: import leaves it, and threadpoolctl, alone
        assert not imported_threadpoolctl


@pytest.mark.parametrize("env", [{}, {"OMP_NUM_THREADS": "1"}, {"MKL_NUM_THREADS": "1"},
                                 {"OMP_NUM_THREADS": "64"},
                                 {"OMP_NUM_THREADS": "64", "MKL_NUM_THREADS": "1"},
                                 {"OMP_NUM_THREADS": "not a number"}], ids=repr)
def test_default_follows_torchs_rule(env):
    pytest.importorskip("torch")
    threads, blas, interop, _ = run_fresh(OURS_AT_IMPORT, env)
    assert [threads, interop] == run_fresh(TORCH_AT_IMPORT, env)
    assert blas == [threads] * len(blas)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two usable CPUs")
def test_default_counts_only_the_cpus_this_process_may_use():
    one_cpu = {min(os.sched_getaffinity(0))}
    threads, blas, _, _ = run_fresh(OURS_AT_IMPORT, cpus=one_cpu)
    assert threads == 1 and blas == [1] * len(blas)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two usable CPUs")
def test_default_on_one_cpu_is_torchs():
    pytest.importorskip("torch")
    one_cpu = {min(os.sched_getaffinity(0))}
    threads, _, interop, _ = run_fresh(OURS_AT_IMPORT, cpus=one_cpu)
    assert [threads, interop] == run_fresh(TORCH_AT_IMPORT, cpus=one_cpu)


def test_blas_own_variable_is_left_in_force():
    threads, blas, _, _ = run_fresh(OURS_AT_IMPORT, {"OPENBLAS_NUM_THREADS": "1"})
    assert threads == 1 and blas == [1] * len(blas)


# -- interop threads: settable once, as in torch ------------------------------------------------

INTEROP_TWICE = """
import json, sys
lib = __import__(sys.argv[1])
default = lib.get_num_interop_threads()
lib.set_num_interop_threads(3)
seen = lib.get_num_interop_threads()
errors = []
for value in (4, 3, 0):
    try:
        lib.set_num_interop_threads(value)
    except Exception as e:
        errors.append([type(e).__name__, str(e)])
print(json.dumps([default, seen, errors, lib.get_num_interop_threads()]))
"""


def interop_twice(module):
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    done = subprocess.run([sys.executable, "-c", INTEROP_TWICE, module], capture_output=True,
                          text=True, env=env, timeout=120, cwd=tempfile.gettempdir())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_interop_threads_can_be_set_once():
    default, seen, errors, after = interop_twice("autograd_c")
    assert default == physical_cores(range(os.cpu_count()))
    assert seen == 3 and after == 3
    assert errors == [["RuntimeError", INTEROP_LOCKED], ["RuntimeError", INTEROP_LOCKED],
                      ["RuntimeError", "set_num_interop_threads expects a positive integer"]]


def test_interop_threads_behave_as_torchs():
    pytest.importorskip("torch")
    assert interop_twice("autograd_c") == interop_twice("torch")
