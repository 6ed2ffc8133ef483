import FlotillaTestKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import Synchronization
import Testing

/// The real `ecs-lb` binary in front of in-test loopback backends: spreading, SIGHUP reloads, `/metrics`, SIGTERM
/// drain, and startup errors.
@Suite("ecs-lb process", .serialized, .timeLimit(.minutes(3)))
struct ECSLoadBalancerProcessTests {
    @Test("Spreads connections, follows SIGHUP reloads, counts on /metrics, keeps its targets on a bad reload")
    func spreadReloadMetrics() async throws {
        let backends = try (0..<3).map { try LoopbackBackend(name: "backend-\($0)") }
        defer { for backend in backends { backend.stop() } }
        // Given ecs-lb balancing backend-0 and backend-1 from a config file
        let lb = try LoadBalancerProcess(targets: [backends[0], backends[1]])
        defer { lb.terminate() }
        try await lb.waitUntilServing(backends: [backends[0], backends[1]])
        let before = backends.map(\.requests)

        // When ten clients connect
        var names: [String] = []
        for _ in 0..<10 { names.append(try lb.get("/name")) }
        // Then round robin gave each of the two five, and the third got none
        #expect(names.filter { $0 == "backend-0" }.count == 5)
        #expect(names.filter { $0 == "backend-1" }.count == 5)
        #expect(backends[2].requests == 0)
        // And /metrics counts every connection the balancer made to each target
        let metrics = try await lb.metrics()
        #expect(metrics.value("flotilla_lb_connections_total", target: backends[0]) == Double(backends[0].requests))
        #expect(metrics.value("flotilla_lb_connections_total", target: backends[1]) == Double(backends[1].requests))
        #expect(metrics.value("flotilla_lb_active_connections", target: backends[0]) == 0)
        #expect(backends[0].requests - before[0] == 5)

        // When the file swaps backend-0 for backend-2 and SIGHUP arrives
        try lb.writeConfig(targets: [backends[1], backends[2]])
        lb.send(SIGHUP)
        #expect(try await lb.eventually { try lb.get("/name") == "backend-2" })
        let removedBefore = backends[0].requests
        // Then new connections go to backend-1 and backend-2 only
        names = []
        for _ in 0..<10 { names.append(try lb.get("/name")) }
        #expect(names.allSatisfy { $0 == "backend-1" || $0 == "backend-2" })
        #expect(names.contains("backend-2"))
        #expect(backends[0].requests == removedBefore)

        // When the file is malformed and SIGHUP arrives
        try Data("{\"targets\": [\"nowhere\"".utf8).write(to: lb.configFile)
        lb.send(SIGHUP)
        #expect(try await lb.eventually { lb.standardError.contains("Targets not reloaded") })
        // Then it logged the error and still serves its last targets
        names = []
        for _ in 0..<6 { names.append(try lb.get("/name")) }
        #expect(Set(names) == ["backend-1", "backend-2"])
        #expect(lb.isRunning)
    }

    @Test("SIGTERM stops accepting, lets a slow response finish, exits 0")
    func sigtermDrains() async throws {
        let backend = try LoopbackBackend(name: "slow")
        defer { backend.stop() }
        let lb = try LoadBalancerProcess(targets: [backend], deregistrationDelaySeconds: 10)
        defer { lb.terminate() }
        try await lb.waitUntilServing(backends: [backend])
        // Given a response the backend holds back, in flight
        var client: LoopbackClient? = try LoopbackClient(port: lb.port)
        try client?.send("GET /slow HTTP/1.0\r\n\r\n")
        #expect(try await lb.eventually { backend.slowInFlight == 1 })
        // When SIGTERM arrives
        lb.send(SIGTERM)
        // Then new connections are refused while the slow response still arrives in full once the backend ends it
        #expect(try await lb.eventually { (try? lb.get("/name")) == nil })
        backend.releaseSlow()
        #expect(client?.readToEnd().hasSuffix("slow done") == true)
        client = nil
        // And the process exits 0
        #expect(try await lb.waitForExit() == 0)
    }

