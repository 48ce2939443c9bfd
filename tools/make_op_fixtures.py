#!/usr/bin/env python3
"""Single-op (and small-subgraph) test cases for effnet's shape inference and reference interpreter.

Every case is a tiny ONNX graph run through onnxruntime; its inputs, attributes, opset and onnxruntime's
outputs are written as JSON under fixtures/ops/ (one file per operator), which the Swift tests read with
Foundation's JSONSerialization, so they need neither the ONNX reader nor the NPZ reader.

effnet's fused ops (domain ai.effnet: Silu, FusedConv, MBConv, FusedMBConv, SqueezeExcite) are not known to onnxruntime:
their expected outputs come from running the equivalent standard-ONNX nodes, which for MBConv/FusedMBConv
are exactly the `body` graph stored in the case.

Usage:
    ${EFFNET_PYTHON:-.venv/bin/python} tools/make_op_fixtures.py            # regenerate fixtures/ops
    ${EFFNET_PYTHON:-.venv/bin/python} tools/make_op_fixtures.py --model M.onnx OUT.json [--size H W]
        # throwaway: a whole ONNX model + a random input + onnxruntime's output in the same JSON format
        # (not committed; used to time the interpreter and check it on a real export)

JSON format (per file: {"generator", "onnxruntime", "cases": [...]}; per case):
    name, opset, rtol, atol, nodes: [{name, op, domain, inputs, outputs, attributes}],
    inputs / initializers / outputs: [{name, dtype, shape, data (base64 of little-endian bytes)}]
Attributes: {"type": "int"|"ints"|"float"|"floats"|"string"|"strings"|"tensor"|"graph", "value": ...}.
Tolerance: an element passes when |actual - expected| <= atol + rtol * |expected|.
"""
import base64
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "fixtures", "ops")
RNG = np.random.default_rng(20240611)

DTYPES = {
    np.dtype(np.float32): "float32", np.dtype(np.float16): "float16", np.dtype(np.float64): "float64",
    np.dtype(np.int8): "int8", np.dtype(np.int16): "int16", np.dtype(np.int32): "int32",
    np.dtype(np.int64): "int64", np.dtype(np.uint8): "uint8", np.dtype(np.bool_): "bool",
}
FLOAT_TOL = dict(rtol=1e-5, atol=1e-5)  # float ops: Double accumulation vs onnxruntime's float32 sums
EXACT = dict(rtol=0.0, atol=0.0)  # integer and data-movement ops


def tensor_json(name, a):
    a = np.asarray(a)
    a = a if a.flags.c_contiguous else a.copy(order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
    return {"name": name, "dtype": DTYPES[a.dtype], "shape": list(a.shape),
            "data": base64.b64encode(a.astype(a.dtype.newbyteorder("<")).tobytes()).decode()}


def attr_json(value):
    if isinstance(value, onnx.GraphProto):
        return {"type": "graph", "value": graph_json(value)}
    if isinstance(value, np.ndarray):
        return {"type": "tensor", "value": tensor_json("", value)}
    if isinstance(value, bool):
        return {"type": "int", "value": int(value)}
    if isinstance(value, int):
        return {"type": "int", "value": value}
    if isinstance(value, float):
        return {"type": "float", "value": value}
    if isinstance(value, (str, bytes)):
        return {"type": "string", "value": value.decode() if isinstance(value, bytes) else value}
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, int) for v in value):
            return {"type": "ints", "value": list(value)}
        if all(isinstance(v, (int, float)) for v in value):
            return {"type": "floats", "value": [float(v) for v in value]}
        return {"type": "strings", "value": [v.decode() if isinstance(v, bytes) else v for v in value]}
    raise TypeError(f"attribute value {value!r}")


def onnx_attr_value(a):
    v = helper.get_attribute_value(a)
    if a.type == onnx.AttributeProto.TENSOR:
        return numpy_helper.to_array(v)
    if a.type == onnx.AttributeProto.FLOAT:
        return float(v)
    if a.type == onnx.AttributeProto.FLOATS:
        return [float(x) for x in v]
    return v


def node_json(n):
    return {"name": n.name, "op": n.op_type, "domain": n.domain, "inputs": list(n.input),
            "outputs": list(n.output), "attributes": {a.name: attr_json(onnx_attr_value(a)) for a in n.attribute}}


def value_info_json(v):
    t = v.type.tensor_type
    shape = None
    if t.HasField("shape"):
        shape = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim]
    dtype = DTYPES[np.dtype(helper.tensor_dtype_to_np_dtype(t.elem_type))] if t.elem_type else None
    return {"name": v.name, "dtype": dtype, "shape": shape}


def graph_json(g):
    inits = {i.name for i in g.initializer}
    return {"name": g.name, "nodes": [node_json(n) for n in g.node],
            "inputs": [value_info_json(v) for v in g.input if v.name not in inits],
            "outputs": [value_info_json(v) for v in g.output],
            "initializers": [tensor_json(i.name, numpy_helper.to_array(i)) for i in g.initializer]}


