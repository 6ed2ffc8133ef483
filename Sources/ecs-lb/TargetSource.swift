import ArgumentParser
import Foundation
import LoadBalancer

/// The balancer settings and targets a source currently holds.
struct TargetSettings: Sendable {
    var configuration: LoadBalancerConfiguration
    var targets: [Target]
}

/// Where `ecs-lb` gets its targets: the seam for the control-plane source to come.
///
/// Today: flags (`FixedTargetSource`) or a JSON file re-read on SIGHUP (`FileTargetSource`). The control-plane
/// source will watch the balancer's targets through the agent protocol's blocking query and call `load()`'s
/// equivalent on each change; when it cannot reach the control plane it keeps the balancer on its last targets.
protocol TargetSource: Sendable {
    func load() async throws -> TargetSettings
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
    var listen: HostPort?
    var algorithm: AlgorithmFlag?
    var healthCheck: HealthCheckFlag?
    var healthIntervalSeconds: Double?
    var healthTimeoutSeconds: Double?
    var healthyThreshold: Int?
    var unhealthyThreshold: Int?
    var deregistrationDelaySeconds: Double?
    var targets: [HostPort]
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
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix(".").description
    }
}
