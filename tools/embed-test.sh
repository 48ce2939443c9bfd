#!/usr/bin/env bash
# Builds Examples/EmbedTest, a separate package that depends on this one by path and imports only the public API
# of the Effnet and EffnetRuntime products, and runs it: it classifies a fixture photo with a fixture model and
# checks the answer against `effnet run --json` ($EFFNET_BIN, else .build/debug/effnet), the runtime alone and the
# model's checkpoint (README, "Using effnet from Swift").
#
# The package is built in debug with AddressSanitizer, and the C code it compiles (the protoc-c output of onnx.proto,
# the libjpeg/libpng shims, CPU detection) with UndefinedBehaviorSanitizer too, every report fatal: its run is also
# a sanitizer run of the library end to end (ONNX and npz reading, JPEG decoding, the runtime), and
# `tools/fuzz.sh --smoke` links its harnesses against these objects of IR, Formats and Imaging instead of building
# them once more. (swiftc has no -sanitize=undefined on Linux; Swift code keeps its own checks in debug builds.)
#
# Usage: tools/embed-test.sh [build|run]     (default: both; tools/test.sh builds it beside the main build, then runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
step=${1:-all}
case $step in build | run | all) ;; *) echo "usage: tools/embed-test.sh [build|run]" >&2; exit 2 ;; esac
# Resolution is per package: the embed test's graph includes swift-argument-parser (a dependency of this package,
# though not of the two products). Pinning it to the version the main build resolved makes SwiftPM take that
# revision from its local repository cache instead of listing the remote's tags again.
if [[ $step != run ]]; then
  if [[ -f Package.resolved ]]; then cp Package.resolved Examples/EmbedTest/Package.resolved; fi
  # No index store: nothing reads it, and indexing the system modules too costs CPU time on every clean build.
  swift build --package-path Examples/EmbedTest --disable-index-store \
    --sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined
fi
[[ $step == build ]] && exit 0
ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS} UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  Examples/EmbedTest/.build/debug/EmbedTest "$root" "${EFFNET_BIN:-$root/.build/debug/effnet}"
