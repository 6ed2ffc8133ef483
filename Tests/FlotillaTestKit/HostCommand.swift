import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished command left behind.
public struct HostCommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var succeeded: Bool { status == 0 }

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Non-empty stderr lines.
    public var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
}

/// A failed setup command: the arguments, the status and stderr, so a broken harness says what broke.
public struct HostCommandError: Error, CustomStringConvertible {
    public var arguments: [String]
    public var result: HostCommandResult

    public init(arguments: [String], result: HostCommandResult) {
        self.arguments = arguments
        self.result = result
    }

    public var description: String {
        "\(arguments.joined(separator: " ")) exited with \(result.status): "
            + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Runs programs of the host (ip, nsenter, curl, the built executables) to completion: the one way tests run a
/// command and read what it printed. (Long-running daemons go through `DaemonProcess`.)
public enum HostCommand {
    /// Runs `arguments[0]` (a path, or a name looked up in /usr/sbin, /usr/bin, /sbin, /bin) to completion, blocking
    /// the calling thread; stdout and stderr go through files so neither can block it. Never throws for a non-zero
    /// status: see `check`. From async code prefer `runToCompletion`, which does not hold a thread of the shared
    /// cooperative pool while it waits.
    public static func run(
        _ arguments: [String], environment: [String: String]? = nil,
        input: String? = nil
    ) throws -> HostCommandResult {
        let launch = try Launch(arguments, environment: environment, currentDirectory: nil, input: input)
        try launch.process.run()
        launch.sendInput()
        launch.process.waitUntilExit()
        return launch.result(status: launch.process.terminationStatus)
    }

    /// `run`, waiting through a termination handler instead of on a thread: the test process shares a few cooperative
    /// threads (one per core) among every test running at once, and a test blocked in a wait would stall the others.
    /// - Parameter killAfter: SIGKILL the command when it runs longer (a bound against hangs).
    public static func runToCompletion(
        _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: String? = nil, input: String? = nil,
        killAfter: Duration = .seconds(300)
    ) async throws -> HostCommandResult {
        let launch = try Launch(arguments, environment: environment, currentDirectory: currentDirectory, input: input)
        let status: Int32 = try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { continuation in
                    launch.process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                    do { try launch.process.run() } catch { continuation.resume(throwing: error) }
                }
            }
            launch.sendInput()
            group.addTask {
                try? await Task.sleep(for: killAfter)
                if !Task.isCancelled, launch.process.isRunning { kill(launch.process.processIdentifier, SIGKILL) }
                return nil
            }
            while let next = try await group.next() {
                if let status = next {
                    group.cancelAll()
                    return status
                }
            }
            return -1
        }
        return launch.result(status: status)
    }

    /// A prepared process with its output files and its own /dev/null (never the shared `FileHandle.nullDevice`):
    /// the descriptors of this run are this run's alone, whatever else the test process opens and closes meanwhile.
    // @unchecked Sendable: the process is started once and then only waited on; the handles are closed by `result`.
    private final class Launch: @unchecked Sendable {
        let process = Process()
        let directory: URL
        let outURL: URL, errURL: URL
        let handles: [FileHandle]
        let inputPipe: Pipe?
        let input: String?

        init(_ arguments: [String], environment: [String: String]?, currentDirectory: String?, input: String?) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("fl-cmd-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            outURL = directory.appendingPathComponent("stdout")
            errURL = directory.appendingPathComponent("stderr")
            _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
            let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
            process.executableURL = URL(fileURLWithPath: HostCommand.resolve(arguments[0]))
            process.arguments = Array(arguments.dropFirst())
            if let environment { process.environment = environment }
            if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
            process.standardOutput = out
            process.standardError = err
            self.input = input
            if input != nil {
                let pipe = Pipe()
                inputPipe = pipe
                process.standardInput = pipe
                handles = [out, err]
            } else {
                inputPipe = nil
                let null = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/null"))
                process.standardInput = null
                handles = [out, err, null]
            }
        }

        func sendInput() {
            guard let inputPipe, let input else { return }
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inputPipe.fileHandleForWriting.close()
        }

        func result(status: Int32) -> HostCommandResult {
            for handle in handles { try? handle.close() }
            defer { try? FileManager.default.removeItem(at: directory) }
            return HostCommandResult(
                status: status,
                stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
                stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
        }
    }

    /// Runs the command and throws `HostCommandError` unless it exits 0; returns its stdout.
    @discardableResult
    public static func check(_ arguments: [String], input: String? = nil) throws -> String {
        let result = try run(arguments, input: input)
        guard result.succeeded else { throw HostCommandError(arguments: arguments, result: result) }
        return result.stdout
    }

    /// Runs the command for cleanup: failures (a piece already gone) are ignored.
    public static func ignoringFailure(_ arguments: [String]) {
        _ = try? run(arguments)
    }

    static func resolve(_ name: String) -> String {
        if name.hasPrefix("/") { return name }
        for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"]
        where
            FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)")
        {
            return "\(directory)/\(name)"
        }
        return "/usr/bin/\(name)"
    }
}

extension HostCommand {
    /// The directory of the built debug executables, from the repository root (tests run after
    /// `swift build --build-tests`).
    public static var debugBinaries: String {
        ControlPlaneProcess.repositoryRoot.appendingPathComponent(".build/debug").path
    }
}
