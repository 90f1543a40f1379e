# Graph rules of matrix products, the layers of nn and the losses (see _engine_graph.pxi):
# each node's gradient in recorded Tensor ops, one rule per node name. The layers' gradients
# that are ops of their own (convolution, pooling) are at the end of _ops_nn.pxi.

cdef inline Tensor cast(Tensor t, object np_dtype):
    return to_dtype_op(t, to_dtype(np_dtype), False)


cdef inline Tensor reshaped(Tensor t, tuple shape):
    """t.reshape(shape), without a node when nothing changes."""
    return t if shp(t.array) == shape else t.reshape(shape)


cdef inline Tensor in_cast(Tensor t):
    """t in the dtype the layers' kernels compute in (see compute_array)."""
    cdef int k = cnp.PyArray_TYPE(t.array)
    if k == cnp.NPY_FLOAT32 or k == cnp.NPY_FLOAT64:
        return t
    return cast(t, np.float32 if k == cnp.NPY_FLOAT16 else np.float64)


# -- matrix products -----------------------------------------------------------------------------

def _mm_graph_rule(Node node, Tensor g):
    if isinstance(node, AddmmBackward0):           # linear without a bias
        return _addmm_graph_rule(node, g)
    ga = gb = None
    if node.next0 is not None:
        ga = mm_2d(g, <Tensor>t(unpack(node, node.saved1, 1)))
    if node.next1 is not None:
        gb = mm_2d(<Tensor>t(unpack(node, node.saved0, 0)), g)
    return ga, gb


def _addmm_graph_rule(Node n, Tensor g):
    cdef AddmmBackward0 node = <AddmmBackward0>n
    cdef int xi = 1 if node.has_bias else 0          # x's input; weight.t()'s is the next one
    gb = gx = gwt = None
    if node.has_bias and node.next0 is not None:
        gb = g.sum((0,), False)
    if node.edge(xi) is not None:
        # saved1 holds the weight, but the edge is weight.t()'s: joined as weight.t(), so
        # that a gradient through it has the shape its node expects
        gx = mm_2d(g, <Tensor>t(unpack(node, (<cnp.ndarray>node.saved1).T, xi + 1)))
    if node.edge(xi + 1) is not None:
        gwt = mm_2d(<Tensor>t(unpack(node, node.saved0, xi)), g)
    return (gb, gx, gwt) if node.has_bias else (gx, gwt)


def _bmm_graph_rule(Node node, Tensor g):
    ga = gb = None
    if node.edge(0) is not None:
        ga = bmm(g, unpack(node, node.saved1, 1).transpose(1, 2))
    if node.edge(1) is not None:
        gb = bmm(unpack(node, node.saved0, 0).transpose(1, 2), g)
    return ga, gb


def _dot_graph_rule(Node node, Tensor g):
    ga = g * unpack(node, node.saved1, 1) if node.edge(0) is not None else None
    gb = g * unpack(node, node.saved0, 0) if node.edge(1) is not None else None
    return ga, gb


def _mv_graph_rule(Node node, Tensor g):
    M, v = ctx_of(node)
    gm = gv = None
    if node.edge(0) is not None:
        gm = g.reshape((M.shape[0], 1)) * unpack(node, node.saved1, 1).reshape((1, M.shape[1]))
    if node.edge(1) is not None:
        gv = matmul(g, unpack(node, node.saved0, 0))              # M.T @ g
    return gm, gv


def _vm_graph_rule(Node node, Tensor g):
    v, M = ctx_of(node)
    gv = gm = None
    if node.edge(0) is not None:
        gv = mv(unpack(node, node.saved1, 1), g)
    if node.edge(1) is not None:
        gm = unpack(node, node.saved0, 0).reshape((M.shape[0], 1)) * g.reshape((1, M.shape[1]))
    return gv, gm


def _matmul_graph_rule(Node node, Tensor g):
    A2, B2, sa, sb, na, nb = ctx_of(node)
    if na == 1:
        g = g.unsqueeze(-2)
    if nb == 1:
        g = g.unsqueeze(-1)
    ga = gb = None
    if node.edge(0) is not None:
        b = unpack(node, node.saved1, 1).reshape(B2.shape)
        ga = sum_to_shape_graph(<Tensor>matmul(g, b.transpose(-1, -2)), A2.shape).reshape(sa)
    if node.edge(1) is not None:
        a = unpack(node, node.saved0, 0).reshape(A2.shape)
        gb = sum_to_shape_graph(<Tensor>matmul(a.transpose(-1, -2), g), B2.shape).reshape(sb)
    return ga, gb


