#!/usr/bin/env python3
"""Independent check of a PyTorch zip-format checkpoint without PyTorch.

Loads CHECKPOINT the way torch.load(path, weights_only=True) would: a pickle.Unpickler subclass
whose find_class knows only the globals torch's weights-only unpickler allows for plain weights
(collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter, torch.*Storage),
mapped to numpy stand-ins; persistent ids must be ('storage', type, key, location, numel) and read
<archive>/data/<key>. Before unpickling, every opcode is checked against the set that torch's
restricted unpickler implements, and the zip layout against what torch's reader needs.

The loaded object is then compared with MANIFEST, written by the Java side: one line per node in
depth-first order, tab-separated:
  M  path  dict|odict|list  size        container
  T  path  dtype  d0,d1,...  rawfile    tensor; rawfile (beside the manifest) holds its C-order bytes
  S  path  utf8-hex                     str
  I  path  decimal                      int
  F  path  java-hex-float               float
  B  path  True|False                   bool
  N  path                               None
Paths join dict keys and list indices with '/'. Exit 0 when everything matches bit for bit.

usage: check_weights_only.py CHECKPOINT MANIFEST
"""
import collections
import os
import pickle
import pickletools
import struct
import sys
import zipfile

import numpy as np

# Opcodes implemented by torch/_weights_only_unpickler.py (anything else makes torch refuse the file).
TORCH_OPCODES = {
    "APPEND", "APPENDS", "BINFLOAT", "BINGET", "BININT", "BININT1", "BININT2", "BINPERSID", "BINPUT",
    "BINUNICODE", "BUILD", "EMPTY_DICT", "EMPTY_LIST", "EMPTY_SET", "EMPTY_TUPLE", "GLOBAL", "LONG1",
    "LONG_BINGET", "LONG_BINPUT", "MARK", "NEWFALSE", "NEWOBJ", "NEWTRUE", "NONE", "PROTO", "REDUCE",
    "SETITEM", "SETITEMS", "SHORT_BINSTRING", "STOP", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3",
}

STORAGE_DTYPES = {
    "FloatStorage": ("float32", np.float32), "DoubleStorage": ("float64", np.float64),
    "HalfStorage": ("float16", np.float16), "BFloat16Storage": ("bfloat16", np.uint16),
    "LongStorage": ("int64", np.int64), "IntStorage": ("int32", np.int32),
    "ShortStorage": ("int16", np.int16), "CharStorage": ("int8", np.int8),
    "ByteStorage": ("uint8", np.uint8), "BoolStorage": ("bool", np.bool_),
}


class Fail(Exception):
    pass


class StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype_name, self.np_dtype = STORAGE_DTYPES[name]


class Tensor:
    def __init__(self, dtype_name, array):
        self.dtype_name = dtype_name
        self.array = array


class Storage:
    def __init__(self, stype, array):
        self.stype = stype
        self.array = array


def rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None):
    if not isinstance(storage, Storage):
        raise Fail("_rebuild_tensor_v2 without a storage")
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or any(s < 0 for s in stride) or offset < 0:
        raise Fail("bad size/stride/offset %r %r %r" % (size, stride, offset))
    numel = int(np.prod(size, dtype=np.int64)) if size else 1
    if numel > 0:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= storage.array.size:
            raise Fail("tensor view exceeds its storage")
    base = storage.array[offset:] if numel > 0 else storage.array[:0]
    item = storage.array.itemsize
    view = np.lib.stride_tricks.as_strided(base, shape=size, strides=[s * item for s in stride]) if numel > 0 \
        else np.zeros(size, dtype=storage.array.dtype)
    # np.array, not np.ascontiguousarray: the latter turns 0-d tensors into shape (1,)
    return Tensor(storage.stype.dtype_name, np.array(view, copy=True, order="C"))


def rebuild_parameter(data, requires_grad, hooks):
    return data


class WeightsOnlyUnpickler(pickle.Unpickler):
    def __init__(self, data, zf, prefix):
        super().__init__(__import__("io").BytesIO(data))
        self.zf = zf
        self.prefix = prefix
        self.storages = {}

    def find_class(self, module, name):
        full = module + "." + name
        if full == "collections.OrderedDict":
            return collections.OrderedDict
        if full == "torch._utils._rebuild_tensor_v2":
            return rebuild_tensor_v2
        if full == "torch._utils._rebuild_parameter":
            return rebuild_parameter
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        raise pickle.UnpicklingError("Unsupported global: GLOBAL %s (not allowed by weights_only)" % full)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) != 5 or pid[0] not in ("storage", b"storage"):
            raise pickle.UnpicklingError("only storage persistent ids are allowed: %r" % (pid,))
        _, stype, key, location, numel = pid
        if not isinstance(stype, StorageType):
            raise pickle.UnpicklingError("storage type is not a torch storage: %r" % (stype,))
        if key in self.storages:
            return self.storages[key]
        raw = self.zf.read("%s/data/%s" % (self.prefix, key))
        if len(raw) != numel * np.dtype(stype.np_dtype).itemsize:
            raise Fail("storage %s: %d bytes for %d elements of %s" % (key, len(raw), numel, stype.name))
        s = Storage(stype, np.frombuffer(raw, dtype=np.dtype(stype.np_dtype).newbyteorder("<")))
        self.storages[key] = s
        return s


