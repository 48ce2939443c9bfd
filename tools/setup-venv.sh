#!/usr/bin/env bash
# Creates (or refreshes) the project's Python environment at <repo>/.venv from tools/requirements.txt.
#
# Idempotent: a stamp file (.venv/.effnet-requirements.sha256, the hash of requirements.txt plus the Python
# version) makes a second run return at once. Pass --force to reinstall anyway.
#
# torch is the CPU build `2.13.0+cpu`, found in the local wheel folder /opt/wheels (EFFNET_WHEELS overrides
# it); PyPI would only offer the multi-GB CUDA build under a plain `torch` requirement.
# Usage: tools/setup-venv.sh [--force]      then: .venv/bin/python tools/make_fixtures.py
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
req="$root/tools/requirements.txt"
wheels=${EFFNET_WHEELS:-/opt/wheels}
stamp="$venv/.effnet-requirements.sha256"
python=${EFFNET_BOOTSTRAP_PYTHON:-python3}

force=0
[ "${1:-}" = "--force" ] && force=1

command -v "$python" >/dev/null || { echo "setup-venv: $python not found (apt-get install python3)" >&2; exit 2; }
want="$(sha256sum "$req" | cut -d' ' -f1) $("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"

if [ "$force" = 0 ] && [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup-venv: $venv is up to date"
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  rm -rf "$venv"
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    # Debian splits ensurepip out of python3; install it only when venv creation actually fails.
    rm -rf "$venv"
    echo "setup-venv: '$python -m venv' failed; installing python3-venv with apt-get" >&2
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    "$python" -m venv "$venv"
  fi
fi

find_links=()
if [ -d "$wheels" ]; then
  find_links=(--find-links "$wheels")
else
  echo "setup-venv: warning: wheel folder $wheels missing; torch==2.13.0+cpu must come from pip's own config" >&2
fi

rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${find_links[@]}" -r "$req"
"$venv/bin/python" - <<'PY'
# Smoke test: every package imports (Keras on the torch backend; torchvision's C ops leniently, see fixturelib).
import importlib, os
os.environ.setdefault("KERAS_BACKEND", "torch")
import torch
assert torch.__version__ == "2.13.0+cpu", f"expected the CPU torch build, got {torch.__version__}"
_register_fake = torch.library.register_fake
def _lenient(op, func=None, /, *args, **kwargs):
    def register(f):
        try:
            return _register_fake(op, f, *args, **kwargs)
        except Exception:
            return f
    return register if func is None else register(func)
torch.library.register_fake = _lenient
for name in ["torchvision", "timm", "onnx", "onnxruntime", "onnxscript", "openvino", "keras",
             "PIL", "matplotlib", "skimage", "numpy"]:
    importlib.import_module(name)
PY
echo "$want" > "$stamp"
echo "setup-venv: $venv ready ($("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
