#!/usr/bin/env python3
"""Checks that only the kernel family targets are built with CPU flags or -Ounchecked.

Reads the build description SwiftPM wrote for a configuration (`.build/release.yaml` by default, after
`swift build -c release`) and fails (exit 1) when any Swift module other than `Kernels*` is compiled with
`-target-cpu` or `-Ounchecked`: the parsers (Formats, Imaging), Models, the libraries and the CLI must keep
Swift's checks in release builds. Prints each module's flags of interest.

Usage: tools/check_build_flags.py [BUILD_YAML]
"""
import re
import sys

path = sys.argv[1] if len(sys.argv) > 1 else ".build/release.yaml"
text = open(path, encoding="utf-8").read()
flags = {}
for block in text.split('\n  "'):
    module = re.search(r'"-module-name","([^"]+)"', block)
    if not module:
        continue
    found = flags.setdefault(module.group(1), set())
    cpu = re.search(r'"-target-cpu","([^"]+)"', block)
    if cpu:
        found.add("-target-cpu " + cpu.group(1))
    if '"-Ounchecked"' in block:
        found.add("-Ounchecked")
if not flags:
    sys.exit(f"{path}: no Swift compile commands found")
bad = {m: f for m, f in flags.items() if f and not m.startswith("Kernels")}
for module in sorted(flags):
    print(f"  {module}: {' '.join(sorted(flags[module])) or 'default'}")
if bad:
    sys.exit(f"{path}: CPU flags or -Ounchecked outside the kernel targets: {sorted(bad)}")
print(f"{path}: only the kernel targets get CPU flags or -Ounchecked")
