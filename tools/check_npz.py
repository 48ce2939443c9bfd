"""Checks that numpy and Python's zipfile read an .npz archive as expected (the NPZ writer's cross-check).

    "${EFFNET_PYTHON:-.venv/bin/python}" tools/check_npz.py ARCHIVE.npz EXPECTED.json

EXPECTED.json: {"members": [{"name", "dtype", "shape", "hex"}, ...]} in archive order, with "hex" the
little-endian C-order element bytes (the same layout as fixtures/npy/expected.json). The archive passes when
zipfile.testzip() finds every CRC-32 correct and np.load(allow_pickle=False) gives exactly those names, in that
order, with those dtypes, shapes and bytes. Prints one line per problem; exit status 0 when it passes, 1 when not.
With --describe, prints what np.load sees instead (handy when a check fails).
"""

import json
import sys
import zipfile

import numpy as np


def le_bytes(a):
    return np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()


def main(argv):
    if len(argv) >= 2 and argv[0] == "--describe":
        with np.load(argv[1], allow_pickle=False) as z:
            for k in z.files:
                a = z[k]
                print(f"{k!r}: {a.dtype.str} {a.shape} {le_bytes(a).hex()[:64]}")
        return 0
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    archive, expected_path = argv
    with open(expected_path) as f:
        expected = json.load(f)["members"]

    problems = []
    try:
        check(archive, expected, problems)
    except Exception as e:  # a reader failure is a finding, reported on one line like the others
        problems.append(f"{type(e).__name__}: {e}")
    for p in problems:
        print(f"{archive}: {p}")
    if not problems:
        print(f"{archive}: ok, {len(expected)} arrays")
    return 1 if problems else 0


def check(archive, expected, problems):
    with zipfile.ZipFile(archive) as z:
        bad = z.testzip()
        if bad is not None:
            problems.append(f"zipfile: bad CRC in member {bad!r}")
    with np.load(archive, allow_pickle=False) as z:
        names = list(z.files)
        want = [m["name"] for m in expected]
        if names != want:
            problems.append(f"names {names!r}, expected {want!r}")
        for m in expected:
            if m["name"] not in names:
                continue
            a = z[m["name"]]
            if a.dtype.name != m["dtype"]:
                problems.append(f"{m['name']!r}: dtype {a.dtype.name}, expected {m['dtype']}")
            if list(a.shape) != m["shape"]:
                problems.append(f"{m['name']!r}: shape {list(a.shape)}, expected {m['shape']}")
            if le_bytes(a).hex() != m["hex"]:
                problems.append(f"{m['name']!r}: element bytes differ")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
