# Shape ops, indexing, joining and splitting. A view shares storage with its source, as in
# torch: it also shares the source's version counter (so an in-place write through either is
# seen by the nodes that saved the other) and remembers the tensor owning the storage (base_).

cdef Tensor make_view(Tensor src, cnp.ndarray arr):
    cdef Tensor t = new_tensor(arr)
    t.version_ = counter_of(src)
    t.base_ = src.base_ if src.base_ is not None else src
    t.view_version = t.version_.value
    return t


cdef tuple infer_shape(tuple shape, Py_ssize_t numel):
    """Resolve one -1 in a requested shape, with torch's errors. Python integers throughout, so
    absurd sizes give torch's message instead of a C overflow."""
    known = 1
    infer_at = -1
    for i, s in enumerate(shape):
        if s == -1:
            if infer_at >= 0:
                raise RuntimeError("only one dimension can be inferred")
            infer_at = i
        elif s < 0:
            raise RuntimeError("invalid shape dimension %d at index %d of shape %s"
                               % (s, i, shape_str(shape)))
        else:
            known *= s
    if infer_at >= 0:
        if known == 0 or numel % known:
            raise RuntimeError("shape '%s' is invalid for input of size %d" % (shape_str(shape), numel))
        shape = shape[:infer_at] + (numel // known,) + shape[infer_at + 1:]
    elif known != numel:
        raise RuntimeError("shape '%s' is invalid for input of size %d" % (shape_str(shape), numel))
    return shape


def _reshape_rule(g, shape):
    return g.reshape(shape)


cdef inline bint same_data(cnp.ndarray reshaped, cnp.ndarray a):
    """Whether a's reshape is a view: numpy copies only when the strides allow no view, and a copy
    starts at a new address. Cheaper than np.reshape(copy=False), which needs numpy 2.1."""
    return cnp.PyArray_DATA(reshaped) == cnp.PyArray_DATA(a)


def reshape(input, shape):
    """A view when the strides allow one, else a copy: torch records a clone then a view."""
    cdef Tensor x = as_tensor_arg(input, "reshape")
    cdef Tensor copied
    shape = infer_shape(tuple(shape), cnp.PyArray_SIZE(x.array))
    check_numel(shape)
    cdef cnp.ndarray arr = x.array.reshape(shape)
    if not same_data(arr, x.array):
        copied = record(new_tensor(arr.reshape(shp(x.array))), "CloneBackward0", _identity_rule, None, (x,))
        return record(new_tensor(arr), "UnsafeViewBackward0", _reshape_rule, shp(x.array), (copied,))
    name = "ViewBackward0" if cnp.PyArray_IS_C_CONTIGUOUS(x.array) else "ReshapeAliasBackward0"
    return record(make_view(x, arr), name, _reshape_rule, shp(x.array), (x,))


def view(input, shape):
    cdef Tensor x = as_tensor_arg(input, "view")
    shape = infer_shape(tuple(shape), cnp.PyArray_SIZE(x.array))
    check_numel(shape)
    cdef cnp.ndarray arr = x.array.reshape(shape)
    if not same_data(arr, x.array):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return record(make_view(x, arr), "ViewBackward0", _reshape_rule, shp(x.array), (x,))


def flatten(input, start_dim=0, end_dim=-1):
    cdef Tensor x = as_tensor_arg(input, "flatten")
    shape = shp(x.array)
    if not shape:
        return reshape(x, (1,))
    s = normalize_dim(start_dim, len(shape))
    e = normalize_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(x, shape[:s] + (n,) + shape[e + 1:])


def squeeze(input, dim=None):
    cdef Tensor x = as_tensor_arg(input, "squeeze")
    shape = shp(x.array)
    if dim is None:
        name, axes = "SqueezeBackward0", tuple([i for i, s in enumerate(shape) if s == 1])
    elif isinstance(dim, (tuple, list)):
        name, axes = "SqueezeBackward2", tuple([d for d in normalize_dims(dim, len(shape)) if shape and shape[d] == 1])
    else:
        d = normalize_dim(dim, len(shape))
        name, axes = "SqueezeBackward1", ((d,) if shape and shape[d] == 1 else ())
    arr = np.squeeze(x.array, axis=axes) if axes else x.array.view()
    return record(make_view(x, as_array(arr)), name, _reshape_rule, shape, (x,))


def unsqueeze(input, dim):
    cdef Tensor x = as_tensor_arg(input, "unsqueeze")
    d = normalize_dim(dim, x.array.ndim + 1)
    return record(make_view(x, np.expand_dims(x.array, d)), "UnsqueezeBackward0", _reshape_rule,
                  shp(x.array), (x,))


def _expand_rule(g, shape):
    return sum_to_shape(g, shape)


def expand(input, sizes):
    cdef Tensor x = as_tensor_arg(input, "expand")
    shape = shp(x.array)
    sizes = tuple(sizes)
    if len(sizes) < len(shape):
        raise RuntimeError("expand(%s.%s{%s}, size=%s): the number of sizes provided (%d) must be "
                           "greater or equal to the number of dimensions in the tensor (%d)"
                           % (MODULE_NAME, dtype_of_array(x.array).legacy_name, shape_str(shape),
                              shape_str(sizes), len(sizes), len(shape)))
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError("The expanded size of the tensor (%d) isn't allowed in a leading, "
                                   "non-existing dimension %d" % (s, i))
            target.append(s)
            continue
        old = shape[i - lead]
        if s == -1:
            s = old
        if old != s and old != 1:
            raise RuntimeError("The expanded size of the tensor (%d) must match the existing size "
                               "(%d) at non-singleton dimension %d.  Target sizes: %s.  Tensor "
                               "sizes: %s" % (s, old, i, shape_str(sizes), shape_str(shape)))
        target.append(s)
    check_numel(tuple(target))
    arr = np.lib.stride_tricks.as_strided(x.array, tuple(target),
                                          expanded_strides(x.array, tuple(target)))
    return record(make_view(x, arr), "ExpandBackward0", _expand_rule, shape, (x,))


cdef tuple expanded_strides(cnp.ndarray a, tuple target):
    """torch's strides of a expanded to target (byte strides): 0 where a size changes, and a
    dim that keeps size 1 keeps its stride (a new one takes the stride the next dim spans),
    which .stride() shows; the view is writable, and in-place ops refuse the writes that land
    twice on one element (see has_internal_overlap)."""
    cdef Py_ssize_t lead = len(target) - a.ndim, i
    if a.ndim == 0:
        return (0,) * len(target)
    strides = [0] * len(target)
    for i in range(len(target) - 1, -1, -1):
        if i >= lead:
            size, stride = a.shape[i - lead], a.strides[i - lead]
        else:
            size, stride = 1, target[i + 1] * strides[i + 1]
        strides[i] = stride if size == target[i] else 0
    return tuple(strides)


def _transpose_rule(g, dims):
    return np.swapaxes(g, dims[0], dims[1])


def transpose(input, dim0, dim1):
    cdef Tensor x = as_tensor_arg(input, "transpose")
    nd = x.array.ndim
    d0 = normalize_dim(dim0, nd)
    d1 = normalize_dim(dim1, nd)
    if nd == 0:
        return record(make_view(x, x.array.view()), "TransposeBackward0", _identity_rule, None, (x,))
    cdef object dims = (d0, d1)
    return record(make_view(x, np.swapaxes(x.array, d0, d1)), "TransposeBackward0",
                  _transpose_rule, dims, (x,))


def _t_rule(g, ctx):
    return g.T


def t(input):
    cdef Tensor x = as_tensor_arg(input, "t")
    if x.array.ndim > 2:
        raise RuntimeError("t() expects a tensor with <= 2 dimensions, but self is %dD" % x.array.ndim)
    return record(make_view(x, x.array.T), "TBackward0", _t_rule, None, (x,))


def _permute_rule(g, dims):
    return np.transpose(g, np.argsort(dims))


def permute(input, dims):
    cdef Tensor x = as_tensor_arg(input, "permute")
    nd = x.array.ndim
    dims = tuple(dims)
    if len(dims) != nd:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not "
                           "match the length of the desired ordering of dimensions i.e. input.dim() "
                           "= %d is not equal to len(dims) = %d" % (nd, len(dims)))
    wrapped = tuple([normalize_dim(d, nd) for d in dims])
    if len(set(wrapped)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return record(make_view(x, np.transpose(x.array, wrapped)), "PermuteBackward0", _permute_rule,
                  wrapped, (x,))


def _repeat_rule(g, ctx):
    padded, reps, shape = ctx
    split = []
    for r, s in zip(reps, padded):
        split += [r, s]
    summed = g.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2)))
    return as_array(summed).reshape(shape)


