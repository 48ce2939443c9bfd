#!/usr/bin/env python3
"""Writes fixtures/hostile/: small files that once crashed, hung or exhausted memory in effnet.

Each file is a few bytes to about a megabyte and stands for a much larger (or impossible) computation: a graph
input of 2^20 x 2^20 pixels, a ConstantOfShape of 2^36 elements, Conv pads of 2^63 - 1, a 1 MB .npz that inflates
to 1 GiB, a PNG of 1 x 1,000,000 pixels. Tests/CLITests/HostileInputTests.swift runs the built binary on each and
expects one line naming the file, exit 2 (or, for the inputs effnet must simply handle, exit 0), in bounded memory.
fixtures/hostile/manifest.json says what each file is.

Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/make_hostile_fixtures.py [--out DIR]
Deterministic: rerunning reproduces the same bytes.
"""

import argparse
import json
import os
import shutil
import struct
import zipfile
import zlib

import numpy as np
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRODUCER = "effnet-hostile-fixtures"


def _model(nodes, inputs, outputs, initializers=(), opset=17, name="hostile"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    opsets = [] if opset is None else [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, producer_name=PRODUCER, opset_imports=opsets)
    if opset is None:
        del model.opset_import[:]
    return model


def _image(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def reshape_opset1():
    """Reshape as opset 1 wrote it: the shape is an attribute and there is no second input."""
    node = helper.make_node("Reshape", ["input"], ["output"], name="reshape_0", shape=[1, 48])
    return _model([node], [_image("input", [1, 3, 4, 4])], [_image("output", [1, 48])], opset=1)


def conv_pads_overflow():
    """Conv whose pads are 2^63 - 1: H + pads wraps around in unchecked 64-bit arithmetic."""
    big = (1 << 63) - 1
    w = numpy_helper.from_array(np.full((4, 3, 3, 3), 0.1, np.float32), "conv.weight")
    node = helper.make_node("Conv", ["input", "conv.weight"], ["output"], name="conv_0", pads=[big] * 4)
    return _model([node], [_image("input", [1, 3, 8, 8])], [_image("output", None)], [w])


def conv_zero_strides():
    """Conv with strides [0, 0]: found by shape inference, after the file has parsed."""
    w = numpy_helper.from_array(np.full((4, 3, 3, 3), 0.1, np.float32), "conv.weight")
    node = helper.make_node("Conv", ["input", "conv.weight"], ["output"], name="c", strides=[0, 0])
    return _model([node], [_image("input", [1, 3, 8, 8])], [_image("output", None)], [w])


def huge_input(side):
    """Relu on an input of 1 x 3 x side x side floats (2^20: 12 TiB; 2^40: the element count overflows Int64)."""
    node = helper.make_node("Relu", ["input"], ["output"], name="relu_0")
    return _model([node], [_image("input", [1, 3, side, side])], [_image("output", [1, 3, side, side])])


def constant_of_shape_huge():
    """ConstantOfShape([2^36]): 256 GiB of float zeros from a 16-byte shape tensor."""
    shape = numpy_helper.from_array(np.array([1 << 36], np.int64), "shape")
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["zeros"], name="cos_0"),
        helper.make_node("Identity", ["zeros"], ["output"], name="id_0"),
    ]
    return _model(nodes, [], [_image("output", None)], [shape])


def pad_huge():
    """A constant Pad of a 1-element initializer to 2^34 + 1 elements (64 GiB), added to the input."""
    one = numpy_helper.from_array(np.ones(1, np.float32), "one")
    pads = numpy_helper.from_array(np.array([0, 1 << 34], np.int64), "pads")
    nodes = [
        helper.make_node("Pad", ["one", "pads"], ["padded"], name="pad_0"),
        helper.make_node("Add", ["input", "padded"], ["output"], name="add_0"),
    ]
    return _model(nodes, [_image("input", [1])], [_image("output", None)], [one, pads])


