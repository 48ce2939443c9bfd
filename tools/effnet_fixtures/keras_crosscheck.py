"""Independent check of a Keras fixture: port its weights into the equivalent timm `tf_` model and compare.

Keras EfficientNetV2 and timm's `tf_efficientnetv2_*` implement the same TF reference (TF "SAME" padding,
BatchNorm eps 1e-3, SiLU, SE reduced from the block's input channels), so with the weights mapped over the two
must agree to float32 rounding. This validates the Keras fixture's output and documents the name mapping:

  stem_conv, stem_bn                         conv_stem, bn1
  block{S}{a,b,..}_project_conv / _bn        blocks.{S-1}.{i}.conv / bn1            (Fused-MBConv, expansion 1)
  block{S}{x}_expand_conv / _bn              blocks.{S-1}.{i}.conv_exp / bn1        (Fused-MBConv)
  block{S}{x}_project_conv / _bn             blocks.{S-1}.{i}.conv_pwl / bn2        (Fused-MBConv)
  block{S}{x}_expand_conv / _bn              blocks.{S-1}.{i}.conv_pw / bn1         (MBConv)
  block{S}{x}_dwconv2 / _bn                  blocks.{S-1}.{i}.conv_dw / bn2         (MBConv)
  block{S}{x}_se_reduce / _se_expand         blocks.{S-1}.{i}.se.conv_reduce / conv_expand
  block{S}{x}_project_conv / _bn             blocks.{S-1}.{i}.conv_pwl / bn3        (MBConv)
  top_conv, top_bn, predictions              conv_head, bn2, classifier
Kernels: Conv2D HWIO → OIHW (3,2,0,1); DepthwiseConv2D HWC1 → C1HW (2,3,0,1); Dense [in, out] → [out, in].
BN: gamma, beta, moving_mean, moving_variance → weight, bias, running_mean, running_var.
"""

from functools import partial

import numpy as np
import torch
from torch import nn

from . import env

B0_ARCH = [["cn_r1_k3_s1_e1_c16_skip"], ["er_r2_k3_s2_e4_c32"], ["er_r2_k3_s2_e4_c48"],
           ["ir_r3_k3_s2_e4_c96_se0.25"], ["ir_r5_k3_s1_e6_c112_se0.25"], ["ir_r8_k3_s2_e6_c192_se0.25"]]
S_ARCH = [["cn_r2_k3_s1_e1_c24_skip"], ["er_r4_k3_s2_e4_c48"], ["er_r4_k3_s2_e4_c64"],
          ["ir_r6_k3_s2_e4_c128_se0.25"], ["ir_r9_k3_s1_e6_c160_se0.25"], ["ir_r15_k3_s2_e6_c256_se0.25"]]

_BN = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}


def timm_twin(name, width, depths, classes):
    """timm tf_ EfficientNetV2 with Keras's channel rounding (make_divisible without timm's 90 % rule)."""
    env.import_timm()
    from timm.models import efficientnet as ten
    from timm.models._efficientnet_builder import decode_arch_def, round_channels

    b0 = name.endswith("b0")
    arch, stem, repeats = (B0_ARCH, 32, (1, 2, 2, 3, 5, 8)) if b0 else (S_ARCH, 24, (2, 4, 4, 6, 9, 15))
    chs = partial(round_channels, multiplier=width, round_limit=0.0)
    model = ten._create_effnet(
        "tf_efficientnetv2_s", False,
        block_args=decode_arch_def(arch, tuple(d / r for d, r in zip(depths, repeats)), depth_trunc="round"),
        num_features=chs(1280), stem_size=stem, round_chs_fn=chs, pad_type="same",
        norm_layer=partial(nn.BatchNorm2d, eps=1e-3), act_layer=nn.SiLU, num_classes=classes)
    got = tuple(len(s) for s in model.blocks)
    assert got == tuple(depths), f"timm twin depths {got} != {depths}"
    return model.eval()


def timm_name(keras_path, stage_blocks):
    """Keras variable path → timm state_dict key (see the table above)."""
    layer, var = keras_path.split("/")
    if layer in ("stem_conv", "top_conv"):
        return {"stem_conv": "conv_stem", "top_conv": "conv_head"}[layer] + ".weight"
    if layer in ("stem_bn", "top_bn"):
        return {"stem_bn": "bn1", "top_bn": "bn2"}[layer] + "." + _BN[var]
    if layer == "predictions":
        return "classifier." + {"kernel": "weight", "bias": "bias"}[var]
    assert layer.startswith("block"), keras_path
    stage, idx, part = int(layer[5]) - 1, ord(layer[6]) - ord("a"), layer[8:]
    kind = stage_blocks[stage]
    if kind == "cn":
        mod = {"project_conv": "conv", "project_bn": "bn1"}[part]
    elif kind == "er":
        mod = {"expand_conv": "conv_exp", "expand_bn": "bn1", "project_conv": "conv_pwl", "project_bn": "bn2"}[part]
    else:
        mod = {"expand_conv": "conv_pw", "expand_bn": "bn1", "dwconv2": "conv_dw", "bn": "bn2",
               "se_reduce": "se.conv_reduce", "se_expand": "se.conv_expand", "project_conv": "conv_pwl",
               "project_bn": "bn3"}[part]
    leaf = _BN[var] if var in _BN else {"kernel": "weight", "bias": "bias"}[var]
    return f"blocks.{stage}.{idx}.{mod}.{leaf}"


def to_torch_layout(key, value):
    if value.ndim == 4:
        return value.transpose(2, 3, 0, 1) if ".conv_dw." in key else value.transpose(3, 2, 0, 1)
    if value.ndim == 2:
        return value.T
    return value


def check(name, width, depths, classes, weights, x_nhwc, keras_softmax):
    """max |softmax(timm twin(x)) − Keras output| after porting `weights` (Keras path → array)."""
    model = timm_twin(name, width, depths, classes)
    arch = B0_ARCH if name.endswith("b0") else S_ARCH
    kinds = [a[0][:2] for a in arch]
    state = {timm_name(k, kinds): torch.from_numpy(np.ascontiguousarray(to_torch_layout(timm_name(k, kinds), v)))
             for k, v in weights.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    assert not missing and not unexpected, f"port mismatch: missing {missing}, unexpected {unexpected}"
    x = x_nhwc.transpose(0, 3, 1, 2).astype(np.float32)
    if name.endswith("b0"):
        mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
        std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)
        x = (x / 255.0 - mean) / std
    else:
        x = x / 128.0 - 1.0
    with torch.no_grad():
        p = torch.softmax(model(torch.from_numpy(np.ascontiguousarray(x))), dim=1).numpy()
    return float(np.abs(p - keras_softmax).max())
