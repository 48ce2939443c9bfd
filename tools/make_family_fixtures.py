#!/usr/bin/env python3
"""Writes fixtures/family/<model-id>/: tiny EfficientNet (V1) and EfficientNet-Lite models from timm and torchvision.

Each model is the framework's own class at a small width and depth (10 classes, 32×32 input, one block per stage, so the
whole folder stays small), with random weights calibrated as tools/make_fixtures.py does (γ/β randomized, BatchNorm statistics
from real sample photos plus noise, classifier scaled so that softmax is neither flat nor saturated):

- timm_tf_efficientnet_b0: timm `tf_efficientnet_b0` generator at width 0.1, depth 0.25 (SE, SiLU, 3×3 and 5×5
  depthwise, TF "SAME" padding); timm_tf_efficientnet_b3: B3's own multipliers × 0.1 (width 0.12, depth 0.25);
- timm_tf_efficientnet_lite0 / timm_tf_efficientnet_lite4: `tf_efficientnet_lite*` (no SE, ReLU6, stem 32 and head
  1280 fixed, first and last stage depths fixed) at width 0.05 / 0.07, depth 0.25;
- torchvision_efficientnet_b0 / torchvision_efficientnet_b3: torchvision `EfficientNet` from
  `_efficientnet_conf("efficientnet_b0", 0.1, 0.25)` / `("efficientnet_b3", 0.12, 0.25)`.

Every model has both its checkpoint and its ONNX export. Files (~4.1 MB in all): `checkpoint.npz` (the state dict), `model.onnx` (`torch.onnx.export`, TorchScript exporter, op set 17,
dynamic batch, BN folded; timm `tf_` models carry their dynamic SAME-padding subgraphs), `io.npz` (`input`, a batch
of two sample photos preprocessed by the framework's eval transform, and `output`, the framework's logits) and
`meta.json`. Keras's EfficientNet (V1) (`keras.applications.EfficientNetB0`/`B3` code at width 0.1 / 0.12, depth
0.25, its Normalization layer set to ImageNet statistics) gives its weights (B0: `model.weights.h5`, Keras 3
`save_weights`; B3: `checkpoint.npz`, `{variable path: value}`, compressed for the size budget) and `model.onnx` (Keras 3's own ONNX export, torch backend), with Keras's softmax outputs in io.npz (NHWC raw
0..255 pixel input).
Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/make_family_fixtures.py [ID ...]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from effnet_fixtures import env  # noqa: E402  (first: lenient torchvision import)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from effnet_fixtures import calibrate, folder, onnx_export, photos  # noqa: E402
from effnet_fixtures.npz import write_npz  # noqa: E402
import make_fixtures  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "family")
SIZE = 32
CLASSES = 10

FIXTURES = {
    "timm_tf_efficientnet_b0": dict(framework="timm", variant="tf_efficientnet_b0", width=0.1, depth=0.25,
                                    seed=301, second_photo="coffee"),
    "timm_tf_efficientnet_b3": dict(framework="timm", variant="tf_efficientnet_b3", width=0.12, depth=0.25,
                                    seed=302, second_photo="rocket"),
    "timm_tf_efficientnet_lite0": dict(framework="timm", variant="tf_efficientnet_lite0", width=0.05, depth=0.25,
                                       seed=303, second_photo="coffee"),
    "timm_tf_efficientnet_lite4": dict(framework="timm", variant="tf_efficientnet_lite4", width=0.07, depth=0.25,
                                       seed=304, second_photo="chelsea"),
    "torchvision_efficientnet_b0": dict(framework="torchvision", variant="efficientnet_b0", width=0.1, depth=0.25,
                                        seed=305, second_photo="rocket"),
    "torchvision_efficientnet_b3": dict(framework="torchvision", variant="efficientnet_b3", width=0.12, depth=0.25,
                                        seed=308, second_photo="coffee"),
    # Keras applications' EfficientNet (V1): B0 as its weights (`model.weights.h5`) and Keras's ONNX export, B3
    # (B3's width 1.2 × 0.1) as its export only.
    "keras_efficientnet_b0": dict(framework="keras", variant="EfficientNetB0", width=0.1, depth=0.25, seed=306,
                                  second_photo="coffee"),
    "keras_efficientnet_b3": dict(framework="keras", variant="EfficientNetB3", width=0.12, depth=0.25, seed=307,
                                  second_photo="rocket", checkpoint="npz"),
}

# The Normalization layer of Keras's EfficientNet holds mean/variance as weights; `weights=None` leaves them at
# 0/1. The fixtures set them as an adapted layer would for ImageNet (variance = std²), so effnet must read them.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def build(fx):
    """The framework's model (eval mode) and its eval preprocessing spec."""
    if fx["framework"] == "timm":
        timm = env.import_timm()
        from timm.models import efficientnet as tem

        kwargs = dict(channel_multiplier=fx["width"], depth_multiplier=fx["depth"], num_classes=CLASSES,
                      pretrained=False)
        if fx["variant"].startswith("tf_"):
            kwargs.update(bn_eps=1e-3, pad_type="same")
        gen = tem._gen_efficientnet_lite if "lite" in fx["variant"] else tem._gen_efficientnet
        model = gen(fx["variant"], **kwargs).eval()
        cfg = timm.models.get_pretrained_cfg(fx["variant"])
        spec = photos.preprocess_spec("timm", SIZE, crop_pct=cfg.crop_pct, interpolation=cfg.interpolation,
                                      mean=cfg.mean, std=cfg.std)
        return model, spec
    tv = env.import_torchvision()
    from torchvision.models import efficientnet as tvm

    setting, last = tvm._efficientnet_conf(fx["variant"], width_mult=fx["width"], depth_mult=fx["depth"])
    model = tvm.EfficientNet(setting, dropout=0.2, last_channel=last, num_classes=CLASSES).eval()
    del tv
    return model, photos.preprocess_spec("torchvision", SIZE)


