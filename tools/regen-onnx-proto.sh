#!/usr/bin/env bash
# Regenerates Sources/CShims/ONNXProto from the onnx.proto shipped by the `onnx` Python package.
# Usage: tools/regen-onnx-proto.sh [path/to/onnx.proto]   (default: the one in the project venv)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
proto=${1:-}
if [ -z "$proto" ]; then
  [ -x "$here/.venv/bin/python" ] || "$here/tools/setup-venv.sh" >/dev/null
  proto=$("$here/.venv/bin/python" -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "onnx.proto"))')
fi
command -v protoc-c >/dev/null || { echo "protoc-c missing: apt-get install protobuf-c-compiler" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# protoc-c names the output after the input file; the package is `onnx`.
cp "$proto" "$work/onnx.proto"
(cd "$work" && protoc-c --c_out=. onnx.proto)
out="$here/Sources/CShims/ONNXProto"
mkdir -p "$out/include"
cp "$work/onnx.pb-c.h" "$out/include/onnx.pb-c.h"
# The generated .c includes "onnx.pb-c.h" relative to itself; point it at the public header folder.
sed 's|#include "onnx.pb-c.h"|#include "include/onnx.pb-c.h"|' "$work/onnx.pb-c.c" > "$out/onnx.pb-c.c"
cp "$proto" "$out/onnx.proto"
echo "regenerated $out from $proto ($(protoc-c --version | head -1))"
