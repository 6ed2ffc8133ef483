import ECSVocabulary
import FlotillaClient
public import Foundation
public import SigV4
public import TaskDefinitions
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc

/// The built `ecs-control-plane` binary running as a real process on a free loopback port and a data dir.
///
/// It serves HTTPS from the run's test CA (`TestPKI`, put in its data dir before it starts), which every test client
/// trusts; `--insecure-plain-http` in `arguments` makes it plain HTTP (for raw-socket tests of the HTTP limits).
///
/// Tests run after `swift build --build-tests`, so the binary is at `<repo>/.build/debug/ecs-control-plane`.
public final class ControlPlaneProcess: Sendable {
    public let port: Int
    public let dataDirectory: URL
    /// The process; its stdout and stderr go to `<data dir>.log`, removed with the data directory.
    public let daemon: DaemonProcess
    /// Whether it serves HTTPS (the default).
    public let servesTLS: Bool
    public var endpoint: String { "\(servesTLS ? "https" : "http")://127.0.0.1:\(port)" }

    /// The repository root, found from this file's path.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var binary: URL { repositoryRoot.appendingPathComponent(".build/debug/ecs-control-plane") }

    /// The region its ARNs carry (and that `call` signs for).
    public let region: String

    /// Starts the control plane on `dataDirectory` (a fresh temp dir when nil) and waits until `/healthz` answers.
    ///
    /// It is given `TestAccessKeys.administrator` as its admin key (`--admin-access-key-id`, the secret in
    /// `FLOTILLA_ADMIN_SECRET_ACCESS_KEY`), unless `arguments` holds `--insecure-no-auth`.
    ///
    /// Without a `port`, it listens on one `freePort()` found free; a socket elsewhere in the test process can take
    /// that port between the check and the daemon's bind (the kernel hands it out again as an ephemeral port), so when
    /// the daemon exits with "Address already in use" it starts again on another port (three attempts).
    /// - Parameter viaEnvironment: pass the configuration as `FLOTILLA_*` variables instead of flags.
    /// - Parameter arguments: more flags (e.g. `--idle-timeout 1s`).
    public init(
        dataDirectory: URL? = nil, port: Int? = nil, viaEnvironment: Bool = false, arguments: [String] = []
    ) async throws {
        let dataDirectory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-cp-test-\(UUID().uuidString)")
        self.dataDirectory = dataDirectory
        let servesTLS = !arguments.contains("--insecure-plain-http")
        self.servesTLS = servesTLS
        if servesTLS { try TestPKI.install(into: dataDirectory) }
        region = viaEnvironment ? "eu-north-1" : "us-east-1"
        var environment = ProcessInfo.processInfo.environment
        if !arguments.contains("--insecure-no-auth") {
            environment["FLOTILLA_ADMIN_ACCESS_KEY_ID"] = TestAccessKeys.administrator.accessKeyID
            environment["FLOTILLA_ADMIN_SECRET_ACCESS_KEY"] = TestAccessKeys.administrator.secretAccessKey
        }
        var attempt = 1
        while true {
            let listenPort = try port ?? freePort()
            let daemon: DaemonProcess
            if viaEnvironment {
                environment["FLOTILLA_LISTEN"] = "127.0.0.1:\(listenPort)"
                environment["FLOTILLA_DATA_DIR"] = dataDirectory.path
                environment["FLOTILLA_ACCOUNT_ID"] = "111122223333"
                environment["FLOTILLA_REGION"] = "eu-north-1"
                environment["FLOTILLA_LOG_LEVEL"] = "warning"
                daemon = DaemonProcess(
                    arguments: [Self.binary.path], environment: environment, logFile: dataDirectory.path + ".log")
            } else {
                daemon = DaemonProcess(
                    arguments: [
                        Self.binary.path, "--listen", "127.0.0.1:\(listenPort)", "--data-dir", dataDirectory.path,
                        "--log-level", "warning",
                    ] + arguments,
                    environment: environment, logFile: dataDirectory.path + ".log")
            }
            try daemon.start()
            let endpoint = "\(servesTLS ? "https" : "http")://127.0.0.1:\(listenPort)"
            do {
                try await Self.waitUntilHealthy(daemon, endpoint: endpoint)
                self.port = listenPort
                self.daemon = daemon
                return
            } catch ControlPlaneProcessError.exited(_, let log)
                where port == nil && attempt < 3 && log.contains("Address already in use")
            {
                attempt += 1
            } catch {
                daemon.kill9()
                throw error
            }
        }
    }

