"""BatchNorm calibration and classifier scaling for randomly initialised EfficientNetV2s.

Why: parity against a random network only means something if the network behaves like a trained one. With the
frameworks' own initialisers (timm, torchvision, Keras) the logits come out at 1e-5–0.5 (softmax flat, every photo
alike), the BatchNorm statistics (mean 0, var 1) do not describe the data, the SE biases are all zero, and with
γ ~ 1 everywhere a deep random network is chaotic, so float32 rounding grows block after block (the ~1e7 blow-up
the design notes mention was not seen with these initialisers: max |activation| 1.8–71 before calibration).
The recipe:

1. γ ~ U(0.6, 1.4) and β ~ N(0, 0.15²) per channel (mild, so the folded conv weights are not all alike), and
   the SE convs' biases (zero-initialised by the frameworks) ~ N(0, 0.1²); γ × 0.25 where a residual branch
   ends (`shrink_residual_branches`: keeps float32 rounding from growing through deep random networks);
2. running mean/var from forward passes over real photos and smooth noise, with BatchNorm layers in train mode and
   `momentum=None` (a cumulative average over all batches) while every other layer stays in eval mode;
3. the classifier refitted (`fit_classifier`): bias centring the logits on the average photo, then one scale so
   softmax top-1 probabilities over the sample photos have geometric mean ~0.25 and none above 0.6
   (flat would be 1/classes, saturated 1.0).
"""

import math

import numpy as np
import torch
from torch import nn

from . import photos as photo_lib


def _bn_layers(model):
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def randomize_affine(model, gen):
    """γ ~ U(0.6, 1.4), β ~ N(0, 0.15²) for every BatchNorm; every conv bias (the SE convs') ~ N(0, 0.1²).

    The frameworks initialise SE biases to zero; left so, a reader that drops them would still pass.
    """
    for bn in _bn_layers(model):
        n = bn.num_features
        bn.weight.copy_(torch.rand(n, generator=gen) * 0.8 + 0.6)
        bn.bias.copy_(torch.randn(n, generator=gen) * 0.15)
    for conv in model.modules():
        if isinstance(conv, nn.Conv2d) and conv.bias is not None:
            conv.bias.copy_(torch.randn(conv.bias.shape, generator=gen) * 0.1)


RESIDUAL_GAMMA_FACTOR = 0.25


def residual_branch_bns(model):
    """The last BatchNorm inside each block that adds its input back (timm `has_skip`, torchvision
    `use_res_connect`): the BN whose output is the residual branch."""
    out = []
    for block in model.modules():
        if getattr(block, "has_skip", False) or getattr(block, "use_res_connect", False):
            bns = _bn_layers(block)
            if bns:
                out.append(bns[-1])
    return out


@torch.no_grad()
def shrink_residual_branches(model):
    """γ × 0.25 on each residual branch's last BatchNorm (so γ ~ U(0.15, 0.35) there).

    Trained EfficientNets have small γ where a branch joins the skip path; with γ ~ 1 a random network is
    chaotic: float32 rounding grows ~10× over EfficientNetV2-S's 40 residual blocks (measured: ORT vs PyTorch max
    |Δ| 1.2e-4 on logits of 17 at 384 px, vs 1.4e-5 with the branch γ × 0.1). The branch still contributes ~25%,
    so an error inside it stays far above any parity tolerance.
    """
    bns = residual_branch_bns(model)
    for bn in bns:
        bn.weight.mul_(RESIDUAL_GAMMA_FACTOR)
    return len(bns)


@torch.no_grad()
def tie_one_bias_pair(model):
    """Make the last two same-shaped conv biases equal; returns their names (or None).

    The TorchScript exporter deduplicates equal initializers and reads the copy through an `Identity` node, as
    real exports show (e.g. zero-initialised biases); one tied pair keeps that pattern in every fixture export.
    """
    by_shape = {}
    for name, conv in model.named_modules():
        if isinstance(conv, nn.Conv2d) and conv.bias is not None:
            by_shape.setdefault(tuple(conv.bias.shape), []).append((name, conv))
    pairs = [v for v in by_shape.values() if len(v) >= 2]
    if not pairs:
        return None
    (a_name, a), (b_name, b) = pairs[-1][-2:]
    b.bias.copy_(a.bias)
    return [a_name + ".bias", b_name + ".bias"]


@torch.no_grad()
def calibrate_bn(model, batches):
    """Set every BatchNorm's running statistics from `batches` (list of NCHW float32 arrays)."""
    bns = _bn_layers(model)
    saved = [bn.momentum for bn in bns]
    model.eval()
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative moving average
        bn.train()
    for b in batches:
        model(torch.from_numpy(b))
    for bn, m in zip(bns, saved):
        bn.momentum = m
    model.eval()


