#!/usr/bin/env bash
# Runs effnet's XCTest suites under Swift's sanitizers, each in its own scratch folder (.build-sanitize-<name>/,
# never the normal .build/): AddressSanitizer and UndefinedBehaviorSanitizer over the reader and decoder suites
# (or the suites given by FILTER), and ThreadSanitizer over the worker pool and the threaded runtime tests.
# Not part of tools/test.sh: a first build takes several minutes per sanitizer.
#
# Usage: tools/sanitize.sh [address|undefined|thread ...]      FILTER=regex overrides the address/undefined filter
# Exit status: 0 if every run passed, 1 if any test failed or a sanitizer reported an error.
set -uo pipefail
cd "$(dirname "$0")/.."
sanitizers=("$@")
[ ${#sanitizers[@]} -eq 0 ] && sanitizers=(address undefined thread)
readers=${FILTER:-'FormatsTests|ImagingTests'}
status=0
for s in "${sanitizers[@]}"; do
  case $s in
    address|undefined) filter=$readers ;;
    thread) filter=${TSAN_FILTER:-'WorkerPoolTests|SessionTests'} ;;
    *) echo "unknown sanitizer $s (address, undefined, thread)" >&2; exit 2 ;;
  esac
  scratch=.build-sanitize-$s
  log=$scratch/test.log
  mkdir -p "$scratch"
  echo "== $s: swift test --sanitize=$s --filter '$filter'"
  start=$(date +%s)
  # UBSan reports and continues by default; make a report fail the run.
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 TSAN_OPTIONS=halt_on_error=1 ASAN_OPTIONS=detect_leaks=0 \
    swift test --scratch-path "$scratch" --sanitize="$s" --filter "$filter" >"$log" 2>&1
  rc=$?
  if [ $rc -ne 0 ] || grep -qE "ERROR: (Address|Thread)Sanitizer|WARNING: ThreadSanitizer|runtime error:" "$log"; then
    echo "   FAILED (exit $rc), see $log"; grep -E "Sanitizer|runtime error:|error:" "$log" | head -n 20
    status=1
  else
    echo "   passed in $(( $(date +%s) - start ))s: $(grep -E 'Executed [0-9]+ tests|Test run with [0-9]+ tests' "$log" | tail -n 2 | tr '\n' ' ')"
  fi
done
exit $status
