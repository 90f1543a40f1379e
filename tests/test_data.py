"""autograd_c.utils.data: datasets, samplers, collation and the DataLoader against torch 2.13."""
import collections
import warnings

import numpy as np
import pytest

import autograd_c
import autograd_c.utils.data as data
from autograd_c.utils.data import (
    BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset,
    RandomSampler, SequentialSampler, StackDataset, Subset, SubsetRandomSampler, TensorDataset,
    WeightedRandomSampler, default_collate, default_convert, random_split,
)

Point = collections.namedtuple("Point", ["x", "y"])


def _features(n=10, width=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, width)).astype(np.float32), np.arange(n) % 3


def _tensor_dataset(lib, n=10):
    x, y = _features(n)
    return lib.utils.data.TensorDataset(lib.tensor(x), lib.tensor(y))


def _flat(batch):
    """A batch (nested lists/tuples/dicts of tensors and plain values) as comparable plain data:
    tensors become (dtype name, shape, values)."""
    if hasattr(batch, "numpy") and hasattr(batch, "dtype"):
        return (str(batch.dtype).rsplit(".", 1)[-1], tuple(batch.shape),
                batch.detach().numpy().tolist())
    if isinstance(batch, dict):
        return {k: _flat(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return (type(batch).__name__,) + tuple(_flat(v) for v in batch)
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [_flat(v) for v in batch])
    return batch


def _raised(fn):
    """(exception type name, message) of what fn raises, or None."""
    try:
        fn()
    except Exception as e:      # noqa: BLE001 - the type itself is compared
        return type(e).__name__, str(e)
    return None


def _same_error(ours, theirs):
    got, want = _raised(ours), _raised(theirs)
    assert want is not None, "torch accepted it"
    assert got == want


class _Squares:
    """A plain map-style dataset (not a Dataset subclass) yielding mixed samples."""

    def __init__(self, n=7):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"i": i, "sq": float(i * i), "name": "s%d" % i,
                "arr": np.arange(3, dtype=np.int16) + i, "pair": (i, np.float32(i) / 2)}


# -- DataLoader against torch -------------------------------------------------------------------

@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (4, True),
                                                   (10, False), (11, True), (None, False)])
def test_tensor_dataset_batches_equal_torchs(batch_size, drop_last):
    torch = pytest.importorskip("torch")
    kw = dict(batch_size=batch_size, drop_last=drop_last)
    ours = DataLoader(_tensor_dataset(autograd_c), **kw)
    theirs = torch.utils.data.DataLoader(_tensor_dataset(torch), **kw)
    assert len(ours) == len(theirs)
    assert [_flat(b) for b in ours] == [_flat(b) for b in theirs]


@pytest.mark.parametrize("batch_size", [None, 1, 3])
def test_mixed_samples_collate_like_torch(batch_size):
    torch = pytest.importorskip("torch")
    ours = list(DataLoader(_Squares(), batch_size=batch_size))
    theirs = list(torch.utils.data.DataLoader(_Squares(), batch_size=batch_size))
    assert [_flat(b) for b in ours] == [_flat(b) for b in theirs]


SAMPLE_BATCHES = {
    "ints": [1, 2, 3],
    "floats": [1.5, 2.0, -3.25],
    "bools": [True, False, True],
    "int then float": [1, 2.5],
    "strings": ["a", "bc"],
    "bytes": [b"a", b"b"],
    "numpy f32 scalars": [np.float32(1.5), np.float32(2)],
    "numpy i32 scalars": [np.int32(1), np.int32(-2)],
    "numpy bools": [np.bool_(True), np.bool_(False)],
    "numpy arrays": [np.ones((2, 2), np.float64), np.zeros((2, 2), np.float64)],
    "numpy u8 arrays": [np.arange(3, dtype=np.uint8), np.arange(3, dtype=np.uint8)],
    "0-d numpy arrays": [np.array(1.5), np.array(2.5)],
    "tuples": [(1, 2.0, "a"), (3, 4.0, "b")],
    "lists": [[1, 2], [3, 4]],
    "nested": [{"a": [1, (2.0, "x")], "b": {"c": np.int64(5)}},
               {"a": [3, (4.0, "y")], "b": {"c": np.int64(6)}}],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "ordered dicts": [collections.OrderedDict(b=1, a=2.0), collections.OrderedDict(b=3, a=4.0)],
    "numpy arrays of mixed dtypes": [np.ones(2, np.float32), np.ones(2, np.float64)],
    "numpy array views": [np.arange(6.0)[::2], np.arange(6.0).reshape(3, 2)[:, 1]],
    "numpy scalars of mixed types": [np.int64(1), np.float32(2.5), np.int16(3)],
    "numpy scalar then int": [np.int32(1), 2],
    "numpy array then list": [np.arange(2), [5, 6]],
}


