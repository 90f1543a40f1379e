"""torch's thread-count API over the thread pools autograd_c actually runs on: numpy's BLAS
(every matrix product and convolution) and any OpenMP pool loaded in the process.

The intra-op default is torch's: the number of physical cores this process may run on, or
MKL_NUM_THREADS / OMP_NUM_THREADS when set, capped at those cores (torch's x86 builds take
MKL's count, and MKL never exceeds the physical cores). threadpoolctl costs about 30 ms to
import, so it is only imported when a pool has to change or be read.
"""
import os
import re

_INT_MAX = 2 ** 31 - 1
_LLONG_MAX = 2 ** 63 - 1
# A BLAS's own variable outranks the default for that BLAS, as it would without us.
_BLAS_OWN_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "BLIS_NUM_THREADS")
_INTEROP_LOCKED = ("Error: cannot set number of interop threads after parallel work has "
                   "started or set_num_interop_threads called")

_num_threads = None          # the intra-op count in force once known
_num_interop_threads = None  # set at most once, as in torch


def _env_count(name):
    """A positive count from an environment variable, read the way C's stoi reads it
    (leading digits, so "4,2" is 4); None when unset or not a positive number."""
    match = re.match(r"\s*\+?(\d+)", os.environ.get(name, ""))
    count = int(match.group(1)) if match else 0
    return count if count > 0 else None


def _physical_cores(cpus):
    """Distinct cores behind the logical CPUs `cpus` (hyperthreads share one), from Linux's
    sysfs; where that is unreadable, every logical CPU counts as a core."""
    cores = set()
    for cpu in cpus:
        topology = "/sys/devices/system/cpu/cpu%d/topology/" % cpu
        for siblings in ("core_cpus_list", "thread_siblings_list"):
            try:
                with open(topology + siblings) as f:
                    cores.add(f.read().strip())
                break
            except OSError:
                continue
        else:
            return len(cpus)
    return len(cores) or 1


def _usable_cpus():
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def default_num_threads():
    """torch's default intra-op thread count on this machine."""
    cores = _physical_cores(_usable_cpus())
    requested = _env_count("MKL_NUM_THREADS") or _env_count("OMP_NUM_THREADS")
    return min(requested, cores) if requested else cores


def _blas_own_variable_set():
    return any(_env_count(name) for name in _BLAS_OWN_VARIABLES)


def _limit_pools(count):
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=count)


def _blas_count():
    """The threads numpy's BLAS is set to use (the first BLAS threadpoolctl finds)."""
    from threadpoolctl import threadpool_info
    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return counts[0] if counts else 1


def apply_default_at_import():
    """Bring the pools to the default only where they could differ from it. A BLAS left to
    itself runs one thread per usable logical CPU, or OMP_NUM_THREADS if fewer; so it already
    matches unless the cores are hyperthreaded or MKL_NUM_THREADS asks for fewer threads."""
    global _num_threads
    if _blas_own_variable_set():
        return
    default = default_num_threads()
    usable = len(_usable_cpus())
    blas_own_choice = min(_env_count("OMP_NUM_THREADS") or usable, usable)
    if default != blas_own_choice:
        _limit_pools(default)
        _num_threads = default


def _check_count(n, function):
    """torch's argument checks, in torch's words; a count beyond a C int, which torch
    silently truncates, is refused."""
    if not _is_torch_int(n):
        raise RuntimeError("%s expects an int, but got %s" % (function, _type_name(n)))
    n = int(n)
    if n > _LLONG_MAX or n < -_LLONG_MAX - 1:
        raise ValueError("Overflow when unpacking long long")
    if n <= 0:
        raise RuntimeError("%s expects a positive integer" % function)
    if n > _INT_MAX:
        raise ValueError("%s expects a thread count that fits in a C int, but got %d"
                         % (function, n))
    return n


def _is_torch_int(n):
    if isinstance(n, int):
        return not isinstance(n, bool)
    module = type(n).__module__
    return module == "numpy" and hasattr(n, "dtype") and n.dtype.kind in "iu"


def _type_name(obj):
    """The type's name as CPython's tp_name gives it: C types outside builtins carry their
    module (numpy.float64), Python classes do not."""
    kind = type(obj)
    is_python_class = kind.__flags__ & (1 << 9)  # Py_TPFLAGS_HEAPTYPE
    if is_python_class or kind.__module__ == "builtins":
        return kind.__name__
    return "%s.%s" % (kind.__module__, kind.__qualname__)


def set_num_threads(n):
    """Use `n` threads in numpy's BLAS and in any OpenMP pool loaded so far, for the rest of
    the process (a pool loaded later keeps its own count)."""
    global _num_threads
    n = _check_count(n, "set_num_threads")
    _limit_pools(n)
    _num_threads = n


def get_num_threads():
    global _num_threads
    if _num_threads is None:
        _num_threads = _blas_count() if _blas_own_variable_set() else default_num_threads()
    return _num_threads


def set_num_interop_threads(n):
    """Accepted once, as in torch. autograd_c runs no inter-op work, so the count is only
    recorded."""
    global _num_interop_threads
    n = _check_count(n, "set_num_interop_threads")
    if _num_interop_threads is not None:
        raise RuntimeError(_INTEROP_LOCKED)
    _num_interop_threads = n


def get_num_interop_threads():
    """torch's default is the machine's physical cores, whatever the affinity or variables."""
    if _num_interop_threads is not None:
        return _num_interop_threads
    return _physical_cores(list(range(os.cpu_count() or 1)))
