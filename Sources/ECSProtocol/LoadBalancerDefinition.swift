public import ECSVocabulary
public import Foundation

/// A named load balancer as `CreateLoadBalancer` stores it and `DescribeLoadBalancers` shows it: the listener and the
/// target-group settings of an ELB, every default filled in.
///
/// The control plane's embedded balancers and `ecs-lb --control-plane` both run one through the LoadBalancer
/// library's `LoadBalancerConfiguration(_:)`.
public struct LoadBalancerDefinition: Codable, Hashable, Sendable {
    public var loadBalancerName: String
    public var loadBalancerArn: String
    /// The address the listener binds to (`defaultListenerAddress` unless given).
    public var listenerAddress: String
    public var listenerPort: Int
    /// `round-robin` or `least-connections`.
    public var algorithm: String
    public var healthCheck: LoadBalancerHealthCheck
    /// How long a deregistered target's open connections may go on.
    public var deregistrationDelaySeconds: Double
    public var createdAt: Date

    /// Every address of the host.
    public static let defaultListenerAddress = "0.0.0.0"
    public static let roundRobin = "round-robin"
    public static let leastConnections = "least-connections"
    /// ELB's default deregistration delay.
    public static let defaultDeregistrationDelaySeconds = 300.0

    public init(
        loadBalancerName: String, loadBalancerArn: String, listenerAddress: String, listenerPort: Int,
        algorithm: String, healthCheck: LoadBalancerHealthCheck, deregistrationDelaySeconds: Double, createdAt: Date
    ) {
        self.loadBalancerName = loadBalancerName
        self.loadBalancerArn = loadBalancerArn
        self.listenerAddress = listenerAddress
        self.listenerPort = listenerPort
        self.algorithm = algorithm
        self.healthCheck = healthCheck
        self.deregistrationDelaySeconds = deregistrationDelaySeconds
        self.createdAt = createdAt
    }
}

extension LoadBalancerHealthCheck {
    /// ELB's defaults, used where a request leaves a member out.
    public static let tcp = "TCP"
    public static let http = "HTTP"
    public static let defaultPath = "/"
    public static let defaultIntervalSeconds = 10.0
    /// The longest default timeout; never above the interval.
    public static let defaultTimeoutSeconds = 5.0
    public static let defaultHealthyThreshold = 3
    public static let defaultUnhealthyThreshold = 2

    /// This check with every member a request left out filled in: `HTTP` when a path is given (else `TCP`), the path
    /// `/` for HTTP, ELB's interval, thresholds and timeout (5 s, at most the interval).
    public var withDefaults: LoadBalancerHealthCheck {
        let healthProtocol = self.protocol ?? (path == nil ? Self.tcp : Self.http)
        let interval = intervalSeconds ?? Self.defaultIntervalSeconds
        return LoadBalancerHealthCheck(
            protocol: healthProtocol, path: healthProtocol == Self.http ? path ?? Self.defaultPath : path,
            intervalSeconds: interval, timeoutSeconds: timeoutSeconds ?? min(Self.defaultTimeoutSeconds, interval),
            healthyThreshold: healthyThreshold ?? Self.defaultHealthyThreshold,
            unhealthyThreshold: unhealthyThreshold ?? Self.defaultUnhealthyThreshold)
    }
}

// MARK: - DescribeLoadBalancers

/// A service using a balancer, as DescribeLoadBalancers lists it.
public struct LoadBalancerServiceDescription: Codable, Hashable, Sendable {
    public var cluster: String
    public var serviceName: String
    public var containerName: String
    public var containerPort: Int

    public init(cluster: String, serviceName: String, containerName: String, containerPort: Int) {
        self.cluster = cluster
        self.serviceName = serviceName
        self.containerName = containerName
        self.containerPort = containerPort
    }
}

/// ELB's target health: `initial`, `healthy`, `unhealthy`, `draining`, or `unused` (no balancer runs it here); a
/// `WireValue`, so a reader older than the control plane still reads a word it does not know.
public struct TargetHealthDescription: Codable, Hashable, Sendable {
    public var state: WireValue<TargetHealthState>
    public var reason: String?

    public init(state: TargetHealthState, reason: String? = nil) {
        self.state = WireValue(state)
        self.reason = reason
    }
}

/// One target of a balancer with its health and counters.
public struct TargetDescription: Codable, Hashable, Sendable {
    /// The task ARN for a service's target.
    public var id: String
    public var cluster: String?
    public var serviceName: String?
    public var host: String
    public var port: Int
    public var targetHealth: TargetHealthDescription
    public var activeConnections: Int
    public var totalConnections: Int
    public var connectErrors: Int
    public var bytesIn: Int
    public var bytesOut: Int

    public init(
        id: String, cluster: String?, serviceName: String?, host: String, port: Int,
        targetHealth: TargetHealthDescription, activeConnections: Int, totalConnections: Int, connectErrors: Int,
        bytesIn: Int, bytesOut: Int
    ) {
        self.id = id
        self.cluster = cluster
        self.serviceName = serviceName
        self.host = host
        self.port = port
        self.targetHealth = targetHealth
        self.activeConnections = activeConnections
        self.totalConnections = totalConnections
        self.connectErrors = connectErrors
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
    }
}

/// DescribeLoadBalancers' view of one balancer: its definition's members (flat, under their own names), where it runs,
/// the services using it and its targets. One shape: the control plane encodes it, `ecs-lb` decodes it.
public struct LoadBalancerDescription: Codable, Hashable, Sendable {
    public var definition: LoadBalancerDefinition
    /// `ACTIVE` (listening), `PROVISIONING` (not started yet), `FAILED` (see `statusReason`), `EXTERNAL` (the
    /// embedded balancer is off: a standalone `ecs-lb` serves it), or `DELETED` (DeleteLoadBalancer's answer).
    public var status: WireValue<LoadBalancerStatus>
    public var statusReason: String?
    public var services: [LoadBalancerServiceDescription]
    public var targets: [TargetDescription]

    public init(
        definition: LoadBalancerDefinition, status: LoadBalancerStatus, statusReason: String? = nil,
        services: [LoadBalancerServiceDescription] = [], targets: [TargetDescription] = []
    ) {
        self.definition = definition
        self.status = WireValue(status)
        self.statusReason = statusReason
        self.services = services
        self.targets = targets
    }

    private enum CodingKeys: String, CodingKey { case status, statusReason, services, targets }

    public init(from decoder: any Decoder) throws {
        definition = try LoadBalancerDefinition(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        status = try container.decode(WireValue<LoadBalancerStatus>.self, forKey: .status)
        statusReason = try container.decodeIfPresent(String.self, forKey: .statusReason)
        services = try container.decodeIfPresent([LoadBalancerServiceDescription].self, forKey: .services) ?? []
        targets = try container.decodeIfPresent([TargetDescription].self, forKey: .targets) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        try definition.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(statusReason, forKey: .statusReason)
        try container.encode(services, forKey: .services)
        try container.encode(targets, forKey: .targets)
    }
}

/// A DescribeLoadBalancers answer as a client reads it (its `failures` aside).
public struct LoadBalancerDescriptions: Decodable, Hashable, Sendable {
    public var loadBalancers: [LoadBalancerDescription]
}