@pytest.mark.parametrize("name", list(SAMPLE_BATCHES))
def test_default_collate_equals_torchs(name):
    torch = pytest.importorskip("torch")
    batch = SAMPLE_BATCHES[name]
    ours, theirs = default_collate(batch), torch.utils.data.default_collate(batch)
    assert type(ours).__name__ == type(theirs).__name__
    assert _flat(ours) == _flat(theirs)


@pytest.mark.parametrize("name", list(SAMPLE_BATCHES))
def test_default_convert_equals_torchs(name):
    torch = pytest.importorskip("torch")
    sample = SAMPLE_BATCHES[name][0]
    ours, theirs = default_convert(sample), torch.utils.data.default_convert(sample)
    assert _flat(ours) == _flat(theirs)


def test_default_collate_stacks_tensors_torch_free():
    rows = [autograd_c.tensor([1.0, 2.0]), autograd_c.tensor([3.0, 4.0])]
    batch = default_collate(rows)
    assert batch.shape == (2, 2) and batch.dtype == autograd_c.float32
    assert batch.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert default_collate([1, 2]).dtype == autograd_c.int64
    assert default_collate([1.0, 2.0]).dtype == autograd_c.float64
    assert default_collate([True, False]).dtype == autograd_c.bool
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_collate_of_tensors_that_require_grad_keeps_the_graph():
    torch = pytest.importorskip("torch")
    ours = [autograd_c.ones(2, requires_grad=True) for _ in range(3)]
    theirs = [torch.ones(2, requires_grad=True) for _ in range(3)]
    batch = default_collate(ours)
    assert batch.grad_fn.name() == torch.utils.data.default_collate(theirs).grad_fn.name()
    batch.sum().backward()
    assert ours[0].grad.tolist() == [1.0, 1.0]


def test_tensor_dataset_that_requires_grad_batches_through_stack():
    torch = pytest.importorskip("torch")

    def first_batch(lib):
        x = lib.arange(6.0).reshape(3, 2).requires_grad_()
        return next(iter(lib.utils.data.DataLoader(lib.utils.data.TensorDataset(x),
                                                   batch_size=2)))[0]

    ours, theirs = first_batch(autograd_c), first_batch(torch)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert _flat(ours) == _flat(theirs)


class _Opaque:
    pass


ERROR_BATCHES = {
    "unequal tensors": lambda lib: [lib.zeros(2), lib.zeros(3)],
    "unequal numpy": lambda lib: [np.zeros(2), np.zeros(3)],
    "unsupported type": lambda lib: [_Opaque(), _Opaque()],
    "None": lambda lib: [None, None],
    "unequal lists": lambda lib: [[1, 2], [3]],
    "string arrays": lambda lib: [np.array(["a"]), np.array(["b"])],
    "object arrays": lambda lib: [np.array([None]), np.array([None])],
    "mixed dtypes": lambda lib: [lib.zeros(2), lib.zeros(2, dtype=lib.int64)],
    "negative strides": lambda lib: [np.arange(3.0)[::-1], np.arange(3.0)[::-1]],
    "negative strides later": lambda lib: [np.arange(3.0), np.arange(3.0)[::-1]],
}


