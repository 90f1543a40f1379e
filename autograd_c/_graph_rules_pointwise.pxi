# Graph rules of the elementwise ops (see _engine_graph.pxi): each node's gradient in recorded
# Tensor ops, one rule per node name. A factor whose own derivative is zero almost everywhere
# (a sign, a mask, a floor) is a constant, so the recorded graph stays small.

cdef inline Tensor masked(object keep, Tensor g):
    """g where keep, else 0: torch's where(), which also zeroes a NaN gradient it drops."""
    return where(constant(keep), g, 0)


cdef inline Tensor saved_tensor(Node node, int slot):
    """Saved slot 0 or 1 of a node, joined to the graph."""
    if slot == 0:
        return unpack(node, node.saved0, node.saved0_source)
    return unpack(node, node.saved1, node.saved1_source)


# -- the unary C-kernel ops: g times the derivative, from the saved input x or output y -------

cdef double LN2 = math.log(2.0)
cdef double LN10 = math.log(10.0)


def _unary_graph_rule(Node n, Tensor g):
    cdef UnaryBackward node = <UnaryBackward>n
    cdef int op = node.op
    cdef cnp.ndarray s = <cnp.ndarray>node.saved0 if op != AG_NEG else None
    if op == AG_NEG:
        gx = -g
    elif op == AG_ABS:
        gx = g * constant(np.sign(s))
    elif op == AG_RELU:
        gx = masked(s > 0, g)
    else:
        t = saved_tensor(node, 0)
        if op == AG_EXP:
            gx = g * t                                  # y
        elif op == AG_LOG:
            gx = g / t                                  # x
        elif op == AG_LOG2:
            gx = g / (t * LN2)
        elif op == AG_LOG10:
            gx = g / (t * LN10)
        elif op == AG_SQRT:
            gx = g / (t * 2)                            # y
        elif op == AG_RSQRT:
            gx = g * (t.pow(3) * -0.5)                  # y
        elif op == AG_SIN:
            gx = g * t.cos()
        elif op == AG_COS:
            gx = g * -t.sin()
        elif op == AG_TANH:
            gx = g * (1 - t * t)                        # y
        elif op == AG_SIGMOID:
            gx = g * (t * (1 - t))                      # y
        else:
            gx = -g * (t * t)                           # reciprocal: y
    if node.input_dtype is not None:
        gx = to_dtype_op(gx, to_dtype(node.input_dtype), False)
    return gx


for _name in UNARY_NAMES:
    GRAPH_RULES[_name] = _unary_graph_rule


# -- + - * / -------------------------------------------------------------------------------------

cdef inline Tensor scaled(Tensor g, double s):
    return g if s == 1.0 else g * s


cdef inline object operand(BinaryBackward node, int slot):
    meta = node.meta0 if slot == 0 else node.meta1
    arr = node.saved0 if slot == 0 else node.saved1
    return unpack(node, arr, slot, None if meta is None else meta[1])


def _binary_graph_rule(Node n, Tensor g):
    cdef BinaryBackward node = <BinaryBackward>n
    cdef int op = node.op
    g0 = g1 = None
    if op == AG_ADD or op == AG_SUB:
        if node.next0 is not None:
            g0 = fit_graph(g, node.meta0)
        if node.next1 is not None:
            g1 = fit_graph(scaled(g, node.alpha if op == AG_ADD else -node.alpha), node.meta1)
        return g0, g1
    if op == AG_RSUB:
        return fit_graph(scaled(g, -node.alpha), node.meta0)
    if op == AG_MUL:
        if node.next0 is not None:
            g0 = fit_graph(scaled(g, node.scalar) if node.other_is_scalar
                           else g * operand(node, 1), node.meta0)
        if node.next1 is not None:
            g1 = fit_graph(g * operand(node, 0), node.meta1)
        return g0, g1
    if node.next0 is not None:
        g0 = fit_graph(scaled(g, 1.0 / node.scalar) if node.other_is_scalar
                       else g / operand(node, 1), node.meta0)
    if node.next1 is not None:
        b = operand(node, 1)
        g1 = fit_graph(-g * operand(node, 0) / (b * b), node.meta1)
    return g0, g1


for _name in BINARY_NAMES:
    GRAPH_RULES[_name] = _binary_graph_rule


# -- the numpy-path ops (rules over RuleNode.ctx, as the ndarray rules above read it) -----------

def _zero_graph_rule(Node node, Tensor g):
    return zeros_graph(ctx_of(node), g.array.dtype)


