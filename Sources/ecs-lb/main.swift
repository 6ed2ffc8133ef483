print("ecs-lb: not implemented yet")
