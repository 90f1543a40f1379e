"""autograd_c.save / autograd_c.load: checkpoints that never run code when read.

A save file is a zip archive with uncompressed entries:

    autograd_c_format.json   the marker: {"format": "autograd_c.save", "version": 1}
    structure.json           the saved object as a tree of typed JSON nodes
    tensors/<i>.npy          one numpy .npy file per tensor, written without pickle

torch.save pickles, so loading a file can run whatever code the file names. Here nothing is
unpickled: the structure is plain JSON that says which of a fixed set of types to rebuild, and
every .npy header is checked (dtype, shape against the entry's size) before any data is read.

What can be saved: Tensor and nn.Parameter (any autograd_c dtype, with requires_grad), dict,
OrderedDict, list, tuple, None, bool, int, float, str, autograd_c.Size, dtypes and devices --
everything module and optimizer state dicts hold. Dict keys keep their types (the int keys of an
optimizer's `state` come back as ints) and dicts keep their order.

Tensors are saved by value: a view is written as the values it shows, and tensors that shared
storage when saved load as independent tensors. The one sharing that survives is identity: a
tensor object that appears several times in the saved object is written once and loads as one
object. Every tensor loads as a leaf on the CPU, with the requires_grad it had (torch does the
same for a tensor saved from the middle of a graph); `.grad` is not saved.

load reads hostile or damaged files without trusting the sizes they declare. Every entry must be
stored, not compressed (save never compresses, and a compressed entry could expand a few
kilobytes into gigabytes), and every size is checked against the file before anything is
allocated: an entry must end inside the file, the entries read may not add up to more bytes than
the file holds (so overlapping entries and a tensor entry listed twice cannot multiply the data),
and a .npy header's shape times its itemsize must fill exactly the entry's data. The structure is
bounded, and save refuses to write what load would refuse to read:

    MAX_TENSORS           16,384 tensors in one file, and MAX_DIRECTORY_BYTES = 2 MiB of
                          zip directory (save writes at most 91 bytes per entry)
    MAX_STRUCTURE_BYTES   16 MiB of structure.json
    MAX_JSON_VALUES       2**20 JSON values (objects, arrays, keys and scalars) in it
    MAX_JSON_DEPTH        200 levels of JSON nesting; a dict takes three levels and a list or
                          tuple two, so about 65 nested dicts

A ResNet-50 state dict (320 tensors, 58 KB of structure, 6,400 JSON values, depth 5) and its
Adam state dict (483 tensors, 96 KB, 12,400 values, depth 12) stay far below these. Refused files
raise RuntimeError naming the file and saying what is wrong, as torch.load does for an archive it
cannot read.
"""
import collections
import io
import json
import math
import os
import struct
import zipfile

import numpy as np

from autograd_c import _C
from autograd_c._C import Size, Tensor, dtype as _dtype_type

__all__ = ["save", "load"]

FORMAT_NAME = "autograd_c.save"
FORMAT_VERSION = 1
MARKER_ENTRY = "autograd_c_format.json"
STRUCTURE_ENTRY = "structure.json"

_DTYPES = {d.name: d for d in (_C.bool_, _C.uint8, _C.int8, _C.int16, _C.int32, _C.int64,
                               _C.float16, _C.float32, _C.float64)}
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTOCOL_OPCODE = b"\x80"
_ZIP64_THRESHOLD = 1 << 30        # above this an entry may outgrow the 32-bit zip fields
_FLOAT_WORDS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

MAX_TENSORS = 1 << 14
MAX_DIRECTORY_BYTES = 2 << 20
MAX_STRUCTURE_BYTES = 16 << 20
MAX_JSON_VALUES = 1 << 20
MAX_JSON_DEPTH = 200
_MAX_MARKER_BYTES = 1 << 10
_MAX_ENTRIES = MAX_TENSORS + 2    # the tensors, the marker and the structure
_LOCAL_HEADER_BYTES = 30          # the fixed part of a zip entry's local header
_SCAN_CHUNK = 1 << 20
_QUOTE = ord('"')
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_BRACKET_STEP = np.zeros(256, dtype=np.int8)
_BRACKET_STEP[list(b"[{")] = 1
_BRACKET_STEP[list(b"]}")] = -1

_CUDA_UNAVAILABLE = (
    "Attempting to deserialize object on a CUDA device but autograd_c.cuda.is_available() is "
    "False. If you are running on a CPU-only machine, please use autograd_c.load with "
    "map_location=autograd_c.device('cpu') to map your storages to the CPU.")
