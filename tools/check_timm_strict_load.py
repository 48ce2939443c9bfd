#!/usr/bin/env python3
"""Loads an exported checkpoint into timm (or torchvision) with strict=True and compares outputs with an io.npz.

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/check_timm_strict_load.py CKPT --model NAME [key=value ...]
          [--framework timm|torchvision] [--io IO.npz [--softmax]] [--atol A] [--rtol R] [--save-io IO.npz --size S]

CKPT is an .npz state dict (what `effnet convert --naming timm|torchvision` writes) or a directory of .npy files
with a `names.tsv` manifest (`file<TAB>tensor name` per line; used by the Models tests before the NPZ writer
existed). key=value pairs are passed to `timm.create_model` (channel_multiplier=0.5 depth_multiplier=0.34
num_classes=10 bn_eps=1e-3 …); values are parsed as Python literals.

Exit codes: 0 loaded strictly (and outputs within tolerance), 1 outputs differ, 2 strict load failed or bad input.
With --save-io, writes an io.npz (`input`, `output`) from the loaded model instead of comparing: a reference for
other tools. The comparison prints max |Δ|, the tolerance and top-1 agreement.
"""
import argparse
import ast
import os
import sys

_want = os.environ.get("EFFNET_PYTHON") or os.path.join(os.path.dirname(__file__), "..", ".venv", "bin", "python")
if os.path.exists(_want) and os.path.abspath(sys.prefix) != os.path.abspath(os.path.join(os.path.dirname(_want), "..")) \
        and not os.environ.get("EFFNET_REEXEC"):
    os.environ["EFFNET_REEXEC"] = "1"
    os.execv(_want, [_want] + sys.argv)

import numpy as np  # noqa: E402


def import_torch_lenient():
    """torch, with torchvision's failing fake-kernel registrations ignored (`effnet_fixtures.env`)."""
    from effnet_fixtures import env  # noqa: F401  (applies the lenient register_fake on import)
    import torch
    return torch


def load_arrays(path):
    """name -> numpy array from an .npz or an .npy directory with names.tsv."""
    if os.path.isdir(path):
        out = {}
        with open(os.path.join(path, "names.tsv")) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                file, name = line.split("\t", 1)
                out[name] = np.load(os.path.join(path, file))
        return out
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def save_arrays(arrays, path):
    """Writes name -> array as an .npz (path ends with .npz) or an .npy directory with names.tsv."""
    if path.endswith(".npz"):
        np.savez(path, **arrays)
        return
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "names.tsv"), "w") as f:
        for i, (name, value) in enumerate(arrays.items()):
            file = f"{i:05d}.npy"
            np.save(os.path.join(path, file), value)
            f.write(f"{file}\t{name}\n")


def parse_kwargs(pairs):
    kwargs = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            kwargs[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            kwargs[key] = value
    return kwargs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--model", required=True)
    ap.add_argument("--framework", choices=["timm", "torchvision"], default="timm")
    ap.add_argument("--io", help="io.npz with `input` (NCHW) and `output` to compare against")
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--softmax", action="store_true", help="apply softmax to the model output (Keras references)")
    ap.add_argument("--save-io", help="write io.npz from this model instead of comparing")
    ap.add_argument("--size", type=int, default=64, help="input size for --save-io")
    ap.add_argument("kwargs", nargs="*", help="key=value model arguments")
    args = ap.parse_intermixed_args()

    torch = import_torch_lenient()
    if args.framework == "timm":
        import timm
        model = timm.create_model(args.model, pretrained=False, **parse_kwargs(args.kwargs))
    else:
        import torchvision
        model = getattr(torchvision.models, args.model)(**parse_kwargs(args.kwargs))
    model.eval()

    try:
        arrays = load_arrays(args.checkpoint)
    except Exception as e:  # noqa: BLE001 - one line, exit 2
        print(f"{args.checkpoint}: cannot read: {e}", file=sys.stderr)
        return 2
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        print(f"{args.checkpoint}: strict load into {args.framework} {args.model} failed:\n{e}", file=sys.stderr)
        return 2
    print(f"{args.checkpoint}: {len(state)} tensors loaded strictly into {args.framework} {args.model}")

    if args.save_io:
        g = torch.Generator().manual_seed(0)
        x = torch.rand(2, 3, args.size, args.size, generator=g) * 2 - 1
        with torch.no_grad():
            y = model(x)
        np.savez(args.save_io, input=x.numpy(), output=y.numpy())
        print(f"{args.save_io}: input {tuple(x.shape)}, output {tuple(y.shape)}")
        return 0
    if not args.io:
        return 0
    with np.load(args.io) as io:
        x = torch.from_numpy(io["input"])
        expected = io["output"]
    with torch.no_grad():
        out = model(x)
        actual = (out.softmax(-1) if args.softmax else out).numpy()
    if actual.shape != expected.shape:
        print(f"{args.io}: output shape {actual.shape} vs expected {expected.shape}", file=sys.stderr)
        return 1
    diff = np.abs(actual - expected)
    bound = args.atol + args.rtol * np.abs(expected)
    top1 = float(np.mean(actual.argmax(-1) == expected.argmax(-1)))
    ok = bool(np.all(diff <= bound))
    print(f"max |Δ| {diff.max():.3g}, mean |Δ| {diff.mean():.3g}, atol {args.atol} rtol {args.rtol}, "
          f"top-1 agreement {top1:.3f}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
