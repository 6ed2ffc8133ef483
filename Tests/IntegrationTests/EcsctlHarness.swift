import FlotillaTestKit
import Foundation

/// The built `ecsctl`, found from the repository root (`ControlPlaneProcess` finds it from `#filePath`).
let ecsctlBinary = ControlPlaneProcess.repositoryRoot.appendingPathComponent(".build/debug/ecsctl")

/// What a finished process left behind.
struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Non-empty stderr lines.
    var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
}

/// Runs `executable` with `arguments` to completion; stdout and stderr go through files so neither can block it.
///
/// It waits through a termination handler, never on the thread: the test process shares two cooperative threads (one
/// per core) among every test running at once, and a test blocked in a wait would stall all the others.
func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                currentDirectory: URL? = nil) async throws -> ProcessOutput {
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
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    process.standardOutput = out
    process.standardError = err
    // Its own /dev/null rather than the shared `FileHandle.nullDevice`, and the output read back by path: the
    // descriptors of this run are this run's alone, whatever else the test process opens and closes meanwhile.
    let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/null"))
    process.standardInput = input
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    for handle in [input, out, err] { try? handle.close() }
    return ProcessOutput(status: status,
                         stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                         stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
}

/// Runs the built `ecsctl` against `endpoint` (when given), with no config file or FLOTILLA_* variable in the way.
func ecsctl(_ arguments: [String], endpoint: String? = nil) async throws -> ProcessOutput {
    var environment = ["PATH": "/usr/bin:/bin", "HOME": FileManager.default.temporaryDirectory.path,
                       "XDG_CONFIG_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("ecsctl-no-config").path]
    if let endpoint { environment["FLOTILLA_ENDPOINT"] = endpoint }
    return try await runProcess(ecsctlBinary, arguments, environment: environment)
}
