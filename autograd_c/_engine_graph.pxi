# Backward passes that record a graph: create_graph=True (gradients of gradients).
#
# An ordinary pass computes with ndarrays and records nothing. A recording pass walks the same
# graph in the same order, but each node computes its gradients with Tensor ops under grad mode,
# from a rule in GRAPH_RULES (the tables in _graph_rules_*.pxi). The gradients then come out as
# tensors with a history of their own, and a gradient of a gradient is one more backward pass
# over that history. Nothing here touches the ndarray pass: training loops pay nothing for it.
#
# Saved values. A node keeps the arrays its rule reads, not the tensors they came from (a node
# holding its own output would be a reference cycle). A graph rule needs them as tensors joined
# to the graph, and unpack() rebuilds one: a new Tensor over the saved array whose grad_fn is
# the node that made the original, that is, the edge of the input it came from (for a leaf, the
# leaf itself) or, for a saved output, the node being run. The rebuilt tensor is another
# object, but a gradient through it reaches the same nodes, and that is all a graph asks of it.
#
# Summing. Gradients that reach one node along two edges are summed with `+`, recorded like any
# other op, since the sum too must be differentiable.
#
# Leaves, as in torch. The first gradient a leaf's .grad takes is a copy (a CopyBackwards node
# when it has a history); later ones replace .grad with old + new, never in place, so a .grad
# with a history stays what its graph says it is. A retained non-leaf gradient is the same,
# with CloneBackward0 for the copy.

cdef dict GRAPH_RULES = {}     # node name -> rule(node, grad Tensor) -> gradient(s) as Tensors


def _pass_through_rule(g, ctx):
    return g


cdef Tensor unpack(Node node, object arr, int source, object original_dtype=None):
    """The saved array `arr` as a tensor joined to the graph. `source` is the input it was saved
    from (or SAVED_OUTPUT), and arr must hold that input's (or output's) values, perhaps copied
    or cast: a leaf input is returned as itself. `original_dtype` is the input's numpy dtype
    when arr is a cast."""
    cdef Node producer = node if source == SAVED_OUTPUT else node.edge(source)
    cdef Tensor t
    cdef dtype saved_dtype = dtype_of_array(arr)
    if producer is None:
        return new_tensor(arr)
    if isinstance(producer, AccumulateGrad):
        t = (<AccumulateGrad>producer).variable
        if shp(t.array) == shp(arr):
            return to_dtype_op(t, saved_dtype, False)
    if original_dtype is not None and np.dtype(original_dtype) != arr.dtype:
        t = new_tensor(arr.astype(original_dtype))
    else:
        t = new_tensor(arr)
    t.grad_fn_ = producer
    t.needs_grad = True
    return to_dtype_op(t, saved_dtype, False)


cdef Tensor constant(object arr):
    """A tensor without a history: for masks, signs and other factors whose derivative is 0."""
    return new_tensor(as_array(arr))


cdef Tensor zeros_graph(tuple shape, object np_dtype):
    return constant(np.zeros(shape, dtype=np_dtype))


cdef inline object ctx_of(Node node):
    """What a RuleNode's rule reads (see record() in _ops_pointwise.pxi)."""
    return (<RuleNode>node).ctx


cdef Tensor sum_to_shape_graph(Tensor g, tuple shape):
    """sum_to_shape in recorded ops."""
    cdef tuple gshape = shp(g.array)
    cdef int lead = len(gshape) - len(shape)
    if lead == 0 and gshape == shape:
        return g
    axes = list(range(lead))
    for i, s in enumerate(shape):
        if s == 1 and gshape[i + lead] != 1:
            axes.append(i + lead)
    if axes:
        g = g.sum(tuple(axes), True)
    return g.reshape(shape)


cdef Tensor fit_graph(Tensor g, object meta):
    """fit_gradient in recorded ops: reduce and cast g to meta = (shape, numpy dtype)."""
    if meta is None:
        return g
    shape, np_dtype = meta
    g = sum_to_shape_graph(g, shape)
    return to_dtype_op(g, to_dtype(np_dtype), False)


