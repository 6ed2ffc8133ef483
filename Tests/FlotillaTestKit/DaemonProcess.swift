import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one wrapper of a long-running executable in tests (a control plane, an agent, a balancer, `ecsctl logs
/// --follow`): stdout and stderr appended to a log file, killable (-9 or SIGTERM), startable again with the same
/// arguments.
/// (Run-to-completion commands go through `HostCommand`.)
// @unchecked Sendable: the mutable `process` is only replaced under `lock`; Foundation's Process is thread-safe for
// the calls made on it (signal, processIdentifier, waitUntilExit), it only lacks the annotation.
public final class DaemonProcess: @unchecked Sendable {
    public let arguments: [String]
    public let environment: [String: String]?
    /// stdout (and stderr, unless `errorFile` is given) of every start, appended.
    public let logFile: String
    /// stderr of every start, appended, when it should not mix with stdout.
    public let errorFile: String?
    private let lock = NSLock()
    private var process: Process?

    public init(arguments: [String], environment: [String: String]? = nil, logFile: String, errorFile: String? = nil) {
        self.arguments = arguments
        self.environment = environment
        self.logFile = logFile
        self.errorFile = errorFile
    }

    /// Starts the process (again). Refuses while an earlier start still runs: replacing it would lose the only handle
    /// that kills it, and it would outlive the test.
    public func start() throws {
        if let pid { throw DaemonProcessError.stillRunning(arguments[0], pid: pid) }
        func appending(to path: String) throws -> FileHandle {
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            handle.seekToEndOfFile()
            return handle
        }
        let log = try appending(to: logFile)
        let errors = try errorFile.map(appending(to:)) ?? log
        defer {
            try? log.close()
            try? errors.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: HostCommand.resolve(arguments[0]))
        process.arguments = Array(arguments.dropFirst())
        if let environment { process.environment = environment }
        process.standardOutput = log
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
    }

    /// The exit status, nil while it runs (or before its first start).
    public var exitStatus: Int32? { lock.withLock { process.flatMap { $0.isRunning ? nil : $0.terminationStatus } } }
    public var isRunning: Bool { pid != nil }
    public var pid: Int32? { lock.withLock { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } } }

    /// Sends `signal`; does nothing when the process is not running.
    public func send(_ signal: Int32) {
        if let pid { kill(pid, signal) }
    }

    /// Waits for the process to exit, at most `bound` (a guard against hangs); its status, nil when it still runs.
    @discardableResult
    public func waitForExit(within bound: Duration = .seconds(30)) async -> Int32? {
        guard lock.withLock({ process != nil }) else { return nil }
        let deadline = ContinuousClock.now + bound
        while exitStatus == nil, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return exitStatus
    }

    /// Waits until `url` (its `/healthz`) answers 200, at most `bound`; false at once when the process exits first.
    public func waitUntilAnswering(_ url: String, within bound: Duration = .seconds(30)) async -> Bool {
        await eventually(within: bound, every: .milliseconds(50)) { () async -> Bool? in
            guard isRunning else { return false }
            return await httpGet(url) != nil ? true : nil
        } ?? false
    }

    /// kill -9 and reap.
    public func kill9() {
        let current = lock.withLock { process }
        guard let current, current.isRunning else { return }
        kill(current.processIdentifier, SIGKILL)
        current.waitUntilExit()
    }

    /// SIGTERM, then SIGKILL after `grace`. True when SIGTERM alone ended it.
    @discardableResult
    public func terminate(grace: Duration = .seconds(10)) async -> Bool {
        send(SIGTERM)
        if await waitForExit(within: grace) != nil { return true }
        kill9()
        return false
    }

    /// The whole log.
    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Everything written to `errorFile` ("" without one).
    public var errors: String { errorFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "" }

    /// The log's last `lines` lines, for failure messages.
    public func logTail(lines: Int = 40) -> String {
        log.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// A misuse of `DaemonProcess` by a test.
public enum DaemonProcessError: Error, CustomStringConvertible {
    case stillRunning(String, pid: Int32)

    public var description: String {
        switch self {
        case .stillRunning(let executable, let pid):
            "\(executable) (pid \(pid)) still runs: stop it before starting it again"
        }
    }
}
