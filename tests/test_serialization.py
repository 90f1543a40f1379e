"""autograd_c.save / autograd_c.load: round trips, state dicts, and files that must be refused.

Tests that compare with torch import it inside the test, so the rest run without torch.
"""
import collections
import io
import json
import math
import os
import pathlib
import zipfile

import numpy as np
import pytest

import autograd_c as ag
from autograd_c import serialization
from autograd_c.nn.parameter import Parameter

save, load = serialization.save, serialization.load
nn = ag.nn

NUMPY_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
                np.uint8, np.bool_]
SHAPES = [(), (0,), (5,), (2, 3), (2, 0, 3), (3, 1, 4)]
NOT_OURS = "is not a valid autograd_c save file"


def _torch():
    return pytest.importorskip("torch")


def _round_trip(obj, **load_kwargs):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf, **load_kwargs)


def _saved_bytes(obj):
    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()


def _random_array(np_dtype, shape, rng):
    if np_dtype is np.bool_:
        values = rng.random(shape) < 0.5
    elif np.issubdtype(np_dtype, np.integer):
        info = np.iinfo(np_dtype)
        values = rng.integers(info.min, info.max, size=shape, dtype=np_dtype, endpoint=True)
    else:
        values = (rng.standard_normal(shape) * 100).astype(np_dtype)
    return np.asarray(values)     # numpy hands back scalars for shape ()


def _values(t):
    return t.detach().numpy()


def _assert_same_tensor_values(loaded, original):
    """Same dtype, shape and bytes (so NaN payloads, -0.0 and inf count too)."""
    assert loaded.dtype is original.dtype
    assert tuple(loaded.shape) == tuple(original.shape)
    expected = np.ascontiguousarray(_values(original))
    assert _values(loaded).tobytes() == expected.tobytes()


def _archive_bytes(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _good_archive_entries(obj):
    with zipfile.ZipFile(io.BytesIO(_saved_bytes(obj))) as z:
        return {name: z.read(name) for name in z.namelist()}


def _load_error(data):
    with pytest.raises(RuntimeError) as info:
        load(io.BytesIO(data))
    assert NOT_OURS in str(info.value)
    return str(info.value)


# -- tensors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("np_dtype", NUMPY_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_dtype_and_shape_round_trips(np_dtype):
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        original = ag.from_numpy(_random_array(np_dtype, shape, rng))
        loaded = _round_trip(original)
        assert type(loaded) is ag.Tensor
        assert loaded.requires_grad is False and loaded.is_leaf
        _assert_same_tensor_values(loaded, original)


@pytest.mark.parametrize("np_dtype", [np.float16, np.float32, np.float64])
def test_nan_inf_and_signed_zero_survive(np_dtype):
    values = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1.5, -2.25], dtype=np_dtype)
    original = ag.from_numpy(values)
    loaded = _round_trip(original)
    _assert_same_tensor_values(loaded, original)
    assert np.signbit(_values(loaded)[3])


def test_non_contiguous_views_save_their_values_as_independent_tensors():
    base = ag.arange(24.0).reshape(2, 3, 4)
    views = {"transposed": base.transpose(0, 2), "strided": base[:, ::2, 1::2],
             "expanded": ag.tensor([1.0, 2.0]).reshape(2, 1).expand(2, 5),
             "permuted": base.permute(2, 0, 1), "narrowed": base.narrow(2, 1, 2)}
    loaded = _round_trip(views)
    for name, view in views.items():
        _assert_same_tensor_values(loaded[name], view)
        assert loaded[name].is_contiguous(), name
    base.mul_(0)      # storage sharing is not kept: the loaded tensors keep their values
    assert _values(loaded["transposed"]).sum() == sum(range(24))


def test_loaded_tensors_are_writable_and_usable_in_autograd():
    w = ag.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    loaded = _round_trip(w)
    assert loaded.requires_grad and loaded.is_leaf and loaded.grad is None
    (loaded * loaded).sum().backward()
    np.testing.assert_array_equal(loaded.grad.numpy(), 2 * _values(w))
    with ag.no_grad():
        loaded.add_(1.0)
    np.testing.assert_array_equal(_values(loaded), _values(w) + 1)


