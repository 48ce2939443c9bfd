#!/usr/bin/env python3
"""Dumps the state-dict layout (tensor name -> shape, no values) of the EfficientNet variants effnet knows.

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/dump_checkpoint_layouts.py [--out fixtures/layouts] [--only SUBSTR]

Writes one gzipped JSON per model to fixtures/layouts/<framework>/<id>.json.gz with:
  id, framework, scheme, model, kwargs, expected_arch (the variant detection must report), standard (whether the
  widths/depths are the variant's own), stage_blocks (blocks per stage), block_kinds, stages (EfficientNet V1 and
  Lite: per stage, the first block's depthwise kernel and stride, output channels, block count and whether it has
  squeeze-excitation, read from the framework's modules), num_classes, input_size,
  parameters (PyTorch sum(p.numel()) / Keras trainable weights), buffers (BatchNorm running statistics),
  tensors ([name, shape, dtype] in state-dict order).
The Swift tests (Tests/ModelsTests) read these files to check detection, graph building, parameter counts and
export. Models are built on PyTorch's "meta" device, so even V2-XL costs no memory; Keras builds real variables.
Frameworks: timm, torchvision, Keras, and the `efficientnet-pytorch` naming from its two packages
(`efficientnet_pytorch` for B0–B7, `efficientnet_lite_pytorch` for Lite0–4, whose Lite0/1/2 layouts must equal
the real weights in weights/ when tools/fetch_lite_weights.py has put them there).
"""
import argparse
import gzip
import json
import os
import sys

# Re-exec under the project interpreter when invoked with another one.
_want = os.environ.get("EFFNET_PYTHON") or os.path.join(os.path.dirname(__file__), "..", ".venv", "bin", "python")
if os.path.exists(_want) and os.path.abspath(sys.prefix) != os.path.abspath(os.path.join(os.path.dirname(_want), "..")) \
        and not os.environ.get("EFFNET_REEXEC"):
    os.environ["EFFNET_REEXEC"] = "1"
    os.execv(_want, [_want] + sys.argv)

os.environ.setdefault("KERAS_BACKEND", "torch")


def import_torch_lenient():
    """torch, with torchvision's failing fake-kernel registrations ignored (`effnet_fixtures.env`)."""
    from effnet_fixtures import env  # noqa: F401  (applies the lenient register_fake on import)
    import torch
    return torch


torch = import_torch_lenient()
import timm  # noqa: E402
import torchvision  # noqa: E402
from torchvision.models import efficientnet as tvm  # noqa: E402


def torch_layout(model):
    sd = model.state_dict()
    tensors = [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()]
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))
    return tensors, params, buffers


