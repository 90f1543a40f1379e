# The contract of the compiled core: the fields of its types and the invariant each one keeps.
# _C.pyx and the op families it includes (_ops_*.pxi) rely on these; change them together.
cimport numpy as cnp
from cpython.object cimport PyObject


cdef class dtype:
    cdef readonly str name                 # torch's name without the module: 'float32', 'int64'
    cdef readonly bint is_floating_point
    cdef readonly bint is_signed
    cdef readonly int itemsize
    cdef readonly object numpy_dtype       # the numpy dtype with the same memory layout
    cdef readonly str legacy_name          # 'FloatTensor', 'LongTensor', ...: for .type()
    cdef int category                      # torch's promotion category: 0 bool, 1 int, 2 float
    cdef int typenum                       # numpy's type number (NPY_FLOAT32, ...)
    cdef int kernel                        # AG_F32 / AG_F64 when csrc kernels take it, else -1


cdef class VersionCounter:
    cdef Py_ssize_t value                  # in-place writes to the storage so far; views share one
    cdef str writer                        # name of the node of the last recorded in-place op


cdef class Tensor:
    cdef cnp.ndarray array                 # the values; never None (0-d arrays for scalars)
    cdef Node grad_fn_                     # the node that produced this tensor; None iff a leaf
    cdef bint needs_grad                   # True for every non-leaf; for a leaf, the user's flag
    cdef object grad_                      # None, or a Tensor of this shape and dtype
    cdef VersionCounter version_           # None until needed; shared with views and detach()
    cdef Tensor base_                      # for a view, the tensor owning the storage; else None
    cdef object retain_ref                 # weak reference handed to the node by retain_grad()
    cdef PyObject *accumulator_            # borrowed: this leaf's AccumulateGrad, or NULL.
                                           # The accumulator owns the tensor and clears this
                                           # pointer when it dies, so it is never dangling.
    cdef object leaf_hooks                 # a leaf's register_hook functions (an OrderedDict),
                                           # kept here because its accumulator may come and go
    cdef object post_accumulate_hooks      # a leaf's register_post_accumulate_grad_hook ones
    cdef bint inference_                   # made in inference mode: never part of a graph
    cdef Py_ssize_t view_version           # a view: its storage's version when its grad_fn was
                                           # made; another value means an in-place write since,
                                           # so grad_fn is made again from the base (refresh_view)
    cdef object __weakref__

    cdef set_requires_grad(self, bint value, bint from_method)
    cdef object scalar_value(self, str kind)


cdef class Node:
    # Edges: where apply() sends gradients, one per input of the forward op. An input that
    # needs no gradient has no edge (None), but keeps its position.
    cdef Node next0                        # edge of input 0
    cdef Node next1                        # edge of input 1
    cdef list next_rest                    # edges of inputs 2.. (None when num_inputs <= 2)
    cdef int num_inputs                    # inputs of the forward op, with or without edges

    # Engine scratch, meaningful only during the backward pass numbered `epoch`.
    cdef Py_ssize_t epoch                  # the pass that last reset this scratch
    cdef Py_ssize_t dependencies           # edges into this node whose gradient is still due
    cdef object grad_in                    # sum of the gradients delivered so far, or None
    cdef bint grad_in_owned                # while summing: grad_in was allocated by the engine,
                                           # so later gradients add into it in place; during
                                           # apply(): the engine holds the only reference
    cdef Node stack_next                   # link of the engine's intrusive stacks

    # Results of apply(): the gradient for each input (None: no gradient), read and cleared by
    # the engine right after the call.
    cdef object out0
    cdef object out1
    cdef list out_rest

    # Saved arrays that backward reads, with the version of their storage when saved, so that
    # an in-place write between forward and backward is caught instead of silently used.
    cdef readonly object saved0
    cdef readonly object saved1
    cdef VersionCounter saved0_counter     # None when the slot is unused or not versioned
    cdef VersionCounter saved1_counter
    cdef Py_ssize_t saved0_version
    cdef Py_ssize_t saved1_version
    cdef int saved0_source                 # SAVED_OUTPUT, or the input index it came from
    cdef int saved1_source
    cdef bint has_saved                    # this node holds saved values that release() drops
    cdef bint released                     # released after a backward without retain_graph

    cdef object retained                   # weak reference to a tensor that retains its grad

    # Hooks, each None or an OrderedDict (handle id -> function); None costs the engine nothing.
    cdef object tensor_hooks               # register_hook of the (non-leaf) tensor this node made
    cdef object pre_hooks                  # register_prehook: fn(grad_outputs)
    cdef object post_hooks                 # register_hook: fn(grad_inputs, grad_outputs)
    cdef object metadata_                  # the dict `metadata` returns, made on first use

    cdef int apply(self, cnp.ndarray grad) except -1
    cdef void release(self)
    cdef Node edge(self, int i)
    cdef object take_output(self, int i)
    cdef object output(self, int i)
    cdef void set_output(self, int i, object g)
    cdef set_edges(self, tuple inputs)
    cdef save(self, int slot, Tensor t, int source)
    cdef int check_saved(self) except -1
    cdef raise_modified(self, object arr, int source, Py_ssize_t now, Py_ssize_t expected)


cdef class AccumulateGrad(Node):
    cdef readonly Tensor variable          # the leaf; owned, so the leaf outlives its graph


cdef class RuleNode(Node):
    cdef str name_                         # torch's node name, e.g. 'ViewBackward0'
    cdef object rule                       # rule(grad, ctx) -> one gradient or a tuple of them
    cdef object ctx                        # whatever the rule needs; arrays also sit in saved*


cdef class UnaryBackward(Node):
    cdef int op                            # the AG_* unary op whose derivative this applies
    cdef object input_dtype                # numpy dtype to cast the gradient back to, or None


cdef class BinaryBackward(Node):
    cdef int op                            # AG_ADD / AG_SUB / AG_MUL / AG_DIV / AG_RSUB
    cdef double alpha                      # add/sub: other is scaled by alpha
    cdef double scalar                     # the Python scalar operand, when other is one
    cdef bint other_is_scalar
    cdef object meta0                      # None when input 0 has the output's shape and
    cdef object meta1                      # dtype; else (shape, numpy dtype) to reduce to