def test_requires_grad_is_kept_and_grad_is_not_saved():
    leaf = ag.tensor([1.0, 2.0], requires_grad=True)
    leaf.sum().backward()
    plain = ag.tensor([3.0])
    loaded = _round_trip([leaf, plain, leaf * 2])
    assert loaded[0].requires_grad and loaded[0].grad is None
    assert not loaded[1].requires_grad
    # A tensor from the middle of a graph comes back as a leaf that requires grad.
    assert loaded[2].requires_grad and loaded[2].is_leaf and loaded[2].grad_fn is None
    np.testing.assert_array_equal(_values(loaded[2]), [2.0, 4.0])


def test_non_leaf_requires_grad_matches_torch():
    torch = _torch()
    x = torch.ones(2, requires_grad=True)
    buf = io.BytesIO()
    torch.save(x * 2, buf)
    buf.seek(0)
    theirs = torch.load(buf)
    ours = _round_trip(ag.ones(2, requires_grad=True) * 2)
    assert (ours.requires_grad, ours.is_leaf) == (theirs.requires_grad, theirs.is_leaf)


def test_parameter_comes_back_as_parameter():
    trainable = Parameter(ag.tensor([1.0, 2.0]))
    frozen = Parameter(ag.tensor([[3.0]]), requires_grad=False)
    loaded = _round_trip({"a": trainable, "b": frozen, "c": trainable.detach()})
    assert type(loaded["a"]) is Parameter and loaded["a"].requires_grad
    assert type(loaded["b"]) is Parameter and not loaded["b"].requires_grad
    assert type(loaded["c"]) is ag.Tensor
    _assert_same_tensor_values(loaded["a"], trainable)
    _assert_same_tensor_values(loaded["b"], frozen)


def test_the_same_tensor_object_loads_as_one_object():
    t = ag.tensor([1.0, 2.0])
    loaded = _round_trip({"x": t, "again": [t], "other": t.clone()})
    assert loaded["x"] is loaded["again"][0]
    assert loaded["other"] is not loaded["x"]
    with zipfile.ZipFile(io.BytesIO(_saved_bytes([t, t, t]))) as z:
        assert sum(name.endswith(".npy") for name in z.namelist()) == 1


def test_saved_tensors_are_npy_entries_numpy_reads_without_pickle():
    t = ag.tensor([[1, 2], [3, 4]], dtype=ag.int16)
    with zipfile.ZipFile(io.BytesIO(_saved_bytes({"t": t}))) as z:
        npy = [n for n in z.namelist() if n.endswith(".npy")]
        assert len(npy) == 1
        array = np.load(io.BytesIO(z.read(npy[0])), allow_pickle=False)
    np.testing.assert_array_equal(array, _values(t))
    assert array.dtype == np.int16


# -- containers and plain values --------------------------------------------------------------

def test_containers_keep_their_types_key_types_and_order():
    t = ag.tensor([1.0])
    obj = {
        "ordered": collections.OrderedDict([("z", 1), ("a", 2), ("m", 3)]),
        "int_keys": {3: "three", 0: "zero", -7: None},
        "mixed_keys": {1.5: "f", True: "b", None: "n", (1, "x"): "t", "s": "s"},
        "tuple": (1, (2.5, [3, {"deep": t}])),
        "list": [None, True, False, 0, -1, 2 ** 70, "ünïcödé", ""],
        "empty": [[], (), {}, collections.OrderedDict()],
        "floats": [0.1, -0.0, 1e-310, 1.7976931348623157e308, math.inf, -math.inf],
        "size": ag.Size([2, 3]),
        "dtypes": [ag.float16, ag.int64, ag.bool],
        "device": ag.device("cpu"),
    }
    loaded = _round_trip(obj)
    assert list(loaded) == list(obj)
    assert type(loaded["ordered"]) is collections.OrderedDict
    assert list(loaded["ordered"].items()) == [("z", 1), ("a", 2), ("m", 3)]
    assert type(loaded["int_keys"]) is dict
    assert list(loaded["int_keys"].items()) == list(obj["int_keys"].items())
    assert all(type(k) is int for k in loaded["int_keys"])
    assert [type(k) for k in loaded["mixed_keys"]] == [float, bool, type(None), tuple, str]
    assert loaded["mixed_keys"] == obj["mixed_keys"]
    assert type(loaded["tuple"]) is tuple and type(loaded["tuple"][1][1]) is list
    _assert_same_tensor_values(loaded["tuple"][1][1][1]["deep"], t)
    assert loaded["list"] == obj["list"]
    assert [type(v) for v in loaded["list"]] == [type(v) for v in obj["list"]]
    assert loaded["empty"] == [[], (), {}, collections.OrderedDict()]
    assert [type(v) for v in loaded["empty"]] == [list, tuple, dict, collections.OrderedDict]
    assert loaded["floats"] == obj["floats"]
    assert math.copysign(1.0, loaded["floats"][1]) == -1.0
    assert type(loaded["size"]) is ag.Size and loaded["size"] == (2, 3)
    assert loaded["dtypes"][0] is ag.float16 and loaded["dtypes"][2] is ag.bool
    assert loaded["device"] == ag.device("cpu")