@pytest.mark.parametrize("name", list(ERROR_BATCHES))
def test_default_collate_errors_equal_torchs(name):
    torch = pytest.importorskip("torch")
    make = ERROR_BATCHES[name]
    got = _raised(lambda: default_collate(make(autograd_c)))
    want = _raised(lambda: torch.utils.data.default_collate(make(torch)))
    assert got == want


def test_collate_fn_map_entries_are_honoured():
    seen = []

    def count_tensors(batch, *, collate_fn_map):
        seen.append(len(batch))
        return "tensors"

    custom = dict(data._utils.collate.default_collate_fn_map)
    custom[autograd_c.Tensor] = count_tensors
    out = data._utils.collate.collate([(np.zeros(2), 1), (np.ones(2), 2)], collate_fn_map=custom)
    assert out[0] == "tensors" and seen == [2] and out[1].tolist() == [1, 2]


def test_unsupported_type_message_torch_free():
    with pytest.raises(TypeError, match=r"^default_collate: batch must contain tensors, numpy "
                       r"arrays, numbers, dicts or lists; found <class 'object'>$"):
        default_collate([object()])
    with pytest.raises(RuntimeError, match="^stack expects each tensor to be equal size"):
        default_collate([autograd_c.zeros(2), autograd_c.zeros(3)])


def test_no_shuffle_order_and_reiteration_equal_torchs():
    torch = pytest.importorskip("torch")
    ours = DataLoader(list(range(11)), batch_size=4)
    theirs = torch.utils.data.DataLoader(list(range(11)), batch_size=4)
    first = [_flat(b) for b in ours]
    assert first == [_flat(b) for b in ours] == [_flat(b) for b in theirs]
    assert len(iter(ours)) == len(iter(theirs)) == 3


def _loader_calls(lib):
    d = lib.utils.data
    ds = list(range(5))
    sampler = d.SequentialSampler(ds)
    batches = [[0, 1], [2]]
    return {
        "batch_sampler and batch_size": lambda: d.DataLoader(ds, batch_size=2,
                                                             batch_sampler=batches),
        "batch_sampler and shuffle": lambda: d.DataLoader(ds, shuffle=True, batch_sampler=batches),
        "batch_sampler and sampler": lambda: d.DataLoader(ds, sampler=sampler,
                                                          batch_sampler=batches),
        "batch_sampler and drop_last": lambda: d.DataLoader(ds, drop_last=True,
                                                            batch_sampler=batches),
        "shuffle and sampler": lambda: d.DataLoader(ds, shuffle=True, sampler=sampler),
        "no batching and drop_last": lambda: d.DataLoader(ds, batch_size=None, drop_last=True),
        "batch_size 0": lambda: d.DataLoader(ds, batch_size=0),
        "batch_size -1": lambda: d.DataLoader(ds, batch_size=-1),
        "batch_size float": lambda: d.DataLoader(ds, batch_size=2.0),
        "drop_last int": lambda: d.DataLoader(ds, drop_last=1),
        "negative workers": lambda: d.DataLoader(ds, num_workers=-1),
        "negative timeout": lambda: d.DataLoader(ds, timeout=-1),
        "prefetch without workers": lambda: d.DataLoader(ds, prefetch_factor=2),
        "negative prefetch": lambda: d.DataLoader(ds, num_workers=1, prefetch_factor=-1),
        "persistent without workers": lambda: d.DataLoader(ds, persistent_workers=True),
        "context without workers": lambda: d.DataLoader(ds, multiprocessing_context="spawn"),
        "shuffle empty dataset": lambda: d.DataLoader([], shuffle=True),
        "timeout in process": lambda: iter(d.DataLoader(ds, timeout=1)),
        "set batch_size": lambda: setattr(d.DataLoader(ds), "batch_size", 3),
        "set sampler": lambda: setattr(d.DataLoader(ds), "sampler", sampler),
    }


@pytest.mark.parametrize("name", list(_loader_calls(autograd_c)))
def test_loader_option_errors_equal_torchs(name):
    torch = pytest.importorskip("torch")
    _same_error(_loader_calls(autograd_c)[name], _loader_calls(torch)[name])


