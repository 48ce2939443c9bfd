#!/usr/bin/env bash
# libFuzzer + AddressSanitizer runs of effnet's file readers: the ONNX reader (Fuzz/FuzzONNX.swift), the NPZ/NPY
# reader (Fuzz/FuzzNPZ.swift), safetensors (Fuzz/FuzzSafetensors.swift), PyTorch zip and legacy pickle checkpoints
# (Fuzz/FuzzTorch.swift) and the JPEG/PNG decoders (Fuzz/FuzzImage.swift). Keras HDF5 is not fuzzed here: its
# parsing is done by libhdf5 (a C library outside effnet). Not part of `swift build`: this script builds IR,
# Formats, Imaging and the protobuf-c/image shims with ASan and coverage instrumentation into .build-fuzz/, links
# each harness with -sanitize=fuzzer,address,
# and runs it for SECONDS (default 60) seeded from the committed fixtures. Findings are written to
# .build-fuzz/findings/<target>/ (crash-*, leak-*, oom-*, timeout-*); a finding makes the script exit 1.
#
# Usage: tools/fuzz.sh [SECONDS] [onnx|npz|safetensors|torch|image ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(onnx npz safetensors torch image)
build=.build-fuzz
# Libraries are compiled, never linked, by `--target Formats`, so -sanitize=fuzzer only adds libFuzzer's coverage.
flags=(-Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address)
swift build --build-path "$build" --target Formats "${flags[@]}"
swift build --build-path "$build" --target Imaging "${flags[@]}"
bin=$(swift build --build-path "$build" --show-bin-path "${flags[@]}")
status=0
for target in "${targets[@]}"; do
  case $target in
    onnx) source=Fuzz/FuzzONNX.swift; seeds=(fixtures/bad/*.onnx fixtures/hostile/*.onnx fixtures/onnx-reader/*.onnx) ;;
    npz) source=Fuzz/FuzzNPZ.swift; seeds=(fixtures/npy/*.npz fixtures/bad/*.npz) ;;
    safetensors) source=Fuzz/FuzzSafetensors.swift; seeds=(fixtures/formats/*/*.safetensors) ;;
    torch) source=Fuzz/FuzzTorch.swift; seeds=(fixtures/formats/*/*.pth fixtures/formats/*/*.bin) ;;
    image) source=Fuzz/FuzzImage.swift; seeds=(fixtures/images/*.jpg fixtures/images/*.png fixtures/hostile/*.png) ;;
    *) echo "unknown target $target (onnx, npz, safetensors, torch, image)" >&2; exit 2 ;;
  esac
  exe=$build/fuzz-$target
  swiftc -sanitize=fuzzer,address -parse-as-library "$source" -I "$bin/Modules" \
    -Xcc -fmodule-map-file=Sources/CShims/CZlib/module.modulemap \
    -Xcc -fmodule-map-file=Sources/CShims/CProtobufC/module.modulemap \
    -Xcc -fmodule-map-file="$bin/ONNXProto.build/module.modulemap" \
    -Xcc -fmodule-map-file=Sources/CShims/CHDF5/module.modulemap $(pkg-config --cflags hdf5-serial | sed 's/-I/-Xcc -I/g') \
    -Xcc -fmodule-map-file=Sources/CShims/CJPEG/module.modulemap \
    -Xcc -fmodule-map-file=Sources/CShims/CPNG/module.modulemap \
    -Xcc -fmodule-map-file="$bin/CImageShim.build/module.modulemap" \
    "$bin"/Formats.build/*.o "$bin"/IR.build/*.o "$bin"/ONNXProto.build/*.o \
    "$bin"/Imaging.build/*.o "$bin"/CImageShim.build/*.o \
    -lprotobuf-c -lz $(pkg-config --libs libjpeg libpng hdf5-serial) -o "$exe" \
    2> >(grep -v "Cannot export local symbol" >&2)
  corpus=$build/corpus/$target
  findings=$build/findings/$target
  mkdir -p "$corpus" "$findings"
  for s in "${seeds[@]}"; do
    [ -f "$s" ] && [ "$(stat -c %s "$s")" -le 524288 ] && cp "$s" "$corpus/"
  done
  # The weight fixtures are real (if small) checkpoints of ~300 KB; other seeds are well under 64 KB.
  case $target in safetensors|torch) maxlen=400000 ;; *) maxlen=65536 ;; esac
  echo "== fuzz $target for ${seconds}s ($(ls "$corpus" | wc -l) corpus files)"
  if ! "$exe" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$maxlen" -timeout=10 \
      -artifact_prefix="$findings/" -print_final_stats=1 2>&1 | tail -n 12; then
    status=1
  fi
  if [ -n "$(ls -A "$findings")" ]; then
    echo "findings for $target: $(ls "$findings")"
    status=1
  fi
done
exit $status