def test_nan_float_value_round_trips():
    assert math.isnan(_round_trip(math.nan))


@pytest.mark.parametrize("value", [None, True, 7, -2.5, "text", (), []])
def test_plain_values_alone_round_trip(value):
    loaded = _round_trip(value)
    assert loaded == value and type(loaded) is type(value)


# -- module and optimizer state dicts ---------------------------------------------------------

def _mlp(seed):
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def test_module_state_dict_round_trip_gives_identical_outputs(tmp_path):
    model = _mlp(0)
    path = tmp_path / "model.pt"
    save(model.state_dict(), path)
    loaded = load(path)
    assert type(loaded) is collections.OrderedDict
    assert list(loaded) == list(model.state_dict())
    fresh = _mlp(1)
    x = ag.randn(5, 4)
    assert not np.array_equal(_values(fresh(x)), _values(model(x)))
    fresh.load_state_dict(loaded)
    np.testing.assert_array_equal(_values(fresh(x)), _values(model(x)))


def _train(model, optimizer, batches):
    for x, y in batches:
        optimizer.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        optimizer.step()


def _batches(n, seed):
    rng = np.random.default_rng(seed)
    return [(ag.from_numpy(rng.standard_normal((6, 4)).astype(np.float32)),
             ag.from_numpy(rng.standard_normal((6, 3)).astype(np.float32))) for _ in range(n)]


@pytest.mark.parametrize("make_optimizer", [
    lambda params: ag.optim.Adam(params, lr=0.01, betas=(0.8, 0.95)),
    lambda params: ag.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True),
], ids=["adam", "sgd_momentum"])
def test_optimizer_state_dict_round_trip_continues_the_same_trajectory(make_optimizer):
    model = _mlp(0)
    optimizer = make_optimizer(model.parameters())
    _train(model, optimizer, _batches(3, seed=10))
    checkpoint = _round_trip({"model": model.state_dict(), "optim": optimizer.state_dict()})
    state = checkpoint["optim"]["state"]
    assert state and all(type(k) is int for k in state)
    assert checkpoint["optim"]["param_groups"] == optimizer.state_dict()["param_groups"]

    restored = _mlp(1)
    restored_optimizer = make_optimizer(restored.parameters())
    restored.load_state_dict(checkpoint["model"])
    restored_optimizer.load_state_dict(checkpoint["optim"])
    more = _batches(4, seed=11)
    _train(model, optimizer, more)
    _train(restored, restored_optimizer, more)
    for (name, a), b in zip(model.state_dict().items(), restored.state_dict().values()):
        np.testing.assert_array_equal(_values(a), _values(b), err_msg=name)


def test_adam_state_dict_keeps_its_exact_python_structure():
    model = _mlp(0)
    optimizer = ag.optim.Adam(model.parameters())
    _train(model, optimizer, _batches(2, seed=3))
    original = optimizer.state_dict()
    loaded = _round_trip(original)
    group, = loaded["param_groups"]
    assert type(group["betas"]) is tuple and type(group["params"]) is list
    assert {k: type(v) for k, v in group.items()} == {
        k: type(v) for k, v in original["param_groups"][0].items()}
    for index, slots in original["state"].items():
        for slot, value in slots.items():
            _assert_same_tensor_values(loaded["state"][index][slot], value)


# -- files and arguments ----------------------------------------------------------------------

def test_path_pathlike_and_file_object_variants(tmp_path):
    t = ag.tensor([1.0, 2.0, 3.0])
    save(t, str(tmp_path / "a.pt"))
    save(t, tmp_path / "b.pt")
    with open(tmp_path / "c.pt", "wb") as f:
        save(t, f)
    for name in ("a.pt", "b.pt", "c.pt"):
        _assert_same_tensor_values(load(str(tmp_path / name)), t)
        _assert_same_tensor_values(load(pathlib.Path(tmp_path / name)), t)
        with open(tmp_path / name, "rb") as f:
            _assert_same_tensor_values(load(f), t)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "c.pt").read_bytes()