def test_batch_sampler_conflict_message_torch_free():
    with pytest.raises(ValueError, match="^batch_sampler option is mutually exclusive with "
                                         "batch_size, shuffle, sampler, and drop_last$"):
        DataLoader(range(4), batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="^sampler option is mutually exclusive with shuffle$"):
        DataLoader(range(4), shuffle=True, sampler=SequentialSampler(range(4)))


def test_batch_sampler_and_custom_collate_equal_torchs():
    torch = pytest.importorskip("torch")
    batches = [[4, 0], [2], [1, 3, 5]]

    def collate_sum(samples):
        return sum(samples), len(samples)

    def run(lib):
        ds = list(range(10, 16))
        return list(lib.utils.data.DataLoader(ds, batch_sampler=batches, collate_fn=collate_sum))

    assert run(autograd_c) == run(torch) == [(24, 2), (12, 1), (39, 3)]
    loader = DataLoader(list(range(6)), batch_sampler=batches)
    assert len(loader) == 3 and loader.batch_size is None and loader.drop_last is False


def test_custom_collate_receives_the_list_of_samples():
    seen = []
    loader = DataLoader(_tensor_dataset(autograd_c, 5), batch_size=2,
                        collate_fn=lambda samples: seen.append(samples) or len(samples))
    assert list(loader) == [2, 2, 1]
    assert all(isinstance(s, tuple) and len(s) == 2 for s in seen[0])
    assert seen[2][0][1].item() == 4 % 3


def test_custom_sampler_decides_order():
    loader = DataLoader(list(range(10)), batch_size=3, sampler=[9, 7, 5, 3, 1])
    assert [b.tolist() for b in loader] == [[9, 7, 5], [3, 1]]


def test_subset_fast_path_equals_row_by_row_path():
    ds = _tensor_dataset(autograd_c, 12)
    train, _ = random_split(ds, [8, 4], generator=autograd_c.Generator().manual_seed(3))
    nested = Subset(train, [7, 0, 3, 3, -1])
    for subset in (train, nested):
        fast = [_flat(b) for b in DataLoader(subset, batch_size=3)]
        slow = [_flat(b) for b in DataLoader(subset, batch_size=3,
                                             collate_fn=lambda s: default_collate(s))]
        assert fast == slow
    rows = [ds[i] for i in [train.indices[j] for j in [7, 0, 3, 3, 7]]]
    assert _flat(next(iter(DataLoader(nested, batch_size=5)))) == _flat(default_collate(rows))


def test_out_of_range_sampler_index_error_equals_torchs():
    torch = pytest.importorskip("torch")

    def run(lib):
        ds = _tensor_dataset(lib, 4)
        return lambda: list(lib.utils.data.DataLoader(ds, batch_size=2, sampler=[0, 7]))

    _same_error(run(autograd_c), run(torch))


def test_workers_run_in_process_with_the_same_batches():
    ds = _tensor_dataset(autograd_c, 9)
    plain = [_flat(b) for b in DataLoader(ds, batch_size=4)]
    workers = DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=True,
                         prefetch_factor=3, worker_init_fn=lambda wid: 1 / 0)
    assert [_flat(b) for b in workers] == plain
    assert [_flat(b) for b in workers] == plain
    assert data.get_worker_info() is None


