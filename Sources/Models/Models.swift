// The Models module: see DESIGN.md.
