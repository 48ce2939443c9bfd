#!/usr/bin/env python3
"""Converts an ONNX model to the Models tests' graph exchange form (graph.json + an .npy weights folder).

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/onnx_to_graph_json.py MODEL.onnx OUT_DIR [--name onnx-graph]

Writes OUT_DIR/<name>.json and OUT_DIR/<name>-weights/ (initializers; `names.tsv` manifest). Constant-node tensors
are inlined in the JSON. `EFFNET_MODELS_CROSSCHECK=DIR swift test --filter FrameworkCrossCheckTests` reads
`<case>/onnx-*.json`, recognizes the EfficientNetV2 in it and writes `<case>/export-from-<name>` for
tools/check_timm_strict_load.py: a check of the graph recognizer on real exporter output (TorchScript with timm
`tf_` Pad sub-graphs and Identity-shared weights, dynamo) until effnet's own ONNX reader is there.
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

import onnx  # noqa: E402
from onnx import numpy_helper, helper, AttributeProto  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from check_timm_strict_load import save_arrays  # noqa: E402


def tensor_json(t):
    a = numpy_helper.to_array(t)
    return {"dtype": str(a.dtype), "shape": list(a.shape), "values": a.reshape(-1).tolist()}


def attribute_json(a):
    v = helper.get_attribute_value(a)
    if a.type == AttributeProto.INT:
        return {"int": v}
    if a.type == AttributeProto.INTS:
        return {"ints": list(v)}
    if a.type == AttributeProto.FLOAT:
        return {"float": v}
    if a.type == AttributeProto.FLOATS:
        return {"floats": list(v)}
    if a.type == AttributeProto.STRING:
        return {"string": v.decode()}
    if a.type == AttributeProto.TENSOR:
        return {"tensor": tensor_json(v)}
    return {"unsupported": True}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--name", default="onnx-graph")
    args = ap.parse_args()
    model = onnx.load(args.model)
    g = model.graph
    inits = {t.name for t in g.initializer}

    def info(v):
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in v.type.tensor_type.shape.dim]
        return {"name": v.name, "shape": dims}

    doc = {
        "name": g.name,
        "inputs": [info(v) for v in g.input if v.name not in inits],
        "outputs": [info(v) for v in g.output],
        "nodes": [{"name": n.name, "op": n.op_type, "domain": n.domain, "inputs": list(n.input),
                   "outputs": list(n.output), "attributes": {a.name: attribute_json(a) for a in n.attribute}}
                  for n in g.node],
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, args.name + ".json"), "w") as f:
        json.dump(doc, f)
    save_arrays({t.name: numpy_helper.to_array(t) for t in g.initializer}, os.path.join(args.out, args.name + "-weights"))
    print(f"{args.out}/{args.name}.json: {len(g.node)} nodes, {len(g.initializer)} initializers")


if __name__ == "__main__":
    sys.exit(main())
