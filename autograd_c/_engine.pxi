# The backward graph and the engine that runs it.
#
# Ownership. A tensor owns its grad_fn; a node owns the nodes its edges point to; an
# AccumulateGrad owns its leaf. So holding the loss keeps the whole graph alive, and dropping it
# frees the graph, and nothing in the graph points back at a tensor except an AccumulateGrad at
# its leaf. A node that needs its own output saves only the output's array, never the Tensor:
# the graph has no reference cycles and is freed by reference counting alone.
#
# Freeing a long chain. Dropping the last tensor of a 1,000,000-node chain frees node after node,
# each from inside the previous one's deallocator. CPython's trashcan (enabled on Node below)
# defers that nesting past a fixed depth, so the C stack stays shallow.
#
# One backward pass (run_backward):
#   1. Counting. An iterative walk from the roots visits every node reachable through edges once
#      and counts, on each node, the edges that point into it: `dependencies`. A node's scratch
#      is reset when the walk first meets it in this pass (its `epoch` differs from the pass's).
#   2. Running. A node is ready when every edge into it has delivered (dependencies == 0). The
#      engine pops a ready node, hands it the sum of its delivered gradients, and delivers what
#      it returns along its edges. This is Kahn's algorithm: each node and edge is touched a
#      constant number of times, and no recursion is involved.
#   3. Freeing. Unless retain_graph is set, a node drops its saved arrays right after it ran.
#
# Summing gradients on two edges into one node. The first gradient to arrive is kept as it is,
# without a copy: it may be a tensor the user or another node still sees, so it is never written
# to. When a second arrives, the engine allocates a fresh buffer for the sum; from then on the
# buffer is the engine's own (grad_in_owned) and later arrivals add into it in place.

from cpython.pythread cimport (NOWAIT_LOCK, WAIT_LOCK, PyThread_acquire_lock,
                               PyThread_allocate_lock, PyThread_get_thread_ident,
                               PyThread_release_lock, PyThread_type_lock)
from cpython.ref cimport Py_REFCNT

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(void *op)
    void PyObject_GC_Track(void *op)
    int PyObject_GC_IsTracked(object op)

cdef Py_ssize_t _pass_counter = 0

cdef enum:
    SAVED_OUTPUT = -1
    SAVED_UNUSED = -2

