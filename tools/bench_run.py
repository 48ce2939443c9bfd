#!/usr/bin/env python3
"""`effnet run` throughput and memory on ~1,000 photos against a plain Python PIL + onnxruntime loop, same files,
same machine, same run.

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/bench_run.py [--effnet .build/release/effnet] [--photos 1000]
          [--threads 2] [--markdown BENCHMARKS.md]

1. Makes the full-size timm `tf_efficientnetv2_b0` export (224) in the ignored `bench-models/` folder when it is
   missing (tools/make_bench_models.py).
2. Makes N photos of mixed sizes (shorter side 160…1600, aspect 0.5…2, JPEG quality 75…95, some PNG) in a
   temporary folder, each a random crop of one of the fixture photos (fixtures/images), resized with PIL; seeded.
3. Runs, each in its own process, alternating: `effnet run FOLDER -m B0 --preset timm --threads T --format jsonl
   --output FILE`, and a Python loop that opens each file with PIL, applies timm's eval transform for that preset
   (shorter side to 256 bicubic, center crop 224, ImageNet mean/std) and runs onnxruntime (T intra-op threads) one
   image at a time. Wall time of the whole process (model load included); peak RSS from wait4 (ru_maxrss).
   Also `effnet run` on the first 10 photos, for its peak RSS.
4. Checks that both give the same top-1 class on every photo (they must: same preprocessing, same model).
With --markdown FILE, replaces (or appends) the section "## run: images/s and peak memory" of FILE, leaving the
rest of the file as it is.
"""
import argparse
import datetime
import json
import os
import platform
import random
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

MODEL = os.path.join(ROOT, "bench-models", "timm_tf_efficientnetv2_b0", "torchscript.onnx")
SECTION = "## run: images/s and peak memory"

PY_LOOP = r'''
import json, os, sys
import numpy as np
import onnxruntime as ort
from PIL import Image
model, listing, threads, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
opts = ort.SessionOptions()
opts.intra_op_num_threads = threads
opts.inter_op_num_threads = 1
session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(3, 1, 1)
std = np.array([0.229, 0.224, 0.225], np.float32).reshape(3, 1, 1)
with open(listing) as f, open(out, "w") as o:
    for path in f.read().split("\n"):
        if not path:
            continue
        image = Image.open(path).convert("RGB")
        w, h = image.size
        s = int(224 / 0.875)
        nw, nh = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
        image = image.resize((nw, nh), Image.BICUBIC)
        left, top = int(round((nw - 224) / 2.0)), int(round((nh - 224) / 2.0))
        image = image.crop((left, top, left + 224, top + 224))
        x = (np.asarray(image, np.float32).transpose(2, 0, 1) / 255 - mean) / std
        logits = session.run(None, {name: x[None]})[0][0]
        o.write(json.dumps({"image": path, "top1": int(np.argmax(logits))}) + "\n")
'''