def make_model(nodes, feeds, inits, outputs, opset, domain_opsets=()):
    g = helper.make_graph(
        nodes, "case",
        [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape) for k, v in feeds.items()],
        [onnx.ValueInfoProto(name=o) for o in outputs],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset), *domain_opsets])
    m.ir_version = 8 if opset < 19 else 9
    return m


def run_ort(model, feeds):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return s.run(None, feeds)


FILES = {}


def case(file, name, nodes, feeds, inits=None, opset=13, tol=None, outputs=None, reference=None):
    """Adds a case. `nodes` are what effnet runs; `reference` (optional) are standard nodes onnxruntime runs
    instead (fused ops); both read the same feeds and initializers and name the same outputs."""
    inits = inits or {}
    outputs = outputs or [o for o in nodes[-1].output if o]
    model = make_model(reference or nodes, feeds, inits, outputs, opset)
    results = run_ort(model, feeds)
    if tol is None:
        tol = FLOAT_TOL if any(r.dtype.kind == "f" for r in results) else EXACT
    FILES.setdefault(file, []).append({
        "name": name, "opset": opset, **tol,
        "nodes": [node_json(n) for n in nodes],
        "inputs": [tensor_json(k, v) for k, v in feeds.items()],
        "initializers": [tensor_json(k, v) for k, v in inits.items()],
        "outputs": [tensor_json(o, r) for o, r in zip(outputs, results)],
    })


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def node(op, inputs, outputs=("y",), domain="", name="", **attrs):
    attrs = {k: numpy_helper.from_array(v) if isinstance(v, np.ndarray) else v for k, v in attrs.items()}
    global NODE_COUNT
    NODE_COUNT += 1
    return helper.make_node(op, list(inputs), list(outputs), name=name or f"{op.lower()}{NODE_COUNT}", domain=domain,
                            **attrs)


NODE_COUNT = 0


def i64(*v):
    return np.array(v, dtype=np.int64)


# ---------------------------------------------------------------------------------------------- cases

def conv_cases():
    f = "Conv"
    x, w, b = randn(2, 3, 7, 7), randn(4, 3, 3, 3), randn(4)
    case(f, "3x3_pads1_bias", [node("Conv", "xwb", pads=[1, 1, 1, 1])], {"x": x}, {"w": w, "b": b})
    case(f, "no_bias_valid", [node("Conv", "xw")], {"x": x}, {"w": w})
    case(f, "stride2_asymmetric_pads", [node("Conv", "xwb", strides=[2, 2], pads=[0, 0, 1, 1])], {"x": x}, {"w": w, "b": b})
    case(f, "stride2_rect_pads", [node("Conv", "xwb", strides=[2, 1], pads=[1, 0, 2, 1], kernel_shape=[3, 3])],
         {"x": randn(1, 3, 8, 6)}, {"w": w, "b": b})
    case(f, "groups2", [node("Conv", "xwb", group=2, pads=[1, 1, 1, 1])], {"x": randn(1, 4, 6, 5)},
         {"w": randn(6, 2, 3, 3), "b": randn(6)})
    case(f, "depthwise_5x5_stride2", [node("Conv", "xwb", group=6, strides=[2, 2], pads=[2, 2, 2, 2])],
         {"x": randn(1, 6, 9, 9)}, {"w": randn(6, 1, 5, 5), "b": randn(6)})
    case(f, "depthwise_3x3_multiplier2", [node("Conv", "xw", group=3, pads=[1, 1, 1, 1])],
         {"x": randn(1, 3, 5, 5)}, {"w": randn(6, 1, 3, 3)})
    case(f, "dilation2", [node("Conv", "xwb", dilations=[2, 2], pads=[2, 1, 2, 1])], {"x": x}, {"w": w, "b": b})
    for size in (7, 8):
        for k in (3, 4):
            case(f, f"same_upper_{size}_k{k}_s2", [node("Conv", "xw", auto_pad="SAME_UPPER", strides=[2, 2])],
                 {"x": randn(1, 2, size, size)}, {"w": randn(3, 2, k, k)})
    case(f, "same_lower_7_k4_s2", [node("Conv", "xw", auto_pad="SAME_LOWER", strides=[2, 2])],
         {"x": randn(1, 2, 7, 7)}, {"w": randn(3, 2, 4, 4)})
    case(f, "same_upper_9x6_k3_s1", [node("Conv", "xw", auto_pad="SAME_UPPER")],
         {"x": randn(1, 2, 9, 6)}, {"w": randn(3, 2, 3, 3)})
    case(f, "valid_s2", [node("Conv", "xwb", auto_pad="VALID", strides=[2, 2])], {"x": x}, {"w": w, "b": b})
    case(f, "pointwise", [node("Conv", "xwb")], {"x": randn(2, 5, 4, 3)}, {"w": randn(7, 5, 1, 1), "b": randn(7)})
    case(f, "pointwise_stride2", [node("Conv", "xwb", strides=[2, 2])], {"x": randn(1, 5, 5, 5)},
         {"w": randn(4, 5, 1, 1), "b": randn(4)})
    case(f, "conv1d", [node("Conv", "xwb", pads=[1, 2], strides=[2])], {"x": randn(2, 3, 11)},
         {"w": randn(4, 3, 3), "b": randn(4)})
    case(f, "many_channels_17", [node("Conv", "xwb", pads=[1, 1, 1, 1])], {"x": randn(1, 17, 5, 5)},
         {"w": randn(16, 17, 3, 3), "b": randn(16)})


