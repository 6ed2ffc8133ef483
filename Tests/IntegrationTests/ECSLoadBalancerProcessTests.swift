import FlotillaTestKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import Testing

/// The real `ecs-lb` binary in front of in-test loopback backends: spreading, SIGHUP reloads, `/metrics`, SIGTERM
/// drain, and startup errors.
@Suite("ecs-lb process", .serialized, .timeLimit(.minutes(10)))
struct ECSLoadBalancerProcessTests {
    @Test("Spreads connections, follows SIGHUP reloads, counts on /metrics, keeps its targets on a bad reload")
    func spreadReloadMetrics() async throws {
        let backends = try (0..<3).map { try TestHTTPBackend(name: "backend-\($0)") }
        defer { for backend in backends { backend.kill() } }
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
        #expect(try await eventually { try lb.get("/name") == "backend-2" })
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
        #expect(await eventually { lb.standardError.contains("Targets not reloaded") })
        // Then it logged the error and still serves its last targets
        names = []
        for _ in 0..<6 { names.append(try lb.get("/name")) }
        #expect(Set(names) == ["backend-1", "backend-2"])
        #expect(lb.isRunning)
    }

    @Test("SIGTERM stops accepting, lets a slow response finish, exits 0")
    func sigtermDrains() async throws {
        let backend = try TestHTTPBackend(name: "slow")
        defer { backend.kill() }
        let lb = try LoadBalancerProcess(targets: [backend], deregistrationDelaySeconds: 10)
        defer { lb.terminate() }
        try await lb.waitUntilServing(backends: [backend])
        // Given a response the backend holds back, in flight
        var client: BlockingClient? = try BlockingClient(port: lb.port)
        try client?.send("GET /slow HTTP/1.0\r\n\r\n")
        #expect(await eventually { backend.slowInFlight == 1 })
        // When SIGTERM arrives
        lb.send(SIGTERM)
        // Then new connections are refused while the slow response still arrives in full once the backend ends it
        #expect(await eventually { (try? lb.get("/name")) == nil })
        backend.releaseSlow()
        #expect(client?.readToEnd().hasSuffix("slow done") == true)
        client = nil
        // And the process exits 0
        #expect(await lb.waitForExit() == 0)
    }

    @Test("A listener port in use ends ecs-lb with one line naming the port")
    func listenerPortInUse() async throws {
        let backend = try TestHTTPBackend(name: "any")
        defer { backend.kill() }
        // Given the backend's own port as the listener port
        let run = try await LoadBalancerProcess.runToExit([
            "--listen", "127.0.0.1:\(backend.port)", "--target", "127.0.0.1:\(backend.port)",
        ])
        // Then a non-zero exit with one error line naming the port
        #expect(run.status != 0)
        let lines = run.standardError.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("Error: ") == true)
        #expect(lines.first?.contains("port \(backend.port)") == true)
    }

    @Test(
        "Bad flags and malformed files end ecs-lb with a line naming the problem",
        arguments: [
            (["--listen", "nowhere"], "--listen"),
            (["--listen", "127.0.0.1:0", "--algorithm", "fastest"], "--algorithm"),
            (["--config", "MALFORMED"], "targets[0]"),
            (["--config", "/nonexistent/lb.json"], "/nonexistent/lb.json"),
            (["--control-plane", "ftp://127.0.0.1:1", "--load-balancer-name", "web"], "--control-plane"),
            (["--control-plane", "http://127.0.0.1:1"], "--load-balancer-name"),
            // refused before any connection: plain HTTP beyond loopback (an `.invalid` name, never resolved)
            (["--control-plane", "http://control-plane.invalid:8080", "--load-balancer-name", "web"], "plain http://"),
            (["--listen", "127.0.0.1:0", "--load-balancer-name", "web"], "--load-balancer-name"),
        ])
    func badInput(_ arguments: [String], _ named: String) async throws {
        // Given a file whose first target is a number
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ecs-lb-bad-\(getpid()).json")
        try Data(#"{"listen": "127.0.0.1:0", "targets": [42]}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        // When ecs-lb starts with the bad flag or file
        let run = try await LoadBalancerProcess.runToExit(arguments.map { $0 == "MALFORMED" ? file.path : $0 })
        // Then it exits non-zero, its first stderr line naming the flag or field
        #expect(run.status != 0)
        let first = run.standardError.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains("Error"))
        #expect(first.contains(named))
    }
}

