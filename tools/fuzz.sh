#!/usr/bin/env bash
# libFuzzer runs of effnet's file readers, one harness per target in Fuzz/:
#   onnx         the ONNX reader (FuzzONNX.swift)
#   external     ONNX external-data resolution: a model plus its data file in a scratch folder with a symbolic
#                link out, a FIFO, a directory and a subfolder (FuzzExternalData.swift)
#   npz          ZIP + deflate + .npy (FuzzNPZ.swift)
#   safetensors  FuzzSafetensors.swift
#   torch        PyTorch zip archives and legacy pickle files (FuzzTorch.swift)
#   keras        Keras HDF5 weights through effnet's HDF5 reader, from memory (FuzzKerasH5.swift)
#   jpeg, png    libjpeg-turbo / libpng decoding behind effnet's checks, plus EXIF orientation (FuzzJPEG/PNG.swift)
# Not part of `swift build`: IR, Formats, Imaging and the C targets they use (the protoc-c output of onnx.proto, the
# libjpeg/libpng shims) are built in debug (Swift's overflow and bounds checks on) with AddressSanitizer and coverage
# instrumentation into .build-fuzz/; the C targets also with UndefinedBehaviorSanitizer, every report fatal
# (-fno-sanitize-recover; swiftc has no -sanitize=undefined on Linux, and Swift code has its own checks). Each
# harness is linked with -sanitize=fuzzer,address and run for SECONDS (default 60) seeded from the committed
# fixtures. The corpus grows in .build-fuzz/corpus/<target>/ and findings are written to
# .build-fuzz/findings/<target>/ (crash-*, leak-*, oom-*, timeout-*); a finding makes the script exit 1.
# (.build-fuzz/ is ignored by git; findings worth keeping become inputs in fixtures/hostile/fuzz/.)
#
# --smoke (tools/test.sh): no build of its own. The harnesses are linked against the objects of the embedding
# package's build (`tools/embed-test.sh` must have run), which compiles IR, Formats, Imaging and the C shims in debug
# with the same sanitizers (ASan; UBSan for C) but without libFuzzer's coverage. Every seed and every file in
# fixtures/hostile/fuzz/ is replayed once, then each target mutates for SECONDS (default 2) from its seeds, into a
# throw-away corpus. It proves the harnesses build and that no committed input traps or trips a sanitizer.
#
# Usage: tools/fuzz.sh [--smoke] [SECONDS] [TARGET ...]          (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
all=(onnx external npz safetensors torch keras jpeg png)
smoke=0
if [ "${1:-}" = --smoke ]; then smoke=1; shift; fi
seconds=${1:-$([ $smoke = 1 ] && echo 2 || echo 60)}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

if [ $smoke = 1 ]; then
  bin=Examples/EmbedTest/.build/debug
  [ -d "$bin/Formats.build" ] && [ -d "$bin/Imaging.build" ] \
    || { echo "fuzz.sh --smoke: run tools/embed-test.sh first (the harnesses link its sanitizer build)" >&2; exit 2; }
  work=$(mktemp -d "${TMPDIR:-/tmp}/effnet-fuzz-smoke.XXXXXX")
  trap 'rm -rf "$work"' EXIT
else
  build=.build-fuzz
  work=$build
  # Libraries are compiled, never linked, by `--target Formats`, so -sanitize=fuzzer only adds libFuzzer's coverage.
  flags=(-Xswiftc -sanitize=fuzzer,address
    -Xcc -fsanitize=fuzzer-no-link,address,undefined -Xcc -fno-sanitize-recover=undefined)
  swift build --build-path "$build" --target Formats "${flags[@]}"
  swift build --build-path "$build" --target Imaging "${flags[@]}"
  bin=$(swift build --build-path "$build" --show-bin-path "${flags[@]}")
fi
# The ASan runtime the harnesses link carries UBSan's handlers too.
sanitize=fuzzer,address
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}

# Seeds for the external-data target: a 2-byte little-endian model length, the model, then its data file.
external_seeds() {
  local out=$1 model data n
  mkdir -p "$out"
  for model in fixtures/onnx-reader/external/*/model.onnx fixtures/bad/external_*.onnx; do
    data="${model}.data"
    [ -f "$data" ] || data=/dev/null
    n=$(stat -c %s "$model")
    { printf "\\x$(printf %02x $((n & 255)))\\x$(printf %02x $((n >> 8)))"; cat "$model" "$data"; } \
      >"$out/$(echo "$model" | tr / _)"
  done
}

# The objects of a Swift module's current sources (a build folder keeps the objects of deleted files).
swift_objects() {
  local m
  for m in "$@"; do sed "s#.*/#$bin/$m.build/#; s#\$#.o#" "$bin/$m.build/sources"; done
}

