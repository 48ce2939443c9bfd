#!/usr/bin/env bash
# Peak resident memory of effnet on every small hostile input: each file in fixtures/hostile/ (with the fuzzers'
# regression inputs in fixtures/hostile/fuzz/) and fixtures/bad/ under 10 MB goes through `inspect`, `verify`,
# `convert` and `run` (an image is run with the b0 fixture model; anything else is run as the model, on an image),
# each under `timeout 120` and `/usr/bin/time -f %M`. Prints the worst runs and the maximum, and exits 1 if any run
# exceeds LIMIT_MB (default 300), crashes (a signal or exit status above 2) or times out.
#
# Usage: tools/peak_rss.sh [EFFNET_BINARY]        (default .build/release/effnet; LIMIT_MB=300, TOP=12)
set -uo pipefail
cd "$(dirname "$0")/.."
effnet=${1:-.build/release/effnet}
limit_mb=${LIMIT_MB:-300}
top=${TOP:-12}
[ -x "$effnet" ] || { echo "peak_rss.sh: no effnet binary at $effnet (swift build -c release --product effnet)" >&2; exit 2; }
model=fixtures/models/timm_tf_efficientnetv2_b0/torchscript.onnx
image=fixtures/images/grace_hopper.jpg
work=$(mktemp -d "${TMPDIR:-/tmp}/effnet-peak-rss.XXXXXX")
trap 'rm -rf "$work"' EXIT
results=$work/results
: >"$results"
status=0
files=()
for f in fixtures/hostile/* fixtures/hostile/fuzz/* fixtures/bad/*; do
  [ -f "$f" ] || continue
  case $f in *.json | *.md | *.data) continue ;; esac   # manifests; external data is read through its model
  [ "$(stat -c %s "$f")" -lt $((10 << 20)) ] && files+=("$f")
done
for f in "${files[@]}"; do
  if head -c 4 "$f" | grep -qaE $'^(\x89PNG|\xff\xd8\xff)'; then
    runs=("run $f -m $model")
  else
    runs=("run $image -m $f")
  fi
  for cmd in "inspect $f" "verify $f" "convert $f -o $work/out.onnx" "${runs[@]}"; do
    rm -f "$work/out.onnx"
    # shellcheck disable=SC2086 # the command is a word list built above from paths without spaces
    timeout 120 /usr/bin/time -f %M -o "$work/rss" "$effnet" $cmd >/dev/null 2>"$work/stderr"
    rc=$?
    kb=$(tail -n 1 "$work/rss" 2>/dev/null | grep -E '^[0-9]+$' || echo 0)
    printf '%d\t%d\teffnet %s\n' "$kb" "$rc" "${cmd//$work\//}" >>"$results"
    if [ "$rc" -gt 2 ]; then
      echo "FAILED (exit $rc): effnet $cmd: $(head -c 300 "$work/stderr")"
      status=1
    fi
    if [ "$kb" -gt $((limit_mb * 1024)) ]; then
      echo "OVER ${limit_mb} MB ($((kb / 1024)) MB): effnet $cmd"
      status=1
    fi
  done
done
echo "$(wc -l <"$results") runs on ${#files[@]} files; the $top largest peak RSS (MB, exit status, command):"
sort -rn "$results" | head -n "$top" | awk -F'\t' '{ printf "%6.1f  %3d  %s\n", $1 / 1024, $2, $3 }'
echo "max peak RSS: $(sort -rn "$results" | head -n 1 | awk -F'\t' '{ printf "%.1f MB (%s)", $1 / 1024, $3 }')"
exit $status