// MARK: - Support

/// The built `ecs-lb` on a free loopback port, its targets in a JSON file, `/metrics` on another free port.
final class LoadBalancerProcess: Sendable {
    static var binary: URL { ControlPlaneProcess.repositoryRoot.appendingPathComponent(".build/debug/ecs-lb") }

    let port: Int
    let metricsPort: Int
    let configFile: URL
    let deregistrationDelaySeconds: Double
    let daemon: DaemonProcess

    init(targets: [TestHTTPBackend], deregistrationDelaySeconds: Double = 5) throws {
        port = try freePort()
        metricsPort = try freePort()
        self.deregistrationDelaySeconds = deregistrationDelaySeconds
        configFile = FileManager.default.temporaryDirectory.appendingPathComponent("ecs-lb-\(UUID().uuidString).json")
        daemon = DaemonProcess(
            arguments: [Self.binary.path, "--config", configFile.path, "--metrics-listen", "127.0.0.1:\(metricsPort)"],
            logFile: configFile.path + ".log")
        try writeConfig(targets: targets)
        try daemon.start()
    }

    /// Targets join after one passed check (checks every 0.5 s: a check slowed by a loaded machine still passes).
    func writeConfig(targets: [TestHTTPBackend]) throws {
        let list = targets.map { "\"127.0.0.1:\($0.port)\"" }.joined(separator: ", ")
        let text = """
            {"name": "web", "listen": "127.0.0.1:\(port)", "healthIntervalSeconds": 0.5, "healthTimeoutSeconds": 0.5,
             "healthyThreshold": 1, "unhealthyThreshold": 1, "deregistrationDelaySeconds": \(deregistrationDelaySeconds),
             "targets": [\(list)]}
            """
        try Data(text.utf8).write(to: configFile, options: .atomic)
    }

    /// Its log (ecs-lb logs to stderr).
    var standardError: String { daemon.log }
    var isRunning: Bool { daemon.isRunning }
    func send(_ signal: Int32) { daemon.send(signal) }
    func waitForExit() async -> Int32? { await daemon.waitForExit() }

    func terminate() {
        daemon.kill9()
        try? FileManager.default.removeItem(at: configFile)
        try? FileManager.default.removeItem(atPath: configFile.path + ".log")
    }

    /// One `GET path` through the balancer; the body.
    func get(_ path: String) throws -> String { try BlockingClient.get(path, port: port) }

    /// Waits until every given backend has answered through the balancer (targets join after one check).
    func waitUntilServing(backends: [TestHTTPBackend]) async throws {
        let names = Set(backends.map(\.name))
        var seen = Set<String>()
        let served = await eventually {
            if let name = try? self.get("/name") { seen.insert(name) }
            return seen == names
        }
        try #require(served, "ecs-lb did not serve \(names); stderr: \(standardError)")
    }

    /// `/metrics`, which must be served as Prometheus' text format, as every daemon serves it.
    func metrics() async throws -> MetricsText {
        let (data, response) = try await URLSession.shared.data(
            from: URL(string: "http://127.0.0.1:\(metricsPort)/metrics")!)
        #expect(
            (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type") == "text/plain; version=0.0.4")
        return MetricsText(text: String(decoding: data, as: UTF8.self))
    }

    /// Runs `ecs-lb` with `arguments` until it exits (bounded: killed after 10 s); status and stderr.
    static func runToExit(_ arguments: [String]) async throws -> (status: Int32, standardError: String) {
        let run = try await HostCommand.runToCompletion([binary.path] + arguments, killAfter: .seconds(10))
        return (run.status, run.stderr)
    }
}

/// Prometheus text exposition, read one series at a time.
struct MetricsText {
    var text: String

    /// The value of `name` for `target`, nil when the series is absent.
    func value(_ name: String, target: TestHTTPBackend) -> Double? {
        for line in self.text.split(separator: "\n") where line.hasPrefix(name + "{") {
            guard line.contains("target=\"127.0.0.1:\(target.port)\"") else { continue }
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }
}
