"""autograd_c.load against hostile files: compression bombs, forged sizes, huge structures.

Each file here is refused with a RuntimeError naming it, quickly and in little memory. Files an
unguarded loader would answer with a multi-gigabyte allocation are loaded in a child process
whose address space is capped, so such a loader fails with MemoryError instead of taking the RAM.
"""
import io
import json
import os
import pathlib
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

import autograd_c as ag
from autograd_c import serialization

save, load = serialization.save, serialization.load
NOT_OURS = "is not a valid autograd_c save file"
MiB = 1 << 20

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="caps the child's address space through /proc and rlimit")


def _saved_bytes(obj):
    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()


def _entries(obj):
    with zipfile.ZipFile(io.BytesIO(_saved_bytes(obj))) as z:
        return {name: z.read(name) for name in z.namelist()}


def _write_archive(path, entries, compression=None):
    """entries maps names to bytes; compression maps some names to a zipfile method."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data, compress_type=(compression or {}).get(name,
                                                                          zipfile.ZIP_STORED))
    return path


def _npy_header(shape, descr="<f4"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


def _directory_offset(data):
    # The end-of-directory record (no comment) ends the file; its last field but one is the offset.
    return struct.unpack_from("<I", data, len(data) - 6)[0]


def _forge_sizes(path, name, file_size=None, compress_size=None):
    """Make entry `name` declare other sizes, in its local header and in the directory."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        local = z.getinfo(name).header_offset
    for field, value in ((18, compress_size), (22, file_size)):
        if value is not None:
            struct.pack_into("<I", data, local + field, value)
    position = _directory_offset(data)
    while data[position:position + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<3H", data, position + 28)
        if data[position + 46:position + 46 + name_len].decode() == name:
            for field, value in ((20, compress_size), (24, file_size)):
                if value is not None:
                    struct.pack_into("<I", data, position + field, value)
        position += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))
    return path


def _assert_names_the_file(message, path):
    assert message.startswith("%r %s: " % (str(path), NOT_OURS)), message


def _refusal(path, max_peak=4 * MiB, max_seconds=5.0):
    """The message load(path) refuses with, checking it came fast and in little memory."""
    start = time.perf_counter()
    with pytest.raises(RuntimeError) as info:
        load(path)
    seconds = time.perf_counter() - start      # timed apart: tracing slows allocation down
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError):
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    _assert_names_the_file(message, path)
    assert seconds < max_seconds, (seconds, message)
    assert peak < max_peak, (peak, message)
    return message


_CHILD = r"""
import json, resource, sys, time, tracemalloc
import autograd_c

path, headroom = sys.argv[1], int(sys.argv[2])
mapped = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (mapped + headroom, mapped + headroom))
tracemalloc.start()
start = time.perf_counter()
try:
    autograd_c.load(path)
    error, message = None, ""
except BaseException as e:
    error, message = type(e).__name__, str(e)
print(json.dumps({"error": error, "message": message, "seconds": time.perf_counter() - start,
                  "peak": tracemalloc.get_traced_memory()[1]}))
"""


def _refusal_in_capped_child(path, headroom=256 * MiB):
    """load(path) in a child that may map only `headroom` more bytes; the refusal's message."""
    package_parent = str(pathlib.Path(ag.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([package_parent] + [p for p in
                                                            env.get("PYTHONPATH", "").split(
                                                                os.pathsep) if p])
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(headroom)],
                          capture_output=True, text=True, timeout=120, cwd=path.parent, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout)
    assert outcome["error"] == "RuntimeError", outcome
    _assert_names_the_file(outcome["message"], path)
    assert outcome["seconds"] < 5.0, outcome
    assert outcome["peak"] < 4 * MiB, outcome
    return outcome["message"]


# -- compressed entries -----------------------------------------------------------------------

@pytest.mark.parametrize("method, word", [(zipfile.ZIP_DEFLATED, "deflate"),
                                          (zipfile.ZIP_BZIP2, "bzip2"),
                                          (zipfile.ZIP_LZMA, "lzma")])
@pytest.mark.parametrize("entry", ["autograd_c_format.json", "structure.json", "tensors/0.npy"])
def test_compressed_entries_are_refused_naming_the_file(tmp_path, method, word, entry):
    path = _write_archive(tmp_path / "compressed.pt", _entries({"w": ag.randn(3, 4)}),
                          {entry: method})
    message = _refusal(path)
    assert "entry %r is compressed (%s)" % (entry, word) in message


@linux_only
def test_bzip2_bomb_tensor_entry_is_refused_before_anything_is_allocated(tmp_path):
    # A 2 GiB float32 array declared by a few hundred bzip2 bytes: a loader that trusts the
    # declared size allocates the 2 GiB before it decompresses a byte of data.
    header = _npy_header((1 << 29,))
    entries = _entries(ag.zeros(4))
    entries["tensors/0.npy"] = header + bytes(1 << 16)
    path = _write_archive(tmp_path / "bomb.pt", entries, {"tensors/0.npy": zipfile.ZIP_BZIP2})
    _forge_sizes(path, "tensors/0.npy", file_size=len(header) + (2 << 30))
    assert path.stat().st_size < 4096
    assert "entry 'tensors/0.npy' is compressed (bzip2)" in _refusal_in_capped_child(path)


