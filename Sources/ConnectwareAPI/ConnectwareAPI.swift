// ConnectwareAPI: see DESIGN.md
