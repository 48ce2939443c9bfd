#!/usr/bin/env python3
"""Times one peer runtime (onnxruntime or OpenVINO) on one ONNX model in a process of its own, so that its peak
memory is its own: prints one JSON line {runtime, threads, times_ms, median_ms, min_ms, peak_rss_mb, load_s}.

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/peer_runner.py --runtime ort|openvino MODEL.onnx
          [--threads N] [--warmup N] [--iterations N] [--size S] [--mask-avx2 LIB]

Used by tools/bench_peers.py. Batch 1, float32, random input in [-1, 1) (latency does not depend on values).
peak_rss_mb is the whole Python process's high-water mark (ru_maxrss), as a user of the runtime would see it.

--mask-avx2 LIB (the path of libEffnetCPUIDMask.so, built by `swift build -c release --product EffnetCPUIDMask`)
makes the process see an AVX2-only CPU before anything is imported: Linux CPUID faulting, with answers recorded
from the real CPU minus the AVX-512, AMX and AVX-VNNI bits (Sources/CPUIDMask). onnxruntime and OpenVINO then run
the kernels they would run on an AVX2 + FMA CPU such as AMD Zen 3; neither has a setting for that. The JSON line
gets "cpu_seen": "avx2" (what effnet's own CPU detection answers inside the masked process), or the run fails.
"""
import argparse
import ctypes
import json
import resource
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--runtime", choices=["ort", "openvino"], required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--mask-avx2", metavar="LIB", help="libEffnetCPUIDMask.so: show the runtime an AVX2-only CPU")
    args = ap.parse_args()
    cpu_seen = "native"
    if args.mask_avx2:
        seen = ctypes.CDLL(args.mask_avx2).effnet_mask_cpuid()
        if seen != 1:  # EFFNET_CPU_AVX2 alone
            raise SystemExit(f"{args.mask_avx2}: CPUID masking failed (CPU features seen: {seen}; needs the "
                             "cpuid_fault flag of /proc/cpuinfo)")
        cpu_seen = "avx2"
    import numpy as np  # after the mask: numpy picks its own kernels from CPUID on import

    x = (np.random.default_rng(0).random((1, 3, args.size, args.size), dtype=np.float32) * 2 - 1)
    start = time.perf_counter()
    if args.runtime == "ort":
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        run = lambda: session.run(None, {name: x})  # noqa: E731
    else:
        import openvino as ov
        core = ov.Core()
        model = core.read_model(args.model)
        model.reshape({model.inputs[0]: list(x.shape)})
        compiled = core.compile_model(model, "CPU", {
            "INFERENCE_NUM_THREADS": args.threads, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32",
            "NUM_STREAMS": 1})
        request = compiled.create_infer_request()
        run = lambda: request.infer({0: x})  # noqa: E731
    load = time.perf_counter() - start
    for _ in range(args.warmup):
        run()
    times = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({
        "runtime": args.runtime, "threads": args.threads, "times_ms": times, "median_ms": float(np.median(times)),
        "min_ms": min(times), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6,
        "load_s": load, "cpu_seen": cpu_seen,
    }))


if __name__ == "__main__":
    main()
