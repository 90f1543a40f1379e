# In-place ops. Each one bumps the storage's version counter, so a node that saved the old
# values notices at backward time instead of using the new ones.
#
# Without a graph to record (grad mode off, or nothing involved requires grad) an in-place op
# writes straight into the array: this is the optimizer's path and it allocates nothing when a C
# kernel applies. With a graph, the op runs out of place on a snapshot of the tensor (a private
# copy carrying its history), and the tensor adopts the result's values and node. The node saved
# the snapshot, which nobody else can write to, so its saved values stay valid.

LEAF_INPLACE_MESSAGE = ("a leaf Variable that requires grad is being used in an in-place "
                        "operation.")


OVERLAP_MESSAGE = ("unsupported operation: more than one element of the written-to tensor "
                   "refers to a single memory location. Please clone() the tensor before "
                   "performing the operation.")


cdef bint has_internal_overlap(cnp.ndarray a):
    """Whether two elements of a share memory: a dim of stride 0 and size above 1 (what expand
    makes), with elements to write."""
    cdef int d
    if cnp.PyArray_SIZE(a) == 0:
        return False
    for d in range(cnp.PyArray_NDIM(a)):
        if cnp.PyArray_STRIDE(a, d) == 0 and cnp.PyArray_DIM(a, d) > 1:
            return True
    return False


cdef check_inplace(Tensor self, bint other_requires_grad, bint refuse_overlap=True):
    """torch's checks before an in-place write. torch lets fill_ (of a number), masked_fill_
    and index_put_ write into overlapping memory, every value landing where it lands; the other
    in-place ops refuse it."""
    if not cnp.PyArray_ISWRITEABLE(self.array) or (refuse_overlap and
                                                   has_internal_overlap(self.array)):
        raise RuntimeError(OVERLAP_MESSAGE)
    if self.inference_ and not inference_enabled:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not "
                           "allowed.You can make a clone to get a normal tensor before doing "
                           "inplace update.See https://github.com/pytorch/rfcs/pull/17 for more "
                           "details.")
    if not ag_grad_enabled():
        return
    if self.grad_fn_ is None and self.needs_grad:
        raise RuntimeError(LEAF_INPLACE_MESSAGE)
    cdef Tensor base = self.base_
    if base is None:
        return
    if base.grad_fn_ is None and base.needs_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    if (base.needs_grad or other_requires_grad) and view_region(self) is None:
        raise RuntimeError("an in-place operation on a view of a tensor that is part of an autograd "
                           "graph is not supported when the base's storage is not contiguous; "
                           "assign through the base tensor (x[index] = value) or use an "
                           "out-of-place op")


cdef inline bint requires_grad_of(object x):
    return isinstance(x, Tensor) and tracked(<Tensor>x)


cdef inline void bump_version(Tensor t):
    cdef VersionCounter vc = counter_of(t)
    vc.value += 1


cdef check_castable(dtype result, Tensor self):
    cdef dtype own = dtype_of_array(self.array)
    if result.category > own.category:
        raise RuntimeError("result type %s can't be cast to the desired output type %s"
                           % (result.legacy_name[:-6], own.legacy_name[:-6]))


cdef Tensor snapshot(Tensor self):
    """A private copy of self's values that carries self's history."""
    if is_stale_view(self):
        refresh_view(self)
    cdef Tensor snap = new_tensor(self.array.copy())
    snap.grad_fn_ = self.grad_fn_
    snap.needs_grad = self.needs_grad
    return snap


cdef Tensor adopt(Tensor self, Tensor result):
    """Make self hold result's values and history (result was computed from a snapshot)."""
    if not same_shape(self.array, result.array):
        raise RuntimeError("output with shape %s doesn't match the broadcast shape %s"
                           % (shape_str(shp(self.array)), shape_str(shp(result.array))))
    np.copyto(self.array, result.array, casting="unsafe")
    bump_version(self)
    if self.base_ is not None and result.grad_fn_ is not None:
        write_through_view(self, result)
        return self
    if result.grad_fn_ is not None:
        self.version_.writer = result.grad_fn_.name()
        self.grad_fn_ = result.grad_fn_
        self.needs_grad = True
        if self.retain_ref is not None:
            self.grad_fn_.retained = self.retain_ref
    return self


