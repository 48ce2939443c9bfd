#!/usr/bin/env python3
"""Checks effnet against the EfficientNet (V1) / Lite conventions that fixtures/family does not hold, built fresh.

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/check_family_variants.py --effnet .build/release/effnet [--work DIR]
(tools/crosscheck.py runs it too.)

fixtures/family holds timm's `tf_` ports, torchvision B0/B3 and Keras B0/B3. Each model below is built here by its
own framework at a tiny width (10 classes, 32×32, random weights calibrated on the sample photos as the fixtures
are), saved as its checkpoint (and, for torch models, its TorchScript ONNX export) in a temporary folder, and then
`effnet verify --reference` must match the framework's own outputs at 1e-4 and `effnet inspect` must name the
architecture and print seven MBConv stages with the framework's block counts:

- timm `efficientnet_b0` and `efficientnet_lite0`: timm's native models (symmetric padding, BatchNorm ε 1e-5), whose
  state dicts equal the `tf_` ports' (`--arch` picks them);
- torchvision `efficientnet_b5`: BatchNorm ε 1e-3 (B0–B4 use 1e-5), `--arch efficientnet_b5`;
- `efficientnet-pytorch` (PyPI `efficientnet-pytorch`) `efficientnet-b0` and `efficientnet-b3` at width 0.5 / 0.6,
  depth 0.5 (several blocks per stage under its running block numbers), saved with `torch.save` (`.pth`), detected
  without `--arch`.
Nothing is written under fixtures/. Exit 0 when every check passes, 1 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys
import shutil
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
_want = os.environ.get("EFFNET_PYTHON") or os.path.join(ROOT, ".venv", "bin", "python")
if os.path.exists(_want) and os.path.abspath(sys.prefix) != os.path.abspath(os.path.join(os.path.dirname(_want), "..")) \
        and not os.environ.get("EFFNET_REEXEC"):
    os.environ["EFFNET_REEXEC"] = "1"
    os.execv(_want, [_want] + sys.argv)

sys.path.insert(0, HERE)

SIZE = 32
CLASSES = 10

# (id, framework, variant, width, depth, seed, --arch or None, expected architecture prefix)
VARIANTS = [
    ("timm_efficientnet_b0", "timm", "efficientnet_b0", 0.1, 0.25, 401, "efficientnet_b0", "efficientnet_b0"),
    ("timm_efficientnet_lite0", "timm", "efficientnet_lite0", 0.05, 0.25, 402, "efficientnet_lite0",
     "efficientnet_lite0"),
    ("torchvision_efficientnet_b5", "torchvision", "efficientnet_b5", 0.16, 0.25, 403, "efficientnet_b5",
     "efficientnet_b5"),
    # efficientnet-pytorch compares the first block's stride, a list, with 1: that block never adds its input, even
    # at stride 1 with equal widths (at width ≤ 0.25 the stem and stage 1 both have 8 channels; never at a variant's
    # own widths). effnet adds it, as timm does, so these widths keep the stem and stage 1 apart (README).
    ("efficientnet_pytorch_b0", "efficientnet-pytorch", "efficientnet-b0", 0.5, 0.5, 404, None, "efficientnet-b0"),
    ("efficientnet_pytorch_b3", "efficientnet-pytorch", "efficientnet-b3", 0.6, 0.5, 405, None, "efficientnet-b"),
]


def build(framework, variant, width, depth):
    """The framework's own model (eval mode), its stage repeats and the eval preprocessing of the photos."""
    import torch

    from effnet_fixtures import env, photos

    if framework == "timm":
        timm = env.import_timm()
        from timm.models import efficientnet as tem

        gen = tem._gen_efficientnet_lite if "lite" in variant else tem._gen_efficientnet
        model = gen(variant, channel_multiplier=width, depth_multiplier=depth, num_classes=CLASSES, pretrained=False)
        cfg = timm.models.get_pretrained_cfg(variant)
        spec = photos.preprocess_spec("timm", SIZE, crop_pct=cfg.crop_pct, interpolation=cfg.interpolation,
                                      mean=cfg.mean, std=cfg.std)
        return model.eval(), [len(s) for s in model.blocks], spec
    if framework == "torchvision":
        from functools import partial

        env.import_torchvision()
        from torchvision.models import efficientnet as tvm

        setting, last = tvm._efficientnet_conf(variant, width_mult=width, depth_mult=depth)
        eps = 1e-3 if variant in ("efficientnet_b5", "efficientnet_b6", "efficientnet_b7") else 1e-5
        model = tvm.EfficientNet(setting, dropout=0.2, last_channel=last, num_classes=CLASSES,
                                 norm_layer=partial(torch.nn.BatchNorm2d, eps=eps))
        return model.eval(), [len(s) for s in list(model.features)[1:-1]], photos.preprocess_spec("torchvision", SIZE)
    from efficientnet_pytorch import EfficientNet
    from efficientnet_pytorch.utils import round_repeats

    model = EfficientNet.from_name(variant, width_coefficient=width, depth_coefficient=depth, num_classes=CLASSES,
                                   image_size=SIZE)
    model.set_swish(memory_efficient=False)  # the traceable SiLU (same values)
    repeats = [round_repeats(a.num_repeat, model._global_params) for a in model._blocks_args]
    return model.eval(), repeats, photos.preprocess_spec("timm", SIZE)


