# Graph rules of the shape ops, indexing, dtype casts and in-place writes (see _engine_graph.pxi):
# each node's gradient in recorded Tensor ops, one rule per node name. All are linear in the
# gradient and read nothing saved: the gradient of a view is the gradient viewed back, the
# gradient of a part (slice, index, piece) is the gradient written into zeros, and the gradient
# of a write is the gradient with the written part taken out.

cdef Tensor scatter_graph(Tensor g, tuple shape, object np_dtype, tuple comps, bint basic):
    """zeros(shape) with g written at comps (for an advanced index, added there, so repeated
    positions accumulate): the adjoint of x[comps]. Recorded as the write of g into a constant
    tensor, whose gradient for g is the gradient read back at comps, itself recorded."""
    out = np.zeros(shape, dtype=np_dtype)
    if basic:
        out[comps] = g.array
    else:
        np.add.at(out, comps, g.array)
    return record(new_tensor(out), "torch::autograd::CopySlices" if basic else "IndexPutBackward0",
                  _setitem_rule, (comps, meta_of(g), basic), (None, g))


cdef inline Tensor without(Tensor g, object written):
    """g with the positions where `written` is True set to 0 (a NaN there too, as torch's)."""
    return where(constant(written), 0, g)


cdef inline Tensor flat(Tensor g):
    return reshape(g, (cnp.PyArray_SIZE(g.array),))


# -- views and copies ----------------------------------------------------------------------------

def _reshape_graph_rule(Node node, Tensor g):
    return g.reshape(ctx_of(node))


def _expand_graph_rule(Node node, Tensor g):
    return sum_to_shape_graph(g, ctx_of(node))


def _cast_graph_rule(Node node, Tensor g):
    return to_dtype_op(g, to_dtype(ctx_of(node)), False)


def _identity_graph_rule(Node node, Tensor g):
    return g


def _transpose_graph_rule(Node node, Tensor g):
    dims = ctx_of(node)
    return g if dims is None else transpose(g, dims[0], dims[1])


def _t_graph_rule(Node node, Tensor g):
    return t(g)


def _permute_graph_rule(Node node, Tensor g):
    return permute(g, tuple([int(d) for d in np.argsort(ctx_of(node))]))


def _repeat_graph_rule(Node node, Tensor g):
    padded, reps, shape = ctx_of(node)
    if not reps:                      # a 0-d tensor repeated ()
        return reshape(g, shape)
    split = []
    for r, s in zip(reps, padded):
        split += [r, s]
    summed = reshape(g, tuple(split)).sum(tuple(range(0, 2 * len(reps), 2)), False)
    return reshape(summed, shape)


# -- parts: indexing, gather, split, unbind ------------------------------------------------------

def _basic_index_graph_rule(Node node, Tensor g):
    shape, np_dtype, comps = ctx_of(node)
    return scatter_graph(g, shape, np_dtype, comps, True)


def _advanced_index_graph_rule(Node node, Tensor g):
    shape, np_dtype, comps = ctx_of(node)
    return scatter_graph(g, shape, np_dtype, comps, False)


def _gather_0d_graph_rule(Node node, Tensor g):
    return g.sum()


# -- joining -------------------------------------------------------------------------------------

def _cat_graph_rule(Node node, Tensor g):
    d, sizes, dtypes = ctx_of(node)
    outs = []
    start = 0
    for i in range(len(sizes)):
        if node.edge(i) is None:
            outs.append(None)
        else:
            piece = getitem(g, (slice(None),) * d + (slice(start, start + sizes[i]),))
            outs.append(to_dtype_op(piece, to_dtype(dtypes[i]), False))
        start += sizes[i]
    return tuple(outs)


def _stack_graph_rule(Node node, Tensor g):
    d, dtypes = ctx_of(node)
    return tuple([None if node.edge(i) is None else
                  to_dtype_op(getitem(g, (slice(None),) * d + (i,)), to_dtype(dtypes[i]), False)
                  for i in range(len(dtypes))])


# -- in-place writes -----------------------------------------------------------------------------

