# The layers of convolutional networks: convolution, pooling and batch normalization.
#
# Convolution is im2col + BLAS. csrc/window.c copies every window of the input into one row
# per (channel, kernel offset) and one column per (sample, output position); the convolution of
# a chunk of samples is then a single matrix product per group, weight @ cols, which numpy hands
# to BLAS. Backward is two more products (weight.T @ grad for the columns, folded back into the
# input by col2im; grad @ cols.T for the weight, with the columns made again from the saved
# input). Chunks are sized to stay in the cache; see ConvolutionBackward0.
#
# Pooling runs in C loops over planes; batch normalization runs C loops (csrc/normalization.c)
# over an (N, C, L) view. Convolution and pooling work on 4-D arrays: a 1-D convolution is a
# 2-D one of height 1, and an unbatched input to a convolution is given a batch of one by the
# public function, with torch's Unsqueeze/Squeeze nodes around the op.
#
# Arguments are checked in torch's order (which differs between its code paths), so that a
# call with several faults raises the error torch would.


cdef inline cnp.ndarray compute_array(cnp.ndarray a):
    """a as a C-contiguous float32/float64 array: half and integer tensors are computed in a
    wider float and cast back by the caller, as the kernels exist for these two only. The
    kernels take any dtype code but AG_F32 for float64, so every array handed to them comes
    from here (or is a fresh array of its dtype): kernel_code is then never -1."""
    cdef int t = cnp.PyArray_TYPE(a)
    if t == cnp.NPY_FLOAT32 or t == cnp.NPY_FLOAT64:
        return c_contiguous(a)
    if t == cnp.NPY_FLOAT16:
        return c_contiguous(a, np.float32)
    return c_contiguous(a, np.float64)


cdef inline cnp.ndarray pool_input(cnp.ndarray a):
    """What the forward pooling kernels read: integers as int64 (exact, where a float would
    round beyond 2**53), floats as compute_array gives them."""
    if cnp.PyArray_ISINTEGER(a):
        return c_contiguous(a, np.int64)
    return compute_array(a)


cdef inline int pool_code(cnp.ndarray a):
    """The kernel code of an array from pool_input."""
    return AG_I64 if cnp.PyArray_TYPE(a) == cnp.NPY_INT64 else kernel_code(a)


cdef str scalar_name(cnp.ndarray a):
    """torch's scalar type name of a's dtype: 'Float', 'Long', 'Bool', ..."""
    return dtype_of_array(a).legacy_name[:-len("Tensor")]


cdef inline cnp.ndarray zeros_of(tuple shape, cnp.ndarray like):
    return np.zeros(shape, dtype=like.dtype)


# -- argument parsing -------------------------------------------------------------------------

cdef inline bint is_int(object v):
    return not isinstance(v, (bool, float)) and hasattr(v, "__index__")


cdef tuple int_list(object value, str fn, str name, int position):
    """An int or a list/tuple of ints as a tuple, with the TypeErrors of torch's argument
    parser, which checks a sequence's first element and then unpacks the rest. position is the
    argument's, 0 where torch's message names none (conv's two overloads)."""
    where = " (position %d)" % position if position else ""
    if not isinstance(value, (list, tuple)):
        if is_int(value):
            return (value.__index__(),)
        raise TypeError("%s(): argument '%s'%s must be tuple of ints, not %s"
                        % (fn, name, where, type(value).__name__))
    for pos, v in enumerate(value):
        if is_int(v):
            continue
        if pos == 0:
            raise TypeError("%s(): argument '%s'%s must be tuple of ints, but found element of "
                            "type %s at pos 0" % (fn, name, where, type(v).__name__))
        raise TypeError("%s(): argument '%s' failed to unpack the object at pos %d with error "
                        "\"type must be tuple of ints,but got %s\""
                        % (fn, name, pos + 1, type(v).__name__))
    return tuple([v.__index__() for v in value])


cdef tuple conv_param(object value, int dims, str fn, str name):
    """A convolution's stride/padding/dilation as `dims` ints; a single value is repeated."""
    return broadcast_param(int_list(value, fn, name, 0), dims)


cdef inline ag_window make_window(tuple in_hw, tuple out_hw, tuple kernel, tuple stride,
                                  tuple padding, tuple dilation):
    cdef ag_window w
    w.in_h, w.in_w = in_hw
    w.out_h, w.out_w = out_hw
    w.kernel_h, w.kernel_w = kernel
    w.stride_h, w.stride_w = stride
    w.pad_h, w.pad_w = padding
    w.dilation_h, w.dilation_w = dilation
    return w


# -- scratch buffers --------------------------------------------------------------------------
#
# A convolution's column matrices run to megabytes. glibc hands blocks that large back to the
# operating system as soon as they are freed, so a fresh np.empty every step is fresh memory
# every step, and faulting its pages in costs about as much as the convolution's arithmetic.
# Column matrices whose backward has finished, and the products that only live inside one op,
# go back to this pool by shape and dtype, for the next step's convolution of that shape.

cdef dict scratch_pool = {}                 # (shape, dtype number) -> free arrays of that kind
cdef Py_ssize_t scratch_pool_bytes = 0      # their total size, at most SCRATCH_POOL_LIMIT
cdef Py_ssize_t SCRATCH_POOL_LIMIT = 256 * 1024 * 1024


cdef cnp.ndarray take_scratch(tuple shape, object np_dtype):
    """An uninitialised C-contiguous array, from the pool when one of that kind is free."""
    global scratch_pool_bytes
    free = scratch_pool.get((shape, np_dtype.num))
    if free:
        a = free.pop()
        scratch_pool_bytes -= a.nbytes
        return a
    return np.empty(shape, dtype=np_dtype)


cdef void give_scratch(cnp.ndarray a) noexcept:
    """Keep `a` for reuse. The caller has checked that nothing else refers to it: no view, no
    tensor, no node (an array handed out again while still in use would be overwritten)."""
    global scratch_pool_bytes
    if scratch_pool_bytes + a.nbytes > SCRATCH_POOL_LIMIT:
        return
    try:
        scratch_pool.setdefault((shp(a), a.dtype.num), []).append(a)
        scratch_pool_bytes += a.nbytes
    except Exception:
        pass


def _scratch_pool_bytes():
    return scratch_pool_bytes


# -- convolution ------------------------------------------------------------------------------

# A convolution runs over the batch in chunks of samples whose column matrix fits in the L2
# cache: im2col writes it there, the product reads it from there, and the next chunk reuses the
# buffer. The whole batch's column matrix (kernel_h * kernel_w times the input) would instead
# stream through main memory twice. Backward redoes each chunk's im2col from the saved input
# for the weight gradient: a copy within the cache costs less than keeping megabytes of columns
# alive from forward to backward.

cdef Py_ssize_t CHUNK_BYTES = 512 * 1024    # a column-matrix chunk: half of a typical L2
cdef Py_ssize_t MIN_CHUNK_COLUMNS = 1024    # a product narrower than this runs BLAS slowly, and
                                            # each chunk adds a weight-sized sum in backward


cdef inline Py_ssize_t samples_per_chunk(Py_ssize_t rows, Py_ssize_t L, Py_ssize_t itemsize,
                                         Py_ssize_t N):
    """Samples per chunk: as many as fit in CHUNK_BYTES, but enough for MIN_CHUNK_COLUMNS
    columns; at least one, at most the batch."""
    cdef Py_ssize_t per_sample = rows * L * itemsize
    cdef Py_ssize_t fits = CHUNK_BYTES // per_sample if per_sample > 0 else N
    cdef Py_ssize_t wide_enough = (MIN_CHUNK_COLUMNS + L - 1) // L if L > 0 else N
    if fits < wide_enough:
        fits = wide_enough
    if fits < 1:
        return 1
    return fits if fits < N else (N if N > 0 else 1)


