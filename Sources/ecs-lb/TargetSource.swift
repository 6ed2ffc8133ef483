import ArgumentParser
import DaemonSupport
import Foundation
import LoadBalancer

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

/// `--config`: the settings and targets of a JSON file, re-read on SIGHUP (a bad file keeps the last targets).
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
