# Matrix products, through numpy's matmul (BLAS for float32/float64). One node per product,
# named as torch names the node its matmul ends with for those shapes.

cdef class MmBackward0(Node):
    """out = a @ b for 2-D a, b: da = g @ b.T, db = a.T @ g."""

    cdef int apply(self, cnp.ndarray g) except -1:
        if self.next0 is not None:
            self.out0 = as_array(np.matmul(g, (<cnp.ndarray>self.saved1).T))
        if self.next1 is not None:
            self.out1 = as_array(np.matmul((<cnp.ndarray>self.saved0).T, g))
        return 0


cdef str dtype_word(cnp.ndarray a):
    return {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
            "float16": "c10::Half", "bool": "bool"}.get(a.dtype.name, a.dtype.name)


cdef check_same_dtype(Tensor a, Tensor b):
    if cnp.PyArray_TYPE(a.array) != cnp.PyArray_TYPE(b.array):
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: %s != %s"
                           % (dtype_word(a.array), dtype_word(b.array)))


cdef Tensor mm_2d(Tensor a, Tensor b):
    cdef cnp.ndarray A = a.array, B = b.array
    if shp(A)[1] != shp(B)[0]:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (%dx%d and %dx%d)"
                           % (shp(A)[0], shp(A)[1], shp(B)[0], shp(B)[1]))
    cdef Tensor out = new_tensor(as_array(np.matmul(A, B)))
    if not ag_grad_enabled() or not (tracked(a) or tracked(b)):
        return out
    cdef MmBackward0 node = MmBackward0.__new__(MmBackward0)
    node.num_inputs = 2
    node.next0 = edge_to(a)
    node.next1 = edge_to(b)
    if tracked(a):
        node.save(1, b, 1)
    if tracked(b):
        node.save(0, a, 0)
    attach(out, node)
    return out


def _dot_rule(g, ctx):
    A, B = ctx
    with np.errstate(all="ignore"):
        return g * B, g * A


def _mv_rule(g, ctx):
    M, v = ctx
    with np.errstate(all="ignore"):
        return np.outer(g, v), M.T @ g


def _vm_rule(g, ctx):
    v, M = ctx
    with np.errstate(all="ignore"):
        return M @ g, np.outer(v, g)


def _batched_rule(g, ctx):
    A, B, sa, sb = ctx
    # A and B were promoted to at least 2-D; gradients are reduced over broadcast batch dims
    ga = sum_to_shape(as_array(np.matmul(g, np.swapaxes(B, -1, -2))), A.shape).reshape(sa)
    gb = sum_to_shape(as_array(np.matmul(np.swapaxes(A, -1, -2), g)), B.shape).reshape(sb)
    return ga, gb


def matmul(input, other):
    cdef Tensor a = as_tensor_arg(input, "matmul"), b = as_tensor_arg(other, "matmul")
    cdef int na = a.array.ndim, nb = b.array.ndim
    if na == 0 or nb == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are %dD "
                           "and %dD" % (na, nb))
    check_same_dtype(a, b)
    if na == 2 and nb == 2:
        return mm_2d(a, b)
    if na == 1 and nb == 1:
        return dot(a, b)
    if na == 2 and nb == 1:
        return mv(a, b)
    A, B = a.array, b.array
    if na == 1 and nb == 2:
        if shp(A)[0] != shp(B)[0]:
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (1x%d and %dx%d)"
                               % (shp(A)[0], shp(B)[0], shp(B)[1]))
        out = new_tensor(as_array(np.matmul(A, B)))
        result = record(out, "SqueezeBackward4", _vm_rule, (A, B), (a, b), True)
        save_checked(result, 0, a, 0)
        save_checked(result, 1, b, 1)
        return result
    A2 = A.reshape((1,) + shp(A)) if na == 1 else A
    B2 = B.reshape(shp(B) + (1,)) if nb == 1 else B
    if shp(A2)[-1] != shp(B2)[-2]:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: [%d, %d] "
                           "but got: [%d, %d]." % (builtins_prod(shp(A2)[:-2]) or 1, shp(A2)[-1],
                                                   builtins_prod(shp(B2)[:-2]) or 1, shp(B2)[-2]))
    batch = broadcast_shapes(shp(A2)[:-2], shp(B2)[:-2])
    out_arr = np.matmul(A2, B2)
    if na == 1:
        out_arr = out_arr[..., 0, :]
    if nb == 1:
        out_arr = out_arr[..., 0]
    out = new_tensor(as_array(c_contiguous(out_arr)))
    # The last node torch 2.13 records here: a clone when a matrix (or a batch of one matrix)
    # meets a real batch on the right, which torch computes transposed; else an unsafe view.
    expanded_left = na == 2 or (na == 3 and shp(A)[0] == 1 and batch != (1,))
    result = record(out, "CloneBackward0" if expanded_left else "UnsafeViewBackward0",
                    _batched_rule_shaped, (A2, B2, shp(A), shp(B), na, nb), (a, b), True)
    save_checked(result, 0, a, 0)
    save_checked(result, 1, b, 1)
    return result