_NOT_SEEKABLE = (". You can only autograd_c.load from a file that is seekable. Please pre-load "
                 "the data into a buffer like io.BytesIO and try to load from it instead.")


# -- saving ---------------------------------------------------------------------------------------

class _Encoder:
    """Turns a Python object into JSON nodes, collecting the tensors it meets."""

    def __init__(self):
        self.tensors = []              # (tensor, record) in entry order
        self._index_by_id = {}
        self._open_containers = set()  # ids on the current path, to refuse cycles

    def node(self, obj):
        kind = type(obj)
        if obj is None:
            return {"type": "none"}
        if kind is bool:
            return {"type": "bool", "value": obj}
        if kind is int:
            return {"type": "int", "value": obj}
        if kind is float:
            return {"type": "float", "value": _float_value(obj)}
        if kind is str:
            return {"type": "str", "value": obj}
        if isinstance(obj, Tensor):
            return {"type": "tensor", "index": self._tensor_index(obj)}
        if kind is Size:
            return {"type": "size", "items": [int(n) for n in obj]}
        if kind is _dtype_type:
            return {"type": "dtype", "name": obj.name}
        if _is_device(obj):
            return {"type": "device", "value": str(obj)}
        if kind in (list, tuple, dict, collections.OrderedDict):
            return self._container(obj)
        raise TypeError("autograd_c.save cannot save an object of type %s: supported are Tensor, "
                        "nn.Parameter, dict, OrderedDict, list, tuple, str, int, float, bool, "
                        "None, Size, dtype and device" % _type_name(obj))

    def _container(self, obj):
        if id(obj) in self._open_containers:
            raise ValueError("autograd_c.save cannot save a %s that contains itself"
                             % type(obj).__name__)
        self._open_containers.add(id(obj))
        try:
            if isinstance(obj, dict):
                items = [[self._key(k), self.node(v)] for k, v in obj.items()]
                kind = "OrderedDict" if type(obj) is collections.OrderedDict else "dict"
                return {"type": kind, "items": items}
            return {"type": type(obj).__name__, "items": [self.node(v) for v in obj]}
        finally:
            self._open_containers.discard(id(obj))

    def _key(self, key):
        if key is not None and type(key) not in (str, int, float, bool, tuple):
            raise TypeError("autograd_c.save cannot save a dict key of type %s: keys must be str, "
                            "int, float, bool, None or tuples of them" % _type_name(key))
        if type(key) is tuple:
            return {"type": "tuple", "items": [self._key(k) for k in key]}
        return self.node(key)

    def _tensor_index(self, t):
        index = self._index_by_id.get(id(t))
        if index is None:
            index = len(self.tensors)
            self._index_by_id[id(t)] = index
            record = {"entry": "tensors/%d.npy" % index, "dtype": t.dtype.name,
                      "requires_grad": bool(t.requires_grad),
                      "parameter": _is_parameter(t)}
            self.tensors.append((t, record))
        return index


def _float_value(x):
    # JSON has no NaN or infinity; they travel as words.
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _is_parameter(t):
    from autograd_c.nn.parameter import Parameter
    return isinstance(t, Parameter)


def _is_device(obj):
    from autograd_c._creation import device
    return type(obj) is device


def _type_name(obj):
    kind = type(obj)
    return kind.__name__ if kind.__module__ == "builtins" else "%s.%s" % (kind.__module__,
                                                                           kind.__qualname__)


def _array_to_write(t):
    # Values in C order, so a view saves what it shows and loads as a plain contiguous tensor.
    return np.asarray(_C._array_of(t), order="C")


