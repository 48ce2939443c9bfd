#!/usr/bin/env python3
"""Writes framework-made checkpoints and outputs for the Models cross-check (not fixtures: a scratch folder).

Run:  ${EFFNET_PYTHON:-.venv/bin/python} tools/make_models_crosscheck.py DIR
then  EFFNET_MODELS_CROSSCHECK=DIR swift test --filter FrameworkCrossCheckTests   (writes DIR/<case>/export-*, graph.*)
and   tools/check_timm_strict_load.py / tools/check_graph_onnxruntime.py on the results, e.g.
      tools/check_timm_strict_load.py DIR/timm_s/export-from-onnx-ts --model tf_efficientnetv2_s \\
          channel_multiplier=0.5 depth_multiplier=0.34 num_classes=10 --io DIR/timm_s/io.npz
      tools/check_timm_strict_load.py DIR/timm_s/export-via-keras --model tf_efficientnetv2_s channel_multiplier=0.5 \\
          depth_multiplier=0.34 num_classes=10 --io DIR/timm_s/io.npz
      tools/check_timm_strict_load.py DIR/keras_b0/export-timm --model tf_efficientnetv2_b0 channel_multiplier=0.5 \\
          depth_multiplier=0.5 num_classes=10 --softmax --io DIR/keras_b0/io.npz
      tools/check_timm_strict_load.py DIR/tv_s/export-timm --model efficientnetv2_s bn_eps=1e-3 --io DIR/tv_s/io.npz
      tools/check_graph_onnxruntime.py DIR/keras_b0 --input raw_input

The PyTorch cases also get TorchScript and dynamo ONNX exports (model-ts.onnx, model-dynamo.onnx) converted by
tools/onnx_to_graph_json.py, from which the Swift side recognizes the network and exports checkpoints.

Cases (random weights, BatchNorm statistics from train-mode passes over noise so activations stay moderate):
  timm_s    timm tf_efficientnetv2_s at width 0.5, depth 0.34, 10 classes; input 2×3×64×64
  keras_b0  Keras EfficientNetV2B0 at width 0.5, depth 0.5, 10 classes; raw_input 2×224×224×3 pixels, input the same
            images preprocessed to NCHW (for timm), output Keras's softmax
  tv_s      torchvision efficientnet_v2_s (full size); input 2×3×96×96
"""
import os
import sys

_want = os.environ.get("EFFNET_PYTHON") or os.path.join(os.path.dirname(__file__), "..", ".venv", "bin", "python")
if os.path.exists(_want) and os.path.abspath(sys.prefix) != os.path.abspath(os.path.join(os.path.dirname(_want), "..")) \
        and not os.environ.get("EFFNET_REEXEC"):
    os.environ["EFFNET_REEXEC"] = "1"
    os.execv(_want, [_want] + sys.argv)

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402
from check_timm_strict_load import import_torch_lenient, save_arrays  # noqa: E402

torch = import_torch_lenient()


def calibrate(model, size):
    """Random γ/β, then running statistics from cumulative train-mode passes over noise."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
            torch.nn.init.uniform_(m.weight, 0.5, 1.5)
            torch.nn.init.uniform_(m.bias, -0.2, 0.2)
    model.train()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(4, 3, size, size, generator=g))
    model.eval()


def export_onnx(model, size, folder):
    """TorchScript (opset 17, BN folded) and dynamo (opset 18) exports, converted for the Swift side."""
    import subprocess
    x = torch.rand(1, 3, size, size)
    for tag, kwargs in (("ts", dict(dynamo=False, opset_version=17)), ("dynamo", dict(dynamo=True, opset_version=18))):
        path = os.path.join(folder, f"model-{tag}.onnx")
        torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"], **kwargs)
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "onnx_to_graph_json.py"), path, folder,
                        "--name", f"onnx-{tag}"], check=True)


def torch_case(root, name, model, size):
    calibrate(model, size)
    folder = os.path.join(root, name)
    save_arrays({k: v.numpy() for k, v in model.state_dict().items()}, os.path.join(folder, "source"))
    x = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        y = model(x)
    np.savez(os.path.join(folder, "io.npz"), input=x.numpy(), output=y.numpy())
    export_onnx(model, size, folder)
    print(f"{folder}: output {tuple(y.shape)}")


def keras_case(root):
    import keras
    from keras.src.applications import efficientnet_v2 as kev2
    model = kev2.EfficientNetV2(width_coefficient=0.5, depth_coefficient=0.5, default_size=224,
                                name="efficientnetv2-b0", weights=None, classes=10)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            shapes = [w.shape for w in layer.get_weights()]
            layer.set_weights([rng.uniform(0.5, 1.5, shapes[0]), rng.uniform(-0.2, 0.2, shapes[1]),
                               rng.uniform(-0.1, 0.1, shapes[2]), rng.uniform(0.5, 2.0, shapes[3])])
        elif isinstance(layer, keras.layers.Dense):
            w, b = layer.get_weights()
            layer.set_weights([w * 3, b])  # a softmax that is neither flat nor saturated
    folder = os.path.join(root, "keras_b0")
    save_arrays({w.path: np.asarray(keras.ops.convert_to_numpy(w)) for w in model.weights},
                os.path.join(folder, "source"))
    images = rng.uniform(0, 255, (2, 224, 224, 3)).astype("f4")
    probabilities = np.asarray(keras.ops.convert_to_numpy(model(images, training=False)))
    mean = np.array([0.485, 0.456, 0.406], "f4")
    std = np.sqrt(np.array([0.229 ** 2, 0.224 ** 2, 0.225 ** 2], "f4"))
    nchw = ((images * np.float32(1 / 255) - mean) / std).transpose(0, 3, 1, 2)
    np.savez(os.path.join(folder, "io.npz"), input=np.ascontiguousarray(nchw, "f4"), raw_input=images,
             output=probabilities)
    print(f"{folder}: output {probabilities.shape}, top probability {probabilities.max(-1)}")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = sys.argv[1]
    import timm
    import torchvision
    torch.manual_seed(0)
    torch_case(root, "timm_s", timm.create_model("tf_efficientnetv2_s", channel_multiplier=0.5,
                                                  depth_multiplier=0.34, num_classes=10), 64)
    keras_case(root)
    torch_case(root, "tv_s", torchvision.models.efficientnet_v2_s(), 96)
    return 0


if __name__ == "__main__":
    sys.exit(main())
