import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Paths of the built executables, found from this file's location (`Tests/IntegrationTests/` → repo root).
enum BuiltProducts {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let binDirectory = repositoryRoot.appendingPathComponent(".build/debug")
    static let ecsctl = binDirectory.appendingPathComponent("ecsctl")
    static let controlPlane = binDirectory.appendingPathComponent("ecs-control-plane")
}

/// What a finished process left behind.
struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Non-empty stderr lines.
    var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
}

enum HarnessError: Error, CustomStringConvertible {
    case notReady(String)
    var description: String { if case .notReady(let text) = self { return text }; return "" }
}

/// A loopback TCP port nothing listens on right now (bound to port 0, then released).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError.notReady("socket: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
        }
    }
    guard bound else { throw HarnessError.notReady("bind 127.0.0.1:0: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Runs `executable` with `arguments` to completion; stdout and stderr go through files so neither can block it.
func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessOutput {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecsctl-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("stdout")
    let errURL = directory.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)

    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    try out.close()
    try err.close()
    return ProcessOutput(status: status,
                         stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                         stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
}

/// The real `ecs-control-plane`, started on a free loopback port with a temporary data directory.
///
/// - Important: call `stop()` when done; it sends SIGTERM and waits, then removes the data directory.
final class ControlPlaneProcess: Sendable {
    let port: Int
    let dataDirectory: URL
    let logFile: URL
    let process: Process

    var endpoint: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        port = try freeLoopbackPort()
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-cp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        logFile = dataDirectory.appendingPathComponent("control-plane.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process = Process()
        process.executableURL = BuiltProducts.controlPlane
        process.arguments = ["--listen", "127.0.0.1:\(port)", "--data-dir", dataDirectory.path]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try await waitUntilHealthy()
    }

    /// Polls `/healthz` (at most 300 tries, 50 ms apart) until it answers 200, or the process exits.
    private func waitUntilHealthy() async throws {
        let url = URL(string: "\(endpoint)/healthz")!
        for _ in 0..<300 {
            guard process.isRunning else {
                throw HarnessError.notReady("ecs-control-plane exited with \(process.terminationStatus): \(log())")
            }
            var request = URLRequest(url: url, timeoutInterval: 2)
            request.httpMethod = "GET"
            if let (_, response) = try? await URLSession.shared.data(for: request),
               (response as? HTTPURLResponse)?.statusCode == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw HarnessError.notReady("ecs-control-plane never answered \(url): \(log())")
    }

    func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}

/// Runs the built `ecsctl` against `endpoint` (when given), with no config file or FLOTILLA_* variable in the way.
func ecsctl(_ arguments: [String], endpoint: String? = nil) async throws -> ProcessOutput {
    var environment = ["PATH": "/usr/bin:/bin", "HOME": FileManager.default.temporaryDirectory.path,
                       "XDG_CONFIG_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("ecsctl-no-config").path]
    if let endpoint { environment["FLOTILLA_ENDPOINT"] = endpoint }
    return try await runProcess(BuiltProducts.ecsctl, arguments, environment: environment)
}
