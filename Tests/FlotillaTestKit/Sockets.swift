public import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// Plain blocking sockets for tests: a listener, a client, a tiny HTTP/1.0 backend standing in for a task's
// container, and free ports. Only loopback and addresses inside the tests' own network namespaces.

public enum TestSocketError: Error, CustomStringConvertible {
    case failed(String)
    public var description: String {
        switch self {
        case .failed(let what): what
        }
    }
}

/// The IPv4 socket address `host:port`.
public func ipv4Address(_ host: String, _ port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr(host)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return address
}

/// A TCP port nobody listens on at `address` right now (bind to port 0 there, read it back, close).
public func freePort(on address: String = "127.0.0.1") throws -> Int {
    try ListeningSocket(host: address, listening: false).port
}

/// A blocking TCP socket connected to `host:port`, with send and receive timeouts (`SO_SNDTIMEO`, `SO_RCVTIMEO`)
/// and, when given, a receive buffer size; nil when it cannot connect. The caller closes it.
public func connectToLoopback(
    port: Int, timeoutSeconds: Int, receiveBuffer: Int32? = nil,
    host: String = "127.0.0.1"
) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = ipv4Address(host, port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        close(fd)
        return nil
    }
    return fd
}

/// A TCP socket bound to `host:port` (0: any port) and listening, that accepts nothing by itself.
///
/// Its descriptor is closed exactly once (by `close()` or `deinit`): every test runs in one process, so a second
/// close would close whatever another test opened under the same number since.
public final class ListeningSocket: Sendable {
    public let fd: Int32
    public let port: Int
    private let isOpen = Mutex(true)

    /// - Parameter listening: false only binds (to learn a free port).
    public init(host: String = "127.0.0.1", port: Int = 0, listening: Bool = true) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSocketError.failed("socket: errno \(errno)") }
        var address = ipv4Address(host, port)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && (!listening || listen(fd, 128) == 0) && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            let error = errno
            Glibc.close(fd)
            throw TestSocketError.failed("bind \(host):\(port): errno \(error)")
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Stops listening: connects are refused and a blocked `accept` returns. The descriptor stays valid until
    /// `close()` or `deinit`, so a thread still looping on `accept` never reaches another test's socket.
    public func stopListening() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Frees the port.
    public func close() {
        let wasOpen = isOpen.withLock { open in
            let was = open
            open = false
            return was
        }
        guard wasOpen else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }

    deinit { close() }
}

/// A blocking TCP client (10 s timeouts).
public final class BlockingClient {
    public let fd: Int32

    /// The socket is stored only once connected: a throwing init of a fully initialized class runs `deinit`, and
    /// a second close would close whatever another test opened under the same number since.
    public init(port: Int, host: String = "127.0.0.1") throws {
        guard let fd = connectToLoopback(port: port, timeoutSeconds: 10, host: host) else {
            throw TestSocketError.failed("connect \(host):\(port): errno \(errno)")
        }
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    public func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else {
            throw TestSocketError.failed("write: errno \(errno)")
        }
    }

    /// At least `count` bytes (or fewer when the peer closes first, or 10 s pass without a byte).
    public func read(atLeast count: Int) -> String {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while result.count < count {
            let got = Glibc.read(fd, &buffer, buffer.count)
            if got <= 0 { break }
            result += buffer[..<got]
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Everything until the peer closes (or resets, or 10 s pass without a byte).
    public func readToEnd() -> String { read(atLeast: Int.max) }

    /// One `GET path` (HTTP/1.0) over a new connection to `host:port`; the body.
    public static func get(_ path: String, port: Int, host: String = "127.0.0.1") throws -> String {
        let client = try BlockingClient(port: port, host: host)
        try client.send("GET \(path) HTTP/1.0\r\n\r\n")
        let response = client.readToEnd()
        guard let split = response.range(of: "\r\n\r\n") else {
            throw TestSocketError.failed("no response from \(host):\(port)")
        }
        return String(response[split.upperBound...])
    }

    /// A `GET /slow` (of a `TestHTTPBackend`) through `port` whose first bytes have arrived: the backend holds the
    /// rest until released.
    public static func slowDownload(port: Int) throws -> BlockingClient {
        let download = try BlockingClient(port: port)
        try download.send("GET /slow HTTP/1.0\r\n\r\n")
        _ = download.read(atLeast: "HTTP/1.0 200 OK\r\n\r\nslow".utf8.count)
        return download
    }
}

/// A tiny HTTP/1.0 backend (a thread per connection) standing in for a task's container: `/name` answers its
/// name; `/slow` answers `slow` at once and ` done` when `releaseSlow()` is called (at most 20 s later).
/// Connections that send no request (TCP health checks) are not counted. Threads, not the cooperative pool, so a
/// test that blocks that pool never slows the backend.
public final class TestHTTPBackend: Sendable {
    public let name: String
    public let port: Int
    private let listener: ListeningSocket
    private let state = Mutex((requests: 0, slowInFlight: 0, slowReleased: false))

    public init(name: String, host: String = "127.0.0.1") throws {
        self.name = name
        listener = try ListeningSocket(host: host)
        port = listener.port
        Thread { [self] in self.acceptLoop() }.start()
    }

    public var requests: Int { state.withLock { $0.requests } }
    public var slowInFlight: Int { state.withLock { $0.slowInFlight } }
    public func releaseSlow() { state.withLock { $0.slowReleased = true } }

    /// Stops accepting: new connections are refused, as when the container died.
    public func kill() { listener.stopListening() }

    private func acceptLoop() {
        while true {
            let connection = accept(listener.fd, nil, nil)
            if connection < 0 { return }
            Thread { [self] in self.serve(connection) }.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { Glibc.close(connection) }
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
            let count = read(connection, &buffer, buffer.count)
            if count <= 0 { return }
            request += buffer[..<count]
        }
        let path = String(decoding: request, as: UTF8.self).split(separator: " ").dropFirst().first ?? ""
        state.withLock { $0.requests += 1 }
        func send(_ text: String) {
            _ = Array(text.utf8).withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
        }
        if path == "/slow" {
            state.withLock { $0.slowInFlight += 1 }
            send("HTTP/1.0 200 OK\r\n\r\nslow")
            // Bounded: at most 20 s without a release.
            for _ in 0..<2000 where !state.withLock({ $0.slowReleased }) { usleep(10_000) }
            send(" done")
            state.withLock { $0.slowInFlight -= 1 }
        } else {
            send("HTTP/1.0 200 OK\r\n\r\n\(name)")
        }
    }
}
