#!/usr/bin/env bash
# Installs the Debian packages effnet builds against, when any is missing. Idempotent and quiet when all are there.
set -euo pipefail
packages=(libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libjpeg62-turbo-dev libpng-dev pkg-config python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
