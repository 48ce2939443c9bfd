#!/usr/bin/env python3
"""Writes fixtures/models/<model-id>/: small calibrated EfficientNetV2s with their framework's outputs.

Each folder holds checkpoint.npz (the framework's own weight names), io.npz (`input`: a batch of two sample photos
preprocessed as the framework expects, `output`: the framework's own output on it), one .onnx per exporter style
(torch models) and meta.json (what made it, and onnxruntime's max |difference| from the framework per file).

Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/make_fixtures.py [--only ID ...] [--out DIR] [--check]
Deterministic: fixed seeds, one thread, fixed zip timestamps; rerunning reproduces the same bytes.
"""

import argparse
import copy
import filecmp
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from effnet_fixtures import env  # noqa: E402  (first: KERAS_BACKEND, lenient torchvision)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from effnet_fixtures import calibrate, folder, keras_crosscheck, keras_models, models, onnx_export, photos  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The dynamic SAME-padding subgraph timm's tf_ models (Conv2dSame / pad_same) leave in a TorchScript export.
SAME_PAD_OPS = {"Shape", "Gather", "Cast", "Div", "Ceil", "Sub", "Mul", "Add", "Clip", "Unsqueeze", "Concat",
                "ConstantOfShape", "Reshape", "Slice", "Transpose", "Pad"}
# ORT vs framework sanity bound, relative to the largest |output|: calibrated networks measure ~1e-6.
MAX_ORT_REL_DIFF = 1e-5

TS17 = dict(style="torchscript", opset=17, fold=True, dynamic_batch=True)

# Blocks per stage: every stage kept, a stride-1 residual second block in stages 2-5 (stage 6 too for the S layout).
DEPTHS = (1, 2, 2, 2, 2, 1)
DEPTHS_S = (1, 2, 2, 2, 2, 2)
CLASSES = 40

FIXTURES = [
    dict(id="timm_tf_efficientnetv2_b0", framework="timm", variant="tf_efficientnetv2_b0", width=0.25, size=100,
         depths=DEPTHS, seed=101, second_photo="chelsea", checkpoint_compressed=False,
         # One file per exporter style across the fixtures (fixtures/ has a size budget): the dynamo export is this
         # model's (SAME padding written as asymmetric Conv pads), torchscript_nofold is torchvision's.
         exports=[dict(TS17, file="torchscript.onnx"),
                  dict(style="dynamo", file="dynamo.onnx", opset=18, dynamic_batch=True),
                  dict(style="external", file="external.onnx", source="torchscript.onnx")]),
    dict(id="timm_tf_efficientnetv2_s", framework="timm", variant="tf_efficientnetv2_s", width=0.15, size=96,
         depths=DEPTHS_S, seed=102, second_photo="astronaut", checkpoint_compressed=True,
         exports=[dict(TS17, file="torchscript.onnx")]),
    dict(id="timm_efficientnetv2_rw_s", framework="timm", variant="efficientnetv2_rw_s", width=0.2, size=80,
         depths=DEPTHS, seed=103, second_photo="coffee", checkpoint_compressed=False,
         exports=[dict(style="torchscript", file="torchscript.onnx", opset=13, fold=True, dynamic_batch=False)]),
    dict(id="torchvision_efficientnet_v2_s", framework="torchvision", variant="efficientnet_v2_s", width=0.2,
         size=96, depths=DEPTHS, seed=104, second_photo="rocket", checkpoint_compressed=False,
         exports=[dict(TS17, file="torchscript.onnx"),
                  dict(style="torchscript", file="torchscript_nofold.onnx", opset=13, fold=False, dynamic_batch=True)]),
    # Width 0.15 at 64×64: tools/make_exporter_fixtures.py writes this model four more times.
    dict(id="keras_efficientnetv2_b0", framework="keras", variant="efficientnetv2-b0", width=0.15, size=64,
         depths=DEPTHS, seed=105, second_photo="chelsea", checkpoint_compressed=False, exports=[]),
    dict(id="keras_efficientnetv2_s", framework="keras", variant="efficientnetv2-s", width=0.2, size=64,
         depths=DEPTHS, seed=106, second_photo="motorcycle", checkpoint_compressed=True, exports=[]),
]

PHOTO_SOURCES = {
    "grace_hopper": "matplotlib mpl-data/sample_data/grace_hopper.jpg",
    "chelsea": "scikit-image data/chelsea.png",
    "astronaut": "scikit-image data/astronaut.png",
    "coffee": "scikit-image data/coffee.png",
    "rocket": "scikit-image data/rocket.jpg",
    "motorcycle": "scikit-image data/motorcycle_left.png",
    "hubble": "scikit-image data/hubble_deep_field.jpg",
    "retina": "scikit-image data/retina.jpg",
}


