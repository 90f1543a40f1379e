# Elementwise ops. The hot ones (unary functions, + - * /) run C kernels from csrc/ when their
# operands are C-contiguous float32/float64 of one shape, and numpy otherwise; the rest use
# numpy with a gradient rule from the table near the end of this file.

# -- recording a node ---------------------------------------------------------------------------

cdef inline bint tracked(Tensor t):
    """t.needs_grad, first brought up to date for a view whose storage was written in place
    since it was made (the write may have given its base a history)."""
    if is_stale_view(t):
        refresh_view(t)
    return t.needs_grad


cdef inline bint wants_grad(Tensor t):
    return tracked(t) and ag_grad_enabled()


cdef inline void attach(Tensor out, Node node):
    out.grad_fn_ = node
    out.needs_grad = True
    if anomaly_enabled:
        remember_forward_stack(node)


cdef Tensor record(Tensor out, str name, object rule, object ctx, tuple inputs, bint saves=False):
    """Give `out` a RuleNode when grad mode is on and some input requires grad."""
    if not ag_grad_enabled():
        return out
    cdef bint needed = False
    for x in inputs:
        if isinstance(x, Tensor) and tracked(<Tensor>x):
            needed = True
            break
    if not needed:
        return out
    cdef RuleNode node = RuleNode.__new__(RuleNode)
    node.name_ = name
    node.rule = rule
    node.ctx = ctx
    node.has_saved = saves
    node.set_edges(inputs)
    attach(out, node)
    return out


cdef inline void save_checked(Tensor out, int slot, Tensor t, int source):
    """Version-check t's storage at backward time (no-op when out recorded no node)."""
    if out.grad_fn_ is not None:
        out.grad_fn_.save(slot, t, source)


cdef Tensor tensor_argument(object x, str fn, str name, int pos):
    if isinstance(x, Tensor):
        return <Tensor>x
    raise TypeError("%s(): argument '%s' (position %d) must be Tensor, not %s"
                    % (fn, name, pos, type(x).__name__))


cdef inline Tensor as_tensor_arg(object x, str fn):
    if isinstance(x, Tensor):
        return <Tensor>x
    return tensor_argument(x, fn, "input", 1)


cdef tuple broadcast_shapes(tuple a, tuple b):
    """The broadcast shape, with torch's error naming both sizes."""
    cdef Py_ssize_t na = len(a), nb = len(b), n = na if na > nb else nb, i
    out = [0] * n
    for i in range(n):
        da = a[na - n + i] if na - n + i >= 0 else 1
        db = b[nb - n + i] if nb - n + i >= 0 else 1
        if da != db and da != 1 and db != 1:
            raise RuntimeError("The size of tensor a (%d) must match the size of tensor b (%d) at "
                               "non-singleton dimension %d" % (da, db, i))
        out[i] = db if da == 1 else da
    return tuple(out)


cdef object operand_array(object x, dtype dt):
    """x (a Tensor or a scalar) as an array or numpy scalar of dtype dt, for numpy ufuncs."""
    if isinstance(x, Tensor):
        arr = (<Tensor>x).array
        if cnp.PyArray_TYPE(arr) != dt.typenum:
            arr = arr.astype(dt.numpy_dtype)
        return arr
    return dt.numpy_dtype.type(x)


# -- unary functions with C kernels -------------------------------------------------------------

UNARY_NAMES = ("NegBackward0", "AbsBackward0", "ExpBackward0", "LogBackward0", "Log2Backward0",
               "Log10Backward0", "SqrtBackward0", "RsqrtBackward0", "SinBackward0",
               "CosBackward0", "TanhBackward0", "SigmoidBackward0", "ReluBackward0",
               "ReciprocalBackward0")

# What each op's derivative reads: its input (x), its output (y), or nothing.
cdef enum:
    READS_NOTHING = 0
    READS_INPUT = 1
    READS_OUTPUT = 2

cdef int UNARY_READS[14]
UNARY_READS[:] = [READS_NOTHING, READS_INPUT, READS_OUTPUT, READS_INPUT, READS_INPUT,
                  READS_INPUT, READS_OUTPUT, READS_OUTPUT, READS_INPUT, READS_INPUT,
                  READS_OUTPUT, READS_OUTPUT, READS_OUTPUT, READS_OUTPUT]


cdef class UnaryBackward(Node):

    cdef int apply(self, cnp.ndarray grad) except -1:
        cdef cnp.ndarray saved, g, gx
        if self.op == AG_NEG:
            gx = negate(grad)
        else:
            saved = <cnp.ndarray>self.saved0
            g = grad if cnp.PyArray_TYPE(grad) == cnp.PyArray_TYPE(saved) else grad.astype(saved.dtype)
            g = c_contiguous(g)
            gx = empty_like_array(saved)
            run_unary_backward(self.op, kernel_code(saved), cnp.PyArray_DATA(g),
                              cnp.PyArray_DATA(saved), cnp.PyArray_DATA(saved),
                              cnp.PyArray_DATA(gx), cnp.PyArray_SIZE(saved))
        if self.input_dtype is not None:
            gx = gx.astype(self.input_dtype)
        self.out0 = gx
        return 0

    def name(self):
        return UNARY_NAMES[self.op]


