import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc

/// `flotilla-bench api`: the real `ecs-control-plane` on loopback, loaded by wrk.
///
/// Measures RegisterTaskDefinition (a durable write: one transaction, one fsync) and DescribeServices (a read),
/// with GET /healthz on the same server as the HTTP floor the ratios are taken against.
struct APIBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "ECS API throughput and latency of ecs-control-plane under wrk."
    )

    @Option(help: "Seconds of load per scenario (1-120).")
    var duration: Int = 10

    @Option(help: "Open connections (1-256).")
    var connections: Int = 16

    @Option(help: "wrk threads (1-16).")
    var threads: Int = 2

    @Option(help: "The ecs-control-plane binary (default: next to this executable).")
    var binary: String?

    func validate() throws {
        guard (1...120).contains(duration) else { throw ValidationError("--duration: 1 to 120 seconds") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections: 1 to 256") }
        guard (1...16).contains(threads), threads <= connections else { throw ValidationError("--threads: 1 to 16, at most --connections") }
    }

    struct Scenario {
        var name: String
        var method: String
        var target: String?
        var body: String
    }

    struct Result: Codable {
        var scenario: String
        var requests: Int
        var requestsPerSecond: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        var non2xx: Int
        var socketErrors: Int
    }

    func run() async throws {
        try ensureWrk()
        let executable = binary.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
                .appendingPathComponent("ecs-control-plane")
        let port = try Self.freeLoopbackPort()
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-bench-api-\(UUID().uuidString)")
        let server = Process()
        server.executableURL = executable
        server.arguments = ["--listen", "127.0.0.1:\(port)", "--data-dir", dataDirectory.path, "--log-level", "error"]
        try server.run()
        defer {
            kill(server.processIdentifier, SIGTERM)
            server.waitUntilExit()
            try? FileManager.default.removeItem(at: dataDirectory)
        }
        let endpoint = "http://127.0.0.1:\(port)"
        try await waitUntilHealthy(endpoint)

        // Setup: one cluster, one task definition, one service to describe.
        try await call(endpoint, "CreateCluster", #"{"clusterName": "bench"}"#)
        try await call(endpoint, "RegisterTaskDefinition", Self.taskDefinition)
        try await call(endpoint, "CreateService", #"{"cluster": "bench", "serviceName": "web", "taskDefinition": "bench", "desiredCount": 2}"#)

        let scenarios = [
            Scenario(name: "healthz (HTTP floor)", method: "GET", target: nil, body: ""),
            Scenario(name: "RegisterTaskDefinition", method: "POST", target: "RegisterTaskDefinition", body: Self.taskDefinition),
            Scenario(name: "DescribeServices", method: "POST", target: "DescribeServices",
                     body: #"{"cluster": "bench", "services": ["web"]}"#),
        ]
        var results: [Result] = []
        for scenario in scenarios {
            results.append(try runWrk(scenario, endpoint: endpoint))
        }

        print("")
        print("ecs-control-plane on loopback, wrk -t\(threads) -c\(connections) -d\(duration)s (SQLite WAL, synchronous=FULL)")
        print(String(repeating: "-", count: 94))
        print("scenario".padding(toLength: 26, withPad: " ", startingAt: 0)
              + "requests".leftPad(10) + "req/s".leftPad(12) + "p50 ms".leftPad(10) + "p99 ms".leftPad(10)
              + "non-2xx".leftPad(10) + "ratio to floor".leftPad(16))
        let floor = results[0].requestsPerSecond
        for result in results {
            print(result.scenario.padding(toLength: 26, withPad: " ", startingAt: 0)
                  + String(result.requests).leftPad(10) + String(format: "%.0f", result.requestsPerSecond).leftPad(12)
                  + String(format: "%.2f", result.p50Milliseconds).leftPad(10) + String(format: "%.2f", result.p99Milliseconds).leftPad(10)
                  + String(result.non2xx).leftPad(10) + String(format: "%.3f", result.requestsPerSecond / max(floor, 1)).leftPad(16))
        }
        struct Summary: Codable {
            var benchmark = "api"
            var tool = "wrk"
            var threads: Int
            var connections: Int
            var durationSeconds: Int
            var results: [Result]
            var registerToFloorRatio: Double
            var describeToFloorRatio: Double
        }
        let summary = Summary(
            threads: threads, connections: connections, durationSeconds: duration, results: results,
            registerToFloorRatio: results[1].requestsPerSecond / max(floor, 1),
            describeToFloorRatio: results[2].requestsPerSecond / max(floor, 1)
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(summary), as: UTF8.self))
    }

    // MARK: - wrk

    func ensureWrk() throws {
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") { return }
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/usr/bin/apt-get")
        install.arguments = ["install", "-y", "wrk"]
        try install.run()
        install.waitUntilExit()
        guard install.terminationStatus == 0 else { throw APIBenchmarkError.wrkMissing }
    }

    func runWrk(_ scenario: Scenario, endpoint: String) throws -> Result {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-bench-\(UUID().uuidString).lua")
        defer { try? FileManager.default.removeItem(at: script) }
        var lua = "wrk.method = \"\(scenario.method)\"\n"
        if let target = scenario.target {
            lua += "wrk.headers[\"X-Amz-Target\"] = \"AmazonEC2ContainerServiceV20141113.\(target)\"\n"
            lua += "wrk.headers[\"Content-Type\"] = \"application/x-amz-json-1.1\"\n"
            lua += "wrk.body = [==[\(scenario.body)]==]\n"
        }
        lua += """
            done = function(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("FLOTILLA %d %d %d %d %d %d\\n", summary.requests, summary.duration,
                latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
            end

            """
        try lua.write(to: script, atomically: true, encoding: .utf8)
        let path = scenario.target == nil ? "/healthz" : "/"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        process.arguments = ["-t\(threads)", "-c\(connections)", "-d\(duration)s", "--timeout", "10s", "-s", script.path, endpoint + path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("FLOTILLA ") }) else {
            throw APIBenchmarkError.unparsable(text)
        }
        let numbers = line.split(separator: " ").dropFirst().compactMap { Int($0) }
        guard numbers.count == 6 else { throw APIBenchmarkError.unparsable(text) }
        let seconds = Double(numbers[1]) / 1_000_000
        return Result(
            scenario: scenario.name, requests: numbers[0], requestsPerSecond: Double(numbers[0]) / seconds,
            p50Milliseconds: Double(numbers[2]) / 1000, p99Milliseconds: Double(numbers[3]) / 1000,
            non2xx: numbers[4], socketErrors: numbers[5]
        )
    }

    // MARK: - HTTP

    func waitUntilHealthy(_ endpoint: String) async throws {
        for _ in 0..<300 {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "\(endpoint)/healthz")!),
               (response as? HTTPURLResponse)?.statusCode == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw APIBenchmarkError.serverNotHealthy
    }

    func call(_ endpoint: String, _ operation: String, _ body: String) async throws {
        var request = URLRequest(url: URL(string: endpoint)!)
        request.httpMethod = "POST"
        request.setValue("AmazonEC2ContainerServiceV20141113.\(operation)", forHTTPHeaderField: "X-Amz-Target")
        request.setValue("application/x-amz-json-1.1", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw APIBenchmarkError.setupFailed(operation, String(decoding: data, as: UTF8.self))
        }
    }

    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw APIBenchmarkError.noPort }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else { throw APIBenchmarkError.noPort }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static let taskDefinition = """
        {"family": "bench", "networkMode": "bridge", "containerDefinitions": [{"name": "web", "image": "flotilla/busybox:1", \
        "cpu": 128, "memory": 64, "essential": true, "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}], \
        "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5, "timeout": 2, "retries": 3}}]}
        """
}

enum APIBenchmarkError: Error {
    case wrkMissing
    case serverNotHealthy
    case noPort
    case setupFailed(String, String)
    case unparsable(String)
}

fileprivate extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