INFERENCE_SAVED_MESSAGE = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`.")

SECOND_BACKWARD_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


@cython.trashcan(True)
cdef class Node:
    """A node of the backward graph: one op's vector-Jacobian product."""

    def __cinit__(self):
        self.saved0_source = SAVED_UNUSED
        self.saved1_source = SAVED_UNUSED
        # Nodes form no reference cycles (see 'Ownership' above), so the cycle collector has
        # nothing to find among them; tracking them costs a third of a small op's time. They
        # stay GC-typed because CPython's trashcan needs that to defer deep deallocations.
        # A node that takes a user's object (a Function's ctx, hooks, metadata) can close a
        # cycle through it, `ctx.y = y` say, and is tracked from then on (track_cycles).
        PyObject_GC_UnTrack(<void *>self)

    cdef int apply(self, cnp.ndarray grad) except -1:
        raise NotImplementedError(type(self).__name__)

    cdef void release(self):
        if self.has_saved:
            self.saved0 = None
            self.saved1 = None
            self.released = True

    # -- edges -------------------------------------------------------------------------------

    cdef Node edge(self, int i):
        if i == 0:
            return self.next0
        if i == 1:
            return self.next1
        return <Node>self.next_rest[i - 2]

    cdef object take_output(self, int i):
        cdef object g = self.output(i)
        self.set_output(i, None)
        return g

    cdef object output(self, int i):
        """The gradient apply() produced for input i (None: none)."""
        if i == 0:
            return self.out0
        if i == 1:
            return self.out1
        return self.out_rest[i - 2]

    cdef void set_output(self, int i, object g):
        if i == 0:
            self.out0 = g
        elif i == 1:
            self.out1 = g
        else:
            self.out_rest[i - 2] = g

    cdef set_edges(self, tuple inputs):
        """Edges for a forward op of any arity; `inputs` holds Tensors (or non-tensors)."""
        cdef Py_ssize_t i, n = len(inputs)
        self.num_inputs = <int>n
        if n > 2:
            self.next_rest = [None] * (n - 2)
            self.out_rest = [None] * (n - 2)
        for i in range(n):
            x = inputs[i]
            e = edge_to(<Tensor>x) if isinstance(x, Tensor) else None
            if i == 0:
                self.next0 = e
            elif i == 1:
                self.next1 = e
            else:
                self.next_rest[i - 2] = e

    # -- saved arrays ------------------------------------------------------------------------

    cdef save(self, int slot, Tensor t, int source):
        """Keep t's array for backward, and remember the version it had."""
        if t.inference_:
            raise RuntimeError(INFERENCE_SAVED_MESSAGE)
        cdef VersionCounter vc = counter_of(t)
        self.has_saved = True
        if slot == 0:
            self.saved0 = t.array
            self.saved0_counter = vc
            self.saved0_version = vc.value
            self.saved0_source = source
        else:
            self.saved1 = t.array
            self.saved1_counter = vc
            self.saved1_version = vc.value
            self.saved1_source = source

    cdef int check_saved(self) except -1:
        if self.released:
            raise RuntimeError(SECOND_BACKWARD_MESSAGE)
        if self.saved0_counter is not None and self.saved0_counter.value != self.saved0_version:
            self.raise_modified(self.saved0, self.saved0_source, self.saved0_counter.value,
                                self.saved0_version)
        if self.saved1_counter is not None and self.saved1_counter.value != self.saved1_version:
            self.raise_modified(self.saved1, self.saved1_source, self.saved1_counter.value,
                                self.saved1_version)
        return 0

    cdef raise_modified(self, object arr, int source, Py_ssize_t now, Py_ssize_t expected):
        cdef dtype dt = dtype_of_array(arr)
        what = "[%s.%s [%s]]" % (MODULE_NAME, dt.legacy_name,
                                 ", ".join([str(s) for s in arr.shape]))
        # torch names the saved output's own node, and for a saved input the node that produced
        # it last: the in-place op that changed it when that op was recorded
        counter = self.saved0_counter if arr is self.saved0 else self.saved1_counter
        if source == SAVED_OUTPUT:
            producer = self.name()
        elif counter is not None and (<VersionCounter>counter).writer is not None:
            producer = (<VersionCounter>counter).writer
        else:
            edge = self.edge(source)
            producer = None if edge is None or isinstance(edge, AccumulateGrad) else edge.name()
        if producer is not None:
            what += ", which is output 0 of %s," % op_name(producer)
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            "inplace operation: %s is at version %d; expected version %d instead. Hint: enable "
            "anomaly detection to find the operation that failed to compute its gradient, with "
            "torch.autograd.set_detect_anomaly(True, check_nan=False)." % (what, now, expected))

    # -- what torch's nodes answer -----------------------------------------------------------

    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        cdef int i
        cdef Node e
        out = []
        for i in range(self.num_inputs):
            e = self.edge(i)
            out.append((e, 0) if e is not None else (None, 0))
        return tuple(out)

    @property
    def metadata(self):
        if self.metadata_ is None:
            self.metadata_ = {}
            track_cycles(self)
        return self.metadata_

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) after this node ran; may return new grad_inputs."""
        if self.post_hooks is None:
            self.post_hooks = OrderedDict()
            track_cycles(self)
        return add_hook(self.post_hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) before this node runs; may return new grad_outputs."""
        if self.pre_hooks is None:
            self.pre_hooks = OrderedDict()
            track_cycles(self)
        return add_hook(self.pre_hooks, fn)

    def __repr__(self):
        return "<%s object at %#x>" % (self.name().rpartition("::")[2], id(self))

    def __call__(self, *grads):
        raise RuntimeError("calling a backward node directly is not supported; use backward()")


@cython.no_gc_clear
cdef class AccumulateGrad(Node):
    """The sink at a leaf: adds the gradient that reaches it into the leaf's .grad."""

    def __dealloc__(self):
        if self.variable is not None and self.variable.accumulator_ == <PyObject *>self:
            self.variable.accumulator_ = NULL

    cdef int apply(self, cnp.ndarray grad) except -1:
        cdef Tensor var = self.variable
        cdef Tensor old = var.grad_
        if var.leaf_hooks:
            grad = run_tensor_hooks(var.leaf_hooks, grad)
            self.grad_in_owned = False        # a hook may have kept it, or returned its own
        if old is None:
            # When the engine held the only reference (grad_in_owned, set just before this call)
            # and the array owns its memory, nobody else can see it: it becomes .grad as it is.
            # Anything else may be seen elsewhere (a user's gradient, another edge's), so it is
            # copied.
            if not (self.grad_in_owned and owns_its_memory(grad)):
                grad = cnp.PyArray_NewCopy(grad, cnp.NPY_CORDER)
            var.grad_ = new_tensor(grad)
        else:
            accumulate_into(old.array, grad)
        if var.post_accumulate_hooks:
            for hook in tuple(var.post_accumulate_hooks.values()):
                hook(var)
        return 0

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad object at %#x>" % id(self)


cdef class RuleNode(Node):
    """A node whose vector-Jacobian product is a Python-level rule from an op table."""

    cdef int apply(self, cnp.ndarray grad) except -1:
        # Rules are numpy code, and numpy turns 0-d results into scalars: the engine's invariant
        # (every gradient is an ndarray) is restored here, once, for every rule.
        r = self.rule(grad, self.ctx)
        cdef Py_ssize_t i
        if self.num_inputs == 1:
            # a rule written for n inputs (cat, stack) returns a tuple even when n is 1
            self.out0 = gradient_array(r[0] if type(r) is tuple else r)
        else:
            self.out0 = gradient_array(r[0])
            self.out1 = gradient_array(r[1])
            for i in range(2, self.num_inputs):
                self.out_rest[i - 2] = gradient_array(r[i])
        return 0

    cdef void release(self):
        if self.has_saved:
            self.ctx = None
            Node.release(self)

    def name(self):
        return self.name_


cdef inline void track_cycles(Node node) noexcept:
    """Let the cycle collector see node from now on: it holds an object of the user's."""
    if not PyObject_GC_IsTracked(node):
        PyObject_GC_Track(<void *>node)


cdef str op_name(str node_name):
    """'ExpBackward0' -> 'Exp': how torch's version error names a node."""
    name = node_name.rpartition("::")[2]
    stem, found, tail = name.rpartition("Backward")
    if found and (tail == "" or tail.isdigit()):
        return stem
    return name


cdef inline object gradient_array(object g):
    if g is None or cnp.PyArray_Check(g):
        return g
    return np.asarray(g)


cdef inline bint owns_its_memory(cnp.ndarray a):
    return cnp.PyArray_CHKFLAGS(a, cnp.NPY_ARRAY_OWNDATA | cnp.NPY_ARRAY_WRITEABLE
                                | cnp.NPY_ARRAY_C_CONTIGUOUS)


cdef inline VersionCounter counter_of(Tensor t):
    if t.version_ is None:
        t.version_ = VersionCounter.__new__(VersionCounter)
    return t.version_


cdef inline bint is_stale_view(Tensor t):
    """t is a view whose storage was written in place since its grad_fn was made."""
    return t.base_ is not None and t.version_.value != t.view_version


cdef inline Node edge_to(Tensor t):
    """The node a gradient for t goes to: its grad_fn, its accumulator, or None."""
    if is_stale_view(t):
        refresh_view(t)
    if t.grad_fn_ is not None:
        return t.grad_fn_
    if not t.needs_grad:
        return None
    if t.accumulator_ != NULL:
        return <Node>t.accumulator_
    cdef AccumulateGrad acc = AccumulateGrad.__new__(AccumulateGrad)
    acc.variable = t
    acc.num_inputs = 0
    t.accumulator_ = <PyObject *>acc
    return acc


cdef accumulate_into(cnp.ndarray dst, cnp.ndarray src):
    """dst += src, in place; both have the same shape."""
    cdef int k = kernel_code_pair(dst, src)
    if k >= 0:
        run_accumulate(k, cnp.PyArray_DATA(dst), cnp.PyArray_DATA(src), cnp.PyArray_SIZE(dst))
    else:
        np.add(dst, src, out=dst, casting="unsafe")


cdef inline void deliver(Node target, object g):
    """Add one gradient into target's input buffer (see 'Summing gradients' above)."""
    cdef cnp.ndarray buf
    if g is None:
        return
    if target.grad_in is None:
        target.grad_in = g
        target.grad_in_owned = False
    elif target.grad_in_owned:
        accumulate_into(<cnp.ndarray>target.grad_in, <cnp.ndarray>g)
    else:
        target.grad_in = add_arrays(<cnp.ndarray>target.grad_in, <cnp.ndarray>g)
        target.grad_in_owned = True


cdef cnp.ndarray add_arrays(cnp.ndarray a, cnp.ndarray b):
    """A fresh array a + b (same shapes)."""
    cdef int k = kernel_code_pair(a, b)
    cdef cnp.ndarray out
    if k >= 0:
        out = empty_like_array(a)
        run_binary(AG_ADD, k, cnp.PyArray_DATA(a), cnp.PyArray_DATA(b), cnp.PyArray_DATA(out),
                  cnp.PyArray_SIZE(a))
        return out
    return np.add(a, b, out=np.empty_like(a, dtype=np.result_type(a, b)))   # 0-d: an array too


cdef int count_dependencies(Node root, Py_ssize_t pass_id) except -1:
    """Step 1: visit every node reachable from root and count the edges into each."""
    cdef Node stack = None, node, e
    cdef int i
    if root.epoch != pass_id:
        reset_scratch(root, pass_id)
        root.stack_next = None
        stack = root
    while stack is not None:
        node = stack
        stack = node.stack_next
        node.stack_next = None
        for i in range(node.num_inputs):
            e = node.edge(i)
            if e is None:
                continue
            if e.epoch != pass_id:
                reset_scratch(e, pass_id)
                e.stack_next = stack
                stack = e
            e.dependencies += 1
    return 0


# A pass can start inside another: a checkpointed segment's backward recomputes its forward
# and runs a pass over it while the outer pass waits. The two graphs share only the
# AccumulateGrad nodes of leaves used in both, but the outer pass may have gradients waiting in
# those (or have them on its ready stack). A nested pass therefore stashes the scratch of every
# node it resets that belongs to a pass still running, and puts it back when it ends.

cdef int pass_depth = 0                     # passes running, the innermost included
cdef set running_pass_ids = set()
cdef list scratch_stashes = []              # per running pass: (node, its scratch) pairs


cdef void stash_scratch(Node node) noexcept:
    try:
        scratch_stashes[-1].append((node, node.epoch, node.dependencies, node.grad_in,
                                    node.grad_in_owned, node.stack_next, node.out0, node.out1))
    except Exception:
        pass


cdef void restore_scratch(list stash) noexcept:
    cdef Node node
    for entry in reversed(stash):
        node = <Node>entry[0]
        node.epoch, node.dependencies, node.grad_in = entry[1], entry[2], entry[3]
        node.grad_in_owned, node.stack_next, node.out0, node.out1 = entry[4], entry[5], entry[6], entry[7]


# Note [One pass at a time]
#
# A pass keeps its scratch on the graph's nodes (dependencies, grad_in, the outputs of apply),
# and its bookkeeping (pass_depth, running_pass_ids, scratch_stashes, targeted_passes) in module
# globals. Two passes interleaving over one graph, which threads sharing a retained graph do,
# would read each other's counts and sum each other's gradients. So a pass holds the engine's
# lock from begin_pass to end_pass, and a pass in another thread waits for it with the GIL
# released, so that the running pass (whose kernels and hooks need the GIL) can finish. The lock
# is re-entrant for the thread that holds it: a pass started inside another in the same thread
# (a checkpointed segment's backward, a hook that calls backward) runs at once and relies on the
# scratch stashes below. Forward ops take no lock: they make new nodes and read no scratch.
# The lock costs one uncontended acquire per pass, not per node.

cdef PyThread_type_lock engine_lock = PyThread_allocate_lock()
cdef unsigned long engine_owner = 0         # thread ident of the holder; valid while holds > 0
cdef Py_ssize_t engine_holds = 0            # nested passes of the holding thread


cdef int enter_engine() except -1:
    global engine_owner, engine_holds
    cdef unsigned long me = PyThread_get_thread_ident()
    if engine_holds > 0 and engine_owner == me:
        engine_holds += 1
        return 0
    if not PyThread_acquire_lock(engine_lock, NOWAIT_LOCK):
        with nogil:
            PyThread_acquire_lock(engine_lock, WAIT_LOCK)
    engine_owner = me
    engine_holds = 1
    return 0


cdef void leave_engine() noexcept:
    global engine_holds
    engine_holds -= 1
    if engine_holds == 0:
        PyThread_release_lock(engine_lock)


cdef Py_ssize_t begin_pass() except -1:
    global _pass_counter, pass_depth
    enter_engine()
    _pass_counter += 1
    pass_depth += 1
    running_pass_ids.add(_pass_counter)
    scratch_stashes.append([])
    return _pass_counter


cdef void end_pass(Py_ssize_t pass_id) noexcept:
    global pass_depth
    try:
        restore_scratch(scratch_stashes.pop())
        running_pass_ids.discard(pass_id)
    except Exception:
        pass
    pass_depth -= 1
    leave_engine()


cdef inline void reset_scratch(Node node, Py_ssize_t pass_id):
    if pass_depth > 1 and node.epoch in running_pass_ids:
        stash_scratch(node)
    node.epoch = pass_id
    node.dependencies = 0
    node.grad_in = None
    node.grad_in_owned = False
    node.out0 = None
    node.out1 = None


cdef int run_backward(list roots, list root_grads, bint retain_graph) except -1:
    """Backpropagate root_grads[i] (ndarrays) from roots[i] (Nodes) through the graph."""
    cdef Py_ssize_t pass_id = begin_pass()
    try:
        run_pass(roots, root_grads, retain_graph, pass_id)
    finally:
        end_pass(pass_id)
    return 0


cdef int run_pass(list roots, list root_grads, bint retain_graph, Py_ssize_t pass_id) except -1:
    cdef Node node, e, ready = None
    cdef object grad
    cdef int i
    for node in roots:
        count_dependencies(node, pass_id)
    for i in range(len(roots)):
        deliver(<Node>roots[i], root_grads[i])
    for node in roots:
        if node.dependencies == 0:
            node.dependencies = -1          # queued once, however often it is a root
            node.stack_next = ready
            ready = node
    while ready is not None:
        node = ready
        ready = node.stack_next
        node.stack_next = None
        grad = node.grad_in
        node.grad_in = None
        node.check_saved()
        if node.tensor_hooks or node.pre_hooks or node.retained is not None:
            grad = run_pre_hooks(node, grad)
        # Now `grad` is the engine's only reference iff its count is 1: apply() may keep it.
        node.grad_in_owned = grad is not None and Py_REFCNT(grad) == 1
        if grad is not None:
            if anomaly_enabled:
                apply_watched(node, <cnp.ndarray>grad)
            else:
                node.apply(<cnp.ndarray>grad)
            if node.post_hooks:
                run_post_hooks(node, grad)
        grad = None
        for i in range(node.num_inputs):
            e = node.edge(i)
            if e is None:
                continue
            deliver(e, node.take_output(i))
            e.dependencies -= 1
            if e.dependencies == 0:
                e.stack_next = ready
                ready = e
        if not retain_graph:
            node.release()
    return 0


cdef keep_retained_grad(Node node, object grad):
    cdef Tensor t = node.retained()
    if t is None or grad is None:
        return
    if t.grad_ is None:
        t.grad_ = new_tensor(cnp.PyArray_NewCopy(<cnp.ndarray>grad, cnp.NPY_CORDER))
    else:
        accumulate_into((<Tensor>t.grad_).array, <cnp.ndarray>grad)


# -- anomaly mode ------------------------------------------------------------------------------
#
# With anomaly detection on, every node recorded keeps the Python stack of the forward call that
# made it (in metadata["traceback_"], as torch keeps it), and the engine runs each node through
# apply_watched: an error in a node's backward first warns with that forward stack, and with
# check_nan a NaN in any gradient the node produced is an error naming the node. Off, the engine
# tests one flag per node.

cdef bint anomaly_enabled = False
cdef bint anomaly_check_nan = True


def _set_anomaly(bint enabled, bint check_nan):
    global anomaly_enabled, anomaly_check_nan
    anomaly_enabled = enabled
    anomaly_check_nan = check_nan


def _anomaly_state():
    return anomaly_enabled, anomaly_check_nan


cdef void remember_forward_stack(Node node) noexcept:
    """Keep the forward call's stack on the node (anomaly mode only)."""
    try:
        import traceback
        if node.metadata_ is None:
            node.metadata_ = {}
        node.metadata_["traceback_"] = traceback.format_stack()  # the user's frames: the op is C
    except Exception:
        pass


cdef warn_forward_stack(Node node):
    stack = node.metadata_.get("traceback_") if node.metadata_ is not None else None
    if stack is None:
        warnings.warn("Error detected in %s. No forward pass information available. Enable "
                      "detect anomaly during forward pass for more information." % node.name(),
                      stacklevel=2)
        return
    warnings.warn("Error detected in %s. Traceback of forward call that caused the error:\n%s"
                  % (node.name(), "".join(stack)), stacklevel=2)


cdef int apply_watched(Node node, cnp.ndarray grad) except -1:
    try:
        node.apply(grad)
        if anomaly_check_nan:
            check_outputs_for_nan(node)
    except BaseException:
        warn_forward_stack(node)
        raise
    return 0


cdef check_outputs_for_nan(Node node):
    cdef int i
    for i in range(node.num_inputs):
        g = node.output(i)
        if (g is not None and (<cnp.ndarray>g).dtype.kind in "fc"
                and np.isnan(<cnp.ndarray>g).any()):
            raise RuntimeError("Function '%s' returned nan values in its %dth output."
                               % (node.name(), i))


# -- hooks ------------------------------------------------------------------------------------
#
# In torch's order: the hooks of the tensor a node made (which may replace its gradient), then
# retain_grad (which sees the replaced gradient), then the node's pre-hooks; after apply() the
# node's post-hooks, which may replace the gradients it sends on. A leaf's hooks run in its
# AccumulateGrad, before the sum into .grad. Hooks see Tensors; the engine keeps ndarrays.

cdef str hook_name(object hook):
    return getattr(hook, "__name__", type(hook).__name__)


cdef object replacement(object hook, object value, cnp.ndarray grad):
    """The array of a Tensor a hook returned in place of `grad`: same size and type, as torch
    requires."""
    if not isinstance(value, Tensor):
        raise TypeError("expected Variable, but hook returned '%s'" % type(value).__name__)
    cdef Tensor after = <Tensor>value
    if not same_shape(after.array, grad):
        raise RuntimeError("hook '%s' has changed the size of value" % hook_name(hook))
    if cnp.PyArray_TYPE(after.array) != cnp.PyArray_TYPE(grad):
        raise RuntimeError("hook '%s' has changed the type of value (was %s got %s)"
                           % (hook_name(hook), new_tensor(grad).type(), after.type()))
    return after.array


cdef object run_tensor_hooks(object hooks, object grad):
    """Each hook in turn on the gradient; a Tensor it returns replaces the gradient."""
    for hook in tuple(hooks.values()):
        value = hook(new_tensor(grad))
        if value is not None:
            grad = replacement(hook, value, grad)
    return grad


cdef object run_tensor_pre_hooks(Node node, object grad):
    """The hooks of the tensor this node made, then retain_grad, which sees their result."""
    if grad is None:
        return None
    if node.tensor_hooks:
        grad = run_tensor_hooks(node.tensor_hooks, grad)
    if node.retained is not None:
        keep_retained_grad(node, grad)
    return grad


cdef object run_node_pre_hooks(Node node, object grad):
    """register_prehook functions: each gets (grad,) and may return a replacement tuple."""
    for hook in tuple(node.pre_hooks.values()):
        result = hook((new_tensor(grad),))
        if result is None:
            continue
        if not isinstance(result, tuple):
            raise TypeError("expected tuple, but hook returned '%s'" % type(result).__name__)
        if len(result) != 1:
            raise RuntimeError("hook '%s' has returned an incorrect number of values (got %d, "
                               "but expected 1)" % (hook_name(hook), len(result)))
        if result[0] is not None:
            grad = replacement(hook, result[0], grad)
    return grad


cdef object run_pre_hooks(Node node, object grad):
    grad = run_tensor_pre_hooks(node, grad)
    if grad is not None and node.pre_hooks:
        grad = run_node_pre_hooks(node, grad)
    return grad


cdef run_post_hooks(Node node, object grad):
    cdef int i
    cdef tuple grad_outputs = (new_tensor(grad),)
    cdef list grad_inputs = []
    for i in range(node.num_inputs):
        g = node.output(i)
        grad_inputs.append(None if g is None else new_tensor(g))
    grad_inputs = post_hooks_result(node, grad_inputs, grad_outputs)
    for i in range(node.num_inputs):
        node.set_output(i, (<Tensor>grad_inputs[i]).array if grad_inputs[i] is not None else None)


cdef list post_hooks_result(Node node, list grad_inputs, tuple grad_outputs):
    """Each register_hook function on (grad_inputs, grad_outputs), in turn; what one returns
    replaces grad_inputs after torch's checks. The size and type checks are what keep a kernel
    downstream from reading a buffer of another length or type: the next node trusts them."""
    cdef int i
    for hook in tuple(node.post_hooks.values()):
        result = hook(tuple(grad_inputs), grad_outputs)
        if result is None:
            continue
        if not isinstance(result, (tuple, list)):
            raise TypeError("expected tuple, but hook returned '%s'" % type(result).__name__)
        if len(result) != node.num_inputs:
            raise RuntimeError("hook '%s' has returned an incorrect number of values (got %d, "
                               "but expected %d)" % (hook_name(hook), len(result),
                                                     node.num_inputs))
        replaced = []
        for i in range(node.num_inputs):
            if result[i] is None:
                replaced.append(None)
                continue
            if grad_inputs[i] is None:
                raise RuntimeError("can't replace a None gradient with a non-None value")
            replacement(hook, result[i], (<Tensor>grad_inputs[i]).array)
            replaced.append(result[i])
        grad_inputs = replaced
    return grad_inputs


cdef object add_hook(object holder_dict, object fn):
    """Register fn in an OrderedDict of hooks; returns its RemovableHandle."""
    from autograd_c.utils.hooks import RemovableHandle
    handle = RemovableHandle(holder_dict)
    holder_dict[handle.id] = fn
    return handle


# -- a pass toward chosen tensors (autograd.grad, backward(inputs=...)) ------------------------
#
# Only nodes from which some target can be reached run, so the part of the graph that leads
# elsewhere costs nothing and keeps its saved values. Whether a node leads to a target is
# decided in reverse topological order: a node is needed when it is a target or one of its
# edges leads to a needed node. Every edge into a needed node then comes from a needed node,
# so the dependency counts over needed nodes alone let Kahn's algorithm run as in a full pass.
# A target's gradient is captured when it is complete (after the tensor's hooks). The target
# itself runs only to reach a further target, or (backward(inputs=...)) to accumulate a leaf.

cdef list topological_order(list roots, Py_ssize_t pass_id):
    """Every node reachable from roots, each after all nodes with an edge into it."""
    cdef Node node, e
    cdef int i
    cdef dict remaining = {}
    cdef list order = [], stack = []
    for node in roots:
        count_dependencies(node, pass_id)
    for node in roots:
        if node.dependencies == 0 and node not in remaining:
            remaining[node] = 0
            stack.append(node)
    while stack:
        node = stack.pop()
        order.append(node)
        for i in range(node.num_inputs):
            e = node.edge(i)
            if e is None:
                continue
            left = remaining.get(e, e.dependencies) - 1
            remaining[e] = left
            if left == 0:
                stack.append(e)
    return order


cdef int targeted_passes = 0                # autograd.grad / backward(inputs=) passes running


def _in_targeted_pass():
    return targeted_passes > 0


cdef list run_backward_to(list roots, list root_grads, bint retain_graph, list targets,
                          bint accumulate):
    """A pass that returns the gradient reaching each node of `targets` (None if none does)."""
    global targeted_passes
    cdef Py_ssize_t pass_id = begin_pass()
    targeted_passes += 1
    try:
        return run_pass_to(roots, root_grads, retain_graph, targets, accumulate, pass_id)
    finally:
        targeted_passes -= 1
        end_pass(pass_id)


cdef list run_pass_to(list roots, list root_grads, bint retain_graph, list targets,
                      bint accumulate, Py_ssize_t pass_id):
    cdef Node node, e
    cdef int i
    cdef list order = topological_order(roots, pass_id)
    cdef dict slots = {}
    for i in range(len(targets)):
        if targets[i] is not None:
            slots.setdefault(targets[i], []).append(i)
    cdef set needed, runs
    needed, runs = needed_nodes(order, slots, accumulate)
    for node in order:
        node.dependencies = 0
    for node in runs:
        for i in range(node.num_inputs):
            e = node.edge(i)
            if e is not None and e in needed:
                e.dependencies += 1
    cdef list captured = [None] * len(targets)
    cdef list ready = []
    for i in range(len(roots)):
        if roots[i] in needed:
            deliver(<Node>roots[i], root_grads[i])
    for node in roots:
        if node in needed and node.dependencies == 0:
            node.dependencies = -1
            ready.append(node)
    while ready:
        node = ready.pop()
        grad = node.grad_in
        node.grad_in = None
        if node in runs:
            node.check_saved()
        if node.tensor_hooks or node.retained is not None:
            grad = run_tensor_pre_hooks(node, grad)
        if grad is not None and node in slots:
            if node not in runs and isinstance(node, AccumulateGrad):
                # not accumulated, but the leaf's own hooks still shape what grad() returns
                leaf_hooks = (<AccumulateGrad>node).variable.leaf_hooks
                if leaf_hooks:
                    grad = run_tensor_hooks(leaf_hooks, grad)
            for i in slots[node]:
                captured[i] = grad
        if grad is None or node not in runs:
            continue
        if node.pre_hooks:
            grad = run_node_pre_hooks(node, grad)
        node.grad_in_owned = Py_REFCNT(grad) == 1
        if anomaly_enabled:
            apply_watched(node, <cnp.ndarray>grad)
        else:
            node.apply(<cnp.ndarray>grad)
        if node.post_hooks:
            run_post_hooks(node, grad)
        grad = None
        for i in range(node.num_inputs):
            e = node.edge(i)
            g = node.take_output(i)
            if e is None or e not in needed:
                continue
            deliver(e, g)
            e.dependencies -= 1
            if e.dependencies == 0:
                ready.append(e)
        if not retain_graph:
            node.release()
    return captured


def _run_backward(tuple tensors, tuple grads, bint retain_graph, tuple inputs=None,
                  bint accumulate=True, bint create_graph=False):
    """The engine's entry: tensors[i] receives grads[i] (a Tensor or None for implicit).
    With `inputs`, only the graph leading to them runs and the gradient reaching each is
    returned (arrays, None where none arrives; Tensors with create_graph); leaves among them
    accumulate into .grad only when `accumulate`. With create_graph the pass records the
    graph of the gradients it computes (_engine_graph.pxi)."""
    cdef Tensor t
    cdef list roots = [], root_grads = []
    cdef Node root
    for i in range(len(tensors)):
        t = <Tensor?>tensors[i]
        g = grads[i]
        if not t.needs_grad:
            raise RuntimeError("element %d of tensors does not require grad and does not have a "
                               "grad_fn" % i)
        if g is None:
            if cnp.PyArray_SIZE(t.array) != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            garr = np.ones(shp(t.array), dtype=t.array.dtype)
        else:
            if not isinstance(g, Tensor):
                raise TypeError("gradients can be either Tensors or None, but got %s"
                                % type(g).__name__)
            garr = (<Tensor>g).array
            if not same_shape(garr, t.array):
                raise RuntimeError("Mismatch in shape: grad_output[%d] has a shape of %s and "
                                   "output[%d] has a shape of %s." % (i, size_repr(garr.shape), i,
                                                                      size_repr(shp(t.array))))
            if cnp.PyArray_TYPE(garr) != cnp.PyArray_TYPE(t.array):
                garr = garr.astype(t.array.dtype)     # torch casts any dtype of the right shape
        root = edge_to(t)
        roots.append(root)
        if not create_graph:
            root_grads.append(garr)
        elif g is None or (<Tensor>g).array is not garr:
            root_grads.append(new_tensor(garr) if g is None else to_dtype_op(<Tensor>g, dtype_of_array(garr), False))
        else:
            root_grads.append(g)
    cdef list targets = None if inputs is None else [edge_to(<Tensor?>x) for x in inputs]
    if create_graph:
        return run_graph_backward(roots, root_grads, retain_graph, targets, accumulate)
    if inputs is None:
        run_backward(roots, root_grads, retain_graph)
        return None
    return run_backward_to(roots, root_grads, retain_graph, targets, accumulate)
