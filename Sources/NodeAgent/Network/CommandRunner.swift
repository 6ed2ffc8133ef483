import Foundation
import Logging

/// Runs the iproute2, nftables and util-linux tools the network code drives, one process per call.
///
/// Every command is logged at debug level; a non-zero exit becomes `NetworkError.commandFailed` carrying stderr.
struct CommandRunner: Sendable {
    let logger: Logger

    /// Runs `arguments` (the first is a tool name looked up in the sbin/bin directories), feeding `input` on stdin.
    /// Returns stdout.
    @discardableResult
    func run(_ arguments: [String], input: String? = nil) throws(NetworkError) -> String {
        logger.debug("Running network command", metadata: ["command": "\(arguments.joined(separator: " "))"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.resolve(arguments[0]))
        process.arguments = Array(arguments.dropFirst())
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        do {
            try process.run()
        } catch {
            throw .commandFailed(command: arguments, status: -1, stderr: "\(error)")
        }
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        // Our commands print little on stderr, so reading stdout to the end first cannot fill the stderr pipe.
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw .commandFailed(
                command: arguments, status: process.terminationStatus,
                stderr: String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Runs `arguments` and ignores a failure (for cleanup of pieces that may be gone already). Returns success.
    @discardableResult
    func runIgnoringFailure(_ arguments: [String], input: String? = nil) -> Bool {
        do {
            try run(arguments, input: input)
            return true
        } catch {
            logger.debug(
                "Network cleanup command failed",
                metadata: ["command": "\(arguments.joined(separator: " "))", "error": "\(error)"])
            return false
        }
    }

    private static func resolve(_ tool: String) -> String {
        if tool.hasPrefix("/") { return tool }
        for directory in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        where FileManager.default.isExecutableFile(atPath: "\(directory)/\(tool)") {
            return "\(directory)/\(tool)"
        }
        return "/usr/bin/\(tool)"
    }
}
