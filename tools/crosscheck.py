#!/usr/bin/env python3
"""Cross-checks what `effnet convert` writes with real consumers, for every model fixture.

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/crosscheck.py --effnet .build/release/effnet [--work DIR]

For each `fixtures/models/<id>/`:
  1. every ONNX export → `effnet convert` (optimized) → `onnx.checker.check_model(full_check=True)` and
     onnxruntime on the fixture input, equal to the framework's output (`io.npz`) within the tolerance below;
     → `effnet convert --no-optimize` keeps every initializer bit-identical;
  2. checkpoint.npz → ONNX (optimized and not) → checker + onnxruntime, same tolerance;
     round trip checkpoint.npz → ONNX (--no-optimize) → .npz gives the same names and bit-identical tensors;
  3. checkpoint.npz → `--naming timm|torchvision` (the source framework; timm for Keras) → `np.load` →
     `load_state_dict(strict=True)` into the framework's own model → output equal to io.npz (Keras: softmax of
     the timm twin against Keras's softmax); the same from the BN-folded TorchScript export for torch fixtures.

  4. every `fixtures/exporters/<id>/model.onnx` (the Keras B0 fixture as Keras 3's export, onnxslim and
     onnxruntime's basic and extended optimized files write it) → `effnet inspect --json` shows the canonical fused
     network (5 Fused-MBConv + 5 MBConv, no Cast, one Transpose: the NHWC input's) → `effnet convert` → checker +
     onnxruntime equal to that exporter's framework output (Keras tolerance).
For each `fixtures/formats/<id>/` (tools/make_format_fixtures.py: safetensors, torch.save zip/legacy, Keras HDF5,
float16 ONNX):
  5. every weight file → `effnet convert` → optimized ONNX → checker + onnxruntime vs the framework's io.npz;
     torch ones also → `.safetensors --naming <framework>` → `safetensors.torch.load_file` →
     `load_state_dict(strict=True)` → output equal to io.npz; float16 ONNX → optimized (float32) ONNX →
     onnxruntime vs onnxruntime's output of the float16 file (io_fp16*.npz).
For each `fixtures/family/<id>/` (tools/make_family_fixtures.py: EfficientNet V1 / Lite from timm, torchvision, Keras):
  6. the ONNX export and the checkpoint → `effnet convert` → optimized ONNX → checker + onnxruntime vs io.npz.
  7. tools/check_family_variants.py: timm's native `efficientnet_b0`/`efficientnet_lite0`, torchvision B5 (ε 1e-3)
     and the `efficientnet-pytorch` package's B0/B3, built by their frameworks in the work folder → `effnet verify`
     against the framework's outputs at 1e-4, `effnet inspect` names them with the framework's stage depths.

Tolerance: |a − e| ≤ atol + rtol·|e| with atol = rtol = 1e-4 for logits; for Keras's softmax outputs (values
around 1e-3 … 0.6) atol = 1e-6 and rtol = 1e-4, so that a small probability must still be right to 0.01 %.
Exit 0 when every check passes, 1 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
_want = os.environ.get("EFFNET_PYTHON") or os.path.join(ROOT, ".venv", "bin", "python")
if os.path.exists(_want) and os.path.abspath(sys.prefix) != os.path.abspath(os.path.join(os.path.dirname(_want), "..")) \
        and not os.environ.get("EFFNET_REEXEC"):
    os.environ["EFFNET_REEXEC"] = "1"
    os.execv(_want, [_want] + sys.argv)

import numpy as np  # noqa: E402

sys.path.insert(0, HERE)

failures = []


def report(ok, what, detail=""):
    print(("ok    " if ok else "FAIL  ") + what + (f"  ({detail})" if detail else ""), flush=True)
    if not ok:
        failures.append(what)


def convert(effnet, src, dst, *extra):
    r = subprocess.run([effnet, "convert", src, "-o", dst, *extra], capture_output=True, text=True)
    if r.returncode != 0:
        report(False, f"effnet convert {os.path.relpath(src, ROOT)} -o {os.path.basename(dst)} {' '.join(extra)}",
               r.stderr.strip())
        return False
    return True


def close(a, e, atol, rtol):
    a = np.asarray(a, np.float64)
    e = np.asarray(e, np.float64)
    return a.shape == e.shape and bool(np.all(np.abs(a - e) <= atol + rtol * np.abs(e))), float(np.abs(a - e).max())


def check_onnx(path, x, y, atol, rtol, label):
    import onnx
    import onnxruntime as ort
    try:
        onnx.checker.check_model(path, full_check=True)
    except Exception as error:  # noqa: BLE001 - the checker raises several types
        report(False, f"{label}: onnx.checker", str(error).splitlines()[0])
        return
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    out = session.run(None, {session.get_inputs()[0].name: x})[0]
    ok, diff = close(out, y, atol, rtol)
    report(ok, f"{label}: checker + onnxruntime vs framework", f"max |Δ| {diff:.2e}")


def initializers(path):
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path)
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def npz_arrays(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def torch_model(meta):
    """The fixture's framework model, rebuilt exactly as tools/make_fixtures.py built it."""
    import make_fixtures
    reduced = meta["reduced"]
    fx = dict(framework=meta["framework"], variant=meta["variant"], size=meta["input_size"],
              classes=reduced["num_classes"], depths=reduced["stage_depths"],
              width=reduced.get("channel_multiplier", reduced.get("width_mult", 1.0)))
    model, _, _ = make_fixtures.build_torch(fx)
    return model