def linalg_graph_rule_for(Node node):
    """The graph rule of a node that matmul records under a shape op's name (CloneBackward0,
    UnsafeViewBackward0 for broadcast products), or None for the shape op's own node: the two
    differ in their ndarray rule."""
    if isinstance(node, RuleNode) and (<RuleNode>node).rule is _batched_rule_shaped:
        return _matmul_graph_rule
    return None


# -- convolution ---------------------------------------------------------------------------------

cdef tuple conv_geometry(ConvolutionBackward0 node, tuple x4):
    """(stride, padding, extra, dilation, groups) as conv_arrays takes them."""
    cdef ag_window w = node.win
    return ((w.stride_h, w.stride_w), (w.pad_h, w.pad_w),
            (node.input_shape[2] - x4[2], node.input_shape[3] - x4[3]),
            (w.dilation_h, w.dilation_w), node.groups)


cdef inline tuple as_4d(tuple shape):
    """A 1-D convolution's (N, C, L) is a 2-D one's (N, C, 1, L)."""
    return shape if len(shape) == 4 else shape[:2] + (1,) + shape[2:]


def _convolution_graph_rule(Node n, Tensor g):
    cdef ConvolutionBackward0 node = <ConvolutionBackward0>n
    cdef tuple x4 = as_4d(node.user_input_shape), w4 = as_4d(node.user_weight_shape)
    cdef tuple geom = conv_geometry(node, x4)
    ct = (<cnp.ndarray>node.weight).dtype
    gx = gw = gb = None
    g4 = reshaped(cast(g, ct), x4[:1] + w4[:1] + (node.win.out_h, node.win.out_w))
    if node.next0 is not None:
        w = reshaped(cast(unpack(node, node.saved1, 1), ct), w4)
        gx = cast(reshaped(conv_input_gradient(g4, w, geom, x4),
                                    node.user_input_shape), node.input_dtype)
    if node.next1 is not None:
        x = reshaped(cast(unpack(node, node.saved0, 0), ct), x4)
        gw = cast(reshaped(conv_weight_gradient(x, g4, geom, w4),
                                    node.user_weight_shape), node.weight_dtype)
    if node.num_inputs == 3 and node.next_rest[0] is not None:
        gb = cast(g4.sum((0, 2, 3), False), node.weight_dtype)
    return gx, gw, gb


def _conv_gradient_graph_rule(Node node, Tensor h):
    """The rules of Gx and Gw (see _ops_nn.pxi), each from the other two maps."""
    ctx = ctx_of(node)
    geom = ctx[0]
    a = unpack(node, node.saved0, 0)
    b = unpack(node, node.saved1, 1)
    first = second = None
    if (<RuleNode>node).rule is _conv_input_gradient_rule:     # Gx(g, w): a = g, b = w
        if node.edge(0) is not None:
            first = conv_forward(h, b, geom)
        if node.edge(1) is not None:
            second = conv_weight_gradient(h, a, geom, shp(b.array))
    else:                                                       # Gw(x, g): a = x, b = g
        if node.edge(0) is not None:
            first = conv_input_gradient(b, h, geom, shp(a.array))
        if node.edge(1) is not None:
            second = conv_forward(a, h, geom)
    return first, second


# -- pooling -------------------------------------------------------------------------------------
#
# Linear in g, with windows and argmax indices that do not vary with the input: the input
# gradient is a recorded op of g alone, and the input gets none through it.

def _max_pool_graph_rule(Node n, Tensor g):
    cdef MaxPool2DWithIndicesBackward0 node = <MaxPool2DWithIndicesBackward0>n
    G = in_cast(g)
    return cast(max_pool_input_gradient(G, node), node.input_dtype)


def _max_pool_gather_graph_rule(Node node, Tensor h):
    indices, input_shape = ctx_of(node)
    cdef Tensor planes = h.reshape((-1, input_shape[-2] * input_shape[-1]))
    idx = constant(indices.reshape(shp(planes.array)[0], -1))
    return (<Tensor>gather(planes, 1, idx)).reshape(indices.shape)


def _avg_pool_graph_rule(Node n, Tensor g):
    cdef AvgPool2DBackward0 node = <AvgPool2DBackward0>n
    G = in_cast(g)
    return cast(avg_pool_input_gradient(G, node), node.input_dtype)


def _avg_pool_adjoint_graph_rule(Node node, Tensor h):
    return avg_pool2d(h, *ctx_of(node))


