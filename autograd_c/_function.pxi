# The nodes of user-defined autograd Functions (autograd_c.autograd.Function).
#
# A Function's backward is Python: the node hands it one Tensor per forward output and sends
# what it returns along one edge per forward argument (None where the argument was not a
# tensor or needs no gradient). The engine delivers one summed gradient per node, so a Function
# with several outputs gets one small OutputSlot node per output: each slot files its gradient
# with the Function's node and forwards an empty token, and the Function's node runs once every
# slot in this pass has filed. Slots that no gradient reached give zeros (or None with
# ctx.set_materialize_grads(False)), as torch does.

cdef cnp.ndarray TOKEN = np.zeros((), dtype=np.float32)


cdef class FunctionBackward(Node):
    """The node of one Function.apply call."""
    cdef object ctx               # the FunctionCtx forward filled in
    cdef object backward_fn       # the Function's static backward(ctx, *grad_outputs)
    cdef str name_                # '<Function name>Backward'
    cdef list output_meta         # per output: (shape, numpy dtype), for materialized zeros
    cdef list input_meta          # per forward argument: (shape, numpy dtype), or None
    cdef list filed               # multi-output: the gradient filed by each output's slot
    cdef bint multi_output

    cdef int apply(self, cnp.ndarray grad) except -1:
        cdef list grads = self.filed if self.multi_output else [grad]
        cdef int i
        outputs = [None if g is None else new_tensor(g) for g in grads]
        result = self.call_backward(outputs, False)
        for i in range(self.num_inputs):
            g = self.checked_gradient(i, result[i])
            self.set_output(i, None if g is None else (<Tensor>g).array)
        return 0

    cdef list apply_graph(self, Tensor grad):
        """apply() for a pass that records a graph: backward runs with grad mode on, so what it
        computes with tensors is recorded (unless it is once_differentiable)."""
        result = self.call_backward(self.filed if self.multi_output else [grad], True)
        return [self.checked_gradient(i, result[i]) for i in range(self.num_inputs)]

    cdef tuple call_backward(self, list grads, bint grad_mode):
        """The Function's backward on one Tensor (or None) per output, with torch's checks on
        the count of what it returns."""
        cdef int i
        if self.multi_output:
            self.filed = [None] * len(self.output_meta)
        outputs = []
        for i, g in enumerate(grads):
            if g is None and self.ctx.materialize_grads:
                g = new_tensor(np.zeros(self.output_meta[i][0], dtype=self.output_meta[i][1]))
            outputs.append(g)
        cdef bint grad_was_enabled = ag_grad_enabled()
        ag_set_grad_enabled(grad_mode)
        try:
            result = self.backward_fn(self.ctx, *outputs)
        finally:
            ag_set_grad_enabled(grad_was_enabled)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != self.num_inputs:
            # a single output is allowed extra trailing Nones, as in torch
            if len(result) > self.num_inputs and all(r is None for r in result[self.num_inputs:]):
                result = result[:self.num_inputs]
            else:
                raise RuntimeError("function %s returned an incorrect number of gradients "
                                   "(expected %d, got %d)" % (self.name_, self.num_inputs,
                                                              len(result)))
        return result

    cdef object checked_gradient(self, int i, object value):
        """The gradient for input i as a Tensor of its shape and dtype, with torch's checks."""
        if value is None or self.edge(i) is None:
            return None
        if not isinstance(value, Tensor):
            raise TypeError("function %s returned a gradient different than None at position "
                            "%d, but the corresponding forward input was not a Variable"
                            % (self.name_, i + 1))
        cdef Tensor g = <Tensor>value
        shape, np_dtype = self.input_meta[i]
        if shp(g.array) != shape:
            if not sums_down_to(shape, shp(g.array)):
                raise RuntimeError("Function %s returned an invalid gradient at index %d - got "
                                   "%s but expected shape compatible with %s"
                                   % (self.name_, i, list(shp(g.array)), list(shape)))
            g = sum_to_shape_graph(g, shape)
        return to_dtype_op(g, to_dtype(np_dtype), False)

    cdef void release(self):
        if self.has_saved and not self.released:
            try:
                self.ctx.release()
            except Exception:
                pass
            self.released = True

    def name(self):
        return self.name_

    def __repr__(self):
        return "<autograd_c.autograd.function.%s object at %#x>" % (self.name_, id(self))


cdef class OutputSlot(Node):
    """Output `index` of a multi-output Function: files its gradient with the Function's node."""
    cdef int index

    cdef int apply(self, cnp.ndarray grad) except -1:
        cdef FunctionBackward fn = <FunctionBackward>self.next0
        fn.filed[self.index] = grad
        self.out0 = TOKEN
        return 0

    def name(self):
        return (<FunctionBackward>self.next0).name_

    @property
    def next_functions(self):
        return (<FunctionBackward>self.next0).next_functions

    def __repr__(self):
        return repr(self.next0)


cdef bint sums_down_to(tuple small, tuple big):
    """`small` broadcasts to `big`, so a gradient of shape big sums down to it."""
    try:
        return len(small) <= len(big) and broadcast_shapes(small, big) == big
    except RuntimeError:
        return False


def _function_node(ctx, backward_fn, str name, tuple args, tuple outputs):
    """Record a Function call: `outputs` (Tensors computed without a graph) get the node as
    grad_fn, one OutputSlot each when there are several. Returns the outputs, in order."""
    cdef FunctionBackward node = FunctionBackward.__new__(FunctionBackward)
    node.set_edges(args)
    node.ctx = ctx
    node.backward_fn = backward_fn
    node.name_ = name
    track_cycles(node)                     # ctx is the user's: `ctx.y = y` closes a cycle
    node.has_saved = bool(ctx.saved)       # then a second backward needs retain_graph
    node.input_meta = [(shp((<Tensor>a).array), (<Tensor>a).array.dtype)
                       if isinstance(a, Tensor) else None for a in args]
    node.output_meta = [(shp((<Tensor?>o).array), (<Tensor>o).array.dtype) for o in outputs]
    node.multi_output = len(outputs) > 1
    node.filed = [None] * len(outputs)
    if anomaly_enabled:
        remember_forward_stack(node)
    cdef Tensor out
    cdef OutputSlot slot
    cdef int i
    for i in range(len(outputs)):
        out = <Tensor?>outputs[i]
        if id(out) in ctx.non_differentiable:
            continue
        if not node.multi_output:
            out.grad_fn_ = node
        else:
            slot = OutputSlot.__new__(OutputSlot)
            slot.num_inputs = 1
            slot.next0 = node
            slot.index = i
            track_cycles(slot)             # on the path of that cycle for every output
            out.grad_fn_ = slot
        out.needs_grad = True
    return outputs