    @Test("A listener port in use ends ecs-lb with one line naming the port")
    func listenerPortInUse() async throws {
        let backend = try LoopbackBackend(name: "any")
        defer { backend.stop() }
        // Given the backend's own port as the listener port
        let run = try LoadBalancerProcess.runToExit(["--listen", "127.0.0.1:\(backend.port)", "--target", "127.0.0.1:\(backend.port)"])
        // Then a non-zero exit with one error line naming the port
        #expect(run.status != 0)
        let lines = run.standardError.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("Error: ") == true)
        #expect(lines.first?.contains("port \(backend.port)") == true)
    }

    @Test("Bad flags and malformed files end ecs-lb with a line naming the problem", arguments: [
        (["--listen", "nowhere"], "--listen"),
        (["--listen", "127.0.0.1:0", "--algorithm", "fastest"], "--algorithm"),
        (["--config", "MALFORMED"], "targets[0]"),
        (["--config", "/nonexistent/lb.json"], "/nonexistent/lb.json"),
        (["--control-plane", "ftp://127.0.0.1:1", "--load-balancer-name", "web"], "--control-plane"),
        (["--control-plane", "http://127.0.0.1:1"], "--load-balancer-name"),
        (["--listen", "127.0.0.1:0", "--load-balancer-name", "web"], "--load-balancer-name"),
    ])
    func badInput(_ arguments: [String], _ named: String) throws {
        // Given a file whose first target is a number
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ecs-lb-bad-\(getpid()).json")
        try Data(#"{"listen": "127.0.0.1:0", "targets": [42]}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        // When ecs-lb starts with the bad flag or file
        let run = try LoadBalancerProcess.runToExit(arguments.map { $0 == "MALFORMED" ? file.path : $0 })
        // Then it exits non-zero, its first stderr line naming the flag or field
        #expect(run.status != 0)
        let first = run.standardError.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains("Error"))
        #expect(first.contains(named))
    }
}

// MARK: - Support

/// The built `ecs-lb` on a free loopback port, its targets in a JSON file, `/metrics` on another free port.
// @unchecked Sendable: `process` is only signalled and waited on after `init` (thread-safe calls), and the stderr
// text is behind a Mutex.
final class LoadBalancerProcess: @unchecked Sendable {
    static var binary: URL { ControlPlaneProcess.repositoryRoot.appendingPathComponent(".build/debug/ecs-lb") }

    let port: Int
    let metricsPort: Int
    let configFile: URL
    let deregistrationDelaySeconds: Double
    private let process = Process()
    private let errors = StandardErrorText()

