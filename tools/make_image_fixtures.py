#!/usr/bin/env python3
"""Writes fixtures/images/: sample photos in every colour layout effnet decodes, plus PIL's reference outputs.

Run as `${EFFNET_PYTHON:-.venv/bin/python} tools/make_image_fixtures.py` from the repository root. Everything under
fixtures/images/ is regenerated; the Swift tests (Tests/ImagingTests) read `manifest.json` and the raw reference
files it names. References are raw little-endian arrays (`.u8` = uint8 RGB interleaved, `.f32` = float32) so the
tests need no NPY reader.

What the references are:
- decode: `Image.open(path).convert("RGB")` — exactly what torchvision's `pil_loader` and timm feed their transforms.
  Large images store a 64-bit FNV-1a hash of the whole decode plus a few raw patches (to measure a tolerance when
  the hash differs, e.g. a different libjpeg-turbo build).
- resize: `Image.resize((w, h), BILINEAR | BICUBIC)` of a stored raw source, up, down, one axis only, odd sizes.
- transforms: the full eval pipelines — torchvision `Resize/CenterCrop/ToTensor/Normalize`, and
  `timm.data.create_transform(**resolve_data_config(...))` for a tf_ and two non-tf_ model configs — plus the
  Keras choice (shorter side resized bilinear, center crop, raw 0..255 values, NHWC) built from the same pieces.
"""

import json
import os
import shutil
import struct
import sys
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "images")
REF = os.path.join(OUT, "reference")


def import_torch_stack():
    """Imports torch, torchvision and timm; torchvision's C ops do not load with the CPU torch build, and the
    transforms need none of them, so errors raised while registering their fake kernels are ignored."""
    from effnet_fixtures import env

    env.import_torchvision()
    env.import_timm()
    import torch
    return torch


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


# ----------------------------------------------------------------------------------------------------------------
# A minimal PNG writer for layouts PIL cannot save (16-bit RGB/RGBA, 2/4-bit gray, Adam7 interlacing).


