public import Foundation

/// What a finished command left behind.
public struct HostCommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var succeeded: Bool { status == 0 }
}

/// A failed setup command: the arguments, the status and stderr, so a broken harness says what broke.
public struct HostCommandError: Error, CustomStringConvertible {
    public var arguments: [String]
    public var result: HostCommandResult
    public var description: String {
        "\(arguments.joined(separator: " ")) exited with \(result.status): "
            + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Runs programs of the host (ip, nsenter, the built executables) to completion, for the harnesses.
public enum HostCommand {
    /// Runs `arguments[0]` (a path, or a name looked up in /usr/sbin, /usr/bin, /sbin, /bin) to completion; stdout and
    /// stderr go through files so neither can block it. Never throws for a non-zero status: see `check`.
    public static func run(_ arguments: [String], environment: [String: String]? = nil,
                           input: String? = nil) throws -> HostCommandResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fl-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout"), errURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: resolve(arguments[0]))
        process.arguments = Array(arguments.dropFirst())
        if let environment { process.environment = environment }
        process.standardOutput = out
        process.standardError = err
        let pipe = input.map { _ in Pipe() }
        if let pipe { process.standardInput = pipe } else { process.standardInput = FileHandle.nullDevice }
        try process.run()
        if let pipe, let input {
            pipe.fileHandleForWriting.write(Data(input.utf8))
            try pipe.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        return HostCommandResult(status: process.terminationStatus,
                                 stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
                                 stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
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
        for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] where
            FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
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
