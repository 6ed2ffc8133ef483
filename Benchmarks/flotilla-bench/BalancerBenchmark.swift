import ArgumentParser
import FlotillaTestKit
import Foundation
import LoadBalancer
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `flotilla-bench balancer`: Flotilla's balancer against HAProxy 2.6 in `mode tcp`, same backends, same wrk load.
///
/// Three backends are ports of one nginx serving a small file and a 10 MB file. Each proxy gets the same
/// `wrk -t2 -c64 -d10s --latency` run for the small response (requests/s, p50, p99) and for the 10 MB file (MB/s);
/// nginx direct is measured too, as the ceiling. Installs nginx-light, haproxy and wrk with apt-get if missing.
///
/// On a shared 2-core machine one run says little: the runs are interleaved in `--rounds` rounds, Flotilla first in
/// even rounds and HAProxy first in odd ones, so a noisy minute hurts both; the table shows each figure's median over
/// the rounds and the ratio of the medians, plus the 1-minute load average before and after. It also shows each
/// proxy's CPU time per request (user + system, from `/proc/<pid>/stat` around each run): with wrk, nginx and the
/// proxy sharing the cores, that is what decides requests/s, and other load moves it far less.
struct BalancerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balancer",
        abstract: "Flotilla's TCP load balancer vs HAProxy (mode tcp) behind wrk.")

    @Option(help: "Seconds per wrk run.")
    var duration = 10

    @Option(help: "wrk connections.")
    var connections = 64

    @Option(help: "wrk threads.")
    var threads = 2

    @Option(help: "Bytes of the small response.")
    var smallBytes = 128

    @Option(help: "Interleaved rounds; the table reports medians over them.")
    var rounds = 3

    @Flag(help: "Measure only the small response (skips the 10 MB runs).")
    var smallOnly = false

    @Option(help: "HAProxy's nbthread; default: HAProxy's own default, one thread per core.")
    var haproxyThreads = ProcessInfo.processInfo.activeProcessorCount

    @Option(
        help:
            "Start nginx, HAProxy and Flotilla, print their ports and the process ID, serve this many seconds, stop (for perf and strace by hand; let it end: a kill skips stopping nginx and HAProxy)."
    )
    var serveSeconds: Int?

    /// What each proxy runs with, printed in the table header so the comparison's terms are on record.
    var setup: [String] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return [
            "flotilla: SwiftNIO, LoadBalancer.sharedEventLoopGroup (event loops: \(LoadBalancer.defaultEventLoopCount) on \(cores) cores), round robin, read/write, no splice",
            "haproxy:  2.6 mode tcp, nbthread \(self.haproxyThreads) on \(cores) cores, balance roundrobin, recv/send, no splice",
            "both:     the same 3 nginx backends; wrk, nginx and the proxies share the \(cores) cores",
        ]
    }

    func run() async throws {
        guard self.rounds >= 1 else { throw ValidationError("--rounds: must be at least 1, got \(self.rounds)") }
        guard self.haproxyThreads >= 1 else {
            throw ValidationError("--haproxy-threads: must be at least 1, got \(self.haproxyThreads)")
        }
        try Machine.install(["nginx": "nginx-light", "haproxy": "haproxy", "wrk": "wrk"])
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "flotilla-bench-lb-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(repeating: UInt8(ascii: "a"), count: self.smallBytes).write(
            to: directory.appendingPathComponent("small"))
        try Data(repeating: UInt8(ascii: "b"), count: 10 * 1024 * 1024).write(
            to: directory.appendingPathComponent("big"))

        let backendPorts = try (0..<3).map { _ in try freePort() }
        let nginx = try Self.startNginx(ports: backendPorts, directory: directory)
        defer {
            nginx.terminate()
            nginx.waitUntilExit()
        }
        let haproxyPort = try freePort()
        let haproxy = try Self.startHAProxy(
            port: haproxyPort, backends: backendPorts, threads: self.haproxyThreads, directory: directory)
        defer {
            haproxy.terminate()
            haproxy.waitUntilExit()
        }

        let logger = Logger(label: "flotilla.bench.lb", factory: { _ in SwiftLogNoOpLogHandler() })
        let balancer = try await LoadBalancer.start(
            LoadBalancerConfiguration(
                name: "bench", listenerHost: "127.0.0.1", listenerPort: 0, algorithm: .roundRobin,
                healthCheck: TargetHealthCheck(kind: .tcp, interval: .seconds(5), timeout: .seconds(1))),
            targets: backendPorts.map { Target(id: "nginx-\($0)", host: "127.0.0.1", port: $0) },
            assumeHealthy: true, logger: logger)

        let loadBefore = Machine.loadAverages().one
        let results = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await balancer.run() }
            defer { group.cancelAll() }
            try Self.waitForPort(haproxyPort)
            for port in backendPorts { try Self.waitForPort(port) }
            if let serveSeconds = self.serveSeconds {
                print("serving \(serveSeconds) s: pid \(getpid()) (flotilla), haproxy pid \(haproxy.processIdentifier)")
                print(
                    "  direct 127.0.0.1:\(backendPorts[0])  flotilla 127.0.0.1:\(balancer.listenerPort)  haproxy 127.0.0.1:\(haproxyPort)"
                )
                fflush(nil)  // all streams: the ports are read from a redirected log
                try await Task.sleep(for: .seconds(serveSeconds))
                return [String: [WrkResult]]()
            }
            var results: [String: [WrkResult]] = [:]
            let sizes = self.smallOnly ? [("small", "small")] : [("small", "small"), ("big", "10MB")]
            for round in 0..<self.rounds {
                // Alternate who goes first, so drift in the machine's load does not favour one side.
                // Each proxy's process, whose CPU time per request is measured (none for direct).
                let flotilla: (String, Int, pid_t?) = ("flotilla", balancer.listenerPort, getpid())
                let haproxyRun: (String, Int, pid_t?) = ("haproxy", haproxyPort, haproxy.processIdentifier)
                let direct: (String, Int, pid_t?) = ("direct", backendPorts[0], nil)
                let proxies = round % 2 == 0 ? [direct, flotilla, haproxyRun] : [direct, haproxyRun, flotilla]
                for (file, label) in sizes {
                    for (name, port, process) in proxies {
                        _ = try self.wrk(port: port, file: file, seconds: 2)  // warm-up
                        let cpuBefore = process.map(Self.cpuSeconds) ?? .nan
                        var result = try self.wrk(port: port, file: file, seconds: self.duration)
                        let cpuAfter = process.map(Self.cpuSeconds) ?? .nan
                        result.cpuMicrosecondsPerRequest = (cpuAfter - cpuBefore) * 1_000_000 / result.requests
                        results["\(name).\(label)", default: []].append(result)
                        print(
                            "  round \(round + 1) \(name) \(label): \(result.summary), load \(Machine.loadAverages().one)"
                        )
                    }
                }
            }
            return results
        }
        guard self.serveSeconds == nil else { return }
        Self.report(
            results, setup: self.setup, rounds: self.rounds, load: (loadBefore, Machine.loadAverages().one),
            command: "wrk -t\(self.threads) -c\(self.connections) -d\(self.duration)s --latency")
    }

    // MARK: - Report

    static func report(
        _ results: [String: [WrkResult]], setup: [String], rounds: Int, load: (before: Double, after: Double),
        command: String
    ) {
        func medianOf(_ key: String, _ path: KeyPath<WrkResult, Double>) -> Double {
            Statistics.median((results[key] ?? []).map { $0[keyPath: path] })
        }
        func perRound(_ size: String, _ path: KeyPath<WrkResult, Double>) -> String {
            let flotilla = results["flotilla.\(size)"] ?? []
            let haproxy = results["haproxy.\(size)"] ?? []
            return zip(flotilla, haproxy).map { String(format: "%.2f", $0[keyPath: path] / $1[keyPath: path]) }
                .joined(separator: " ")
        }
        let rows: [(String, KeyPath<WrkResult, Double>, String, String)] = [
            ("small requests/s", \.requestsPerSecond, "small", "%.0f"),
            ("small p50 ms", \.p50Milliseconds, "small", "%.3f"),
            ("small p99 ms", \.p99Milliseconds, "small", "%.3f"),
            ("small CPU us/req", \.cpuMicrosecondsPerRequest, "small", "%.1f"),
            ("10MB MB/s", \.megabytesPerSecond, "10MB", "%.1f"),
            ("10MB p99 ms", \.p99Milliseconds, "10MB", "%.1f"),
            ("10MB CPU us/req", \.cpuMicrosecondsPerRequest, "10MB", "%.0f"),
        ].filter { results["flotilla.\($0.2)"] != nil }
        print("")
        print("Balancer benchmark: \(command), 3 nginx backends on loopback, \(rounds) interleaved rounds, medians")
        for line in setup { print("  " + line) }
        print(String(format: "  load average (1 min): %.2f before, %.2f after", load.before, load.after))
        print(
            Cell.left("metric", 18) + Cell.left("direct", 12) + Cell.left("flotilla", 12) + Cell.left("haproxy", 12)
                + Cell.left("flotilla/haproxy", 18) + "per round")
        for (label, path, size, format) in rows {
            let direct = medianOf("direct.\(size)", path)
            let flotilla = medianOf("flotilla.\(size)", path)
            let haproxy = medianOf("haproxy.\(size)", path)
            print(
                Cell.left(label, 18) + Cell.left(String(format: format, direct), 12)
                    + Cell.left(String(format: format, flotilla), 12)
                    + Cell.left(String(format: format, haproxy), 12)
                    + Cell.left(String(format: "%.2f", flotilla / haproxy), 18)
                    + perRound(size, path))
        }
        var json: [String: Double] = ["rounds": Double(rounds), "load_before": load.before, "load_after": load.after]
        for key in results.keys {
            let name = key.replacingOccurrences(of: ".", with: "_")
            json["\(name)_rps"] = medianOf(key, \.requestsPerSecond)
            json["\(name)_p50_ms"] = medianOf(key, \.p50Milliseconds)
            json["\(name)_p99_ms"] = medianOf(key, \.p99Milliseconds)
            json["\(name)_mb_per_s"] = medianOf(key, \.megabytesPerSecond)
            if !key.hasPrefix("direct") { json["\(name)_cpu_us_per_req"] = medianOf(key, \.cpuMicrosecondsPerRequest) }
        }
        json["ratio_small_rps"] =
            medianOf("flotilla.small", \.requestsPerSecond) / medianOf("haproxy.small", \.requestsPerSecond)
        json["ratio_small_p99"] =
            medianOf("flotilla.small", \.p99Milliseconds) / medianOf("haproxy.small", \.p99Milliseconds)
        if results["flotilla.10MB"] != nil {
            json["ratio_10mb_mb_per_s"] =
                medianOf("flotilla.10MB", \.megabytesPerSecond) / medianOf("haproxy.10MB", \.megabytesPerSecond)
        }
        let body = json.keys.sorted().map { "\"\($0)\":\(String(format: "%.4f", json[$0]!))" }.joined(separator: ",")
        print("{\"benchmark\":\"balancer\",\(body)}")
    }

    // MARK: - wrk

    struct WrkResult {
        var requestsPerSecond: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        var megabytesPerSecond: Double
        /// Requests completed in the run.
        var requests = Double.nan
        /// The proxy process's user plus system CPU time per request: what decides throughput when the load
        /// generator, the backends and the proxy share the cores, and far less noisy than requests/s.
        var cpuMicrosecondsPerRequest = Double.nan
        var summary: String {
            String(
                format: "%.0f req/s, p50 %.3f ms, p99 %.3f ms, %.1f MB/s, %.1f CPU us/req", requestsPerSecond,
                p50Milliseconds, p99Milliseconds, megabytesPerSecond, cpuMicrosecondsPerRequest)
        }
    }

    func wrk(port: Int, file: String, seconds: Int) throws -> WrkResult {
        let run = try Wrk.run(
            "http://127.0.0.1:\(port)/\(file)", threads: self.threads, connections: self.connections,
            seconds: seconds)
        return WrkResult(
            requestsPerSecond: run.requestsPerSecond, p50Milliseconds: run.p50Milliseconds,
            p99Milliseconds: run.p99Milliseconds, megabytesPerSecond: run.megabytesPerSecond, requests: run.requests)
    }

    /// User plus system CPU seconds `process` has used, from `/proc/<pid>/stat`; NaN where it cannot be read.
    static func cpuSeconds(_ process: pid_t) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(process)/stat", encoding: .utf8),
            let commandEnd = text.lastIndex(of: ")")
        else { return .nan }
        // After "pid (comm)": state is field 3, utime and stime are fields 14 and 15.
        let fields = text[text.index(after: commandEnd)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    // MARK: - Processes

    static func startNginx(ports: [Int], directory: URL) throws -> Process {
        let servers = ports.map { port in
            """
                server {
                    listen 127.0.0.1:\(port) backlog=4096;
                    root \(directory.path);
                    keepalive_requests 1000000;
                    keepalive_timeout 120s;
                }
            """
        }.joined(separator: "\n")
        let configuration = """
            worker_processes 1;
            pid \(directory.path)/nginx.pid;
            error_log \(directory.path)/nginx-error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                sendfile on;
                tcp_nopush on;
                tcp_nodelay on;
                client_body_temp_path \(directory.path)/body;
                proxy_temp_path \(directory.path)/proxy;
                fastcgi_temp_path \(directory.path)/fastcgi;
                uwsgi_temp_path \(directory.path)/uwsgi;
                scgi_temp_path \(directory.path)/scgi;
            \(servers)
            }
            """
        let path = directory.appendingPathComponent("nginx.conf")
        try configuration.write(to: path, atomically: true, encoding: .utf8)
        return try launch("/usr/sbin/nginx", ["-p", directory.path, "-c", path.path, "-g", "daemon off;"])
    }

    static func startHAProxy(port: Int, backends: [Int], threads: Int, directory: URL) throws -> Process {
        let servers = backends.enumerated().map { "    server s\($0.offset) 127.0.0.1:\($0.element)" }.joined(
            separator: "\n")
        let configuration = """
            global
                maxconn 4096
                nbthread \(threads)
            defaults
                mode tcp
                timeout connect 5s
                timeout client 60s
                timeout server 60s
            frontend bench
                bind 127.0.0.1:\(port)
                default_backend nginx
            backend nginx
                balance roundrobin
            \(servers)

            """
        let path = directory.appendingPathComponent("haproxy.cfg")
        try configuration.write(to: path, atomically: true, encoding: .utf8)
        return try launch("/usr/sbin/haproxy", ["-db", "-f", path.path])
    }

    static func launch(_ executable: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits (at most 5 s, in 50 ms steps) until something accepts on the loopback port.
    static func waitForPort(_ port: Int) throws {
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if connected { return }
            usleep(50_000)
        }
        throw ValidationError("nothing listens on 127.0.0.1:\(port)")
    }
}
