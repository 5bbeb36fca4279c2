// ArchiveInspect: see DESIGN.md
