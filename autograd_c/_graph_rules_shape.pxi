# Graph rules of the shape ops, indexing and dtype casts (see _engine_graph.pxi): each node's
# gradient in recorded Tensor ops, one rule per node name. Most are linear in the gradient and
# read nothing saved: the gradient of a view is the gradient viewed back.

def _reshape_graph_rule(Node node, Tensor g):
    return g.reshape(ctx_of(node))


def _expand_graph_rule(Node node, Tensor g):
    return sum_to_shape_graph(g, ctx_of(node))


def _cast_graph_rule(Node node, Tensor g):
    return to_dtype_op(g, to_dtype(ctx_of(node)), False)


GRAPH_RULES.update({
    "ViewBackward0": _reshape_graph_rule,
    "ReshapeAliasBackward0": _reshape_graph_rule,
    "UnsafeViewBackward0": _reshape_graph_rule,
    "SqueezeBackward0": _reshape_graph_rule,
    "SqueezeBackward1": _reshape_graph_rule,
    "SqueezeBackward2": _reshape_graph_rule,
    "UnsqueezeBackward0": _reshape_graph_rule,
    "ExpandBackward0": _expand_graph_rule,
    "ToCopyBackward0": _cast_graph_rule,
})