cdef Tensor unary_op(int op, object x_obj):
    cdef Tensor x = as_tensor_arg(x_obj, UNARY_NAMES[op][:-9].lower())
    cdef cnp.ndarray a = x.array, out
    cdef int k = kernel_code(a)
    cdef object result_dtype = None
    if k < 0:
        dt = dtype_of_array(a)
        if dt.category != CAT_FLOAT and op in (AG_NEG, AG_ABS, AG_RELU):
            return integer_unary(op, x)
        if dt is float16:
            result_dtype = dt.numpy_dtype
            a = c_contiguous(a, np.float32)
        elif dt.category == CAT_FLOAT:
            a = c_contiguous(a)
        else:
            a = c_contiguous(a, default_float.numpy_dtype)
        k = kernel_code(a)
    out = empty_like_array(a)
    if cnp.PyArray_SIZE(a) >= SIMD_THRESHOLD and not c_loop_vectorises(op):
        numpy_unary_forward(op, a, out)
    else:
        run_unary_forward(op, k, cnp.PyArray_DATA(a), cnp.PyArray_DATA(out), cnp.PyArray_SIZE(a))
    cdef Tensor result = new_tensor(out if result_dtype is None else out.astype(result_dtype))
    if not wants_grad(x):
        return result
    cdef UnaryBackward node = UnaryBackward.__new__(UnaryBackward)
    node.op = op
    node.num_inputs = 1
    node.next0 = edge_to(x)
    node.input_dtype = result_dtype
    if UNARY_READS[op] == READS_INPUT:
        node.save(0, x, 0)
        node.saved0 = a                      # the contiguous copy the kernel reads
    elif UNARY_READS[op] == READS_OUTPUT:
        node.save(0, result, SAVED_OUTPUT)
        node.saved0 = out
    attach(result, node)
    return result


# Above this many elements numpy's vectorised transcendental functions beat the scalar C loops
# (whose libm calls do not vectorise); below it, numpy's per-call dispatch costs more.
cdef Py_ssize_t SIMD_THRESHOLD = 256

# The ops whose C loops the compiler vectorises: at any size they beat numpy, whose maximum
# (relu) runs about four times slower than a plain compare-and-blend loop.
cdef inline bint c_loop_vectorises(int op):
    return op == AG_NEG or op == AG_ABS or op == AG_RELU

cdef tuple UNARY_UFUNCS = (np.negative, np.absolute, np.exp, np.log, np.log2, np.log10, np.sqrt,
                           None, np.sin, np.cos, np.tanh, None, None, np.reciprocal)


cdef numpy_unary_forward(int op, cnp.ndarray a, cnp.ndarray out):
    """out = op(a) with numpy's SIMD loops, for large contiguous float arrays."""
    if op == AG_TANH:
        # never raises floating-point warnings; errstate costs about a microsecond
        np.tanh(a, out=out)
        return
    with np.errstate(all="ignore"):
        if op == AG_RSQRT:
            np.sqrt(a, out=out)
            np.reciprocal(out, out=out)
        elif op == AG_SIGMOID:
            np.negative(a, out=out)
            np.exp(out, out=out)
            np.add(out, 1, out=out)
            np.reciprocal(out, out=out)
        else:
            UNARY_UFUNCS[op](a, out=out)


cdef Tensor integer_unary(int op, Tensor x):
    if op == AG_NEG:
        if dtype_of_array(x.array) is BOOL:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                               "you are trying to invert a mask, use the `~` or `logical_not()` "
                               "operator instead.")
        return new_tensor(as_array(np.negative(x.array)))
    if op == AG_ABS:
        if dtype_of_array(x.array) is BOOL:
            raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
        return new_tensor(as_array(np.abs(x.array)))
    if dtype_of_array(x.array) is BOOL:
        raise RuntimeError("Boolean inputs not supported for relu")
    return new_tensor(as_array(np.maximum(x.array, 0).astype(x.array.dtype)))


cdef cnp.ndarray negate(cnp.ndarray g):
    cdef int k = kernel_code(g)
    cdef cnp.ndarray out
    if k < 0:
        return as_array(np.negative(g))
    out = empty_like_array(g)
    run_unary_forward(AG_NEG, k, cnp.PyArray_DATA(g), cnp.PyArray_DATA(out), cnp.PyArray_SIZE(g))
    return out


# -- + - * / ------------------------------------------------------------------------------------

BINARY_NAMES = ("AddBackward0", "SubBackward0", "MulBackward0", "DivBackward0", "RsubBackward1")
cdef tuple BINARY_UFUNCS = (np.add, np.subtract, np.multiply, np.true_divide)


cdef class BinaryBackward(Node):

    cdef int apply(self, cnp.ndarray g) except -1:
        cdef int op = self.op
        if op == AG_ADD or op == AG_SUB:
            if self.next0 is not None:
                self.out0 = fit_gradient(g, self.meta0)
            if self.next1 is not None:
                g1 = g if (op == AG_ADD and self.alpha == 1) else scale(g, self.alpha if op == AG_ADD else -self.alpha)
                self.out1 = fit_gradient(g1, self.meta1)
        elif op == AG_RSUB:
            self.out0 = fit_gradient(scale(g, -self.alpha), self.meta0)
        elif op == AG_MUL:
            if self.next0 is not None:
                g0 = scale(g, self.scalar) if self.other_is_scalar else multiply(g, self.saved1)
                self.out0 = fit_gradient(g0, self.meta0)
            if self.next1 is not None:
                self.out1 = fit_gradient(multiply(g, self.saved0), self.meta1)
        else:
            if self.next0 is not None:
                g0 = scale(g, 1.0 / self.scalar) if self.other_is_scalar else divide(g, self.saved1)
                self.out0 = fit_gradient(g0, self.meta0)
            if self.next1 is not None:
                self.out1 = fit_gradient(div_backward_other(g, self.saved0, self.saved1), self.meta1)
        return 0

    def name(self):
        return BINARY_NAMES[self.op]


