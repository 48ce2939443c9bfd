#!/usr/bin/env bash
# Regenerates the golden optimized-graph dumps in fixtures/golden/ from the current optimizer. Review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
EFFNET_UPDATE_GOLDEN=1 swift test --filter GoldenDumpTests
git status --short fixtures/golden
