"""Samplers: iterables over dataset indices (or over lists of indices, for BatchSampler).

Random samplers draw from an `autograd_c.Generator`. Without one, each pass seeds a private
generator from one draw of the global generator, as torch does: the order is then reproducible
under `autograd_c.manual_seed`, and random ops run between batches do not change it.
"""
import itertools
from collections.abc import Iterator
from typing import Generic, TypeVar

import numpy as np

from autograd_c import _C
from autograd_c._creation import (
    Generator, as_tensor, default_generator, multinomial, randint, randperm,
)

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]

T_co = TypeVar("T_co", covariant=True)

_DRAW_CHUNK = 32        # indices drawn per call when sampling with replacement (keeps it lazy)


def _is_positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _epoch_generator():
    """A fresh generator seeded from the global one: one draw per pass over the data."""
    seed = int(default_generator._rng.integers(0, 2 ** 63, dtype=np.int64))
    return Generator().manual_seed(seed)


class Sampler(Generic[T_co]):
    """Base class: subclasses yield indices from __iter__ and may report their count in __len__."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1, the same every pass."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A fresh random permutation each pass, or `num_samples` indices drawn with replacement.

    Without replacement and with num_samples > len(data_source), whole permutations follow each
    other and the last one is cut short.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError("replacement should be a boolean value, but got replacement=%s"
                            % (replacement,))
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             "num_samples=%s" % (self.num_samples,))

    @property
    def num_samples(self):
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = self.generator if self.generator is not None else _epoch_generator()
        if self.replacement:
            yield from _draw_with_replacement(n, self.num_samples, generator)
        else:
            full_passes, rest = divmod(self.num_samples, n)
            for _ in range(full_passes):
                yield from randperm(n, generator=generator).tolist()
            if rest:
                yield from randperm(n, generator=generator).tolist()[:rest]

    def __len__(self):
        return self.num_samples


def _draw_with_replacement(n, count, generator):
    while count > 0:
        chunk = min(count, _DRAW_CHUNK)
        yield from randint(n, (chunk,), generator=generator).tolist()
        count -= chunk


class SubsetRandomSampler(Sampler[int]):
    """The given indices in a fresh random order each pass."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for position in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[position]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Indices 0..len(weights)-1 drawn with probability proportional to their weight."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not _is_positive_int(num_samples):
            raise ValueError("num_samples should be a positive integer value, but got "
                             "num_samples=%s" % (num_samples,))
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got replacement=%s"
                             % (replacement,))
        weights = as_tensor(weights, dtype=_C.float64)
        if weights.dim() != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape %s"
                             % (tuple(weights.shape),))
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        drawn = multinomial(self.weights, self.num_samples, self.replacement,
                            generator=self.generator)
        yield from drawn.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Groups the indices of `sampler` into lists of `batch_size`; the last list is shorter
    unless drop_last drops it."""

    def __init__(self, sampler, batch_size, drop_last):
        if not _is_positive_int(batch_size):
            raise ValueError("batch_size should be a positive integer value, but got "
                             "batch_size=%s" % (batch_size,))
        if not isinstance(drop_last, bool):
            raise ValueError("drop_last should be a boolean value, but got drop_last=%s"
                             % (drop_last,))
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while True:
            batch = list(itertools.islice(indices, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