cdef cnp.ndarray scale(cnp.ndarray g, double s):
    cdef int k = kernel_code(g)
    cdef cnp.ndarray out
    if s == 1.0:
        return g
    if k < 0:
        return as_array(np.multiply(g, g.dtype.type(s)))
    out = empty_like_array(g)
    run_binary_scalar(AG_MUL, k, cnp.PyArray_DATA(g), s, cnp.PyArray_DATA(out), cnp.PyArray_SIZE(g))
    return out


cdef cnp.ndarray kernel_or_ufunc(int op, cnp.ndarray a, cnp.ndarray b, object ufunc):
    cdef int k = kernel_code_pair(a, b)
    cdef cnp.ndarray out
    if k < 0:
        with np.errstate(all="ignore"):
            return as_array(ufunc(a, b))
    out = empty_like_array(a)
    run_binary(op, k, cnp.PyArray_DATA(a), cnp.PyArray_DATA(b), cnp.PyArray_DATA(out),
              cnp.PyArray_SIZE(a))
    return out


cdef object NP_MULTIPLY = np.multiply
cdef object NP_DIVIDE = np.true_divide


cdef inline cnp.ndarray multiply(cnp.ndarray a, cnp.ndarray b):
    return kernel_or_ufunc(AG_MUL, a, b, NP_MULTIPLY)


cdef inline cnp.ndarray divide(cnp.ndarray a, cnp.ndarray b):
    return kernel_or_ufunc(AG_DIV, a, b, NP_DIVIDE)


cdef cnp.ndarray div_backward_other(cnp.ndarray g, cnp.ndarray a, cnp.ndarray b):
    cdef int k = kernel_code_pair(a, b)
    cdef cnp.ndarray out
    if k >= 0 and kernel_code_pair(g, a) == k:
        out = empty_like_array(a)
        run_div_backward_other(k, cnp.PyArray_DATA(g), cnp.PyArray_DATA(a), cnp.PyArray_DATA(b),
                              cnp.PyArray_DATA(out), cnp.PyArray_SIZE(a))
        return out
    with np.errstate(all="ignore"):
        return as_array(-g * a / (b * b))


cdef inline object coerce_operand(object other):
    """numpy arrays meet tensors as tensors (without gradient), as in torch."""
    if cnp.PyArray_Check(other):
        dtype_of_array(other)
        return new_tensor(<cnp.ndarray>other)
    return other


cdef object binary_op(int op, Tensor a, object other, double alpha=1.0):
    """a op other for op in AG_ADD/SUB/MUL/DIV, and other - a for AG_RSUB."""
    cdef Tensor b
    cdef cnp.ndarray out
    cdef int k
    if not isinstance(other, Tensor) and cnp.PyArray_Check(other):
        other = coerce_operand(other)
    if isinstance(other, Tensor):
        b = <Tensor>other
        if alpha == 1.0 and op != AG_RSUB:
            k = kernel_code_pair(a.array, b.array)
            if k >= 0:
                out = empty_like_array(a.array)
                run_binary(op, k, cnp.PyArray_DATA(a.array), cnp.PyArray_DATA(b.array),
                          cnp.PyArray_DATA(out), cnp.PyArray_SIZE(out))
                return record_binary(op, a, b, new_tensor(out), alpha)
        return binary_general(op, a, b, alpha)
    if (type(other) is float or type(other) is int) and alpha == 1.0:
        k = kernel_code(a.array)
        if type(other) is int:
            check_int_scalar(other)
        if k >= 0:
            out = empty_like_array(a.array)
            run_binary_scalar(op, k, cnp.PyArray_DATA(a.array), <double>other,
                             cnp.PyArray_DATA(out), cnp.PyArray_SIZE(out))
            return record_binary(op, a, other, new_tensor(out), alpha)
    if is_scalar(other):
        return binary_general(op, a, other, alpha)
    return NotImplemented


cdef Tensor binary_general(int op, Tensor a, object other, double alpha):
    """The numpy path: broadcasting, mixed dtypes, integer tensors, non-contiguous inputs."""
    cdef dtype rd = result_type((a, other))
    if op == AG_DIV and rd.category != CAT_FLOAT:
        rd = default_float
    if op == AG_SUB or op == AG_RSUB:
        check_bool_subtraction(a, other)
    if isinstance(other, Tensor):
        broadcast_shapes(shp(a.array), shp((<Tensor>other).array))
    A = operand_array(a, rd)
    B = operand_array(other, rd)
    if alpha != 1.0:
        if rd.category != CAT_FLOAT and alpha != <long long>alpha:
            raise RuntimeError("For integral input tensors, argument alpha must not be a "
                               "floating point number.")
        B = B * rd.numpy_dtype.type(alpha)
    with np.errstate(all="ignore"):
        if op == AG_RSUB:
            out = np.subtract(B, A) if alpha == 1.0 else np.subtract(operand_array(other, rd), A * rd.numpy_dtype.type(alpha))
        elif rd is BOOL and op == AG_ADD:
            out = np.logical_or(A, B)
        elif rd is BOOL:
            out = np.logical_and(A, B)
        else:
            out = BINARY_UFUNCS[op](A, B)
    return record_binary(op, a, other, new_tensor(as_array(out)), alpha)