def make_keras(fid):
    """Keras 3 `keras.applications` EfficientNet (V1) at a small width: weights file, Keras ONNX export, io."""
    import math

    fx = FIXTURES[fid]
    env.deterministic(fx["seed"])
    keras = env.import_keras()
    keras.utils.set_random_seed(fx["seed"])
    from keras.src.applications import efficientnet as ke

    from effnet_fixtures import keras_models
    import make_exporter_fixtures

    blocks = [dict(b, repeats=max(1, math.ceil(b["repeats"] * fx["depth"]))) for b in ke.DEFAULT_BLOCKS_ARGS]
    model = ke.EfficientNet(fx["width"], 1.0, SIZE, blocks_args=blocks, name=fx["variant"].lower(), weights=None,
                            input_shape=(SIZE, SIZE, 3), classes=CLASSES)
    norm = [layer for layer in model.layers if isinstance(layer, keras.layers.Normalization)]
    assert len(norm) == 1 and [v.path.split("/")[-1] for v in norm[0].weights] == ["mean", "variance", "count"]
    norm[0].weights[0].assign(np.asarray(IMAGENET_MEAN, np.float32))
    norm[0].weights[1].assign(np.square(np.asarray(IMAGENET_STD, np.float32)))
    spec = photos.preprocess_spec("keras", SIZE)
    all_photos, x, _ = make_fixtures.photo_inputs("keras", spec, fx["second_photo"])
    report = keras_models.calibrate_keras_model(keras, model, spec, fx["seed"], all_photos)
    y = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)), np.float32)
    d = os.path.join(OUT, fid)
    folder.fresh_dir(d)
    if fx.get("checkpoint", True) == "npz":
        # `{variable path: value}` as Keras reports `model.weights` (the fixtures/models Keras checkpoints' form),
        # compressed: a `.weights.h5` of B3 would cost ~0.5 MB of the fixtures' budget, and B0 has one.
        write_npz(os.path.join(d, "checkpoint.npz"), keras_models.weights(keras, model), compressed=True)
    elif fx.get("checkpoint", True):
        model.save_weights(os.path.join(d, "model.weights.h5"))
    onnx_path = os.path.join(d, "model.onnx")
    make_exporter_fixtures.keras_export(model, onnx_path)
    ort_diff = float(np.abs(make_exporter_fixtures.ort_run(onnx_path, x).astype(np.float64) - y).max())
    assert ort_diff < 1e-5, f"{fid}: onnxruntime differs from Keras by {ort_diff}"
    folder.write_io(d, x, y)
    meta = dict(id=fid, framework="keras", keras_backend=keras.backend.backend(), variant=fx["variant"],
                width=fx["width"], depth=fx["depth"], blocks_args=blocks, num_classes=CLASSES,
                input=[2, SIZE, SIZE, 3], layout="NHWC, raw 0..255 pixels", preprocessing=spec,
                in_model="Rescaling(1/255), Normalization(mean=ImageNet, variance=ImageNet std^2) (its weights)",
                output="softmax probabilities", photos=["grace_hopper", fx["second_photo"]],
                top1_probability=[float(v) for v in y.max(-1)], ort_max_abs_diff=ort_diff,
                onnx=dict(exporter=f"keras {keras.__version__} model.export(format='onnx'), torch backend",
                          ops=make_exporter_fixtures.ops_histogram(onnx_path)),
                calibration=report)
    folder.write_meta(d, meta)
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"{fid}: {size / 1024:.0f} KB, top-1 p {meta['top1_probability']}, ORT − Keras {ort_diff:.1e}")


def make(fid):
    fx = FIXTURES[fid]
    if fx["framework"] == "keras":
        return make_keras(fid)
    env.deterministic(fx["seed"])
    model, spec = build(fx)
    all_photos, x, _ = make_fixtures.photo_inputs(fx["framework"], spec, fx["second_photo"])
    report = calibrate.calibrate_torch_model(model, spec, fx["seed"], all_photos)
    model.eval()
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    d = os.path.join(OUT, fid)
    folder.fresh_dir(d)
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    if fx.get("checkpoint", True):
        write_npz(os.path.join(d, "checkpoint.npz"), sd, compressed=True)
    onnx_path = os.path.join(d, "model.onnx")
    onnx_export.export_torchscript(model, x, onnx_path, opset=17)
    ort_diff = float(onnx_export.ort_max_diff(onnx_path, x, y))
    described = onnx_export.describe(onnx_path)
    folder.write_io(d, x, y)
    p = torch.softmax(torch.from_numpy(y), -1).numpy()
    meta = dict(id=fid, framework=fx["framework"], variant=fx["variant"], width=fx["width"], depth=fx["depth"],
                num_classes=CLASSES, input=[2, 3, SIZE, SIZE], preprocessing=spec,
                photos=["grace_hopper", fx["second_photo"]], top1_probability=[float(v) for v in p.max(-1)],
                ort_max_abs_diff=ort_diff, onnx=described, calibration=report)
    folder.write_meta(d, meta)
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"{fid}: {size / 1024:.0f} KB, top-1 p {meta['top1_probability']}, ORT − framework "
          f"{meta['ort_max_abs_diff']:.1e}")


def main():
    ids = sys.argv[1:] or list(FIXTURES)
    for fid in ids:
        if fid not in FIXTURES:
            sys.exit(f"unknown fixture {fid!r}; known: {', '.join(FIXTURES)}")
        make(fid)


if __name__ == "__main__":
    main()