cdef Tensor copy_graph(Tensor g, str name):
    """A fresh copy of g, recorded as `name` (torch's CopyBackwards / CloneBackward0)."""
    out = new_tensor(cnp.PyArray_NewCopy(g.array, cnp.NPY_CORDER))
    return record(out, name, _pass_through_rule, None, (g,))


def _copy_graph_rule(Node node, Tensor g):
    src_meta = ctx_of(node)
    if src_meta is None:            # copy_graph's own node: one input
        return g
    return zeros_graph(shp(g.array), g.array.dtype), fit_graph(g, src_meta)    # x.copy_(src)


GRAPH_RULES["CopyBackwards"] = _copy_graph_rule


# -- one node ------------------------------------------------------------------------------------

cdef list apply_graph(Node node, Tensor grad):
    """node's gradients for its inputs as Tensors (None: none), computed with recorded ops."""
    if isinstance(node, AccumulateGrad):
        accumulate_graph(<AccumulateGrad>node, grad)
        return []
    if isinstance(node, FunctionBackward):
        return (<FunctionBackward>node).apply_graph(grad)
    if isinstance(node, OutputSlot):
        (<FunctionBackward>node.next0).filed[(<OutputSlot>node).index] = grad
        return [new_tensor(TOKEN)]
    rule = GRAPH_RULES.get(node.name())
    if rule is None:
        return apply_unrecorded(node, grad)
    r = rule(node, grad)
    return list(r) if isinstance(r, tuple) else [r]


cdef list apply_unrecorded(Node node, Tensor grad):
    """A node without a graph rule. Its ndarray rule serves when what it computes cannot depend
    on anything that requires grad: a gradient without history and no saved values."""
    if grad.needs_grad or node.has_saved:
        raise RuntimeError("the derivative of %s cannot be recorded yet, so it does not support "
                           "create_graph=True" % node.name())
    node.apply(grad.array)
    cdef int i
    outs = []
    for i in range(node.num_inputs):
        g = node.take_output(i)
        outs.append(None if g is None else new_tensor(g))
    return outs


cdef accumulate_graph(AccumulateGrad node, Tensor grad):
    cdef Tensor var = node.variable
    if var.leaf_hooks:
        grad = run_tensor_hooks_graph(var.leaf_hooks, grad)
    if var.grad_ is None:
        var.grad_ = copy_graph(grad, "CopyBackwards")
    else:
        var.grad_ = <Tensor>var.grad_ + grad
    if var.post_accumulate_hooks:
        for hook in tuple(var.post_accumulate_hooks.values()):
            hook(var)


cdef list apply_graph_watched(Node node, Tensor grad):
    cdef int i
    try:
        outs = apply_graph(node, grad)
        if anomaly_check_nan:
            for i, g in enumerate(outs):
                if (g is not None and (<Tensor>g).array.dtype.kind in "fc"
                        and np.isnan((<Tensor>g).array).any()):
                    raise RuntimeError("Function '%s' returned nan values in its %dth output."
                                       % (node.name(), i))
    except BaseException:
        warn_forward_stack(node)
        raise
    return outs


# -- hooks, with Tensors -----------------------------------------------------------------------

cdef Tensor replacement_graph(object hook, object value, Tensor grad):
    replacement(hook, value, grad.array)      # torch's checks on size and type
    return <Tensor>value


cdef Tensor run_tensor_hooks_graph(object hooks, Tensor grad):
    for hook in tuple(hooks.values()):
        value = hook(grad)
        if value is not None:
            grad = replacement_graph(hook, value, grad)
    return grad


cdef Tensor run_pre_hooks_graph(Node node, Tensor grad):
    cdef Tensor t
    if node.tensor_hooks:
        grad = run_tensor_hooks_graph(node.tensor_hooks, grad)
    if node.retained is not None:
        t = node.retained()
        if t is not None:
            t.grad_ = (copy_graph(grad, "CloneBackward0") if t.grad_ is None
                       else <Tensor>t.grad_ + grad)
    return grad