def check_zip_layout(zf, path):
    infos = zf.infolist()
    if not infos or "/" not in infos[0].filename:
        raise Fail("first zip entry is not inside an archive folder (torch takes the prefix from it)")
    prefix = infos[0].filename.split("/", 1)[0]
    names = {i.filename for i in infos}
    for required in ("data.pkl", "version"):
        if prefix + "/" + required not in names:
            raise Fail("missing record %s/%s" % (prefix, required))
    version = zf.read(prefix + "/version").decode("ascii").strip()
    if not version.isdigit():
        raise Fail("version record is not a number: %r" % version)
    order = prefix + "/byteorder"
    if order in names and zf.read(order) != b"little":
        raise Fail("byteorder is not 'little'")
    with open(path, "rb") as f:
        for info in infos:
            if "/data/" not in info.filename:
                continue
            if info.compress_type != zipfile.ZIP_STORED:
                raise Fail("storage record %s is compressed" % info.filename)
            f.seek(info.header_offset)
            local = f.read(30)
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            if (info.header_offset + 30 + name_len + extra_len) % 64 != 0:
                raise Fail("storage record %s is not 64-byte aligned" % info.filename)
    return prefix


def load(path):
    with zipfile.ZipFile(path) as zf:
        prefix = check_zip_layout(zf, path)
        data = zf.read(prefix + "/data.pkl")
        for op, arg, pos in pickletools.genops(data):
            if op.name not in TORCH_OPCODES:
                raise Fail("opcode %s at %d is not implemented by torch's weights_only unpickler" % (op.name, pos))
            if op.name == "PROTO" and arg != 2:
                raise Fail("pickle protocol %d (torch.save uses 2)" % arg)
        return WeightsOnlyUnpickler(data, zf, prefix).load()


def describe(obj, path, out):
    if isinstance(obj, Tensor):
        out.append(("T", path, obj.dtype_name, ",".join(str(d) for d in obj.array.shape), obj))
    elif isinstance(obj, dict):
        kind = "odict" if isinstance(obj, collections.OrderedDict) else "dict"
        out.append(("M", path, kind, str(len(obj))))
        for k, v in obj.items():
            describe(v, path + "/" + str(k), out)
    elif isinstance(obj, (list, tuple)):
        out.append(("M", path, "list", str(len(obj))))
        for i, v in enumerate(obj):
            describe(v, path + "/" + str(i), out)
    elif isinstance(obj, bool):
        out.append(("B", path, str(obj)))
    elif isinstance(obj, int):
        out.append(("I", path, str(obj)))
    elif isinstance(obj, float):
        out.append(("F", path, obj))
    elif isinstance(obj, str):
        out.append(("S", path, obj.encode("utf-8").hex()))
    elif obj is None:
        out.append(("N", path))
    else:
        raise Fail("unexpected object %r at %s" % (type(obj), path))


def compare(obj, manifest):
    base = os.path.dirname(os.path.abspath(manifest))
    with open(manifest, encoding="utf-8") as f:
        expected = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    actual = []
    describe(obj, "", actual)
    if len(actual) != len(expected):
        raise Fail("%d nodes in the checkpoint, %d in the manifest" % (len(actual), len(expected)))
    tensors = 0
    for a, e in zip(actual, expected):
        if a[0] != e[0] or a[1] != e[1]:
            raise Fail("node %s %s in the checkpoint, %s %s expected" % (a[0], a[1], e[0], e[1]))
        if a[0] == "T":
            if a[2] != e[2] or a[3] != e[3]:
                raise Fail("tensor %s is %s [%s], expected %s [%s]" % (a[1], a[2], a[3], e[2], e[3]))
            ref = np.fromfile(os.path.join(base, e[4]), dtype=np.uint8)
            got = np.frombuffer(a[4].array.tobytes(), dtype=np.uint8)
            if ref.size != got.size or not np.array_equal(ref, got):
                diff = int(np.count_nonzero(ref != got)) if ref.size == got.size else -1
                raise Fail("tensor %s differs from %s (%d bytes differ)" % (a[1], e[4], diff))
            tensors += 1
        elif a[0] == "F":
            if struct.pack("<d", a[2]) != struct.pack("<d", float.fromhex(e[2])):
                raise Fail("float %s is %r, expected %s" % (a[1], a[2], e[2]))
        elif tuple(a[2:]) != tuple(e[2:]):
            raise Fail("%s differs: %r vs expected %r" % (a[1], a[2:], e[2:]))
    return tensors, len(actual)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        obj = load(argv[1])
        tensors, nodes = compare(obj, argv[2])
    except (Fail, pickle.UnpicklingError, zipfile.BadZipFile, KeyError, ValueError) as e:
        print("MISMATCH %s: %s" % (argv[1], e))
        return 1
    print("OK %s: %d nodes, %d tensors bit-identical" % (argv[1], nodes, tensors))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