def elementwise_cases():
    x = randn(2, 3, 4, 5)
    case("BatchNormalization", "opset15", [node("BatchNormalization", ["x", "g", "b", "m", "v"], epsilon=1e-3)],
         {"x": x}, {"g": randn(3), "b": randn(3), "m": randn(3), "v": RNG.uniform(0.5, 2, 3).astype(np.float32)},
         opset=15)
    case("BatchNormalization", "opset9_2d", [node("BatchNormalization", ["x", "g", "b", "m", "v"])],
         {"x": randn(4, 3)}, {"g": randn(3), "b": randn(3), "m": randn(3), "v": RNG.uniform(0.5, 2, 3).astype(np.float32)},
         opset=9)
    wide = (randn(3, 17) * 4).astype(np.float32)
    case("Sigmoid", "basic", [node("Sigmoid", "x")], {"x": np.concatenate([wide.ravel(), [-100, 100, 0]]).astype(np.float32)})
    case("Relu", "basic", [node("Relu", "x")], {"x": wide})
    case("HardSigmoid", "default", [node("HardSigmoid", "x")], {"x": wide})
    case("HardSigmoid", "alpha_beta", [node("HardSigmoid", "x", alpha=0.3, beta=0.4)], {"x": wide})
    case("HardSwish", "basic", [node("HardSwish", "x")], {"x": wide}, opset=14)
    halves = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.2, 1.7, 3.0, -0.0], dtype=np.float32)
    case("Ceil", "basic", [node("Ceil", "x")], {"x": np.concatenate([halves, wide.ravel()])})
    case("Floor", "basic", [node("Floor", "x")], {"x": np.concatenate([halves, wide.ravel()])})
    for op in ("Add", "Sub", "Mul", "Div"):
        case(op, "broadcast_channel", [node(op, "ab")], {"a": x}, {"b": randn(3, 1, 1) + 2})
        case(op, "broadcast_both", [node(op, "ab")], {"a": randn(4, 1), "b": randn(3) + 3})
        case(op, "broadcast_se", [node(op, "ab")], {"a": randn(2, 3, 4, 5), "b": randn(2, 3, 1, 1) + 2})
        case(op, "scalar", [node(op, "ab")], {"a": x}, {"b": np.array(1.5, dtype=np.float32)})
        case(op, "int64", [node(op, "ab")], {"a": i64(-7, 7, -7, 7, -1, 1, 9, 0)}, {"b": i64(2, 2, -2, -2, 2, -3, 4, 5)})
        case(op, "int32_broadcast", [node(op, "ab")],
             {"a": np.arange(-6, 6, dtype=np.int32).reshape(3, 4)}, {"b": np.array([3, -2, 5, 1], dtype=np.int32)})
    case("Clip", "opset13_inputs", [node("Clip", ["x", "lo", "hi"])], {"x": wide},
         {"lo": np.array(-1, np.float32), "hi": np.array(2.5, np.float32)})
    case("Clip", "opset13_min_only", [node("Clip", ["x", "lo", ""])], {"x": wide}, {"lo": np.array(0, np.float32)})
    case("Clip", "opset13_max_only", [node("Clip", ["x", "", "hi"])], {"x": wide}, {"hi": np.array(0.5, np.float32)})
    case("Clip", "opset6_attributes", [node("Clip", "x", min=-0.5, max=6.0)], {"x": wide}, opset=6)
    case("Clip", "int64", [node("Clip", ["x", "lo", "hi"])], {"x": i64(-5, -2, 0, 3, 9)},
         {"lo": np.array(-2, np.int64), "hi": np.array(4, np.int64)})
    case("GlobalAveragePool", "basic", [node("GlobalAveragePool", "x")], {"x": randn(2, 3, 5, 4)})
    case("Identity", "basic", [node("Identity", "x")], {"x": x})
    # Opset 12: onnxruntime's Dropout-10 kernel returns an all-false mask at inference, unlike the ONNX spec
    # and reference implementation (all true); from opset 12 it agrees.
    case("Dropout", "with_mask", [node("Dropout", "xr", ("y", "mask"))], {"x": x}, {"r": np.array(0.3, np.float32)},
         opset=12, outputs=["y", "mask"])
    case("Dropout", "opset13", [node("Dropout", "x")], {"x": x}, opset=13)
    case("Softmax", "axis_last", [node("Softmax", "x")], {"x": randn(2, 3, 5)})
    case("Softmax", "axis1", [node("Softmax", "x", axis=1)], {"x": randn(2, 3, 5)})
    case("Softmax", "opset11_coerced_axis1", [node("Softmax", "x", axis=1)], {"x": randn(2, 3, 5)}, opset=11)
    case("Softmax", "opset11_default", [node("Softmax", "x")], {"x": randn(2, 3, 5) * 10}, opset=11)
    case("Softmax", "classifier", [node("Softmax", "x")], {"x": randn(2, 1000) * 8})


