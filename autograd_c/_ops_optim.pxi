# Optimizer steps over a whole param group, in compiled code (csrc/optim.c).
#
# The Python optimizers gather each group's parameters, gradients and state buffers into lists
# and make one call here; the loop over parameters and the update of each run in C. A parameter
# the kernels cannot take (a dtype other than float32/float64, a non-contiguous array, state of
# another dtype) is left alone and its index returned, for the optimizer's Python formulas.
# Every array written in place has its version bumped, as torch's in-place updates do, so a
# graph that saved a parameter before the step still refuses to backward through the new values.
#
# The lists come from the optimizer's state, which users write to and load from files, so the
# whole group is checked before anything is updated: each state buffer must be a Tensor of its
# parameter's shape (the kernels index it with the parameter's size) and each step count a
# Tensor, with the errors torch's own update ops give.


cdef str qualified_type_name(object x):
    t = type(x)
    if t.__module__ == "builtins":
        return t.__name__
    return "%s.%s" % (t.__module__, t.__qualname__)


cdef check_state(Tensor p, object t, str key):
    """A state buffer must be a Tensor of p's shape; the error for another shape is the one
    torch's in-place update of the buffer (by the gradient) or of p (by the buffer) gives."""
    if not isinstance(t, Tensor):
        raise TypeError("optimizer state '%s' must be a Tensor, not %s"
                        % (key, qualified_type_name(t)))
    cdef cnp.ndarray s = (<Tensor>t).array
    if same_shape(s, p.array):
        return
    shape = broadcast_shapes(shp(s), shp(p.array))      # raises when they do not broadcast
    written = shp(s) if shape != shp(s) else shp(p.array)
    raise RuntimeError("output with shape %s doesn't match the broadcast shape %s"
                       % (shape_str(written), shape_str(shape)))


cdef check_step(object t, bint read):
    """A step count must be a Tensor (torch refuses older torch's plain numbers here; loading a
    state dict converts them); one whose value the update reads must have one element."""
    if not isinstance(t, Tensor):
        raise RuntimeError("API has changed, `state_steps` argument must contain a list of "
                           "singleton tensors")
    cdef Py_ssize_t n = cnp.PyArray_SIZE((<Tensor>t).array)
    if read and n != 1:
        raise RuntimeError("a Tensor with %d elements cannot be converted to Scalar" % n)


cdef check_group(list params, list grads, tuple states, tuple keys, tuple required,
                 list steps, bint read_step):
    """Check a group before the kernels or the Python formulas touch any of it: states[j][i]
    is parameter i's buffer keys[j], which may be None only where required[j] is false."""
    cdef Py_ssize_t i, j
    cdef Tensor p, g
    for i in range(len(params)):
        p, g = <Tensor?>params[i], <Tensor?>grads[i]
        for j in range(len(keys)):
            t = (<list>states[j])[i]
            if t is not None or required[j]:
                check_state(p, t, keys[j])
        if steps is not None:
            check_step(steps[i], read_step)


cdef inline int fused_code(Tensor p, object others):
    """The kernel dtype code when p and each tensor in others (None skipped) share one C
    contiguous float32/float64 layout of the same shape; -1 otherwise."""
    cdef int k = kernel_code(p.array)
    if k < 0 or not cnp.PyArray_ISWRITEABLE(p.array):
        return -1
    for t in others:
        if t is not None and kernel_code_pair(p.array, (<Tensor?>t).array) != k:
            return -1
    return k


cdef inline void* data_of(object t):
    return cnp.PyArray_DATA((<Tensor?>t).array) if t is not None else NULL


cdef inline void count_step(Tensor step):
    step.array[...] += 1
    bump_version(step)


cdef inline double advance_step(Tensor step):
    """Counts one more step in the 0-d state tensor step; returns the new count read back from
    the tensor, as torch's formulas read it (a float32 count, not an exact integer)."""
    count_step(step)
    return float(step.array.reshape(()))


cdef inline void bump_versions(tuple written):
    for t in written:
        if t is not None:
            bump_version(<Tensor?>t)


def _sgd_step(list params, list grads, list bufs, double lr, double momentum, double dampening,
              double weight_decay, bint nesterov, bint maximize):
    """SGD on params[i] with grads[i]; bufs[i] is the momentum buffer or None (then a new one is
    put in its place when momentum is used). Returns the indices left to the caller."""
    cdef ag_sgd_options o
    o.lr, o.momentum, o.dampening, o.weight_decay = lr, momentum, dampening, weight_decay
    o.nesterov, o.maximize = nesterov, maximize
    cdef list left = []
    cdef Py_ssize_t i
    cdef Tensor p, g
    cdef int k
    check_group(params, grads, (bufs,), ("momentum_buffer",), (False,), None, False)
    for i in range(len(params)):
        p, g = <Tensor?>params[i], <Tensor?>grads[i]
        k = fused_code(p, (g, bufs[i]))
        if k < 0:
            left.append(i)
            continue
        o.first_step = momentum != 0 and bufs[i] is None
        if o.first_step:
            bufs[i] = new_tensor(empty_like_array(p.array))
        ag_sgd_step(k, p.array.size, cnp.PyArray_DATA(p.array), cnp.PyArray_DATA(g.array),
                    data_of(bufs[i]), &o)
        bump_version(p)
        if momentum != 0:
            bump_version(<Tensor?>bufs[i])
    return left