cdef inline void* sample_data(cnp.ndarray a, Py_ssize_t n):
    """The address of sample n of a C-contiguous batch."""
    return <char*>cnp.PyArray_DATA(a) + n * cnp.PyArray_STRIDES(a)[0]


cdef void run_im2col(ag_window *win, cnp.ndarray X, Py_ssize_t n0, Py_ssize_t m,
                     cnp.ndarray cols):
    """Columns of samples n0 .. n0 + m - 1 of X into the front of `cols`, as (rows, m * L)."""
    cdef int k = kernel_code(X)
    cdef Py_ssize_t C = shp(X)[1]
    cdef void *src = sample_data(X, n0)
    if cnp.PyArray_SIZE(cols) < NOGIL_ELEMENTS:
        ag_im2col(k, win, m, C, src, cnp.PyArray_DATA(cols))
    else:
        with nogil:
            ag_im2col(k, win, m, C, src, cnp.PyArray_DATA(cols))


cdef void run_col2im(ag_window *win, cnp.ndarray cols_grad, Py_ssize_t n0, Py_ssize_t m,
                     cnp.ndarray gx):
    """Adds the front (rows, m * L) of `cols_grad` into samples n0 .. n0 + m - 1 of gx."""
    cdef int k = kernel_code(gx)
    cdef Py_ssize_t C = shp(gx)[1]
    cdef void *dst = sample_data(gx, n0)
    if cnp.PyArray_SIZE(cols_grad) < NOGIL_ELEMENTS:
        ag_col2im(k, win, m, C, cnp.PyArray_DATA(cols_grad), dst)
    else:
        with nogil:
            ag_col2im(k, win, m, C, cnp.PyArray_DATA(cols_grad), dst)


cdef inline cnp.ndarray front(cnp.ndarray buffer, tuple shape):
    """The first prod(shape) elements of a contiguous scratch buffer, viewed as `shape`."""
    return buffer.reshape(-1)[:math.prod(shape)].reshape(shape)


