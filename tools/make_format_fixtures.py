#!/usr/bin/env python3
"""Writes fixtures/formats/<model-id>/: small calibrated models saved in the files users actually have.

Each model is a reduced EfficientNetV2 (one block per stage, narrow, 10 classes, 64×64 input: smaller than the
fixtures/models ones, since each is saved several times), built and calibrated with the same helpers as
tools/make_fixtures.py, and saved the way its framework saves weights:

- timm (`timm_tf_efficientnetv2_b0`): `model.safetensors` (`safetensors.torch.save_file`, what timm pushes to the
  hub) with `config.json` (`timm.models._hub.save_config_for_hf`), `pytorch_model.bin` (`torch.save`, zip),
  `nested_legacy.pth` (the legacy non-zip `torch.save` of a training checkpoint, state dict under `state_dict`);
- torchvision (`torchvision_efficientnet_v2_s`): `nested.pth` (zip, state dict under `model`, as torchvision's
  reference training scripts save), `legacy.pth` (legacy non-zip format, plain state dict), and `fp16.onnx`:
  onnxconverter-common's `convert_float_to_float16(keep_io_types=True)` of a TorchScript export, with
  `io_fp16.npz` holding onnxruntime's output of that file, and `fp16_io.onnx` (`keep_io_types=False`: float16
  input and output) with `io_fp16_io.npz` (float16 input, onnxruntime's float16 output);
- Keras (`keras_efficientnetv2_b0`): `model.weights.h5` (Keras 3 `save_weights`), `model.keras` (`model.save`),
  `legacy.h5` (`model.save` to `.h5`: Keras's legacy writer, weights under `/model_weights`) and `split.h5`
  (Keras's legacy `save_weights_to_hdf5_group` at the file's root, as TF-Keras 2 `save_weights` wrote, with its
  64 KB attribute limit lowered to 512 bytes so that `layer_names` and `weight_names` are split into
  `layer_names0`, `layer_names1`, … as they are in the real applications files).

`io.npz` holds the framework's own output on two sample photos preprocessed as the framework expects. Legacy
`torch.save` files name storages by memory address, so their bytes differ from run to run (the tensors do not).
Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/make_format_fixtures.py [timm] [torchvision] [keras]
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from effnet_fixtures import env  # noqa: E402  (first: KERAS_BACKEND, lenient torchvision)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from effnet_fixtures import calibrate, folder, keras_models  # noqa: E402
import make_fixtures  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "formats")


DEPTHS = (1, 1, 1, 1, 1, 1)
CLASSES = 10
SOURCES = {
    "timm_tf_efficientnetv2_b0": dict(id="timm_tf_efficientnetv2_b0", framework="timm", variant="tf_efficientnetv2_b0",
                                      width=0.15, size=64, depths=DEPTHS, seed=201, second_photo="chelsea",
                                      classes=CLASSES),
    "torchvision_efficientnet_v2_s": dict(id="torchvision_efficientnet_v2_s", framework="torchvision",
                                          variant="efficientnet_v2_s", width=0.15, size=64, depths=DEPTHS, seed=202,
                                          second_photo="rocket", classes=CLASSES),
    "keras_efficientnetv2_b0": dict(id="keras_efficientnetv2_b0", framework="keras", variant="efficientnetv2-b0",
                                    width=0.15, size=64, depths=DEPTHS, seed=203, second_photo="coffee",
                                    classes=CLASSES),
}


def rebuild_torch(fid):
    """The calibrated torch model, the io input (two photos) and the model's output on it."""
    fx = SOURCES[fid]
    env.deterministic(fx["seed"])
    model, spec, _ = make_fixtures.build_torch(fx)
    all_photos, x, _ = make_fixtures.photo_inputs(fx["framework"], spec, fx["second_photo"])
    calibrate.calibrate_torch_model(model, spec, fx["seed"], all_photos)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
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

    from effnet_fixtures import onnx_export

    exported = os.path.join(d, "float32.onnx")
    onnx_export.export_torchscript(model, x, exported, 17, True, True)
    src = onnx.load(exported)
    os.remove(exported)
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
    fx = SOURCES[fid]
    env.deterministic(fx["seed"])
    env.import_keras().utils.set_random_seed(fx["seed"])
    keras, model, _ = keras_models.build(fx["variant"], fx["width"], fx["depths"], fx["size"], fx["classes"])
    spec = make_fixtures.photos.preprocess_spec("keras", fx["size"])
    all_photos, x, _ = make_fixtures.photo_inputs("keras", spec, fx["second_photo"])
    keras_models.calibrate_keras_model(keras, model, spec, fx["seed"], all_photos)
    y = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)), np.float32)
    d = os.path.join(OUT, fid)
    folder.fresh_dir(d)
    model.save_weights(os.path.join(d, "model.weights.h5"))
    model.save(os.path.join(d, "model.keras"))
    model.save(os.path.join(d, "legacy.h5"))
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    limit = legacy_h5_format.HDF5_OBJECT_HEADER_LIMIT
    legacy_h5_format.HDF5_OBJECT_HEADER_LIMIT = 512
    try:
        with h5py.File(os.path.join(d, "split.h5"), "w") as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, model)
            assert "layer_names0" in f.attrs and "layer_names" not in f.attrs
    finally:
        legacy_h5_format.HDF5_OBJECT_HEADER_LIMIT = limit
    folder.write_io(d, x, y)
    print(f"{fid}: {sorted(os.listdir(d))}")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    only = sys.argv[1:]
    for name, make in (("timm", make_timm), ("torchvision", make_torchvision), ("keras", make_keras)):
        if not only or name in only:
            make()
