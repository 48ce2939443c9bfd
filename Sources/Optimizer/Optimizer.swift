// The Optimizer module: see DESIGN.md.
