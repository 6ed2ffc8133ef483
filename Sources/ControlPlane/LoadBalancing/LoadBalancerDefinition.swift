public import Foundation
public import ECSProtocol
public import LoadBalancer
#if canImport(Glibc)
import Glibc
#endif

/// A named load balancer as `CreateLoadBalancer` stores it: the listener and the target-group settings of an ELB,
/// every default filled in.
public struct LoadBalancerDefinition: Codable, Hashable, Sendable {
    public var loadBalancerName: String
    public var loadBalancerArn: String
    /// The address the listener binds to (`0.0.0.0` unless given).
    public var listenerAddress: String
    public var listenerPort: Int
    /// `round-robin` or `least-connections`.
    public var algorithm: String
    public var healthCheck: LoadBalancerHealthCheck
    /// How long a deregistered target's open connections may go on.
    public var deregistrationDelaySeconds: Double
    public var createdAt: Date

    /// The configuration the balancer library runs this definition with.
    public var configuration: LoadBalancerConfiguration {
        let kind: TargetHealthCheck.Kind = healthCheck.protocol == "HTTP" ? .http(path: healthCheck.path ?? "/") : .tcp
        return LoadBalancerConfiguration(
            name: loadBalancerName, listenerHost: listenerAddress, listenerPort: listenerPort,
            algorithm: algorithm == "least-connections" ? .leastOutstandingConnections : .roundRobin,
            healthCheck: TargetHealthCheck(
                kind: kind, interval: .seconds(healthCheck.intervalSeconds ?? 10),
                timeout: .seconds(healthCheck.timeoutSeconds ?? 5),
                healthyThreshold: healthCheck.healthyThreshold ?? 3,
                unhealthyThreshold: healthCheck.unhealthyThreshold ?? 2),
            deregistrationDelay: .seconds(deregistrationDelaySeconds))
    }
}

/// The rules of `CreateLoadBalancer`, with ELB's limits where ELB has one.
enum LoadBalancerRules {
    static let algorithms = ["round-robin", "least-connections"]
    static let defaultDeregistrationDelay = 300.0

    /// The definition `request` asks for, defaults filled in; throws one error naming every bad field.
    static func definition(
        from request: CreateLoadBalancerRequest, arn: String, now: Date
    ) throws(ECSError) -> LoadBalancerDefinition {
        var issues: [String] = []
        let name = request.loadBalancerName
        if !(1...32).contains(name.count)
            || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            || name.hasPrefix("-") || name.hasSuffix("-")
        {
            issues.append(
                "loadBalancerName: must be 1 to 32 letters, digits and hyphens, not starting or ending with a hyphen")
        }
        if !(1...65535).contains(request.listenerPort) {
            issues.append("listenerPort: must be between 1 and 65535, got \(request.listenerPort)")
        }
        let address = request.listenerAddress ?? "0.0.0.0"
        if !isIPAddress(address) {
            issues.append("listenerAddress: must be an IPv4 or IPv6 address, got '\(address.prefix(64))'")
        }
        let algorithm = request.algorithm ?? "round-robin"
        if !algorithms.contains(algorithm) {
            issues.append("algorithm: must be round-robin or least-connections, got '\(algorithm.prefix(64))'")
        }
        let delay = request.deregistrationDelaySeconds ?? defaultDeregistrationDelay
        if !(0...3600).contains(delay) {
            issues.append("deregistrationDelaySeconds: must be between 0 and 3600, got \(delay)")
        }
        let given = request.healthCheck ?? LoadBalancerHealthCheck()
        let healthProtocol = given.protocol ?? (given.path == nil ? "TCP" : "HTTP")
        var healthCheck = LoadBalancerHealthCheck(
            protocol: healthProtocol, path: given.path, intervalSeconds: given.intervalSeconds ?? 10,
            timeoutSeconds: given.timeoutSeconds ?? min(5, given.intervalSeconds ?? 10),
            healthyThreshold: given.healthyThreshold ?? 3, unhealthyThreshold: given.unhealthyThreshold ?? 2)
        switch healthProtocol {
        case "HTTP":
            healthCheck.path = given.path ?? "/"
            if let path = healthCheck.path,
                !path.hasPrefix("/") || path.count > 1024 || path.contains(where: \.isWhitespace)
            {
                issues.append(
                    "healthCheck.path: must start with '/', hold no spaces and be at most 1024 characters, got '\(path.prefix(64))'"
                )
            }
        case "TCP":
            if given.path != nil { issues.append("healthCheck.path: only an HTTP health check takes a path") }
        default:
            issues.append("healthCheck.protocol: must be TCP or HTTP, got '\(healthProtocol.prefix(16))'")
        }
        let interval = healthCheck.intervalSeconds ?? 0, timeout = healthCheck.timeoutSeconds ?? 0
        if !(0.1...300).contains(interval) {
            issues.append("healthCheck.intervalSeconds: must be between 0.1 and 300, got \(interval)")
        }
        if !(0.1...120).contains(timeout) {
            issues.append("healthCheck.timeoutSeconds: must be between 0.1 and 120, got \(timeout)")
        } else if timeout > interval {
            issues.append("healthCheck.timeoutSeconds: must not exceed intervalSeconds (\(interval)), got \(timeout)")
        }
        for (field, value) in [
            ("healthyThreshold", healthCheck.healthyThreshold ?? 0),
            ("unhealthyThreshold", healthCheck.unhealthyThreshold ?? 0),
        ] where !(1...10).contains(value) {
            issues.append("healthCheck.\(field): must be between 1 and 10, got \(value)")
        }
        guard issues.isEmpty else { throw .invalidParameter(issues.joined(separator: "; ") + ".") }
        return LoadBalancerDefinition(
            loadBalancerName: name, loadBalancerArn: arn, listenerAddress: address, listenerPort: request.listenerPort,
            algorithm: algorithm, healthCheck: healthCheck, deregistrationDelaySeconds: delay, createdAt: now)
    }

    /// True for an IPv4 or IPv6 literal (`inet_pton`).
    static func isIPAddress(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
    }
}
