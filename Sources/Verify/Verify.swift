// The Verify module: see DESIGN.md.
