print("cwbench")
