#!/usr/bin/env python3
"""Writes the small ONNX files the ONNX reader/writer tests read: fixtures/onnx-reader/.

Run: ${EFFNET_PYTHON:-.venv/bin/python} tools/make_onnx_reader_fixtures.py

Each file exercises one part of the format; tensors are built by hand (TensorProto fields set directly from numpy
bytes) rather than through onnx.helper's conversions, so that the expected bytes in expected.json are exactly what
numpy says each value is, independent of both onnx's and effnet's conversion code.

    dtypes_raw.onnx       every supported dtype as raw_data (plus a 0-d scalar and an empty tensor)
    dtypes_typed.onnx     the same tensors in the typed fields (float_data, int32_data, int64_data, double_data)
    constants.onnx        Constant nodes with value, value_float, value_floats, value_int, value_ints
    attributes.onnx       one node with every attribute kind, including a GRAPH holding a GRAPH
    initializer_input.onnx  IR-3 style: an initializer also listed as a graph input
    shapes.onnx           dim_param / unknown dims, value_info, metadata, producer, extra opset domain
    unknown_ops.onnx      two unsupported operators (the error must list both)
    missing_input.onnx    a node reading a value nothing produces
    no_graph.onnx         a ModelProto without a graph
    bad_*.onnx            unsupported dtypes, wrong raw_data length, wrong typed value count
    lfs_pointer.onnx, empty.onnx, text.onnx
    external/*/model.onnx external data: good, absolute path, `..` escape, symlink out, offset past end, missing
    expected.json         dtype, shape and little-endian hex bytes of every tensor above
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "onnx-reader")
OPSET = [helper.make_opsetid("", 17)]
EXPECTED = {}

ONNX_CODES = {
    "float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "bfloat16": TensorProto.BFLOAT16,
    "float64": TensorProto.DOUBLE, "int8": TensorProto.INT8, "int16": TensorProto.INT16,
    "int32": TensorProto.INT32, "int64": TensorProto.INT64, "uint8": TensorProto.UINT8, "bool": TensorProto.BOOL,
}


def bf16_bits(values):
    """bfloat16 bit patterns (the upper half of float32, rounded to nearest even) as uint16."""
    bits = np.asarray(values, dtype="<f4").view("<u4").astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype("<u2")


def sample_arrays():
    """name -> (IR dtype, numpy array holding the element bytes). bfloat16 arrays are uint16 bit patterns."""
    return {
        "t_float32": ("float32", np.array([[1.5, -2.25, 3.0e-38], [np.inf, -0.0, 1e30]], dtype="<f4")),
        "t_float16": ("float16", np.array([1.0, -65504.0, 6.0e-8, np.inf, 0.333], dtype="<f2")),
        "t_bfloat16": ("bfloat16", bf16_bits([1.0, -3.140625, 1e-20, 65504.0])),
        "t_float64": ("float64", np.array([[np.pi], [-1e300], [5e-324]], dtype="<f8")),
        "t_int8": ("int8", np.array([-128, -1, 0, 127], dtype="i1")),
        "t_int16": ("int16", np.array([[-32768, 32767], [-2, 300]], dtype="<i2")),
        "t_int32": ("int32", np.array([-2147483648, 2147483647, 7], dtype="<i4")),
        "t_int64": ("int64", np.array([-(2**63), 2**63 - 1, 42, -42], dtype="<i8")),
        "t_uint8": ("uint8", np.array([0, 1, 128, 255], dtype="u1")),
        "t_bool": ("bool", np.array([True, False, True], dtype="?")),
        "t_scalar": ("float32", np.array(2.5, dtype="<f4")),
        "t_empty": ("int64", np.zeros((0, 3), dtype="<i8")),
    }


def record(name, dtype, array):
    EXPECTED[name] = {"dtype": dtype, "shape": list(array.shape), "hex": np.ascontiguousarray(array).tobytes().hex()}


def raw_tensor(name, dtype, array):
    t = TensorProto(name=name, data_type=ONNX_CODES[dtype], dims=list(array.shape))
    t.raw_data = np.ascontiguousarray(array).tobytes()
    return t


def typed_tensor(name, dtype, array):
    """The onnx.proto typed field for each dtype: float_data, double_data, int64_data, else int32_data."""
    t = TensorProto(name=name, data_type=ONNX_CODES[dtype], dims=list(array.shape))
    flat = np.ascontiguousarray(array).reshape(-1)
    if dtype == "float32":
        t.float_data.extend(flat.tolist())
    elif dtype == "float64":
        t.double_data.extend(flat.tolist())
    elif dtype == "int64":
        t.int64_data.extend(int(v) for v in flat)
    elif dtype in ("float16",):
        t.int32_data.extend(int(v) for v in flat.view("<u2"))
    elif dtype in ("bfloat16",):
        t.int32_data.extend(int(v) for v in flat)  # already uint16 bit patterns
    else:  # int8, int16, int32, uint8, bool: one int32 value each
        t.int32_data.extend(int(v) for v in flat.astype(np.int64))
    return t


def identity_model(tensors, arrays, name):
    nodes, outputs = [], []
    for t in tensors:
        dtype, array = arrays[t.name]
        nodes.append(helper.make_node("Identity", [t.name], [t.name + "_out"], name="id_" + t.name))
        outputs.append(helper.make_tensor_value_info(t.name + "_out", ONNX_CODES[dtype], list(array.shape)))
    graph = helper.make_graph(nodes, name, [], outputs, initializer=tensors)
    return helper.make_model(graph, opset_imports=OPSET, producer_name="make_onnx_reader_fixtures")


def save(model_or_bytes, *path):
    full = os.path.join(ROOT, *path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    data = model_or_bytes if isinstance(model_or_bytes, bytes) else model_or_bytes.SerializeToString()
    with open(full, "wb") as f:
        f.write(data)


def make_dtypes():
    arrays = sample_arrays()
    for name, (dtype, array) in arrays.items():
        record(name, dtype, array)
    save(identity_model([raw_tensor(n, d, a) for n, (d, a) in arrays.items()], arrays, "dtypes_raw"),
         "dtypes_raw.onnx")
    save(identity_model([typed_tensor(n, d, a) for n, (d, a) in arrays.items()], arrays, "dtypes_typed"),
         "dtypes_typed.onnx")


def make_constants():
    value = np.array([[1.0, 2.0], [3.0, -4.5]], dtype="<f4")
    nodes = [
        helper.make_node("Constant", [], ["c_value"], name="c_value", value=raw_tensor("v", "float32", value)),
        helper.make_node("Constant", [], ["c_value_float"], name="c_value_float", value_float=0.125),
        helper.make_node("Constant", [], ["c_value_floats"], name="c_value_floats", value_floats=[1.0, -0.5, 3.25]),
        helper.make_node("Constant", [], ["c_value_int"], name="c_value_int", value_int=-7),
        helper.make_node("Constant", [], ["c_value_ints"], name="c_value_ints", value_ints=[3, 0, -(2**40)]),
    ]
    record("c_value", "float32", value)
    record("c_value_float", "float32", np.array(0.125, dtype="<f4"))
    record("c_value_floats", "float32", np.array([1.0, -0.5, 3.25], dtype="<f4"))
    record("c_value_int", "int64", np.array(-7, dtype="<i8"))
    record("c_value_ints", "int64", np.array([3, 0, -(2**40)], dtype="<i8"))
    outputs = [helper.make_tensor_value_info(n.output[0], ONNX_CODES[EXPECTED[n.output[0]]["dtype"]],
                                             EXPECTED[n.output[0]]["shape"]) for n in nodes]
    graph = helper.make_graph(nodes, "constants", [], outputs)
    save(helper.make_model(graph, opset_imports=OPSET), "constants.onnx")


def make_attributes():
    inner = helper.make_graph(
        [helper.make_node("Relu", ["a"], ["b"], name="inner_relu")], "inner",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1])])
    body = helper.make_graph(
        [helper.make_node("Mul", ["x", "scale"], ["m"], name="body_mul"),
         helper.make_node("Wrap", ["m"], ["y"], name="body_wrap", domain="test.attrs", inner=inner)],
        "body",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
        initializer=[raw_tensor("scale", "float32", np.array([0.5, 2.0], dtype="<f4"))])
    record("scale", "float32", np.array([0.5, 2.0], dtype="<f4"))
    record("attr_tensor", "int32", np.array([[1, 2, 3]], dtype="<i4"))
    node = helper.make_node(
        "Everything", ["X"], ["Y"], name="everything", domain="test.attrs",
        an_int=-3, some_ints=[1, 2, 3], a_float=0.1, some_floats=[1.5, -2.5], a_string="same_upper",
        some_strings=["a", "ünïcode"], a_tensor=raw_tensor("attr_tensor", "int32", np.array([[1, 2, 3]], dtype="<i4")),
        a_graph=body)
    graph = helper.make_graph(
        [node], "attributes", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 2])])
    model = helper.make_model(graph, opset_imports=OPSET + [helper.make_opsetid("test.attrs", 1)])
    save(model, "attributes.onnx")


def make_initializer_input():
    w = np.arange(6, dtype="<f4").reshape(2, 3)
    record("W", "float32", w)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"], name="matmul")], "initializer_input",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [4, 2]),
         helper.make_tensor_value_info("W", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [4, 3])],
        initializer=[raw_tensor("W", "float32", w)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 3
    save(model, "initializer_input.onnx")


def make_shapes():
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 3, None, 4])
    x.type.tensor_type.shape.dim[2].Clear()  # neither dim_value nor dim_param: unknown
    graph = helper.make_graph(
        [helper.make_node("Relu", ["X"], ["r"], name="relu"),
         helper.make_node("Sigmoid", ["r"], ["Y"], name="sigmoid")],
        "shapes", [x], [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 3, "H", 4])],
        value_info=[helper.make_tensor_value_info("r", TensorProto.FLOAT, ["N", 3, 5, 4])])
    model = helper.make_model(
        graph, opset_imports=OPSET + [helper.make_opsetid("com.example", 2)], producer_name="fixture-maker",
        producer_version="1.2.3", domain="org.effnet.test", model_version=7, doc_string="shapes fixture")
    helper.set_model_props(model, {"author": "effnet tests", "license": "MIT"})
    save(model, "shapes.onnx")


def make_bad_models():
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2])
    # Two unsupported operators, one in the default domain and one in another domain.
    graph = helper.make_graph(
        [helper.make_node("FancyOp", ["X"], ["a"], name="fancy_1"),
         helper.make_node("Relu", ["a"], ["b"], name="relu"),
         helper.make_node("Mystery", ["b"], ["Y"], name="mystery_1", domain="com.example")],
        "unknown_ops", [x], [y])
    save(helper.make_model(graph, opset_imports=OPSET + [helper.make_opsetid("com.example", 1)]), "unknown_ops.onnx")

    graph = helper.make_graph([helper.make_node("Relu", ["nowhere"], ["Y"], name="reads_nothing")],
                              "missing_input", [x], [y])
    save(helper.make_model(graph, opset_imports=OPSET), "missing_input.onnx")

    model = onnx.ModelProto(ir_version=8, producer_name="no graph")
    model.opset_import.extend(OPSET)
    save(model, "no_graph.onnx")

    def with_initializer(tensor, file):
        graph = helper.make_graph([helper.make_node("Identity", [tensor.name], ["Y"], name="id")],
                                  "bad", [], [y], initializer=[tensor])
        save(helper.make_model(graph, opset_imports=OPSET), file)

    with_initializer(helper.make_tensor("names", TensorProto.STRING, [2], [b"a", b"b"]), "bad_string_tensor.onnx")
    t = TensorProto(name="u16", data_type=TensorProto.UINT16, dims=[2], raw_data=b"\x01\x00\x02\x00")
    with_initializer(t, "bad_uint16_tensor.onnx")
    t = TensorProto(name="short", data_type=TensorProto.FLOAT, dims=[2, 3], raw_data=b"\x00" * 20)
    with_initializer(t, "bad_raw_length.onnx")
    t = TensorProto(name="few", data_type=TensorProto.FLOAT, dims=[4], float_data=[1.0, 2.0, 3.0])
    with_initializer(t, "bad_typed_count.onnx")

    save(b"version https://git-lfs.github.com/spec/v1\n"
         b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 86544631\n",
         "lfs_pointer.onnx")
    save(b"", "empty.onnx")
    save(b"model: efficientnet_v2_s\nweights: see the release page\n", "text.onnx")


def external_tensor(name, dtype, shape, location, offset=None, length=None):
    t = TensorProto(name=name, data_type=ONNX_CODES[dtype], dims=list(shape))
    t.data_location = TensorProto.EXTERNAL
    entries = [("location", location)]
    if offset is not None:
        entries.append(("offset", str(offset)))
    if length is not None:
        entries.append(("length", str(length)))
    for key, value in entries:
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    return t


def external_model(tensors, folder, inline=()):
    nodes = [helper.make_node("Identity", [t.name], [t.name + "_out"], name="id_" + t.name) for t in tensors]
    outputs = [helper.make_tensor_value_info(t.name + "_out", t.data_type, list(t.dims)) for t in tensors]
    graph = helper.make_graph(nodes, folder, [], outputs, initializer=list(tensors) + list(inline))
    save(helper.make_model(graph, opset_imports=OPSET), "external", folder, "model.onnx")


def make_external():
    base = os.path.join(ROOT, "external")
    shutil.rmtree(base, ignore_errors=True)
    weight = np.linspace(-1, 1, 12, dtype="<f4").reshape(3, 4)
    bias = np.array([7, -7], dtype="<i8")
    record("ext_weight", "float32", weight)
    record("ext_bias", "int64", bias)
    data = weight.tobytes() + b"\x00" * (64 - weight.nbytes) + bias.tobytes()
    save(data, "external", "good", "model.onnx.data")
    external_model([external_tensor("ext_weight", "float32", weight.shape, "model.onnx.data", 0, weight.nbytes),
                    external_tensor("ext_bias", "int64", bias.shape, "./model.onnx.data", 64)], "good")

    save(weight.tobytes(), "external", "outside.bin")
    external_model([external_tensor("ext_weight", "float32", weight.shape, "/tmp/outside.bin")], "absolute")
    external_model([external_tensor("ext_weight", "float32", weight.shape, "../outside.bin")], "dotdot")
    external_model([external_tensor("ext_weight", "float32", weight.shape, "sub/../../outside.bin")], "dotdot_nested")
    external_model([external_tensor("ext_weight", "float32", weight.shape, "link.bin")], "symlink")
    os.symlink("../outside.bin", os.path.join(base, "symlink", "link.bin"))
    save(weight.tobytes(), "external", "past_end", "model.onnx.data")
    external_model([external_tensor("ext_weight", "float32", weight.shape, "model.onnx.data", 4096, 48)], "past_end")
    external_model([external_tensor("ext_weight", "float32", weight.shape, "model.onnx.data", 16, 48)], "past_end_length")
    save(weight.tobytes(), "external", "past_end_length", "model.onnx.data")
    external_model([external_tensor("ext_weight", "float32", weight.shape, "nothere.bin")], "missing")


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT)
    make_dtypes()
    make_constants()
    make_attributes()
    make_initializer_input()
    make_shapes()
    make_bad_models()
    make_external()
    with open(os.path.join(ROOT, "expected.json"), "w") as f:
        json.dump(EXPECTED, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {ROOT} (onnx {onnx.__version__}, numpy {np.__version__})", file=sys.stderr)


if __name__ == "__main__":
    main()