def reduction_and_linear_cases():
    x = randn(2, 3, 4, 5)
    case("ReduceMean", "axes23_keepdims", [node("ReduceMean", "x", axes=[2, 3])], {"x": x})
    case("ReduceMean", "axis_neg1_nokeep", [node("ReduceMean", "x", axes=[-1], keepdims=0)], {"x": x})
    case("ReduceMean", "axis1", [node("ReduceMean", "x", axes=[1])], {"x": x})
    case("ReduceMean", "all_axes", [node("ReduceMean", "x", keepdims=0)], {"x": x})
    case("ReduceMean", "opset18_axes_input", [node("ReduceMean", "xa")], {"x": x}, {"a": i64(2, 3)}, opset=18)
    case("ReduceMean", "opset18_no_axes", [node("ReduceMean", "x", keepdims=1)], {"x": x}, opset=18)
    case("ReduceMean", "opset18_noop", [node("ReduceMean", "x", noop_with_empty_axes=1)], {"x": x}, opset=18)
    case("Gemm", "transB_bias", [node("Gemm", "abc", transB=1)], {"a": randn(2, 6)}, {"b": randn(5, 6), "c": randn(5)})
    case("Gemm", "transA_alpha_beta", [node("Gemm", "abc", transA=1, alpha=0.5, beta=2.0)],
         {"a": randn(6, 3)}, {"b": randn(6, 4), "c": randn(3, 4)})
    case("Gemm", "c_scalar", [node("Gemm", "abc")], {"a": randn(3, 4)}, {"b": randn(4, 2), "c": np.array(0.25, np.float32)})
    case("Gemm", "c_column", [node("Gemm", "abc", transA=1, transB=1)], {"a": randn(4, 3)},
         {"b": randn(2, 4), "c": randn(3, 1)})
    case("Gemm", "no_c", [node("Gemm", "ab")], {"a": randn(3, 4)}, {"b": randn(4, 2)})
    case("MatMul", "2d", [node("MatMul", "ab")], {"a": randn(3, 4)}, {"b": randn(4, 5)})
    case("MatMul", "batched", [node("MatMul", "ab")], {"a": randn(2, 3, 4)}, {"b": randn(2, 4, 5)})
    case("MatMul", "broadcast_batch", [node("MatMul", "ab")], {"a": randn(2, 1, 3, 4)}, {"b": randn(3, 4, 2)})
    case("MatMul", "vector_matrix", [node("MatMul", "ab")], {"a": randn(4)}, {"b": randn(2, 4, 3)})
    case("MatMul", "matrix_vector", [node("MatMul", "ab")], {"a": randn(2, 3, 4)}, {"b": randn(4)})
    case("MatMul", "dot", [node("MatMul", "ab")], {"a": randn(5)}, {"b": randn(5)})