def _write_archive(fileobj, structure_text, tensors):
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as archive:
        marker = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
        archive.writestr(MARKER_ENTRY, json.dumps(marker))
        archive.writestr(STRUCTURE_ENTRY, structure_text)
        for t, record in tensors:
            array = _array_to_write(t)
            big = array.nbytes > _ZIP64_THRESHOLD
            with archive.open(record["entry"], "w", force_zip64=big) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save obj (tensors in nested dicts, lists and tuples) to f, a path or a binary file object.

    The pickle arguments are accepted for torch's call shape and ignored: nothing is pickled.
    """
    encoder = _Encoder()
    # The whole object is checked before the file is touched, so a refused object leaves no file.
    root = encoder.node(obj)
    structure = {"root": root, "tensors": [record for _, record in encoder.tensors]}
    structure_text = _loadable_structure_text(structure)
    if isinstance(f, (str, os.PathLike)):
        _check_parent_exists(f)
        with open(f, "wb") as fileobj:
            _write_archive(fileobj, structure_text, encoder.tensors)
    elif hasattr(f, "write"):
        _write_archive(f, structure_text, encoder.tensors)
    else:
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'write' attribute")


def _loadable_structure_text(structure):
    """The structure as JSON bytes, refused here if load would refuse it."""
    count = len(structure["tensors"])
    if count > MAX_TENSORS:
        raise ValueError("autograd_c.save cannot save %d tensors in one file: autograd_c.load "
                         "reads at most %d" % (count, MAX_TENSORS))
    text = json.dumps(structure, allow_nan=False).encode("ascii")
    problem = _structure_size_problem(len(text)) or _json_limits_problem(text)
    if problem:
        raise ValueError("autograd_c.save cannot save this object: its structure %s" % problem)
    return text


def _check_parent_exists(path):
    parent = os.path.dirname(os.fspath(path))
    if parent and not os.path.isdir(parent):
        raise RuntimeError("Parent directory %s does not exist." % parent)


# -- loading --------------------------------------------------------------------------------------

class _BadFile(Exception):
    """What is wrong with the file; load turns it into a RuntimeError naming the file."""


class _Decoder:
    """Rebuilds the saved object from its JSON nodes, reading each tensor entry once."""

    def __init__(self, archive, records):
        self._archive = archive
        self._records = records
        self._loaded = {}

    def node(self, node):
        kind = _field(node, "type", "node")
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            return _checked_scalar(_field(node, "value", kind), kind)
        if kind == "float":
            return _float_from(_field(node, "value", kind))
        if kind == "tensor":
            return self._tensor(_field(node, "index", kind))
        if kind in ("list", "tuple"):
            items = [self.node(item) for item in _items(node, kind)]
            return items if kind == "list" else tuple(items)
        if kind in ("dict", "OrderedDict"):
            pairs = [self._pair(pair) for pair in _items(node, kind)]
            return dict(pairs) if kind == "dict" else collections.OrderedDict(pairs)
        if kind == "size":
            return Size(_checked_scalar(n, "int") for n in _items(node, kind))
        if kind == "dtype":
            return _dtype_named(_field(node, "name", kind))
        if kind == "device":
            return _device_named(_checked_scalar(_field(node, "value", kind), "str"))
        raise _BadFile("its structure names an unknown kind of object %r" % (kind,))

    def _pair(self, pair):
        if not isinstance(pair, list) or len(pair) != 2:
            raise _BadFile("its structure holds a malformed dict item")
        key = self.node(pair[0])
        try:
            hash(key)
        except TypeError:
            raise _BadFile("its structure holds a dict key of type %s" % type(key).__name__)
        return key, self.node(pair[1])

    def _tensor(self, index):
        index = _checked_scalar(index, "int")
        if not 0 <= index < len(self._records):
            raise _BadFile("its structure refers to tensor %d, which it does not list" % index)
        if index not in self._loaded:
            self._loaded[index] = _tensor_from_record(self._archive, self._records[index])
        return self._loaded[index]


def _field(node, key, what):
    if not isinstance(node, dict):
        raise _BadFile("its structure holds a malformed %s (not a JSON object)" % what)
    if key not in node:
        raise _BadFile("its structure holds a %s without its %r field" % (what, key))
    return node[key]


def _items(node, kind):
    items = _field(node, "items", kind)
    if not isinstance(items, list):
        raise _BadFile("its structure holds a %s whose items are not a list" % kind)
    return items


def _device_named(name):
    from autograd_c._creation import device
    try:
        target = device(name)
    except (RuntimeError, ValueError):
        raise _BadFile("its structure names an unknown device %r" % name) from None
    return target


def _checked_scalar(value, kind):
    expected = {"bool": bool, "int": int, "str": str}[kind]
    if type(value) is not expected:
        raise _BadFile("its structure holds a %s node whose value is not a %s" % (kind, kind))
    return value


def _float_from(value):
    if isinstance(value, str) and value in _FLOAT_WORDS:
        return _FLOAT_WORDS[value]
    if type(value) not in (int, float):
        raise _BadFile("its structure holds a float node whose value is not a number")
    return float(value)


def _dtype_named(name):
    if not isinstance(name, str) or name not in _DTYPES:
        raise _BadFile("its structure names an unknown dtype %r" % (name,))
    return _DTYPES[name]


def _tensor_from_record(archive, record):
    entry = _field(record, "entry", "tensor record")
    dt = _dtype_named(_field(record, "dtype", "tensor record"))
    requires_grad = _checked_scalar(_field(record, "requires_grad", "tensor record"), "bool")
    is_parameter = _checked_scalar(_field(record, "parameter", "tensor record"), "bool")
    if requires_grad and not dt.is_floating_point:
        raise _BadFile("it marks a %s tensor as requiring grad" % dt.name)
    array = _read_npy_entry(archive, entry, dt)
    t = _C._from_array(array)
    if is_parameter:
        from autograd_c.nn.parameter import Parameter
        return Parameter(t, requires_grad)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _read_npy_entry(archive, name, dt):
    """The array in entry `name`, checked against dtype dt before its data is read."""
    if not isinstance(name, str):
        raise _BadFile("its tensor list holds an entry name that is not a string")
    info = archive.checked_entry(name)
    with archive.zip.open(info) as entry:
        shape, fortran_order, np_dtype = _read_npy_header(entry, name)
        if np_dtype.hasobject:
            raise _BadFile("entry %r holds Python objects (a pickled numpy array); autograd_c "
                           "save files never contain pickled data, and autograd_c.load never "
                           "unpickles" % name)
        if np_dtype.newbyteorder("=") != dt.numpy_dtype:
            raise _BadFile("entry %r holds %s data but its structure says %s"
                           % (name, np_dtype, dt.name))
        if any(n < 0 for n in shape):
            raise _BadFile("entry %r has a negative dimension in its shape %s" % (name, shape))
        count = math.prod(shape)
        data_bytes = count * np_dtype.itemsize
        # checked_entry has held info.file_size to the file, so this bounds the allocation.
        if entry.tell() + data_bytes != info.file_size:
            raise _BadFile("entry %r has %d bytes of data where its header (shape %s, %s) needs "
                           "%d" % (name, info.file_size - entry.tell(), shape, np_dtype,
                                   data_bytes))
        array = np.empty(count, dtype=np_dtype)
        if data_bytes and entry.readinto(array.view(np.uint8)) != data_bytes:
            raise _BadFile("entry %r is truncated" % name)
        entry.read(1)   # reaching the end makes zipfile verify the entry's CRC
    array = array.reshape(shape, order="F" if fortran_order else "C")
    return np.asarray(array, dtype=dt.numpy_dtype, order="C")


def _entry_info(archive, name):
    try:
        return archive.getinfo(name)
    except KeyError:
        raise _BadFile("it has no entry %r" % name) from None


def _read_npy_header(entry, name):
    try:
        version = np.lib.format.read_magic(entry)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(entry)
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0(entry)
        else:
            raise ValueError("unsupported .npy version %s" % (version,))
    except (ValueError, TypeError, SyntaxError, EOFError) as e:
        raise _BadFile("entry %r is not a valid .npy array (%s: %s)"
                       % (name, type(e).__name__, e)) from None
    shape, fortran_order, np_dtype = header
    return tuple(int(n) for n in shape), fortran_order, np_dtype


def _read_json_entry(archive, name, max_bytes):
    info = archive.checked_entry(name)
    if info.file_size > max_bytes:
        raise _BadFile("entry %r %s" % (name, _size_problem(info.file_size, max_bytes)))
    data = archive.zip.read(info)
    problem = _json_limits_problem(data)
    if problem:
        raise _BadFile("entry %r %s" % (name, problem))
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as e:
        raise _BadFile("entry %r is not valid JSON (%s)" % (name, e)) from None


def _size_problem(size, max_bytes):
    return "is %d bytes; autograd_c.load reads at most %d" % (size, max_bytes)


def _structure_size_problem(size):
    return _size_problem(size, MAX_STRUCTURE_BYTES) if size > MAX_STRUCTURE_BYTES else None


def _json_limits_problem(text):
    """What puts JSON text beyond the value and depth limits, found without parsing it."""
    outside = _outside_strings(text)
    values = 1 + sum(outside.count(c) for c in b",:[{")
    if values > MAX_JSON_VALUES:
        return "holds about %d JSON values; autograd_c.load reads at most %d" % (
            values, MAX_JSON_VALUES)
    depth = _nesting_depth(outside)
    if depth > MAX_JSON_DEPTH:
        return "is nested too deeply (%d levels of JSON; autograd_c.load reads at most %d)" % (
            depth, MAX_JSON_DEPTH)
    return None


def _outside_strings(text):
    """The bytes of JSON text outside its string literals.

    Exact for valid JSON, and for invalid JSON up to where a parser stops, so it bounds what
    parsing builds. A backslash only starts an escape, so once the escaped backslashes and then
    the escaped quotes are dropped, every quote left opens or closes a string.
    """
    plain = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    pieces, inside = [], 0
    for start in range(0, len(plain), _SCAN_CHUNK):     # in chunks, to bound the scratch memory
        codes = np.frombuffer(plain, dtype=np.uint8, offset=start,
                              count=min(_SCAN_CHUNK, len(plain) - start))
        in_string = np.cumsum(codes == _QUOTE, dtype=np.uint8)
        in_string += inside
        in_string &= 1
        pieces.append(codes[in_string == 0].tobytes())
        inside = int(in_string[-1])
    return b"".join(pieces)


def _nesting_depth(outside_strings):
    brackets = np.frombuffer(outside_strings.translate(None, _NOT_BRACKETS), dtype=np.uint8)
    if not len(brackets):
        return 0
    return int(np.cumsum(_BRACKET_STEP[brackets], dtype=np.int64).max())


def _refuse_constant(word):
    raise ValueError("non-standard JSON constant %s" % word)


def _check_marker(archive):
    names = archive.zip.namelist()
    if MARKER_ENTRY not in names:
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            raise _BadFile("it looks like a file written by torch.save, which holds pickled data "
                           "(autograd_c.load never unpickles)")
        raise _BadFile("it is a zip archive without the %r marker entry" % MARKER_ENTRY)
    marker = _read_json_entry(archive, MARKER_ENTRY, _MAX_MARKER_BYTES)
    if not isinstance(marker, dict) or marker.get("format") != FORMAT_NAME:
        raise _BadFile("its marker entry does not name the %r format" % FORMAT_NAME)
    version = marker.get("version")
    if type(version) is not int or version < 1:
        raise _BadFile("its marker entry holds no valid format version")
    if version > FORMAT_VERSION:
        raise _BadFile("it was written in format version %d by a newer autograd_c; this one reads "
                       "version %d" % (version, FORMAT_VERSION))


class _Archive:
    """A zip archive being loaded, whose entries are checked against the file before each read."""

    def __init__(self, zip_archive, file_length):
        self.zip = zip_archive
        self._file_length = file_length
        # Entries read may not add up to more than the file: entries that overlap, or one entry
        # named by many tensor records, would otherwise load the same bytes many times over.
        self._bytes_left = file_length

    def checked_entry(self, name):
        info = _entry_info(self.zip, name)
        _check_stored(info)
        end = info.header_offset + _LOCAL_HEADER_BYTES + info.compress_size
        if end > self._file_length:
            raise _BadFile("entry %r declares %d bytes, which end %d bytes past the end of the "
                           "file: it is truncated or the size is forged"
                           % (name, info.file_size, end - self._file_length))
        if info.file_size > self._bytes_left:
            raise _BadFile("its entries add up to more bytes than the file holds: entries "
                           "overlap, or one entry is listed for several tensors")
        self._bytes_left -= info.file_size
        return info


def _check_stored(info):
    if info.compress_type != zipfile.ZIP_STORED:
        method = zipfile.compressor_names.get(info.compress_type,
                                              "method %d" % info.compress_type)
        raise _BadFile("entry %r is compressed (%s); autograd_c save files hold only stored, "
                       "uncompressed entries" % (info.filename, method))
    if info.file_size != info.compress_size:
        raise _BadFile("entry %r declares %d bytes of data but stores %d, while a stored entry "
                       "stores what it holds" % (info.filename, info.file_size,
                                                 info.compress_size))


class _DirectoryReadLimit:
    """The file as zipfile reads it: no read of the zip directory beyond MAX_DIRECTORY_BYTES.

    zipfile reads and parses the whole directory at the size the file declares, so without this
    a forged size would have it build hundreds of thousands of entry records first.
    """

    def __init__(self, fileobj):
        self._fileobj = fileobj
        self.reading_directory = True

    def read(self, n=-1):
        if self.reading_directory and n is not None and n > MAX_DIRECTORY_BYTES:
            raise _BadFile("its zip directory is %d bytes; autograd_c.load reads at most %d"
                           % (n, MAX_DIRECTORY_BYTES))
        return self._fileobj.read(n)

    def __getattr__(self, name):
        return getattr(self._fileobj, name)


def _open_zip(fileobj, start):
    limited = _DirectoryReadLimit(fileobj)
    try:
        zip_archive = zipfile.ZipFile(limited, "r")
    except zipfile.BadZipFile:
        raise _BadFile(_why_not_a_zip(fileobj, start)) from None
    limited.reading_directory = False
    entries = len(zip_archive.infolist())
    if entries > _MAX_ENTRIES:
        zip_archive.close()
        raise _BadFile("it has %d entries; autograd_c save files hold at most %d (%d tensors, "
                       "the marker and the structure)" % (entries, _MAX_ENTRIES, MAX_TENSORS))
    return zip_archive


def _read_archive(fileobj):
    start = fileobj.tell()
    fileobj.seek(0, io.SEEK_END)
    file_length = fileobj.tell()
    fileobj.seek(start)
    with _open_zip(fileobj, start) as zip_archive:
        archive = _Archive(zip_archive, file_length)
        _check_marker(archive)
        structure = _read_json_entry(archive, STRUCTURE_ENTRY, MAX_STRUCTURE_BYTES)
        records = _field(structure, "tensors", "structure entry")
        if not isinstance(records, list):
            raise _BadFile("its structure entry holds no list of tensors")
        return _Decoder(archive, records).node(_field(structure, "root", "structure entry"))


def _why_not_a_zip(fileobj, start):
    fileobj.seek(start)
    head = fileobj.read(4)
    if not head:
        return "it is empty"
    if _ZIP_MAGIC.startswith(head):
        return "it is truncated or corrupted (its zip directory cannot be read)"
    if head[:1] == _PICKLE_PROTOCOL_OPCODE:
        return ("it is not a zip archive; it looks like a pickle (e.g. a legacy torch.save "
                "file), which autograd_c.load never unpickles")
    return "it is not a zip archive"


def _check_map_location(map_location):
    """Tensors load on the CPU; a map_location that asks for another device is refused."""
    from autograd_c._creation import device
    if map_location is None or callable(map_location):
        return
    if isinstance(map_location, dict):
        target = map_location.get("cpu")
        if target is not None:
            _check_map_location(target)
        return
    if not isinstance(map_location, (str, device)):
        raise TypeError("'%s' object is not callable" % type(map_location).__name__)
    try:
        target = device(map_location)
    except RuntimeError:
        raise RuntimeError("don't know how to restore data location of autograd_c.Tensor "
                           "(tagged with %s)" % map_location) from None
    if target.type == "cuda":
        raise RuntimeError(_CUDA_UNAVAILABLE)
    if target.type != "cpu":
        raise RuntimeError("autograd_c cannot load tensors onto the '%s' device: only 'cpu' "
                           "exists" % target.type)


def _check_seekable(f):
    try:
        f.seek(f.tell())
    except AttributeError as e:
        raise AttributeError(str(e) + _NOT_SEEKABLE) from None
    except io.UnsupportedOperation as e:
        raise io.UnsupportedOperation(str(e) + _NOT_SEEKABLE) from None


def _describe(f):
    if isinstance(f, (str, os.PathLike)):
        return repr(os.fspath(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, (str, bytes)) else "the file"


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load what save wrote to f (a path or a seekable binary file object).

    Loading is always safe: weights_only, pickle_module and extra pickle arguments are accepted
    for torch's call shape and change nothing. map_location may be None, "cpu", a cpu device, a
    dict or a callable; asking for CUDA raises torch's error for a machine without it.
    A file that is not an autograd_c save file raises RuntimeError saying what is wrong.
    """
    _check_map_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fileobj:
            return _load_from(fileobj, f)
    if mmap:
        raise ValueError("f must be a file path in order to use the mmap argument")
    _check_seekable(f)
    return _load_from(f, f)


# What zipfile, json and numpy raise on damaged bytes (an encrypted-entry flag, a bad offset, an
# unknown compression method, ...): all of them mean the file is corrupted.
_CORRUPTION_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, TypeError,
                      ValueError, OverflowError, struct.error, NotImplementedError, RuntimeError,
                      OSError)


def _load_from(fileobj, f):
    try:
        return _read_archive(fileobj)
    except _BadFile as e:
        raise RuntimeError("%s is not a valid autograd_c save file: %s" % (_describe(f), e)) \
            from None
    except RecursionError:
        raise RuntimeError("%s is not a valid autograd_c save file: its structure is nested too "
                           "deeply" % _describe(f)) from None
    except _CORRUPTION_ERRORS as e:
        raise RuntimeError("%s is not a valid autograd_c save file: it is corrupted (%s: %s)"
                           % (_describe(f), type(e).__name__, e)) from e