def repeat(input, sizes):
    cdef Tensor x = as_tensor_arg(input, "repeat")
    reps = tuple(sizes)
    if len(reps) < x.array.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    padded = (1,) * (len(reps) - x.array.ndim) + shp(x.array)
    out = new_tensor(as_array(np.tile(x.array.reshape(padded), reps)))
    return record(out, "RepeatBackward0", _repeat_rule, (padded, reps, shp(x.array)), (x,))


# -- indexing -------------------------------------------------------------------------------

def _basic_index_rule(g, ctx):
    shape, dt, index = ctx
    out = np.zeros(shape, dtype=dt)
    out[index] = g
    return out


def _advanced_index_rule(g, ctx):
    shape, dt, index = ctx
    out = np.zeros(shape, dtype=dt)
    np.add.at(out, index, g)
    return out


cdef object index_component(object i):
    """One component of an index in numpy's terms; torch's errors for what torch refuses."""
    if isinstance(i, Tensor):
        arr = (<Tensor>i).array
        if dtype_of_array(arr) in (float16, float32, float64, int8, int16):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if dtype_of_array(arr) is uint8:    # torch still reads a byte index as a mask
            warnings.warn("indexing with dtype %s.uint8 is now deprecated, please use a dtype "
                          "%s.bool instead." % (MODULE_NAME, MODULE_NAME))
            return arr.astype(np.bool_)
        return arr
    if isinstance(i, slice):
        step = None if i.step is None else int(i.step)
        if step == 0:
            raise ValueError("slice step cannot be zero")
        if step is not None and step < 0:
            raise ValueError("step must be greater than zero")
        return slice(*[int(v) if isinstance(v, Tensor) else v for v in (i.start, i.stop, i.step)])
    if isinstance(i, list):
        # torch reads a list as a sequence of indices, converting numbers to integers
        arr = np.asarray([int(v) if isinstance(v, (Tensor, float)) else v for v in i])
        return arr.astype(np.int64) if arr.dtype.kind == "f" or arr.size == 0 else arr
    if isinstance(i, np.ndarray):
        if i.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return i
    if isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
        if not -2**63 <= i < 2**63:
            raise ValueError("Overflow when unpacking long long")
        return i
    if i is None or i is Ellipsis or isinstance(i, (bool, np.bool_)):
        return i
    if isinstance(i, str):
        raise TypeError("new(): invalid data type 'str'")
    if isinstance(i, float):
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         "Variables are valid indices (got float)")
    raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                     "Variables are valid indices (got %s)" % type(i).__name__)


