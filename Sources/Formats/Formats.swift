// The Formats module: see DESIGN.md.