def _setitem_graph_rule(Node node, Tensor g):
    comps, value_meta, basic = ctx_of(node)
    gx = gv = None
    if node.edge(0) is not None:
        written = np.zeros(shp(g.array), dtype=bool)
        written[comps] = True
        gx = without(g, written)
    if node.edge(1) is not None and value_meta is not None:
        gv = fit_graph(getitem(g, comps), value_meta)
    return gx, gv


def _copy_slices_graph_rule(Node node, Tensor g):
    region, view_shape = ctx_of(node)
    check_unshared(region)
    gx = gv = None
    if node.edge(0) is not None:
        written = np.zeros(cnp.PyArray_SIZE(g.array), dtype=bool)
        written[region] = True
        gx = without(g, written.reshape(shp(g.array)))
    if node.edge(1) is not None:
        gv = reshape(getitem(flat(g), (region,)), view_shape)
    return gx, gv


def _as_strided_graph_rule(Node node, Tensor g):
    region, base_shape = ctx_of(node)
    size = math.prod(base_shape)
    return reshape(scatter_graph(flat(g), (size,), g.array.dtype, (region,), False), base_shape)


def _fill_graph_rule(Node node, Tensor g):
    shape, value_meta = ctx_of(node)
    gv = None
    if value_meta is not None and node.edge(1) is not None:
        gv = reshape(to_dtype_op(g.sum(), to_dtype(value_meta[1]), False), value_meta[0])
    return zeros_graph(shape, g.array.dtype), gv


# -- names several forward ops record, each with its own ndarray rule ----------------------------

cdef dict SHARED_NAME_RULES = {
    # node name -> {the node's ndarray rule: its graph rule}
    "UnsqueezeBackward0": {_reshape_rule: _reshape_graph_rule,
                           _basic_index_rule: _basic_index_graph_rule},     # x[:, None]
    "UnsafeViewBackward0": {_reshape_rule: _reshape_graph_rule},
    "CloneBackward0": {_identity_rule: _identity_graph_rule,
                       _pass_through_rule: _identity_graph_rule},
    "GatherBackward0": {_gather_rule: _advanced_index_graph_rule,
                        _gather_0d_rule: _gather_0d_graph_rule},
    "torch::autograd::CopySlices": {_setitem_rule: _setitem_graph_rule,              # x[i] = v
                                    _copy_slices_rule: _copy_slices_graph_rule},     # view.op_()
}


def _shared_name_graph_rule(Node node, Tensor g):
    rule = linalg_graph_rule_for(node)          # matmul's UnsafeViewBackward0, CloneBackward0
    if rule is None:
        rule = SHARED_NAME_RULES[node.name()].get((<RuleNode>node).rule)
    if rule is None:
        raise RuntimeError("the derivative of %s cannot be recorded yet, so it does not support "
                           "create_graph=True" % node.name())
    return rule(node, g)


for _name in SHARED_NAME_RULES:
    GRAPH_RULES[_name] = _shared_name_graph_rule


GRAPH_RULES.update({
    "ViewBackward0": _reshape_graph_rule,
    "ReshapeAliasBackward0": _reshape_graph_rule,
    "SqueezeBackward0": _reshape_graph_rule,
    "SqueezeBackward1": _reshape_graph_rule,
    "SqueezeBackward2": _reshape_graph_rule,
    "ExpandBackward0": _expand_graph_rule,
    "ToCopyBackward0": _cast_graph_rule,
    "AliasBackward0": _identity_graph_rule,         # x[...], x[:]: the same shape
    "TransposeBackward0": _transpose_graph_rule,
    "TBackward0": _t_graph_rule,
    "PermuteBackward0": _permute_graph_rule,
    "RepeatBackward0": _repeat_graph_rule,
    "SliceBackward0": _basic_index_graph_rule,
    "SelectBackward0": _basic_index_graph_rule,
    "SplitBackward0": _basic_index_graph_rule,
    "SplitWithSizesBackward0": _basic_index_graph_rule,
    "UnbindBackward0": _basic_index_graph_rule,
    "IndexBackward0": _advanced_index_graph_rule,
    "CatBackward0": _cat_graph_rule,
    "StackBackward0": _stack_graph_rule,
    "IndexPutBackward0": _setitem_graph_rule,
    "AsStridedBackward0": _as_strided_graph_rule,
    "FillBackward0": _fill_graph_rule,
    "ZeroBackward0": _fill_graph_rule,
})