def test_pin_memory_warning_equals_torchs():
    torch = pytest.importorskip("torch")

    def warned(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            batches = list(lib.utils.data.DataLoader([1, 2], pin_memory=True))
        return [str(w.message) for w in caught], len(batches)

    assert warned(autograd_c) == warned(torch)


# -- shuffling ---------------------------------------------------------------------------------

def _epochs(loader, n=3):
    return [[v for b in loader for v in b.tolist()] for _ in range(n)]


def test_shuffle_is_a_reproducible_permutation_that_changes_per_epoch():
    loader = DataLoader(list(range(50)), batch_size=8, shuffle=True)
    autograd_c.manual_seed(123)
    first = _epochs(loader)
    autograd_c.manual_seed(123)
    assert _epochs(loader) == first
    assert all(sorted(epoch) == list(range(50)) for epoch in first)
    assert first[0] != first[1] != first[2]
    assert first[0] != list(range(50))


def test_shuffle_with_generator_ignores_the_global_generator():
    def epochs(global_seed):
        autograd_c.manual_seed(global_seed)
        g = autograd_c.Generator().manual_seed(7)
        return _epochs(DataLoader(list(range(20)), batch_size=6, shuffle=True, generator=g))

    assert epochs(0) == epochs(1)
    assert epochs(0)[0] != epochs(0)[1]


@pytest.mark.parametrize("sampling", ["shuffle", "with replacement"])
def test_sample_order_is_fixed_when_the_epoch_starts(sampling):
    # random ops run between batches (dropout, init) must not change the rest of the epoch
    ds = list(range(30))
    if sampling == "shuffle":
        loader = DataLoader(ds, batch_size=5, shuffle=True)
    else:
        loader = DataLoader(ds, batch_size=5,
                            sampler=RandomSampler(ds, replacement=True, num_samples=100))

    def epoch(draw_between):
        autograd_c.manual_seed(5)
        out = []
        for b in loader:
            out += b.tolist()
            if draw_between:
                autograd_c.rand(3)
        return out

    assert epoch(False) == epoch(True)


def test_shuffle_with_a_wrong_generator_is_a_type_error():
    loader = DataLoader(list(range(5)), shuffle=True, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="generator"):
        list(loader)


# -- samplers ----------------------------------------------------------------------------------

def test_sequential_and_batch_samplers_equal_torchs():
    torch = pytest.importorskip("torch")
    d = torch.utils.data
    assert list(SequentialSampler(range(5))) == list(d.SequentialSampler(range(5)))
    for size in (1, 3, 5, 7):
        for drop in (False, True):
            ours = BatchSampler(SequentialSampler(range(10)), size, drop)
            theirs = d.BatchSampler(d.SequentialSampler(range(10)), size, drop)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)


def _sampler_calls(lib):
    d = lib.utils.data
    return {
        "replacement not bool": lambda: d.RandomSampler(range(3), replacement=1),
        "num_samples 0": lambda: d.RandomSampler(range(3), num_samples=0),
        "num_samples float": lambda: d.RandomSampler(range(3), num_samples=2.0),
        "empty data": lambda: d.RandomSampler([]),
        "batch_size bool": lambda: d.BatchSampler(range(3), True, False),
        "drop_last None": lambda: d.BatchSampler(range(3), 2, None),
        "weights 2-d": lambda: d.WeightedRandomSampler([[1.0, 2.0]], 2),
        "weighted num_samples": lambda: d.WeightedRandomSampler([1.0, 2.0], 0),
        "weighted replacement": lambda: d.WeightedRandomSampler([1.0, 2.0], 1, replacement=0),
        "base sampler": lambda: iter(d.Sampler()).__next__(),
    }


@pytest.mark.parametrize("name", list(_sampler_calls(autograd_c)))
def test_sampler_errors_equal_torchs(name):
    torch = pytest.importorskip("torch")
    _same_error(_sampler_calls(autograd_c)[name], _sampler_calls(torch)[name])


def test_random_sampler_variants():
    g = autograd_c.Generator().manual_seed(0)
    drawn = list(RandomSampler(range(4), replacement=True, num_samples=100, generator=g))
    assert len(drawn) == 100 and set(drawn) <= {0, 1, 2, 3} and len(set(drawn)) == 4
    longer = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert len(longer) == 10 and sorted(longer[:8]) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert len(RandomSampler(range(4), num_samples=10)) == 10
    shorter = list(RandomSampler(range(6), num_samples=3, generator=g))
    assert len(set(shorter)) == 3

    def seeded(seed):
        return list(RandomSampler(range(30), generator=autograd_c.Generator().manual_seed(seed)))

    assert seeded(1) == seeded(1) != seeded(2)


