"""inference_mode: no graph, inference tensors, and torch's refusals outside the mode."""
import pytest

import autograd_c as ac

try:
    import torch
except ImportError:  # the torch-free tests still run
    torch = None

LIBS = ["autograd_c"] + (["torch"] if torch is not None else [])


def lib_of(name):
    return ac if name == "autograd_c" else torch


@pytest.mark.parametrize("name", LIBS)
def test_tensors_made_inside_are_inference_tensors_without_graph(name):
    lib = lib_of(name)
    w = lib.ones(3, requires_grad=True)
    with lib.inference_mode():
        assert lib.is_inference_mode_enabled() and not lib.is_grad_enabled()
        x = lib.ones(3)
        y = w * 2
        assert x.is_inference() and y.is_inference()
        assert not y.requires_grad and y.grad_fn is None
    assert not lib.is_inference_mode_enabled() and lib.is_grad_enabled()
    assert not w.is_inference() and not x.clone().is_inference()
    with lib.inference_mode(False):
        assert not lib.ones(1).is_inference()


@pytest.mark.parametrize("name", LIBS)
def test_refusals_outside_the_mode(name):
    lib = lib_of(name)
    with lib.inference_mode():
        x = lib.ones(3)
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor "
                                           "outside InferenceMode is not allowed."):
        x.requires_grad_()
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside "
                                           "InferenceMode is not allowed"):
        x.add_(1)
    with lib.no_grad():                      # no_grad is not inference mode
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor"):
            x.mul_(2)
    w = lib.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        x * w                                  # mul saves x for w's gradient
    (x + w).sum().backward()                   # add saves nothing: allowed, as in torch
    assert w.grad.tolist() == [1.0, 1.0, 1.0]
    z = x.clone() * w                          # a clone is a normal tensor
    assert z.grad_fn is not None


def test_decorator_and_in_place_inside():
    @ac.inference_mode()
    def double(t):
        t.mul_(1)                              # in place on a normal tensor inside: fine
        return t * 2

    out = double(ac.ones(2))
    assert out.is_inference() and ac.is_grad_enabled()
    with ac.inference_mode():
        out.add_(1)                            # inside the mode an inference tensor may change
    assert out.tolist() == [3.0, 3.0]
