// The Imaging module: see DESIGN.md.
