import ArgumentParser
import DaemonSupport
import Foundation
import LoadBalancer

/// The balancer settings and targets a source currently holds.
struct TargetSettings: Sendable {
    var configuration: LoadBalancerConfiguration
    var targets: [Target]
}

/// Where `ecs-lb` gets its settings and targets: flags (`FixedTargetSource`), a JSON file re-read on SIGHUP
/// (`FileTargetSource`), or the control plane's DescribeLoadBalancers, polled (`ControlPlaneTargetSource`). A
/// failing `load()` never changes the balancer: it keeps its last targets.
protocol TargetSource: Sendable {
    func load() async throws -> TargetSettings
    /// Tells the source's owner what the balancer's own health checks find of each serving target (the control
    /// plane counts a task as healthy only once its balancers do). Sources without an owner ignore it.
    func report(_ health: [String: TargetHealth]) async throws
}

extension TargetSource {
    func report(_ health: [String: TargetHealth]) async throws {}
}

struct FixedTargetSource: TargetSource {
    var settings: TargetSettings
    func load() async throws -> TargetSettings { self.settings }
}

/// The JSON file of `--config`:
/// `{"name": "web", "listen": "127.0.0.1:8000", "algorithm": "least-outstanding", "healthCheck": "http:/",
///   "targets": ["127.0.0.1:9001", "127.0.0.1:9002"], "deregistrationDelaySeconds": 30}`
struct ConfigFile: Codable, Sendable {
    var name: String?
    var listen: ListenAddress?
    var algorithm: AlgorithmFlag?
    var healthCheck: HealthCheckFlag?
    var healthIntervalSeconds: Double?
    var healthTimeoutSeconds: Double?
    var healthyThreshold: Int?
    var unhealthyThreshold: Int?
    var deregistrationDelaySeconds: Double?
    var targets: [ListenAddress]
}

struct FileTargetSource: TargetSource {
    var path: String
    var defaults: LoadBalancerOptions

    func load() async throws -> TargetSettings {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: self.path))
        } catch {
            throw ValidationError("\(self.path): cannot read: \(error.localizedDescription)")
        }
        let file: ConfigFile
        do {
            file = try JSONDecoder().decode(ConfigFile.self, from: data)
        } catch let DecodingError.dataCorrupted(context), let DecodingError.typeMismatch(_, context),
            let DecodingError.valueNotFound(_, context)
        {
            throw ValidationError("\(self.path): \(Self.path(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw ValidationError("\(self.path): \(Self.path(context.codingPath + [key])): missing")
        }
        return try self.defaults.settings(targets: file.targets, overriding: file)
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix(".")
            .description
    }
}
