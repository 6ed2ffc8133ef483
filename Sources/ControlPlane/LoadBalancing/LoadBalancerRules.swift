import ECSProtocol
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The rules of `CreateLoadBalancer`, with ELB's limits where ELB has one.
enum LoadBalancerRules {
    static let algorithms = [LoadBalancerDefinition.roundRobin, LoadBalancerDefinition.leastConnections]

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
        let address = request.listenerAddress ?? LoadBalancerDefinition.defaultListenerAddress
        if !isIPAddress(address) {
            issues.append("listenerAddress: must be an IPv4 or IPv6 address, got '\(address.prefix(64))'")
        }
        let algorithm = request.algorithm ?? LoadBalancerDefinition.roundRobin
        if !algorithms.contains(algorithm) {
            issues.append("algorithm: must be round-robin or least-connections, got '\(algorithm.prefix(64))'")
        }
        let delay = request.deregistrationDelaySeconds ?? LoadBalancerDefinition.defaultDeregistrationDelaySeconds
        if !(0...3600).contains(delay) {
            issues.append("deregistrationDelaySeconds: must be between 0 and 3600, got \(delay)")
        }
        let given = request.healthCheck ?? LoadBalancerHealthCheck()
        let healthCheck = given.withDefaults
        let healthProtocol = healthCheck.protocol ?? LoadBalancerHealthCheck.tcp
        switch healthProtocol {
        case LoadBalancerHealthCheck.http:
            if let path = healthCheck.path,
                !path.hasPrefix("/") || path.count > 1024 || path.contains(where: \.isWhitespace)
            {
                issues.append(
                    "healthCheck.path: must start with '/', hold no spaces and be at most 1024 characters, got '\(path.prefix(64))'"
                )
            }
        case LoadBalancerHealthCheck.tcp:
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
