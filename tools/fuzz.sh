#!/usr/bin/env bash
# libFuzzer + AddressSanitizer runs of effnet's file readers: the ONNX reader (Fuzz/FuzzONNX.swift) and the
# NPZ/NPY reader (Fuzz/FuzzNPZ.swift). Not part of `swift build`: this script builds IR, Formats and the protobuf-c
# code with ASan and coverage instrumentation into .build-fuzz/, links each harness with -sanitize=fuzzer,address,
# and runs it for SECONDS (default 60) seeded from the committed fixtures. Findings are written to
# .build-fuzz/findings/<target>/ (crash-*, leak-*, oom-*, timeout-*); a finding makes the script exit 1.
#
# Usage: tools/fuzz.sh [SECONDS] [onnx|npz ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(onnx npz)
build=.build-fuzz
# Libraries are compiled, never linked, by `--target Formats`, so -sanitize=fuzzer only adds libFuzzer's coverage.
flags=(-Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address)
swift build --build-path "$build" --target Formats "${flags[@]}"
bin=$(swift build --build-path "$build" --show-bin-path "${flags[@]}")
status=0
for target in "${targets[@]}"; do
  case $target in
    onnx) source=Fuzz/FuzzONNX.swift; seeds=(fixtures/bad/*.onnx fixtures/hostile/*.onnx fixtures/onnx-reader/*.onnx) ;;
    npz) source=Fuzz/FuzzNPZ.swift; seeds=(fixtures/npy/*.npz fixtures/bad/*.npz) ;;
    *) echo "unknown target $target (onnx, npz)" >&2; exit 2 ;;
  esac
  exe=$build/fuzz-$target
  swiftc -sanitize=fuzzer,address -parse-as-library "$source" -I "$bin/Modules" \
    -Xcc -fmodule-map-file=Sources/CShims/CZlib/module.modulemap \
    -Xcc -fmodule-map-file=Sources/CShims/CProtobufC/module.modulemap \
    -Xcc -fmodule-map-file="$bin/ONNXProto.build/module.modulemap" \
    "$bin"/Formats.build/*.o "$bin"/IR.build/*.o "$bin"/ONNXProto.build/*.o -lprotobuf-c -lz -o "$exe" \
    2> >(grep -v "Cannot export local symbol" >&2)
  corpus=$build/corpus/$target
  findings=$build/findings/$target
  mkdir -p "$corpus" "$findings"
  for s in "${seeds[@]}"; do
    [ -f "$s" ] && [ "$(stat -c %s "$s")" -le 262144 ] && cp "$s" "$corpus/"
  done
  echo "== fuzz $target for ${seconds}s ($(ls "$corpus" | wc -l) corpus files)"
  if ! "$exe" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
      -artifact_prefix="$findings/" -print_final_stats=1 2>&1 | tail -n 12; then
    status=1
  fi
  if [ -n "$(ls -A "$findings")" ]; then
    echo "findings for $target: $(ls "$findings")"
    status=1
  fi
done
exit $status