cdef class ConvolutionBackward0(Node):
    """out = conv(x, weight) + bias. Inputs: x, weight, bias (bias may have no edge)."""
    cdef ag_window win
    cdef object input             # forward's 4-D input array (padded for 'same'); None unless
                                  # the weight needs a gradient
    cdef object weight            # the weight array, as forward used it
    cdef tuple input_shape        # forward's 4-D input shape (after the extra 'same' padding)
    cdef tuple user_input_shape   # the shape of the input the user passed
    cdef tuple user_weight_shape
    cdef object input_dtype       # numpy dtypes to cast gradients back to
    cdef object weight_dtype
    cdef int groups

    cdef int apply(self, cnp.ndarray g) except -1:
        cdef cnp.ndarray W = self.weight
        cdef Py_ssize_t N = self.input_shape[0], C = self.input_shape[1]
        cdef Py_ssize_t Cout = shp(W)[0], G = self.groups
        cdef Py_ssize_t L = self.win.out_h * self.win.out_w
        cdef Py_ssize_t block = shp(W)[1] * self.win.kernel_h * self.win.kernel_w
        cdef Py_ssize_t nc = samples_per_chunk(C * self.win.kernel_h * self.win.kernel_w, L,
                                               W.itemsize, N)
        cdef Py_ssize_t n0, m
        g = compute_array(g).astype(W.dtype, copy=False).reshape(N, Cout, L)
        cdef bint want_x = self.next0 is not None, want_w = self.next1 is not None
        cdef cnp.ndarray gx = zeros_of(self.input_shape, W) if want_x else None
        # made in the weight's own shape: an array that owns its memory becomes .grad as it is
        cdef cnp.ndarray gw_owner = np.zeros(self.user_weight_shape, dtype=W.dtype) if want_w else None
        cdef cnp.ndarray gw = gw_owner.reshape(G, Cout // G, block) if want_w else None
        cdef cnp.ndarray W_t = W.reshape(G, Cout // G, block).transpose(0, 2, 1)
        cdef cnp.ndarray g_cols = take_scratch((Cout, nc * L), W.dtype)
        cdef cnp.ndarray cols = take_scratch((G, block, nc * L), W.dtype)
        cdef cnp.ndarray gw_part = take_scratch((G, Cout // G, block), W.dtype) if want_w else None
        for n0 in range(0, N, nc):
            m = nc if n0 + nc <= N else N - n0
            # the chunk's gradient in the column layout: (groups, C_out / groups, m * L)
            g_chunk = front(g_cols, (Cout, m, L))
            np.copyto(g_chunk, g[n0:n0 + m].transpose(1, 0, 2))
            g_chunk = g_chunk.reshape(G, Cout // G, m * L)
            cols_chunk = front(cols, (G, block, m * L))
            if want_w:
                run_im2col(&self.win, self.input, n0, m, cols)
                np.matmul(g_chunk, cols_chunk.transpose(0, 2, 1), out=gw_part)
                gw += gw_part
            if want_x:                    # the columns are spent: reuse them for their gradient
                np.matmul(W_t, g_chunk, out=cols_chunk)
                run_col2im(&self.win, cols, n0, m, gx)
        give_scratch(g_cols)
        give_scratch(cols)
        if gw_part is not None:
            give_scratch(gw_part)
        if want_x:
            self.out0 = self.user_input_gradient(gx)
        if want_w:
            self.out1 = gw_owner.astype(self.weight_dtype, copy=False)
        if self.num_inputs == 3 and self.next_rest[0] is not None:
            self.out_rest[0] = g.sum(axis=(0, 2)).astype(self.weight_dtype, copy=False)
        return 0

    cdef cnp.ndarray user_input_gradient(self, cnp.ndarray gx):
        """gx trimmed back to the user's input shape (without 'same' padding, 1-D as 1-D)."""
        cdef tuple user = self.user_input_shape
        if shp(gx)[2:] != user[-2:] and len(user) == 4:
            gx = c_contiguous(gx[:, :, :user[2], :user[3]])
        elif len(user) == 3:
            gx = c_contiguous(gx[:, :, 0, :user[2]])
        return gx.astype(self.input_dtype, copy=False)

    cdef void release(self):
        if self.has_saved:
            self.input = None
            self.weight = None
            Node.release(self)

    def name(self):
        return "ConvolutionBackward0"


cdef str tensor_type_string(cnp.ndarray a):
    """How torch's CPU backends name a tensor's type in their messages: a legacy type name,
    except CPUBoolType for bool."""
    if cnp.PyArray_TYPE(a) == cnp.NPY_BOOL:
        return "CPUBoolType"
    return "%s.%s" % (MODULE_NAME, dtype_of_array(a).legacy_name)


cdef str bias_dtype_error(cnp.ndarray x, cnp.ndarray b):
    return "Input type (%s) and bias type (%s) should be the same" % (dtype_word(x), dtype_word(b))


cdef check_conv_dtypes(Tensor x, Tensor w, Tensor b, bint user_batched, bint bias_unchecked):
    """torch's dtype checks after the shape checks. A batched float32 input goes to torch's
    oneDNN backend, whose messages differ from the generic 'expected scalar type' one."""
    cdef bint onednn = user_batched and cnp.PyArray_TYPE(x.array) == cnp.NPY_FLOAT32
    if cnp.PyArray_TYPE(x.array) != cnp.PyArray_TYPE(w.array):
        if onednn:
            raise RuntimeError("Input type (%s) and weight type (%s) should be the same or input "
                               "should be a MKLDNN tensor and weight is a dense tensor"
                               % (tensor_type_string(x.array), tensor_type_string(w.array)))
        raise RuntimeError("expected scalar type %s but found %s"
                           % (scalar_name(x.array), scalar_name(w.array)))
    if bias_unchecked and b is not None and cnp.PyArray_TYPE(x.array) != cnp.PyArray_TYPE(b.array):
        if onednn:
            raise RuntimeError("Input type (%s) and bias type (%s) should be the same or input "
                               "should be a MKLDNN tensor and bias is a dense tensor"
                               % (tensor_type_string(x.array), tensor_type_string(b.array)))
        raise RuntimeError(bias_dtype_error(x.array, b.array))


cdef check_conv_kernel_dtype(cnp.ndarray x, tuple dilation):
    """The dtypes torch's CPU convolution kernels lack: bool, and the integer types narrower
    than int64 once the convolution is dilated."""
    cdef str name = dtype_of_array(x).name
    if builtins.any([d != 1 for d in dilation]) and name in ("bool", "uint8", "int8", "int16",
                                                             "int32"):
        raise NotImplementedError("\"slow_conv_dilated<>\" not implemented for '%s'"
                                  % scalar_name(x))
    if name == "bool":
        raise NotImplementedError("\"slow_conv2d_cpu\" not implemented for 'Bool'")


cdef tuple broadcast_param(tuple values, int dims):
    """A single stride/padding/dilation value stands for every spatial dimension."""
    return values * dims if len(values) == 1 else values


cdef tuple same_padding(tuple xs, tuple ws, int groups, tuple stride, tuple dilation):
    """torch's checks for padding='same', then (padding on each side, extra padding at the
    end): an odd total dilation * (kernel - 1) puts its extra element at the end."""
    cdef int dims = len(ws) - 2
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if len(xs) != len(ws):
        raise RuntimeError("Expected %d-dimensional input for %d-dimensional weight%s, but got "
                           "%d-dimensional input of size %s instead"
                           % (len(ws), len(ws), shape_str(ws), len(xs), shape_str(xs)))
    for name, values in (("stride", stride), ("dilation", dilation)):
        if len(values) != dims and len(values) != 1:
            raise RuntimeError("%s cannot broadcast to %d dimensions" % (name, dims))
    if builtins.any([s != 1 for s in stride]):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for d, k in zip(broadcast_param(dilation, dims), ws[2:])]
    extra = tuple([t % 2 for t in total])
    if builtins.any(extra):
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may "
                      "require a zero-padded copy of the input be created", UserWarning,
                      stacklevel=1)   # compiled frames do not count
    return tuple([t // 2 for t in total]), extra


cdef check_conv_shapes(tuple xs, tuple ws, object bias, int groups, tuple stride,
                       tuple padding, tuple dilation):
    """torch's shape checks, in torch's order, on the batched (N, C, *spatial) input (with
    any extra 'same' padding already added to xs)."""
    cdef int dims = len(ws) - 2
    for name, values in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        if len(values) != dims:
            raise RuntimeError("expected %s to be a single integer value or a list of %d values "
                               "to match the convolution dimensions, but got %s=%s"
                               % (name, dims, name, list(values)))
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if builtins.any([p < 0 for p in padding]):
        raise RuntimeError("negative padding is not supported")
    if builtins.any([s <= 0 for s in stride]):
        raise RuntimeError("non-positive stride is not supported")
    if builtins.any([d < 0 for d in dilation]):
        raise RuntimeError("dilation should be greater than zero")
    if len(xs) != len(ws):
        raise RuntimeError("Expected %d-dimensional input for %d-dimensional weight %s, but got "
                           "%d-dimensional input of size %s instead"
                           % (len(ws), len(ws), shape_str(ws), len(xs), shape_str(xs)))
    if ws[0] < groups:
        raise RuntimeError("Given groups=%d, expected weight to be at least %d at dimension 0, "
                           "but got weight of size %s instead" % (groups, groups, shape_str(ws)))
    if ws[0] % groups:
        raise RuntimeError("Given groups=%d, expected weight to be divisible by %d at dimension "
                           "0, but got weight of size [%s] instead"
                           % (groups, groups, shape_str(ws)))
    if xs[1] != ws[1] * groups:
        raise RuntimeError("Given groups=%d, weight of size %s, expected input%s to have %d "
                           "channels, but got %d channels instead"
                           % (groups, shape_str(ws), shape_str(xs), ws[1] * groups, xs[1]))
    if bias is not None:
        bs = shp((<Tensor>bias).array)
        if len(bs) != 1 or bs[0] != ws[0]:
            raise RuntimeError("Given weight of size %s, expected bias to be 1-dimensional with "
                               "%d elements, but got bias of size %s instead"
                               % (shape_str(ws), ws[0], shape_str(bs)))
    padded = [xs[2 + i] + 2 * padding[i] for i in range(dims)]
    kernel = [(ws[2 + i] - 1) * dilation[i] + 1 for i in range(dims)]
    if builtins.any([k > p for k, p in zip(kernel, padded)]):
        raise RuntimeError("Calculated padded input size per channel: (%s). Kernel size: (%s). "
                           "Kernel size can't be greater than actual input size"
                           % (" x ".join(map(str, padded)), " x ".join(map(str, kernel))))
    if builtins.any([d == 0 for d in dilation]):
        raise RuntimeError("non-positive dilation is not supported")


cdef Tensor convolution(object input, object weight, object bias, object stride, object padding,
                        object dilation, object groups, int dims, str fn,
                        bint user_batched=True):
    cdef Tensor x = as_tensor_arg(input, fn)
    cdef Tensor w = tensor_argument(weight, fn, "weight", 2)
    cdef Tensor b = None if bias is None else tensor_argument(bias, fn, "bias", 3)
    cdef bint by_name = isinstance(padding, str)
    if by_name and padding not in ("same", "valid"):
        raise RuntimeError("Invalid padding string: '%s'" % padding)
    # with numeric padding torch compares the bias's dtype before anything else; with a
    # padding string only after the shape checks
    if not by_name and b is not None and cnp.PyArray_TYPE(x.array) != cnp.PyArray_TYPE(b.array):
        raise RuntimeError(bias_dtype_error(x.array, b.array))
    cdef int nd = x.array.ndim
    if nd != dims + 1 and nd != dims + 2:
        raise RuntimeError("Expected %dD (unbatched) or %dD (batched) input to %s, but got "
                           "input of size: %s" % (dims + 1, dims + 2, fn, shape_str(shp(x.array))))
    if isinstance(groups, bool) or not hasattr(groups, "__index__"):
        raise TypeError("%s(): argument 'groups' must be int, not %s"
                        % (fn, type(groups).__name__))
    stride_t = conv_param(stride, dims, fn, "stride")
    dilation_t = conv_param(dilation, dims, fn, "dilation")
    padding_t = padding if by_name else conv_param(padding, dims, fn, "padding")
    if nd == dims + 1:
        # torch runs an unbatched input as a batch of one, between these two nodes
        return squeeze(convolution(unsqueeze(x, 0), w, b, stride_t, padding_t, dilation_t,
                                   groups, dims, fn, False), 0)
    if w.array.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    # from here on the weight's dimensions rule, as in torch: a single stride, padding or
    # dilation value is repeated for each of them
    cdef int wdims = w.array.ndim - 2, g = groups.__index__()
    cdef tuple xs = shp(x.array), ws = shp(w.array), extra = (0,) * wdims
    if padding_t == "same":
        padding_t, extra = same_padding(xs, ws, g, stride_t, dilation_t)
        xs = xs[:2] + tuple([s + e for s, e in zip(xs[2:], extra)])
    elif padding_t == "valid":
        padding_t = (0,)
    stride_t = broadcast_param(stride_t, wdims)
    padding_t = broadcast_param(padding_t, wdims)
    dilation_t = broadcast_param(dilation_t, wdims)
    check_conv_shapes(xs, ws, b, g, stride_t, padding_t, dilation_t)
    if xs[1] == 0:
        return channelless_convolution(x, w, b, xs, stride_t, padding_t, dilation_t)
    if x.array.size:
        # torch skips its kernels, and with them these checks, for an empty input; its generic
        # kernels reject the input's dtype before comparing the weight's with it
        check_conv_kernel_dtype(x.array, dilation_t)
        check_conv_dtypes(x, w, b, user_batched, by_name)
    if dims == 1:
        return conv_arrays(x, w, b, (1,) + stride_t, (0,) + padding_t, (0,) + extra,
                           (1,) + dilation_t, g)
    return conv_arrays(x, w, b, stride_t, padding_t, extra, dilation_t, g)


cdef Tensor channelless_convolution(Tensor x, Tensor w, Tensor b, tuple xs, tuple stride,
                                    tuple padding, tuple dilation):
    """torch's result for an input with no channels: no output channels either, whatever the
    weight's count, and zero gradients."""
    cdef tuple ws = shp(w.array)
    spatial = tuple([(xs[2 + i] + 2 * padding[i] - dilation[i] * (ws[2 + i] - 1) - 1) // stride[i]
                     + 1 for i in range(len(stride))])
    out = new_tensor(np.zeros((xs[0], 0) + spatial, dtype=x.array.dtype))
    return record(out, "ConvolutionBackward0", _zero_gradients_rule,
                  (meta_of(x), meta_of(w), meta_of(b)), (x, w, b))


def _zero_gradients_rule(g, ctx):
    return tuple([None if m is None else np.zeros(m[0], dtype=m[1]) for m in ctx])


cdef Tensor conv_arrays(Tensor x, Tensor w, Tensor b, tuple stride, tuple padding, tuple extra,
                        tuple dilation, int groups):
    """The convolution proper, on a batched input; 1-D inputs arrive with height 1 added."""
    cdef cnp.ndarray X = compute_array(x.array), W = compute_array(w.array)
    if X.ndim == 3:
        X = X.reshape(shp(X)[0], shp(X)[1], 1, shp(X)[2])
        W = W.reshape(shp(W)[0], shp(W)[1], 1, shp(W)[2])
    if extra[0] or extra[1]:
        X = c_contiguous(np.pad(X, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1]))))
    cdef Py_ssize_t N = shp(X)[0], C = shp(X)[1], H = shp(X)[2], Wd = shp(X)[3]
    cdef Py_ssize_t Cout = shp(W)[0], kh = shp(W)[2], kw = shp(W)[3]
    cdef Py_ssize_t OH = (H + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    cdef Py_ssize_t OW = (Wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    cdef ag_window win = make_window((H, Wd), (OH, OW), (kh, kw), stride, padding, dilation)
    cdef Py_ssize_t L = OH * OW, block = shp(W)[1] * kh * kw
    cdef Py_ssize_t nc = samples_per_chunk(C * kh * kw, L, X.itemsize, N), n0, m
    cdef cnp.ndarray cols = take_scratch((groups, block, nc * L), X.dtype)
    cdef cnp.ndarray product = take_scratch((Cout, nc * L), X.dtype)
    cdef cnp.ndarray W_groups = W.reshape(groups, Cout // groups, block)
    cdef cnp.ndarray out_arr = np.empty((N, Cout, L), dtype=X.dtype)
    bias = None if b is None else compute_array(b.array).reshape(Cout, 1, 1)
    for n0 in range(0, N, nc):
        m = nc if n0 + nc <= N else N - n0
        run_im2col(&win, X, n0, m, cols)
        chunk = front(product, (Cout, m, L))
        np.matmul(W_groups, front(cols, (groups, block, m * L)),
                  out=chunk.reshape(groups, Cout // groups, m * L))
        # back to (sample, channel, position), adding the bias on the way
        if bias is None:
            np.copyto(out_arr[n0:n0 + m], chunk.transpose(1, 0, 2))
        else:
            np.add(chunk, bias, out=out_arr[n0:n0 + m].transpose(1, 0, 2))
    give_scratch(cols)
    give_scratch(product)
    cdef tuple out_shape = (N, Cout, OH, OW)
    if x.array.ndim == 3:
        out_shape = (N, Cout, OW)
    out_arr = out_arr.reshape(out_shape).astype(x.array.dtype, copy=False)
    cdef Tensor out = new_tensor(out_arr)
    if not ag_grad_enabled() or not (tracked(x) or tracked(w) or (b is not None and tracked(b))):
        return out
    cdef ConvolutionBackward0 node = ConvolutionBackward0.__new__(ConvolutionBackward0)
    node.set_edges((x, w, b))
    node.win = win
    node.groups = groups
    node.weight = W
    node.input = X if tracked(w) else None
    node.input_shape = shp(X)
    node.user_input_shape = shp(x.array)
    node.user_weight_shape = shp(w.array)
    node.input_dtype = x.array.dtype
    node.weight_dtype = w.array.dtype
    node.save(0, x, 0)
    node.save(1, w, 1)
    attach(out, node)
    return out


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over an (N, C, H, W) or (C, H, W) input."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over an (N, C, L) or (C, L) input."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


# -- pooling ----------------------------------------------------------------------------------

cdef dict POOL_ARG_POSITIONS = {"kernel_size": 2, "stride": 3, "padding": 4, "dilation": 5}


cdef tuple pool_pair(object value, str fn, str what, bint may_be_empty):
    """kernel_size/stride/padding/dilation of a 2-D pooling as two ints (None when the length
    is wrong), with torch's TypeErrors for anything but ints."""
    items = int_list(value, fn, what, POOL_ARG_POSITIONS[what])
    if len(items) == 1:
        return (items[0],) * 2
    if len(items) == 2 or (may_be_empty and len(items) == 0):
        return items
    return None


cdef tuple pool_params(object kernel_size, object stride, object padding, object dilation,
                       str fn):
    """(kernel, stride, padding, dilation) pairs; stride defaults to the kernel size."""
    kernel = pool_pair(kernel_size, fn, "kernel_size", False)
    if kernel is None:
        raise RuntimeError("%s: kernel_size must either be a single int, or a tuple of two ints"
                           % fn)
    stride_t = pool_pair(stride, fn, "stride", True) if stride is not None else ()
    if stride_t is None:
        raise RuntimeError("%s: stride must either be omitted, a single int, or a tuple of two "
                           "ints" % fn)
    pad = pool_pair(padding, fn, "padding", False)
    if pad is None:
        raise RuntimeError("%s: padding must either be a single int, or a tuple of two ints"
                           % fn)
    dil = pool_pair(dilation, fn, "dilation", False)
    if dil is None:
        raise RuntimeError("%s: dilation must be either a single int, or a tuple of two ints"
                           % fn)
    return kernel, stride_t if len(stride_t) else kernel, pad, dil


cdef object pooled_size(object size, object kernel, object pad, object stride, object dilation,
                        bint ceil_mode):
    """torch's output length of a pooling, after its checks on stride and padding. Python
    integers throughout, so that the division floors like torch's even for a negative span;
    in ceil_mode the last window must start inside the input or its left padding."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError("pad must be non-negative, but got pad: %d" % pad)
    effective = (kernel - 1) * dilation + 1
    half = effective // 2 if effective >= 0 else -(-effective // 2)   # C's division
    if pad > half:
        raise RuntimeError("pad should be at most half of effective kernel size, but got "
                           "pad=%d, kernel_size=%d and dilation=%d" % (pad, kernel, dilation))
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


cdef tuple pool_window(tuple xs, tuple kernel, tuple stride_t, tuple pad, tuple dil,
                       bint ceil_mode):
    """The output size and torch's shape checks shared by max and average pooling, in
    torch's order; returns the window and the output shape."""
    H, W = xs[-2], xs[-1]
    OH = pooled_size(H, kernel[0], pad[0], stride_t[0], dil[0], ceil_mode)
    OW = pooled_size(W, kernel[1], pad[1], stride_t[1], dil[1], ceil_mode)
    if kernel[0] <= 0 or kernel[1] <= 0:
        raise RuntimeError("kernel size should be greater than zero, but got kH: %d kW: %d"
                           % kernel)
    if stride_t[0] <= 0 or stride_t[1] <= 0:
        raise RuntimeError("stride should be greater than zero, but got dH: %d dW: %d" % stride_t)
    if dil[0] <= 0 or dil[1] <= 0:
        raise RuntimeError("dilation should be greater than zero, but got dilationH: %d "
                           "dilationW: %d" % dil)
    if len(xs) not in (3, 4) or builtins.any([s == 0 for s in xs[-3:]]):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           "for input, but got:%s" % shape_str(xs))
    if kernel[1] // 2 < pad[1] or kernel[0] // 2 < pad[0]:
        raise RuntimeError("pad should be smaller than or equal to half of kernel size, but got "
                           "padW = %d, padH = %d, kW = %d, kH = %d"
                           % (pad[1], pad[0], kernel[1], kernel[0]))
    if OH < 1 or OW < 1:
        raise RuntimeError("Given input size: (%dx%dx%d). Calculated output size: (%dx%dx%d). "
                           "Output size is too small" % (xs[-3], H, W, xs[-3], OH, OW))
    win = make_window((H, W), (OH, OW), kernel, stride_t, pad, dil)
    return win, xs[:-2] + (OH, OW)


cdef class MaxPool2DWithIndicesBackward0(Node):
    cdef ag_window win
    cdef object indices           # int64 flat in-plane argmax of each output element
    cdef tuple input_shape
    cdef object input_dtype

    cdef int apply(self, cnp.ndarray g) except -1:
        g = compute_array(g)
        cdef cnp.ndarray gx = zeros_of(self.input_shape, g)
        cdef cnp.ndarray idx = self.indices
        cdef Py_ssize_t planes = gx.size // (self.win.in_h * self.win.in_w) if gx.size else 0
        ag_max_pool_backward(kernel_code(g), &self.win, planes, cnp.PyArray_DATA(g),
                             <int64_t *>cnp.PyArray_DATA(idx), cnp.PyArray_DATA(gx))
        self.out0 = gx.astype(self.input_dtype, copy=False)
        return 0

    cdef void release(self):
        if self.has_saved:
            self.indices = None
            Node.release(self)

    def name(self):
        return "MaxPool2DWithIndicesBackward0"


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling; with return_indices, also the flat in-plane position of each max."""
    cdef Tensor x = as_tensor_arg(input, "max_pool2d")
    check_bool_arg(ceil_mode, "max_pool2d", "ceil_mode", 6)
    kernel, stride_t, pad, dil = pool_params(kernel_size, stride, padding, dilation,
                                             "max_pool2d")
    if x.array.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    cdef ag_window win
    win, out_shape = pool_window(shp(x.array), kernel, stride_t, pad, dil, bool(ceil_mode))
    if dtype_of_array(x.array) is BOOL:
        raise NotImplementedError("\"max_pool2d\" not implemented for 'Bool'")
    cdef cnp.ndarray X = pool_input(x.array)
    cdef cnp.ndarray Y = np.empty(out_shape, dtype=X.dtype)
    cdef cnp.ndarray idx = np.empty(out_shape, dtype=np.int64)
    cdef Py_ssize_t planes = X.size // (win.in_h * win.in_w) if X.size else 0
    ag_max_pool(pool_code(X), &win, planes, cnp.PyArray_DATA(X), cnp.PyArray_DATA(Y),
                <int64_t *>cnp.PyArray_DATA(idx))
    cdef Tensor out = new_tensor(Y.astype(x.array.dtype, copy=False))
    cdef MaxPool2DWithIndicesBackward0 node
    if ag_grad_enabled() and tracked(x):
        node = MaxPool2DWithIndicesBackward0.__new__(MaxPool2DWithIndicesBackward0)
        node.set_edges((x,))
        node.win = win
        node.indices = idx
        node.input_shape = shp(x.array)
        node.input_dtype = x.array.dtype
        node.has_saved = True
        attach(out, node)
    if return_indices:
        return out, new_tensor(idx)
    return out


cdef class AvgPool2DBackward0(Node):
    cdef ag_window win
    cdef bint count_include_pad
    cdef Py_ssize_t divisor       # divisor_override, or 0
    cdef tuple input_shape
    cdef object input_dtype

    cdef int apply(self, cnp.ndarray g) except -1:
        g = compute_array(g)
        cdef cnp.ndarray gx = zeros_of(self.input_shape, g)
        cdef Py_ssize_t planes = gx.size // (self.win.in_h * self.win.in_w) if gx.size else 0
        ag_avg_pool_backward(kernel_code(g), &self.win, planes, self.count_include_pad,
                             self.divisor, cnp.PyArray_DATA(g), cnp.PyArray_DATA(gx))
        self.out0 = gx.astype(self.input_dtype, copy=False)
        return 0

    def name(self):
        return "AvgPool2DBackward0"


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling with torch's rules for padding, ceil_mode and the divisor."""
    cdef Tensor x = as_tensor_arg(input, "avg_pool2d")
    check_bool_arg(ceil_mode, "avg_pool2d", "ceil_mode")
    check_bool_arg(count_include_pad, "avg_pool2d", "count_include_pad")
    if divisor_override is not None and (isinstance(divisor_override, (bool, float))
                                         or not hasattr(divisor_override, "__index__")):
        raise TypeError("avg_pool2d(): argument 'divisor_override' must be int, not %s"
                        % type(divisor_override).__name__)
    kernel, stride_t, pad, _ = pool_params(kernel_size, stride, padding, 1, "avg_pool2d")
    # 0 means no override to the kernels; torch accepts any other value, negative ones too
    cdef Py_ssize_t divisor = 0
    if divisor_override is not None:
        divisor = divisor_override.__index__()
        if divisor == 0:
            raise RuntimeError("divisor must be not zero")
    cdef int nd = x.array.ndim
    if nd < 3:
        # torch reads the channel count as size(-3) first
        raise IndexError("Dimension out of range (expected to be in range of [%d, %d], but got "
                         "-3)" % (-nd, nd - 1) if nd else
                         "Dimension specified as -3 but tensor has no dimensions")
    cdef ag_window win
    win, out_shape = pool_window(shp(x.array), kernel, stride_t, pad, (1, 1), bool(ceil_mode))
    # integers are averaged with a truncating division, by torch's CPU kernel for int64 only
    if not dtype_of_array(x.array).is_floating_point and dtype_of_array(x.array) is not INT64:
        raise NotImplementedError("\"avg_pool2d\" not implemented for '%s'"
                                  % scalar_name(x.array))
    cdef cnp.ndarray X = pool_input(x.array)
    cdef cnp.ndarray Y = np.empty(out_shape, dtype=X.dtype)
    cdef Py_ssize_t planes = X.size // (win.in_h * win.in_w) if X.size else 0
    ag_avg_pool(pool_code(X), &win, planes, bool(count_include_pad), divisor,
                cnp.PyArray_DATA(X), cnp.PyArray_DATA(Y))
    cdef Tensor out = new_tensor(Y.astype(x.array.dtype, copy=False))
    cdef AvgPool2DBackward0 node
    if ag_grad_enabled() and tracked(x):
        node = AvgPool2DBackward0.__new__(AvgPool2DBackward0)
        node.set_edges((x,))
        node.win = win
        node.count_include_pad = bool(count_include_pad)
        node.divisor = divisor
        node.input_shape = shp(x.array)
        node.input_dtype = x.array.dtype
        attach(out, node)
    return out


cdef class AdaptiveAvgPool2DBackward0(Node):
    cdef ag_window win
    cdef tuple input_shape
    cdef object input_dtype

    cdef int apply(self, cnp.ndarray g) except -1:
        g = compute_array(g)
        cdef cnp.ndarray gx = zeros_of(self.input_shape, g)
        cdef Py_ssize_t planes = gx.size // (self.win.in_h * self.win.in_w) if gx.size else 0
        ag_adaptive_avg_pool_backward(kernel_code(g), &self.win, planes,
                                      cnp.PyArray_DATA(g), cnp.PyArray_DATA(gx))
        self.out0 = gx.astype(self.input_dtype, copy=False)
        return 0

    def name(self):
        return "AdaptiveAvgPool2DBackward0"


cdef list adaptive_sizes(object output_size, tuple xs):
    """output_size as a list of ints, torch's TypeErrors for anything else; a None entry keeps
    the input's size (nn.functional resolves these before they get here, as torch does)."""
    if not isinstance(output_size, (list, tuple)):
        return list(int_list(output_size, "adaptive_avg_pool2d", "output_size", 2)) * 2
    if len(output_size) == 2 and len(xs) >= 2:
        output_size = [xs[pos - 2] if v is None else v for pos, v in enumerate(output_size)]
    return list(int_list(output_size, "adaptive_avg_pool2d", "output_size", 2))


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size; None in output_size keeps the input's size."""
    cdef Tensor x = as_tensor_arg(input, "adaptive_avg_pool2d")
    cdef int nd = x.array.ndim
    xs = shp(x.array)
    sizes = adaptive_sizes(output_size, xs)
    if len(sizes) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    OH, OW = sizes
    if OH < 0 or OW < 0:
        raise RuntimeError("adaptive_avg_pool2d: elements of output_size must be greater than or "
                           "equal to 0 but received {%d, %d}" % (OH, OW))
    if OH == 1 and OW == 1:
        # torch takes the mean here, before any of its other checks, and records its node
        return mean(x, (-1, -2), True)
    if nd not in (3, 4):
        raise RuntimeError("adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got %s"
                           % shape_str(xs))
    for i in (-2, -1):
        if xs[i] == 0:
            raise RuntimeError("adaptive_avg_pool2d(): Expected input to have non-zero size for "
                               "non-batch dimensions, but input has sizes %s with dimension %d "
                               "being empty" % (shape_str(xs), i + nd))
    if not dtype_of_array(x.array).is_floating_point and x.array.size:
        raise NotImplementedError("\"adaptive_avg_pool2d\" not implemented for '%s'"
                                  % scalar_name(x.array))
    cdef ag_window win = make_window((xs[-2], xs[-1]), (OH, OW), (1, 1), (1, 1), (0, 0), (1, 1))
    cdef cnp.ndarray X = compute_array(x.array)
    cdef cnp.ndarray Y = np.empty(xs[:-2] + (OH, OW), dtype=X.dtype)
    cdef Py_ssize_t planes = X.size // (win.in_h * win.in_w) if X.size else 0
    if OH and OW:
        ag_adaptive_avg_pool(kernel_code(X), &win, planes, cnp.PyArray_DATA(X),
                             cnp.PyArray_DATA(Y))
    cdef Tensor out = new_tensor(Y.astype(x.array.dtype, copy=False))
    cdef AdaptiveAvgPool2DBackward0 node
    if ag_grad_enabled() and tracked(x):
        node = AdaptiveAvgPool2DBackward0.__new__(AdaptiveAvgPool2DBackward0)
        node.set_edges((x,))
        node.win = win
        node.input_shape = xs
        node.input_dtype = x.array.dtype
        attach(out, node)
    return out


# -- batch normalization ----------------------------------------------------------------------
#
# Over an (N, C, L) view, with M = N * L values per channel (loops in csrc/normalization.c):
#   training:  mean and biased variance of the batch; running stats move by `momentum` toward
#              the batch mean and the *unbiased* variance (M / (M - 1) times the biased one).
#   eval:      the running stats stand in for the batch's, and are not updated.
# Backward, with xhat = (x - mean) * invstd and invstd = 1 / sqrt(var + eps):
#   d bias   = sum(g)             d weight = sum(g * xhat)
#   d x      = weight * invstd * (g - mean(g) - xhat * mean(g * xhat))    (training)
#   d x      = weight * invstd * g                                        (eval: the stats are
#                                                                          constants)
# The node keeps x, mean and invstd (as torch does) rather than xhat, and recomputes xhat.

cdef class NativeBatchNormBackward0(Node):
    cdef object x                 # forward's input as (N, C, L), float32/float64, contiguous
    cdef object mean              # float64 (C,): the statistics forward normalized with
    cdef object invstd            # float64 (C,)
    cdef object scale             # float64 (C,): weight * invstd (invstd without a weight)
    cdef bint training
    cdef tuple input_shape
    cdef object input_dtype
    cdef object weight_dtype      # dtypes and shapes of the parameters' gradients: a weight
    cdef object bias_dtype        # of C elements need not be 1-D, and with a float16 input
    cdef tuple weight_shape       # the parameters may be float32
    cdef tuple bias_shape

    cdef int apply(self, cnp.ndarray g) except -1:
        cdef cnp.ndarray X = self.x
        cdef cnp.ndarray G = c_contiguous(g, X.dtype).reshape(shp(X))
        cdef Py_ssize_t N = shp(X)[0], C = shp(X)[1], L = shp(X)[2]
        cdef cnp.ndarray sum_g = np.empty(C, dtype=np.float64)
        cdef cnp.ndarray sum_gx = np.empty(C, dtype=np.float64)
        cdef cnp.ndarray GX = np.empty_like(X) if self.next0 is not None else None
        ag_batch_norm_backward(kernel_code(X), N, C, L, cnp.PyArray_DATA(G),
                               cnp.PyArray_DATA(X), <double *>cnp.PyArray_DATA(self.mean),
                               <double *>cnp.PyArray_DATA(self.invstd),
                               <double *>cnp.PyArray_DATA(self.scale), self.training,
                               cnp.PyArray_DATA(GX) if GX is not None else NULL,
                               <double *>cnp.PyArray_DATA(sum_g),
                               <double *>cnp.PyArray_DATA(sum_gx))
        if GX is not None:
            self.out0 = GX.reshape(self.input_shape).astype(self.input_dtype, copy=False)
        if self.next1 is not None:
            self.out1 = sum_gx.astype(self.weight_dtype).reshape(self.weight_shape)
        if self.next_rest[0] is not None:
            self.out_rest[0] = sum_g.astype(self.bias_dtype).reshape(self.bias_shape)
        return 0

    cdef void release(self):
        if self.has_saved:
            self.x = None
            Node.release(self)

    def name(self):
        return "NativeBatchNormBackward0"


cdef update_running(Tensor stat, cnp.ndarray batch_value, double momentum):
    """stat = (1 - momentum) * stat + momentum * batch_value, in place, as a buffer update."""
    cdef cnp.ndarray a = stat.array
    a *= (1.0 - momentum)
    a += (momentum * batch_value).astype(a.dtype, copy=False)
    bump_version(stat)


cdef cnp.ndarray channel_values(object t, Py_ssize_t C, double default):
    """A per-channel tensor (or None: `default` everywhere) as a float64 (C,) array."""
    if t is None:
        return np.full(C, default)
    return c_contiguous((<Tensor>t).array, np.float64).reshape(C)


cdef check_batch_norm_dtypes(Tensor x, tuple params):
    """torch's CPU rules: a float16 input may come with float32 parameters (weight, bias,
    running_mean, running_var); otherwise every parameter given has the input's dtype."""
    cdef dtype xd = dtype_of_array(x.array)
    if not xd.is_floating_point:
        raise NotImplementedError("\"batch_norm\" not implemented for '%s'" % scalar_name(x.array))
    given = [dtype_of_array((<Tensor>t).array) for t in params if t is not None]
    if not given:
        return
    if given[0] is not xd:
        if builtins.any([d is not FLOAT32 for d in given]):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if xd.name != "float16":
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        return
    for d in given:
        if d is not xd:
            raise RuntimeError("expected scalar type %s but found %s"
                               % (xd.legacy_name[:-len("Tensor")], d.legacy_name[:-len("Tensor")]))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization over dim 1 of an (N, C, *) input."""
    cdef Tensor x = as_tensor_arg(input, "batch_norm")
    xs = shp(x.array)
    cdef Py_ssize_t M = xs[0] if x.array.ndim else 1
    for s in xs[2:]:
        M *= s
    if training and M == 1:
        raise ValueError("Expected more than 1 value per channel when training, got input size "
                         "%s" % size_repr(list(xs)))
    check_bool_arg(training, "batch_norm", "training", 6)
    if training and eps <= 0.0:
        raise ValueError("batch_norm eps must be positive during training, but got %s" % (eps,))
    if eps < 0.0:
        raise ValueError("batch_norm eps must be non-negative, but got %s" % (eps,))
    # torch.batch_norm's argument order: input, weight, bias, running_mean, running_var
    for t, name, pos in ((weight, "weight", 2), (bias, "bias", 3),
                         (running_mean, "running_mean", 4), (running_var, "running_var", 5)):
        if t is not None:
            tensor_argument(t, "batch_norm", name, pos)
    if not hasattr(momentum, "__float__"):
        raise TypeError("batch_norm(): argument 'momentum' (position 7) must be float, not %s"
                        % type(momentum).__name__)
    if x.array.ndim < 2:
        raise ValueError("Expected 2D or higher input (got %dD input)" % x.array.ndim)
    cdef Py_ssize_t C = xs[1], N = xs[0]
    cdef Py_ssize_t L = x.array.size // (N * C) if N * C else 0
    if N * L == 0:
        # nothing to normalize and no statistics to update; torch returns x * weight[0] +
        # bias[0], so that the parameters get their (zero) gradients
        empty = mul(x, 1.0)
        if weight is not None:
            empty = empty * weight[0]
        if bias is not None:
            empty = empty + bias[0]
        return empty
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and (<Tensor>t).array.size != C:
            raise RuntimeError("%s should contain %d elements not %d"
                               % (name, C, (<Tensor>t).array.size))
        if t is None and name.startswith("running") and not training:
            raise RuntimeError("%s must be defined in evaluation mode" % name)
    check_batch_norm_dtypes(x, (weight, bias, running_mean, running_var))
    cdef cnp.ndarray X = compute_array(x.array).reshape(N, C, L)
    cdef int k = kernel_code(X)
    cdef cnp.ndarray mean_c, var_c
    if training:
        mean_c = np.empty(C, dtype=np.float64)
        var_c = np.empty(C, dtype=np.float64)
        ag_batch_norm_stats(k, N, C, L, cnp.PyArray_DATA(X), <double *>cnp.PyArray_DATA(mean_c),
                            <double *>cnp.PyArray_DATA(var_c))
        if running_mean is not None:
            update_running(<Tensor>running_mean, mean_c, momentum)
        if running_var is not None:
            update_running(<Tensor>running_var, var_c * (N * L / max_(N * L - 1, 1)), momentum)
    else:
        mean_c = channel_values(running_mean, C, 0.0)
        var_c = channel_values(running_var, C, 1.0)
    with np.errstate(all="ignore"):
        invstd = 1.0 / np.sqrt(var_c + eps)
    cdef cnp.ndarray scale = c_contiguous(invstd * channel_values(weight, C, 1.0))
    cdef cnp.ndarray shift = channel_values(bias, C, 0.0)
    cdef cnp.ndarray Y = np.empty_like(X)
    ag_batch_norm_apply(k, N, C, L, cnp.PyArray_DATA(X), <double *>cnp.PyArray_DATA(mean_c),
                        <double *>cnp.PyArray_DATA(scale), <double *>cnp.PyArray_DATA(shift),
                        cnp.PyArray_DATA(Y))
    cdef Tensor out = new_tensor(Y.reshape(xs).astype(x.array.dtype, copy=False))
    cdef bint w_grad = weight is not None and tracked(<Tensor>weight)
    cdef bint b_grad = bias is not None and tracked(<Tensor>bias)
    if not ag_grad_enabled() or not (tracked(x) or w_grad or b_grad):
        return out
    cdef NativeBatchNormBackward0 node = NativeBatchNormBackward0.__new__(NativeBatchNormBackward0)
    node.set_edges((x, weight, bias))
    node.x = X
    node.mean = mean_c
    node.invstd = c_contiguous(invstd)
    node.scale = scale
    node.training = bool(training)
    node.input_shape = xs
    node.input_dtype = x.array.dtype
    if weight is not None:
        node.weight_dtype = (<Tensor>weight).array.dtype
        node.weight_shape = shp((<Tensor>weight).array)
    if bias is not None:
        node.bias_dtype = (<Tensor>bias).array.dtype
        node.bias_shape = shp((<Tensor>bias).array)
    node.save(0, x, 0)
    if weight is not None:
        node.save(1, <Tensor>weight, 1)
    attach(out, node)
    return out


# -- the gradients of these layers as recorded ops (create_graph=True) -------------------------
#
# Each layer's input gradient is linear in the output gradient g, so it can be an op of its own
# whose vector-Jacobian product is its adjoint. For convolution the three maps
#   F(x, w)  forward,  Gx(g, w)  input gradient,  Gw(x, g)  weight gradient
# are bilinear and each one's derivatives are the other two: <Gx(g, w), h> = <g, F(h, w)> =
# <Gw(h, g), w>. So recorded Gx and Gw nodes whose rules call F, Gx and Gw differentiate to any
# order. They work on 4-D arrays of the compute dtype, x unpadded: 'same' padding (`extra`) is
# part of the maps. The pools' gradients are linear in g alone; their adjoints are a gather at
# the argmax indices (max) and the forward pool (average, adaptive average).
#
# The arithmetic is the backward nodes' own: apply() of a node made only to compute, never
# attached to a tensor, so no second copy of the chunked im2col/col2im loops exists.

cdef Node WANTED = Node.__new__(Node)     # an edge that tells a compute-only node to compute


cdef tuple conv_gradient_arrays(tuple geom, cnp.ndarray G, cnp.ndarray X, cnp.ndarray W,
                                tuple x_shape, bint want_x, bint want_w):
    """(Gx(G, W), Gw(X, G)) of the convolution geom = (stride, padding, extra, dilation, groups)
    of an input of x_shape; X is read only for the second, W's values only for the first."""
    stride, padding, extra, dilation, groups = geom
    cdef tuple padded = x_shape[:2] + (x_shape[2] + extra[0], x_shape[3] + extra[1])
    cdef ConvolutionBackward0 k = ConvolutionBackward0.__new__(ConvolutionBackward0)
    k.win = make_window(padded[2:], shp(G)[2:], shp(W)[2:], stride, padding, dilation)
    k.groups = groups
    k.weight = W
    if want_w:
        k.input = (c_contiguous(np.pad(X, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1]))))
                   if extra[0] or extra[1] else X)
    k.input_shape = padded
    k.user_input_shape = x_shape
    k.user_weight_shape = shp(W)
    k.input_dtype = k.weight_dtype = W.dtype
    k.num_inputs = 2
    k.next0 = WANTED if want_x else None
    k.next1 = WANTED if want_w else None
    k.apply(G)
    return k.out0, k.out1


cdef Tensor conv_forward(Tensor x, Tensor w, tuple geom):
    """F(x, w), recorded as any convolution is (ConvolutionBackward0)."""
    stride, padding, extra, dilation, groups = geom
    return conv_arrays(x, w, None, stride, padding, extra, dilation, groups)


cdef inline cnp.ndarray conv_forward_array(cnp.ndarray X, cnp.ndarray W, tuple geom):
    return conv_forward(new_tensor(X), new_tensor(W), geom).array


def _conv_input_gradient_rule(h, ctx):
    geom, G, W, want_g, want_w = ctx
    H = compute_array(h)
    gg = conv_forward_array(H, W, geom) if want_g else None
    gw = conv_gradient_arrays(geom, G, H, W, shp(H), False, True)[1] if want_w else None
    return gg, gw


def _conv_weight_gradient_rule(k, ctx):
    geom, X, G, want_x, want_g = ctx
    K = compute_array(k)
    gx = conv_gradient_arrays(geom, G, None, K, shp(X), True, False)[0] if want_x else None
    gg = conv_forward_array(X, K, geom) if want_g else None
    return gx, gg


cdef Tensor conv_input_gradient(Tensor g, Tensor w, tuple geom, tuple x_shape):
    """Gx(g, w) as a recorded op; g, w are 4-D in the compute dtype."""
    cdef cnp.ndarray G = compute_array(g.array), W = compute_array(w.array)
    gx = conv_gradient_arrays(geom, G, None, W, x_shape, True, False)[0]
    out = record(new_tensor(gx), "ConvolutionBackwardBackward0", _conv_input_gradient_rule,
                 (geom, G, W, tracked(g), tracked(w)), (g, w), True)
    save_checked(out, 0, g, 0)
    save_checked(out, 1, w, 1)
    return out


cdef Tensor conv_weight_gradient(Tensor x, Tensor g, tuple geom, tuple w_shape):
    """Gw(x, g) as a recorded op; x, g are 4-D in the compute dtype."""
    cdef cnp.ndarray X = compute_array(x.array), G = compute_array(g.array)
    gw = conv_gradient_arrays(geom, G, X, np.empty(w_shape, X.dtype), shp(X), False, True)[1]
    out = record(new_tensor(gw), "ConvolutionBackwardBackward0", _conv_weight_gradient_rule,
                 (geom, X, G, tracked(x), tracked(g)), (x, g), True)
    save_checked(out, 0, x, 0)
    save_checked(out, 1, g, 1)
    return out


def _max_pool_gather_rule(h, ctx):
    """The adjoint of max pooling's input gradient: h read at each window's argmax."""
    indices, input_shape = ctx
    HW = input_shape[-2] * input_shape[-1]
    planes = h.reshape(-1, HW)
    return np.take_along_axis(planes, indices.reshape(shp(planes)[0], -1), 1).reshape(
        shp(indices))


cdef Tensor max_pool_input_gradient(Tensor g, MaxPool2DWithIndicesBackward0 node):
    """node's input gradient of g (compute dtype) as a recorded op."""
    cdef MaxPool2DWithIndicesBackward0 k = MaxPool2DWithIndicesBackward0.__new__(
        MaxPool2DWithIndicesBackward0)
    k.win, k.indices, k.input_shape, k.input_dtype = (node.win, node.indices, node.input_shape,
                                                      g.array.dtype)
    k.apply(g.array)
    return record(new_tensor(k.out0), "MaxPool2DWithIndicesBackwardBackward0",
                  _max_pool_gather_rule, (node.indices, node.input_shape), (g,), True)


cdef tuple avg_pool_arguments(AvgPool2DBackward0 node):
    """avg_pool2d's arguments that make node's window again. The window depends on ceil_mode
    only through the output size, so ceil_mode is whatever gives that size."""
    cdef ag_window w = node.win
    floor_h = (w.in_h + 2 * w.pad_h - w.kernel_h) // w.stride_h + 1
    floor_w = (w.in_w + 2 * w.pad_w - w.kernel_w) // w.stride_w + 1
    return ((w.kernel_h, w.kernel_w), (w.stride_h, w.stride_w), (w.pad_h, w.pad_w),
            floor_h != w.out_h or floor_w != w.out_w, node.count_include_pad,
            node.divisor if node.divisor else None)


def _avg_pool_adjoint_rule(h, ctx):
    return (<Tensor>avg_pool2d(new_tensor(compute_array(h)), *ctx)).array


cdef Tensor avg_pool_input_gradient(Tensor g, AvgPool2DBackward0 node):
    cdef AvgPool2DBackward0 k = AvgPool2DBackward0.__new__(AvgPool2DBackward0)
    k.win, k.count_include_pad, k.divisor = node.win, node.count_include_pad, node.divisor
    k.input_shape, k.input_dtype = node.input_shape, g.array.dtype
    k.apply(g.array)
    return record(new_tensor(k.out0), "AvgPool2DBackwardBackward0", _avg_pool_adjoint_rule,
                  avg_pool_arguments(node), (g,))


def _adaptive_pool_adjoint_rule(h, output_size):
    return (<Tensor>adaptive_avg_pool2d(new_tensor(compute_array(h)), output_size)).array


cdef Tensor adaptive_pool_input_gradient(Tensor g, AdaptiveAvgPool2DBackward0 node):
    cdef AdaptiveAvgPool2DBackward0 k = AdaptiveAvgPool2DBackward0.__new__(
        AdaptiveAvgPool2DBackward0)
    k.win, k.input_shape, k.input_dtype = node.win, node.input_shape, g.array.dtype
    k.apply(g.array)
    return record(new_tensor(k.out0), "AdaptiveAvgPool2DBackwardBackward0",
                  _adaptive_pool_adjoint_rule, (node.win.out_h, node.win.out_w), (g,))