    /// Polls `/healthz` (bounded: 15 s) until it answers 200.
    private static func waitUntilHealthy(_ daemon: DaemonProcess, endpoint: String) async throws {
        let healthy = await daemon.waitUntilAnswering("\(endpoint)/healthz", within: .seconds(15))
        if let status = daemon.exitStatus { throw ControlPlaneProcessError.exited(status, daemon.logTail()) }
        guard healthy else { throw ControlPlaneProcessError.notHealthy(daemon.logTail()) }
    }

    public var isRunning: Bool { daemon.isRunning }

    /// Sends `signal` (SIGKILL, SIGTERM) to the process.
    public func send(_ signal: Int32) { daemon.send(signal) }

    /// Waits (at most `bound`) for the process to exit; its status, or nil if it did not.
    public func waitForExit(within bound: Duration = .seconds(10)) async -> Int32? {
        await daemon.waitForExit(within: bound)
    }

    /// Kills the process at once if it still runs and removes its data directory (for `defer`).
    public func terminate() {
        daemon.kill9()
        removeData()
    }

    /// Kills the process if it still runs and removes a data directory this harness created.
    public func stop(removingData: Bool = true) async throws {
        daemon.kill9()
        if removingData { removeData() }
    }

    private func removeData() {
        try? FileManager.default.removeItem(at: dataDirectory)
        try? FileManager.default.removeItem(atPath: dataDirectory.path + ".log")
    }

    /// Calls one ECS operation over HTTP, signed with `credentials` (nil: unsigned); returns the status and the JSON
    /// body.
    public func call(
        _ operation: String, _ json: String = "{}", as credentials: AWSCredentials? = TestAccessKeys.administrator
    ) async throws -> (status: Int, body: Data) {
        try await post(TargetPrefix.ecs.target(operation), json, as: credentials)
    }

    /// Posts `json` as the operation `target` names (any prefix), signed with `credentials` (nil: unsigned).
    public func post(
        _ target: String, _ json: String, as credentials: AWSCredentials? = TestAccessKeys.administrator
    ) async throws -> (status: Int, body: Data) {
        try await signedPost(endpoint: endpoint, target: target, json, as: credentials, region: region)
    }
}

/// One JSON 1.1 `POST /` to `endpoint` as the operation `target` names, signed with `credentials` for `region` (nil:
/// unsigned), the way the awscli calls, trusting the test CA; the status and the body.
public func signedPost(
    endpoint: String, target: String, _ json: String,
    as credentials: AWSCredentials? = TestAccessKeys.administrator, region: String = "us-east-1"
) async throws -> (status: Int, body: Data) {
    var request = URLRequest(url: URL(string: endpoint)!, timeoutInterval: 30)
    request.httpMethod = "POST"
    request.setValue(target, forHTTPHeaderField: "X-Amz-Target")
    request.setValue("application/x-amz-json-1.1", forHTTPHeaderField: "Content-Type")
    request.httpBody = Data(json.utf8)
    if let credentials { request.sign(with: credentials, region: region) }
    let response = try await TestPKI.transport.send(request, timeout: .seconds(30))
    return (response.statusCode, response.body)
}

public enum ControlPlaneProcessError: Error, CustomStringConvertible {
    case exited(Int32, String)
    case notHealthy(String)

    public var description: String {
        switch self {
        case .exited(let status, let log): "ecs-control-plane exited with \(status); its log ends with:\n\(log)"
        case .notHealthy(let log): "ecs-control-plane did not answer /healthz; its log ends with:\n\(log)"
        }
    }
}

extension JSONValue {
    /// The element at `index` of a JSON array, nil when out of range or not an array (tests read ECS answers with it).
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let values) = self, values.indices.contains(index) else { return nil }
        return values[index]
    }
}