# (id, model name, kwargs, expected_arch, standard, input size)
TIMM = [
    ("tf_efficientnetv2_b0", "tf_efficientnetv2_b0", {}, "tf_efficientnetv2_b0", True),
    ("tf_efficientnetv2_b1", "tf_efficientnetv2_b1", {}, "tf_efficientnetv2_b1", True),
    ("tf_efficientnetv2_b2", "tf_efficientnetv2_b2", {}, "tf_efficientnetv2_b2", True),
    ("tf_efficientnetv2_b3", "tf_efficientnetv2_b3", {}, "tf_efficientnetv2_b3", True),
    ("tf_efficientnetv2_s", "tf_efficientnetv2_s", {}, "tf_efficientnetv2_s", True),
    ("tf_efficientnetv2_m", "tf_efficientnetv2_m", {}, "tf_efficientnetv2_m", True),
    ("tf_efficientnetv2_l", "tf_efficientnetv2_l", {}, "tf_efficientnetv2_l", True),
    ("tf_efficientnetv2_xl", "tf_efficientnetv2_xl", {}, "tf_efficientnetv2_xl", True),
    ("efficientnetv2_rw_t", "efficientnetv2_rw_t", {}, "efficientnetv2_rw_t", True),
    ("efficientnetv2_rw_s", "efficientnetv2_rw_s", {}, "efficientnetv2_rw_s", True),
    ("efficientnetv2_rw_m", "efficientnetv2_rw_m", {}, "efficientnetv2_rw_m", True),
    # Reduced widths/depths (and a 10-class head): detection must infer them from the weights.
    ("tf_efficientnetv2_s-w0.5-d0.34", "tf_efficientnetv2_s",
     {"channel_multiplier": 0.5, "depth_multiplier": 0.34, "num_classes": 10}, "tf_efficientnetv2_s", False),
    ("tf_efficientnetv2_b0-w0.25-d0.5", "tf_efficientnetv2_b0",
     {"channel_multiplier": 0.25, "depth_multiplier": 0.5}, "tf_efficientnetv2_b0", False),
    ("tf_efficientnetv2_m-w0.25-d0.2", "tf_efficientnetv2_m",
     {"channel_multiplier": 0.25, "depth_multiplier": 0.2, "num_classes": 7}, "tf_efficientnetv2_m", False),
    ("efficientnetv2_rw_s-w0.5-d0.25", "efficientnetv2_rw_s",
     {"channel_multiplier": 0.5, "depth_multiplier": 0.25}, "efficientnetv2_rw_s", False),
    # EfficientNet (V1) and EfficientNet-Lite. tf_ and non-tf_ share state dicts; detection names the tf_ port.
    *[(f"tf_efficientnet_b{i}", f"tf_efficientnet_b{i}", {}, f"tf_efficientnet_b{i}", True) for i in range(8)],
    *[(f"tf_efficientnet_lite{i}", f"tf_efficientnet_lite{i}", {}, f"tf_efficientnet_lite{i}", True)
      for i in range(5)],
    ("efficientnet_b0-w0.25-d0.5", "efficientnet_b0",
     {"channel_multiplier": 0.25, "depth_multiplier": 0.5, "num_classes": 10}, "tf_efficientnet_b0", False),
    ("tf_efficientnet_lite0-w0.5-d0.5", "tf_efficientnet_lite0",
     {"channel_multiplier": 0.5, "depth_multiplier": 0.5, "num_classes": 10}, "tf_efficientnet_lite0", False),
]

# torchvision has no width/depth arguments for V2; reduced models are built from explicit stage settings.
TORCHVISION = [
    ("efficientnet_v2_s", "efficientnet_v2_s", None, "efficientnet_v2_s", True),
    ("efficientnet_v2_m", "efficientnet_v2_m", None, "efficientnet_v2_m", True),
    ("efficientnet_v2_l", "efficientnet_v2_l", None, "efficientnet_v2_l", True),
    # Stage widths and depths scaled as timm/Keras multipliers would (S at width 0.5, depth 0.5; M at 0.25, 0.2).
    ("efficientnet_v2_s-w0.5-d0.5", "efficientnet_v2_s",
     {"setting": [("F", 1, 3, 1, 16, 16, 1), ("F", 4, 3, 2, 16, 24, 2), ("F", 4, 3, 2, 24, 32, 2),
                  ("M", 4, 3, 2, 32, 64, 3), ("M", 6, 3, 1, 64, 80, 5), ("M", 6, 3, 2, 80, 128, 8)],
      "last_channel": 1280, "num_classes": 10}, "efficientnet_v2_s", False),
    ("efficientnet_v2_m-w0.25-d0.2", "efficientnet_v2_m",
     {"setting": [("F", 1, 3, 1, 8, 8, 1), ("F", 4, 3, 2, 8, 16, 1), ("F", 4, 3, 2, 16, 24, 1),
                  ("M", 4, 3, 2, 24, 40, 2), ("M", 6, 3, 1, 40, 48, 3), ("M", 6, 3, 2, 48, 80, 4),
                  ("M", 6, 3, 1, 80, 128, 1)],
      "last_channel": 1280, "num_classes": 5}, "efficientnet_v2_m", False),
    *[(f"efficientnet_b{i}", f"efficientnet_b{i}", None, f"efficientnet_b{i}", True) for i in range(8)],
    # torchvision's own V1 configuration at width 0.25, depth 0.5 (`_efficientnet_conf`).
    ("efficientnet_b0-w0.25-d0.5", "efficientnet_b0", {"v1": [0.25, 0.5], "num_classes": 10},
     "efficientnet_b0", False),
]

