print("cwmigrate")
