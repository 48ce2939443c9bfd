#!/usr/bin/env python3
"""Writes full-size calibrated EfficientNetV2s into bench-models/ (ignored by git: ~90 MB each, never committed).

Same folder layout and calibration as fixtures/models (see tools/make_fixtures.py):
  timm_tf_efficientnetv2_s        timm tf_efficientnetv2_s at 384: TorchScript folded, not folded, dynamo
  timm_tf_efficientnetv2_b0       timm tf_efficientnetv2_b0 at 224, TorchScript exporter (folded)
  timm_tf_efficientnet_b0         timm tf_efficientnet_b0 (V1) at 224, TorchScript exporter (folded)
  timm_tf_efficientnet_lite0      timm tf_efficientnet_lite0 at 224, TorchScript exporter (folded)
  torchvision_efficientnet_v2_s   torchvision efficientnet_v2_s at 384: TorchScript folded, not folded, dynamo
each with checkpoint.npz, io.npz (2 sample photos, framework output) and meta.json. Parameter counts are printed
and re-counted from the written files with the onnx package (timm tf_efficientnetv2_s: 21.46 M in PyTorch,
21.38 M in the folded ONNX, where each BatchNorm's γ/β became one conv bias).

Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/make_bench_models.py [--only ID ...] [--out DIR] [--threads N]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import make_fixtures as mf  # noqa: E402  (sets up the environment first)
import numpy as np  # noqa: E402
import onnx  # noqa: E402

TS17 = dict(style="torchscript", file="torchscript.onnx", opset=17, fold=True, dynamic_batch=True)

BENCH = [
    dict(id="timm_tf_efficientnetv2_s", framework="timm", variant="tf_efficientnetv2_s", full=True, size=384,
         classes=1000, seed=201, second_photo="chelsea", checkpoint_compressed=False, float64=False,
         exports=[TS17,
                  dict(style="torchscript", file="torchscript_nofold.onnx", opset=17, fold=False, dynamic_batch=True),
                  dict(style="dynamo", file="dynamo.onnx", opset=18, dynamic_batch=True)]),
    dict(id="timm_tf_efficientnetv2_b0", framework="timm", variant="tf_efficientnetv2_b0", full=True, size=224,
         classes=1000, seed=202, second_photo="chelsea", checkpoint_compressed=False, float64=False,
         exports=[TS17]),
    # EfficientNet (V1) B0 and EfficientNet-Lite0 at 224 for the peer benchmark (the 5×5 depthwise, ReLU6 paths).
    dict(id="timm_tf_efficientnet_b0", framework="timm", variant="tf_efficientnet_b0", full=True, size=224,
         classes=1000, seed=204, second_photo="chelsea", checkpoint_compressed=False, float64=False,
         exports=[TS17]),
    dict(id="timm_tf_efficientnet_lite0", framework="timm", variant="tf_efficientnet_lite0", full=True, size=224,
         classes=1000, seed=205, second_photo="chelsea", checkpoint_compressed=False, float64=False,
         exports=[TS17]),
    dict(id="torchvision_efficientnet_v2_s", framework="torchvision", variant="efficientnet_v2_s", full=True,
         size=384, classes=1000, seed=203, second_photo="chelsea", checkpoint_compressed=False, float64=False,
         exports=[TS17,
                  dict(style="torchscript", file="torchscript_nofold.onnx", opset=17, fold=False, dynamic_batch=True),
                  dict(style="dynamo", file="dynamo.onnx", opset=18, dynamic_batch=True)]),
]


def onnx_parameter_count(path):
    """Float elements over all initializers (each counted once), read back with the onnx package."""
    model = onnx.load(path)
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT)


def checkpoint_counts(path):
    with np.load(path) as z:
        floats = sum(z[k].size for k in z.files if z[k].dtype == np.float32)
        running = sum(z[k].size for k in z.files if k.endswith(("running_mean", "running_var")))
    return floats, running


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="*")
    p.add_argument("--out", default=os.path.join(mf.ROOT, "bench-models"))
    p.add_argument("--threads", type=int, default=2, help="torch threads (>1 changes float summation order)")
    args = p.parse_args()
    wanted = [b for b in BENCH if not args.only or b["id"] in args.only]
    os.makedirs(args.out, exist_ok=True)
    for b in wanted:
        t = time.time()
        meta = mf.make_torch_fixture(dict(b, threads=args.threads), args.out, generated_by="tools/make_bench_models.py")
        d = os.path.join(args.out, b["id"])
        floats, running = checkpoint_counts(os.path.join(d, "checkpoint.npz"))
        print(mf.summary(meta) + f" [{time.time() - t:.0f}s]")
        print(f"  PyTorch parameters {meta['parameters'] / 1e6:.2f} M; checkpoint.npz float elements "
              f"{floats / 1e6:.2f} M (of which BN running stats {running / 1e6:.3f} M)")
        for name in meta["files"]:
            print(f"  {name}: {onnx_parameter_count(os.path.join(d, name)) / 1e6:.2f} M float initializer elements "
                  f"(onnx), {os.path.getsize(os.path.join(d, name)) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
