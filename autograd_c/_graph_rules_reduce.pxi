# Graph rules of the reductions and the softmax family (see _engine_graph.pxi): each node's
# gradient in recorded Tensor ops, one rule per node name. Which elements a max, min or norm
# picked out is a constant mask: it does not change under a small change of the input.

cdef Tensor expand_graph(Tensor g, tuple axes, tuple shape, bint keepdim):
    """expand_grad in recorded ops: a reduction's gradient broadcast back over its axes."""
    if not keepdim:
        g = g.reshape(keepdim_shape(shape, axes))
    return g.expand(shape)


cdef inline Tensor saved_output(Node node, object out, tuple kept_shape):
    """The node's saved output, joined to the graph in the shape it was made with (a gradient
    into the node must have that shape), then given the kept reduced dims."""
    return unpack(node, out, SAVED_OUTPUT).reshape(kept_shape)


def _sum_all_graph_rule(Node n, Tensor g):
    cdef SumBackward0 node = <SumBackward0>n
    cdef int i
    shape = tuple([node.dims[i] for i in range(node.nd)])
    g = g.expand(shape) if shape else g.reshape(())
    return to_dtype_op(g, DTYPE_BY_TYPENUM[node.typenum], False)     # sum(x, dtype=...)


def _sum_graph_rule(Node node, Tensor g):
    axes, shape, keepdim, dt = ctx_of(node)
    return to_dtype_op(expand_graph(g, axes, shape, keepdim), to_dtype(dt), False)


def _mean_graph_rule(Node node, Tensor g):
    axes, shape, keepdim, dt, count = ctx_of(node)
    return to_dtype_op(expand_graph(g, axes, shape, keepdim) / count, to_dtype(dt), False)


def _prod_graph_rule(Node node, Tensor g):
    a, d, shape, keepdim, dt = ctx_of(node)
    if a.ndim == 0:
        return to_dtype_op(g, to_dtype(dt), False).reshape(shape)
    if a.size == 0:
        return zeros_graph(shape, dt)
    axis = 0 if d is None else d
    x = unpack(node, a.reshape(shape), 0, dt).reshape(shp(a))     # prod(x, dtype=...) casts
    gk = g if (keepdim or d is None) else g.unsqueeze(axis)
    if not np.any(a == 0):
        r = gk * x.prod(axis, True) / x
    else:
        # The product of the others, without division: each element's slice repeated along a
        # new dim axis + 1 with that element replaced by 1 (n^2 values, only when a 0 is there).
        n = shp(a)[axis]
        eye = np.eye(n, dtype=bool).reshape((1,) * axis + (n, n) + (1,) * (a.ndim - axis - 1))
        r = gk * where(constant(eye), 1, x.unsqueeze(axis)).prod(axis + 1)
    return to_dtype_op(r.reshape(shape), to_dtype(dt), False)


def _max_all_graph_rule(Node node, Tensor g):
    a, out = ctx_of(node)
    mask = np.isnan(a) if np.isnan(out) else (a == out)
    return where(constant(mask), g / int(mask.sum()), 0)


def _max_dim_graph_rule(Node node, Tensor g):
    ctx = ctx_of(node)
    if ctx is None:                     # max(x, dim) of a 0-d x: a copy
        return g
    idx, d, shape, keepdim = ctx
    positions = np.arange(shape[d]).reshape([-1 if i == d else 1 for i in range(len(shape))])
    return where(constant(positions == idx), g if keepdim else g.unsqueeze(d), 0)


def _amax_graph_rule(Node node, Tensor g):
    a, out, axes, keepdim = ctx_of(node)
    kshape = keepdim_shape(shp(a), axes)
    mask = a == out.reshape(kshape)
    count = mask.sum(axis=axes, keepdims=True).astype(g.array.dtype)
    # a product, not where(): a NaN result matches nothing, and 0 * (g / 0) keeps its NaN
    return constant(mask.astype(g.array.dtype)) * (g.reshape(kshape) / constant(count))


