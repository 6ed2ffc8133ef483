import DaemonSupport
import ECSProtocol
import FlotillaClient
import LoadBalancer
import TaskDefinitions

/// Targets and settings of one named balancer, read from the control plane's `FlotillaV1.DescribeLoadBalancers`.
///
/// The listener comes from the balancer's definition unless `listenerOverride` (`--listen`) is given; targets are
/// every target the control plane lists except draining ones (`TargetSettings(_:listenerHost:listenerPort:)`).
struct ControlPlaneTargetSource: TargetSource {
    var client: ECSClient
    var loadBalancerName: String
    var listenerOverride: ListenAddress?

    func load() async throws -> TargetSettings {
        let answer = try await client.call(
            .describeLoadBalancers, DescribeLoadBalancersRequest(names: [loadBalancerName]),
            as: LoadBalancerDescriptions.self)
        guard let balancer = answer.loadBalancers.first else {
            throw ControlPlaneSourceError.noSuchBalancer(name: loadBalancerName, endpoint: "\(client.endpoint)")
        }
        return TargetSettings(balancer, listenerHost: listenerOverride?.host, listenerPort: listenerOverride?.port)
    }

    /// `FlotillaV1.ReportTargetHealth`: the verdicts by target id (the task ARN the control plane gave).
    func report(_ health: [String: TargetHealth]) async throws {
        let targets = health.keys.sorted().map { id in
            ReportTargetHealthRequest.TargetHealthReport(id: id, state: health[id]!.rawValue)
        }
        _ = try await client.call(
            .reportTargetHealth, ReportTargetHealthRequest(loadBalancerName: loadBalancerName, targets: targets),
            as: JSONValue.self)
    }
}

enum ControlPlaneSourceError: Error, CustomStringConvertible {
    case noSuchBalancer(name: String, endpoint: String)

    var description: String {
        switch self {
        case .noSuchBalancer(let name, let endpoint): "load balancer \(name) does not exist at \(endpoint)"
        }
    }
}
