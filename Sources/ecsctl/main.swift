print("ecsctl: not implemented yet")