def no_opset():
    """A ReduceMean model with no opset_import at all."""
    node = helper.make_node("ReduceMean", ["input"], ["output"], name="mean_0", axes=[2, 3])
    return _model([node], [_image("input", [1, 3, 4, 4])], [_image("output", None)], opset=None)


def no_outputs():
    """A graph that computes a Relu and declares no outputs."""
    node = helper.make_node("Relu", ["input"], ["hidden"], name="relu_0")
    return _model([node], [_image("input", [1, 3, 4, 4])], [])


def bfloat16_round(values):
    """float32 values rounded to the nearest bfloat16 (ties to even), as float32: what a bfloat16 tensor holds."""
    bits = np.asarray(values, np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def bfloat16_add(path_npz):
    """x + w in bfloat16, and a reference .npz with the bfloat16-rounded sums (ONNX: Add's output is bfloat16).

    The sums are picked so that float32 and bfloat16 results differ: 1 + 2^-8 is a tie (to even: 1), 1 + 3·2^-9
    rounds up, 256 + 1 is a tie (to even: 256), 3 + 2^-6 is exact.
    """
    x = np.array([1, 1, 256, 3, -1.5, 0.1, 1000, 7], np.float32)
    w = np.array([2**-8, 3 * 2**-9, 1, 2**-6, -2**-9, 0.2, 3, 2**-5], np.float32)
    x, w = bfloat16_round(x), bfloat16_round(w)
    y = bfloat16_round(x + w)
    assert (y != x + w).sum() >= 4
    w_t = helper.make_tensor("w", TensorProto.BFLOAT16, [8], (w.view(np.uint32) >> 16).astype(np.uint16).tobytes(), raw=True)
    node = helper.make_node("Add", ["x", "w"], ["y"], name="add_0")
    bf16 = lambda name: helper.make_tensor_value_info(name, TensorProto.BFLOAT16, [8])
    with zipfile.ZipFile(path_npz, "w") as zf:  # np.savez, with fixed timestamps
        for name, array in (("x", x), ("y", y)):
            with zf.open(zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0)), "w") as member:
                np.lib.format.write_array(member, array)
    return _model([node], [bf16("x")], [bf16("y")], [w_t])


