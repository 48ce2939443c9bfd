#!/usr/bin/env bash
# Runs every test from a fresh Debian 12 machine with Swift: installs the system packages and the Python venv
# (for cross-checks only), runs the Swift test suites (unit, end-to-end, and tests that launch the built binary),
# then cross-checks what `effnet convert` writes with onnx's checker, onnxruntime, numpy, timm and torchvision.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-system-deps.sh
tools/setup-venv.sh
export EFFNET_PYTHON="$PWD/.venv/bin/python"

echo "== swift test"
swift build --build-tests
swift test --skip-build

echo "== release build and cross-checks with real consumers"
swift build -c release --product effnet
echo "== hostile inputs against the release build"
EFFNET_BIN="$PWD/.build/release/effnet" swift test --skip-build --filter HostileInputTests
"$EFFNET_PYTHON" tools/crosscheck.py --effnet .build/release/effnet