def strict_load(model, arrays, label):
    import torch
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        report(False, f"{label}: load_state_dict(strict=True)", str(error).splitlines()[0])
        return False
    return True


def check_torch_strict(npz, meta, x, y, label):
    import torch
    model = torch_model(meta)
    if not strict_load(model, npz_arrays(npz), label):
        return
    with torch.no_grad():
        out = model(torch.from_numpy(x)).numpy()
    ok, diff = close(out, y, 1e-4, 1e-4)
    report(ok, f"{label}: strict load + framework output", f"max |Δ| {diff:.2e}")


def check_keras_twin(npz, meta, x, y, label):
    import torch
    from effnet_fixtures import keras_crosscheck
    reduced = meta["reduced"]
    name = meta["variant"]
    model = keras_crosscheck.timm_twin(name, reduced["width_coefficient"], reduced["stage_depths"], y.shape[1])
    if not strict_load(model, npz_arrays(npz), label):
        return
    t = x.transpose(0, 3, 1, 2).astype(np.float32)
    if name.lower().endswith("b0"):
        mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
        std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)
        t = (t / 255.0 - mean) / std
    else:
        t = t / 128.0 - 1.0
    with torch.no_grad():
        p = torch.softmax(model(torch.from_numpy(np.ascontiguousarray(t))), dim=1).numpy()
    ok, diff = close(p, y, 1e-6, 1e-4)
    report(ok, f"{label}: strict load into timm twin + softmax vs Keras", f"max |Δ| {diff:.2e}")


def check_exporters(effnet, root, work):
    """4.: every exporter's file of the same Keras B0 optimizes to the same fused network and computes the same."""
    if not os.path.isdir(root):
        return
    for fid in sorted(os.listdir(root)):
        src = os.path.join(root, fid, "model.onnx")
        io = npz_arrays(os.path.join(root, fid, "io.npz"))
        r = subprocess.run([effnet, "inspect", src, "--json"], capture_output=True, text=True)
        if r.returncode != 0:
            report(False, f"exporters/{fid}: effnet inspect --json", r.stderr.strip())
            continue
        doc = json.loads(r.stdout)
        kinds = [b["kind"] for b in doc["blocks"]]
        ops = doc["ops"]
        canonical = (kinds.count("fused_mbconv") == 5 and kinds.count("mbconv") == 5 and "Cast" not in ops
                     and ops.get("Transpose", 0) == 1)
        report(canonical, f"exporters/{fid}: inspect shows 5 Fused-MBConv + 5 MBConv, no Cast, one Transpose",
               f"blocks {len(kinds)}, Cast {ops.get('Cast', 0)}, Transpose {ops.get('Transpose', 0)}")
        dst = os.path.join(work, f"exporters.{fid}.opt.onnx")
        if convert(effnet, src, dst):
            check_onnx(dst, io["input"], io["output"], 1e-6, 1e-4, f"exporters/{fid} → optimized ONNX")