cdef tuple normalize_index(object index):
    """The index as a tuple of numpy components, and whether it is basic (gives a view)."""
    parts = index if isinstance(index, tuple) else (index,)
    comps = tuple([index_component(i) for i in parts])
    basic = True
    for c in comps:
        if isinstance(c, np.ndarray):
            basic = False
    return comps, basic


cdef str basic_index_name(tuple comps):
    for c in reversed(comps):
        if c is Ellipsis:
            continue
        if c is None:
            return "UnsqueezeBackward0"
        if isinstance(c, slice):
            if c == slice(None):
                continue
            return "SliceBackward0"
        return "SelectBackward0"
    return "AliasBackward0"


cdef object numpy_index(cnp.ndarray a, tuple comps):
    check_index(a, comps)
    try:
        return a[comps]
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension"))


cdef check_index(cnp.ndarray a, tuple comps):
    """torch's messages for the index errors numpy words differently."""
    cdef int used = 0
    cdef int nd = cnp.PyArray_NDIM(a)
    for c in comps:
        if c is None or c is Ellipsis:
            continue
        if isinstance(c, np.ndarray) and c.dtype == np.bool_:
            for k in range(c.ndim):
                if used + k < nd and c.shape[k] != shp(a)[used + k]:
                    raise IndexError("The shape of the mask %s at index %d does not match the shape "
                                     "of the indexed tensor %s at index %d"
                                     % (shape_str(c.shape), k, shape_str(shp(a)), used + k))
            used += c.ndim           # a 0-d mask adds a dimension and consumes none
        else:
            used += 1
    if used > nd:
        if nd == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise IndexError("too many indices for tensor of dimension %d" % nd)


