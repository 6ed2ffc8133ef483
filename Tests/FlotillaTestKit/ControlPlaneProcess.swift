public import Foundation
public import TaskDefinitions
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc

/// The built `ecs-control-plane` binary running as a real process on a free loopback port and a data dir.
///
/// Tests run after `swift build --build-tests`, so the binary is at `<repo>/.build/debug/ecs-control-plane`.
// @unchecked Sendable: `process` is created in `init` and afterwards only signalled and waited on; Foundation's
// Process is thread-safe for those calls, it only lacks the annotation.
public final class ControlPlaneProcess: @unchecked Sendable {
    public let port: Int
    public let dataDirectory: URL
    public let process: Process
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The repository root, found from this file's path.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var binary: URL { repositoryRoot.appendingPathComponent(".build/debug/ecs-control-plane") }

    /// Starts the control plane on `dataDirectory` (a fresh temp dir when nil) and waits until `/healthz` answers.
    /// - Parameter viaEnvironment: pass the configuration as `FLOTILLA_*` variables instead of flags.
    /// - Parameter arguments: more flags (e.g. `--idle-timeout 1s`).
    public init(dataDirectory: URL? = nil, port: Int? = nil, viaEnvironment: Bool = false, arguments: [String] = []) async throws {
        self.port = try port ?? Self.freeLoopbackPort()
        self.dataDirectory = dataDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-cp-test-\(UUID().uuidString)")
        process = Process()
        process.executableURL = Self.binary
        if viaEnvironment {
            var environment = ProcessInfo.processInfo.environment
            environment["FLOTILLA_LISTEN"] = "127.0.0.1:\(self.port)"
            environment["FLOTILLA_DATA_DIR"] = self.dataDirectory.path
            environment["FLOTILLA_ACCOUNT_ID"] = "111122223333"
            environment["FLOTILLA_REGION"] = "eu-north-1"
            environment["FLOTILLA_LOG_LEVEL"] = "warning"
            process.environment = environment
            process.arguments = []
        } else {
            process.arguments = ["--listen", "127.0.0.1:\(self.port)", "--data-dir", self.dataDirectory.path, "--log-level", "warning"] + arguments
        }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try await waitUntilHealthy()
    }

    /// Polls `/healthz` (at most 300 times, 50 ms apart) until it answers 200.
    func waitUntilHealthy() async throws {
        for _ in 0..<300 {
            guard process.isRunning else { throw ControlPlaneProcessError.exited(process.terminationStatus) }
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "\(endpoint)/healthz")!),
               (response as? HTTPURLResponse)?.statusCode == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ControlPlaneProcessError.notHealthy
    }

    /// Sends `signal` (SIGKILL, SIGTERM) to the process.
    public func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits (at most `seconds`, polling every 20 ms) for the process to exit; returns its status, or nil if it did not.
    public func waitForExit(seconds: Int = 10) async throws -> Int32? {
        for _ in 0..<(seconds * 50) {
            if !process.isRunning { return process.terminationStatus }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Kills the process at once if it still runs and removes its data directory (for `defer`).
    public func terminate() {
        if process.isRunning {
            send(SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    /// Kills the process if it still runs and removes a data directory this harness created.
    public func stop(removingData: Bool = true) async throws {
        if process.isRunning {
            send(SIGKILL)
            _ = try await waitForExit()
        }
        if removingData { try? FileManager.default.removeItem(at: dataDirectory) }
    }

    /// Calls one ECS operation over HTTP; returns the status and the JSON body.
    public func call(_ operation: String, _ json: String = "{}") async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: endpoint)!)
        request.httpMethod = "POST"
        request.setValue("AmazonEC2ContainerServiceV20141113.\(operation)", forHTTPHeaderField: "X-Amz-Target")
        request.setValue("application/x-amz-json-1.1", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(json.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// A loopback port nobody listens on right now (bind to port 0, read it back, close).
    public static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ControlPlaneProcessError.noPort }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw ControlPlaneProcessError.noPort }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw ControlPlaneProcessError.noPort }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public enum ControlPlaneProcessError: Error {
    case exited(Int32)
    case notHealthy
    case noPort
}


extension JSONValue {
    /// The element at `index` of a JSON array, nil when out of range or not an array (tests read ECS answers with it).
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let values) = self, values.indices.contains(index) else { return nil }
        return values[index]
    }
}
