import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Facts about this host the agent registers with: CPU units (1024 per core), memory, architecture, hostname, the
/// address the control plane sees.
enum AgentHost {
    /// 1024 CPU units per online core.
    static var cpuUnits: Int {
        1024 * max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
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
            guard parts.count == 2, let number = parts[1].split(separator: " ").first.flatMap({ Int($0) }) else { continue }
            values[String(parts[0])] = number
        }
        return values
    }

    /// ECS's `ecs.cpu-architecture` value: x86_64 or arm64.
    static var cpuArchitecture: String {
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return machine == "aarch64" ? "arm64" : machine
    }

    static var hostname: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// The local IPv4 address of the route to `host:port` (a connected UDP socket sends nothing), or nil.
    static func localAddress(toward host: String, port: Int) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { return nil }
        defer { freeaddrinfo(result) }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else { return nil }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `bytes` random bytes as lowercase hex, from the system's CSPRNG.
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
