"""Higher-level differentiation of functions (torch.autograd.functional): vjp, jvp, jacobian,
hessian, hvp and vhp.

Each runs the function on tensors that share the inputs' values and differentiates with
autograd.grad. Without create_graph those are fresh leaves and the results are detached; with
it they are views of the inputs, so the results keep their history back to the caller's
tensors. The Jacobian takes one backward pass per output element. jvp and hvp use the double
backward trick: a vector-Jacobian product is linear in its vector u, so differentiating it
with respect to u gives the Jacobian-vector product in two reverse passes.
"""
from autograd_c import _C, _creation
from autograd_c._C import Tensor
from autograd_c.autograd import grad as autograd_grad
from autograd_c.autograd.grad_mode import enable_grad, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(value, arg_name, fn_name):
    """(tuple of tensors, whether value was a tuple), with torch's type errors."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            if is_tuple:
                raise TypeError("The %s given to %s must be either a Tensor or a tuple of "
                                "Tensors but the value at index %d has type %s."
                                % (arg_name, fn_name, i, type(item)))
            raise TypeError("The %s given to %s must be either a Tensor or a tuple of Tensors "
                            "but the given %s has type %s."
                            % (arg_name, fn_name, arg_name, type(item)))
    return items, is_tuple


def _prepare(inputs, create_graph, need_graph=True):
    """The tensors func runs on: views keeping the caller's history when create_graph (and the
    input has one), else fresh leaves."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad
                 else x.detach().requires_grad_(need_graph) for x in inputs)


def _finish(tensors, create_graph, is_tuple):
    tensors = tuple(t if create_graph or t is None else t.detach() for t in tensors)
    return tensors if is_tuple else tensors[0]


def _check_requires_grad(tensors, kind, strict):
    """torch's strict-mode errors for a result that does not depend on what it should."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError("The output of the user-provided function is independent of "
                               "input %d. This is not allowed in strict mode." % i)
        if t.requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError("The hessian of the user-provided function with respect to input "
                               "%d is independent of the input. This is not allowed in strict "
                               "mode. You should ensure that your function is thrice "
                               "differentiable and that the hessian depends on the inputs." % i)
        if kind == "jacobian":
            raise RuntimeError("While computing the hessian, found that the jacobian of the "
                               "user-provided function with respect to input %d is independent "
                               "of the input. This is not allowed in strict mode. You should "
                               "ensure that your function is twice differentiable and that the "
                               "jacobian depends on the inputs (this would be violated by a "
                               "linear function for example)." % i)
        if kind == "grad_inputs":
            raise RuntimeError("The gradient with respect to input %d is independent of the "
                               "inputs of the user-provided function. This is not allowed in "
                               "strict mode." % i)
        raise RuntimeError("Output %d of the user-provided function does not require gradients. "
                           "The outputs must be computed in a differentiable manner from the "
                           "input when running in strict mode." % i)


_MISSING_MESSAGES = {
    "back": "The output of the user-provided function is independent of input %d. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry %d in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input %d. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry %d "
                         "in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros where a gradient is None, or torch's strict-mode error naming the stage."""
    out = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_MISSING_MESSAGES[stage] % i)
            g = _creation.zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError("The %s of the user-provided function is independent of input "
                               "%d. This is not allowed in strict mode when create_graph=True."
                               % ("hessian" if stage.startswith("double") else "jacobian", i))
        out.append(g)
    return tuple(out)


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad; all None when none does."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return autograd_grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                         retain_graph=retain_graph, create_graph=create_graph,
                         allow_unused=True)


def _vector(v, inputs, is_inputs_tuple, fn_name, create_graph):
    """v checked against inputs (torch's errors); None only for a one-element single input."""
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        return None
    vs, _ = _as_tuple(v, "v", fn_name)
    vs = _prepare(vs, create_graph, need_graph=False)
    if len(vs) != len(inputs):
        if is_inputs_tuple:
            raise RuntimeError("v is a tuple of invalid length: should be %d but got %d."
                               % (len(inputs), len(vs)))
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(vs, inputs)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError("%sv has invalid size: should be %s but got %s."
                               % ("Entry %d in " % i if is_inputs_tuple else "", b.shape, a.shape))
    return vs


def _single_output(outputs, is_tuple, fn_name):
    if is_tuple or len(outputs) != 1:
        raise RuntimeError("The function given to %s should return a single Tensor" % fn_name)
    if outputs[0].numel() != 1:
        raise RuntimeError("The Tensor returned by the function given to %s should contain a "
                           "single element" % fn_name)