@linux_only
def test_deflate_bomb_structure_entry_is_refused_before_it_is_inflated(tmp_path):
    # 32 MiB of JSON whitespace deflates to about 32 KB; the child may map only 32 MiB more.
    entries = _entries({"w": ag.ones(2)})
    entries["structure.json"] = entries["structure.json"] + b" " * (32 * MiB)
    path = _write_archive(tmp_path / "bomb.pt", entries,
                          {"structure.json": zipfile.ZIP_DEFLATED})
    assert path.stat().st_size < 64 * 1024
    message = _refusal_in_capped_child(path, headroom=32 * MiB)
    assert "entry 'structure.json' is compressed (deflate)" in message


# -- sizes checked against the file -----------------------------------------------------------

@linux_only
def test_stored_entry_declaring_a_huge_npy_array_is_refused_against_the_file_length(tmp_path):
    # The .npy header and the entry's declared sizes agree on 2 GiB; the file holds 2 KiB.
    header = _npy_header((1 << 29,))
    entries = _entries(ag.zeros(4))
    entries["tensors/0.npy"] = header + bytes(2048)
    path = _write_archive(tmp_path / "forged.pt", entries)
    declared = len(header) + (2 << 30)
    _forge_sizes(path, "tensors/0.npy", file_size=declared, compress_size=declared)
    message = _refusal_in_capped_child(path)
    assert "entry 'tensors/0.npy' declares %d bytes" % declared in message
    assert "past the end of the file" in message


@linux_only
def test_entry_whose_two_declared_sizes_differ_is_refused(tmp_path):
    header = _npy_header((1 << 29,))
    entries = _entries(ag.zeros(4))
    entries["tensors/0.npy"] = header + bytes(2048)
    path = _write_archive(tmp_path / "forged.pt", entries)
    _forge_sizes(path, "tensors/0.npy", file_size=len(header) + (2 << 30))
    message = _refusal_in_capped_child(path)
    assert "entry 'tensors/0.npy' declares %d bytes of data but stores %d" % (
        len(header) + (2 << 30), len(header) + 2048) in message


def test_truncated_tensor_data_is_refused_before_the_array_is_allocated(tmp_path):
    # 16 MiB of float32 cut down to 1 KiB, with the zip directory kept after the cut.
    data = _saved_bytes({"w": ag.zeros(4 * MiB)})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("tensors/0.npy")
    directory = _directory_offset(data)
    assert info.header_offset + info.compress_size < directory   # the tensor is the last entry
    cut = info.header_offset + 1024
    truncated = bytearray(data[:cut] + data[directory:])
    struct.pack_into("<I", truncated, len(truncated) - 6, cut)
    path = tmp_path / "truncated.pt"
    path.write_bytes(bytes(truncated))
    message = _refusal(path)
    assert "entry 'tensors/0.npy' declares" in message and "truncated" in message


def test_one_entry_listed_for_many_tensors_cannot_multiply_the_data(tmp_path):
    # 64 tensor records naming one 256 KiB entry would load 16 MiB from a 256 KiB file.
    entries = _entries([ag.zeros(64 * 1024)])
    structure = json.loads(entries["structure.json"])
    structure["tensors"] = structure["tensors"] * 64
    structure["root"]["items"] = [{"type": "tensor", "index": i} for i in range(64)]
    entries["structure.json"] = json.dumps(structure).encode()
    path = _write_archive(tmp_path / "repeated.pt", entries)
    message = _refusal(path, max_peak=2 * MiB)
    assert "add up to more bytes than the file holds" in message


# -- bounded structure ------------------------------------------------------------------------

def test_structure_entry_over_the_size_limit_is_refused_unread(tmp_path):
    entries = _entries({"w": ag.ones(2)})
    padding = serialization.MAX_STRUCTURE_BYTES + 1 - len(entries["structure.json"])
    entries["structure.json"] += b" " * padding
    path = _write_archive(tmp_path / "big.pt", entries)
    message = _refusal(path)
    assert "entry 'structure.json' is %d bytes; autograd_c.load reads at most %d" % (
        serialization.MAX_STRUCTURE_BYTES + 1, serialization.MAX_STRUCTURE_BYTES) in message


def test_too_many_json_values_are_refused_before_parsing(tmp_path):
    # About a million empty JSON objects in 3 MiB would parse into some 70 MiB of dicts.
    count = serialization.MAX_JSON_VALUES + 1
    root = b'{"type": "list", "items": [' + b"{}," * (count - 1) + b"{}]}"
    entries = _entries(1)
    entries["structure.json"] = b'{"tensors": [], "root": ' + root + b"}"
    path = _write_archive(tmp_path / "values.pt", entries)
    message = _refusal(path, max_peak=16 * MiB)
    assert "entry 'structure.json' holds about" in message
    assert "at most %d" % serialization.MAX_JSON_VALUES in message


def _nested_lists_structure(depth):
    return ('{"tensors": [], "root": ' + '{"type": "list", "items": [' * depth
            + '{"type": "none"}' + ']}' * depth + '}').encode()


