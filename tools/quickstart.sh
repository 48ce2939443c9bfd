#!/usr/bin/env bash
# From a fresh Debian 12 machine with Swift: installs the system packages, builds effnet (release, for this CPU),
# then runs the main job on a bundled model and photo: classify, verify against the framework's own outputs,
# and describe the optimized network.
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
