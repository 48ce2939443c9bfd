#!/usr/bin/env python3
"""Runs a graph dumped by the Models tests (graph.json + graph-weights/) with onnxruntime and compares it with io.npz.

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/check_graph_onnxruntime.py CASE_DIR [--input NAME] [--atol A] [--rtol R]

CASE_DIR holds graph.json, graph-weights/ (written by `EFFNET_MODELS_CROSSCHECK=DIR swift test --filter
FrameworkCrossCheckTests`) and io.npz (from the framework). The graph's spatial input dims are made symbolic so any
size runs (the graph uses auto_pad SAME_UPPER or size-independent pads). `--input` picks the io.npz array to feed
(default `input`; Keras cases use `raw_input`, NHWC pixels 0…255). This checks the builder's *semantics* against the
framework before effnet's own ONNX writer and interpreter exist. Exit 0 pass, 1 differ, 2 bad input.
"""
import argparse
import json
import os
import sys

_want = os.environ.get("EFFNET_PYTHON") or os.path.join(os.path.dirname(__file__), "..", ".venv", "bin", "python")
if os.path.exists(_want) and os.path.abspath(sys.prefix) != os.path.abspath(os.path.join(os.path.dirname(_want), "..")) \
        and not os.environ.get("EFFNET_REEXEC"):
    os.environ["EFFNET_REEXEC"] = "1"
    os.execv(_want, [_want] + sys.argv)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import helper, numpy_helper, TensorProto  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from check_timm_strict_load import load_arrays  # noqa: E402


def attribute(key, spec):
    (kind, value), = spec.items()
    return helper.make_attribute(key, value)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case")
    ap.add_argument("--input", default="input")
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--rtol", type=float, default=1e-4)
    args = ap.parse_args()
    with open(os.path.join(args.case, "graph.json")) as f:
        doc = json.load(f)
    weights = load_arrays(os.path.join(args.case, "graph-weights"))
    nodes = [helper.make_node(n["op"], n["inputs"], n["outputs"], name=n["name"], domain=n["domain"] or None,
                              **{}) for n in doc["nodes"]]
    for node, n in zip(nodes, doc["nodes"]):
        node.attribute.extend(attribute(k, v) for k, v in sorted(n["attributes"].items()))

    def info(v, symbolic):
        dims = [d if isinstance(d, int) else d for d in v["shape"]]
        if symbolic:  # batch stays, spatial dims free
            dims = [dims[0]] + [f"d{i}" if isinstance(d, int) and d > 3 else d for i, d in enumerate(dims[1:], 1)]
        return helper.make_tensor_value_info(v["name"], TensorProto.FLOAT, dims)

    graph = helper.make_graph(nodes, doc["name"], [info(v, True) for v in doc["inputs"]],
                              [info(v, False) for v in doc["outputs"]],
                              [numpy_helper.from_array(a, name) for name, a in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    with np.load(os.path.join(args.case, "io.npz")) as io:
        x = io[args.input]
        expected = io["output"]
    actual = session.run(None, {doc["inputs"][0]["name"]: x})[0]
    diff = np.abs(actual - expected)
    ok = bool(np.all(diff <= args.atol + args.rtol * np.abs(expected)))
    top1 = float(np.mean(actual.argmax(-1) == expected.argmax(-1)))
    print(f"{args.case}: {len(nodes)} nodes; max |Δ| {diff.max():.3g}, mean |Δ| {diff.mean():.3g}, "
          f"top-1 agreement {top1:.3f}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
