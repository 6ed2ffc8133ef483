/// A balancer's state at one moment, for describe-load-balancers.
public struct LoadBalancerSnapshot: Hashable, Sendable {
    public var name: String
    public var listenerHost: String
    public var listenerPort: Int
    public var algorithm: BalancingAlgorithm
    /// Every target still in the set, draining ones included, in registration order.
    public var targets: [TargetSnapshot]
    /// The most bytes held queued for one direction of one connection since start (see
    /// `LoadBalancerConfiguration.writeBufferHighWaterMark`).
    public var peakBufferedBytes: Int
}

/// One target's health and counters.
public struct TargetSnapshot: Hashable, Sendable {
    public var target: Target
    public var health: TargetHealth
    public var isDraining: Bool
    public var activeConnections: Int
    /// Connections made to the target since it joined (failed attempts are not counted, see `connectErrors`).
    public var totalConnections: Int
    public var connectErrors: Int
    /// Bytes from clients forwarded to the target.
    public var bytesIn: Int
    /// Bytes from the target forwarded to clients.
    public var bytesOut: Int
}
