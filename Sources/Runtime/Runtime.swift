// The Runtime module: see its README.md and DEVELOPERS.md.

@_exported import KernelCore