KERAS = [
    ("EfficientNetV2B0", "EfficientNetV2B0", {}, "EfficientNetV2B0", True),
    ("EfficientNetV2B1", "EfficientNetV2B1", {}, "EfficientNetV2B1", True),
    ("EfficientNetV2B2", "EfficientNetV2B2", {}, "EfficientNetV2B2", True),
    ("EfficientNetV2B3", "EfficientNetV2B3", {}, "EfficientNetV2B3", True),
    ("EfficientNetV2S", "EfficientNetV2S", {}, "EfficientNetV2S", True),
    ("EfficientNetV2M", "EfficientNetV2M", {}, "EfficientNetV2M", True),
    ("EfficientNetV2L", "EfficientNetV2L", {}, "EfficientNetV2L", True),
    ("EfficientNetV2S-w0.5-d0.34", "efficientnetv2-s",
     {"width_coefficient": 0.5, "depth_coefficient": 0.34, "default_size": 384, "classes": 10},
     "EfficientNetV2S", False),
    ("EfficientNetV2B0-w0.5-d0.5", "efficientnetv2-b0",
     {"width_coefficient": 0.5, "depth_coefficient": 0.5, "default_size": 224, "classes": 10},
     "EfficientNetV2B0", False),
    # EfficientNet (V1): `keras.applications.EfficientNetB*` (`dwconv`, a Normalization layer with weights).
    *[(f"EfficientNetB{i}", f"EfficientNetB{i}", {}, f"EfficientNetB{i}", True) for i in range(8)],
    ("EfficientNetB0-w0.5-d0.5", "efficientnetb0",
     {"v1": True, "width_coefficient": 0.5, "depth_coefficient": 0.5, "default_size": 224, "classes": 10},
     "EfficientNetB0", False),
]


def dump_timm(entry):
    ident, name, kwargs, expected, standard = entry
    with torch.device("meta"):
        if name.startswith(("efficientnet_b", "tf_efficientnet_b", "tf_efficientnet_lite")) and kwargs:
            # EfficientNet (V1) entry points fix their multipliers; call the generator with others.
            from timm.models import efficientnet as tem
            gen = tem._gen_efficientnet_lite if "lite" in name else tem._gen_efficientnet
            model = gen(name, pretrained=False, **kwargs)
        else:
            model = timm.create_model(name, pretrained=False, **kwargs)
    tensors, params, buffers = torch_layout(model)
    cfg = model.pretrained_cfg or {}
    kinds = [type(stage[0]).__name__ for stage in model.blocks]
    stages = None
    if "efficientnet_b" in name or "efficientnet_lite" in name:
        stages = []
        for stage in model.blocks:
            b = stage[0]
            last = b.conv_pwl if hasattr(b, "conv_pwl") else b.conv_pw
            stages.append(dict(kernel=b.conv_dw.kernel_size[0], stride=b.conv_dw.stride[0],
                               channels=last.out_channels, layers=len(stage),
                               se=not isinstance(b.se, torch.nn.Identity)))
    return dict(id=ident, framework="timm", scheme="timm", model=name, kwargs=kwargs, expected_arch=expected,
                standard=standard, stage_blocks=[len(s) for s in model.blocks], block_kinds=kinds, stages=stages,
                num_classes=model.num_classes, input_size=list(cfg.get("input_size", [])),
                test_input_size=list(cfg.get("test_input_size", cfg.get("input_size", []))),
                parameters=params, buffers=buffers, tensors=tensors)


