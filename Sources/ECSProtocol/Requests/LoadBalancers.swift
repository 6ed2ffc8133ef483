import Foundation

/// An active health check as ELB target groups define one; in a request every member is optional.
public struct LoadBalancerHealthCheck: Codable, Hashable, Sendable {
    /// `TCP` (a connection opens) or `HTTP` (`GET path` answers 2xx or 3xx).
    public var `protocol`: String?
    public var path: String?
    public var intervalSeconds: Double?
    public var timeoutSeconds: Double?
    public var healthyThreshold: Int?
    public var unhealthyThreshold: Int?

    public init(
        protocol: String? = nil, path: String? = nil, intervalSeconds: Double? = nil, timeoutSeconds: Double? = nil,
        healthyThreshold: Int? = nil, unhealthyThreshold: Int? = nil
    ) {
        self.protocol = `protocol`
        self.path = path
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.healthyThreshold = healthyThreshold
        self.unhealthyThreshold = unhealthyThreshold
    }
}

/// `FlotillaV1.CreateLoadBalancer`.
public struct CreateLoadBalancerRequest: ECSRequest, Decodable {
    public var loadBalancerName: String
    public var listenerPort: Int
    public var listenerAddress: String?
    public var algorithm: String?
    public var healthCheck: LoadBalancerHealthCheck?
    public var deregistrationDelaySeconds: Double?

    public init(
        loadBalancerName: String, listenerPort: Int, listenerAddress: String? = nil, algorithm: String? = nil,
        healthCheck: LoadBalancerHealthCheck? = nil, deregistrationDelaySeconds: Double? = nil
    ) {
        self.loadBalancerName = loadBalancerName
        self.listenerPort = listenerPort
        self.listenerAddress = listenerAddress
        self.algorithm = algorithm
        self.healthCheck = healthCheck
        self.deregistrationDelaySeconds = deregistrationDelaySeconds
    }
}

/// The input of `DescribeLoadBalancers`.
public struct DescribeLoadBalancersRequest: ECSRequest, Codable {
    /// Names (or ARNs) to describe; every balancer when absent.
    public var names: [String]?

    public init(names: [String]? = nil) { self.names = names }
}

/// The input of `DeleteLoadBalancer`.
public struct DeleteLoadBalancerRequest: ECSRequest, Decodable {
    public var loadBalancerName: String
}

/// `FlotillaV1.ReportTargetHealth`: a balancer run outside the control plane (`ecs-lb`) tells what its own health
/// checks find of each target it serves (every non-draining one, by target id = task ARN).
public struct ReportTargetHealthRequest: ECSRequest, Codable {
    public struct TargetHealthReport: Codable, Sendable {
        public var id: String
        /// `initial`, `healthy` or `unhealthy`.
        public var state: String

        public init(id: String, state: String) {
            self.id = id
            self.state = state
        }
    }

    public var loadBalancerName: String
    public var targets: [TargetHealthReport]

    public init(loadBalancerName: String, targets: [TargetHealthReport]) {
        self.loadBalancerName = loadBalancerName
        self.targets = targets
    }
}

extension DescribeLoadBalancersRequest {
    public func validate() throws(ECSError) {
        if let names, names.count > 100 {
            throw ECSError.invalidParameter("names: give at most 100 names, got \(names.count).")
        }
    }
}