def test_file_object_after_other_data():
    buf = io.BytesIO()
    buf.write(b"header bytes")
    save({"w": ag.tensor([4.0])}, buf)
    buf.seek(len(b"header bytes"))
    np.testing.assert_array_equal(_values(load(buf)["w"]), [4.0])


def test_map_location_and_weights_only_are_accepted():
    t = ag.tensor([1.0, 2.0])
    data = _saved_bytes(t)
    for kwargs in [{}, {"map_location": "cpu"}, {"map_location": ag.device("cpu")},
                   {"map_location": {"cuda:0": "cpu"}}, {"map_location": {"cpu": "cpu"}},
                   {"map_location": lambda storage, location: storage},
                   {"weights_only": True}, {"weights_only": False}, {"encoding": "latin1"}]:
        _assert_same_tensor_values(load(io.BytesIO(data), **kwargs), t)


@pytest.mark.parametrize("where", ["cuda", "cuda:1", "device", {"cpu": "cuda:0"}])
def test_map_location_cuda_raises_like_torch(where):
    if where == "device":
        where = ag.device("cuda")
    with pytest.raises(RuntimeError) as ours:
        load(io.BytesIO(_saved_bytes(ag.tensor([1.0]))), map_location=where)
    assert "CUDA device but autograd_c.cuda.is_available() is False" in str(ours.value)
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        return
    buf = io.BytesIO()
    torch.save(torch.tensor([1.0]), buf)
    buf.seek(0)
    if isinstance(where, ag.device):
        where = torch.device("cuda")
    with pytest.raises(RuntimeError) as theirs:
        torch.load(buf, map_location=where)
    assert str(ours.value) == str(theirs.value).replace("torch", "autograd_c")


def test_bad_map_location_types_raise_like_torch():
    data = _saved_bytes(ag.tensor([1.0]))
    with pytest.raises(TypeError, match="'int' object is not callable"):
        load(io.BytesIO(data), map_location=5)
    with pytest.raises(RuntimeError, match="tagged with nowhere"):
        load(io.BytesIO(data), map_location="nowhere")


def test_mmap_needs_a_path(tmp_path):
    save(ag.tensor([2.0]), tmp_path / "m.pt")
    np.testing.assert_array_equal(_values(load(tmp_path / "m.pt", mmap=True)), [2.0])
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap"):
        load(io.BytesIO(_saved_bytes(ag.tensor([2.0]))), mmap=True)


def test_bad_file_arguments_raise_like_torch(tmp_path):
    missing_dir = tmp_path / "no" / "such" / "x.pt"
    with pytest.raises(RuntimeError) as ours_dir:
        save(ag.tensor([1.0]), missing_dir)
    assert str(ours_dir.value) == "Parent directory %s does not exist." % missing_dir.parent
    with pytest.raises(AttributeError, match="file-like object with a 'write' attribute"):
        save(ag.tensor([1.0]), 123)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.pt")
    with pytest.raises(AttributeError, match="You can only autograd_c.load from a file that is "
                                             "seekable"):
        load(123)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs_dir:
        torch.save(torch.tensor([1.0]), missing_dir)
    assert str(ours_dir.value) == str(theirs_dir.value)
    with pytest.raises(AttributeError) as theirs_load:
        torch.load(123)
    with pytest.raises(AttributeError) as ours_load:
        load(123)
    assert str(ours_load.value) == str(theirs_load.value).replace("torch", "autograd_c")


def test_unsupported_objects_raise_type_error_naming_the_type(tmp_path):
    class Custom:
        pass

    cases = [(object(), "object"), ({1, 2}, "set"), (np.float64(1.0), "numpy.float64"),
             (np.zeros(2), "numpy.ndarray"), ([Custom()], "Custom"), (b"raw", "bytes"),
             ({ag.tensor([1.0]): 1}, "autograd_c._C.Tensor"), ({frozenset(): 1}, "frozenset")]
    for obj, type_name in cases:
        path = tmp_path / "refused.pt"
        with pytest.raises(TypeError, match="autograd_c.save cannot save") as info:
            save(obj, path)
        assert type_name in str(info.value)
        assert not path.exists()     # the object is checked before the file is created


def test_self_containing_object_is_refused():
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        save(loop, io.BytesIO())
    shared = [1, 2]
    assert _round_trip([shared, shared]) == [[1, 2], [1, 2]]


def test_module_exports():
    assert ag.save is save and ag.load is load


# -- files that must be refused ---------------------------------------------------------------