    init(targets: [LoopbackBackend], deregistrationDelaySeconds: Double = 5) throws {
        self.port = try ControlPlaneProcess.freeLoopbackPort()
        self.metricsPort = try ControlPlaneProcess.freeLoopbackPort()
        self.deregistrationDelaySeconds = deregistrationDelaySeconds
        self.configFile = FileManager.default.temporaryDirectory.appendingPathComponent("ecs-lb-\(UUID().uuidString).json")
        try self.writeConfig(targets: targets)
        process.executableURL = Self.binary
        process.arguments = ["--config", self.configFile.path, "--metrics-listen", "127.0.0.1:\(self.metricsPort)"]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let errors = self.errors
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            // End of file: stop watching, or the handler is called again and again with nothing.
            if data.isEmpty { handle.readabilityHandler = nil }
            errors.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    func writeConfig(targets: [LoopbackBackend]) throws {
        let list = targets.map { "\"127.0.0.1:\($0.port)\"" }.joined(separator: ", ")
        let text = """
            {"name": "web", "listen": "127.0.0.1:\(self.port)", "healthIntervalSeconds": 0.2, "healthTimeoutSeconds": 0.2,
             "healthyThreshold": 1, "unhealthyThreshold": 1, "deregistrationDelaySeconds": \(self.deregistrationDelaySeconds),
             "targets": [\(list)]}
            """
        try Data(text.utf8).write(to: self.configFile, options: .atomic)
    }

    var standardError: String { self.errors.text.withLock { $0 } }
    var isRunning: Bool { self.process.isRunning }
    func send(_ signal: Int32) { kill(self.process.processIdentifier, signal) }

    func terminate() {
        if self.process.isRunning { self.send(SIGKILL) }
        try? FileManager.default.removeItem(at: self.configFile)
    }

    /// One `GET path` through the balancer; the body.
    func get(_ path: String) throws -> String {
        let client = try LoopbackClient(port: self.port)
        try client.send("GET \(path) HTTP/1.0\r\n\r\n")
        let response = client.readToEnd()
        guard let split = response.range(of: "\r\n\r\n") else { throw LoopbackError.noResponse }
        return String(response[split.upperBound...])
    }

    /// Waits until every given backend has answered through the balancer (targets join after one check).
    func waitUntilServing(backends: [LoopbackBackend]) async throws {
        let names = Set(backends.map(\.name))
        var seen = Set<String>()
        let served = try await self.eventually {
            if let name = try? self.get("/name") { seen.insert(name) }
            return seen == names
        }
        try #require(served, "ecs-lb did not serve \(names); stderr: \(self.standardError)")
    }

    func metrics() async throws -> MetricsText {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(self.metricsPort)/metrics")!)
        return MetricsText(text: String(decoding: data, as: UTF8.self))
    }

    /// Polls every 20 ms, at most 500 times (a bound against hangs, not a timing assertion).
    func eventually(_ condition: () throws -> Bool) async throws -> Bool {
        for _ in 0..<500 {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }

    func waitForExit() async throws -> Int32? {
        for _ in 0..<1000 {
            if !self.process.isRunning { return self.process.terminationStatus }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Runs `ecs-lb` with `arguments` until it exits (bounded: killed after 10 s); status and stderr.
    static func runToExit(_ arguments: [String]) throws -> (status: Int32, standardError: String) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 10, execute: watchdog)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()
        return (process.terminationStatus, text)
    }
}

final class StandardErrorText: Sendable {
    let text = Mutex("")
}

/// Prometheus text exposition, read one series at a time.
struct MetricsText {
    var text: String

    /// The value of `name` for `target`, nil when the series is absent.
    func value(_ name: String, target: LoopbackBackend) -> Double? {
        for line in self.text.split(separator: "\n") where line.hasPrefix(name + "{") {
            guard line.contains("target=\"127.0.0.1:\(target.port)\"") else { continue }
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }
}

enum LoopbackError: Error { case socket(String), noResponse }

/// A blocking TCP client to a loopback port.
final class LoopbackClient {
    let fd: Int32

    /// The socket is stored only once connected: a throwing init of a fully initialized class runs `deinit`, and
    /// a second close would close whatever another test opened under the same number since.
    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackError.socket("socket") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopbackAddress(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw LoopbackError.socket("connect: errno \(error)")
        }
        self.fd = fd
    }

    deinit { close(self.fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(self.fd, bytes, bytes.count) == bytes.count else { throw LoopbackError.socket("write") }
    }

    /// Everything until the peer closes (or resets, or 10 s pass without a byte).
    func readToEnd() -> String {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(self.fd, &buffer, buffer.count)
            if count <= 0 { break }
            result += buffer[..<count]
        }
        return String(decoding: result, as: UTF8.self)
    }
}

func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return address
}

/// A tiny HTTP/1.0 backend on loopback, one thread per connection: `/name` answers its name, `/slow` answers
/// `slow` at once and ` done` when `releaseSlow()` is called (at most 20 s later). Connections without a request (TCP health checks) are not counted.
final class LoopbackBackend: Sendable {
    let name: String
    let port: Int
    private let listener: Int32
    private let counts = Mutex((requests: 0, slowInFlight: 0, slowReleased: false))

    init(name: String) throws {
        self.name = name
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopbackAddress(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 128) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw LoopbackError.socket("bind")
        }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in self.acceptLoop() }
        thread.start()
    }

    var requests: Int { self.counts.withLock { $0.requests } }
    var slowInFlight: Int { self.counts.withLock { $0.slowInFlight } }
    func releaseSlow() { self.counts.withLock { $0.slowReleased = true } }

    /// Stops accepting (like a killed process, for new connections). Only shuts the socket down: the accept
    /// thread may still be on its way to `accept`, and a closed number could by then be another test's socket.
    /// The descriptor closes in `deinit`, once that thread has let go of the backend.
    func stop() {
        shutdown(self.listener, Int32(SHUT_RDWR))
    }

    deinit { close(self.listener) }

    private func acceptLoop() {
        while true {
            let connection = accept(self.listener, nil, nil)
            if connection < 0 { return }
            Thread { [self] in self.serve(connection) }.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
            let count = read(connection, &buffer, buffer.count)
            if count <= 0 { return }
            request += buffer[..<count]
        }
        let path = String(decoding: request, as: UTF8.self).split(separator: " ").dropFirst().first ?? ""
        self.counts.withLock { $0.requests += 1 }
        func send(_ text: String) { _ = Array(text.utf8).withUnsafeBytes { write(connection, $0.baseAddress, $0.count) } }
        if path == "/slow" {
            self.counts.withLock { $0.slowInFlight += 1 }
            send("HTTP/1.0 200 OK\r\n\r\nslow")
            // Held until the test releases it: bounded, at most 20 s.
            for _ in 0..<2000 where !self.counts.withLock({ $0.slowReleased }) { usleep(10_000) }
            send(" done")
            self.counts.withLock { $0.slowInFlight -= 1 }
        } else {
            send("HTTP/1.0 200 OK\r\n\r\n\(self.name)")
        }
    }
}