def _var_graph_rule(Node node, Tensor g):
    centered, out, axes, keepdim, dof, take_sqrt = ctx_of(node)
    x = unpack(node, node.saved0, 0)
    shape = shp(x.array)                # centered is a numpy scalar for a 0-d x
    if centered.size == 0:
        return zeros_graph(shape, centered.dtype)
    kshape = keepdim_shape(shape, axes)
    gk = g.reshape(kshape)
    if take_sqrt:
        gk = where(constant(out.reshape(kshape) == 0), 0,
                   gk / (saved_output(node, out, kshape) * 2))
    return gk * ((x - x.mean(axes, True)) * 2) / float(dof)


def _norm_graph_rule(Node node, Tensor g):
    a, out, p, axes, keepdim = ctx_of(node)
    kshape = keepdim_shape(shp(a), axes)
    ok = out.reshape(kshape)
    gk = g.reshape(kshape)
    if p == 0:
        return zeros_graph(shp(a), a.dtype)
    if p == 1:
        r = constant(np.nan_to_num(np.sign(a), nan=0.0)) * gk
    elif p in (np.inf, -np.inf):
        mask = np.abs(a) == ok
        count = mask.sum(axis=axes, keepdims=True).astype(g.array.dtype)
        r = constant(np.sign(a) * mask) * gk / constant(count)
    else:
        x = unpack(node, a, 0)
        o = saved_output(node, out, kshape)
        if p == 2:
            r = where(constant(ok == 0), 0, x / o) * gk
        else:
            r = where(constant(ok == 0), 0, x * x.abs().pow(p - 2) / o.pow(p - 1)) * gk
    return to_dtype_op(r, to_dtype(a.dtype), False)


def _logsumexp_graph_rule(Node node, Tensor g):
    a, out_kept, axes, keepdim = ctx_of(node)
    kshape = shp(out_kept)
    o = saved_output(node, out_kept.reshape(shp(g.array)), kshape)
    return g.reshape(kshape) * (unpack(node, a, 0) - o).exp()


def _softmax_graph_rule(Node node, Tensor g):
    y_arr, d, dt = ctx_of(node)
    if d is None:
        return zeros_graph(shp(y_arr), dt)
    y = unpack(node, y_arr, SAVED_OUTPUT)
    return to_dtype_op(y * (g - (g * y).sum(d, True)), to_dtype(dt), False)


def _log_softmax_graph_rule(Node node, Tensor g):
    y_arr, d, dt = ctx_of(node)
    if d is None:
        return zeros_graph(shp(y_arr), dt)
    y = unpack(node, y_arr, SAVED_OUTPUT)
    return to_dtype_op(g - y.exp() * g.sum(d, True), to_dtype(dt), False)


def _cumsum_graph_rule(Node node, Tensor g):
    d, dt = ctx_of(node)
    if d is not None:
        # the cumsum from the end: reversing by an index keeps the values the ndarray rule gets
        rev = (slice(None),) * d + (np.arange(shp(g.array)[d] - 1, -1, -1),)
        g = g[rev].cumsum(d)[rev]
    return to_dtype_op(g, to_dtype(dt), False)


GRAPH_RULES.update({
    "SumBackward0": _sum_all_graph_rule,
    "SumBackward1": _sum_graph_rule,
    "MeanBackward0": _mean_graph_rule,
    "MeanBackward1": _mean_graph_rule,
    "ProdBackward0": _prod_graph_rule,
    "ProdBackward1": _prod_graph_rule,
    "MaxBackward1": _max_all_graph_rule,
    "MinBackward1": _max_all_graph_rule,
    "MaxBackward0": _max_dim_graph_rule,
    "MinBackward0": _max_dim_graph_rule,
    "AmaxBackward0": _amax_graph_rule,
    "AminBackward0": _amax_graph_rule,
    "VarBackward0": _var_graph_rule,
    "StdBackward0": _var_graph_rule,
    "LinalgVectorNormBackward0": _norm_graph_rule,
    "LogsumexpBackward0": _logsumexp_graph_rule,
    "SoftmaxBackward0": _softmax_graph_rule,
    "LogSoftmaxBackward0": _log_softmax_graph_rule,
    "CumsumBackward0": _cumsum_graph_rule,
})