def make_photos(folder, count, seed=7):
    from PIL import Image
    sources = []
    for name in sorted(os.listdir(os.path.join(ROOT, "fixtures", "images"))):
        if name.endswith((".jpg", ".png")):
            try:
                sources.append(Image.open(os.path.join(ROOT, "fixtures", "images", name)).convert("RGB"))
            except Exception:
                pass
    rng = random.Random(seed)
    paths = []
    for k in range(count):
        src = rng.choice(sources)
        w, h = src.size
        cw, ch = max(8, int(w * rng.uniform(0.5, 1))), max(8, int(h * rng.uniform(0.5, 1)))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        short = rng.randint(160, 1600)
        aspect = rng.uniform(0.5, 2)
        size = (short, int(short * aspect)) if aspect >= 1 else (int(short / aspect), short)
        img = src.crop((x, y, x + cw, y + ch)).resize(size, Image.BILINEAR)
        path = os.path.join(folder, f"p{k // 100:02d}", f"photo{k:05d}" + (".png" if k % 10 == 9 else ".jpg"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if path.endswith(".png"):
            img.save(path, compress_level=1)
        else:
            img.save(path, quality=rng.randint(75, 95))
        paths.append(path)
    return sorted(paths)


def timed(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {proc.returncode}\n{err}")
    return seconds, usage.ru_maxrss * 1024 / 1e6, err


def top1s(path, key):
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return {r["image"]: (r["top"][0]["index"] if key == "effnet" else r["top1"]) for r in rows}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--effnet", default=os.path.join(ROOT, ".build", "release", "effnet"))
    p.add_argument("--photos", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--markdown")
    a = p.parse_args()
    if not os.path.exists(MODEL):
        subprocess.run([sys.executable, os.path.join(HERE, "make_bench_models.py"), "--only",
                        "timm_tf_efficientnetv2_b0"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "photos")
        t0 = time.perf_counter()
        paths = make_photos(folder, a.photos)
        print(f"made {len(paths)} photos in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        ten = os.path.join(tmp, "ten")
        os.makedirs(ten)
        for path in paths[:10]:
            os.symlink(path, os.path.join(ten, os.path.basename(path)))
        listing = os.path.join(tmp, "list.txt")
        with open(listing, "w") as f:
            f.write("\n".join(paths) + "\n")
        eff_out, py_out = os.path.join(tmp, "effnet.jsonl"), os.path.join(tmp, "python.jsonl")
        effnet = [a.effnet, "run", "--files-from", listing, "-m", MODEL, "--preset", "timm", "--threads",
                  str(a.threads), "--format", "jsonl", "--output", eff_out, "--top", "1"]
        python = [sys.executable, "-c", PY_LOOP, MODEL, listing, str(a.threads), py_out]
        results = {"effnet": [], "python": []}
        for r in range(a.rounds):
            for name, cmd in ([("effnet", effnet), ("python", python)] if r % 2 == 0 else
                              [("python", python), ("effnet", effnet)]):
                seconds, rss, _ = timed(cmd)
                results[name].append((seconds, rss))
                print(f"round {r}: {name} {len(paths) / seconds:.1f} images/s, {rss:.0f} MB", file=sys.stderr)
        _, rss10, _ = timed([a.effnet, "run", ten, "-m", MODEL, "--preset", "timm", "--threads", str(a.threads),
                             "--format", "jsonl", "--output", os.path.join(tmp, "ten.jsonl")])
        e, q = top1s(eff_out, "effnet"), top1s(py_out, "python")
        agree = sum(1 for k in q if e.get(k) == q[k])
    best = {k: min(v) for k, v in results.items()}
    ips = {k: a.photos / best[k][0] for k in best}
    peak = {k: max(r for _, r in v) for k, v in results.items()}
    print(json.dumps({"images_per_s": ips, "peak_rss_mb": peak, "effnet_10_images_peak_rss_mb": rss10,
                      "top1_agree": f"{agree}/{len(q)}"}, indent=1))
    if a.markdown:
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        lines = [
            SECTION, "",
            f"Measured {datetime.date.today()} on {cpu}, {os.cpu_count()} cores; {platform.platform()}; with "
            f"`tools/bench_run.py --markdown BENCHMARKS.md` (defaults: {a.photos} photos, {a.threads} threads, "
            f"{a.rounds} alternating rounds, best of each).", "",
            f"{a.photos} photos of mixed sizes (shorter side 160…1600, aspect 0.5…2, JPEG and PNG) cut from the fixture "
            "photos; the full-size timm `tf_efficientnetv2_b0` export at 224 (random weights). effnet: `effnet run "
            "--files-from LIST --preset timm --format jsonl --output FILE`. Python: a plain loop of PIL "
            "(`open`, `convert(\"RGB\")`, timm's eval resize/crop/normalize) and onnxruntime, one image at a time, the "
            "same threads. Whole-process wall time (model load included) and peak RSS (ru_maxrss).", "",
            "| | images/s | peak RSS |", "| --- | ---: | ---: |",
            f"| effnet run | {ips['effnet']:.1f} | {peak['effnet']:.0f} MB |",
            f"| PIL + onnxruntime loop | {ips['python']:.1f} | {peak['python']:.0f} MB |",
            f"| ratio | {ips['effnet'] / ips['python']:.2f}× | |",
            f"| effnet run, first 10 photos only | | {rss10:.0f} MB |", "",
            f"Top-1 class agrees on {agree} of {len(q)} photos. Peak RSS grows with the largest photo decoded (one per "
            "worker), not with the number of photos. The machine is shared: compare the ratio, not absolute "
            "numbers across runs.", "",
        ]
        text = open(a.markdown).read() if os.path.exists(a.markdown) else ""
        start = text.find(SECTION)
        if start >= 0:
            end = text.find("\n## ", start + len(SECTION))
            text = text[:start] + "\n".join(lines) + (text[end + 1:] if end >= 0 else "")
        else:
            text = text.rstrip("\n") + "\n\n" + "\n".join(lines)
        with open(a.markdown, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
