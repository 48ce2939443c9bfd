#!/usr/bin/env bash
# Regenerates fixtures/models, fixtures/bad and fixtures/hostile (deterministic: a rerun gives the same bytes).
# Python: ${EFFNET_PYTHON:-.venv/bin/python}; the default venv is created by tools/setup-venv.sh when missing.
# Usage: tools/make-fixtures.sh [make_fixtures.py args, e.g. --only timm_tf_efficientnetv2_b0]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -z "${EFFNET_PYTHON:-}" ]; then
  tools/setup-venv.sh
  python=.venv/bin/python
else
  python=$EFFNET_PYTHON
fi
"$python" tools/make_fixtures.py "$@"
"$python" tools/make_bad_fixtures.py
"$python" tools/make_hostile_fixtures.py
du -sh fixtures/models fixtures/bad fixtures/hostile
