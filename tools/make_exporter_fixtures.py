#!/usr/bin/env python3
"""Writes fixtures/exporters/<id>/: the same reduced Keras EfficientNetV2-B0 as other exporters write it.

The weights are the calibrated ones of fixtures/models/keras_efficientnetv2_b0 (its checkpoint.npz loaded into
the same Keras model), so every file here computes what that checkpoint computes. One folder per exporter:

- `keras_export`:   Keras 3 `model.export(path, format="onnx")` on the torch backend: NHWC input, Cast and
                    Transpose chains, BatchNorm as Sub/Mul/Add arithmetic, squeeze-excitation through
                    Shape/Gather/Reshape.
- `onnxslim`:       `onnxslim.slim` of that file (constant folding and its own fusions).
- `ort_basic`:      onnxruntime's `ORT_ENABLE_BASIC` optimized model of the Keras export.
- `ort_extended`:   onnxruntime's `ORT_ENABLE_EXTENDED` optimized model: `com.microsoft` QuickGelu (x·σ(αx)) and
                    FusedConv (Conv + activation).

Each folder holds `model.onnx`, `io.npz` (`input`, `output`: the graph has one of each; `output` is the framework's own: Keras for `keras_export`/`onnxslim`, onnxruntime on the optimized
file for the `ort_*` ones, since that file is what onnxruntime itself runs), and `meta.json` (ops histogram,
max |difference| from Keras).

Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/make_exporter_fixtures.py [--out DIR] [--full-size DIR [--derived-only]]
`--full-size DIR` instead writes the full-size (width 1.0, 224×224, 1000 classes) Keras B0 with random calibrated
weights as `DIR/keras_b0.npz` (checkpoint), `DIR/keras_b0.onnx` (its Keras export) and `DIR/keras_b0.io.npz`
(one photo and Keras's output), then the same three derived files as the fixtures, each with its framework's
output: `DIR/keras_b0.onnxslim.onnx` (+ `.io.npz`, Keras's output), `DIR/keras_b0.ort_basic.onnx` and
`DIR/keras_b0.ort_extended.onnx` (+ `.io.npz`, onnxruntime's output on that file), and `DIR/keras_b0.meta.json`
(ops histograms and max |differences|). These are far above the fixture size limit and are never committed
(bench-models/ is ignored). `--derived-only` reuses an existing `DIR/keras_b0.onnx` and `.io.npz` and only
rewrites the derived files. `tools/check_exporters_fullsize.py` verifies and inspects all four with effnet.
"""

import argparse
import collections
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from effnet_fixtures import env  # noqa: E402  (first: KERAS_BACKEND, lenient torchvision)

import numpy as np  # noqa: E402

from effnet_fixtures import folder, keras_models, photos  # noqa: E402
from effnet_fixtures.npz import write_npz  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(ROOT, "fixtures", "models", "keras_efficientnetv2_b0")
# As tools/make_fixtures.py's keras_efficientnetv2_b0 entry.
VARIANT, WIDTH, SIZE, DEPTHS, CLASSES, SEED = "efficientnetv2-b0", 0.15, 64, (1, 2, 2, 2, 2, 1), 40, 105


def ops_histogram(path):
    import onnx

    m = onnx.load(path)
    c = collections.Counter((n.domain + "." if n.domain else "") + n.op_type for n in m.graph.node)
    return dict(sorted(c.items()))


def io_names(path):
    import onnx

    m = onnx.load(path)
    inits = {t.name for t in m.graph.initializer}
    ins = [i.name for i in m.graph.input if i.name not in inits]
    return ins, [o.name for o in m.graph.output]


def ort_run(path, x):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def ort_optimize(src, dst, level):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = level
    options.optimized_model_filepath = dst
    ort.InferenceSession(src, options, providers=["CPUExecutionProvider"])


def keras_model(checkpoint=None):
    """The fixture's Keras model with the calibrated weights of `checkpoint` (a {path: array} mapping)."""
    env.deterministic(SEED)
    env.import_keras().utils.set_random_seed(SEED)
    keras, model, _ = keras_models.build(VARIANT, WIDTH, DEPTHS, SIZE, CLASSES)
    if checkpoint is not None:
        by_path = {v.path: v for v in model.weights}
        assert set(by_path) == set(checkpoint), "checkpoint does not match the model's variables"
        for path, value in checkpoint.items():
            by_path[path].assign(value)
    return keras, model


