#!/usr/bin/env python3
"""Peer benchmark: effnet against onnxruntime and OpenVINO on the same full-size ONNX files, same machine, same run.

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/bench_peers.py [--effnet .build/release/effnet] [--rounds 5]
          [--iterations 20] [--isa FAMILY ...] [--models b0 s v1b0 lite0] [--threads 1 2] [--markdown BENCHMARKS.md]

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
With --isa FAMILY ... (avx512, avx2, neon, scalar), effnet runs once per round per family, with EFFNET_ISA set to
it (e.g. `--isa avx512 avx2` on an AVX-512 machine: the forced-AVX2 run stands in for AVX2-only CPUs), in the
same interleaved rounds as the peers; each family is its own column. The family and its micro-kernel's GFLOP/s
(from `effnet bench --json`) are printed and written with the tables.
When `--isa` includes avx2 and the CPU has AVX-512 and Linux CPUID faulting (`cpuid_fault`), onnxruntime and
OpenVINO also run a second time per round in processes that see an AVX2-only CPU (tools/peer_runner.py
--mask-avx2, with libEffnetCPUIDMask.so from the same build as --effnet): the `effnet avx2` column is compared
with those, the AVX2 code of the peers on the same core, which is what an AVX2-only CPU would run. Without the
mask the forced-AVX2 effnet would be compared with the peers' AVX-512 code. --no-mask turns this off.
With --markdown FILE, writes this machine's section of FILE: one section per machine type (the CPU's model string,
family/model and SIMD flags, read from /proc/cpuinfo), with the command, the machine, and the tables. A section
of another machine, and any other section (such as bench_run.py's), is kept as it is; the file's introduction is
kept too (written when the file is new).
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

def model_path(name):
    return os.path.join(ROOT, "bench-models", f"timm_{name}", "torchscript.onnx")


def run_json(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}{r.stdout}")
    return json.loads(r.stdout.strip().splitlines()[-1] if not r.stdout.lstrip().startswith("{") else r.stdout)


def effnet_env(isa):
    """Environment of an effnet process: EFFNET_ISA=isa, or as inherited when isa is None."""
    env = dict(os.environ)
    if isa:
        env["EFFNET_ISA"] = isa
    return env


# Per kernel family label ("effnet" or "effnet avx2"): the family effnet reported, the CPU, and the best
# micro-kernel rate seen (the probe runs at each `effnet bench` start).
KERNELS = {}


def effnet_once(effnet, isa, label, path, threads, iterations, warmup):
    j = run_json([effnet, "bench", path, "--threads", str(threads), "--iterations", str(iterations),
                  "--warmup", str(warmup), "--json"], env=effnet_env(isa))
    k = KERNELS.setdefault(label, {"family": None, "microkernel_gflops": 0.0, "cpu": None})
    k["family"] = j.get("kernel_family")
    k["cpu"] = j.get("cpu")
    k["microkernel_gflops"] = max(k["microkernel_gflops"], j.get("microkernel_gflops", 0.0))
    return j["median_ms"], j["peak_rss_mb"]


def peer_once(runtime, path, size, threads, iterations, warmup, mask=None):
    j = run_json([sys.executable, os.path.join(HERE, "peer_runner.py"), path, "--runtime", runtime,
                  "--threads", str(threads), "--iterations", str(iterations), "--warmup", str(warmup),
                  "--size", str(size)] + (["--mask-avx2", mask] if mask else []))
    if mask and j.get("cpu_seen") != "avx2":
        raise SystemExit(f"peer_runner {runtime} did not run with the AVX2 mask: {j}")
    return j["median_ms"], j["peak_rss_mb"]


def mask_library(effnet):
    """libEffnetCPUIDMask.so beside the effnet binary (every `swift build -c release` builds it)."""
    lib = os.path.join(os.path.dirname(os.path.abspath(effnet)), "libEffnetCPUIDMask.so")
    if not os.path.exists(lib):
        raise SystemExit(f"{lib}: missing; build it with `swift build -c release --product EffnetCPUIDMask` (and the "
                         "same --scratch-path as the effnet binary), or pass --no-mask")
    return lib


# Peer columns: key, name in the tables, runtime for peer_runner, masked to AVX2.
PEERS = [("onnxruntime", "onnxruntime", "ort", False), ("openvino", "OpenVINO", "openvino", False)]
MASKED_PEERS = [("onnxruntime avx2", "onnxruntime (sees AVX2 only)", "ort", True),
                ("openvino avx2", "OpenVINO (sees AVX2 only)", "openvino", True)]


def peers_of(label, masked):
    """The two peer keys an effnet column is compared with: the AVX2-masked peers for `effnet avx2` when they ran."""
    if masked and label == "effnet avx2":
        return "onnxruntime avx2", "openvino avx2"
    return "onnxruntime", "openvino"


# SIMD flags that decide which kernel families a CPU runs (and what the peers' kernels can use).
SIMD_FLAGS = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl",
              "avx512_vnni", "avx512_bf16", "amx_tile", "asimd", "sve"]


def cpu_info(path="/proc/cpuinfo"):
    """The CPU as /proc/cpuinfo reports it: model name, vendor, family, model, the SIMD flags in SIMD_FLAGS (which
    key the machine's section), and every flag (`all_flags`, e.g. for `cpuid_fault`)."""
    info = {"model": platform.processor() or "unknown CPU", "vendor": "", "family": "", "cpu_model": "", "flags": [],
            "all_flags": set()}
    seen = set()
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key in seen:
                    continue
                if key in ("model name", "Model"):
                    info["model"] = value
                elif key == "vendor_id":
                    info["vendor"] = value
                elif key == "cpu family":
                    info["family"] = value
                elif key == "model":
                    info["cpu_model"] = value
                elif key in ("flags", "Features"):
                    have = set(value.split())
                    info["flags"] = [f for f in SIMD_FLAGS if f in have]
                    info["all_flags"] = have
                else:
                    continue
                seen.add(key)
    except OSError:
        pass
    return info


def machine_key(info):
    """What makes two machines the same type for the tables: model string, family/model and SIMD flags."""
    fm = f"family {info['family']} model {info['cpu_model']}" if info["family"] else "family ?"
    return f"{info['model']}; {fm}; {' '.join(info['flags']) or 'no SIMD flags'}"


def machine_heading(info):
    simd = "AVX-512" if "avx512f" in info["flags"] else "AVX2" if "avx2" in info["flags"] else \
        "NEON" if "asimd" in info["flags"] else "no AVX2"
    fm = f", family {info['family']} model {info['cpu_model']}" if info["family"] else ""
    return f"## Machine: {info['model']} ({simd}{fm})"


def machine_line(info):
    import onnxruntime
    import openvino
    return (f"{info['model']} ({info['vendor'] or 'unknown vendor'}{', family ' + info['family'] + ' model ' + info['cpu_model'] if info['family'] else ''}), "
            f"{os.cpu_count()} cores; SIMD flags: {' '.join(info['flags']) or 'none'}; Linux {platform.release()}; "
            f"onnxruntime {onnxruntime.__version__}, OpenVINO {openvino.__version__}")


def verify(effnet, name, isa=None):
    """`effnet verify --reference io.npz` (interpreter vs PyTorch, native runtime vs PyTorch, native runtime vs
    interpreter) and `--seed 1` (native runtime vs interpreter on a smooth random image), all at 1e-4."""
    path = model_path(name)
    io = os.path.join(os.path.dirname(path), "io.npz")
    rows = []
    for extra in (["--reference", io], ["--seed", "1"]):
        r = subprocess.run([effnet, "verify", path, "--tolerance", "1e-4", "--json", *extra], capture_output=True,
                           text=True, env=effnet_env(isa))
        if r.returncode not in (0, 1):
            raise SystemExit(f"effnet verify failed: {r.stderr}")
        for check in json.loads(r.stdout)["checks"]:
            against = "PyTorch outputs (io.npz)" if extra[0] == "--reference" else "reference interpreter, random image"
            what = {"reference-interpreter": f"reference interpreter vs {against}",
                    "runtime": f"native runtime vs {against}",
                    "runtime vs reference-interpreter": "native runtime vs reference interpreter (io.npz input)"}[check["path"]]
            worst = max(o["max_abs"] for o in check["outputs"])
            if isa:
                what += f" ({isa})"
            rows.append((what, check["passed"], worst))
            print(f"verify {name}: {what}: {'pass' if check['passed'] else 'FAIL'}, max |Δ| {worst:.2e}", flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--effnet", default=os.path.join(ROOT, ".build", "release", "effnet"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--isa", nargs="+", choices=["avx512", "avx2", "neon", "scalar"],
                    help="force effnet's kernel family (EFFNET_ISA); several: one effnet column each, same rounds")
    short = {"b0": "tf_efficientnetv2_b0", "s": "tf_efficientnetv2_s", "v1b0": "tf_efficientnet_b0",
             "lite0": "tf_efficientnet_lite0"}
    ap.add_argument("--models", nargs="+", choices=list(short) + [n for n, _ in MODELS],
                    default=list(short), help="models to benchmark, by short or full name (default: all)")
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--skip-convert", action="store_true", help="do not time effnet convert")
    ap.add_argument("--no-mask", action="store_true",
                    help="do not run the peers a second time with CPUID masked to AVX2 for the effnet avx2 column")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    wanted = {short.get(m, m) for m in args.models}
    models = [m for m in MODELS if m[0] in wanted]
    missing = [f"timm_{n}" for n, _ in models if not os.path.exists(model_path(n))]
    if missing:
        subprocess.run([sys.executable, os.path.join(HERE, "make_bench_models.py"), "--only", *missing], check=True)
    isas = args.isa or [None]
    labels = [f"effnet {isa}" if isa else "effnet" for isa in isas]

    flags = cpu_info()["all_flags"]
    masked = "avx2" in isas and "avx512f" in flags and "cpuid_fault" in flags and not args.no_mask
    mask = mask_library(args.effnet) if masked else None
    if "avx2" in isas and "avx512f" in flags and not masked:
        print("note: the effnet avx2 column is compared with the peers' AVX-512 code "
              + ("(--no-mask)" if args.no_mask else "(no cpuid_fault: the peers cannot be shown an AVX2-only CPU)"))
    peers = PEERS + (MASKED_PEERS if masked else [])
    args.masked = masked
    checks = {name: [row for isa in isas for row in verify(args.effnet, name, isa)] for name, _ in models}
    results = []
    for name, size in models:
        path = model_path(name)
        for threads in args.threads:
            samples = {k: [] for k in labels + [p[0] for p in peers]}
            peaks = {}
            runners = [(label, (lambda isa=isa, label=label:
                                effnet_once(args.effnet, isa, label, path, threads, args.iterations, args.warmup)))
                       for isa, label in zip(isas, labels)]
            runners += [(key, (lambda runtime=runtime, m=m: peer_once(runtime, path, size, threads, args.iterations,
                                                                       args.warmup, mask if m else None)))
                        for key, _, runtime, m in peers]
            for r in range(args.rounds):
                shift = r % len(runners)
                for label, fn in runners[shift:] + runners[:shift]:
                    median, peak = fn()
                    samples[label].append(median)
                    peaks[label] = max(peaks.get(label, 0), peak)
            row = {k: statistics.median(v) for k, v in samples.items()}
            row.update(model=name, size=size, threads=threads, peaks=peaks, spread={
                k: (min(v), max(v)) for k, v in samples.items()})
            results.append(row)
            def against(k):
                o, v = peers_of(k, masked)
                return (f"{row[k] / row[o]:.2f}x {o}, {row[k] / row[v]:.2f}x {v}, "
                        f"{row[k] / min(row[o], row[v]):.2f}x best")
            print(f"{name} {size} threads={threads}: "
                  + ", ".join(f"{key} {row[key]:.1f} ms" for key, *_ in peers) + "; "
                  + "; ".join(f"{k} [{KERNELS[k]['family']}] {row[k]:.1f} ms ({against(k)})" for k in labels)
                  + "; peak RSS " + ", ".join(f"{k} {v:.0f} MB" for k, v in peaks.items()), flush=True)

    conversion = None
    if not args.skip_convert and any(n == "tf_efficientnetv2_s" for n, _ in models):
        # Conversion time against onnxruntime's session creation on the same file.
        s_path = model_path("tf_efficientnetv2_s")
        out = os.path.join(tempfile.mkdtemp(prefix="effnet-bench-"), "s.optimized.onnx")
        convert, session = [], []
        import onnxruntime as ort
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run([args.effnet, "convert", s_path, "-o", out], check=True, capture_output=True,
                           env=effnet_env(isas[0]))
            convert.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ort.InferenceSession(s_path, providers=["CPUExecutionProvider"])
            session.append(time.perf_counter() - t0)
        conversion = (statistics.median(convert), statistics.median(session))
        print(f"convert S → optimized ONNX: {conversion[0]:.2f} s (process wall time); "
              f"onnxruntime session creation: {conversion[1]:.2f} s", flush=True)

    if args.markdown:
        write_markdown(args, labels, results, checks, conversion)


INTRO = """# Benchmarks

effnet against onnxruntime and OpenVINO on the same full-size exports, written by `tools/bench_peers.py
--markdown BENCHMARKS.md`: one section per machine type (CPU model string, family/model and SIMD flags); a run on
another CPU adds its section and leaves the others as they are. `tools/bench_run.py` keeps its own section.

Models: full-size timm exports (TorchScript exporter, opset 17, BatchNorm folded) with random weights and
calibrated BatchNorm statistics, made by `tools/make_bench_models.py` into the ignored `bench-models/`.
Batch 1, float32. Each runtime ran in its own process, in interleaved rounds (the order rotating between rounds)
of timed inferences after warm-up ones; a latency is the median of the per-round medians (min–max of the round
medians in brackets). Ratio = effnet / peer: below 1.00 means effnet is faster. The machines are shared and
noisy: compare ratios from the same run, not absolute times across runs.
"""


def command_line(args):
    parts = ["tools/bench_peers.py --markdown BENCHMARKS.md"]
    if args.isa:
        parts.append("--isa " + " ".join(args.isa))
    if args.models != ["b0", "s"]:
        parts.append("--models " + " ".join(args.models))
    if args.threads != [1, 2]:
        parts.append("--threads " + " ".join(map(str, args.threads)))
    if args.rounds != 5:
        parts.append(f"--rounds {args.rounds}")
    if args.iterations != 20:
        parts.append(f"--iterations {args.iterations}")
    if args.warmup != 3:
        parts.append(f"--warmup {args.warmup}")
    if args.skip_convert:
        parts.append("--skip-convert")
    if args.no_mask:
        parts.append("--no-mask")
    return " ".join(parts)


def machine_section(args, labels, results, checks, conversion, info):
    """This machine's section of BENCHMARKS.md (its heading, a key comment, subsections)."""
    lines = [
        machine_heading(info), "",
        f"<!-- machine: {machine_key(info)} -->", "",
        f"Measured {datetime.date.today().isoformat()} on {machine_line(info)}.", "",
        "Command (every number in this section comes from this one run):", "",
        "```", command_line(args), "```", "",
        f"{args.rounds} interleaved rounds of {args.iterations} timed inferences after {args.warmup} warm-up ones "
        "per runtime and configuration.", "",
    ]
    for label in labels:
        k = KERNELS.get(label, {})
        how = f"forced with EFFNET_ISA={label.split()[1]}" if " " in label else "chosen at run time"
        lines.append(f"- `{label}`: kernel family {k.get('family')} ({how}); GEMM micro-kernel "
                     f"{k.get('microkernel_gflops', 0):.1f} GFLOP/s from L1 on one core (best of the probes "
                     "`effnet bench` runs at start)"
                     + ("; compared with the peers shown an AVX2-only CPU." if peers_of(label, args.masked)[0] !=
                        "onnxruntime" else "."))
    if args.masked:
        lines.append("- `onnxruntime (sees AVX2 only)`, `OpenVINO (sees AVX2 only)`: the same peers in processes "
                     "whose CPUID answers have the AVX-512, AMX and AVX-VNNI bits cleared (Linux CPUID faulting, "
                     "`tools/peer_runner.py --mask-avx2`), so they run the kernels they would run on an AVX2 + FMA "
                     "CPU. This makes the forced-AVX2 effnet column a proxy for AVX2-only CPUs on this core.")
    lines += ["", "### Latency", "",
              "| model | threads | runtime | ms [min–max] | / onnxruntime | / OpenVINO | / better peer |",
              "|---|---|---|---|---|---|---|"]
    peer_names = [(key, name) for key, name, _, m in PEERS + MASKED_PEERS if key in results[0]] if results else []
    for r in results:
        sp = r["spread"]
        for k, name in [(label, label) for label in labels] + peer_names:
            cell = f"{r[k]:.1f} [{sp[k][0]:.1f}–{sp[k][1]:.1f}]"
            o, v = peers_of(k, args.masked)
            ratios = (f"**{r[k] / r[o]:.2f}** | **{r[k] / r[v]:.2f}** | **{r[k] / min(r[o], r[v]):.2f}**"
                      if k in labels else " | | ")
            lines.append(f"| {r['model']} {r['size']} | {r['threads']} | {name} | {cell} | {ratios} |")
    lines += ["", "### Peak memory (1 thread)", "",
              "Whole-process high-water mark: `effnet bench` (VmHWM), and the Python process that loads and runs each peer.", "",
              "| model | " + " | ".join(f"{label} MB" for label in labels) + " | onnxruntime MB | OpenVINO MB |",
              "|---|" + "---|" * (len(labels) + 2)]
    for r in results:
        if r["threads"] == 1:
            p = r["peaks"]
            lines.append(f"| {r['model']} {r['size']} | " + " | ".join(f"{p[label]:.0f}" for label in labels)
                         + f" | {p['onnxruntime']:.0f} | {p['openvino']:.0f} |")
    lines += ["", "### Correctness of the benchmarked files", "",
              "`effnet verify` on the same files before timing (tolerance 1e-4, |a − e| ≤ 1e-4 + 1e-4·|e|):", "",
              "| model | comparison | result | max abs error |", "|---|---|---|---|"]
    for name, rows in checks.items():
        for what, ok, worst in rows:
            lines.append(f"| {name} | {what} | {'pass' if ok else 'FAIL'} | {worst:.2e} |")
    if conversion:
        lines += ["", "### Conversion", "",
                  f"`effnet convert` of the full-size tf_efficientnetv2_s export (85.7 MB) to an optimized ONNX file: "
                  f"**{conversion[0]:.2f} s** (whole process, median of 3); onnxruntime's `InferenceSession` creation "
                  f"on the same file: {conversion[1]:.2f} s."]
    return "\n".join(lines) + "\n"


def split_sections(text):
    """(introduction, [level-2 sections]) of a markdown file; each section starts with "## " and runs to the next."""
    parts = []
    current = []
    intro = None
    fence = False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fence = not fence
        if line.startswith("## ") and not fence:
            if intro is None:
                intro = "".join(current)
            else:
                parts.append("".join(current))
            current = []
        current.append(line)
    if intro is None:
        intro = "".join(current)
    elif current:
        parts.append("".join(current))
    return intro, parts


def merge_section(text, section, key):
    """`text` with the section of machine `key` replaced by `section` (added after the last machine section, or at
    the end, when there is none); every other section stays as it is."""
    intro, parts = split_sections(text)
    if not intro.strip():
        intro = INTRO
    marker = f"<!-- machine: {key} -->"
    machine_indices = [i for i, p in enumerate(parts) if "<!-- machine: " in p]
    same = [i for i, p in enumerate(parts) if marker in p]
    block = section.rstrip("\n") + "\n\n"
    if same:
        parts[same[0]] = block
        for i in reversed(same[1:]):
            del parts[i]
    elif machine_indices:
        parts.insert(machine_indices[-1] + 1, block)
    else:
        parts.append(block)
    parts = [p.rstrip("\n") + "\n\n" for p in parts]
    return (intro.rstrip("\n") + "\n\n" + "".join(parts)).rstrip("\n") + "\n"


def write_markdown(args, labels, results, checks, conversion):
    info = cpu_info()
    section = machine_section(args, labels, results, checks, conversion, info)
    text = open(args.markdown).read() if os.path.exists(args.markdown) else ""
    merged = merge_section(text, section, machine_key(info))
    tmp = args.markdown + ".tmp"
    with open(tmp, "w") as f:
        f.write(merged)
    os.replace(tmp, args.markdown)
    print(f"wrote this machine's section of {args.markdown}")


if __name__ == "__main__":
    main()