status=0
for target in "${targets[@]}"; do
  seeds=()
  case $target in
    onnx) source=FuzzONNX; seeds=(fixtures/bad/*.onnx fixtures/hostile/*.onnx fixtures/onnx-reader/*.onnx) ;;
    external) source=FuzzExternalData ;;
    npz) source=FuzzNPZ; seeds=(fixtures/npy/*.npz fixtures/bad/*.npz) ;;
    safetensors) source=FuzzSafetensors; seeds=(fixtures/formats/*/*.safetensors) ;;
    torch) source=FuzzTorch; seeds=(fixtures/formats/*/*.pth fixtures/formats/*/*.bin) ;;
    keras) source=FuzzKerasH5; seeds=(fixtures/formats/keras_*/*.h5 fixtures/hdf5/*.h5) ;;
    jpeg) source=FuzzJPEG; seeds=(fixtures/images/*.jpg fixtures/exif/*.jpg) ;;
    png) source=FuzzPNG; seeds=(fixtures/images/*.png fixtures/exif/*.png fixtures/hostile/*.png) ;;
    *) echo "unknown target $target (${all[*]})" >&2; exit 2 ;;
  esac
  exe=$work/fuzz-$target
  swiftc -sanitize=$sanitize -parse-as-library Fuzz/$source.swift -I "$bin/Modules" \
    -Xcc -fmodule-map-file=Sources/CShims/CZlib/module.modulemap \
    -Xcc -fmodule-map-file=Sources/CShims/CProtobufC/module.modulemap \
    -Xcc -fmodule-map-file="$bin/ONNXProto.build/module.modulemap" \
    -Xcc -fmodule-map-file=Sources/CShims/CJPEG/module.modulemap \
    -Xcc -fmodule-map-file=Sources/CShims/CPNG/module.modulemap \
    -Xcc -fmodule-map-file="$bin/CImageShim.build/module.modulemap" \
    $(swift_objects Formats IR OpCore Imaging) "$bin"/ONNXProto.build/*.o "$bin"/CImageShim.build/*.o \
    -lprotobuf-c -lz $(pkg-config --libs libjpeg libpng) -o "$exe" \
    2> >(grep -v "Cannot export local symbol" >&2)
  corpus=$work/corpus/$target
  findings=$work/findings/$target
  mkdir -p "$corpus" "$findings"
  if [ "$target" = external ]; then
    external_seeds "$corpus"
  else
    for s in "${seeds[@]}"; do
      [ -f "$s" ] && [ "$(stat -c %s "$s")" -le 524288 ] && cp "$s" "$corpus/"
    done
  fi
  # Earlier findings, fixed: replayed by every run.
  regressions=()
  for r in fixtures/hostile/fuzz/"$target"-*; do [ -f "$r" ] && regressions+=("$r"); done
  # The weight fixtures are real (if small) checkpoints of ~300-500 KB; other seeds are well under 64 KB. keras
  # mutates at most 64 KB (its fixtures/hdf5 seeds are 4-14 KB; the large Keras files are cut there), which keeps
  # executions fast enough to reach deep structures.
  case $target in safetensors|torch) maxlen=524288 ;; *) maxlen=65536 ;; esac
  options=(-rss_limit_mb=2048 -max_len="$maxlen" -timeout=10 -artifact_prefix="$findings/")
  [ -f "Fuzz/$target.dict" ] && options+=(-dict="Fuzz/$target.dict")
  if [ ${#regressions[@]} -gt 0 ]; then
    echo "== replay ${#regressions[@]} regression inputs for $target"
    "$exe" "${options[@]}" "${regressions[@]}" >"$work/replay-$target.log" 2>&1 \
      || { tail -n 20 "$work/replay-$target.log"; status=1; }
  fi
  echo "== fuzz $target for ${seconds}s ($(ls "$corpus" | wc -l) corpus files)"
  if ! "$exe" "$corpus" -max_total_time="$seconds" "${options[@]}" -print_final_stats=1 \
      >"$work/fuzz-$target.log" 2>&1; then
    status=1
  fi
  if [ $smoke = 1 ]; then
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|ERROR|error" "$work/fuzz-$target.log" | tr '\n' ' '
    echo
  else
    tail -n 12 "$work/fuzz-$target.log"
  fi
  if [ -n "$(ls -A "$findings")" ]; then
    echo "findings for $target: $(ls "$findings")"
    [ $smoke = 1 ] && tail -n 30 "$work/fuzz-$target.log"
    status=1
  fi
done
exit $status