def test_subset_random_and_weighted_samplers():
    indices = [10, 20, 30, 40]
    g = autograd_c.Generator().manual_seed(0)
    sampler = SubsetRandomSampler(indices, generator=g)
    passes = [list(sampler) for _ in range(4)]
    assert all(sorted(p) == indices for p in passes) and len(sampler) == 4
    assert len({tuple(p) for p in passes}) > 1
    weighted = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=g)
    drawn = list(weighted)
    assert len(drawn) == len(weighted) == 200 and set(drawn) == {1, 3}
    assert drawn.count(3) > drawn.count(1)
    assert sorted(WeightedRandomSampler([1, 1, 1], 3, replacement=False)) == [0, 1, 2]


# -- datasets ----------------------------------------------------------------------------------

def test_tensor_dataset_mismatch_error_equals_torchs():
    torch = pytest.importorskip("torch")
    _same_error(lambda: TensorDataset(autograd_c.zeros(3, 2), autograd_c.zeros(4)),
                lambda: torch.utils.data.TensorDataset(torch.zeros(3, 2), torch.zeros(4)))


def test_tensor_dataset_items():
    x, y = autograd_c.arange(6.0).reshape(3, 2), autograd_c.tensor([7, 8, 9])
    ds = TensorDataset(x, y)
    assert len(ds) == 3 and ds.tensors == (x, y)
    assert ds[1][0].tolist() == [2.0, 3.0] and ds[-1][1].item() == 9
    with pytest.raises(AssertionError, match="^Size mismatch between tensors$"):
        TensorDataset(x, autograd_c.zeros(2))


class _Range(Dataset):
    def __init__(self, start, stop):
        self.values = list(range(start, stop))

    def __getitem__(self, i):
        return self.values[i]

    def __len__(self):
        return len(self.values)


def test_concat_dataset_and_add():
    both = _Range(0, 3) + _Range(10, 12)
    assert isinstance(both, ConcatDataset)
    assert [both[i] for i in range(len(both))] == [0, 1, 2, 10, 11]
    assert both[-1] == 11 and both[-5] == 0 and both.cumulative_sizes == [3, 5]
    triple = ConcatDataset([_Range(0, 2), [], _Range(5, 6)])
    assert [triple[i] for i in range(3)] == [0, 1, 5]


def _dataset_calls(lib):
    d = lib.utils.data

    class Stream(d.IterableDataset):
        def __iter__(self):
            return iter([1, 2])

    return {
        "empty concat": lambda: d.ConcatDataset([]),
        "concat of stream": lambda: d.ConcatDataset([Stream()]),
        "concat index too negative": lambda: d.ConcatDataset([[1, 2]])[-3],
        "concat index too large": lambda: d.ConcatDataset([[1, 2]])[2],
        "base getitem": lambda: d.Dataset()[0],
        "stack size mismatch": lambda: d.StackDataset([1, 2], [3]),
        "stack nothing": lambda: d.StackDataset(),
        "stack both kinds": lambda: d.StackDataset([1], b=[2]),
        "chain of map dataset": lambda: list(d.ChainDataset([[1, 2]])),
        "stream with shuffle": lambda: d.DataLoader(Stream(), shuffle=True),
        "stream with sampler": lambda: d.DataLoader(Stream(), sampler=[0]),
        "stream with batch_sampler": lambda: d.DataLoader(Stream(), batch_sampler=[[0]]),
        "subset overriding getitem only": lambda: type(
            "MySubset", (d.Subset,), {"__getitem__": lambda self, i: i})([1, 2], [0]),
    }


@pytest.mark.parametrize("name", list(_dataset_calls(autograd_c)))
def test_dataset_errors_equal_torchs(name):
    torch = pytest.importorskip("torch")
    _same_error(_dataset_calls(autograd_c)[name], _dataset_calls(torch)[name])


def test_stack_and_subset_datasets():
    pairs = StackDataset([1, 2, 3], "abc")
    named = StackDataset(num=[1, 2, 3], letter="abc")
    assert pairs[2] == (3, "c") and named[0] == {"num": 1, "letter": "a"} and len(named) == 3
    sub = Subset(_Range(0, 10), [9, 2, 4])
    assert len(sub) == 3 and sub[0] == 9 and sub.__getitems__([2, 1]) == [4, 2]
    assert [b.tolist() for b in DataLoader(sub, batch_size=2)] == [[9, 2], [4]]