def versions():
    import onnx
    import onnxruntime

    keras, timm, torchvision = env.import_keras(), env.import_timm(), env.import_torchvision()

    return dict(torch=torch.__version__, torchvision=torchvision.__version__, timm=timm.__version__,
                keras=keras.__version__, onnx=onnx.__version__, onnxruntime=onnxruntime.__version__,
                numpy=np.__version__)


def check_preprocessing(framework, spec, img):
    """Our PIL pipeline must equal the framework's own eval transform (timm create_transform / torchvision preset)."""
    ours = photos.preprocess(img, spec)
    if framework == "timm":
        from timm.data import create_transform

        t = create_transform(input_size=(3, spec["crop"], spec["crop"]), interpolation=spec["interpolation"],
                             mean=tuple(spec["mean"]), std=tuple(spec["std"]), crop_pct=spec["crop_pct"])
    elif framework == "torchvision":
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms._presets import ImageClassification

        t = ImageClassification(crop_size=spec["crop"], resize_size=spec["resize"],
                                interpolation=InterpolationMode.BILINEAR)
    else:
        return None
    theirs = t(img).numpy()
    diff = float(np.abs(theirs - ours).max())
    assert diff < 1e-5, f"{framework} preprocessing differs from ours by {diff}"
    return diff


def photo_inputs(framework, spec, second):
    imgs = photos.load_photos()
    check = check_preprocessing(framework, spec, imgs["grace_hopper"])
    all_photos = np.stack([photos.preprocess(im, spec) for im in imgs.values()])
    io_input = np.stack([photos.preprocess(imgs["grace_hopper"], spec), photos.preprocess(imgs[second], spec)])
    return all_photos, io_input, check


def timm_spec(model, size):
    cfg = model.pretrained_cfg
    return photos.preprocess_spec("timm", size, crop_pct=cfg["crop_pct"], interpolation=cfg["interpolation"],
                                  mean=cfg["mean"], std=cfg["std"])


def build_torch(fx):
    """The fixture's torch model (eval mode), its preprocessing spec and a `reduced` description for meta.json.

    `fx["full"]`: the registered full-size model (timm.create_model / torchvision.models.efficientnet_v2_s).
    """
    classes = fx.get("classes", CLASSES)
    full = fx.get("full", False)
    if fx["framework"] == "timm":
        if full:
            model, dm = env.import_timm().create_model(fx["variant"], pretrained=False, num_classes=classes), 1.0
        else:
            model, dm = models.timm_model(fx["variant"], fx["width"], fx["depths"], classes)
        spec = timm_spec(model, fx["size"])
        reduced = dict(channel_multiplier=fx.get("width", 1.0), depth_multiplier=dm if full else list(dm),
                       stage_depths=[len(s) for s in model.blocks], num_classes=model.num_classes,
                       bn_eps=model.bn1.eps, pad_type="same (dynamic, TF)" if fx["variant"].startswith("tf_")
                       else "symmetric")
    else:
        if full:
            model = env.import_torchvision().models.efficientnet_v2_s(weights=None, num_classes=classes)
            setting = None
        else:
            model, setting = models.torchvision_v2_s(fx["width"], fx["depths"], classes)
        spec = photos.preprocess_spec("torchvision", fx["size"])
        reduced = dict(width_mult=fx.get("width", 1.0),
                       stage_depths=[len(stage) for stage in model.features[1:-1]],
                       num_classes=model.classifier[1].out_features, bn_eps=1e-3, pad_type="symmetric")
        if setting is not None:
            reduced["stages"] = [dict(block=type(s).__name__.replace("Config", ""), expand_ratio=s.expand_ratio,
                                      kernel=s.kernel, stride=s.stride, in_channels=s.input_channels,
                                      out_channels=s.out_channels, layers=s.num_layers) for s in setting]
    return model.eval(), spec, reduced