def _adaptive_pool_graph_rule(Node n, Tensor g):
    cdef AdaptiveAvgPool2DBackward0 node = <AdaptiveAvgPool2DBackward0>n
    G = in_cast(g)
    return cast(adaptive_pool_input_gradient(G, node), node.input_dtype)


def _adaptive_pool_adjoint_graph_rule(Node node, Tensor h):
    return adaptive_avg_pool2d(h, ctx_of(node))


# -- batch normalization -------------------------------------------------------------------------

def _batch_norm_graph_rule(Node n, Tensor g):
    cdef NativeBatchNormBackward0 node = <NativeBatchNormBackward0>n
    cdef cnp.ndarray X = node.x
    cdef tuple s3 = shp(X), per_channel = (1, shp(X)[1], 1), axes = (0, 2)
    x = cast(unpack(node, node.saved0, 0), X.dtype).reshape(s3)
    G = cast(g, X.dtype).reshape(s3)
    mean_c = constant(node.mean.astype(X.dtype).reshape(per_channel))
    invstd_c = constant(node.invstd.astype(X.dtype).reshape(per_channel))
    if node.training:
        # the statistics as functions of x. eps is not kept: held = 1 / invstd**2 - var(X)
        # stands for it, so var + held has forward's value and var carries x's part in it
        mean = x.mean(axes, True)
        var = ((x - mean) * (x - mean)).mean(axes, True)
        var_x = np.asarray(X, np.float64).var(axis=(0, 2))
        held = constant((1.0 / (node.invstd * node.invstd) - var_x).astype(X.dtype)
                        .reshape(per_channel))
        invstd = (var + held).rsqrt()
    else:
        mean, invstd = mean_c, invstd_c
    xhat = (x - mean) * invstd
    gx = gw = gb = None
    if node.next0 is not None:
        scale = invstd
        if node.saved1 is not None:
            scale = scale * cast(unpack(node, node.saved1, 1), X.dtype).reshape(
                per_channel)
        if node.training:
            G_centered = G - G.mean(axes, True) - xhat * (G * xhat).mean(axes, True)
            gx = scale * G_centered
        else:
            gx = scale * G
        gx = cast(gx.reshape(node.input_shape), node.input_dtype)
    if node.next1 is not None:
        gw = cast((G * xhat).sum(axes, False), node.weight_dtype).reshape(
            node.weight_shape)
    if node.next_rest[0] is not None:
        gb = cast(G.sum(axes, False), node.bias_dtype).reshape(node.bias_shape)
    return gx, gw, gb


# -- losses --------------------------------------------------------------------------------------

def _nll_loss_graph_rule(Node n, Tensor g):
    """g times a constant: -weight (over the total weight for 'mean') at each counted entry's
    target, 0 elsewhere."""
    cdef NllLossBackward0 node = <NllLossBackward0>n
    factor = np.zeros(math.prod(node.input_shape), dtype=node.compute_dtype)
    with np.errstate(all="ignore"):
        factor[node.picked] = (-node.weights / node.total_weight if node.reduction == REDUCE_MEAN
                               else -node.weights)
    factor = factor.reshape(node.input_shape)
    G = cast(g, node.compute_dtype)
    if node.reduction == REDUCE_NONE and len(node.input_shape) > 1:
        G = G.reshape(node.input_shape[:1] + (1,) + node.input_shape[2:])    # over the classes
    return cast(G * constant(factor), node.input_dtype)


GRAPH_RULES.update({
    "MmBackward0": _mm_graph_rule,
    "AddmmBackward0": _addmm_graph_rule,
    "BmmBackward0": _bmm_graph_rule,
    "DotBackward0": _dot_graph_rule,
    "MvBackward0": _mv_graph_rule,
    "SqueezeBackward4": _vm_graph_rule,
    "ConvolutionBackward0": _convolution_graph_rule,
    "ConvolutionBackwardBackward0": _conv_gradient_graph_rule,
    "MaxPool2DWithIndicesBackward0": _max_pool_graph_rule,
    "MaxPool2DWithIndicesBackwardBackward0": _max_pool_gather_graph_rule,
    "AvgPool2DBackward0": _avg_pool_graph_rule,
    "AvgPool2DBackwardBackward0": _avg_pool_adjoint_graph_rule,
    "AdaptiveAvgPool2DBackward0": _adaptive_pool_graph_rule,
    "AdaptiveAvgPool2DBackwardBackward0": _adaptive_pool_adjoint_graph_rule,
    "NativeBatchNormBackward0": _batch_norm_graph_rule,
    "NllLossBackward0": _nll_loss_graph_rule,
    "NllLoss2DBackward0": _nll_loss_graph_rule,
})