def test_truncated_files_are_refused_clearly():
    data = _saved_bytes({"w": ag.randn(20, 20), "b": ag.zeros(3)})
    for cut in sorted({0, 1, 3, 4, 10, 60, len(data) // 4, len(data) // 2, len(data) - 30,
                       len(data) - 22, len(data) - 1}):
        message = _load_error(data[:cut])
        expected = "empty" if cut == 0 else "truncated"
        assert expected in message or "corrupted" in message, (cut, message)


def test_every_damaged_byte_is_refused_or_harmless():
    original = {"t": ag.tensor([[1.5, -2.0], [3.0, 4.0]]), "n": 3}
    data = _saved_bytes(original)
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        try:
            loaded = load(io.BytesIO(bytes(damaged)))
        except RuntimeError as e:
            assert NOT_OURS in str(e), (position, str(e))
        else:     # bytes zipfile never checks (timestamps, padding) may change harmlessly
            assert loaded["n"] == 3, position
            _assert_same_tensor_values(loaded["t"], original["t"])


def test_random_bytes_empty_file_and_plain_zip_are_refused(tmp_path):
    rng = np.random.default_rng(5)
    assert "not a zip archive" in _load_error(rng.bytes(300))
    assert "empty" in _load_error(b"")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(RuntimeError, match="'%s' is not a valid autograd_c save file: it is empty"
                       % str(tmp_path / "empty.pt").replace("\\", "\\\\")):
        load(tmp_path / "empty.pt")
    assert "without the 'autograd_c_format.json' marker" in _load_error(
        _archive_bytes({"structure.json": b"{}", "notes.txt": b"hello"}))
    npz = io.BytesIO()
    np.savez(npz, a=np.arange(3))
    assert "marker" in _load_error(npz.getvalue())


def test_wrong_marker_newer_version_and_missing_entries_are_refused():
    entries = _good_archive_entries({"t": ag.tensor([1.0])})
    marker = serialization.MARKER_ENTRY
    wrong_format = dict(entries, **{marker: json.dumps({"format": "other", "version": 1})})
    assert "does not name" in _load_error(_archive_bytes(wrong_format))
    newer = dict(entries, **{marker: json.dumps({"format": "autograd_c.save", "version": 99})})
    assert "newer autograd_c" in _load_error(_archive_bytes(newer))
    not_json = dict(entries, **{marker: b"\xff\xfe not json"})
    assert "not valid JSON" in _load_error(_archive_bytes(not_json))
    no_tensor = {k: v for k, v in entries.items() if not k.endswith(".npy")}
    assert "has no entry 'tensors/0.npy'" in _load_error(_archive_bytes(no_tensor))
    no_structure = {k: v for k, v in entries.items() if k != "structure.json"}
    assert "has no entry 'structure.json'" in _load_error(_archive_bytes(no_structure))


@pytest.mark.parametrize("root", [
    {"type": "tensor", "index": 5}, {"type": "tensor", "index": "0"}, {"type": "mystery"},
    {"type": "list", "items": "abc"}, {"type": "dict", "items": [[{"type": "list", "items": []},
                                                                 {"type": "none"}]]},
    {"type": "int", "value": 1.5}, {"type": "float", "value": "NaNa"}, [1, 2], {"value": 1},
    {"type": "dtype", "name": "complex64"}, {"type": "device", "value": "moon"},
])
def test_malformed_structures_are_refused(root):
    entries = _good_archive_entries({"t": ag.tensor([1.0])})
    structure = json.loads(entries["structure.json"])
    structure["root"] = root
    entries["structure.json"] = json.dumps(structure)
    _load_error(_archive_bytes(entries))


def test_deeply_nested_structure_is_refused_without_crashing():
    entries = _good_archive_entries(1)
    entries["structure.json"] = ('{"tensors": [], "root": ' + '{"type": "list", "items": [' * 100000
                                 + ']}' * 100000 + '}')
    assert "nested too deeply" in _load_error(_archive_bytes(entries))


@pytest.mark.parametrize("change, words", [
    ({"dtype": "int64"}, "holds float32 data but its structure says int64"),
    ({"requires_grad": True, "dtype": "int32"}, "requiring grad"),
    ({"entry": 7}, "not a string"),
])
def test_tensor_records_that_disagree_with_their_data_are_refused(change, words):
    entries = _good_archive_entries(ag.tensor([1.0, 2.0]))
    structure = json.loads(entries["structure.json"])
    structure["tensors"][0].update(change)
    if change.get("dtype") == "int32":
        entries["tensors/0.npy"] = _npy_bytes(np.array([1, 2], dtype=np.int32))
    entries["structure.json"] = json.dumps(structure)
    assert words in _load_error(_archive_bytes(entries))


