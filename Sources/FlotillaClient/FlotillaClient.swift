/// The ECS JSON 1.1 client used by ecsctl, the agent and tests.
public enum FlotillaClientModule {}
