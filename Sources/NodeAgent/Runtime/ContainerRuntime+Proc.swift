internal import CFlotillaRuntime
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The /proc and pidfd readers the lifecycle uses (exit status, start time, children, capabilities).
extension ContainerRuntime {
    static func readAll(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 65536, offset) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
            offset += off_t(n)
        }
        return bytes
    }

    static func readExitStatus(_ directory: String) -> Int32? {
        guard let data = FileManager.default.contents(atPath: directory + "/exit-status"), data.count == 4 else {
            return nil
        }
        return data.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
    }

    /// Field 22 of /proc/PID/stat (start time in clock ticks since boot), or nil if the process is gone.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    static func mode(of path: String) -> Int? {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_mode & 0o7777) : nil
    }

    /// CapPrm of this process (/proc/self/status); all bits if unreadable.
    static func permittedCapabilities() -> UInt64 {
        guard let data = FileManager.default.contents(atPath: "/proc/self/status") else { return .max }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("CapPrm:") {
            return UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) ?? .max
        }
        return .max
    }

    static func children(of pid: Int32) -> [Int32] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/task/\(pid)/children") else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: " ").compactMap { Int32($0) }
    }
}

/// Runs a blocking system call (poll on a pidfd) on its own thread, so the cooperative pool never blocks on it.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }
}