def keras_export(model, path):
    """Keras 3's own ONNX export (torch backend: torch.onnx under the hood), written to `path`."""
    model.export(path, format="onnx", verbose=False)
    # Keep the file self-contained (small models are written inline already; be explicit).
    import onnx

    m = onnx.load(path)
    onnx.save(m, path)


def write_folder(d, model_path, x, y, keras_y, note):
    folder.fresh_dir(d)
    target = os.path.join(d, "model.onnx")
    os.replace(model_path, target)
    ins, outs = io_names(target)
    assert len(ins) == 1 and len(outs) == 1, (ins, outs)
    arrays = {"input": x, "output": y}  # one input and one output: effnet matches them by these names
    write_npz(os.path.join(d, "io.npz"), arrays)
    ort_y = ort_run(target, x)
    meta = dict(generated_by="tools/make_exporter_fixtures.py", source="fixtures/models/keras_efficientnetv2_b0",
                exporter=note, inputs=ins, outputs=outs, ops=ops_histogram(target),
                ort_max_abs_diff=float(np.abs(ort_y.astype(np.float64) - y).max()),
                keras_max_abs_diff=float(np.abs(y.astype(np.float64) - keras_y).max()),
                size_bytes=os.path.getsize(target))
    folder.write_meta(d, meta)
    return meta


def make_fixtures(out):
    import onnxruntime as ort
    import onnxslim

    ckpt = dict(np.load(os.path.join(SOURCE, "checkpoint.npz")))
    io = np.load(os.path.join(SOURCE, "io.npz"))
    x = np.asarray(io["input"], np.float32)
    keras, model = keras_model(ckpt)
    y = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)), np.float32)
    committed = np.asarray(io["output"], np.float64)
    drift = float(np.abs(y - committed).max())
    assert drift < 1e-6, f"the rebuilt Keras model differs from the committed fixture output by {drift}"

    tmp = tempfile.mkdtemp(prefix="effnet-exporters-")
    exported = os.path.join(tmp, "keras.onnx")
    keras_export(model, exported)
    os.makedirs(out, exist_ok=True)
    metas = {}

    slim = os.path.join(tmp, "slim.onnx")
    import onnx

    # onnxslim's own shape inference (on by default) mis-folds this graph: onnxruntime then differs from Keras by
    # 0.11 on the fixture's photos (onnxslim 0.1.98). Without it the slimmed file is exact.
    onnx.save(onnxslim.slim(onnx.load(exported), no_shape_infer=True), slim)
    assert float(np.abs(ort_run(slim, x) - y).max()) < 1e-5, "onnxslim changed the model's outputs"
    basic = os.path.join(tmp, "basic.onnx")
    ort_optimize(exported, basic, ort.GraphOptimizationLevel.ORT_ENABLE_BASIC)
    extended = os.path.join(tmp, "extended.onnx")
    ort_optimize(exported, extended, ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED)

    metas["keras_export"] = write_folder(os.path.join(out, "keras_export"), exported, x, y, y,
                                         f"keras {keras.__version__} model.export(format='onnx'), torch backend")
    metas["onnxslim"] = write_folder(os.path.join(out, "onnxslim"), slim, x, y, y,
                                     f"onnxslim {onnxslim.__version__} slim(no_shape_infer=True) of keras_export")
    for name, path, level in (("ort_basic", basic, "ORT_ENABLE_BASIC"), ("ort_extended", extended,
                                                                          "ORT_ENABLE_EXTENDED")):
        ort_y = ort_run(path, x).astype(np.float32)
        metas[name] = write_folder(os.path.join(out, name), path, x, ort_y, y,
                                   f"onnxruntime {ort.__version__} {level} optimized_model_filepath of keras_export")
    for name, meta in metas.items():
        print(f"{name}: {meta['size_bytes']} bytes, ort diff {meta['ort_max_abs_diff']:.2e}, "
              f"vs keras {meta['keras_max_abs_diff']:.2e}, ops {meta['ops']}")


def make_full_size(out):
    """Full-size Keras EfficientNetV2-B0 (random weights, calibrated BN) as a checkpoint and its Keras export."""
    env.deterministic(SEED)
    keras = env.import_keras()
    keras.utils.set_random_seed(SEED)
    keras, model, _ = keras_models.build(VARIANT, 1.0, (1, 2, 2, 3, 5, 8), 224, 1000)
    spec = photos.preprocess_spec("keras", 224)
    imgs = photos.load_photos()
    all_photos = np.stack([photos.preprocess(im, spec) for im in imgs.values()])
    keras_models.calibrate_keras_model(keras, model, spec, SEED, all_photos, batches=1, batch_size=4)
    os.makedirs(out, exist_ok=True)
    write_npz(os.path.join(out, "keras_b0.npz"), keras_models.weights(keras, model))
    x = all_photos[:1].astype(np.float32)
    y = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)), np.float32)  # export needs a call first
    keras_export(model, os.path.join(out, "keras_b0.onnx"))
    write_npz(os.path.join(out, "keras_b0.io.npz"), {"input": x, "output": y})
    print(f"wrote {out}/keras_b0.npz, keras_b0.onnx, keras_b0.io.npz")
    make_full_size_derived(out)


