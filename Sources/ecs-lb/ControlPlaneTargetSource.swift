import ArgumentParser
import ECSVocabulary
import FlotillaClient
import DaemonSupport
import Foundation
import LoadBalancer
import TaskDefinitions

/// Targets and settings of one named balancer, read from the control plane's `FlotillaV1.DescribeLoadBalancers`.
///
/// The listener comes from the balancer's definition unless `listenerOverride` (`--listen`) is given; targets are
/// every target the control plane lists except draining ones.
struct ControlPlaneTargetSource: TargetSource {
    var client: ECSClient
    var loadBalancerName: String
    var listenerOverride: ListenAddress?

    func load() async throws -> TargetSettings {
        let answer = try await client.call(
            .describeLoadBalancers, .object(["names": .array([.string(loadBalancerName)])]))
        guard let balancer = answer["loadBalancers"]?.arrayValue?.first else {
            throw ControlPlaneSourceError.noSuchBalancer(name: loadBalancerName, endpoint: "\(client.endpoint)")
        }
        return try Self.settings(from: balancer, listenerOverride: listenerOverride)
    }

    /// `FlotillaV1.ReportTargetHealth`: the verdicts by target id (the task ARN the control plane gave).
    func report(_ health: [String: TargetHealth]) async throws {
        let targets = health.keys.sorted().map { id in
            JSONValue.object(["id": .string(id), "state": .string(health[id]!.rawValue)])
        }
        _ = try await client.call(
            .reportTargetHealth,
            .object([
                "loadBalancerName": .string(loadBalancerName), "targets": .array(targets),
            ]))
    }

    /// The settings a DescribeLoadBalancers entry describes.
    static func settings(from balancer: JSONValue, listenerOverride: ListenAddress?) throws -> TargetSettings {
        guard let name = balancer["loadBalancerName"]?.stringValue, let port = balancer["listenerPort"]?.intValue else {
            throw ValidationError("DescribeLoadBalancers answered a balancer without loadBalancerName or listenerPort")
        }
        let check = balancer["healthCheck"]
        let kind: TargetHealthCheck.Kind =
            check?["protocol"]?.stringValue == "HTTP"
            ? .http(path: check?["path"]?.stringValue ?? "/") : .tcp
        let configuration = LoadBalancerConfiguration(
            name: name,
            listenerHost: listenerOverride?.host ?? balancer["listenerAddress"]?.stringValue ?? "0.0.0.0",
            listenerPort: listenerOverride?.port ?? port,
            algorithm: balancer["algorithm"]?.stringValue == "least-connections"
                ? .leastOutstandingConnections : .roundRobin,
            healthCheck: TargetHealthCheck(
                kind: kind,
                interval: .seconds(Self.number(check?["intervalSeconds"]) ?? 10),
                timeout: .seconds(Self.number(check?["timeoutSeconds"]) ?? 5),
                healthyThreshold: check?["healthyThreshold"]?.intValue ?? 3,
                unhealthyThreshold: check?["unhealthyThreshold"]?.intValue ?? 2),
            deregistrationDelay: .seconds(Self.number(balancer["deregistrationDelaySeconds"]) ?? 300))
        let targets = (balancer["targets"]?.arrayValue ?? []).compactMap { target -> Target? in
            guard target["targetHealth"]?["state"]?.stringValue != TargetHealthState.draining.rawValue,
                let id = target["id"]?.stringValue,
                let host = target["host"]?.stringValue, let port = target["port"]?.intValue
            else { return nil }
            return Target(id: id, host: host, port: port)
        }
        return TargetSettings(configuration: configuration, targets: targets)
    }

    private static func number(_ value: JSONValue?) -> Double? {
        if case .number(let number)? = value { return number }
        return nil
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
