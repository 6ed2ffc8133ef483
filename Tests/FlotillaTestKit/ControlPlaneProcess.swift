public import Foundation
import SigV4
import Glibc

/// The built `ecs-control-plane` binary running as a real process: on a free port of `address` (loopback unless a
/// test gives an e2e bridge address) and a data directory that survives `daemon.kill9()` and `restart()` (same port,
/// same store). The one harness of the control plane; its API calls are in `ControlPlaneProcess+Calls.swift`.
///
/// It serves HTTPS from the run's test CA (`TestPKI`, put in its data dir before it starts), which every test client
/// trusts; `--insecure-plain-http` in `arguments` makes it plain HTTP (for raw-socket tests of the HTTP limits).
///
/// Tests run after `swift build --build-tests`, so the binary is at `<repo>/.build/debug/ecs-control-plane`.
public final class ControlPlaneProcess: Sendable {
    public let address: String
    public let port: Int
    public let dataDirectory: URL
    /// The process; its stdout and stderr go to `<data dir>.log`, removed with the data directory.
    public let daemon: DaemonProcess
    /// Whether it serves HTTPS (the default).
    public let servesTLS: Bool
    public var endpoint: String { "\(servesTLS ? "https" : "http")://\(address):\(port)" }

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
    /// Without a `port`, it listens on one `freePort(on:)` found free; a socket elsewhere in the test process can take
    /// that port between the check and the daemon's bind (the kernel hands it out again as an ephemeral port), so when
    /// the daemon exits with "Address already in use" it starts again on another port (three attempts).
    /// - Parameter address: the address it listens on and is called at (an e2e run's bridge address, so that agents
    ///   in network namespaces reach it).
    /// - Parameter viaEnvironment: pass the configuration as `FLOTILLA_*` variables instead of flags.
    /// - Parameter arguments: more flags (e.g. `--idle-timeout 1s`, `--agent-grace-period 30s`).
    /// - Parameter binaryDirectory: where `ecs-control-plane` is (`flotilla-bench` runs the release build).
    public init(
        address: String = "127.0.0.1", dataDirectory: URL? = nil, port: Int? = nil, viaEnvironment: Bool = false,
        arguments: [String] = [], logLevel: String = "warning", binaryDirectory: String = HostCommand.debugBinaries
    ) async throws {
        self.address = address
        let dataDirectory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-cp-test-\(UUID().uuidString)")
        self.dataDirectory = dataDirectory
        let servesTLS = !arguments.contains("--insecure-plain-http")
        self.servesTLS = servesTLS
        if servesTLS { try TestPKI.install(into: dataDirectory) }
        region = viaEnvironment ? "eu-north-1" : "us-east-1"
        let binary = "\(binaryDirectory)/ecs-control-plane"
        var environment = ProcessInfo.processInfo.environment
        if !arguments.contains("--insecure-no-auth") {
            environment["FLOTILLA_ADMIN_ACCESS_KEY_ID"] = TestAccessKeys.administrator.accessKeyID
            environment["FLOTILLA_ADMIN_SECRET_ACCESS_KEY"] = TestAccessKeys.administrator.secretAccessKey
        }
        var attempt = 1
        while true {
            let listenPort = try port ?? freePort(on: address)
            let daemon: DaemonProcess
            if viaEnvironment {
                environment["FLOTILLA_LISTEN"] = "\(address):\(listenPort)"
                environment["FLOTILLA_DATA_DIR"] = dataDirectory.path
                environment["FLOTILLA_ACCOUNT_ID"] = "111122223333"
                environment["FLOTILLA_REGION"] = "eu-north-1"
                environment["FLOTILLA_LOG_LEVEL"] = logLevel
                daemon = DaemonProcess(
                    arguments: [binary] + arguments, environment: environment, logFile: dataDirectory.path + ".log")
            } else {
                daemon = DaemonProcess(
                    arguments: [
                        binary, "--listen", "\(address):\(listenPort)", "--data-dir", dataDirectory.path,
                        "--log-level", logLevel,
                    ] + arguments,
                    environment: environment, logFile: dataDirectory.path + ".log")
            }
            try daemon.start()
            let endpoint = "\(servesTLS ? "https" : "http")://\(address):\(listenPort)"
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

    /// Starts the process again after it was killed, on the same port and data directory, and waits until
    /// `/healthz` answers.
    public func restart() async throws {
        try daemon.start()
        do {
            try await Self.waitUntilHealthy(daemon, endpoint: endpoint)
        } catch {
            daemon.kill9()
            throw error
        }
    }

    /// Polls `/healthz` (bounded: 30 s) until it answers 200; at once an error when the process exits.
    private static func waitUntilHealthy(_ daemon: DaemonProcess, endpoint: String) async throws {
        let healthy = await daemon.waitUntilAnswering("\(endpoint)/healthz", within: .seconds(30))
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
