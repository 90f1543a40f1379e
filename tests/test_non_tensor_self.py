"""Tensor's methods called with something other than a Tensor as `self` raise TypeError.

They are reachable that way as `Tensor.numel(1.5)` and through the module's aliases
(`autograd_c.floor(1.5)`), and once read a float's memory as a Tensor's. The calls run in a
child process, so that a regression shows as a failing test, not a crashed suite."""
import subprocess
import tempfile
import sys

CHILD = r"""
import autograd_c as ac
checked = 0
for name in sorted(vars(ac.Tensor)):
    method = vars(ac.Tensor)[name]
    if name.startswith("__") or not callable(method) or isinstance(method, (staticmethod, classmethod)):
        continue
    for bad in (1.5, "x", None, [1.0]):
        try:
            method(bad)
        except TypeError as e:
            assert "doesn't apply to a" in str(e) or "must be" in str(e), (name, str(e))
        else:
            raise SystemExit("Tensor.%s(%r) returned" % (name, bad))
    checked += 1
for name in ("floor", "ceil", "round", "clone", "detach", "numel", "relu_", "exp", "abs"):
    try:
        getattr(ac, name)(1.5)
    except TypeError:
        pass
    else:
        raise SystemExit("autograd_c.%s(1.5) returned" % name)
print(checked)
"""


def test_methods_refuse_a_non_tensor_self_without_crashing():
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=120, cwd=tempfile.gettempdir())
    assert done.returncode == 0, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert int(done.stdout.split()[-1]) > 100      # the whole method table was tried
