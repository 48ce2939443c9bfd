#!/usr/bin/env python3
"""Writes fixtures/exif/: small photos carrying each EXIF orientation, and PIL's `ImageOps.exif_transpose` of each.

Run as `${EFFNET_PYTHON:-.venv/bin/python} tools/make_exif_fixtures.py` from the repository root (needs only PIL and
numpy). The source is a 24x16 crop of fixtures/images/grace_hopper.jpg, saved once as a JPEG; every case is that
same JPEG with only its APP1 Exif segment changed (or a PNG with an eXIf chunk), so the decoded pixels are the same
and only the orientation differs. For each case the manifest gives PIL's result — width, height and the raw RGB
bytes of `np.asarray(ImageOps.exif_transpose(Image.open(f)).convert("RGB"))` in `<name>.u8` — which effnet's
decode + orientation must equal exactly. The malformed cases (bad TIFF header, IFD0 offset past the end, truncated
entry, value 9, count 2, big-endian) record what PIL does with them.

`orient6_upright.png` is PIL's transpose of `orient6.jpg` saved losslessly without EXIF: the CLI test checks that
`run --exif-transpose orient6.jpg` prints what `run orient6_upright.png` prints.
"""

import io
import json
import os
import shutil
import struct

import numpy as np
from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "exif")


def tiff(orientation: int, endian: str = "<", typ: int = 3, count: int = 1, ifd_offset: int = 8,
         header: bytes | None = None, truncate: int | None = None) -> bytes:
    """A TIFF structure with one IFD0 entry: Orientation."""
    head = header if header is not None else (b"II*\0" if endian == "<" else b"MM\0*")
    head += struct.pack(endian + "I", ifd_offset)
    if typ in (3, 8):
        value = struct.pack(endian + "HH", orientation, 0)
    else:
        value = struct.pack(endian + "I", orientation)
    ifd = struct.pack(endian + "H", 1) + struct.pack(endian + "HHI", 0x0112, typ, count) + value
    ifd += struct.pack(endian + "I", 0)
    data = head + ifd
    return data[:truncate] if truncate is not None else data


def with_app1(jpeg: bytes, payload: bytes) -> bytes:
    """The JPEG with an APP1 Exif segment holding `payload` inserted after SOI."""
    seg = b"Exif\0\0" + payload
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(seg) + 2) + seg + jpeg[2:]


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    photo = Image.open(os.path.join(ROOT, "fixtures", "images", "grace_hopper.jpg")).convert("RGB")
    crop = photo.crop((230, 150, 254, 166))  # 24x16, a face: not symmetric in either axis
    buf = io.BytesIO()
    crop.save(buf, "JPEG", quality=92)
    base = buf.getvalue()

    cases = []

    def put(name: str, data: bytes, desc: str):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        im = Image.open(os.path.join(OUT, name))
        try:
            out = ImageOps.exif_transpose(im).convert("RGB")
            outcome = "ok"
        except Exception as e:  # recorded, not hidden: the test then expects the untransposed decode
            print(f"{name}: PIL raised {type(e).__name__}: {e}")
            out = Image.open(os.path.join(OUT, name)).convert("RGB")
            outcome = f"PIL raised {type(e).__name__}"
        arr = np.asarray(out, dtype=np.uint8)
        raw = name.rsplit(".", 1)[0] + ".u8"
        arr.tofile(os.path.join(OUT, raw))
        cases.append({"file": name, "width": out.width, "height": out.height, "expected": raw, "pil": outcome,
                      "description": desc})

    put("plain.jpg", base, "no EXIF")
    for n in range(1, 9):
        put(f"orient{n}.jpg", with_app1(base, tiff(n)), f"orientation {n}, little-endian SHORT")
    put("orient6_be.jpg", with_app1(base, tiff(6, ">")), "orientation 6, big-endian")
    put("orient8_long.jpg", with_app1(base, tiff(8, typ=4)), "orientation 8 stored as LONG")
    put("bad_header.jpg", with_app1(base, tiff(6, header=b"XX*\0")), "bad TIFF byte order mark")
    put("bad_ifd_offset.jpg", with_app1(base, tiff(6, ifd_offset=4000)), "IFD0 offset past the end")
    put("truncated_entry.jpg", with_app1(base, tiff(6, truncate=16)), "IFD0 entry cut short")
    put("orient9.jpg", with_app1(base, tiff(9)), "orientation 9 (out of range)")
    put("count2.jpg", with_app1(base, tiff(6, count=2)), "orientation with count 2")
    # Three SHORTs (6 bytes) stored at an offset after IFD0: PIL keeps the first.
    entries = struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 3, 26) + struct.pack("<I", 0)
    put("count3_offset.jpg", with_app1(base, b"II*\0" + struct.pack("<I", 8) + entries + struct.pack("<HHH", 8, 1, 1)),
        "orientation with 3 values stored at an offset (first is 8)")
    put("count3_past_end.jpg", with_app1(base, b"II*\0" + struct.pack("<I", 8) + entries + struct.pack("<H", 8)),
        "orientation values at an offset past the end")
    # PNG with an eXIf chunk (PIL writes it from exif=).
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.open(io.BytesIO(base)).convert("RGB").save(buf, "PNG", exif=exif.tobytes())
    put("orient6.png", buf.getvalue(), "PNG eXIf orientation 6")

    # The orientation-6 photo made upright losslessly, for the CLI test.
    upright = ImageOps.exif_transpose(Image.open(os.path.join(OUT, "orient6.jpg"))).convert("RGB")
    upright.save(os.path.join(OUT, "orient6_upright.png"))

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generator": "tools/make_exif_fixtures.py", "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
