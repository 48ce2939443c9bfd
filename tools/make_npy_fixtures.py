"""Writes fixtures/npy/: numpy-made .npy and .npz files plus expected.json, for the NPY/NPZ reader tests.

Run from the repository root:
    "${EFFNET_PYTHON:-.venv/bin/python}" tools/make_npy_fixtures.py

Every file is written by numpy itself (np.save, np.savez, np.savez_compressed, np.lib.format.write_array) or by
Python's zipfile, so the reader is tested against what real tools produce. expected.json records, per file,
either the arrays it must decode to (name, dtype, shape, values, and the little-endian C-order bytes as hex) or
the error it must raise. Float values are written with float.hex, so the comparison is exact; integers and
booleans as decimal strings. Output is deterministic: zip timestamps are pinned.
"""

import io
import json
import os
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "npy"

DTYPE_NAMES = {
    "f2": "float16", "f4": "float32", "f8": "float64",
    "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
    "u1": "uint8", "b1": "bool",
}


def sample(code, shape=(2, 3)):
    """A small array of dtype `code` with the awkward values of its kind (signed zero, inf, nan, extremes)."""
    n = int(np.prod(shape))
    kind = code[0]
    if kind == "f":
        base = [0.1, -0.0, 1.0 / 3.0, -2.5, np.inf, np.nan, 65504.0, -1e-7]
    elif kind == "b":
        base = [True, False, True, True, False, False, True, False]
    elif kind == "u":
        base = [0, 1, 127, 128, 255, 42, 7, 200]
    else:
        info = np.iinfo(np.dtype(code))
        base = [info.min, info.max, -1, 0, 1, 42, info.min + 1, info.max - 1]
    values = (base * (n // len(base) + 1))[:n]
    with np.errstate(over="ignore"):
        return np.array(values, dtype=np.dtype(code)).reshape(shape)


def describe(a, name=None):
    """The expected decoding of `a`: dtype, shape, exact values and little-endian C-order bytes."""
    kind = a.dtype.kind
    code = {"f": "f", "i": "i", "u": "u", "b": "b"}[kind] + str(a.dtype.itemsize)
    flat = np.ascontiguousarray(a).reshape(-1)
    if kind == "f":
        values = [float(x).hex() for x in flat]
    else:
        values = [str(int(x)) for x in flat]
    le = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"))
    entry = {
        "dtype": DTYPE_NAMES[code],
        "shape": list(a.shape),
        "values": values,
        "hex": le.tobytes().hex(),
    }
    if name is not None:
        entry = {"name": name, **entry}
    return entry


@contextmanager
def pinned_time():
    """Pins time.time (zipfile stamps members with it) so that archives are byte-identical run to run."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    real = time.time
    time.time = lambda: 1704067200.0  # 2024-01-01 00:00:00 UTC
    try:
        yield
    finally:
        time.time = real


class Unseekable(io.RawIOBase):
    """A write-only stream without seek/tell, which makes zipfile write data descriptors (flag bit 3)."""

    def __init__(self):
        self.buffer = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.buffer += b
        return len(b)


def npy_bytes(a, version=None):
    f = io.BytesIO()
    if version is None:
        np.save(f, a, allow_pickle=True)
    else:
        np.lib.format.write_array(f, a, version=version, allow_pickle=True)
    return f.getvalue()


def checkpoint_members():
    """Arrays shaped and named like real checkpoints (timm, torchvision, Keras), in several dtypes."""
    rng = np.random.default_rng(7)
    return {
        "blocks.0.0.conv_pw.weight": rng.standard_normal((4, 3, 1, 1)).astype(np.float32),
        "bn1.running_var": rng.uniform(0.5, 2, 4).astype(np.float32),
        "bn1.num_batches_tracked": np.array(1234, dtype=np.int64),
        "features.2.0.block.0.0.weight": rng.standard_normal((2, 2, 3, 3)).astype(np.float16),
        "block2a_expand_conv/kernel": rng.standard_normal((1, 1, 3, 5)).astype(np.float64),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "mask": np.array([True, False, True]),
        "fortran": np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)),
        "bytes": np.arange(250, 256, dtype=np.uint8),
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    expected = {}

    def array_file(name, a, data):
        (OUT / name).write_bytes(data)
        expected[name] = {"array": describe(a)}

    def error_file(name, data, error, member=None):
        (OUT / name).write_bytes(data)
        expected[name] = {"error": error, **({"member": member} if member else {})}

    # Every dtype, both byte orders (1-byte types have none).
    for code in ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "b1"]:
        a = sample(code)
        if np.dtype(code).itemsize == 1:
            array_file(f"{code}.npy", a, npy_bytes(a))
        else:
            array_file(f"{code}_le.npy", a, npy_bytes(a.astype("<" + code)))
            array_file(f"{code}_be.npy", a, npy_bytes(a.astype(">" + code)))

    # Fortran order, including big-endian Fortran and a size-1 axis.
    f3 = np.asfortranarray((np.arange(24, dtype=np.float32) * 0.5 - 3).reshape(2, 3, 4))
    array_file("fortran_f4.npy", f3, npy_bytes(f3))
    f2 = np.asfortranarray(np.arange(-3, 3, dtype=">i2").reshape(2, 3))
    array_file("fortran_i2_be.npy", f2, npy_bytes(f2))
    f4 = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(2, 1, 3, 2) / 8)
    array_file("fortran_f8_4d.npy", f4, npy_bytes(f4))
    for a in (f3, f2, f4):
        assert npy_bytes(a)[:128].find(b"'fortran_order': True") > 0

    # 0-d arrays and an empty array.
    array_file("scalar_f8.npy", np.array(np.pi), npy_bytes(np.array(np.pi)))
    array_file("scalar_b1.npy", np.array(True), npy_bytes(np.array(True)))
    s = np.array(-7, dtype=">i4")
    array_file("scalar_i4_be.npy", s, npy_bytes(s))
    e = np.zeros((0, 3), dtype=np.float32)
    array_file("empty_f4.npy", e, npy_bytes(e))

    # Format versions 2.0 and 3.0 (3.0 = UTF-8 header).
    v = sample("f4", (3, 2))
    array_file("v2_f4.npy", v, npy_bytes(v, version=(2, 0)))
    array_file("v3_f4.npy", v, npy_bytes(v, version=(3, 0)))

    # Refused dtypes.
    error_file("u2.npy", npy_bytes(np.arange(3, dtype="<u2")), "unsupportedDType")
    error_file("c8.npy", npy_bytes(np.arange(3, dtype="<c8")), "unsupportedDType")
    error_file("U5.npy", npy_bytes(np.array(["ab", "cdefg"])), "unsupportedDType")
    error_file("structured.npy", npy_bytes(np.zeros(2, dtype=[("a", "<f4"), ("b", "<i2")])), "unsupportedDType")
    error_file("object.npy", npy_bytes(np.array([{"a": 1}, None], dtype=object)), "pickle")

    members = checkpoint_members()
    with pinned_time():
        # savez / savez_compressed (numpy writes every member with force_zip64=True: ZIP64 extras in local headers).
        np.savez(OUT / "savez.npz", **members)
        np.savez_compressed(OUT / "savez_compressed.npz", **members)
        for name in ("savez.npz", "savez_compressed.npz"):
            expected[name] = {"members": [describe(a, k) for k, a in members.items()]}

        # Full ZIP64 as Python writes it past 2 GiB: ZIP64 extras in the central directory and ZIP64 end records.
        limit = zipfile.ZIP64_LIMIT
        zipfile.ZIP64_LIMIT = 16
        try:
            np.savez_compressed(OUT / "zip64.npz", **members)
        finally:
            zipfile.ZIP64_LIMIT = limit
        data = (OUT / "zip64.npz").read_bytes()
        assert b"PK\x06\x06" in data and b"PK\x06\x07" in data, "expected ZIP64 end records"
        expected["zip64.npz"] = {"members": [describe(a, k) for k, a in members.items()]}

        # Data descriptors (flag bit 3): what zipfile writes to an unseekable stream.
        stream = Unseekable()
        with zipfile.ZipFile(stream, "w") as z:
            for i, (k, a) in enumerate(members.items()):
                method = zipfile.ZIP_DEFLATED if i % 2 else zipfile.ZIP_STORED
                z.writestr(zipfile.ZipInfo(k + ".npy", date_time=(2024, 1, 1, 0, 0, 0)), npy_bytes(a),
                           compress_type=method)
        (OUT / "descriptor.npz").write_bytes(bytes(stream.buffer))
        assert zipfile.ZipFile(OUT / "descriptor.npz").infolist()[0].flag_bits & 0x08
        expected["descriptor.npz"] = {"members": [describe(a, k) for k, a in members.items()]}

        # An object array inside an archive: refused, never unpickled.
        np.savez(OUT / "object.npz", ok=np.arange(3), obj=np.array([{"a": 1}, None], dtype=object))
        expected["object.npz"] = {"error": "pickle", "member": "obj.npy"}

        # A member compressed with bzip2.
        with zipfile.ZipFile(OUT / "bzip2.npz", "w", compression=zipfile.ZIP_BZIP2) as z:
            z.writestr(zipfile.ZipInfo("w.npy", date_time=(2024, 1, 1, 0, 0, 0)), npy_bytes(np.arange(4.0)),
                       compress_type=zipfile.ZIP_BZIP2)
        expected["bzip2.npz"] = {"error": "unsupportedCompression", "member": "w.npy"}

    good = (OUT / "savez.npz").read_bytes()
    error_file("truncated.npz", good[: len(good) * 2 // 3], "truncated")

    # One flipped byte in the last data byte of a stored member: the structure is intact, the CRC is not.
    info = zipfile.ZipFile(io.BytesIO(good)).getinfo("bn1.running_var.npy")
    name_len, extra_len = np.frombuffer(good[info.header_offset + 26: info.header_offset + 30], "<u2")
    data_end = info.header_offset + 30 + int(name_len) + int(extra_len) + info.compress_size
    corrupt = bytearray(good)
    corrupt[data_end - 1] ^= 0x40
    error_file("bad_crc.npz", bytes(corrupt), "badCRC", member="bn1.running_var.npy")

    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total} bytes, to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
