"""ONNX exports in the styles effnet must read, and their onnxruntime check against the framework output.

Styles (file stem → exporter settings):
- `torchscript`          TorchScript exporter (`dynamo=False`), constant folding on: BatchNorm folded into Conv.
- `torchscript_nofold`   same, `do_constant_folding=False`: explicit BatchNormalization nodes.
- `dynamo`               torch.export-based exporter (opset ≥ 18, IR 10, ReduceMean axes as an input).
- `external`             the `torchscript` graph re-saved with tensors ≥ 1 KiB in one `external.onnx.data` file.
Input/output are always named `input`/`output`; a dynamic batch axis is named `batch`.
"""

import collections
import os
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch

DYNAMIC_BATCH = {"input": {0: "batch"}, "output": {0: "batch"}}


def export_torchscript(model, example, path, opset, fold=True, dynamic_batch=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.from_numpy(example),), path, dynamo=False, opset_version=opset,
            do_constant_folding=fold, input_names=["input"], output_names=["output"],
            dynamic_axes=DYNAMIC_BATCH if dynamic_batch else None,
        )
    return dict(exporter="torch.onnx.export(dynamo=False)", opset=opset, do_constant_folding=fold,
                dynamic_batch=dynamic_batch)


def export_dynamo(model, example, path, opset=18, dynamic_batch=True):
    shapes = ({0: torch.export.Dim("batch", min=1, max=1024)},) if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model, (torch.from_numpy(example),), None, dynamo=True, opset_version=opset,
            input_names=["input"], output_names=["output"], dynamic_shapes=shapes, optimize=True,
            verbose=False, report=False,
        )
    program.save(path, external_data=False)
    _relativize_stack_traces(path)
    return dict(exporter="torch.onnx.export(dynamo=True, optimize=True)", opset=opset, dynamic_batch=dynamic_batch)


def _relativize_stack_traces(path):
    """Replace absolute paths in the dynamo exporter's `pkg.torch.onnx.stack_trace` node metadata.

    The traces name the venv's site-packages and this checkout; left as they are, the file would differ between
    checkouts (and leak local paths). The metadata itself is kept: real dynamo exports carry it.
    """
    site = os.path.dirname(os.path.dirname(os.path.abspath(torch.__file__)))
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    model = onnx.load(path)
    for node in model.graph.node:
        for prop in node.metadata_props:
            if prop.key == "pkg.torch.onnx.stack_trace":
                prop.value = prop.value.replace(site + os.sep, "<site-packages>/").replace(repo + os.sep, "")
    onnx.save_model(model, path)


def resave_external(src, path, threshold=1024):
    """Re-save `src` with every tensor of ≥ `threshold` bytes in `<path>.data` (one file, relative location)."""
    model = onnx.load(src)
    data = os.path.basename(path) + ".data"
    if os.path.exists(os.path.join(os.path.dirname(path), data)):
        os.remove(os.path.join(os.path.dirname(path), data))
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data,
                    size_threshold=threshold, convert_attribute=False)
    return dict(external_data=data, external_threshold_bytes=threshold)


def describe(path):
    """Facts about an ONNX file for meta.json: opset, IR version, names, shapes, op histogram, parameter count."""
    model = onnx.load(path, load_external_data=True) if os.path.exists(path) else None
    g = model.graph

    def dims(vi):
        return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]

    init_names = {t.name for t in g.initializer}
    params = sum(int(np.prod(t.dims)) for t in g.initializer if t.data_type == onnx.TensorProto.FLOAT)
    return dict(
        opset={(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        ir_version=model.ir_version,
        producer=f"{model.producer_name} {model.producer_version}".strip(),
        inputs=[dict(name=i.name, shape=dims(i)) for i in g.input if i.name not in init_names],
        outputs=[dict(name=o.name, shape=dims(o)) for o in g.output],
        ops=dict(sorted(collections.Counter(n.op_type for n in g.node).items())),
        float_parameters=params,
        bytes=os.path.getsize(path),
    )


def ort_run(path, x):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def ort_max_diff(path, x, expected):
    """max |ORT(x) − framework(x)| over the whole output."""
    y = ort_run(path, x)
    if y.shape != expected.shape:
        raise AssertionError(f"{path}: ORT output shape {y.shape} != framework {expected.shape}")
    return float(np.abs(y.astype(np.float64) - expected.astype(np.float64)).max())
