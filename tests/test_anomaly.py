"""Anomaly mode: forward stacks on nodes, NaN checks in backward, errors that name the node."""
import warnings

import pytest

import autograd_c as ac

try:
    import torch
except ImportError:  # the torch-free tests still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")

pytestmark = pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")


def nan_in_backward(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt()                                   # the line the warning must point at
    (y * 0).sum().backward()                       # inf * 0 in SqrtBackward0


@pytest.mark.parametrize("lib_name", ["autograd_c", "torch"])
def test_nan_in_a_gradient_names_the_node(lib_name):
    lib = ac if lib_name == "autograd_c" else pytest.importorskip("torch")
    with lib.autograd.detect_anomaly():
        with pytest.warns(UserWarning, match="Error detected in SqrtBackward0") as caught:
            with pytest.raises(RuntimeError, match=r"^Function 'SqrtBackward0' returned nan "
                                                   r"values in its 0th output\.$"):
                nan_in_backward(lib)
    message = "\n".join(str(w.message) for w in caught)
    assert "Traceback of forward call that caused the error" in message
    assert "y = x.sqrt()" in message


def test_off_by_default_and_restored_after_the_block():
    assert not ac.is_anomaly_enabled()
    x = ac.tensor([0.0, 1.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()                # NaN passes silently, as in torch
    assert x.grad.isnan().tolist() == [True, False]
    with ac.autograd.detect_anomaly(check_nan=False):
        assert ac.is_anomaly_enabled() and not ac.is_anomaly_check_nan_enabled()
        x.grad = None
        (x.sqrt() * 0).sum().backward()            # check_nan=False: no error
        assert x.grad.isnan().tolist() == [True, False]
    assert not ac.is_anomaly_enabled() and ac.is_anomaly_check_nan_enabled()


def test_set_detect_anomaly_as_a_call_and_as_a_context():
    ac.autograd.set_detect_anomaly(True)
    try:
        assert ac.is_anomaly_enabled()
        with ac.autograd.set_detect_anomaly(False):
            assert not ac.is_anomaly_enabled()
        assert ac.is_anomaly_enabled()
    finally:
        ac.autograd.set_detect_anomaly(False)
    assert not ac.is_anomaly_enabled()


def test_forward_stack_is_kept_only_in_anomaly_mode():
    x = ac.tensor([1.0, 2.0], requires_grad=True)
    assert "traceback_" not in (x * 2).grad_fn.metadata
    with ac.autograd.detect_anomaly():
        y = x * 2
    stack = y.grad_fn.metadata["traceback_"]
    assert any("y = x * 2" in frame for frame in stack)


def test_an_error_in_a_custom_backward_warns_with_the_forward_stack():
    class Broken(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("broken backward")

    x = ac.tensor([1.0], requires_grad=True)
    with ac.autograd.detect_anomaly():
        out = Broken.apply(x)
        with pytest.warns(UserWarning, match="Error detected in BrokenBackward"):
            with pytest.raises(ValueError, match="broken backward"):
                out.sum().backward()
    out = Broken.apply(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # off: the error comes with no warning
        with pytest.raises(ValueError, match="broken backward"):
            out.sum().backward()


def test_anomaly_mode_leaves_gradients_unchanged():
    x = ac.tensor([0.5, 1.5, -2.0], dtype=ac.float64, requires_grad=True)
    (x.exp() * x).sum().backward()
    plain = x.grad.tolist()
    x.grad = None
    with ac.autograd.detect_anomaly():
        (x.exp() * x).sum().backward()
    assert x.grad.tolist() == plain


def test_enabling_warns_like_torch():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled. This mode will "
                                         "increase the runtime and should only be enabled for "
                                         "debugging."):
        warnings.simplefilter("always")
        with ac.autograd.detect_anomaly():
            pass
