// The Runtime module: see DESIGN.md.

@_exported import KernelCore