cdef object with_unsqueezed_strides(object arr, object src, tuple comps):
    """arr = src[comps], whose dims made by None (numpy gives them stride 0) take the stride
    torch gives them: torch applies the index left to right, and a None unsqueezes the tensor
    as it is at that point, spanning the dim that then follows it (1 element when last)."""
    sizes, strides = list(src.shape), list(src.strides)
    consumed = len([c for c in comps if c is not None and c is not Ellipsis])
    result, d = list(arr.strides), 0        # d: the dim the next component acts on
    for c in comps:
        if c is Ellipsis:
            d += src.ndim - consumed
        elif c is None:
            spans = sizes[d] * strides[d] if d < len(sizes) else src.itemsize
            sizes.insert(d, 1)
            strides.insert(d, spans)
            result[d] = spans
            d += 1
        elif isinstance(c, slice):
            start, stop, step = c.indices(sizes[d])
            sizes[d] = len(range(start, stop, step))
            strides[d] *= step
            d += 1
        else:
            del sizes[d], strides[d]
    return np.lib.stride_tricks.as_strided(arr, arr.shape, tuple(result))


def getitem(Tensor x, object index):
    comps, basic = normalize_index(index)
    if basic and Ellipsis not in comps:
        comps = comps + (Ellipsis,)     # numpy then returns a 0-d view, not a copied scalar
    arr = numpy_index(x.array, comps)
    if basic:
        if None in comps:
            arr = with_unsqueezed_strides(arr, x.array, comps)
        return record(make_view(x, as_array(arr)), basic_index_name(comps), _basic_index_rule,
                      (shp(x.array), x.array.dtype, comps), (x,))
    return record(new_tensor(as_array(arr)), "IndexBackward0", _advanced_index_rule,
                  (shp(x.array), x.array.dtype, comps), (x,), True)


def narrow(input, dim, start, length):
    cdef Tensor x = as_tensor_arg(input, "narrow")
    d = normalize_dim(dim, x.array.ndim)
    size = shp(x.array)[d]
    if not isinstance(start, (int, np.integer, Tensor)) or not isinstance(length, (int, np.integer)):
        raise TypeError("narrow() received an invalid combination of arguments - got (%s, %s, %s)"
                        % (type(dim).__name__, type(start).__name__, type(length).__name__))
    start = int(start)
    if not -size <= start <= size:
        raise IndexError("start out of range (expected to be in range of [%d, %d], but got %d)"
                         % (-size, size, start))
    if start < 0:
        start += size
    if start + length > size or length < 0:
        raise RuntimeError("start (%d) + length (%d) exceeds dimension size (%d)." % (start, length, size))
    index = (slice(None),) * d + (slice(start, start + length),)
    arr = x.array[index]
    return record(make_view(x, arr), "SliceBackward0", _basic_index_rule,
                  (shp(x.array), x.array.dtype, index), (x,))


def _split_piece(Tensor x, int d, Py_ssize_t start, Py_ssize_t stop, str name):
    index = (slice(None),) * d + (slice(start, stop),)
    return record(make_view(x, x.array[index]), name, _basic_index_rule,
                  (shp(x.array), x.array.dtype, index), (x,))