def check_formats(effnet, root, work):
    """Section 4: the weight files of fixtures/formats through effnet into onnxruntime and back into torch."""
    import make_format_fixtures
    import make_fixtures
    import torch
    from safetensors.torch import load_file

    for fid in sorted(os.listdir(root)):
        folder = os.path.join(root, fid)
        spec = make_format_fixtures.SOURCES[fid]
        keras = spec["framework"] == "keras"
        arch = ["--arch", "EfficientNetV2B0"] if keras else []
        atol, rtol = (1e-6, 1e-4) if keras else (1e-4, 1e-4)
        io = npz_arrays(os.path.join(folder, "io.npz"))
        x, y = io["input"], io["output"]
        for name in sorted(os.listdir(folder)):
            if name.endswith(".npz") or name.endswith(".json"):
                continue
            src = os.path.join(folder, name)
            out = os.path.join(work, f"formats.{fid}.{name}")
            if name.startswith("fp16"):
                ref = npz_arrays(os.path.join(folder, "io_fp16_io.npz" if name == "fp16_io.onnx" else "io_fp16.npz"))
                if convert(effnet, src, out + ".onnx"):
                    # effnet widens the model: a float16 input becomes float32 (exactly). A float16 reference output is
                    # rounded to 11 significant bits: rtol 2^-10 covers that rounding (half a float16 ulp is 2^-11).
                    rtol16 = 2.0 ** -10 if ref["output"].dtype == np.float16 else 1e-4
                    check_onnx(out + ".onnx", ref["input"].astype(np.float32), ref["output"], 1e-4, rtol16,
                               f"formats/{fid}/{name} → optimized float32 ONNX vs onnxruntime on the float16 file")
                continue
            if convert(effnet, src, out + ".onnx", *arch):
                check_onnx(out + ".onnx", x, y, atol, rtol, f"formats/{fid}/{name} → optimized ONNX")
            if keras:
                continue
            naming = spec["framework"]
            if convert(effnet, src, out + ".safetensors", "--naming", naming):
                model, _, _ = make_fixtures.build_torch(spec)
                state = load_file(out + ".safetensors")
                try:
                    model.load_state_dict(state, strict=True)
                except RuntimeError as error:
                    report(False, f"formats/{fid}/{name} → safetensors: strict load", str(error).splitlines()[0])
                    continue
                with torch.no_grad():
                    got = model.eval()(torch.from_numpy(x)).numpy()
                ok, diff = close(got, y, 1e-4, 1e-4)
                report(ok, f"formats/{fid}/{name} → --naming {naming} .safetensors: load_file + strict load + output",
                       f"max |Δ| {diff:.2e}")


