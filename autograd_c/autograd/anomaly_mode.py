"""Anomaly detection (torch.autograd.detect_anomaly / set_detect_anomaly).

While it is on, each node recorded keeps the stack of the forward call that made it; an error
in backward first warns with that stack, and (with check_nan) a NaN in a gradient is an error
that names the node that produced it.
"""
import warnings

from autograd_c import _C

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


def is_anomaly_enabled():
    return _C._anomaly_state()[0]


def is_anomaly_check_nan_enabled():
    return _C._anomaly_state()[1]


class detect_anomaly:
    """A context manager (and decorator) that turns anomaly detection on inside it."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self.previous = _C._anomaly_state()
        _C._set_anomaly(True, self.check_nan)

    def __exit__(self, *exc):
        _C._set_anomaly(*self.previous)
        return False

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turns anomaly detection on or off at once; used as a context manager, restores the
    previous setting on exit."""

    def __init__(self, mode, check_nan=True):
        self.previous = _C._anomaly_state()
        _C._set_anomaly(bool(mode), bool(check_nan))

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _C._set_anomaly(*self.previous)
        return False
