print("ecs-agent: not implemented yet")
