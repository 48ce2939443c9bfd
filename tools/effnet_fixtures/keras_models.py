"""Reduced Keras 3 EfficientNetV2s (torch backend): construction, BatchNorm calibration, weight export.

Built with `keras.applications.efficientnet_v2.EfficientNetV2` itself (so layer names, TF "SAME" padding, the
in-model preprocessing and the softmax head are Keras's), with `blocks_args` copied from Keras's defaults and
only `num_repeat` changed.

Calibration (see calibrate.py for the why): Keras BatchNormalization has no cumulative mode, so each BN layer's
moving mean/variance is set, in topological order, to the per-channel mean and (biased) variance of its input over
the calibration images, with every earlier BN already calibrated and in inference mode. In inference mode each BN
output is then exactly standardised on the calibration data before γ/β.
"""

import copy

import numpy as np

from . import calibrate as cal
from . import env
from . import photos as photo_lib


def build(name, width_coefficient, depths, size, classes=100):
    keras = env.import_keras()
    from keras.src.applications import efficientnet_v2 as kev2

    blocks = copy.deepcopy(kev2.DEFAULT_BLOCKS_ARGS[name])
    assert len(blocks) == len(depths), f"{name} has {len(blocks)} stages"
    for b, d in zip(blocks, depths):
        b["num_repeat"] = d
    model = kev2.EfficientNetV2(
        width_coefficient=width_coefficient, depth_coefficient=1.0, default_size=size, blocks_args=blocks,
        name=name, include_top=True, include_preprocessing=True, weights=None, classes=classes,
        input_shape=(size, size, 3),
    )
    return keras, model, blocks


def _bn_layers(keras, model):
    return [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]


def _np(keras, x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def randomize_affine(keras, model, rng):
    """As calibrate.randomize_affine: γ ~ U(0.6, 1.4), β ~ N(0, 0.15²), SE conv biases ~ N(0, 0.1²)."""
    for bn in _bn_layers(keras, model):
        n = bn.gamma.shape[0]
        bn.gamma.assign(rng.uniform(0.6, 1.4, n).astype(np.float32))
        bn.beta.assign((rng.normal(0, 0.15, n)).astype(np.float32))
    for conv in model.layers:
        if isinstance(conv, keras.layers.Conv2D) and conv.use_bias:
            conv.bias.assign(rng.normal(0, 0.1, conv.bias.shape).astype(np.float32))


def shrink_residual_branches(keras, model):
    """As calibrate.shrink_residual_branches: γ × 0.25 on the last BN before each `<block>add` layer."""
    layers = model.layers
    count = 0
    for add in layers:
        if isinstance(add, keras.layers.Add) and add.name.endswith("add"):
            prefix = add.name[: -len("add")]
            bns = [l for l in _bn_layers(keras, model) if l.name.startswith(prefix)]
            if bns:
                bns[-1].gamma.assign(_np(keras, bns[-1].gamma) * cal.RESIDUAL_GAMMA_FACTOR)
                count += 1
    return count


def calibrate_bn(keras, model, batches):
    data = np.concatenate(batches)
    for bn in _bn_layers(keras, model):
        probe = keras.Model(model.input, bn.input)
        acts = np.concatenate([_np(keras, probe(b, training=False)) for b in batches]).astype(np.float64)
        axes = tuple(range(acts.ndim - 1))  # channels last
        bn.moving_mean.assign(acts.mean(axis=axes).astype(np.float32))
        bn.moving_variance.assign(acts.var(axis=axes).astype(np.float32))
    return data.shape[0]


def scale_classifier(keras, model, photo_batch):
    """Refit the softmax head's kernel (HWIO-free: [features, classes]) and bias (see calibrate.fit_classifier)."""
    dense = model.get_layer("predictions")
    feats = _np(keras, keras.Model(model.input, dense.input)(photo_batch, training=False))
    w, b, report = cal.fit_classifier(_np(keras, dense.kernel).T, feats)
    dense.kernel.assign(np.ascontiguousarray(w.T))
    dense.bias.assign(b)
    return report


def magnitudes(keras, model, x):
    acts = keras.Model(model.input, [l.output for l in model.layers[1:]])(x, training=False)
    peak = max(float(np.abs(_np(keras, a)).max()) for a in acts)
    dense = model.get_layer("predictions")
    logits = _np(keras, keras.Model(model.input, dense.input)(x, training=False)) @ _np(keras, dense.kernel) + _np(
        keras, dense.bias)
    return dict(max_abs_activation=peak, max_abs_logit=float(np.abs(logits).max()), logit_std=float(logits.std()))


def calibrate_keras_model(keras, model, spec, seed, photo_batch, batches=3, batch_size=8):
    rng = np.random.default_rng(seed)
    before = magnitudes(keras, model, photo_batch)
    randomize_affine(keras, model, rng)
    shrunk = shrink_residual_branches(keras, model)
    n = calibrate_bn(keras, model, photo_lib.calibration_batches(spec, rng, batches=batches, batch_size=batch_size))
    fit = scale_classifier(keras, model, photo_batch)
    after = magnitudes(keras, model, photo_batch)
    return dict(method=cal.METHOD_KERAS.format(n=n), before=before, after=after, residual_branch_bns_shrunk=shrunk,
                **fit)


def weights(keras, model):
    """Ordered {variable path: float32 array} exactly as Keras reports `model.weights`."""
    out = {}
    for v in model.weights:
        if v.path in out:
            raise ValueError(f"duplicate Keras variable path {v.path}")
        out[v.path] = _np(keras, v)
    return out
