"""DataLoader: iterate over a dataset in batches.

Loading always runs in the calling process. `num_workers` > 0 is accepted, because scripts
written for torch often pass it, and behaves like 0: the batches and their order are the same
as torch's worker processes would deliver (with in_order=True), `worker_init_fn` is not called
(there are no workers to initialise) and `get_worker_info()` returns None.
"""
import math
import warnings

from autograd_c.utils.data._utils.collate import default_collate, default_convert
from autograd_c.utils.data.dataset import IterableDataset, Subset, TensorDataset
from autograd_c.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

# attributes that fix how batches are formed; changing them later would leave the samplers stale
_FROZEN_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                      "persistent_workers")


def get_worker_info():
    """Information about the current loader worker: always None, as data is loaded in the
    calling process."""
    return None


class _EndlessNone(Sampler):
    """The index 'sampler' of an iterable dataset: it only says how many samples to take."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Batches of samples from `dataset`, drawn by a sampler and merged by `collate_fn`.

    Arguments, defaults and errors follow torch.utils.data.DataLoader; see the module docstring
    for num_workers. `generator` (an autograd_c.Generator) drives shuffling; without one the
    global generator does, so autograd_c.manual_seed makes the order reproducible.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers,
                              multiprocessing_context)
        is_iterable = isinstance(dataset, IterableDataset)
        if is_iterable:
            _check_iterable_options(shuffle, sampler, batch_sampler)
        else:
            shuffle = bool(shuffle)
        batch_size, drop_last = _check_batching_options(batch_size, shuffle, sampler,
                                                        batch_sampler, drop_last)
        if sampler is None:
            sampler = _default_sampler(dataset, is_iterable, shuffle, generator)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = num_workers
        self.prefetch_factor = 2 if num_workers > 0 and prefetch_factor is None else prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._is_iterable = is_iterable
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False) and name in _FROZEN_AFTER_INIT:
            raise ValueError("%s attribute should not be set after %s is initialized"
                             % (name, type(self).__name__))
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        return _LoaderIter(self)

    def __len__(self):
        if not self._is_iterable:
            return len(self._index_sampler)
        length = len(self.dataset)
        if self.batch_size is None:
            return length
        if self.drop_last:
            return length // self.batch_size
        return math.ceil(length / self.batch_size)


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers, context):
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if context is not None and num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         "(num_workers > 0), but got num_workers=%s" % (num_workers,))


def _check_iterable_options(shuffle, sampler, batch_sampler):
    # an iterable dataset decides its own order, so nothing may reorder it
    if shuffle not in {False, None}:
        raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, "
                         "but got shuffle=%s" % (shuffle,))
    if sampler is not None:
        raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, "
                         "but got sampler=%s" % (sampler,))
    if batch_sampler is not None:
        raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler "
                         "option, but got batch_sampler=%s" % (batch_sampler,))


def _check_batching_options(batch_size, shuffle, sampler, batch_sampler, drop_last):
    """The effective (batch_size, drop_last): a batch_sampler makes both its own business."""
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        return None, False
    if batch_size is None and drop_last:
        raise ValueError("batch_size=None option disables auto-batching and is mutually "
                         "exclusive with drop_last")
    return batch_size, drop_last


def _default_sampler(dataset, is_iterable, shuffle, generator):
    if is_iterable:
        return _EndlessNone()
    if shuffle:
        return RandomSampler(dataset, generator=generator)
    return SequentialSampler(dataset)


class _LoaderIter:
    """One pass over a DataLoader."""

    def __init__(self, loader):
        if loader.num_workers == 0 and loader.timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        if loader.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=3)
        self._index_sampler = loader._index_sampler
        self._indices = iter(self._index_sampler)
        self._fetch = _fetcher(loader)

    def __iter__(self):
        return self

    def __next__(self):
        return self._fetch(next(self._indices))

    def __len__(self):
        return len(self._index_sampler)


def _fetcher(loader):
    """A function from what the index sampler yields to the next batch (or sample)."""
    collate_fn, dataset = loader.collate_fn, loader.dataset
    if loader._is_iterable:
        return _IterableFetcher(dataset, loader._auto_collation, collate_fn, loader.drop_last)
    if not loader._auto_collation:
        return lambda index: collate_fn(dataset[index])
    return lambda indices: _fetch_batch(dataset, indices, collate_fn)


def _fetch_batch(dataset, indices, collate_fn):
    if collate_fn is default_collate:
        columns = _tensor_dataset_columns(dataset, indices)
        if columns is not None:
            return columns
    fetch_many = getattr(dataset, "__getitems__", None)
    samples = fetch_many(indices) if fetch_many else [dataset[i] for i in indices]
    return collate_fn(samples)


def _tensor_dataset_columns(dataset, indices):
    """default_collate's batch of a TensorDataset (possibly under Subsets, as random_split
    makes), indexed in one step per tensor instead of row by row and stacked: the same values,
    dtypes and errors, more than ten times faster for small rows. None when not applicable;
    tensors that require grad take the general path so the batch keeps stack's grad_fn."""
    while type(dataset) is Subset:
        indices = [dataset.indices[i] for i in indices]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset or not all(type(i) is int for i in indices):
        return None
    if any(t.requires_grad for t in dataset.tensors):
        return None
    return [t[indices] for t in dataset.tensors]


class _IterableFetcher:
    """Takes samples from one pass over an iterable dataset, a batch's worth at a time."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self._samples = iter(dataset)
        self._auto_collation = auto_collation
        self._collate_fn = collate_fn
        self._drop_last = drop_last
        self._ended = False

    def __call__(self, batch_slots):
        if self._ended:
            raise StopIteration
        if not self._auto_collation:
            return self._collate_fn(next(self._samples))
        batch = []
        for _ in batch_slots:
            try:
                batch.append(next(self._samples))
            except StopIteration:
                self._ended = True
                break
        if not batch or (self._drop_last and len(batch) < len(batch_slots)):
            raise StopIteration
        return self._collate_fn(batch)
