/// One backend a balancer forwards to: a task's host binding.
///
/// The identity is the whole value: the same `id` at another address is another target, so a task that moves
/// drains at its old address while it joins at the new one.
public struct Target: Hashable, Sendable, CustomStringConvertible {
    /// The owner's name for the target (the control plane passes the task ID).
    public var id: String
    /// Host or IP address the balancer connects to.
    public var host: String
    /// TCP port the balancer connects to.
    public var port: Int

    public init(id: String, host: String, port: Int) {
        self.id = id
        self.host = host
        self.port = port
    }

    /// `host:port`, the label used in metrics and logs.
    public var address: String { "\(self.host):\(self.port)" }

    public var description: String { "\(self.id)@\(self.address)" }
}

/// What the balancer believes about a target's health.
public enum TargetHealth: String, Hashable, Sendable {
    /// Registered, not yet checked often enough to be trusted: receives no connections.
    case initial
    /// Passed `healthyThreshold` checks in a row (or the owner vouched for it): receives connections.
    case healthy
    /// Failed `unhealthyThreshold` checks in a row: receives no new connections until it is healthy again.
    case unhealthy
}

/// A change of a target's health, reported so the owner can replace a failing task.
public struct TargetHealthTransition: Hashable, Sendable {
    public var balancer: String
    public var target: Target
    public var from: TargetHealth
    public var to: TargetHealth
}

/// How a balancer picks the target of a new connection.
public enum BalancingAlgorithm: String, Hashable, Sendable, CaseIterable {
    /// Each healthy target in turn.
    case roundRobin = "round-robin"
    /// The healthy target with the fewest open connections; ties go round robin.
    case leastOutstandingConnections = "least-outstanding"
}