def _npy_bytes(array, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def _npy_with_header(shape, data, descr="<f4"):
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data


@pytest.mark.parametrize("shape", [(5,), (3,), (10 ** 13,), (2 ** 40, 2 ** 40), (-1, -4)])
def test_npy_header_that_does_not_match_the_data_size_is_refused(shape):
    entries = _good_archive_entries(ag.zeros(4))
    entries["tensors/0.npy"] = _npy_with_header(shape, bytes(16))
    message = _load_error(_archive_bytes(entries))
    assert "bytes of data where its header" in message or "negative dimension" in message


def test_garbage_npy_entry_is_refused():
    entries = _good_archive_entries(ag.zeros(4))
    entries["tensors/0.npy"] = b"\x93NUMPY\x09\x00" + b"x" * 40
    assert "not a valid .npy array" in _load_error(_archive_bytes(entries))
    entries["tensors/0.npy"] = b"not numpy at all"
    assert "not a valid .npy array" in _load_error(_archive_bytes(entries))


def test_byte_swapped_npy_entry_loads_with_its_values():
    entries = _good_archive_entries(ag.tensor([1.5, -2.0]))
    entries["tensors/0.npy"] = _npy_bytes(np.array([1.5, -2.0], dtype=">f4"))
    loaded = load(io.BytesIO(_archive_bytes(entries)))
    np.testing.assert_array_equal(_values(loaded), [1.5, -2.0])
    assert _values(loaded).dtype == np.float32 and _values(loaded).dtype.isnative


class _UnpickleAlarm:
    """Unpickling this creates a directory: the proof that a loader ran pickled code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.makedirs, (self.path,))


def test_pickled_object_array_is_refused_without_being_unpickled(tmp_path):
    alarm = str(tmp_path / "unpickled")
    payload = np.array([_UnpickleAlarm(alarm)], dtype=object)
    entries = _good_archive_entries(ag.tensor([1.0]))
    entries["tensors/0.npy"] = _npy_bytes(payload, allow_pickle=True)
    data = _archive_bytes(entries)
    message = _load_error(data)
    assert "pickled" in message
    assert not os.path.exists(alarm)
    npz = io.BytesIO()
    np.savez(npz, x=payload, allow_pickle=True)
    _load_error(npz.getvalue())
    assert not os.path.exists(alarm)
    # The payload is live: numpy's loader with pickle allowed does run it.
    np.load(io.BytesIO(entries["tensors/0.npy"]), allow_pickle=True)
    assert os.path.exists(alarm)


# -- against torch ----------------------------------------------------------------------------

def test_torch_saved_files_are_refused_clearly(tmp_path):
    torch = _torch()
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pt")
    with pytest.raises(RuntimeError, match="looks like a file written by torch.save"):
        load(tmp_path / "model.pt")
    buf = io.BytesIO()
    torch.save(torch.ones(2), buf, _use_new_zipfile_serialization=False)
    assert "pickle" in _load_error(buf.getvalue())


def test_loaded_values_match_torch_tensors():
    torch = _torch()
    rng = np.random.default_rng(7)
    for np_dtype in NUMPY_DTYPES:
        for shape in [(), (0, 2), (3, 4)]:
            theirs = torch.from_numpy(_random_array(np_dtype, shape, rng))
            view = theirs.t() if theirs.dim() == 2 else theirs
            loaded = _round_trip(ag.from_numpy(view.numpy()))
            assert _values(loaded).dtype == view.numpy().dtype
            assert tuple(loaded.shape) == tuple(view.shape)
            np.testing.assert_array_equal(_values(loaded), view.numpy())
    theirs = torch.tensor([1.0, 2.0], requires_grad=True)
    loaded = _round_trip(ag.tensor([1.0, 2.0], requires_grad=True))
    assert loaded.requires_grad == theirs.requires_grad


def test_save_to_a_stream_that_cannot_seek():
    class WriteOnly(io.RawIOBase):
        def __init__(self):
            self.chunks = []

        def writable(self):
            return True

        def write(self, data):
            self.chunks.append(bytes(data))
            return len(data)

    stream = WriteOnly()
    t = ag.tensor([[1, 2], [3, 4]], dtype=ag.uint8)
    save({"t": t}, stream)
    _assert_same_tensor_values(load(io.BytesIO(b"".join(stream.chunks)))["t"], t)
