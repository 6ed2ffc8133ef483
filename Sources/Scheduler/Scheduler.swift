/// Placement and service reconciliation: pure functions from a cluster snapshot to a plan.
public enum Scheduler {}
