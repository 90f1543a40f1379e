"""Running one call in a forked child, for tests that must survive a crash or a hang of it.

The child's address space is limited (a huge allocation fails there instead of swapping the
machine to death), and its answer comes back pickled through a pipe. The parent waits with a
deadline, so a hang is reported, not waited out, and a child killed by a signal is reported as
a crash, not a crash of the test run."""
import os
import pickle
import resource
import select
import signal
import time


def vm_size():
    """This process's mapped address space, in bytes (0 where /proc is missing)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def run_forked(fn, args, *, extra_address_space, timeout, describe_exception,
               prepare_child=None):
    """fn(*args) in a forked child. Returns ("ok", value), describe_exception(e) for an
    exception fn raised, or ("crash", description) when the child was killed by a signal, hung
    past `timeout` seconds, or exited without an answer. prepare_child() runs first in the
    child, after the address-space limit is set."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            limit = vm_size() + extra_address_space
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            if prepare_child is not None:
                prepare_child()
            try:
                result = ("ok", fn(*args))
            except BaseException as e:                         # noqa: B902 - reported
                result = describe_exception(e)
            try:
                data = pickle.dumps(result)
            except BaseException as e:                         # noqa: B902 - reported
                data = pickle.dumps(describe_exception(
                    pickle.PicklingError("the answer could not be pickled: %r" % e)))
            view = memoryview(data)
            while view:
                view = view[os.write(w, view):]
        finally:
            os._exit(0)
    os.close(w)
    return _collect(pid, r, timeout)


def _collect(pid, r, timeout):
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return ("crash", "no answer within %.0f s (hung?)" % timeout)
            ready, _, _ = select.select([r], [], [], left)
            if ready:
                chunk = os.read(r, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = signal.Signals(os.WTERMSIG(status))
        if sig == signal.SIGALRM:
            return ("crash", "hung (its alarm went off)")
        return ("crash", "killed by %s" % sig.name)
    if not chunks:
        return ("crash", "exited with status %d without an answer" % os.WEXITSTATUS(status))
    return pickle.loads(b"".join(chunks))
