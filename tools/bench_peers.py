#!/usr/bin/env python3
"""Peer benchmark: effnet against onnxruntime and OpenVINO on the same full-size ONNX files, same machine, same run.

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/bench_peers.py [--effnet .build/release/effnet] [--rounds 5]
          [--iterations 20] [--isa avx512|avx2|neon|scalar] [--markdown BENCHMARKS.md]

1. Makes the full-size timm `tf_efficientnetv2_b0` (224), `tf_efficientnetv2_s` (384), `tf_efficientnet_b0` (224)
   and `tf_efficientnet_lite0` (224) exports in the ignored
   `bench-models/` folder when they are missing (tools/make_bench_models.py: random weights, calibrated BatchNorm).
2. Checks correctness first: `effnet verify` against PyTorch's own outputs (io.npz, tolerance 1e-4; this runs both
   the reference interpreter on the graph as read and the native runtime on the optimized graph), and
   `effnet verify --seed 1` (native runtime against the reference interpreter on random input, 1e-4).
3. Times batch-1 latency at 1 and 2 threads, interleaved: each round runs effnet, onnxruntime and OpenVINO once each,
   each in its own process (`effnet bench`, tools/peer_runner.py), rotating the order between rounds, so that load
   from other processes on a shared machine falls on all three alike. A runtime's latency is the median of its
   per-round medians; ratios are effnet / peer (below 1 means effnet is faster). Peak memory is each process's
   high-water mark (VmHWM / ru_maxrss), measured on the 1-thread runs.
4. Times `effnet convert` of the S export to an optimized ONNX file against onnxruntime's session creation on the
   same file (median of 3 each).
With --isa, every effnet process runs with EFFNET_ISA set to it (the kernel family; e.g. `--isa avx2` on an
AVX-512 machine stands in for AVX2-only CPUs). The family effnet used and its micro-kernel's GFLOP/s (from
`effnet bench --json`) are printed and written with the tables.
With --markdown, writes the tables, the machine and this command to the given file.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
_want = os.environ.get("EFFNET_PYTHON") or os.path.join(ROOT, ".venv", "bin", "python")
if os.path.exists(_want) and os.path.abspath(sys.prefix) != os.path.abspath(os.path.join(os.path.dirname(_want), "..")) \
        and not os.environ.get("EFFNET_REEXEC"):
    os.environ["EFFNET_REEXEC"] = "1"
    os.execv(_want, [_want] + sys.argv)

MODELS = [("tf_efficientnetv2_b0", 224), ("tf_efficientnetv2_s", 384), ("tf_efficientnet_b0", 224),
          ("tf_efficientnet_lite0", 224)]

# What the table cannot say by itself (kept in the generated file).
MACHINE_NOTE = """## This machine