def make_torch_fixture(fx, out, generated_by="tools/make_fixtures.py"):
    env.deterministic(fx["seed"], fx.get("threads", 1))
    model, spec, reduced = build_torch(fx)
    all_photos, x, pre_diff = photo_inputs(fx["framework"], spec, fx["second_photo"])
    report = calibrate.calibrate_torch_model(model, spec, fx["seed"], all_photos)
    print(f"  {fx['id']}: calibrated", flush=True)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
        y64 = copy.deepcopy(model).double()(torch.from_numpy(x).double()).numpy() if fx.get("float64", True) else None
    torch_vs_f64 = float(np.abs(y.astype(np.float64) - y64).max()) if y64 is not None else None
    probs = np.exp(y - y.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)

    d = os.path.join(out, fx["id"])
    folder.fresh_dir(d)
    ckpt = folder.torch_state_dict_arrays(model)
    folder.write_checkpoint(d, ckpt, compressed=fx["checkpoint_compressed"])
    folder.write_io(d, x, y)

    files = {}
    for e in fx["exports"]:
        path = os.path.join(d, e["file"])
        if e["style"] == "torchscript":
            info = onnx_export.export_torchscript(model, x, path, e["opset"], e["fold"], e["dynamic_batch"])
        elif e["style"] == "dynamo":
            info = onnx_export.export_dynamo(model, x, path, e["opset"], e["dynamic_batch"])
        elif e["style"] == "external":
            info = dict(files[e["source"]]["export"], derived_from=e["source"])
            info.update(onnx_export.resave_external(os.path.join(d, e["source"]), path))
        else:
            raise ValueError(e["style"])
        facts = onnx_export.describe(path)
        y_ort = onnx_export.ort_run(path, x)
        diff = float(np.abs(y_ort.astype(np.float64) - y).max())
        bound = MAX_ORT_REL_DIFF * max(1.0, float(np.abs(y).max()))
        assert diff < bound, f"{fx['id']}/{e['file']}: ORT differs from torch by {diff} (> {bound})"
        checks = dict(ort_max_abs_diff=diff)
        if y64 is not None:
            checks["ort_vs_float64_max_abs_diff"] = float(np.abs(y_ort - y64).max())
        if info.get("dynamic_batch"):
            one = onnx_export.ort_run(path, x[:1])
            checks["ort_batch1_max_abs_diff"] = float(np.abs(one.astype(np.float64) - y[:1]).max())
        if fx["variant"].startswith("tf_") and e["style"] == "torchscript":
            missing = SAME_PAD_OPS - set(facts["ops"])
            assert not missing, f"{fx['id']}/{e['file']}: SAME-padding subgraph ops missing: {missing}"
        if not e.get("fold", True):
            assert "BatchNormalization" in facts["ops"], f"{e['file']}: expected explicit BatchNormalization"
        files[e["file"]] = dict(export=info, **checks, **facts)
        if e["style"] == "external":
            files[e["file"]]["data_file"] = info["external_data"]

    meta = dict(
        id=fx["id"], generated_by=generated_by, seed=fx["seed"], framework=fx["framework"],
        variant=fx["variant"], reduced=reduced, input_size=fx["size"],
        input=dict(name="input", shape=list(x.shape), dtype="float32", layout="NCHW",
                   photos=[PHOTO_SOURCES["grace_hopper"], PHOTO_SOURCES[fx["second_photo"]]]),
        output=dict(name="output", shape=list(y.shape), dtype="float32", kind="logits",
                    torch_float32_vs_float64_max_abs_diff=torch_vs_f64, max_abs=float(np.abs(y).max()),
                    top1_index=[int(v) for v in y.argmax(1)], top1_probability=[float(v) for v in probs.max(1)]),
        preprocessing=dict(spec, checked_against_framework_transform_max_diff=pre_diff),
        parameters=models.parameter_count(model),
        checkpoint=dict(file="checkpoint.npz", arrays=len(ckpt), compressed=fx["checkpoint_compressed"],
                        naming=fx["framework"], float_elements=int(sum(v.size for v in ckpt.values()
                                                                       if v.dtype == np.float32))),
        calibration=report,
        files=files,
        versions=versions(),
    )
    folder.write_meta(d, meta)
    return meta


