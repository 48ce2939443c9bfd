#!/usr/bin/env python3
"""Writes fixtures/formats/<model-id>/: the weights of fixtures/models/<model-id> in the files users actually have.

For each source fixture the reduced, calibrated model is rebuilt with its framework, its `checkpoint.npz` loaded
strictly, and the weights saved the way that framework saves them:

- timm (`timm_tf_efficientnetv2_b0`): `model.safetensors` (`safetensors.torch.save_file`, what timm pushes to the
  hub) with `config.json` (`timm.models._hub.save_config_for_hf`), `pytorch_model.bin` (`torch.save`, zip),
  `nested_legacy.pth` (the legacy non-zip `torch.save` of a training checkpoint, state dict under `state_dict`);
- torchvision (`torchvision_efficientnet_v2_s`): `nested.pth` (zip, state dict under `model`, as torchvision's
  reference training scripts save), `legacy.pth` (legacy non-zip format, plain state dict), and `fp16.onnx`:
  onnxconverter-common's `convert_float_to_float16(keep_io_types=True)` of the TorchScript export, with
  `io_fp16.npz` holding onnxruntime's output of that file, and `fp16_io.onnx` (`keep_io_types=False`: float16
  input and output) with `io_fp16_io.npz` (float16 input, onnxruntime's float16 output);
- Keras (`keras_efficientnetv2_b0`): `model.weights.h5` (Keras 3 `save_weights`), `model.keras` (`model.save`)
  and `legacy.h5` (`model.save` to `.h5`, Keras's legacy HDF5 writer: `layer_names` / `weight_names` attributes).

`io.npz` holds the framework's own output on the source fixture's input, recomputed from the rebuilt model (and
checked equal to fixtures/models/<id>/io.npz). Legacy `torch.save` files name storages by memory address, so
their bytes differ from run to run (the tensors do not). Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/make_format_fixtures.py
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from effnet_fixtures import env  # noqa: E402  (first: KERAS_BACKEND, lenient torchvision)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from effnet_fixtures import folder, keras_models  # noqa: E402
import make_fixtures  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "fixtures", "models")
OUT = os.path.join(ROOT, "fixtures", "formats")


def fixture(fid):
    return next(fx for fx in make_fixtures.FIXTURES if fx["id"] == fid)


def source(fid):
    ckpt = np.load(os.path.join(MODELS, fid, "checkpoint.npz"))
    io = np.load(os.path.join(MODELS, fid, "io.npz"))
    return {k: ckpt[k] for k in ckpt.files}, io["input"], io["output"]


def rebuild_torch(fid):
    fx = fixture(fid)
    env.deterministic(fx["seed"])
    model, _, _ = make_fixtures.build_torch(fx)
    arrays, x, y_ref = source(fid)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=True)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    diff = float(np.abs(y - y_ref).max())
    assert diff < 1e-5, f"{fid}: rebuilt model differs from fixtures/models by {diff}"
    return model, x, y


def make_timm(fid="timm_tf_efficientnetv2_b0"):
    from safetensors.torch import save_file

    timm = env.import_timm()
    model, x, y = rebuild_torch(fid)
    d = os.path.join(OUT, fid)
    folder.fresh_dir(d)
    sd = model.state_dict()
    save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(d, "model.safetensors"))
    from timm.models._hub import save_config_for_hf

    try:
        save_config_for_hf(model, os.path.join(d, "config.json"))
    except (ValueError, TypeError) as error:  # reduced widths may not serialize as model args
        print(f"  save_config_for_hf: {error}; writing the pretrained_cfg only")
        cfg = {k: v for k, v in model.pretrained_cfg.items() if isinstance(v, (str, int, float, list, tuple))}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(dict(architecture=cfg.pop("architecture"), num_classes=model.num_classes,
                           pretrained_cfg=cfg), f, indent=2)
    torch.save(sd, os.path.join(d, "pytorch_model.bin"))
    torch.save({"epoch": 12, "arch": "tf_efficientnetv2_b0", "state_dict": sd, "metric": 0.5, "version": 2},
               os.path.join(d, "nested_legacy.pth"), _use_new_zipfile_serialization=False)
    folder.write_io(d, x, y)
    print(f"{fid}: {sorted(os.listdir(d))}")


def make_torchvision(fid="torchvision_efficientnet_v2_s"):
    model, x, y = rebuild_torch(fid)
    d = os.path.join(OUT, fid)
    folder.fresh_dir(d)
    sd = model.state_dict()
    torch.save({"model": sd, "epoch": 3, "args": None}, os.path.join(d, "nested.pth"))
    torch.save(sd, os.path.join(d, "legacy.pth"), _use_new_zipfile_serialization=False)
    folder.write_io(d, x, y)

    import onnx
    import onnxruntime as ort
    from onnxconverter_common import float16

    src = onnx.load(os.path.join(MODELS, fid, "torchscript.onnx"))
    half = float16.convert_float_to_float16(src, keep_io_types=True)
    path = os.path.join(d, "fp16.onnx")
    onnx.save(half, path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    y16 = session.run(None, {session.get_inputs()[0].name: x})[0]
    print(f"  fp16.onnx: onnxruntime vs float32 torch max |diff| {float(np.abs(y16 - y).max()):.3e}")
    from effnet_fixtures.npz import write_npz

    write_npz(os.path.join(d, "io_fp16.npz"), {"input": x, "output": np.asarray(y16, np.float32)})
    # End to end in float16 (keep_io_types=False): float16 input and output; the reference keeps both as float16.
    path = os.path.join(d, "fp16_io.onnx")
    onnx.save(float16.convert_float_to_float16(src, keep_io_types=False), path)
    session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    x16 = x.astype(np.float16)
    y16io = session.run(None, {session.get_inputs()[0].name: x16})[0]
    assert y16io.dtype == np.float16
    print(f"  fp16_io.onnx: onnxruntime vs float32 torch max |diff| {float(np.abs(y16io - y).max()):.3e}")
    write_npz(os.path.join(d, "io_fp16_io.npz"), {"input": x16, "output": y16io})
    print(f"{fid}: {sorted(os.listdir(d))}")


def make_keras(fid="keras_efficientnetv2_b0"):
    fx = fixture(fid)
    env.deterministic(fx["seed"])
    keras, model, _ = keras_models.build(fx["variant"], fx["width"], fx["depths"], fx["size"], make_fixtures.CLASSES)
    arrays, x, y_ref = source(fid)
    by_path = {v.path: v for v in model.weights}
    assert set(by_path) == set(arrays), "Keras variables differ from the checkpoint"
    for name, value in arrays.items():
        by_path[name].assign(value)
    y = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)), np.float32)
    diff = float(np.abs(y - y_ref).max())
    assert diff < 1e-5, f"{fid}: rebuilt Keras model differs from fixtures/models by {diff}"
    d = os.path.join(OUT, fid)
    folder.fresh_dir(d)
    model.save_weights(os.path.join(d, "model.weights.h5"))
    model.save(os.path.join(d, "model.keras"))
    model.save(os.path.join(d, "legacy.h5"))
    folder.write_io(d, x, y)
    print(f"{fid}: {sorted(os.listdir(d))}")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    only = sys.argv[1:]
    for name, make in (("timm", make_timm), ("torchvision", make_torchvision), ("keras", make_keras)):
        if not only or name in only:
            make()
