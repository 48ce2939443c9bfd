#!/usr/bin/env python3
"""Writes fixtures/bad/: small broken inputs that effnet must reject with one clear line and exit code 2.

Every file is listed in fixtures/bad/manifest.json with what is wrong with it (the words a good error names).
Needs fixtures/models/timm_tf_efficientnetv2_b0 (tools/make_fixtures.py) for the truncated / LFS files.

Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/make_bad_fixtures.py [--out DIR]
Deterministic: rerunning reproduces the same bytes.
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import struct
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

from effnet_fixtures.npz import write_npz  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_MODEL = os.path.join(ROOT, "fixtures", "models", "timm_tf_efficientnetv2_b0")


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _save(model, path):
    """Serialize without onnx.checker (several of these models are invalid on purpose)."""
    _write(path, model.SerializeToString())


def unknown_ops_model():
    """Conv → FancyOp → WeirdOp: two ops no ONNX opset defines, each with a node name."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, None)
    w = helper.make_tensor("conv.weight", TensorProto.FLOAT, [4, 3, 1, 1],
                           np.linspace(-1, 1, 12, dtype=np.float32).tolist())
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight"], ["conv_out"], name="conv_0"),
        helper.make_node("FancyOp", ["conv_out"], ["fancy_out"], name="fancy_1", sparkle=3),
        helper.make_node("WeirdOp", ["fancy_out"], ["output"], name="weird_2", mode="odd"),
    ]
    graph = helper.make_graph(nodes, "unknown_ops", [x], [y], [w])
    return helper.make_model(graph, producer_name="effnet-bad-fixtures", opset_imports=[helper.make_opsetid("", 17)])


def external_model(location, offset, length):
    """output = input + bias, where `bias` (4 floats) lives in external data at `location`."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4])
    bias = TensorProto()
    bias.name = "bias"
    bias.data_type = TensorProto.FLOAT
    bias.dims.extend([4])
    bias.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
        entry = bias.external_data.add()
        entry.key, entry.value = k, v
    graph = helper.make_graph([helper.make_node("Add", ["input", "bias"], ["output"], name="add_0")],
                              "external", [x], [y], [bias])
    return helper.make_model(graph, producer_name="effnet-bad-fixtures", opset_imports=[helper.make_opsetid("", 17)])


def small_npz_bytes():
    buf = io.BytesIO()
    arrays = {"conv.weight": np.arange(48, dtype=np.float32).reshape(4, 3, 2, 2) / 48,
              "bn.running_var": np.ones(4, np.float32), "bn.num_batches_tracked": np.array(3, np.int64)}
    write_npz(buf, arrays)
    return buf.getvalue()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(ROOT, "fixtures", "bad"))
    args = p.parse_args()
    out = args.out
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    manifest = {}

    def add(name, problem, **extra):
        manifest[name] = dict(problem=problem, bytes=os.path.getsize(os.path.join(out, name)), **extra)

    # 1. A real exporter output cut at its mid-point (the small external.onnx graph: its weights are elsewhere).
    src = os.path.join(SOURCE_MODEL, "external.onnx")
    data = open(src, "rb").read()
    _write(os.path.join(out, "truncated.onnx"), data[: len(data) // 2])
    add("truncated.onnx", "truncated protobuf (first half of fixtures/models/timm_tf_efficientnetv2_b0/external.onnx)",
        expect="truncated / not a valid ONNX protobuf")

    # 2. Random bytes with an .onnx extension.
    rng = np.random.default_rng(2024)
    _write(os.path.join(out, "random.onnx"), rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    add("random.onnx", "4096 random bytes", expect="not a valid ONNX protobuf")

    # 3. A Git LFS pointer where the model should be (the real three-line spec/v1 format).
    real = open(os.path.join(SOURCE_MODEL, "torchscript.onnx"), "rb").read()
    pointer = (f"version https://git-lfs.github.com/spec/v1\n"
               f"oid sha256:{hashlib.sha256(real).hexdigest()}\n"
               f"size {len(real)}\n")
    _write(os.path.join(out, "model.onnx"), pointer.encode())
    add("model.onnx", "Git LFS pointer file, not the model (run `git lfs pull`)", expect="LFS pointer")

    # 4. Two ops no opset defines.
    _save(unknown_ops_model(), os.path.join(out, "unknown_ops.onnx"))
    add("unknown_ops.onnx", "unsupported ops FancyOp (node fancy_1) and WeirdOp (node weird_2)",
        expect="FancyOp, WeirdOp, fancy_1, weird_2")

    # 5-7. External data that must not be followed or does not fit.
    _save(external_model("../x.data", 0, 16), os.path.join(out, "external_escape.onnx"))
    add("external_escape.onnx", "external data location '../x.data' escapes the model's folder (tensor bias)",
        expect="location outside the model folder")
    _save(external_model("/etc/passwd", 0, 16), os.path.join(out, "external_absolute.onnx"))
    add("external_absolute.onnx", "external data location is an absolute path '/etc/passwd' (tensor bias)",
        expect="absolute location refused (before opening it)")
    _save(external_model("external_out_of_range.onnx.data", 8, 64), os.path.join(out, "external_out_of_range.onnx"))
    _write(os.path.join(out, "external_out_of_range.onnx.data"), np.arange(4, dtype=np.float32).tobytes())
    add("external_out_of_range.onnx", "tensor bias: offset 8 + length 64 > 16-byte external_out_of_range.onnx.data",
        expect="offset/length beyond the data file")
    add("external_out_of_range.onnx.data", "16 bytes (4 floats): the data file of external_out_of_range.onnx")

    # 8. Empty file.
    _write(os.path.join(out, "empty.onnx"), b"")
    add("empty.onnx", "0 bytes", expect="empty file")

    # 9. NPZ archives: cut in half (no central directory), and a member whose .npy header is garbage.
    blob = small_npz_bytes()
    _write(os.path.join(out, "truncated.npz"), blob[: len(blob) // 2])
    add("truncated.npz", "a 3-array .npz cut at its mid-point: ZIP central directory missing",
        expect="truncated / not a valid ZIP")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        info = zipfile.ZipInfo("conv.weight.npy", date_time=(1980, 1, 1, 0, 0, 0))
        # magic + v1.0 + header length 118, but the member ends 38 bytes into the header dict
        zf.writestr(info, b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + b"{'descr': '<f4', 'fortran_order': Fals")
    _write(os.path.join(out, "corrupt_header.npz"), buf.getvalue())
    add("corrupt_header.npz", "valid ZIP whose member conv.weight.npy has a cut, unparsable .npy header",
        expect="bad .npy header in member conv.weight.npy")
    crc = bytearray(blob)
    pos = crc.index(b"\x93NUMPY") + 200  # inside the first member's data (stored, so the CRC catches it)
    crc[pos] ^= 0xFF
    _write(os.path.join(out, "crc_mismatch.npz"), bytes(crc))
    add("crc_mismatch.npz", "stored member conv.weight.npy with one flipped data byte: CRC-32 mismatch",
        expect="CRC mismatch in member conv.weight.npy")

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(dict(generated_by="tools/make_bad_fixtures.py", files=manifest), f, indent=2)
        f.write("\n")
    for name, m in manifest.items():
        print(f"{name:34s} {m['bytes']:7d} B  {m['problem']}")


if __name__ == "__main__":
    main()