def _adam_step(list params, list grads, list exp_avgs, list exp_avg_sqs, list max_exp_avg_sqs,
               list steps, double lr, double beta1, double beta2, double eps,
               double weight_decay, bint decoupled, bint maximize, bint amsgrad):
    """Adam/AdamW on params[i]; the state lists hold Tensors (max_exp_avg_sqs[i] None without
    amsgrad), steps[i] the 0-d step count, incremented here. Returns the indices left."""
    cdef ag_adam_options o
    o.lr, o.beta1, o.beta2, o.eps, o.weight_decay = lr, beta1, beta2, eps, weight_decay
    o.decoupled, o.maximize = decoupled, maximize
    cdef list left = []
    cdef Py_ssize_t i
    cdef Tensor p, g
    cdef double n
    cdef int k
    check_group(params, grads, (exp_avgs, exp_avg_sqs, max_exp_avg_sqs),
                ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), (True, True, amsgrad), steps, True)
    for i in range(len(params)):
        p, g = <Tensor?>params[i], <Tensor?>grads[i]
        k = fused_code(p, (g, exp_avgs[i], exp_avg_sqs[i], max_exp_avg_sqs[i]))
        if k < 0:
            left.append(i)
            continue
        n = advance_step(<Tensor?>steps[i])
        o.step_size = lr / (1 - beta1 ** n)
        o.bias_correction2_sqrt = (1 - beta2 ** n) ** 0.5
        ag_adam_step(k, p.array.size, cnp.PyArray_DATA(p.array), cnp.PyArray_DATA(g.array),
                     data_of(exp_avgs[i]), data_of(exp_avg_sqs[i]), data_of(max_exp_avg_sqs[i]),
                     &o)
        bump_versions((p, exp_avgs[i], exp_avg_sqs[i], max_exp_avg_sqs[i]))
    return left


def _rmsprop_step(list params, list grads, list square_avgs, list grad_avgs,
                  list momentum_buffers, list steps, double lr, double alpha, double eps,
                  double weight_decay, double momentum, bint maximize, bint centered):
    """RMSprop on params[i]; grad_avgs[i] is None unless centered, momentum_buffers[i] None
    unless momentum > 0; steps[i] the 0-d step count, incremented here. Returns the indices
    left."""
    cdef ag_rmsprop_options o
    o.lr, o.alpha, o.eps, o.weight_decay, o.momentum = lr, alpha, eps, weight_decay, momentum
    o.maximize = maximize
    cdef list left = []
    cdef Py_ssize_t i
    cdef Tensor p, g
    cdef int k
    check_group(params, grads, (square_avgs, grad_avgs, momentum_buffers),
                ("square_avg", "grad_avg", "momentum_buffer"), (True, centered, momentum > 0),
                steps, False)
    for i in range(len(params)):
        p, g = <Tensor?>params[i], <Tensor?>grads[i]
        k = fused_code(p, (g, square_avgs[i], grad_avgs[i], momentum_buffers[i]))
        if k < 0:
            left.append(i)
            continue
        count_step(<Tensor?>steps[i])      # RMSprop counts steps but never reads them
        ag_rmsprop_step(k, p.array.size, cnp.PyArray_DATA(p.array), cnp.PyArray_DATA(g.array),
                        data_of(square_avgs[i]), data_of(grad_avgs[i]),
                        data_of(momentum_buffers[i]), &o)
        bump_versions((p, square_avgs[i], grad_avgs[i], momentum_buffers[i]))
    return left


def _adagrad_step(list params, list grads, list state_sums, list steps, double lr,
                  double lr_decay, double eps, double weight_decay, bint maximize):
    """Adagrad on params[i] with the accumulator state_sums[i]; steps[i] is the 0-d step count,
    incremented here. Returns the indices left."""
    cdef ag_adagrad_options o
    o.eps, o.weight_decay, o.maximize = eps, weight_decay, maximize
    cdef list left = []
    cdef Py_ssize_t i
    cdef Tensor p, g
    cdef int k
    check_group(params, grads, (state_sums,), ("sum",), (True,), steps, True)
    for i in range(len(params)):
        p, g = <Tensor?>params[i], <Tensor?>grads[i]
        k = fused_code(p, (g, state_sums[i]))
        if k < 0:
            left.append(i)
            continue
        # each parameter's own step count decays its learning rate
        o.clr = lr / (1 + (advance_step(<Tensor?>steps[i]) - 1) * lr_decay)
        ag_adagrad_step(k, p.array.size, cnp.PyArray_DATA(p.array), cnp.PyArray_DATA(g.array),
                        data_of(state_sums[i]), &o)
        bump_versions((p, state_sums[i]))
    return left
