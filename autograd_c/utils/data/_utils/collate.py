"""Turning a list of samples into a batch.

`default_collate` stacks what can be stacked: each sample's tensors, numpy arrays and numbers
become one tensor with a new leading dimension, and containers (tuples, lists, dicts,
namedtuples) are batched field by field. `default_convert` only turns numpy data into tensors,
for loaders that do not batch (batch_size=None).
"""
import collections.abc
import copy
import re

import numpy as np

from autograd_c import _C
from autograd_c._C import Tensor, stack
from autograd_c._creation import as_tensor, tensor

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

# numpy dtype codes of bytes, str and object arrays: they cannot become tensors
_STRING_OR_OBJECT = re.compile(r"[SaUO]")

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, "
                                  "numbers, dicts or lists; found {}")


def _is_numpy_data(obj):
    """A numpy array or scalar other than a string scalar."""
    kind = type(obj)
    return kind.__module__ == "numpy" and kind.__name__ not in ("str_", "bytes_", "string_")


def _holds_strings_or_objects(array):
    return _STRING_OR_OBJECT.search(array.dtype.str) is not None


def default_convert(data):
    """Turn the numpy arrays and scalars inside `data` (however nested) into tensors."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy_data(data):
        if isinstance(data, np.ndarray) and _holds_strings_or_objects(data):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]   # torch has always returned a list here
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, values):
    """A mapping of `like`'s type holding `values`, or a dict if that type cannot be built."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like, items):
    """A sequence of `like`'s type holding `items`, or a list if that type cannot be built."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


def collate(batch, *, collate_fn_map=None):
    """Batch a list of samples: a type found in `collate_fn_map` (exact type first, then the
    first key the sample is an instance of) is batched by its function; containers are batched
    field by field."""
    elem = batch[0]
    batch_fn = _lookup(collate_fn_map, elem)
    if batch_fn is not None:
        return batch_fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        per_key = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                   for key in elem}
        return _rebuild_mapping(elem, per_key)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(collate(field, collate_fn_map=collate_fn_map)
                            for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        return _collate_sequences(batch, collate_fn_map)
    raise TypeError(default_collate_err_msg_format.format(type(elem)))


def _lookup(collate_fn_map, elem):
    if collate_fn_map is None:
        return None
    if type(elem) in collate_fn_map:
        return collate_fn_map[type(elem)]
    for kind, batch_fn in collate_fn_map.items():
        if isinstance(elem, kind):
            return batch_fn
    return None


def _collate_sequences(batch, collate_fn_map):
    size = len(batch[0])
    if any(len(sample) != size for sample in batch):
        raise RuntimeError("each element in list of batch should be of equal size")
    # each field is passed on as the tuple zip makes, so strings inside samples batch as tuples
    fields = [collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)]
    if isinstance(batch[0], tuple):
        return fields                                # torch has always returned a list here
    return _rebuild_sequence(batch[0], fields)


def collate_tensor_fn(batch, *, collate_fn_map=None):
    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    if _holds_strings_or_objects(batch[0]):
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    if _stack_in_numpy(batch, collate_fn_map):
        return as_tensor(np.array(batch))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _stack_in_numpy(batch, collate_fn_map):
    """Whether np.array(batch) gives exactly what stacking each array's tensor would, several
    times faster: the tensors would go to collate_tensor_fn, and the arrays agree in dtype and
    shape and have no negative strides (which as_tensor refuses, and a copy would hide)."""
    if collate_fn_map is None or collate_fn_map.get(Tensor) is not collate_tensor_fn:
        return False
    dtype, shape = batch[0].dtype, batch[0].shape
    return all(isinstance(a, np.ndarray) and a.shape == shape
               and (a.dtype is dtype or a.dtype == dtype)
               and (a.flags.c_contiguous or min(a.strides) >= 0) for a in batch)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    kind = type(batch[0])
    if all(type(b) is kind for b in batch):
        return as_tensor(np.array(batch))       # same dtype as inferring from the list, faster
    return as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=_C.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


# Order matters for subclasses: bool is an int, so a batch of bools goes to collate_int_fn and
# becomes a bool tensor (tensor() infers the dtype).
default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Batch a list of samples as the DataLoader does by default (see the module docstring)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