cdef Tensor inplace_binary(int op, Tensor self, object other, object alpha):
    cdef bint other_grad = requires_grad_of(other)
    cdef int k
    check_alpha(self, other, alpha)
    cdef double a = alpha
    other = coerce_operand(other)
    other_grad = requires_grad_of(other)
    if not (isinstance(other, Tensor) or is_scalar(other)):
        return NotImplemented
    check_inplace(self, other_grad)
    rd = result_type((self, other))
    if op == AG_DIV and rd.category != CAT_FLOAT:
        rd = default_float
    check_castable(rd, self)
    if ag_grad_enabled() and (tracked(self) or other_grad):
        return adopt(self, binary_op(op, snapshot(self), other, a))
    # the direct path: no graph, write into the array
    if isinstance(other, Tensor):
        broadcast_check_into(self, <Tensor>other)
        if a == 1.0:
            k = kernel_code_pair(self.array, (<Tensor>other).array)
            if k >= 0:
                run_binary(op, k, cnp.PyArray_DATA(self.array), cnp.PyArray_DATA((<Tensor>other).array),
                          cnp.PyArray_DATA(self.array), cnp.PyArray_SIZE(self.array))
                bump_version(self)
                return self
    elif type(other) is float or type(other) is int:
        k = kernel_code(self.array)
        if k >= 0:
            # alpha scales the operand of add_/sub_ (it is always 1 for mul_/div_)
            run_binary_scalar(op, k, cnp.PyArray_DATA(self.array), (<double>other) * a,
                              cnp.PyArray_DATA(self.array), cnp.PyArray_SIZE(self.array))
            bump_version(self)
            return self
    A = operand_array(self, rd)
    B = operand_array(other, rd)
    if a != 1.0:
        B = B * rd.numpy_dtype.type(a)
    with np.errstate(all="ignore"):
        out = BINARY_UFUNCS[op](A, B)
    np.copyto(self.array, out, casting="unsafe")
    bump_version(self)
    return self


cdef broadcast_check_into(Tensor self, Tensor other):
    shape = broadcast_shapes(shp(self.array), shp(other.array))
    if shape != shp(self.array):
        raise RuntimeError("output with shape %s doesn't match the broadcast shape %s"
                           % (shape_str(shp(self.array)), shape_str(shape)))


cdef Tensor clamp_(Tensor self, object lo, object hi):
    cdef bint bounds_grad = requires_grad_of(lo) or requires_grad_of(hi)
    check_inplace(self, bounds_grad)
    bounds = tuple([v for v in (lo, hi) if v is not None])
    rd = result_type((self,) + bounds) if bounds else dtype_of_array(self.array)
    if rd.category > dtype_of_array(self.array).category:
        raise RuntimeError("result type %s can't be cast to the desired output type %s"
                           % (rd.legacy_name[:-6], dtype_word(self.array)))
    if ag_grad_enabled() and (tracked(self) or bounds_grad):
        return adopt(self, clamp(snapshot(self), lo, hi))
    np.copyto(self.array, (<Tensor>clamp(self.detach(), lo, hi)).array, casting="unsafe")
    bump_version(self)
    return self


cdef Tensor relu_(Tensor self):
    """In-place relu, recorded as torch's relu_ is: a ReluBackward0 node over the result."""
    check_inplace(self, False)
    if ag_grad_enabled() and tracked(self):
        return adopt(self, unary_op(AG_RELU, snapshot(self)))
    np.copyto(self.array, (<Tensor>unary_op(AG_RELU, self.detach())).array, casting="unsafe")
    bump_version(self)
    return self


def _fill_rule(g, ctx):
    shape, value_meta = ctx
    gv = np.asarray(g.sum(), dtype=value_meta[1]).reshape(value_meta[0]) if value_meta is not None else None
    return np.zeros(shape, dtype=g.dtype), gv


cdef object check_fill_value(object value, str fn):
    if not (isinstance(value, Tensor) or is_scalar(value) or cnp.PyArray_Check(value)):
        raise TypeError("%s received an invalid value of type %s: expected a number or a Tensor"
                        % (fn, type(value).__name__))
    return value


