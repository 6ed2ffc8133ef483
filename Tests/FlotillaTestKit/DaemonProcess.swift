public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One long-running executable of a harness (a control plane, an agent) with its output appended to a log file,
/// which can be killed (-9 or SIGTERM) and started again with the same arguments.
// @unchecked Sendable: the mutable `process` is only replaced under `lock`; Foundation's Process is thread-safe for
// the calls made on it (signal, isRunning, waitUntilExit), it only lacks the annotation.
public final class DaemonProcess: @unchecked Sendable {
    public let arguments: [String]
    public let environment: [String: String]?
    /// stdout and stderr of every start, appended.
    public let logFile: String
    private let lock = NSLock()
    private var process: Process?

    public init(arguments: [String], environment: [String: String]? = nil, logFile: String) {
        self.arguments = arguments
        self.environment = environment
        self.logFile = logFile
    }

    /// Starts the process (again).
    public func start() throws {
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        if let environment { process.environment = environment }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        lock.withLock { self.process = process }
    }

    public var pid: Int32? { lock.withLock { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } } }
    public var isRunning: Bool { pid != nil }

    /// Sends `signal`; does nothing when the process is not running.
    public func send(_ signal: Int32) {
        if let pid { kill(pid, signal) }
    }

    /// Waits (at most `seconds`, polling every 20 ms) for the process to exit; true when it did.
    public func waitForExit(seconds: Double = 10) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if !isRunning { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !isRunning
    }

    /// kill -9 and reap.
    public func kill9() {
        let current = lock.withLock { process }
        guard let current, current.isRunning else { return }
        kill(current.processIdentifier, SIGKILL)
        current.waitUntilExit()
    }

    /// SIGTERM, then SIGKILL after `seconds`. True when SIGTERM alone ended it.
    @discardableResult
    public func terminate(graceSeconds seconds: Double = 10) async -> Bool {
        send(SIGTERM)
        if await waitForExit(seconds: seconds) { return true }
        kill9()
        return false
    }

    /// The log's last `lines` lines, for failure messages.
    public func logTail(lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// Polls `condition` every `interval` until it returns a value, at most `timeout`; nil when it never did.
/// Bounded in time and in count (timeout / interval attempts).
public func eventually<Value>(within timeout: Duration, every interval: Duration = .milliseconds(200),
                        _ condition: () async throws -> Value?) async rethrows -> Value? {
    let deadline = ContinuousClock.now + timeout
    repeat {
        if let value = try await condition() { return value }
        try? await Task.sleep(for: interval)
    } while ContinuousClock.now < deadline
    return try await condition()
}
