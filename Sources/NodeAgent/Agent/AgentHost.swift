import Foundation

/// Facts about this host the agent registers with: CPU units (1024 per core), memory, architecture, hostname, the
/// address the control plane sees.
enum AgentHost {
    /// 1024 CPU units per online core.
    static var cpuUnits: Int {
        1024 * max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// MemTotal of /proc/meminfo in MiB.
    static var memoryMiB: Int {
        (meminfo()["MemTotal"] ?? 0) / 1024
    }

    /// /proc/meminfo's values in KiB, by name.
    static func meminfo() -> [String: Int] {
        guard let data = FileManager.default.contents(atPath: "/proc/meminfo") else { return [:] }
        var values: [String: Int] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let number = parts[1].split(separator: " ").first.flatMap({ Int($0) }) else {
                continue
            }
            values[String(parts[0])] = number
        }
        return values
    }

    /// ECS's `ecs.cpu-architecture` value: x86_64 or arm64.
    static var cpuArchitecture: String {
        #if arch(arm64)
        "arm64"
        #else
        "x86_64"
        #endif
    }

    static var hostname: String {
        let name = ProcessInfo.processInfo.hostName
        return name.isEmpty ? "localhost" : String(name.prefix(255))
    }

    /// The local IPv4 address of the route to `host` (`ip -4 route get`; a name is resolved with `getent`), or nil.
    static func localAddress(toward host: String) -> String? {
        let isAddress = host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
        let address =
            isAddress
            ? host
            : output(of: "getent", ["ahostsv4", host])?
                .split(whereSeparator: \.isWhitespace).first.map(String.init)
        guard let address, let route = output(of: "ip", ["-4", "-o", "route", "get", address]) else { return nil }
        let words = route.split(whereSeparator: \.isWhitespace)
        guard let index = words.firstIndex(of: "src"), index + 1 < words.count else { return nil }
        return String(words[index + 1])
    }

    /// The standard output of `command` (from /usr/sbin, /sbin, /usr/bin or /bin), nil if it fails.
    private static func output(of command: String, _ arguments: [String]) -> String? {
        guard
            let path = ["/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"].map({ $0 + command })
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    /// `bytes` random bytes as lowercase hex, from the system's CSPRNG.
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
