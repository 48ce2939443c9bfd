"""Time onnxruntime and OpenVINO on timm EfficientNetV2 exports (random weights), for comparison with
`effnet-kernel-bench stack`. Reports min and median wall time of N batch-1 runs at 1 and 2 threads.

Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/bench_reference_runtimes.py [--runs 15] [--out DIR]
The machine may be shared: compare numbers taken back to back, and prefer minima.
"""
import argparse
import os
import time

import numpy as np
import torch

# torchvision's C ops fail to load with the CPU torch build; `effnet_fixtures.env` makes their fake-kernel
# registrations lenient (EfficientNetV2 needs none of the ops).
from effnet_fixtures import env  # noqa: E402,F401

import onnxruntime as ort  # noqa: E402
import openvino as ov  # noqa: E402
import timm  # noqa: E402

MODELS = [("efficientnetv2_s", 384), ("tf_efficientnetv2_b0", 224)]


def timed(fn, runs):
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[0] * 1e3, times[len(times) // 2] * 1e3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", default="/tmp/effnet-reference-runtimes")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    core = ov.Core()
    for name, size in MODELS:
        path = os.path.join(args.out, f"{name}.onnx")
        x = torch.randn(1, 3, size, size)
        if not os.path.exists(path):
            model = timm.create_model(name, pretrained=False).eval()
            torch.onnx.export(model, x, path, opset_version=17, dynamo=False)
        feed = x.numpy()
        for threads in (1, 2):
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            input_name = session.get_inputs()[0].name
            lo, med = timed(lambda: session.run(None, {input_name: feed}), args.runs)
            print(f"onnxruntime {name} {size} threads={threads}: min {lo:.1f} ms, median {med:.1f} ms", flush=True)
            compiled = core.compile_model(
                path, "CPU",
                {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"})
            request = compiled.create_infer_request()
            lo, med = timed(lambda: request.infer({0: feed}), args.runs)
            print(f"openvino    {name} {size} threads={threads}: min {lo:.1f} ms, median {med:.1f} ms", flush=True)


if __name__ == "__main__":
    main()
