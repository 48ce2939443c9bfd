#!/usr/bin/env python3
"""Checks ONNX files the way other tools will see them: onnx's full checker, and optionally onnxruntime's outputs.

Usage: ${EFFNET_PYTHON:-.venv/bin/python} tools/check_onnx.py FILE... [--ort IO.npz] [--tolerance T]

For every FILE:
  * onnx.checker.check_model(FILE, full_check=True): schema, types, external data locations, and strict shape
    inference (the path form, so external data next to the file is found);
  * with --ort IO.npz: runs the model in onnxruntime (CPU) on the arrays of IO.npz named after the model's inputs
    (or `input` when it has one input) and compares with the arrays named after its outputs (or `output`):
    an element passes when |actual - expected| <= T + T * |expected| (T = 1e-4 by default, as in effnet verify).
Prints one line per file. Exit code 0 when all pass, 1 when any check fails, 2 on bad usage or unreadable input.
"""
import argparse
import os
import sys

import numpy as np
import onnx


def arrays_for(values, io, role):
    """The io.npz array for each graph input or output (`role`): by its name, or the array named `role` when the
    graph has only one."""
    arrays = {}
    for v in values:
        if v.name in io:
            arrays[v.name] = io[v.name]
        elif len(values) == 1 and role in io:
            arrays[v.name] = io[role]
        else:
            raise KeyError(f"IO file has no array for {role} '{v.name}' (arrays: {', '.join(io.files)})")
    return arrays


def compare_with_ort(path, io, tolerance):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    expected = arrays_for(session.get_outputs(), io, "output")
    feeds = arrays_for(session.get_inputs(), io, "input")
    actual = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
    notes, passed = [], True
    for name, want in expected.items():
        got = actual[name]
        if got.shape != want.shape:
            notes.append(f"{name}: shape {list(got.shape)} != expected {list(want.shape)}")
            passed = False
            continue
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        bound = tolerance + tolerance * np.abs(want.astype(np.float64))
        bad = int(np.count_nonzero(diff > bound))
        notes.append(f"{name}: max_abs {diff.max() if diff.size else 0.0:.3g}" + (f", {bad} beyond tolerance" if bad else ""))
        passed = passed and bad == 0
    return passed, "; ".join(notes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--ort", metavar="IO.npz", help="compare onnxruntime outputs with this file's arrays")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="atol = rtol (default 1e-4)")
    args = parser.parse_args()

    io = None
    if args.ort:
        try:
            io = np.load(args.ort)
        except OSError as error:
            print(f"check_onnx: {args.ort}: cannot read: {error}", file=sys.stderr)
            return 2
    failures = 0
    for path in args.files:
        if not os.path.isfile(path):
            print(f"check_onnx: {path}: no such file", file=sys.stderr)
            return 2
        try:
            onnx.checker.check_model(path, full_check=True)
        except Exception as error:  # checker raises ValidationError, InferenceError, …
            print(f"{path}: FAIL checker: {str(error).splitlines()[0]}")
            failures += 1
            continue
        line = f"{path}: ok checker"
        if io is not None:
            try:
                passed, notes = compare_with_ort(path, io, args.tolerance)
            except Exception as error:
                passed, notes = False, f"onnxruntime failed: {str(error).splitlines()[0]}"
            line = f"{path}: {'ok' if passed else 'FAIL'} checker, onnxruntime ({notes})"
            failures += 0 if passed else 1
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