cdef check_bool_subtraction(Tensor a, object other):
    """torch refuses `-` whenever either operand is bool (a tensor or Python's True/False)."""
    cdef bint a_bool = dtype_of_array(a.array) is BOOL
    cdef bint b_bool = ((isinstance(other, Tensor) and dtype_of_array((<Tensor>other).array) is BOOL)
                        or isinstance(other, (bool, np.bool_)))
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


cdef Tensor record_binary(int op, Tensor a, object other, Tensor out, double alpha):
    if not ag_grad_enabled():
        return out
    cdef bint other_tensor = isinstance(other, Tensor)
    cdef bint a_grad = tracked(a)
    cdef bint b_grad = other_tensor and tracked(<Tensor>other)
    if not (a_grad or b_grad):
        return out
    cdef BinaryBackward node = BinaryBackward.__new__(BinaryBackward)
    node.op = op
    node.alpha = alpha
    node.num_inputs = 1 if op == AG_RSUB else 2
    node.next0 = edge_to(a)
    node.meta0 = input_meta(a, out.array)
    if other_tensor:
        node.next1 = edge_to(<Tensor>other)
        node.meta1 = input_meta(<Tensor>other, out.array)
    else:
        node.other_is_scalar = True
        node.scalar = <double>other
        # torch saves the scalar of a product or quotient like a tensor: freed after backward
        node.has_saved = a_grad and (op == AG_MUL or op == AG_DIV)
    if op == AG_MUL:
        if a_grad and other_tensor:
            node.save(1, <Tensor>other, 1)
        if b_grad:
            node.save(0, a, 0)
    elif op == AG_DIV and other_tensor:
        node.save(1, <Tensor>other, 1)
        if b_grad:
            node.save(0, a, 0)
    if node.has_saved:
        # the gradient formulas read the operands in the output's dtype
        if node.saved0 is not None and cnp.PyArray_TYPE(<cnp.ndarray>node.saved0) != cnp.PyArray_TYPE(out.array):
            node.saved0 = node.saved0.astype(out.array.dtype)
        if node.saved1 is not None and cnp.PyArray_TYPE(<cnp.ndarray>node.saved1) != cnp.PyArray_TYPE(out.array):
            node.saved1 = node.saved1.astype(out.array.dtype)
    attach(out, node)
    return out


cdef object named_result(object result, str fn, object other):
    """Operators may answer NotImplemented (Python then tries the other operand); a named
    function must raise instead, as torch's do."""
    if result is NotImplemented:
        raise TypeError("%s(): argument 'other' (position 1) must be Tensor, not %s"
                        % (fn, type(other).__name__))
    return result


cdef object check_number(object x, str fn):
    if not (isinstance(x, Tensor) or is_scalar(x) or cnp.PyArray_Check(x)):
        raise TypeError("%s(): argument 'other' (position 1) must be Tensor, not %s"
                        % (fn, type(x).__name__))
    return x


cdef str argument_type_name(object value):
    """A value's type as torch's argument parser names it (numpy's bool is numpy.bool)."""
    if isinstance(value, Tensor):
        return "Tensor"
    t = type(value)
    return "numpy." + t.__name__ if t.__module__ == "numpy" else t.__name__


cdef check_bool_arg(object value, str fn, str name, int pos=0):
    """torch's parser takes only a Python bool for a bool argument: not 1, 1.5, None or 'yes'."""
    if type(value) is not bool:
        raise TypeError("%s(): argument '%s'%s must be bool, not %s"
                        % (fn, name, " (position %d)" % pos if pos else "",
                           argument_type_name(value)))


cdef object overflows_fn = None
cdef dict c_type_names = None


cdef check_scalar_fits(object value, dtype dt):
    """torch converts a number it writes into a tensor of dt with a range check (c10's
    checked_convert): a float out of float32's range, or inf/nan or a too-big number for an
    integer type, is refused rather than stored wrapped or saturated."""
    global overflows_fn, c_type_names
    if isinstance(value, (bool, np.bool_)):
        return
    if overflows_fn is None:
        from autograd_c._creation import _overflows, _FILL_NAMES
        overflows_fn, c_type_names = _overflows, _FILL_NAMES
    value = float(value) if isinstance(value, (float, np.floating)) else int(value)
    if overflows_fn(value, dt):
        raise RuntimeError("value cannot be converted to type %s without overflow"
                           % c_type_names[dt])


