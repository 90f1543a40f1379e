"""gradcheck: compare the engine's gradients with central finite differences."""
import warnings

import numpy as np

from autograd_c._C import Tensor, _from_array, _run_backward
from autograd_c.autograd.grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical Jacobians disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _leaf_copies(inputs):
    """Fresh leaves sharing storage with the inputs, so the check owns their .grad."""
    out = []
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad:
            out.append(x.detach().requires_grad_(True))
        else:
            out.append(x)
    return tuple(out)


def _outputs(func, inputs):
    outs = _as_tuple(func(*inputs))
    return tuple(o for o in outs if isinstance(o, Tensor) and o.dtype.is_floating_point)


def _analytical(func, inputs, wrt):
    """J[i][k, j] = d out_k / d input_i[j], one backward per output element."""
    outputs = _outputs(func, inputs)
    jac = [[np.zeros((inputs[i].numel(), o.numel())) for o in outputs] for i in wrt]
    for o_index, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for k in range(out.numel()):
            for i in wrt:
                inputs[i].grad = None
            seed = np.zeros(out.numel(), dtype=out.numpy(force=True).dtype)
            seed[k] = 1
            _run_backward((out,), (_from_array(seed.reshape(tuple(out.shape))),), True)
            for n, i in enumerate(wrt):
                g = inputs[i].grad
                if g is not None:
                    jac[n][o_index][:, k] = g.numpy().reshape(-1)
    return jac


def _numerical(func, inputs, wrt, eps):
    """Central differences, perturbing each input element in place and restoring it."""
    jac = []
    with no_grad():
        reference = _outputs(func, inputs)
        for i in wrt:
            arr = inputs[i].numpy(force=True)
            per_input = [np.zeros((arr.size, o.numel())) for o in reference]
            for j in range(arr.size):
                idx = np.unravel_index(j, arr.shape)
                original = arr[idx]
                arr[idx] = original + eps
                plus = [o.numpy(force=True).astype(np.float64).reshape(-1) for o in _outputs(func, inputs)]
                arr[idx] = original - eps
                minus = [o.numpy(force=True).astype(np.float64).reshape(-1) for o in _outputs(func, inputs)]
                arr[idx] = original
                for o_index in range(len(reference)):
                    per_input[o_index][j] = (plus[o_index] - minus[o_index]) / (2 * eps)
            jac.append(per_input)
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """True when func's gradients match finite differences; else GradcheckError (or False)."""
    inputs = _leaf_copies(_as_tuple(inputs))
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i in wrt:
        if inputs[i].dtype.name != "float64":
            warnings.warn("Input #%d requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex." % i, UserWarning)
    analytical = _analytical(func, inputs, wrt)
    numerical = _numerical(func, inputs, wrt, eps)
    for n, i in enumerate(wrt):
        for o_index, (a, num) in enumerate(zip(analytical[n], numerical[n])):
            if not np.allclose(a, num, rtol=rtol, atol=atol, equal_nan=True):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    "Jacobian mismatch for output %d with respect to input %d,\nnumerical:%s\n"
                    "analytical:%s\n" % (o_index, i, _from_array(num.copy()),
                                         _from_array(a.copy())))
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of func's gradients: the second derivatives, through the graph that
    autograd.grad(..., create_graph=True) records, against finite differences of the first.
    Without grad_outputs, random ones in [-1, 1] that require grad are used, so the
    derivatives with respect to them are checked too."""
    from autograd_c import _creation
    from autograd_c.autograd import grad

    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = tuple(o for o in _as_tuple(func(*inputs))
                        if isinstance(o, Tensor) and o.requires_grad)
        grad_outputs = tuple((_creation.rand(tuple(o.shape), dtype=o.dtype) * 2 - 1)
                             .requires_grad_(True) for o in outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    count = len(grad_outputs)

    def first_derivatives(*args):
        input_args, seeds = args[:-count], args[-count:]
        with enable_grad():         # gradcheck's finite differences run under no_grad
            outputs = tuple(o for o in _as_tuple(func(*input_args))
                            if isinstance(o, Tensor) and o.requires_grad)
            wrt = tuple(x for x in input_args if isinstance(x, Tensor) and x.requires_grad)
            grads = grad(outputs, wrt, seeds, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