def check_family(effnet, root, work):
    """6.: every EfficientNet V1 / Lite fixture file → optimized ONNX → checker + onnxruntime vs its framework."""
    for fid in sorted(os.listdir(root)):
        folder = os.path.join(root, fid)
        io = npz_arrays(os.path.join(folder, "io.npz"))
        keras = fid.startswith("keras")
        atol, rtol = (1e-6, 1e-4) if keras else (1e-4, 1e-4)
        for name in ("model.onnx", "checkpoint.npz", "model.weights.h5"):
            src = os.path.join(folder, name)
            if not os.path.exists(src):
                continue
            dst = os.path.join(work, f"family.{fid}.{name.split('.')[0]}.opt.onnx")
            if convert(effnet, src, dst):
                check_onnx(dst, io["input"], io["output"], atol, rtol, f"family/{fid}/{name} → optimized ONNX")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--effnet", required=True)
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "fixtures", "models"))
    ap.add_argument("--exporters", default=os.path.join(ROOT, "fixtures", "exporters"))
    ap.add_argument("--work")
    ap.add_argument("--only-exporters", action="store_true", help="run only the exporter checks (4.)")
    args = ap.parse_args()
    effnet = os.path.abspath(args.effnet)
    work = args.work or tempfile.mkdtemp(prefix="effnet-crosscheck-")
    os.makedirs(work, exist_ok=True)
    for fid in ([] if args.only_exporters else sorted(os.listdir(args.fixtures))):
        folder = os.path.join(args.fixtures, fid)
        meta = json.load(open(os.path.join(folder, "meta.json")))
        io = npz_arrays(os.path.join(folder, "io.npz"))
        x, y = io["input"], io["output"]
        keras = meta["framework"] == "keras"
        # A reduced-width Keras checkpoint fits both the B-series and S tables, whose in-model preprocessing
        # differs (x/255 then ImageNet normalization, or x/128 − 1): the weights cannot tell, so name it.
        arch = ["--arch", "EfficientNetV2" + meta["variant"].split("-")[1].upper()] if keras else []
        atol, rtol = (1e-6, 1e-4) if keras else (1e-4, 1e-4)
        out = lambda name: os.path.join(work, f"{fid}.{name}")  # noqa: E731

        for export in sorted(f for f in os.listdir(folder) if f.endswith(".onnx")):
            src = os.path.join(folder, export)
            stem = export[:-5]
            if convert(effnet, src, out(stem + ".opt.onnx")):
                check_onnx(out(stem + ".opt.onnx"), x, y, atol, rtol, f"{fid}/{export} → optimized ONNX")
            if convert(effnet, src, out(stem + ".plain.onnx"), "--no-optimize"):
                a, b = initializers(src), initializers(out(stem + ".plain.onnx"))
                same = a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes() for k in a)
                report(same, f"{fid}/{export} → ONNX --no-optimize keeps initializers bit-identical",
                       f"{len(a)} initializers")

        ckpt = os.path.join(folder, "checkpoint.npz")
        if convert(effnet, ckpt, out("ckpt.opt.onnx"), *arch):
            check_onnx(out("ckpt.opt.onnx"), x, y, atol, rtol, f"{fid}/checkpoint.npz → optimized ONNX")
        if convert(effnet, ckpt, out("ckpt.plain.onnx"), "--no-optimize", *arch):
            check_onnx(out("ckpt.plain.onnx"), x, y, atol, rtol, f"{fid}/checkpoint.npz → ONNX --no-optimize")
            if convert(effnet, out("ckpt.plain.onnx"), out("roundtrip.npz")):
                a, b = npz_arrays(ckpt), npz_arrays(out("roundtrip.npz"))
                # num_batches_tracked carries no weight; the exporter writes it as zeros when the source had it.
                keys = [k for k in a if not k.endswith("num_batches_tracked")]
                missing = [k for k in keys if k not in b]
                same = not missing and all(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
                                           and a[k].tobytes() == b[k].tobytes() for k in keys)
                report(same, f"{fid}/checkpoint.npz → ONNX → .npz is bit-identical",
                       f"{len(keys)} tensors" + (f", missing {missing[:3]}" if missing else ""))

        naming = "timm" if keras else meta["framework"]
        if convert(effnet, ckpt, out(f"{naming}.npz"), "--naming", naming, *arch):
            with zipfile.ZipFile(out(f"{naming}.npz")) as z:
                report(z.testzip() is None, f"{fid} → {naming}.npz: zip CRCs")
            if keras:
                check_keras_twin(out(f"{naming}.npz"), meta, x, y, f"{fid} → --naming timm")
            else:
                check_torch_strict(out(f"{naming}.npz"), meta, x, y, f"{fid} → --naming {naming}")
        if not keras and os.path.exists(os.path.join(folder, "torchscript.onnx")):
            if convert(effnet, os.path.join(folder, "torchscript.onnx"), out(f"onnx.{naming}.npz"), "--naming", naming):
                check_torch_strict(out(f"onnx.{naming}.npz"), meta, x, y,
                                   f"{fid}/torchscript.onnx (BN folded) → --naming {naming}")

    check_exporters(effnet, args.exporters, work)
    check_formats(effnet, os.path.join(ROOT, "fixtures", "formats"), work)
    if not args.only_exporters:
        check_family(effnet, os.path.join(ROOT, "fixtures", "family"), work)
        import check_family_variants
        check_family_variants.run(effnet, os.path.join(work, "family-variants"), report)

    print(f"\n{'all cross-checks passed' if not failures else f'{len(failures)} cross-check(s) FAILED'} (work dir {work})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