def _run(func, inputs, fn_name, create_graph, strict):
    """func on the prepared inputs: (inputs, whether a tuple, outputs, whether a tuple)."""
    inputs, in_is_tuple = _as_tuple(inputs, "inputs", fn_name)
    inputs = _prepare(inputs, create_graph)
    outputs, out_is_tuple = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                      fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    return inputs, in_is_tuple, outputs, out_is_tuple


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at inputs."""
    with enable_grad():
        inputs, in_is_tuple, outputs, out_is_tuple = _run(func, inputs, "vjp", create_graph,
                                                          strict)
        if v is None:
            if len(outputs) != 1 or outputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function "
                                   "returns a single Tensor with a single element.")
        else:
            v = _vector(v, outputs, out_is_tuple, "vjp", create_graph)
    with set_grad_enabled(True if create_graph else _C.is_grad_enabled()):
        grads = _grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "back")
    return _finish(outputs, create_graph, out_is_tuple), _finish(result, create_graph, in_is_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product at inputs, by the double backward
    trick."""
    with enable_grad():
        inputs, in_is_tuple, outputs, out_is_tuple = _run(func, inputs, "jvp", create_graph,
                                                          strict)
        v = _vector(v, inputs, in_is_tuple, "jvp", create_graph)
        # the product is linear in u, so u's value never matters; zeros cannot make NaNs
        us = tuple(_creation.zeros_like(o).requires_grad_(True) for o in outputs)
        grad_inputs = _grad(outputs, inputs, us, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else _C.is_grad_enabled()):
        grads = _grad(grad_inputs, us, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, outputs, strict, create_graph, "back_trick")
    return _finish(outputs, create_graph, out_is_tuple), _finish(result, create_graph, out_is_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of func at inputs: for output i and input j a tensor of shape
    output_i.shape + input_j.shape, nested as torch nests them."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         'Hint: If your function has more outputs than inputs, "forward-mode" '
                         'tends to be more performant. Otherwise, prefer to use '
                         '"reverse-mode".')
    with enable_grad():
        inputs, in_is_tuple, outputs, out_is_tuple = _run(func, inputs, "jacobian", create_graph,
                                                          strict)
        table = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            flat = out.reshape(-1)
            for k in range(flat.numel()):
                for j, g in enumerate(_grad((flat[k],), inputs, retain_graph=True,
                                            create_graph=create_graph)):
                    rows[j].append(_jacobian_row(g, inputs[j], i, j, strict, create_graph))
            table.append(tuple(_stack_rows(rows[j], out, inputs[j]) for j in range(len(inputs))))
    table = tuple(tuple(_finish(row, create_graph, True)) for row in table)
    if not out_is_tuple and not in_is_tuple:
        return table[0][0]
    if not out_is_tuple:
        return table[0]
    if not in_is_tuple:
        return tuple(row[0] for row in table)
    return table


def _jacobian_row(g, x, i, j, strict, create_graph):
    if g is None:
        if strict:
            raise RuntimeError("Output %d of the user-provided function is independent of input "
                               "%d. This is not allowed in strict mode." % (i, j))
        return _creation.zeros_like(x)
    if strict and create_graph and not g.requires_grad:
        raise RuntimeError("The jacobian of the user-provided function is independent of input "
                           "%d. This is not allowed in strict mode when create_graph=True." % i)
    return g


def _stack_rows(rows, out, x):
    shape = tuple(out.shape) + tuple(x.shape)
    if not rows:
        return _creation.zeros(shape, dtype=x.dtype)
    return _C.stack(rows).reshape(shape)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar func at inputs: the Jacobian of its gradient, nested per pair
    of inputs as torch nests it."""
    _, in_is_tuple = _as_tuple(inputs, "inputs", "hessian")

    def single_output(*xs):
        outputs, is_tuple = _as_tuple(func(*xs), "outputs of the user-provided function",
                                      "hessian")
        _check_requires_grad(outputs, "outputs", strict)
        _single_output(outputs, is_tuple, "hessian")
        return outputs[0].squeeze()

    def gradient(*xs):
        jac = jacobian(single_output, xs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      strategy=outer_jacobian_strategy)
    return result if in_is_tuple else result[0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar func: the gradient's vector-Jacobian product."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar func, by the double backward trick (for a twice
    continuously differentiable func H is symmetric and vhp gives the same, faster)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, fn_name):
    with enable_grad():
        inputs, in_is_tuple, outputs, out_is_tuple = _run(func, inputs, fn_name, create_graph,
                                                          strict)
        v = _vector(v, inputs, in_is_tuple, fn_name, create_graph)
        _single_output(outputs, out_is_tuple, fn_name)
        jac = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        if fn_name == "hvp":
            us = tuple(_creation.zeros_like(x).requires_grad_(True) for x in inputs)
            double_back = _grad(jac, inputs, us, create_graph=True)
            _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else _C.is_grad_enabled()):
        if fn_name == "vhp":
            grads = _grad(jac, inputs, v, create_graph=create_graph)
            result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back")
        else:
            grads = _grad(double_back, us, v, create_graph=create_graph)
            result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back_trick")
    return _finish(outputs, create_graph, False), _finish(result, create_graph, in_is_tuple)