def _batched_rule_shaped(g, ctx):
    A2, B2, sa, sb, na, nb = ctx
    if na == 1:
        g = np.expand_dims(g, -2)
    if nb == 1:
        g = np.expand_dims(g, -1)
    return _batched_rule(g, (A2, B2, sa, sb))


cdef Py_ssize_t builtins_prod(tuple shape):
    cdef Py_ssize_t n = 1
    for s in shape:
        n *= s
    return n


def mm(input, mat2):
    cdef Tensor a = as_tensor_arg(input, "mm"), b = as_tensor_arg(mat2, "mm")
    if a.array.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.array.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    check_same_dtype(a, b)
    return mm_2d(a, b)


def bmm(input, mat2):
    cdef Tensor a = as_tensor_arg(input, "bmm"), b = as_tensor_arg(mat2, "bmm")
    if a.array.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.array.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    check_same_dtype(a, b)
    A, B = a.array, b.array
    if shp(A)[0] != shp(B)[0] or shp(A)[2] != shp(B)[1]:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: [%d, %d] "
                           "but got: [%d, %d]." % (shp(A)[0], shp(A)[2], shp(B)[0], shp(B)[1]))
    out = new_tensor(as_array(np.matmul(A, B)))
    result = record(out, "BmmBackward0", _batched_rule, (A, B, shp(A), shp(B)), (a, b), True)
    save_checked(result, 0, a, 0)
    save_checked(result, 1, b, 1)
    return result


def dot(input, tensor):
    cdef Tensor a = as_tensor_arg(input, "dot"), b = as_tensor_arg(tensor, "dot")
    if a.array.ndim != 1 or b.array.ndim != 1:
        raise RuntimeError("1D tensors expected, but got %dD and %dD tensors"
                           % (a.array.ndim, b.array.ndim))
    if dtype_of_array(a.array) is BOOL and dtype_of_array(b.array) is BOOL:
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")
    if cnp.PyArray_TYPE(a.array) != cnp.PyArray_TYPE(b.array):
        raise RuntimeError("dot : expected both vectors to have same dtype, but found %s and %s"
                           % (dtype_word(a.array).capitalize(), dtype_word(b.array).capitalize()))
    if shp(a.array)[0] != shp(b.array)[0]:
        raise RuntimeError("inconsistent tensor size, expected tensor [%d] and src [%d] to have the "
                           "same number of elements, but got %d and %d elements respectively"
                           % (shp(a.array)[0], shp(b.array)[0], shp(a.array)[0], shp(b.array)[0]))
    out = new_tensor(as_array(np.dot(a.array, b.array)))
    result = record(out, "DotBackward0", _dot_rule, (a.array, b.array), (a, b), True)
    save_checked(result, 0, a, 0)
    save_checked(result, 1, b, 1)
    return result


def mv(input, vec):
    cdef Tensor a = as_tensor_arg(input, "mv"), b = as_tensor_arg(vec, "mv")
    if a.array.ndim == 0 or b.array.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if a.array.ndim != 2 or b.array.ndim != 1:
        raise RuntimeError("vector + matrix @ vector expected, got %d, %d, %d"
                           % (1, a.array.ndim, b.array.ndim))
    check_same_dtype(a, b)
    if shp(a.array)[1] != shp(b.array)[0]:
        raise RuntimeError("size mismatch, got input (%d), mat (%dx%d), vec (%d)"
                           % (shp(a.array)[0], shp(a.array)[0], shp(a.array)[1], shp(b.array)[0]))
    out = new_tensor(as_array(np.matmul(a.array, b.array)))
    result = record(out, "MvBackward0", _mv_rule, (a.array, b.array), (a, b), True)
    save_checked(result, 0, a, 0)
    save_checked(result, 1, b, 1)
    return result


