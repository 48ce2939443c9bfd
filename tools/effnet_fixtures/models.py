"""Reduced-width/depth EfficientNetV2 builders with the frameworks' own module code and naming.

Depths are given per stage (timm: through per-stage depth multipliers, torchvision: `num_layers`, Keras:
`num_repeat`) so that every stage keeps its block type and the fixtures can hold stride-1 residual blocks of both
kinds (Fused-MBConv and MBConv) while staying small. `depths=None` keeps the full model.
"""

import math
from functools import partial

from torch import nn

from . import env

# Blocks per stage of the full models, EfficientNetV2-S and -B0.
S_REPEATS = (2, 4, 4, 6, 9, 15)
B0_REPEATS = (1, 2, 2, 3, 5, 8)


def per_stage_depth_multipliers(repeats, depths):
    """Multipliers m_i with ceil(r_i · m_i) = d_i (timm's `depth_trunc='ceil'`), rounded to 3 decimals."""
    out = []
    for r, d in zip(repeats, depths):
        m = round(d / r, 3)
        while math.ceil(r * m) > d:
            m = round(m - 0.001, 3)
        while math.ceil(r * m) < d:
            m = round(m + 0.001, 3)
        out.append(m)
    return tuple(out)


def timm_model(variant, channel_multiplier, depths, num_classes):
    """A timm EfficientNetV2 by registered name with reduced width/depth (timm naming: `blocks.S.I.*`)."""
    timm = env.import_timm()
    from timm.models import efficientnet as ten

    if variant in ("tf_efficientnetv2_b0", "efficientnetv2_b0"):
        repeats = B0_REPEATS
    else:
        repeats = S_REPEATS
    dm = per_stage_depth_multipliers(repeats, depths) if depths is not None else 1.0
    if variant == "efficientnetv2_rw_s":
        # registered fn pins no multiplier, but call the generator so the kwargs reach it unchanged
        model = ten._gen_efficientnetv2_s(variant, channel_multiplier=channel_multiplier, depth_multiplier=dm,
                                          rw=True, num_classes=num_classes)
    else:
        model = timm.create_model(variant, pretrained=False, channel_multiplier=channel_multiplier,
                                  depth_multiplier=dm, num_classes=num_classes)
    got = tuple(len(s) for s in model.blocks)
    assert depths is None or got == tuple(depths), f"{variant}: stage depths {got} != {depths}"
    return model, dm


def torchvision_v2_s(width_mult, depths, num_classes):
    """torchvision `efficientnet_v2_s` with channels scaled by `_make_divisible(c · w, 8)` and given depths.

    Same constructor, block classes and `features.S.I.block.J.K` naming as
    `torchvision.models.efficientnet_v2_s`; BatchNorm eps 1e-3 as there.
    """
    env.import_torchvision()
    from torchvision.models.efficientnet import EfficientNet, FusedMBConvConfig, MBConvConfig, _make_divisible

    def c(ch):
        return _make_divisible(ch * width_mult, 8)

    d = depths or (2, 4, 4, 6, 9, 15)
    setting = [
        FusedMBConvConfig(1, 3, 1, c(24), c(24), d[0]),
        FusedMBConvConfig(4, 3, 2, c(24), c(48), d[1]),
        FusedMBConvConfig(4, 3, 2, c(48), c(64), d[2]),
        MBConvConfig(4, 3, 2, c(64), c(128), d[3]),
        MBConvConfig(6, 3, 1, c(128), c(160), d[4]),
        MBConvConfig(6, 3, 2, c(160), c(256), d[5]),
    ]
    model = EfficientNet(setting, dropout=0.2, stochastic_depth_prob=0.2, num_classes=num_classes,
                         norm_layer=partial(nn.BatchNorm2d, eps=1e-03), last_channel=c(1280))
    return model, setting


def parameter_count(model):
    return int(sum(p.numel() for p in model.parameters()))
