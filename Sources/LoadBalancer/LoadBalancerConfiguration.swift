/// Everything that defines one named balancer: where it listens, how it picks and checks targets, how it drains.
///
/// Mirrors an ELB target group's settings so the control plane can take them from `create-load-balancer` as they are.
public struct LoadBalancerConfiguration: Hashable, Sendable {
    /// The balancer's name (`loadBalancerName`); a metric dimension and a log key.
    public var name: String
    /// Address the listener binds to.
    public var listenerHost: String
    /// Port the listener binds to; 0 picks a free one (read it back from `LoadBalancer.listenerPort`).
    public var listenerPort: Int
    public var algorithm: BalancingAlgorithm
    public var healthCheck: TargetHealthCheck
    /// How long a removed target's open connections may go on before they are closed.
    public var deregistrationDelay: Duration
    /// How long a connection to a target may take before the balancer tries another one.
    public var connectTimeout: Duration
    /// Bytes queued towards one side of a connection before the balancer stops reading from the other side.
    ///
    /// What the balancer holds per direction is this, plus the one read cycle under way when the mark is crossed
    /// (`maxMessagesPerRead` reads of at most `maxReadSize`: 256 KiB), plus, once, whatever the sending side's kernel
    /// receive buffer holds when that side closes: on EPOLLRDHUP NIO's `readEOF0` reads the socket to its EOF
    /// whatever `autoRead` and pending reads say. With 64 KiB the backpressure test sees 256-290 KiB (with one
    /// message per read: 73-150 KiB), and end-of-transfer peaks of 0.3-0.9 MiB, each equal to what was queued when
    /// the backend's EOF arrived; never growing with the transfer size.
    public var writeBufferHighWaterMark: Int
    /// Client connections open at once. One beyond it is closed as soon as it is accepted, before any byte and
    /// before a target connection is made (counted in `flotilla_lb_refused_connections_total`), so a flood of
    /// sockets cannot take the process's file descriptors from the connections already served.
    public var maxConnections: Int
    /// A connection with no byte moving either way for this long is closed (AWS NLB's TCP idle timeout, 350 s).
    /// A long download keeps moving bytes and is never cut; a stalled client that stops reading is idle.
    public var idleTimeout: Duration

    /// The default cap on client connections: each holds two descriptors (client and target), so 10,000 stays
    /// well inside a 65,536-descriptor limit with room for the rest of the process.
    public static let defaultMaxConnections = 10_000
    /// NLB's TCP idle timeout.
    public static let defaultIdleTimeout = Duration.seconds(350)

    public init(
        name: String,
        listenerHost: String = "0.0.0.0",
        listenerPort: Int,
        algorithm: BalancingAlgorithm = .roundRobin,
        healthCheck: TargetHealthCheck = TargetHealthCheck(),
        deregistrationDelay: Duration = .seconds(300),
        connectTimeout: Duration = .seconds(2),
        writeBufferHighWaterMark: Int = 256 * 1024,
        maxConnections: Int = LoadBalancerConfiguration.defaultMaxConnections,
        idleTimeout: Duration = LoadBalancerConfiguration.defaultIdleTimeout
    ) {
        self.name = name
        self.listenerHost = listenerHost
        self.listenerPort = listenerPort
        self.algorithm = algorithm
        self.healthCheck = healthCheck
        self.deregistrationDelay = deregistrationDelay
        self.connectTimeout = connectTimeout
        self.writeBufferHighWaterMark = writeBufferHighWaterMark
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
    }

    static let maxMessagesPerRead = 4
    static let maxReadSize = 64 * 1024

    /// Checks every field; throws one error naming all the bad ones.
    public func validate() throws(LoadBalancerError) {
        var issues: [String] = []
        if self.name.isEmpty { issues.append("name: must not be empty") }
        if !(0...65535).contains(self.listenerPort) {
            issues.append("listenerPort: must be between 0 and 65535, got \(self.listenerPort)")
        }
        if self.listenerHost.isEmpty { issues.append("listenerHost: must not be empty") }
        if self.deregistrationDelay < .zero { issues.append("deregistrationDelay: must not be negative") }
        if self.connectTimeout <= .zero { issues.append("connectTimeout: must be positive") }
        if self.writeBufferHighWaterMark < 1024 {
            issues.append("writeBufferHighWaterMark: must be at least 1024, got \(self.writeBufferHighWaterMark)")
        }
        if self.maxConnections < 1 { issues.append("maxConnections: must be at least 1, got \(self.maxConnections)") }
        if self.idleTimeout <= .zero { issues.append("idleTimeout: must be positive") }
        issues += self.healthCheck.issues()
        if !issues.isEmpty { throw .invalidConfiguration(issues) }
    }
}

/// A balancer's active health check of its targets, as an ELB target group defines it (not TaskDefinitions'
/// container `HealthCheck`).
public struct TargetHealthCheck: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// Passes when a TCP connection opens.
        case tcp
        /// Passes when `GET path` answers with a 2xx or 3xx status.
        case http(path: String)
    }

    public var kind: Kind
    public var interval: Duration
    /// A check not finished within this time fails.
    public var timeout: Duration
    /// Passes in a row that make a target healthy.
    public var healthyThreshold: Int
    /// Failures in a row that make a target unhealthy. A failed connect to the target from a client connection
    /// (refused or timed out) counts as one failure too (passive health, like HAProxy's `observe layer4` or Envoy's
    /// consecutive connect failures), so a dead target leaves after this many connects whatever the interval; only
    /// passing active checks bring it back.
    public var unhealthyThreshold: Int

    public init(
        kind: Kind = .tcp,
        interval: Duration = .seconds(10),
        timeout: Duration = .seconds(5),
        healthyThreshold: Int = 3,
        unhealthyThreshold: Int = 2
    ) {
        self.kind = kind
        self.interval = interval
        self.timeout = timeout
        self.healthyThreshold = healthyThreshold
        self.unhealthyThreshold = unhealthyThreshold
    }

    func issues() -> [String] {
        var issues: [String] = []
        if self.interval <= .zero { issues.append("healthCheck.interval: must be positive") }
        if self.timeout <= .zero { issues.append("healthCheck.timeout: must be positive") }
        if self.timeout > self.interval { issues.append("healthCheck.timeout: must not exceed the interval") }
        if !(1...10).contains(self.healthyThreshold) {
            issues.append("healthCheck.healthyThreshold: must be between 1 and 10, got \(self.healthyThreshold)")
        }
        if !(1...10).contains(self.unhealthyThreshold) {
            issues.append("healthCheck.unhealthyThreshold: must be between 1 and 10, got \(self.unhealthyThreshold)")
        }
        if case .http(let path) = self.kind, !path.hasPrefix("/") {
            issues.append("healthCheck.path: must start with '/', got '\(path)'")
        }
        return issues
    }
}
