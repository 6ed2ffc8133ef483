public import ECSProtocol
import ECSVocabulary

/// The balancer settings and targets a source currently holds.
public struct TargetSettings: Sendable {
    public var configuration: LoadBalancerConfiguration
    public var targets: [Target]

    public init(configuration: LoadBalancerConfiguration, targets: [Target]) {
        self.configuration = configuration
        self.targets = targets
    }

    /// The settings of a balancer the control plane describes (DescribeLoadBalancers): its definition's
    /// configuration, listening on `listenerHost`/`listenerPort` when given instead, and every target it lists
    /// except the draining ones.
    public init(_ balancer: LoadBalancerDescription, listenerHost: String? = nil, listenerPort: Int? = nil) {
        var configuration = LoadBalancerConfiguration(balancer.definition)
        if let listenerHost { configuration.listenerHost = listenerHost }
        if let listenerPort { configuration.listenerPort = listenerPort }
        self.configuration = configuration
        self.targets = balancer.targets.filter { $0.targetHealth.state != TargetHealthState.draining }.map {
            Target(id: $0.id, host: $0.host, port: $0.port)
        }
    }
}

/// Where a standalone balancer (`ecs-lb`) gets its settings and targets: fixed ones (`FixedTargetSource`), a file
/// re-read on SIGHUP, or the control plane's DescribeLoadBalancers, polled. A failing `load()` never changes the
/// balancer: it keeps its last targets.
public protocol TargetSource: Sendable {
    func load() async throws -> TargetSettings
    /// Tells the source's owner what the balancer's own health checks find of each serving target (the control
    /// plane counts a task as healthy only once its balancers do). Sources without an owner ignore it.
    func report(_ health: [String: TargetHealth]) async throws
}

extension TargetSource {
    public func report(_ health: [String: TargetHealth]) async throws {}
}

/// Settings and targets that never change.
public struct FixedTargetSource: TargetSource {
    public var settings: TargetSettings

    public init(settings: TargetSettings) { self.settings = settings }

    public func load() async throws -> TargetSettings { self.settings }
}