The CPU is AMD Zen 4 (family 25, model 17). It runs AVX-512 as two 256-bit halves: the GEMM micro-kernel peaks at
about 118 GFLOP/s per core here (measured with `effnet-kernel-bench gemm`), not the ~262 GFLOP/s of a Zen 5 core
that the project's design notes quote. EfficientNetV2-S at 384 is 8.37 GMAC (16.7 GFLOP), so a dense 1-thread floor here is about
142 ms; effnet gets to 144 ms by running the 3×3 stride-1 Fused-MBConv convolutions as Winograd F(2×2, 3×3), which
needs fewer multiplies. The peer times quoted in earlier notes (onnxruntime about 84 / 48 ms) were taken on a Zen 5
machine; on this one, in the same run as effnet, onnxruntime and OpenVINO take the times below.
"""


def model_path(name):
    return os.path.join(ROOT, "bench-models", f"timm_{name}", "torchscript.onnx")


# Environment of every effnet process (EFFNET_ISA from --isa).
EFFNET_ENV = dict(os.environ)


def run_json(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}{r.stdout}")
    return json.loads(r.stdout.strip().splitlines()[-1] if not r.stdout.lstrip().startswith("{") else r.stdout)


# Kernel family and micro-kernel GFLOP/s effnet reported (the last run's family; the best rate seen).
KERNELS = {"family": None, "microkernel_gflops": 0.0, "cpu": None}


def effnet_once(effnet, path, threads, iterations, warmup):
    j = run_json([effnet, "bench", path, "--threads", str(threads), "--iterations", str(iterations),
                  "--warmup", str(warmup), "--json"], env=EFFNET_ENV)
    KERNELS["family"] = j.get("kernel_family")
    KERNELS["cpu"] = j.get("cpu")
    KERNELS["microkernel_gflops"] = max(KERNELS["microkernel_gflops"], j.get("microkernel_gflops", 0.0))
    return j["median_ms"], j["peak_rss_mb"]


def peer_once(runtime, path, size, threads, iterations, warmup):
    j = run_json([sys.executable, os.path.join(HERE, "peer_runner.py"), path, "--runtime", runtime,
                  "--threads", str(threads), "--iterations", str(iterations), "--warmup", str(warmup),
                  "--size", str(size)])
    return j["median_ms"], j["peak_rss_mb"]


def machine():
    model = "unknown CPU"
    flags = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and model == "unknown CPU":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line
    except OSError:
        pass
    simd = "AVX-512" if "avx512f" in flags else ("AVX2" if "avx2" in flags else "no AVX2")
    import onnxruntime
    import openvino
    return (f"{model}, {os.cpu_count()} cores, {simd}; Linux {platform.release()}; "
            f"onnxruntime {onnxruntime.__version__}, OpenVINO {openvino.__version__}")


def verify(effnet, name):
    """`effnet verify --reference io.npz` (interpreter vs PyTorch, native runtime vs PyTorch, native runtime vs
    interpreter) and `--seed 1` (native runtime vs interpreter on a smooth random image), all at 1e-4."""
    path = model_path(name)
    io = os.path.join(os.path.dirname(path), "io.npz")
    rows = []
    for extra in (["--reference", io], ["--seed", "1"]):
        r = subprocess.run([effnet, "verify", path, "--tolerance", "1e-4", "--json", *extra], capture_output=True,
                           text=True, env=EFFNET_ENV)
        if r.returncode not in (0, 1):
            raise SystemExit(f"effnet verify failed: {r.stderr}")
        for check in json.loads(r.stdout)["checks"]:
            against = "PyTorch outputs (io.npz)" if extra[0] == "--reference" else "reference interpreter, random image"
            what = {"reference-interpreter": f"reference interpreter vs {against}",
                    "runtime": f"native runtime vs {against}",
                    "runtime vs reference-interpreter": "native runtime vs reference interpreter (io.npz input)"}[check["path"]]
            worst = max(o["max_abs"] for o in check["outputs"])
            rows.append((what, check["passed"], worst))
            print(f"verify {name}: {what}: {'pass' if check['passed'] else 'FAIL'}, max |Δ| {worst:.2e}", flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--effnet", default=os.path.join(ROOT, ".build", "release", "effnet"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--isa", choices=["avx512", "avx2", "neon", "scalar"],
                    help="force effnet's kernel family (EFFNET_ISA)")
    ap.add_argument("--markdown")
    ap.add_argument("--only", nargs="+", choices=[n for n, _ in MODELS],
                    help="benchmark only these models (default: all)")
    args = ap.parse_args()
    if args.only:
        MODELS[:] = [m for m in MODELS if m[0] in args.only]
    if args.isa:
        EFFNET_ENV["EFFNET_ISA"] = args.isa
    if not all(os.path.exists(model_path(n)) for n, _ in MODELS):
        missing = [f"timm_{n}" for n, _ in MODELS if not os.path.exists(model_path(n))]
        subprocess.run([sys.executable, os.path.join(HERE, "make_bench_models.py"), "--only", *missing], check=True)

    checks = {name: verify(args.effnet, name) for name, _ in MODELS}
    results = []
    for name, size in MODELS:
        path = model_path(name)
        for threads in (1, 2):
            samples = {"effnet": [], "onnxruntime": [], "openvino": []}
            peaks = {}
            runners = [
                ("effnet", lambda: effnet_once(args.effnet, path, threads, args.iterations, args.warmup)),
                ("onnxruntime", lambda: peer_once("ort", path, size, threads, args.iterations, args.warmup)),
                ("openvino", lambda: peer_once("openvino", path, size, threads, args.iterations, args.warmup)),
            ]
            for r in range(args.rounds):
                order = runners[r % 3:] + runners[:r % 3]
                for label, fn in order:
                    median, peak = fn()
                    samples[label].append(median)
                    peaks[label] = max(peaks.get(label, 0), peak)
            row = {k: statistics.median(v) for k, v in samples.items()}
            row.update(model=name, size=size, threads=threads, peaks=peaks, spread={
                k: (min(v), max(v)) for k, v in samples.items()})
            results.append(row)
            print(f"{name} {size} threads={threads}: effnet [{KERNELS['family']}] {row['effnet']:.1f} ms, onnxruntime {row['onnxruntime']:.1f} ms "
                  f"({row['effnet'] / row['onnxruntime']:.2f}x), OpenVINO {row['openvino']:.1f} ms "
                  f"({row['effnet'] / row['openvino']:.2f}x); peak RSS effnet {peaks['effnet']:.0f} MB, "
                  f"onnxruntime {peaks['onnxruntime']:.0f} MB, OpenVINO {peaks['openvino']:.0f} MB", flush=True)

    # Conversion time against onnxruntime's session creation on the same file (when V2-S is benchmarked).
    s_path = model_path("tf_efficientnetv2_s")
    out = os.path.join(tempfile.mkdtemp(prefix="effnet-bench-"), "s.optimized.onnx")
    convert, session = [], []
    import onnxruntime as ort
    for _ in range(3 if any(n == "tf_efficientnetv2_s" for n, _ in MODELS) else 0):
        t0 = time.perf_counter()
        subprocess.run([args.effnet, "convert", s_path, "-o", out], check=True, capture_output=True, env=EFFNET_ENV)
        convert.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ort.InferenceSession(s_path, providers=["CPUExecutionProvider"])
        session.append(time.perf_counter() - t0)
    conversion = (statistics.median(convert), statistics.median(session)) if convert else None
    if conversion:
        print(f"convert S → optimized ONNX: {conversion[0]:.2f} s (process wall time); "
              f"onnxruntime session creation: {conversion[1]:.2f} s", flush=True)

    if args.markdown:
        write_markdown(args, results, checks, conversion)


def write_markdown(args, results, checks, conversion):
    lines = [
        "# Benchmarks", "",
        f"Measured {datetime.date.today().isoformat()} on {machine()}.", "",
        "Command (the latest run; every number below comes from it):", "",
        "```", "tools/bench_peers.py --markdown BENCHMARKS.md"
        + (f" --isa {args.isa}" if args.isa else "")
        + (f" --rounds {args.rounds}" if args.rounds != 5 else "")
        + (f" --iterations {args.iterations}" if args.iterations != 20 else ""), "```", "",
        "Models: full-size timm exports (TorchScript exporter, opset 17, BatchNorm folded) with random weights and",
        "calibrated BatchNorm statistics, made by `tools/make_bench_models.py` into the ignored `bench-models/`.",
        f"Batch 1, float32. Each runtime ran in its own process, {args.rounds} interleaved rounds of {args.iterations} timed",
        f"inferences after {args.warmup} warm-up ones; a latency is the median of the per-round medians (min–max of the",
        "round medians in brackets). Ratio = effnet / peer: below 1.00 means effnet is faster. The machine is shared and",
        "noisy: compare ratios from the same run, not absolute times across runs.", "",
        f"effnet kernel family: {KERNELS['family']} (micro-kernel {KERNELS['microkernel_gflops']:.1f} GFLOP/s from L1, "
        f"as `effnet bench --json` measured it; CPU as it reports itself: {KERNELS['cpu']})"
        + (f", forced with EFFNET_ISA={args.isa}." if args.isa else ", chosen at run time."), "",
        *MACHINE_NOTE.strip().split("\n"), "",
        "## Latency", "",
        "| model | threads | effnet ms | onnxruntime ms | OpenVINO ms | effnet / onnxruntime | effnet / OpenVINO |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        sp = r["spread"]
        cell = lambda k: f"{r[k]:.1f} [{sp[k][0]:.1f}–{sp[k][1]:.1f}]"  # noqa: E731
        lines.append(f"| {r['model']} {r['size']} | {r['threads']} | {cell('effnet')} | {cell('onnxruntime')} | "
                     f"{cell('openvino')} | {r['effnet'] / r['onnxruntime']:.2f} | {r['effnet'] / r['openvino']:.2f} |")
    lines += ["", "## Peak memory (1 thread)", "",
              "Whole-process high-water mark: `effnet bench` (VmHWM), and the Python process that loads and runs each peer.", "",
              "| model | effnet MB | onnxruntime MB | OpenVINO MB |", "|---|---|---|---|"]
    for r in results:
        if r["threads"] == 1:
            p = r["peaks"]
            lines.append(f"| {r['model']} {r['size']} | {p['effnet']:.0f} | {p['onnxruntime']:.0f} | {p['openvino']:.0f} |")
    lines += ["", "## Correctness of the benchmarked files", "",
              "`effnet verify` on the same files before timing (tolerance 1e-4, |a − e| ≤ 1e-4 + 1e-4·|e|):", "",
              "| model | comparison | result | max abs error |", "|---|---|---|---|"]
    for name, rows in checks.items():
        for what, ok, worst in rows:
            lines.append(f"| {name} | {what} | {'pass' if ok else 'FAIL'} | {worst:.2e} |")
    lines += [] if conversion is None else ["", "## Conversion", "",
              f"`effnet convert` of the full-size tf_efficientnetv2_s export (85.7 MB) to an optimized ONNX file: "
              f"**{conversion[0]:.2f} s** (whole process, median of 3); onnxruntime's `InferenceSession` creation on the "
              f"same file: {conversion[1]:.2f} s.", ""]
    with open(args.markdown, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