def _pow0_graph_rule(Node node, Tensor g):
    X, p, dt = ctx_of(node)
    if p == 0:
        return zeros_graph(X.shape, dt)
    x = unpack(node, X, 0, dt)
    return to_dtype_op(g * (x.pow(p - 1) * p), to_dtype(dt), False)


def _pow2_graph_rule(Node node, Tensor g):
    X, base, out = ctx_of(node)
    y = unpack(node, out, SAVED_OUTPUT)
    with np.errstate(all="ignore"):
        log_base = float(np.log(np.float64(base)))
    return g * where(constant((base == 0) & (X >= 0)), 0, y * log_base)


def _pow1_graph_rule(Node node, Tensor g):
    X, Y, out, sx, sy, dx, dy = ctx_of(node)
    gx = gy = None
    if node.edge(0) is not None:
        x, y = unpack(node, X, 0, dx), unpack(node, Y, 1, dy)
        gx = fit_graph(where(constant(Y == 0), 0, g * y * x.pow(y - 1)), (sx, dx))
    if node.edge(1) is not None:
        x, result = unpack(node, X, 0, dx), unpack(node, out, SAVED_OUTPUT)
        gy = fit_graph(where(constant((X == 0) & (Y >= 0)), 0, g * result * x.log()), (sy, dy))
    return gx, gy


def _remainder_graph_rule(Node node, Tensor g):
    A, B, sa, sb = ctx_of(node)
    with np.errstate(all="ignore"):
        quotient = constant(np.floor(A / B).astype(g.array.dtype))
    return fit_graph(g, (sa, g.array.dtype)), fit_graph(-g * quotient, (sb, g.array.dtype))


def _where_graph_rule(Node node, Tensor g):
    cond, ma, mb = ctx_of(node)
    ga = fit_graph(where(constant(cond), g, 0), ma) if ma is not None else None
    gb = fit_graph(where(constant(cond), 0, g), mb) if mb is not None else None
    return ga, gb


def _clamp_graph_rule(Node node, Tensor g):
    X, lo, hi, dt = ctx_of(node)
    keep = np.ones(X.shape, dtype=bool)
    if lo is not None:
        keep &= X >= lo
    if hi is not None:
        keep &= X <= hi
    return to_dtype_op(masked(keep, g), to_dtype(dt), False)


def _clamp_tensors_graph_rule(Node node, Tensor g):
    X, L, H, mx, ml, mh = ctx_of(node)
    keep = np.ones(np.broadcast_shapes(X.shape, shp(g.array)), dtype=bool)
    gl = gh = None
    if L is not None:
        keep &= X >= L
        gl = fit_graph(masked(X < L, g), ml)
    if H is not None:
        keep &= X <= H
        gh = fit_graph(masked((X > H) & (L is None or X >= L), g), mh)
    return fit_graph(masked(keep, g), mx), gl, gh


def _extremum_graph_rule(Node node, Tensor g):
    A, B, is_max, ma, mb = ctx_of(node)
    A_loses = (A < B) if is_max else (A > B)
    B_loses = (A > B) if is_max else (A < B)
    shared = where(constant(A == B), g / 2, g)
    return (fit_graph(where(constant(A_loses), 0, shared), ma),
            fit_graph(where(constant(B_loses), 0, shared), mb))


def _masked_fill_graph_rule(Node node, Tensor g):
    mask, mv = ctx_of(node)
    gx = where(constant(mask), 0, g)
    if mv is None:
        return gx, None
    gv = to_dtype_op(where(constant(mask), g, 0).sum(), to_dtype(mv[1]), False).reshape(mv[0])
    return gx, gv


GRAPH_RULES.update({
    "SignBackward0": _zero_graph_rule,
    "CeilBackward0": _zero_graph_rule,
    "FloorBackward0": _zero_graph_rule,
    "RoundBackward0": _zero_graph_rule,
    "PowBackward0": _pow0_graph_rule,
    "PowBackward1": _pow1_graph_rule,
    "PowBackward2": _pow2_graph_rule,
    "RemainderBackward0": _remainder_graph_rule,
    "WhereBackward0": _where_graph_rule,
    "ClampBackward1": _clamp_graph_rule,
    "ClampBackward0": _clamp_tensors_graph_rule,
    "MaximumBackward0": _extremum_graph_rule,
    "MinimumBackward0": _extremum_graph_rule,
    "MaskedFillBackward0": _masked_fill_graph_rule,
    "MaskedFillBackward1": _masked_fill_graph_rule,
})
