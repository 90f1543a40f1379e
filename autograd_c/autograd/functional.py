"""Higher-level differentiation of functions (torch.autograd.functional): vjp, jvp, jacobian.

Each runs the function on fresh leaves that share the inputs' values and differentiates with
autograd.grad. jvp and the Jacobian go through reverse mode, one backward pass per output
element for the Jacobian. The Hessian family needs gradients of gradients (create_graph), which
autograd_c does not record yet.
"""
from autograd_c import _C, _creation
from autograd_c._C import Tensor
from autograd_c.autograd import grad as autograd_grad
from autograd_c.autograd.grad_mode import enable_grad

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


def _fresh_leaves(inputs):
    return tuple(x.detach().requires_grad_(True) for x in inputs)


def _run(func, inputs, fn_name):
    leaves = _fresh_leaves(inputs)
    with enable_grad():
        out = func(*leaves)
    outputs, out_is_tuple = _as_tuple(out, "outputs of the user-provided function", fn_name)
    return leaves, outputs, out_is_tuple


def _no_create_graph(create_graph, fn_name):
    if create_graph:
        raise NotImplementedError("%s(create_graph=True) needs gradients of gradients, which "
                                  "are not supported yet" % fn_name)


def _grads(outputs, leaves, grad_outputs, strict, retain, output_index=0):
    """Gradients of outputs (weighted by grad_outputs) with respect to each leaf; zeros for a
    leaf the outputs do not depend on, or an error with strict."""
    needing = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not needing:
        if strict:
            raise RuntimeError("Output %d of the user-provided function is independent of "
                               "input 0. This is not allowed in strict mode." % output_index)
        return tuple(_creation.zeros_like(x) for x in leaves)
    grads = autograd_grad([o for o, _ in needing], leaves, [g for _, g in needing],
                          retain_graph=retain, allow_unused=True)
    result = []
    for i, (x, g) in enumerate(zip(leaves, grads)):
        if g is None:
            if strict:
                raise RuntimeError("Output %d of the user-provided function is independent of "
                                   "input %d. This is not allowed in strict mode."
                                   % (output_index, i))
            g = _creation.zeros_like(x)
        result.append(g)
    return tuple(result)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at inputs."""
    _no_create_graph(create_graph, "vjp")
    inputs, in_is_tuple = _as_tuple(inputs, "inputs", "vjp")
    leaves, outputs, out_is_tuple = _run(func, inputs, "vjp")
    if v is None:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        vs = (_creation.ones_like(outputs[0]),)
    else:
        vs, _ = _as_tuple(v, "v", "vjp")
        if len(vs) != len(outputs):
            raise RuntimeError("v is a tuple of invalid length: should be %d but got %d."
                               % (len(outputs), len(vs)))
    result = _grads(outputs, leaves, vs, strict, retain=False)
    detached = tuple(o.detach() for o in outputs)
    return (detached if out_is_tuple else detached[0],
            result if in_is_tuple else result[0])


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of func at inputs: for output i and input j a tensor of shape
    output_i.shape + input_j.shape, nested as torch nests them."""
    _no_create_graph(create_graph, "jacobian")
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         'Hint: If your function has more outputs than inputs, "forward-mode" '
                         'tends to be more performant. Otherwise, prefer to use '
                         '"reverse-mode".')
    inputs, in_is_tuple = _as_tuple(inputs, "inputs", "jacobian")
    leaves, outputs, out_is_tuple = _run(func, inputs, "jacobian")
    table = []
    for i, out in enumerate(outputs):
        rows = [[] for _ in leaves]
        flat = out.reshape(-1)
        for k in range(flat.numel()):
            onehot = _creation.zeros_like(flat)
            onehot[k] = 1.0
            grads = _grads((out,), leaves, (onehot.reshape(out.shape),), strict, retain=True,
                           output_index=i)
            for j, g in enumerate(grads):
                rows[j].append(g)
        table.append(tuple(_stack_rows(rows[j], out, leaves[j]) for j in range(len(leaves))))
    if not out_is_tuple and not in_is_tuple:
        return table[0][0]
    if not out_is_tuple:
        return table[0]
    if not in_is_tuple:
        return tuple(row[0] for row in table)
    return tuple(table)


def _stack_rows(rows, out, leaf):
    shape = tuple(out.shape) + tuple(leaf.shape)
    if not rows:
        return _creation.zeros(shape, dtype=leaf.dtype)
    return _C.stack(rows).reshape(shape)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product at inputs, from the Jacobian."""
    _no_create_graph(create_graph, "jvp")
    inputs, in_is_tuple = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        vs = (_creation.ones_like(inputs[0]),)
    else:
        vs, _ = _as_tuple(v, "v", "jvp")
    leaves, outputs, out_is_tuple = _run(func, inputs, "jvp")
    products = []
    for out in outputs:
        total = _creation.zeros(out.numel(), dtype=out.dtype)
        flat = out.reshape(-1)
        for k in range(flat.numel()):
            onehot = _creation.zeros_like(flat)
            onehot[k] = 1.0
            grads = _grads((out,), leaves, (onehot.reshape(out.shape),), strict, retain=True)
            total[k] = sum(float((g * vj).sum()) for g, vj in zip(grads, vs))
        products.append(total.reshape(out.shape))
    detached = tuple(o.detach() for o in outputs)
    return (detached if out_is_tuple else detached[0],
            tuple(products) if out_is_tuple else products[0])


def _needs_second_order(name):
    def unsupported(*args, **kwargs):
        raise NotImplementedError("autograd.functional.%s needs gradients of gradients "
                                  "(create_graph=True), which are not supported yet" % name)
    unsupported.__name__ = name
    return unsupported


hessian = _needs_second_order("hessian")
hvp = _needs_second_order("hvp")
vhp = _needs_second_order("vhp")