def split(tensor, split_size_or_sections, dim=0):
    cdef Tensor x = as_tensor_arg(tensor, "split")
    if x.array.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, x.array.ndim)
    size = shp(x.array)[d]
    if not isinstance(split_size_or_sections, (list, tuple, int, np.integer)):
        raise TypeError("split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of "
                        "ints, not %s" % type(split_size_or_sections).__name__)
    if isinstance(split_size_or_sections, (list, tuple)):
        sections = [int(s) for s in split_size_or_sections]
        if builtins_sum(sections) != size:
            raise RuntimeError("split_with_sizes expects split_sizes to sum exactly to %d (input "
                               "tensor's size at dimension %d), but got split_sizes=%s"
                               % (size, d, shape_str(sections)))
        name = "SplitWithSizesBackward0"
    else:
        step = int(split_size_or_sections)
        if step <= 0 and size > 0:
            raise RuntimeError("split expects split_size be non-negative, but got split_size=%d" % step)
        # an empty dimension still splits into one (empty) piece, as in torch
        sections = ([step] * (size // step) + ([size % step] if size % step else [])
                    if step and size else [0])
        name = "SplitBackward0"
    out = []
    start = 0
    for s in sections:
        out.append(_split_piece(x, d, start, start + s, name))
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    cdef Tensor x = as_tensor_arg(input, "chunk")
    chunks = int_argument(chunks, "chunk", "chunks", 1)
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: %d" % chunks)
    if x.array.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, x.array.ndim)
    size = shp(x.array)[d]
    if size == 0:
        # torch gives `chunks` empty pieces of an empty dimension, one object each, so a count
        # no list can hold is refused before any is made (torch: std::vector's max_size())
        if chunks > MAX_PIECES:
            raise RuntimeError("cannot create std::vector larger than max_size()")
        if chunks * PIECE_BYTES > physical_memory():
            raise RuntimeError("chunk: %d empty pieces would not fit in memory (std::bad_alloc)"
                               % chunks)
        return tuple([_split_piece(x, d, 0, 0, "SplitBackward0") for _ in range(chunks)])
    return split(x, -(-size // chunks), d)


# std::vector<Tensor>'s max_size() in torch's C++: 2**63 / sizeof(Tensor), 8 bytes
cdef object MAX_PIECES = 2**60 - 1
cdef Py_ssize_t PIECE_BYTES = 256           # a Tensor, its view array and a tuple slot, at least
cdef object physical_memory_bytes = None


cdef object physical_memory():
    global physical_memory_bytes
    if physical_memory_bytes is None:
        try:
            import os
            physical_memory_bytes = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            physical_memory_bytes = 2**40
    return physical_memory_bytes


cdef object int_argument(object value, str fn, str name, int position):
    """value as a Python int, with torch's errors for a bool, a non-integer and an int64
    overflow."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError("%s(): argument '%s' (position %d) must be int, not %s"
                        % (fn, name, position, type(value).__name__))
    value = value.__index__()
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    return value


def unbind(input, dim=0):
    cdef Tensor x = as_tensor_arg(input, "unbind")
    d = normalize_dim(dim, x.array.ndim)
    out = []
    for i in range(shp(x.array)[d]):
        index = (slice(None),) * d + (i, Ellipsis)
        out.append(record(make_view(x, x.array[index]), "UnbindBackward0", _basic_index_rule,
                          (shp(x.array), x.array.dtype, index), (x,)))
    return tuple(out)


def _gather_rule(g, ctx):
    shape, dt, full_index = ctx
    out = np.zeros(shape, dtype=dt)
    np.add.at(out, full_index, g)
    return out


def _gather_0d_rule(g, ctx):
    return np.asarray(g.sum())


cdef check_gather_index(cnp.ndarray index, int dim, Py_ssize_t size):
    """torch's bounds: 0 <= index < size. numpy would wrap a negative index around instead,
    which gathers another element than the one asked for."""
    if index.size == 0:
        return
    bad = (index < 0) | (index >= size)
    if bad.any():
        raise RuntimeError("index %d is out of bounds for dimension %d with size %d"
                           % (int(index[bad].reshape(-1)[0]), dim, size))


def gather(input, dim, index):
    cdef Tensor x = as_tensor_arg(input, "gather")
    cdef Tensor idx = as_tensor_arg(index, "gather")
    cdef cnp.ndarray positions = idx.array
    if positions.dtype not in (np.int64, np.int32):
        if positions.size:
            raise RuntimeError("gather(): Expected dtype int32/int64 for index")
        positions = positions.astype(np.int64)     # torch gathers nothing from any dtype
    d = normalize_dim(dim, x.array.ndim)
    if max_(positions.ndim, 1) != max_(x.array.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    check_gather_index(positions, d, shp(x.array)[d] if x.array.ndim else 1)
    if x.array.ndim == 0:
        out = new_tensor(np.full(shp(positions), x.array[()], dtype=x.array.dtype))
        return record(out, "GatherBackward0", _gather_0d_rule, None, (x,))
    grid = list(np.indices(shp(positions), sparse=True))
    grid[d] = positions
    full_index = tuple(grid)
    out = new_tensor(as_array(x.array[full_index]))
    return record(out, "GatherBackward0", _gather_rule, (shp(x.array), x.array.dtype, full_index), (x,))


# -- joining ---------------------------------------------------------------------------------

import builtins
builtins_sum = builtins.sum
max_ = builtins.max


def _cat_rule(g, ctx):
    d, sizes, dtypes = ctx
    cuts = np.cumsum(sizes)[:-1]
    return tuple([p.astype(dt, copy=False) for p, dt in zip(np.split(g, cuts, axis=d), dtypes)])


cdef tuple tensor_sequence(object tensors, str fn):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError("%s(): argument 'tensors' (position 1) must be tuple of Tensors, not %s"
                        % (fn, type(tensors).__name__))
    return tuple(tensors)


def cat(tensors, dim=0, *, out=None):
    tensors = tensor_sequence(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError("expected Tensor as element %d in argument 0, but got %s" % (i, type(t).__name__))
        if (<Tensor>t).array.ndim == 0:
            raise RuntimeError("zero-dimensional tensor (at position %d) cannot be concatenated" % i)
    # torch skips legacy empty 1-D tensors of shape (0,) when the others have more dims
    parts = [t for t in tensors if not (shp((<Tensor>t).array) == (0,))] or [tensors[0]]
    ref = (<Tensor>parts[0]).array
    d = normalize_dim(dim, ref.ndim)
    for i, t in enumerate(tensors):
        a = (<Tensor>t).array
        if shp(a) == (0,) and ref.ndim != 1:
            continue
        if a.ndim != ref.ndim:
            raise RuntimeError("Tensors must have same number of dimensions: got %d and %d" % (ref.ndim, a.ndim))
        for k in range(ref.ndim):
            if k != d and shp(a)[k] != shp(ref)[k]:
                raise RuntimeError("Sizes of tensors must match except in dimension %d. Expected "
                                   "size %d but got size %d for tensor number %d in the list."
                                   % (d, shp(ref)[k], shp(a)[k], i))
    rd = result_type(tensors)
    out_arr = np.concatenate([operand_array(t, rd) for t in parts], axis=d)
    sizes = [shp((<Tensor>t).array)[d] if (<Tensor>t).array.ndim > d else 0 for t in tensors]
    return record(new_tensor(as_array(out_arr)), "CatBackward0", _cat_rule,
                  (d, sizes, [(<Tensor>t).array.dtype for t in tensors]), tensors)


def concat(tensors, dim=0):
    return cat(tensors, dim)


def concatenate(tensors, axis=0):
    return cat(tensors, axis)


def _stack_rule(g, ctx):
    d, dtypes = ctx
    return tuple([np.take(g, i, axis=d).astype(dt, copy=False) for i, dt in enumerate(dtypes)])


def stack(tensors, dim=0, *, out=None):
    tensors = tensor_sequence(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError("expected Tensor as element %d in argument 0, but got %s" % (i, type(t).__name__))
    shape0 = shp((<Tensor>tensors[0]).array)
    for i, t in enumerate(tensors):
        if shp((<Tensor>t).array) != shape0:
            raise RuntimeError("stack expects each tensor to be equal size, but got %s at entry 0 "
                               "and %s at entry %d" % (shape_str(shape0), shape_str(shp((<Tensor>t).array)), i))
    d = normalize_dim(dim, len(shape0) + 1)
    rd = result_type(tensors)
    out_arr = np.stack([operand_array(t, rd) for t in tensors], axis=d)
    return record(new_tensor(as_array(out_arr)), "StackBackward0", _stack_rule,
                  (d, [(<Tensor>t).array.dtype for t in tensors]), tensors)


# -- copies and casts ---------------------------------------------------------------------------

def _identity_rule(g, ctx):
    return g


def _cast_rule(g, np_dtype):
    return g.astype(np_dtype)


cdef Tensor clone(Tensor x):
    return record(new_tensor(x.array.copy()), "CloneBackward0", _identity_rule, None, (x,))


cdef Tensor to_dtype_op(Tensor x, dtype target, bint copy):
    if cnp.PyArray_TYPE(x.array) == target.typenum and not copy:
        return x
    out = new_tensor(x.array.astype(target.numpy_dtype))
    if not target.is_floating_point:
        return out
    return record(out, "ToCopyBackward0", _cast_rule, x.array.dtype, (x,))
