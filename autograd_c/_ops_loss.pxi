# Losses with a node of their own. nll_loss runs every step of a classifier's training loop
# (cross_entropy is log_softmax followed by it); composed from tensor ops it would record a dozen
# nodes for what is one gather forward and one scatter backward.

cdef enum Reduction:
    REDUCE_NONE, REDUCE_MEAN, REDUCE_SUM

cdef dict REDUCTIONS = {"none": REDUCE_NONE, "mean": REDUCE_MEAN, "sum": REDUCE_SUM}


cdef class NllLossBackward0(Node):
    """loss_e = -w_e * logp[n, t_e, s] for each entry e = (n, s), reduced. Its gradient puts
    -w_e * g (scaled by the reduction) at the entries' picked positions of a zero array: the
    picked values themselves are not needed, so nothing of the input is saved. Input: logp only;
    the target is an index and the class weights are not differentiable, as in torch."""
    cdef object picked          # flat positions in the input of the entries that count (target
                                # not ignore_index), one per entry at most
    cdef object weights         # those entries' weights, in the compute dtype, same length
    cdef object counted         # reduction 'none': the mask of counted entries over the output
    cdef object total_weight    # reduction 'mean': the sum of the weights, the divisor
    cdef tuple input_shape
    cdef object input_dtype
    cdef object compute_dtype
    cdef str name_              # NllLoss2DBackward0 for inputs with spatial dimensions
    cdef int reduction

    cdef int apply(self, cnp.ndarray g) except -1:
        scale = g.astype(self.compute_dtype, copy=False)
        if self.reduction == REDUCE_NONE:
            scale = scale.reshape(-1)[self.counted]
        gx = np.zeros(math.prod(self.input_shape), dtype=self.compute_dtype)
        if self.reduction == REDUCE_MEAN:
            with np.errstate(all="ignore"):    # all weights 0: torch's gradient is NaN too
                gx[self.picked] = -(self.weights * (scale / self.total_weight))
        else:
            gx[self.picked] = -(self.weights * scale)
        self.out0 = gx.reshape(self.input_shape).astype(self.input_dtype, copy=False)
        return 0

    def name(self):
        return self.name_


cdef check_nll_shapes(tuple xs, tuple ts):
    if len(xs) < 1:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if len(xs) == 1:
        if len(ts) != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return
    if len(ts) == 0 or xs[0] != ts[0]:
        raise ValueError("Expected input batch_size (%d) to match target batch_size (%d)."
                         % (xs[0], ts[0] if len(ts) else 0))
    if len(xs) == 2 and len(ts) != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if len(xs) > 2 and ts != (xs[0],) + xs[2:]:
        raise RuntimeError("Expected target size %s, got %s"
                           % (list((xs[0],) + xs[2:]), list(ts)))


cdef cnp.ndarray class_weights(object weight, Py_ssize_t n_classes, object dtype, Tensor x):
    cdef Tensor w = tensor_argument(weight, "nll_loss", "weight", 3)
    if w.array.size != n_classes:
        raise RuntimeError("weight tensor should be defined either for all %d classes or no "
                           "classes but got weight tensor of shape: %s"
                           % (n_classes, list(shp(w.array))))
    if cnp.PyArray_TYPE(w.array) != cnp.PyArray_TYPE(x.array):
        raise RuntimeError("expected scalar type %s but found %s"
                           % (scalar_name(x.array), scalar_name(w.array)))
    if tracked(w) and ag_grad_enabled():
        raise RuntimeError("The function 'nll_loss_forward' is not differentiable with respect "
                           "to argument 'weight'. This input cannot have requires_grad True.")
    return w.array.reshape(-1).astype(dtype, copy=False)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """The negative log-likelihood of target's classes under log-probabilities `input`, laid out
    as (C,), (N, C) or (N, C, d1, ...), with torch's checks in torch's order."""
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError("nll_loss_nd(): argument 'ignore_index' (position 5) must be int, not %s"
                        % argument_type_name(ignore_index))
    if not -2**63 <= ignore_index < 2**63:
        raise ValueError("Overflow when unpacking long long")
    cdef Tensor x = as_tensor_arg(input, "nll_loss")
    cdef Tensor t = tensor_argument(target, "nll_loss", "target", 2)
    cdef tuple xs = shp(x.array)
    check_nll_shapes(xs, shp(t.array))
    if cnp.PyArray_TYPE(t.array) not in (cnp.NPY_INT64, cnp.NPY_UINT8):
        raise RuntimeError("expected target dtype to be Long or Byte, but got %s"
                           % scalar_name(t.array))
    cdef Py_ssize_t C = xs[0] if len(xs) == 1 else xs[1]
    cdef Py_ssize_t N = 1 if len(xs) == 1 else xs[0]
    cdef Py_ssize_t S = math.prod(xs[2:])
    if dtype_of_array(x.array).category != CAT_FLOAT:
        raise NotImplementedError("\"nll_loss_out_frame\" not implemented for '%s'"
                                  % scalar_name(x.array))
    cdef cnp.ndarray a = compute_array(x.array)
    cdef cnp.ndarray w_class = None if weight is None else class_weights(weight, C, a.dtype, x)
    cdef int how = REDUCTIONS[reduction]

    # entries e = (n, s) in target order; their flat positions in the (N, C, S) input
    cdef cnp.ndarray classes = t.array.reshape(-1).astype(np.int64, copy=False)
    cdef cnp.ndarray counted = classes != ignore_index
    cdef bint all_counted = counted.all()
    if not all_counted:
        classes = classes[counted]
    if classes.size and (classes.min() < 0 or classes.max() >= C):
        raise IndexError("Target %d is out of bounds." % classes[(classes < 0) | (classes >= C)][0])
    cdef cnp.ndarray entry = np.arange(N * S)
    if not all_counted:
        entry = entry[counted]
    picked = (entry - entry % S) * C + classes * S + entry % S if S != 1 else entry * C + classes
    weights = np.ones(classes.size, a.dtype) if w_class is None else w_class[classes]

    cdef cnp.ndarray flat = a.reshape(-1)
    losses = -(flat[picked] * weights)
    total_weight = None
    if how == REDUCE_NONE:
        per_entry = np.zeros(N * S, a.dtype)
        per_entry[counted] = losses
        out = per_entry.reshape(shp(t.array))
    elif how == REDUCE_SUM:
        out = losses.sum()
    else:
        total_weight = weights.sum()
        with np.errstate(all="ignore"):        # no counted entries: 0 / 0 is torch's NaN too
            out = losses.sum() / total_weight
    cdef Tensor result = new_tensor(as_array(np.asarray(out).astype(x.array.dtype, copy=False)))
    if not wants_grad(x):
        return result
    cdef NllLossBackward0 node = NllLossBackward0.__new__(NllLossBackward0)
    node.set_edges((x,))
    node.picked, node.weights, node.total_weight = picked, weights, total_weight
    node.counted = counted if how == REDUCE_NONE else None
    node.input_shape, node.input_dtype, node.compute_dtype = xs, x.array.dtype, a.dtype
    node.name_ = "NllLoss2DBackward0" if len(xs) > 2 else "NllLossBackward0"
    node.reduction = how
    attach(result, node)
    return result
