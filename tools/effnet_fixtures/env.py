"""Process setup shared by the fixture scripts: lenient torchvision import, determinism, Keras backend.

torchvision's compiled ops (`torchvision::nms`, …) do not load against the CPU torch build, and
`torchvision/_meta_registrations.py` then raises from `torch.library.register_fake` while importing. The
EfficientNetV2 models use none of those ops, so registration errors are caught and ignored.
"""

import os
import random

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import torch

_original_register_fake = torch.library.register_fake
_patched = False


def lenient_register_fake():
    """Wrap `torch.library.register_fake` so a failing registration is ignored (idempotent)."""
    global _patched
    if _patched:
        return

    def register_fake(op, func=None, /, *args, **kwargs):
        def register(f):
            try:
                return _original_register_fake(op, f, *args, **kwargs)
            except Exception:  # missing C op: the models never call it
                return f

        return register if func is None else register(func)

    torch.library.register_fake = register_fake
    _patched = True


# Applied on import: anything below may import torchvision or timm (directly or through keras/timm).
lenient_register_fake()


def import_torchvision():
    lenient_register_fake()
    import torchvision

    return torchvision


def import_timm():
    lenient_register_fake()
    import timm

    return timm


def import_keras():
    """Keras 3 on the torch backend (the backend is fixed at first import)."""
    if os.environ.get("KERAS_BACKEND") != "torch":
        raise RuntimeError("KERAS_BACKEND must be 'torch' (set before keras is first imported)")
    import keras

    return keras


def deterministic(seed: int, threads: int = 1):
    """Seed every generator and pin the thread count, so reruns produce identical bytes.

    One intra-op thread fixes the summation order of CPU kernels; the fixture models are small enough.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
