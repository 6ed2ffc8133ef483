print("ecs-control-plane: not implemented yet")