cdef check_alpha(object input, object other, object alpha):
    """add/sub's alpha: a bool only for a bool result, no float for an integer one, and within
    the result type's range."""
    if type(alpha) is not bool and alpha == 1:
        return
    for x in (input, other):
        if not (isinstance(x, Tensor) or is_scalar(x)):
            return          # the op itself names the bad operand
    rd = result_type((input, other))
    if isinstance(alpha, bool):
        if rd is not BOOL:
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
        return
    if rd.category != CAT_FLOAT and isinstance(alpha, (float, np.floating)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    check_scalar_fits(alpha, rd)


def add(input, other, *, alpha=1, out=None):
    check_alpha(input, other, alpha)
    if not isinstance(input, Tensor):
        check_number(input, "add")
        if isinstance(other, Tensor) and alpha == 1:
            return named_result(binary_op(AG_ADD, <Tensor>other, input), "add", input)
        input = as_tensor_arg(input, "add")
    return named_result(binary_op(AG_ADD, <Tensor>input, other, alpha), "add", other)


def sub(input, other, *, alpha=1, out=None):
    check_alpha(input, other, alpha)
    if not isinstance(input, Tensor) and isinstance(other, Tensor):
        check_number(input, "sub")
        return named_result(binary_op(AG_RSUB, <Tensor>other, input, alpha), "sub", input)
    return named_result(binary_op(AG_SUB, as_tensor_arg(input, "sub"), other, alpha), "sub", other)


def mul(input, other, *, out=None):
    if not isinstance(input, Tensor) and isinstance(other, Tensor):
        check_number(input, "mul")
        return named_result(binary_op(AG_MUL, <Tensor>other, input), "mul", input)
    return named_result(binary_op(AG_MUL, as_tensor_arg(input, "mul"), other), "mul", other)


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        if not isinstance(input, Tensor) and isinstance(other, Tensor):
            check_number(input, "div")
            return binary_op(AG_MUL, unary_op(AG_RECIPROCAL, other), input)
        return named_result(binary_op(AG_DIV, as_tensor_arg(input, "div"), other), "div", other)
    if rounding_mode == "floor":
        q = floor_quotient(input, other)
    elif rounding_mode == "trunc":
        rd = result_type((input, other))
        check_integer_division(rd, other, "div_trunc_cpu")
        q = binary_op(AG_DIV, as_tensor_arg(input, "div"), other).detach()
        q = new_tensor(as_array(np.trunc((<Tensor>q).array).astype(rd.numpy_dtype)))
    if rounding_mode in ("floor", "trunc"):
        # a rounded quotient is a step function: torch gives it a zero gradient
        return record(q, "DivBackward2", _rounded_div_rule,
                      (shape_of(input), shape_of(other)), (input, other))
    raise ValueError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                     "found '%s'" % rounding_mode)


cdef check_integer_division(dtype rd, object divisor, str kernel):
    """Integer division by zero is an error in torch (floats give inf or nan), and bool has no
    division kernel."""
    if rd is BOOL:
        raise NotImplementedError("\"%s\" not implemented for 'Bool'" % kernel)
    if rd.category != CAT_FLOAT and np.any(np.asarray(operand_array(divisor, rd)) == 0):
        raise RuntimeError("ZeroDivisionError")


def true_divide(input, other):
    return div(input, other)


def floor_divide(a, b):
    """a // b. As in torch, the result requires grad when an input does, but its backward
    raises: floor_divide has no derivative (div(rounding_mode='floor') has a zero one)."""
    return record(floor_quotient(a, b), "NotImplemented", _floor_divide_rule, None, (a, b))


cdef Tensor floor_quotient(object a, object b):
    rd = result_type((a, b))
    check_integer_division(rd, b, "div_floor_cpu")
    A = operand_array(a, rd)
    B = operand_array(b, rd)
    with np.errstate(all="ignore"):
        return new_tensor(as_array(np.floor_divide(A, B)))


def remainder(a, b):
    """a % b with the sign of b (Python's and torch's convention)."""
    rd = result_type((a, b))
    check_integer_division(rd, b, "remainder_cpu")
    A = operand_array(a, rd)
    B = operand_array(b, rd)
    with np.errstate(all="ignore"):
        out = new_tensor(as_array(np.remainder(A, B)))
    return record(out, "RemainderBackward0", _remainder_rule, (A, B, shape_of(a), shape_of(b)),
                  (a, b), True)


cdef object integer_power(object base, object exponent):
    """Integer powers as torch computes them: a negative exponent gives 0 unless the base is
    1 or -1 (numpy refuses negative integer exponents)."""
    base, exponent = np.broadcast_arrays(np.asarray(base), np.asarray(exponent))
    negative = exponent < 0
    out = np.power(base, np.where(negative, 0, exponent))
    unit = np.where(base == 1, 1, np.where(exponent % 2 == 0, 1, -1))
    return np.where(negative, np.where(np.abs(base) == 1, unit, 0), out).astype(base.dtype)


cdef tuple shape_of(object x):
    return shp((<Tensor>x).array) if isinstance(x, Tensor) else ()


# -- pow ----------------------------------------------------------------------------------------

def pow(input, exponent):
    if isinstance(input, Tensor) and is_scalar(exponent):
        return pow_scalar_exponent(<Tensor>input, exponent)
    if is_scalar(input) and isinstance(exponent, Tensor):
        return pow_scalar_base(input, <Tensor>exponent)
    if isinstance(input, Tensor) and isinstance(exponent, Tensor):
        return pow_tensors(<Tensor>input, <Tensor>exponent)
    raise TypeError("pow() received an invalid combination of arguments: (%s, %s)"
                    % (type(input).__name__, type(exponent).__name__))


cdef Tensor pow_scalar_exponent(Tensor x, object p):
    cdef dtype rd = result_type((x, p))
    if rd.category != CAT_FLOAT and p < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    X = operand_array(x, rd)
    if p == 2 and rd.kernel >= 0:
        out = multiply(c_contiguous(X), c_contiguous(X))
    else:
        out = as_array(torch_power(X, p).astype(rd.numpy_dtype, copy=False))
    result = record(new_tensor(out), "PowBackward0", _pow0_rule, (X, p, x.array.dtype), (x,), True)
    save_checked(result, 0, x, 0)
    return result


