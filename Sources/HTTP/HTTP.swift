// HTTP: see DESIGN.md