def dump_torchvision(entry):
    ident, name, custom, expected, standard = entry
    with torch.device("meta"):
        if custom is None:
            model = getattr(torchvision.models, name)()
        elif "v1" in custom:
            setting, last = tvm._efficientnet_conf(name, width_mult=custom["v1"][0], depth_mult=custom["v1"][1])
            model = tvm.EfficientNet(setting, dropout=0.2, last_channel=last, num_classes=custom["num_classes"])
        else:
            setting = []
            for kind, e, k, s, cin, cout, n in custom["setting"]:
                if kind == "F":
                    setting.append(tvm.FusedMBConvConfig(e, k, s, cin, cout, n))
                else:
                    setting.append(tvm.MBConvConfig(e, k, s, cin, cout, n))
            from functools import partial
            model = tvm.EfficientNet(setting, dropout=0.2, last_channel=custom["last_channel"],
                                     num_classes=custom["num_classes"],
                                     norm_layer=partial(torch.nn.BatchNorm2d, eps=1e-3))
    tensors, params, buffers = torch_layout(model)
    stages = list(model.features)[1:-1]
    kinds = [type(stage[0]).__name__ for stage in stages]
    table = None
    if kinds[0] == "MBConv" and all(k == "MBConv" for k in kinds):  # V1: every stage MBConv with SE
        table = []
        for stage in stages:
            b = stage[0]
            dw = [m for m in b.modules() if isinstance(m, torch.nn.Conv2d) and m.groups > 1][0]
            se = any(type(m).__name__ == "SqueezeExcitation" for m in b.modules())
            table.append(dict(kernel=dw.kernel_size[0], stride=dw.stride[0], channels=b.out_channels,
                              layers=len(stage), se=se))
    return dict(id=ident, framework="torchvision", scheme="torchvision", model=name, kwargs=custom or {},
                expected_arch=expected, standard=standard, stage_blocks=[len(s) for s in stages],
                block_kinds=kinds, stages=table, num_classes=model.classifier[1].out_features, parameters=params,
                buffers=buffers, tensors=tensors)


def dump_keras(entry):
    import keras
    import numpy as np
    from keras.src.applications import efficientnet_v2 as kev2
    ident, name, kwargs, expected, standard = entry
    if kwargs.get("v1"):
        from keras.src.applications import efficientnet as ke
        kw = {k: v for k, v in kwargs.items() if k != "v1"}
        model = ke.EfficientNet(kw.pop("width_coefficient"), kw.pop("depth_coefficient"), kw.pop("default_size"),
                                name=name, weights=None, **kw)
    elif kwargs:
        kw = dict(kwargs)
        model = kev2.EfficientNetV2(name=name, weights=None, **kw)
    else:
        model = getattr(keras.applications, name)(weights=None)
    tensors = [[w.path, list(w.shape), str(w.dtype)] for w in model.weights]
    params = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    # BatchNorm moving statistics only: V1's Normalization layer also holds (non-trainable) mean/variance/count.
    buffers = int(sum(np.prod(w.shape) for w in model.non_trainable_weights
                      if not w.path.startswith("normalization")))
    stage_blocks = {}
    for w in model.weights:
        head = w.path.split("/")[0]
        if head.startswith("block") and "_" in head:
            tag = head[len("block"):head.index("_")]
            stage, letter = int(tag[:-1]), tag[-1]
            stage_blocks.setdefault(stage, set()).add(letter)
    counts = [len(stage_blocks[s]) for s in sorted(stage_blocks)]
    classes = model.get_layer("predictions").units
    size = model.input_shape[1]
    table = None
    names = {layer.name for layer in model.layers}
    if "block1a_dwconv" in names:  # V1 (V2 says dwconv2)
        table = []
        for s in sorted(stage_blocks):
            dw = model.get_layer(f"block{s}a_dwconv")
            table.append(dict(kernel=dw.kernel_size[0], stride=dw.strides[0],
                              channels=model.get_layer(f"block{s}a_project_conv").filters,
                              layers=len(stage_blocks[s]), se=f"block{s}a_se_reduce" in names))
    return dict(id=ident, framework="keras", scheme="keras", model=name, kwargs=kwargs, expected_arch=expected,
                standard=standard, stage_blocks=counts, stages=table, num_classes=classes, input_size=[size, size, 3],
                parameters=params, buffers=buffers, tensors=tensors)