cdef Tensor pow_scalar_base(object base, Tensor x):
    cdef dtype rd = result_type((base, x))
    X = operand_array(x, rd)
    with np.errstate(all="ignore"):
        if rd.category == CAT_INT:
            out = as_array(integer_power(rd.numpy_dtype.type(base), X))
        else:
            out = as_array(np.power(rd.numpy_dtype.type(base), X))
    result = record(new_tensor(out), "PowBackward2", _pow2_rule, (X, base, out), (x,), True)
    save_checked(result, 0, result, SAVED_OUTPUT)
    return result


cdef Tensor pow_tensors(Tensor x, Tensor y):
    cdef dtype rd = result_type((x, y))
    broadcast_shapes(shp(x.array), shp(y.array))
    X = operand_array(x, rd)
    Y = operand_array(y, rd)
    if rd.category != CAT_FLOAT and np.any(Y < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    with np.errstate(all="ignore"):
        out = as_array(np.power(X, Y))
    result = record(new_tensor(out), "PowBackward1", _pow1_rule,
                    (X, Y, out, shp(x.array), shp(y.array), x.array.dtype, y.array.dtype),
                    (x, y), True)
    save_checked(result, 0, x, 0)
    save_checked(result, 1, y, 1)
    return result


# -- comparisons, logic, selection -------------------------------------------------------------

cdef object compare(object ufunc, object a, object b):
    b = coerce_operand(b)
    if not (isinstance(b, Tensor) or is_scalar(b)):
        return NotImplemented
    rd = result_type((a, b))
    if isinstance(b, Tensor):
        broadcast_shapes(shp((<Tensor>a).array), shp((<Tensor>b).array))
    return new_tensor(as_array(ufunc(operand_array(a, rd), operand_array(b, rd))))


def eq(input, other):
    return named_result(compare(np.equal, as_tensor_arg(input, "eq"), other), "eq", other)


def ne(input, other):
    return named_result(compare(np.not_equal, as_tensor_arg(input, "ne"), other), "ne", other)


def lt(input, other):
    return named_result(compare(np.less, as_tensor_arg(input, "lt"), other), "lt", other)


def le(input, other):
    return named_result(compare(np.less_equal, as_tensor_arg(input, "le"), other), "le", other)


def gt(input, other):
    return named_result(compare(np.greater, as_tensor_arg(input, "gt"), other), "gt", other)


def ge(input, other):
    return named_result(compare(np.greater_equal, as_tensor_arg(input, "ge"), other), "ge", other)


def equal(input, other):
    cdef Tensor a = as_tensor_arg(input, "equal"), b = as_tensor_arg(other, "equal")
    return shp(a.array) == shp(b.array) and bool(np.array_equal(a.array, b.array))


cdef check_close_dtypes(Tensor a, Tensor b):
    """isclose/allclose compare tensors of one dtype only (no promotion), as torch's do."""
    if cnp.PyArray_TYPE(a.array) != cnp.PyArray_TYPE(b.array):
        raise RuntimeError("%s did not match %s" % (dtype_of_array(a.array).legacy_name[:-6],
                                                    dtype_of_array(b.array).legacy_name[:-6]))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    cdef Tensor a = as_tensor_arg(input, "allclose"), b = as_tensor_arg(other, "allclose")
    check_bool_arg(equal_nan, "allclose", "equal_nan")
    check_close_dtypes(a, b)
    return bool(np.allclose(a.array, b.array, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    cdef Tensor a = as_tensor_arg(input, "isclose"), b = as_tensor_arg(other, "isclose")
    check_bool_arg(equal_nan, "isclose", "equal_nan")
    check_close_dtypes(a, b)
    return new_tensor(as_array(np.isclose(a.array, b.array, rtol=rtol, atol=atol, equal_nan=equal_nan)))


cdef object logical_op(object ufunc, object a, object b):
    b = coerce_operand(b)
    if not (isinstance(b, Tensor) or is_scalar(b)):
        return NotImplemented
    rd = result_type((a, b))
    if rd.category == CAT_FLOAT:
        raise NotImplementedError("\"%s_cpu\" not implemented for '%s'"
                                  % (ufunc.__name__, FLOAT_NAMES.get(rd.name, rd.name)))
    return new_tensor(as_array(ufunc(operand_array(a, rd), operand_array(b, rd))))


FLOAT_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half"}


def logical_not(input):
    return new_tensor(as_array(np.logical_not(as_tensor_arg(input, "logical_not").array)))


def logical_and(input, other):
    return new_tensor(as_array(np.logical_and(np.asarray(input), np.asarray(other))))


def logical_or(input, other):
    return new_tensor(as_array(np.logical_or(np.asarray(input), np.asarray(other))))


def bitwise_not(input):
    cdef Tensor x = as_tensor_arg(input, "bitwise_not")
    if dtype_of_array(x.array).category == CAT_FLOAT:
        raise NotImplementedError("\"bitwise_not_cpu\" not implemented for '%s'"
                           % FLOAT_NAMES.get(dtype_of_array(x.array).name))
    return new_tensor(as_array(np.invert(x.array)))


def isnan_op(input):
    return new_tensor(as_array(np.isnan(as_tensor_arg(input, "isnan").array)))


def isfinite_op(input):
    return new_tensor(as_array(np.isfinite(as_tensor_arg(input, "isfinite").array)))


def isinf_op(input):
    return new_tensor(as_array(np.isinf(as_tensor_arg(input, "isinf").array)))


def sign(input):
    cdef Tensor x = as_tensor_arg(input, "sign")
    if dtype_of_array(x.array) is BOOL:
        return new_tensor(x.array.copy())
    out = new_tensor(as_array(np.nan_to_num(np.sign(x.array), nan=0.0) if x.array.dtype.kind == "f"
                              else np.sign(x.array)))
    return record(out, "SignBackward0", _zero_rule, shp(x.array), (x,))


cdef Tensor rounding(object ufunc, str name, Tensor x):
    if dtype_of_array(x.array) is BOOL:
        raise NotImplementedError("\"%s_vml_cpu\" not implemented for 'Bool'"
                                  % name[:-len("Backward0")].lower())
    if dtype_of_array(x.array).category != CAT_FLOAT:
        return new_tensor(x.array.copy())
    out = new_tensor(as_array(ufunc(x.array)))
    return record(out, name, _zero_rule, shp(x.array), (x,))


def where(condition, input=None, other=None):
    cdef Tensor cond = as_tensor_arg(condition, "where")
    if input is None and other is None:
        return tuple(new_tensor(as_array(i)) for i in np.nonzero(cond.array))
    if dtype_of_array(cond.array) is not BOOL:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor "
                           "with dtype %s" % FLOAT_NAMES.get(dtype_of_array(cond.array).name,
                                                             dtype_of_array(cond.array).name.capitalize()))
    rd = result_type((input, other))
    for x in (input, other):
        if is_scalar(x):
            check_scalar_fits(x, rd)
    shape = shp(cond.array)
    for x in (input, other):
        if isinstance(x, Tensor):
            shape = broadcast_shapes(shape, shp((<Tensor>x).array))
    out = new_tensor(as_array(np.where(cond.array, operand_array(input, rd), operand_array(other, rd))))
    return record(out, "WhereBackward0", _where_rule,
                  (cond.array, meta_of(input), meta_of(other)), (input, other))


cdef object meta_of(object x):
    if isinstance(x, Tensor):
        return (shp((<Tensor>x).array), (<Tensor>x).array.dtype)
    return None


def clamp(input, min=None, max=None):
    cdef Tensor x = as_tensor_arg(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return clamp_tensors(x, min, max)
    rd = result_type(tuple([v for v in (x, min, max) if v is not None]))
    for bound in (min, max):
        if bound is not None:
            check_scalar_fits(bound, rd)
    X = operand_array(x, rd)
    out = X
    with np.errstate(invalid="ignore"):
        if min is not None:
            out = np.maximum(out, rd.numpy_dtype.type(min))
        if max is not None:
            out = np.minimum(out, rd.numpy_dtype.type(max))
    result = record(new_tensor(as_array(out)), "ClampBackward1", _clamp_rule,
                    (X, min, max, x.array.dtype), (x,), True)
    save_checked(result, 0, x, 0)
    return result


cdef Tensor clamp_tensors(Tensor x, object lo, object hi):
    rd = result_type(tuple([v for v in (x, lo, hi) if v is not None]))
    X = operand_array(x, rd)
    L = operand_array(lo, rd) if lo is not None else None
    H = operand_array(hi, rd) if hi is not None else None
    out = X
    if L is not None:
        out = np.maximum(out, L)
    if H is not None:
        out = np.minimum(out, H)
    return record(new_tensor(as_array(out)), "ClampBackward0", _clamp_tensors_rule,
                  (X, L, H, meta_of(x), meta_of(lo), meta_of(hi)), (x, lo, hi), True)


def clip(input, min=None, max=None):
    return clamp(input, min, max)


def maximum(input, other):
    return extremum(np.maximum, "MaximumBackward0", input, other)


def minimum(input, other):
    return extremum(np.minimum, "MinimumBackward0", input, other)


cdef Tensor extremum(object ufunc, str name, object input, object other):
    cdef Tensor a = as_tensor_arg(input, name[:7].lower()), b = as_tensor_arg(other, name[:7].lower())
    rd = result_type((a, b))
    broadcast_shapes(shp(a.array), shp(b.array))
    A = operand_array(a, rd)
    B = operand_array(b, rd)
    out = record(new_tensor(as_array(ufunc(A, B))), name, _extremum_rule,
                 (A, B, ufunc is np.maximum, meta_of(a), meta_of(b)), (a, b), True)
    save_checked(out, 0, a, 0)
    save_checked(out, 1, b, 1)
    return out


def masked_fill(input, mask, value):
    cdef Tensor x = as_tensor_arg(input, "masked_fill")
    cdef Tensor m = as_tensor_arg(mask, "masked_fill")
    if dtype_of_array(m.array) is not BOOL:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype %s"
                           % dtype_of_array(m.array).name)
    if not (isinstance(value, Tensor) or is_scalar(value)):
        raise TypeError("masked_fill() received an invalid combination of arguments: value must "
                        "be a number or a Tensor, not %s" % type(value).__name__)
    shape = broadcast_shapes(shp(x.array), shp(m.array))
    if shape != shp(x.array):
        raise RuntimeError("masked_fill: the mask of shape %s cannot be broadcast to the input "
                           "of shape %s" % (shape_str(shp(m.array)), shape_str(shp(x.array))))
    v = value
    if isinstance(value, Tensor):
        if cnp.PyArray_NDIM((<Tensor>value).array) != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                               "tensor with %d dimension(s)." % cnp.PyArray_NDIM((<Tensor>value).array))
        v = (<Tensor>value).array
    check_scalar_fits(np.asarray(v).item(), dtype_of_array(x.array))
    out = new_tensor(as_array(np.where(m.array, np.asarray(v).astype(x.array.dtype), x.array)))
    return record(out, "MaskedFillBackward1" if isinstance(value, Tensor) else "MaskedFillBackward0",
                  _masked_fill_rule,
                  (m.array, meta_of(value)), (x, value))


# -- the gradient rules of the numpy-path ops, one per line ------------------------------------
# Each takes (g, ctx) and returns the gradient for each input, already reduced to that input's
# shape and dtype.

def _zero_rule(g, shape):
    return np.zeros(shape, dtype=g.dtype)


cdef object torch_power(object X, object e):
    """X ** e as torch computes it: exponents 0.5, -0.5, 2, 3, -1 and -2 go through sqrt,
    rsqrt, products and reciprocals, which decides the sign of infinities at -0.0 and the NaN
    at -inf (a general pow answers those differently)."""
    with np.errstate(all="ignore"):
        if X.dtype.kind != "f":
            return np.power(X, X.dtype.type(e)) if e >= 0 else np.power(X.astype(np.float64), e)
        if e == 0.5:
            return np.sqrt(X)
        if e == -0.5:
            return 1 / np.sqrt(X)
        if e == 2:
            return X * X
        if e == 3:
            return X * X * X
        if e == -1:
            return 1 / X
        if e == -2:
            return 1 / (X * X)
        return np.power(X, X.dtype.type(e))


def _pow0_rule(g, ctx):
    X, p, dt = ctx
    if p == 0:
        return np.zeros(X.shape, dtype=dt)
    with np.errstate(all="ignore"):
        return (g * (p * torch_power(X, p - 1))).astype(dt, copy=False)


def _pow2_rule(g, ctx):
    X, base, out = ctx
    with np.errstate(all="ignore"):
        return g * np.where((base == 0) & (X >= 0), 0, out * np.log(base)).astype(g.dtype)


def _pow1_rule(g, ctx):
    X, Y, out, sx, sy, dx, dy = ctx
    with np.errstate(all="ignore"):
        gx = np.where(Y == 0, 0, g * Y * np.power(X, Y - 1))
        gy = np.where((X == 0) & (Y >= 0), 0, g * out * np.log(X))
    return fit_gradient(as_array(gx), (sx, dx)), fit_gradient(as_array(gy), (sy, dy))


def _floor_divide_rule(g, ctx):
    raise RuntimeError("derivative for aten::floor_divide is not implemented")


def _rounded_div_rule(g, ctx):
    sa, sb = ctx
    return np.zeros(sa, dtype=g.dtype), np.zeros(sb, dtype=g.dtype)


def _remainder_rule(g, ctx):
    A, B, sa, sb = ctx
    with np.errstate(all="ignore"):
        gb = -g * np.floor(A / B)
    return fit_gradient(as_array(g), (sa, g.dtype)), fit_gradient(as_array(gb), (sb, g.dtype))


def _where_rule(g, ctx):
    cond, ma, mb = ctx
    zero = g.dtype.type(0)
    ga = fit_gradient(as_array(np.where(cond, g, zero)), ma) if ma is not None else None
    gb = fit_gradient(as_array(np.where(cond, zero, g)), mb) if mb is not None else None
    return ga, gb


def _clamp_rule(g, ctx):
    X, lo, hi, dt = ctx
    keep = np.ones(X.shape, dtype=bool)
    if lo is not None:
        keep &= X >= lo
    if hi is not None:
        keep &= X <= hi
    return np.where(keep, g, g.dtype.type(0)).astype(dt, copy=False)


def _clamp_tensors_rule(g, ctx):
    X, L, H, mx, ml, mh = ctx
    zero = g.dtype.type(0)
    keep = np.ones(np.broadcast_shapes(X.shape, g.shape), dtype=bool)
    gl = gh = None
    if L is not None:
        keep &= X >= L
        gl = fit_gradient(as_array(np.where(X < L, g, zero)), ml)
    if H is not None:
        keep &= X <= H
        gh = fit_gradient(as_array(np.where((X > H) & (L is None or X >= L), g, zero)), mh)
    return fit_gradient(as_array(np.where(keep, g, zero)), mx), gl, gh


def _extremum_rule(g, ctx):
    # torch's formulas: ties share the gradient, the loser gets none, and a NaN comparison
    # (neither wins) leaves the full gradient on both sides
    A, B, is_max, ma, mb = ctx
    A_loses = (A < B) if is_max else (A > B)
    B_loses = (A > B) if is_max else (A < B)
    shared = np.where(A == B, g / 2, g)
    zero = g.dtype.type(0)
    ga = np.where(A_loses, zero, shared)
    gb = np.where(B_loses, zero, shared)
    return fit_gradient(as_array(ga), ma), fit_gradient(as_array(gb), mb)


def _masked_fill_rule(g, ctx):
    mask, mv = ctx
    gx = np.where(mask, g.dtype.type(0), g)
    gv = np.asarray(np.where(mask, g, 0).sum(), dtype=mv[1]).reshape(mv[0]) if mv is not None else None
    return as_array(gx), gv