def find_classifier(model):
    """The final nn.Linear (timm `classifier`, torchvision `classifier.1`)."""
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("model has no nn.Linear classifier")
    return linears[-1]


def _top1(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return p.max(axis=1)


def _bisect_log(f, target, lo=1e-3, hi=1e3, steps=60):
    """s with f(s) ≈ target for f non-decreasing in s (max-softmax probability is, in the temperature 1/s)."""
    a, b = math.log(lo), math.log(hi)
    for _ in range(steps):
        mid = 0.5 * (a + b)
        if f(math.exp(mid)) < target:
            a = mid
        else:
            b = mid
    return math.exp(a)


def fit_classifier(weight, features, target=0.25, cap=0.6):
    """New (weight, bias) for a linear classifier y = W f + b on photo `features` [N, F] (float64 math).

    b = −W·mean(f) centres the logits on the average photo, so photos differ by what differs between them (a
    random W applied to the mostly positive SiLU features otherwise gives every photo similar logits). Then one
    factor s scales W and b: the geometric mean of the per-photo top-1 probability is `target`, unless that
    pushes some photo above `cap`, in which case s is lowered until the largest one is `cap`.
    """
    w = weight.astype(np.float64)
    f = features.astype(np.float64)
    b = -(w @ f.mean(axis=0))
    logits = f @ w.T + b

    def geomean(s):
        return float(np.exp(np.mean(np.log(_top1(logits * s)))))

    s = min(_bisect_log(geomean, target), _bisect_log(lambda s: float(_top1(logits * s).max()), cap))
    p = _top1(logits * s)
    return (w * s).astype(np.float32), (b * s).astype(np.float32), dict(
        classifier_scale=s, photo_top1_probability=[round(float(v), 4) for v in p],
        photo_top1_geomean=geomean(s))


@torch.no_grad()
def scale_classifier(model, photo_batch):
    """Refit the last Linear layer's bias and scale (see `fit_classifier`) on `photo_batch`."""
    _, fc = find_classifier(model)
    model.eval()
    captured = []
    handle = fc.register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0].numpy().copy()))
    try:
        model(torch.from_numpy(photo_batch))
    finally:
        handle.remove()
    w, b, report = fit_classifier(fc.weight.numpy(), captured[0])
    fc.weight.copy_(torch.from_numpy(w))
    fc.bias.copy_(torch.from_numpy(b))
    return report


@torch.no_grad()
def activation_magnitudes(model, x):
    """Max |activation| over all leaf modules' outputs and of the logits, in eval mode."""
    model.eval()
    peaks = []

    def hook(_m, _i, out):
        if torch.is_tensor(out):
            peaks.append(float(out.abs().max()))

    handles = [m.register_forward_hook(hook) for m in model.modules() if len(list(m.children())) == 0]
    try:
        y = model(torch.from_numpy(x))
    finally:
        for h in handles:
            h.remove()
    return dict(max_abs_activation=max(peaks), max_abs_logit=float(y.abs().max()), logit_std=float(y.std()))


METHOD_TORCH = ("gamma~U(0.6,1.4) (x0.25 on each residual branch's last BN), beta~N(0,0.15^2), "
                "SE conv biases~N(0,0.1^2); BN running stats from train-mode passes with momentum=None "
                "(cumulative) over {n} images (random crops/flips of 8 sample photos + 25% smooth noise); classifier "
                "bias = -W.mean(features), W and b scaled for geomean top-1 prob 0.25 over the 8 photos (max 0.6)")
METHOD_KERAS = ("gamma~U(0.6,1.4) (x0.25 on each residual branch's last BN), beta~N(0,0.15^2), "
                "SE conv biases~N(0,0.1^2); each BN's moving mean/variance = statistics of its input in "
                "inference mode, layer by layer in topological order, over {n} images (random crops/flips of 8 "
                "sample photos + 25% smooth noise); classifier bias = -W.mean(features), W and b scaled for "
                "geomean top-1 prob 0.25 over the 8 photos (max 0.6)")


def calibrate_torch_model(model, spec, seed, photo_batch, batches=3, batch_size=8):
    """Full recipe (γ/β, BN stats, classifier scale) in place; returns a report dict for meta.json."""
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    before = activation_magnitudes(model, photo_batch)
    randomize_affine(model, gen)
    shrunk = shrink_residual_branches(model)
    tied = tie_one_bias_pair(model)
    calibrate_bn(model, photo_lib.calibration_batches(spec, rng, batches=batches, batch_size=batch_size))
    fit = scale_classifier(model, photo_batch)
    after = activation_magnitudes(model, photo_batch)
    return dict(method=METHOD_TORCH.format(n=batches * batch_size), before=before, after=after,
                residual_branch_bns_shrunk=shrunk, tied_equal_tensors=tied, **fit)
