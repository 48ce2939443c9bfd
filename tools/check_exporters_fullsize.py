#!/usr/bin/env python3
"""Full-size Keras EfficientNetV2-B0 as every exporter writes it: verify each file and check it fuses canonically.

Reads the files `tools/make_exporter_fixtures.py --full-size DIR` writes (random calibrated weights; not
committed): `keras_b0.onnx` (Keras 3 export), `keras_b0.onnxslim.onnx`, `keras_b0.ort_basic.onnx`,
`keras_b0.ort_extended.onnx`, each with its `.io.npz` (the framework's own output on one photo), and the
checkpoint `keras_b0.npz` (against Keras's output). For each it runs

    effnet verify FILE --reference IO.npz --atol 1e-6 --rtol 1e-4 --json
    effnet inspect FILE --json

and requires: verify passes (Keras tolerance: softmax probabilities right to 0.01 % of their value, plus 1e-6),
inspect shows 5 Fused-MBConv + 16 MBConv (the canonical B0), no Cast, no `com.microsoft` operator, and at most one
Transpose (the NHWC input's layout change). Prints one line per file, with max |Δ| of the native runtime against
the reference (native runtime on the optimized graph), and the CPU it ran on.

Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/check_exporters_fullsize.py [--effnet .build/release/effnet]
           [--models bench-models]
Exit 0 when every file passes, 1 when any fails.
"""
import argparse
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> (model arguments relative to DIR, reference io file)
FILES = {
    "keras_export": (["keras_b0.onnx"], "keras_b0.io.npz"),
    "onnxslim": (["keras_b0.onnxslim.onnx"], "keras_b0.onnxslim.io.npz"),
    "ort_basic": (["keras_b0.ort_basic.onnx"], "keras_b0.ort_basic.io.npz"),
    "ort_extended": (["keras_b0.ort_extended.onnx"], "keras_b0.ort_extended.io.npz"),
    "keras_checkpoint": (["keras_b0.npz", "--arch", "EfficientNetV2B0"], "keras_b0.io.npz"),
}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def effnet(binary, *args):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        return None, r.stderr.strip()
    return r, None


def check(binary, models, name):
    model_args, io_name = FILES[name]
    model = [os.path.join(models, model_args[0]), *model_args[1:]]
    io_path = os.path.join(models, io_name)
    for p in (model[0], io_path):
        if not os.path.exists(p):
            return False, f"{p} is missing: run tools/make_exporter_fixtures.py --full-size {models}"
    v, err = effnet(binary, "verify", *model, "--reference", io_path, "--atol", "1e-6", "--rtol", "1e-4", "--json")
    if v is None:
        return False, f"verify refused: {err}"
    doc = json.loads(v.stdout)
    worst = max((o["max_abs"] for o in doc.get("outputs", [])), default=float("nan"))
    worst_rel = max((o["max_rel"] for o in doc.get("outputs", [])), default=float("nan"))
    passed = bool(doc["passed"])
    i, err = effnet(binary, "inspect", *model, "--json")
    if i is None:
        return False, f"verify {'pass' if passed else 'FAIL'} (max |Δ| {worst:.2e}); inspect refused: {err}"
    info = json.loads(i.stdout)
    kinds = [b["kind"] for b in info["blocks"]]
    fused, mb = kinds.count("fused_mbconv"), kinds.count("mbconv")
    ops = info["ops"]
    casts, transposes = ops.get("Cast", 0), ops.get("Transpose", 0)
    microsoft = sorted(k for k in ops if k.startswith("com.microsoft"))
    fuses = fused == 5 and mb == 16 and casts == 0 and transposes <= 1 and not microsoft
    line = (f"verify {'pass' if passed else 'FAIL'} (max |Δ| {worst:.2e}, max rel {worst_rel:.1e}"
            + ("" if passed else f", first divergence {json.dumps(doc.get('first_divergence'))}") + "); "
            f"inspect {fused} Fused-MBConv + {mb} MBConv, Cast {casts}, Transpose {transposes}"
            + (f", {', '.join(microsoft)}" if microsoft else "") + ("" if fuses else " (NOT canonical)"))
    return passed and fuses, line


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--effnet", default=os.path.join(ROOT, ".build", "release", "effnet"))
    ap.add_argument("--models", default=os.path.join(ROOT, "bench-models"))
    ap.add_argument("--only", choices=sorted(FILES), action="append", help="check only these files")
    args = ap.parse_args()
    if not os.access(args.effnet, os.X_OK):
        sys.exit(f"{args.effnet}: not an executable (build it: swift build -c release --product effnet)")
    print(f"CPU: {cpu_name()}")
    ok = True
    for name in args.only or FILES:
        good, line = check(args.effnet, args.models, name)
        print(f"{name}: {line}", flush=True)
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