def _pack_row(samples: np.ndarray, bit_depth: int) -> bytes:
    """samples: 1-D array of unsigned samples (channels interleaved) → packed row bytes, MSB first."""
    if bit_depth == 16:
        return samples.astype(">u2").tobytes()
    if bit_depth == 8:
        return samples.astype(np.uint8).tobytes()
    per_byte = 8 // bit_depth
    padded = np.zeros(((len(samples) + per_byte - 1) // per_byte) * per_byte, dtype=np.uint16)
    padded[: len(samples)] = samples
    padded = padded.reshape(-1, per_byte)
    out = np.zeros(len(padded), dtype=np.uint16)
    for i in range(per_byte):
        out |= padded[:, i] << (8 - bit_depth * (i + 1))
    return out.astype(np.uint8).tobytes()


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(pixels: np.ndarray, bit_depth: int, color_type: int, interlace=False, palette=None, trns=None) -> bytes:
    """pixels: (H, W, C) array of samples (palette indices for colour type 3)."""
    h, w, c = pixels.shape

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = bytearray()
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = pixels[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        for row in sub:
            raw += b"\x00" + _pack_row(row.reshape(-1), bit_depth)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0))
    if palette is not None:
        out += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    out += chunk(b"IEND", b"")
    return out


# ----------------------------------------------------------------------------------------------------------------


def save_raw(name: str, arr: np.ndarray) -> str:
    path = os.path.join(REF, name)
    if arr.dtype == np.uint8:
        arr.tofile(path)
    else:
        arr.astype("<f4").tofile(path)
    return "reference/" + name


def main():
    torch = import_torch_stack()
    import torchvision.transforms as T
    import timm
    from timm.data import create_transform, resolve_data_config

    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(REF)

    import matplotlib
    import skimage

    mpl_sample = os.path.join(matplotlib.get_data_path(), "sample_data")
    sk_data = os.path.join(os.path.dirname(skimage.__file__), "data")

    hopper = Image.open(os.path.join(mpl_sample, "grace_hopper.jpg")).convert("RGB")
    chelsea = Image.open(os.path.join(sk_data, "chelsea.png")).convert("RGB")
    coffee = Image.open(os.path.join(sk_data, "coffee.png")).convert("RGB")

    files = []  # (name, description)

    def put(name, data_or_image=None, copy_from=None, desc="", **save_args):
        path = os.path.join(OUT, name)
        if copy_from:
            shutil.copyfile(copy_from, path)
        elif isinstance(data_or_image, (bytes, bytearray)):
            with open(path, "wb") as f:
                f.write(data_or_image)
        else:
            data_or_image.save(path, **save_args)
        files.append((name, desc))

    # Real photos, copied unchanged.
    put("grace_hopper.jpg", copy_from=os.path.join(mpl_sample, "grace_hopper.jpg"),
        desc="matplotlib sample photo, baseline JPEG 4:2:0, 512x600")
    put("chelsea.png", copy_from=os.path.join(sk_data, "chelsea.png"),
        desc="scikit-image sample photo, 8-bit RGB PNG with iCCP, 451x300")

    # Derived JPEGs: grayscale, CMYK (Adobe), progressive 4:4:4, 4:2:2 at odd sizes, one large photo for timing.
    put("hopper_gray.jpg", hopper.convert("L").resize((100, 117), Image.BICUBIC), desc="grayscale JPEG",
        quality=90)
    put("chelsea_cmyk.jpg", chelsea.crop((180, 60, 276, 124)).convert("CMYK"), desc="CMYK JPEG (Adobe marker)",
        quality=90)
    put("hopper_progressive_444.jpg", hopper.crop((200, 120, 297, 233)), desc="progressive JPEG 4:4:4, 97x113",
        quality=85, progressive=True, subsampling=0)
    put("chelsea_422.jpg", chelsea.crop((150, 40, 251, 107)), desc="baseline JPEG 4:2:2, 101x67",
        quality=85, subsampling=1)
    put("hopper_tall.jpg", hopper.crop((190, 20, 310, 320)), desc="120x300 baseline JPEG, taller than 2:1",
        quality=85)
    large = hopper.resize((1600, 1875), Image.BICUBIC).crop((0, 300, 1600, 1500))
    put("hopper_large.jpg", large, desc="1600x1200 JPEG (upscaled photo) for decode+resize timing", quality=50)

    # PNGs: RGBA, LA, palette (+tRNS), 4-bit palette, 1-bit gray, 16-bit RGB, interlaced 16-bit RGBA,
    # interlaced 2-bit gray, 16-bit gray (PIL clips it to 0..255 on convert("RGB")).
    cof = np.asarray(coffee.crop((340, 70, 500, 177)))  # 160x107
    hh, ww = cof.shape[:2]
    alpha = ((np.arange(hh)[:, None] * 255 // (hh - 1)) ^ (np.arange(ww)[None, :] % 7 * 30)).astype(np.uint8)
    put("coffee_rgba.png", Image.fromarray(np.dstack([cof, alpha]), "RGBA"), desc="8-bit RGBA PNG, 160x107")
    small = np.asarray(coffee.resize((64, 43), Image.BILINEAR))
    lum = np.asarray(coffee.convert("L").resize((64, 43), Image.BILINEAR))
    put("coffee_la.png", Image.fromarray(np.dstack([lum, 255 - lum]), "LA"), desc="8-bit gray+alpha PNG, 64x43")
    pal = chelsea.crop((100, 30, 190, 90)).quantize(colors=48)
    put("chelsea_palette.png", pal, desc="8-bit palette PNG with tRNS, 90x60", transparency=5)
    pal4 = chelsea.crop((200, 100, 233, 121)).quantize(colors=12)
    put("chelsea_palette4.png", pal4, desc="4-bit palette PNG, 33x21", bits=4)
    put("hopper_bilevel.png", hopper.convert("L").resize((37, 23)).convert("1"), desc="1-bit gray PNG, 37x23")
    rgb16 = (small.astype(np.uint16) * 257 + np.arange(64, dtype=np.uint16)[None, :, None] * 3)
    put("coffee_rgb16.png", png_bytes(rgb16, 16, 2), desc="16-bit RGB PNG, 64x43")
    rgba16 = np.dstack([rgb16[:29, :41], (np.arange(29 * 41).reshape(29, 41, 1) * 50).astype(np.uint16)])
    put("coffee_rgba16_interlaced.png", png_bytes(rgba16, 16, 6, interlace=True),
        desc="16-bit RGBA Adam7-interlaced PNG, 41x29")
    gray2 = (lum[:19, :27] >> 6).reshape(19, 27, 1)
    put("coffee_gray2_interlaced.png", png_bytes(gray2, 2, 0, interlace=True),
        desc="2-bit gray Adam7-interlaced PNG, 27x19")
    la16 = np.dstack([lum[:21, :32].astype(np.uint16) * 257 + 77, np.full((21, 32), 1000, np.uint16)])
    put("coffee_la16.png", png_bytes(la16, 16, 4), desc="16-bit gray+alpha PNG, 32x21")
    put("coffee_gray_trns.png", png_bytes(lum[:21, :32].reshape(21, 32, 1), 8, 0, trns=b"\x00\x80"),
        desc="8-bit gray PNG with a tRNS transparent value, 32x21")
    gray16 = (lum.astype(np.uint16) * 4).reshape(43, 64, 1)
    put("coffee_gray16.png", png_bytes(gray16, 16, 0), desc="16-bit gray PNG (values 0..1020)")

    # ---- decode references ------------------------------------------------------------------------------
    images = []
    for name, desc in files:
        im = Image.open(os.path.join(OUT, name))
        entry = {"file": name, "description": desc, "format": im.format.lower(), "pil_mode": im.mode,
                 "width": im.width, "height": im.height}
        rgb = np.asarray(im.convert("RGB"))
        assert rgb.shape == (im.height, im.width, 3)
        if rgb.size <= 64 * 1024:
            entry["decoded"] = save_raw(name.replace(".", "_") + ".u8", rgb)
        else:
            entry["fnv1a64"] = fnv1a64(rgb.tobytes())
            h, w = rgb.shape[:2]
            patches = []
            for i, (px, py) in enumerate([(0, 0), (w - 48, h - 40), (w // 2 - 24, h // 3), (7, h - 40)]):
                patch = rgb[py:py + 40, px:px + 48]
                patches.append({"x": px, "y": py, "width": 48, "height": 40,
                                "file": save_raw(f"{name.replace('.', '_')}_patch{i}.u8", patch)})
            entry["patches"] = patches
        images.append(entry)

    # ---- resize references ------------------------------------------------------------------------------
    resize_cases = []
    src = np.ascontiguousarray(np.asarray(chelsea.crop((170, 50, 237, 95))))  # 67x45
    src_file = save_raw("resize_src_67x45.u8", src)
    big = np.ascontiguousarray(np.asarray(hopper.crop((170, 110, 290, 200))))  # 120x90
    big_file = save_raw("resize_src_120x90.u8", big)
    sources = {"67x45": (src, src_file), "120x90": (big, big_file)}
    sizes = {"67x45": [(33, 21), (101, 71), (67, 20), (17, 45), (1, 1), (200, 13), (66, 44), (68, 46), (3, 100)],
             "120x90": [(10, 7), (72, 54), (23, 90), (120, 37), (41, 13)]}
    for key, targets in sizes.items():
        arr, path = sources[key]
        for (w, h) in targets:
            for interp, flag in (("bilinear", Image.BILINEAR), ("bicubic", Image.BICUBIC)):
                out = np.asarray(Image.fromarray(arr).resize((w, h), flag))
                resize_cases.append({
                    "source": path, "source_width": arr.shape[1], "source_height": arr.shape[0],
                    "width": w, "height": h, "interpolation": interp,
                    "expected": save_raw(f"resize_{key}_to_{w}x{h}_{interp}.u8", out)})

    # ---- full eval transforms -----------------------------------------------------------------------------
    def load_rgb(name):
        with open(os.path.join(OUT, name), "rb") as f:
            return Image.open(f).convert("RGB")

    mode_names = {T.InterpolationMode.BILINEAR: "bilinear", T.InterpolationMode.BICUBIC: "bicubic"}

    def describe(tf):
        """Pulls size / interpolation / crop / mean / std out of a Compose so the manifest records what ran."""
        info = {}
        for t in tf.transforms:
            if isinstance(t, T.Resize):
                info["resize_size"] = t.size if isinstance(t.size, int) else t.size[0]
                info["interpolation"] = mode_names[t.interpolation]
            elif isinstance(t, T.CenterCrop):
                info["size"] = t.size[0]
            elif isinstance(t, T.Normalize):
                info["mean"] = [float(v) for v in t.mean]
                info["std"] = [float(v) for v in t.std]
        return info

    transforms = []

    def add_transform(label, image_name, tf, pipeline, extra):
        out = tf(load_rgb(image_name))
        arr = out.numpy() if hasattr(out, "numpy") else np.asarray(out)
        entry = {"name": label, "image": image_name, "pipeline": pipeline, "shape": list(arr.shape)}
        entry.update(describe(tf))
        entry.update(extra)
        entry["expected"] = save_raw(f"transform_{label}.f32", arr.astype(np.float32))
        transforms.append(entry)

    imagenet = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])

    def torchvision_eval(size, interp=T.InterpolationMode.BILINEAR):
        return T.Compose([T.Resize(size, interpolation=interp), T.CenterCrop(size), T.ToTensor(),
                          T.Normalize(**imagenet)])

    add_transform("torchvision_hopper_72", "grace_hopper.jpg", torchvision_eval(72), "torchvision",
                  {"preset": "torchvision", "crop_pct": 1.0, "layout": "nchw", "range": "unit"})
    # chelsea is 451x300: pick a crop where (resized width - S) / 2 ends in .5, so round-half-even matters.
    s_odd = next(s for s in range(60, 97) if (int(s * 451 / 300) - s) % 4 == 1)
    add_transform(f"torchvision_chelsea_{s_odd}", "chelsea.png", torchvision_eval(s_odd), "torchvision",
                  {"preset": "torchvision", "crop_pct": 1.0, "layout": "nchw", "range": "unit"})
    add_transform("torchvision_cmyk_48", "chelsea_cmyk.jpg", torchvision_eval(48), "torchvision",
                  {"preset": "torchvision", "crop_pct": 1.0, "layout": "nchw", "range": "unit"})

    for label, model_name, size, image_name, preset in [
        ("timm_tf_efficientnetv2_s_64", "tf_efficientnetv2_s", 64, "coffee_rgba.png", "timm-tf"),
        ("timm_tf_efficientnetv2_b0_72", "tf_efficientnetv2_b0", 72, "grace_hopper.jpg", "timm"),
        ("timm_efficientnetv2_rw_s_64", "efficientnetv2_rw_s", 64, "chelsea.png", "timm"),
        # Taller than 2:1, so Pillow 13 resizes vertically first (see Resampler.verticalFirst).
        ("timm_tf_efficientnetv2_b0_tall_48", "tf_efficientnetv2_b0", 48, "hopper_tall.jpg", "timm"),
    ]:
        model = timm.create_model(model_name, pretrained=False)
        cfg = resolve_data_config({"input_size": (3, size, size)}, model=model)
        tf = create_transform(**cfg)
        add_transform(label, image_name, tf, "timm",
                      {"preset": preset, "model": model_name, "crop_pct": float(cfg["crop_pct"]),
                       "layout": "nchw", "range": "unit"})

    # Keras applications (EfficientNetV2 with include_preprocessing=True) take raw 0..255 RGB in NHWC.
    keras_tf = T.Compose([T.Resize(56, interpolation=T.InterpolationMode.BILINEAR), T.CenterCrop(56),
                          T.Lambda(lambda im: np.asarray(im, dtype=np.float32))])
    add_transform("keras_hopper_gray_56", "hopper_gray.jpg", keras_tf, "keras",
                  {"preset": "keras", "crop_pct": 1.0, "layout": "nhwc", "range": "byte",
                   "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]})

    import PIL
    import torchvision

    manifest = {
        "generator": "tools/make_image_fixtures.py",
        "versions": {"pillow": PIL.__version__, "libjpeg_turbo": PIL.features.version("libjpeg_turbo"),
                     "torch": torch.__version__, "torchvision": torchvision.__version__,
                     "timm": timm.__version__, "numpy": np.__version__},
        "images": images,
        "resize": resize_cases,
        "transforms": transforms,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("# Image fixtures\n\nWritten by `tools/make_image_fixtures.py` (do not edit by hand; re-run it). "
                "`manifest.json` lists every image with PIL's decode, the PIL resize cases and the torchvision / timm "
                "/ Keras eval transforms; `reference/` holds the raw little-endian outputs (`.u8` RGB interleaved, "
                "`.f32` float32 in the stated shape).\n\n")
        for name, desc in files:
            f.write(f"- `{name}`: {desc}\n")

    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print(f"wrote {len(files)} images, {len(resize_cases)} resize and {len(transforms)} transform references, "
          f"{total / 1e6:.2f} MB in {os.path.relpath(OUT, ROOT)}")
    if total > 1.5e6:
        sys.exit("fixtures/images is over the 1.5 MB budget")


if __name__ == "__main__":
    import PIL.features  # noqa: F401

    main()