def zero_bomb_npz(path, gib=1):
    """np.savez_compressed-style archive: one float32 member of `gib` GiB zeros (about 1 MB deflated, 1030:1)."""
    n = gib * (1 << 30) // 4
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % n
    header += b" " * (64 - (10 + len(header) + 1) % 64) + b"\n"
    npy_head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header
    info = zipfile.ZipInfo("conv_stem.weight.npy", date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    chunk = bytes(1 << 24)
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open(info, "w", force_zip64=True) as member:
            member.write(npy_head)
            for _ in range(n * 4 // len(chunk)):
                member.write(chunk)


def png(path, width, height):
    """A gray 8-bit PNG written by hand (PIL refuses to write rows this long quickly); rows of zeros."""
    raw = (b"\x00" + bytes(width)) * height
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def png_huge_text_chunk(path):
    """A 2x2 gray PNG whose iTXt chunk declares 1,717,924,432 bytes and holds 64 (the file ends there): libpng
    allocated and cleared the declared length before reading (found by the png fuzz target, 1.7 GB peak RSS)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)
    itxt = struct.pack(">I", 1_717_924_432) + b"iTXt" + b"Comment\0\0\0\0\0" + b"x" * 51
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + itxt)


def jpeg_hidden_size(path):
    """An 8x8 gray JPEG whose frame header says 65435x2187 (143 Mpixels) and comes after 8 stray bytes: libjpeg skips
    them ("extraneous bytes before marker") and decodes, but run's header scan gave up there, so --max-pixels was
    never applied (found by the jpeg fuzz target: 371 bytes, 456 MB peak RSS, 8 s)."""
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.new("L", (8, 8), 128).save(buf, format="JPEG", quality=90)
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 2187, 65435)
    with open(path, "wb") as f:
        f.write(bytes(data[:sof]) + b"\x00" * 8 + bytes(data[sof:]))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(ROOT, "fixtures", "hostile"))
    args = p.parse_args()
    out = args.out
    # fuzz/ holds inputs the fuzzers found (tools/fuzz.sh replays them); they are kept as found, not remade here.
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if name != "fuzz":
            path = os.path.join(out, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    manifest = {}

    def save(name, model, what):
        with open(os.path.join(out, name), "wb") as f:
            f.write(model.SerializeToString())  # no onnx.checker: several are invalid on purpose
        manifest[name] = dict(what=what, bytes=os.path.getsize(os.path.join(out, name)))

    save("reshape_opset1.onnx", reshape_opset1(), "opset-1 Reshape (shape attribute, one input): must run")
    save("conv_pads_overflow.onnx", conv_pads_overflow(), "Conv pads 2^63-1: output size overflows")
    save("conv_zero_strides.onnx", conv_zero_strides(), "Conv strides [0, 0]: error found after parsing")
    save("huge_input.onnx", huge_input(1 << 20), "input 1x3x2^20x2^20 floats (12 TiB) under verify/bench")
    save("overflow_input.onnx", huge_input(1 << 40), "input 1x3x2^40x2^40: element count overflows Int64")
    save("constant_of_shape_huge.onnx", constant_of_shape_huge(), "ConstantOfShape [2^36] (256 GiB)")
    save("pad_huge.onnx", pad_huge(), "constant Pad to 2^34+1 floats (64 GiB)")
    save("no_opset.onnx", no_opset(), "no opset_import")
    save("no_outputs.onnx", no_outputs(), "graph with no outputs")
    save("bfloat16_add.onnx", bfloat16_add(os.path.join(out, "bfloat16_add.npz")),
         "bfloat16 Add: outputs must be rounded to bfloat16 (reference in bfloat16_add.npz)")
    manifest["bfloat16_add.npz"] = dict(what="reference for bfloat16_add.onnx: x and the bfloat16-rounded sums",
                                        bytes=os.path.getsize(os.path.join(out, "bfloat16_add.npz")))

    zero_bomb_npz(os.path.join(out, "zeros_1gib.npz"))
    manifest["zeros_1gib.npz"] = dict(what="one 1 GiB member of zeros, deflated ~1030:1",
                                      bytes=os.path.getsize(os.path.join(out, "zeros_1gib.npz")))
    png(os.path.join(out, "tall_1x1000000.png"), 1, 1_000_000)
    manifest["tall_1x1000000.png"] = dict(what="PNG 1 wide, 1,000,000 high: must run in bounded memory",
                                          bytes=os.path.getsize(os.path.join(out, "tall_1x1000000.png")))
    png(os.path.join(out, "wide_1000001x1.png"), 1_000_001, 1)
    manifest["wide_1000001x1.png"] = dict(what="PNG 1,000,001 wide: over libpng's default width limit",
                                          bytes=os.path.getsize(os.path.join(out, "wide_1000001x1.png")))

    png_huge_text_chunk(os.path.join(out, "png_itxt_1700mb.png"))
    manifest["png_itxt_1700mb.png"] = dict(what="PNG whose iTXt chunk declares 1.7 GB (libpng allocated it)",
                                           bytes=os.path.getsize(os.path.join(out, "png_itxt_1700mb.png")))

    jpeg_hidden_size(os.path.join(out, "jpeg_143mpixel_hidden.jpg"))
    manifest["jpeg_143mpixel_hidden.jpg"] = dict(
        what="JPEG of 65435x2187 whose frame header follows stray bytes: --max-pixels must still apply",
        bytes=os.path.getsize(os.path.join(out, "jpeg_143mpixel_hidden.jpg")))

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(dict(generated_by="tools/make_hostile_fixtures.py", files=manifest), f, indent=2, sort_keys=True)
        f.write("\n")
    for name, m in sorted(manifest.items()):
        print(f"{name:28s} {m['bytes']:8d} B  {m['what']}")


if __name__ == "__main__":
    main()