# The full-size derived files: name -> how they are made (as the fixtures' onnxslim / ort_basic / ort_extended).
FULL_SIZE_DERIVED = ("onnxslim", "ort_basic", "ort_extended")


def make_full_size_derived(out):
    """onnxslim, onnxruntime basic and extended optimized files of `out/keras_b0.onnx`, with their outputs."""
    import onnx
    import onnxruntime as ort
    import onnxslim

    exported = os.path.join(out, "keras_b0.onnx")
    io_path = os.path.join(out, "keras_b0.io.npz")
    for p in (exported, io_path):
        if not os.path.exists(p):
            sys.exit(f"{p} is missing: run tools/make_exporter_fixtures.py --full-size {out} first")
    io = np.load(io_path)
    x = np.asarray(io["input"], np.float32)
    keras_y = np.asarray(io["output"], np.float32)
    meta = dict(generated_by="tools/make_exporter_fixtures.py --full-size",
                keras_export=dict(ops=ops_histogram(exported),
                                  ort_max_abs_diff=float(np.abs(ort_run(exported, x).astype(np.float64)
                                                                - keras_y).max())))
    for name in FULL_SIZE_DERIVED:
        target = os.path.join(out, f"keras_b0.{name}.onnx")
        tmp = target + ".tmp.onnx"
        if name == "onnxslim":
            # As the fixture: onnxslim's own shape inference mis-folds this graph (see make_fixtures).
            onnx.save(onnxslim.slim(onnx.load(exported), no_shape_infer=True), tmp)
            note = f"onnxslim {onnxslim.__version__} slim(no_shape_infer=True) of keras_b0.onnx"
        else:
            level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC if name == "ort_basic" \
                else ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
            ort_optimize(exported, tmp, level)
            note = f"onnxruntime {ort.__version__} {level} optimized_model_filepath of keras_b0.onnx"
        ins, outs = io_names(tmp)
        assert len(ins) == 1 and len(outs) == 1, (name, ins, outs)
        ort_y = ort_run(tmp, x).astype(np.float32)
        # The framework's own output: Keras for onnxslim (a rewrite of the Keras file), onnxruntime on the
        # optimized file for the ort_* ones (that file is what onnxruntime itself runs).
        y = keras_y if name == "onnxslim" else ort_y
        if name == "onnxslim":
            assert float(np.abs(ort_y - keras_y).max()) < 1e-5, "onnxslim changed the model's outputs"
        os.replace(tmp, target)
        write_npz(os.path.join(out, f"keras_b0.{name}.io.npz"), {"input": x, "output": y})
        meta[name] = dict(exporter=note, ops=ops_histogram(target),
                          ort_max_abs_diff=float(np.abs(ort_y.astype(np.float64) - y).max()),
                          keras_max_abs_diff=float(np.abs(y.astype(np.float64) - keras_y).max()),
                          size_bytes=os.path.getsize(target))
        print(f"wrote {target}: {meta[name]['size_bytes']} bytes, vs keras {meta[name]['keras_max_abs_diff']:.2e}, "
              f"ops {meta[name]['ops']}")
    with open(os.path.join(out, "keras_b0.meta.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(ROOT, "fixtures", "exporters"))
    p.add_argument("--full-size", metavar="DIR",
                   help="write the full-size Keras B0 (checkpoint, export, onnxslim and onnxruntime files) to DIR")
    p.add_argument("--derived-only", action="store_true",
                   help="with --full-size: keep DIR/keras_b0.onnx and only rewrite the onnxslim/onnxruntime files")
    args = p.parse_args()
    if args.derived_only and not args.full_size:
        p.error("--derived-only needs --full-size DIR")
    if args.full_size and args.derived_only:
        make_full_size_derived(args.full_size)
    elif args.full_size:
        make_full_size(args.full_size)
    else:
        make_fixtures(args.out)


if __name__ == "__main__":
    main()
