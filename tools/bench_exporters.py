#!/usr/bin/env python3
"""Full-size Keras EfficientNetV2-B0: its Keras 3 ONNX export against the same weights as a Keras checkpoint.

Checks that both verify against Keras's own output, that `inspect --json` shows the same fused network for both
(B0: 5 Fused-MBConv + 16 MBConv, no Cast, one Transpose), and runs `effnet bench` on the two alternately in one
run (ROUNDS rounds each, so machine noise hits both alike); prints the median latencies and their ratio.

The models come from `tools/make_exporter_fixtures.py --full-size bench-models` (random weights, calibrated
BatchNorm; not committed).

Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/bench_exporters.py --effnet .build/release/effnet
           [--models bench-models] [--threads 1] [--rounds 5] [--iterations 20]
Exit 0 when both verify, fuse alike and the export is within 5 % of the checkpoint; 1 otherwise.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def effnet(binary, *args):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"effnet {' '.join(args)} failed: {r.stderr.strip()}")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--effnet", default=os.path.join(ROOT, ".build", "release", "effnet"))
    ap.add_argument("--models", default=os.path.join(ROOT, "bench-models"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=20)
    args = ap.parse_args()
    onnx_path = os.path.join(args.models, "keras_b0.onnx")
    npz_path = os.path.join(args.models, "keras_b0.npz")
    io_path = os.path.join(args.models, "keras_b0.io.npz")
    for p in (onnx_path, npz_path, io_path):
        if not os.path.exists(p):
            sys.exit(f"{p} is missing: run tools/make_exporter_fixtures.py --full-size {args.models}")
    models = {"keras export (.onnx)": [onnx_path], "keras checkpoint (.npz)": [npz_path, "--arch", "EfficientNetV2B0"]}
    ok = True
    for name, model in models.items():
        v = effnet(args.effnet, "verify", *model, "--reference", io_path, "--atol", "1e-6", "--rtol", "1e-4", "--json")
        doc = json.loads(v.stdout)
        worst = max(o["max_abs"] for o in doc.get("outputs", [{"max_abs": float("nan")}]))
        print(f"verify {name}: {'pass' if doc['passed'] else 'FAIL'} (max |Δ| {worst:.2e})")
        ok &= bool(doc["passed"])
        i = json.loads(effnet(args.effnet, "inspect", *model, "--json").stdout)
        kinds = [b["kind"] for b in i["blocks"]]
        fused, mb = kinds.count("fused_mbconv"), kinds.count("mbconv")
        ops = i["ops"]
        print(f"inspect {name}: {fused} Fused-MBConv + {mb} MBConv, Cast {ops.get('Cast', 0)}, "
              f"Transpose {ops.get('Transpose', 0)}")
        ok &= fused == 5 and mb == 16 and "Cast" not in ops and ops.get("Transpose", 0) == 1
    times = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            b = effnet(args.effnet, "bench", *model, "--threads", str(args.threads), "--iterations",
                       str(args.iterations), "--json")
            times[name].append(json.loads(b.stdout)["median_ms"])
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, m in medians.items():
        print(f"bench {name}: median of {args.rounds} medians {m:.2f} ms ({', '.join(f'{t:.2f}' for t in times[name])})")
    export, checkpoint = medians.values()
    ratio = export / checkpoint
    print(f"export / checkpoint = {ratio:.3f} ({'within' if abs(ratio - 1) <= 0.05 else 'NOT within'} 5 %)")
    ok &= abs(ratio - 1) <= 0.05
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
