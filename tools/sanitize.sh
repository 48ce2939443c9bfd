#!/usr/bin/env bash
# Runs effnet's test suites under sanitizers, each in its own scratch folder (.build-sanitize-<name>/, never the
# normal .build/):
#   address    AddressSanitizer over the reader and decoder suites (FILTER=regex overrides them).
#   undefined  UndefinedBehaviorSanitizer and AddressSanitizer over the suites that drive the readers and decoders
#              (FormatsTests, ImagingTests, ModelsTests; FILTER=regex overrides them). swiftc has no
#              -sanitize=undefined on Linux, so the C code (the protoc-c output of onnx.proto, the libjpeg/libpng
#              shims, CPU feature detection) is built with clang's -fsanitize=address,undefined, a UBSan report
#              stopping the process (-fno-sanitize-recover), and Swift code with -sanitize=address, keeping its own
#              checks (the debug build traps on overflow and out-of-bounds access). PROTOBUF_C_SRC=DIR (a checkout of
#              github.com/protobuf-c/protobuf-c at the system's version, e.g. v1.4.1 on Debian 12) also builds the
#              protobuf-c runtime from DIR/protobuf-c/protobuf-c.c with both sanitizers and links it instead of the
#              system's libprotobuf-c.
#   thread     ThreadSanitizer over the worker pool, the runtime sessions and the `effnet run` tests (its decoding
#              pipeline runs images on several threads; the CLI tests launch the TSan-built binary, and a report
#              makes it exit 66). TSAN_FILTER=regex overrides the suites.
# Not part of tools/test.sh: each sanitizer is a full build of several minutes (tools/test.sh runs the fuzz seeds).
#
# Usage: tools/sanitize.sh [address|undefined|thread ...]
# Exit status: 0 if every run passed, 1 if any test failed or a sanitizer reported an error.
set -uo pipefail
cd "$(dirname "$0")/.."
sanitizers=("$@")
[ ${#sanitizers[@]} -eq 0 ] && sanitizers=(address undefined thread)
status=0
for s in "${sanitizers[@]}"; do
  scratch=.build-sanitize-$s
  env=()
  case $s in
    address)
      filter=${FILTER:-'FormatsTests|ImagingTests'}
      build=(--sanitize=address) ;;
    undefined)
      filter=${FILTER:-'FormatsTests|ImagingTests|ModelsTests'}
      # The ASan runtime that -sanitize=address links carries UBSan's handlers too.
      build=(--sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined)
      if [ -n "${PROTOBUF_C_SRC:-}" ]; then
        mkdir -p "$scratch/protobuf-c"
        # -fno-sanitize=function: protobuf-c calls each message type's generated init function through its generic
        # `void (*)(ProtobufCMessage *)` pointer (the design of protoc-c's output; same ABI), which UBSan reports at
        # once on every message. Every other check stays on.
        clang -c -g -O1 -fPIC -fsanitize=address,undefined -fno-sanitize=function -fno-sanitize-recover=undefined \
          "$PROTOBUF_C_SRC/protobuf-c/protobuf-c.c" -o "$scratch/protobuf-c/protobuf-c.o" || exit 1
        rm -f "$scratch/protobuf-c/libprotobuf-c.a"
        ar rcs "$scratch/protobuf-c/libprotobuf-c.a" "$scratch/protobuf-c/protobuf-c.o"
        # Searched before the system's folders, so -lprotobuf-c finds this archive.
        build+=(-Xlinker -L"$PWD/$scratch/protobuf-c")
      fi ;;
    thread)
      filter=${TSAN_FILTER:-'WorkerPoolTests|SessionTests|RunCLITests'}
      build=(--sanitize=thread)
      env=(EFFNET_BIN="$PWD/$scratch/debug/effnet") ;;
    *) echo "unknown sanitizer $s (address, undefined, thread)" >&2; exit 2 ;;
  esac
  log=$scratch/test.log
  mkdir -p "$scratch"
  echo "== $s: swift test ${build[*]} --filter '$filter'"
  start=$(date +%s)
  {
    swift build --build-tests --scratch-path "$scratch" "${build[@]}" &&
      env "${env[@]}" UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
        ASAN_OPTIONS=detect_leaks=0 swift test --skip-build --scratch-path "$scratch" "${build[@]}" --filter "$filter"
  } >"$log" 2>&1
  rc=$?
  if [ $rc -ne 0 ] || grep -qE "ERROR: (Address|Thread)Sanitizer|WARNING: ThreadSanitizer|runtime error:" "$log"; then
    echo "   FAILED (exit $rc), see $log"; grep -E "Sanitizer|runtime error:|error:|✘" "$log" | head -n 20
    status=1
  else
    echo "   passed in $(( $(date +%s) - start ))s: $(grep -E 'Executed [0-9]+ tests|Test run with [0-9]+ tests' "$log" | tail -n 2 | tr '\n' ' ')"
  fi
done
exit $status