def shape_cases():
    x = randn(2, 3, 4, 5)
    case("Flatten", "axis1", [node("Flatten", "x")], {"x": x})
    case("Flatten", "axis0", [node("Flatten", "x", axis=0)], {"x": x})
    case("Flatten", "axis_neg1", [node("Flatten", "x", axis=-1)], {"x": x})
    case("Flatten", "axis_rank", [node("Flatten", "x", axis=4)], {"x": x})
    case("Reshape", "copy0_infer", [node("Reshape", "xs")], {"x": x}, {"s": i64(0, -1)})
    case("Reshape", "infer_middle", [node("Reshape", "xs")], {"x": x}, {"s": i64(2, -1, 5)})
    case("Reshape", "flat", [node("Reshape", "xs")], {"x": x}, {"s": i64(-1)})
    case("Reshape", "allowzero_empty", [node("Reshape", "xs", allowzero=1)], {"x": np.zeros((0, 3), np.float32)},
         {"s": i64(3, 0)}, opset=14)
    case("Shape", "basic", [node("Shape", "x")], {"x": x})
    case("Shape", "opset15_start_end", [node("Shape", "x", start=1, end=-1)], {"x": x}, opset=15)
    case("Shape", "opset15_negative_start_clamped_end", [node("Shape", "x", start=-2, end=10)], {"x": x}, opset=15)
    case("Gather", "scalar_index", [node("Gather", "di", axis=0)], {"d": i64(2, 3, 224, 225)}, {"i": np.array(2, np.int64)})
    case("Gather", "axis1_2d_negative", [node("Gather", "di", axis=1)], {"d": x},
         {"i": np.array([[0, -1], [2, 1]], np.int64)})
    case("Gather", "axis_neg1_int32_indices", [node("Gather", "di", axis=-1)], {"d": randn(3, 4)},
         {"i": np.array([3, 0, 0], np.int32)})
    case("Cast", "float_to_int64", [node("Cast", "x", to=TensorProto.INT64)],
         {"x": np.array([-2.7, 2.7, -0.5, 0.5, 7.0, -7.99], np.float32)})
    case("Cast", "int64_to_float", [node("Cast", "x", to=TensorProto.FLOAT)], {"x": i64(-3, 0, 224, 1 << 40)})
    case("Cast", "float_to_float16", [node("Cast", "x", to=TensorProto.FLOAT16)], {"x": randn(3, 5) * 100})
    case("Cast", "float_to_bool", [node("Cast", "x", to=TensorProto.BOOL)],
         {"x": np.array([0, -0.0, 0.1, -3, np.nan], np.float32)})
    case("Cast", "int64_to_int32", [node("Cast", "x", to=TensorProto.INT32)], {"x": i64(-5, 0, 5, 1 << 20)})
    case("Cast", "float_to_double", [node("Cast", "x", to=TensorProto.DOUBLE)], {"x": randn(4)})
    case("Unsqueeze", "opset13_axes_input", [node("Unsqueeze", "xa")], {"x": randn(3, 4)}, {"a": i64(0, -1)})
    case("Unsqueeze", "scalar_opset13", [node("Unsqueeze", "xa")], {"x": i64(7).reshape(())}, {"a": i64(0)})
    case("Unsqueeze", "opset11_attribute", [node("Unsqueeze", "x", axes=[1, 3])], {"x": randn(3, 4)}, opset=11)
    case("Squeeze", "opset13_axes_input", [node("Squeeze", "xa")], {"x": randn(1, 3, 1, 4)}, {"a": i64(-2)})
    case("Squeeze", "opset13_all", [node("Squeeze", "x")], {"x": randn(1, 3, 1, 4)})
    case("Squeeze", "opset11_attribute", [node("Squeeze", "x", axes=[0])], {"x": randn(1, 3, 1, 4)}, opset=11)
    case("Concat", "ints_axis0", [node("Concat", "abc", axis=0)], {"a": i64(1, 2)}, {"b": i64(3), "c": i64(4, 5, 6)})
    case("Concat", "floats_axis_neg1", [node("Concat", "abc", axis=-1)], {"a": randn(2, 3, 1)},
         {"b": randn(2, 3, 2), "c": randn(2, 3, 3)})
    case("Concat", "axis1", [node("Concat", "ab", axis=1)], {"a": randn(2, 1, 3)}, {"b": randn(2, 2, 3)})
    case("ConstantOfShape", "int64_zero", [node("ConstantOfShape", "s", value=i64(0))], {}, {"s": i64(4)})
    case("ConstantOfShape", "float_value", [node("ConstantOfShape", "s", value=np.array([1.5], np.float32))],
         {}, {"s": i64(2, 3)})
    case("ConstantOfShape", "default", [node("ConstantOfShape", "s")], {}, {"s": i64(3, 1)})
    case("Constant", "tensor", [node("Constant", [], value=numpy_helper.from_array(randn(2, 3)))], {})
    case("Constant", "value_float", [node("Constant", [], value_float=2.5)], {})
    case("Constant", "value_ints", [node("Constant", [], value_ints=[1, -2, 3])], {})
    case("Transpose", "nchw_to_nhwc", [node("Transpose", "x", perm=[0, 2, 3, 1])], {"x": x})
    case("Transpose", "default_reverse", [node("Transpose", "x")], {"x": randn(2, 3, 4)})
    case("Transpose", "int64_2d", [node("Transpose", "x", perm=[1, 0])], {"x": i64(*range(8)).reshape(4, 2)})


def slice_pad_cases():
    x = randn(3, 4, 5, 6)
    big, small = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    S = "Slice"
    case(S, "basic", [node(S, "xseap")], {"x": x}, {"s": i64(1, 0), "e": i64(3, 3), "a": i64(0, 2), "p": i64(1, 1)})
    case(S, "negative_clamped", [node(S, "xsea")], {"x": x}, {"s": i64(-3, -100), "e": i64(big, -1), "a": i64(-1, 1)})
    case(S, "reverse_int64_min", [node(S, "xseap")], {"x": x}, {"s": i64(-1), "e": i64(small), "a": i64(0), "p": i64(-1)})
    case(S, "reverse_step2", [node(S, "xseap")], {"x": x}, {"s": i64(10), "e": i64(0), "a": i64(3), "p": i64(-2)})
    case(S, "steps2", [node(S, "xseap")], {"x": x}, {"s": i64(0, 1), "e": i64(6, 5), "a": i64(3, 2), "p": i64(2, 3)})
    case(S, "no_axes", [node(S, "xse")], {"x": x}, {"s": i64(1, 1), "e": i64(2, 100)})
    case(S, "empty", [node(S, "xsea")], {"x": x}, {"s": i64(4), "e": i64(2), "a": i64(2)})
    case(S, "opset9_attributes", [node(S, "x", starts=[1, -2], ends=[1000, -1], axes=[1, 3])], {"x": x}, opset=9)
    case(S, "reverse_2d_int64", [node(S, "xseap")], {"x": i64(*range(8)).reshape(4, 2)},
         {"s": i64(-1), "e": i64(-9223372036854775807), "a": i64(0), "p": i64(-1)})
    P = "Pad"
    x4 = randn(1, 2, 4, 5)
    case(P, "constant_asymmetric", [node(P, "xp")], {"x": x4}, {"p": i64(0, 0, 0, 1, 0, 0, 1, 2)})
    case(P, "constant_value", [node(P, "xpc")], {"x": x4}, {"p": i64(0, 1, 2, 0, 0, 0, 1, 3), "c": np.array(-1.5, np.float32)})
    case(P, "negative_crop", [node(P, "xp")], {"x": x4}, {"p": i64(0, 0, -1, 1, 0, 0, 1, -2)})
    case(P, "reflect", [node(P, "xp", mode="reflect")], {"x": x4}, {"p": i64(0, 0, 2, 1, 0, 0, 3, 4)})
    case(P, "edge", [node(P, "xp", mode="edge")], {"x": x4}, {"p": i64(0, 0, 2, 1, 0, 0, 3, 4)})
    case(P, "opset10_attributes", [node(P, "x", pads=[0, 0, 1, 0, 0, 0, 2, 1], value=0.5)], {"x": x4}, opset=10)
    case(P, "opset18_axes", [node(P, ["x", "p", "", "a"])], {"x": x4}, {"p": i64(1, 2, 3, 0), "a": i64(-1, 2)}, opset=18)
    case(P, "opset19_wrap", [node(P, "xp", mode="wrap")], {"x": x4}, {"p": i64(0, 0, 1, 2, 0, 0, 3, 1)}, opset=19)
    case(P, "int64_constant", [node(P, "xpc")], {"x": i64(1, 2, 3)}, {"p": i64(2, 1), "c": i64(9)})


