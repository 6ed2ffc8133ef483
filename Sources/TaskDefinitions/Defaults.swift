public import Foundation

// ECS's defaults, exposed as computed properties: the stored model keeps exactly what the user sent, so a
// definition describes back unchanged, while the scheduler and agent read the effective values here.

extension TaskDefinition {
    /// The network mode ECS uses when the definition sets none on Linux: `bridge`.
    public static let defaultNetworkMode = NetworkMode.bridge

    /// ``networkMode``, or `bridge` when absent.
    public var resolvedNetworkMode: NetworkMode { networkMode ?? Self.defaultNetworkMode }
}

extension ContainerDefinition {
    /// Whether the task stops when this container stops: `essential`, true when absent.
    public var isEssential: Bool { essential ?? true }

    /// Memory this container takes from its host, in MiB: `memoryReservation`, else `memory`, else 0.
    ///
    /// ECS places on the soft limit when one is set, and on the hard limit otherwise.
    public var reservedMemoryMiB: Int { memoryReservation ?? memory ?? 0 }
}

extension PortMapping {
    /// The default transport protocol: tcp.
    public static let defaultProtocol = TransportProtocol.tcp

    /// `protocol` as a value: tcp when absent, nil when it names neither tcp nor udp (validation refuses that).
    public var transportProtocol: TransportProtocol? {
        guard let text = `protocol` else { return Self.defaultProtocol }
        return TransportProtocol(rawValue: text)
    }
}

extension HealthCheck {
    /// Seconds between checks when `interval` is absent.
    public static let defaultInterval = 30
    /// Seconds a check may take when `timeout` is absent.
    public static let defaultTimeout = 5
    /// Consecutive failures before unhealthy when `retries` is absent.
    public static let defaultRetries = 3
    /// Grace seconds after start when `startPeriod` is absent.
    public static let defaultStartPeriod = 0

    /// `interval`, or 30 seconds.
    public var resolvedInterval: Int { interval ?? Self.defaultInterval }
    /// `timeout`, or 5 seconds.
    public var resolvedTimeout: Int { timeout ?? Self.defaultTimeout }
    /// `retries`, or 3.
    public var resolvedRetries: Int { retries ?? Self.defaultRetries }
    /// `startPeriod`, or 0 seconds.
    public var resolvedStartPeriod: Int { startPeriod ?? Self.defaultStartPeriod }
}

extension ContainerDefinition {
    /// The docker label that sets how often the agent runs this container's health check during `startPeriod`, until
    /// the first pass: a number of seconds, e.g. `"0.5"` (Docker's `--health-start-interval`, Kubernetes' startup
    /// probe period). Without it the agent's default applies (`ecs-agent --health-start-interval`, 250 ms).
    public static let healthCheckStartIntervalLabel = "flotilla.healthCheck.startInterval"

    /// The start interval `healthCheckStartIntervalLabel` gives; nil when the label is absent or not a number of
    /// seconds within `TaskDefinitionLimits.healthCheckStartInterval` (validation refuses those).
    public var healthCheckStartInterval: Duration? {
        guard let text = dockerLabels?[Self.healthCheckStartIntervalLabel], let seconds = Double(text),
            TaskDefinitionLimits.healthCheckStartInterval.contains(seconds)
        else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

extension Duration {
    /// The duration in seconds, as Foundation's dates count them.
    public var timeInterval: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}
