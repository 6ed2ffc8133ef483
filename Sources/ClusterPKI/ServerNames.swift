import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The names and addresses a server certificate of this host is issued for.
public enum ServerNames {
    /// This host's name, `localhost`, 127.0.0.1 and ::1, the listen host (or, when it is a wildcard — 0.0.0.0, ::
    /// — every address of this host's interfaces), and `extra` (the advertised URL's host, `--tls-san` names).
    public static func forListener(host listenHost: String, extra: [String]) -> [String] {
        var names = ["localhost", "127.0.0.1", "::1", ProcessInfo.processInfo.hostName]
        if listenHost == "0.0.0.0" || listenHost == "::" || listenHost.isEmpty {
            names += interfaceAddresses()
        } else {
            names.append(listenHost)
        }
        names += extra
        var seen = Set<String>()
        return names.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// Every IPv4 and IPv6 address of this host's interfaces (`getifaddrs(3)`), link-local IPv6 ones excepted.
    static func interfaceAddresses() -> [String] {
        var first: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&first) == 0, let first else { return [] }
        defer { freeifaddrs(first) }
        var addresses: [String] = []
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            guard getnameinfo(address, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 else {
                continue
            }
            let name = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if name.lowercased().hasPrefix("fe80") { continue }
            addresses.append(name)
        }
        return addresses
    }
}