def fused_cases():
    E = ("ai.effnet", 1)
    x = randn(2, 4, 6, 6)
    case("Silu", "basic", [node("Silu", "x", domain="ai.effnet")], {"x": x},
         reference=[node("Sigmoid", "x", ("s",)), node("Mul", "xs")])
    w, b = randn(8, 4, 3, 3), randn(8)
    acts = {
        "none": [node("Conv", "xwb", ("y",), pads=[1, 1, 1, 1], strides=[2, 2])],
        "relu": [node("Conv", "xwb", ("c",), pads=[1, 1, 1, 1], strides=[2, 2]), node("Relu", "c")],
        "relu6": [node("Conv", "xwb", ("c",), pads=[1, 1, 1, 1], strides=[2, 2]), node("Clip", ["c", "zero", "six"])],
        "silu": [node("Conv", "xwb", ("c",), pads=[1, 1, 1, 1], strides=[2, 2]), node("Sigmoid", "c", ("s",)),
                 node("Mul", "cs")],
        "hardswish": [node("Conv", "xwb", ("c",), pads=[1, 1, 1, 1], strides=[2, 2]), node("HardSwish", "c")],
        "sigmoid": [node("Conv", "xwb", ("c",), pads=[1, 1, 1, 1], strides=[2, 2]), node("Sigmoid", "c")],
    }
    for act, ref in acts.items():
        fused = node("FusedConv", "xwb", domain="ai.effnet", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                     dilations=[1, 1], group=1, activation=act)
        case("FusedConv", act, [fused], {"x": x},
             {"w": w, "b": b, "zero": np.array(0, np.float32), "six": np.array(6, np.float32)},
             reference=ref, opset=14)

    # MBConv: expand 1x1 (4 -> 16) + SiLU, depthwise 3x3 + SiLU, SE (16 -> 2 -> 16), project 1x1 (16 -> 4), residual.
    inits = {"ew": randn(16, 4, 1, 1) * 0.5, "eb": randn(16) * 0.1, "dw": randn(16, 1, 3, 3) * 0.5, "db": randn(16) * 0.1,
             "rw": randn(2, 16, 1, 1) * 0.5, "rb": randn(2) * 0.1, "xw": randn(16, 2, 1, 1) * 0.5, "xb": randn(16) * 0.1,
             "pw": randn(4, 16, 1, 1) * 0.3, "pb": randn(4) * 0.1}
    body = [
        node("Conv", ["x", "ew", "eb"], ["e"], name="expand"), node("Sigmoid", "e", ["es"]), node("Mul", ["e", "es"], ["ea"]),
        node("Conv", ["ea", "dw", "db"], ["d"], name="dw", group=16, pads=[1, 1, 1, 1]), node("Sigmoid", "d", ["ds"]),
        node("Mul", ["d", "ds"], ["da"]),
        node("ReduceMean", ["da"], ["m"], axes=[2, 3]), node("Conv", ["m", "rw", "rb"], ["r"], name="se_reduce"),
        node("Sigmoid", "r", ["rs"]), node("Mul", ["r", "rs"], ["ra"]), node("Conv", ["ra", "xw", "xb"], ["g"], name="se_expand"),
        node("Sigmoid", "g", ["gs"]), node("Mul", ["da", "gs"], ["se"]),
        node("Conv", ["se", "pw", "pb"], ["p"], name="project"), node("Add", ["p", "x"], ["y"]),
    ]
    body_graph = helper.make_graph(body, "mbconv_body", [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
                                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    mb = node("MBConv", ["x", "ew", "eb", "dw", "db", "rw", "rb", "xw", "xb", "pw", "pb"], domain="ai.effnet",
              kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], activation="silu", se_activation="silu",
              se_gate="sigmoid", residual=1, expand_ratio=4, stage=3, body=body_graph)
    case("MBConv", "expand4_se_residual", [mb], {"x": x}, inits, reference=body)

    # FusedMBConv: 3x3 conv (4 -> 12, stride 2) + SiLU, project 1x1 (12 -> 6); and expansion 1 (conv 4 -> 4 + residual).
    inits = {"cw": randn(12, 4, 3, 3) * 0.3, "cb": randn(12) * 0.1, "pw": randn(6, 12, 1, 1) * 0.3, "pb": randn(6) * 0.1}
    body = [node("Conv", ["x", "cw", "cb"], ["c"], name="conv", strides=[2, 2], pads=[0, 0, 1, 1]),
            node("Sigmoid", "c", ["cs"]), node("Mul", ["c", "cs"], ["ca"]),
            node("Conv", ["ca", "pw", "pb"], ["y"], name="project")]
    body_graph = helper.make_graph(body, "fused_body", [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
                                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    fm = node("FusedMBConv", ["x", "cw", "cb", "", "", "", "", "pw", "pb"], domain="ai.effnet", kernel_shape=[3, 3],
              strides=[2, 2], pads=[0, 0, 1, 1], activation="silu", se_activation="none", se_gate="sigmoid", residual=0,
              expand_ratio=3, stage=2, body=body_graph)
    case("FusedMBConv", "expand3_stride2", [fm], {"x": randn(1, 4, 7, 7)}, inits, reference=body)
    inits = {"cw": randn(4, 4, 3, 3) * 0.3, "cb": randn(4) * 0.1}
    body = [node("Conv", ["x", "cw", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1]), node("Sigmoid", "c", ["cs"]),
            node("Mul", ["c", "cs"], ["ca"]), node("Add", ["ca", "x"], ["y"])]
    body_graph = helper.make_graph(body, "fused_body", [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
                                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    fm = node("FusedMBConv", ["x", "cw", "cb"], domain="ai.effnet", kernel_shape=[3, 3], strides=[1, 1],
              pads=[1, 1, 1, 1], activation="silu", se_activation="none", se_gate="sigmoid", residual=1, expand_ratio=1,
              stage=1, body=body_graph)
    case("FusedMBConv", "expand1_residual", [fm], {"x": randn(1, 4, 5, 5)}, inits, reference=body)

    # SqueezeExcite on its own (left standing when no whole block matches): GAP → 1x1 + ReLU → 1x1 + Sigmoid → Mul.
    inits = {"rw": randn(3, 8, 1, 1) * 0.5, "rb": randn(3) * 0.1, "xw": randn(8, 3, 1, 1) * 0.5, "xb": randn(8) * 0.1}
    body = [node("GlobalAveragePool", "x", ["m"]), node("Conv", ["m", "rw", "rb"], ["r"], name="se_reduce"),
            node("Relu", "r", ["ra"]), node("Conv", ["ra", "xw", "xb"], ["g"], name="se_expand"),
            node("Sigmoid", "g", ["gs"]), node("Mul", ["x", "gs"], ["y"])]
    body_graph = helper.make_graph(body, "se_body", [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
                                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    se = node("SqueezeExcite", ["x", "rw", "rb", "xw", "xb"], domain="ai.effnet", se_activation="relu",
              se_gate="sigmoid", body=body_graph)
    case("SqueezeExcite", "relu_sigmoid", [se], {"x": randn(2, 8, 5, 5)}, inits, reference=body)


def tf_same_cases():
    """timm's dynamic SAME padding, as torch.onnx.export (TorchScript) writes it for `tf_` models."""
    from effnet_fixtures import env  # noqa: F401  (torchvision's C ops fail to load with the CPU torch; ignored)
    import torch
    import io
    from timm.layers import create_conv2d
    torch.manual_seed(0)
    for name, (cin, cout, k, s, groups, h, w) in {
        "stem_k3_s2_odd": (3, 4, 3, 2, 1, 9, 11),
        "dw_k5_s2_even": (4, 4, 5, 2, 4, 8, 10),
        "k4_s1": (3, 2, 4, 1, 1, 6, 5),
    }.items():
        conv = create_conv2d(cin, cout, k, stride=s, padding="same", groups=groups).eval()
        f = io.BytesIO()
        torch.onnx.export(conv, torch.randn(1, cin, h, w), f, opset_version=13, dynamo=False, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "N"}})
        m = onnx.load_from_string(f.getvalue())
        feeds = {"x": randn(2, cin, h, w)}
        (y,) = run_ort(m, feeds)
        g = graph_json(m.graph)
        FILES.setdefault("TFSamePadding", []).append({
            "name": name, "opset": 13, **FLOAT_TOL, "nodes": g["nodes"], "inputs": [tensor_json("x", feeds["x"])],
            "initializers": g["initializers"], "outputs": [tensor_json("y", y)]})


def convert_model(path, out, size):
    """Throwaway: a whole model as JSON, with a random input and onnxruntime's output."""
    m = onnx.load(path)
    g = graph_json(m.graph)
    inp = g["inputs"][0]
    shape = [1 if isinstance(d, str) else d for d in inp["shape"]]
    if size:
        shape[2:] = size
    feeds = {inp["name"]: RNG.uniform(-1, 1, shape).astype(np.float32)}
    results = run_ort(m, feeds)
    opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    doc = {"name": os.path.basename(path), "opset": opset, **FLOAT_TOL, "nodes": g["nodes"],
           "graph_inputs": g["inputs"], "inputs": [tensor_json(k, v) for k, v in feeds.items()],
           "initializers": g["initializers"],
           "outputs": [tensor_json(o["name"], r) for o, r in zip(g["outputs"], results)]}
    with open(out, "w") as f:
        json.dump({"generator": "tools/make_op_fixtures.py --model", "cases": [doc]}, f)


def exporter_cases():
    """Ops other exporters write (BatchNorm as arithmetic: 1/√(σ² + ε)). Last, so earlier cases keep their data."""
    case("Sqrt", "basic", [node("Sqrt", "x")],
         {"x": np.concatenate([RNG.uniform(0, 9, 40), [0.0, 1e-3, 1.0, 4.0, 1e6]]).astype(np.float32)})


def resize_cases():
    """Resize as image models carry it (nearest and linear; half_pixel, pytorch_half_pixel, align_corners,
    asymmetric; scales or sizes). Last, so earlier cases keep their data."""
    R = "Resize"
    x = randn(1, 2, 3, 4)
    f32 = lambda *v: np.array(v, np.float32)
    empty = np.zeros(0, np.float32)
    case(R, "nearest_half_pixel_up2", [node(R, ["x", "", "s"])], {"x": x}, {"s": f32(1, 1, 2, 2)})
    case(R, "nearest_asymmetric_floor_down", [node(R, ["x", "", "s"], coordinate_transformation_mode="asymmetric",
                                                   nearest_mode="floor")],
         {"x": randn(2, 3, 6, 8)}, {"s": f32(1, 1, 0.5, 0.5)})
    case(R, "nearest_align_corners_ceil_sizes", [node(R, ["x", "", "", "z"], coordinate_transformation_mode="align_corners",
                                                      nearest_mode="round_prefer_ceil")],
         {"x": x}, {"z": i64(1, 2, 5, 7)})
    case(R, "nearest_ceil_scales_1_5", [node(R, ["x", "", "s"], nearest_mode="ceil")], {"x": x}, {"s": f32(1, 1, 1.5, 1.5)})
    case(R, "linear_half_pixel_up2", [node(R, ["x", "", "s"], mode="linear")], {"x": x}, {"s": f32(1, 1, 2, 2)})
    case(R, "linear_half_pixel_down", [node(R, ["x", "", "s"], mode="linear")], {"x": randn(1, 2, 8, 6)},
         {"s": f32(1, 1, 0.5, 0.5)})
    case(R, "linear_asymmetric_sizes", [node(R, ["x", "", "", "z"], mode="linear",
                                             coordinate_transformation_mode="asymmetric")],
         {"x": x}, {"z": i64(1, 2, 7, 9)})
    case(R, "linear_align_corners_sizes", [node(R, ["x", "", "", "z"], mode="linear",
                                                coordinate_transformation_mode="align_corners")],
         {"x": randn(2, 3, 4, 4)}, {"z": i64(2, 3, 7, 5)})
    case(R, "linear_pytorch_half_pixel_to_1", [node(R, ["x", "", "", "z"], mode="linear",
                                                    coordinate_transformation_mode="pytorch_half_pixel")],
         {"x": x}, {"z": i64(1, 2, 1, 5)})
    case(R, "opset11_roi_empty_scales_sizes", [node(R, ["x", "r", "s", "z"], mode="linear")], {"x": x},
         {"r": empty, "s": empty, "z": i64(1, 2, 6, 6)}, opset=11)
    case(R, "linear_channels_resized", [node(R, ["x", "", "s"], mode="linear")], {"x": x}, {"s": f32(1, 2, 1, 1)})


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--model":
        size = [int(v) for v in sys.argv[5:7]] if len(sys.argv) > 4 and sys.argv[4] == "--size" else None
        convert_model(sys.argv[2], sys.argv[3], size)
        return
    conv_cases()
    elementwise_cases()
    reduction_and_linear_cases()
    shape_cases()
    slice_pad_cases()
    fused_cases()
    tf_same_cases()
    exporter_cases()
    resize_cases()
    os.makedirs(OUT_DIR, exist_ok=True)
    for old in os.listdir(OUT_DIR):
        if old.endswith(".json"):
            os.remove(os.path.join(OUT_DIR, old))
    total = 0
    for file, cases in sorted(FILES.items()):
        path = os.path.join(OUT_DIR, file + ".json")
        with open(path, "w") as f:
            json.dump({"generator": "tools/make_op_fixtures.py", "onnxruntime": ort.__version__, "cases": cases}, f,
                      indent=1)
            f.write("\n")
        total += os.path.getsize(path)
    print(f"wrote {sum(len(c) for c in FILES.values())} cases in {len(FILES)} files, {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