cdef Tensor fill_(Tensor self, object value):
    check_fill_value(value, "fill_()")
    cdef bint value_grad = requires_grad_of(value)
    check_inplace(self, value_grad, isinstance(value, Tensor))
    if isinstance(value, Tensor) and (<Tensor>value).array.ndim != 0:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with %d "
                           "dimensions." % (<Tensor>value).array.ndim)
    v = (<Tensor>value).array if isinstance(value, Tensor) else value
    if is_scalar(value):
        check_scalar_fits(value, dtype_of_array(self.array))
    if ag_grad_enabled() and (tracked(self) or value_grad):
        result = new_tensor(np.full(shp(self.array), v, dtype=self.array.dtype))
        record(result, "FillBackward0" if value_grad else "ZeroBackward0", _fill_rule,
               (shp(self.array), meta_of(value)), (snapshot(self), value))
        return adopt(self, result)
    self.array[...] = v
    bump_version(self)
    return self


def _copy_rule(g, ctx):
    src_meta = ctx
    return np.zeros_like(g), fit_gradient(g, src_meta)


cdef Tensor copy_(Tensor self, object src):
    cdef Tensor s = as_tensor_arg(src, "copy_")
    # a bool or integer self cannot carry the source's gradient: torch drops it
    cdef bint src_grad = tracked(s) and dtype_of_array(self.array).category == CAT_FLOAT
    check_inplace(self, src_grad)
    broadcast_check_into(self, s)
    if ag_grad_enabled() and (tracked(self) or src_grad):
        result = new_tensor(np.broadcast_to(s.array, shp(self.array)).astype(self.array.dtype))
        record(result, "CopyBackwards", _copy_rule, meta_of(s), (snapshot(self), s))
        return adopt(self, result)
    np.copyto(self.array, s.array, casting="unsafe")
    bump_version(self)
    return self


# -- in-place writes through views -------------------------------------------------------------
#
# A view shares its base's storage, so an in-place op on the view changes the base too. Its
# history is then rewritten as torch's CopySlices does: the base's new node takes the gradient
# of the whole base, sends the part outside the view to the base's old history and the part
# inside to the op's result. The view (and every older view of the same storage, whose version
# no longer matches) gets a fresh node from the base, AsStridedBackward0, when next used.
# Positions are the view's elements as flat indices into a C-contiguous base.