# -- linear layers ----------------------------------------------------------------------------
#
# y = x @ weight.T + bias for a 2-D x, as torch records it: addmm(bias, x, weight.t()), one
# AddmmBackward0 node (MmBackward0 without a bias) whose third edge goes through weight.t()'s
# TBackward0. The weight gradient is computed as (g.T @ x), contiguous in weight's own
# (out, in) layout, and handed to TBackward0 as its transpose: TBackward0 transposes it back, so
# the leaf receives a contiguous array that AccumulateGrad can take without a strided copy.

cdef class AddmmBackward0(Node):
    """Inputs: bias (when has_bias), x, weight.t(); saved0 = x, saved1 = weight."""
    cdef bint has_bias

    cdef int apply(self, cnp.ndarray g) except -1:
        cdef Node x_edge = self.next1 if self.has_bias else self.next0
        cdef Node wt_edge = <Node>self.next_rest[0] if self.has_bias else self.next1
        cdef cnp.ndarray X = self.saved0, W = self.saved1
        x_grad = as_array(np.matmul(g, W)) if x_edge is not None else None
        wt_grad = as_array(np.matmul(g.T, X)).T if wt_edge is not None else None
        if self.has_bias:
            self.out0 = as_array(g.sum(axis=0)) if self.next0 is not None else None
            self.out1 = x_grad
            self.out_rest[0] = wt_grad
        else:
            self.out0 = x_grad
            self.out1 = wt_grad
        return 0

    def name(self):
        return "AddmmBackward0" if self.has_bias else "MmBackward0"


cdef bint plain_linear(Tensor x, Tensor w, object bias):
    """The 2-D same-dtype case that one AddmmBackward0/MmBackward0 node covers."""
    if x.array.ndim != 2 or w.array.ndim != 2 or shp(x.array)[1] != shp(w.array)[1]:
        return False
    if cnp.PyArray_TYPE(x.array) != cnp.PyArray_TYPE(w.array) or kernel_code(w.array) < 0:
        return False
    if bias is None:
        return True
    cdef Tensor b = <Tensor>bias
    return (b.array.ndim == 1 and shp(b.array)[0] == shp(w.array)[0]
            and cnp.PyArray_TYPE(b.array) == cnp.PyArray_TYPE(w.array))


cdef check_addmm_dtypes(Tensor x, Tensor w, Tensor b):
    """With a bias torch's linear is addmm(bias, x, weight.T), which refuses mixed dtypes where
    the composed matmul-and-add would promote: the bias against the weight first."""
    for first, name in ((b, "self"), (x, "mat1")):
        if cnp.PyArray_TYPE(first.array) != cnp.PyArray_TYPE(w.array):
            raise RuntimeError("%s and mat2 must have the same dtype, but got %s and %s"
                               % (name, scalar_name(first.array), scalar_name(w.array)))


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias (torch.nn.functional.linear)."""
    cdef Tensor x = as_tensor_arg(input, "linear"), w = as_tensor_arg(weight, "linear")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError("linear(): argument 'bias' (position 3) must be Tensor, not %s"
                        % type(bias).__name__)
    if bias is not None and w.array.ndim == 2:
        check_addmm_dtypes(x, w, <Tensor>bias)
    cdef tuple lead
    if bias is not None and x.array.ndim != 2 and w.array.ndim == 2 and x.array.ndim > 0:
        # torch flattens the leading dims into one for addmm, and views the result back
        lead = shp(x.array)[:-1]
        flat = linear(reshape(x, (-1, shp(x.array)[-1])), w, bias)
        return reshape(flat, lead + (shp((<Tensor>flat).array)[-1],))
    if not plain_linear(x, w, bias):
        # no bias on a batch, broadcasting biases, mixed dtypes: the composed ops, their graph
        # and their errors, as torch's matmul path has them
        product = matmul(x, t(w) if w.array.ndim == 2 else w)
        return add(product, bias) if bias is not None else product
    cdef cnp.ndarray Y = as_array(np.matmul(x.array, w.array.T))
    if bias is not None:
        Y += (<Tensor>bias).array
    cdef Tensor out = new_tensor(Y)
    cdef bint b_grad = bias is not None and tracked(<Tensor>bias)
    if not ag_grad_enabled() or not (tracked(x) or tracked(w) or b_grad):
        return out
    cdef Tensor wt = t(w)
    cdef AddmmBackward0 node = AddmmBackward0.__new__(AddmmBackward0)
    node.has_bias = bias is not None
    node.set_edges((bias, x, wt) if bias is not None else (x, wt))
    # as torch's addmm: x is kept for the weight's gradient, the weight for x's
    if tracked(w):
        node.save(0, x, 1 if bias is not None else 0)
    if tracked(x):
        node.save(1, w, 2 if bias is not None else 1)
    attach(out, node)
    return out