class _Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("batch_size, drop_last", [(None, False), (1, False), (3, False),
                                                   (3, True), (7, False), (7, True)])
def test_iterable_dataset_batches_equal_torchs(batch_size, drop_last):
    torch = pytest.importorskip("torch")

    class Theirs(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    kw = dict(batch_size=batch_size, drop_last=drop_last)
    ours, theirs = DataLoader(_Count(7), **kw), torch.utils.data.DataLoader(Theirs(), **kw)
    assert len(ours) == len(theirs)
    assert [_flat(b) for b in ours] == [_flat(b) for b in theirs]


def test_chain_dataset():
    chained = _Count(2) + _Count(3)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    assert [b.tolist() for b in DataLoader(chained, batch_size=2)] == [[0, 1], [0, 1], [2]]


# -- random_split ------------------------------------------------------------------------------

@pytest.mark.parametrize("n, lengths", [(10, [3, 7]), (10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]),
                                        (7, [0.1, 0.2, 0.7]), (5, [1.0]), (3, [0, 3])])
def test_random_split_sizes_equal_torchs_and_partition(n, lengths):
    torch = pytest.importorskip("torch")
    ours = random_split(range(n), lengths, generator=autograd_c.Generator().manual_seed(0))
    theirs = torch.utils.data.random_split(range(n), lengths,
                                           generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    picked = [s[i] for s in ours for i in range(len(s))]
    assert sorted(picked) == list(range(n))
    assert all(isinstance(s, Subset) for s in ours)


def test_random_split_is_reproducible():
    def split(seed):
        g = autograd_c.Generator().manual_seed(seed)
        return [s.indices for s in random_split(range(30), [10, 20], generator=g)]

    assert split(4) == split(4) != split(5)
    autograd_c.manual_seed(9)
    first = [s.indices for s in random_split(range(30), [0.5, 0.5])]
    autograd_c.manual_seed(9)
    assert [s.indices for s in random_split(range(30), [0.5, 0.5])] == first


@pytest.mark.parametrize("lengths", [[3, 3], [5, 6], [0.5, 0.6], [1.5, -0.5], [0.3, 0.3],
                                     [-1, 11]])
def test_random_split_errors_equal_torchs(lengths):
    torch = pytest.importorskip("torch")
    got = _raised(lambda: random_split(range(10), lengths))
    want = _raised(lambda: torch.utils.data.random_split(range(10), lengths))
    assert got == want


def test_random_split_zero_length_warning_equals_torchs():
    torch = pytest.importorskip("torch")

    def warned(split):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sizes = [len(s) for s in split(range(2), [0.1, 0.1, 0.8])]
        return sizes, [(w.category, str(w.message), w.filename) for w in caught]

    assert warned(random_split) == warned(torch.utils.data.random_split)


def test_random_split_sum_error_torch_free():
    with pytest.raises(ValueError, match="^Sum of input lengths does not equal the length of "
                                         "the input dataset!$"):
        random_split(range(4), [1, 2])


# -- end to end --------------------------------------------------------------------------------

def test_training_loop_over_a_dataloader_reduces_the_loss():
    nn, optim = autograd_c.nn, autograd_c.optim
    autograd_c.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    train, val = random_split(TensorDataset(autograd_c.tensor(x), autograd_c.tensor(y)),
                              [0.75, 0.25])
    loader = DataLoader(train, batch_size=8, shuffle=True, num_workers=2)
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()

    def val_loss():
        with autograd_c.no_grad():
            xs, ys = next(iter(DataLoader(val, batch_size=len(val))))
            return loss_fn(model(xs), ys).item()

    before = val_loss()
    for _ in range(10):
        for xb, yb in loader:
            assert xb.shape[1:] == (3,) and yb.shape[1:] == (1,) and xb.dtype == autograd_c.float32
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    assert val_loss() < 0.01 * before