def dump_efficientnet_pytorch_package(entry):
    """A model as the `efficientnet_pytorch` package (PyPI `efficientnet-pytorch`, B0–B7) or its Lite fork
    `efficientnet_lite_pytorch` (PyPI `efficientnet-lite-pytorch`, the code of the Lite weight packages, Lite0–4)
    builds it (`EfficientNet.from_name`). Stages from the built blocks: the packages keep each stage's first
    block's stride as a list and the repeats' as the integer 1. A Lite layout must equal the real weights' in
    weights/ when they are there."""
    ident, name, package = entry
    try:
        EfficientNet = __import__(package).EfficientNet
    except ImportError:
        print(f"{package} missing, {ident} skipped (tools/setup-venv.sh installs it)")
        return None
    with torch.device("meta"):
        model = EfficientNet.from_name(name)
    tensors, params, buffers = torch_layout(model)
    stages = []
    for block in model._blocks:
        a = block._block_args
        if isinstance(a.stride, (list, tuple)):
            stages.append(dict(kernel=a.kernel_size, stride=a.stride[0], channels=a.output_filters, layers=1,
                               se=bool(block.has_se)))
        else:
            stages[-1]["layers"] += 1
    real = os.path.join(_WEIGHTS, f"{name}.pth")
    if os.path.exists(real):
        sd = torch.load(real, map_location="cpu", weights_only=True)
        assert [[k, list(v.shape)] for k, v in sd.items()] == [t[:2] for t in tensors], f"{real} differs from {package}"
    gp = model._global_params
    return dict(id=ident, framework="efficientnet-pytorch", scheme="efficientnet-pytorch", model=f"{package} {name}",
                kwargs={}, expected_arch=name, standard=True, stage_blocks=[st["layers"] for st in stages],
                stages=stages, num_classes=model._fc.out_features, input_size=[3, gp.image_size, gp.image_size],
                parameters=params, buffers=buffers, tensors=tensors)


EFFICIENTNET_PYTORCH_PACKAGE = [(f"efficientnet-b{i}", f"efficientnet-b{i}", "efficientnet_pytorch") for i in range(8)] \
    + [(f"efficientnet-lite{i}", f"efficientnet-lite{i}", "efficientnet_lite_pytorch") for i in range(5)]

_WEIGHTS = os.path.join(os.path.dirname(__file__), "..", "weights")

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "fixtures", "layouts"))
    ap.add_argument("--only", default="", help="dump only ids containing this substring")
    args = ap.parse_args()
    jobs = [("timm", e, dump_timm) for e in TIMM] + [("torchvision", e, dump_torchvision) for e in TORCHVISION] \
        + [("keras", e, dump_keras) for e in KERAS] \
        + [("efficientnet-pytorch", e, dump_efficientnet_pytorch_package) for e in EFFICIENTNET_PYTORCH_PACKAGE]
    for framework, entry, fn in jobs:
        if args.only and args.only not in entry[0]:
            continue
        doc = fn(entry)
        if doc is None:
            continue
        if doc.get("stages", 0) is None:
            del doc["stages"]  # V2 layouts: no per-stage table (kept byte-identical)
        folder = os.path.join(args.out, framework)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, entry[0] + ".json.gz")
        data = json.dumps(doc, separators=(",", ":")).encode()
        # mtime=0 keeps the gzip bytes reproducible, so re-running the tool changes nothing when nothing changed.
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
            f.write(data)
        print(f"{os.path.relpath(path)}: {len(doc['tensors'])} tensors, {doc['parameters']} parameters, "
              f"stages {doc['stage_blocks']}")


if __name__ == "__main__":
    main()
