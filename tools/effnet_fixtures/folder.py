"""Writing a fixture folder: checkpoint.npz, io.npz, meta.json (deterministic bytes)."""

import json
import os
import shutil

import numpy as np

from .npz import write_npz


def fresh_dir(path):
    """Empty `path` (removing stale exports) and create it."""
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)


def torch_state_dict_arrays(model):
    """state_dict → ordered {name: numpy array}, dtype kept (float32 weights, int64 num_batches_tracked)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def write_checkpoint(folder, arrays, compressed=False):
    write_npz(os.path.join(folder, "checkpoint.npz"), arrays, compressed=compressed)


def write_io(folder, x, y, compressed=False):
    write_npz(os.path.join(folder, "io.npz"), {"input": np.asarray(x, np.float32),
                                               "output": np.asarray(y, np.float32)}, compressed=compressed)


def write_meta(folder, meta):
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=False)
        f.write("\n")