cdef object view_region(Tensor view):
    """The flat C-order index into the base of each element of `view`, or None when the base's
    storage is not C-contiguous."""
    cdef cnp.ndarray base = view.base_.array, v = view.array
    if not cnp.PyArray_IS_C_CONTIGUOUS(base) or v.itemsize != base.itemsize:
        return None
    offset = (<char*>cnp.PyArray_DATA(v) - <char*>cnp.PyArray_DATA(base)) // base.itemsize
    positions = np.arange(base.size, dtype=np.int64)
    strides = tuple(s // base.itemsize * 8 for s in (<object>v).strides)
    region = np.lib.stride_tricks.as_strided(positions[offset:] if base.size else positions,
                                             shape=shp(v), strides=strides).reshape(-1)
    return region.copy()


cdef check_unshared(object region):
    """torch writes into overlapping memory in forward (fill_, zero_) but its CopySlices
    refuses to send the gradient back through it."""
    if np.unique(region).size != region.size:
        raise RuntimeError(OVERLAP_MESSAGE)


def _copy_slices_rule(g, ctx):
    region, view_shape = ctx
    check_unshared(region)
    flat = np.ascontiguousarray(g).reshape(-1)
    outside = flat.copy()
    outside[region] = 0
    return outside.reshape(g.shape), flat[region].reshape(view_shape)


def _as_strided_rule(g, ctx):
    region, base_shape = ctx
    gx = np.zeros(math.prod(base_shape), dtype=g.dtype)
    np.add.at(gx, region, np.asarray(g).reshape(-1))    # an expanded view repeats positions
    return gx.reshape(base_shape)


cdef write_through_view(Tensor view, Tensor result):
    """Rewrite the base's history after result's values were written into `view`."""
    cdef Tensor base = view.base_
    region = view_region(view)
    cdef Tensor old = new_tensor(base.array)          # stands for the base's history so far
    old.grad_fn_, old.needs_grad = base.grad_fn_, base.needs_grad
    base.grad_fn_ = rule_node("torch::autograd::CopySlices", _copy_slices_rule,
                              (region, shp(view.array)), (old, result))
    base.needs_grad = True
    if base.retain_ref is not None:
        base.grad_fn_.retained = base.retain_ref
    view.view_version = -1                           # made again from the base when next used


cdef RuleNode rule_node(str name, object rule, object ctx, tuple inputs):
    """A node whatever the grad mode: these rewrite history that already exists."""
    cdef RuleNode node = RuleNode.__new__(RuleNode)
    node.name_, node.rule, node.ctx = name, rule, ctx
    node.set_edges(inputs)
    return node


cdef void refresh_view(Tensor view):
    """Give a view whose storage was written in place a node from its base's history."""
    cdef Tensor base = view.base_
    view.view_version = view.version_.value
    if not base.needs_grad:
        view.grad_fn_ = None
        view.needs_grad = False
        return
    try:
        region = view_region(view)
        if region is None:
            return
        view.grad_fn_ = rule_node("AsStridedBackward0", _as_strided_rule,
                                  (region, shp(base.array)), (base,))
        view.needs_grad = True
    except Exception:
        pass


cdef Tensor masked_fill_(Tensor self, object mask, object value):
    check_inplace(self, requires_grad_of(value), False)
    if has_internal_overlap(self.array):
        warnings.warn("Use of masked_fill_ on expanded tensors is deprecated. Please clone() the "
                      "tensor before performing this operation. This also applies to advanced "
                      "indexing e.g. tensor[mask] = scalar", UserWarning, stacklevel=1)
    if ag_grad_enabled() and (tracked(self) or requires_grad_of(value)):
        return adopt(self, masked_fill(snapshot(self), mask, value))
    result = masked_fill(self.detach(), mask, value)
    np.copyto(self.array, (<Tensor>result).array)
    bump_version(self)
    return self


cdef Tensor fill_random(Tensor self, object values):
    check_inplace(self, False)
    np.copyto(self.array, values, casting="unsafe")
    bump_version(self)
    return self


def _setitem_rule(g, ctx):
    comps, value_meta, basic = ctx
    gx = g.copy()
    gx[comps] = 0
    if value_meta is None:
        return gx, None
    gv = g[comps]
    return gx, fit_gradient(as_array(gv), value_meta)


cdef setitem(Tensor self, object index, object value):
    cdef bint value_grad = requires_grad_of(value)
    if not (isinstance(value, Tensor) or is_scalar(value) or cnp.PyArray_Check(value)):
        raise TypeError("can't assign a %s to a %s.%s" % (type(value).__name__, MODULE_NAME,
                                                          dtype_of_array(self.array).legacy_name))
    if ag_grad_enabled() and self.grad_fn_ is None and self.needs_grad:
        # torch indexes first, so what it refuses is a write into a view of the leaf
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    check_inplace(self, value_grad, False)
    comps, basic = normalize_index(index)
    if not comps:
        comps = (Ellipsis,)
    if has_internal_overlap(self.array):
        check_overlapping_target(self.array, comps, basic)
    if isinstance(value, Tensor):
        v = (<Tensor>value).array
    elif is_scalar(value):
        check_scalar_fits(value, dtype_of_array(self.array))
        v = value
    else:
        v = np.asarray(value)
    if ag_grad_enabled() and (tracked(self) or value_grad):
        new = self.array.copy()
        assign_index(new, comps, v)
        result = new_tensor(new)
        record(result, "torch::autograd::CopySlices" if basic else "IndexPutBackward0", _setitem_rule,
               (comps, meta_of(value), basic),
               (snapshot(self), value))
        adopt(self, result)
        return
    assign_index(self.array, comps, v)
    bump_version(self)


cdef check_overlapping_target(cnp.ndarray a, tuple comps, bint basic):
    """torch writes a basic index through its view (copy_, which refuses overlap), an
    advanced one with index_put_, which allows it with a warning."""
    if not basic:
        warnings.warn("Use of index_put_ on expanded tensors is deprecated. Please clone() the "
                      "tensor before performing this operation. This also applies to advanced "
                      "indexing e.g. tensor[indices] = tensor", UserWarning, stacklevel=1)
        return
    if has_internal_overlap(numpy_index(a, comps if Ellipsis in comps else comps + (Ellipsis,))):
        raise RuntimeError(OVERLAP_MESSAGE)


cdef assign_index(cnp.ndarray target, tuple comps, object v):
    try:
        target[comps] = v
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension"))
    except ValueError as e:
        raise RuntimeError(str(e))
