# Graph rules of the reductions and the softmax family (see _engine_graph.pxi): each node's
# gradient in recorded Tensor ops, one rule per node name.

cdef Tensor expand_graph(Tensor g, tuple axes, tuple shape, bint keepdim):
    """expand_grad in recorded ops: a reduction's gradient broadcast back over its axes."""
    if not keepdim:
        g = g.reshape(keepdim_shape(shape, axes))
    return g.expand(shape)


def _sum_all_graph_rule(Node n, Tensor g):
    cdef SumBackward0 node = <SumBackward0>n
    cdef int i
    shape = tuple([node.dims[i] for i in range(node.nd)])
    return g.expand(shape) if shape else g.reshape(())


def _sum_graph_rule(Node node, Tensor g):
    axes, shape, keepdim, dt = ctx_of(node)
    return to_dtype_op(expand_graph(g, axes, shape, keepdim), to_dtype(dt), False)


def _mean_graph_rule(Node node, Tensor g):
    axes, shape, keepdim, dt, count = ctx_of(node)
    return to_dtype_op(expand_graph(g, axes, shape, keepdim) / count, to_dtype(dt), False)


GRAPH_RULES.update({
    "SumBackward0": _sum_all_graph_rule,
    "SumBackward1": _sum_graph_rule,
    "MeanBackward0": _mean_graph_rule,
    "MeanBackward1": _mean_graph_rule,
})
