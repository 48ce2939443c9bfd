"""Real sample photos shipped inside pip packages (matplotlib, scikit-image) and the frameworks' preprocessing.

Random networks need real image statistics for BatchNorm calibration, and the io.npz fixtures feed a real photo
so that `effnet run` / `verify` see the same kind of input a user gives. No download is involved.
"""

import math
import os

import numpy as np
from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _package_dir(module):
    return os.path.dirname(module.__file__)


def sample_photo_paths():
    """Colour photos, in a fixed order: name → absolute path."""
    import matplotlib
    import skimage

    mpl = os.path.join(_package_dir(matplotlib), "mpl-data", "sample_data")
    ski = os.path.join(_package_dir(skimage), "data")
    photos = {
        "grace_hopper": os.path.join(mpl, "grace_hopper.jpg"),
        "chelsea": os.path.join(ski, "chelsea.png"),
        "astronaut": os.path.join(ski, "astronaut.png"),
        "coffee": os.path.join(ski, "coffee.png"),
        "rocket": os.path.join(ski, "rocket.jpg"),
        "motorcycle": os.path.join(ski, "motorcycle_left.png"),
        "hubble": os.path.join(ski, "hubble_deep_field.jpg"),
        "retina": os.path.join(ski, "retina.jpg"),
    }
    missing = [p for p in photos.values() if not os.path.exists(p)]
    if missing:
        raise FileNotFoundError(f"sample photos missing (matplotlib / scikit-image data): {missing}")
    return photos


def load_photo(name):
    """One sample photo as an RGB PIL image."""
    return Image.open(sample_photo_paths()[name]).convert("RGB")


def load_photos():
    return {name: load_photo(name) for name in sample_photo_paths()}


# --- preprocessing -------------------------------------------------------------------------------------------


def resize_shorter(img, size, resample):
    """PIL resize so the shorter side is `size` (torchvision `Resize(int)` semantics, antialiased)."""
    w, h = img.size
    if w <= h:
        nw, nh = size, int(size * h / w)
    else:
        nw, nh = int(size * w / h), size
    return img.resize((nw, nh), resample)


def center_crop(img, size):
    """torchvision `CenterCrop`: offsets round half to even of (W − S)/2, (H − S)/2."""
    w, h = img.size
    left = int(round((w - size) / 2.0))
    top = int(round((h - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


def to_chw(img, mean, std):
    """HWC uint8 → CHW float32: (x/255 − mean)/std."""
    x = np.asarray(img, dtype=np.float32) / 255.0
    x = (x - np.array(mean, np.float32)) / np.array(std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def preprocess_spec(framework, size, crop_pct=0.875, interpolation="bicubic", mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """Describe the framework's eval pipeline (what meta.json records, what `preprocess` applies).

    timm: resize shorter side to floor(S / crop_pct) (PIL, antialiased), center-crop S, ImageNet or 0.5/0.5 norm.
    torchvision: resize shorter side to S bilinear (antialiased), center-crop S, ImageNet norm.
    keras: same resize/crop as torchvision but raw 0..255 float pixels, NHWC; the model normalizes itself.
    """
    if framework == "timm":
        return dict(layout="NCHW", resize=int(math.floor(size / crop_pct)), crop=size, crop_pct=crop_pct,
                    interpolation=interpolation, mean=list(mean), std=list(std), scale="x/255")
    if framework == "torchvision":
        return dict(layout="NCHW", resize=size, crop=size, crop_pct=1.0, interpolation="bilinear",
                    mean=list(IMAGENET_MEAN), std=list(IMAGENET_STD), scale="x/255")
    if framework == "keras":
        return dict(layout="NHWC", resize=size, crop=size, crop_pct=1.0, interpolation="bilinear",
                    mean=None, std=None, scale="raw 0..255 (the model's own Rescaling/Normalization layers)")
    raise ValueError(framework)


_RESAMPLE = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def preprocess(img, spec):
    """Apply `spec` (from `preprocess_spec`) to one PIL image → float32 array (CHW or HWC)."""
    img = center_crop(resize_shorter(img, spec["resize"], _RESAMPLE[spec["interpolation"]]), spec["crop"])
    if spec["layout"] == "NHWC":
        return np.asarray(img, dtype=np.float32).copy()
    return to_chw(img, spec["mean"], spec["std"])


def calibration_batches(spec, rng, batches=3, batch_size=8, noise_fraction=0.25):
    """Batches of random crops/flips of every sample photo, plus smooth noise images.

    Crops cover 35–100 % of the photo's area (like RandomResizedCrop) so BatchNorm sees varied statistics;
    a quarter of each batch is low-frequency noise in the photos' value range.
    """
    photos = list(load_photos().values())
    size = spec["crop"]
    out = []
    for _ in range(batches):
        items = []
        for i in range(batch_size):
            if i < int(round(batch_size * (1 - noise_fraction))):
                img = photos[rng.integers(len(photos))]
                w, h = img.size
                area = rng.uniform(0.35, 1.0) * w * h
                aspect = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
                cw = min(w, int(round(math.sqrt(area * aspect))))
                ch = min(h, int(round(math.sqrt(area / aspect))))
                x0 = int(rng.integers(0, w - cw + 1))
                y0 = int(rng.integers(0, h - ch + 1))
                crop = img.crop((x0, y0, x0 + cw, y0 + ch)).resize((size, size), _RESAMPLE[spec["interpolation"]])
                if rng.random() < 0.5:
                    crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
            else:
                low = rng.uniform(0, 255, size=(max(2, size // 16), max(2, size // 16), 3))
                crop = Image.fromarray(low.astype(np.uint8)).resize((size, size), Image.BICUBIC)
                fine = rng.normal(0, 20, size=(size, size, 3))
                crop = Image.fromarray(np.clip(np.asarray(crop, np.float32) + fine, 0, 255).astype(np.uint8))
            if spec["layout"] == "NHWC":
                items.append(np.asarray(crop, dtype=np.float32))
            else:
                items.append(to_chw(crop, spec["mean"], spec["std"]))
        out.append(np.stack(items))
    return out