cdef Tensor run_node_pre_hooks_graph(Node node, Tensor grad):
    for hook in tuple(node.pre_hooks.values()):
        result = hook((grad,))
        if result is None:
            continue
        if not isinstance(result, tuple):
            raise TypeError("expected tuple, but hook returned '%s'" % type(result).__name__)
        if len(result) != 1:
            raise RuntimeError("hook '%s' has returned an incorrect number of values (got %d, "
                               "but expected 1)" % (hook_name(hook), len(result)))
        if result[0] is not None:
            grad = replacement_graph(hook, result[0], grad)
    return grad


# -- the pass ------------------------------------------------------------------------------------
#
# The nodes run in one topological order of the graph (topological_order in _engine.pxi), each
# after every node with an edge into it, so each runs once with its gradient complete. Which
# nodes run is decided as in a targeted pass (run_pass_to): all of them without targets.

cdef list run_graph_backward(list roots, list root_grads, bint retain_graph, list targets,
                             bint accumulate):
    """roots[i] (Nodes) receive root_grads[i] (Tensors); returns the Tensor reaching each of
    `targets` (Nodes), or None without targets."""
    global targeted_passes
    cdef Py_ssize_t pass_id = begin_pass()
    cdef bint grad_was_enabled = ag_grad_enabled()
    if targets is not None:
        targeted_passes += 1
    ag_set_grad_enabled(True)
    try:
        return graph_pass(roots, root_grads, retain_graph, targets, accumulate, pass_id)
    finally:
        ag_set_grad_enabled(grad_was_enabled)
        if targets is not None:
            targeted_passes -= 1
        end_pass(pass_id)


cdef list graph_pass(list roots, list root_grads, bint retain_graph, list targets,
                     bint accumulate, Py_ssize_t pass_id):
    cdef Node node, e
    cdef int i
    cdef list order = topological_order(roots, pass_id)
    cdef dict slots = {}
    cdef set needed, runs
    if targets is None:
        needed = set(order)
        runs = needed
    else:
        for i in range(len(targets)):
            if targets[i] is not None:
                slots.setdefault(targets[i], []).append(i)
        needed, runs = needed_nodes(order, slots, accumulate)
    cdef dict pending = {}
    for i in range(len(roots)):
        if roots[i] in needed:
            add_pending(pending, <Node>roots[i], <Tensor>root_grads[i])
    cdef list captured = [None] * len(targets) if targets is not None else None
    for node in order:
        if node not in needed:
            continue
        grad = pending.pop(node, None)
        if node in runs:
            node.check_saved()
        if grad is not None and (node.tensor_hooks or node.retained is not None):
            grad = run_pre_hooks_graph(node, <Tensor>grad)
        if grad is not None and node in slots:
            if node not in runs and isinstance(node, AccumulateGrad):
                leaf_hooks = (<AccumulateGrad>node).variable.leaf_hooks
                if leaf_hooks:
                    grad = run_tensor_hooks_graph(leaf_hooks, <Tensor>grad)
            for i in slots[node]:
                captured[i] = grad
        if grad is None or node not in runs:
            continue
        if node.pre_hooks:
            grad = run_node_pre_hooks_graph(node, <Tensor>grad)
        if anomaly_enabled:
            outs = apply_graph_watched(node, <Tensor>grad)
        else:
            outs = apply_graph(node, <Tensor>grad)
        if node.post_hooks:
            outs = post_hooks_result(node, outs, (grad,))
        for i in range(len(outs)):
            e = node.edge(i)
            if e is not None and outs[i] is not None and e in needed:
                add_pending(pending, e, <Tensor>outs[i])
        if not retain_graph:
            node.release()
    return captured


cdef tuple needed_nodes(list order, dict slots, bint accumulate):
    """(nodes from which a target can be reached, the nodes of those that must run)."""
    cdef Node node, e
    cdef int i
    cdef set needed = set(), runs = set()
    for node in reversed(order):
        for i in range(node.num_inputs):
            e = node.edge(i)
            if e is not None and e in needed:
                runs.add(node)
                break
        if node in runs or node in slots:
            needed.add(node)
        if accumulate and node in slots and isinstance(node, AccumulateGrad):
            runs.add(node)
    return needed, runs


cdef inline void add_pending(dict pending, Node node, Tensor g) except *:
    old = pending.get(node)
    pending[node] = g if old is None else <Tensor>old + g
