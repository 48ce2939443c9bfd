#!/usr/bin/env python3
"""Writes fixtures/hdf5/: small Keras-shaped HDF5 files in the variants of the HDF5 format that h5py can
write, for effnet's own HDF5 reader (Sources/Formats/HDF5) and its tests (Tests/FormatsTests/HDF5ReaderTests.swift).

Each file holds the legacy Keras layout (root attributes `layer_names`, `backend`, `keras_version`; one group per
layer with a `weight_names` attribute and its datasets), or the Keras 3 layout (`/layers/<name>/vars/0..n`), with
the same two layers and values, so every variant must read to the same tensors:

- `v0.h5`: h5py's defaults (superblock 0, version 1 object headers, symbol-table groups, variable-length strings;
  superblock 1, which h5py cannot write, differs only by 4 bytes and is built by the Swift tests);
- `v2.h5`, `v3.h5`: `libver` v108 and latest (superblock 2 and 3, version 2 object headers, link messages);
- `userblock.h5`: a 512-byte user block before the superblock;
- `fixed_strings.h5`: fixed-length (TF-Keras 2) name attributes;
- `dtypes.h5`: float16, float64 and big-endian float32 datasets, and a compact-layout one;
- `continuation_v1.h5`, `continuation_v2.h5`: attributes added after the file grew, so that the root's object header
  continues in a continuation block (version 1 and version 2 headers);
- `keras3_latest.weights.h5`: the Keras 3 layout with libver latest;
- refused, with a clear message: `chunked.h5` (a chunked, gzip-compressed dataset) and `dense_links.h5` (libver
  latest with 12 layers: the root's links move to a fractal heap).

Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/make_hdf5_fixtures.py
"""

import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "hdf5")

KERNEL = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4) / 8 - 1
BIAS = np.array([0.5, -0.25, 0.125, 1e-3], dtype=np.float32)
GAMMA = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)


def legacy(f, fixed=False, dtypes=None, layers=None, compact=False, chunked=False):
    """The legacy Keras layout; `dtypes` maps a weight to the numpy dtype it is stored as."""
    layers = layers or {"conv": {"kernel:0": KERNEL, "bias:0": BIAS}, "bn": {"gamma:0": GAMMA}}
    dtypes = dtypes or {}
    text = (lambda names: np.array([n.encode() for n in names])) if fixed else (lambda names: names)
    f.attrs["layer_names"] = text(list(layers))
    f.attrs["backend"] = "tensorflow" if not fixed else np.bytes_(b"tensorflow")
    f.attrs["keras_version"] = "2.15.0" if not fixed else np.bytes_(b"2.15.0")
    for layer, weights in layers.items():
        g = f.create_group(layer)
        g.attrs["weight_names"] = text([f"{layer}/{w}" for w in weights])
        for w, value in weights.items():
            name = f"{layer}/{w}"
            if compact and w == "bias:0":
                space = h5py.h5s.create_simple(value.shape)
                dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
                dcpl.set_layout(h5py.h5d.COMPACT)
                dcpl.set_obj_track_times(False)  # deterministic bytes, as h5py's own datasets
                d = h5py.h5d.create(g.require_group(layer).id, w.encode(), h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
                d.write(h5py.h5s.ALL, h5py.h5s.ALL, value)
            elif chunked and w == "kernel:0":
                g.create_dataset(name, data=value, chunks=(1, 3, 4), compression="gzip")
            else:
                # Keras names a weight by its full path ("conv/kernel:0"), so it sits in a subgroup of the layer's.
                g.create_dataset(name, data=value.astype(dtypes.get(name, np.float32)))


def main():
    os.makedirs(OUT, exist_ok=True)
    path = lambda name: os.path.join(OUT, name)  # noqa: E731
    with h5py.File(path("v0.h5"), "w") as f:
        legacy(f)
    with h5py.File(path("v2.h5"), "w", libver=("v108", "v108")) as f:
        legacy(f)
    with h5py.File(path("v3.h5"), "w", libver="latest") as f:
        legacy(f)
    with h5py.File(path("userblock.h5"), "w", userblock_size=512) as f:
        legacy(f)
    with h5py.File(path("fixed_strings.h5"), "w") as f:
        legacy(f, fixed=True)
    with h5py.File(path("dtypes.h5"), "w") as f:
        legacy(f, dtypes={"conv/kernel:0": np.float16, "bn/gamma:0": ">f4"}, compact=True)
        # float64 for a third layer, listed last
        f.attrs["layer_names"] = ["conv", "bn", "dense"]
        g = f.create_group("dense")
        g.attrs["weight_names"] = ["dense/kernel:0"]
        g.create_dataset("dense/kernel:0", data=KERNEL.reshape(6, 4).astype(np.float64))
    for name, libver in [("continuation_v1.h5", "earliest"), ("continuation_v2.h5", "latest")]:
        with h5py.File(path(name), "w", libver=libver) as f:
            legacy(f)
            for k in range(4):  # 7 attributes in all: past 8, libver latest moves them to a fractal heap
                f.attrs[f"note{k}"] = "x" * 1000
    with h5py.File(path("keras3_latest.weights.h5"), "w", libver="latest") as f:
        for auto, values in [("conv2d", [KERNEL, BIAS]), ("batch_normalization", [GAMMA, BIAS, BIAS, GAMMA])]:
            v = f.create_group(f"layers/{auto}/vars")
            for i, value in enumerate(values):
                v.create_dataset(str(i), data=value)
    with h5py.File(path("chunked.h5"), "w") as f:
        legacy(f, chunked=True)
    with h5py.File(path("dense_links.h5"), "w", libver="latest") as f:
        legacy(f, layers={f"layer{i}": {"bias:0": BIAS} for i in range(12)})


if __name__ == "__main__":
    main()
