#!/usr/bin/env python3
"""Top-1 / top-5 agreement of `effnet run` with the framework pipeline on the real EfficientNet-Lite weights.

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/check_real_weights.py [--effnet BIN] [--lite 0 1 2] [FOLDER ...]

Needs weights/efficientnet-liteN.pth (tools/fetch_lite_weights.py). For each Lite variant:

- framework pipeline: timm `tf_efficientnet_liteN` with the `.pth` loaded strictly (efficientnet-pytorch names
  mapped to timm's), exported with `torch.onnx.export` (op set 17, dynamic batch) and run by onnxruntime on images
  preprocessed by timm's own eval transform (`resolve_data_config` + `create_transform`: shorter side to
  ⌊S / crop_pct⌋ bicubic, center crop S, mean = std = 0.5), then softmax;
- effnet: `effnet run --format jsonl --top 5 -m weights/efficientnet-liteN.pth IMAGES` (the `.pth` read by effnet
  itself; its preprocessing is the architecture's timm `pretrained_cfg`, the same one).

Images: the sample photos in weights/photos (copied there by the fetch script), every image in fixtures/images,
and every image under the FOLDERs given. Reports per image the top-5 of both, top-1 and top-5 (same indices in the
same order) agreement counts, and the largest probability difference over the top 5; exits 1 unless every image
agrees on all five indices with probabilities within --tolerance (default 1e-4).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from effnet_fixtures import env  # noqa: E402,F401  (lenient torchvision import, one torch thread)
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def timm_state_dict(sd, model):
    """efficientnet-pytorch names → timm names: blocks are numbered flat there, per stage in timm."""
    positions = [(s, i) for s, stage in enumerate(model.blocks) for i in range(len(stage))]
    out = {}
    top = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
    for name, tensor in sd.items():
        parts = name.split(".")
        if parts[0] in top:
            out[".".join([top[parts[0]]] + parts[1:])] = tensor
            continue
        assert parts[0] == "_blocks", name
        n = int(parts[1])
        s, i = positions[n]
        ds = f"_blocks.{n}._expand_conv.weight" not in sd  # DepthwiseSeparableConv: no expansion
        layer = (
            {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
            if ds
            else {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                  "_project_conv": "conv_pwl", "_bn2": "bn3"}
        )[parts[2]]
        out[".".join(["blocks", str(s), str(i), layer] + parts[3:])] = tensor
    return out


def images(folders):
    found = []
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        for base, _, files in os.walk(folder):
            for f in sorted(files):
                if f.lower().endswith(IMAGE_EXTENSIONS):
                    found.append(os.path.join(base, f))
    return sorted(set(found))


def framework(variant, weights, paths, tmp):
    import onnxruntime as ort
    import timm

    model = timm.create_model(f"tf_efficientnet_lite{variant}", pretrained=False).eval()
    sd = torch.load(weights, map_location="cpu", weights_only=True)
    model.load_state_dict(timm_state_dict(sd, model), strict=True)
    config = timm.data.resolve_data_config({}, model=model)
    transform = timm.data.create_transform(**config)
    size = config["input_size"][1]
    onnx_path = os.path.join(tmp, f"lite{variant}.onnx")
    torch.onnx.export(
        model, torch.zeros(1, 3, size, size), onnx_path, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=17, dynamo=False)
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    results = {}
    for path in paths:
        x = transform(Image.open(path).convert("RGB")).unsqueeze(0).numpy()
        logits = session.run(None, {"input": x})[0][0].astype(np.float64)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        top = np.argsort(-p, kind="stable")[:5]
        results[path] = [(int(k), float(p[k])) for k in top]
    return config, results


def write_reference(variant, weights_dir, tmp):
    """The framework pipeline's top 5 on weights/photos, as weights/efficientnet-liteN.reference.json, for the
    Swift test (Tests/CLITests/RealWeightsTests.swift), which has no Python to ask."""
    weights = os.path.join(weights_dir, f"efficientnet-lite{variant}.pth")
    paths = images([os.path.join(weights_dir, "photos")])
    config, ref = framework(variant, weights, paths, tmp)
    doc = {
        "framework": f"timm tf_efficientnet_lite{variant} + onnxruntime",
        "preprocessing": {k: config[k] for k in ("input_size", "crop_pct", "interpolation", "mean", "std")},
        "images": {os.path.basename(p): [[k, prob] for k, prob in ref[p]] for p in paths},
    }
    target = os.path.join(weights_dir, f"efficientnet-lite{variant}.reference.json")
    with open(target + ".part", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(target + ".part", target)
    print(f"{target}: framework top 5 of {len(paths)} photos")


def effnet(binary, weights, paths):
    out = subprocess.run(
        [binary, "run", "--format", "jsonl", "--top", "5", "-m", weights, *paths], check=True, capture_output=True,
        text=True).stdout
    results = {}
    for line in out.splitlines():
        r = json.loads(line)
        results[r["image"]] = [(t["index"], t["probability"], t.get("label")) for t in r["top"]]
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", help="more folders of images")
    ap.add_argument("--effnet", default=None, help="effnet binary (default: .build/release/effnet, else debug)")
    ap.add_argument("--lite", nargs="+", default=["0", "1", "2"])
    ap.add_argument("--weights", default=os.path.join(ROOT, "weights"))
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--write-reference", action="store_true",
                    help="only write weights/efficientnet-liteN.reference.json (the framework's top 5 on "
                         "weights/photos) for the Swift test")
    args = ap.parse_args()
    if args.write_reference:
        torch.set_num_threads(1)
        with tempfile.TemporaryDirectory() as tmp:
            for v in args.lite:
                write_reference(v, args.weights, tmp)
        return
    binary = args.effnet or next(
        (p for p in (os.path.join(ROOT, ".build", c, "effnet") for c in ("release", "debug")) if os.path.exists(p)),
        None)
    if binary is None:
        sys.exit("no effnet binary: build it or pass --effnet")
    paths = images([os.path.join(args.weights, "photos"), os.path.join(ROOT, "fixtures", "images")] + args.folders)
    failed = False
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        for v in args.lite:
            weights = os.path.join(args.weights, f"efficientnet-lite{v}.pth")
            if not os.path.exists(weights):
                sys.exit(f"{weights}: missing; run tools/fetch_lite_weights.py")
            config, ref = framework(v, weights, paths, tmp)
            got = effnet(binary, weights, paths)
            top1 = top5 = 0
            worst = 0.0
            print(f"EfficientNet-Lite{v}: timm tf_efficientnet_lite{v} + onnxruntime vs effnet on {len(paths)} images "
                  f"(size {config['input_size'][1]}, crop_pct {config['crop_pct']}, {config['interpolation']}, "
                  f"mean {config['mean']}, std {config['std']})")
            for path in paths:
                r = ref[path]
                e = got.get(path)
                if e is None:
                    print(f"  {path}: effnet gave no result")
                    failed = True
                    continue
                same1 = r[0][0] == e[0][0]
                same5 = [k for k, _ in r] == [k for k, _, _ in e]
                diff = max(abs(rp - ep) for (_, rp), (_, ep, _) in zip(r, e))
                worst = max(worst, diff)
                top1 += same1
                top5 += same5
                ok = same5 and diff <= args.tolerance
                failed |= not ok
                label = e[0][2] or ""
                print(f"  {'ok ' if ok else 'BAD'} {os.path.relpath(path, ROOT)}: effnet "
                      + ", ".join(f"{k} {p:.4f}" for k, p, _ in e)
                      + f" ({label}); framework " + ", ".join(f"{k} {p:.4f}" for k, p in r)
                      + f"; max |Δp| {diff:.1e}")
            print(f"  top-1 agreement {top1}/{len(paths)}, top-5 (indices and order) {top5}/{len(paths)}, "
                  f"max |Δp| over top 5: {worst:.2e}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
