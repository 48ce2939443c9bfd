#!/usr/bin/env bash
# Builds Examples/EmbedTest, a separate package that depends on this one by path and imports only the public API
# of the Effnet and EffnetRuntime products, and runs it: it classifies a fixture photo with a fixture model and
# checks the answer against `effnet run --json` ($EFFNET_BIN, else .build/debug/effnet), the runtime alone and the
# model's checkpoint (README, "Using effnet from Swift").
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
# Resolution is per package: the embed test's graph includes swift-argument-parser (a dependency of this package,
# though not of the two products). Pinning it to the version the main build resolved makes SwiftPM take that
# revision from its local repository cache instead of listing the remote's tags again.
if [[ -f Package.resolved ]]; then cp Package.resolved Examples/EmbedTest/Package.resolved; fi
swift build --package-path Examples/EmbedTest
Examples/EmbedTest/.build/debug/EmbedTest "$root" "${EFFNET_BIN:-$root/.build/debug/effnet}"