def make_keras_fixture(fx, out):
    env.deterministic(fx["seed"])
    env.import_keras().utils.set_random_seed(fx["seed"])  # Keras's own generator: initial weights
    keras, model, blocks = keras_models.build(fx["variant"], fx["width"], fx["depths"], fx["size"], CLASSES)
    spec = photos.preprocess_spec("keras", fx["size"])
    all_photos, x, _ = photo_inputs("keras", spec, fx["second_photo"])
    report = keras_models.calibrate_keras_model(keras, model, spec, fx["seed"], all_photos)
    y = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)), np.float32)

    ckpt = keras_models.weights(keras, model)
    twin = keras_crosscheck.check(fx["variant"], fx["width"], fx["depths"], CLASSES, ckpt, x, y)
    assert twin < 1e-5, f"{fx['id']}: Keras output differs from its timm twin by {twin}"
    d = os.path.join(out, fx["id"])
    folder.fresh_dir(d)
    folder.write_checkpoint(d, ckpt, compressed=fx["checkpoint_compressed"])
    folder.write_io(d, x, y)
    pre = ("x/255, then Normalization(mean=ImageNet, variance=ImageNet std^2)"
           if fx["variant"].split("-")[-1].startswith("b") else "x/128 - 1 (Rescaling(1/128, offset=-1))")
    meta = dict(
        id=fx["id"], generated_by="tools/make_fixtures.py", seed=fx["seed"], framework="keras",
        keras_backend=keras.backend.backend(), variant=fx["variant"],
        reduced=dict(width_coefficient=fx["width"], depth_coefficient=1.0,
                     stage_depths=list(fx["depths"]), num_classes=model.output_shape[-1],
                     bn_eps=1e-3, pad_type="same (TF)",
                     blocks_args=blocks, dropout_rate=0.2, drop_connect_rate=0.2),
        input_size=fx["size"],
        input=dict(name="input", shape=list(x.shape), dtype="float32", layout="NHWC",
                   photos=[PHOTO_SOURCES["grace_hopper"], PHOTO_SOURCES[fx["second_photo"]]]),
        output=dict(name="output", shape=list(y.shape), dtype="float32", kind="softmax probabilities",
                    top1_index=[int(v) for v in y.argmax(1)], top1_probability=[float(v) for v in y.max(1)],
                    timm_twin_max_abs_diff=twin,
                    timm_twin="weights ported to timm tf_efficientnetv2 (tools/effnet_fixtures/keras_crosscheck.py)"),
        preprocessing=dict(spec, in_model=pre),
        parameters=int(model.count_params()),
        checkpoint=dict(file="checkpoint.npz", arrays=len(ckpt), compressed=fx["checkpoint_compressed"],
                        naming="keras variable paths (layer/variable), HWIO kernels, depthwise HWC1",
                        note="the preprocessing Normalization layer holds constants, not variables: "
                             "Keras reports no weights for it",
                        float_elements=int(sum(v.size for v in ckpt.values()))),
        calibration=report,
        files={},
        versions=versions(),
    )
    folder.write_meta(d, meta)
    return meta


def summary(meta):
    files = ", ".join(f"{k} (opset {v['opset'].get('ai.onnx')}, ort diff {v['ort_max_abs_diff']:.2e})"
                      for k, v in meta["files"].items())
    cal = meta["calibration"]
    return (f"{meta['id']}: input {meta['input']['shape']} params {meta['parameters']} | "
            f"max |act| {cal['before']['max_abs_activation']:.3g} -> {cal['after']['max_abs_activation']:.3g}, "
            f"max |logit| {cal['before']['max_abs_logit']:.3g} -> {cal['after']['max_abs_logit']:.3g}, "
            f"top1 p {['%.2f' % p for p in meta['output']['top1_probability']]} | {files or 'no onnx'}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="*", help="fixture ids to (re)generate")
    p.add_argument("--out", default=os.path.join(ROOT, "fixtures", "models"))
    p.add_argument("--check", action="store_true",
                   help="regenerate into a temporary folder and compare bytes with --out (exit 1 on a difference)")
    args = p.parse_args()
    wanted = [fx for fx in FIXTURES if not args.only or fx["id"] in args.only]
    if args.only and len(wanted) != len(args.only):
        p.error(f"unknown id among {args.only}; known: {[fx['id'] for fx in FIXTURES]}")
    out = tempfile.mkdtemp(prefix="effnet-fixtures-") if args.check else args.out
    os.makedirs(out, exist_ok=True)
    for fx in wanted:
        t = time.time()
        meta = make_keras_fixture(fx, out) if fx["framework"] == "keras" else make_torch_fixture(fx, out)
        print(f"{summary(meta)} [{time.time() - t:.1f}s]", flush=True)
    if args.check:
        differing = []
        for fx in wanted:
            new_dir, old_dir = os.path.join(out, fx["id"]), os.path.join(args.out, fx["id"])
            names = sorted(set(os.listdir(new_dir)) | set(os.listdir(old_dir) if os.path.isdir(old_dir) else []))
            for name in names:
                a, b = os.path.join(new_dir, name), os.path.join(old_dir, name)
                if not (os.path.exists(a) and os.path.exists(b) and filecmp.cmp(a, b, shallow=False)):
                    differing.append(os.path.join(fx["id"], name))
        shutil.rmtree(out)
        print("reproducible: every file is byte-identical" if not differing else f"DIFFERENT: {differing}")
        sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
