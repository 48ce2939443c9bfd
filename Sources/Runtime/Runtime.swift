// The Runtime module: see DESIGN.md.