def make(entry, work):
    """Writes <work>/<id>/{checkpoint, model.onnx, io.npz}; returns (files, repeats)."""
    import numpy as np
    import torch

    from effnet_fixtures import calibrate, env, onnx_export
    from effnet_fixtures.npz import write_npz
    import make_fixtures

    fid, framework, variant, width, depth, seed = entry[:6]
    env.deterministic(seed)
    model, repeats, spec = build(framework, variant, width, depth)
    all_photos, x, _ = make_fixtures.photo_inputs("timm" if framework == "efficientnet-pytorch" else framework, spec,
                                                  "coffee")
    calibrate.calibrate_torch_model(model, spec, seed, all_photos)
    model.eval()
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    d = os.path.join(work, fid)
    os.makedirs(d, exist_ok=True)
    sd = model.state_dict()
    if framework == "efficientnet-pytorch":
        ckpt = os.path.join(d, "model.pth")
        torch.save(sd, ckpt)
    else:
        ckpt = os.path.join(d, "checkpoint.npz")
        write_npz(ckpt, {k: v.detach().numpy() for k, v in sd.items()}, compressed=True)
    files = [ckpt]
    if framework != "efficientnet-pytorch":  # its static-padding modules are timm's SAME pads with another name
        onnx_path = os.path.join(d, "model.onnx")
        onnx_export.export_torchscript(model, x, onnx_path, opset=17)
        files.append(onnx_path)
    np.savez(os.path.join(d, "io.npz"), input=x, output=y)
    return files, repeats


def run(effnet, work, report):
    """Every check, reported through `report(ok, what, detail)` (tools/crosscheck.py's)."""
    for entry in VARIANTS:
        fid, arch, prefix = entry[0], entry[6], entry[7]
        try:
            files, repeats = make(entry, work)
        except Exception as e:  # a framework that cannot build its model is a failed check, not a crash
            report(False, f"family variant {fid}: built by its framework", repr(e))
            continue
        io = os.path.join(work, fid, "io.npz")
        for path in files:
            name = f"family variant {fid}/{os.path.basename(path)}"
            flags = ["--arch", arch] if arch and not path.endswith(".onnx") else []
            v = subprocess.run([effnet, "verify", path, "--reference", io, "--tolerance", "1e-4", "--json"] + flags,
                               capture_output=True, text=True)
            detail = v.stderr.strip() or ""
            try:
                doc = json.loads(v.stdout)
                detail = detail or f"max_abs {max(o['max_abs'] for c in doc.get('checks', []) for o in c.get('outputs', []))}"
            except Exception:
                doc = {}
            report(v.returncode == 0 and doc.get("passed") is True, f"{name}: effnet verify at 1e-4", detail)
            i = subprocess.run([effnet, "inspect", path, "--json"] + flags, capture_output=True, text=True)
            try:
                doc = json.loads(i.stdout)
            except Exception:
                doc = {}
            architecture = doc.get("architecture") or ""
            stages = [row.get("layers") for row in doc.get("stages", [])][1:-1]
            # An ONNX graph records no BatchNorm ε once folded: it is named by its structure (its family prefix).
            want = prefix if not path.endswith(".onnx") else prefix.rstrip("0123456789")
            report(i.returncode == 0 and architecture.startswith(want) and stages == repeats,
                   f"{name}: effnet inspect names {want}… with stages {repeats}",
                   f"{architecture!r}, stages {stages}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--effnet", required=True)
    ap.add_argument("--work")
    args = ap.parse_args()
    failures = []

    def report(ok, what, detail=""):
        print(("ok    " if ok else "FAIL  ") + what + (f"  ({detail})" if detail else ""), flush=True)
        if not ok:
            failures.append(what)

    work = args.work or tempfile.mkdtemp(prefix="effnet-family-variants-")
    try:
        run(os.path.abspath(args.effnet), work, report)
    finally:
        if not args.work and not failures:
            shutil.rmtree(work, ignore_errors=True)  # kept when something failed, to look at
    kept = f" (work dir {work})" if args.work or failures else ""
    print(f"\n{'all family variant checks passed' if not failures else f'{len(failures)} FAILED'}{kept}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