def test_nesting_beyond_the_depth_limit_is_refused(tmp_path):
    # 150 nested lists: well within Python's recursion limit, beyond the documented depth.
    entries = _entries(1)
    entries["structure.json"] = _nested_lists_structure(150)
    path = _write_archive(tmp_path / "deep.pt", entries)
    message = _refusal(path)
    assert ("entry 'structure.json' is nested too deeply (302 levels of JSON; autograd_c.load "
            "reads at most %d)" % serialization.MAX_JSON_DEPTH) in message


@linux_only
def test_deep_nesting_is_refused_even_with_a_raised_recursion_limit(tmp_path):
    # With the recursion limit raised, parsing 200,000 levels would overflow the C stack.
    entries = _entries(1)
    entries["structure.json"] = _nested_lists_structure(200_000)
    path = _write_archive(tmp_path / "deep.pt", entries)
    script = ("import sys; sys.setrecursionlimit(10 ** 6); import autograd_c\n"
              "try:\n    autograd_c.load(sys.argv[1])\n"
              "except RuntimeError as e:\n    print(e)\n")
    package_parent = str(pathlib.Path(ag.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=package_parent)
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env=env)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    _assert_names_the_file(done.stdout, path)
    assert "nested too deeply" in done.stdout


def test_brackets_and_escaped_quotes_inside_strings_do_not_count_as_nesting():
    keys = ['[' * 500, '"{' * 300 + '\\', 'a\\"]' * 200, '\\\\"' * 100 + '{{{{']
    obj = {key: [{key: ag.ones(1)}] for key in keys}
    loaded = load(io.BytesIO(_saved_bytes(obj)))
    assert list(loaded) == keys and all(list(loaded[k][0]) == [k] for k in keys)


def test_too_many_entries_are_refused(tmp_path):
    entries = _entries(1)
    path = tmp_path / "entries.pt"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
        for i in range(serialization.MAX_TENSORS + 1):
            z.writestr("x/%d" % i, b"")
    # zipfile parses the whole directory before the entries can be counted: a few tenths of a
    # second for this one, and MAX_DIRECTORY_BYTES caps that work whatever count a file declares.
    message = _refusal(path, max_peak=32 * MiB, max_seconds=5.0)
    assert "it has %d entries; autograd_c save files hold at most %d (%d tensors," % (
        serialization.MAX_TENSORS + 3, serialization.MAX_TENSORS + 2,
        serialization.MAX_TENSORS) in message


def test_zip_directory_over_its_limit_is_refused_before_it_is_parsed(tmp_path):
    entries = _entries(1)
    long_names = serialization.MAX_DIRECTORY_BYTES // 60_000 + 1     # each under 64 KiB
    for i in range(long_names):
        entries["%05d" % i + "n" * 60_000] = b""
    path = _write_archive(tmp_path / "directory.pt", entries)
    message = _refusal(path)
    assert "its zip directory is" in message
    assert "autograd_c.load reads at most %d" % serialization.MAX_DIRECTORY_BYTES in message


# -- save refuses what load would refuse ------------------------------------------------------

def test_save_refuses_an_object_nested_beyond_the_depth_limit(tmp_path):
    # The root object, two levels per list and the innermost None: 99 lists nest 200 deep.
    obj = None
    for _ in range(100):
        obj = [obj]
    path = tmp_path / "deep.pt"
    with pytest.raises(ValueError, match=r"autograd_c.save cannot save this object: its structure "
                                         r"is nested too deeply \(202 levels"):
        save(obj, path)
    assert not path.exists()
    assert load(io.BytesIO(_saved_bytes(obj[0]))) == obj[0]


def test_save_refuses_more_tensors_than_load_reads(tmp_path):
    path = tmp_path / "many.pt"
    tensors = [ag.zeros(0) for _ in range(serialization.MAX_TENSORS + 1)]
    with pytest.raises(ValueError, match="cannot save %d tensors in one file: autograd_c.load "
                                         "reads at most %d" % (serialization.MAX_TENSORS + 1,
                                                               serialization.MAX_TENSORS)):
        save(tensors, path)
    assert not path.exists()


def test_real_state_dicts_stay_far_below_the_limits():
    model = ag.models.resnet50()
    optimizer = ag.optim.Adam(model.parameters())
    for p in model.parameters():
        p.grad = ag.ones_like(p)
    optimizer.step()
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
    data = _saved_bytes(checkpoint)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        structure = z.read("structure.json")
        entries = len(z.infolist())
    outside = serialization._outside_strings(structure)
    values = 1 + sum(outside.count(c) for c in b",:[{")
    assert entries * 20 < serialization.MAX_TENSORS
    assert len(structure) * 50 < serialization.MAX_STRUCTURE_BYTES
    assert values * 50 < serialization.MAX_JSON_VALUES
    assert serialization._nesting_depth(outside) * 10 < serialization.MAX_JSON_DEPTH
    loaded = load(io.BytesIO(data))
    assert list(loaded["model"]) == list(checkpoint["model"])
    assert loaded["optimizer"]["param_groups"] == checkpoint["optimizer"]["param_groups"]
