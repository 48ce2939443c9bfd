"""Byte-for-byte reproducible `.npz` writing.

`numpy.savez` stamps each archive member with the current time, so two runs never produce the same file.
This writer follows numpy's own path (`zipfile` member opened with `force_zip64=True`, `.npy` v1/v2 header from
`numpy.lib.format`) but with a fixed 1980-01-01 timestamp; `numpy.load` reads the result like any savez output.
"""

import zipfile

import numpy as np

_EPOCH = (1980, 1, 1, 0, 0, 0)


def write_npz(path, arrays, compressed=False):
    """Write `arrays` (an ordered mapping name → array) to `path`; member order is the mapping's order."""
    compression = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, value in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=_EPOCH)
            info.compress_type = compression
            info.external_attr = 0o600 << 16
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
