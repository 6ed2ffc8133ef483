import ECSVocabulary
import FlotillaClient
import Foundation
public import SigV4
public import TaskDefinitions
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The built `ecs-control-plane` listening on an address every e2e host reaches (the run's bridge address), on a
/// data directory that survives `kill9()` and `start()` (same port, same store).
public final class ClusterControlPlane: Sendable {
    public let address: String
    public let port: Int
    public let dataDirectory: String
    public let daemon: DaemonProcess
    /// HTTPS from the run's test CA (`TestPKI`), which its clients trust and its join tokens name.
    public var endpoint: String { "https://\(address):\(port)" }

    /// - Parameters:
    ///   - agentGracePeriod: `--agent-grace-period` (an agent silent this long is disconnected).
    ///   - extraArguments: more flags, e.g. `--no-embedded-load-balancer`.
    public init(
        address: String, dataDirectory: String, agentGracePeriod: String = "30s",
        extraArguments: [String] = [], binaryDirectory: String = HostCommand.debugBinaries
    ) throws {
        self.address = address
        self.dataDirectory = dataDirectory
        port = try freePort(on: address)
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try TestPKI.install(into: URL(fileURLWithPath: dataDirectory))
        var environment = ProcessInfo.processInfo.environment
        environment["FLOTILLA_ADMIN_ACCESS_KEY_ID"] = TestAccessKeys.administrator.accessKeyID
        environment["FLOTILLA_ADMIN_SECRET_ACCESS_KEY"] = TestAccessKeys.administrator.secretAccessKey
        daemon = DaemonProcess(
            arguments: [
                "\(binaryDirectory)/ecs-control-plane", "--listen", "\(address):\(port)",
                "--data-dir", dataDirectory, "--agent-grace-period", agentGracePeriod,
                "--log-level", "info",
            ] + extraArguments,
            environment: environment, logFile: dataDirectory + "/control-plane.log")
    }

    /// Starts the process (again) and waits until `/healthz` answers (at most 30 s; at once an error if it exits).
    public func start() async throws {
        try daemon.start()
        guard await daemon.waitUntilAnswering("\(endpoint)/healthz") else {
            throw ClusterHarnessError.notReady("ecs-control-plane", daemon.logTail())
        }
    }

    public func isHealthy() async -> Bool { await httpGet("\(endpoint)/healthz") != nil }

    /// The value of an unlabelled series on `/metrics` (e.g. `flotilla_reconciler_passes_total`), nil when absent.
    public func metric(_ name: String) async -> Double? {
        guard let text = await httpGet("\(endpoint)/metrics") else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    /// Waits until the reconciler has finished `count` more passes (bounded: 60 s); false when it did not.
    public func reconcilerPasses(_ count: Int) async -> Bool {
        let start = await metric("flotilla_reconciler_passes_total") ?? 0
        return await eventually(within: .seconds(60), every: .milliseconds(100)) {
            await metric("flotilla_reconciler_passes_total") ?? 0 >= start + Double(count)
        }
    }

    // MARK: - API

    /// One ECS operation (`AmazonEC2ContainerServiceV20141113.<operation>`); throws `APIError` unless 200.
    @discardableResult
    public func ecs(_ operation: String, _ body: [String: Any] = [:]) async throws -> JSONValue {
        try await call(TargetPrefix.ecs.target(operation), body)
    }

    /// Any operation by its full `X-Amz-Target` (`FlotillaAgentV1.GetJoinToken`, `FlotillaV1.CreateLoadBalancer`),
    /// signed with `credentials` (the administrator's unless said).
    @discardableResult
    public func call(
        _ target: String, _ body: [String: Any] = [:], as credentials: AWSCredentials = TestAccessKeys.administrator
    ) async throws -> JSONValue {
        let (status, data) = try await signedPost(
            endpoint: endpoint, target: target,
            String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self), as: credentials)
        let json = (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
        guard status == 200 else {
            throw APIError(
                target: target, status: status, type: json["__type"]?.stringValue ?? "",
                message: json["message"]?.stringValue ?? String(decoding: data, as: UTF8.self))
        }
        return json
    }

    /// The cluster's join token (`FlotillaAgentV1.GetJoinToken`).
    public func joinToken(cluster: String) async throws -> String {
        let answer = try await call(TargetPrefix.agent.target("GetJoinToken"), ["cluster": cluster])
        guard let token = answer["joinToken"]?.stringValue else {
            throw ClusterHarnessError.unexpected("GetJoinToken answered without joinToken: \(answer)")
        }
        return token
    }
}

/// An API call that did not answer 200.
public struct APIError: Error, CustomStringConvertible {
    public var target: String
    public var status: Int
    public var type: String
    public var message: String
    public var description: String { "\(target): \(status) \(type): \(message)" }
}

public enum ClusterHarnessError: Error, CustomStringConvertible {
    /// A process did not become ready; the tail of its log.
    case notReady(String, String)
    case unexpected(String)

    public var description: String {
        switch self {
        case .notReady(let what, let log): "\(what) did not become ready; its log ends with:\n\(log)"
        case .unexpected(let message): message
        }
    }
}
